"""Progress towards a target on a mean score (issue 27): ``target_progress(..., value_type="mean")``.

The hand computation below is written from the method's description with matrix algebra (weighted least squares
as (X'WX)^-1 X'Wy, the prediction variance as x0'(X'WX)^-1 x0 s2 + s2 / w0), not from the package's code.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from measurekit.problems import InputError
from measurekit.stats.target import target_progress


def _hand(mean, sd, n, years, target, target_year, level=0.95):
    y, sd, n, x = (np.asarray(a, float) for a in (mean, sd, n, years))
    w = n / sd ** 2
    X = np.column_stack([np.ones_like(x), x])
    xtwx = X.T @ (w[:, None] * X)
    beta = np.linalg.solve(xtwx, X.T @ (w * y))
    resid = y - X @ beta
    s2 = float(np.sum(w * resid ** 2) / (len(y) - 2))
    s2_used = max(1.0, s2)
    x0 = np.array([1.0, target_year])
    var = s2_used * x0 @ np.linalg.solve(xtwx, x0) + s2_used * sd[-1] ** 2 / n[-1]
    q = stats.t.ppf(0.5 + level / 2, len(y) - 2)
    fit = float(x0 @ beta)
    years_left = target_year - x[-1]
    return {"slope": beta[1], "projected": fit, "low": fit - q * np.sqrt(var), "high": fit + q * np.sqrt(var),
            "phi": s2, "gap": target - y[-1], "needed": (target - y[-1]) / years_left}


def _series(means, sds, ns, start=2020):
    return pd.DataFrame({"period": [f"{y}/{(y + 1) % 100:02d}" for y in range(start, start + len(means))],
                         "mean": means, "sd": sds, "n": ns})


@pytest.mark.parametrize("means", [
    [6.10, 6.30, 6.20, 6.60, 6.70],            # scatter within sampling noise: phi < 1, line variance unscaled
    [6.00, 6.90, 6.10, 7.20, 6.50],            # overdispersed: phi > 1 scales the interval (R predict.lm)
])
def test_mean_target_is_the_hand_computation(means):
    sds, ns = [2.0, 2.1, 1.9, 2.0, 2.2], [120, 130, 110, 140, 125]
    d = _series(means, sds, ns)
    r = target_progress(d, target=7.5, target_period="2027/28", value_type="mean")
    row = r.table.iloc[0]
    h = _hand(means, sds, ns, [2021, 2022, 2023, 2024, 2025], 7.5, 2028)
    assert row["gap_pp"] == pytest.approx(h["gap"]) and row["change_needed_pp"] == pytest.approx(h["needed"])
    assert row["trend_pp"] == pytest.approx(h["slope"], rel=1e-10)
    assert row["projected_value"] == pytest.approx(h["projected"], rel=1e-10)
    assert row["projected_low"] == pytest.approx(h["low"], rel=1e-10)
    assert row["projected_high"] == pytest.approx(h["high"], rel=1e-10)
    assert row["dispersion"] == pytest.approx(h["phi"], rel=1e-10)
    assert row["years_left"] == 3 and row["current_value"] == means[-1] and row["current_denominator"] == ns[-1]
    assert pd.isna(row["gap_children"]) and pd.isna(row["children_per_year"])
    assert row["reaches_target"] == (h["projected"] >= 7.5)
    assert row["status"] == ("on track" if h["projected"] >= 7.5 else "not on track at the current rate")
    assert "points a year" in row["words"] and "percentage" not in row["words"] and "children" not in row["words"]


def test_mean_target_statuses_and_direction():
    rising = _series([5.0, 5.6, 6.2, 6.8, 7.4], [2.0] * 5, [400] * 5)
    on = target_progress(rising, target=8.5, target_period=2028, value_type="mean").table.iloc[0]
    assert on["status"] == "on track" and on["trend_pp"] == pytest.approx(0.6)
    assert on["projected_value"] == pytest.approx(7.4 + 3 * 0.6)
    met = target_progress(rising, target=7.0, target_period=2028, value_type="mean").table.iloc[0]
    assert met["status"] == "already met"
    lower = target_progress(rising, target=4.0, target_period=2028, value_type="mean",
                            polarity="lower_is_better").table.iloc[0]
    assert lower["status"] == "not on track at the current rate" and lower["gap_pp"] == pytest.approx(-3.4)
    two = target_progress(rising.iloc[-2:], target=8.5, target_period=2028, value_type="mean").table.iloc[0]
    assert two["status"] == "too few points to say" and pd.isna(two["projected_value"])
    past = target_progress(rising, target=8.0, target_period="2024/25", value_type="mean").table.iloc[0]
    assert past["status"] == "not met"


def test_mean_targets_by_group_and_from_a_framework(tmp_path):
    d = pd.concat([_series([5.0, 5.5, 6.0], [2.0] * 3, [100] * 3).assign(area="A"),
                   _series([7.0, 6.5, 6.0], [2.0] * 3, [100] * 3).assign(area="B")])
    t = target_progress(d, target=7.0, target_period=2026, value_type="mean", by="area").table.set_index("area")
    assert t.loc["A", "trend_pp"] == pytest.approx(0.5) and t.loc["B", "trend_pp"] == pytest.approx(-0.5)
    assert t.loc["A", "status"] == "on track" and t.loc["B", "status"] == "not on track at the current rate"
    # a target above 100 is fine for a mean on its own scale, not for a percentage
    assert target_progress(_series([120, 125, 130], [15] * 3, [50] * 3), target=140, target_period=2026,
                           value_type="mean") is not None
    with pytest.raises(InputError) as e:
        target_progress(_series([120, 125, 130], [15] * 3, [50] * 3).rename(columns={"mean": "numerator",
                                                                                     "n": "denominator"}),
                        target=140, target_period=2026)
    assert e.value.codes == ["bad_target"]
    with pytest.raises(InputError) as e:
        target_progress(d, target=7.0, target_period=2026, value_type="median")
    assert e.value.codes == ["bad_option"]
    with pytest.raises(InputError) as e:
        target_progress(d.drop(columns="sd"), target=7.0, target_period=2026, value_type="mean", by="area")
    assert e.value.codes == ["missing_column"]


def test_over_time_gives_a_mean_indicator_its_declared_target(tmp_path):
    """A framework declaring a target on a mean indicator gets target rows in points from over_time."""
    from conftest import FRAMEWORK_DIR

    from measurekit.design import load_framework
    from measurekit.design.models import Target
    from measurekit.stats.over_time import over_time
    from measurekit.synth.over_time import make_periods

    fw = load_framework(FRAMEWORK_DIR)
    mean_ind = next(i for i in fw.indicators if i.value_type == "mean")
    fw2 = fw.model_copy(update={"targets": [*fw.targets, Target(indicator=mean_ind.id, value=4.5, period="2028")]})
    m = make_periods("2022/23-2024/25", n=300, random_state=11, framework=FRAMEWORK_DIR, truth=False)
    r = over_time(m.cohorts, framework=fw2, indicators=[mean_ind.id], repetitions=1000, n_boot=10)
    t = r.target[r.target["indicator"] == mean_ind.id]
    s = r.series[(r.series["indicator"] == mean_ind.id) & (r.series["period"] == "2024/25")]
    assert len(t) == len(s) > 1
    for row in t.itertuples():
        cur = s[s["area"] == row.area].iloc[0]
        assert row.current_value == pytest.approx(cur["value"]) and row.gap_pp == pytest.approx(4.5 - cur["value"])
        assert row.years_left == 3 and row.change_needed_pp == pytest.approx((4.5 - cur["value"]) / 3)
