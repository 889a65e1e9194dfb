"""Graded response model (mk.grm): recovery of known parameters, the log-likelihood against an
independent brute-force integration, agreement with girth and with lavaan's ordinal CFA, item
information, S-X2 and input errors. The probabilities below are written from the model's
definition here, not taken from measurekit's numerics."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.problems import InputError


def _probs(a, d, theta):
    """P(Y = k | theta), k = 0..K-1, for P(Y >= k) = 1 / (1 + exp(-(a theta + d_k))): (n, K)."""
    theta = np.atleast_1d(theta)
    with np.errstate(over="ignore"):
        cum = 1 / (1 + np.exp(-(a * theta[:, None] + np.asarray(d)[None, :])))
    ones, zeros = np.ones((len(theta), 1)), np.zeros((len(theta), 1))
    return np.hstack([ones, cum]) - np.hstack([cum, zeros])


def simulate(n, n_items, seed, theta=None, missing=0.0):
    """Known slopes in [0.9, 2.3], thresholds spread over [-2.2, 2.2]; items alternate 5 and 4
    categories; answers coded 1..K."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.9, 2.3, n_items)
    b = []
    for j in range(n_items):
        k = 5 if j % 2 == 0 else 4
        b.append(np.sort(rng.uniform(-2.2, 2.2, k - 1)) + np.arange(k - 1) * 0.2)
    theta = rng.normal(size=n) if theta is None else theta
    cols = {}
    for j in range(n_items):
        P = _probs(a[j], -a[j] * b[j], theta)
        y = (rng.random(n)[:, None] > np.cumsum(P, axis=1)).sum(axis=1) + 1
        cols[f"q{j + 1}"] = y.astype(float)
    df = pd.DataFrame(cols)
    if missing:
        mask = rng.random(df.shape) < missing
        df = df.mask(mask)
    return df, a, b, theta


def _b_table(res, items):
    t = res.table.set_index("item").loc[items]
    return [t.loc[it, [c for c in t.columns if c.startswith("b") and not c.endswith("_se")]].dropna().to_numpy(float)
            for it in items]


@pytest.fixture(scope="module")
def big():
    df, a, b, theta = simulate(3000, 16, seed=11)
    return df, a, b, theta, mk.grm(df, items=list(df.columns))


def test_recovers_known_parameters(big):
    df, a, b, theta, res = big
    items = list(df.columns)
    t = res.table.set_index("item").loc[items]
    assert res.converged
    a_hat = t["a"].to_numpy()
    b_hat = np.concatenate(_b_table(res, items))
    b_true = np.concatenate(b)
    assert np.sqrt(np.mean((a_hat - a) ** 2)) < 0.1
    assert np.sqrt(np.mean((b_hat - b_true) ** 2)) < 0.1
    d_true = np.concatenate([-a[j] * b[j] for j in range(len(items))])
    d_hat = np.concatenate([t.loc[it, [f"d{k}" for k in range(1, len(b[j]) + 1)]].to_numpy(float)
                            for j, it in enumerate(items)])
    assert np.sqrt(np.mean((d_hat - d_true) ** 2)) < 0.15
    # standard errors are about the size of the actual errors (z-scores with variance near 1)
    z_a = (a_hat - a) / t["a_se"].to_numpy()
    b_se = np.concatenate([t.loc[it, [f"b{k}_se" for k in range(1, len(b[j]) + 1)]].to_numpy(float)
                           for j, it in enumerate(items)])
    z_b = (b_hat - b_true) / b_se
    assert 0.4 < np.mean(np.concatenate([z_a, z_b]) ** 2) < 2.0
    # the categories and their codes are reported
    assert (t["categories"].to_numpy() == [5 if j % 2 == 0 else 4 for j in range(16)]).all()
    assert t.loc["q1", "codes"] == "1,2,3,4,5"


def test_scores_reliability_and_item_fit(big):
    df, a, b, theta, res = big
    s = res.scores
    assert np.corrcoef(s["theta"], theta)[0, 1] > 0.9
    # marginal reliability (expected) agrees with the observed squared correlation of EAP and truth
    assert abs(res.marginal_reliability - np.corrcoef(s["theta"], theta)[0, 1] ** 2) < 0.03
    # posterior SDs are the right size: mean squared error of EAP ~ mean posterior variance
    assert np.mean((s["theta"] - theta) ** 2) == pytest.approx(np.mean(s["se"] ** 2), rel=0.15)
    # a correctly specified model: S-X2 rarely rejects
    f = res.item_fit
    assert f["df"].gt(0).all() and (f["p"] < 0.01).sum() <= 2
    assert set(f.columns) >= {"item", "s_x2", "df", "p", "rmsea", "n"}
    assert res.n_par == int(sum(t for t in res.table["categories"]))
    assert res.aic == pytest.approx(-2 * res.loglik + 2 * res.n_par)


def test_s_x2_flags_an_item_that_does_not_follow_the_model():
    df, a, b, theta = simulate(2000, 8, seed=5)[:4]
    rng = np.random.default_rng(6)
    # an item whose answers rise and then fall along the trait: no graded-response curve fits
    latent = -1.5 * np.abs(theta - 0.3) + rng.logistic(size=len(theta))
    df["bad"] = np.digitize(latent, [-2.5, -1.5, -0.7]) + 1.0
    res = mk.grm(df, items=list(df.columns), se=False)
    f = res.item_fit.set_index("item")
    assert f.loc["bad", "p"] < 1e-4
    assert f.loc["bad", "p"] == f["p"].min()


def _brute_loglik(df, res, group=None):
    """Sum over people of log integral prod_j P_j(y_j | theta) N(theta; mean_g, sd_g) dtheta by
    adaptive quadrature over the whole real line (scipy.integrate.quad_vec, all people at once)."""
    from scipy import integrate, stats

    t = res.table
    gcol = t["group"] if "group" in t.columns else pd.Series("all", index=t.index)
    pars = {}
    for (_, row), g in zip(t.iterrows(), gcol):
        d = row[[c for c in t.columns if c.startswith("d") and c[1:].isdigit()]].dropna().to_numpy(float)
        codes = [float(c) for c in str(row["codes"]).split(",")]
        pars[(row["item"], g)] = (row["a"], d, codes)
    lat = res.latent.set_index("group")
    keep = df.notna().any(axis=1) & (group.notna() if group is not None else True)
    df = df[keep]
    gs = pd.Series("all", index=df.index) if group is None else group[keep].astype(str)
    mean = np.array([0.0 if group is None else lat.loc[g, "mean"] for g in gs])
    sd = np.array([1.0 if group is None else lat.loc[g, "sd"] for g in gs])

    def f(th):
        v = stats.norm.pdf(th, mean, sd)
        for it in df.columns:
            y = df[it].to_numpy()
            for g in gs.unique():
                a, d, codes = pars.get((it, g)) or pars[(it, "all")]
                P = _probs(a, d, th)[0]
                rows = (gs.to_numpy() == g) & ~np.isnan(y)
                v[rows] *= P[[codes.index(c) for c in y[rows]]]
        return v

    with np.errstate(over="ignore"):
        val, _ = integrate.quad_vec(f, -np.inf, np.inf, epsabs=0, epsrel=1e-10, limit=400)
    return float(np.sum(np.log(val)))


def test_loglik_equals_brute_force_integration():
    df = simulate(200, 6, seed=21, missing=0.1)[0]
    res = mk.grm(df, items=list(df.columns), se=False, item_fit=False)
    assert res.loglik == pytest.approx(_brute_loglik(df, res), abs=1e-6 * abs(res.loglik))


def test_multigroup_latent_distribution_and_loglik():
    rng = np.random.default_rng(8)
    n = 1600
    grp = pd.Series(np.where(rng.random(n) < 0.35, "b", "a"))
    theta = rng.normal(size=n)
    theta = np.where(grp == "b", 0.5 + 1.3 * theta, theta)
    df, *_ = simulate(n, 6, seed=9, theta=theta)
    res = mk.grm(df, items=list(df.columns), groups=grp)
    lat = res.latent.set_index("group")
    assert lat.loc["a", "mean"] == 0 and lat.loc["a", "sd"] == 1
    assert lat.loc["b", "mean"] == pytest.approx(0.5, abs=0.12)
    assert lat.loc["b", "sd"] == pytest.approx(1.3, abs=0.12)
    assert 0 < lat.loc["b", "mean_se"] < 0.1
    assert (res.table["group"] == "all").all()
    assert res.item_fit["s_x2"].isna().all()
    small = df.iloc[:250]
    sub = mk.grm(small, items=list(df.columns), groups=grp.iloc[:250], free=["q1"], min_group=50, se=False)
    assert set(sub.table.loc[sub.table["item"] == "q1", "group"]) == {"a", "b"}
    assert sub.loglik == pytest.approx(_brute_loglik(small, sub, grp.iloc[:250]), abs=1e-6 * abs(sub.loglik))


def test_agrees_with_girth():
    girth = pytest.importorskip("girth")
    df, a, b, _ = simulate(1200, 8, seed=31)
    res = mk.grm(df, items=list(df.columns), se=False, item_fit=False)
    g = girth.grm_mml(df.to_numpy(int).T)
    t = res.table.set_index("item")
    np.testing.assert_allclose(t["a"].to_numpy(), g["Discrimination"], atol=0.03)
    ours = _b_table(res, list(df.columns))
    for j, bj in enumerate(ours):
        np.testing.assert_allclose(bj, g["Difficulty"][j][: len(bj)], atol=0.04)


def test_information_matches_its_definition(big):
    df, a, b, theta, res = big
    info = res.information(theta=[-1.0, 0.0, 1.5])
    t = res.table.set_index("item")
    # I(theta) = sum_k P_k (d log P_k / d theta)^2, derivative by central differences here
    d = t.loc["q2", ["d1", "d2", "d3"]].to_numpy(float)
    h = 1e-5
    for th, got in zip([-1.0, 0.0, 1.5], info["q2"]):
        P = _probs(t.loc["q2", "a"], d, th)[0]
        dlog = (np.log(_probs(t.loc["q2", "a"], d, th + h)[0]) - np.log(_probs(t.loc["q2", "a"], d, th - h)[0])) / (2 * h)
        assert got == pytest.approx(np.sum(P * dlog ** 2), rel=1e-5)
    assert np.allclose(info["test"], info[list(df.columns)].sum(axis=1))
    assert np.allclose(info["se"], 1 / np.sqrt(info["test"]))
    curves = res.category_curves("q1", theta=[0.0])
    assert curves.filter(like="P(").sum(axis=1).iloc[0] == pytest.approx(1.0)
    ax = res.plot_information()
    assert len(ax.get_lines()) == 17
    assert len(res.plot_categories("q1").get_lines()) == 5


def test_codes_missing_and_dont_know():
    df = simulate(600, 5, seed=41, missing=0.05)[0]
    recoded = df.replace({1.0: 0.0, 2.0: 1.0, 3.0: 2.0, 4.0: 3.0, 5.0: 4.0})
    recoded.iloc[:40, 0] = 9                               # "don't know"
    before = recoded.copy()
    r = mk.grm(recoded, items=list(df.columns), dont_know=(9,), se=False, item_fit=False)
    pd.testing.assert_frame_equal(recoded, before)          # input not modified
    assert r.table.set_index("item").loc["q1", "codes"] == "0,1,2,3,4"
    assert r.table.set_index("item").loc["q1", "n"] == recoded["q1"].between(0, 4).sum()
    empty = recoded.copy()
    empty.iloc[:3] = np.nan
    r2 = mk.grm(empty, items=list(df.columns), dont_know=(9,), se=False, item_fit=False)
    assert r2.scores["theta"].iloc[:3].isna().all() and r2.n == len(df) - 3
    assert any("3 of 600 rows" in w for w in r2.warnings)


def test_errors():
    df = simulate(200, 4, seed=2)[0]
    with pytest.raises(InputError) as e:
        mk.grm(df, items=["q1", "q2", "nope"])
    assert "unknown_item" in e.value.report.codes()
    with pytest.raises(InputError) as e:
        mk.grm(df, items=["q1", "q2"])
    assert "too_few_items" in e.value.report.codes()
    with pytest.raises(InputError) as e:
        mk.grm(df, items=list(df.columns), free=["q1"])
    assert "bad_option" in e.value.report.codes()
    g = pd.Series(np.where(np.arange(200) < 20, "x", "y"))
    with pytest.raises(InputError) as e:
        mk.grm(df, items=list(df.columns), groups=g)
    assert "small_group" in e.value.report.codes()
    with pytest.raises(InputError) as e:
        mk.grm(df, items=list(df.columns), groups=g, free=list(df.columns), min_group=10)
    assert "bad_option" in e.value.report.codes()
    with pytest.raises(InputError) as e:
        mk.grm(df.assign(q1="x"), items=list(df.columns))
    assert "non_numeric" in e.value.report.codes()


@pytest.mark.r_fixture
def test_slopes_agree_with_lavaan_ordinal_cfa(fixtures_dir):
    """lavaan cfa(ordered=, estimator="WLSMV") standardised loadings converted to the logistic
    metric, a = 1.702 lambda / sqrt(1 - lambda^2) (tests/fixtures/r/grm_lavaan.R)."""
    data = pd.read_csv(fixtures_dir / "r" / "grm_sim.csv")
    lav = pd.read_csv(fixtures_dir / "r" / "grm_lavaan_loadings.csv").set_index("item")
    res = mk.grm(data, items=list(data.columns), se=False, item_fit=False)
    a = res.table.set_index("item").loc[lav.index, "a"]
    np.testing.assert_allclose(a.to_numpy(), lav["a_logistic"].to_numpy(), rtol=0.05)


@pytest.mark.parametrize("mixed", [False, True])
@pytest.mark.parametrize("start", [None, (0.05, [6.0, 2.0, -2.0, -6.0]), (8.0, [9.0, 8.9, -8.9, -9.0])])
def test_one_group_em_equals_the_general_em(monkeypatch, start, mixed):
    """With one group, EM runs on the parameters of the items with the same number of categories as one array
    (grm_em._em_one_group, for speed). It must give the general item-by-item path's estimates bit for bit: the
    same cycles, log-likelihood and parameters, with every item on 5 categories or items on 5 and 4 alternating,
    from the usual start and from starts far off whose Fisher steps overshoot and are halved (checked: more
    evaluations of the category probabilities than one per batch and cycle), also when EM is stopped after 3
    cycles, and recover the simulated slopes."""
    from measurekit.stats._numerics import grm_em
    from measurekit.stats.irt import item_codes

    df, a, _, _ = simulate(1500, 12, seed=5, missing=0.1)
    keep = list(range(12)) if mixed else list(range(0, 12, 2))       # 5 and 4 categories, or only 5
    codes, n_cat, _ = item_codes(df.iloc[:, keep])
    rows = (codes >= 0).any(axis=1)
    starts = None if start is None else [(start[0], np.array(start[1][:k - 1])) for k in n_cat]
    calls = []
    probs = grm_em.log_category_probs
    monkeypatch.setattr(grm_em, "log_category_probs", lambda *a: calls.append(1) or probs(*a))
    fast = grm_em.fit_grm(codes[rows], n_cat, tol=1e-4, start=starts)
    batches = len(set(n_cat))
    # one per batch and cycle, one per batch at the start, one per batch for the final loglik
    halved = len(calls) > batches * (fast.iterations + 2)
    assert halved == (start is not None)
    cut_short = grm_em.fit_grm(codes[rows], n_cat, tol=1e-4, start=starts, max_iter=3)
    monkeypatch.setattr(grm_em, "_em_one_group", lambda layouts, mean, sd, data, theta, tol, max_iter:
                        grm_em._em_general(layouts, mean, sd, data, theta, False, tol, max_iter))
    slow = grm_em.fit_grm(codes[rows], n_cat, tol=1e-4, start=starts)
    slow_cut = grm_em.fit_grm(codes[rows], n_cat, tol=1e-4, start=starts, max_iter=3)
    assert (cut_short.converged, cut_short.iterations) == (slow_cut.converged, slow_cut.iterations) == (False, 3)
    assert cut_short.loglik == slow_cut.loglik
    assert fast.converged and slow.converged
    assert fast.iterations == slow.iterations
    assert fast.loglik == slow.loglik
    for f, s in zip(fast.layouts, slow.layouts):
        np.testing.assert_array_equal(f.values, s.values)
    np.testing.assert_array_equal(grm_em.eap(fast)[0], grm_em.eap(slow)[0])
    np.testing.assert_allclose([L.values[0] for L in fast.layouts], a[keep], atol=0.3)
