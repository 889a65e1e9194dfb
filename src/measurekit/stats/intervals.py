"""Confidence intervals and funnel-plot limits used across measurekit.

Formulas follow the UK public health indicator methods (Fingertips technical guidance):
Wilson score intervals for proportions, t intervals for means, Kish design effect for
weighted estimates, and funnel-plot control limits at 95% and 99.8% around a target.
All functions are vectorised over numpy arrays / pandas Series.
"""
from __future__ import annotations

import numpy as np

from measurekit.stats._numerics.distributions import norm_ppf, t_ppf


def _z(level: float) -> float:
    return float(norm_ppf(0.5 + level / 2))


def wilson(k, n, level: float = 0.95):
    """Wilson score interval for k successes in n trials.

    Returns (low, high) arrays; NaN where n == 0. Matches Fingertips' formula
    (Newcombe 1998, method 3 without continuity correction) and R's
    ``prop.test(k, n, correct=FALSE)$conf.int``.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = _z(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        low, high = centre - half, centre + half
    low = np.where(n > 0, np.clip(low, 0, 1), np.nan)
    high = np.where(n > 0, np.clip(high, 0, 1), np.nan)
    return low, high


def t_interval(mean, sd, n, level: float = 0.95):
    """t interval for a mean: mean ± t(n-1) * sd / sqrt(n). NaN where n < 2."""
    mean, sd, n = (np.asarray(a, dtype=float) for a in (mean, sd, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        t = t_ppf(0.5 + level / 2, np.where(n > 1, n - 1, np.nan))
        half = t * sd / np.sqrt(n)
    return mean - half, mean + half


def kish_effective_n(weights) -> float:
    """Kish effective sample size (sum w)^2 / sum w^2."""
    w = np.asarray(weights, dtype=float)
    w = w[np.isfinite(w)]
    if w.size == 0 or np.sum(w**2) == 0:
        return 0.0
    return float(np.sum(w) ** 2 / np.sum(w**2))


def weighted_mean_interval(values, weights, level: float = 0.95):
    """Weighted mean with a design-effect-adjusted t interval.

    The variance of the weighted mean is the weighted variance over the Kish effective
    sample size n_eff (so the design effect is n / n_eff). Returns
    (mean, low, high, n_eff). Rows with a missing value or weight are dropped.
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = np.isfinite(x) & np.isfinite(w) & (w > 0)
    x, w = x[keep], w[keep]
    if x.size == 0:
        return np.nan, np.nan, np.nan, 0.0
    mean = float(np.sum(w * x) / np.sum(w))
    n_eff = kish_effective_n(w)
    var = float(np.sum(w * (x - mean) ** 2) / np.sum(w)) * (x.size / max(x.size - 1, 1))
    low, high = t_interval(mean, np.sqrt(var), n_eff, level)
    return mean, float(low), float(high), n_eff


def funnel_limits_proportion(target, n, level: float = 0.95):
    """Funnel-plot control limits for a proportion around ``target`` (scalar or array) for denominators ``n``
    (Spiegelhalter 2005, normal approximation).

    Normal approximation p0 ± z sqrt(p0 (1 - p0) / n), clipped to [0, 1].
    Returns (low, high) arrays.
    """
    n = np.asarray(n, dtype=float)
    z = _z(level)
    p0 = np.asarray(target, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = z * np.sqrt(p0 * (1 - p0) / n)
        low = np.clip(p0 - half, 0, 1)
        high = np.clip(p0 + half, 0, 1)
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def funnel_limits_mean(target: float, sd: float, n, level: float = 0.95):
    """Funnel-plot control limits for a mean: target ± z * sd / sqrt(n)."""
    n = np.asarray(n, dtype=float)
    z = _z(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = z * float(sd) / np.sqrt(n)
    return np.where(n > 0, target - half, np.nan), np.where(n > 0, target + half, np.nan)
