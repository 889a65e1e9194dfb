import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.rater_agreement import icc, weighted_kappa
from measurekit.problems import InputError


@pytest.mark.r_fixture
def test_icc_and_weighted_kappa_match_psych(fixtures_dir):
    b = pd.read_csv(fixtures_dir / "r" / "bfi.csv")[["A2", "A3"]].dropna()
    ref = pd.read_csv(fixtures_dir / "r" / "agreement_bfi_a2_a3.csv").iloc[0]
    got = icc(b["A2"].to_numpy(), b["A3"].to_numpy())
    for k in ("icc1", "icc2", "icc3"):
        assert got[k] == pytest.approx(ref[k], abs=1e-9)
    assert weighted_kappa(b["A2"], b["A3"], range(1, 7)) == pytest.approx(ref["kappa_w"], abs=1e-9)


def test_parent_practitioner_agreement_on_synthetic_cohort(cohort, analysis_frame):
    parents = analysis_frame[analysis_frame.responded == 1]
    res = mk.agreement(parents, cohort.tables["voice_practitioner"], cohort.framework)
    t = res.table.set_index("name")
    assert set(t.index) == {"cc1", "cc2", "cc3", "cc4", "voice_child_communication"}
    both = set(parents.child_id) & set(cohort.tables["voice_practitioner"].child_id)
    assert t.loc["voice_child_communication", "n"] <= len(both)
    # the generator plants moderate agreement and practitioners rating a little higher
    scale = t.loc["voice_child_communication"]
    assert 0.2 < scale["icc2"] < 0.8
    assert scale["mean_diff"] < 0 and scale["loa_low"] < scale["mean_diff"] < scale["loa_high"]
    assert (t.loc[["cc1", "cc2", "cc3", "cc4"], "icc2"] < scale["icc2"]).all()  # scales agree better than items


def test_agreement_errors(cohort):
    with pytest.raises(InputError):
        mk.agreement(pd.DataFrame({"x": [1]}), cohort.tables["voice_practitioner"], cohort.framework)
    with pytest.raises(InputError):
        mk.agreement(pd.DataFrame({"child_id": ["a"], "hl1": [1]}), pd.DataFrame({"child_id": ["a"], "hl1": [2]}),
                     cohort.framework)


def test_item_analysis_flags_and_distributions(cohort, analysis_frame):
    resp = analysis_frame[analysis_frame.responded == 1].copy()
    resp.loc[resp.index[:400], "hl1"] = 5          # push hl1 to the ceiling for a fifth of respondents...
    resp.loc[resp.index[400:1500], "hl1"] = 5      # ...and most of the rest
    res = mk.item_analysis(resp, cohort.framework, by=["home_language", "fsm"])
    assert res.items.loc["hl1", "ceiling_pct"] > 60 and "one end" in res.items.loc["hl1", "flags"]
    assert res.items.loc["hl2", "flags"] == ""
    assert res.items["dont_know_pct"].drop("hl1").between(1, 6).all()  # ~3% planted
    d = res.distribution
    sums = d.groupby(["item", "group", "group_value"])["proportion"].sum()
    assert np.allclose(sums, 1)
    assert {"all", "home_language", "fsm"} == set(d["group"])
    with pytest.raises(InputError):
        mk.item_analysis(resp, cohort.framework, by="nope")
