"""Progress towards a target: the gap now, the change a year it needs, and whether the current trend gets there.

For a series of counts (one row per period: numerator, denominator; per group of ``by``) and a target
(a percentage to reach by a period, e.g. GLD 75% by 2028), :func:`target_progress` gives, for each
series: the gap now in percentage points and in children (how many more children than now would have
to reach it at the current cohort size, and that spread over the years left), the yearly change it
needs, and a straight-line projection of the most recent points to the target period with an interval,
in plain words ("on track", "not on track at the current rate", "too few points to say").

The projection is the least-squares line through the most recent ``points`` (5) periods weighted by
their denominators (the Cochran-Armitage line of ``stats/trend.py``). Its uncertainty is binomial,
scaled up by the residual dispersion when the points scatter about the line more than binomial noise
explains (quasi-binomial: phi = Pearson X^2 / (points - 2), used when above 1, with t on points - 2 df);
the interval is a prediction interval for the target year's published value (the line's uncertainty plus
that year's sampling noise at the current cohort size). Like R's
``predict(lm(p ~ year, weights = n), interval = "prediction")`` when the points are overdispersed.
A framework with no target for the indicator gets ``None`` back: no text, no error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.stats._numerics import series as S

ON_TRACK = "on track"
NOT_ON_TRACK = "not on track at the current rate"
TOO_FEW = "too few points to say"
ALREADY_MET = "already met"
MET = "met"                       # the latest data are for the target period or later
NOT_MET = "not met"


@dataclass
class TargetResult(Result):
    """Result of :func:`target_progress`: one row per series (per group of ``by``).

    Columns: the ``by`` columns; ``current_period``, ``current_value`` (percent), ``current_numerator``,
    ``current_denominator``; ``target_value`` (percent) and ``target_period``; ``years_left`` (from the
    latest period to the target period, a year and the academic year ending in it being the same point);
    ``gap_pp`` (target minus current value, percentage points); ``gap_children`` (how many more children
    than now would need to reach the level for the target to be met at the current denominator: the
    smallest whole count at or beyond the target minus the current count; negative when already beyond);
    ``children_per_year`` (``gap_children`` over ``years_left``); ``change_needed_pp`` (percentage points a
    year needed: ``gap_pp`` over ``years_left``); ``points`` (periods in the trend line);
    ``trend_pp`` (the line's slope, percentage points a year); ``projected_value`` (the line at the target
    period, percent) with ``projected_low``/``projected_high`` (prediction interval at ``level``);
    ``dispersion`` (phi, 1 when the points scatter no more than binomial noise); ``reaches_target`` (the
    projection meets the target); ``interval_includes_target``; ``status`` ("on track", "not on track at the
    current rate", "too few points to say", "already met"; when the latest data are for the target period or
    later, "met" or "not met"); ``words`` (one plain-English sentence).

    For a mean (``value_type="mean"``) the same columns in points of the score: ``current_value`` is the mean,
    ``current_denominator`` its n, ``gap_pp``/``change_needed_pp``/``trend_pp``/``projected_*`` are points (not
    percentage points), ``current_numerator``, ``gap_children`` and ``children_per_year`` are blank, and
    ``dispersion`` is the weighted residual mean square of the line (phi).
    """

    table: pd.DataFrame
    level: float = 0.95
    source: str = ""
    warnings: list[str] = field(default_factory=list)
    _title = "Progress towards the target"


def framework_target(framework, indicator: str):
    """The framework's target for ``indicator`` (a ``Target`` with value, period, source), or None."""
    for t in getattr(framework, "targets", None) or ():
        if t.indicator == indicator:
            return t
    return None


def _needed_count(target_pct: float, n: float, higher: bool) -> int:
    exact = target_pct / 100 * n
    # the smallest (largest, when lower is better) whole count that meets the target; the tolerance
    # keeps 75% of 200 at 150 despite floating point
    return math.ceil(exact - 1e-9) if higher else math.floor(exact + 1e-9)


def target_progress(data: pd.DataFrame, *, target: float | None = None, target_period=None, framework=None,
                    indicator: str | None = None, period: str = "period", by=None, numerator: str = "numerator",
                    denominator: str = "denominator", polarity: str | None = None, points: int = 5,
                    min_points: int = 3, level: float = 0.95, value_type: str = "proportion", mean: str = "mean",
                    sd: str = "sd", n: str = "n") -> TargetResult | None:
    """Gap to a target, the yearly change it needs and whether the current trend reaches it.

    The target is ``target`` (a percentage: 75 for 75%) by ``target_period`` (2028 or 2027/28), or, with
    ``framework`` (a ``Framework`` or a framework folder) and ``indicator``, the framework's declared target
    for that indicator (and its polarity).
    No target: returns ``None``. ``polarity`` ("higher_is_better", the default without a framework, or
    "lower_is_better") says which side of the target counts as meeting it. ``data`` is a long table of
    counts, one row per period per group of ``by``. Fewer than ``min_points`` (3) periods: the gap is given,
    the projection is not ("too few points to say").

    ``value_type="mean"``: a target on a mean score (e.g. 7.5 on a 0-10 rating): ``data`` holds each period's
    ``mean``, ``sd`` and ``n``; the gap, the change needed and the trend are in points of the score
    (``gap_children`` and ``children_per_year`` are blank), and the projection is the inverse-variance weighted
    least-squares line (weights n / sd^2) carried to the target period, with a t-based prediction interval on
    points - 2 degrees of freedom: the line's variance scaled by the residual dispersion phi (at least 1) plus the
    target year's sampling variance (phi x sd^2 / n at the latest period's sd and n); when the points scatter more
    than sampling noise explains (phi > 1) it is R's ``predict(lm(mean ~ year, weights = n / sd^2), newdata,
    interval = "prediction", weights = n_now / sd_now^2)``.
    """
    from scipy import stats

    from measurekit.stats._numerics.item_data import bad_option
    from measurekit.stats.trend import _group_ids, prepare_series

    source, warnings = "", []
    if target is None and framework is not None and indicator is not None:
        from measurekit.design import Framework, load_framework

        if not isinstance(framework, Framework):
            framework = load_framework(framework)          # a framework folder
        declared = framework_target(framework, indicator)
        if declared is None:
            return None
        target, target_period, source = declared.value, declared.period, declared.source
        if polarity is None:
            ind = next((i for i in getattr(framework, "indicators", ()) if i.id == indicator), None)
            polarity = getattr(ind, "polarity", None)
            if polarity == "no_judgement":
                raise S.problem("bad_target", f"The framework declares a target for {indicator!r}, whose polarity "
                                "is no_judgement: say whether higher or lower is better (polarity in "
                                "indicators.yaml) so the target has a direction.", column="polarity",
                                value=polarity, rule="higher_is_better or lower_is_better")
    if target is None:
        return None
    if polarity is None:
        polarity = "higher_is_better"
    if polarity not in ("higher_is_better", "lower_is_better"):
        raise bad_option("polarity", "A target needs a direction: polarity 'higher_is_better' or 'lower_is_better', "
                         f"not {polarity!r}.", polarity)
    if value_type not in ("proportion", "mean"):
        raise bad_option("value_type", f"value_type must be 'proportion' or 'mean', not {value_type!r}.", value_type)
    is_mean = value_type == "mean"
    if not (isinstance(level, (int, float)) and 0.5 < float(level) < 1):
        raise bad_option("level", f"level must be between 0.5 and 1 (e.g. 0.95), not {level!r}.", level)
    if not isinstance(points, (int, np.integer)) or not isinstance(min_points, (int, np.integer)) \
            or min_points < 3 or points < min_points:
        raise bad_option("points", f"points ({points!r}) and min_points ({min_points!r}) must be whole numbers, "
                         "min_points at least 3 and points at least min_points.", points)
    try:
        target_value = float(target)
    except (TypeError, ValueError):
        raise S.problem("bad_target", f"The target {target!r} is not a number.", column="target",
                        value=str(target), rule="a percentage, 0 to 100") from None
    if not np.isfinite(target_value) or (not is_mean and not (0 <= target_value <= 100)):
        raise S.problem("bad_target", f"The target {target!r} is not a percentage between 0 and 100.",
                        column="target", value=str(target), rule="a percentage, 0 to 100")
    if target_value <= 1 and not is_mean:
        warnings.append(f"The target {target_value:g} is read as {target_value:g}%; write 75 for 75%.")
    if target_period is None:
        raise S.problem("bad_target", "A target needs the period to reach it by (target_period=2028).",
                        column="target_period", rule="a year or academic year")
    try:
        target_x = S.period_number(target_period)
    except Exception:
        raise S.problem("bad_target", f"The target period {target_period!r} is not a year (2028) or an academic "
                        "year (2027/28).", column="target_period", value=str(target_period),
                        rule="a year or academic year") from None
    df, keys = prepare_series(data, period=period, by=by, value_type=value_type, numerator=numerator,
                              denominator=denominator, mean=mean, sd=sd, n=n)
    if is_mean:
        return _mean_progress(df, keys, period, target_value, target_period, target_x, polarity, points, min_points,
                              level, source, warnings)
    higher = polarity == "higher_is_better"
    z = float(stats.norm.ppf(0.5 + level / 2))
    # every series at once: groups are contiguous (sorted by group, then period); sums by group with bincount
    gid = _group_ids(df, keys)
    n_groups = int(gid.max()) + 1
    last = np.r_[gid[1:] != gid[:-1], True]
    lastrow = df[last].reset_index(drop=True)
    k_now, n_now = lastrow["_k"].to_numpy(dtype=float), lastrow["_n"].to_numpy(dtype=float)
    value_now = 100 * k_now / n_now
    years_left = (target_x - lastrow["_period_number"].to_numpy()).astype(int)
    gap_pp = target_value - value_now
    gap_children = np.array([_needed_count(target_value, nn, higher) for nn in n_now], dtype=int) - k_now.astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_year = np.where(years_left > 0, gap_children / np.where(years_left > 0, years_left, 1), np.nan)
        needed = np.where(years_left > 0, gap_pp / np.where(years_left > 0, years_left, 1), np.nan)
    from_end = df.groupby(gid).cumcount(ascending=False).to_numpy()
    use = from_end < points
    g, k, cnt, x = gid[use], *(df.loc[use, c].to_numpy(dtype=float) for c in ("_k", "_n", "_period_number"))

    def total(v):
        return np.bincount(g, weights=v, minlength=n_groups)

    m = np.bincount(g, minlength=n_groups)
    sum_n = total(cnt)
    pbar, xbar = total(k) / sum_n, total(cnt * x) / sum_n
    sxx = total(cnt * (x - xbar[g]) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = total(cnt * (x - xbar[g]) * (k / cnt - pbar[g])) / sxx
        fit = pbar[g] + slope[g] * (x - xbar[g])
        unit = pbar * (1 - pbar)
        phi_hat = np.where((m > 2) & (unit > 0), total(cnt * (k / cnt - fit) ** 2) / unit / np.maximum(m - 2, 1), 1.0)
        fitted = (m >= min_points) & (sxx > 0)
        phi = np.maximum(1.0, phi_hat)
        q = np.where(phi_hat > 1, stats.t.ppf(0.5 + level / 2, np.maximum(m - 2, 1)), z)
        fit0 = pbar + slope * (target_x - xbar)
        var_line = phi * unit * (1 / sum_n + (target_x - xbar) ** 2 / sxx)
        p0 = np.clip(fit0, 0.0, 1.0)
        half = q * np.sqrt(var_line + phi * p0 * (1 - p0) / n_now)
    proj = np.where(fitted, 100 * fit0, np.nan)
    low = np.where(fitted, 100 * np.maximum(fit0 - half, 0.0), np.nan)
    high = np.where(fitted, 100 * np.minimum(fit0 + half, 1.0), np.nan)
    reaches = np.where(higher, proj >= target_value, proj <= target_value)
    met_now = value_now >= target_value if higher else value_now <= target_value
    rows = []
    for i in range(n_groups):
        row = {**{kk: lastrow[kk].iloc[i] for kk in keys}, "current_period": lastrow[period].iloc[i],
               "current_value": value_now[i], "current_numerator": int(k_now[i]), "current_denominator": int(n_now[i]),
               "target_value": target_value, "target_period": str(target_period), "years_left": int(years_left[i]),
               "gap_pp": gap_pp[i], "gap_children": int(gap_children[i]), "children_per_year": per_year[i],
               "change_needed_pp": needed[i], "points": int(m[i]),
               "trend_pp": 100 * slope[i] if fitted[i] else np.nan, "projected_value":
               min(max(proj[i], 0.0), 100.0) if fitted[i] else np.nan, "projected_low": low[i],
               "projected_high": high[i], "dispersion": phi_hat[i] if fitted[i] else np.nan,
               "reaches_target": bool(reaches[i]) if fitted[i] else None,
               "interval_includes_target": bool(low[i] <= target_value <= high[i]) if fitted[i] else None}
        row["status"] = status = _status(row, bool(met_now[i]))
        row["words"] = _words(row, status, level, higher)
        rows.append(row)
    return TargetResult(pd.DataFrame(rows), float(level), source, warnings)


def _status(row: dict, met_now: bool) -> str:
    """A group's status from its row (``years_left``, ``reaches_target``: None when no trend could be fitted) and
    whether its latest value meets the target already; the same rule for proportions and mean scores."""
    if row["years_left"] <= 0:
        return MET if met_now else NOT_MET
    if met_now and row["reaches_target"] is not False:
        return ALREADY_MET
    if row["reaches_target"] is None:
        return TOO_FEW
    return ON_TRACK if row["reaches_target"] else NOT_ON_TRACK


def _words(row: dict, status: str, level: float, higher: bool, unit: str = "%") -> str:
    """The target's status in words: a proportion in % (with the children a year it takes), or a mean score in
    points of the score (``unit`` other than "%")."""
    pct = unit == "%"
    d = 1 if pct else 2                                  # decimals of values and points

    def val(v) -> str:
        return f"{v:.{d}f}%" if pct else f"{v:.{d}f}"

    tv, tp = row["target_value"], row["target_period"]
    target = f"{tv:g}%" if pct else f"{tv:g}"
    now = f"{val(row['current_value'])} in {row['current_period']}"
    need = ""
    if row["years_left"] > 0 and status != ALREADY_MET:
        if pct:
            need = (f" Reaching {target} by {tp} needs {abs(row['change_needed_pp']):.1f} percentage points a year: "
                    f"about {abs(row['children_per_year']):.0f} {'more' if higher else 'fewer'} children a year at "
                    f"the current cohort size ({abs(row['gap_children'])} in all).")
        else:
            need = (f" Reaching {target} by {tp} needs {abs(row['change_needed_pp']):.2f} points a year "
                    f"({abs(row['gap_pp']):.2f} in all).")
    if status in (MET, NOT_MET):
        when = "the target period" if row["years_left"] == 0 else "after the target period"
        short = f"; {abs(row['gap_pp']):.{d}f} {'percentage points' if pct else 'points'} short."
        return (f"{'Met' if status == MET else 'Not met'}: {now} ({when}), against a target of {target} by {tp}"
                + ("." if status == MET else short))
    if status == TOO_FEW:
        return (f"Too few points to say: {now}, {abs(row['gap_pp']):.{d}f} points from the target of {target} by "
                f"{tp}; a trend needs at least 3 periods (there {'is' if row['points'] == 1 else 'are'} "
                f"{row['points']}).{need}")
    proj = (f"the current trend ({row['trend_pp']:+.{d}f} points a year) gives about {val(row['projected_value'])} "
            f"by {tp} ({round(level * 100):d}% interval {val(row['projected_low'])} to {val(row['projected_high'])})")
    if status == ALREADY_MET:
        return f"Already met: {now}, against a target of {target} by {tp}" + (
            f"; {proj}." if np.isfinite(row["trend_pp"]) else ".")
    unsure = " The interval includes the target, so this is not certain." if row["interval_includes_target"] else ""
    head = "On track" if status == ON_TRACK else "Not on track at the current rate"
    return f"{head}: {now}; {proj}.{unsure}{need}"


def _mean_progress(df, keys, period, target_value, target_period, target_x, polarity, points, min_points, level,
                   source, warnings) -> TargetResult:
    """:func:`target_progress` for means (``df`` from ``prepare_series``: ``_mean``, ``_sd``, ``_n``, ``_se``)."""
    from scipy import stats

    from measurekit.stats.trend import _group_ids

    higher = polarity == "higher_is_better"
    gid = _group_ids(df, keys)
    n_groups = int(gid.max()) + 1
    last = np.r_[gid[1:] != gid[:-1], True]
    lastrow = df[last].reset_index(drop=True)
    mean_now, sd_now = lastrow["_mean"].to_numpy(dtype=float), lastrow["_sd"].to_numpy(dtype=float)
    n_now = lastrow["_n"].to_numpy(dtype=float)
    years_left = (target_x - lastrow["_period_number"].to_numpy()).astype(int)
    gap = target_value - mean_now
    with np.errstate(invalid="ignore", divide="ignore"):
        needed = np.where(years_left > 0, gap / np.where(years_left > 0, years_left, 1), np.nan)
    from_end = df.groupby(gid).cumcount(ascending=False).to_numpy()
    use = from_end < points
    g = gid[use]
    y, se, x = (df.loc[use, c].to_numpy(dtype=float) for c in ("_mean", "_se", "_period_number"))
    usable = np.isfinite(se) & (se > 0)
    bad_group = np.bincount(g[~usable], minlength=n_groups) > 0     # a point with no spread: no weight to give it
    w = np.where(usable, 1 / np.where(usable, se, 1.0) ** 2, 0.0)

    def total(v):
        return np.bincount(g, weights=v, minlength=n_groups)

    m = np.bincount(g, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        sw = total(w)
        xbar, ybar = total(w * x) / sw, total(w * y) / sw
        sxx = total(w * (x - xbar[g]) ** 2)
        slope = total(w * (x - xbar[g]) * (y - ybar[g])) / sxx
        resid = y - (ybar[g] + slope[g] * (x - xbar[g]))
        phi_hat = np.where(m > 2, total(w * resid ** 2) / np.maximum(m - 2, 1), np.nan)
        fitted = (m >= min_points) & (sxx > 0) & ~bad_group
        phi = np.maximum(1.0, np.nan_to_num(phi_hat, nan=1.0))
        q = stats.t.ppf(0.5 + level / 2, np.maximum(m - 2, 1))
        fit0 = ybar + slope * (target_x - xbar)
        half = q * np.sqrt(phi * (1 / sw + (target_x - xbar) ** 2 / sxx) + phi * sd_now ** 2 / n_now)
    proj = np.where(fitted, fit0, np.nan)
    low, high = np.where(fitted, fit0 - half, np.nan), np.where(fitted, fit0 + half, np.nan)
    reaches = np.where(higher, proj >= target_value, proj <= target_value)
    met_now = mean_now >= target_value if higher else mean_now <= target_value
    rows = []
    for i in range(n_groups):
        row = {**{kk: lastrow[kk].iloc[i] for kk in keys}, "current_period": lastrow[period].iloc[i],
               "current_value": mean_now[i], "current_numerator": None, "current_denominator": int(n_now[i]),
               "target_value": target_value, "target_period": str(target_period), "years_left": int(years_left[i]),
               "gap_pp": gap[i], "gap_children": None, "children_per_year": np.nan,
               "change_needed_pp": needed[i], "points": int(m[i]),
               "trend_pp": slope[i] if fitted[i] else np.nan, "projected_value": proj[i],
               "projected_low": low[i], "projected_high": high[i],
               "dispersion": phi_hat[i] if fitted[i] else np.nan,
               "reaches_target": bool(reaches[i]) if fitted[i] else None,
               "interval_includes_target": bool(low[i] <= target_value <= high[i]) if fitted[i] else None}
        row["status"] = status = _status(row, bool(met_now[i]))
        row["words"] = _words(row, status, level, higher, unit="points")
        rows.append(row)
    return TargetResult(pd.DataFrame(rows), float(level), source, warnings)


