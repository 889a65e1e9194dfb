"""The over-time tables of a multi-period data set: one call, no pipeline (issue 27).

``over_time(data, framework=fw)`` takes the periods a multi-period folder holds (``data.periods.read_periods``,
or a dict ``{"2023/24": Cohort, ...}``) and computes, for every indicator of the framework whose column the data
hold (by the indicator's own ``compute`` rule: routine columns, item answers, scale scores, declared tables; each
person's latest review in the period), with the statistics of ``stats/trend.py``, ``stats/target.py``,
``stats/inequality.py``, ``stats/funnel.py`` and ``stats/added_value.py``. What the framework does not declare (no
two-group breakdown, no outcome, no target) gives an empty table and a note in ``warnings``, never an error; nothing
here names a column of a particular framework:

``series``
    one row per indicator, geography and period: ``indicator``, ``polarity``, ``value_type`` ("proportion" or
    "mean"), ``period``, ``geography`` ("la" for the whole local authority, "area" for each board area), ``area``
    (the area's name; "All areas" for the LA), ``numerator`` (people counted; blank for a mean), ``denominator``
    (people with a value: for GLD, children with an EYFSP record), ``value`` (percent; the mean for a mean) and its
    95% limits ``ci_low``/``ci_high`` (proportions: Wilson, Fingertips' method, R ``prop.test(correct = FALSE)``;
    means: t, R ``t.test``), ``sd`` (a mean's standard deviation; blank for proportions).
    Areas are as each period's lookup draws them (a boundary change moves
    children between areas: the cross-period validation reports it).
``trend``
    ``trend_markers`` per indicator and geography: Fingertips' recent trend over the most recent five periods
    (chi-squared test for trend, R ``prop.trend.test``, 99.8%), ``slope`` (pp a year), ``marker`` (words by
    polarity).
``change``
    ``change_from_previous``: each period against the one before (Newcombe's method 10 interval, pp).
``target``
    ``target_progress`` for indicators the framework declares a target for (none declared: no rows, no error):
    ``gap_pp``, ``gap_children``, ``children_per_year``, ``change_needed_pp``, ``trend_pp``, ``projected_value``
    with ``projected_low``/``projected_high``, ``status`` and ``words``, for the LA and each area (a target on a
    mean: points of the score, no children, a t-based projection interval; ``stats/target.py``).
``inequality``
    ``sii`` per indicator and period (LA), by the deprivation decile of the children's small areas
    (``deprivation`` column: the lookup's ``imd_decile`` when it has one, else ``idaci_decile``; 1 most
    deprived; by quintile in a period where a decile's proportion is 0 or 1: ``quantile_kind``), as
    PHEindicatormethods ``phe_sii(rii = TRUE)``: ``sii`` (pp, least minus most deprived end of the fitted line)
    with Monte Carlo ``sii_lower``/``sii_upper``, ``rii`` with limits; ``inequality_trend``: the SII series'
    trend marker (a growing SII for a higher-is-better indicator is "getting worse").
``gap`` and ``gap_trend``
    ``group_gap`` for every breakdown the framework declares with two groups (``breakdown``: its id; the second
    declared group minus the first, e.g. FSM 1 minus FSM 0, pp) per proportion indicator, geography and period with
    Newcombe's interval, and each gap's trend over the most recent five periods ("narrowing", "widening", "no
    significant change" at 95%).
``funnel``
    the latest period's areas against the LA's pooled value: ``funnel`` (Spiegelhalter's exact limits at 95% and
    99.8%, overdispersion adjustment when areas differ more than chance, as NHS-R FunnelPlotR).
``followup``
    children followed from two to five, for the framework's first declared outcome the data hold (``analysis:
    outcomes:``; GLD at five in the school-readiness framework): per period (and ``period`` "all" pooled),
    geography and ``group`` ("flagged at two": below the ASQ-3 cut-off in any domain, zone "below"; "not flagged";
    children without an ASQ-3 review are left out): ``numerator`` (with the outcome), ``denominator``, ``value``
    (percent) with Wilson 95% limits.
``followup_gap``
    flagged minus not flagged (percentage points) per period, geography and area, with Newcombe's method 10 95%
    interval (``group_gap``: ``value_a`` flagged, ``value_b`` not flagged, ``gap``, ``ci_low``/``ci_high``).
``followup_added_value`` and ``followup_added_value_by_area``
    among flagged children whose parent answered the voice questions (all periods pooled): ``outcome``,
    ``n_children``, ``n_events`` (with the outcome) and ``added_value``'s table (does adding the voice domain scores
    to the outcome's declared covariates, e.g. FSM, SEND, EAL, sex, summer birth and the ASQ-3 total, improve the
    prediction of the outcome: LR test, change in AUC, R2, Brier, NRI with bootstrap intervals; R ``glm`` and
    ``anova(test = "LRT")``) and its ``by_group`` table by area. Skipped, with the reason in ``warnings``, when the
    data cannot support it (too few flagged respondents).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from measurekit.core.result import Result

LA = "All areas"


@dataclass
class OverTimeResult(Result):
    """The over-time tables (see the module docstring for every column); ``series`` is the main view."""

    series: pd.DataFrame
    trend: pd.DataFrame
    change: pd.DataFrame
    target: pd.DataFrame
    inequality: pd.DataFrame
    inequality_trend: pd.DataFrame
    gap: pd.DataFrame
    gap_trend: pd.DataFrame
    funnel: pd.DataFrame
    followup: pd.DataFrame
    followup_gap: pd.DataFrame
    followup_added_value: pd.DataFrame
    followup_added_value_by_area: pd.DataFrame
    periods: list = field(default_factory=list)
    summary: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    _title = "Over time"
    _main = "series"


def _cohorts(data) -> dict:
    from measurekit.problems import InputError

    cohorts = getattr(data, "cohorts", data)
    if not isinstance(cohorts, dict) or not cohorts:
        raise InputError.of("wrong_type", "over_time needs the periods of a multi-period folder (read_periods) or a "
                            "dict of academic year -> Cohort.", column="data", value=type(data).__name__,
                            rule="periods")
    from measurekit.stats._numerics.series import period_number

    return dict(sorted(cohorts.items(), key=lambda kv: period_number(kv[0])))


def routine_proportions(fw, frame: pd.DataFrame, indicators=None) -> list:
    """The framework's routine proportion indicators (a routine column counted as a share, over everyone with a
    value) whose column the analysis frame ``frame`` holds, restricted to the ids in ``indicators`` when given:
    the indicators the board pack's SII by deprivation quintile covers (``publish/over_time_pack.py``)."""
    out = []
    for ind in fw.indicators:
        c = ind.compute
        if indicators is not None and ind.id not in indicators:
            continue
        if c.source == "routine" and c.statistic == "proportion" and ind.value_type == "proportion" \
                and c.field in frame.columns and getattr(c, "among", None) is None:
            out.append(ind)
    return out


def _computable(fw, frame: pd.DataFrame, indicators) -> list:
    """The framework's indicators (or those named in ``indicators``) whose values the data hold: a column
    ``_v_<id>`` that :func:`_indicator_values` could fill for someone."""
    return [ind for ind in fw.indicators if (indicators is None or ind.id in indicators)
            and f"_v_{ind.id}" in frame.columns and frame[f"_v_{ind.id}"].notna().any()]


def is_mean(ind) -> bool:
    """True for an indicator published as a mean (a 0-10 rating, a scale score), False for a proportion."""
    return ind.value_type == "mean" or ind.compute.statistic == "mean"


def _indicator_values(frame: pd.DataFrame, ind) -> pd.Series | None:
    """Per person, what ``ind`` counts: 1/0 for a proportion (1: in the numerator), the value for a mean; NaN: not
    in the denominator. The rule of the indicator's ``compute`` (docs/framework.md): ``field`` (a column, an item, a
    ``voice_<domain>`` score, or ``<table>.<field>`` of a declared table), only respondents for ``population:
    respondents``, only those meeting ``among``, and ``proportion_below``/``proportion_at_or_above`` a
    ``threshold``. None when the data have no such column. ``frame``: the analysis frame with the board table's
    technical names (``data.population.technical_frame``) and the voice scores."""
    from measurekit.data.population import among_mask, field_column

    c = ind.compute
    col = field_column(c.table, c.field)
    if col not in frame:
        return None
    x = pd.to_numeric(frame[col], errors="coerce").astype(float)
    if c.population == "respondents" and "responded" in frame:
        x = x.where(frame["responded"] == 1)
    if c.among is not None:
        among = field_column(c.among.table, c.among.field)
        if among not in frame:
            return None
        x = x.where(among_mask(frame[among], c.among.values))
    if c.statistic == "proportion_below":
        return (x < c.threshold).astype(float).where(x.notna())
    if c.statistic == "proportion_at_or_above":
        return (x >= c.threshold).astype(float).where(x.notna())
    return x


def _period_frame(cohort, fw) -> pd.DataFrame:
    """One period's analysis frame (the framework's own column names) with ``_v_<indicator id>`` for every
    indicator the data can compute (:func:`_indicator_values`) and ``_flagged`` (the ASQ-3 flag at two)."""
    from measurekit.data.population import first_respondent, technical_frame
    from measurekit.stats.scoring import score

    f = cohort.analysis_frame()
    tech = technical_frame(f, cohort.tables, fw)
    if any(ind.compute.source == "scale" for ind in fw.indicators) and "responded" in tech \
            and not all(d.score_column in tech for d in fw.domains):
        resp = tech["responded"] == 1
        if resp.any():
            scores = score(tech.loc[resp], framework=fw, respondent=first_respondent(fw))
            tech = tech.assign(**{d.score_column: scores[d.score_column].reindex(tech.index)
                                  for d in fw.domains if d.score_column in scores})
    values = {}
    for ind in fw.indicators:
        v = _indicator_values(tech, ind)
        if v is not None:
            values[f"_v_{ind.id}"] = v.to_numpy()
    return f.assign(_flagged=_flagged(f), **values)


def _group_sums(d: pd.DataFrame, frame: pd.DataFrame, keys: list) -> pd.DataFrame:
    """The columns of ``d`` (one row per row of ``frame``) summed per group of ``keys`` (column names of
    ``frame``, or ``(name, constant)`` pairs for a group that is the whole frame), keys as text columns."""
    names, arrays = [], []
    for k in keys:
        if isinstance(k, tuple):
            names.append(k[0])
            arrays.append(np.full(len(frame), k[1], dtype=object))
        else:
            names.append(k)
            arrays.append(frame[k].to_numpy())
    out = d.groupby(arrays, sort=True, dropna=True).sum()
    out.index.names = names
    out = out.reset_index()
    for k in names:
        out[k] = [_text(x) for x in out[k]]
    return out


def counts(frame: pd.DataFrame, column: str, keys: list) -> pd.DataFrame:
    """People counted (``numerator``: value 1) and people with a value of ``column`` (``denominator``) per group
    of ``keys`` (column names, or ``(name, constant)`` pairs for a group that is the whole frame); keys as text in
    the result (R: ``aggregate(cbind(numerator, denominator) ~ keys, FUN = sum)``)."""
    v = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    d = pd.DataFrame({"numerator": (v == 1).astype(np.int64), "denominator": (~np.isnan(v)).astype(np.int64)})
    return _group_sums(d, frame, keys)


def _sums(frame: pd.DataFrame, column: str, keys: list) -> pd.DataFrame:
    """For a mean: people with a value (``denominator``), the mean (``value``), its ``sd`` and t-based 95% limits
    ``ci_low``/``ci_high`` (R ``t.test``) per group of ``keys`` (as :func:`counts`); ``numerator`` blank."""
    from scipy import stats

    v = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    has = ~np.isnan(v)
    d = pd.DataFrame({"denominator": has.astype(np.int64), "_s": np.where(has, v, 0.0),
                      "_ss": np.where(has, v, 0.0) ** 2})
    out = _group_sums(d, frame, keys)
    n = out["denominator"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = out["_s"].to_numpy() / n
        var = (out["_ss"].to_numpy() - n * mean ** 2) / (n - 1)
        sd = np.sqrt(np.clip(var, 0.0, None))
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    out.insert(len(keys), "numerator", np.nan)
    out["value"] = np.where(n > 0, mean, np.nan)
    out["ci_low"] = np.where(n > 1, mean - half, np.nan)
    out["ci_high"] = np.where(n > 1, mean + half, np.nan)
    out["sd"] = np.where(n > 1, sd, np.nan)
    return out.drop(columns=["_s", "_ss"])


def _text(x) -> str:
    """A group's value as text: whole numbers without a decimal point (FSM 1.0 -> "1")."""
    if isinstance(x, (float, np.floating)) and float(x).is_integer():
        return str(int(x))
    return str(x)


def _with_wilson(df: pd.DataFrame) -> pd.DataFrame:
    from measurekit.stats.intervals import wilson

    k, n = df["numerator"].to_numpy(float), df["denominator"].to_numpy(float)
    lo, hi = wilson(k, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        df["value"] = np.where(n > 0, 100 * k / np.where(n > 0, n, 1), np.nan)
    df["ci_low"], df["ci_high"] = 100 * np.asarray(lo), 100 * np.asarray(hi)
    return df


def _flagged(frame: pd.DataFrame) -> pd.Series:
    """True: below the ASQ-3 cut-off in any domain; False: reviewed, not below; NaN: no ASQ-3 review."""
    from measurekit.data.schemas import ASQ_DOMAINS

    zones = [f"asq_{d}_zone" for d in ASQ_DOMAINS if f"asq_{d}_zone" in frame.columns]
    if not zones:
        return pd.Series(np.nan, index=frame.index)
    z = frame[zones].astype("string")
    reviewed = z.notna().any(axis=1)
    below = (z == "below").fillna(False).any(axis=1)
    return below.where(reviewed).astype("object")


def gap_breakdowns(framework) -> list[tuple[str, tuple[str, str], str]]:
    """The framework's declared breakdowns by groups with exactly two declared values (``breakdowns:`` in
    framework.yaml): ``(id, (second value, first value), words)``; the gap is the second group minus the first
    (declared ``'0'`` then ``'1'``: 1 minus 0, e.g. eligible for free school meals minus not)."""
    out = []
    for b in getattr(framework, "group_breakdowns", None) or []:
        if len(b.values) == 2:
            out.append((b.id, (b.values[1].value, b.values[0].value), b.in_words))
    return out


def followup_outcome(framework, frame: pd.DataFrame):
    """The outcome followed from the review at two (the framework's first ``analysis: outcomes:`` entry whose column
    the data hold) and its covariates (its ``covariates`` and ``given`` the data hold); None without one."""
    analysis = getattr(framework, "analysis", None)
    for o in (getattr(analysis, "outcomes", None) or []):
        if o.column in frame.columns:
            return o, [c for c in [*o.covariates, *o.given] if c in frame.columns and c != o.column]
    return None


def over_time(data, *, framework=None, indicators=None, deprivation: str | None = None, gap: str | None = None,
              repetitions: int = 10_000, n_boot: int = 200, max_sample: int = 20_000,
              random_state=1) -> OverTimeResult:
    """The over-time tables of several periods (see the module docstring for what each table holds).

    ``data``: ``data.periods.Periods`` (``read_periods``) or a dict academic year -> ``Cohort``. ``framework``: the
    framework (default: the cohorts' own). ``indicators``: ids to restrict to (default: every indicator of the
    framework whose column the data hold: routine, scale and item indicators, proportions and means).
    ``deprivation``: the decile column (1 most deprived) for the SII: a column of the people's data,
    or of the small-area lookup (joined on the small area); default ``imd_decile`` when the lookup has it (the
    IMD decile of each LSOA), else each person's ``idaci_decile``; neither: no SII (a note, not an error).
    ``gap``: a 0/1 column whose groups are compared (1 minus 0); default: every breakdown the framework declares
    with two values (:func:`gap_breakdowns`; none: no gap tables). The follow-up from two to five uses the
    framework's first declared outcome and its covariates (:func:`followup_outcome`; none declared, or no ASQ-3
    review: no follow-up). ``repetitions``: Monte Carlo draws of the SII limits;
    ``n_boot``: bootstrap resamples of the added value, estimated on a random sample of at most ``max_sample``
    flagged respondents (as the main job's trial sample); ``random_state``: seed of all three.
    """
    from measurekit.problems import CANNOT_SUPPORT, InputError
    from measurekit.stats.funnel import funnel
    from measurekit.stats.inequality import group_gap
    from measurekit.stats.target import target_progress
    from measurekit.stats.trend import change_from_previous, trend_markers

    cohorts = _cohorts(data)
    fw = framework if framework is not None else next(iter(cohorts.values())).framework
    if fw is not None and not hasattr(fw, "indicators"):
        from measurekit.design import load_framework

        fw = load_framework(fw)
    area = fw.population.area
    frames = {}
    pop = fw.population
    for label, c in cohorts.items():
        f = _period_frame(c, fw)
        lk = c.tables.get(pop.lookup) if pop.lookup else None
        if deprivation is None:       # the lookup's IMD decile of each small area, else the child's IDACI decile
            deprivation = "imd_decile" if lk is not None and "imd_decile" in lk else "idaci_decile"
        if deprivation not in f.columns and lk is not None and deprivation in lk and pop.small_area in f \
                and pop.small_area in lk:
            f = f.merge(lk[[pop.small_area, deprivation]].drop_duplicates(pop.small_area), on=pop.small_area,
                        how="left")
        frames[label] = f
    first = next(iter(frames.values()))
    heads = _computable(fw, first, indicators)
    warnings: list[str] = []
    if not heads:
        raise InputError.of("too_few_cases", "No indicator of the framework has its column in the data: nothing to "
                            "follow over time.", column="indicators", rule="an indicator the data can compute")
    if gap is None:
        gaps = [g for g in gap_breakdowns(fw) if g[0] in first.columns]
    else:
        declared_gap = next((g for g in gap_breakdowns(fw) if g[0] == gap), None)
        gaps = [declared_gap or (gap, ("1", "0"), gap.replace("_", " "))]
    series_parts, gap_parts, sii_parts = [], [], []
    for ind in heads:
        col, mean = f"_v_{ind.id}", is_mean(ind)
        count = _sums if mean else counts
        for label, f in frames.items():
            for geo, key in (("la", ("_la", LA)), ("area", area)):
                name = key[0] if isinstance(key, tuple) else key
                c = count(f, col, [key]).rename(columns={name: "area"})
                c.insert(0, "geography", geo)
                c.insert(0, "period", label)
                c.insert(0, "value_type", "mean" if mean else "proportion")
                c.insert(0, "polarity", ind.polarity)
                c.insert(0, "indicator", ind.id)
                series_parts.append(c)
                for bid, _, _ in gaps if not mean else ():
                    if bid not in f.columns:
                        continue
                    g = counts(f, col, [key, bid]).rename(columns={name: "area", bid: "group"})
                    g.insert(0, "geography", geo)
                    g.insert(0, "period", label)
                    g.insert(0, "breakdown", bid)
                    g.insert(0, "indicator", ind.id)
                    gap_parts.append(g)
            if deprivation in f.columns and not mean:
                q = counts(f.dropna(subset=[deprivation]), col, [deprivation])
                q = q.rename(columns={deprivation: "quantile"})
                q["quantile"] = pd.to_numeric(q["quantile"]).astype(int)
                q.insert(0, "period", label)
                q.insert(0, "indicator", ind.id)
                q["polarity"] = ind.polarity
                sii_parts.append(q)
    series = pd.concat(series_parts, ignore_index=True)
    props = series["value_type"] == "proportion"
    if props.any():
        series.loc[props, ["value", "ci_low", "ci_high"]] = _with_wilson(
            series.loc[props, ["numerator", "denominator"]].copy())[["value", "ci_low", "ci_high"]]
    if "sd" not in series:
        series["sd"] = np.nan
    series = series[series["denominator"] > 0].reset_index(drop=True)
    series["numerator"] = series["numerator"].astype("Int64")      # whole counts; blank for means
    keys = ["indicator", "geography", "area"]

    trend, change, target = [], [], []
    for ind in heads:
        s = series[series["indicator"] == ind.id]
        kind: dict[str, Any] = (dict(value_type="mean", mean="value", sd="sd", n="denominator") if is_mean(ind)
                                else {})
        if kind:        # a mean needs two people for its spread
            s = s[(s["denominator"] >= 2) & (s["sd"] > 0)]
            if not len(s):
                continue
        t = trend_markers(s, period="period", by=keys, polarity=ind.polarity, **kind)
        trend.append(t.table)
        warnings += [f"{ind.id}: {w}" for w in t.warnings]
        ch = change_from_previous(s, period="period", by=keys, polarity=ind.polarity, **kind)
        change.append(ch.table)
        tp = target_progress(s, framework=fw, indicator=ind.id, period="period", by=keys, **kind)
        if tp is not None:
            target.append(tp.table)
    trend_df = pd.concat(trend, ignore_index=True) if trend else pd.DataFrame(columns=keys)
    change_df = pd.concat(change, ignore_index=True) if change else pd.DataFrame(columns=keys)
    target_df = pd.concat(target, ignore_index=True) if target else pd.DataFrame(columns=keys)

    ineq, ineq_trend = pd.DataFrame(), pd.DataFrame()
    if sii_parts:
        q = pd.concat(sii_parts, ignore_index=True)
        q = q[q["denominator"] > 0].rename(columns={"denominator": "population"})
        ineq = _sii_each(q, heads, repetitions, random_state, warnings, CANNOT_SUPPORT, InputError)
        parts = []
        for ind in heads:
            s = ineq[ineq["indicator"] == ind.id] if len(ineq) else ineq
            if len(s):
                pol = {"higher_is_better": "lower_is_better", "lower_is_better": "higher_is_better"}.get(
                    ind.polarity, "no_judgement")
                parts.append(trend_markers(s, period="period", by=["indicator"], value_type="other", value="sii",
                                           lower_cl="sii_lower", upper_cl="sii_upper", polarity=pol).table)
        ineq_trend = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    elif any(not is_mean(i) for i in heads):
        warnings.append(f"No {deprivation!r} column: no slope index of inequality.")

    gap_df, gap_trend = pd.DataFrame(), pd.DataFrame()
    if gap_parts:
        g = pd.concat(gap_parts, ignore_index=True)
        tables, trends = [], []
        for bid, groups, _ in gaps:
            gb = g[(g["breakdown"] == bid) & g["group"].isin(groups) & (g["denominator"] > 0)]
            if not len(gb):
                continue
            gr = group_gap(gb, group="group", groups=groups, period="period", by=["breakdown", *keys])
            tables.append(gr.table)
            trends.append(gr.trend)
            warnings += [f"gap by {bid}: {w}" for w in gr.warnings]
        if tables:
            gap_df, gap_trend = pd.concat(tables, ignore_index=True), pd.concat(trends, ignore_index=True)
    elif gap is not None:
        warnings.append(f"No {gap!r} column: no gap between groups.")
    elif not gaps:
        warnings.append("The framework declares no breakdown with two groups (`breakdowns:` with two `values`): no "
                        "gap between groups.")

    latest = list(frames)[-1]
    funnels = []
    for ind in heads:
        if is_mean(ind):
            continue
        s = series[(series["indicator"] == ind.id) & (series["period"] == latest) & (series["geography"] == "area")]
        if len(s) >= 3:
            fr = funnel(s[["area", "numerator", "denominator"]], area="area")
            ft = fr.table.copy()
            ft.insert(0, "period", latest)
            ft.insert(0, "indicator", ind.id)
            ft["target"], ft["adjusted"], ft["phi"], ft["tau2"] = fr.target, fr.adjusted, fr.phi, fr.tau2
            funnels.append(ft)
            warnings += [f"{ind.id}, {latest}: {w}" for w in fr.warnings]
    funnel_df = pd.concat(funnels, ignore_index=True) if funnels else pd.DataFrame()

    followup, av, av_by = _followup(frames, fw, area, n_boot, random_state, warnings, CANNOT_SUPPORT, InputError,
                                    max_sample)
    summary = _summary(trend_df, target_df, gap_trend, ineq_trend, followup, list(frames),
                       {bid: words for bid, _, words in gaps}, {i.id for i in heads if is_mean(i)})
    fgap = pd.DataFrame()
    per_period = followup[followup["period"] != "all"] if len(followup) else followup
    if len(per_period) and set(per_period["group"]) == {"flagged at two", "not flagged"}:
        fg = group_gap(per_period, group="group", groups=("flagged at two", "not flagged"), period="period",
                       by=["geography", "area"])
        fgap = fg.table
        warnings += fg.warnings
    return OverTimeResult(series, trend_df, change_df, target_df, ineq, ineq_trend, gap_df, gap_trend, funnel_df,
                          followup, fgap, av, av_by, list(frames), summary, warnings)


def _sii_each(q, heads, repetitions, random_state, warnings, cannot, InputError) -> pd.DataFrame:
    """The SII of each indicator and period by decile; where a decile's proportion is 0 or 1 (its logit is
    infinite: small areas with few children), by quintile (deciles 1-2, 3-4 ...); else left out with a note."""
    from measurekit.stats.inequality import sii

    out = []
    for (ind, period), g in q.groupby(["indicator", "period"], sort=False):
        for kind, data in (("decile", g), ("quintile", _quintiles(g))):
            try:
                res = sii(data, quantile="quantile", population="population", numerator="numerator",
                          value_type="proportion", multiplier=100, repetitions=repetitions, random_state=random_state)
            except InputError as e:
                if not set(e.codes) <= cannot | {"zero_count"}:
                    raise
                if kind == "quintile":
                    warnings.append(f"{ind} {period}: no slope index of inequality ({e.report.problems[0].message})")
                continue
            t = res.table.copy()
            t.insert(0, "quantile_kind", kind)
            t.insert(0, "period", period)
            t.insert(0, "indicator", ind)
            out.append(t)
            warnings += res.warnings
            if kind == "quintile":
                warnings.append(f"{ind} {period}: SII by quintile (a decile's proportion was 0 or 1).")
            break
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def _quintiles(g: pd.DataFrame) -> pd.DataFrame:
    g = g.assign(quantile=(g["quantile"] + 1) // 2)
    return g.groupby("quantile", as_index=False)[["numerator", "population"]].sum()


def _followup(frames, fw, area, n_boot, random_state, warnings, cannot, InputError, max_sample):
    """The declared outcome (GLD at five in the school-readiness framework) by ASQ-3 flag at two, and what the voice
    domains add among flagged children (:func:`followup_outcome`: its covariates)."""
    found = followup_outcome(fw, next(iter(frames.values())))
    if found is None:
        warnings.append("The framework declares no outcome the data hold (`analysis: outcomes:`): no follow-up from "
                        "the review at two.")
        return pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    outcome, base = found
    y = outcome.column
    if not any(f["_flagged"].notna().any() for f in frames.values()):
        warnings.append("No ASQ-3 review at two in the data: no follow-up from two to five.")
        return pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    parts = []
    for label, f in frames.items():
        f = f[f["_flagged"].notna() & f[y].notna()] if y in f.columns else f.iloc[0:0]
        if not len(f):
            continue
        f = f.assign(group=np.where(f["_flagged"].astype(bool), "flagged at two", "not flagged"))
        for geo, key in (("la", ("_la", LA)), ("area", area)):
            name = key[0] if isinstance(key, tuple) else key
            c = counts(f, y, [key, "group"]).rename(columns={name: "area"})
            c.insert(0, "geography", geo)
            c.insert(0, "period", label)
            parts.append(c)
    if parts:     # all periods pooled: the sums of the periods' counts
        every = pd.concat(parts, ignore_index=True)
        pooled_counts = every.groupby(["geography", "area", "group"], sort=False)[["numerator", "denominator"]].sum()
        parts.append(pooled_counts.reset_index().assign(period="all")[every.columns])
    followup = _with_wilson(pd.concat(parts, ignore_index=True)) if parts else pd.DataFrame()
    if not parts:
        warnings.append(f"No ASQ-3 review with a value of {y!r}: no follow-up from two to five.")
        return followup, pd.DataFrame(), pd.DataFrame()
    from measurekit.data.population import first_respondent
    from measurekit.stats.added_value import added_value
    from measurekit.stats.scoring import score

    flagged = pd.concat([f[(f["_flagged"] == True) & (f["responded"] == 1)] for f in frames.values()],  # noqa: E712
                        ignore_index=True)
    new = [d.score_column for d in fw.domains]
    if not len(flagged) or not new:
        warnings.append("No flagged child with voice answers: the voice domains' added value was not estimated.")
        return followup, pd.DataFrame(), pd.DataFrame()
    if len(flagged) > max_sample:       # as the main job's trial sample: the bootstrap refits per resample
        warnings.append(f"Added value among flagged children estimated on a random sample of {max_sample:,} of "
                        f"{len(flagged):,} (max_sample).")
        keep = np.sort(np.random.default_rng(random_state).choice(len(flagged), size=max_sample, replace=False))
        flagged = flagged.iloc[keep].reset_index(drop=True)
    scored = pd.concat([flagged, score(flagged, framework=fw, respondent=first_respondent(fw))[new]], axis=1)
    try:
        res = added_value(scored, outcome=y, base=base, new=new, n_boot=n_boot, cv=5, random_state=random_state,
                          by=(area,), min_group=100)
    except InputError as e:
        if not set(e.codes) <= cannot:
            raise
        warnings.append("Added value of the voice domains among flagged children not estimated: "
                        + e.report.problems[0].message)
        return followup, pd.DataFrame(), pd.DataFrame()
    warnings += res.warnings
    table = res.table.copy()
    table.insert(0, "outcome", y)
    table.insert(1, "n_children", res.n)
    table.insert(2, "n_events", res.n_events)
    return followup, table, res.by_group


def _summary(trend, target, gap_trend, ineq_trend, followup, periods, gap_words=None, means=()) -> list[str]:
    lines = [f"Periods: {', '.join(periods)}."]
    for r in trend.itertuples():
        unit = "points" if r.indicator in means else "pp"
        lines.append(f"{r.indicator} {r.area}: {r.marker}" + (f" ({r.slope:+.1f} {unit} a year)"
                                                              if pd.notna(getattr(r, "slope", np.nan)) else ""))
    for r in target.itertuples() if len(target) and "words" in target else ():
        lines.append(f"{r.indicator} {r.area}: {r.words}")
    for r in gap_trend.itertuples() if len(gap_trend) else ():
        lines.append(f"{r.indicator} {r.area}: gap by {(gap_words or {}).get(r.breakdown, r.breakdown)} "
                     f"{r.direction}")
    for r in ineq_trend.itertuples() if len(ineq_trend) else ():
        lines.append(f"{r.indicator}: slope index of inequality {str(r.marker).lower()}")
    return lines


def write_over_time(result: OverTimeResult, out) -> dict:
    """Write every table of ``result`` as an internal CSV into the folder ``out`` (built aside, swapped into place
    when complete) with a README saying the tables hold unsuppressed counts. Returns name -> path."""
    from measurekit.core import atomic

    files = {}
    with atomic.atomic_directory(out) as folder:
        for name, table in result.tables().items():
            path = folder / f"{name}.csv"
            atomic.write_csv(path, table)
            files[name] = path
        atomic.write_text(folder / "README.md", _README.format(periods=", ".join(result.periods),
                                                              warnings="\n".join(f"- {w}" for w in result.warnings)
                                                              or "- none"))
    return {k: out / v.name for k, v in files.items()}


_README = """# Over-time tables (INTERNAL: do not share)

Periods: {periods}. These tables hold unsuppressed counts (small numbers included): they are for analysts, not for
publication; the board pack applies disclosure control. What each column means: docs/over_time.md and the docstring
of measurekit.stats.over_time.

Notes:
{warnings}
"""
