"""CFA and measurement invariance against lavaan (tests/fixtures/r/lavaan.R) and on the synthetic cohort."""
import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.problems import InputError

HS_MODEL = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"
BFI_MODEL = "agree =~ A2 + A3 + A4 + A5\n consc =~ C1 + C2 + C3 + C4"
FIT = {"chisq": "chisq", "df": "df", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "rmsea_ci_low": "rmsea.ci.lower",
       "rmsea_ci_high": "rmsea.ci.upper", "srmr": "srmr", "aic": "aic", "bic": "bic", "loglik": "logl"}


@pytest.fixture(scope="module")
def hs(fixtures_dir):
    return pd.read_csv(fixtures_dir / "r" / "holzinger.csv")


@pytest.fixture(scope="module")
def bfi(fixtures_dir):
    cols = ["A2", "A3", "A4", "A5", "C1", "C2", "C3", "C4", "gender"]
    return pd.read_csv(fixtures_dir / "r" / "bfi.csv")[cols].dropna()


@pytest.mark.r_fixture
@pytest.mark.parametrize("name,model", [("hs", HS_MODEL), ("bfi", BFI_MODEL)])
def test_single_group_fit_matches_lavaan(name, model, hs, bfi, fixtures_dir):
    data = hs if name == "hs" else bfi
    ref = pd.read_csv(fixtures_dir / "r" / f"lavaan_{name}_fit.csv").iloc[0]
    fit = mk.cfa(data, model).fit.iloc[0]
    for ours, theirs in FIT.items():
        assert fit[ours] == pytest.approx(ref[theirs], rel=1e-3), ours
    assert fit["n"] == ref["ntotal"]


@pytest.mark.r_fixture
def test_loadings_se_and_standardised_solution_match_lavaan(hs, fixtures_dir):
    ref = pd.read_csv(fixtures_dir / "r" / "lavaan_hs_estimates.csv")
    est = mk.cfa(hs, HS_MODEL).estimates
    for op in ("=~", "~~"):
        r = ref[ref.op == op].set_index(["lhs", "rhs"])
        e = est[est.op == op].copy()
        # lavaan writes factor covariances as lhs ~~ rhs in model order; compare either orientation
        e["key"] = list(zip(e.lhs, e.rhs))
        e = e.set_index("key")
        for (lhs, rhs), row in r.iterrows():
            ours = e.loc[[(lhs, rhs)]] if (lhs, rhs) in e.index else e.loc[[(rhs, lhs)]]
            assert ours["est"].iloc[0] == pytest.approx(row["est"], rel=1e-3, abs=1e-6), (lhs, op, rhs)
            assert ours["se"].iloc[0] == pytest.approx(row["se"], rel=1e-3, abs=1e-6), (lhs, op, rhs)
            assert ours["std_all"].iloc[0] == pytest.approx(row["std.all"], rel=1e-3, abs=1e-6), (lhs, op, rhs)


@pytest.mark.r_fixture
@pytest.mark.parametrize("name,model,group", [("hs_school", HS_MODEL, "school"), ("bfi_gender", BFI_MODEL, "gender")])
def test_invariance_sequence_matches_lavaan(name, model, group, hs, bfi, fixtures_dir):
    data = hs if name.startswith("hs") else bfi
    ref = pd.read_csv(fixtures_dir / "r" / f"lavaan_{name}_invariance.csv").set_index("level")
    inv = mk.invariance(data, model, group)
    t = inv.table.set_index("level")
    for level in ("configural", "metric", "scalar", "strict"):
        for col in ("chisq", "df", "cfi", "rmsea", "tli", "srmr", "bic"):
            assert t.loc[level, col] == pytest.approx(ref.loc[level, col], rel=1e-3), (level, col)
    assert t.loc["metric", "delta_df"] == ref.loc["metric", "df"] - ref.loc["configural", "df"]
    assert all(isinstance(v, str) and v for v in t["verdict"])


def _voice(cohort, analysis_frame):
    from measurekit.stats.scoring import item_values

    resp = analysis_frame[analysis_frame.responded == 1]
    v = item_values(resp, framework=cohort.framework)
    v["fsm"] = resp["fsm"]
    v["language"] = resp["home_language"].eq("English").map({True: "English", False: "other"})
    return v


VOICE_MODEL = "hl =~ hl1 + hl2 + hl3 + hl4\nwb =~ wb1 + wb2 + wb3 + wb4\nsv =~ sv1 + sv2 + sv3 + sv4\ncc =~ cc1 + cc2 + cc3 + cc4"


def test_invariance_across_fsm_holds_where_nothing_was_planted(cohort, analysis_frame):
    inv = mk.invariance(_voice(cohort, analysis_frame), VOICE_MODEL, "fsm", levels=("configural", "metric", "scalar"))
    t = inv.table.set_index("level")
    assert t.loc["metric", "delta_cfi"] >= -0.01 and t.loc["metric", "delta_rmsea"] <= 0.015
    assert "holds" in t.loc["metric", "verdict"]
    assert any("treated as continuous" in w for w in inv.warnings)


def test_partial_invariance_points_at_the_planted_item(cohort, analysis_frame):
    inv = mk.invariance(_voice(cohort, analysis_frame), VOICE_MODEL, "language", levels=("configural", "metric", "scalar"))
    ranking = inv.partial(level="scalar")
    assert ranking["item"].iloc[0] == cohort.ground_truth["dif"]["item"]
    released = inv.partial(["sv4"], level="scalar")
    full = inv.table.set_index("level").loc["scalar", "cfi"]
    assert released["cfi"].iloc[1] > full


def test_clear_errors(hs):
    with pytest.raises(InputError, match="x99"):
        mk.cfa(hs, "f =~ x1 + x2 + x99")
    with pytest.raises(InputError, match="not identified"):
        mk.cfa(hs, "f =~ x1 + x2")
    small = hs.copy()
    small.loc[small.index[:295], "school"] = "A"
    small.loc[small.index[295:], "school"] = "B"
    with pytest.raises(InputError, match="fewer than"):
        mk.cfa(small, HS_MODEL, group="school")
    with pytest.raises(InputError):
        mk.cfa(hs, "f ~ x1")


def test_improper_solution_is_flagged():
    """r12 = r13 = .8, r23 = .5 imply a standardised loading of sqrt(.8 * .8 / .5) > 1 for item a."""
    R = np.array([[1, .8, .8], [.8, 1, .5], [.8, .5, 1]])
    rng = np.random.default_rng(0)
    z = rng.normal(size=(500, 3))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False, bias=True))).T
    d = pd.DataFrame(z @ np.linalg.cholesky(R).T, columns=["a", "b", "c"])
    fit = mk.cfa(d, "f =~ a + b + c")
    assert not fit.admissible and not fit.fit["admissible"].iloc[0]
    assert any("Improper" in w for w in fit.warnings)
    theta_a = fit.estimates.query("op == '~~' and lhs == 'a' and rhs == 'a'")["est"].iloc[0]
    assert theta_a < 0


def _ml_problem(hs, model, group, equal):
    from measurekit.stats.sem import ml as C
    from measurekit.stats.sem.sample import ml_sample
    from measurekit.stats.sem.spec import build
    from measurekit.stats.sem.syntax import parse_model

    m = parse_model(model)
    sample = ml_sample(hs, m, group)
    return C, build(m, sample.groups, group is not None, set(equal), ()), sample.moments


@pytest.mark.parametrize("group,equal", [(None, ()), ("school", ("loadings", "intercepts"))])
def test_observed_information_is_the_hessian_of_the_objective(hs, group, equal):
    """The analytic observed information (Newton steps) against central differences of the analytic
    gradient, away from the optimum; the model has a cross-loading and a residual covariance."""
    model = "visual =~ x1 + x2 + x3 + x9\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9\n x1 ~~ x4"
    C, spec, d = _ml_problem(hs, model, group, equal)
    from measurekit.stats.sem.spec import start

    theta = start(spec, d.S, d.M) + 0.05 * np.random.default_rng(3).standard_normal(spec.n_free)
    k, h = spec.n_free, 1e-6
    numeric = np.column_stack([(C.objective(theta + h * e, spec, d)[1] - C.objective(theta - h * e, spec, d)[1]) / (2 * h)
                               for e in np.eye(k)])
    analytic = 2 * C.information(spec, theta, d, observed=True) / d.N.sum()
    np.testing.assert_allclose(analytic, numeric, atol=1e-6 * np.abs(numeric).max())


def test_ml_fit_reaches_the_optimum_and_does_not_depend_on_the_start(hs):
    """Newton steps at the end leave a gradient at rounding level; a warm start (the invariance
    sequence's) and the default start reach the same estimates."""
    from measurekit.stats.sem.sample import ml_sample
    from measurekit.stats.sem.spec import start
    from measurekit.stats.sem.syntax import parse_model

    C, spec, d = _ml_problem(hs, HS_MODEL, "school", ("loadings",))
    theta, f, grad, ok = C.fisher_scoring(spec, start(spec, d.S, d.M), d)
    assert ok and np.max(np.abs(grad)) < 1e-12
    configural = mk.cfa(hs, HS_MODEL, group="school")
    cold = mk.cfa(hs, HS_MODEL, group="school", equal=("loadings",))
    warm = C.fit_ml(ml_sample(hs, parse_model(HS_MODEL), "school"), ("loadings",), (), configural._solution)
    np.testing.assert_allclose(warm.estimates["est"], cold.estimates["est"], atol=1e-10)
    assert warm.fit["chisq"].iloc[0] == pytest.approx(cold.fit["chisq"].iloc[0], rel=1e-12)


# --------------------------------------------------------------------------- held-out: tests/fixtures/r/lavaan_sem.R
PD_MODEL = """ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8"""


@pytest.fixture(scope="module")
def political_democracy(fixtures_dir):
    return pd.read_csv(fixtures_dir / "r" / "political_democracy.csv")


def _compare_estimates(ours, ref_file, n_expected):
    ref = pd.read_csv(ref_file).fillna({"rhs": ""})
    merged = ref.merge(ours, on=["lhs", "op", "rhs"], suffixes=("_r", ""), how="left")
    assert merged["est"].notna().all(), merged[merged["est"].isna()][["lhs", "op", "rhs"]]
    assert len(merged) == len(ref) == n_expected
    np.testing.assert_allclose(merged["est"], merged["est_r"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(merged["std_all"], merged["std.all"], rtol=1e-3, atol=1e-6)
    return merged


@pytest.mark.r_fixture
def test_residual_covariances_and_their_std_all_match_lavaan(political_democracy, fixtures_dir):
    """lavaan's tutorial measurement model with six residual covariances, 'y2 ~~ y4 + y6' read as two;
    std.all of a residual covariance is over the residual SDs (y1 ~~ y5: 0.296)."""
    fit = mk.cfa(political_democracy, PD_MODEL)
    ref = pd.read_csv(fixtures_dir / "r" / "lavaan_sem_pd_fit.csv").iloc[0]
    f = fit.fit.iloc[0]
    for ours, theirs in FIT.items():
        assert f[ours] == pytest.approx(ref[theirs], rel=1e-3), ours
    assert f["df"] == ref["df"] == 35
    merged = _compare_estimates(fit.estimates, fixtures_dir / "r" / "lavaan_sem_pd_estimates.csv", 34)
    rc = merged[(merged.op == "~~") & (merged.lhs != merged.rhs) & merged.lhs.str.startswith("y")]
    assert len(rc) == 6
    y15 = rc[(rc.lhs == "y1") & (rc.rhs == "y5")].iloc[0]
    assert y15["std_all"] == pytest.approx(0.2958, abs=1e-3)


def test_residual_covariance_std_all_is_the_residual_correlation(political_democracy):
    """Written independently of the code: std_all of a ~~ b equals theta_ab / sqrt(theta_aa theta_bb)
    from the same table's estimates, and differs from theta_ab over the total SDs."""
    est = mk.cfa(political_democracy, PD_MODEL).estimates.set_index(["lhs", "op", "rhs"])
    for a, b in [("y1", "y5"), ("y2", "y4"), ("y2", "y6"), ("y3", "y7"), ("y4", "y8"), ("y6", "y8")]:
        cov = est.loc[(a, "~~", b), "est"]
        va, vb = est.loc[(a, "~~", a), "est"], est.loc[(b, "~~", b), "est"]
        assert est.loc[(a, "~~", b), "std_all"] == pytest.approx(cov / np.sqrt(va * vb), rel=1e-10)
        total = political_democracy[[a, b]].var(ddof=0)
        assert abs(est.loc[(a, "~~", b), "std_all"] - cov / np.sqrt(total[a] * total[b])) > 0.01


def test_model_syntax_reads_as_lavaan_does():
    from measurekit.stats.sem.syntax import parse_model

    m = parse_model("f =~ a + b +\n  c  ! continued\ng =~ d + e + f2; a ~~ b + c\n d ~~ e # comment")
    assert m.factors == {"f": ["a", "b", "c"], "g": ["d", "e", "f2"]}
    assert m.residual_covariances == [("a", "b"), ("a", "c"), ("d", "e")]
    for bad, code in [("f =~ a + b + c\n y ~ f", "model_syntax"), ("f =~ a + b + c\n a ~~ 0*b", "model_syntax"),
                      ("f =~ a + b + c\n a ~~ z", "model_syntax"), ("f =~ a + b + c\n f ~~ a", "model_syntax"),
                      ("f =~ a + b + a", "model_syntax"), ("f =~ a + b + c\n a ~~ b\n b ~~ a", "model_syntax"),
                      ("f =~ a + b + c\ng =~ f + d + e", "model_syntax"), ("", "model_syntax")]:
        with pytest.raises(InputError) as err:
            parse_model(bad)
        assert err.value.report.problems[0].code == code, bad


def test_cfa_with_an_empty_item_or_too_few_rows_is_a_clear_error(hs):
    """Issue 31: every estimator refuses an item with no answers (code all_missing) instead of a numpy
    error or a zero loading reported as converged; FIML on fewer rows than items + 1 is too_few_cases
    (it gave NaN in the RMSEA interval)."""
    from measurekit.problems import CATALOGUE

    empty = hs.assign(x3=np.nan)
    for kw in ({}, {"missing": "ml"}, {"ordered": True}):
        data = empty.copy()
        if kw.get("ordered"):
            for c in [f"x{i}" for i in range(1, 10) if i != 3]:
                data[c] = pd.qcut(data[c], 4, labels=False)
        with pytest.raises(InputError, match="x3 has no answers") as err:
            mk.cfa(data, HS_MODEL, **kw)
        assert err.value.report.problems[0].code == "all_missing" and err.value.report.problems[0].column == "x3"
    in_one_group = hs.copy()
    in_one_group.loc[in_one_group.school == "Pasteur", "x3"] = np.nan
    with pytest.raises(InputError, match="x3 has no answers in group Pasteur") as err:
        mk.cfa(in_one_group, HS_MODEL, group="school", missing="ml")
    assert err.value.report.problems[0].code == "all_missing"
    with pytest.raises(InputError, match="5 rows with answers, fewer than the 10") as err:
        mk.cfa(hs.head(5), HS_MODEL, missing="ml")
    assert err.value.report.problems[0].code == "too_few_cases"
    with pytest.raises(InputError) as err:
        mk.cfa(hs, HS_MODEL, equal=("thresholds",))
    assert err.value.report.problems[0].code == "bad_option"
    infinite = hs.copy()
    infinite.loc[infinite.index[4], "x5"] = -np.inf
    for kw in ({}, {"missing": "ml"}, {"group": "school"}):
        with pytest.raises(InputError, match="x5 is -inf in row 6") as err:
            mk.cfa(infinite, HS_MODEL, **kw)
        problem = err.value.report.problems[0]
        assert (problem.code, problem.column, problem.row, problem.value) == ("infinite_value", "x5", 6, -np.inf)
    for code in ("all_missing", "too_few_cases", "model_syntax", "not_identified", "bad_option", "infinite_value"):
        assert code in CATALOGUE
    assert hs["x3"].notna().all()                        # inputs untouched


def test_rmsea_interval_of_a_model_far_from_the_data_is_finite():
    """A chi-square so large that scipy's non-central CDF returns NaN (a small group fitted by the continuous
    fallback gave 1.2e12) no longer stops the fit: the interval comes from the normal form of the non-central
    chi-square, which agrees with scipy where both are defined."""
    from scipy.stats import ncx2

    from measurekit.stats.sem.fit_measures import _ncp_normal, rmsea_ci

    lo, hi = rmsea_ci(1.22e12, 104, 600, 2)
    assert np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi
    for chisq, df in [(5000.0, 100.0), (20000.0, 50.0)]:
        for prob in (0.95, 0.05):
            assert abs(ncx2.cdf(chisq, df, _ncp_normal(chisq, df, prob)) - prob) < 0.005
