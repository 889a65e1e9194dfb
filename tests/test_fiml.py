"""CFA by full-information ML (missing="ml") against lavaan 0.6-14 (tests/fixtures/r/lavaan_wlsmv.R, part 4)."""
import numpy as np
import pandas as pd
import pytest

import measurekit as mk

HS_MODEL = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"
PD_MODEL = ("ind60 =~ x1 + x2 + x3\n dem60 =~ y1 + y2 + y3 + y4\n dem65 =~ y5 + y6 + y7 + y8\n"
            " y1 ~~ y5\n y2 ~~ y4 + y6\n y3 ~~ y7\n y4 ~~ y8\n y6 ~~ y8")
FIT = {"chisq": "chisq", "df": "df", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "srmr": "srmr", "loglik": "logl",
       "loglik_saturated": "unrestricted.logl", "aic": "aic", "bic": "bic", "n": "ntotal"}


@pytest.fixture(scope="module")
def hs_missing(fixtures_dir):
    return pd.read_csv(fixtures_dir / "r" / "hs_missing.csv")


@pytest.fixture(scope="module")
def fiml(hs_missing):
    return mk.cfa(hs_missing, HS_MODEL, missing="ml")


@pytest.mark.r_fixture
def test_fiml_fit_matches_lavaan(fiml, fixtures_dir):
    ref = pd.read_csv(fixtures_dir / "r" / "lavaan_fiml_hs_fit.csv").iloc[0]
    fit = fiml.fit.iloc[0]
    for ours, theirs in FIT.items():
        assert fit[ours] == pytest.approx(ref[theirs], rel=1e-3), ours


@pytest.mark.r_fixture
def test_fiml_loadings_intercepts_and_se_match_lavaan(fiml, fixtures_dir):
    ref = pd.read_csv(fixtures_dir / "r" / "lavaan_fiml_hs_estimates.csv").fillna({"rhs": ""})
    merged = ref.merge(fiml.estimates, on=["lhs", "op", "rhs"], suffixes=("_r", ""))
    assert len(merged) == len(ref) == 36
    np.testing.assert_allclose(merged["est"], merged["est_r"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(merged["std_all"], merged["std.all"], rtol=1e-3, atol=1e-6)


def test_pattern_loglik_equals_row_by_row_density(hs_missing):
    """The batched pattern log-likelihood against scipy's multivariate normal density, one row at a time."""
    from scipy.stats import multivariate_normal

    from measurekit.stats._numerics.fiml import loglik, patterns

    x = hs_missing[[f"x{i}" for i in range(1, 10)]].to_numpy(float)
    x = x[~np.isnan(x).all(axis=1)]
    rng = np.random.default_rng(1)
    A = rng.normal(size=(9, 9))
    Sigma, mu = A @ A.T / 9 + np.eye(9), rng.normal(size=9) + 4
    brute = 0.0
    for row in x:
        o = ~np.isnan(row)
        brute += multivariate_normal(mu[o], Sigma[np.ix_(o, o)]).logpdf(row[o])
    assert loglik(patterns(x), Sigma, mu) == pytest.approx(brute, rel=1e-10)


def test_fiml_without_missing_values_equals_ml_with_a_mean_structure(fixtures_dir):
    hs = pd.read_csv(fixtures_dir / "r" / "holzinger.csv")
    full = mk.cfa(hs, HS_MODEL, missing="ml").fit.iloc[0]
    ml = mk.cfa(hs, HS_MODEL).fit.iloc[0]
    for col in ("chisq", "cfi", "tli", "rmsea", "loglik"):
        assert full[col] == pytest.approx(ml[col], rel=1e-6), col
    assert full["aic"] == pytest.approx(ml["aic"] + 2 * 9, rel=1e-6)     # nine intercepts more


def test_fiml_says_how_many_rows_it_used(fiml, hs_missing):
    assert fiml.fit["n"].iloc[0] == 298 and fiml.fit["n_dropped"].iloc[0] == 3
    assert fiml.sample.startswith("Used 298 of 301 rows") and "answered no item" in fiml.sample
    listwise = mk.cfa(hs_missing, HS_MODEL)
    n_complete = int(hs_missing[[f"x{i}" for i in range(1, 10)]].notna().all(axis=1).sum())
    assert listwise.fit["n"].iloc[0] == n_complete and f"Used {n_complete} of 301 rows" in listwise.sample


@pytest.mark.r_fixture
def test_fiml_with_residual_covariances_matches_lavaan(fixtures_dir):
    """PoliticalDemocracy with lavaan's six residual covariances, missing = "ml" (tests/fixtures/r/lavaan_sem.R):
    the analytic observed information gives lavaan's standard errors."""
    data = pd.read_csv(fixtures_dir / "r" / "political_democracy.csv")
    fit = mk.cfa(data, PD_MODEL, missing="ml")
    ref = pd.read_csv(fixtures_dir / "r" / "lavaan_sem_pd_fiml_fit.csv").iloc[0]
    for ours, theirs in FIT.items():
        assert fit.fit.iloc[0][ours] == pytest.approx(ref[theirs], rel=1e-3), ours
    ref = pd.read_csv(fixtures_dir / "r" / "lavaan_sem_pd_fiml_estimates.csv").fillna({"rhs": ""})
    merged = ref.merge(fit.estimates, on=["lhs", "op", "rhs"], suffixes=("_r", ""))
    assert len(merged) == len(ref) == 48
    np.testing.assert_allclose(merged["est"], merged["est_r"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(merged["std_all"], merged["std.all"], rtol=1e-3, atol=1e-6)


def test_analytic_observed_information_is_the_hessian(hs_missing):
    """FIML's observed information (pattern sums) against central differences of the analytic gradient,
    away from the optimum, two groups with equal loadings, a cross-loading and a residual covariance."""
    from measurekit.stats.sem import fiml as F
    from measurekit.stats.sem.sample import fiml_sample
    from measurekit.stats.sem.spec import build, start
    from measurekit.stats.sem.syntax import parse_model

    m = parse_model("visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6 + x1\n speed =~ x7 + x8 + x9\n x2 ~~ x7")
    s = fiml_sample(hs_missing, m, "school")
    spec = build(m, s.groups, True, {"loadings"}, ())
    theta = start(spec, s.moments.S, s.moments.M) + 0.03 * np.random.default_rng(1).standard_normal(spec.n_free)
    n, h = s.moments.N.sum(), 1e-6
    numeric = np.column_stack([(F.objective(theta + h * e, spec, s.patterns, n)[1]
                                - F.objective(theta - h * e, spec, s.patterns, n)[1]) / (2 * h) for e in np.eye(spec.n_free)])
    analytic = 2 * F.information(spec, theta, s.patterns, observed=True) / n
    np.testing.assert_allclose(analytic, numeric, atol=1e-6 * np.abs(numeric).max())
