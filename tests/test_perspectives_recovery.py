"""Planted truth recovered by stats/perspectives.py: a simulation written here (not the package's generator) with
known divergence in two topics, known extra adviser missingness in one area, known change between reviews, and a
known share of low ratings among people whose routine record says "suitable"."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from measurekit.problems import InputError
from measurekit.stats.perspectives import (
    perspective_agreement,
    perspective_divergence,
    perspective_missingness,
    review_change,
    routine_discordance,
)

TOPICS = ["ta", "tb", "tc", "td", "te"]
SHIFT = {"ta": 0, "tb": 2, "tc": 0, "td": -2, "te": 0}          # self minus adviser, exactly (no clamping)
AREAS = ["north", "south", "east"]
ADVISER_MISSING = {"north": 0.05, "south": 0.05, "east": 0.35}
SELF_MISSING = 0.05
LOW_HOME = {"north": 0.10, "south": 0.40, "east": 0.10}        # among "suitable": share rating te <= 4 (self)
ROUNDS = [1, 2, 3]
SP = ("young", "worker")                                         # perspective values chosen by the caller


def simulate(n=900, seed=7):
    rng = np.random.default_rng(seed)
    people = pd.DataFrame({"pid": [f"y{i:04d}" for i in range(n)], "area": rng.choice(AREAS, n),
                           "sex": rng.choice(["f", "m"], n)})
    # 15% of people have their first review only
    people["last_round"] = np.where(rng.random(n) < 0.15, 1, 3)
    people["suitable"] = (rng.random(n) < 0.7).astype(int)
    rows = []
    for p in people.itertuples():
        base = {t: rng.integers(3, 6) for t in TOPICS}                   # 3..5
        for r in ROUNDS[:p.last_round]:
            for t in TOPICS:
                true = base[t] + (r - 1 if t == "ta" else 0)             # ta improves by 1 point a review
                young = true + SHIFT[t] + 2 + rng.integers(-1, 2)        # +2 keeps td's shift inside 0-10
                worker = true + 2 + rng.integers(-1, 2)
                if t == "te" and p.suitable == 1 and r == p.last_round:  # the home topic, latest review
                    young = rng.integers(0, 5) if rng.random() < LOW_HOME[p.area] else rng.integers(5, 11)
                if rng.random() < SELF_MISSING:
                    young = np.nan
                if rng.random() < ADVISER_MISSING[p.area]:
                    worker = np.nan
                for who, v in (("young", young), ("worker", worker)):
                    rows.append({"pid": p.pid, "review": r, "area": p.area, "sex": p.sex, "who": who, "item": t,
                                 "score": v})
    return pd.DataFrame(rows), people


COLS = dict(id="pid", round="review", perspective="who", topic="item", rating="score")


@pytest.fixture(scope="module")
def sim():
    return simulate()


def test_simulated_ratings_stay_on_the_scale(sim):
    data, _ = sim
    assert data.score.dropna().between(0, 10).all()


def test_divergence_recovers_the_planted_topics(sim):
    data, _ = sim
    before = data.copy()
    res = perspective_divergence(data, perspectives=SP, by=["area", "sex"], review="first",
                                 items=["ta", "tb", "tc", "td"], **COLS)
    pd.testing.assert_frame_equal(data, before)
    f = res.flagged.set_index("name")
    assert set(f.index[f.diverges]) == {"tb", "td"}
    for t in ["ta", "tb", "tc", "td"]:
        assert f.loc[t, "ci_low"] <= SHIFT[t] <= f.loc[t, "ci_high"], t
    rows = res.table[(res.table.by == "area")].set_index(["name", "group"])
    for t in ["tb", "td"]:
        for a in AREAS:
            assert rows.loc[(t, a), "ci_low"] <= SHIFT[t] <= rows.loc[(t, a), "ci_high"]
    # no planted difference between areas: no test rejects after Holm (a topic whose pairs are all within 2
    # points has no chi-square test: NaN)
    assert (res.tests["p_holm"].dropna() > 0.01).all()
    assert res.tests.loc[res.tests.test == "welch_anova", "p_val"].notna().all()
    # share within 2 points: |shift + e1 - e2| <= 2 with e1, e2 uniform on {-1, 0, 1}: 1 for shift 0, 6/9 for 2
    within = {0: 1.0, 2: 6 / 9, -2: 6 / 9}
    allrows = res.table[res.table.by == "all"].set_index("name")
    for t in ["ta", "tb", "tc", "td"]:
        if within[SHIFT[t]] < 1:
            assert allrows.loc[t, "share_ci_low"] <= within[SHIFT[t]] <= allrows.loc[t, "share_ci_high"]
        else:
            assert allrows.loc[t, "share_within"] == 1.0


def test_a_planted_group_difference_is_detected(sim):
    data, _ = sim
    bent = data.copy()
    north = (bent.area == "north") & (bent.item == "tc") & (bent.who == "young")
    bent.loc[north, "score"] = (bent.loc[north, "score"] + 2).clip(upper=10)
    res = perspective_divergence(bent, perspectives=SP, by="area", review="first", items=["tc"], **COLS)
    welch = res.tests[(res.tests.test == "welch_anova")].iloc[0]
    assert welch.p_val < 1e-6
    from statsmodels.stats.oneway import anova_oneway

    first = bent[(bent.review == 1) & (bent.item == "tc")]
    first = first.pivot_table(index=["pid", "area"], columns="who", values="score").dropna().reset_index()
    sm = anova_oneway(first["young"] - first["worker"], groups=first["area"], use_var="unequal")
    assert welch.statistic == pytest.approx(sm.statistic, rel=1e-9)
    assert welch.df2 == pytest.approx(sm.df_denom, rel=1e-9)


def test_missingness_recovers_the_planted_area(sim):
    data, people = sim
    res = perspective_missingness(data, perspectives=SP, by="area", **COLS)
    t = res.table[(res.table.name == "all topics") & (res.table.by == "area")].set_index(["perspective", "group"])
    for a in AREAS:
        assert t.loc[("worker", a), "ci_low"] <= ADVISER_MISSING[a] <= t.loc[("worker", a), "ci_high"]
        assert t.loc[("young", a), "ci_low"] <= SELF_MISSING <= t.loc[("young", a), "ci_high"]
    expected_n = sum(p.last_round for p in people.itertuples()) * len(TOPICS)
    overall = res.table[(res.table.name == "all topics") & (res.table.by == "all")]
    assert set(overall.n_expected) == {expected_n}
    # patterns: both missing = product of the two (independent) probabilities
    pat = res.patterns[(res.patterns.name == "all topics") & (res.patterns.by == "area")].set_index(["group",
                                                                                                      "pattern"])
    for a in AREAS:
        both_missing = SELF_MISSING * ADVISER_MISSING[a]
        row = pat.loc[(a, "neither")]
        assert row.ci_low <= both_missing <= row.ci_high
        only_self = (1 - SELF_MISSING) * ADVISER_MISSING[a]
        assert pat.loc[(a, "first only"), "ci_low"] <= only_self <= pat.loc[(a, "first only"), "ci_high"]
    assert pat.groupby(level="group")["n"].sum().eq(pat.groupby(level="group")["n_expected"].first()).all()
    test = res.tests[(res.tests.name == "all topics")].set_index("perspective")
    assert test.loc["worker", "p_val"] < 1e-6


def test_missingness_counts_reviews_with_no_row_when_told_what_was_expected(sim):
    data, people = sim
    dropped = data[~((data.pid == "y0000") & (data.review == 1))]
    expected = pd.DataFrame([(p.pid, r, p.area) for p in people.itertuples() for r in ROUNDS[:p.last_round]],
                            columns=["pid", "review", "area"])
    a = perspective_missingness(dropped, perspectives=SP, by="area", expected=expected, **COLS).table
    b = perspective_missingness(dropped, perspectives=SP, by="area", **COLS).table
    key = (a.name == "all topics") & (a.by == "all")
    assert a[key].n_expected.iloc[0] == b[key].n_expected.iloc[0] + len(TOPICS)
    assert a[key].n_missing.iloc[0] == b[key].n_missing.iloc[0] + len(TOPICS)


def test_change_recovers_the_planted_trend_and_counts_single_reviews(sim):
    data, _ = sim
    res = review_change(data, perspectives=list(SP), **COLS)
    t = res.table.set_index(["name", "perspective"])
    for who in SP:
        r = res.changes[(res.changes.name == "ta") & (res.changes.perspective == who)]
        truth = (r.to_round - r.from_round).mean()                 # one point per review gap
        assert t.loc[("ta", who), "ci_low"] <= truth <= t.loc[("ta", who), "ci_high"]
        assert t.loc[("tc", who), "ci_low"] <= 0 <= t.loc[("tc", who), "ci_high"]
    # people with one rated review of a topic, counted from the raw data here
    rated = data.dropna(subset=["score"]).groupby(["item", "who", "pid"]).size()
    single = (rated == 1).groupby(level=["item", "who"]).sum()
    people = rated.groupby(level=["item", "who"]).size()
    for (item, who), n1 in single.items():
        assert t.loc[(item, who), "n_single"] == n1
        assert t.loc[(item, who), "n_people"] == people[(item, who)]
        assert t.loc[(item, who), "n_pairs"] == (rated.loc[(item, who)] - 1).sum()
    fl = review_change(data, perspectives=["young"], compare="first_latest", k=1, **COLS).table.set_index("name")
    assert fl.loc["ta", "n_pairs"] == (rated.loc[("ta", "young")] > 1).sum()
    assert fl.loc["ta", "share_improved"] > 0.5 > fl.loc["tc", "share_improved"]


def test_discordance_recovers_the_planted_share_with_its_counts(sim):
    data, people = sim
    routine = people[["pid", "suitable"]].copy()
    res = routine_discordance(data, routine, measure="suitable", value=1, perspective_value="young", by="area",
                              items=["te"], **COLS)
    t = res.table.set_index(["by", "group"])
    for a in AREAS:
        assert t.loc[("area", a), "ci_low"] <= LOW_HOME[a] <= t.loc[("area", a), "ci_high"]
    # counts by hand: latest review, young person's te rating, among suitable
    latest = data[(data.item == "te") & (data.who == "young")].merge(people[["pid", "last_round", "suitable"]])
    latest = latest[(latest.review == latest.last_round) & (latest.suitable == 1)]
    for a in AREAS:
        g = latest[latest.area == a]
        row = t.loc[("area", a)]
        assert row.n_measure == len(g)
        assert row.n_unrated == g.score.isna().sum()
        assert row.denominator == g.score.notna().sum()
        assert row.numerator == (g.score <= 4).sum()
    assert t.loc[("all", "all"), "numerator"] == sum(t.loc[("area", a), "numerator"] for a in AREAS)


def test_agreement_on_repeated_reviews_uses_one_review_per_person_by_default(sim):
    data, people = sim
    latest = perspective_agreement(data, perspectives=SP, items=["tb"], **COLS).table.iloc[0]
    every = perspective_agreement(data, perspectives=SP, items=["tb"], review="all", **COLS).table.iloc[0]
    assert latest.n <= len(people) < every.n
    assert latest.mean_diff == pytest.approx(2, abs=0.15)


def test_group_must_be_one_value_per_review(sim):
    data, _ = sim
    bad = data.copy()
    bad.loc[bad.index[1], "area"] = "elsewhere" if bad.loc[bad.index[0], "area"] != "elsewhere" else "x"
    with pytest.raises(InputError) as e:
        perspective_divergence(bad, perspectives=SP, by="area", **COLS)
    assert e.value.codes == ["group_varies"] and e.value.report.problems[0].column == "area"


def test_routine_with_two_records_for_one_person_is_refused(sim):
    data, people = sim
    routine = pd.concat([people, people.iloc[[3]]], ignore_index=True)
    with pytest.raises(InputError) as e:
        routine_discordance(data, routine, measure="suitable", perspective_value="young", **COLS)
    p = e.value.report.problems[0]
    assert p.code == "duplicate_id" and p.row == len(people) + 2 and p.value == people.pid.iloc[3]


def test_whole_reviews_missing_from_one_perspective_are_counted(sim):
    data, _ = sim
    rng = np.random.default_rng(11)
    east = data[data.area == "east"][["pid", "review"]].drop_duplicates()
    gone = east.iloc[rng.choice(len(east), 40, replace=False)]
    blank = data.merge(gone.assign(_gone=True), how="left", on=["pid", "review"])
    blank.loc[blank._gone.eq(True) & (blank.who == "worker"), "score"] = np.nan
    blank = blank.drop(columns="_gone")
    res = perspective_missingness(blank, perspectives=SP, by="area", **COLS)
    t = res.table[(res.table.name == "whole review") & (res.table.by == "area")].set_index(["perspective", "group"])
    # by hand: reviews where the worker rated nothing
    rated = blank[blank.who == "worker"].groupby(["pid", "review", "area"]).score.count().reset_index()
    for a in AREAS:
        r = rated[rated.area == a]
        assert t.loc[("worker", a), "n_expected"] == len(r)
        assert t.loc[("worker", a), "n_missing"] == (r.score == 0).sum()
    assert t.loc[("worker", "east"), "n_missing"] >= 40
    pat = res.patterns[(res.patterns.name == "whole review") & (res.patterns.by == "all")].set_index("pattern")
    assert pat.n.sum() == pat.n_expected.iloc[0] == len(data[["pid", "review"]].drop_duplicates())


def test_stack_perspectives_with_reviews_and_groups(sim):
    from measurekit.stats.perspectives import stack_perspectives

    data, _ = sim
    tables = {who: g.pivot(index=["pid", "review", "area"], columns="item", values="score").reset_index()
              for who, g in data.groupby("who")}
    long = stack_perspectives(tables, items=TOPICS, id="pid", round="review", keep=["area"], perspective="who",
                              topic="item", rating="score")
    key = ["pid", "review", "who", "item"]
    a = long.sort_values(key).reset_index(drop=True)
    b = data[["pid", "review", "area", "who", "item", "score"]].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[b.columns], b, check_dtype=False)
    with pytest.raises(InputError) as e:
        stack_perspectives(tables, items=[*TOPICS, "tz"], id="pid", round="review")
    assert set(e.value.codes) == {"missing_column"} and e.value.report.problems[0].column == "tz"
