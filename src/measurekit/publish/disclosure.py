"""Statistical disclosure control for the board table: suppression an intruder cannot undo.

Primary suppression: a row is suppressed when a count it publishes is small (by default 1 to 5):
the numerator, the complement (denominator - numerator: children without the outcome) or the
denominator; for means, the number of children.

Secondary suppression is an optimisation: withhold the rows that cost readers least (a declared
:func:`suppression_cost`: headline rows, the "all" row of an area and above all of the local
authority, cost far more than breakdown rows, and indicators marked ``headline`` more than the
rest) subject to the protection the audit asks for (no withheld count can be worked out exactly;
no count in the suppression range can be narrowed to fewer whole values than the range holds: 5 for
1 to 5, :func:`~measurekit.publish.disclosure_audit.required_width`). A withheld row's denominator
that another row of the same cell prints (the number of children, printed by every indicator about
the whole cohort) is published, so it needs no protection: withholding a row for a small numerator
does not drag the rows of the other indicators of that cell with it. It is
solved by constraint generation, as tau-Argus's optimal method (Fischetti and Salazar 2001) and
sdcTable's ``OPT`` do it (read for their method, no code taken):

1. a master integer programme (HiGHS, through ``scipy.optimize.milp``) chooses the rows to withhold
   at least cost, subject to the primary rows being withheld, every sum or equality with one
   withheld row having a second, and every cut found so far;
2. the audit (:mod:`measurekit.publish.disclosure_audit`: the intruder's integer programme over the
   whole publication: every indicator, breakdown and geography, small areas to areas to the
   local authority, breakdowns derived from one another as the framework declares, numerators
   <= denominators, equal counts of indicators about the same children, rounding, and earlier
   releases in a ledger) attacks the pattern;
3. for every count that fails, the dual of the intruder's linear programme gives a capacity cut
   (:func:`~measurekit.publish.disclosure_audit.protection_cut`): an upper bound, linear in the
   pattern, on how wide the intruder's interval can be, valid for every pattern (weak duality),
   which the master must make at least as wide as required. When only the intruder's integer
   problem separates the pattern, a combinatorial cut forbids its neighbourhood as it is.
Steps 1-3 repeat until the audit passes; the first pattern that passes is optimal for the cost,
since every cut is satisfied by every protecting pattern.

Rounding (``round_to``, e.g. 5) is applied to every published numerator and denominator
(totals included) after suppression is decided on the true counts; percentages and their
intervals are then computed from the rounded counts, so they give nothing back. Suppressed rows
show only the GSS symbol ``c``; why a row was suppressed (primary or secondary) is kept in
``DisclosureResult.reasons``, which is internal.
"""
from __future__ import annotations

import dataclasses
import logging
import time as _time
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.publish import disclosure_audit as _audit

_log = logging.getLogger(__name__)
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
    return np.where(is_prop,
                    small(num) | small(den - num) | small(den) | implied | _audit.all_or_none(table, framework),
                    small(den))


def information_cost(table: pd.DataFrame, framework) -> np.ndarray:
    """Rank of each row as a candidate for secondary suppression (0 = withhold first), the order of
    :func:`suppression_cost` (kept for readers who want an order rather than a cost)."""
    cost = suppression_cost(table, framework)
    order = np.lexsort((np.arange(len(table)), cost))
    rank = np.empty(len(table), dtype=int)
    rank[order] = np.arange(len(table))
    return rank


#: cost of withholding one row, by kind of row (before the headline-indicator factor)
COSTS = {"breakdown": 1.0, "la_breakdown": 5.0, "area_all": 1e4, "la_all": 1e6, "empty": 1.5}
HEADLINE_FACTOR = 1.5


def suppression_cost(table: pd.DataFrame, framework) -> np.ndarray:
    """What withholding each row costs the readers: the objective secondary suppression minimises.

    Headline rows ("all" of an area, and above all of the local authority) cost far more than
    breakdown rows (``COSTS``: 10,000 and 1,000,000 against 1-3), so a headline row is withheld only
    when it is small itself or when no pattern of breakdown rows protects the table; rows of
    indicators the framework marks ``headline: true`` cost ``HEADLINE_FACTOR`` times more. Within a
    kind, a row costs a little more the more children it counts (factor 1 + log(1 + n) / 50), as
    tau-Argus's and sdcTable's default cost grows with the cell's size. Rows with no children (x)
    cost ``COSTS["empty"]``.
    """
    headline = {ind.id: bool(getattr(ind, "headline", False)) for ind in framework.indicators}
    geo = table["geography_type"].to_numpy()
    is_all = (table["breakdown"] == "all").to_numpy()
    den = np.nan_to_num(table["denominator"].to_numpy(dtype=float))
    base = np.where(geo == "la", np.where(is_all, COSTS["la_all"], COSTS["la_breakdown"]),
                    np.where(is_all & (geo != "small_area"), COSTS["area_all"], COSTS["breakdown"]))
    base = np.where(den <= 0, COSTS["empty"], base)
    factor = np.where(table["indicator_id"].map(headline).fillna(False).to_numpy(dtype=bool), HEADLINE_FACTOR, 1.0)
    return base * factor * (1.0 + np.log1p(den) / 50.0)


@dataclasses.dataclass
class DisclosureResult(Result):
    """Board table after disclosure control.

    ``table``: the public table (suppressed rows: numbers blank, symbol ``c``).
    ``reasons`` (internal, never publish): per row, "primary" (a small count, or 0%/100% of a small
    group), "secondary" (withheld to protect a count elsewhere) or "". ``why`` (internal): per
    withheld row, the reason in plain words; a withheld headline row says whether it was small
    itself or no pattern of breakdown rows protected the table. ``audit``: the final
    :class:`AuditResult` (passed). ``rounds``: rounds of the optimisation (master problem solved,
    pattern audited, cuts added). ``cost``: the pattern's total :func:`suppression_cost`.
    ``optimal``: True when the pattern is least-cost (False after the large-table fallback).
    """

    table: pd.DataFrame
    reasons: pd.Series
    audit: _audit.AuditResult
    rounds: int
    why: pd.Series | None = None
    cost: float = float("nan")
    optimal: bool = True
    counts: pd.DataFrame | None = None
    nesting: dict | None = None
    earlier: list | None = None
    _title = "Disclosure control"


def _rounding(table: pd.DataFrame, framework) -> np.ndarray:
    base = {ind.id: ind.disclosure.round_to for ind in framework.indicators}
    return np.array([np.nan if base[i] is None else float(base[i]) for i in table["indicator_id"]])


class _Master:
    """The master problem: choose the rows to withhold (x_r = 1) at least cost, subject to every cut
    found so far: a covering integer programme held by HiGHS (``highspy``) between rounds, so each
    round only adds the new cuts and starts from the previous pattern repaired to satisfy them.

    Two gaps: while the cuts are being found, each master is solved to within ``SEARCH_GAP`` of its optimum (the
    pattern is only a probe for the audit then: most rounds add cuts, and proving 1% on a problem that changes next
    round cost most of the time: a cohort of 800, seed 11, spent 22 of 25 s CPU in 50 masters). Once a probe passes
    the audit, :meth:`tighten` asks for ``gap`` (1%) and the rounds go on until a pattern found to that gap passes:
    every cut holds for every protecting pattern, so that pattern is least-cost within 1%, as before."""

    SEARCH_GAP = 0.1

    def __init__(self, cost, fixed_on, fixed_off, time_limit, gap: float = 1e-2):
        import highspy

        self.hs = highspy
        self.cost = np.where(fixed_on, 0.0, np.asarray(cost, dtype=float))   # fixed rows: a constant
        self.lb = np.asarray(fixed_on, dtype=float)
        self.ub = np.where(fixed_off, 0.0, 1.0)
        self.n = len(self.cost)
        self.pending: list[tuple[dict, float]] = []
        self.cuts: list[tuple[np.ndarray, np.ndarray, float]] = []
        self.gap, self.tight = float(gap), False
        h = _audit.new_highs(time_limit=float(time_limit), mip_rel_gap=max(self.SEARCH_GAP, self.gap))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, 0
        lp.col_cost_ = self.cost
        lp.col_lower_ = self.lb
        lp.col_upper_ = self.ub
        lp.integrality_ = [highspy.HighsVarType.kInteger] * self.n
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.zeros(self.n + 1, dtype=np.int32)
        h.passModel(lp)
        self.h = h
        self.last: np.ndarray | None = None
        self._mat: Any = None                  # the cuts as a sparse matrix (see _lhs), and their right-hand sides
        self._rhs = np.zeros(0)

    def add(self, coef: dict, rhs: float) -> None:
        """sum(coef[r] x_r) >= rhs."""
        self.pending.append((coef, float(rhs)))

    def _flush(self):
        if not self.pending:
            return
        starts, idx, vals, lower = [], [], [], []
        for coef, rhs in self.pending:
            starts.append(len(idx))
            keys = np.fromiter(coef.keys(), dtype=np.int32, count=len(coef))
            v = np.fromiter(coef.values(), dtype=float, count=len(coef))
            idx.extend(keys.tolist()), vals.extend(v.tolist()), lower.append(rhs)
            self.cuts.append((keys, v, rhs))
        inf = self.hs.kHighsInf
        self.h.addRows(len(lower), np.array(lower), np.full(len(lower), inf), len(idx),
                       np.array(starts, dtype=np.int32), np.array(idx, dtype=np.int32), np.array(vals))
        self.pending = []

    def _lhs(self, x: np.ndarray) -> np.ndarray:
        """Every cut's left-hand side at ``x`` (one sparse product; the cuts as a matrix, grown as cuts come)."""
        from scipy import sparse

        have = 0 if self._mat is None else self._mat.shape[0]
        if have < len(self.cuts):
            new = self.cuts[have:]
            starts = np.concatenate([[0], np.cumsum([len(k) for k, _, _ in new])])
            block = sparse.csr_matrix((np.concatenate([v for _, v, _ in new]), np.concatenate([k for k, _, _ in new]),
                                       starts), shape=(len(new), self.n))
            self._mat = block if self._mat is None else sparse.vstack([self._mat, block], format="csr")
            self._rhs = np.array([r for _, _, r in self.cuts])
        if self._mat is None:
            return np.zeros(0)
        return self._mat @ x

    def _repair(self, x: np.ndarray) -> np.ndarray | None:
        """The previous pattern made to satisfy every cut (greedily, most helpful row first): a starting
        incumbent for the solver.

        Cuts are visited in order and each violated one repaired at once, as a loop over the cuts would; only the
        cuts that one sparse product (updated as rows are added) finds violated, or within 1e-7 of it, are looked at
        one by one, with the test of the plain loop."""
        x = np.maximum(x.astype(float), self.lb)
        if not self.cuts:
            return x
        import heapq

        lhs = self._lhs(x)
        cols = self._mat.tocsc()
        near_at = self._rhs - 1e-9 + 1e-7          # a cut is looked at when its left-hand side is below this
        for _ in range(4):
            ok = True
            start = 0
            # the cuts from ``start`` on that are near now, smallest first: those near at the start of the pass, and
            # every cut a row added since made near (pushed then); one that is no longer near is passed over
            heap = np.flatnonzero(lhs < near_at).tolist()
            while heap:
                i = heapq.heappop(heap)
                if i < start or not lhs[i] < near_at[i]:
                    continue
                start = i + 1
                keys, v, rhs = self.cuts[i]
                for _ in range(len(keys)):
                    if float(v @ x[keys]) >= rhs - 1e-9:
                        break
                    ok = False
                    room = (v > 0) & (x[keys] < 1) & (self.ub[keys] > 0)
                    if not room.any():
                        return None
                    j = np.flatnonzero(room)[np.argmax(v[room] / np.maximum(self.cost[keys][room], 1e-9))]
                    x[keys[j]] = 1.0
                    col = keys[j]
                    touched = cols.indices[cols.indptr[col]:cols.indptr[col + 1]]
                    lhs[touched] += cols.data[cols.indptr[col]:cols.indptr[col + 1]]
                    for r in touched[(touched >= start) & (lhs[touched] < near_at[touched])].tolist():
                        heapq.heappush(heap, r)
            if ok:
                return x
        return None

    frozen = False
    work = 0                                   # simplex iterations of every solve so far (see MASTER_WORK)

    def tighten(self) -> bool:
        """Ask for the final gap from the next solve on; False when it was asked for already."""
        if self.tight:
            return False
        self.tight = True
        self.h.setOptionValue("mip_rel_gap", self.gap)
        return True

    def freeze(self, x: np.ndarray) -> None:
        """Keep the rows withheld in ``x`` withheld from now on."""
        keep = np.flatnonzero(np.asarray(x, dtype=bool))
        self.lb[keep] = 1.0
        self.h.changeColsBounds(len(keep), keep.astype(np.int32), np.ones(len(keep)), self.ub[keep].astype(float))
        self.frozen = True

    def solve(self) -> np.ndarray | None:
        self._flush()
        if self.last is not None:
            start = self._repair(self.last)
            if start is not None:
                sol = self.hs.HighsSolution()
                sol.col_value = start.tolist()
                sol.value_valid = True
                self.h.setSolution(sol)
        _audit.run_highs(self.h)
        st = self.h.getModelStatus()
        info = self.h.getInfo()
        self.work += max(int(info.simplex_iteration_count), 0)
        if info.primal_solution_status != 2:          # no feasible solution
            return None
        x = np.round(np.array(self.h.getSolution().col_value)) > 0.5
        self.pending_check = int((self._lhs(x.astype(float)) < self._rhs - 1e-6).sum()) if self.cuts else 0
        _log.debug("master status %s, %d cuts violated by its solution", self.h.modelStatusToString(st),
                   self.pending_check)
        self.last = x
        self.optimal = st == self.hs.HighsModelStatus.kOptimal
        return x


# tables larger than this (rows) keep the pattern found after LARGE_TABLE_BUDGET seconds and only add rows from
# there (national tables); smaller ones run to the least-cost pattern (at most optimal_rounds rounds), whatever the
# machine's load, so the same data give the same pattern
LARGE_TABLE = 2000
LARGE_TABLE_BUDGET = 40.0

# simplex iterations of the master problems (summed over the rounds) after which the pattern found so far is kept
# and later rounds only add rows, as after optimal_rounds: a count of work, not of seconds, so the same data give
# the same pattern however busy the machine. The hardest council tables measured need far less (a cohort of 800 at
# seed 11: 19,000 in 56 rounds); two linked periods of 3,000 children (seed 54) ran 218 rounds and 500 s of CPU
# before the round cap stopped them, the master taking 3-6 s a round by then (about 4,000 iterations each).
MASTER_WORK = 60_000

# rounds a published rounded count may fail the audit before its row is withheld outright
STALL_ROUNDS = 8


def _target_coefs(model, row: int, count: str) -> dict:
    return dict(model.counts(row))[count]


def period_parts(table: pd.DataFrame, linked_periods=()) -> list[np.ndarray]:
    """Row positions of the parts of ``table`` that can be protected apart: one per period, except periods
    declared to hold the same children (``linked_periods``: pairs of periods), which are one part together.

    Periods are separable: every sum an intruder can write (groups to "all", areas to the local authority, small
    areas to areas) and every equal count of two indicators is within one period, and two periods hold different
    children (a child in two periods' data is the validation error ``period_child_overlap``), so no count of one
    period bounds a count of another. The least-cost pattern of the whole table is then the least-cost pattern of
    each part, and each part's audit is the whole table's audit of that part."""
    if "period" not in table.columns:
        return [np.arange(len(table))]
    period = table["period"].astype(str).to_numpy()
    names = list(dict.fromkeys(period.tolist()))
    parent = {p: p for p in names}

    def root(p):
        while parent[p] != p:
            p = parent[p]
        return p

    for a, b in linked_periods or ():
        if str(a) in parent and str(b) in parent:
            parent[root(str(a))] = root(str(b))
    parts: dict[str, list[str]] = {}
    for p in names:
        parts.setdefault(root(p), []).append(p)
    return [np.flatnonzero(np.isin(period, ps)) for ps in parts.values()]


def protect(table: pd.DataFrame, framework, level: float = 0.95, max_rounds: int = 500, *, nesting=None,
            earlier=None, linked_periods=(), time_limit: float = 60.0, optimal_rounds: int = 200,
            time_budget: float | None = None) -> DisclosureResult:
    """Primary and secondary suppression, then rounding, as each indicator declares (see the module doc).

    ``table`` may hold several periods (the ``period`` column; every row keyed by period, indicator, geography
    and breakdown): the periods are protected apart (:func:`period_parts`: separable), except periods declared
    in ``linked_periods`` (pairs (later, earlier) of periods holding the same children, e.g. a cohort followed
    from one year to the next), which are protected in one problem with their cells related as the true counts
    show (equal, or one never smaller; :func:`measurekit.publish.ledger.link_periods`). The result is ONE
    audit of the whole table (every period's counts, the declared links); each row's comparator is the local
    authority's row of its own period.

    ``nesting`` (optional): small-area code -> area code, so small-area rows are audited as parts of
    their area. ``earlier``: earlier releases about the same children (:class:`measurekit.publish.ledger.Release`
    objects, or a :class:`~measurekit.publish.ledger.Ledger`), audited jointly with this one;
    their withheld cells stay protected. ``time_limit``: seconds per master solve. After
    ``optimal_rounds`` rounds (200; a cohort of 800 needed 33 rounds to its least-cost pattern at seed 2,
    where the former 30 stopped it short), or ``MASTER_WORK`` simplex iterations of the master problems, or
    ``time_budget`` seconds (default: 40 s for tables of more than
    ``LARGE_TABLE`` rows, none below, so a board table of a council's cohort gets the same pattern however busy
    the machine is; ``None`` keeps that default, ``inf`` never stops), the pattern found so far is
    kept and later rounds only add rows (the modular fallback: still audited to the same standard,
    but no longer guaranteed least-cost; ``DisclosureResult.optimal`` says which).
    """
    from measurekit.problems import InputError, ProblemReport

    t = table.reset_index(drop=True)
    parts = period_parts(t, linked_periods)
    if len(parts) > 1:
        results = [protect(t.iloc[rows], framework, level, max_rounds, nesting=nesting, earlier=earlier,
                           linked_periods=linked_periods, time_limit=time_limit, optimal_rounds=optimal_rounds,
                           time_budget=time_budget) for rows in parts]
        return _stack(t, parts, results, framework, nesting, linked_periods)
    n = len(t)
    if time_budget is None:
        time_budget = LARGE_TABLE_BUDGET if n > LARGE_TABLE else np.inf
    primary = primary_mask(t, framework)
    cost = suppression_cost(t, framework)
    rounding = _rounding(t, framework)
    model = _audit.build_model(t, framework, nesting=nesting)
    if linked_periods and "period" in t.columns and t["period"].nunique() > 1:
        from measurekit.publish import ledger as _ledger

        model = _ledger.link_periods(model, linked_periods)
    joint = None
    if earlier is not None:
        from measurekit.publish import ledger as _ledger

        joint = _ledger.joint_model(model, t, earlier, framework)
    m = joint.model if joint is not None else model
    N = m.table.shape[0]
    full_cost = np.concatenate([cost, np.zeros(N - n)])
    on = np.concatenate([primary, joint.old_suppressed if joint is not None else np.zeros(0, bool)])
    off = np.concatenate([np.zeros(n, bool), ~joint.old_suppressed if joint is not None else np.zeros(0, bool)])
    full_round = np.concatenate([rounding, joint.old_rounding if joint is not None else np.zeros(0)])
    G = len(m.groups)
    master = _Master(np.concatenate([full_cost, np.zeros(G)]), np.concatenate([on, np.zeros(G, bool)]),
                     np.concatenate([off, np.zeros(G, bool)]), time_limit)
    # a withheld row alone in a sum (or beside a row with the same counts) follows by subtraction: every sum
    # withholds none of its rows or at least two (y_g = 1 when sum g withholds any: 2 y_g <= sum_g x <= |g| y_g).
    # Indicators sharing only a denominator are no such group: that count is printed by the other row anyway.
    for k, g in enumerate(m.groups):
        members = {int(j): 1.0 for j in g}
        master.add({**members, N + k: -2.0}, 0.0)
        master.add({**{j: -1.0 for j in members}, N + k: float(len(members))}, 0.0)
    gen = _audit.CutGenerator(m, full_round)
    # every count any round can audit, asked at once whether the relations alone make it 0 (one linear programme;
    # each round's audit then finds its answers kept on the model: see CountModel.zero_by_relations)
    m.zero_by_relations([(r, kind, coefs) for r in range(N) for kind, coefs in m.counts(r)])
    rounds, result, prev_supp = 0, None, None
    audit_cache: dict = {}                # pieces of the intruder's problem already audited (see _audit.audit)
    evidence = _audit.Evidence(m.truth)   # whole-number solutions of earlier rounds' audits (see _audit.Evidence)
    failing: Counter = Counter()          # (row, count) -> rounds it has failed the audit
    hopeless: dict = {}                   # (row, count) of a withheld small row no pattern can widen enough
    last_failing: dict = {}               # (row, count) failing in the last audit
    started = _time.perf_counter()
    while True:
        _tm = _time.perf_counter()
        supp = master.solve()
        supp = None if supp is None else supp[:N]
        _log.debug("master solved in %.2f s", _time.perf_counter() - _tm)
        if supp is None:
            report = ProblemReport()
            report.add("disclosure_infeasible",
                       "no pattern of withheld rows protects this release"
                       + (" together with the earlier releases in the ledger (a cell they published is now small, or "
                          "a cell they withheld cannot be hidden again)" if joint is not None else "")
                       + _infeasible_detail(m.table, hopeless or last_failing), file="board_table.csv")
            raise InputError(report)
        rounds += 1
        _t0 = _time.perf_counter()
        prev: _audit.AuditResult | None = result if prev_supp is not None and not (prev_supp & ~supp).any() else None
        result = _audit.audit(m, supp, full_round, previous=prev, cache=audit_cache,
                               exact_failures=False, evidence=evidence)
        prev_supp = supp
        if result.passed and not master.frozen and master.tighten():
            continue                               # a probe passed: now find the pattern of least cost (1% gap)
        if result.passed:
            break
        if rounds >= max_rounds:
            raise RuntimeError("secondary suppression did not converge: " + "; ".join(result.problems[:5]))
        if (master.frozen or rounds == optimal_rounds or master.work > MASTER_WORK
                or _time.perf_counter() - started > time_budget):
            # from here on only add rows: monotone, so each audit reuses the last (before, only the rows withheld at
            # the first freeze were kept, later ones could be dropped again and every audit started afresh)
            master.freeze(supp[:master.n])
        _t1 = _time.perf_counter()
        comps = _audit.free_components(m, supp, full_round)
        bad = result.table[~result.table["passed"]]
        todo = list(zip(bad["row"].tolist(), bad["count"].tolist(), bad["required"].tolist(),
                        bad["published"].tolist()))
        failing.update((r, count) for r, count, _, _ in todo)
        last_failing = {(r, count): None for r, count, _, _ in todo}
        stuck = [r for r, count, _, pub in todo if pub and failing[(r, count)] > STALL_ROUNDS]
        if stuck:
            # a rounded count that is published keeps failing while the cuts change nothing the audit sees (this
            # cycled for hundreds of rounds with round_to: 5): withhold its row outright. Only published rounded
            # counts are handled so; every other failing count keeps its least-cost cuts.
            for r in stuck:
                master.add({int(r): 1.0}, 1.0)
            _log.debug("round %d: %d published rounded counts failing for more than %d rounds: their rows withheld",
                       rounds, len(stuck), STALL_ROUNDS)
            continue
        found = gen.cuts(supp, [_target_coefs(m, r, count) for r, count, _, _ in todo], comps)
        added = 0
        for (r, kind, need, pub), cut in zip(todo, found):
            cond = not on[r]                       # a secondary row needs protecting only when withheld
            if cut is not None:
                const, coef = cut
                if pub:                            # a rounded count given back: widen it, or withhold its row
                    coef = {**coef, r: coef.get(r, 0.0) + need}
                    rhs = need - const
                elif cond:
                    coef = {**coef, r: coef.get(r, 0.0) - need}
                    rhs = -const
                else:
                    rhs = need - const
                    if const + sum(a for j, a in coef.items() if a > 0) < need - 1e-6:
                        hopeless[(r, kind)] = None     # narrower than required whatever else is withheld
                rhs -= 1e-6
                now = sum(a for j, a in coef.items() if supp[j])
                if now < rhs:
                    master.add(coef, rhs)
                    added += 1
                    continue
            # the linear intruder cannot separate this (an integer effect): forbid this neighbourhood as it is
            inside, around = _audit.neighbourhood_of(m, supp, r, comps)
            coef = {int(j): 1.0 for j in around if j < n}
            if pub:
                coef[int(r)] = 1.0
            rhs = 1.0
            for j in inside:
                if j < n and not on[j]:
                    coef[int(j)] = coef.get(int(j), 0.0) - 1.0
                    rhs -= 1.0
            master.add(coef, rhs)
            added += 1
        _log.debug("round %d: %d withheld, %d failing counts, %d cuts added, audit %.2f s, cuts %.2f s (reused %s)",
                   rounds, int(supp.sum()), len(bad), added, _t1 - _t0, _time.perf_counter() - _t1, prev is not None)
        if not added:
            raise RuntimeError("secondary suppression cannot protect these rows: " + "; ".join(result.problems[:5]))
    supp = supp[:n]
    reasons = pd.Series(np.where(primary, "primary", np.where(supp, "secondary", "")), index=t.index, name="reason")
    why = pd.Series(_why(t, primary, supp), index=t.index, name="why")
    audit_result = result
    if joint is not None:
        audit_result = _audit.AuditResult(result.table[result.table["row"] < n].reset_index(drop=True), result.passed)
    labels = None if earlier is None else (joint.labels if joint is not None else [])
    return DisclosureResult(_publish(t, supp, rounding, level), reasons, audit_result, rounds, why,
                            float(cost[supp].sum()), not master.frozen and getattr(master, "optimal", True),
                            counts=t, nesting=nesting, earlier=labels)


def _infeasible_detail(table: pd.DataFrame, counts: dict) -> str:
    """The counts behind a release no pattern protects, in words: ``counts`` ((row, count) of ``table``) are those
    no withheld rows can hide well enough, else those failing the last audit before the search ran out."""
    if not counts:
        return ""
    said = []
    for r, count in list(counts)[:5]:
        row = table.iloc[int(r)]
        group = "" if row["breakdown"] == "all" else f", {row['breakdown']} {row['breakdown_value']}"
        period = f"{row['period']}, " if "period" in table.columns and str(row["period"]) not in ("", "nan") else ""
        said.append(f"the {count} of {row['indicator_id']} ({period}{row['geography_type']} "
                    f"{row['geography_code']}{group})")
    more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
    return ". The counts that cannot be hidden well enough: " + "; ".join(said) + more


def _stack(t: pd.DataFrame, parts: list[np.ndarray], results: list[DisclosureResult], framework, nesting,
           linked_periods) -> DisclosureResult:
    """One result for a table protected in separable parts: rows back in the table's order, and ONE audit of the
    whole table (every period's counts and the declared links) attacked with the whole pattern and rounding."""
    order = np.concatenate(parts)
    back = np.empty(len(order), dtype=int)
    back[order] = np.arange(len(order))

    def stacked(frames):
        return pd.concat(frames, ignore_index=True).iloc[back].reset_index(drop=True)

    table = stacked([r.table for r in results])
    supp = table["suppressed"].to_numpy(dtype=bool)
    model = _audit.build_model(t, framework, nesting=nesting)
    if linked_periods:
        from measurekit.publish import ledger as _ledger

        model = _ledger.link_periods(model, linked_periods)
    audit_result = _audit.audit(model, supp, _rounding(t, framework))
    if not audit_result.passed:          # separable parts that each passed: a failure here is a fault, not data
        raise RuntimeError("disclosure control: the periods protected apart fail the audit together: "
                           + "; ".join(audit_result.problems[:5]))
    labels = [x for r in results for x in (r.earlier or [])]
    return DisclosureResult(
        table, stacked([r.reasons.to_frame() for r in results])["reason"], audit_result,
        sum(r.rounds for r in results),
        stacked([(r.why if r.why is not None else pd.Series("", index=r.reasons.index, name="why")).to_frame()
                 for r in results])["why"],
        float(sum(r.cost for r in results)), all(r.optimal for r in results), counts=t, nesting=nesting,
        earlier=None if all(r.earlier is None for r in results) else list(dict.fromkeys(labels)))


def _why(t: pd.DataFrame, primary: np.ndarray, supp: np.ndarray) -> np.ndarray:
    """Per row, why it is withheld, in plain words (internal)."""
    headline = (t["breakdown"] == "all").to_numpy() & (t["geography_type"] != "small_area").to_numpy()
    out = np.full(len(t), "", dtype=object)
    out[primary] = "a count in the suppression range (or 0%/100% of a small group)"
    sec = supp & ~primary
    out[sec & ~headline] = "withheld to protect a small count in a related row"
    out[sec & headline] = ("headline row withheld because no pattern of breakdown rows protects the small counts "
                           "in this table (the least costly protection found by the optimiser)")
    return out


def apply_disclosure_control(table: pd.DataFrame, framework, level: float = 0.95, *, nesting=None,
                             earlier=None) -> pd.DataFrame:
    """Suppress (primary and secondary) and round as each indicator declares; returns the public table.
    ``nesting`` and ``earlier`` as for :func:`protect`."""
    return protect(table, framework, level, nesting=nesting, earlier=earlier).table


def _publish(t: pd.DataFrame, supp: np.ndarray, rounding: np.ndarray, level: float) -> pd.DataFrame:
    """The public table: suppressed rows blank with symbol c; rounding; flags from published values.

    With rounding, a proportion's numerator and denominator are each rounded to the nearest base
    (so each lies within half the base of the truth, as documented); its percentage and interval are
    computed from the rounded counts; a mean's number of children is rounded and its sum of scores
    is not published (with the mean it would give the number back). The ``u`` flag (fewer than 30
    children) and the significance flags of rounded rows are computed from the published values
    only: ``u`` from the published denominator, significance of a proportion from its published
    counts against the published local-authority value, of a mean from its published interval.
    """
    from measurekit.core.thresholds import LOW_RELIABILITY_N
    from measurekit.stats import intervals

    out = t.copy()
    is_prop = (out["ci_method"] == "wilson").to_numpy()
    has_r = ~np.isnan(rounding) & (np.nan_to_num(rounding) > 1) & ~supp
    if has_r.any():
        b = np.where(has_r, rounding, 1.0)
        num, den = out["numerator"].to_numpy(dtype=float), out["denominator"].to_numpy(dtype=float)
        rden = np.where(has_r, np.round(den / b) * b, den)
        rnum = np.where(has_r & is_prop, np.round(num / b) * b, np.where(has_r, np.nan, num))
        with np.errstate(invalid="ignore", divide="ignore"):
            lo, hi = intervals.wilson(rnum, rden, level)
            pv = 100 * rnum / rden
        p = has_r & is_prop
        out["numerator"], out["denominator"] = rnum, rden
        out.loc[p, "value"] = pv[p]
        out.loc[p, "ci_low"] = (np.asarray(lo) * 100)[p]
        out.loc[p, "ci_high"] = (np.asarray(hi) * 100)[p]
        few = has_r & (rden > 0) & (rden < LOW_RELIABILITY_N)
        enough = has_r & (rden >= LOW_RELIABILITY_N) & (out["symbol"] == "u").to_numpy()
        out.loc[few, "symbol"] = "u"
        out.loc[few, "note"] = f"fewer than {LOW_RELIABILITY_N} children: low reliability"
        out.loc[enough, ["symbol", "note"]] = ""
    out.loc[supp, NUMBERS] = np.nan
    out.loc[supp, ["significance_95", "significance_998"]] = ""
    out["suppressed"] = supp
    out.loc[supp, "symbol"] = "c"
    out.loc[supp, "note"] = ""
    # the comparator is the published local-authority value: blank when that row is suppressed
    cols = (["period"] if "period" in out.columns else []) + ["indicator_id", "breakdown", "breakdown_value"]
    la = out[out["geography_type"] == "la"].set_index(cols)["value"]           # the LA row of the row's period
    key = pd.MultiIndex.from_frame(out[cols])
    out["comparator"] = la.reindex(key).to_numpy()
    if has_r.any():
        _published_significance(out, has_r & (out["geography_type"] != "la").to_numpy(), is_prop)
    no_comp = out["comparator"].isna().to_numpy()
    out.loc[no_comp, ["significance_95", "significance_998"]] = ""
    return out


def _published_significance(out: pd.DataFrame, rows: np.ndarray, is_prop: np.ndarray) -> None:
    """Significance flags of ``rows`` recomputed from published numbers only (in place): proportions
    by funnel limits around the published comparator with the published denominator; means by
    whether the published interval lies wholly above or below the comparator (99.8%: the interval
    widened by the ratio of the normal quantiles)."""
    from measurekit.stats import intervals

    comp = out["comparator"].to_numpy(dtype=float)
    den = out["denominator"].to_numpy(dtype=float)
    v = out["value"].to_numpy(dtype=float)
    lo_ci, hi_ci = out["ci_low"].to_numpy(dtype=float), out["ci_high"].to_numpy(dtype=float)
    for lvl, col in ((0.95, "significance_95"), (0.998, "significance_998")):
        with np.errstate(invalid="ignore", divide="ignore"):
            lo_f, hi_f = intervals.funnel_limits_proportion(comp / 100, den, lvl)
            widen = {0.95: 1.0, 0.998: 3.0902 / 1.96}[lvl]
            mid, half = (lo_ci + hi_ci) / 2, (hi_ci - lo_ci) / 2 * widen
        sig_p = np.where(v > hi_f * 100, "higher", np.where(v < lo_f * 100, "lower", "similar"))
        sig_m = np.where(mid - half > comp, "higher", np.where(mid + half < comp, "lower", "similar"))
        sig = np.where(is_prop, sig_p, sig_m)
        sig = np.where(np.isnan(v) | np.isnan(comp), "", sig)
        cur = out[col].to_numpy(dtype=object).copy()
        cur[rows] = sig[rows]
        out[col] = cur
