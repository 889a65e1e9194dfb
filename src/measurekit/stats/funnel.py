"""Funnel plots for proportions: control limits around a target, and Spiegelhalter's overdispersion adjustment.

:func:`funnel` compares each area's proportion with a target (by default the pooled proportion of all
areas) against control limits at 95% and 99.8% for its denominator. Limits are exact binomial (Spiegelhalter
2005, Stat Med 24:1185-1202, appendix: the binomial quantile with the interpolation that makes the limits
smooth in the denominator) or ``method="score"``: the normal approximation with the target's variance, the
test that Wilson's interval inverts (an area is outside these limits exactly when the target is outside its
Wilson interval).

When areas differ by more than chance (too many outside), the limits can be widened by Spiegelhalter's
additive random-effects method, as NHS-R's FunnelPlotR does for proportions (``data_type = "PR"``): z-scores
on the arcsine-square-root scale (s = 1 / (2 sqrt(n))), winsorised at 10% each end, the dispersion ratio
phi = mean(z^2), the between-area variance tau2 = (I phi - (I - 1)) / (sum w - sum w^2 / sum w) with w = 1/s^2
(0 when I phi < I - 1), and limits sin^2(target angle +- z sqrt(s^2 + tau2)). ``overdispersion="auto"``
applies it when the dispersion test is significant (I phi above the 95% point of chi-squared on I - 1 df,
Spiegelhalter 2005, "Handling over-dispersion of performance indicators", Qual Saf Health Care 14:347-351).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.stats._numerics import series as S

METHODS = ("exact", "score")


@dataclass
class FunnelResult(Result):
    """Result of :func:`funnel`.

    ``table``, one row per area: the area column; ``numerator``, ``denominator``; ``value`` (percent);
    ``z`` (score z against the target: (p - target) / sqrt(target (1 - target) / n)); for each level L
    (``95``, ``99_8``): ``low_L``/``high_L`` (control limits, percent) and ``outside_L`` ("above", "below" or
    ""); when the overdispersion adjustment is used: ``z_adjusted`` (arcsine-scale z over sqrt(s^2 + tau2)),
    ``adj_low_L``/``adj_high_L`` and ``adj_outside_L``.
    ``limits``: the limits on a grid of denominators for drawing (``denominator`` then the same columns).
    ``target`` (percent); ``phi`` (dispersion ratio, winsorised); ``tau2`` (between-area variance on the
    arcsine scale); ``dispersion_p`` (the overdispersion test's p-value); ``adjusted`` (whether the
    adjusted limits are the ones to read); ``expected_outside_95``/``observed_outside_95``.
    """

    table: pd.DataFrame
    limits: pd.DataFrame
    target: float = np.nan
    phi: float = np.nan
    tau2: float = 0.0
    dispersion_p: float = np.nan
    adjusted: bool = False
    expected_outside_95: float = np.nan
    observed_outside_95: int = 0
    warnings: list[str] = field(default_factory=list)
    _title = "Funnel plot"


def _level_name(level: float) -> str:
    return f"{level * 100:.1f}".rstrip("0").rstrip(".").replace(".", "_")


def exact_limits(target: float, n, level: float):
    """Spiegelhalter's (2005) exact binomial control limits (proportions, 0-1) for denominators ``n``."""
    from scipy import stats

    n = np.asarray(n, dtype=float)
    out = []
    for p in ((1 - level) / 2, 1 - (1 - level) / 2):
        r = stats.binom.ppf(p, n, target)                    # smallest r with F(r) >= p
        f_r = stats.binom.cdf(r, n, target)
        f_r1 = stats.binom.cdf(r - 1, n, target)
        with np.errstate(invalid="ignore", divide="ignore"):
            alpha = np.where(f_r > f_r1, (f_r - p) / (f_r - f_r1), 0.0)
        out.append(np.clip((r - alpha) / n, 0, 1))
    return out[0], out[1]


def overdispersion(k, n, target: float, trim: float = 0.1) -> tuple[float, float, float]:
    """(phi, tau2, p of the dispersion test) on the arcsine-square-root scale, z-scores winsorised at ``trim``."""
    from scipy import stats

    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    y = np.arcsin(np.sqrt(k / n))
    s = 1 / (2 * np.sqrt(n))
    z = (y - np.arcsin(np.sqrt(target))) / s
    lo, hi = np.quantile(z, trim), np.quantile(z, 1 - trim)
    zw = np.clip(z, lo, hi)
    m = z.size
    phi = float(np.mean(zw**2))
    w = 1 / s**2
    if m * phi < m - 1:
        tau2 = 0.0
    else:
        tau2 = max(0.0, float((m * phi - (m - 1)) / (w.sum() - np.sum(w**2) / w.sum())))
    p = float(stats.chi2.sf(m * phi, m - 1))
    return phi, tau2, p


def adjusted_limits(target: float, n, tau2: float, level: float):
    """Random-effects limits sin^2(angle +- z sqrt(s^2 + tau2)) on the 0-1 scale."""
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + level / 2))
    s2 = 1 / (4 * np.asarray(n, dtype=float))
    angle = np.arcsin(np.sqrt(target))
    half = z * np.sqrt(s2 + tau2)
    return (np.sin(np.clip(angle - half, 0, np.pi / 2)) ** 2, np.sin(np.clip(angle + half, 0, np.pi / 2)) ** 2)


def funnel(data: pd.DataFrame, *, area: str = "area", numerator: str = "numerator",
           denominator: str = "denominator", target: float | None = None, method: str = "exact",
           levels=(0.95, 0.998), overdispersion_adjust="auto", trim: float = 0.1, grid: int = 100) -> FunnelResult:
    """Funnel-plot limits for each area's proportion, with the overdispersion adjustment where it is needed.

    ``data``: one row per area with ``numerator`` and ``denominator`` counts. ``target`` is a percentage
    (default: the pooled percentage of all areas). ``method``: "exact" (binomial, Spiegelhalter 2005) or
    "score". ``overdispersion_adjust``: "auto" (when the dispersion test is significant at 5%), True (always,
    as FunnelPlotR's adjusted limits; tau2 may be 0) or False. ``trim``: the share winsorised at each end
    (FunnelPlotR's ``trim_by``, 10%).
    """
    from measurekit.stats._numerics.item_data import bad_option
    from measurekit.stats.intervals import funnel_limits_proportion

    if method not in METHODS:
        raise bad_option("method", f"method must be one of {', '.join(METHODS)}, not {method!r}.", method)
    if overdispersion_adjust not in ("auto", True, False):
        raise bad_option("overdispersion_adjust", "overdispersion_adjust must be 'auto', True or False, not "
                         f"{overdispersion_adjust!r}.", overdispersion_adjust)
    levels = [levels] if np.isscalar(levels) else list(levels)
    for lv in levels:
        if not isinstance(lv, (int, float)) or isinstance(lv, bool) or not 0.5 < float(lv) < 1:
            raise bad_option("levels", f"levels must be between 0.5 and 1 (0.95, 0.998), not {lv!r}.", lv)
    if not isinstance(trim, (int, float)) or not 0 <= trim < 0.5:
        raise bad_option("trim", f"trim must be at least 0 and below 0.5 (0.1 = 10% each end), not {trim!r}.", trim)
    if not isinstance(data, pd.DataFrame):
        raise S.problem("invalid_input", f"The data must be a table (pandas DataFrame), not {type(data).__name__}.")
    S.columns_present(data, [area, numerator, denominator], "The data")
    df = data[[area, numerator, denominator]].copy().reset_index(drop=True)
    k, n = S.counts(df, numerator, denominator)
    dup = df[area].duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise S.problem("duplicate_id", f"Area {df[area].iloc[i]!r} appears twice (row {i + 2}); give one row per "
                        "area.", "Funnel plot", row=i + 2, column=area, value=str(df[area].iloc[i]),
                        rule="one row per area")
    if len(df) < 3:
        raise S.problem("too_few_cases", f"A funnel plot compares areas; there {'is' if len(df) == 1 else 'are'} "
                        f"only {len(df)}.", "Funnel plot", rule="at least 3 areas")
    warnings: list[str] = []
    if target is None:
        theta = float(k.sum() / n.sum())
    else:
        try:
            theta = float(target) / 100
        except (TypeError, ValueError):
            raise S.problem("bad_target", f"The target {target!r} is not a percentage.", "Funnel plot",
                            column="target", value=str(target), rule="a percentage, 0 to 100") from None
        if 100 * theta <= 1:
            warnings.append(f"The target {100 * theta:g} is read as {100 * theta:g}%; write 75 for 75%.")
    if not 0 < theta < 1:
        raise S.problem("bad_target", f"The target ({100 * theta:g}%) must be above 0% and below 100% for funnel "
                        "limits.", "Funnel plot", column="target", value=f"{100 * theta:g}", rule="0 < target < 100")
    p = k / n
    limit_fn = exact_limits if method == "exact" else funnel_limits_proportion
    table = pd.DataFrame({area: df[area].to_numpy(), "numerator": k.astype(int), "denominator": n.astype(int),
                          "value": 100 * p, "z": (p - theta) / np.sqrt(theta * (1 - theta) / n)})
    n_grid = np.unique(np.round(np.geomspace(max(1.0, n.min() / 2), n.max() * 1.5, grid)))
    limits = pd.DataFrame({"denominator": n_grid.astype(int)})

    def flag(lo, hi):
        return np.where(p < lo, "below", np.where(p > hi, "above", ""))

    for lv in levels:
        name = _level_name(lv)
        lo, hi = limit_fn(theta, n, lv)
        table[f"low_{name}"], table[f"high_{name}"], table[f"outside_{name}"] = 100 * lo, 100 * hi, flag(lo, hi)
        glo, ghi = limit_fn(theta, n_grid, lv)
        limits[f"low_{name}"], limits[f"high_{name}"] = 100 * glo, 100 * ghi
    phi, tau2, disp_p = overdispersion(k, n, theta, trim)
    adjusted = bool(overdispersion_adjust is True or (overdispersion_adjust == "auto" and disp_p < 0.05))
    if adjusted:
        s2 = 1 / (4 * n)
        table["z_adjusted"] = (np.arcsin(np.sqrt(p)) - np.arcsin(np.sqrt(theta))) / np.sqrt(s2 + tau2)
        for lv in levels:
            name = _level_name(lv)
            lo, hi = adjusted_limits(theta, n, tau2, lv)
            table[f"adj_low_{name}"], table[f"adj_high_{name}"] = 100 * lo, 100 * hi
            table[f"adj_outside_{name}"] = flag(lo, hi)
            glo, ghi = adjusted_limits(theta, n_grid, tau2, lv)
            limits[f"adj_low_{name}"], limits[f"adj_high_{name}"] = 100 * glo, 100 * ghi
        if overdispersion_adjust == "auto":
            warnings.append(f"Areas differ more than chance explains (phi {phi:.2f}, p {disp_p:.3g}): read the "
                            "overdispersion-adjusted limits (adj_*).")
    outside_95 = int((table.get("outside_95", pd.Series(dtype=str)) != "").sum()) if 0.95 in levels else 0
    return FunnelResult(table, limits, 100 * theta, phi, tau2, disp_p, adjusted,
                        0.05 * len(table) if 0.95 in levels else np.nan, outside_95, warnings)
