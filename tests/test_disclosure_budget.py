"""The master problem's work budget (MASTER_WORK): past it, protect() keeps the pattern found so far and only adds
rows, as after the round cap. Counted in simplex iterations, not seconds, so the same table gives the same pattern
on any machine; the pattern is still audited to the same standard, only no longer known to be least-cost."""
from __future__ import annotations

import numpy as np
import pytest

import measurekit as mk
from measurekit.design import load_framework


@pytest.fixture(scope="module")
def case(framework_dir):
    fw = load_framework(framework_dir)
    raw = mk.board_table(mk.make_cohort(300, random_state=12, truth=False), framework=fw, disclosure=False)
    return fw, raw.reset_index(drop=True)


def test_past_the_budget_the_pattern_still_protects_and_is_the_same_each_time(case, monkeypatch):
    from measurekit.publish import disclosure
    from measurekit.publish import disclosure_audit as audit

    fw, raw = case
    best = disclosure.protect(raw, fw)
    assert best.optimal and best.audit.passed
    monkeypatch.setattr(disclosure, "MASTER_WORK", 50)         # a few rounds' work
    capped = [disclosure.protect(raw, fw) for _ in range(2)]
    for res in capped:
        assert not res.optimal and res.audit.passed
        assert res.cost >= best.cost - 1e-9 and res.rounds < best.rounds + 50
        again = audit.audit(audit.build_model(raw, fw), res.reasons.ne("").to_numpy(),
                            disclosure._rounding(raw, fw), full=True)
        assert again.passed                                      # every count solved exactly: still protected
    assert np.array_equal(capped[0].reasons.to_numpy(), capped[1].reasons.to_numpy())
