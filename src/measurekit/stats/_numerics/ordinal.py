"""Proportional-odds (ordinal logistic) regression, as R's ``MASS::polr`` (logit link).

Model: P(Y <= k | x) = expit(zeta_k - x'beta), k = 1..K-1, with increasing cut points ``zeta``
(polr's ``zeta``) and slopes ``beta`` (polr's ``coefficients``; no intercept). Fitted by maximum
likelihood with Newton-Raphson on the analytic gradient and Hessian (the log-likelihood is concave
in (zeta, beta)), with step halving that keeps the cut points ordered. Standard errors come from the
inverse of the observed information, as ``summary(polr(..., Hess = TRUE))``. Checked against
MASS::polr in tests/fixtures/r/dif.R.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from measurekit.stats._numerics.logistic import expit


@dataclass
class OrdinalFit:
    """beta: slopes; zeta: cut points; se_beta / se_zeta: standard errors; loglik: log-likelihood
    (R's ``logLik``); converged: gradient below tolerance; iterations: Newton steps."""

    beta: np.ndarray
    zeta: np.ndarray
    se_beta: np.ndarray
    se_zeta: np.ndarray
    loglik: float
    converged: bool
    iterations: int


def _loglik_parts(theta, X, y, n_cut, need_hess=True):
    z, b = theta[:n_cut], theta[n_cut:]
    n = len(y)
    eta = X @ b
    has_up = y < n_cut
    has_lo = y > 0
    up = np.minimum(y, n_cut - 1)
    lo = np.maximum(y - 1, 0)
    Fa = np.where(has_up, expit(z[up] - eta), 1.0)
    Fb = np.where(has_lo, expit(z[lo] - eta), 0.0)
    u = Fa - Fb
    if np.any(u <= 0):
        return -np.inf, None, None
    ll = float(np.sum(np.log(u)))
    if not need_hess:
        return ll, None, None
    fa = Fa * (1 - Fa)                       # zero where there is no upper cut (Fa = 1)
    fb = Fb * (1 - Fb)
    P = n_cut + X.shape[1]
    rows = np.arange(n)
    Va = np.zeros((n, P))
    Va[rows[has_up], up[has_up]] = 1.0
    Va[:, n_cut:] = -X * has_up[:, None]
    Vb = np.zeros((n, P))
    Vb[rows[has_lo], lo[has_lo]] = 1.0
    Vb[:, n_cut:] = -X * has_lo[:, None]
    G = (fa[:, None] * Va - fb[:, None] * Vb) / u[:, None]
    grad = G.sum(axis=0)
    da = fa * (1 - 2 * Fa) / u
    db = fb * (1 - 2 * Fb) / u
    H = (Va * da[:, None]).T @ Va - (Vb * db[:, None]).T @ Vb - G.T @ G
    return ll, grad, H


def fit_ordinal(X: np.ndarray, y: np.ndarray, tol: float = 1e-9, max_iter: int = 100) -> OrdinalFit:
    """Fit a proportional-odds model. ``y`` holds category indices 0..K-1 (K >= 2, each observed);
    ``X`` is n x p without an intercept column."""
    y = np.asarray(y, dtype=int)
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    K = int(y.max()) + 1
    n_cut = K - 1
    props = np.clip(np.bincount(y, minlength=K).cumsum()[:-1] / len(y), 1e-6, 1 - 1e-6)
    z0 = np.log(props / (1 - props))
    z0 = z0 + np.arange(n_cut) * 1e-6
    # start the cut points at the marginal logits shifted by the mean linear predictor (zero slopes)
    theta = np.concatenate([z0, np.zeros(X.shape[1])])
    ll, grad, H = _loglik_parts(theta, X, y, n_cut)
    converged = False
    it = 0
    for _ in range(max_iter):
        it += 1
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, grad, rcond=None)[0]
        t = 1.0
        while True:
            cand = theta - t * step
            ok_order = np.all(np.diff(cand[:n_cut]) > 0)
            ll_new = _loglik_parts(cand, X, y, n_cut, need_hess=False)[0] if ok_order else -np.inf
            if ll_new >= ll - 1e-12 or t < 1e-10:
                break
            t /= 2
        if not np.isfinite(ll_new):
            break
        theta = cand
        ll, grad, H = _loglik_parts(theta, X, y, n_cut)
        if np.max(np.abs(grad)) < tol * max(1.0, len(y) / 100):
            converged = True
            break
    try:
        cov = np.linalg.inv(-H)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(len(theta), np.nan)
    return OrdinalFit(theta[n_cut:], theta[:n_cut], se[n_cut:], se[:n_cut], float(ll), converged, it)
