"""Polychoric, EFA, parallel analysis and omega against psych (tests/fixtures/r/factor.R) and the synthetic truth."""
import itertools

import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.stats.factor import smooth_correlation
from measurekit.problems import InputError

AC = ["A1", "A2", "A3", "A4", "A5", "C1", "C2", "C3", "C4", "C5"]
HS = [f"x{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def bfi(fixtures_dir):
    return pd.read_csv(fixtures_dir / "r" / "bfi.csv")


@pytest.fixture(scope="module")
def hs(fixtures_dir):
    return pd.read_csv(fixtures_dir / "r" / "holzinger.csv")


def _r(fixtures_dir, name, **kw):
    return pd.read_csv(fixtures_dir / "r" / f"factor_{name}.csv", **kw)


@pytest.mark.r_fixture
def test_polychoric_matches_psych(bfi, fixtures_dir):
    res = mk.polychoric(bfi[AC])
    rho = _r(fixtures_dir, "polychoric_bfi_ac_rho", index_col=0)
    tau = _r(fixtures_dir, "polychoric_bfi_ac_tau", index_col=0)
    np.testing.assert_allclose(res.correlation.loc[AC, AC].to_numpy(), rho.loc[AC, AC].to_numpy(), atol=1e-3)
    np.testing.assert_allclose(res.thresholds.loc[AC].to_numpy(), tau.loc[AC].to_numpy(), atol=1e-6)
    assert not res.smoothed


@pytest.mark.r_fixture
def test_efa_matches_psych_fa(bfi, hs, fixtures_dir):
    for data, k, name in ((bfi.iloc[:, :25], 5, "bfi25"), (hs[HS], 3, "hs")):
        res = mk.efa(data, k)
        ref = _r(fixtures_dir, f"fa_{name}_loadings", index_col=0)
        phi = _r(fixtures_dir, f"fa_{name}_phi", index_col=0)
        np.testing.assert_allclose(res.loadings.to_numpy(), ref.to_numpy(), atol=2e-3)
        np.testing.assert_allclose(res.factor_correlations.to_numpy(), phi.to_numpy(), atol=2e-3)
    comm = _r(fixtures_dir, "fa_bfi25_communality").set_index("item")["communality"]
    res = mk.efa(bfi.iloc[:, :25], 5)
    np.testing.assert_allclose(res.communalities["h2"].to_numpy(), comm.loc[res.communalities.index].to_numpy(), atol=2e-3)
    kb = _r(fixtures_dir, "kmo_bartlett_bfi25").iloc[0]
    adequacy = res.adequacy.set_index("measure")["value"]
    assert adequacy["KMO overall"] == pytest.approx(kb["overall_msa"], abs=1e-6)
    assert adequacy["Bartlett chisq"] == pytest.approx(kb["chisq"], rel=1e-6)
    msa = _r(fixtures_dir, "kmo_bfi25").set_index("item")["msa"]
    assert adequacy["KMO A1"] == pytest.approx(msa["A1"], abs=1e-6)


@pytest.mark.r_fixture
def test_parallel_analysis_matches_psych(bfi, fixtures_dir):
    res = mk.parallel_analysis(bfi.iloc[:, :25], random_state=1)
    obs = _r(fixtures_dir, "parallel_bfi25_observed")
    np.testing.assert_allclose(res.eigenvalues["pc_observed"].to_numpy(), obs["pc_values"], atol=1e-6)
    np.testing.assert_allclose(res.eigenvalues["fa_observed"].to_numpy(), obs["fa_values"], atol=2e-3)
    sugg = _r(fixtures_dir, "parallel_bfi25_suggested").iloc[0]
    assert (res.n_factors, res.n_components) == (sugg["nfact"], sugg["ncomp"])
    again = mk.parallel_analysis(bfi.iloc[:, :25], random_state=1)
    assert again.eigenvalues.equals(res.eigenvalues)


@pytest.mark.r_fixture
def test_omega_matches_psych(bfi, hs, fixtures_dir):
    ref = _r(fixtures_dir, "omega").set_index("data")
    for data, k, name in ((hs[HS], 3, "hs"), (bfi.iloc[:, :25], 5, "bfi25")):
        res = mk.omega(data, n_factors=k)
        assert res.omega_h == pytest.approx(ref.loc[name, "omega_h"], abs=1e-2)
        assert res.omega_total == pytest.approx(ref.loc[name, "omega_total"], abs=1e-2)
        assert res.summary["alpha"].iloc[0] == pytest.approx(ref.loc[name, "alpha"], abs=1e-3)
    sl = _r(fixtures_dir, "omega_hs_sl", index_col=0)
    res = mk.omega(hs[HS], 3)
    np.testing.assert_allclose(res.loadings["g"].to_numpy(), sl["g"].to_numpy(), atol=1e-2)


def _voice_items(analysis_frame, cohort):
    resp = analysis_frame[analysis_frame.responded == 1]
    items = [i for d in cohort.ground_truth["domains"].values() for i in d["items"]]
    return resp[items].where(resp[items] != 9).astype(float), items


def test_parallel_analysis_recovers_planted_domains(analysis_frame, cohort):
    data, _ = _voice_items(analysis_frame, cohort)
    res = mk.parallel_analysis(data, random_state=2)
    assert res.n_factors == cohort.ground_truth["n_factors"]


def test_efa_recovers_the_generating_pattern(analysis_frame, cohort):
    from measurekit.stats.scoring import item_values

    resp = analysis_frame[analysis_frame.responded == 1]
    data = item_values(resp, framework=cohort.framework)          # reverse keys applied, don't know -> missing
    truth = cohort.ground_truth["domains"]
    items = list(data.columns)
    target = np.zeros((len(items), len(truth)))
    for j, (d, info) in enumerate(truth.items()):
        for it, lam in info["loadings"].items():
            target[items.index(it), j] = lam
    for cor in ("pearson", "poly"):
        res = mk.efa(data, len(truth), cor=cor)
        L = res.loadings.to_numpy()
        best = max(itertools.permutations(range(L.shape[1])),
                   key=lambda p: sum(abs(L[:, p[j]] @ target[:, j]) for j in range(len(truth))))
        for j in range(len(truth)):
            x, y = L[:, best[j]], target[:, j]
            congruence = abs(x @ y) / np.sqrt((x @ x) * (y @ y))
            assert congruence > 0.95, (cor, list(truth)[j], congruence)


def test_ordinal_alpha_uses_polychoric(analysis_frame, cohort):
    data, _ = _voice_items(analysis_frame, cohort)
    items = cohort.ground_truth["domains"]["home_learning"]["items"]
    ordinal = mk.alpha(data, items=items, ordinal=True)
    pearson = mk.alpha(data, items=items)
    assert ordinal.raw_alpha > pearson.raw_alpha  # polychoric r exceed Pearson r for coarse items
    assert any("polychoric" in w for w in ordinal.warnings)


def test_non_positive_definite_matrix_is_smoothed_and_reported():
    r = np.array([[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1.0]])
    fixed, smoothed = smooth_correlation(r)
    assert smoothed and np.linalg.eigvalsh(fixed).min() > 0
    assert np.allclose(np.diag(fixed), 1)
    # polychoric on data whose pairwise tables imply an impossible matrix
    rng = np.random.default_rng(0)
    z = rng.normal(size=(600, 1))
    a = (z[:, 0] > 0).astype(int) + 1
    df = pd.DataFrame({"a": a, "b": a.copy(), "c": 3 - a})
    df.loc[:299, "c"] = np.nan        # c only overlaps part of the sample
    df.loc[300:, "b"] = np.nan
    df.loc[:100, "c"] = a[:101]       # a-c agree where b is missing... makes the three pairwise r inconsistent
    res = mk.polychoric(df)
    assert res.smoothed and any("smoothed" in w for w in res.warnings)


@pytest.mark.parametrize("bad,code", [
    (pd.DataFrame({"a": [1, 2, 3, 1], "b": [2, 2, 2, 2], "c": [1, 3, 2, 3]}), "constant_item"),
    (pd.DataFrame({"a": [1, 2, 3, 1], "b": [np.nan] * 4, "c": [1, 3, 2, 3]}), "all_missing"),
    (pd.DataFrame({"a": [1, 2, 3, 1], "b": ["x", "2", "1", "3"], "c": [1, 3, 2, 3]}), "non_numeric"),
])
def test_edge_cases_give_clear_errors(bad, code):
    for func in (mk.polychoric, lambda d: mk.efa(d, 1), mk.parallel_analysis):
        with pytest.raises(InputError) as info:
            func(bad)
        assert code in info.value.report.codes()


def test_efa_needs_three_items_and_sensible_factor_count(hs):
    with pytest.raises(InputError):
        mk.efa(hs[["x1", "x2"]], 1)
    with pytest.raises(InputError):
        mk.efa(hs[HS], 9)
    with pytest.raises(InputError):
        mk.polychoric(hs[HS])          # continuous scores are not ordinal codes


def test_factor_analyzer_works_with_installed_scikit_learn(hs):
    """factor_analyzer 0.5.1 breaks with scikit-learn >= 1.8; the project pins < 1.8."""
    import sklearn
    from factor_analyzer import FactorAnalyzer

    assert tuple(int(v) for v in sklearn.__version__.split(".")[:2]) < (1, 8)
    fa = FactorAnalyzer(n_factors=3, rotation=None, method="minres").fit(hs[HS])
    ours = mk.efa(hs[HS], 3, rotation="none")
    # same unrotated solution up to column signs
    np.testing.assert_allclose(np.abs(fa.loadings_[:, 0]), np.abs(ours.loadings.iloc[:, 0]), atol=5e-3)


def test_simulated_correlations_have_the_distribution_of_correlated_normal_data():
    """Parallel analysis draws each random correlation matrix from its Wishart distribution (Bartlett's
    decomposition). Checked against correlating actual normal data: E[r^2] = 1 / (n - 1) for
    independent variables, and the mean largest eigenvalue of the two kinds of matrices agrees."""
    from measurekit.stats.factor import _random_correlations

    n, p, m = 40, 5, 4000
    got = _random_correlations(np.random.default_rng(7), n, p, m)
    assert np.allclose(got, got.transpose(0, 2, 1)) and np.allclose(np.diagonal(got, axis1=1, axis2=2), 1)
    off = got[:, np.triu_indices(p, 1)[0], np.triu_indices(p, 1)[1]]
    r2 = off ** 2
    assert abs(r2.mean() - 1 / (n - 1)) < 4 * r2.std() / np.sqrt(r2.size)
    rng = np.random.default_rng(8)
    direct = np.stack([np.corrcoef(rng.standard_normal((n, p)), rowvar=False) for _ in range(m)])
    top_w, top_d = np.linalg.eigvalsh(got)[:, -1], np.linalg.eigvalsh(direct)[:, -1]
    se = np.sqrt(top_w.var() / m + top_d.var() / m)
    assert abs(top_w.mean() - top_d.mean()) < 4 * se


def test_batched_principal_axes_follow_the_plain_iteration():
    """Warm-started Rayleigh-quotient steps (checked, eigh as fallback) reproduce the plain iteration
    (a full eigh every step, 200 steps at most), including matrices that drift toward a Heywood case
    and are cut off at 200 steps."""
    from measurekit.stats.factor import _fa_values_batch, _random_correlations

    rs = _random_correlations(np.random.default_rng(1), 400, 10, 12)
    rs[3] = 0.6 * rs[3] + 0.4 * np.ones((10, 10))          # one matrix with a real common factor
    want = []
    for r in rs:
        h = 1 - 1 / np.diag(np.linalg.inv(r))
        s = r.copy()
        for _ in range(200):
            np.fill_diagonal(s, h)
            w, v = np.linalg.eigh(s)
            new = np.clip(v[:, -1] ** 2 * max(w[-1], 0), 0, 0.995)
            stop = np.max(np.abs(new - h)) < 1e-8
            h = new
            if stop:
                break
        np.fill_diagonal(s, h)
        want.append(np.sort(np.linalg.eigvalsh(s))[::-1])
    np.testing.assert_allclose(_fa_values_batch(rs), np.array(want), atol=1e-10)


def test_parallel_analysis_with_fewer_respondents_than_items_is_a_clear_error():
    rng = np.random.default_rng(4)
    df = pd.DataFrame(rng.integers(1, 6, size=(6, 8)), columns=[f"q{j}" for j in range(8)])
    with pytest.raises(InputError) as info:
        mk.parallel_analysis(df, n_iter=5, random_state=1)
    assert info.value.report.codes() == {"too_few_cases"}
    assert "6 respondents" in str(info.value)


def test_factor_functions_read_integer_column_names_as_text():
    rng = np.random.default_rng(5)
    theta = rng.normal(size=400)
    df = pd.DataFrame({j: np.clip(np.round(3 + theta + rng.normal(0, 0.8, 400)), 1, 5) for j in range(6)})
    res = mk.efa(df, 1)
    assert list(res.loadings.index) == [str(j) for j in range(6)]
    assert (res.loadings["F1"].abs() > 0.5).all()
    assert mk.efa(df, 1, items=[0, 1, 2, 3]).loadings.index.tolist() == ["0", "1", "2", "3"]
    with pytest.raises(InputError) as info:                 # 1 and "1" are one name written as text
        mk.efa(df.rename(columns={2: "1"}), 1)
    assert info.value.report.codes() == {"duplicate_column"}


@pytest.mark.r_fixture
@pytest.mark.parametrize("name,k", [("bfi25", 5), ("hs", 3)])
def test_ml_efa_matches_psych_fa_ml(bfi, hs, fixtures_dir, name, k):
    """method='ml' against psych::fa(fm = "ml") (tests/fixtures/r/factor_ml.R), rotated and unrotated: agreement
    to 2e-5 (psych's optim stops a little earlier)."""
    data = bfi.iloc[:, :25] if name == "bfi25" else hs[HS]
    res = mk.efa(data, k, method="ml")
    ref = _r(fixtures_dir, f"fa_ml_{name}_loadings", index_col=0)
    phi = _r(fixtures_dir, f"fa_ml_{name}_phi", index_col=0)
    np.testing.assert_allclose(res.loadings.to_numpy(), ref.to_numpy(), atol=1e-4)
    np.testing.assert_allclose(res.factor_correlations.to_numpy(), phi.to_numpy(), atol=1e-4)
    uniq = _r(fixtures_dir, f"fa_ml_{name}_uniqueness").set_index("item")["uniqueness"]
    np.testing.assert_allclose(res.communalities["u2"].to_numpy(), uniq.loc[res.communalities.index].to_numpy(),
                               atol=1e-4)
    unrot = mk.efa(data, k, method="ml", rotation="none")
    ref_u = _r(fixtures_dir, f"fa_ml_{name}_unrotated", index_col=0)
    np.testing.assert_allclose(unrot.loadings.to_numpy(), ref_u.to_numpy(), atol=1e-4)


def test_ml_efa_recovers_a_planted_structure():
    """Two factors with known loadings (0.8, 0.7, 0.6 and 0.75, 0.65, 0.55) correlating 0.3: ML recovers them."""
    rng = np.random.default_rng(4)
    n = 4000
    f = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], size=n)
    lam = [(0, 0.8), (0, 0.7), (0, 0.6), (1, 0.75), (1, 0.65), (1, 0.55)]
    x = np.column_stack([l * f[:, j] + np.sqrt(1 - l * l) * rng.normal(size=n) for j, l in lam])
    res = mk.efa(pd.DataFrame(x, columns=[f"y{i}" for i in range(6)]), 2, method="ml")
    L = res.loadings.to_numpy()
    truth = np.zeros((6, 2))
    for i, (j, l) in enumerate(lam):
        truth[i, j] = l
    if abs(L[0, 0]) < abs(L[0, 1]):
        L = L[:, ::-1]
    np.testing.assert_allclose(L, truth, atol=0.05)
    assert res.factor_correlations.iloc[0, 1] == pytest.approx(0.3, abs=0.06)


def test_efa_reads_plain_and_odd_frames_alike(hs):
    """A plain numeric frame is read directly, nullable columns and integer names through numeric_items: the
    same loadings to the last bit, and the same errors."""
    plain = hs[HS].astype(float)
    odd = plain.copy()
    odd["x1"] = odd["x1"].astype("Float64")
    numbered = pd.DataFrame(plain.to_numpy())
    for method in ("minres", "ml"):
        a = mk.efa(plain, 3, method=method)
        for other in (mk.efa(odd, 3, method=method), mk.efa(numbered, 3, method=method)):
            np.testing.assert_array_equal(a.loadings.to_numpy(), other.loadings.to_numpy())
            assert a.n == other.n
    flat = plain.assign(x2=1.0)
    with pytest.raises(InputError) as info:
        mk.efa(flat, 2)
    assert "constant_item" in info.value.report.codes()
    with pytest.raises(InputError) as info:
        mk.efa(plain.assign(x3=np.nan), 2)
    assert "all_missing" in info.value.report.codes()
    with pytest.raises(InputError):
        mk.efa(plain, 2, method="pa")


def test_parallel_analysis_solve_is_numpys_solve():
    """The principal-axis steps of parallel analysis call LAPACK's solver without np.linalg.solve's wrapper; it must
    give np.linalg.solve's numbers bit for bit and raise LinAlgError on a singular matrix as it does."""
    from measurekit.stats.factor import _solve

    rng = np.random.default_rng(7)
    a = rng.standard_normal((20, 16, 16))
    b = rng.standard_normal((20, 16, 1))
    np.testing.assert_array_equal(_solve(a, b), np.linalg.solve(a, b))
    a[3] = 0.0
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.solve(a, b)
    with pytest.raises(np.linalg.LinAlgError):
        _solve(a, b)


def test_parallel_analysis_rejects_unknown_correlation_type():
    frame = pd.DataFrame(np.random.default_rng(1).integers(1, 6, (60, 4)).astype(float), columns=list("abcd"))
    with pytest.raises(InputError):
        mk.parallel_analysis(frame, n_iter=2, cor="spearman")
