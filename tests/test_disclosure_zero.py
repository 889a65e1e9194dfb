"""A count the documented relations make 0 is known to every reader; it is not protected, and it does not stop a pack.

Found as a user: the care leavers' framework at 400 young people, seed 8, stopped at the board table with
``disclosure_infeasible``. Every young person answered, so the relations found from the data say the coverage
indicator's numerator (young people who answered) equals the number of young people in every area: the children
without the outcome are 0 there whatever is withheld. The audit demanded that this 0 not be pinned, no pattern
could do that, and the release was refused. (tests/test_disclosure_attack.py's intruder reads published counts as
exact, so it cannot attack this framework's rounded counts; the full audit of the pattern is the check here.)
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT

import measurekit as mk
from measurekit.design import load_framework

CARE = ROOT / "indicators" / "north-yorkshire-care-leavers"


@pytest.fixture(scope="module")
def care():
    fw = load_framework(CARE)
    raw = mk.board_table(mk.make_cohort(400, random_state=8, framework=fw), framework=fw, disclosure=False)
    raw = raw.reset_index(drop=True)
    coverage = [i.id for i in fw.indicators if i.compute.field == "responded" and i.compute.population == "cohort"]
    # the situation of this seed: a coverage indicator 100% in every row (everyone answered); others are not
    full = [i for i in coverage if (raw.loc[raw["indicator_id"] == i, "numerator"]
                                    == raw.loc[raw["indicator_id"] == i, "denominator"]).all()]
    assert len(full) == 1 and len(coverage) > 1
    return fw, raw, full


def _targets(model, rows):
    return [(r, kind, coefs) for r in rows for kind, coefs in model.counts(r)]


def test_everyone_answered_is_published_and_the_pack_is_protected(care, tmp_path):
    from measurekit.publish import disclosure_audit as audit
    from measurekit.publish.disclosure import protect

    fw, raw, full = care
    everyone = raw["indicator_id"].isin(full)
    res = protect(raw, fw)
    assert res.audit.passed
    known = res.audit.table[res.audit.table["required"] == 0]
    assert len(known) > 0 and set(known["count"]) == {"complement"}
    assert set(known["row"]) <= set(np.flatnonzero(everyone.to_numpy()))
    assert not res.table.loc[everyone, "suppressed"].any()         # published: nothing to hide there
    truth = raw.loc[known["row"], "denominator"].to_numpy() - raw.loc[known["row"], "numerator"].to_numpy()
    assert (truth == 0).all() and (known["low"] == 0).all() and (known["high"] == 0).all()
    # every other count is audited as before: the full audit (every bound solved) of the same pattern passes
    from measurekit.publish.disclosure import _rounding

    model = audit.build_model(raw, fw)
    again = audit.audit(model, res.reasons.ne("").to_numpy(), _rounding(raw, fw), full=True)
    assert again.passed and (again.table["required"] > 0).sum() > 0


def test_a_zero_is_known_only_when_the_relations_force_it(care):
    """The same table with ten young people in one area not answering: the relation is then 'never larger', not
    'equal', so the other areas' zeros are facts of the data, not of the relations, and stay protected."""
    from measurekit.publish import disclosure_audit as audit

    fw, raw, full = care
    rows = np.flatnonzero(raw["indicator_id"].isin(full))
    model = audit.build_model(raw, fw)
    assert {(r, c) for r, c, _ in _targets(model, rows)} & model.zero_by_relations(_targets(model, rows)) == {
        (int(r), "complement") for r in rows}
    fewer = raw.copy()
    ind = raw.loc[rows[0], "indicator_id"]
    area = raw.index[(raw["indicator_id"] == ind) & (raw["geography_type"] != "la")][0]
    la = raw.index[(raw["indicator_id"] == ind) & (raw["geography_type"] == "la") & (raw["breakdown"] == "all")]
    fewer.loc[[area, *la], "numerator"] -= 10
    model = audit.build_model(fewer, fw)
    still = [r for r in rows if fewer.at[r, "numerator"] == fewer.at[r, "denominator"]]
    assert len(still) >= 2
    assert model.zero_by_relations(_targets(model, still)) == set()
    # and a zero in an indicator that is not 100% everywhere (another coverage indicator) never was known
    other = np.flatnonzero(~raw["indicator_id"].isin(full) & (raw["numerator"] == raw["denominator"]))
    assert len(other) and audit.build_model(raw, fw).zero_by_relations(_targets(audit.build_model(raw, fw), other)) \
        == set()
