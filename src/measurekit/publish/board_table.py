"""The board table: one long tidy table of indicators by period, geography and breakdown.

Columns (the contract other tools join on): indicator_id, indicator_title, period, geography_type
(la | neighbourhood | small_area), geography_code, geography_name, breakdown (all | fsm | eal |
send | sex | home_language), breakdown_value, numerator, denominator, value, ci_low, ci_high,
ci_method, comparator (the LA value for the same breakdown value), significance_95 and
significance_998 (higher | similar | lower than the LA, from funnel-plot limits), polarity,
suppressed, symbol (GSS: c confidential, x not available, z not applicable, u low reliability),
note. Proportions are published as percentages (0-100); means on their own scale.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from measurekit.stats import intervals

COLUMNS = ["indicator_id", "indicator_title", "period", "geography_type", "geography_code", "geography_name",
           "breakdown", "breakdown_value", "numerator", "denominator", "value", "ci_low", "ci_high", "ci_method",
           "comparator", "significance_95", "significance_998", "polarity", "suppressed", "symbol", "note"]
LA_CODE, LA_NAME = "LA", "Local authority"
LOW_RELIABILITY_N = 30


def _frame(data, framework) -> pd.DataFrame:
    """One row per child with routine columns and voice scores (respondents only)."""
    from measurekit.stats.scoring import score

    frame = data.analysis_frame() if hasattr(data, "analysis_frame") else data.copy()
    scored = all(d.score_column in frame for d in framework.domains)   # the main job scores once, before
    if not scored and "responded" in frame and any(ind.compute.source == "scale" for ind in framework.indicators):
        resp = frame["responded"] == 1
        scores = score(frame[resp], framework)
        for col in scores.columns:
            frame[col] = scores[col].reindex(frame.index)
    return frame


def _indicator_values(frame: pd.DataFrame, ind) -> pd.Series:
    """Per child: the 0/1 flag (proportions) or value (means) the indicator aggregates; NaN = not in denominator."""
    c = ind.compute
    x = pd.to_numeric(frame[c.field], errors="coerce") if c.field in frame else pd.Series(np.nan, index=frame.index)
    if c.population == "respondents" and "responded" in frame:
        x = x.where(frame["responded"] == 1)
    if c.statistic == "proportion_below":
        return (x < c.threshold).astype(float).where(x.notna())
    if c.statistic == "proportion_at_or_above":
        return (x >= c.threshold).astype(float).where(x.notna())
    return x


def _period(data, frame, period):
    if period:
        return str(period)
    if "completed_on" in frame and frame["completed_on"].notna().any():
        d = pd.to_datetime(frame["completed_on"], errors="coerce").dropna()
        if len(d):
            y = int(d.dt.year.median())
            m = int(d.dt.month.median())
            start = y if m >= 9 else y - 1
            return f"{start}/{str(start + 1)[-2:]}"
    return "unspecified"


def board_table(framework, data, period=None, weights: pd.Series | None = None, lookup: pd.DataFrame | None = None,
                small_areas: bool = False, level: float = 0.95, disclosure: bool = True) -> pd.DataFrame:
    """Aggregate every indicator of ``framework`` over ``data`` (a Cohort or an analysis frame).

    ``lookup`` (small_area, small_area_name, neighbourhood_code, neighbourhood) replaces the
    cohort's small-area lookup: codes and names pass through unchanged. ``weights`` (indexed like
    the analysis frame; e.g. ``response_weights(...).weights``) gives weighted means with
    design-effect-adjusted intervals for mean indicators. Disclosure control is applied
    (``measurekit.publish.disclosure``) as each indicator declares. ``small_areas=True`` adds small-area rows
    (breakdown "all" only); their sums to neighbourhoods are not yet protected by secondary
    suppression, so they are for internal use, not publication. ``disclosure=False`` returns the
    table before disclosure control (internal: true counts; ``measurekit.publish.disclosure.protect``
    protects it).
    """
    from measurekit.publish.disclosure import apply_disclosure_control

    frame = _frame(data, framework)
    if weights is not None:   # align on the children's index before any merge renumbers the rows
        frame["__weight"] = weights.reindex(frame.index)
    if lookup is None and hasattr(data, "tables") and "small_areas" in data.tables:
        lookup = data.tables["small_areas"]
    if lookup is not None:
        lk = lookup.drop_duplicates("small_area")
        frame = frame.drop(columns=[c for c in ("neighbourhood_code", "small_area_name") if c in frame])
        frame = frame.merge(lk[["small_area", "small_area_name", "neighbourhood_code"]], on="small_area", how="left")
    if "neighbourhood_code" not in frame:
        frame["neighbourhood_code"] = frame["neighbourhood"]
    if "small_area_name" not in frame and "small_area" in frame:
        frame["small_area_name"] = frame["small_area"]
    per = _period(data, frame, period)
    frame["__la_code"], frame["__la_name"] = LA_CODE, LA_NAME
    geos = [("la", "__la_code", "__la_name"), ("neighbourhood", "neighbourhood_code", "neighbourhood")]
    if small_areas and "small_area" in frame:
        geos.append(("small_area", "small_area", "small_area_name"))
    w = frame["__weight"] if weights is not None else None
    # breakdown columns as categorical text once (grouping on categories is much faster than on strings)
    as_text = {}
    for b in {b for ind in framework.indicators for b in ind.breakdowns if b in frame and b != "neighbourhood"}:
        as_text[b] = frame[b].astype(str).where(frame[b].notna(), None).astype("category")
    for _, code_col, name_col in geos:
        for k in (code_col, name_col):
            as_text.setdefault(k, frame[k].astype("category"))
    parts = []
    for ind in framework.indicators:
        x = _indicator_values(frame, ind)
        breakdowns = ["all"] + [b for b in ind.breakdowns if b != "neighbourhood" and b in frame]
        for geo_type, code_col, name_col in geos:
            for bd in breakdowns:
                if geo_type == "small_area" and bd != "all":
                    continue
                keys = [code_col, name_col] + ([] if bd == "all" else [bd])
                df = pd.DataFrame({"x": x, "x2": x * x, "n": x.notna().astype(float)})
                for k in keys:
                    df[k] = as_text[k]
                if w is not None and ind.value_type == "mean":
                    ww = w.where(x.notna())
                    df["w"], df["wx"], df["wxx"], df["ww"] = ww, ww * x, ww * x * x, ww * ww
                g = df.groupby(keys, sort=True, dropna=True, observed=True)
                agg = g[[c for c in ("x", "x2", "n", "w", "wx", "wxx", "ww") if c in df]].sum(min_count=0)
                agg = agg.reset_index()
                agg["geography_type"] = geo_type
                agg["geography_code"] = agg[code_col].astype(str)
                agg["geography_name"] = agg[name_col].astype(str)
                agg["breakdown"] = bd
                agg["breakdown_value"] = "all" if bd == "all" else agg[bd].astype(str)
                agg["indicator_id"] = ind.id
                parts.append(agg.drop(columns=[c for c in keys if c not in ("geography_code",)], errors="ignore"))
    table = pd.concat(parts, ignore_index=True)
    table = _finish(table, framework, per, level)
    return apply_disclosure_control(table, framework, level) if disclosure else table


def _finish(t: pd.DataFrame, framework, period, level) -> pd.DataFrame:
    meta = {ind.id: ind for ind in framework.indicators}
    out = pd.DataFrame({"indicator_id": t["indicator_id"]})
    out["indicator_title"] = t["indicator_id"].map(lambda i: meta[i].title)
    out["period"] = period
    for c in ("geography_type", "geography_code", "geography_name", "breakdown", "breakdown_value"):
        out[c] = t[c].to_numpy()
    is_prop = t["indicator_id"].map(lambda i: meta[i].value_type == "proportion").to_numpy(dtype=bool)
    n = t["n"].to_numpy()
    s = t["x"].to_numpy()
    out["numerator"] = np.where(is_prop, s, s)
    out["denominator"] = n
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / n
        var = (t["x2"].to_numpy() - n * mean**2) / (n - 1)
    sd = np.sqrt(np.clip(var, 0, None))
    lo_p, hi_p = intervals.wilson(s, n, level)
    lo_m, hi_m = intervals.t_interval(mean, sd, n, level)
    method = np.where(is_prop, "wilson", "t")
    if "w" in t:
        wsum = t["w"].to_numpy()
        has_w = ~is_prop & (np.nan_to_num(wsum) > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            wmean = t["wx"].to_numpy() / wsum
            wvar = (t["wxx"].to_numpy() / wsum - wmean**2) * n / np.maximum(n - 1, 1)
            neff = wsum**2 / t["ww"].to_numpy()
        wl, wh = intervals.t_interval(wmean, np.sqrt(np.clip(wvar, 0, None)), neff, level)
        mean, lo_m, hi_m = np.where(has_w, wmean, mean), np.where(has_w, wl, lo_m), np.where(has_w, wh, hi_m)
        method = np.where(has_w, "weighted_t", method)
    scale = np.where(is_prop, 100.0, 1.0)
    out["value"] = np.where(is_prop, mean, mean) * scale
    out["ci_low"] = np.where(is_prop, lo_p, lo_m) * scale
    out["ci_high"] = np.where(is_prop, hi_p, hi_m) * scale
    out["ci_method"] = method
    # comparator: the LA value for the same indicator and breakdown value; funnel limits around it
    la = out[out["geography_type"] == "la"].set_index(["indicator_id", "breakdown", "breakdown_value"])
    key = pd.MultiIndex.from_frame(out[["indicator_id", "breakdown", "breakdown_value"]])
    out["comparator"] = la["value"].reindex(key).to_numpy()
    la_sd = pd.Series(sd, index=out.index)[out["geography_type"] == "la"]
    la_sd.index = la.index
    sd_ref = la_sd.reindex(key).to_numpy()
    for lvl, col in ((0.95, "significance_95"), (0.998, "significance_998")):
        lo_f, hi_f = intervals.funnel_limits_proportion(out["comparator"].to_numpy() / 100, n, lvl)
        lo_fm, hi_fm = intervals.funnel_limits_mean(0.0, 1.0, n, lvl)   # unit limits, scaled below
        lo_fm = out["comparator"].to_numpy() + lo_fm * sd_ref
        hi_fm = out["comparator"].to_numpy() + hi_fm * sd_ref
        lo = np.where(is_prop, lo_f * 100, lo_fm)
        hi = np.where(is_prop, hi_f * 100, hi_fm)
        v = out["value"].to_numpy()
        sig = np.where(v > hi, "higher", np.where(v < lo, "lower", "similar"))
        sig = np.where(np.isnan(v) | np.isnan(lo), "", sig)
        sig = np.where(out["geography_type"] == "la", "", sig)
        out[col] = sig
    out["polarity"] = t["indicator_id"].map(lambda i: meta[i].polarity).to_numpy()
    out["suppressed"] = False
    out["symbol"] = np.where(n == 0, "x", np.where(n < LOW_RELIABILITY_N, "u", ""))
    out["note"] = np.where(n == 0, "no children in this group", np.where(n < LOW_RELIABILITY_N,
                           f"fewer than {LOW_RELIABILITY_N} children: low reliability", ""))
    return out[COLUMNS].reset_index(drop=True)


def join_board_data(board: pd.DataFrame, other: pd.DataFrame, on: str = "geography_code", wide: bool = False,
                    indicator_ids=None) -> pd.DataFrame:
    """Put other board data beside the voice indicators, by geography code.

    ``other`` is either long (same columns as the board table: at least geography_code,
    indicator_id, value) or wide (one row per geography_code, one column per measure). Returns a
    wide table: one row per geography (code and name), one column per indicator value
    (breakdown "all"), then the other data's columns.
    """
    b = board[(board["breakdown"] == "all") & (board["geography_type"] != "small_area")]
    if indicator_ids is not None:
        b = b[b["indicator_id"].isin(indicator_ids)]
    ours = b.pivot_table(index=["geography_code", "geography_name"], columns="indicator_id", values="value",
                         aggfunc="first").reset_index()
    if {"indicator_id", "value", on} <= set(other.columns) and not wide:
        theirs = other.pivot_table(index=on, columns="indicator_id", values="value", aggfunc="first").reset_index()
    else:
        theirs = other.copy()
    theirs[on] = theirs[on].astype(str)
    return ours.merge(theirs, left_on="geography_code", right_on=on, how="left")
