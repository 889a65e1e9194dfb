"""Thresholds, polychoric correlations and their asymptotic covariance matrix (Muthen 1984).

This is the sample-statistics stage of lavaan's ``estimator = "WLSMV"`` for ordered items
(lavaan ``lav_samplestats`` -> ``muthen1984``):

1. thresholds of each item from its own marginal proportions (univariate probit ML, which is
   ``qnorm`` of the cumulative proportions when there are no covariates);
2. each polychoric correlation by pairwise maximum likelihood given those thresholds (two-step),
   here by Fisher scoring with analytic derivatives, vectorised over all pairs at once;
3. the asymptotic covariance ``Gamma`` of sqrt(N) (thresholds, correlations) by the sandwich
   ``B^-1 INNER B^-T`` of the stacked estimating equations: INNER is the cross-product of the
   case-wise scores, and B is block lower triangular with A11 (the within-item blocks of the
   threshold scores' cross-product), A21 (cross-products of each pair's correlation score with
   its threshold scores) and A22 (the diagonal of the correlation scores' cross-product), as
   Muthen and Satorra (1995) and lavaan define them.

Orders: thresholds item by item (t1, t2, ...), correlations as lavaan's ``vech(R, diagonal =
FALSE)``: (2,1), (3,1), ..., (p,1), (3,2), ... Codes are 0..K_j - 1 per item, no missing values.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class OrdinalMoments:
    thresholds: list[np.ndarray]      # per item, K_j - 1 thresholds
    rho: np.ndarray                   # p x p polychoric correlation matrix
    gamma: np.ndarray | None          # NACOV: asymptotic covariance of sqrt(N) * (thresholds, vech rho)
    n: int
    ncat: np.ndarray                  # categories per item
    pairs: tuple[np.ndarray, np.ndarray]   # (i, j) of each correlation, i > j, lavaan order
    converged: bool = True

    @property
    def stats(self) -> np.ndarray:
        """The sample statistics vector: all thresholds, then the correlations."""
        i, j = self.pairs
        return np.concatenate([np.concatenate(self.thresholds), self.rho[i, j]])


def lavaan_pairs(p: int) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) index of every correlation in lavaan's vech(diagonal = FALSE) order: column by column."""
    jj, ii = np.triu_indices(p, 1)     # row-major upper triangle = column-major lower triangle
    return ii, jj


def _phi(x):
    return np.exp(-0.5 * np.square(np.where(np.isfinite(x), x, 50.0))) / np.sqrt(2 * np.pi)


def pair_tables(codes: np.ndarray, K: int, pairs) -> np.ndarray:
    """Counts table (pairs, K, K) of every pair: [a, b] = number with item i in a and item j in b."""
    ii, jj = pairs
    npair = len(ii)
    flat = (codes[:, ii] * K + codes[:, jj]) + (np.arange(npair) * K * K)[None, :]
    return np.bincount(flat.ravel(), minlength=npair * K * K).reshape(npair, K, K).astype(float)


def _cell_probs(rho, ci, cj, with_derivative=True):
    """Cell probabilities P (pairs, K, K) and dP/drho for cut points ci, cj (pairs, K + 1; the first -inf,
    the last ones +inf). Only the interior corners need the bivariate normal; the edges are univariate."""
    from scipy.special import ndtr

    from measurekit.stats._numerics.bvn import bvn_cdf, bvn_pdf

    npair, K1 = ci.shape
    r = rho[:, None, None]
    hi, hj = ci[:, 1:-1], cj[:, 1:-1]
    F = np.zeros((npair, K1, K1))
    F[:, 1:-1, 1:-1] = bvn_cdf(hi[:, :, None], hj[:, None, :], r)
    F[:, -1, 1:-1] = ndtr(hj)
    F[:, 1:-1, -1] = ndtr(hi)
    F[:, -1, -1] = 1.0
    P = F[:, 1:, 1:] - F[:, :-1, 1:] - F[:, 1:, :-1] + F[:, :-1, :-1]
    if not with_derivative:
        return P, None
    f = np.zeros((npair, K1, K1))
    inner = bvn_pdf(hi[:, :, None], hj[:, None, :], r)
    f[:, 1:-1, 1:-1] = np.where(np.isfinite(hi)[:, :, None] & np.isfinite(hj)[:, None, :], inner, 0.0)
    dP = f[:, 1:, 1:] - f[:, :-1, 1:] - f[:, 1:, :-1] + f[:, :-1, :-1]
    return P, dP


def polychoric_pairs(tabs: np.ndarray, ci: np.ndarray, cj: np.ndarray, start=None, tol: float = 1e-10,
                     max_iter: int = 100) -> tuple[np.ndarray, bool]:
    """Maximum likelihood correlation of every pair's table given its thresholds (Fisher scoring)."""
    npair = len(tabs)
    n = tabs.sum(axis=(1, 2))
    rho = np.zeros(npair) if start is None else np.clip(start, -0.95, 0.95).astype(float)
    active = np.ones(npair, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        P, dP = _cell_probs(rho[idx], ci[idx], cj[idx])
        ok = P > 1e-300
        Ps = np.where(ok, P, 1.0)
        score = np.where(ok, tabs[idx] * dP / Ps, 0.0).sum(axis=(1, 2))
        info = n[idx] * np.where(ok, dP * dP / Ps, 0.0).sum(axis=(1, 2))
        step = score / np.maximum(info, 1e-300)
        new = np.clip(rho[idx] + step, -0.9999, 0.9999)
        # keep the step inside (-1, 1): halve it if it would leave
        rho[idx] = np.where(np.abs(rho[idx] + step) < 0.9999, rho[idx] + step, (rho[idx] + new) / 2)
        active[idx] = np.abs(step) > tol
        if not active.any():
            return rho, True
    return rho, False


def ordinal_moments(codes: np.ndarray, ncat: np.ndarray, gamma: bool = True, chunk: int = 20000) -> OrdinalMoments:
    """Thresholds, polychoric correlations and (optionally) Gamma for complete integer codes (n x p)."""
    from scipy.special import ndtr, ndtri

    codes = np.asarray(codes, dtype=np.int64)
    n, p = codes.shape
    ncat = np.asarray(ncat, dtype=int)
    K = int(ncat.max())
    counts = np.stack([np.bincount(codes[:, j], minlength=K) for j in range(p)]).astype(float)
    cum = np.cumsum(counts, axis=1) / n
    cuts = np.full((p, K + 1), np.inf)
    cuts[:, 0] = -np.inf
    thresholds = []
    for j in range(p):
        t = ndtri(cum[j, : ncat[j] - 1])
        thresholds.append(t)
        cuts[j, 1: ncat[j]] = t
    pairs = lavaan_pairs(p)
    ii, jj = pairs
    tabs = pair_tables(codes, K, pairs)
    ci, cj = cuts[ii], cuts[jj]
    # start from the Pearson correlation of the codes
    z = (codes - codes.mean(0)) / np.where(codes.std(0) > 0, codes.std(0), 1)
    start = (z.T @ z / n)[ii, jj]
    rho_v, converged = polychoric_pairs(tabs, ci, cj, start)
    R = np.eye(p)
    R[ii, jj] = rho_v
    R[jj, ii] = rho_v
    out = OrdinalMoments(thresholds, R, None, n, ncat, pairs, converged)
    if not gamma:
        return out

    # ---- case-wise scores, aggregated by cell where possible
    nth_j = ncat - 1
    off = np.concatenate([[0], np.cumsum(nth_j)])
    nth, npair = int(off[-1]), len(ii)
    # univariate: score of category a wrt its upper threshold (t = a) and lower threshold (t = a - 1)
    Pu = counts / n                                            # ML thresholds reproduce the proportions
    phic = _phi(cuts)                                         # (p, K + 1), zero at infinite cuts
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(Pu > 0, phic[:, 1:] / Pu, 0.0)              # d log P_a / d cut[a + 1]
        lo = np.where(Pu > 0, -phic[:, :-1] / Pu, 0.0)            # d log P_a / d cut[a]
    # bivariate: correlation score per cell and the threshold-score cross terms for A21
    P, dP = _cell_probs(rho_v, ci, cj)
    okc = P > 1e-300
    Ps = np.where(okc, P, 1.0)
    Srho = np.where(okc, dP / Ps, 0.0)                       # (pairs, K, K)
    s = np.sqrt(1 - rho_v ** 2)[:, None, None]
    r = rho_v[:, None, None]
    # G_i[k, b] = phi(ci[k]) [Phi((cj[b+1] - r ci[k]) / s) - Phi((cj[b] - r ci[k]) / s)]  -> dP_ab / d ci[k]
    Gi = _phi(ci)[:, :, None] * np.diff(ndtr((cj[:, None, :] - r * np.where(np.isfinite(ci), ci, 0)[:, :, None]) / s),
                                        axis=2)
    Gj = _phi(cj)[:, :, None] * np.diff(ndtr((ci[:, None, :] - r * np.where(np.isfinite(cj), cj, 0)[:, :, None]) / s),
                                        axis=2)
    Q = np.where(okc, tabs * Srho / Ps, 0.0)                 # n_ab * S_rho / P_ab
    A21i = (Gi[:, 1:K, :] * (Q[:, : K - 1, :] - Q[:, 1:K, :])).sum(axis=2)          # (pairs, K - 1)
    A21j = (Gj[:, 1:K, :] * (Q[:, :, : K - 1] - Q[:, :, 1:K]).transpose(0, 2, 1)).sum(axis=2)
    A21 = np.zeros((npair, nth))
    for k in range(npair):
        A21[k, off[ii[k]]: off[ii[k] + 1]] += A21i[k, : nth_j[ii[k]]]
        A21[k, off[jj[k]]: off[jj[k] + 1]] += A21j[k, : nth_j[jj[k]]]
    # INNER = sc' sc over cases, in chunks (sc = [threshold scores, correlation scores])
    inner = np.zeros((nth + npair, nth + npair))
    prow = np.arange(npair)[None, :]
    for start_row in range(0, n, chunk):
        c = codes[start_row: start_row + chunk]
        m = len(c)
        sc = np.zeros((m, nth + npair))
        rows = np.arange(m)
        for j in range(p):
            a = c[:, j]
            has_up = a < nth_j[j]
            sc[rows[has_up], off[j] + a[has_up]] += up[j, a[has_up]]
            has_lo = a > 0
            sc[rows[has_lo], off[j] + a[has_lo] - 1] += lo[j, a[has_lo]]
        sc[:, nth:] = Srho[prow, c[:, ii], c[:, jj]]
        inner += sc.T @ sc
    A11 = np.zeros((nth, nth))
    for j in range(p):
        sl = slice(off[j], off[j + 1])
        A11[sl, sl] = inner[sl, sl]
    a22 = np.diag(inner)[nth:]
    A11inv = np.linalg.inv(A11)
    Binv = np.zeros_like(inner)
    Binv[:nth, :nth] = A11inv
    Binv[nth:, nth:] = np.diag(1 / a22)
    Binv[nth:, :nth] = -(A21 / a22[:, None]) @ A11inv
    out.gamma = n * (Binv @ inner @ Binv.T)
    return out
