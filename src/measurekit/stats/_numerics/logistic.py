"""Small, fast maximum-likelihood logistic regression (Newton-Raphson) and the AUC.

Matches R's ``glm(family = binomial)`` coefficients and log-likelihood for well-posed
problems. Used by the synthetic ground truth and the added-value analysis.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from measurekit.stats._numerics.threads import single_thread


def expit(x):
    """The logistic function 1 / (1 + exp(-x)); exp(-x) overflowing to inf (a large negative x, e.g. a fit on a
    separated resample) gives the probability 0 without a warning."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


@dataclass
class LogitFit:
    coef: np.ndarray         # coefficients, intercept first when the design has one
    loglik: float            # maximised log-likelihood
    converged: bool
    n_iter: int
    separated: bool          # fitted probabilities of 0 or 1 (complete or quasi-complete separation)

    def predict_linear(self, X: np.ndarray) -> np.ndarray:
        return X @ self.coef


def add_intercept(X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X])


def fit_logistic(X: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None,
                 max_iter: int = 50, tol: float = 1e-10, start: np.ndarray | None = None) -> LogitFit:
    """Fit P(y = 1) = expit(X @ b) by Newton-Raphson with step halving.

    ``X`` must already contain an intercept column if one is wanted (see ``add_intercept``).
    ``weights`` are frequency weights. Convergence: relative change in deviance < tol.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    beta = np.zeros(X.shape[1]) if start is None else np.array(start, dtype=float)

    eta = X @ beta
    ll = float(np.sum(w * (y * eta - np.logaddexp(0, eta))))
    converged = False
    it = 0
    for _ in range(max_iter):
        it += 1
        p = expit(eta)
        grad = X.T @ (w * (y - p))
        W = w * p * (1 - p)
        H = X.T @ (X * W[:, None])
        try:
            step = np.linalg.solve(H + 1e-12 * np.eye(len(beta)), grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, grad, rcond=None)[0]
        t = 1.0
        while True:
            new = beta + t * step
            new_eta = X @ new
            new_ll = float(np.sum(w * (y * new_eta - np.logaddexp(0, new_eta))))
            if new_ll >= ll - 1e-12 or t < 1e-6:
                break
            t /= 2
        change = abs(new_ll - ll) / (abs(ll) + 0.1)
        beta, ll, eta = new, new_ll, new_eta
        if change < tol:
            converged = True
            break
    p = expit(X @ beta)
    separated = bool(np.any((p < 1e-8) | (p > 1 - 1e-8)) or np.max(np.abs(beta)) > 25)
    return LogitFit(beta, ll, converged, it, separated)


def auc(y: np.ndarray, score: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Area under the ROC curve: P(score of a child with the outcome > one without), ties count
    one half (the Mann-Whitney form). ``weights`` are frequency weights (e.g. bootstrap counts)."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(score, dtype=float)
    w = np.ones(len(s)) if weights is None else np.asarray(weights, dtype=float)
    w1, w0 = w[y].sum(), w[~y].sum()
    if w1 == 0 or w0 == 0:
        return float("nan")
    order = np.argsort(s[~y], kind="mergesort")
    neg_s, neg_w = s[~y][order], w[~y][order]
    cum = np.concatenate([[0.0], np.cumsum(neg_w)])
    lo = np.searchsorted(neg_s, s[y], side="left")
    hi = np.searchsorted(neg_s, s[y], side="right")
    wins = cum[lo] + 0.5 * (cum[hi] - cum[lo])
    return float(np.sum(w[y] * wins) / (w1 * w0))


# ---------------------------------------------------------------------------
# Design matrices with properly coded categorical predictors
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# Batched Newton-Raphson for many weight vectors at once (bootstrap)
# ---------------------------------------------------------------------------

def _loglik_batch(eta, y, W):
    return np.sum(W * (y * eta - np.logaddexp(0, eta)), axis=1)


@single_thread
def fit_logistic_batch(X: np.ndarray, y: np.ndarray, W: np.ndarray, start: np.ndarray | None = None,
                       max_iter: int = 30, tol: float = 1e-9):
    """Fit one logistic regression per row of the weight matrix ``W`` (shape B x n), all at once.

    Designed for the bootstrap: ``W`` holds multinomial resampling counts, and ``start`` (the
    full-sample coefficients) warm-starts Newton-Raphson so that 3-5 iterations usually suffice
    (resamples with a quasi-separated category take up to ``max_iter``, converging linearly).
    The Hessians of all B problems come from one matrix product ``(W * p(1-p)) @ [x_i x_i']``.
    Step halving keeps each log-likelihood from falling. One BLAS thread (``threads.single_thread``): the
    products are B x n by n x p^2, and OpenBLAS threads fighting over a busy machine's cores made them several
    times slower; one thread also gives the same digits on any number of cores.

    Returns ``(coef (B x p), loglik (B,), converged (B,) bool)``.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    W = np.atleast_2d(np.asarray(W, dtype=float))
    B, p = W.shape[0], X.shape[1]
    outer = (X[:, :, None] * X[:, None, :]).reshape(len(X), p * p)
    beta = np.zeros((B, p)) if start is None else np.tile(np.asarray(start, dtype=float), (B, 1))
    eta = beta @ X.T
    ll = _loglik_batch(eta, y, W)
    converged = np.zeros(B, dtype=bool)
    ridge = 1e-10 * np.eye(p)
    active = np.arange(B)
    Wa = W
    for _ in range(max_iter):
        if active.size == 0:
            break
        if len(Wa) != active.size:              # copy the weights of the unfinished fits only when some finished
            Wa = W[active]
        ba, ea = beta[active], eta[active]
        with np.errstate(over="ignore"):        # a separated resample: exp(-eta) = inf gives the probability 0
            prob = np.exp(-ea)                  # 1 / (1 + exp(-eta)), in place (the same numbers)
        prob += 1
        np.divide(1.0, prob, out=prob)
        grad = (Wa * (y - prob)) @ X
        curv = Wa * prob
        curv *= 1 - prob
        H = (curv @ outer).reshape(-1, p, p) + ridge
        try:
            step = np.linalg.solve(H, grad[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            step = np.stack([np.linalg.lstsq(h, g, rcond=None)[0] for h, g in zip(H, grad)])
        t = np.ones(active.size)
        new_b = ba + step
        new_e = new_b @ X.T
        new_ll = _loglik_batch(new_e, y, Wa)
        old_ll = ll[active]
        for _half in range(12):
            bad = ~(new_ll >= old_ll - 1e-10)
            if not bad.any():
                break
            t[bad] /= 2
            new_b[bad] = ba[bad] + t[bad, None] * step[bad]
            new_e[bad] = new_b[bad] @ X.T
            new_ll[bad] = _loglik_batch(new_e[bad], y, Wa[bad])
        change = np.abs(new_ll - old_ll) / (np.abs(old_ll) + 0.1)
        beta[active], eta[active], ll[active] = new_b, new_e, new_ll
        done = change < tol
        converged[active[done]] = True
        active = active[~done]
    return beta, ll, converged


def _sort_kind(weights: np.ndarray) -> Literal["stable"] | None:
    """How ``auc_batch`` may sort. With whole-number weights (bootstrap counts) and totals below 2**24, every sum
    it forms is of whole and half numbers below 2**52, so exact: the order of tied scores among themselves cannot
    change a digit, and numpy's default sort (introsort, SIMD where the machine has it; about twice as fast) gives
    the same AUCs as a stable sort. Any other weights: a stable sort, as before."""
    total = weights.sum(axis=1).max() if weights.size else 0.0
    if np.isfinite(total) and total < 2 ** 24 and (weights >= 0).all() and np.array_equal(weights, np.floor(weights)):
        return None
    return "stable"


def auc_batch(scores: np.ndarray, y: np.ndarray, weights: np.ndarray, order: np.ndarray | None = None,
              groups: np.ndarray | None = None):
    """Weighted AUC (ties count one half) for each row of ``scores`` (B x n) with weights ``weights`` (B x n).

    With multinomial bootstrap counts as weights this equals the AUC of the resampled data.
    ``groups`` (optional, G x n boolean) gives the AUC within each subgroup as well: result
    shape (G, B). Without groups the result has shape (B,).
    """
    scores = np.atleast_2d(scores)
    weights = np.atleast_2d(weights)
    B, n = scores.shape
    if order is None:
        order = np.argsort(scores, axis=1, kind=_sort_kind(weights))
    s = np.take_along_axis(scores, order, axis=1)
    ys = np.asarray(y, dtype=float)[order]
    ws = np.take_along_axis(weights, order, axis=1)
    idx = np.broadcast_to(np.arange(n), (B, n))
    new = np.ones((B, n), dtype=bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    start = np.maximum.accumulate(np.where(new, idx, 0), axis=1)
    last = np.ones((B, n), dtype=bool)
    last[:, :-1] = new[:, 1:]
    end = np.minimum.accumulate(np.where(last, idx, n - 1)[:, ::-1], axis=1)[:, ::-1]
    gmasks = [None] if groups is None else [np.asarray(g, dtype=float)[order] for g in np.atleast_2d(groups)]
    out = []
    for gm in gmasks:
        w = ws if gm is None else ws * gm
        w0 = w * (1 - ys)
        w1 = w * ys
        c0 = np.cumsum(w0, axis=1)
        c0_excl = c0 - w0
        below = np.take_along_axis(c0_excl, start, axis=1)
        tied = np.take_along_axis(c0, end, axis=1) - below
        num = np.sum(w1 * (below + 0.5 * tied), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(num / (w1.sum(axis=1) * w0.sum(axis=1)))
    return out[0] if groups is None else np.array(out)
