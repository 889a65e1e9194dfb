"""Several periods in one data folder, the multi-year synthetic cohort and the over-time tables (issue 27).

The multi-year cohort plants a GLD trend per area (improving, flat, worsening), an FSM gap that narrows in one
area and widens in another, a boundary change and the ASQ-3 at two of each reception child. The tests read the
written folder through the one reader, compute the tables with ``stats.over_time`` and check that what was planted
comes back: the markers by area, the gaps' directions, the boundary change in the validation report, the
follow-up shares against the population values of the generating model (ground_truth.json). Counts and the
chi-squared for trend are recomputed here from the CSV files, independently of the package.
"""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FRAMEWORK_DIR

from measurekit.data.periods import read_periods, validate_periods
from measurekit.data.validation import validate_dir
from measurekit.problems import CATALOGUE, InputError
from measurekit.stats.over_time import LA, over_time, write_over_time
from measurekit.synth.over_time import make_periods, parse_years, write_periods

PERIOD_CODES = ["period_folder", "period_bad_name", "period_duplicate", "period_gap", "period_missing_file",
                "period_child_overlap",
                "period_eyfsp_twice", "period_boundary_change"]


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    """The default multi-year cohort (5 years x 3,000 children), written, read back and tabulated."""
    out = tmp_path_factory.mktemp("multi") / "data"
    result = make_periods("2021/22-2025/26", n=3000, random_state=1, framework=FRAMEWORK_DIR)
    write_periods(result, out)
    periods = read_periods(out, framework=FRAMEWORK_DIR)
    tables = over_time(periods, framework=FRAMEWORK_DIR, repetitions=2000, n_boot=30, random_state=3)
    return {"folder": out, "periods": periods, "tables": tables,
            "truth": json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))}


def test_every_period_code_is_catalogued():
    for code in PERIOD_CODES:
        assert code in CATALOGUE


def test_folder_has_one_subfolder_per_year_and_validates(multi):
    names = sorted(p.name for p in multi["folder"].iterdir() if p.is_dir())
    assert names == ["2021-22", "2022-23", "2023-24", "2024-25", "2025-26"]
    report = validate_dir(multi["folder"], framework=FRAMEWORK_DIR)
    assert report.ok, report.to_text(limit=10)
    assert multi["periods"].labels == ["2021/22", "2022/23", "2023/24", "2024/25", "2025/26"]


def _chi2_for_trend(k, n, x):
    """Cochran-Armitage chi-squared for trend (R prop.trend.test), written out from its formula."""
    k, n, x = (np.asarray(a, float) for a in (k, n, x))
    N, p = n.sum(), k.sum() / n.sum()
    xbar = (n * x).sum() / N
    return ((k * (x - xbar)).sum()) ** 2 / (p * (1 - p) * (n * (x - xbar) ** 2).sum())


def _gld_counts_from_csv(folder: Path, area_name: str | None):
    """GLD numerator and denominator per period, read straight from the CSV files (children x eyfsp)."""
    out = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        ch = pd.read_csv(sub / "children.csv", dtype=str)
        ey = pd.read_csv(sub / "eyfsp.csv", dtype=str)
        m = ey.merge(ch[["child_id", "neighbourhood"]], on="child_id")
        if area_name is not None:
            m = m[m["neighbourhood"] == area_name]
        g = pd.to_numeric(m["gld"], errors="coerce").dropna()
        out.append((int(sub.name[:4]) + 1, int((g == 1).sum()), int(len(g))))
    return out


def test_planted_trends_are_recovered_as_markers(multi):
    roles = multi["truth"]["plan"]["roles"]
    trend = multi["tables"].trend
    gld = trend[(trend["indicator"] == "gld") & (trend["geography"] == "area")].set_index("area")
    assert gld.loc[roles["improving"], "marker"] == "Increasing and getting better"
    assert gld.loc[roles["flat"], "marker"] == "No significant change"
    assert gld.loc[roles["worsening"], "marker"] == "Decreasing and getting worse"
    # the planted direction is the population's (ground truth), not only the plan's words
    pop = [multi["truth"]["by_period"][p]["population"]["gld_percent"] for p in multi["truth"]["periods"]]
    assert pop[-1][roles["improving"]] - pop[0][roles["improving"]] > 10
    assert abs(pop[-1][roles["flat"]] - pop[0][roles["flat"]]) < 2
    assert pop[-1][roles["worsening"]] - pop[0][roles["worsening"]] < -10


def test_trend_chi2_agrees_with_an_independent_computation(multi):
    trend = multi["tables"].trend
    for area in [None, *multi["truth"]["plan"]["roles"].values()]:
        rows = _gld_counts_from_csv(multi["folder"], area)
        x, k, n = zip(*rows)
        want = _chi2_for_trend(k, n, x)
        got = trend[(trend["indicator"] == "gld") & (trend["area"] == (area or LA))]
        assert len(got) == 1
        assert got["chi2"].iloc[0] == pytest.approx(want, rel=1e-9)
    series = multi["tables"].series
    la = series[(series["indicator"] == "gld") & (series["geography"] == "la")]
    assert la["numerator"].tolist() == [k for _, k, _ in _gld_counts_from_csv(multi["folder"], None)]


def test_fsm_gap_narrowing_and_widening_are_recovered(multi):
    roles = multi["truth"]["plan"]["roles"]
    gt = multi["tables"].gap_trend
    assert set(gt["breakdown"]) >= {"fsm", "eal"}      # every breakdown the framework declares with two groups
    gt = gt[(gt["indicator"] == "gld") & (gt["geography"] == "area") & (gt["breakdown"] == "fsm")].set_index("area")
    assert gt.loc[roles["gap_narrowing"], "direction"] == "narrowing"
    assert gt.loc[roles["gap_widening"], "direction"] == "widening"
    assert gt.loc[roles["flat"], "direction"] == "no significant change"
    # the population gap really moves that way in the generating model
    first, last = multi["truth"]["periods"][0], multi["truth"]["periods"][-1]
    pop = multi["truth"]["by_period"]
    assert abs(pop[last]["population"]["fsm_gap_pp"][roles["gap_narrowing"]]) < \
        abs(pop[first]["population"]["fsm_gap_pp"][roles["gap_narrowing"]]) - 15
    assert abs(pop[last]["population"]["fsm_gap_pp"][roles["gap_widening"]]) > \
        abs(pop[first]["population"]["fsm_gap_pp"][roles["gap_widening"]]) + 15
    # the gap itself, recomputed from the files for the latest period
    sub = multi["folder"] / "2025-26"
    ch = pd.read_csv(sub / "children.csv", dtype=str)
    m = pd.read_csv(sub / "eyfsp.csv", dtype=str).merge(ch, on="child_id")
    m = m[m["neighbourhood"] == roles["gap_widening"]]
    g = pd.to_numeric(m["gld"], errors="coerce")
    want = 100 * (g[m["fsm"] == "1"].mean() - g[m["fsm"] == "0"].mean())
    gap = multi["tables"].gap
    got = gap[(gap["indicator"] == "gld") & (gap["area"] == roles["gap_widening"]) & (gap["period"] == "2025/26")
              & (gap["breakdown"] == "fsm")]
    assert len(got) == 1
    assert got["gap"].iloc[0] == pytest.approx(want, abs=1e-9)


def test_boundary_change_is_reported_not_refused(multi):
    report = multi["periods"].report
    changes = [p for p in report if p.code == "period_boundary_change"]
    planted = multi["truth"]["expected"]["boundary_change"]
    assert planted["small_areas"] and changes
    assert all(p.severity == "warning" for p in changes)
    assert report.ok
    folder = planted["period"].replace("/", "-")
    lookup = pd.read_csv(multi["folder"] / folder / "small_areas.csv", dtype=str)
    reported = set()
    for p in changes:
        assert p.file == f"{folder}/small_areas.csv" and p.column == "neighbourhood" and p.rule
        reported.add(lookup["small_area"].iloc[p.row - 2])
        assert " -> " in p.value
    assert reported == set(planted["small_areas"])


def _flagged_counts_from_csv(sub: Path):
    """GLD among children below the ASQ-3 cut-off in any domain and among the others, per area, from the files."""
    ch = pd.read_csv(sub / "children.csv", dtype=str)
    asq = pd.read_csv(sub / "asq.csv", dtype=str)
    ey = pd.read_csv(sub / "eyfsp.csv", dtype=str)
    zones = [c for c in asq.columns if c.endswith("_zone")]
    asq["flag"] = (asq[zones] == "below").any(axis=1)
    m = asq[["child_id", "flag"]].merge(ey[["child_id", "gld"]], on="child_id").merge(
        ch[["child_id", "neighbourhood"]], on="child_id")
    m["gld"] = pd.to_numeric(m["gld"], errors="coerce")
    m = m.dropna(subset=["gld"])
    return m.groupby(["neighbourhood", "flag"])["gld"].agg(["sum", "count"])


def test_followup_shares_cover_the_planted_values(multi):
    fu = multi["tables"].followup
    truth = multi["truth"]["by_period"]
    covered, cells = 0, 0
    for period, entry in truth.items():
        pop = entry["population"]
        for row in fu[(fu["period"] == period)].itertuples():
            key = "gld_flagged_percent" if row.group == "flagged at two" else "gld_unflagged_percent"
            want = pop[key]["LA" if row.area == LA else row.area]
            cells += 1
            covered += row.ci_low <= want <= row.ci_high
    assert cells == 5 * 2 * 6
    assert covered / cells >= 0.85          # 95% intervals: about 57 of 60 expected
    # the flagged children reach GLD far less often than the others, in every period
    la = fu[(fu["geography"] == "la") & (fu["period"] != "all")].pivot(index="period", columns="group", values="value")
    assert (la["not flagged"] - la["flagged at two"] > 30).all()
    # counts recomputed from the files for one period
    want = _flagged_counts_from_csv(multi["folder"] / "2024-25")
    got = fu[(fu["period"] == "2024/25") & (fu["geography"] == "area")]
    for row in got.itertuples():
        w = want.loc[(row.area, row.group == "flagged at two")]
        assert (row.numerator, row.denominator) == (int(w["sum"]), int(w["count"]))


def test_followup_gap_flagged_against_not_flagged(multi):
    fu = multi["tables"].followup.set_index(["period", "area", "group"])["value"]
    fg = multi["tables"].followup_gap
    assert len(fg) == 5 * 6
    for r in fg.itertuples():
        want = fu[(r.period, r.area, "flagged at two")] - fu[(r.period, r.area, "not flagged")]
        assert r.gap == pytest.approx(want, abs=1e-9)
        assert r.ci_low < r.gap < r.ci_high
    assert (fg["ci_high"] < 0).mean() > 0.9      # flagged children reach GLD less often, almost everywhere


def test_followup_added_value_among_flagged_children(multi):
    av = multi["tables"].followup_added_value
    assert set(av["measure"]) >= {"lr_chisq", "auc", "nri_total"}
    n = av["n_children"].iloc[0]
    fu = multi["tables"].followup
    flagged_all = fu[(fu["period"] == "all") & (fu["geography"] == "la") & (fu["group"] == "flagged at two")]
    assert 0 < n <= flagged_all["denominator"].iloc[0]     # responders among the flagged, complete cases


def test_target_gap_in_children_is_the_arithmetic(multi):
    target = multi["tables"].target
    la = target[(target["indicator"] == "gld") & (target["geography"] == "la")].iloc[0]
    series = multi["tables"].series
    last = series[(series["indicator"] == "gld") & (series["geography"] == "la") & (series["period"] == "2025/26")]
    k, n = int(last["numerator"].iloc[0]), int(last["denominator"].iloc[0])
    assert la["gap_children"] == math.ceil(0.75 * n - 1e-9) - k
    assert la["gap_pp"] == pytest.approx(75 - 100 * k / n)
    assert set(target["area"]) == {LA, *multi["truth"]["plan"]["roles"].values()}


def test_inequality_by_deprivation_decile_each_period(multi):
    ineq = multi["tables"].inequality
    gld = ineq[ineq["indicator"] == "gld"]
    assert list(gld["period"]) == multi["periods"].labels
    assert (gld["sii"] > 0).all() and (gld["sii_lower"] < gld["sii"]).all() and (gld["sii"] < gld["sii_upper"]).all()
    assert (gld["quantiles"] == 10).all()
    assert len(multi["tables"].inequality_trend)


def test_funnel_of_the_latest_period(multi):
    fn = multi["tables"].funnel
    gld = fn[fn["indicator"] == "gld"].set_index("area")
    roles = multi["truth"]["plan"]["roles"]
    assert set(gld["period"]) == {"2025/26"} and len(gld) == 5
    # the improving area ends highest, the widening-gap area lowest: outside the unadjusted 99.8% limits
    assert gld.loc[roles["improving"], "outside_99_8"] == "above"


def test_write_over_time_writes_every_table(multi, tmp_path):
    files = write_over_time(multi["tables"], tmp_path / "ot")
    for name in ("series", "trend", "change", "target", "inequality", "gap", "gap_trend", "funnel", "followup"):
        assert files[name].exists()
        back = pd.read_csv(files[name])
        assert len(back) == len(getattr(multi["tables"], name))
    assert "INTERNAL" in (tmp_path / "ot" / "README.md").read_text(encoding="utf-8")


# ---- validation of a multi-period folder: every cross-period problem raises its code ----

@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("small") / "data"
    write_periods(make_periods("2021/22-2023/24", n=120, random_state=5, framework=FRAMEWORK_DIR, truth=False), out)
    return out


def _copy(small, tmp_path) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(small, dst)
    return dst


def _codes(folder):
    return {p.code for p in validate_periods(folder, framework=FRAMEWORK_DIR)}


def test_small_folder_is_valid(small):
    report = validate_periods(small, framework=FRAMEWORK_DIR)
    assert report.ok, report.to_text(limit=10)


def _append_row(src: Path, dst: Path, child: str):
    a = pd.read_csv(src, dtype=str, keep_default_na=False)
    b = pd.read_csv(dst, dtype=str, keep_default_na=False)
    pd.concat([b, a[a["child_id"] == child]], ignore_index=True).to_csv(dst, index=False)


def test_child_in_two_reception_years(small, tmp_path):
    d = _copy(small, tmp_path)
    child = pd.read_csv(d / "2021-22" / "eyfsp.csv", dtype=str)["child_id"].iloc[0]
    for f in ("children.csv", "eyfsp.csv"):
        _append_row(d / "2021-22" / f, d / "2022-23" / f, child)
    report = validate_periods(d, framework=FRAMEWORK_DIR)
    twice = [p for p in report if p.code == "period_eyfsp_twice"]
    assert len(twice) == 1 and twice[0].value == child and twice[0].file == "2022-23/eyfsp.csv"
    n_rows = len(pd.read_csv(d / "2022-23" / "eyfsp.csv"))
    assert twice[0].row == n_rows + 1 and twice[0].column == "child_id" and twice[0].rule
    assert "period_child_overlap" in report.codes() and not report.ok
    with pytest.raises(InputError) as e:
        read_periods(d, framework=FRAMEWORK_DIR)
    assert "period_eyfsp_twice" in e.value.codes


def test_overlapping_children_between_periods(small, tmp_path):
    d = _copy(small, tmp_path)
    child = pd.read_csv(d / "2022-23" / "children.csv", dtype=str)["child_id"].iloc[3]
    _append_row(d / "2022-23" / "children.csv", d / "2023-24" / "children.csv", child)
    codes = _codes(d)
    assert "period_child_overlap" in codes and "period_eyfsp_twice" not in codes


def test_period_missing_a_file(small, tmp_path):
    d = _copy(small, tmp_path)
    (d / "2022-23" / "later_outcome.csv").unlink()
    report = validate_periods(d, framework=FRAMEWORK_DIR)
    p = [p for p in report if p.code == "period_missing_file"]
    assert len(p) == 1 and p[0].file.startswith("2022-23/") and p[0].value == "later_outcome" and not report.ok


def test_periods_not_in_sequence(small, tmp_path):
    d = _copy(small, tmp_path)
    shutil.rmtree(d / "2022-23")
    report = validate_periods(d, framework=FRAMEWORK_DIR)
    gap = [p for p in report if p.code == "period_gap"]
    assert len(gap) == 1 and gap[0].value == "2022/23" and gap[0].severity == "warning"


def test_bad_and_duplicate_period_folders(small, tmp_path):
    d = _copy(small, tmp_path)
    shutil.copytree(d / "2021-22", d / "202122")
    shutil.copytree(d / "2021-22", d / "old extract")
    report = validate_periods(d, framework=FRAMEWORK_DIR)
    assert {"period_duplicate", "period_bad_name"} <= report.codes() and not report.ok
    bad = next(p for p in report if p.code == "period_bad_name")
    assert bad.value == "old extract" and bad.rule


def test_cli_validate_accepts_a_multi_period_folder(small, tmp_path, capsys):
    from measurekit.cli import main

    assert main(["validate", str(small), "--framework", str(FRAMEWORK_DIR)]) == 0
    d = _copy(small, tmp_path)
    (d / "2023-24" / "later_outcome.csv").unlink()
    assert main(["validate", str(d), "--framework", str(FRAMEWORK_DIR)]) == 1
    assert "period_missing_file" in capsys.readouterr().out


def test_cli_synth_years_and_over_time(tmp_path, capsys):
    from measurekit.cli import main

    data, out = tmp_path / "data", tmp_path / "ot"
    assert main(["synth", "--framework", str(FRAMEWORK_DIR), "--years", "2023/24-2025/26", "--n", "200",
                 "--seed", "4", "--out", str(data)]) == 0
    assert sorted(p.name for p in data.iterdir() if p.is_dir()) == ["2023-24", "2024-25", "2025-26"]
    assert main(["over-time", "--framework", str(FRAMEWORK_DIR), "--data", str(data), "--out", str(out)]) == 0
    series = pd.read_csv(out / "series.csv")
    assert set(series["period"]) == {"2023/24", "2024/25", "2025/26"}
    assert (out / "followup.csv").exists() and (out / "trend.csv").exists()
    assert main(["synth", "--framework", str(FRAMEWORK_DIR), "--years", "2025/26-2023/24",
                 "--out", str(tmp_path / "x")]) == 1


def test_same_seed_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        write_periods(make_periods("2024/25-2025/26", n=80, random_state=9, framework=FRAMEWORK_DIR, truth=False), out)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_parse_years():
    assert parse_years("2021/22-2025/26") == [2021, 2022, 2023, 2024, 2025]
    for bad in ("2021-2025", "2021/23-2025/26", "2025/26-2021/22", "x"):
        with pytest.raises(InputError) as e:
            parse_years(bad)
        assert e.value.codes == ["bad_option"]


def test_one_year_reader_refuses_a_folder_of_years_clearly(small):
    from measurekit.data import read_dir

    with pytest.raises(InputError) as e:
        read_dir(small, framework=FRAMEWORK_DIR)
    assert e.value.codes == ["period_folder"]
    cohort = read_dir(small / "2022-23", framework=FRAMEWORK_DIR)     # one year's folder reads as before
    assert len(cohort.tables["children"]) == 120


def test_sii_by_the_lookups_imd_decile():
    """An IMD decile in the small-area lookup is joined to the children by small area and used for the SII."""
    m = make_periods("2024/25-2025/26", n=1500, random_state=2, framework=FRAMEWORK_DIR, truth=False)
    cohorts = {}
    for label, c in m.cohorts.items():
        lk = c.tables["small_areas"].copy()
        lk["imd_decile"] = np.arange(len(lk)) % 10 + 1          # 1..10 by row: a decile for every small area
        cohorts[label] = type(c)({**c.tables, "small_areas": lk}, framework=c.framework)
    ot = over_time(cohorts, framework=FRAMEWORK_DIR, indicators=["gld"], repetitions=1000, n_boot=10)
    for label, c in cohorts.items():
        ch, ey, lk = c.tables["children"], c.tables["eyfsp"], c.tables["small_areas"]
        decile = ch["small_area"].map(dict(zip(lk["small_area"], lk["imd_decile"])))
        has_gld = ch["child_id"].isin(ey.loc[ey["gld"].notna(), "child_id"])
        row = ot.inequality[ot.inequality["period"] == label].iloc[0]
        assert row["population"] == int((has_gld & decile.notna()).sum())
        assert row["quantiles"] == 10 and row["quantile_kind"] == "decile"
