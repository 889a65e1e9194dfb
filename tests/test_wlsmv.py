"""Ordinal CFA (WLSMV) against lavaan 0.6-14 (tests/fixtures/r/lavaan_wlsmv.R) and on simulated data."""
import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.problems import InputError

HS_MODEL = "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"
BFI_MODEL = "agree =~ A1 + A2 + A3 + A4 + A5\n consc =~ C1 + C2 + C3 + C4 + C5"
BFI_COLS = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)] + ["gender"]
FIT = ["chisq", "df", "chisq_scaled", "df_scaled", "cfi_scaled", "tli_scaled", "rmsea_scaled", "srmr", "cfi", "tli",
       "rmsea", "baseline_chisq", "baseline_chisq_scaled"]


@pytest.fixture(scope="module")
def hs_ord(fixtures_dir):
    return pd.read_csv(fixtures_dir / "r" / "hs_ordinal.csv")


@pytest.fixture(scope="module")
def bfi(fixtures_dir):
    return pd.read_csv(fixtures_dir / "r" / "bfi.csv")[BFI_COLS].dropna()


CASES = [("hs", HS_MODEL, {}), ("hs_theta", HS_MODEL, {"parameterization": "theta"}), ("bfi", BFI_MODEL, {})]


@pytest.fixture(scope="module")
def fits(hs_ord, bfi):
    return {name: mk.cfa(bfi if name == "bfi" else hs_ord, model, ordered=True, **kw) for name, model, kw in CASES}


@pytest.mark.r_fixture
@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_wlsmv_fit_matches_lavaan(name, fits, fixtures_dir):
    ref = pd.read_csv(fixtures_dir / "r" / f"lavaan_wlsmv_{name}_fit.csv").iloc[0]
    fit = fits[name].fit.iloc[0]
    for col in FIT:
        assert fit[col] == pytest.approx(ref[col.replace("_", ".")], rel=1e-3), col
    assert fit["pvalue_scaled"] == pytest.approx(ref["pvalue.scaled"], rel=1e-3, abs=1e-12)
    assert fit["n"] == ref["ntotal"] and fit["estimator"] == "WLSMV"


@pytest.mark.r_fixture
@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_wlsmv_loadings_thresholds_and_robust_se_match_lavaan(name, fits, fixtures_dir):
    ref = pd.read_csv(fixtures_dir / "r" / f"lavaan_wlsmv_{name}_estimates.csv").fillna({"rhs": ""})
    ours = fits[name].estimates
    ref = ref[ref.op.isin(["=~", "|", "~~", "~*~"])]
    merged = ref.merge(ours, on=["lhs", "op", "rhs"], suffixes=("_r", ""), how="left")
    assert merged["est"].notna().all(), merged[merged["est"].isna()][["lhs", "op", "rhs"]]
    assert len(merged) == len(ref)
    assert (ref.op == "|").sum() >= 27
    np.testing.assert_allclose(merged["est"], merged["est_r"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(merged["std_all"], merged["std.all"], rtol=1e-3, atol=1e-6)


def test_analytic_jacobian_equals_numerical_differences(fits, hs_ord):
    for name in ("hs", "hs_theta"):
        spec, theta = fits[name]._solution.spec, fits[name]._solution.theta
        np.testing.assert_allclose(spec.jacobian(theta, 0), spec.jacobian_numeric(theta, 0), atol=1e-7)
    multi = mk.cfa(hs_ord, HS_MODEL, group="school", ordered=True, equal=("thresholds", "loadings", "intercepts"))
    spec, theta = multi._solution.spec, multi._solution.theta + 0.01
    for g in (0, 1):
        np.testing.assert_allclose(spec.jacobian(theta, g), spec.jacobian_numeric(theta, g), atol=1e-7)


def _simulate(n, loadings, cuts, seed):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    lam = np.asarray(loadings)
    ystar = f[:, None] * lam + rng.normal(size=(n, len(lam))) * np.sqrt(1 - lam ** 2)
    return pd.DataFrame(np.searchsorted(cuts, ystar) + 1, columns=[f"y{i}" for i in range(len(lam))])


def test_recovers_known_loadings_and_thresholds():
    """Latent responses with standardised loadings lambda, cut at known thresholds, with reverse-keyed items."""
    lam = np.array([0.8, 0.7, -0.6, 0.75, 0.5, -0.65])
    cuts = np.array([-1.0, -0.2, 0.6, 1.4])
    data = _simulate(4000, lam, cuts, seed=3)
    fit = mk.cfa(data, "f =~ " + " + ".join(data.columns), ordered=True)
    est = fit.estimates
    std = est.query("op == '=~'")["std_all"].to_numpy()
    assert np.max(np.abs(std - lam)) < 0.05
    thr = est.query("op == '|'")["est"].to_numpy().reshape(6, 4)
    assert np.max(np.abs(thr - cuts)) < 0.08
    assert fit.fit["pvalue_scaled"].iloc[0] > 0.001      # the model is true
    assert fit.fit["rmsea_scaled"].iloc[0] < 0.03


def test_sample_sentence_and_clear_errors(hs_ord):
    d = hs_ord.copy()
    d.loc[d.index[:7], "x2"] = np.nan
    fit = mk.cfa(d, HS_MODEL, ordered=True)
    assert fit.fit["n"].iloc[0] == len(d) - 7 and fit.fit["n_dropped"].iloc[0] == 7
    assert "Used 294 of 301 rows; 7 dropped" in fit.sample and "x2 (7)" in fit.sample
    const = hs_ord.assign(x3=2)
    for kw in ({}, {"ordered": True}):
        with pytest.raises(InputError, match="x3 has no variance") as err:
            mk.cfa(const, HS_MODEL, **kw)
        assert err.value.report.problems[0].code == "constant_item"
    with pytest.raises(InputError, match="must name every item"):
        mk.cfa(hs_ord, HS_MODEL, ordered=["x1", "x2"])
    one = hs_ord.copy()
    one.loc[(one.school == "Pasteur") & (one.x1 == 4), "x1"] = 3
    with pytest.raises(InputError, match="Nobody in group Pasteur answered 4 to x1"):
        mk.cfa(one, HS_MODEL, ordered=True, group="school")
    numeric_groups = hs_ord.assign(school=(hs_ord.school == "Pasteur").astype(np.int64))
    numeric_groups.loc[numeric_groups.school == 1, "x5"] = 1
    with pytest.raises(InputError) as err:
        mk.cfa(numeric_groups, HS_MODEL, group="school")
    assert "np.int64" not in str(err.value) and "in group 1" in str(err.value)


# --------------------------------------------------------------------------- ordinal invariance
INV_LEVELS = ["configural", "thresholds", "loadings", "intercepts"]


@pytest.fixture(scope="module")
def invariances(hs_ord, bfi):
    return {"hs_school": mk.invariance(hs_ord, HS_MODEL, "school", ordered=True),
            "bfi_gender": mk.invariance(bfi, BFI_MODEL, "gender", ordered=True)}


@pytest.mark.r_fixture
@pytest.mark.parametrize("name", ["hs_school", "bfi_gender"])
def test_ordinal_invariance_matches_semtools_measeq(name, invariances, fixtures_dir):
    ref = pd.read_csv(fixtures_dir / "r" / f"lavaan_wlsmv_{name}_invariance.csv").set_index("level")
    inv = invariances[name]
    t = inv.table.set_index("level")
    assert list(t.index) == INV_LEVELS and inv.estimator == "WLSMV"
    for level in INV_LEVELS:
        for col in ("chisq", "df", "chisq_scaled", "cfi_scaled", "tli_scaled", "rmsea_scaled", "srmr"):
            assert t.loc[level, col] == pytest.approx(ref.loc[level, col.replace("_", ".")], rel=1e-3), (level, col)
    for level in INV_LEVELS[1:]:
        # lavTestLRT(fit_level, fit_previous): scaled-and-shifted difference test (Satorra 2000, A.method "delta")
        assert t.loc[level, "delta_chisq"] == pytest.approx(ref.loc[level, "diff_chisq"], rel=1e-3), level
        assert t.loc[level, "delta_df"] == ref.loc[level, "diff_df"]
        assert t.loc[level, "p_val"] == pytest.approx(ref.loc[level, "diff_p"], rel=1e-3), level


@pytest.mark.r_fixture
def test_wu_estabrook_identification_matches_semtools_estimates(invariances, fixtures_dir):
    """At the last level: equal loadings and thresholds, scales and factor (co)variances and means free
    in the second group, exactly as measEq.syntax writes the model."""
    ref = pd.read_csv(fixtures_dir / "r" / "lavaan_wlsmv_hs_school_intercepts_estimates.csv").fillna({"rhs": ""})
    ours = invariances["hs_school"].fits["intercepts"].estimates.copy()
    ours["group"] = ours["group"].map({"Pasteur": 1, "Grant-White": 2})    # lavaan: order of appearance
    ref = ref[ref.op.isin(["=~", "|", "~*~", "~1"]) | ((ref.op == "~~") & ref.lhs.str.startswith(("v", "t", "s")))]
    merged = ref.merge(ours, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
    assert len(merged) == len(ref)
    np.testing.assert_allclose(merged["est"], merged["est_r"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-3, atol=1e-6)


def test_single_group_is_an_input_error(hs_ord):
    one = hs_ord.assign(school="Pasteur")
    for kw in ({}, {"ordered": True}):
        with pytest.raises(InputError, match="at least two groups") as err:
            mk.invariance(one, HS_MODEL, "school", **kw)
        assert err.value.report.problems[0].code == "one_group"


def test_level_after_a_failed_level_is_not_judged(fixtures_dir):
    """Holzinger-Swineford by school (ML): scalar invariance fails, so strict is shown but not judged."""
    hs = pd.read_csv(fixtures_dir / "r" / "holzinger.csv")
    t = mk.invariance(hs, HS_MODEL, "school").table.set_index("level")
    assert "scalar invariance does not hold" in t.loc["scalar", "verdict"]
    assert t.loc["strict", "verdict"].startswith("strict: not judged, because scalar invariance did not hold")
    assert "holds" not in t.loc["strict", "verdict"].replace("did not hold", "")


def test_partial_ordinal_invariance_finds_the_item_with_shifted_thresholds():
    """Two groups; item y3's latent response is shifted by 0.7 in group B (uniform DIF): the intercepts
    level fails and releasing y3's intercept restores fit."""
    lam = np.array([0.75, 0.7, 0.65, 0.7, 0.6, 0.72])
    cuts = np.array([-1.0, -0.2, 0.6, 1.4])
    rng = np.random.default_rng(11)
    parts = []
    for g, shift in (("A", 0.0), ("B", 0.7)):
        f = rng.normal(size=1500)
        ystar = f[:, None] * lam + rng.normal(size=(1500, 6)) * np.sqrt(1 - lam ** 2)
        ystar[:, 2] += shift
        parts.append(pd.DataFrame(np.searchsorted(cuts, ystar) + 1, columns=[f"y{i}" for i in range(1, 7)]).assign(g=g))
    data = pd.concat(parts, ignore_index=True)
    inv = mk.invariance(data, "f =~ y1 + y2 + y3 + y4 + y5 + y6", "g", ordered=True)
    t = inv.table.set_index("level")
    assert "intercepts invariance does not hold" in t.loc["intercepts", "verdict"]
    assert t.loc["thresholds", "p_val"] > 0.001 and t.loc["intercepts", "p_val"] < 1e-6
    ranking = inv.partial(level="intercepts")
    assert ranking["item"].iloc[0] == "y3"
    released = inv.partial(["y3"], level="intercepts")
    assert "holds" in released["verdict"].iloc[1] and released["p_val"].iloc[1] > 0.001


def test_an_answer_nobody_in_a_group_gave_is_merged_with_its_neighbour(hs_ord):
    data = hs_ord.copy()
    data.loc[(data.school == "Pasteur") & (data.x1 == 4), "x1"] = 3
    inv = mk.invariance(data, HS_MODEL, "school", ordered=True, levels=("configural", "thresholds"))
    assert any("answers 3 and 4 of x1 were merged" in w and "group Pasteur" in w for w in inv.warnings)
    thresholds = inv.fits["configural"].estimates.query("op == '|' and lhs == 'x1'")
    assert len(thresholds) == 2 * 2                       # two thresholds left for x1, in each group
    with pytest.raises(InputError, match="Nobody in group Pasteur answered 4 to x1"):
        mk.invariance(data, HS_MODEL, "school", ordered=True, merge_empty=False)


# --------------------------------------------------------------------------- residual covariances (tests/fixtures/r/lavaan_sem.R)
RC_MODEL = HS_MODEL + "\n x7 ~~ x8\n x1 ~~ x4 + x9"


@pytest.mark.r_fixture
def test_ordinal_cfa_honours_residual_covariances_as_lavaan(hs_ord, fixtures_dir):
    """Held out: WLSMV with three residual covariances: df, chi-square (and the scaled test) and every
    estimate, SE and std.all as lavaan's (the residual covariances were dropped before: df 24 for 21)."""
    fit = mk.cfa(hs_ord, RC_MODEL, ordered=True)
    ref = pd.read_csv(fixtures_dir / "r" / "lavaan_sem_hs_ordinal_rescov_fit.csv").iloc[0]
    f = fit.fit.iloc[0]
    assert f["df"] == ref["df"] == 21
    for col in FIT:
        assert f[col] == pytest.approx(ref[col.replace("_", ".")], rel=1e-3), col
    est = pd.read_csv(fixtures_dir / "r" / "lavaan_sem_hs_ordinal_rescov_estimates.csv").fillna({"rhs": ""})
    est = est[est.op.isin(["=~", "|", "~~", "~*~"])]
    merged = est.merge(fit.estimates, on=["lhs", "op", "rhs"], suffixes=("_r", ""), how="left")
    assert merged["est"].notna().all() and len(merged) == len(est)
    assert ((merged.op == "~~") & (merged.lhs != merged.rhs) & merged.lhs.str.startswith("x")).sum() == 3
    np.testing.assert_allclose(merged["est"], merged["est_r"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(merged["std_all"], merged["std.all"], rtol=1e-3, atol=1e-6)


@pytest.mark.r_fixture
def test_ordinal_invariance_honours_residual_covariances_as_semtools(hs_ord, fixtures_dir):
    ref = pd.read_csv(fixtures_dir / "r" / "lavaan_sem_hs_school_rescov_invariance.csv").set_index("level")
    inv = mk.invariance(hs_ord, RC_MODEL, "school", ordered=True)
    t = inv.table.set_index("level")
    for level in INV_LEVELS:
        for col in ("chisq", "df", "chisq_scaled", "cfi_scaled", "tli_scaled", "rmsea_scaled", "srmr"):
            assert t.loc[level, col] == pytest.approx(ref.loc[level, col.replace("_", ".")], rel=1e-3), (level, col)
    for level in INV_LEVELS[1:]:
        assert t.loc[level, "delta_chisq"] == pytest.approx(ref.loc[level, "diff_chisq"], rel=1e-3), level
        assert t.loc[level, "delta_df"] == ref.loc[level, "diff_df"]
    est = pd.read_csv(fixtures_dir / "r" / "lavaan_sem_hs_school_rescov_intercepts_estimates.csv").fillna({"rhs": ""})
    est = est[(est.op == "~~") & (est.lhs != est.rhs) & est.lhs.str.startswith("x")]
    ours = inv.fits["intercepts"].estimates.copy()
    ours["group"] = ours["group"].map({"Pasteur": 1, "Grant-White": 2})
    merged = est.merge(ours, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
    assert len(merged) == len(est) == 6                  # three residual covariances in each of two groups
    np.testing.assert_allclose(merged["est"], merged["est_r"], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-3, atol=1e-6)


def test_residual_covariance_is_recovered_from_simulated_ordinal_data():
    """Known truth: latent responses whose residuals of y1 and y4 correlate 0.4 (beyond one factor);
    the ordinal fit recovers that residual correlation as std_all, and without the term the model fits worse."""
    rng = np.random.default_rng(5)
    n, lam = 5000, np.array([0.7, 0.6, 0.65, 0.7, 0.6, 0.55])
    f = rng.normal(size=n)
    e = rng.normal(size=(n, 6)) * np.sqrt(1 - lam ** 2)
    shared = rng.normal(size=n)
    r = 0.4
    for j in (0, 3):
        e[:, j] = np.sqrt(1 - lam[j] ** 2) * (np.sqrt(r) * shared + np.sqrt(1 - r) * rng.normal(size=n))
    data = pd.DataFrame(np.searchsorted([-1.0, 0.0, 1.0], f[:, None] * lam + e) + 1, columns=[f"y{i}" for i in range(1, 7)])
    base = "f =~ y1 + y2 + y3 + y4 + y5 + y6"
    with_rc = mk.cfa(data, base + "\n y1 ~~ y4", ordered=True)
    without = mk.cfa(data, base, ordered=True)
    assert with_rc.fit["df"].iloc[0] == without.fit["df"].iloc[0] - 1
    row = with_rc.estimates.query("op == '~~' and lhs == 'y1' and rhs == 'y4'").iloc[0]
    assert row["std_all"] == pytest.approx(r, abs=0.05)
    assert with_rc.fit["pvalue_scaled"].iloc[0] > 0.001 > without.fit["pvalue_scaled"].iloc[0]


def test_analytic_jacobian_with_residual_covariances_equals_numerical_differences(hs_ord):
    """Residual covariances in both parameterisations and in a two-group model (equal thresholds,
    loadings and intercepts): the analytic Jacobian against central differences, away from the optimum."""
    fits = [mk.cfa(hs_ord, RC_MODEL, ordered=True, parameterization="theta"),
            mk.cfa(hs_ord, RC_MODEL, ordered=True, group="school", equal=("thresholds", "loadings", "intercepts"))]
    for fit in fits:
        spec = fit._solution.spec
        assert spec.rescov and len(spec.residual_covariances) == 3
        theta = fit._solution.theta + 0.01
        for g in range(len(spec.groups)):
            np.testing.assert_allclose(spec.jacobian(theta, g), spec.jacobian_numeric(theta, g), atol=1e-7)
