"""mk.item_analysis: rates and correlations checked by hand, flags, distributions by subgroup."""
import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.problems import InputError


def test_rates_and_correlations_by_hand():
    df = pd.DataFrame({
        "a": [1, 1, 5, 2, 9, np.nan, 3, 4, 5, 1],
        "b": [1, 2, 5, 2, 3, 3, 3, 4, 4, 2],
        "c": [5, 4, 1, 4, 3, 3, 3, 2, 1, 5],   # reverse keyed
        "lang": ["en", "en", "ur", "ur", "en", "ur", "en", "ur", "en", "ur"],
    })
    spec = {"d": {"items": ["a", "b", "c"], "reverse": ["c"], "min": 1, "max": 5, "dont_know": 9}}
    res = mk.item_analysis(df, framework=spec, by="lang")
    a = res.items.loc["a"]
    answered = pd.Series([1, 1, 5, 2, 3, 4, 5, 1], dtype=float)
    assert a["n"] == 10 and a["answered"] == 8
    assert a["missing_pct"] == pytest.approx(10) and a["dont_know_pct"] == pytest.approx(10)
    assert a["floor_pct"] == pytest.approx(100 * 3 / 8) and a["ceiling_pct"] == pytest.approx(100 * 2 / 8)
    assert a["mean"] == pytest.approx(answered.mean()) and a["sd"] == pytest.approx(answered.std())
    # r_drop: item vs the mean of the other items (c reverse keyed: 6 - c) where both are present
    rest = (df["b"] + (6 - df["c"])) / 2
    ok = df["a"].isin([1, 2, 3, 4, 5])
    assert a["r_drop"] == pytest.approx(np.corrcoef(df["a"][ok], rest[ok])[0, 1])
    c = res.items.loc["c"]
    assert c["floor_pct"] == pytest.approx(20) and c["mean"] == pytest.approx((6 - df["c"]).mean())  # floor before keying
    assert c["r_drop"] > 0.8
    d = res.distribution
    ur_a = d[(d.item == "a") & (d.group == "lang") & (d.group_value == "ur")].set_index("category")["proportion"]
    # ur answers to a: 5, 2, (blank), 4, 1 -> four answers, each a quarter (categories seen in the other group show 0)
    assert ur_a.to_dict() == {1: 0.25, 2: 0.25, 3: 0.0, 4: 0.25, 5: 0.25, 9: 0.0}
    en_a = d[(d.item == "a") & (d.group == "lang") & (d.group_value == "en")].set_index("category")["proportion"]
    assert en_a[9] == pytest.approx(1 / 5)


def test_constant_item_is_flagged_not_fatal():
    df = pd.DataFrame({"a": [3] * 6, "b": [1, 2, 3, 4, 5, 3], "c": [2, 2, 3, 4, 5, 1]})
    res = mk.item_analysis(df, framework={"d": ["a", "b", "c"]})
    assert "same answer" in res.items.loc["a", "flags"] and np.isnan(res.items.loc["a", "r_drop"])
    assert any(w.startswith("a:") for w in res.warnings)


def test_errors_name_the_column():
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "2"]})
    with pytest.raises(InputError, match="b"):
        mk.item_analysis(df, framework={"d": {"items": ["a", "b"], "min": 1, "max": 5}})
    with pytest.raises(InputError, match="zz"):
        mk.item_analysis(df, framework={"d": {"items": ["a", "zz"], "min": 1, "max": 5}})


def test_item_analysis_flags_and_distributions(cohort, analysis_frame):
    resp = analysis_frame[analysis_frame.responded == 1].copy()
    resp.loc[resp.index[:400], "hl1"] = 5          # push hl1 to the ceiling for a fifth of respondents...
    resp.loc[resp.index[400:1500], "hl1"] = 5      # ...and most of the rest
    res = mk.item_analysis(resp, framework=cohort.framework, by=["home_language", "fsm"])
    assert res.items.loc["hl1", "ceiling_pct"] > 60 and "one end" in res.items.loc["hl1", "flags"]
    assert res.items.loc["hl2", "flags"] == ""
    assert res.items["dont_know_pct"].drop("hl1").between(1, 6).all()  # ~3% planted
    d = res.distribution
    sums = d.groupby(["item", "group", "group_value"])["proportion"].sum()
    assert np.allclose(sums, 1)
    assert {"all", "home_language", "fsm"} == set(d["group"])
    with pytest.raises(InputError):
        mk.item_analysis(resp, framework=cohort.framework, by="nope")


def test_integer_column_names_work_as_text():
    rng = np.random.default_rng(7)
    theta = rng.normal(size=200)
    df = pd.DataFrame({j: np.clip(np.round(3 + theta + rng.normal(0, 0.7, 200)), 1, 5).astype(int) for j in range(4)})
    res = mk.item_analysis(df, framework={"d": [0, 1, 2, 3]})
    assert list(res.items.index) == ["0", "1", "2", "3"]
    assert (res.items["r_drop"] > 0.4).all()
    text = df.rename(columns=str)
    expected = mk.item_analysis(text, framework={"d": ["0", "1", "2", "3"]}).items
    pd.testing.assert_frame_equal(res.items, expected)


def test_distribution_matches_crosstab_with_missing_and_odd_groups():
    """The distribution table (counted without pandas' pivot tables, for speed) is what pd.crosstab gives, group by
    group: missing group values left out, numbers and categories as groups, a category nobody chose left out."""
    rng = np.random.default_rng(5)
    n = 300
    df = pd.DataFrame({"a": rng.choice([1, 2, 3, 4, 5, 9, np.nan], n), "b": rng.choice([1, 2, 4, 5], n),
                       "c": rng.choice([2.0, 3.0, np.nan], n),
                       "num": rng.choice([0.0, 1.0, np.nan], n),
                       "cat": pd.Categorical(rng.choice(["z", "é", "A", "b"], n), categories=["z", "é", "A", "b", "x"]),
                       "txt": rng.choice(["Urdu", "English", None], n)})
    spec = {"d": {"items": ["a", "b", "c"], "min": 1, "max": 5, "dont_know": 9}}
    res = mk.item_analysis(df, framework=spec, by=["num", "cat", "txt"])
    got = res.distribution
    for var in ["all", "num", "cat", "txt"]:
        groups = pd.Series("all", index=df.index) if var == "all" else df[var].astype(str)
        for item in ["a", "b", "c"]:
            raw = pd.to_numeric(df[item], errors="coerce")
            valid = raw.isin([1, 2, 3, 4, 5, 9])
            counts = pd.crosstab(groups[valid], raw[valid])
            want = counts.div(counts.sum(axis=1), axis=0).stack()
            part = got[(got["item"] == item) & (got["group"] == var)]
            assert list(part["group_value"]) == [str(g) for g, _ in want.index]
            assert list(part["category"]) == [int(c) for _, c in want.index]
            assert part["proportion"].tolist() == want.tolist()        # the same divisions, to the last digit
            assert part["n"].tolist() == [int(counts.sum(axis=1)[g]) for g, _ in want.index]
