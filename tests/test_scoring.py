"""mk.score: the one scoring rule (reverse keys, don't know -> missing, min_answered), hand-checked."""
import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.problems import InputError

PARENT_ITEMS = [f"{p}{i}" for p in ("hl", "wb", "sv", "cc") for i in range(1, 5)]


@pytest.fixture(scope="module")
def fw(framework_dir):
    return mk.load_framework(framework_dir)


def _frame(rows):
    df = pd.DataFrame(np.nan, index=pd.Index(["a", "b", "c", "d"][: len(rows)], name="response"), columns=PARENT_ITEMS)
    for k, row in enumerate(rows):
        for item, code in row.items():
            df.iloc[k, df.columns.get_loc(item)] = code
    return df


def test_hand_computed_wellbeing_scores(fw):
    # wb2 and wb4 are reverse keyed on the 1-5 agree scale (6 - x); 9 is "don't know"; min_answered is 3
    df = _frame([
        {"wb1": 5, "wb2": 1, "wb3": 4, "wb4": 9},   # 5, 5, 4, dk -> 3 answered, mean 14/3
        {"wb1": 2, "wb2": 9, "wb3": 9, "wb4": 2},   # 2, dk, dk, 4 -> 2 answered -> NaN
        {"wb1": 1, "wb2": 5, "wb3": 1, "wb4": 5},   # all 1 after reversing -> 1
        {"wb1": 3, "wb2": 7, "wb3": 3, "wb4": 3},   # 7 is not a code of the scale: not answered -> 3 answered, 3
    ])
    s = mk.score(df, framework=fw)
    assert list(s.index) == list(df.index)
    assert s["voice_family_wellbeing"].iloc[0] == pytest.approx(14 / 3)
    assert np.isnan(s["voice_family_wellbeing"].iloc[1])
    assert s["voice_family_wellbeing"].iloc[2] == 1
    assert s["voice_family_wellbeing"].iloc[3] == 3
    assert s["n_answered_family_wellbeing"].tolist() == [3, 2, 4, 3]
    assert s["n_answered_home_learning"].tolist() == [0, 0, 0, 0] and s["voice_home_learning"].isna().all()
    assert [c for c in s.columns if c.startswith("voice_")] == [d.score_column for d in fw.domains]
    assert not df.isna().all().all() and df.loc["a", "wb4"] == 9  # input untouched


def test_mapping_gives_the_same_scores_as_the_framework(fw, analysis_frame):
    resp = analysis_frame[analysis_frame.responded == 1]
    spec = {d.id: {"items": [i.id for i in fw.items_in(d.id)],
                   "reverse": [i.id for i in fw.items_in(d.id) if i.reverse],
                   "min": 1, "max": 5, "dont_know": 9, "min_answered": d.min_answered} for d in fw.domains}
    pd.testing.assert_frame_equal(mk.score(resp, framework=spec), mk.score(resp, framework=fw))
    # the generator plants missing answers and don't-knows, so the rule bites somewhere
    s = mk.score(resp, framework=fw)
    assert (s["n_answered_services"] < 3).any()
    assert s.loc[s["n_answered_services"] < 3, "voice_services"].isna().all()
    assert s.loc[s["n_answered_services"] >= 3, "voice_services"].notna().all()


def test_mapping_shorthand_and_observed_range_reversal():
    df = pd.DataFrame({"x1": [1, 2, 4, np.nan], "x2": [4, 3, 1, 2], "x3": [2, 2, 3, 4]})
    s = mk.score(df, framework={"total": ["x1", "x2"]})
    np.testing.assert_allclose(s["voice_total"], [2.5, 2.5, 2.5, 2.0])
    assert s["n_answered_total"].tolist() == [2, 2, 2, 1]
    # reversing without min/max uses the observed minimum and maximum over the domain's items (psych's rule)
    r = mk.score(df, framework={"t": {"items": ["x2", "x3"], "reverse": ["x2"], "min_answered": 2}})
    np.testing.assert_allclose(r["voice_t"], [(1 + 2) / 2, (2 + 2) / 2, (4 + 3) / 2, (3 + 4) / 2])


def test_scoring_errors_name_the_column(fw):
    df = _frame([{"wb1": 5}])
    with pytest.raises(InputError) as info:
        mk.score(df.drop(columns=["sv3"]), framework=fw)
    assert "missing_item_column" in info.value.report.codes() and "sv3" in str(info.value)
    bad = df.astype(object)
    bad.loc["a", "hl2"] = "Agree"
    with pytest.raises(InputError) as info:
        mk.score(bad, framework=fw)
    assert "non_numeric" in info.value.report.codes() and "hl2" in str(info.value)
    with pytest.raises(InputError, match="reverse"):
        mk.score(pd.DataFrame({"a": [1], "b": [2]}), framework={"d": {"items": ["a", "b"], "reverse": ["zz"]}})
    with pytest.raises(InputError, match="unknown keys"):
        mk.score(pd.DataFrame({"a": [1], "b": [2]}), framework={"d": {"items": ["a", "b"], "revers": ["a"]}})


def test_numeric_text_codes_and_blanks_are_accepted(fw):
    df = _frame([{"hl1": 5, "hl2": 4, "hl3": 4}]).astype(object)
    df.loc["a", "hl1"] = "5"
    df.loc["a", "hl4"] = ""
    s = mk.score(df, framework=fw)
    assert s.loc["a", "voice_home_learning"] == pytest.approx(13 / 3)
