"""Matrix helpers shared by the reliability and factor modules (pairwise covariance, SMC)."""
from __future__ import annotations

import numpy as np


def pairwise_cov(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariance matrix with pairwise deletion, as R's ``cov(x, use = "pairwise")``.

    Each entry uses the rows where both variables are present (means taken over those rows).
    Returns (covariance, pairwise counts). Vectorised: three matrix products.
    """
    m = ~np.isnan(x)
    x0 = np.where(m, x, 0.0)
    mf = m.astype(float)
    n = mf.T @ mf
    s = x0.T @ mf            # s[j, k] = sum of x_j over rows where x_k is present (and x_j too)
    ss = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (ss - s * s.T / n) / (n - 1)
    return cov, n


def cov_to_cor(c: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diag(c))
    return c / np.outer(d, d)


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations 1 - 1/diag(R^+) (psych::smc, via the pseudo-inverse), clipped to [0, 1]."""
    inv = np.linalg.pinv(r)
    out = 1 - 1 / np.diag(inv)
    return np.clip(out, 0, 1)


def pairwise_cor(x: np.ndarray) -> np.ndarray:
    """Correlation matrix with pairwise deletion, as R's ``cor(x, use = "pairwise")``:
    means and standard deviations of each pair are taken over the rows where both are present."""
    m = ~np.isnan(x)
    x0 = np.where(m, x, 0.0)
    mf = m.astype(float)
    n = mf.T @ mf
    s = x0.T @ mf                    # s[j, k]: sum of x_j over rows where both present
    sq = (x0 * x0).T @ mf            # sq[j, k]: sum of x_j^2 over rows where both present
    ss = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = ss - s * s.T / n
        var_j = sq - s * s / n
        r = cov / np.sqrt(var_j * var_j.T)
    np.fill_diagonal(r, 1.0)
    return r
