"""Progress towards a target (issue 27, stats/target.py): the arithmetic the test does itself, the declared
GLD target of the bundled framework, no target -> None, recovery and interval coverage of a planted linear
trend on simulated series, and errors."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from measurekit.core import paths
from measurekit.design import load_framework
from measurekit.problems import CATALOGUE, InputError
from measurekit.stats.target import target_progress

YEARS = ["2021/22", "2022/23", "2023/24", "2024/25", "2025/26"]


def series(k, n, periods=YEARS, **extra):
    return pd.DataFrame({"period": periods[: len(k)], "numerator": k, "denominator": n, **extra})


def test_gap_arithmetic_equals_the_tests_own():
    data = series([1300, 1330, 1350, 1390, 1411], [2000, 2010, 1990, 2005, 2003])
    row = target_progress(data, target=75, target_period=2028).table.iloc[0]
    # the test's own arithmetic: 1411 of 2003 now; 75% of 2003 is 1502.25, so 1503 children are needed
    assert row["current_value"] == pytest.approx(100 * 1411 / 2003)
    assert row["gap_pp"] == pytest.approx(75 - 100 * 1411 / 2003)
    assert row["gap_children"] == 1503 - 1411 == 92
    assert row["years_left"] == 2                                   # 2025/26 -> 2027/28, the EYFSP of summer 2028
    assert row["children_per_year"] == pytest.approx(92 / 2)
    assert row["change_needed_pp"] == pytest.approx((75 - 100 * 1411 / 2003) / 2)


def test_exact_percent_needs_no_extra_child_and_lower_is_better_rounds_down():
    data = series([140, 145, 150], [200, 200, 200], periods=[2022, 2023, 2024])
    assert target_progress(data, target=75, target_period=2026).table.iloc[0]["gap_children"] == 0
    low = series([60, 55, 50], [200, 200, 200], periods=[2022, 2023, 2024])
    row = target_progress(low, target=20.2, target_period=2027, polarity="lower_is_better").table.iloc[0]
    # at most 20.2% of 200 = 40.4, so at most 40 children: 10 fewer than the 50 now
    assert row["gap_children"] == 40 - 50
    assert row["years_left"] == 3


def test_declared_target_of_the_bundled_framework_and_none_without_one():
    fw = load_framework(paths.BUNDLED_FRAMEWORK)
    declared = [t for t in fw.targets if t.indicator == "gld"]
    assert len(declared) == 1 and declared[0].value == 75 and declared[0].source
    data = series([1300, 1330, 1350, 1390, 1410], [2000] * 5)
    res = target_progress(data, framework=fw, indicator="gld")
    assert res is not None and res.source == declared[0].source
    assert res.table.iloc[0]["target_value"] == 75
    # no target: nothing, not an error
    assert target_progress(data, framework=fw.model_copy(update={"targets": []}), indicator="gld") is None
    assert target_progress(data, framework=fw, indicator="an_indicator_without_target") is None
    assert target_progress(data) is None


def test_projection_matches_weighted_least_squares():
    import statsmodels.api as sm

    k = np.array([1300, 1330, 1352, 1390, 1410])
    n = np.array([2000, 1990, 2010, 2005, 2000])
    x = np.array([2022, 2023, 2024, 2025, 2026], dtype=float)
    row = target_progress(series(k, n), target=75, target_period="2027/28").table.iloc[0]
    fit = sm.WLS(k / n, sm.add_constant(x), weights=n).fit()
    assert row["trend_pp"] == pytest.approx(100 * fit.params[1], rel=1e-9)
    assert row["projected_value"] == pytest.approx(100 * (fit.params[0] + fit.params[1] * 2028), rel=1e-9)
    assert row["projected_low"] < row["projected_value"] < row["projected_high"]


def test_planted_linear_trend_is_recovered_and_the_interval_covers_it():
    rng = np.random.default_rng(2027)
    x = np.arange(5)
    truth_at_target = 0.62 + 0.015 * 7                              # target period 7 years after the first
    covered, projections = 0, []
    for _ in range(300):
        n = rng.integers(1500, 2500, size=5)
        k = rng.binomial(n, 0.62 + 0.015 * x)
        res = target_progress(series(k, n, periods=[2020 + i for i in x]), target=75, target_period=2027,
                              level=0.9)
        row = res.table.iloc[0]
        # the prediction interval is for the published value in the target year: draw it
        actual = rng.binomial(n[-1], truth_at_target) / n[-1] * 100
        covered += row["projected_low"] <= actual <= row["projected_high"]
        projections.append(row["projected_value"])
    assert np.mean(projections) == pytest.approx(100 * truth_at_target, abs=0.3)
    assert 0.84 <= covered / 300 <= 0.97


@pytest.mark.parametrize("k, status", [
    ([1300, 1340, 1380, 1420, 1460], "on track"),                 # +2 points a year reaches 75% by 2027/28
    ([1400, 1398, 1402, 1400, 1401], "not on track at the current rate"),
    ([1500, 1520, 1530, 1540, 1550], "already met"),
])
def test_status_words(k, status):
    row = target_progress(series(k, [2000] * 5), target=75, target_period="2027/28").table.iloc[0]
    assert row["status"] == status
    assert row["words"].lower().startswith(status.split(" at")[0])


def test_too_few_points_gives_the_gap_without_a_projection():
    row = target_progress(series([1400, 1410], [2000, 2000]), target=75, target_period=2028).table.iloc[0]
    assert row["status"] == "too few points to say"
    assert np.isnan(row["projected_value"]) and row["gap_children"] == 1500 - 1410
    assert row["words"].startswith("Too few points to say")


def test_by_group_and_input_untouched():
    data = pd.concat([series([1300, 1340, 1380, 1420, 1460], [2000] * 5, area="A"),
                      series([700, 700, 701, 699, 700], [1000] * 5, area="B")], ignore_index=True)
    before = data.copy()
    res = target_progress(data, target=75, target_period=2028, by="area").table.set_index("area")
    pd.testing.assert_frame_equal(data, before)
    assert res.loc["A", "status"] == "on track" and res.loc["B", "status"] == "not on track at the current rate"
    assert res.loc["B", "gap_children"] == 750 - 700


@pytest.mark.parametrize("kwargs, code", [
    ({"target": 150, "target_period": 2028}, "bad_target"),
    ({"target": "most", "target_period": 2028}, "bad_target"),
    ({"target": 75, "target_period": "soon"}, "bad_target"),
    ({"target": 75}, "bad_target"),
    ({"target": 75, "target_period": 2028, "polarity": "no_judgement"}, "bad_option"),
    ({"target": 75, "target_period": 2028, "min_points": 2}, "bad_option"),
])
def test_mistakes_are_input_errors(kwargs, code):
    with pytest.raises(InputError) as exc:
        target_progress(series([1, 2, 3], [10, 10, 10]), **kwargs)
    assert exc.value.codes == [code] and code in CATALOGUE


def test_a_fraction_target_is_warned_about():
    res = target_progress(series([1, 2, 3], [10, 10, 10]), target=0.75, target_period=2028)
    assert any("75 for 75%" in w for w in res.warnings)
    assert math.isclose(res.table.iloc[0]["target_value"], 0.75)


def test_latest_data_at_or_after_the_target_period_say_met_or_not_met():
    data = series([1300, 1340, 1380], [2000] * 3, periods=["2025/26", "2026/27", "2027/28"])
    row = target_progress(data, target=75, target_period=2028).table.iloc[0]
    assert row["years_left"] == 0 and row["status"] == "not met"
    assert row["words"].startswith("Not met: 69.0% in 2027/28 (the target period)")
    assert np.isnan(row["children_per_year"]) and row["gap_children"] == 1500 - 1380
    met = target_progress(data, target=65, target_period="2026/27").table.iloc[0]
    assert met["years_left"] == -1 and met["status"] == "met"


def test_framework_folder_and_a_target_without_direction():
    data = series([1300, 1330, 1350, 1390, 1410], [2000] * 5)
    by_folder = target_progress(data, framework=paths.BUNDLED_FRAMEWORK, indicator="gld")
    assert by_folder is not None and by_folder.table.iloc[0]["target_value"] == 75
    fw = load_framework(paths.BUNDLED_FRAMEWORK)
    gld = next(i for i in fw.indicators if i.id == "gld")
    odd = fw.model_copy(update={"indicators": [gld.model_copy(update={"polarity": "no_judgement"})]})
    with pytest.raises(InputError) as exc:
        target_progress(data, framework=odd, indicator="gld")
    assert exc.value.codes == ["bad_target"]
