"""Step 4 of a fit with missing answers: full-information ML (lavaan ``missing = "ml"``).

Every row with at least one answer is used: the objective is -2 loglik / N summed over groups and
missing-data patterns (the normal density of each pattern's observed items, ``_numerics/fiml.py``).
The chi-square compares with the saturated model estimated by EM; standard errors come from the
observed information (lavaan's default with ``missing = "ml"``), analytic: the ML information of
:mod:`measurekit.stats.sem.ml` with every missing-data pattern a block on its observed items. The
optimiser is the same Fisher-scoring/Newton routine as ML's (the expected information of a pattern
is the ML one on its items; :func:`measurekit.stats.sem.ml.minimise`), with L-BFGS-B as the fall-back;
the objective is infinite where a group's Sigma is not positive definite.
"""
from __future__ import annotations

import numpy as np

from measurekit.stats.sem.ml import chain, derivatives, minimise, standard_errors
from measurekit.stats.sem.spec import Spec


def objective(theta: np.ndarray, spec: Spec, pats: list, n_total: float):
    """-2 loglik / N summed over groups and missing-data patterns, and its gradient."""
    from measurekit.stats._numerics.fiml import loglik

    f, grad = 0.0, np.zeros_like(theta)
    L_, P_, T_, nu_, al_ = spec.all_matrices(theta)
    for g, pg in enumerate(pats):
        L, P, T, nu, al = L_[g], P_[g], T_[g], nu_[g], al_[g]
        ll, G, gmu = loglik(pg, L @ P @ L.T + T, nu + L @ al, grad=True)
        if not np.isfinite(ll):
            return np.inf, np.zeros_like(theta)
        f += -2 * ll / n_total
        chain(spec, g, L, P, al, G, gmu, 1 / n_total, grad)
    return f, grad


def _four(X: np.ndarray, Wn: np.ndarray, p: int) -> np.ndarray:
    """sum_b X_b[l, i] (n_b W_b)[j, k] as a (p * p) x (p * p) matrix indexed [(i, j), (k, l)], from the
    patterns' embedded symmetric X_b and n_b W_b stacked as rows (patterns x p * p)."""
    return (X.T @ Wn).reshape(p, p, p, p).transpose(0, 2, 3, 1).reshape(p * p, p * p)


def information(spec: Spec, theta: np.ndarray, pats: list, observed: bool = False) -> np.ndarray:
    """Expected or observed information of the FIML fit: the sum over missing-data patterns of the ML
    information of :func:`measurekit.stats.sem.ml.information_blocks` on the items each pattern observes.

    Every term of that information is linear in a pattern's W = Sigma_oo^-1, W (C + d d') W, W d or in
    products of two of them, so the patterns enter through a few weighted sums of those matrices
    embedded in p x p (zeros for the items a pattern misses); the derivatives of Sigma and mu are then
    used once per group, not once per pattern."""
    mp = spec.maps
    L_, P_, T_, nu_, al_ = spec.all_matrices(theta)
    k = spec.n_free
    out = np.zeros((k, k))
    for g, pg in enumerate(pats):
        L, P, al = L_[g], P_[g], al_[g]
        Sigma, mu = L @ P @ L.T + T_[g], nu_[g] + L @ al
        p = len(mu)
        D, Dm = derivatives(L[None], P[None], al[None], mp.dL[g][None], mp.dP[g][None], mp.dT[g][None],
                            mp.dnu[g][None], mp.dal[g][None])
        D, Dm = D[0], Dm[0]
        # the patterns' embedded W, W (C + d d') W and W d, stacked: (patterns, p * p) and (patterns, p)
        Wf, Vf, Wdf, ns = [], [], [], []
        for obs, n, mean, cov in pg.batches:
            B = len(n)
            oi, oj = obs[:, :, None], obs[:, None, :]
            bi = np.arange(B)[:, None, None]
            W = np.linalg.inv(Sigma[oi, oj])
            emb = np.zeros((B, p, p))
            emb[bi, oi, oj] = W
            Wf.append(emb.reshape(B, p * p))
            ns.append(n)
            if observed:
                dev = mean - mu[obs]
                emb = np.zeros((B, p, p))
                emb[bi, oi, oj] = W @ (cov + dev[:, :, None] * dev[:, None, :]) @ W
                Vf.append(emb.reshape(B, p * p))
                wd = np.zeros((B, p))
                wd[np.arange(B)[:, None], obs] = (W @ dev[:, :, None])[:, :, 0]
                Wdf.append(wd)
        n = np.concatenate(ns)
        Wn = np.concatenate(Wf) * n[:, None]

        Wflat = np.concatenate(Wf)
        Df = D.reshape(k, p * p)
        sym = Df @ _four(Wflat, Wn, p) @ Df.T
        Wsum = Wn.sum(axis=0).reshape(p, p)
        mm = Dm @ Wsum @ Dm.T
        if not observed:
            out += 0.5 * sym + mm
            continue
        Vflat, Wd_all = np.concatenate(Vf), np.concatenate(Wdf)
        A = Wsum - (n @ Vflat).reshape(p, p)
        Wd_sum = n @ Wd_all
        Q = (Wd_all.T @ Wn).reshape(p, p * p)           # [i, (j, k)] = sum_b n_b (W d)_i W_jk
        dLf = mp.dL[g].reshape(k, -1)
        H = -sym + 2 * Df @ _four(Vflat, Wn, p) @ Df.T
        H += 2 * dLf @ (A @ mp.dL[g] @ P).reshape(k, -1).T
        lp = dLf @ ((A @ L) @ mp.dP[g]).reshape(k, -1).T
        H += 2 * (lp + lp.T)
        v = Df @ Q.reshape(p * p, p) @ Dm.T
        q = (mp.dL[g].transpose(0, 2, 1) @ Wd_sum) @ mp.dal[g].T
        H += 2 * (v + v.T) + 2 * mm - 2 * (q + q.T)
        out += 0.5 * H
    return out


def fit_fiml(sample, equal=(), release=()):
    """A FIML fit of ``sample.model`` to :class:`~measurekit.stats.sem.sample.FIMLSample` ``sample``."""
    from measurekit.stats.sem.results import finish
    from measurekit.stats.sem.spec import build, improper, not_identified, start

    d, pats = sample.moments, sample.patterns
    spec = build(sample.model, sample.groups, meanstructure=True, equal=set(equal), release=release)
    df_model = spec.n_moments() - spec.n_free
    if df_model < 0:
        raise not_identified(f"The model is not identified: it has {spec.n_free} free parameters but only "
                             f"{df_model + spec.n_free} variances, covariances and means. Add indicators or "
                             "constraints.")
    n_total = d.N.sum()

    def f(t):
        return objective(t, spec, pats, n_total)

    # the triad start, then lavaan's simple start, then L-BFGS-B from the lowest point reached
    theta, fmin, converged = minimise(f, lambda t, obs: information(spec, t, pats, obs),
                                      [start(spec, d.S, d.M), lambda: start(spec, d.S, d.M, triads=False)], n_total,
                                      lambda t: improper(spec, t))
    warnings = [] if converged else ["The model did not converge: the numbers below are not trustworthy."]
    loglik = -fmin * n_total / 2
    se = standard_errors(information(spec, theta, pats, observed=True))
    ll1 = sample.loglik_saturated
    return finish(spec, theta, d, sample.selection, 2 * (ll1 - loglik), df_model, 2 * (ll1 - sample.loglik_baseline),
                  loglik, converged, warnings, "ML (FIML)", se, sample.few_categories, {"loglik_saturated": ll1})
