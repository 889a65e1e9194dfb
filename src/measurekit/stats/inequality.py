"""Inequality: the slope and relative index of inequality by deprivation quantile, and the gap between two groups.

:func:`sii` follows the method of PHEindicatormethods' ``phe_sii`` (R; Low and Low 2004, J Public Health
26:388-395), implemented here from its description: quantiles ordered from most deprived (1) to least
deprived; each quantile's share of the population ``a`` and its relative rank ``b``, the midpoint of its
band in the cumulative population (the first decile holding 12% of children has b = 0.06); the indicator
value regressed on the rank by least squares weighted by population (``value*sqrt(a) ~ sqrt(a) +
b*sqrt(a)`` without constant). The SII is the slope: the fitted value at the least deprived end (b = 1)
minus that at the most deprived end (b = 0); the RII is their ratio. Confidence limits come from Monte
Carlo simulation: each quantile's value is drawn from its sampling distribution (normal on the log scale
for rates, on the logit scale for proportions, with the standard error read from the 95% confidence
limits), the line refitted, and the percentiles of the simulated slopes taken. With ``transform=True``
the line is fitted on the log/logit scale and turned back into the indicator's units, as ``phe_sii``.
``reliability=True`` repeats the simulation ten times and reports the mean absolute difference of the
later limits from the first (``sii_mad``, ``rii_mad``): limits are stable to the decimal place where
the MAD is below 1 in the next place (MAD < 0.01 for one decimal place).

:func:`group_gap` gives the difference between two groups (e.g. children eligible for free school meals
and the rest) in each period with Newcombe's method 10 interval, and the trend of the gap over periods
(weighted least squares on the gap's standard errors, as Fingertips tests the trend of a gap).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.stats._numerics import series as S
from measurekit.stats.intervals import wilson

VALUE_TYPES = ("proportion", "rate", "other")


@dataclass
class SIIResult(Result):
    """Result of :func:`sii`: one row per group of ``by`` and confidence level.

    Columns: the ``by`` columns; ``confidence``; ``sii`` (fitted value at the least deprived end minus at
    the most deprived end, times ``multiplier``: positive when values rise with less deprivation) with
    ``sii_lower``/``sii_upper`` (Monte Carlo limits); ``rii`` (fitted value at the least deprived end over that
    at the most deprived end; inverted when ``multiplier`` is negative) with ``rii_lower``/``rii_upper``;
    ``intercept`` (the fitted value at the most deprived end, b = 0); ``quantiles`` (how many); ``population``
    (the total); with ``reliability``, ``sii_mad``/``rii_mad`` (mean absolute difference of nine more
    simulations' limits from the first) and ``sii_stable_decimals``/``rii_stable_decimals`` (the decimal
    places the limits can be shown to: MAD below 0.01 for one, below 0.001 for two). ``phe_sii``
    (PHEindicatormethods) computes the same numbers;
    tests/fixtures/r/inequality_sii.R ran it.

    ``quantiles``: the inputs as used, one row per group and quantile: ``quantile``, ``population``, ``value``,
    ``se`` (on the log/logit scale for rates/proportions), ``share`` (a: share of the group's population) and
    ``relative_rank`` (b: midpoint of the quantile's band in the cumulative population).
    """

    table: pd.DataFrame
    quantiles: pd.DataFrame
    repetitions: int = 100_000
    warnings: list[str] = field(default_factory=list)
    _title = "Slope and relative index of inequality"


@dataclass
class GapResult(Result):
    """Result of :func:`group_gap`.

    ``table``: one row per group of ``by`` and period: ``period``; ``group_a``/``group_b`` (the two groups);
    ``value_a``/``value_b`` (percent); ``n_a``/``n_b`` (denominators); ``gap`` (value_a minus value_b,
    percentage points); ``ci_low``/``ci_high`` (Newcombe's method 10 at ``level``); ``significant``.
    ``trend``: one row per group of ``by``: ``first_period``, ``last_period``, ``points``; ``slope`` (change of
    the gap a year, percentage points; negative: the gap is narrowing when it is positive); ``se``, ``chi2``,
    ``p_val`` (inverse-variance weighted regression of the gap on time, the gap's variance read from its
    interval); ``direction`` ("narrowing", "widening", "no significant change", "could not be calculated").
    """

    table: pd.DataFrame
    trend: pd.DataFrame
    level: float = 0.95
    warnings: list[str] = field(default_factory=list)
    _title = "Gap between two groups"


def relative_rank(population) -> np.ndarray:
    """Midpoint of each quantile's band in the cumulative population share (quantiles in order)."""
    pop = np.asarray(population, dtype=float)
    share = pop / pop.sum()
    return np.cumsum(share) - share / 2


def _to_scale(values, value_type: str):
    v = np.asarray(values, dtype=float)
    if value_type == "rate":
        return np.log(v)
    if value_type == "proportion":
        return np.log(v / (1 - v))
    return v


def _from_scale(values, value_type: str):
    from measurekit.stats._numerics.logistic import expit

    v = np.asarray(values, dtype=float)
    if value_type == "rate":
        return np.exp(v)
    if value_type == "proportion":
        return expit(v)
    return v


def _fit(sqrt_a: np.ndarray, b: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Coefficients (intercept, slope) of ``y*sqrt(a) ~ sqrt(a) + b*sqrt(a) - 1`` for each column of y."""
    X = np.column_stack([sqrt_a, b * sqrt_a])
    H = np.linalg.solve(X.T @ X, X.T) * sqrt_a        # 2 x k, the weighting by sqrt(a) folded in
    return H @ y                                      # 2 x reps


def _positions(repetitions: int, confidence: float) -> tuple[int, int]:
    """0-based positions of the lower and upper limits among sorted simulations (phe_sii's rounding)."""
    upper_q = confidence + (1 - confidence) / 2
    lo = int(np.round(repetitions * (1 - upper_q)))
    hi = int(np.round(repetitions * upper_q))
    return max(lo, 1) - 1, min(hi, repetitions) - 1


def _check_sii_options(value_type, transform, repetitions, confidence, multiplier):
    from measurekit.stats._numerics.item_data import bad_option

    if value_type not in VALUE_TYPES:
        raise bad_option("value_type", f"value_type must be one of {', '.join(VALUE_TYPES)}, not {value_type!r}.",
                         value_type)
    if transform and value_type == "other":
        raise bad_option("transform", "transform=True needs value_type 'rate' (log) or 'proportion' (logit).",
                         transform)
    if not isinstance(repetitions, (int, np.integer)) or isinstance(repetitions, bool) or repetitions < 1000:
        raise bad_option("repetitions", f"repetitions must be a whole number of at least 1000 (default 100000), not "
                         f"{repetitions!r}.", repetitions)
    levels = [confidence] if np.isscalar(confidence) else list(confidence)
    out = []
    for c in levels:
        if not isinstance(c, (int, float, np.number)) or isinstance(c, bool):
            raise bad_option("confidence", f"confidence must be a number such as 0.95, not {c!r}.", c)
        c = float(c) / 100 if c >= 90 else float(c)
        if not 0.9 <= c < 1:
            raise bad_option("confidence", f"confidence must be between 0.9 and 1 (or 90 and 100), not {c!r}.", c)
        out.append(c)
    if not isinstance(multiplier, (int, float, np.number)) or isinstance(multiplier, bool) or multiplier == 0:
        raise bad_option("multiplier", f"multiplier must be a non-zero number (100 for percentages), not "
                         f"{multiplier!r}.", multiplier)
    return out


def sii(data: pd.DataFrame, *, quantile: str = "quantile", population: str = "population",
        numerator: str | None = None, value: str | None = None, se: str | None = None, lower_cl: str | None = None,
        upper_cl: str | None = None, value_type: str = "proportion", transform: bool = False,
        multiplier: float = 1, repetitions: int = 100_000, confidence=0.95, rii: bool = True, by=None,
        reliability: bool = False, random_state=None) -> SIIResult:
    """Slope index of inequality (SII) and relative index (RII) by deprivation quantile, as ``phe_sii``.

    ``data`` has one row per quantile (per group of ``by``): ``quantile`` (1 = most deprived; 5 to 100
    quantiles), ``population`` (the denominator, above 0), and either ``value`` or, for proportions,
    ``numerator`` (value = numerator / population). The standard error of each value comes from ``se``
    (only for ``value_type="other"``) or from 95% limits ``lower_cl``/``upper_cl``; proportions given as
    counts without limits get Wilson 95% limits (as PHEindicatormethods' ``phe_proportion``). Proportions are
    on the 0-1 scale (``multiplier=100`` reports percentage points). Groups missing a quantile are left out
    with a warning, as ``phe_sii`` does. ``random_state`` seeds the simulation; the same seed gives the same
    limits.
    """
    from measurekit.stats._numerics.item_data import bad_option

    levels = _check_sii_options(value_type, transform, repetitions, confidence, multiplier)
    if value is None and numerator is None:
        raise bad_option("value", "Name the column of values (value=...) or, for proportions, of counts "
                         "(numerator=...).")
    if numerator is not None and value is None and value_type != "proportion":
        raise bad_option("numerator", "numerator= gives proportions (numerator / population); for rates or other "
                         "values name the value column (value=...).", numerator)
    if se is not None and value_type != "other":
        raise bad_option("se", "For rates and proportions give the 95% confidence limits (lower_cl=, upper_cl=), "
                         "not a standard error: the standard error is read on the log or logit scale from them.", se)
    if se is None and (lower_cl is None) != (upper_cl is None):
        raise bad_option("lower_cl", "Give both lower_cl and upper_cl, or neither.")
    if se is None and lower_cl is None and not (value_type == "proportion" and numerator is not None):
        raise bad_option("se", "Name the standard errors (se=...) or the 95% limits (lower_cl=..., upper_cl=...); "
                         "only proportions given as counts get limits computed.")
    if not isinstance(data, pd.DataFrame):
        raise S.problem("invalid_input", f"The data must be a table (pandas DataFrame), not {type(data).__name__}.")
    keys = S.group_keys(by)
    cols = [c for c in (quantile, population, numerator, value, se, lower_cl, upper_cl) if c is not None]
    S.columns_present(data, [*keys, *cols], "The data")
    df = data[list(dict.fromkeys([*keys, *cols]))].copy().reset_index(drop=True)
    title = "Inequality (SII)"
    pop = S.numeric_column(df, population, positive=True)
    q = pd.to_numeric(df[quantile], errors="coerce").to_numpy(dtype=float)
    bad_q = np.flatnonzero(~np.isfinite(q))
    if bad_q.size:
        i = int(bad_q[0])
        raise S.problem("non_numeric", f"{quantile!r} holds {df[quantile].iloc[i]!r} in row {i + 2}; quantiles are "
                        "numbered 1 (most deprived) upwards.", title, row=i + 2, column=quantile,
                        value=str(df[quantile].iloc[i]), rule="a number")
    k = S.counts(df, str(numerator), population)[0] if numerator is not None else None
    if value is not None:
        v = S.numeric_column(df, value, minimum=None, allow_missing=True)
    else:
        assert k is not None
        v = k / pop
    if value_type == "proportion":
        outside = np.flatnonzero((v < 0) | (v > 1))
        if outside.size:
            i = int(outside[0])
            raise S.problem("out_of_range", f"Row {i + 2}: the proportion {v[i]:g} is not between 0 and 1 (divide "
                            "percentages by 100; multiplier=100 reports percentage points).", title, row=i + 2,
                            column=value or numerator, value=f"{v[i]:g}", rule="0 <= proportion <= 1")
        edge = np.flatnonzero((v == 0) | (v == 1))
        if edge.size:
            i = int(edge[0])
            raise S.problem("zero_count", f"Row {i + 2}: quantile {df[quantile].iloc[i]!r} has a proportion of "
                            f"{v[i]:g}; its logit is infinite.", title, row=i + 2, column=value or numerator,
                            value=f"{v[i]:g}", rule="0 < proportion < 1")
    if value_type == "rate":
        bad = np.flatnonzero(v <= 0)
        if bad.size:
            i = int(bad[0])
            raise S.problem("zero_count", f"Row {i + 2}: the rate {v[i]:g} is not above 0; its log is undefined.",
                            title, row=i + 2, column=value, value=f"{v[i]:g}", rule="rate > 0")
    if se is not None:
        se_v = S.numeric_column(df, se, allow_missing=True)
    else:
        if lower_cl is not None:
            lo = S.numeric_column(df, lower_cl, minimum=None, allow_missing=True)
            hi = S.numeric_column(df, upper_cl, minimum=None, allow_missing=True)   # type: ignore[arg-type]
        else:
            assert k is not None                      # checked above: proportions given as counts
            lo, hi = wilson(k, pop, 0.95)
        if value_type != "other":
            for name, arr in ((lower_cl, lo), (upper_cl, hi)):
                lim = (0, 1) if value_type == "proportion" else (0, np.inf)
                bad = np.flatnonzero((arr <= lim[0]) | (arr >= lim[1]))
                if bad.size:
                    i = int(bad[0])
                    raise S.problem("out_of_range", f"Row {i + 2}: the confidence limit {arr[i]:g} is outside the "
                                    f"{value_type}'s range, so its {'logit' if value_type == 'proportion' else 'log'}"
                                    " is undefined.", title, row=i + 2, column=name or "confidence limit",
                                    value=f"{arr[i]:g}", rule="inside (0, 1)" if value_type == "proportion" else "> 0")
        with np.errstate(divide="ignore", invalid="ignore"):
            se_v = (_to_scale(hi, value_type) - _to_scale(lo, value_type)) / (2 * 1.959963984540054)
    df["_q"], df["_pop"], df["_v"], df["_se"] = q, pop, v, se_v
    for key in keys:
        blank = df[key].isna().to_numpy()
        if blank.any():
            i = int(np.flatnonzero(blank)[0])
            raise S.problem("missing_group", f"{key!r} is blank in row {i + 2}.", title, row=i + 2, column=key)
    dup = df.duplicated(subset=[*keys, "_q"]).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise S.problem("duplicate_id", f"Quantile {df[quantile].iloc[i]!r} appears twice in one group (row {i + 2}).",
                        title, row=i + 2, column=quantile, value=str(df[quantile].iloc[i]), rule="one row per quantile")
    all_q = np.unique(q)
    warnings: list[str] = []
    if not 5 <= all_q.size <= 100:
        raise S.problem("too_few_cases", f"The data hold {all_q.size} quantiles; the SII needs 5 to 100 (quintiles, "
                        "deciles...).", title, column=quantile, value=str(all_q.size), rule="5 to 100 quantiles")
    if all_q.size > 10:
        warnings.append("More than 10 quantiles: small numbers in each can make the SII unstable.")
    rng = np.random.default_rng(random_state)
    rows, quantile_rows, dropped = [], [], []
    groups = [((), df)] if not keys else list(df.groupby(keys, sort=True))
    for gvalues, g in groups:
        gvalues = gvalues if isinstance(gvalues, tuple) else (gvalues,)
        where = dict(zip(keys, gvalues))
        g = g.sort_values("_q")
        complete = g[np.isfinite(g["_v"]) & np.isfinite(g["_se"])]
        if len(complete) != all_q.size:
            dropped.append(", ".join(f"{k} {v!r}" for k, v in where.items()) or "the data")
            continue
        a = g["_pop"].to_numpy() / g["_pop"].sum()
        b = relative_rank(g["_pop"].to_numpy())
        sqrt_a = np.sqrt(a)
        v_scale = _to_scale(g["_v"].to_numpy(), value_type)
        y = v_scale if transform else g["_v"].to_numpy()
        c0, c1 = _fit(sqrt_a, b, y[:, None])[:, 0]
        if transform:
            y0, y1 = _from_scale(c0, value_type), _from_scale(c0 + c1, value_type)
            point_sii = float((y1 - y0) * multiplier)
            point_rii = float(y1 / y0) if multiplier > 0 else float(y0 / y1)
            point_int = float(y0 * abs(multiplier))
        else:
            point_sii = float(c1 * multiplier)
            point_rii = float((c0 + c1) / c0) if multiplier > 0 else float(c0 / (c0 + c1))
            point_int = float(c0)
        sims = _simulate(rng, v_scale, g["_se"].to_numpy(), sqrt_a, b, value_type, transform, repetitions,
                         10 if reliability else 1)
        for conf in levels:
            lims = [_limits(s0, s1, conf, repetitions, transform, value_type, multiplier, c0, c1) for s0, s1 in sims]
            row = {**where, "confidence": conf, "sii": point_sii, "sii_lower": lims[0][0], "sii_upper": lims[0][1]}
            if rii:
                row.update(rii=point_rii, rii_lower=lims[0][2], rii_upper=lims[0][3])
            row.update(intercept=point_int, quantiles=int(all_q.size), population=float(g["_pop"].sum()))
            if reliability:
                arr = np.asarray(lims)                               # 10 x 4
                diffs = np.abs(arr[1:] - arr[0])
                row["sii_mad"] = float(diffs[:, :2].mean())
                row["sii_stable_decimals"] = stable_decimals(row["sii_mad"])
                if rii:
                    row["rii_mad"] = float(diffs[:, 2:].mean())
                    row["rii_stable_decimals"] = stable_decimals(row["rii_mad"])
            rows.append(row)
        quantile_rows.append(pd.DataFrame({**{k: [v] * len(g) for k, v in where.items()},
                                           "quantile": g[quantile].to_numpy(), "population": g["_pop"].to_numpy(),
                                           "value": g["_v"].to_numpy(), "se": g["_se"].to_numpy(), "share": a,
                                           "relative_rank": b}))
    if dropped:
        warnings.append(f"Left out (not every quantile has a value and a standard error): {'; '.join(dropped)}.")
    if not rows:
        raise S.problem("too_few_cases", "No group has a value and a standard error for every quantile.", title,
                        column=quantile)
    quantiles = pd.concat(quantile_rows, ignore_index=True)
    return SIIResult(pd.DataFrame(rows), quantiles, int(repetitions), warnings)


def stable_decimals(mad: float) -> int:
    """Decimal places the Monte Carlo limits can be shown to, by the PHEindicatormethods guidance on the MAD: below
    0.01 for one decimal place, below 0.001 for two (0 when the MAD is 0.1 or more)."""
    if not np.isfinite(mad):
        return 0
    if mad <= 0:
        return 15
    return int(max(0, np.floor(-np.log10(mad)) - 1))


def _simulate(rng, v_scale, se, sqrt_a, b, value_type, transform, repetitions, sets):
    """``sets`` simulations of ``repetitions`` each: (intercepts, slopes) of the refitted line."""
    out = []
    for _ in range(sets):
        draws = rng.normal(v_scale[:, None], se[:, None], size=(v_scale.size, repetitions))
        if not transform:
            draws = _from_scale(draws, value_type)
        c = _fit(sqrt_a, b, draws)
        out.append((c[0], c[1]))
    return out


def _order_stats(values: np.ndarray, lo_i: int, hi_i: int) -> tuple[float, float]:
    """The ``lo_i``-th and ``hi_i``-th smallest values (0-based), as sorting would give, without a full sort."""
    part = np.partition(values, [lo_i, hi_i])
    return float(part[lo_i]), float(part[hi_i])


def _limits(s0, s1, conf, repetitions, transform, value_type, multiplier, c0, c1):
    """(sii_lower, sii_upper, rii_lower, rii_upper) from one set of simulated lines."""
    lo_i, hi_i = _positions(repetitions, conf)
    if not transform:
        sii_lo, sii_hi = _order_stats(s1 * multiplier, lo_i, hi_i)
        rii_sims = (s0 + s1) / s0
        if multiplier < 0:
            rii_sims = 1 / rii_sims
        rii_lo, rii_hi = _order_stats(rii_sims, lo_i, hi_i)
        return sii_lo, sii_hi, rii_lo, rii_hi
    # transform: the slope's limits on the log/logit scale, placed symmetrically about the fitted line's
    # midpoint (b = 1/2) and turned back into the indicator's units, as phe_sii
    s_lo, s_hi = _order_stats(s1, lo_i, hi_i)
    mid = c0 + c1 / 2

    def back(slope):
        y0, y1 = _from_scale(mid - slope / 2, value_type), _from_scale(mid + slope / 2, value_type)
        return (y1 - y0) * multiplier, y1 / y0

    (sii_a, rii_a), (sii_b, rii_b) = back(s_lo), back(s_hi)
    if multiplier < 0:
        return sii_b, sii_a, 1 / rii_b, 1 / rii_a
    return sii_a, sii_b, rii_a, rii_b


def group_gap(data: pd.DataFrame, *, group: str, groups: tuple, period: str = "period", by=None,
              numerator: str = "numerator", denominator: str = "denominator", level: float = 0.95,
              trend_level: float = 0.95, points: int = 5) -> GapResult:
    """The gap between two groups in each period (``groups[0]`` minus ``groups[1]``, percentage points) with
    Newcombe's method 10 interval, and the trend of the gap over the most recent ``points`` periods.

    ``data``: one row per period, group (the ``group`` column) and ``by`` group, with ``numerator`` and
    ``denominator`` counts. Periods where either group is missing are left out of the gap with a warning.
    The gap's trend is the inverse-variance weighted regression of the gap on time (the variance from the
    Newcombe interval's half-width); "narrowing" means the gap moves towards 0, significant at
    ``trend_level``.
    """
    from scipy import stats

    from measurekit.stats._numerics.item_data import bad_option
    from measurekit.stats.trend import prepare_series, weighted_trend

    if not isinstance(groups, (tuple, list)) or len(groups) != 2:
        raise bad_option("groups", f"groups must name the two groups to compare, e.g. ('1', '0'), not {groups!r}.",
                         groups)
    for lv, name in ((level, "level"), (trend_level, "trend_level")):
        if not (isinstance(lv, (int, float)) and 0.5 < float(lv) < 1):
            raise bad_option(name, f"{name} must be between 0.5 and 1, not {lv!r}.", lv)
    keys = S.group_keys(by)
    if isinstance(data, pd.DataFrame) and group not in data.columns:
        raise S.problem("missing_column", f"The data have no column {group!r}.", column=group)
    df, _ = prepare_series(data, period=period, by=[*keys, group], value_type="proportion", numerator=numerator,
                           denominator=denominator, mean="", sd="", n="")
    labels = [str(g) for g in groups]
    df["_group"] = df[group].astype(str)
    present = set(df["_group"])
    missing = [g for g in labels if g not in present]
    if missing:
        raise S.problem("unknown_reference", f"{group!r} has no group {', '.join(map(repr, missing))}; its groups are "
                        f"{', '.join(sorted(map(repr, present)))}.", column=group, value=", ".join(missing))
    z = float(stats.norm.ppf(0.5 + level / 2))
    rows, warnings = [], []
    keyed = [((), df)] if not keys else list(df.groupby(keys, sort=True))
    trend_rows = []
    for gvalues, g in keyed:
        gvalues = gvalues if isinstance(gvalues, tuple) else (gvalues,)
        where = dict(zip(keys, gvalues))
        a = g[g["_group"] == labels[0]].set_index("_period_number")
        b = g[g["_group"] == labels[1]].set_index("_period_number")
        common = sorted(set(a.index) & set(b.index))
        lost = sorted(set(a.index) ^ set(b.index))
        if lost:
            warnings.append(f"{', '.join(f'{k} {v!r}' for k, v in where.items()) or 'The data'}: periods without "
                            f"both groups left out ({len(lost)}).")
        g_rows = []
        for x in common:
            ra, rb = a.loc[x], b.loc[x]
            d, lo, hi = S.newcombe_difference(ra["_k"], ra["_n"], rb["_k"], rb["_n"], level)
            g_rows.append({**where, "period": ra[period], "_x": x, "group_a": labels[0], "group_b": labels[1],
                           "value_a": 100 * ra["_k"] / ra["_n"], "value_b": 100 * rb["_k"] / rb["_n"],
                           "n_a": int(ra["_n"]), "n_b": int(rb["_n"]), "gap": 100 * float(d),
                           "ci_low": 100 * float(lo), "ci_high": 100 * float(hi),
                           "significant": bool(not (lo <= 0 <= hi))})
        rows.extend(g_rows)
        recent = g_rows[-points:]
        t = {**where, "first_period": recent[0]["period"] if recent else None,
             "last_period": recent[-1]["period"] if recent else None, "points": len(recent), "slope": np.nan,
             "se": np.nan, "chi2": np.nan, "p_val": np.nan, "direction": "could not be calculated"}
        if len(recent) >= 3:
            gap = np.array([r["gap"] for r in recent])
            se = np.array([max(r["gap"] - r["ci_low"], r["ci_high"] - r["gap"]) / z for r in recent])
            slope, se_slope, chi2, p = weighted_trend(gap, se, np.array([r["_x"] for r in recent], dtype=float))
            t.update(slope=slope, se=se_slope, chi2=chi2, p_val=p)
            if np.isfinite(p):
                if p < 1 - trend_level:
                    towards_zero = (slope < 0) == (gap[-1] > 0) if gap[-1] != 0 else False
                    t["direction"] = "narrowing" if towards_zero else "widening"
                else:
                    t["direction"] = "no significant change"
        trend_rows.append(t)
    table = pd.DataFrame(rows).drop(columns="_x", errors="ignore")
    return GapResult(table, pd.DataFrame(trend_rows), float(level), warnings)
