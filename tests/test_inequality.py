"""SII/RII (issue 27, stats/inequality.py) against PHEindicatormethods' phe_sii (tests/fixtures/r/inequality_sii.R
ran it on the example data of its help page and on deciles of counts) and against a hand computation written
here (weighted least squares in closed form, relative ranks by hand); Monte Carlo limits stable across seeds;
the gap between two groups and its trend on planted data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from measurekit.problems import CATALOGUE, InputError
from measurekit.stats.inequality import group_gap, relative_rank, sii

R = Path(__file__).parent / "fixtures" / "r"
WANT = pd.read_csv(R / "sii_phe_sii.csv")
EXAMPLE = pd.read_csv(R / "sii_example.csv")
COUNTS = pd.read_csv(R / "sii_counts.csv")

CASES = {
    "example_normal": (EXAMPLE, dict(quantile="decile", value="value", lower_cl="lowerCL", upper_cl="upperCL",
                                     value_type="other", confidence=[0.95, 0.998])),
    "example_rate_log": (EXAMPLE, dict(quantile="decile", value="value", lower_cl="lowerCL", upper_cl="upperCL",
                                       value_type="rate", transform=True)),
    "counts_proportion": (COUNTS, dict(quantile="decile", value="value", lower_cl="lower", upper_cl="upper",
                                       multiplier=100)),
    "counts_logit_negative": (COUNTS, dict(quantile="decile", value="value", lower_cl="lower", upper_cl="upper",
                                           transform=True, multiplier=-100)),
}


def hand_sii(pop, value):
    """Independent hand computation: relative ranks as cumulative midpoints written out one by one, then the
    population-weighted least-squares line value = alpha + beta * rank in closed form."""
    pop = np.asarray(pop, float)
    share = pop / pop.sum()
    ranks, before = [], 0.0
    for s in share:
        ranks.append(before + s / 2)
        before += s
    ranks = np.array(ranks)
    rbar = np.sum(share * ranks)
    vbar = np.sum(share * value)
    beta = np.sum(share * (ranks - rbar) * (value - vbar)) / np.sum(share * (ranks - rbar) ** 2)
    alpha = vbar - beta * rbar
    return beta, (alpha + beta) / alpha, alpha


@pytest.mark.parametrize("case", list(CASES))
def test_point_estimates_match_phe_sii_to_1e6(case):
    data, kwargs = CASES[case]
    got = sii(data, by="area", random_state=1, **kwargs).table
    want = WANT[WANT.case == case]
    merged = got.merge(want, on=["area", "confidence"], suffixes=("", "_r"))
    assert len(merged) == len(want) > 0
    for col in ("sii", "rii", "intercept"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("case", list(CASES))
def test_monte_carlo_limits_agree_with_phe_sii_within_simulation_error(case):
    data, kwargs = CASES[case]
    got = sii(data, by="area", random_state=7, **kwargs).table
    merged = got.merge(WANT[WANT.case == case], on=["area", "confidence"], suffixes=("", "_r"))
    for what in ("sii", "rii"):
        width = (merged[f"{what}_upper_r"] - merged[f"{what}_lower_r"]).abs()
        for side in ("lower", "upper"):
            # two independent runs of 100,000 draws: their 2.5% points differ by about 1% of the width (SD)
            assert ((merged[f"{what}_{side}"] - merged[f"{what}_{side}_r"]).abs() < 0.04 * width).all(), (what, side)


def test_hand_computation_of_sii_and_rii():
    for _area, g in EXAMPLE.groupby("area"):
        beta, rii, alpha = hand_sii(g.population, g.value.to_numpy())
        got = sii(g, quantile="decile", value="value", lower_cl="lowerCL", upper_cl="upperCL", value_type="other",
                  repetitions=1000, random_state=0).table.iloc[0]
        assert got["sii"] == pytest.approx(beta, abs=1e-6)
        assert got["rii"] == pytest.approx(rii, abs=1e-6)
        assert got["intercept"] == pytest.approx(alpha, abs=1e-6)


def test_relative_rank_by_hand():
    # the help page's description: 12% of the population in the first quantile -> 0.06; 10% in the next -> 0.17
    ranks = relative_rank([12, 10, 78])
    assert ranks[:2] == pytest.approx([0.06, 0.17])


def test_limits_stable_across_seeds_and_reliability_statistic():
    kwargs = CASES["counts_proportion"][1]
    runs = [sii(COUNTS, by="area", random_state=s, **kwargs).table for s in (1, 2, 3)]
    for col in ("sii_lower", "sii_upper"):
        spread = np.ptp(np.column_stack([r[col] for r in runs]), axis=1)
        assert (spread < 0.15).all(), spread                          # stable to the first decimal place
    same = sii(COUNTS, by="area", random_state=2, **kwargs).table
    pd.testing.assert_frame_equal(same, runs[1])                     # same seed, same numbers
    rel = sii(COUNTS, by="area", random_state=4, reliability=True, **kwargs).table
    assert (rel["sii_mad"] > 0).all() and (rel["sii_mad"] < 0.1).all()
    assert (rel["rii_mad"] < 0.01).all()


def test_counts_get_wilson_limits_like_the_r_fixture():
    a = sii(COUNTS, quantile="decile", numerator="x", multiplier=100, by="area", random_state=3).table
    b = sii(COUNTS, quantile="decile", value="value", lower_cl="lower", upper_cl="upper", multiplier=100,
            by="area", random_state=3).table
    pd.testing.assert_frame_equal(a, b, rtol=1e-9)


def test_planted_gradient_is_recovered():
    rng = np.random.default_rng(11)
    pop = rng.integers(3000, 6000, size=10)
    ranks = relative_rank(pop)
    truth = 0.55 + 0.2 * ranks                                       # SII 20 points, RII 0.75/0.55
    x = rng.binomial(pop, truth)
    data = pd.DataFrame({"quantile": range(1, 11), "population": pop, "x": x})
    row = sii(data, numerator="x", multiplier=100, random_state=0).table.iloc[0]
    assert row["sii_lower"] < 20 < row["sii_upper"]
    assert row["sii"] == pytest.approx(20, abs=2.5)
    assert row["rii"] == pytest.approx(0.75 / 0.55, abs=0.06)


def test_group_missing_a_quantile_is_left_out_with_a_warning():
    data = EXAMPLE[~((EXAMPLE.area == "Area2") & (EXAMPLE.decile == 4))]
    res = sii(data, quantile="decile", value="value", lower_cl="lowerCL", upper_cl="upperCL", value_type="other",
              by="area", repetitions=1000, random_state=0)
    assert list(res.table.area) == ["Area1"]
    assert any("Area2" in w for w in res.warnings)


@pytest.mark.parametrize("change, kwargs, code", [
    (lambda d: d, {"value": "value", "se": "se"}, "bad_option"),                  # se for a proportion
    (lambda d: d, {"value": "value"}, "bad_option"),                               # no se or limits
    (lambda d: d, {"numerator": "x", "repetitions": 10}, "bad_option"),
    (lambda d: d, {"numerator": "x", "confidence": 0.5}, "bad_option"),
    (lambda d: d.assign(x=[0] + list(d.x[1:])), {"numerator": "x"}, "zero_count"),
    (lambda d: d.assign(value=[1.5] + list(d.value[1:])), {"value": "value", "lower_cl": "lower",
                                                           "upper_cl": "upper"}, "out_of_range"),
    (lambda d: d.assign(population=[0] + list(d.population[1:])), {"numerator": "x"}, "out_of_range"),
    (lambda d: d.iloc[:4], {"numerator": "x"}, "too_few_cases"),
    (lambda d: pd.concat([d, d.iloc[:1]]), {"numerator": "x"}, "duplicate_id"),
    (lambda d: d.drop(columns="population"), {"numerator": "x"}, "missing_column"),
])
def test_mistakes_are_input_errors(change, kwargs, code):
    north = COUNTS[COUNTS.area == "North"].assign(se=0.01).reset_index(drop=True)
    before = north.copy()
    with pytest.raises(InputError) as exc:
        sii(change(north), quantile="decile", repetitions=kwargs.pop("repetitions", 1000), **kwargs)
    assert exc.value.codes == [code] and code in CATALOGUE
    pd.testing.assert_frame_equal(north, before)


# --- the gap between two groups -------------------------------------------------------------------------------

def gap_data(rng, gaps_by_area, years=range(2020, 2026), n=4000):
    rows = []
    for area, (start, step) in gaps_by_area.items():
        for i, yr in enumerate(years):
            gap = start + step * i
            for grp, p in (("not FSM", 0.70), ("FSM", 0.70 - gap)):
                rows.append({"area": area, "period": yr, "fsm": grp, "numerator": rng.binomial(n, p),
                             "denominator": n})
    return pd.DataFrame(rows)


def test_gap_matches_newcombe_and_planted_gap_trends_are_recovered():
    rng = np.random.default_rng(3)
    data = gap_data(rng, {"narrowing": (0.20, -0.025), "widening": (0.10, 0.025), "steady": (0.15, 0.0)})
    res = group_gap(data, group="fsm", groups=("not FSM", "FSM"), by="area")
    trend = res.trend.set_index("area")
    assert trend.loc["narrowing", "direction"] == "narrowing"
    assert trend.loc["widening", "direction"] == "widening"
    assert trend.loc["steady", "direction"] == "no significant change"
    assert trend.loc["narrowing", "slope"] == pytest.approx(-2.5, abs=0.6)
    assert trend.loc["widening", "slope"] == pytest.approx(2.5, abs=0.6)
    # each period's gap: Newcombe's method 10, checked against R's fixture formula
    fx = pd.read_csv(R / "trend_newcombe10.csv").iloc[0]
    one = pd.DataFrame({"period": [2024, 2024], "g": ["a", "b"], "numerator": [fx.k1, fx.k2],
                        "denominator": [fx.n1, fx.n2]})
    row = group_gap(one, group="g", groups=("a", "b")).table.iloc[0]
    assert (row["gap"], row["ci_low"], row["ci_high"]) == pytest.approx((100 * fx.d, 100 * fx.low, 100 * fx.high))


def test_gap_trend_slope_matches_matrix_algebra():
    rng = np.random.default_rng(8)
    data = gap_data(rng, {"x": (0.2, -0.01)}, n=600)
    res = group_gap(data, group="fsm", groups=("not FSM", "FSM"), by="area")
    t = res.table.tail(5)
    z = 1.959963984540054
    se = np.maximum(t.gap - t.ci_low, t.ci_high - t.gap) / z
    w = 1 / se.to_numpy() ** 2
    X = np.column_stack([np.ones(5), t.period.to_numpy(float)])
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = cov @ X.T @ (w * t.gap.to_numpy())
    assert res.trend.iloc[0]["slope"] == pytest.approx(beta[1], rel=1e-9)
    assert res.trend.iloc[0]["se"] == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-9)


def test_gap_errors():
    data = pd.DataFrame({"period": [2024, 2024], "g": ["a", "b"], "numerator": [1, 2], "denominator": [5, 5]})
    with pytest.raises(InputError) as exc:
        group_gap(data, group="g", groups=("a", "c"))
    assert exc.value.codes == ["unknown_reference"]
    with pytest.raises(InputError) as exc:
        group_gap(data, group="h", groups=("a", "b"))
    assert exc.value.codes == ["missing_column"]
    with pytest.raises(InputError) as exc:
        group_gap(data, group="g", groups=("a",))
    assert exc.value.codes == ["bad_option"]


def test_limits_agree_across_seeds_to_the_decimals_the_result_states():
    for data, kwargs in (CASES["example_normal"], CASES["counts_proportion"]):
        kwargs = {k: v for k, v in kwargs.items() if k != "confidence"}
        first = sii(data, by="area", random_state=100, reliability=True, **kwargs).table
        assert (first["sii_stable_decimals"] >= 0).all()
        for seed in (101, 102, 103):
            other = sii(data, by="area", random_state=seed, **kwargs).table
            for what in ("sii", "rii"):
                unit = 10.0 ** -first[f"{what}_stable_decimals"]
                for side in ("lower", "upper"):
                    assert ((first[f"{what}_{side}"] - other[f"{what}_{side}"]).abs() < unit).all(), (what, side)


def test_stable_decimals_rule():
    from measurekit.stats.inequality import stable_decimals

    assert [stable_decimals(m) for m in (0.5, 0.05, 0.009, 0.0009, 0.00001)] == [0, 0, 1, 2, 4]


def test_sii_over_periods_feeds_the_trend_markers():
    """The SII by period, with its limits, is a series Fingertips marks like any other value with limits: a
    planted widening of the gradient is marked increasing."""
    from measurekit.stats.trend import trend_markers

    rng = np.random.default_rng(21)
    rows = []
    for i, year in enumerate(range(2019, 2026)):
        pop = rng.integers(8000, 12000, size=10)
        ranks = relative_rank(pop)
        p = 0.60 + (0.10 + 0.03 * i) * ranks                         # SII grows by 3 points a year
        rows += [{"period": year, "quantile": q + 1, "population": int(pop[q]), "x": int(rng.binomial(pop[q], p[q]))}
                 for q in range(10)]
    res = sii(pd.DataFrame(rows), numerator="x", by="period", multiplier=100, repetitions=20_000, random_state=1)
    assert res.table["sii"].iloc[-1] == pytest.approx(10 + 3 * 6, abs=3)
    marker = trend_markers(res.table, value_type="other", value="sii", lower_cl="sii_lower", upper_cl="sii_upper",
                           polarity="lower_is_better").table.iloc[0]
    assert marker["marker"] == "Increasing and getting worse"
    assert marker["slope"] == pytest.approx(3, abs=1)


def test_value_and_numerator_together_use_the_counts_for_the_limits():
    a = sii(COUNTS, quantile="decile", numerator="x", value="value", by="area", random_state=3,
            repetitions=1000).table
    b = sii(COUNTS, quantile="decile", numerator="x", by="area", random_state=3, repetitions=1000).table
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)
