"""Over time for any framework (issue 27): the statistics take their outcome, gap groups and covariates from the
framework's declarations, and a framework that declares its own tables gets multi-year synthetic data.

* ``measurekit synth --framework <care leavers> --years ...`` makes one folder per academic year (review rounds
  inside each, different people each year) with a trend planted in one topic by locality (improving, flat,
  worsening); ``run``, ``over-time`` and ``board-pack`` work on it, and the planted trend comes back: the counts are
  recomputed here from the CSV files and tested for trend with a chi-squared for trend written out in this file.
* A framework that declares no two-group breakdown, no outcome or no target gets no such section, with a note.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FRAMEWORK_DIR, ROOT

from measurekit.cli import main
from measurekit.design import load_framework

CARE = ROOT / "indicators" / "north-yorkshire-care-leavers"


def _recent_years(k: int) -> str:
    """The ``k`` latest academic years whose reviews (1 October and six months later, up to four weeks on) are all
    in the past today, so the data validate whatever day the tests run (ages are checked against today)."""
    today = dt.date.today()
    # the academic year starting in October of `last` has its last reviews in the following April (up to the 28th)
    last = today.year - 1 if today >= dt.date(today.year, 5, 1) else today.year - 2
    first = last - k + 1
    return f"{first}/{(first + 1) % 100:02d}-{last}/{(last + 1) % 100:02d}"


def _chi2_for_trend(k, n, x):
    """Cochran-Armitage chi-squared for trend (R prop.trend.test), written out from its formula, and the sign of
    the slope."""
    k, n, x = (np.asarray(a, float) for a in (k, n, x))
    N, p = n.sum(), k.sum() / n.sum()
    xbar = (n * x).sum() / N
    num = (k * (x - xbar)).sum()
    return num ** 2 / (p * (1 - p) * (n * (x - xbar) ** 2).sum()), np.sign(num)


@pytest.fixture(scope="module")
def care(tmp_path_factory):
    base = tmp_path_factory.mktemp("careyears")
    data = base / "data"
    years = _recent_years(4)
    assert main(["synth", "--framework", str(CARE), "--years", years, "--n", "700", "--seed", "3",
                 "--out", str(data)]) == 0
    out = {"data": data, "run": base / "run", "ot": base / "ot", "pack": base / "pack", "years": years}
    assert main(["run", "--framework", str(CARE), "--data", str(data), "--out", str(out["run"])]) == 0
    assert main(["over-time", "--framework", str(CARE), "--data", str(data), "--out", str(out["ot"])]) == 0
    assert main(["board-pack", "--framework", str(CARE), "--data", str(data), "--out", str(out["pack"])]) == 0
    out["truth"] = json.loads((data / "ground_truth.json").read_text(encoding="utf-8"))
    return out


def _rated_7_or_more_from_csv(data: Path, item: str) -> pd.DataFrame:
    """Per period and locality: people whose latest review by themselves rates ``item`` 7 or more, of those who rated
    it, straight from the files (young_people x voice_young_person, latest round)."""
    rows = []
    for sub in sorted(p for p in data.iterdir() if p.is_dir()):
        people = pd.read_csv(sub / "young_people.csv", dtype=str)
        voice = pd.read_csv(sub / "voice_young_person.csv", dtype=str)
        voice["review_round"] = voice["review_round"].astype(int)
        latest = voice.sort_values(["young_person_id", "review_round"]).groupby("young_person_id").tail(1)
        m = latest.merge(people[["young_person_id", "locality"]], on="young_person_id")
        r = pd.to_numeric(m[item], errors="coerce")
        m = m.assign(k=(r >= 7).astype(int), has=r.notna().astype(int))
        for loc, g in m.groupby("locality"):
            rows.append({"year": int(sub.name[:4]) + 1, "locality": loc, "k": int(g.loc[g["has"] == 1, "k"].sum()),
                         "n": int(g["has"].sum())})
    return pd.DataFrame(rows)


def test_one_folder_per_year_with_rounds_inside_and_different_people(care):
    folders = sorted(p.name for p in care["data"].iterdir() if p.is_dir())
    assert len(folders) == 4 and all(len(f) == 7 and f[4] == "-" for f in folders)
    ids = set()
    for f in folders:
        people = pd.read_csv(care["data"] / f / "young_people.csv", dtype=str)["young_person_id"]
        assert not ids & set(people) and len(people) == 700
        ids |= set(people)
        voice = pd.read_csv(care["data"] / f / "voice_young_person.csv", dtype=str)
        start = int(f[:4])
        days = pd.to_datetime(voice["reviewed_on"])
        assert days.min() >= pd.Timestamp(start, 9, 1) and days.max() <= pd.Timestamp(start + 1, 8, 31)
        assert voice["review_round"].astype(int).nunique() >= 2
    plan = care["truth"]["plan"]
    assert plan["item"] == "your_home" and "home_rated_7_or_more" in plan["indicators"]
    assert care["truth"]["periods"] == [f"{int(f[:4])}/{f[5:]}" for f in folders]


def test_the_planted_topic_trend_is_recovered_by_locality(care):
    plan = care["truth"]["plan"]
    mine = _rated_7_or_more_from_csv(care["data"], plan["item"])
    series = pd.read_csv(care["run"] / "internal/over_time/series.csv")
    ind = series[(series["indicator"] == "home_rated_7_or_more") & (series["geography"] == "area")]
    for row in mine.itertuples():       # the run's counts are those of the files
        got = ind[(ind["area"] == row.locality) & (ind["period"].str[:4].astype(int) + 1 == row.year)]
        assert (int(got["numerator"].iloc[0]), int(got["denominator"].iloc[0])) == (row.k, row.n)
    crit = 9.5495      # chi-squared on 1 df at 99.8%, Fingertips' level
    for role, locality in plan["roles"].items():
        g = mine[mine["locality"] == locality].sort_values("year")
        chi2, sign = _chi2_for_trend(g["k"], g["n"], g["year"])
        if role == "improving":
            assert chi2 > crit and sign > 0, (locality, chi2)
        elif role == "worsening":
            assert chi2 > crit and sign < 0, (locality, chi2)
        else:
            assert chi2 < crit, (locality, chi2)
    # four points: Fingertips' marker needs five, so it is "could not be calculated" with the reason, not a guess
    trend = pd.read_csv(care["run"] / "internal/over_time/trend.csv")
    t = trend[trend["indicator"] == "home_rated_7_or_more"]
    assert (t["marker"] == "Could not be calculated").all() and t["reason"].str.contains("5|five").all()
    # the change from the first to the last year has the planted sign in the run's own change table
    ch = pd.read_csv(care["run"] / "internal/over_time/change.csv")
    ch = ch[(ch["indicator"] == "home_rated_7_or_more") & (ch["geography"] == "area")]
    total = ch.groupby("area")["change"].sum()
    assert total[plan["roles"]["improving"]] > 10 and total[plan["roles"]["worsening"]] < -10


def test_over_time_of_run_is_over_time_and_the_pack_is_board_pack(care):
    for f in sorted((care["ot"]).glob("*.csv")):
        assert (care["run"] / "internal/over_time" / f.name).read_bytes() == f.read_bytes(), f.name
    mine, theirs = care["run"] / "shareable/board_pack", care["pack"]
    for f in ("board_table.csv", "over_time/series.csv", "over_time/trend.csv", "datapackage.json"):
        assert (mine / f).read_bytes() == (theirs / f).read_bytes(), f
    pub = pd.read_csv(theirs / "over_time/series.csv")
    pub = pub[(pub["indicator_id"] == "home_rated_7_or_more")].sort_values("period")
    roles = care["truth"]["plan"]["roles"]
    up = pub[pub["geography_name"] == roles["improving"]]["value"].to_numpy()
    down = pub[pub["geography_name"] == roles["worsening"]]["value"].to_numpy()
    assert up[-1] - up[0] > 10 and down[-1] - down[0] < -10      # published (rounded, protected) numbers too


def test_no_gap_no_outcome_no_target_declared_means_no_such_section(care):
    """The care-leaver framework declares no two-group breakdown, no outcome and no target: empty tables and notes."""
    from measurekit.data.periods import read_periods
    from measurekit.stats.over_time import over_time

    fw = load_framework(CARE)
    r = over_time(read_periods(care["data"], framework=fw), framework=fw, repetitions=1000, n_boot=10)
    assert r.gap.empty and r.gap_trend.empty and r.target.empty and r.followup.empty
    assert r.followup_added_value.empty and r.inequality.empty
    text = " ".join(r.warnings)
    assert "no gap between groups" in text and "no follow-up" in text and "no slope index" in text
    assert {"home_rated_7_or_more", "young_person_rating_coverage"} <= set(r.series["indicator"])


@pytest.fixture(scope="module")
def small_school(tmp_path_factory):
    from measurekit.data.periods import read_periods
    from measurekit.synth.over_time import make_periods, write_periods

    out = tmp_path_factory.mktemp("school") / "data"
    write_periods(make_periods("2021/22-2025/26", n=400, random_state=7, framework=FRAMEWORK_DIR, truth=False), out)
    return read_periods(out, framework=FRAMEWORK_DIR)


def test_declarations_drive_gap_followup_and_target(small_school):
    """Take the declarations away one by one: each section goes, nothing fails; rename the outcome's column and the
    follow-up follows it."""
    from measurekit.stats.over_time import over_time

    fw = load_framework(FRAMEWORK_DIR)
    full = over_time(small_school, framework=fw, repetitions=1000, n_boot=10)
    two_groups = {b.id for b in fw.group_breakdowns if len(b.values) == 2}
    assert set(full.gap["breakdown"]) == two_groups and len(full.target) and len(full.followup)
    _added_value_is_about(full, fw.analysis.outcomes[0].column)
    _followup_counts(full, small_school, fw.analysis.outcomes[0].column)

    bare = fw.model_copy(update={
        "breakdowns": [b for b in fw.breakdowns if b.area],
        "analysis": fw.analysis.model_copy(update={"outcomes": []}),
        "targets": []})
    r = over_time(small_school, framework=bare, repetitions=1000, n_boot=10)
    assert r.gap.empty and r.target.empty and r.followup.empty and r.followup_added_value.empty
    assert len(r.series) == len(full.series) and r.trend["marker"].tolist() == full.trend["marker"].tolist()

    # the follow-up outcome is the first declared one the data hold, with its own covariates
    o = fw.analysis.outcomes[0]
    later = fw.analysis.outcomes[1]
    swapped = fw.model_copy(update={"analysis": fw.analysis.model_copy(update={
        "outcomes": [later.model_copy(update={"covariates": ["fsm", "eal"], "given": []}), o]})})
    r2 = over_time(small_school, framework=swapped, repetitions=1000, n_boot=10, indicators=[full.series["indicator"]
                                                                                        .iloc[0]])
    _added_value_is_about(r2, later.column)
    _followup_counts(r2, small_school, later.column)      # the follow-up counts the later outcome


def _added_value_is_about(result, column):
    """The added value among flagged children was estimated for ``column``, or refused naming it (too few events)."""
    av = result.followup_added_value
    if len(av):
        assert set(av["outcome"]) == {column}
    else:
        assert any("not estimated" in w and repr(column) in w for w in result.warnings), result.warnings


def _followup_counts(result, periods, column):
    """Each period's follow-up counts at LA level, recomputed from the analysis frames: ``column`` = 1 among
    children flagged (below the ASQ-3 cut-off in any domain) and not flagged."""
    per = result.followup[(result.followup["period"] != "all") & (result.followup["geography"] == "la")]
    assert len(per) == 2 * len(periods.labels)
    for row in per.itertuples():
        f = periods.cohorts[row.period].analysis_frame()
        zones = [c for c in f.columns if c.startswith("asq_") and c.endswith("_zone")]
        reviewed = f[zones].notna().any(axis=1)
        flagged = (f[zones] == "below").any(axis=1)
        mask = reviewed & f[column].notna() & (flagged == (row.group == "flagged at two"))
        assert (row.numerator, row.denominator) == (int((f.loc[mask, column] == 1).sum()), int(mask.sum()))


def test_gap_for_every_two_group_breakdown_is_second_minus_first(small_school):
    from measurekit.stats.over_time import over_time

    fw = load_framework(FRAMEWORK_DIR)
    r = over_time(small_school, framework=fw, indicators=["gld"], repetitions=1000, n_boot=10)
    lab = small_school.labels[-1]
    f = small_school.cohorts[lab].analysis_frame()
    for b in fw.group_breakdowns:
        if len(b.values) != 2:
            continue
        first, second = b.values[0].value, b.values[1].value
        g = pd.to_numeric(f["gld"], errors="coerce")
        grp = f[b.id].astype(str).str.replace(r"\.0$", "", regex=True)
        want = 100 * (g[grp == second].mean() - g[grp == first].mean())
        got = r.gap[(r.gap["breakdown"] == b.id) & (r.gap["geography"] == "la") & (r.gap["period"] == lab)]
        assert got["gap"].iloc[0] == pytest.approx(want, abs=1e-9), b.id


def test_means_are_followed_with_their_own_statistics(small_school):
    """A mean indicator's series: mean, sd and a t interval recomputed here; its trend uses the weighted regression."""
    from scipy import stats

    from measurekit.stats.over_time import over_time

    fw = load_framework(FRAMEWORK_DIR)
    means = [i.id for i in fw.indicators if i.value_type == "mean"]
    assert means
    r = over_time(small_school, framework=fw, indicators=means, repetitions=1000, n_boot=10)
    s = r.series[r.series["geography"] == "la"]
    assert (s["value_type"] == "mean").all() and s["numerator"].isna().all()
    ind = fw.indicators[[i.id for i in fw.indicators].index(means[0])]
    from measurekit.stats.scoring import score

    for row in s[s["indicator"] == means[0]].itertuples():
        f = small_school.cohorts[row.period].analysis_frame()
        resp = f[f["responded"] == 1]
        v = score(resp, framework=fw)[ind.compute.field].dropna()
        half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
        assert (row.denominator, row.value, row.sd) == (len(v), pytest.approx(v.mean()), pytest.approx(v.std(ddof=1)))
        assert row.ci_low == pytest.approx(v.mean() - half) and row.ci_high == pytest.approx(v.mean() + half)
    assert set(r.trend["indicator"]) == {means[0]} and r.funnel.empty and r.gap.empty


def test_synth_years_refuses_what_it_cannot_make(tmp_path):
    from measurekit.problems import InputError
    from measurekit.synth.over_time import make_declared_periods

    for bad in ({"years": "2024/25-2022/23"}, {"n": 10}, {"item": "no_such_topic"}):
        kw = {"years": "2022/23-2023/24", "n": 100, **bad}
        with pytest.raises(InputError) as e:
            make_declared_periods(kw.pop("years"), framework=CARE, **kw)
        assert e.value.codes == ["bad_option"]
    assert main(["synth", "--framework", str(CARE), "--years", "2022/23-2023/24", "--identifiers",
                 "--out", str(tmp_path / "x")]) == 1


def test_same_seed_same_bytes_and_single_year_unchanged(tmp_path):
    from measurekit.synth.declared import make_declared_cohort, write_declared_cohort
    from measurekit.synth.over_time import make_declared_periods, write_declared_periods

    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        write_declared_periods(make_declared_periods("2022/23-2023/24", n=120, random_state=4, framework=CARE), out)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    # the single-year generator without the period options: the same tables as with them at their defaults
    one = make_declared_cohort(150, 9, framework=CARE)
    same = make_declared_cohort(150, 9, framework=CARE, first_review=None, rounds=None, id_start=1, shift=None)
    for name in one.tables:
        pd.testing.assert_frame_equal(one.tables[name], same.tables[name])
    write_declared_cohort(one, tmp_path / "one")
    assert "period_shift" not in json.loads((tmp_path / "one" / "ground_truth.json").read_text(encoding="utf-8"))
