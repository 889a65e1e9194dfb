"""Step 4 of a fit with missing answers: full-information ML (lavaan ``missing = "ml"``).

Every row with at least one answer is used: the objective is -2 loglik / N summed over groups and
missing-data patterns (the normal density of each pattern's observed items, ``_numerics/fiml.py``).
The chi-square compares with the saturated model estimated by EM; standard errors come from the
observed information (lavaan's default with ``missing = "ml"``), analytic: the ML information of
:mod:`measurekit.stats.sem.ml` with every missing-data pattern a block on its observed items. The
optimiser is the same Fisher-scoring/Newton routine as ML's (the expected information of a pattern
is the ML one on its items), with L-BFGS-B as the fall-back.
"""
from __future__ import annotations

import numpy as np

from measurekit.stats.sem.ml import chain, information_blocks, lbfgs, newton, standard_errors
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
            return 1e10, np.zeros_like(theta)
        f += -2 * ll / n_total
        chain(spec, g, L, P, al, G, gmu, 1 / n_total, grad)
    return f, grad


def information(spec: Spec, theta: np.ndarray, pats: list, observed: bool = False) -> np.ndarray:
    """Expected or observed information of the FIML fit: every missing-data pattern a block of the ML
    information on the items it observes (patterns with as many observed items stacked in one batch)."""
    mp = spec.maps
    L_, P_, T_, nu_, al_ = spec.all_matrices(theta)
    k = spec.n_free
    out = np.zeros((k, k))
    for g, pg in enumerate(pats):
        for obs, n, mean, cov in pg.batches:
            B, q = obs.shape
            m = P_.shape[1]
            oi, oj = obs[:, :, None], obs[:, None, :]
            out += information_blocks(
                L_[g][obs], np.broadcast_to(P_[g], (B, m, m)), T_[g][oi, oj], nu_[g][obs],
                np.broadcast_to(al_[g], (B, m)),
                mp.dL[g][:, obs].transpose(1, 0, 2, 3), np.broadcast_to(mp.dP[g], (B,) + mp.dP[g].shape),
                mp.dT[g][:, oi, oj].transpose(1, 0, 2, 3), mp.dnu[g][:, obs].transpose(1, 0, 2),
                np.broadcast_to(mp.dal[g], (B,) + mp.dal[g].shape), cov, mean, n, True, observed)
    return out


def fit_fiml(sample, equal=(), release=()):
    """A FIML fit of ``sample.model`` to :class:`~measurekit.stats.sem.sample.FIMLSample` ``sample``."""
    from measurekit.stats.sem.results import finish
    from measurekit.stats.sem.spec import build, not_identified, start

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

    theta0 = start(spec, d.S, d.M)
    theta, fmin, _g, converged = newton(f, lambda t, obs: information(spec, t, pats, obs), theta0, n_total)
    if not converged:
        theta, fmin, converged = lbfgs(f, theta0)
    warnings = [] if converged else ["The model did not converge: the numbers below are not trustworthy."]
    loglik = -fmin * n_total / 2
    se = standard_errors(information(spec, theta, pats, observed=True))
    ll1 = sample.loglik_saturated
    return finish(spec, theta, d, sample.selection, 2 * (ll1 - loglik), df_model, 2 * (ll1 - sample.loglik_baseline),
                  loglik, converged, warnings, "ML (FIML)", se, sample.few_categories, {"loglik_saturated": ll1})
