"""Full-information maximum likelihood for multivariate normal data with missing values.

Rows are grouped by missing-data pattern; each pattern contributes the normal log-likelihood of its
observed variables, from its mean and (biased) covariance (Arbuckle 1996; lavaan's ``missing = "ml"``).
The saturated (unrestricted) model is estimated by EM (lavaan's ``lav_mvnorm_missing_h1_estimate_moments``
does the same), giving the baseline for the chi-square test and the moments SRMR is computed from.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOG2PI = np.log(2 * np.pi)


@dataclass
class Pattern:
    obs: np.ndarray          # indices of the observed variables
    n: int
    mean: np.ndarray         # pattern mean of the observed variables
    cov: np.ndarray          # pattern covariance (divided by n)
    x: np.ndarray            # the rows (observed columns only), for EM


def patterns(x: np.ndarray) -> PatternSet:
    """Missing-data patterns of x (rows with nothing observed must be removed first)."""
    miss = np.isnan(x)
    if miss.shape[1] <= 62:
        code = miss @ (1 << np.arange(miss.shape[1], dtype=np.int64))     # one integer per pattern
        codes, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    else:
        codes, first, inverse = np.unique(miss, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(inverse.ravel(), kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(inverse.ravel(), minlength=len(codes)))])
    out = []
    for k in range(len(codes)):
        key = miss[first[k]]
        rows = x[order[bounds[k]: bounds[k + 1]]][:, ~key]
        m = rows.mean(axis=0)
        c = rows - m
        out.append(Pattern(np.flatnonzero(~key), len(rows), m, c.T @ c / len(rows), rows))
    return PatternSet(out)


def _batches(pats: list[Pattern]) -> list[tuple]:
    """Patterns with the same number of observed variables stacked, for batched Cholesky/inverse."""
    out: dict[int, list[Pattern]] = {}
    for pt in pats:
        out.setdefault(len(pt.obs), []).append(pt)
    return [(np.stack([pt.obs for pt in group]), np.array([pt.n for pt in group], dtype=float),
             np.stack([pt.mean for pt in group]), np.stack([pt.cov for pt in group])) for group in out.values()]


class PatternSet(list):
    """The patterns of one group, with their batched form computed once."""

    def __init__(self, pats):
        super().__init__(pats)
        self.batches = _batches(pats)


def loglik(pats, Sigma: np.ndarray, mu: np.ndarray, grad: bool = False):
    """Log-likelihood, and (optionally) the derivatives of -2 loglik with respect to Sigma (element-wise,
    symmetric) and mu. Patterns with the same number of observed variables are handled in one batch."""
    p = len(mu)
    ll = 0.0
    G = np.zeros((p, p))
    gmu = np.zeros(p)
    batches = pats.batches if isinstance(pats, PatternSet) else _batches(pats)
    for obs, n, mean, cov in batches:
        k = obs.shape[1]
        So = Sigma[obs[:, :, None], obs[:, None, :]]
        try:
            C = np.linalg.cholesky(So)
        except np.linalg.LinAlgError:
            return (-np.inf, G, gmu) if grad else -np.inf
        Si = np.linalg.inv(So)
        d = mean - mu[obs]
        Sd = np.einsum("pij,pj->pi", Si, d)
        logdet = 2 * np.log(np.diagonal(C, axis1=1, axis2=2)).sum(axis=1)
        ll += float(np.sum(-n / 2 * (k * LOG2PI + logdet + np.einsum("pij,pij->p", Si, cov)
                                     + np.einsum("pi,pi->p", d, Sd))))
        if grad:
            # each pattern's derivatives embedded in p x p (its observed items are distinct), then summed
            A = cov + d[:, :, None] * d[:, None, :]
            B = len(n)
            emb = np.zeros((B, p, p))
            emb[np.arange(B)[:, None, None], obs[:, :, None], obs[:, None, :]] = n[:, None, None] * (Si - Si @ A @ Si)
            G += emb.sum(axis=0)
            vec = np.zeros((B, p))
            vec[np.arange(B)[:, None], obs] = -2 * n[:, None] * Sd
            gmu += vec.sum(axis=0)
    return (ll, G, gmu) if grad else ll


def em_saturated(pats: list[Pattern], p: int, tol: float = 1e-11, max_iter: int = 5000):
    """EM estimates of the unrestricted mean and covariance; returns (Sigma, mu, loglik, iterations).

    The E-step works on each pattern's sufficient statistics (its mean and covariance), batched over
    patterns with as many observed variables: with B = Sigma_oo^-1 Sigma_om and x_m^ = mu_m + B'(xbar_o -
    mu_o), a pattern of n rows adds n xbar_o and n x_m^ to the sum, and n (C_o + xbar_o xbar_o'),
    n (C_o B + xbar_o x_m^') and n (B' C_o B + x_m^ x_m^' + Sigma_mm - Sigma_mo B) to the cross-products."""
    n = sum(pt.n for pt in pats)
    mu = np.zeros(p)
    cnt = np.zeros(p)
    for pt in pats:
        mu[pt.obs] += pt.mean * pt.n
        cnt[pt.obs] += pt.n
    mu = mu / np.maximum(cnt, 1)
    var = np.zeros(p)
    for pt in pats:
        var[pt.obs] += np.diag(pt.cov) * pt.n + (pt.mean - mu[pt.obs]) ** 2 * pt.n
    Sigma = np.diag(var / np.maximum(cnt, 1))
    batches = pats.batches if isinstance(pats, PatternSet) else _batches(pats)
    prep = []
    for obs, nb, mean, cov in batches:
        B, k = obs.shape
        missing = np.ones((B, p), dtype=bool)
        missing[np.arange(B)[:, None], obs] = False
        mis = np.nonzero(missing)[1].reshape(B, p - k)
        inv = np.argsort(np.concatenate([obs, mis], axis=1), axis=1)
        prep.append((obs, mis, inv, nb, mean, cov, cov + mean[:, :, None] * mean[:, None, :]))
    old = -np.inf
    for it in range(max_iter):
        T1 = np.zeros(p)
        T2 = np.zeros((p, p))
        for obs, mis, inv, nb, mean, cov, second in prep:
            k = obs.shape[1]
            if k == p:
                T1[obs[0]] += nb @ mean
                T2[obs[0][:, None], obs[0][None, :]] += np.einsum("b,bij->ij", nb, second)
                continue
            oi, mi = obs[:, :, None], mis[:, :, None]
            Soo, Som = Sigma[oi, obs[:, None, :]], Sigma[oi, mis[:, None, :]]
            Bm = np.linalg.solve(Soo, Som)                                       # (B, k, m)
            xm = mu[mis] + np.einsum("bk,bkm->bm", mean - mu[obs], Bm)
            E = np.empty((len(nb), p, p))
            E[:, :k, :k] = second
            om = cov @ Bm + mean[:, :, None] * xm[:, None, :]
            E[:, :k, k:] = om
            E[:, k:, :k] = om.transpose(0, 2, 1)
            E[:, k:, k:] = (Bm.transpose(0, 2, 1) @ cov @ Bm + xm[:, :, None] * xm[:, None, :]
                            + Sigma[mi, mis[:, None, :]] - Som.transpose(0, 2, 1) @ Bm)
            E = np.take_along_axis(np.take_along_axis(E, inv[:, :, None], 1), inv[:, None, :], 2)
            T1 += nb @ np.take_along_axis(np.concatenate([mean, xm], axis=1), inv, 1)
            T2 += np.einsum("b,bij->ij", nb, E)
        mu = T1 / n
        Sigma = T2 / n - np.outer(mu, mu)
        ll = loglik(pats, Sigma, mu)
        if abs(ll - old) < tol * max(1.0, abs(ll)):
            return Sigma, mu, ll, it + 1
        old = ll
    return Sigma, mu, ll, max_iter


def independence_loglik(pats: list[Pattern], p: int) -> float:
    """Log-likelihood of the baseline model (variables independent; means and variances free): each
    variable's ML mean and variance come from the rows that observe it."""
    sums, sq, cnt = np.zeros(p), np.zeros(p), np.zeros(p)
    for pt in pats:
        sums[pt.obs] += pt.x.sum(axis=0)
        sq[pt.obs] += (pt.x ** 2).sum(axis=0)
        cnt[pt.obs] += pt.n
    mean = sums / cnt
    var = sq / cnt - mean ** 2
    return float(np.sum(-cnt / 2 * (LOG2PI + np.log(var) + 1)))
