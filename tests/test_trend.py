"""Trend markers and change from the previous period (issue 27, stats/trend.py).

Checked three ways: against R (tests/fixtures/r/trend_markers.R: prop.trend.test, Newcombe's method 10
written out from the paper, Welch), against independent computations written here (the chi-squared for
trend as N r^2 over the children one by one; the weighted regression by matrix algebra), and by recovering
trends planted in simulated series.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from measurekit.problems import CATALOGUE, InputError
from measurekit.stats.trend import change_from_previous, trend_markers

R = Path(__file__).parent / "fixtures" / "r"


def series_fixture():
    return pd.read_csv(R / "trend_series.csv")


def test_chi_squared_for_trend_matches_r_prop_trend_test():
    data = series_fixture()
    got = trend_markers(data, period="year", by="series").table.set_index("series")
    want = pd.read_csv(R / "trend_prop_trend_test.csv").set_index("series")
    for s in ["rising", "flat", "falling"]:
        assert got.loc[s, "chi2"] == pytest.approx(want.loc[s, "chi2"], rel=1e-10)
        assert got.loc[s, "p_val"] == pytest.approx(want.loc[s, "p_val"], rel=1e-8)
        assert got.loc[s, "points"] == 5
    assert got.loc["short", "marker"] == "Could not be calculated"
    assert "only 3 periods" in got.loc["short", "reason"]
    assert np.isnan(got.loc["short", "chi2"])


def _chi2_children_one_by_one(k, n, x):
    """Independent: the Cochran-Armitage statistic equals N r^2, r the correlation of each child's 0/1
    outcome with the year of their period."""
    y = np.concatenate([np.r_[np.ones(int(ki)), np.zeros(int(ni - ki))] for ki, ni in zip(k, n)])
    t = np.concatenate([np.full(int(ni), xi, dtype=float) for ni, xi in zip(n, x)])
    r = np.corrcoef(y, t)[0, 1]
    return len(y) * r**2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_trend_agrees_with_an_independent_computation(seed):
    rng = np.random.default_rng(seed)
    years = np.arange(2018, 2025)
    n = rng.integers(150, 400, size=years.size)
    k = rng.binomial(n, np.linspace(0.5, 0.6, years.size))
    data = pd.DataFrame({"period": years, "numerator": k, "denominator": n})
    got = trend_markers(data).table.iloc[0]
    want = _chi2_children_one_by_one(k[-5:], n[-5:], years[-5:])
    assert got["chi2"] == pytest.approx(want, rel=1e-9)
    from scipy import stats
    assert got["p_val"] == pytest.approx(stats.chi2.sf(want, 1), rel=1e-9)
    assert got["first_period"] == 2020 and got["last_period"] == 2024


def test_planted_trends_are_recovered_with_polarity_words():
    rng = np.random.default_rng(27)
    years = [f"{y}/{str(y + 1)[2:]}" for y in range(2019, 2026)]
    truth = {"improving": 0.02, "flat": 0.0, "worsening": -0.02}   # change per year on the 0-1 scale
    rows = []
    for area, slope in truth.items():
        for i, yr in enumerate(years):
            n = 20000
            rows.append({"area": area, "period": yr, "numerator": rng.binomial(n, 0.6 + slope * i),
                         "denominator": n})
    data = pd.DataFrame(rows)
    before = data.copy()
    res = trend_markers(data, by="area", polarity="higher_is_better").table.set_index("area")
    pd.testing.assert_frame_equal(data, before)                       # input not modified
    for area, slope in truth.items():
        assert res.loc[area, "slope"] == pytest.approx(100 * slope, abs=0.25)   # percentage points a year
    assert res.loc["improving", "marker"] == "Increasing and getting better"
    assert res.loc["worsening", "marker"] == "Decreasing and getting worse"
    assert res.loc["flat", "marker"] in ("No significant change",)
    low = trend_markers(data, by="area", polarity="lower_is_better").table.set_index("area")
    assert low.loc["improving", "marker"] == "Increasing and getting worse"
    assert low.loc["worsening", "marker"] == "Decreasing and getting better"
    none = trend_markers(data, by="area").table.set_index("area")
    assert none.loc["improving", "marker"] == "Increasing"


def test_level_decides_significance():
    # a trend with p between 0.002 and 0.05: significant at 95%, not at Fingertips' 99.8%
    years = np.arange(2020, 2025)
    n = np.full(5, 1000)
    for step in range(5, 40):
        k = 500 + step * np.arange(5) // 2
        data = pd.DataFrame({"period": years, "numerator": k, "denominator": n})
        p = trend_markers(data).table.iloc[0]["p_val"]
        if 0.002 < p < 0.05:
            break
    else:
        pytest.fail("no step gave a p-value between 0.002 and 0.05")
    assert trend_markers(data, level=0.998).table.iloc[0]["marker"] == "No significant change"
    assert trend_markers(data, level=0.95).table.iloc[0]["marker"] == "Increasing"


def test_weighted_regression_for_means_matches_matrix_algebra():
    rng = np.random.default_rng(5)
    years = np.arange(2017, 2025)
    means = 30 + 0.4 * (years - 2017) + rng.normal(0, 0.3, years.size)
    sds = rng.uniform(4, 7, years.size)
    ns = rng.integers(80, 300, years.size)
    data = pd.DataFrame({"period": years, "mean": means, "sd": sds, "n": ns})
    got = trend_markers(data, value_type="mean", polarity="higher_is_better").table.iloc[0]
    x, y = years[-5:].astype(float), means[-5:]
    w = ns[-5:] / sds[-5:] ** 2
    X = np.column_stack([np.ones(5), x])
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = cov @ X.T @ (w * y)
    assert got["slope"] == pytest.approx(beta[1], rel=1e-9)
    assert got["chi2"] == pytest.approx(beta[1] ** 2 / cov[1, 1], rel=1e-9)


def test_fewer_points_and_no_variation_give_reasons_not_errors():
    data = pd.DataFrame({"period": [2021, 2022, 2023, 2024, 2025], "numerator": [0] * 5, "denominator": [40] * 5})
    row = trend_markers(data).table.iloc[0]
    assert row["marker"] == "Could not be calculated" and "same outcome" in row["reason"]
    four = data.iloc[:4].assign(numerator=[1, 2, 3, 4])
    assert "only 4 periods" in trend_markers(four).table.iloc[0]["reason"]


def test_gap_in_years_is_noted():
    data = pd.DataFrame({"period": [2018, 2019, 2021, 2022, 2023], "numerator": [10, 12, 14, 15, 18],
                         "denominator": [50] * 5})
    assert "gap" in trend_markers(data).table.iloc[0]["note"]


def test_change_from_previous_matches_newcombe_method_10_in_r():
    fx = pd.read_csv(R / "trend_newcombe10.csv")
    for _, r in fx.iterrows():
        data = pd.DataFrame({"period": ["2023/24", "2024/25"], "numerator": [r.k2, r.k1],
                             "denominator": [r.n2, r.n1]})
        got = change_from_previous(data).table.iloc[0]
        assert got["change"] == pytest.approx(100 * r.d, abs=1e-9)
        assert got["ci_low"] == pytest.approx(100 * r.low, abs=1e-9)
        assert got["ci_high"] == pytest.approx(100 * r.high, abs=1e-9)
    # Newcombe's own worked example (1998, table II, 56/70 - 48/80): 0.0524 to 0.3339
    first = fx.iloc[0]
    assert (round(first.low, 4), round(first.high, 4)) == (0.0524, 0.3339)


def test_change_from_previous_for_means_matches_welch_in_r():
    fx = pd.read_csv(R / "trend_welch.csv")
    for _, r in fx.iterrows():
        data = pd.DataFrame({"period": [2023, 2024], "mean": [r.m0, r.m1], "sd": [r.s0, r.s1], "n": [r.n0, r.n1]})
        got = change_from_previous(data, value_type="mean").table.iloc[0]
        assert got["change"] == pytest.approx(r.d, abs=1e-12)
        assert got["ci_low"] == pytest.approx(r.low, rel=1e-9)
        assert got["ci_high"] == pytest.approx(r.high, rel=1e-9)
        assert got["p_val"] == pytest.approx(r.p, rel=1e-8)


def test_change_words_follow_polarity():
    data = pd.DataFrame({"period": ["2023/24", "2024/25"], "numerator": [400, 520], "denominator": [1000, 1000]})
    assert change_from_previous(data, polarity="higher_is_better").table.iloc[0]["words"] == \
        "Higher than 2023/24 and better"
    assert change_from_previous(data, polarity="lower_is_better").table.iloc[0]["words"] == \
        "Higher than 2023/24 and worse"
    same = data.assign(numerator=[500, 505])
    assert change_from_previous(same).table.iloc[0]["words"] == "Similar to 2023/24"


@pytest.mark.parametrize("change, code", [
    (lambda d: d.drop(columns="denominator"), "missing_column"),
    (lambda d: d.assign(period=[2020, 2020, 2022, 2023, 2024]), "duplicate_period"),
    (lambda d: d.assign(numerator=[10, 60, 10, 10, 10]), "count_above_denominator"),
    (lambda d: d.assign(period=["2020", "2021", "soon", "2023", "2024"]), "bad_period"),
    (lambda d: d.assign(period=["2020", "2020/21", "2022", "2023", "2024"]), "bad_period"),
    (lambda d: d.assign(period=["2020/22", "2021", "2022", "2023", "2024"]), "bad_period"),
    (lambda d: d.assign(numerator=[10, "ten", 10, 10, 10]), "non_numeric"),
    (lambda d: d.assign(numerator=[10, -1, 10, 10, 10]), "out_of_range"),
    (lambda d: d.assign(denominator=[50, 0, 50, 50, 50]), "out_of_range"),
    (lambda d: d.assign(numerator=[10, 10.5, 10, 10, 10]), "wrong_type"),
])
def test_user_mistakes_are_input_errors_with_catalogued_codes(change, code):
    data = pd.DataFrame({"period": [2020, 2021, 2022, 2023, 2024], "numerator": [10] * 5, "denominator": [50] * 5})
    with pytest.raises(InputError) as exc:
        trend_markers(change(data))
    assert exc.value.codes == [code]
    assert code in CATALOGUE
    p = exc.value.report.problems[0]
    if code not in ("missing_column",):
        assert p.row is not None and p.column is not None


def test_bad_options_are_input_errors():
    data = pd.DataFrame({"period": [2020, 2021], "numerator": [1, 2], "denominator": [5, 5]})
    for kwargs in ({"polarity": "up"}, {"value_type": "rate"}, {"level": 95}, {"points": 2}):
        with pytest.raises(InputError) as exc:
            trend_markers(data, **kwargs)
        assert exc.value.codes == ["bad_option"]


def _fingertips_one_point_check(k, n):
    """Independent: the logit slope, by the textbook formula with points numbered 1..5, keeps its sign when each
    point is left out in turn."""
    y = np.log(np.asarray(k, float) / (np.asarray(n, float) - np.asarray(k, float)))
    t = np.arange(1, 6, dtype=float)
    signs = []
    for drop in [None, 0, 1, 2, 3, 4]:
        keep = [i for i in range(5) if i != drop]
        yy, tt = y[keep], t[keep]
        m = len(keep)
        slope = (m * np.sum(yy * tt) - yy.sum() * tt.sum()) / (m * np.sum(tt**2) - tt.sum() ** 2)
        signs.append(-1 if slope < 0 else 1)
    return abs(sum(signs)) == 6


def test_a_trend_made_by_one_point_is_not_marked():
    # flat and slightly falling for four years, then a jump: chi-squared is large, but leaving the last year
    # out reverses the direction, so Fingertips marks no significant change
    k, n = [520, 500, 510, 490, 700], [1000] * 5
    assert not _fingertips_one_point_check(k, n)
    data = pd.DataFrame({"period": range(2020, 2025), "numerator": k, "denominator": n})
    row = trend_markers(data).table.iloc[0]
    assert row["p_val"] < 0.002
    assert row["robust"] is not None and not row["robust"]
    assert row["marker"] == "No significant change" and "one period" in row["note"]
    steady = [500, 530, 560, 590, 620]
    assert _fingertips_one_point_check(steady, n)
    rising = trend_markers(data.assign(numerator=steady)).table.iloc[0]
    assert rising["robust"] and rising["marker"] == "Increasing"


def test_other_values_with_limits_use_fingertips_standard_errors():
    # e.g. a series of SIIs with their 95% limits: the standard error is the width over 3.92
    years = np.arange(2019, 2026)
    value = np.array([10.0, 10.5, 11.8, 12.1, 13.0, 13.9, 14.2])
    half = np.array([1.1, 1.0, 1.2, 0.9, 1.0, 1.1, 1.0])
    data = pd.DataFrame({"period": years, "value": value, "lower_cl": value - half, "upper_cl": value + half})
    got = trend_markers(data, value_type="other", polarity="lower_is_better").table.iloc[0]
    se = 2 * half[-5:] / 3.92
    w = 1 / se**2
    X = np.column_stack([np.ones(5), years[-5:].astype(float)])
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = cov @ X.T @ (w * value[-5:])
    assert got["slope"] == pytest.approx(beta[1], rel=1e-9)
    assert got["chi2"] == pytest.approx(beta[1] ** 2 / cov[1, 1], rel=1e-9)
    assert got["marker"] == "Increasing and getting worse"
    ch = change_from_previous(data, value_type="other").table.iloc[-1]
    d, s = 14.2 - 13.9, np.hypot(2 * 1.0 / 3.92, 2 * 1.1 / 3.92)
    assert (ch["change"], ch["ci_low"], ch["ci_high"]) == pytest.approx((d, d - 1.959964 * s, d + 1.959964 * s))
    with pytest.raises(InputError) as exc:
        trend_markers(data.assign(lower_cl=value + 5), value_type="other")
    assert exc.value.codes == ["out_of_range"]


def test_many_series_of_different_lengths_each_match_the_independent_computation():
    rng = np.random.default_rng(99)
    rows, truth = [], {}
    for g in range(40):
        m = int(rng.integers(2, 9))
        years = np.arange(2025 - m + 1, 2026)
        n = rng.integers(100, 400, size=m)
        k = rng.binomial(n, rng.uniform(0.3, 0.7))
        rows += [{"la": f"L{g % 3}", "area": f"A{g:02d}", "period": int(y), "numerator": int(a), "denominator": int(b)}
                 for y, a, b in zip(years, k, n)]
        truth[(f"L{g % 3}", f"A{g:02d}")] = (_chi2_children_one_by_one(k[-5:], n[-5:], years[-5:]) if m >= 5
                                             else None, min(m, 5))
    data = pd.DataFrame(rows).sample(frac=1, random_state=1)              # any row order
    got = trend_markers(data, by=["la", "area"]).table
    assert len(got) == 40
    for _, r in got.iterrows():
        want, points = truth[(r["la"], r["area"])]
        assert r["points"] == points
        if want is None:
            assert np.isnan(r["chi2"]) and r["marker"] == "Could not be calculated"
        else:
            assert r["chi2"] == pytest.approx(want, rel=1e-9)
    ch = change_from_previous(data, by=["la", "area"]).table
    assert len(ch) == len(data) - 40
    one = ch[(ch.area == "A07")].iloc[-1]
    src = data[data.area == "A07"].sort_values("period")
    assert one["change"] == pytest.approx(100 * (src.numerator.iloc[-1] / src.denominator.iloc[-1]
                                                 - src.numerator.iloc[-2] / src.denominator.iloc[-2]))
