"""COSMIN-style evidence table: each criterion applied at its published boundary, and a run on the synthetic panel."""
from types import SimpleNamespace

import pandas as pd
import pytest

import measurekit as mk
from measurekit.stats.cosmin import cosmin_table


@pytest.fixture(scope="module")
def fw(framework_dir):
    return mk.load_framework(framework_dir)


def _cfa(cfi, tli, rmsea, srmr):
    return SimpleNamespace(fit=pd.DataFrame([{"cfi": cfi, "tli": tli, "rmsea": rmsea, "srmr": srmr}]),
                           estimates=pd.DataFrame(columns=["lhs", "op", "rhs", "std_all"]))


def _rel(alpha):
    return pd.DataFrame([{"domain": d, "raw_alpha": alpha, "ci_low": alpha - 0.02, "ci_high": alpha + 0.02}
                         for d in ["home_learning", "family_wellbeing", "services", "child_communication"]])


def _retest(icc, sdc):
    rows = [{"level": "scale", "name": f"voice_{d}", "n": 100, "icc2": icc, "icc2_ci_low": icc - 0.1,
             "icc2_ci_high": icc + 0.1, "sem": sdc / 2.77, "sdc": sdc}
            for d in ["home_learning", "family_wellbeing", "services", "child_communication"]]
    return SimpleNamespace(table=pd.DataFrame(rows))


def _rating(res, prop, domain="home_learning"):
    t = res.table
    return t.loc[(t["domain"] == domain) & (t["property"] == prop), "rating"].iloc[0]


@pytest.mark.parametrize("fit, expected", [((0.951, 0.90, 0.08, 0.09), "+"), ((0.90, 0.951, 0.08, 0.09), "+"),
                                           ((0.90, 0.90, 0.059, 0.09), "+"), ((0.90, 0.90, 0.08, 0.079), "+"),
                                           ((0.95, 0.95, 0.06, 0.08), "-")])
def test_structural_validity_criterion(fw, fit, expected):
    assert _rating(cosmin_table(framework=fw, cfa=_cfa(*fit)), "structural validity") == expected


def test_internal_consistency_needs_sufficient_structure(fw):
    good, bad = _cfa(0.97, 0.97, 0.03, 0.03), _cfa(0.90, 0.90, 0.09, 0.09)
    assert _rating(cosmin_table(framework=fw, cfa=good, reliability=_rel(0.70)), "internal consistency") == "+"
    assert _rating(cosmin_table(framework=fw, cfa=good, reliability=_rel(0.699)), "internal consistency") == "-"
    assert _rating(cosmin_table(framework=fw, cfa=bad, reliability=_rel(0.90)), "internal consistency") == "?"
    assert _rating(cosmin_table(framework=fw, reliability=_rel(0.90)), "internal consistency") == "?"


def test_reliability_and_measurement_error_criteria(fw):
    assert _rating(cosmin_table(framework=fw, retest=_retest(0.70, 1.0)), "reliability") == "+"
    assert _rating(cosmin_table(framework=fw, retest=_retest(0.699, 1.0)), "reliability") == "-"
    assert _rating(cosmin_table(framework=fw), "reliability") == "?"
    assert _rating(cosmin_table(framework=fw, retest=_retest(0.8, 1.0)), "measurement error") == "?"        # no MIC
    assert _rating(cosmin_table(framework=fw, retest=_retest(0.8, 1.0), mic=1.2), "measurement error") == "+"
    assert _rating(cosmin_table(framework=fw, retest=_retest(0.8, 1.0), mic={"home_learning": 1.0}), "measurement error") == "-"


def test_cross_cultural_validity_criterion(fw):
    def dif(r2):
        items = [i.id for i in fw.items]
        return SimpleNamespace(table=pd.DataFrame({"item": items, "r2_13": [r2 if i == "hl2" else 0.001 for i in items],
                                                   "flag": [i == "hl2" for i in items]}), groups=["home_language"])

    def inv(*verdicts):
        return SimpleNamespace(group="fsm", table=pd.DataFrame({"level": ["configural", "metric", "scalar", "strict"],
                                                                "verdict": ["baseline", *verdicts]}))

    assert _rating(cosmin_table(framework=fw, dif=dif(0.019)), "cross-cultural validity") == "+"
    assert _rating(cosmin_table(framework=fw, dif=dif(0.02)), "cross-cultural validity") == "-"
    assert _rating(cosmin_table(framework=fw, dif=dif(0.05)), "cross-cultural validity", "services") == "+"   # hl2 is not in it
    ok = inv("metric invariance holds (..)", "scalar invariance holds (..)", "strict invariance does not hold")
    assert _rating(cosmin_table(framework=fw, invariance={"fsm": ok}), "cross-cultural validity") == "+"    # strict not needed
    fail = inv("metric invariance holds", "scalar invariance does not hold", "strict: not judged, because")
    assert _rating(cosmin_table(framework=fw, invariance={"fsm": fail}), "cross-cultural validity") == "-"
    assert _rating(cosmin_table(framework=fw), "cross-cultural validity") == "?"


def test_on_the_synthetic_panel_and_retest(fw, synthetic_dir):
    from measurekit.stats.reliability import reliability_by_domain

    voice = pd.read_csv(synthetic_dir / "voice_parent.csv")
    retest_data = pd.read_csv(synthetic_dir / "voice_retest.csv")
    cv = mk.content_validity(pd.read_csv(synthetic_dir / "panel_ratings.csv"), framework=fw)
    rt = mk.retest(voice, retest_data, framework=fw)
    rel = reliability_by_domain(voice, framework=fw, n_boot=0)
    snapshot = (rt.table.copy(), rel.copy())
    res = cosmin_table(framework=fw, content_validity=cv, retest=rt, reliability=rel)
    pd.testing.assert_frame_equal(rt.table, snapshot[0])
    pd.testing.assert_frame_equal(rel, snapshot[1])
    # planted: hl4 (relevance), wb4 (clarity), sv3 (practitioners) -> their subscales are not sufficient
    assert _rating(res, "content validity", "home_learning") == "-"
    assert _rating(res, "content validity", "family_wellbeing") == "-"
    assert _rating(res, "content validity", "child_communication") == "+"
    scales = rt.table.set_index("name")
    for d in ["home_learning", "services"]:
        expected = "+" if scales.loc[f"voice_{d}", "icc2"] >= 0.70 else "-"
        assert _rating(res, "reliability", d) == expected
    assert set(res.table["property"]) >= {"content validity", "structural validity", "internal consistency",
                                          "cross-cultural validity", "reliability", "measurement error"}
    assert (res.table.loc[res.table["property"] == "internal consistency", "rating"] == "?").all()   # no CFA given
    card = res.card("wb4")
    assert card["content"] == "-" and card["clarity_cvi"] < 0.78 and card["icc2"] == pytest.approx(scales.loc["wb4", "icc2"])
    assert res.card("hl1")["content"] == "+"
    md = res.to_markdown(res.table["indicator"].iloc[0])
    assert md.startswith("| Measurement property |") and "Prinsen et al. 2018" in md


def test_spec_sheets_show_the_cosmin_table(fw, tmp_path):
    from measurekit.publish.briefing import write_spec_sheets

    res = cosmin_table(framework=fw, cfa=_cfa(0.97, 0.97, 0.03, 0.03), reliability=_rel(0.75), retest=_retest(0.72, 1.0))
    write_spec_sheets(fw, tmp_path, cosmin=res)
    ind = res.table["indicator"].iloc[0]
    md = (tmp_path / f"{ind}.md").read_text(encoding="utf-8")
    assert "## Measurement properties (COSMIN)" in md and "| internal consistency | alpha 0.75" in md
    page = (tmp_path / f"{ind}.html").read_text(encoding="utf-8")
    assert "<td>structural validity</td>" in page and "Prinsen et al. 2018" in page
    routine = next(i.id for i in fw.indicators if i.compute.source == "routine")
    assert "COSMIN" not in (tmp_path / f"{routine}.md").read_text(encoding="utf-8")
