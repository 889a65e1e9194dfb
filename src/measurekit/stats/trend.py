"""Trend markers as OHID's Fingertips marks them, and the change from the previous period.

:func:`trend_markers` tests for a "recent trend" over the most recent five points of each series, as
the Fingertips trend-markers technical guidance describes: for proportions the chi-squared test for
trend in proportions (Cochran-Armitage; base R ``prop.trend.test`` with the periods as scores), for
means a weighted linear regression of the values on time with weights one over each value's
variance, whose slope over its standard error, squared, is referred to chi-squared on 1 df. A significant
trend is marked only when its direction does not hang on one point: the slope (of the logits, for
proportions) keeps its sign with each point left out in turn, as Fingertips' own calculator checks
(``TrendMarkerCalculator`` in ukhsa-collaboration/fingertips-open, which tests at 99.8%: chi-squared above
9.5495). Fewer than five points: no marker ("could not be calculated", with the reason). Periods are
placed at their years (Fingertips numbers the five points 1 to 5; the same when the years are
consecutive, and a gap is noted). The words follow the indicator's
polarity ("Increasing and getting better" ...), as Fingertips words them.

:func:`change_from_previous` gives each period's change from the period before with an interval: for
proportions the difference of two independent proportions with Newcombe's (1998) method 10 (hybrid
Wilson score, as PHE's tools), for means Welch's t interval.

Series are long tables: one row per period (and per group when ``by`` names grouping columns). Periods
are years (2024) or academic years (2023/24, 202324); see ``stats/_numerics/series.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.stats._numerics import series as S

POLARITIES = ("higher_is_better", "lower_is_better", "no_judgement")
VALUE_TYPES = ("proportion", "mean", "other")

#: Fingertips' marker words, by polarity and direction.
MARKER_WORDS = {
    ("higher_is_better", "increasing"): "Increasing and getting better",
    ("higher_is_better", "decreasing"): "Decreasing and getting worse",
    ("lower_is_better", "increasing"): "Increasing and getting worse",
    ("lower_is_better", "decreasing"): "Decreasing and getting better",
    ("no_judgement", "increasing"): "Increasing",
    ("no_judgement", "decreasing"): "Decreasing",
}
NO_CHANGE = "No significant change"
NOT_CALCULATED = "Could not be calculated"


@dataclass
class TrendResult(Result):
    """Result of :func:`trend_markers`: one row per series (per group of ``by``).

    Columns: the ``by`` columns; ``first_period`` and ``last_period`` of the points tested; ``points`` (how many,
    at most ``points``); ``slope`` (change per year on the published scale: percentage points a year for
    proportions, units a year for means; the Cochran-Armitage slope, i.e. the least-squares line weighted by
    the denominators, for proportions; the inverse-variance weighted regression slope for means); ``robust``
    (the slope keeps its sign with each point left out: Fingertips' check; a significant trend that is not
    robust is marked "No significant change"; blank when not tested); ``chi2``
    (the chi-squared statistic for trend on 1 df, as R's ``prop.trend.test`` for proportions); ``p_val``;
    ``direction`` ("increasing", "decreasing", "no significant change", "could not be calculated");
    ``marker`` (Fingertips' words, aware of polarity: "Increasing and getting better" ...); ``reason`` (why
    no marker could be calculated, else blank); ``note`` (e.g. a gap in the years tested).
    """

    table: pd.DataFrame
    level: float = 0.998
    warnings: list[str] = field(default_factory=list)
    _title = "Recent trend (Fingertips trend markers)"


@dataclass
class ChangeResult(Result):
    """Result of :func:`change_from_previous`: one row per period that has a period before it (per group).

    Columns: the ``by`` columns; ``period`` and ``previous_period``; ``value`` and ``previous_value`` (percent
    for proportions, the mean for means); ``change`` (value minus previous value: percentage points for
    proportions); ``ci_low``/``ci_high`` (the interval for the change at ``level``: Newcombe's method 10 for
    proportions, Welch's t for means); ``p_val`` (two-sided, z test of the difference with the pooled
    proportion for proportions, Welch's t test for means); ``significant`` (the interval excludes 0);
    ``words`` ("Higher than 2023/24 and better", "Similar to 2023/24" ...); ``years_between`` (more than 1:
    a gap in the series).
    """

    table: pd.DataFrame
    level: float = 0.95
    warnings: list[str] = field(default_factory=list)
    _title = "Change from the previous period"


def _check_options(value_type: str, polarity: str, level: float, points: int | None = None) -> None:
    from measurekit.stats._numerics.item_data import bad_option

    if value_type not in VALUE_TYPES:
        raise bad_option("value_type", f"value_type must be one of {', '.join(VALUE_TYPES)}, not {value_type!r}.",
                         value_type)
    if polarity not in POLARITIES:
        raise bad_option("polarity", f"polarity must be one of {', '.join(POLARITIES)}, not {polarity!r}.", polarity)
    if not (isinstance(level, (int, float)) and 0.5 < float(level) < 1):
        raise bad_option("level", f"level must be a confidence level between 0.5 and 1 (e.g. 0.95), not {level!r}.",
                         level)
    if points is not None and (not isinstance(points, (int, np.integer)) or isinstance(points, bool) or points < 3):
        raise bad_option("points", f"points must be a whole number of at least 3, not {points!r}.", points)


def prepare_series(data: pd.DataFrame, *, period: str, by, value_type: str, numerator: str, denominator: str,
                   mean: str, sd: str, n: str, value: str = "value", lower_cl: str = "lower_cl",
                   upper_cl: str = "upper_cl") -> tuple[pd.DataFrame, list[str]]:
    """A checked copy of the series (input untouched) with ``_period_number``, ``_k``/``_n`` (proportions) or
    ``_mean``/``_se`` (means: also ``_sd``/``_n``; other values: the standard error read from the 95% limits as
    their width over 3.92, as Fingertips), sorted by group and period. Used by trend, target and inequality."""
    if not isinstance(data, pd.DataFrame):
        raise S.problem("invalid_input", f"The series must be a table (pandas DataFrame), not {type(data).__name__}.")
    keys = S.group_keys(by)
    columns = {"proportion": (numerator, denominator), "mean": (mean, sd, n), "other": (value, lower_cl, upper_cl)}
    needed = [period, *keys, *columns[value_type]]
    S.columns_present(data, needed, "The series")
    df = data[list(dict.fromkeys(needed))].copy().reset_index(drop=True)
    if df.empty:
        raise S.problem("too_few_cases", "The series has no rows.")
    df["_period_number"] = S.periods(df, period)
    if value_type == "proportion":
        df["_k"], df["_n"] = S.counts(df, numerator, denominator)
    elif value_type == "mean":
        df["_mean"] = S.numeric_column(df, mean, minimum=None)
        df["_sd"] = S.numeric_column(df, sd)
        df["_n"] = S.numeric_column(df, n, positive=True)
        df["_se"] = df["_sd"] / np.sqrt(df["_n"])
    else:
        df["_mean"] = S.numeric_column(df, value, minimum=None)
        lo = S.numeric_column(df, lower_cl, minimum=None)
        hi = S.numeric_column(df, upper_cl, minimum=None)
        wrong = np.flatnonzero((lo > df["_mean"].to_numpy()) | (hi < df["_mean"].to_numpy()))
        if wrong.size:
            i = int(wrong[0])
            raise S.problem("out_of_range", f"Row {i + 2}: the value {df[value].iloc[i]!r} is not between its limits "
                            f"{df[lower_cl].iloc[i]!r} and {df[upper_cl].iloc[i]!r}.", row=i + 2, column=value,
                            value=str(df[value].iloc[i]), rule=f"{lower_cl} <= {value} <= {upper_cl}")
        df["_se"] = (hi - lo) / 3.92
    for k in keys:
        blank = df[k].isna().to_numpy()
        if blank.any():
            i = int(np.flatnonzero(blank)[0])
            raise S.problem("missing_group", f"{k!r} is blank in row {i + 2}; name the group or drop the row.",
                            row=i + 2, column=k)
    S.no_duplicate_periods(df, keys, period)
    return df.sort_values([*keys, "_period_number"], kind="stable").reset_index(drop=True), keys


def proportion_trend(k, n, x) -> tuple[float, float, float]:
    """(slope per unit of x on the 0-1 scale, chi-squared for trend, p) for counts k of n at times x:
    the Cochran-Armitage test as R's ``prop.trend.test(k, n, score = x)``."""
    from scipy import stats

    k, n, x = (np.asarray(a, dtype=float) for a in (k, n, x))
    pbar = k.sum() / n.sum()
    xbar = np.sum(n * x) / n.sum()
    sxx = np.sum(n * (x - xbar) ** 2)
    if pbar <= 0 or pbar >= 1 or sxx <= 0:
        return np.nan, np.nan, np.nan
    slope = np.sum(n * (x - xbar) * (k / n - pbar)) / sxx
    chi2 = slope**2 * sxx / (pbar * (1 - pbar))
    return float(slope), float(chi2), float(stats.chi2.sf(chi2, 1))


def weighted_trend(y, se, x) -> tuple[float, float, float, float]:
    """(slope, its standard error, chi-squared, p) of the inverse-variance weighted regression of y on x."""
    from scipy import stats

    y, se, x = (np.asarray(a, dtype=float) for a in (y, se, x))
    if np.any(se <= 0) or not np.all(np.isfinite(se)):
        return np.nan, np.nan, np.nan, np.nan
    w = 1 / se**2
    xbar, ybar = np.sum(w * x) / w.sum(), np.sum(w * y) / w.sum()
    sxx = np.sum(w * (x - xbar) ** 2)
    if sxx <= 0:
        return np.nan, np.nan, np.nan, np.nan
    slope = np.sum(w * (x - xbar) * (y - ybar)) / sxx
    se_slope = 1 / np.sqrt(sxx)
    chi2 = (slope / se_slope) ** 2
    return float(slope), float(se_slope), float(chi2), float(stats.chi2.sf(chi2, 1))


def _same_sign_left_out(y, x, w=None) -> bool:
    """Fingertips' check against a trend made by one point: the slope keeps its sign with each point left out in
    turn (least squares of y on x, weighted by w when given; a slope of exactly 0 counts as positive)."""
    y, x = np.asarray(y, dtype=float)[None, :], np.asarray(x, dtype=float)[None, :]
    w = np.ones_like(y) if w is None else np.asarray(w, dtype=float)[None, :]
    return bool(_same_sign_rows(y, x, w)[0])


def _same_sign_rows(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:func:`_same_sign_left_out` for each row of (series x points) arrays at once."""
    m = y.shape[1]
    signs = np.zeros(y.shape[0])
    for drop in range(-1, m):
        ww = w.copy()
        if drop >= 0:
            ww[:, drop] = 0.0
        sw = ww.sum(axis=1, keepdims=True)
        xbar, ybar = (ww * x).sum(axis=1, keepdims=True) / sw, (ww * y).sum(axis=1, keepdims=True) / sw
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = (ww * (x - xbar) * (y - ybar)).sum(axis=1) / (ww * (x - xbar) ** 2).sum(axis=1)
        signs += np.where(slope < 0, -1.0, 1.0)
    return np.abs(signs) == m + 1


def _group_ids(df: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Group number of each row of a frame sorted by ``keys`` then period (groups are contiguous)."""
    if not keys:
        return np.zeros(len(df), dtype=int)
    return df.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()


def trend_markers(data: pd.DataFrame, *, period: str = "period", by=None, value_type: str = "proportion",
                  numerator: str = "numerator", denominator: str = "denominator", mean: str = "mean",
                  sd: str = "sd", n: str = "n", value: str = "value", lower_cl: str = "lower_cl",
                  upper_cl: str = "upper_cl", polarity: str = "no_judgement", points: int = 5,
                  level: float = 0.998) -> TrendResult:
    """Fingertips' recent-trend marker for each series, over its most recent ``points`` (5) periods.

    ``data`` is a long table, one row per period (per group of the ``by`` columns): ``numerator`` and
    ``denominator`` counts for proportions; ``mean``, ``sd`` and ``n`` for means; for any other value with 95%
    limits (a rate, an SII, a gap: ``value_type="other"``) ``value``, ``lower_cl`` and ``upper_cl``, the
    standard error being the limits' width over 3.92 as Fingertips reads it. ``polarity`` is the
    indicator's (``higher_is_better``, ``lower_is_better``, ``no_judgement``) and sets the words. A trend is
    significant when p < 1 - ``level``; Fingertips tests at 99.8% (``level=0.998``). Series with fewer
    than ``points`` periods get "Could not be calculated" and the reason, not an error. Numbers agree with
    R's ``prop.trend.test(k, n, score = year)`` (tests/fixtures/r/trend_markers.R). All series are computed
    at once (arrays of series x points), so thousands of series take well under a second.
    """
    from scipy import stats

    _check_options(value_type, polarity, level, points)
    df, keys = prepare_series(data, period=period, by=by, value_type=value_type, numerator=numerator,
                              denominator=denominator, mean=mean, sd=sd, n=n, value=value, lower_cl=lower_cl,
                              upper_cl=upper_cl)
    gid = _group_ids(df, keys)
    from_end = df.groupby(gid).cumcount(ascending=False).to_numpy()
    recent = df[from_end < points]
    rgid = gid[from_end < points]
    n_groups = int(gid.max()) + 1
    size = np.bincount(rgid, minlength=n_groups)
    first_row = np.r_[0, np.cumsum(size)[:-1]]
    last_row = np.cumsum(size) - 1
    out = pd.DataFrame({k: recent[k].to_numpy()[first_row] for k in keys})
    out["first_period"] = recent[period].to_numpy()[first_row]
    out["last_period"] = recent[period].to_numpy()[last_row]
    out["points"] = size
    slope = np.full(n_groups, np.nan)
    chi2 = np.full(n_groups, np.nan)
    robust = np.full(n_groups, None, dtype=object)
    reason = np.array([f"only {m} period{'s' if m != 1 else ''} of data; a trend needs {points}" if m < points
                       else "" for m in size], dtype=object)
    note = np.full(n_groups, "", dtype=object)
    full = np.flatnonzero(size == points)
    if full.size:
        rows = np.isin(rgid, full)
        sub = recent[rows]
        x = sub["_period_number"].to_numpy(dtype=float).reshape(full.size, points)
        gap = (np.diff(x, axis=1) > 1).any(axis=1)
        note[full[gap]] = "gap in the series: the periods tested are not consecutive years (spaced as they fall)"
        if value_type == "proportion":
            k = sub["_k"].to_numpy(dtype=float).reshape(full.size, points)
            nn = sub["_n"].to_numpy(dtype=float).reshape(full.size, points)
            pbar = k.sum(axis=1) / nn.sum(axis=1)
            xbar = (nn * x).sum(axis=1) / nn.sum(axis=1)
            sxx = (nn * (x - xbar[:, None]) ** 2).sum(axis=1)
            ok = (pbar > 0) & (pbar < 1) & (sxx > 0)
            with np.errstate(invalid="ignore", divide="ignore"):
                b = (nn * (x - xbar[:, None]) * (k / nn - pbar[:, None])).sum(axis=1) / sxx
                c2 = b**2 * sxx / (pbar * (1 - pbar))
            slope[full[ok]], chi2[full[ok]] = 100 * b[ok], c2[ok]
            reason[full[~ok]] = "every child in the periods tested has the same outcome (0% or 100%)"
            edge = ((k <= 0) | (k >= nn)).any(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                same = _same_sign_rows(np.log(k / (nn - k)), x, np.ones_like(x))
            robust[full[ok & ~edge]] = same[ok & ~edge]
            for i in full[ok & edge]:
                note[i] = "; ".join(filter(None, [note[i], "a period at 0% or 100%: the one-point check (logit "
                                                  "slopes) cannot be made and is skipped"]))
        else:
            y = sub["_mean"].to_numpy(dtype=float).reshape(full.size, points)
            se = sub["_se"].to_numpy(dtype=float).reshape(full.size, points)
            ok = (se > 0).all(axis=1) & np.isfinite(se).all(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                w = 1 / se**2
                xbar = (w * x).sum(axis=1) / w.sum(axis=1)
                ybar = (w * y).sum(axis=1) / w.sum(axis=1)
                sxx = (w * (x - xbar[:, None]) ** 2).sum(axis=1)
                b = (w * (x - xbar[:, None]) * (y - ybar[:, None])).sum(axis=1) / sxx
                c2 = b**2 * sxx
            ok &= sxx > 0
            slope[full[ok]], chi2[full[ok]] = b[ok], c2[ok]
            reason[full[~ok]] = "a period's value has no uncertainty (standard error 0), so its weight is infinite"
            with np.errstate(invalid="ignore", divide="ignore"):
                same = _same_sign_rows(y, x, np.where(np.isfinite(w), w, 0.0))
            robust[full[ok]] = same[ok]
    p_val = np.where(np.isfinite(chi2), stats.chi2.sf(np.where(np.isfinite(chi2), chi2, 0.0), 1), np.nan)
    significant = np.isfinite(chi2) & (p_val < 1 - level)
    one_point = significant & np.array([r is False or r is np.False_ for r in robust])
    for i in np.flatnonzero(one_point):
        note[i] = "; ".join(filter(None, [note[i], "significant only because of one period: leaving a period out "
                                          "reverses the direction"]))
    marked = significant & ~one_point
    direction = np.where(~np.isfinite(chi2), "could not be calculated",
                         np.where(marked, np.where(slope > 0, "increasing", "decreasing"), "no significant change"))
    words = {"could not be calculated": NOT_CALCULATED, "no significant change": NO_CHANGE}
    marker = [words.get(d) or MARKER_WORDS[(polarity, d)] for d in direction]
    out = out.assign(slope=slope, chi2=chi2, p_val=p_val, direction=direction, marker=marker,
                     robust=pd.Series([None if r is None else bool(r) for r in robust], dtype=object),
                     reason=reason, note=note)
    table = out[[*keys, "first_period", "last_period", "points", "slope", "chi2", "p_val", "direction", "marker",
                 "robust", "reason", "note"]]
    bad = int((table["reason"] != "").sum())
    warnings = [f"{bad} series had too few points or no variation for a trend marker; see 'reason'."] if bad else []
    return TrendResult(table.reset_index(drop=True), float(level), warnings)


def _change_words(change: float, low: float, high: float, polarity: str, previous: str) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "Could not be calculated"
    if low <= 0 <= high:
        return f"Similar to {previous}"
    up = change > 0
    words = f"{'Higher' if up else 'Lower'} than {previous}"
    if polarity == "higher_is_better":
        words += " and better" if up else " and worse"
    elif polarity == "lower_is_better":
        words += " and worse" if up else " and better"
    return words


def change_from_previous(data: pd.DataFrame, *, period: str = "period", by=None, value_type: str = "proportion",
                         numerator: str = "numerator", denominator: str = "denominator", mean: str = "mean",
                         sd: str = "sd", n: str = "n", value: str = "value", lower_cl: str = "lower_cl",
                         upper_cl: str = "upper_cl", polarity: str = "no_judgement",
                         level: float = 0.95) -> ChangeResult:
    """Each period's change from the period before it (per group), with an interval at ``level``.

    Proportions: difference in percentage points with Newcombe's method 10 (hybrid Wilson score, no
    continuity correction; as PHE's tools; checked against the same formula written in R in
    tests/fixtures/r/trend_markers.R). Means: difference of means with Welch's t interval (R's
    ``t.test(var.equal = FALSE)`` from summary statistics). Other values with 95% limits: the normal interval
    of the difference, its standard error sqrt(se1^2 + se0^2) with each se the limits' width over 3.92. The
    previous period is the one before it in the data; ``years_between`` says when a year is missing between
    them.
    """
    from scipy import stats

    _check_options(value_type, polarity, level)
    df, keys = prepare_series(data, period=period, by=by, value_type=value_type, numerator=numerator,
                              denominator=denominator, mean=mean, sd=sd, n=n, value=value, lower_cl=lower_cl,
                              upper_cl=upper_cl)
    gid = _group_ids(df, keys)
    has_prev = np.r_[False, gid[1:] == gid[:-1]]
    cur = df[has_prev].reset_index(drop=True)
    prev = df[np.r_[has_prev[1:], False]].reset_index(drop=True)
    z = float(stats.norm.ppf(0.5 + level / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        if value_type == "proportion":
            k1, n1, k0, n0 = (a.to_numpy(dtype=float) for a in (cur["_k"], cur["_n"], prev["_k"], prev["_n"]))
            d, lo, hi = S.newcombe_difference(k1, n1, k0, n0, level)
            pooled = (k1 + k0) / (n1 + n0)
            se0 = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
            p = np.where(se0 > 0, 2 * stats.norm.sf(np.abs(d) / np.where(se0 > 0, se0, 1.0)),
                         np.where(d == 0, 1.0, 0.0))
            now, before = 100 * k1 / n1, 100 * k0 / n0
            d, lo, hi = 100 * d, 100 * lo, 100 * hi
        else:
            now, before = cur["_mean"].to_numpy(dtype=float), prev["_mean"].to_numpy(dtype=float)
            d = now - before
            v1, v0 = cur["_se"].to_numpy(dtype=float) ** 2, prev["_se"].to_numpy(dtype=float) ** 2
            se = np.sqrt(v1 + v0)
            if value_type == "mean":
                n1, n0 = cur["_n"].to_numpy(dtype=float), prev["_n"].to_numpy(dtype=float)
                usable = (se > 0) & (n1 > 1) & (n0 > 1)
                df_w = (v1 + v0) ** 2 / (v1**2 / (n1 - 1) + v0**2 / (n0 - 1))
                q = np.where(usable, stats.t.ppf(0.5 + level / 2, np.where(usable, df_w, 1.0)), np.nan)
                p = np.where(usable, 2 * stats.t.sf(np.abs(d) / np.where(usable, se, 1.0), np.where(usable, df_w, 1.0)),
                             np.nan)
            else:
                usable = se > 0
                q = np.where(usable, z, np.nan)
                p = np.where(usable, 2 * stats.norm.sf(np.abs(d) / np.where(usable, se, 1.0)), np.nan)
            lo, hi = d - q * se, d + q * se
    significant = np.isfinite(lo) & ~((lo <= 0) & (0 <= hi))
    out = cur[keys].copy()
    out["period"] = cur[period].to_numpy()
    out["previous_period"] = prev[period].to_numpy()
    out = out.assign(value=now, previous_value=before, change=d, ci_low=lo, ci_high=hi, p_val=p,
                     significant=significant.astype(bool),
                     words=[_change_words(a, b, c, polarity, str(pp)) for a, b, c, pp in
                            zip(d, lo, hi, prev[period])],
                     years_between=(cur["_period_number"].to_numpy() - prev["_period_number"].to_numpy()).astype(int))
    return ChangeResult(out.reset_index(drop=True), float(level))
