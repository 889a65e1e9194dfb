"""Statistical disclosure control for the board table: suppression an intruder cannot undo.

Primary suppression: a row is suppressed when a count it publishes is small (by default 1 to 5):
the numerator, the complement (denominator - numerator: children without the outcome) or the
denominator; for means, the number of children.

Secondary suppression ("audit and repair", as sdcTable's SIMPLEHEURISTIC does with its attacker
problems): the intruder's problem is written down for the whole publication at once
(:mod:`measurekit.publish.disclosure_audit`: all indicators, breakdowns and geographies, the sums
between them, numerators <= denominators, equal denominators of indicators about the same
children, published zeros and rounding). Then, until the audit passes:

1. every equality (a sum and its total, or two indicators' equal counts) that has exactly one
   suppressed row gets a second one, since that row would follow by subtraction;
2. the audit computes by linear and integer programming (HiGHS) the interval the intruder can
   derive for every suppressed count; a row fails if a count can be pinned exactly, or if it may be
   small and its interval is narrower than the suppression range;
3. for each failing row, one more row is suppressed in the sum that ties it most tightly (the one
   with the fewest suppressed rows), choosing the row of least information value: neighbourhood
   before local authority, breakdown rows before "all" (headline) rows, the breakdown used by the
   fewest indicators first, and within that the largest count (a large count hides a small one
   best).

Rounding (``round_to``, e.g. 5) is applied to every published numerator and denominator
(totals included) after suppression is decided on the true counts; percentages and their
intervals are then computed from the rounded counts, so they give nothing back. Suppressed rows
show only the GSS symbol ``c``; why a row was suppressed (primary or secondary) is kept in
``DisclosureResult.reasons``, which is internal.
"""
from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.publish import disclosure_audit as _audit

NUMBERS = ["numerator", "denominator", "value", "ci_low", "ci_high"]


def primary_mask(table: pd.DataFrame, framework) -> np.ndarray:
    """True for rows that publish a count in the indicator's suppression range.

    With rounding, a count is also small when its rounded value would be (6 and 7 round to 5), or
    when the rounded denominator minus the rounded numerator would be, so no published count, and
    no difference a reader computes from one row, ever reads 1-5.
    """
    rules = {ind.id: ind for ind in framework.indicators}
    ids = table["indicator_id"].to_numpy()
    lo = np.array([rules[i].disclosure.suppress_min for i in ids], dtype=float)
    hi = np.array([rules[i].disclosure.suppress_max for i in ids], dtype=float)
    is_prop = np.array([rules[i].value_type == "proportion" for i in ids])
    num, den = table["numerator"].to_numpy(dtype=float), table["denominator"].to_numpy(dtype=float)
    base = _rounding(table, framework)
    b = np.where(np.isnan(base), 1.0, base)

    def small(x):
        r = np.round(x / b) * b
        return ((x >= lo) & (x <= hi)) | ((x > 0) & (r >= lo) & (r <= hi))

    rounded_complement = np.round(den / b) * b - np.round(num / b) * b        # what a reader computes
    implied = ~np.isnan(base) & (rounded_complement >= lo) & (rounded_complement <= hi)
    return np.where(is_prop, small(num) | small(den - num) | small(den) | implied | _audit.all_or_none(table, framework),
                    small(den))


def information_cost(table: pd.DataFrame, framework) -> np.ndarray:
    """Rank of each row as a candidate for secondary suppression (0 = suppress first).

    Neighbourhood rows before local-authority rows, breakdown rows before "all" (headline) rows,
    breakdowns used by fewer indicators first, larger denominators first.
    """
    usage = Counter(b for ind in framework.indicators for b in ind.breakdowns)
    bd = table["breakdown"].to_numpy()
    level = (table["geography_type"].to_numpy() == "la") * 1 + (bd == "all") * 2
    used = np.array([usage.get(b, 0) for b in bd])
    den = table["denominator"].to_numpy(dtype=float)
    order = np.lexsort((np.arange(len(table)), -den, used, level))
    rank = np.empty(len(table), dtype=int)
    rank[order] = np.arange(len(table))
    return rank


@dataclasses.dataclass
class DisclosureResult(Result):
    """Board table after disclosure control.

    ``table``: the public table (suppressed rows: numbers blank, symbol ``c``, no note).
    ``reasons`` (internal, never publish): per row, "primary" (a small count), "secondary" (to
    protect a small count elsewhere) or "". ``audit``: the final :class:`AuditResult` (passed).
    ``rounds``: repair rounds the secondary suppression needed.
    """

    table: pd.DataFrame
    reasons: pd.Series
    audit: _audit.AuditResult
    rounds: int
    _title = "Disclosure control"


def _rounding(table: pd.DataFrame, framework) -> np.ndarray:
    base = {ind.id: ind.disclosure.round_to for ind in framework.indicators}
    return np.array([np.nan if base[i] is None else float(base[i]) for i in table["indicator_id"]])


def _close_singletons(supp, groups, cost, den) -> None:
    """Equality groups with exactly one suppressed row get a second (the cheapest with children)."""
    changed = True
    while changed:
        changed = False
        for g in groups:
            s = supp[g]
            if s.sum() != 1:
                continue
            cands = g[~s & (den[g] > 0)]
            if len(cands):
                supp[cands[np.argmin(cost[cands])]] = True
                changed = True


def _partner(r, supp, row_groups, model, cost, den, taken, allow_empty=False):
    """The row to suppress next to protect row r (or None). ``allow_empty``: rows with no children
    (published as x) may be taken too: in a small cohort an 'x' can itself give a hidden count away
    (no respondents in a group pins that group's response count to 0), so it is withheld as c."""
    best = None
    has = (den >= 0) if allow_empty else (den > 0)
    has = has | np.isnan(den) if allow_empty else has
    for g in row_groups.get(r, ()):
        cands = g[~supp[g] & has[g] & ~taken[g]]
        if not len(cands):
            continue
        c = cands[np.argmin(cost[cands])]
        key = (int(supp[g].sum()), cost[c])
        if best is None or key < best[0]:
            best = (key, c)
    if best is not None:
        return best[1]
    # no equality group: any published row sharing a constraint with r's counts, then their neighbours
    vars_r = [v for v in (model.den_var[r], model.num_var[r]) if v >= 0]
    A = model.A.tocsc()
    seen_rows = {r}
    frontier = vars_r
    for _ in range(3):
        cons = np.unique(A[:, frontier].nonzero()[0])
        if not len(cons):
            return None
        vs = np.unique(model.A[cons].nonzero()[1])
        rows = np.unique(model.var_row[vs])
        cands = np.array([x for x in rows if x not in seen_rows and not supp[x] and has[x] and not taken[x]], int)
        if len(cands):
            return cands[np.argmin(cost[cands])]
        seen_rows |= set(rows.tolist())
        frontier = vs
    return None


def protect(table: pd.DataFrame, framework, level: float = 0.95, max_rounds: int = 1000) -> DisclosureResult:
    """Primary and secondary suppression, then rounding, as each indicator declares (see the module doc)."""
    t = table.reset_index(drop=True)
    model = _audit.build_model(t, framework)
    primary = primary_mask(t, framework)
    supp = primary.copy()
    cost = information_cost(t, framework)
    den = t["denominator"].to_numpy(dtype=float)
    rounding = _rounding(t, framework)
    row_groups: dict[int, list] = {}
    for g in model.groups:
        for r in g:
            row_groups.setdefault(int(r), []).append(g)
    rounds = 0
    result = None
    while True:
        if supp.any():
            _close_singletons(supp, model.groups, cost, den)
        result = _audit.audit(model, supp, rounding, previous=result)
        if result.passed:
            break
        rounds += 1
        if rounds > max_rounds:
            raise RuntimeError("secondary suppression did not converge: " + "; ".join(result.problems[:5]))
        taken = np.zeros(len(t), dtype=bool)
        failing = pd.unique(result.table.loc[~result.table["passed"], "row"].to_numpy())
        added = 0
        for r in failing:
            p = _partner(int(r), supp, row_groups, model, cost, den, taken)
            if p is None:   # last resort in small cohorts: withhold an empty (x) cell that gives the count away
                p = _partner(int(r), supp, row_groups, model, cost, den, taken, allow_empty=True)
            if p is not None:
                taken[p] = True
                added += 1
        if not added:
            raise RuntimeError("secondary suppression cannot protect these rows: " + "; ".join(result.problems[:5]))
        supp |= taken
    reasons = pd.Series(np.where(primary, "primary", np.where(supp, "secondary", "")), index=t.index, name="reason")
    return DisclosureResult(_publish(t, supp, rounding, level), reasons, result, rounds)


def apply_disclosure_control(table: pd.DataFrame, framework, level: float = 0.95) -> pd.DataFrame:
    """Suppress (primary and secondary) and round as each indicator declares; returns the public table."""
    return protect(table, framework, level).table


def _publish(t: pd.DataFrame, supp: np.ndarray, rounding: np.ndarray, level: float) -> pd.DataFrame:
    """The public table: suppressed rows blank with symbol c; rounding; comparators from published values."""
    from measurekit.stats import intervals

    out = t.copy()
    is_prop = (out["ci_method"] == "wilson").to_numpy()
    has_r = ~np.isnan(rounding) & ~supp
    if has_r.any():
        b = np.where(has_r, rounding, 1.0)
        num, den = out["numerator"].to_numpy(dtype=float), out["denominator"].to_numpy(dtype=float)
        rden = np.where(has_r, np.round(den / b) * b, den)
        value = out["value"].to_numpy(dtype=float).copy()
        rnum = np.where(has_r & is_prop, np.round(num / b) * b, np.where(has_r, value * rden, num))
        with np.errstate(invalid="ignore", divide="ignore"):
            lo, hi = intervals.wilson(rnum, rden, level)
            pv = 100 * rnum / rden
        p = has_r & is_prop
        out["numerator"], out["denominator"] = rnum, rden
        out.loc[p, "value"] = pv[p]
        out.loc[p, "ci_low"] = (np.asarray(lo) * 100)[p]
        out.loc[p, "ci_high"] = (np.asarray(hi) * 100)[p]
    out.loc[supp, NUMBERS] = np.nan
    out.loc[supp, ["significance_95", "significance_998"]] = ""
    out["suppressed"] = supp
    out.loc[supp, "symbol"] = "c"
    out.loc[supp, "note"] = ""
    # the comparator is the published local-authority value: blank when that row is suppressed
    la = out[out["geography_type"] == "la"].set_index(["indicator_id", "breakdown", "breakdown_value"])["value"]
    key = pd.MultiIndex.from_frame(out[["indicator_id", "breakdown", "breakdown_value"]])
    out["comparator"] = la.reindex(key).to_numpy()
    no_comp = out["comparator"].isna().to_numpy()
    out.loc[no_comp, ["significance_95", "significance_998"]] = ""
    return out
