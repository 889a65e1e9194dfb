"""Step 5 of a fit: the fit measures, one copy for every estimator (lavaan's ``fitMeasures``).

ML and FIML use the chi-square against the saturated model and N; WLSMV passes its DWLS statistic (or
the scaled-and-shifted one) and N - G, as lavaan does. Formulas as lavaan's ``lav_fit_*``:

- CFI = 1 - max(T - df, 0) / max(T_b - df_b, T - df, 0) (1 when the denominator is 0);
- TLI = (T_b / df_b - T / df) / (T_b / df_b - 1) (1 when df = 0);
- RMSEA = sqrt(max(T / n / df - 1 / n, 0)) * sqrt(G), n = N (ML) or N - G (WLSMV), and its 90%
  interval from the non-central chi-square;
- SRMR: ML, the root mean square of the standardised residual covariances (and means) per group,
  weighted by group size (lavaan's "srmr", Bentler's); WLSMV, of the correlation residuals.
"""
from __future__ import annotations

import numpy as np


def cfi(chisq: float, df: float, chisq_b: float, df_b: float) -> float:
    den = max(chisq_b - df_b, chisq - df, 0)
    return 1 - max(chisq - df, 0) / den if den > 0 else 1.0


def tli(chisq: float, df: float, chisq_b: float, df_b: float) -> float:
    return ((chisq_b / df_b) - (chisq / df)) / ((chisq_b / df_b) - 1) if df > 0 else 1.0


def rmsea(chisq: float, df: float, n: float, groups: int) -> float:
    return float(np.sqrt(max(chisq / n / df - 1 / n, 0)) * np.sqrt(groups)) if df > 0 else 0.0


def rmsea_ci(chisq: float, df: float, n: float, groups: int, level: float = 0.90) -> tuple[float, float]:
    """lavaan's rmsea.ci.lower/upper: the non-centrality parameters whose chi-square puts ``chisq`` at the
    (1 + level) / 2 and (1 - level) / 2 quantiles."""
    if df <= 0 or not np.isfinite(chisq):
        return np.nan, np.nan
    from scipy.optimize import brentq
    from scipy.special import chdtr, chndtr

    def ncp_for(prob):
        # scipy.special's functions behind stats.ncx2.cdf / stats.chi2.cdf (same values, without their overhead)
        def f(lam):
            return chndtr(chisq, df, lam) - prob if lam > 0 else chdtr(df, chisq) - prob
        if f(0) < 0:
            return 0.0
        hi = max(chisq, 1.0)
        while (value := f(hi)) > 0:
            hi *= 2
        if np.isnan(value):
            # a chi-square so large (a model far from the data) that scipy's non-central CDF returns NaN: there the
            # non-central chi-square is normal to many digits, mean df + lam and variance 2 (df + 2 lam)
            return _ncp_normal(chisq, df, prob)
        return brentq(f, 1e-10, hi)

    lam_lo = ncp_for((1 + level) / 2)
    lam_hi = ncp_for((1 - level) / 2)
    return (np.sqrt(lam_lo / (n * df)) * np.sqrt(groups), np.sqrt(lam_hi / (n * df)) * np.sqrt(groups))


def _ncp_normal(chisq: float, df: float, prob: float) -> float:
    """The non-centrality lam with P(X <= chisq) = prob when X ~ N(df + lam, 2 (df + 2 lam)): the root of
    chisq - df - lam = z sqrt(2 df + 4 lam), z the normal quantile of prob."""
    from scipy.special import ndtri

    z = float(ndtri(prob))
    # (chisq - df - lam)^2 = z^2 (2 df + 4 lam) with chisq - df - lam having the sign of z
    a, b = chisq - df, z * z
    root = a + 2 * b - np.sign(z) * np.sqrt(max((a + 2 * b) ** 2 - (a * a - 2 * b * df), 0.0)) if z else a
    return float(max(root, 0.0))


def pvalue(chisq: float, df: float) -> float:
    from scipy.special import chdtrc  # what stats.chi2.sf computes

    return float(chdtrc(df, chisq)) if df else np.nan


def srmr_ml(S: np.ndarray, M: np.ndarray, Sigma: np.ndarray, mu: np.ndarray | None) -> float:
    """One group's SRMR (lavaan "srmr" for ML): residual covariances scaled by the sample SDs, and the
    residual means (``mu`` given: a mean structure) scaled the same way."""
    p = S.shape[0]
    sd = 1 / np.sqrt(np.diag(S))
    R = (S - Sigma) * np.outer(sd, sd)
    ss = np.sum(R[np.tril_indices(p)] ** 2)
    e = p * (p + 1) / 2
    if mu is not None:
        ss += np.sum(((M - mu) * sd) ** 2)
        e += p
    return float(np.sqrt(ss / e))


def srmr_correlations(residuals: list[np.ndarray], nobs: np.ndarray, n_thresholds: int, p: int) -> float:
    """WLSMV's SRMR (lavaan "srmr" for ordered items): root mean square of the correlation residuals
    (the thresholds left out), over p (p + 1) / 2, weighted by group size."""
    return float(sum(n * np.sqrt(np.sum(r[n_thresholds:] ** 2) / (p * (p + 1) / 2))
                     for r, n in zip(residuals, nobs)) / nobs.sum())
