"""mk.alpha against psych::alpha (fixtures from tests/fixtures/r/alpha.R) and on the synthetic cohort."""
import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.problems import InputError

R = "r"
CASES = {
    "bfi_agree": ("bfi.csv", ["A1", "A2", "A3", "A4", "A5"], ["A1"]),
    "bfi_25": ("bfi.csv", None, ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]),
    "hs_9": ("holzinger.csv", [f"x{i}" for i in range(1, 10)], None),
    "hs_2": ("holzinger.csv", ["x1", "x2"], None),
}
TOTAL = {"raw_alpha": "raw_alpha", "std_alpha": "std.alpha", "g6_smc": "G6(smc)", "average_r": "average_r",
         "s_n": "S/N", "ase": "ase", "mean": "mean", "sd": "sd", "median_r": "median_r"}
DROPPED = {"raw_alpha": "raw_alpha", "std_alpha": "std.alpha", "g6_smc": "G6(smc)", "average_r": "average_r",
           "s_n": "S/N", "alpha_se": "alpha se", "var_r": "var.r", "med_r": "med.r"}
ITEMS = {"n": "n", "raw_r": "raw.r", "std_r": "std.r", "r_cor": "r.cor", "r_drop": "r.drop", "mean": "mean", "sd": "sd"}


def _run(fixtures_dir, name):
    file, items, reverse = CASES[name]
    df = pd.read_csv(fixtures_dir / R / file)
    if items is None:
        items = list(df.columns[:25])
    return mk.alpha(df, items=items, reverse=reverse)


def _r(fixtures_dir, name, table):
    f = pd.read_csv(fixtures_dir / R / f"alpha_{name}_{table}.csv")
    if "item" in f:
        f["item"] = f["item"].str.rstrip("-")
        f = f.set_index("item")
    return f


@pytest.mark.r_fixture
@pytest.mark.parametrize("name", list(CASES))
def test_matches_psych_alpha(fixtures_dir, name):
    res = _run(fixtures_dir, name)
    rt = _r(fixtures_dir, name, "total").iloc[0]
    for ours, theirs in TOTAL.items():
        assert res.total[ours].iloc[0] == pytest.approx(rt[theirs], abs=1e-6), ours
    feldt = res.intervals.set_index("method").loc["feldt"]
    assert feldt["ci_low"] == pytest.approx(rt["feldt_low"], abs=1e-6)
    assert feldt["ci_high"] == pytest.approx(rt["feldt_high"], abs=1e-6)
    duh = res.intervals.set_index("method").loc["duhachek"]
    assert duh["ci_low"] == pytest.approx(rt["duhachek_low"], abs=1e-6)
    assert duh["ci_high"] == pytest.approx(rt["duhachek_high"], abs=1e-6)
    rd = _r(fixtures_dir, name, "if_dropped")
    for ours, theirs in DROPPED.items():
        np.testing.assert_allclose(res.if_dropped[ours].to_numpy(float), rd.loc[res.if_dropped.index, theirs].to_numpy(float),
                                   atol=1e-6, err_msg=ours)
    ri = _r(fixtures_dir, name, "items")
    for ours, theirs in ITEMS.items():
        np.testing.assert_allclose(res.items[ours].to_numpy(float), ri.loc[res.items.index, theirs].to_numpy(float),
                                   atol=1e-6, err_msg=ours)


@pytest.mark.r_fixture
@pytest.mark.parametrize("name", ["bfi_agree", "bfi_25"])
def test_frequencies_match_psych(fixtures_dir, name):
    res = _run(fixtures_dir, name)
    rf = _r(fixtures_dir, name, "frequencies")
    np.testing.assert_allclose(res.frequencies.to_numpy(float), rf.loc[res.frequencies.index].to_numpy(float), atol=1e-9)


@pytest.mark.r_fixture
def test_ordinal_alpha_matches_psych_alpha_of_polychoric(fixtures_dir):
    df = pd.read_csv(fixtures_dir / R / "bfi.csv")[["A1", "A2", "A3", "A4", "A5"]]
    res = mk.alpha(df, reverse=["A1"], ordinal=True)
    rt = _r(fixtures_dir, "bfi_agree_ordinal", "total").iloc[0]
    for ours, theirs in [("raw_alpha", "raw_alpha"), ("std_alpha", "std.alpha"), ("g6_smc", "G6(smc)"),
                         ("average_r", "average_r")]:
        assert res.total[ours].iloc[0] == pytest.approx(rt[theirs], abs=1e-3), ours  # polychoric agrees to 1e-3
    rd = _r(fixtures_dir, "bfi_agree_ordinal", "if_dropped")
    np.testing.assert_allclose(res.if_dropped["raw_alpha"], rd.loc[res.if_dropped.index, "raw_alpha"], atol=1e-3)
    # ordinal alpha exceeds Pearson alpha for coarse items; observed SDs are still reported
    pearson = mk.alpha(df, reverse=["A1"])
    assert res.raw_alpha > pearson.raw_alpha
    np.testing.assert_allclose(res.items["sd"], pearson.items["sd"])
    with pytest.raises(ValueError, match="ordinal"):
        mk.alpha(df, reverse=["A1"], ordinal=True, n_boot=10)


def test_listwise_equals_pairwise_on_complete_cases(fixtures_dir):
    df = pd.read_csv(fixtures_dir / R / "bfi.csv")[["A1", "A2", "A3", "A4", "A5"]]
    lw = mk.alpha(df, reverse=["A1"], missing="listwise")
    cc = mk.alpha(df.dropna(), reverse=["A1"])
    assert lw.raw_alpha == pytest.approx(cc.raw_alpha, abs=1e-12)
    assert lw.raw_alpha != pytest.approx(mk.alpha(df, reverse=["A1"]).raw_alpha, abs=1e-6)
    assert any("Listwise" in w for w in lw.warnings)


def test_bootstrap_interval_is_reproducible_and_brackets_alpha(fixtures_dir):
    df = pd.read_csv(fixtures_dir / R / "bfi.csv")[["A1", "A2", "A3", "A4", "A5"]]
    a = mk.alpha(df, reverse=["A1"], n_boot=500, random_state=3)
    b = mk.alpha(df, reverse=["A1"], n_boot=500, random_state=3)
    assert a.total["ci_method"].iloc[0] == "bootstrap"
    assert a.total["ci_low"].iloc[0] == b.total["ci_low"].iloc[0]
    assert a.total["ci_low"].iloc[0] < a.raw_alpha < a.total["ci_high"].iloc[0]
    # the bootstrap and Duhachek intervals should be of similar width for n = 2800
    iv = a.intervals.set_index("method")
    w_boot = iv.loc["bootstrap", "ci_high"] - iv.loc["bootstrap", "ci_low"]
    w_duh = iv.loc["duhachek", "ci_high"] - iv.loc["duhachek", "ci_low"]
    assert 0.7 < w_boot / w_duh < 1.4


def test_domain_alpha_recovers_true_reliability(analysis_frame, cohort):
    from measurekit.stats.scoring import item_values

    resp = analysis_frame[analysis_frame.responded == 1]
    values = item_values(resp, framework=cohort.framework)  # don't know -> missing, reverse keys applied
    for domain, truth in cohort.ground_truth["domains"].items():
        res = mk.alpha(values, items=truth["items"], n_boot=1000, random_state=1)
        lo, hi = res.total["ci_low"].iloc[0], res.total["ci_high"].iloc[0]
        assert lo <= truth["true_reliability"] <= hi, (domain, lo, truth["true_reliability"], hi)


def test_forgetting_to_reverse_shows_in_r_drop(analysis_frame, cohort):
    resp = analysis_frame[analysis_frame.responded == 1]
    items = cohort.ground_truth["domains"]["family_wellbeing"]["items"]
    data = resp[items].where(resp[items] != 9).astype(float)
    raw = mk.alpha(data)  # wb2 and wb4 not reversed
    assert raw.items.loc["wb2", "r_drop"] < 0 and any("weakly" in w for w in raw.warnings)
    fixed = mk.alpha(data, reverse=["wb2", "wb4"])
    assert fixed.raw_alpha > raw.raw_alpha + 0.3


@pytest.mark.parametrize("bad,code", [
    (pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 2, 2, 2], "c": [1, 3, 2, 4]}), "constant_item"),
    (pd.DataFrame({"a": [1, 2, 3, 4], "b": [np.nan] * 4, "c": [1, 3, 2, 4]}), "all_missing"),
    (pd.DataFrame({"a": [1, 2, 3, 4]}), "too_few_items"),
    (pd.DataFrame({"a": [1, 2, 3, 4], "b": ["x", "2", "3", "1"]}), "non_numeric"),
])
def test_edge_cases_give_clear_errors(bad, code):
    with pytest.raises(InputError) as info:
        mk.alpha(bad)
    assert code in info.value.report.codes()


def test_two_items_work(fixtures_dir):
    df = pd.read_csv(fixtures_dir / R / "holzinger.csv")
    res = mk.alpha(df, items=["x1", "x2"])
    assert len(res.if_dropped) == 2 and np.isnan(res.if_dropped["alpha_se"]).all()


def test_unknown_item_and_reverse_names():
    df = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 3, 2, 4]})
    with pytest.raises(InputError):
        mk.alpha(df, items=["a", "zz"])
    with pytest.raises(InputError):
        mk.alpha(df, reverse=["zz"])


def test_result_has_html_and_dict(fixtures_dir):
    res = _run(fixtures_dir, "bfi_agree")
    assert "raw_alpha" in res._repr_html_()
    assert res.to_dict()["total"][0]["raw_alpha"] == pytest.approx(res.raw_alpha)


def test_integer_column_names_with_a_weak_item():
    """issue 31: the warning about a weak item was worded with str.join over integer names (TypeError)."""
    rng = np.random.default_rng(6)
    theta = rng.normal(size=300)
    df = pd.DataFrame({j: np.clip(np.round(3 + theta + rng.normal(0, 0.7, 300)), 1, 5) for j in range(4)})
    df[4] = rng.integers(1, 6, 300)                          # unrelated to the others
    before = df.copy()
    res = mk.alpha(df)
    assert list(res.items.index) == ["0", "1", "2", "3", "4"]
    assert any("4" in w and "weak" in w for w in res.warnings)
    pd.testing.assert_frame_equal(df, before)
    assert mk.alpha(df, reverse=[4]).reversed == ["4"]


def test_headline_is_the_total_row_and_tables_are_of_the_data_at_the_call(fixtures_dir):
    """issue 30: the tables are built when first read; they must be those of the data as they were at the call."""
    df = pd.read_csv(fixtures_dir / R / "bfi.csv")[["A1", "A2", "A3", "A4", "A5"]].astype(float)
    res = mk.alpha(df, reverse=["A1"], ci_method="duhachek")
    fresh = mk.alpha(df.copy(), reverse=["A1"], ci_method="duhachek")
    df.iloc[:, :] = 1.0                                   # the caller reuses its frame before reading the tables
    t = res.total.iloc[0]
    assert (res.raw_alpha, res.std_alpha, res.ci_low, res.ci_high, res.n, res.n_items) == (
        t["raw_alpha"], t["std_alpha"], t["ci_low"], t["ci_high"], t["n"], t["n_items"])
    iv = res.intervals.set_index("method").loc["duhachek"]
    assert (res.ci_low, res.ci_high) == (iv["ci_low"], iv["ci_high"]) and res.ci_method == "duhachek"
    for name in ("total", "if_dropped", "items", "frequencies", "intervals"):
        pd.testing.assert_frame_equal(getattr(res, name), getattr(fresh, name), check_exact=True)
    assert res.warnings == fresh.warnings


def test_plain_and_odd_frames_give_the_same_numbers():
    """A plain float frame is read directly; nullable, text and integer-named columns go through the full
    checks. Both routes must give the same result to the last bit."""
    rng = np.random.default_rng(11)
    theta = rng.normal(size=500)
    x = np.clip(np.round(3 + theta[:, None] + rng.normal(0, 1, (500, 5))), 1, 5)
    x[rng.random(x.shape) < 0.08] = np.nan
    plain = pd.DataFrame(x, columns=list("abcde"))
    odd = plain.copy()
    odd["a"] = odd["a"].astype("Float64")
    odd["b"] = odd["b"].map(lambda v: "" if np.isnan(v) else str(v)).astype(object)
    numbered = pd.DataFrame(x)
    for kw in ({}, {"reverse": ["c"]}, {"missing": "listwise"}, {"n_boot": 40, "random_state": 2}):
        a = mk.alpha(plain, **kw)
        for other in (mk.alpha(odd, **kw),
                      mk.alpha(numbered, **{**kw, "reverse": [2]} if "reverse" in kw else kw)):
            for name in ("total", "if_dropped", "items", "intervals"):
                pd.testing.assert_frame_equal(getattr(a, name).reset_index(drop=True),
                                              getattr(other, name).reset_index(drop=True), check_exact=True)
