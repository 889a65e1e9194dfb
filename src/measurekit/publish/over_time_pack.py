"""The board pack over several periods (issue 27): one board table with a row set per period, protected at once,
and the over-time results beside it, computed from the published numbers only.

``build_board_table_over_time(periods, framework=fw)`` builds each period's table of true counts
(:func:`~measurekit.publish.board_table.build_board_table` with ``disclosure=False``, ``period`` set to the academic
year), protects each (:func:`~measurekit.publish.disclosure.protect`: its own primary and secondary suppression,
its comparator its own LA row), stacks them, and gives ONE audit every period together
(:func:`stack_results`: the intruder's system of all periods' counts, attacked with the stacked pattern); the
gate refuses the pack unless that audit passed. The audit's sums are within a period (areas add up to
the local authority, groups to their "all" row, for the same period), so the periods are independent tables: a
multi-period data folder holds different children in each period (a child in two periods is the validation error
``period_child_overlap``), so no sum links one period's counts to another's. Where earlier releases about the same
children exist (a pack re-run, or periods that share children by declaration), the release ledger
(``ledger=``, :mod:`measurekit.publish.ledger`) audits the stacked table jointly with them.

``over_time_published(board, periods)`` computes the over-time results from that PUBLISHED board table:

``series``
    one row per proportion indicator, geography and period whose row was published: ``indicator_id``,
    ``geography_type`` (la | neighbourhood), ``geography_code``, ``geography_name``, ``period``, ``value`` (percent,
    as published), ``ci_low``/``ci_high`` (as published). A withheld row (symbol c) is not in the series: the
    statistics below never see its count.
``trend``
    Fingertips' recent trend (chi-squared test for trend over the most recent five published periods, R
    ``prop.trend.test``, 99.8%; :func:`~measurekit.stats.trend.trend_markers`) per indicator and geography:
    ``points`` (periods used), ``slope`` (pp a year), ``marker`` (words by polarity, e.g. "Increasing and getting
    better").
``change``
    each published period against the previous published one (R-checked Newcombe method 10 interval,
    :func:`~measurekit.stats.trend.change_from_previous`): ``change`` (pp), ``change_low``/``change_high`` and
    ``words``. A withheld period is skipped, so the change is between two published periods.
``target``
    progress to the framework's declared target (:func:`~measurekit.stats.target.target_progress`): ``gap_pp``,
    ``gap_children``, ``change_needed_pp``, ``trend_pp``, ``projected_value`` with limits, ``status`` and ``words``.
    A framework without targets: no rows, no error.
``gap`` and ``gap_trend``
    the gap between the two groups of the gap breakdown (:func:`gap_breakdown`: the framework's first declared
    breakdown with two values, the second value minus the first, pp; e.g. eligible for free meals minus not) from
    the published breakdown rows, with Newcombe's interval (:func:`~measurekit.stats.inequality.group_gap`), and the
    gap's trend ("narrowing", "widening", "no significant change").
``inequality``
    the slope index of inequality for the local authority by deprivation quintile of the children's small areas
    (PHEindicatormethods ``phe_sii``; :func:`~measurekit.stats.inequality.sii`): ``sii`` (pp, least minus most
    deprived end of the fitted line), ``sii_lower``/``sii_upper`` (Monte Carlo 95%), ``rii``. The quintile counts
    are not in the board table, so the SII is computed from true counts under its own small-count rule: a period's
    SII is published only when every quintile holds more than the indicator's ``suppress_max`` children meeting
    and more than ``suppress_max`` not meeting the definition, and the quintile counts themselves are never
    written. An SII combines all five quintiles' proportions in one fitted slope; it does not add up with any
    board-table row, so it gives no equation on a withheld area or group count.

Why the published numbers: every figure in ``series``, ``trend``, ``change``, ``target`` and ``gap`` is a function
of numbers the board table already publishes, so it cannot tell a reader more than the table does; in particular a
change from previous or a trend never spans a withheld count (tests/test_board_over_time.py attacks this with an
independent solver). The price: an area whose count is withheld in one year has one point fewer in its trend.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core.result import Result

KEYS = ["indicator_id", "geography_type", "geography_code", "geography_name"]


def _cohorts(periods) -> dict:
    from measurekit.stats.over_time import _cohorts as ordered

    return ordered(periods)


class _FrameOnce:
    """A period's cohort whose analysis frame is made once: the board table and the SII both read it (making it
    joins every table of the period, the largest cost after reading the files). Anything else is the cohort's."""

    def __init__(self, cohort):
        self._cohort, self._frame = cohort, None

    def analysis_frame(self):
        if self._frame is None:
            self._frame = self._cohort.analysis_frame()
        return self._frame

    def __getattr__(self, name):
        return getattr(self._cohort, name)


def frames_once(periods) -> dict:
    """``periods`` (``Periods`` or a dict academic year -> Cohort) as a dict academic year -> cohort whose analysis
    frame is made once however often it is asked for (the pack's board table, then its SII)."""
    return {label: c if isinstance(c, _FrameOnce) else _FrameOnce(c) for label, c in _cohorts(periods).items()}


def build_board_table_over_time(periods, *, framework, ledger=None, evidence=None, level: float = 0.95,
                                weights=None):
    """One :class:`~measurekit.publish.board_table.BoardTable` of every period in ``periods`` (``Periods`` from
    ``data.periods.read_periods`` or a dict academic year -> Cohort), its ``period`` column filled per period,
    disclosure control applied to all periods at once (see the module docstring). ``ledger``: a
    :class:`~measurekit.publish.ledger.Ledger` (or None): earlier releases about any of these periods are audited
    with this table."""
    from measurekit.core import formatting
    from measurekit.publish.board_table import BoardTable, build_board_table, quiet_solver_banner
    from measurekit.publish.disclosure import protect

    cohorts = _cohorts(periods)
    if evidence is None:
        from measurekit.design.evidence import read_framework_evidence

        evidence = read_framework_evidence(framework)
    evidence = getattr(evidence, "voice", evidence)
    sds, results = [], []
    quiet_solver_banner()
    for label, cohort in cohorts.items():
        t = build_board_table(cohort, framework=framework, period=label, disclosure=False, evidence=evidence,
                              level=level, weights=None if weights is None else weights.get(label))
        # each period's table is protected as its own table (its comparator is its own LA row), jointly with
        # the ledger's earlier releases about that period
        results.append(protect(t.rows, framework, level, earlier=ledger))
        sds.append(t.sd if t.sd is not None else np.full(len(t.rows), np.nan))
    res = stack_results(results, framework)
    rows = formatting.publish_board_table(res.table, framework)
    sd = np.concatenate(sds) if len(rows) == sum(len(s) for s in sds) else None
    return BoardTable(framework, rows, sd=sd, disclosure=res, evidence=evidence, level=level)


def stack_results(results: list, framework):
    """One :class:`~measurekit.publish.disclosure.DisclosureResult` for the periods' results stacked in order,
    with ONE audit of every period together: the intruder's constraint system of the stacked true counts
    (``disclosure_audit.build_model``) attacked with the stacked suppression pattern and rounding. It passes only
    when no withheld count of any period can be worked out from everything published for all periods."""
    from measurekit.publish import disclosure_audit as _audit
    from measurekit.publish.disclosure import DisclosureResult

    counts = pd.concat([r.counts for r in results], ignore_index=True)
    table = pd.concat([r.table for r in results], ignore_index=True)
    supp = table["suppressed"].astype(bool).to_numpy()
    rules = {ind.id: ind for ind in framework.indicators}
    round_to = np.array([np.nan if rules[i].disclosure.round_to is None else float(rules[i].disclosure.round_to)
                         for i in counts["indicator_id"]])
    joint = _audit.audit(_audit.build_model(counts, framework), supp, round_to)
    earlier = None
    if any(r.earlier is not None for r in results):
        earlier = list(dict.fromkeys(x for r in results for x in (r.earlier or [])))
    return DisclosureResult(
        table, pd.concat([r.reasons for r in results], ignore_index=True), joint, sum(r.rounds for r in results),
        pd.concat([r.why for r in results], ignore_index=True) if all(r.why is not None for r in results) else None,
        float(sum(r.cost for r in results)), all(r.optimal for r in results), counts=counts, nesting=None,
        earlier=earlier)


@dataclass
class PublishedOverTime(Result):
    """The over-time results of a published multi-period board table (see the module docstring for every
    column); ``trend`` is the main view."""

    series: pd.DataFrame
    trend: pd.DataFrame
    change: pd.DataFrame
    target: pd.DataFrame
    gap: pd.DataFrame
    gap_trend: pd.DataFrame
    inequality: pd.DataFrame
    periods: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    _title = "Over time (published)"
    _main = "trend"


def _published(board) -> pd.DataFrame:
    """Published proportion rows (numbers present, not withheld) of the board table, numbers as floats."""
    t = board.rows
    meta = board.indicators
    prop = t["indicator_id"].map(lambda i: meta[i].value_type == "proportion").astype(bool)
    ok = (prop & t["geography_type"].isin(["la", "neighbourhood"]) & t["symbol"].astype(str).ne("c")
          & pd.to_numeric(t["numerator"], errors="coerce").notna()
          & (pd.to_numeric(t["denominator"], errors="coerce") > 0))
    p = t[ok].copy()
    for c in ("numerator", "denominator", "value", "ci_low", "ci_high"):
        p[c] = pd.to_numeric(p[c], errors="coerce").astype(float)
    for c in ("geography_code", "geography_name", "breakdown", "breakdown_value", "period"):
        p[c] = p[c].astype(str)
    return p


def gap_breakdown(framework) -> tuple[str, tuple[str, str]] | None:
    """The breakdown whose two groups' gap the pack follows: the first the framework declares with exactly two
    values (``stats.over_time.gap_breakdowns``), as (id, (second declared value, first declared value)), the gap
    being the second group minus the first; None when the framework declares no two-group breakdown."""
    from measurekit.stats.over_time import gap_breakdowns

    found = gap_breakdowns(framework)
    return (found[0][0], found[0][1]) if found else None


def over_time_published(board, periods=None, *, deprivation: str = "idaci_decile", repetitions: int = 10_000,
                        random_state=1) -> PublishedOverTime:
    """Trend, change from previous, target progress, the gap between groups (from the published board table
    ``board``) and the SII (from ``periods``' true counts under its own small-count rule; left out when
    ``periods`` is None). See the module docstring for every table and why nothing withheld can be recovered."""
    from measurekit.stats.inequality import group_gap
    from measurekit.stats.target import target_progress
    from measurekit.stats.trend import change_from_previous, trend_markers

    fw = board.framework
    pub = _published(board)
    allrows = pub[pub["breakdown"] == "all"]
    warnings: list[str] = []
    series = allrows[[*KEYS, "period", "numerator", "denominator", "value", "ci_low", "ci_high"]].reset_index(
        drop=True)
    trend, change, target = [], [], []
    for ind in fw.indicators:
        s = series[series["indicator_id"] == ind.id]
        if not len(s):
            continue
        t = trend_markers(s, period="period", by=KEYS, polarity=ind.polarity)
        trend.append(t.table)
        ch = change_from_previous(s, period="period", by=KEYS, polarity=ind.polarity)
        change.append(ch.table)
        tp = target_progress(s, framework=fw, indicator=ind.id, period="period", by=KEYS)
        if tp is not None:
            target.append(tp.table)
    trend_df = pd.concat(trend, ignore_index=True) if trend else pd.DataFrame(columns=KEYS)
    change_df = pd.concat(change, ignore_index=True) if change else pd.DataFrame(columns=KEYS)
    target_df = pd.concat(target, ignore_index=True) if target else pd.DataFrame(columns=KEYS)

    gap_df, gap_trend = pd.DataFrame(columns=KEYS), pd.DataFrame(columns=KEYS)
    gb = gap_breakdown(fw)
    if gb is not None:
        bid, groups = gb
        g = pub[(pub["breakdown"] == bid) & pub["breakdown_value"].isin(groups)]
        parts, tparts = [], []
        for _, gi in g.groupby("indicator_id", sort=False):
            res = group_gap(gi, group="breakdown_value", groups=groups, period="period", by=KEYS)
            parts.append(res.table.assign(breakdown=bid))
            tparts.append(res.trend.assign(breakdown=bid))
            warnings += res.warnings
        if parts:
            gap_df, gap_trend = pd.concat(parts, ignore_index=True), pd.concat(tparts, ignore_index=True)
    ineq = _sii_table(board, periods, deprivation, repetitions, random_state, warnings) if periods is not None \
        else pd.DataFrame()
    return PublishedOverTime(series.drop(columns=["numerator", "denominator"]), trend_df, change_df, target_df,
                             gap_df, gap_trend, ineq, list(board.periods), warnings)


def _sii_table(board, periods, deprivation, repetitions, random_state, warnings) -> pd.DataFrame:
    """SII by deprivation quintile per routine proportion indicator and period, under the SII's own small-count
    rule (every quintile above ``suppress_max`` meeting and not meeting the definition)."""
    from measurekit.problems import CANNOT_SUPPORT, InputError
    from measurekit.stats.inequality import sii
    from measurekit.stats.over_time import counts, routine_proportions

    fw = board.framework
    out = []
    for label, cohort in _cohorts(periods).items():
        if label not in board.periods:
            continue
        f = cohort.analysis_frame()
        if deprivation not in f.columns:
            warnings.append(f"{label}: no {deprivation!r} column, no slope index of inequality.")
            continue
        f = f.dropna(subset=[deprivation])
        for ind in routine_proportions(fw, f):
            q = counts(f, ind.compute.field, [deprivation]).rename(columns={deprivation: "quantile",
                                                                             "denominator": "population"})
            q["quantile"] = (pd.to_numeric(q["quantile"]).astype(int) + 1) // 2
            q = q.groupby("quantile", as_index=False)[["numerator", "population"]].sum()
            smax = ind.disclosure.suppress_max
            if len(q) < 5 or (q["numerator"] <= smax).any() or ((q["population"] - q["numerator"]) <= smax).any():
                warnings.append(f"{ind.id} {label}: slope index of inequality withheld (a deprivation quintile has "
                                f"too few children for its own small-count rule).")
                continue
            try:
                res = sii(q, quantile="quantile", population="population", numerator="numerator",
                          value_type="proportion", multiplier=100, repetitions=repetitions,
                          random_state=random_state)
            except InputError as e:
                if not set(e.codes) <= CANNOT_SUPPORT | {"zero_count"}:
                    raise
                warnings.append(f"{ind.id} {label}: no slope index of inequality ({e.report.problems[0].message})")
                continue
            r = res.table.iloc[0]
            dp = ind.decimal_places
            out.append({"indicator_id": ind.id, "geography_type": "la", "period": label, "quantile_kind": "quintile",
                        **{c: round(float(r[c]), dp) for c in ("sii", "sii_lower", "sii_upper")
                           if c in res.table.columns},
                        **{c: round(float(r[c]), 3) for c in ("rii", "rii_lower", "rii_upper")
                           if c in res.table.columns}})
    return pd.DataFrame(out)


def latest_period_board(board):
    """The same board table restricted to its latest period (the period the briefing cards, funnels and family
    pages describe); SDs follow the rows."""
    last = board.periods[-1]
    return board.with_rows(board.rows[board.rows["period"].astype(str) == last])


def _period_start(label: str) -> float:
    from measurekit.stats._numerics.series import period_number

    return float(period_number(label))


def briefing_section(over: PublishedOverTime, board, code: str) -> dict | None:
    """The "Over time" section of one area's briefing: per proportion indicator with a published series here,
    a small chart (the area and the local authority, the target line where declared) drawn from the published
    numbers, the trend words, the change from the previous period, the target in plain words and the gap between
    groups. None when no series has two published periods."""
    from measurekit.core import labels as _labels
    from measurekit.publish import html as pagekit
    from measurekit.publish import svg
    from measurekit.stats.target import framework_target

    fw, words = board.framework, board.words
    s = over.series
    mine = s[(s["geography_type"] == "neighbourhood") & (s["geography_code"].astype(str) == str(code))]
    la = s[s["geography_type"] == "la"]
    items, lines = [], []
    for ind in fw.indicators:
        a = mine[mine["indicator_id"] == ind.id]
        if a["period"].nunique() < 2:
            continue
        name = str(a["geography_name"].iloc[0])
        b = la[la["indicator_id"] == ind.id]
        tgt = framework_target(fw, ind.id)
        if not _is_headline(ind, tgt):     # the voice indicators: one line each (the page stays two A4 sides)
            tr = _one(over.trend, ind.id, code)
            ch = _one(over.change, ind.id, code, last=True)
            lines.append(f"{ind.title}: {str(tr['marker']) if tr is not None else 'trend could not be calculated'}"
                         + (f" ({ch['period']}: {_labels.percent(ch['value'])}, {ch['change']:+.1f} points on "
                            f"{ch['previous_period']}, 95% interval {ch['ci_low']:+.1f} to {ch['ci_high']:+.1f})"
                            if ch is not None else "") + ".")
            continue
        series = [{"name": name, "x": [_period_start(p) for p in a["period"]], "y": a["value"].tolist()},
                  {"name": words.La, "x": [_period_start(p) for p in b["period"]], "y": b["value"].tolist(),
                   "dash": "5,3", "marker": "^"}]
        tr = _one(over.trend, ind.id, code)
        marker = str(tr["marker"]) if tr is not None else "Could not be calculated"
        ch = _one(over.change, ind.id, code, last=True)
        tp = _one(over.target, ind.id, code)
        gp = _one(over.gap_trend, ind.id, code)
        points = "; ".join(f"{p}: {_labels.percent(v)}" for p, v in zip(a["period"], a["value"]))
        alt = (f"Line chart of {ind.title} in {name} by academic year ({points}), with the {words.la}'s line"
               + (f" and the target of {tgt.value:g}% by {tgt.period}" if tgt is not None else "")
               + f". Trend: {marker}.")
        years = sorted({_period_start(p) for p in pd.concat([a["period"], b["period"]])})
        names = {_period_start(p): str(p)[2:] for p in pd.concat([a["period"], b["period"]])}
        chart = svg.line_chart(series, alt=alt, x_label="Academic year", y_label="Percent",
                               x_range=(years[0] - 0.4, years[-1] + 0.4), y_range=(0, 100),
                               hline=tgt.value if tgt is not None else None, width=300, height=190, size=7.5,
                               x_names=names)
        text = [f"Trend: {marker}."]
        if ch is not None:
            text.append(f"{ch['period']}: {_labels.percent(ch['value'])}, {ch['change']:+.1f} points on "
                        f"{ch['previous_period']} (95% interval {ch['ci_low']:+.1f} to {ch['ci_high']:+.1f}): "
                        f"{str(ch['words']).lower()}.")
        if tp is not None:
            text.append(str(tp["words"]))
        if gp is not None:
            gap_rows = over.gap[(over.gap["indicator_id"] == ind.id)
                                & (over.gap["geography_code"].astype(str) == str(code))]
            gb = gap_breakdown(fw)
            if len(gap_rows) and gb is not None:
                g = gap_rows.iloc[-1]
                one = _labels.category(gb[0], gb[1][0], framework=fw)
                text.append(f"Gap, {one[0].lower() + one[1:]} minus others, {g['period']}: {g['gap']:+.1f} points "
                            f"({g['ci_low']:+.1f} to {g['ci_high']:+.1f}); over the years: {gp['direction']}.")
        caption = (f"Solid: {name}; dashed: the {words.la}"
                   + (f"; grey line: target {tgt.value:g}% by {tgt.period}" if tgt is not None else "")
                   + ". Published figures only.")
        items.append({"svg": pagekit.markup(chart), "caption": caption, "title": ind.title, "text": text})
    sii_lines = []
    if over.inequality is not None and len(over.inequality):
        last = over.inequality.sort_values("period").groupby("indicator_id").tail(1)
        for r in last.itertuples():
            t = board.indicators.get(r.indicator_id)
            if t is None or not _is_headline(t, framework_target(fw, t.id)):
                continue
            sii_lines.append(f"{t.title}, {words.the_la} {r.period}: slope index of inequality {r.sii:.1f} percentage "
                         f"points (95% interval {r.sii_lower:.1f} to {r.sii_upper:.1f}) between the most and least "
                         "deprived small areas.")
    if not items and not lines:
        return None
    return {"items": items, "lines": lines, "inequality": sii_lines}


def _is_headline(ind, target) -> bool:
    """A headline indicator of the briefing's "Over time" section (drawn as a small chart): one computed from
    routine records (GLD in the school-readiness framework) or one with a declared target."""
    return target is not None or getattr(ind.compute, "source", "") == "routine"


def _one(table: pd.DataFrame, indicator_id: str, code: str, last: bool = False):
    if table is None or not len(table) or "geography_code" not in table:
        return None
    t = table[(table["indicator_id"] == indicator_id) & (table["geography_code"].astype(str) == str(code))
              & (table["geography_type"] == "neighbourhood")]
    if not len(t):
        return None
    return t.iloc[-1] if last else t.iloc[0]


def write_over_time_files(over: PublishedOverTime, folder) -> dict:
    """Write the published over-time tables as CSVs in ``folder`` (inside the pack's temporary folder) with a
    README. Only published-derived figures: no count column."""
    from pathlib import Path

    from measurekit.core import atomic
    from measurekit.core.formatting import CSV_FLOAT_FORMAT, round_half_away

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    drop = {"current_numerator", "current_denominator", "numerator", "denominator", "n_a", "n_b"}
    files = {}
    for name in ("series", "trend", "change", "target", "gap", "gap_trend", "inequality"):
        t = getattr(over, name)
        if t is None or not len(t):
            continue
        t = t[[c for c in t.columns if c not in drop]].copy()
        for c in t.columns:     # figures in percent or percentage points: one decimal; tests' p values: 4
            if pd.api.types.is_float_dtype(t[c]):
                t[c] = round_half_away(t[c].to_numpy(dtype=float),
                                       4 if c in ("p_val", "chi2", "dispersion", "se") or c.startswith("rii") else 1)
        files[name] = atomic.write_csv(folder / f"{name}.csv", t, float_format=CSV_FLOAT_FORMAT, root=folder)
    atomic.write_text(folder / "README.txt", OVER_TIME_README.format(periods=", ".join(over.periods)), root=folder)
    return files


RESOURCE_TITLES = {
    "series": "Each indicator's published value and 95% interval per geography and period (percent)",
    "trend": "Recent trend over the last five published periods (chi-squared test for trend; Fingertips' words)",
    "change": "Change from the previous published period, percentage points with a 95% interval (Newcombe)",
    "target": "Progress to the framework's declared target",
    "gap": "Gap between the two groups of the gap breakdown (percentage points, Newcombe 95% interval)",
    "gap_trend": "Trend of that gap over the last five periods (narrowing, widening, no significant change)",
    "inequality": "Slope and relative index of inequality by deprivation quintile (local authority)",
}


def over_time_resources(files: dict, root) -> list[dict]:
    """Frictionless tabular-data resources for the over-time CSVs written by :func:`write_over_time_files`
    (``root``: the pack's folder; paths relative to it), each field typed from the file as written."""
    from pathlib import Path

    out = []
    for name, path in files.items():
        t = pd.read_csv(path, nrows=1000)
        fields = [{"name": c, "type": "number" if pd.api.types.is_float_dtype(t[c])
                   else "integer" if pd.api.types.is_integer_dtype(t[c])
                   else "boolean" if pd.api.types.is_bool_dtype(t[c]) else "string"} for c in t.columns]
        out.append({"name": f"over_time_{name}", "path": Path(path).relative_to(root).as_posix(),
                    "profile": "tabular-data-resource", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
                    "description": RESOURCE_TITLES.get(name, name) + " (computed from the published board table)",
                    "schema": {"fields": fields, "missingValues": [""]}})
    return out


OVER_TIME_README = """Over time: periods {periods}.

These tables are computed from the published board table only (board_table.csv): a number withheld there (c) is
left out of every series, trend, change and target figure here, so nothing withheld can be worked out from them.
series.csv: each indicator's published value and 95% interval per area and year.
trend.csv: the recent trend over the last five published years (chi-squared test for trend, as OHID Fingertips; words
by polarity). change.csv: each year against the previous published year, percentage points with a 95% interval.
target.csv: progress to the declared target (absent when the framework declares none).
gap.csv and gap_trend.csv: the gap between the two groups of the framework's gap breakdown (group 1 minus group 0,
in percentage points), and its trend.
inequality.csv: the slope index of inequality by deprivation quintile (local authority), published only when every
quintile has enough children meeting and not meeting the definition.
"""


def add_over_time_sheet(path, over: PublishedOverTime, board) -> None:
    """Add the "Over time" sheet (:func:`over_time_sheet`) to a workbook already saved at ``path``: read back,
    added to and saved again. The pack writes the sheet before its workbook's one save instead
    (``excel.write_workbook(..., extra=...)``)."""
    import openpyxl

    from measurekit.core import atomic

    wb = openpyxl.load_workbook(path)
    over_time_sheet(wb, over, board)
    atomic.save_workbook(wb, path)


def over_time_sheet(wb, over: PublishedOverTime, board) -> None:
    """Add an "Over time" sheet to the pack's openpyxl workbook ``wb`` (made by ``excel.write_workbook``), second:
    one row per indicator and geography with the trend words, the slope, the latest change with its interval, and
    the target words where a target is declared; then the gap between groups' trend and the local authority's SII
    by period. Every figure comes from :func:`over_time_published` (published numbers)."""
    from openpyxl.styles import Alignment, Font

    from measurekit.core.formatting import round_half_away

    ws = wb.create_sheet("Over time", 1)
    words = board.words
    ws.append([f"Over time: {', '.join(over.periods)}"])
    ws["A1"].font = Font(bold=True, size=12)
    ws.append(["From the published figures only: a withheld figure (c) is left out of its series."])
    ws.append([])
    header = ["Indicator", "Area", "Trend (last five years)", "Slope (points a year)", "Latest year",
              "Change on previous year (points)", "95% interval, lower", "95% interval, upper", "Target"]
    ws.append(header)
    for c in ws[4]:
        c.font = Font(bold=True)
    titles = {i.id: i.title for i in board.framework.indicators}

    def r1(x):
        return None if x is None or pd.isna(x) else float(round_half_away(np.array([float(x)]), 1)[0])

    for t in over.trend.to_dict("records"):
        key = (t["indicator_id"], str(t["geography_code"]))
        ch = over.change[(over.change["indicator_id"] == key[0])
                         & (over.change["geography_code"].astype(str) == key[1])] if len(over.change) else None
        last = ch.iloc[-1] if ch is not None and len(ch) else None
        tg = over.target[(over.target["indicator_id"] == key[0])
                         & (over.target["geography_code"].astype(str) == key[1])] if len(over.target) else None
        area = words.La if t["geography_type"] == "la" else t["geography_name"]
        ws.append([titles.get(t["indicator_id"], t["indicator_id"]), area, t["marker"], r1(t.get("slope")),
                   None if last is None else last["period"], None if last is None else r1(last["change"]),
                   None if last is None else r1(last["ci_low"]), None if last is None else r1(last["ci_high"]),
                   tg.iloc[0]["words"] if tg is not None and len(tg) else ""])
    if len(over.inequality):
        ws.append([])
        ws.append(["Slope index of inequality by deprivation quintile (points, least minus most deprived)"])
        ws.append(["Indicator", "Period", "SII", "95% interval, lower", "95% interval, upper"])
        for r in over.inequality.to_dict("records"):
            ws.append([titles.get(r["indicator_id"], r["indicator_id"]), r["period"], r1(r["sii"]),
                       r1(r["sii_lower"]), r1(r["sii_upper"])])
    for letter, width in zip("ABCDEFGHI", (34, 18, 30, 12, 10, 14, 11, 11, 60)):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=5):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
