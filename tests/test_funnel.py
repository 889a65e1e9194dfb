"""Funnel plots (issue 27, stats/funnel.py): limits against R (tests/fixtures/r/funnel.R, written out from
Spiegelhalter 2005 and FunnelPlotR's proportion method), the score limits against Wilson intervals computed by
statsmodels, the exact limits' binomial tail mass, and the overdispersion adjustment on simulated areas with
and without planted between-area variation."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from measurekit.problems import CATALOGUE, InputError
from measurekit.stats.funnel import exact_limits, funnel

R = Path(__file__).parent / "fixtures" / "r"


def test_limits_and_overdispersion_match_r():
    areas = pd.read_csv(R / "funnel_areas.csv")
    want = pd.read_csv(R / "funnel_limits.csv")
    before = areas.copy()
    res = funnel(areas)
    pd.testing.assert_frame_equal(areas, before)
    assert res.target == pytest.approx(100 * want.target[0], rel=1e-12)
    assert res.phi == pytest.approx(want.phi[0], rel=1e-10)
    assert res.tau2 == pytest.approx(want.tau2[0], rel=1e-10)
    assert res.dispersion_p == pytest.approx(want.dispersion_p[0], rel=1e-6)
    assert res.adjusted                                           # planted between-area variation: adjusted
    for col in ("low_95", "high_95", "low_99_8", "high_99_8", "adj_low_95", "adj_high_95", "adj_low_99_8",
                "adj_high_99_8"):
        np.testing.assert_allclose(res.table[col], 100 * want[col], atol=1e-9)
    # the adjusted limits are wider, so fewer areas fall outside them
    assert (res.table["adj_outside_95"] != "").sum() < (res.table["outside_95"] != "").sum()


def test_score_limits_agree_with_wilson_intervals():
    from statsmodels.stats.proportion import proportion_confint

    rng = np.random.default_rng(4)
    n = rng.integers(20, 600, size=40)
    k = rng.binomial(n, rng.uniform(0.5, 0.85, size=40))
    data = pd.DataFrame({"area": [f"a{i}" for i in range(40)], "numerator": k, "denominator": n})
    res = funnel(data, method="score", target=70, overdispersion_adjust=False)
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    target_outside_wilson = (0.70 < lo) | (0.70 > hi)
    assert ((res.table["outside_95"] != "").to_numpy() == target_outside_wilson).all()
    assert target_outside_wilson.any() and not target_outside_wilson.all()


@pytest.mark.parametrize("n", [10, 37, 150, 1000])
def test_exact_limits_interpolate_between_the_binomial_counts(n):
    """Spiegelhalter's limit for tail probability q: r - alpha over n, r the q-quantile count and alpha the
    share of the step F(r) - F(r - 1) beyond q; recomputed here from the binomial probabilities summed by hand."""
    theta = 0.68
    cdf = np.cumsum(stats.binom.pmf(np.arange(n + 1), n, theta))
    for level in (0.95, 0.998):
        lo, hi = exact_limits(theta, [n], level)
        for q, limit in (((1 - level) / 2, lo[0]), (1 - (1 - level) / 2, hi[0])):
            r = int(np.argmax(cdf >= q - 1e-15))
            below = cdf[r - 1] if r > 0 else 0.0
            alpha = (cdf[r] - q) / (cdf[r] - below)
            assert limit * n == pytest.approx(max(r - alpha, 0.0), abs=1e-6)
            assert r - 1 <= limit * n <= r
        # the mass beyond the next whole count is within the nominal tail
        assert 1 - cdf[int(np.ceil(hi[0] * n))] <= (1 - level) / 2 + 1e-12


def test_no_planted_overdispersion_mostly_no_adjustment():
    rng = np.random.default_rng(10)
    adjusted, share_outside = 0, []
    for _ in range(40):
        n = rng.integers(50, 800, size=60)
        data = pd.DataFrame({"area": range(60), "numerator": rng.binomial(n, 0.7), "denominator": n})
        res = funnel(data)
        adjusted += res.adjusted
        share_outside.append(res.observed_outside_95 / 60)
    assert adjusted <= 6                                           # about 5% of 40 by chance
    assert 0.02 <= np.mean(share_outside) <= 0.07


def test_planted_overdispersion_is_recovered_and_adjusted():
    rng = np.random.default_rng(12)
    tau = 0.06                                                     # between-area sd on the arcsine scale
    tau2_hat, adj_out = [], []
    for _ in range(20):
        n = rng.integers(300, 900, size=150)
        angle = np.clip(np.arcsin(np.sqrt(0.7)) + rng.normal(0, tau, size=150), 0.01, np.pi / 2 - 0.01)
        data = pd.DataFrame({"area": range(150), "numerator": rng.binomial(n, np.sin(angle) ** 2),
                             "denominator": n})
        res = funnel(data)
        assert res.adjusted and res.observed_outside_95 > res.expected_outside_95 * 3
        tau2_hat.append(res.tau2)
        adj_out.append((res.table["adj_outside_95"] != "").mean())
    # winsorising shrinks phi a little, so tau2 is somewhat under the planted value
    assert 0.6 * tau**2 <= np.mean(tau2_hat) <= 1.15 * tau**2
    assert 0.02 <= np.mean(adj_out) <= 0.12


def test_limits_grid_for_drawing():
    areas = pd.read_csv(R / "funnel_areas.csv")
    res = funnel(areas, overdispersion_adjust=True)
    g = res.limits
    assert g["denominator"].is_monotonic_increasing
    assert (g["low_99_8"] <= g["low_95"]).all() and (g["high_95"] <= g["high_99_8"]).all()
    assert (g["adj_low_95"] <= g["low_95"] + 1e-9).all()
    assert funnel(areas, overdispersion_adjust=False).table.filter(like="adj_").empty


@pytest.mark.parametrize("change, kwargs, code", [
    (lambda d: pd.concat([d, d.iloc[:1]]), {}, "duplicate_id"),
    (lambda d: d.assign(numerator=d.denominator + 1), {}, "count_above_denominator"),
    (lambda d: d.iloc[:2], {}, "too_few_cases"),
    (lambda d: d, {"method": "poisson"}, "bad_option"),
    (lambda d: d, {"target": "most"}, "bad_target"),
    (lambda d: d, {"target": 100}, "bad_target"),
    (lambda d: d.drop(columns="numerator"), {}, "missing_column"),
])
def test_mistakes_are_input_errors(change, kwargs, code):
    areas = pd.read_csv(R / "funnel_areas.csv")
    with pytest.raises(InputError) as exc:
        funnel(change(areas), **kwargs)
    assert exc.value.codes == [code] and code in CATALOGUE


def test_funnel_svg_draws_every_area_and_the_limits():
    import re

    from measurekit.publish.funnel_chart import funnel_svg

    areas = pd.read_csv(R / "funnel_areas.csv")
    res = funnel(areas)
    out = funnel_svg(res, alt="Funnel plot of the areas")
    assert out.startswith("<svg") and "<title>Funnel plot of the areas</title>" in out
    assert len(re.findall(r"<circle ", out)) == len(areas)
    # filled dots: the areas outside the adjusted limits (the ones to read), each labelled
    flagged = res.table[(res.table["adj_outside_95"] != "") | (res.table["adj_outside_99_8"] != "")]
    assert len(re.findall(r"<circle [^>]*fill='#1b1b1b'", out)) == len(flagged)
    for name in flagged["area"]:
        assert f">{name}</tspan>" in out
    assert out.count("stroke-dasharray='5,3'") >= 4                # adjusted limits drawn dashed
    plain = funnel_svg(funnel(areas, overdispersion_adjust=False), alt="x")
    assert "stroke-dasharray='5,3'" not in plain
