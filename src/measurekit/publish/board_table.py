"""The board table: one long tidy table of indicators by period, geography and breakdown.

Columns (the contract other tools join on): indicator_id, indicator_title, period, geography_type
(la | neighbourhood | small_area), geography_code, geography_name, breakdown (all | the id of a breakdown
the framework declares, e.g. fsm), breakdown_value, numerator, denominator, value, ci_low, ci_high,
ci_method, comparator (the LA value for the same breakdown value), significance_95 and
significance_998 (higher | similar | lower than the LA, from funnel-plot limits), polarity,
suppressed, symbol (GSS: c confidential, x not available, z not applicable, u low reliability),
note. Proportions are published as percentages (0-100); means on their own scale. Denominators are
whole numbers; numerators whole for proportions and blank for means (a sum of scores is not published);
value, limits and comparator rounded half away from zero to the indicator's ``decimal_places``
(``measurekit.core.formatting``), once, after disclosure control. geography_code of the
la rows is the framework's ``area.new_la_code`` (GSS) when declared, else the placeholder "LA".
("neighbourhood" is the technical name of the areas the boards cover, whatever the framework calls them.)

The flow: :func:`build_board_table` aggregates (one pass over the children per grouping), computes the
intervals and the comparisons with the LA, applies disclosure control (``publish.disclosure.protect``) and
rounds once; it returns a :class:`BoardTable`, the object every writer of the board pack renders.
:func:`board_table` returns just its rows (the public DataFrame call). The Wilson and t intervals match R's
``prop.test(correct = FALSE)`` and ``t.test``; funnel limits are those of the PHE/OHID fingertips tools.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
import pandas as pd

from measurekit.core import labels, thresholds
from measurekit.data.population import among_mask, field_column, first_respondent, technical_frame, technical_lookup
from measurekit.stats import intervals

COLUMNS = ["indicator_id", "indicator_title", "period", "geography_type", "geography_code", "geography_name",
           "breakdown", "breakdown_value", "numerator", "denominator", "value", "ci_low", "ci_high", "ci_method",
           "comparator", "significance_95", "significance_998", "polarity", "suppressed", "symbol", "note"]
LA_CODE, LA_NAME = "LA", "Local authority"
LOW_RELIABILITY_N = thresholds.LOW_RELIABILITY_N   # fewer children than this: the 'u' flag
# the GSS symbols of the published table, as the data package and the workbook explain them
SYMBOLS = {"c": "confidential: suppressed to protect small numbers",
           "x": "not available: no children in this group",
           "z": "not applicable",
           "u": f"low reliability: fewer than {LOW_RELIABILITY_N} children, read with caution"}


def symbols(framework=None) -> dict[str, str]:
    """:data:`SYMBOLS` in the framework's word for its people ("no young people in this group"); the module's
    words (children) for a framework on the data contract or without one."""
    return {k: labels.in_people_words(v, framework) for k, v in SYMBOLS.items()}


def _frame(frame: pd.DataFrame, framework) -> pd.DataFrame:
    """One row per child with the columns the board table uses: routine columns, the indicators' fields
    and voice scores (respondents only). A new frame of those columns only: the caller's data are not copied
    whole nor changed."""
    from measurekit.stats.scoring import score

    needed = ({field_column(ind.compute.table, ind.compute.field) for ind in framework.indicators}
              | {field_column(ind.compute.among.table, ind.compute.among.field)
                 for ind in framework.indicators if ind.compute.among is not None}
              | {b for ind in framework.indicators for b in ind.breakdowns})
    needed |= {"responded", "neighbourhood", "neighbourhood_code", "small_area", "small_area_name", "completed_on"}
    out = pd.DataFrame({c: frame[c] for c in frame.columns if c in needed}, index=frame.index)
    scored = all(d.score_column in frame for d in framework.domains)   # the main job scores once, before
    if not scored and "responded" in frame and any(ind.compute.source == "scale" for ind in framework.indicators):
        resp = (frame["responded"] == 1).to_numpy()
        items = [i.id for i in framework.items if i.id in frame.columns]
        scores = score(frame.loc[resp, items], framework=framework, respondent=first_respondent(framework))
        for col in scores.columns:
            if col in needed:          # by position: the respondents' rows of the frame
                full = np.full(len(frame), np.nan)
                full[resp] = scores[col].to_numpy(dtype=float)
                out[col] = full
    return out


def _indicator_values(frame: pd.DataFrame, ind) -> pd.Series:
    """Per child: the 0/1 flag (proportions) or value (means) the indicator aggregates; NaN = not in denominator."""
    c = ind.compute
    col = field_column(c.table, c.field)
    x = pd.to_numeric(frame[col], errors="coerce") if col in frame else pd.Series(np.nan, index=frame.index)
    if c.population == "respondents" and "responded" in frame:
        x = x.where(frame["responded"] == 1)
    if c.among is not None:   # only the people meeting the condition (e.g. accommodation judged suitable)
        among = field_column(c.among.table, c.among.field)
        x = x.where(among_mask(frame[among], c.among.values)) if among in frame else x * np.nan
    if c.statistic == "proportion_below":
        return (x < c.threshold).astype(float).where(x.notna())
    if c.statistic == "proportion_at_or_above":
        return (x >= c.threshold).astype(float).where(x.notna())
    return x


def small_area_lookup(data, lookup=None):
    """``lookup`` when given, else a Cohort's small-area table (None for a plain frame without one)."""
    if lookup is None and hasattr(data, "tables") and "small_areas" in data.tables:
        return data.tables["small_areas"]
    return lookup


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


def board_table(data, *, framework, period=None, weights: pd.Series | None = None,
                lookup: pd.DataFrame | None = None, small_areas: bool = False, level: float = 0.95,
                disclosure: bool = True) -> pd.DataFrame:
    """Aggregate every indicator of ``framework`` over ``data`` (a Cohort or an analysis frame): the rows of
    :func:`build_board_table` (see there for the arguments).

    ``disclosure=False`` returns the table before disclosure control and before rounding (internal: true
    counts at full precision; ``measurekit.publish.disclosure.protect`` protects it).
    """
    return build_board_table(data, framework=framework, period=period, weights=weights, lookup=lookup,
                             small_areas=small_areas, level=level, disclosure=disclosure).rows


def build_board_table(data, *, framework, period=None, weights: pd.Series | None = None,
                      lookup: pd.DataFrame | None = None, small_areas: bool = False, level: float = 0.95,
                      disclosure: bool = True, evidence=None, ledger=None) -> "BoardTable":
    """The board table of ``framework`` over ``data`` (a Cohort or an analysis frame), built once:
    aggregate -> intervals -> comparisons -> disclosure control -> rounding (once, last).

    ``lookup`` (small_area, small_area_name, neighbourhood_code, neighbourhood) replaces the
    cohort's small-area lookup: codes and names pass through unchanged. ``weights`` (indexed like
    the analysis frame; e.g. ``response_weights(...).weights``) gives weighted means with
    design-effect-adjusted intervals for mean indicators. Disclosure control is applied
    (``measurekit.publish.disclosure.protect``) as each indicator declares. ``small_areas=True`` adds small-area
    rows (breakdown "all" only); their sums to the areas are not yet protected by secondary
    suppression, so they are for internal use, not publication. ``disclosure=False``: no disclosure control
    and no rounding (the internal table of true counts). ``evidence``: the framework's evidence folder as read by
    ``design.evidence.read_framework_evidence`` (the main job passes what it read with the inputs) or its quotes
    (``design.evidence.Evidence``); the quotes are kept on the object for the pages that quote families. Left
    out, the framework's ``evidence/`` folder is read here, once.
    """
    from measurekit.core import formatting
    from measurekit.publish.disclosure import protect

    frame = data.analysis_frame() if hasattr(data, "analysis_frame") else data
    frame = technical_frame(frame, getattr(data, "tables", None), framework)   # declared names -> technical ones
    frame = _frame(frame, framework)
    if weights is not None:   # align on the children's index before any merge renumbers the rows
        frame["__weight"] = weights.reindex(frame.index)
    lookup = technical_lookup(small_area_lookup(data, lookup), framework)
    if lookup is not None:   # a left join on small_area, done as two column look-ups
        lk = lookup.drop_duplicates("small_area").set_index("small_area")
        for c in ("small_area_name", "neighbourhood_code") if small_areas else ("neighbourhood_code",):
            frame[c] = frame["small_area"].map(lk[c])
    if "neighbourhood_code" not in frame:
        frame["neighbourhood_code"] = frame["neighbourhood"]
    if small_areas and "small_area_name" not in frame and "small_area" in frame:
        frame["small_area_name"] = frame["small_area"]
    per = _period(data, frame, period)
    area = getattr(framework, "area", None)   # the LA's GSS code and name when the framework declares them
    la = (area.new_la_code, area.la_name) if area else (LA_CODE, LA_NAME)
    geos = [("la", "__la_code", "__la_name"), ("neighbourhood", "neighbourhood_code", "neighbourhood")]
    if small_areas and "small_area" in frame:
        geos.append(("small_area", "small_area", "small_area_name"))
    w = frame["__weight"].to_numpy(dtype=float) if weights is not None else None
    table = _aggregate(frame, framework, geos, w, constant={"__la_code": la[0], "__la_name": la[1]})
    table, sd = _finish(table, framework, per, level)
    if evidence is None:
        from measurekit.design.evidence import read_framework_evidence

        evidence = read_framework_evidence(framework)
    evidence = getattr(evidence, "voice", evidence)   # the quotes of a FrameworkEvidence; an Evidence as given
    if not disclosure:
        return BoardTable(framework, table, sd=sd, evidence=evidence, level=level, published=False)
    quiet_solver_banner()
    # small areas are audited as parts of their areas; ``ledger``: earlier releases audited jointly with this one
    nesting = (dict(zip(frame["small_area"].astype(str), frame["neighbourhood_code"].astype(str)))
               if small_areas and "small_area" in frame else None)
    result = protect(table, framework, level, nesting=nesting, earlier=ledger)
    # rounding and typing come last, once, after every calculation and the disclosure control
    rows = formatting.publish_board_table(result.table, framework)
    if not labels.contract_words(framework):     # the rounding step's low-reliability note, in the people's words
        rows["note"] = rows["note"].map(lambda text: labels.in_people_words(text, framework))
    return BoardTable(framework, rows, sd=sd, disclosure=result, evidence=evidence, level=level)


@functools.lru_cache(maxsize=1)
def quiet_solver_banner() -> None:
    """HiGHS (``highspy``, the disclosure audit's solver) prints a copyright banner to the process's standard
    output the first time a solver is made, whatever its options. Make that first one here, once per process,
    with the standard output file descriptor pointed at the null device, so no run prints it."""
    try:
        import highspy
    except ImportError:
        return
    import os
    import sys

    try:
        sys.stdout.flush()
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
    except (AttributeError, OSError, ValueError):   # no real standard output (embedded, some notebooks)
        fd = 1
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w", encoding="utf-8") as devnull:
            os.dup2(devnull.fileno(), fd)
            try:
                highspy.Highs()
            finally:
                _flush_c_stdout()
                os.dup2(saved, fd)
    finally:
        os.close(saved)


def _flush_c_stdout() -> None:
    """Flush the C library's stdout buffer (what HiGHS printed) before the descriptor is restored."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):   # no C library to ask (e.g. Windows): HiGHS flushes its own line
        pass


def _codes(column: pd.Series, as_text: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Category codes (-1 = missing) and the sorted category labels of a key column.

    ``as_text``: the labels are the values as text, sorted as text (as ``astype(str)`` then grouping would
    give), but only the few distinct values are converted, not every child's.
    """
    cat = column.astype("category")
    codes = cat.cat.codes.to_numpy(dtype=np.int64)
    labels = np.asarray(cat.cat.categories, dtype=object)
    if as_text:
        text = np.array([str(v) for v in labels], dtype=object)
        labels, inverse = np.unique(text, return_inverse=True) if len(text) else (text, np.zeros(0, dtype=np.int64))
        codes = np.where(codes >= 0, inverse.reshape(-1)[np.maximum(codes, 0)], -1) if len(text) else codes
    return codes, labels


def _groups(keys: list[tuple[np.ndarray, np.ndarray]]):
    """Group index of each child (-1 where a key is missing) and each group's labels, for the observed
    combinations of the key columns in sorted order (as pandas ``groupby(sort=True, observed=True)``)."""
    n = len(keys[0][0])
    combined = np.zeros(n, dtype=np.int64)
    valid = np.ones(n, dtype=bool)
    size = 1
    for codes, levels in keys:
        valid &= codes >= 0
        combined = combined * max(len(levels), 1) + np.where(codes >= 0, codes, 0)
        size *= max(len(levels), 1)
    if size <= 4 * n + 1_000_000:
        seen = np.bincount(combined[valid], minlength=size) > 0
        observed = np.flatnonzero(seen)
        slot = np.cumsum(seen) - 1
        group = np.where(valid, slot[combined], -1)
    else:
        observed, inverse = np.unique(combined[valid], return_inverse=True)
        group = np.full(n, -1, dtype=np.int64)
        group[valid] = inverse
    labels_out = []
    rest = observed
    for _, levels in reversed(keys):
        k = max(len(levels), 1)
        labels_out.append(levels[rest % k] if len(levels) else np.array([], dtype=object))
        rest = rest // k
    return group, len(observed), labels_out[::-1]


def _aggregate(frame: pd.DataFrame, framework, geos, w, constant: dict) -> pd.DataFrame:
    """Sums (x, x2, n and, with weights, w, wx, wxx, ww) of every indicator for every group.

    The children's values of all indicators form one matrix; each geography x breakdown grouping is
    computed once (category codes, observed combinations) and summed for every indicator at once by one
    sparse product (groups x children) @ (children x sums). Cost: one pass over the children per grouping,
    whatever the number of indicators; everything after works on the small aggregated table.
    ``constant``: key columns with one value for every child (the LA's code and name), not in ``frame``.
    """
    from scipy import sparse

    inds = list(framework.indicators)
    n = len(frame)
    values = np.column_stack([_indicator_values(frame, ind).to_numpy(dtype=float) for ind in inds]) \
        if inds else np.zeros((n, 0))
    present = ~np.isnan(values)
    x = np.where(present, values, 0.0)
    blocks = [x, x * x, present.astype(float)]
    names = ["x", "x2", "n"]
    if w is not None:
        ww = np.where(present, w[:, None], np.nan)
        wz = np.nan_to_num(ww)
        blocks += [wz, wz * x, wz * x * x, wz * wz]
        names += ["w", "wx", "wxx", "ww"]
    k = len(inds)
    keys = {c: (np.zeros(n, dtype=np.int64), np.array([v], dtype=object)) for c, v in constant.items()}
    areas = area_breakdown_ids(framework)
    for b in {b for ind in inds for b in ind.breakdowns if b in frame and b not in areas}:
        keys[b] = _codes(frame[b], as_text=True)
    for _, code_col, name_col in geos:
        for c in (code_col, name_col):
            if c not in keys:
                keys[c] = _codes(frame[c])
    cache = {}

    def grouped(geo, bd):
        if (geo, bd) not in cache:
            _, code_col, name_col = geo
            cols = [code_col, name_col] + ([] if bd == "all" else [bd])
            group, n_groups, labels = _groups([keys[c] for c in cols])
            ok = group >= 0
            # groups x children, one entry per child: built column by column in O(children), no sort
            indptr = np.concatenate([[0], np.cumsum(ok)])
            g = sparse.csc_matrix((np.ones(int(indptr[-1])), group[ok], indptr), shape=(n_groups, n))
            cache[(geo, bd)] = (np.hstack([g @ b for b in blocks]), labels)
        return cache[(geo, bd)]

    parts = []
    for j, ind in enumerate(inds):
        breakdowns = ["all"] + [b for b in ind.breakdowns if b not in areas and b in frame]
        for geo in geos:
            geo_type = geo[0]
            for bd in breakdowns:
                if geo_type == "small_area" and bd != "all":
                    continue
                sums, labels = grouped(geo, bd)
                agg = pd.DataFrame({nm: sums[:, i * k + j] for i, nm in enumerate(names)})
                if w is not None and ind.value_type != "mean":
                    agg[["w", "wx", "wxx", "ww"]] = np.nan
                agg["geography_type"] = geo_type
                agg["geography_code"] = pd.Series(labels[0], dtype=object).astype(str).to_numpy()
                agg["geography_name"] = pd.Series(labels[1], dtype=object).astype(str).to_numpy()
                agg["breakdown"] = bd
                agg["breakdown_value"] = ("all" if bd == "all"
                                          else pd.Series(labels[2], dtype=object).astype(str).to_numpy())
                agg["indicator_id"] = ind.id
                parts.append(agg)
    return pd.concat(parts, ignore_index=True)


def area_breakdown_ids(framework) -> set[str]:
    """The id of the framework's area breakdown (its rows are the geographies, not groups of children)."""
    area = getattr(framework, "area_breakdown", None)
    return {area.id} if area is not None else {"neighbourhood"}


def _finish(t: pd.DataFrame, framework, period, level) -> tuple[pd.DataFrame, np.ndarray]:
    """The board table's columns from the sums, at full precision; and each row's SD of the children's
    values (unweighted: the spread the funnel limits of means use)."""
    meta = indicator_lookup(framework)
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
    out["note"] = np.where(n == 0, labels.in_people_words("no children in this group", framework),
                           np.where(n < LOW_RELIABILITY_N, labels.in_people_words(
                               f"fewer than {LOW_RELIABILITY_N} children: low reliability", framework), ""))
    return out[COLUMNS].reset_index(drop=True), sd


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


def indicator_lookup(framework) -> dict:
    """Indicator id -> the framework's indicator (the one place this lookup is made)."""
    return {ind.id: ind for ind in framework.indicators}


@dataclasses.dataclass(frozen=True, eq=False)
class BoardTable:
    """The board table as it is published, with what the renderers need beside it.

    Built once by :func:`build_board_table` (aggregate -> intervals -> comparisons -> disclosure control ->
    rounding once); every writer of the board pack (CSV, data package, EES files, workbook, spec sheets,
    briefings, family pages) is a function of this object, and the gate checks it against the files.

    ``framework``: the framework it was built for. ``rows``: the published long table (columns
    :data:`COLUMNS`; see the module docstring for their meaning), disclosure-controlled and rounded.
    ``sd`` (internal, never published): per row, the standard deviation of the children's values before any
    rounding (the spread the funnel limits of mean scores use); None when the rows were read back from a file.
    ``disclosure``: the :class:`~measurekit.publish.disclosure.DisclosureResult` (suppression reasons and the
    audit, internal); None when built with ``disclosure=False`` or read back. ``evidence``: the framework's
    quotes (``design.evidence.Evidence``) or None. ``level``: the confidence level of the intervals.
    ``published``: False for the internal table of true counts (``disclosure=False``), never to be shared.
    """

    framework: Any
    rows: pd.DataFrame
    sd: np.ndarray | None = None
    disclosure: Any = None
    evidence: Any = None
    level: float = 0.95
    published: bool = True

    @classmethod
    def from_rows(cls, framework, rows: pd.DataFrame, evidence=None) -> "BoardTable":
        """A board table whose rows were published before (e.g. read from ``board_table.csv``): no audit, no SDs."""
        return cls(framework, rows.reset_index(drop=True), evidence=evidence)

    def with_rows(self, rows: pd.DataFrame) -> "BoardTable":
        """The same board table with other rows (a selection of these, for one page or one test); SDs follow
        the rows' index when it is this table's index, else they are dropped."""
        sd = None
        if self.sd is not None and rows.index.isin(self.rows.index).all():
            sd = self.sd[self.rows.index.get_indexer(rows.index)]
        return dataclasses.replace(self, rows=rows, sd=sd, disclosure=None)

    @functools.cached_property
    def indicators(self) -> dict:
        """Indicator id -> the framework's indicator, for every row's metadata."""
        return indicator_lookup(self.framework)

    def indicator(self, indicator_id: str):
        return self.indicators[str(indicator_id)]

    @property
    def audit(self):
        """The disclosure audit (``disclosure_audit.AuditResult``) of this table, or None."""
        return self.disclosure.audit if self.disclosure is not None else None

    @property
    def periods(self) -> tuple[str, ...]:
        """The periods the table covers, in the order they appear."""
        return tuple(dict.fromkeys(str(p) for p in self.rows["period"]))

    @property
    def words(self) -> "labels.PlaceWords":
        """The framework's words for its places (``framework.area``; neutral when it declares none)."""
        return labels.place_words(self.framework)

    @property
    def coverage_indicator(self):
        """The framework's coverage indicator (share of children whose parent gave their views), or None."""
        cid = getattr(self.framework, "coverage_indicator", None)
        return self.indicators.get(cid) if cid else None

    def area_codes(self) -> list[str]:
        """The codes of the areas (geography_type "neighbourhood") in the order of the table."""
        return list(self._area_codes)

    @functools.cached_property
    def _area_codes(self) -> tuple[str, ...]:
        nb = self.rows[(self.rows["geography_type"] == "neighbourhood") & (self.rows["breakdown"] == "all")]
        return tuple(dict.fromkeys(nb["geography_code"].astype(str)))

    def area_rows(self, code: str) -> pd.DataFrame:
        """Every row (indicators, breakdowns) of one area, by code."""
        t = self.rows
        return t[(t["geography_type"] == "neighbourhood") & (t["geography_code"].astype(str) == str(code))]

    def la_sd(self, indicator_id: str, breakdown: str = "all", value: str = "all") -> float:
        """The SD of the children's values over the whole local authority (NaN when not carried)."""
        if self.sd is None:
            return float("nan")
        t = self.rows
        m = ((t["indicator_id"] == indicator_id) & (t["geography_type"] == "la") & (t["breakdown"] == breakdown)
             & (t["breakdown_value"].astype(str) == value)).to_numpy()
        return float(self.sd[m][0]) if m.any() else float("nan")
