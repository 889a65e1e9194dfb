"""Agreement between two perspectives (stats/perspectives.py, stats/agreement.py kernels) checked against stored R
output (tests/fixtures/r/rater_agreement.R: psych::ICC, psych::cohen.kappa), pingouin, sklearn, statsmodels, and
hand computations written here without the package's help."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from measurekit.problems import CATALOGUE, InputError
from measurekit.stats.perspectives import perspective_agreement, stack_perspectives

R = Path(__file__).parent / "fixtures" / "r"
DOMAINS = {"d1": ["t1", "t2"], "d2": ["t2", "t3"]}


@pytest.fixture(scope="module")
def wide():
    return pd.read_csv(R / "rater_pairs.csv")


@pytest.fixture(scope="module")
def long(wide):
    return wide.melt(id_vars=["person_id", "topic", "area"], value_vars=["self", "adviser"],
                     var_name="perspective", value_name="rating")


@pytest.fixture(scope="module")
def result(long):
    return perspective_agreement(long, perspectives=("self", "adviser"), domains=DOMAINS)


@pytest.mark.r_fixture
def test_icc_all_six_rows_match_psych(result):
    ref = pd.read_csv(R / "rater_agreement_icc.csv")
    got = result.icc.merge(ref, on=["level", "name", "type"], suffixes=("", "_r"))
    assert len(got) == len(ref) == 5 * 6                 # three topics and two domains, six forms each
    for mine, theirs in [("estimate", "ICC"), ("F", "F_r"), ("df1", "df1_r"), ("df2", "df2_r"),
                         ("ci_low", "lower"), ("ci_high", "upper"), ("n", "n_r")]:
        np.testing.assert_allclose(got[mine], got[theirs], atol=1e-6, rtol=0, err_msg=mine)
    np.testing.assert_allclose(got["p_val"], got["p"], rtol=1e-6, atol=1e-300)
    t = result.table.set_index("name")
    for r in ref.itertuples():                            # the wide table carries the same numbers
        assert t.loc[r.name, r.type.lower()] == pytest.approx(r.ICC, abs=1e-6)
        assert t.loc[r.name, f"{r.type.lower()}_ci_low"] == pytest.approx(r.lower, abs=1e-6)


@pytest.mark.r_fixture
def test_weighted_kappa_matches_psych_linear_and_quadratic(result):
    ref = pd.read_csv(R / "rater_agreement_kappa.csv")
    t = result.table.set_index("name")
    for r in ref.itertuples():
        assert t.loc[r.name, f"kappa_{r.weights}"] == pytest.approx(r.weighted_kappa, abs=1e-6)
        assert t.loc[r.name, "n"] == r.n
    assert t.loc[["d1", "d2"], "kappa_quadratic"].isna().all()   # domain means are not categories


@pytest.mark.r_fixture
def test_divergence_by_group_matches_r(long):
    from measurekit.stats.perspectives import perspective_divergence

    ref = pd.read_csv(R / "rater_divergence.csv")
    res = perspective_divergence(long, perspectives=("self", "adviser"), by="area")
    got = res.table[res.table.by == "area"].merge(ref, on=["name", "group"], suffixes=("", "_r"))
    assert len(got) == len(ref) == 9
    for col in ("n", "mean_diff", "ci_low", "ci_high", "n_within", "share_ci_low", "share_ci_high"):
        np.testing.assert_allclose(got[col], got[f"{col}_r"], atol=1e-9, err_msg=col)
    tests = res.tests.set_index(["name", "test"])
    for r in ref.drop_duplicates("name").itertuples():
        w, c = tests.loc[(r.name, "welch_anova")], tests.loc[(r.name, "chisq_within")]
        assert (w.statistic, w.df1, w.df2, w.p_val) == pytest.approx((r.welch_f, r.welch_df1, r.welch_df2, r.welch_p),
                                                                      rel=1e-9)
        assert (c.statistic, c.df1, c.p_val) == pytest.approx((r.chisq, r.chisq_df, r.chisq_p), rel=1e-9)


def test_kappa_and_its_standard_error_against_sklearn_and_statsmodels(wide, result):
    from sklearn.metrics import cohen_kappa_score
    from statsmodels.stats.inter_rater import cohens_kappa

    t = result.table.set_index("name")
    for topic in ("t1", "t2", "t3"):
        x = wide[wide.topic == topic].dropna(subset=["self", "adviser"])
        a, b = x["self"].astype(int), x["adviser"].astype(int)
        table = pd.crosstab(pd.Categorical(a, categories=range(11)), pd.Categorical(b, categories=range(11)),
                            dropna=False).to_numpy()
        for w in ("linear", "quadratic"):
            assert t.loc[topic, f"kappa_{w}"] == pytest.approx(
                cohen_kappa_score(a, b, labels=list(range(11)), weights=w), abs=1e-9)
            sm = cohens_kappa(table, wt=w)
            assert t.loc[topic, f"kappa_{w}"] == pytest.approx(sm.kappa, abs=1e-9)
            assert t.loc[topic, f"kappa_{w}_se"] == pytest.approx(sm.std_kappa, rel=1e-9)
            z = stats.norm.ppf(0.975)
            assert t.loc[topic, f"kappa_{w}_ci_low"] == pytest.approx(sm.kappa - z * sm.std_kappa, abs=1e-9)


def test_icc_cross_checked_with_pingouin(long, result):
    import pingouin as pg

    for topic in ("t1", "t2", "t3"):
        x = long[long.topic == topic].pivot(index="person_id", columns="perspective", values="rating").dropna()
        stacked = x.reset_index().melt(id_vars="person_id", var_name="rater", value_name="score")
        pg_tab = pg.intraclass_corr(stacked, targets="person_id", raters="rater", ratings="score")
        # pingouin's rows, in order: ICC1 ICC2 ICC3 ICC1k ICC2k ICC3k (named ICC(1,1), ICC(A,1), ICC(C,1) ... in 0.7)
        pg_tab.index = ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
        ci = "CI95" if "CI95" in pg_tab else "CI95%"
        mine = result.icc[result.icc.name == topic].set_index("type")
        for kind in pg_tab.index:
            assert mine.loc[kind, "estimate"] == pytest.approx(pg_tab.loc[kind, "ICC"], abs=1e-9)
            assert mine.loc[kind, "F"] == pytest.approx(pg_tab.loc[kind, "F"], rel=1e-9)
            assert mine.loc[kind, "p_val"] == pytest.approx(pg_tab.loc[kind, "pval"], rel=1e-6)
            low, high = pg_tab.loc[kind, ci]            # pingouin rounds its interval to 2 decimals
            assert mine.loc[kind, "ci_low"] == pytest.approx(low, abs=0.005 + 1e-9)
            assert mine.loc[kind, "ci_high"] == pytest.approx(high, abs=0.005 + 1e-9)


def test_bland_altman_and_share_within_by_hand(wide, result):
    t = result.table.set_index("name")
    for topic in ("t1", "t2", "t3"):
        x = wide[wide.topic == topic].dropna(subset=["self", "adviser"])
        d = (x["self"] - x["adviser"]).to_list()
        n = len(d)
        mean = sum(d) / n
        sd = (sum((v - mean) ** 2 for v in d) / (n - 1)) ** 0.5
        tq = stats.t.ppf(0.975, n - 1)
        assert t.loc[topic, "mean_diff"] == pytest.approx(mean, abs=1e-12)
        assert t.loc[topic, "mean_diff_ci_high"] == pytest.approx(mean + tq * sd / n ** 0.5, abs=1e-9)
        assert t.loc[topic, "loa_low"] == pytest.approx(mean - 1.96 * sd, abs=1e-9)
        assert t.loc[topic, "loa_high"] == pytest.approx(mean + 1.96 * sd, abs=1e-9)
        # Bland and Altman (1999): var(limit) = s^2/n + 1.96^2 s^2 / (2(n-1)), about 3 s^2 / n
        se = (sd ** 2 / n + 1.96 ** 2 * sd ** 2 / (2 * (n - 1))) ** 0.5
        assert se == pytest.approx((3 * sd ** 2 / n) ** 0.5, rel=0.02)
        assert t.loc[topic, "loa_high_ci_low"] == pytest.approx(mean + 1.96 * sd - tq * se, abs=1e-9)
        assert t.loc[topic, "loa_low_ci_high"] == pytest.approx(mean - 1.96 * sd + tq * se, abs=1e-9)
        hits = sum(abs(v) <= 2 for v in d)
        assert t.loc[topic, "n_within"] == hits
        p, z = hits / n, 1.959963984540054
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5 / (1 + z * z / n)
        assert t.loc[topic, "share_within_ci_low"] == pytest.approx(centre - half, abs=1e-9)
        assert t.loc[topic, "share_within_ci_high"] == pytest.approx(centre + half, abs=1e-9)


def test_domain_score_is_mean_of_its_topics_and_a_topic_counts_in_each_domain(wide, result):
    w = wide.set_index(["person_id", "topic"])[["self", "adviser"]].unstack("topic")
    for dom, ts in DOMAINS.items():
        s = w["self"][ts].mean(axis=1, skipna=False)
        a = w["adviser"][ts].mean(axis=1, skipna=False)
        ok = s.notna() & a.notna()
        row = result.table.set_index("name").loc[dom]
        assert row["level"] == "domain" and row["n"] == ok.sum()
        assert row["mean_first"] == pytest.approx(s[ok].mean(), abs=1e-12)
        assert row["mean_diff"] == pytest.approx((s - a)[ok].mean(), abs=1e-12)


def test_within_k_is_inclusive_and_k_is_an_option(long):
    r1 = perspective_agreement(long, perspectives=("self", "adviser"), k=0).table.set_index("name")
    r3 = perspective_agreement(long, perspectives=("self", "adviser"), k=3).table.set_index("name")
    assert (r1["share_within"] < r3["share_within"]).all()


def test_stack_perspectives_round_trips_wide_tables(wide, long):
    tables = {p: wide.pivot(index="person_id", columns="topic", values=p).reset_index() for p in ("self", "adviser")}
    before = {p: t.copy() for p, t in tables.items()}
    stacked = stack_perspectives(tables, items=["t1", "t2", "t3"])
    for p in tables:
        pd.testing.assert_frame_equal(tables[p], before[p])
    a = perspective_agreement(stacked, perspectives=("self", "adviser")).table
    b = perspective_agreement(long, perspectives=("self", "adviser")).table
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_order_of_perspectives_sets_the_sign(long):
    a = perspective_agreement(long, perspectives=("self", "adviser")).table.set_index("name")
    b = perspective_agreement(long, perspectives=("adviser", "self")).table.set_index("name")
    np.testing.assert_allclose(a["mean_diff"], -b["mean_diff"])
    np.testing.assert_allclose(a["icc2"], b["icc2"])


def test_too_few_pairs_gives_a_row_and_a_warning(long):
    few = long[long.person_id.isin(sorted(long.person_id.unique())[:6])]
    r = perspective_agreement(few, perspectives=("self", "adviser"))
    assert r.table["icc2"].isna().all() if "icc2" in r.table else True
    assert len(r.warnings) == 3 and all("not estimated" in w for w in r.warnings)


def test_new_codes_are_catalogued():
    for code in ("perspectives_required", "unknown_perspective", "group_varies", "duplicate_rating"):
        assert code in CATALOGUE


@pytest.mark.parametrize("change, code, column", [
    (lambda d: d.assign(rating=d.rating.where(d.index != 5, 11)), "out_of_range", "rating"),
    (lambda d: d.assign(rating=d.rating.astype(object).where(d.index != 7, "seven")), "wrong_type", "rating"),
    (lambda d: d.drop(columns="topic"), "missing_column", "topic"),
    (lambda d: pd.concat([d, d.iloc[[0]]], ignore_index=True), "duplicate_rating", "rating"),
])
def test_user_mistakes_are_input_errors_with_where(long, change, code, column):
    bad = change(long.dropna().reset_index(drop=True))
    with pytest.raises(InputError) as e:
        perspective_agreement(bad, perspectives=("self", "adviser"))
    p = e.value.report.problems[0]
    assert p.code == code and p.column == column and p.rule
    if code in ("out_of_range", "wrong_type"):
        assert p.row == {"out_of_range": 5, "wrong_type": 7}[code] + 2 and p.value in ("11", "seven")


def test_perspectives_must_be_named_and_present(long):
    with pytest.raises(InputError) as e:
        perspective_agreement(long, perspectives=None)
    assert e.value.codes == ["perspectives_required"]
    with pytest.raises(InputError) as e:
        perspective_agreement(long, perspectives=("self", "Adviser"))
    assert e.value.codes == ["unknown_perspective"] and e.value.report.problems[0].value == "Adviser"
    with pytest.raises(InputError) as e:
        perspective_agreement(long, perspectives=("self", "adviser"), domains={"d": ["t1", "t9"]})
    assert e.value.codes == ["unknown_item"]


def test_inputs_are_not_modified(long):
    before = long.copy()
    perspective_agreement(long, perspectives=("self", "adviser"), domains=DOMAINS)
    pd.testing.assert_frame_equal(long, before)


def _two_reviews(long):
    """The fixture data as two reviews: the second adds 1 to every self rating of the first (capped at 10)."""
    first = long.assign(review="2025-03")
    second = long.assign(review="2025-09",
                         rating=np.where(long.perspective == "self", np.minimum(long.rating + 1, 10), long.rating))
    return pd.concat([first, second], ignore_index=True)


def test_review_choice_with_text_rounds(long):
    both = _two_reviews(long)
    base = perspective_agreement(long, perspectives=("self", "adviser")).table.set_index("name")
    first = perspective_agreement(both, perspectives=("self", "adviser"), round="review",
                                  review="2025-03").table.set_index("name")
    latest = perspective_agreement(both, perspectives=("self", "adviser"), round="review").table.set_index("name")
    np.testing.assert_allclose(first["icc2"], base["icc2"])
    assert (latest["mean_first"] > first["mean_first"]).all()
    with pytest.raises(InputError) as e:
        perspective_agreement(both, perspectives=("self", "adviser"), round="review", review="2026-03")
    assert e.value.codes == ["bad_option"]


def test_change_between_text_rounds_by_hand(long):
    from measurekit.stats.perspectives import review_change

    both = _two_reviews(long)
    res = review_change(both, perspectives=["self", "adviser"], round="review", k=1).table
    t = res.set_index(["name", "perspective"])
    for topic in ("t1", "t2", "t3"):
        s = long[(long.topic == topic) & (long.perspective == "self")].rating.dropna()
        assert t.loc[(topic, "self"), "n_pairs"] == len(s)
        assert t.loc[(topic, "self"), "mean_change"] == pytest.approx((np.minimum(s + 1, 10) - s).mean())
        assert t.loc[(topic, "self"), "n_improved"] == (s < 10).sum()
        assert t.loc[(topic, "adviser"), "mean_change"] == 0 and t.loc[(topic, "adviser"), "n_worse"] == 0
        assert t.loc[(topic, "self"), "n_single"] == 0


def test_divergence_of_a_domain_is_the_mean_of_its_topic_differences(wide, long):
    from measurekit.stats.perspectives import perspective_divergence

    res = perspective_divergence(long, perspectives=("self", "adviser"), domains=DOMAINS)
    row = res.table[(res.table.name == "d2") & (res.table.by == "all")].iloc[0]
    w = wide.set_index(["person_id", "topic"])[["self", "adviser"]].unstack("topic")
    d = (w["self"][["t2", "t3"]].mean(axis=1, skipna=False) - w["adviser"][["t2", "t3"]].mean(axis=1, skipna=False))
    assert row["n"] == d.notna().sum() and row["mean_diff"] == pytest.approx(d.mean(), abs=1e-12)
    assert res.flagged.set_index("name").loc["t2", "diverges"]          # t2 was simulated with self 1.5 higher


def test_routine_record_per_review(long):
    from measurekit.stats.perspectives import routine_discordance

    both = _two_reviews(long)
    ids = sorted(long.person_id.unique())
    routine = pd.DataFrame({"person_id": ids * 2, "review": ["2025-03"] * len(ids) + ["2025-09"] * len(ids),
                            "flag": [1] * len(ids) + [0] * len(ids)})
    before = routine.copy()
    res = routine_discordance(both, routine, measure="flag", perspective_value="self", round="review", items=["t1"])
    pd.testing.assert_frame_equal(routine, before)
    assert res.table.empty and "numerator" in res.table and res.warnings   # the latest records say 0 for everyone
    res = routine_discordance(both, routine, measure="flag", perspective_value="self", round="review",
                              items=["t1"], review="2025-03").table.iloc[0]
    s = long[(long.topic == "t1") & (long.perspective == "self")].rating
    assert res.n_measure == len(s) and res.denominator == s.notna().sum() and res.numerator == (s <= 4).sum()


def test_framework_supplies_scale_dont_know_code_and_domains(long):
    fw = {"d1": {"items": ["t1", "t2"], "min": 0, "max": 10, "dont_know": 99},
          "d2": {"items": ["t3", "t4"], "min": 0, "max": 10}}           # t4 is never rated: d2 left out, noted
    coded = long.assign(rating=long.rating.fillna(99))                  # blanks written as the don't-know code
    r = perspective_agreement(coded, perspectives=("self", "adviser"), framework=fw)
    plain = perspective_agreement(long, perspectives=("self", "adviser"), domains={"d1": ["t1", "t2"]})
    pd.testing.assert_frame_equal(r.table, plain.table)
    assert any("d2" in w and "t4" in w for w in r.warnings)
    with pytest.raises(InputError) as e:                                # without the framework 99 is off the scale
        perspective_agreement(coded, perspectives=("self", "adviser"))
    assert e.value.codes[0] == "out_of_range"
    with pytest.raises(InputError) as e:
        perspective_agreement(long, perspectives=("self", "adviser"), framework={"d": ["x1", "x2"]})
    assert e.value.codes == ["no_items"]


@pytest.mark.parametrize("option", [{"alpha": 1.5}, {"k": -1}, {"min_pairs": 1}, {"min_topics": 0}, {"k": "two"}])
def test_unusable_options_are_refused(long, option):
    with pytest.raises(InputError) as e:
        perspective_agreement(long, perspectives=("self", "adviser"), **option)
    p = e.value.report.problems[0]
    assert e.value.codes == ["bad_option"] and p.column == next(iter(option)) and p.rule


def test_names_that_would_clash_inside_are_refused(long):
    # a data column named "level" is fine while the analysis does not read it
    perspective_agreement(long.rename(columns={"area": "level"}), perspectives=("self", "adviser"))
    from measurekit.stats.perspectives import perspective_divergence

    with pytest.raises(InputError) as e:
        perspective_divergence(long.rename(columns={"area": "level"}), perspectives=("self", "adviser"), by="level")
    assert e.value.codes == ["bad_option"] and e.value.report.problems[0].value == "level"
    blank = long.assign(review=1).astype({"review": "float"})
    blank.loc[3, "review"] = np.nan
    with pytest.raises(InputError) as e:
        perspective_agreement(blank, perspectives=("self", "adviser"), round="review")
    assert e.value.codes == ["missing_value"] and e.value.report.problems[0].row == 5
