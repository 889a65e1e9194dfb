"""Small, fast maximum-likelihood logistic regression (Newton-Raphson) and the AUC.

Matches R's ``glm(family = binomial)`` coefficients and log-likelihood for well-posed
problems. Used by the synthetic ground truth and the added-value analysis.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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

    def loglik(b):
        eta = X @ b
        return float(np.sum(w * (y * eta - np.logaddexp(0, eta))))

    ll = loglik(beta)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        eta = X @ beta
        p = 1 / (1 + np.exp(-eta))
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
            new_ll = loglik(new)
            if new_ll >= ll - 1e-12 or t < 1e-6:
                break
            t /= 2
        change = abs(new_ll - ll) / (abs(ll) + 0.1)
        beta, ll = new, new_ll
        if change < tol:
            converged = True
            break
    p = 1 / (1 + np.exp(-(X @ beta)))
    separated = bool(np.any((p < 1e-8) | (p > 1 - 1e-8)) or np.max(np.abs(beta)) > 25)
    return LogitFit(beta, ll, converged, it, separated)


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney form; ties count one half)."""
    from scipy.stats import rankdata

    y = np.asarray(y).astype(bool)
    n1, n0 = y.sum(), (~y).sum()
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
