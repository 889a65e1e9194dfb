"""The intruder's view of a board table: what can be worked out about every suppressed count.

An intruder who has the published board table knows, besides the numbers printed in it:

* sums: the breakdown values of one geography add up to its "all" row, and the neighbourhoods add
  up to the local authority, for numerators and denominators alike (an equality when the groups
  cover everyone, otherwise "at most");
* bounds: every count is a whole number >= 0 and a numerator is at most its denominator, so the
  complement (denominator - numerator, the children *without* the outcome) is >= 0 as well;
* zeros: a published 0 is a number like any other and pins every cell of a sum it is in;
* relations between indicators: indicators about the same group of children have the same
  denominator for the same cell (GLD and voice coverage both count the whole cohort), and a
  voice indicator's denominator is at most the number of families who answered (the coverage
  numerator); such relations are found from the definitions and the data (equal, or never
  larger, in every cell the indicators share) and are all given to the intruder;
* rounding: a count published rounded to the nearest 5 lies within 2 of it, and neither it nor
  its rounded value is a small count (else it would have been suppressed);
* the rule itself: a published count is not in the suppression range.

:func:`build_model` turns an (unsuppressed) board table into that system of linear
constraints, one integer unknown per count. :func:`audit` then takes a suppression pattern and,
for every suppressed numerator, denominator and complement, computes the interval of values the
intruder cannot rule out, by linear programming with the HiGHS solver (``scipy.optimize.linprog``)
and, when the linear optimum is not a whole number, integer programming (``scipy.optimize.milp``),
so the bounds are those of the integer problem the intruder would solve. The problem is split
into independent pieces (connected components of unknowns), and feasible whole-number solutions
already found are used as evidence that an interval is wide, so most bounds need no solve; an end such a
solution attains at the unknowns' own bounds, or at the linear optimum rounded in, is the exact end itself.

A suppressed count fails the audit when the intruder can pin it exactly, or, for a count in the
suppression range (by default 1-5), when its interval holds fewer whole values than the range does
(:func:`required_width`: the upper end less than ``suppress_max - suppress_min`` above the lower, 4 by
default, so 3-7 passes and 3-6 fails): the intruder could then tell a small count more precisely than
the rule allows. (Counts of 0 and counts above the range need only not be pinned, as tau-Argus and
sdcTable require protection intervals of the sensitive cells only. A count that is 0 in every table the
relations allow, whatever is withheld, is known to every reader and is no target:
:meth:`CountModel.zero_by_relations`.) A withheld row's denominator that
is printed in the clear in another row of the same cell (:meth:`CountModel.printed_elsewhere`: the
number of children, which every indicator about the whole cohort prints) is published, not withheld,
and is not a target; the row's numerator and complement are. This
matches the "attacker problem" of sdcTable's ``attack()`` and tau-Argus's
audit (Hundepool et al. 2012, *Statistical Disclosure Control*, chapter 4.3), with whole-number
unknowns and the links between indicators added.
"""
from __future__ import annotations

import dataclasses
import importlib.util
from typing import Any

import numpy as np
import pandas as pd

from measurekit.core.result import Result

KEY = ["period", "geography_type", "geography_code", "breakdown", "breakdown_value"]


@dataclasses.dataclass
class CountModel:
    """The linear system an intruder can write down for one board table.

    ``den_var[i]``/``num_var[i]``: index of row i's denominator / numerator unknown (-1: none; means
    have no count numerator). ``A`` (sparse, constraints x unknowns) with ``sense`` ('=' or '<') and
    right-hand side 0. ``groups``: row sets tied by an equality (a sum with its total, or two
    indicators with equal counts), used by secondary suppression. ``truth``: the true counts.
    ``smin``/``smax``: the suppression range of each row's indicator. ``same_count`` (pairs of unknowns):
    counts that are one and the same count of children (indicators about the same children, the same cell),
    so printing one prints the other.
    """

    table: pd.DataFrame
    den_var: np.ndarray
    num_var: np.ndarray
    var_row: np.ndarray
    truth: np.ndarray
    A: Any
    sense: np.ndarray
    groups: list
    smin: np.ndarray
    smax: np.ndarray
    is_prop: np.ndarray
    same_count: np.ndarray | None = None
    _zero: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)
    _labels: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)
    _classes: np.ndarray | None = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def labels(self, col: str) -> np.ndarray:
        """Column ``col`` of the table as a plain array, read once (the audit's records name each row's cell)."""
        if col not in self._labels:
            self._labels[col] = self.table[col].to_numpy()
        return self._labels[col]

    def counts(self, row: int) -> list[tuple[str, dict]]:
        """The counts of ``row`` an intruder bounds, each with its coefficients over the unknowns: the denominator,
        and for a proportion the numerator and the complement (denominator - numerator)."""
        d, m = self.den_var[row], self.num_var[row]
        if m < 0:
            return [("denominator", {d: 1.0})]
        return [("denominator", {d: 1.0}), ("numerator", {m: 1.0}), ("complement", {d: 1.0, m: -1.0})]

    def zero_by_relations(self, targets) -> set:
        """The ``(row, count)`` of ``targets`` (``(row, count, coefficients over unknowns)``) that are 0 in every
        table the relations allow, whatever is published or withheld.

        The relations (sums, equal or never larger counts, numerator <= denominator, every count >= 0) have
        right-hand side 0, so the counts they allow form a cone: a count is 0 in all of them or can be made as
        large as one likes. Such a count is known to anyone who reads the relations (e.g. the children without a
        coverage indicator's outcome, when the relations say the families who answered are as many as the
        children: everyone answered), so no pattern of withheld rows can hide it, and it is no small count.

        One linear programme for all candidates (each true count 0; a count that is 0 by the relations is 0 in
        truth): maximise the sum of ``s_k`` in [0, 1] with ``s_k`` at most candidate k, over the cone. The sum of
        two points of the cone is in it and every candidate is >= 0 there, so one optimum has ``s_k = 1`` for
        every candidate that can be positive and 0 for the others. Kept on the model per candidate."""
        truth = self.truth
        todo, known = [], set()
        for row, count, coefs in targets:
            key = (int(row), count)
            if key in self._zero:
                if self._zero[key]:
                    known.add(key)
                continue
            if abs(sum(a * truth[v] for v, a in coefs.items())) > 1e-9:
                self._zero[key] = False
            else:
                todo.append((key, coefs))
        if not todo:
            return known
        from scipy import sparse
        from scipy.optimize import linprog

        nv, k = self.n_vars, len(todo)
        cone = sparse.hstack([self.A, sparse.csr_matrix((self.A.shape[0], k))])
        r, c, v = [], [], []
        for i, (_, coefs) in enumerate(todo):          # s_i - candidate_i(x) <= 0
            r += [i] * (len(coefs) + 1)
            c += [nv + i] + list(coefs)
            v += [1.0] + [-a for a in coefs.values()]
        link = sparse.csr_matrix((v, (r, c)), shape=(k, nv + k))
        eq = self.sense == "="
        res = linprog(np.concatenate([np.zeros(nv), -np.ones(k)]),
                      A_ub=sparse.vstack([cone[~eq], link]).tocsr(), b_ub=np.zeros(int((~eq).sum()) + k),
                      A_eq=cone[eq] if eq.any() else None, b_eq=np.zeros(int(eq.sum())) if eq.any() else None,
                      bounds=[(0, None)] * nv + [(0, 1)] * k, method="highs")
        if res.status != 0:            # not expected (x = 0 is feasible, the objective is bounded): none is known
            return known
        for i, (key, _) in enumerate(todo):
            self._zero[key] = bool(res.x[nv + i] < 0.5)
            if self._zero[key]:
                known.add(key)
        return known

    def printed_elsewhere(self, suppressed: np.ndarray, round_to=None) -> np.ndarray:
        """Per unknown: True when the same count of children is printed exactly in a row that is not withheld
        (``same_count``: the pairs of unknowns that are one count by definition, such as the denominators of two
        indicators about the same children in the same cell). Such a count is published, whatever symbol a
        withheld row beside it shows."""
        out = np.zeros(self.n_vars, dtype=bool)
        if self.same_count is None or not len(self.same_count):
            return out
        if self._classes is None:                           # the classes of one count: fixed by the model, found once
            from scipy import sparse
            from scipy.sparse.csgraph import connected_components

            p, q = self.same_count[:, 0], self.same_count[:, 1]
            g = sparse.coo_matrix((np.ones(len(p)), (p, q)), shape=(self.n_vars, self.n_vars))
            self._classes = connected_components(g, directed=False)[1]
        label = self._classes
        rows = self.var_row
        shown = ~np.asarray(suppressed, dtype=bool)[rows]
        if round_to is not None:
            base = np.asarray(round_to, dtype=float)[rows]
            shown &= np.isnan(base) | (base <= 1)                 # a rounded count is not printed exactly
        printed = np.zeros(label.max() + 1, dtype=bool)
        printed[label[shown]] = True
        return printed[label]

    @property
    def n_vars(self) -> int:
        return len(self.var_row)


def all_or_none(table: pd.DataFrame, framework) -> np.ndarray:
    """True for proportion rows of 0% or 100% in a group smaller than the indicator's ``all_or_none_below``
    (group disclosure: the row would tell every child's outcome); False where the rule is not set."""
    limits = {ind.id: ind.disclosure.all_or_none_below for ind in framework.indicators
              if ind.value_type == "proportion" and ind.disclosure.all_or_none_below}
    if not limits:
        return np.zeros(len(table), dtype=bool)
    limit = table["indicator_id"].map(limits).to_numpy(dtype=float)     # NaN: rule not set
    num, den = table["numerator"].to_numpy(dtype=float), table["denominator"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return (den > 0) & (den < limit) & ((num == 0) | (num == den))


def required_width(suppress_min: float, suppress_max: float) -> float:
    """How far apart the ends of the intruder's interval for a withheld count in the suppression range
    must be: ``suppress_max - suppress_min`` (at least 1), so the interval holds at least as many whole
    values as the range does (1 to 5: 5 values, e.g. 3-7). The guarantee as documented ("nobody can narrow
    a withheld small count to fewer possible values than the suppression range holds"); a withheld count
    outside the range (0, or above it) needs a width of 1 (two values: not pinned)."""
    return max(float(suppress_max) - float(suppress_min), 1.0)


def _indicator_rules(framework) -> dict:
    return {ind.id: ind for ind in framework.indicators}


def _sorted_groups(keys: pd.DataFrame) -> list[np.ndarray]:
    """Row positions of each distinct key, groups in order of first appearance and rows in table order
    (as ``groupby(sort=False)`` iterates them), from integer codes instead of per-group frames."""
    keys = keys[keys.notna().all(axis=1).to_numpy()]       # groupby leaves out rows with a missing key
    if not len(keys):
        return []
    codes = np.zeros(len(keys), dtype=np.int64)
    for c in keys.columns:
        k, uniq = pd.factorize(keys[c], sort=False, use_na_sentinel=False)
        codes = codes * (len(uniq) + 1) + k
    group, _ = pd.factorize(codes, sort=False)            # numbered by first appearance
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    return np.split(keys.index.to_numpy()[order], bounds)


def _rows(frame: pd.DataFrame, cols: list[str]) -> list[tuple]:
    """The rows of ``cols`` as tuples (as ``itertuples``), read column-wise from plain object arrays."""
    return list(zip(*(frame[c].to_numpy(dtype=object) for c in cols)))


def _close(a: float, b: float) -> bool:
    """``np.isclose`` for two numbers (same tolerances), without the array call per pair."""
    return abs(a - b) <= 1e-8 + 1e-5 * abs(b)


def build_model(table: pd.DataFrame, framework, nesting: dict | None = None) -> CountModel:
    """The intruder's constraint system for ``table`` (the board table before suppression).

    ``nesting``: small-area code -> area code (the public lookup), so small-area rows add up to their
    area's row. Required when the table has small-area rows: they are audited, never left out.
    """
    from scipy import sparse

    t = table.reset_index(drop=True)
    rules = _indicator_rules(framework)
    ind = t["indicator_id"].to_numpy()
    is_prop = np.array([rules[i].value_type == "proportion" for i in ind])
    n = len(t)
    den_var = np.arange(n)
    num_var = np.full(n, -1)
    num_var[is_prop] = n + np.arange(is_prop.sum())
    var_row = np.concatenate([np.arange(n), np.flatnonzero(is_prop)])
    den = t["denominator"].to_numpy(dtype=float)
    num = t["numerator"].to_numpy(dtype=float)
    truth = np.concatenate([den, num[is_prop]])
    smin = np.array([rules[i].disclosure.suppress_min for i in ind], dtype=float)
    smax = np.array([rules[i].disclosure.suppress_max for i in ind], dtype=float)
    truth_l, den_l = truth.tolist(), den.tolist()
    den_vl, num_vl = den_var.tolist(), num_var.tolist()

    rows_i, cols_i, vals_i = [], [], []
    sense: list[str] = []
    groups = []

    def add(vars_, coefs, s):
        rows_i.extend([len(sense)] * len(vars_))
        cols_i.extend(vars_)
        vals_i.extend(coefs)
        sense.append(s)

    def add_sum(total: int, members: np.ndarray):
        """members add up to total (numerators and denominators); '=' when true, else '<='."""
        ms = members.tolist()
        for var in (den_vl, num_vl):
            if var[total] < 0:
                continue
            vs = [var[m] for m in ms]
            exact = _close(float(np.sum(truth[vs])), truth_l[var[total]])
            add(vs + [var[total]], [1.0] * len(vs) + [-1.0], "=" if exact else "<")
        if _close(float(np.sum(den[members])), den_l[total]):
            groups.append(np.concatenate([[total], members]))

    # 1. breakdown values of one geography add up to its "all" row
    is_all = (t["breakdown"] == "all").to_numpy()
    totals = dict(zip(_rows(t.loc[is_all], ["indicator_id", "period", "geography_type", "geography_code"]),
                      np.flatnonzero(is_all).tolist()))
    cols = ["indicator_id", "period", "geography_type", "geography_code", "breakdown"]
    key_of = _rows(t, cols[:4])
    for members in _sorted_groups(t.loc[~is_all, cols]):
        total = totals.get(key_of[members[0]])
        if total is not None:
            add_sum(total, members)
    # 2. neighbourhoods add up to the local authority (same indicator, breakdown and value)
    la = t["geography_type"] == "la"
    cols = ["indicator_id", "period", "breakdown", "breakdown_value"]
    la_rows = dict(zip(_rows(t.loc[la], cols), np.flatnonzero(la.to_numpy()).tolist()))
    key_of = _rows(t, cols)
    for members in _sorted_groups(t.loc[t["geography_type"] == "neighbourhood", cols]):
        total = la_rows.get(key_of[members[0]])
        if total is not None:
            add_sum(total, members)
    # 2b. small areas add up to their area (the lookup from small area to area is public)
    is_sa = (t["geography_type"] == "small_area").to_numpy()
    if is_sa.any():
        if nesting is None:
            from measurekit.problems import InputError, ProblemReport

            report = ProblemReport()
            report.add("small_areas_without_lookup", "the table has small-area rows but no lookup from small area "
                       "to area was given, so their sums to the areas cannot be audited",
                       column="geography_code", value=str(t.loc[is_sa, "geography_code"].iloc[0]))
            raise InputError(report)
        parent = t["geography_code"].where(~pd.Series(is_sa), t["geography_code"].map(nesting))
        area = t["geography_type"] == "neighbourhood"
        cols = ["indicator_id", "period", "geography_code", "breakdown", "breakdown_value"]
        area_rows = dict(zip(_rows(t.loc[area], cols), np.flatnonzero(area.to_numpy()).tolist()))
        key_of = _rows(t.assign(geography_code=parent), cols)
        sa = t.loc[is_sa, cols].assign(geography_code=parent[is_sa])
        for members in _sorted_groups(sa):
            total = area_rows.get(key_of[members[0]])
            if total is not None:
                add_sum(total, members)
    # 2c. breakdowns derived from one another (declared in the framework): one group equals a union of others
    for rel in getattr(framework, "breakdown_relations", None) or ():
        lhs = (t["breakdown"] == rel.breakdown) & (t["breakdown_value"].astype(str) == str(rel.value))
        rhs = ((t["breakdown"] == rel.equals_breakdown)
               & t["breakdown_value"].astype(str).isin([str(v) for v in rel.equals_values]))
        cols = ["indicator_id", "period", "geography_type", "geography_code"]
        lhs_rows = dict(zip(_rows(t.loc[lhs], cols), np.flatnonzero(lhs.to_numpy()).tolist()))
        key_of = _rows(t, cols)
        for members in _sorted_groups(t.loc[rhs, cols]):
            total = lhs_rows.get(key_of[members[0]])
            if total is not None:
                add_sum(total, members)
    # 3. numerator <= denominator
    for i in np.flatnonzero(is_prop).tolist():
        add([num_vl[i], den_vl[i]], [1.0, -1.0], "<")
    # 4. counts of the same (or a nested) group of children in different indicators:
    #    every denominator, and the numerator of a coverage indicator (children whose family answered)
    pops = []
    for iid, rule in rules.items():
        mask = ind == iid
        if not mask.any():
            continue
        pops.append((iid, "denominator", mask, den_var))
        if (rule.value_type == "proportion" and rule.compute.field == "responded"
                and rule.compute.statistic == "proportion"):
            pops.append((iid, "numerator", mask, num_var))
    same: list[tuple[int, int]] = []
    text = t[KEY].astype(str)
    # pandas-stubs gap: str.cat takes a list of Series (documented), the stub lists only list[str]
    keyed = text[KEY[0]].str.cat([text[c] for c in KEY[1:]], sep="\x1f").to_numpy(dtype=object)  # type: ignore[misc]
    def add_pairs(xa: np.ndarray, xb: np.ndarray, s: str):
        """x_p - x_q (s) 0 for each pair, in order (as ``add`` one pair at a time)."""
        k, first = len(xa), len(sense)
        rows_i.extend(np.repeat(np.arange(first, first + k), 2).tolist())
        cols_i.extend(np.column_stack([xa, xb]).ravel().tolist())
        vals_i.extend([1.0, -1.0] * k)
        sense.extend([s] * k)

    # each cell as a number; per population, its rows (table order) and the row of each cell. A cell shared by two
    # populations is found by one lookup: the first population's cells in its row order, as an intersection of
    # their keys would list them (keys are unique within a population: one row per indicator and cell)
    code, uniq = pd.factorize(keyed)
    rows_of, row_at = [], []
    for _, _, mask, _ in pops:
        rows = np.flatnonzero(mask)
        at = np.full(len(uniq), -1)
        at[code[rows]] = rows
        rows_of.append(rows)
        row_at.append(at)
    unique_cells = all(len(np.unique(code[rows])) == len(rows) for rows in rows_of)
    for a in range(len(pops)):
        for b in range(len(pops)):
            ia, _, ma, va = pops[a]
            ib, _, mb, vb = pops[b]
            if ia == ib:
                continue
            if unique_cells:
                match = row_at[b][code[rows_of[a]]]
                found = match >= 0
                if not found.any():
                    continue
                xa, xb = va[rows_of[a][found]], vb[match[found]]
            else:
                ra = pd.Series(np.flatnonzero(ma), index=keyed[ma])
                rb = pd.Series(np.flatnonzero(mb), index=keyed[mb])
                shared = ra.index.intersection(rb.index)
                if not len(shared):
                    continue
                xa, xb = va[ra[shared].to_numpy()], vb[rb[shared].to_numpy()]
            ua, ub = truth[xa], truth[xb]
            if np.allclose(ua, ub):
                if a < b:
                    add_pairs(xa, xb, "=")
                    same.extend(zip(xa.tolist(), xb.tolist()))
            elif (ua <= ub + 1e-9).all():
                add_pairs(xa, xb, "<")
    A = sparse.csr_matrix((vals_i, (rows_i, cols_i)), shape=(len(sense), len(var_row)))
    return CountModel(t, den_var, num_var, var_row, truth, A, np.array(sense), groups, smin, smax, is_prop,
                      np.array(same, dtype=np.int64).reshape(-1, 2))


def published_bounds(model: CountModel, suppressed: np.ndarray, round_to: np.ndarray | None = None):
    """Lower and upper bound of every unknown as the intruder reads them off the publication.

    ``round_to``: per row, the rounding base (NaN: not rounded). Published unrounded counts are
    fixed; rounded ones lie within half the base, minus the suppressed range; suppressed ones >= 0.
    """
    v = model.truth
    rows = model.var_row
    supp = suppressed[rows]
    lo = np.where(supp, 0.0, v)
    hi = np.where(supp, np.inf, v)
    if round_to is not None:
        base = np.asarray(round_to, dtype=float)[rows]
        rounded = ~supp & ~np.isnan(base) & (base > 1)
        for k in np.flatnonzero(rounded):
            b = base[k]
            r = np.round(v[k] / b) * b
            half = np.floor(b / 2)
            cand = np.arange(max(r - half, 0), r + half + 1)
            sm, sx = model.smin[rows[k]], model.smax[rows[k]]
            rc = np.round(cand / b) * b
            # a published count was not suppressed: neither it nor its rounded value is small
            cand = cand[(np.abs(rc - r) < 1e-9)
                        & ((cand == 0) | (((cand < sm) | (cand > sx)) & ((rc < sm) | (rc > sx))))]
            lo[k], hi[k] = (cand.min(), cand.max()) if len(cand) else (r, r)
    return lo, hi


@dataclasses.dataclass
class AuditResult(Result):
    """What an intruder can work out about each suppressed count.

    ``table``: one row per suppressed count, with columns ``row`` (row of the board table),
    indicator_id, geography_type, geography_code, breakdown, breakdown_value, ``count``
    (numerator | denominator | complement, the children without the outcome), ``low`` and
    ``high`` (values the intruder cannot rule out: when ``solved`` they are the intruder's exact
    bounds, otherwise two feasible values, so the true interval is at least this wide),
    ``required`` (how far apart ``low`` and ``high`` must be: ``suppress_max - suppress_min`` for a
    count in the suppression range, so the interval holds as many values as the range, else 1), ``passed``;
    ``published`` is True for a published rounded count
    (the intruder must not be able to un-round it), False for a withheld one. ``table`` is internal: it holds no
    true values but lists which rows were suppressed. Matches sdcTable's ``attack()`` output (low, up,
    protected).
    """

    table: pd.DataFrame
    passed: bool
    _title = "Disclosure audit: what an intruder can derive about suppressed counts"

    @property
    def problems(self) -> list[str]:
        bad = self.table[~self.table["passed"]]
        return [f"row {r.row}: {'rounded' if r.published else 'suppressed'} {r.count} can be narrowed to "
                f"{r.low:g}-{r.high:g} "
                f"({r.indicator_id}, {r.geography_type} {r.geography_code}, {r.breakdown}={r.breakdown_value})"
                for r in bad.itertuples()]


def new_highs(**options):
    """A silent HiGHS solver (``highspy``) on one thread, with ``options`` set.

    One thread: the solves here are small (a few hundred columns) and HiGHS's default worker threads cost CPU time
    without shortening them (the master problems of the bundled cohort's secondary suppression took a third less CPU
    time on one thread, with the same solutions). Every solver made here uses the same count, as HiGHS's scheduler
    is shared by the process (see :func:`run_highs`)."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    for key, value in options.items():
        h.setOptionValue(key, value)
    return h


def run_highs(h):
    """``h.run()``; when HiGHS's process-wide scheduler was started with another thread count (by code outside this
    module), HiGHS refuses to run: the scheduler is then restarted for this solver's count and the solve repeated."""
    import highspy

    status = h.run()
    if status == highspy.HighsStatus.kError and h.getModelStatus() == highspy.HighsModelStatus.kNotset:
        highspy.Highs.resetGlobalScheduler(True)
        status = h.run()
    return status


def _highs_model(A, col_lo, col_hi, row_lo, row_hi, **options):
    """A silent HiGHS solver holding the linear programme ``col_lo <= x <= col_hi``, ``row_lo <= A x <= row_hi``
    (``A`` in CSC form; infinite bounds as HiGHS's infinity) with a zero objective, for repeated solves in which
    only the objective changes. Returns ``(solver, highspy)``; needs highspy.

    Between bounds only the objective changes, so the last optimal basis stays primal feasible and the primal
    simplex continues from it (the dual simplex, HiGHS's default, took twice as long here); no presolve."""
    import highspy

    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
    lp.col_cost_ = np.zeros(A.shape[1])
    lp.col_lower_ = np.asarray(col_lo, dtype=float)
    lp.col_upper_ = np.where(np.isinf(col_hi), inf, col_hi).astype(float)
    lp.row_lower_ = np.where(np.isinf(row_lo), -inf, row_lo).astype(float)
    lp.row_upper_ = np.asarray(row_hi, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    h = new_highs(presolve="off", simplex_strategy=4, **options)
    h.passModel(lp)
    return h, highspy


def _integral(x, tol=1e-6) -> bool:
    if x is None:
        return False
    return not len(x) or bool(np.abs(x - np.rint(x)).max() < tol)


#: options of the audit's linear programmes (only their optima count there, never which vertex or dual): without the
#: primal simplex's bound perturbation a warm-started solve takes fewer iterations and skips the clean-up after it
_AUDIT_LP = {"primal_simplex_bound_perturbation_multiplier": 0.0}


class _Component:
    """One independent piece of the intruder's problem: free unknowns and the constraints among them.

    Solved with HiGHS. When the ``highspy`` package (HiGHS's own Python interface) is installed the
    model is passed to the solver once and only the objective changes between solves, so each
    bound is a warm-started primal simplex from the previous basis; otherwise each bound is a fresh
    ``scipy.optimize.linprog(method="highs")``. Integer optima use ``scipy.optimize.milp`` (HiGHS).
    """

    def __init__(self, A_eq, b_eq, A_ub, b_ub, lo, hi):
        self.A_eq, self.b_eq, self.A_ub, self.b_ub = A_eq, b_eq, A_ub, b_ub
        self.lo, self.hi = lo, hi
        self.n = len(lo)
        self._points = np.zeros((16, self.n))   # feasible whole-number solutions as rows, grown by doubling
        self._count = 0
        self._h = None
        if importlib.util.find_spec("highspy") is None:
            return
        from scipy import sparse

        parts = [m for m in (A_eq, A_ub) if m is not None]
        A = sparse.vstack(parts).tocsc() if parts else sparse.csc_matrix((0, self.n))
        rl = np.concatenate([b for b in (b_eq, np.full(0 if A_ub is None else A_ub.shape[0], -np.inf))
                             if b is not None])
        ru = np.concatenate([b for b in (b_eq, b_ub) if b is not None]) if parts else np.zeros(0)
        self._h, self._hs = _highs_model(A, lo, hi, rl, ru, **_AUDIT_LP)
        self._idx = np.arange(self.n, dtype=np.int32)

    def _lp(self, c, maximise, bounds=None):
        """(status, x): status 'optimal', 'unbounded' or a message."""
        if self._h is not None:
            h, hs = self._h, self._hs
            if bounds is not None:
                h.changeColsBounds(self.n, self._idx, bounds[0].astype(float),
                                   np.where(np.isinf(bounds[1]), hs.kHighsInf, bounds[1]).astype(float))
            h.changeColsCost(self.n, self._idx, np.asarray(c, dtype=float))
            h.changeObjectiveSense(hs.ObjSense.kMaximize if maximise else hs.ObjSense.kMinimize)
            run_highs(h)
            st = h.getModelStatus()
            x = np.array(h.getSolution().col_value) if st == hs.HighsModelStatus.kOptimal else None
            if bounds is not None:
                h.changeColsBounds(self.n, self._idx, np.asarray(self.lo, dtype=float),
                                   np.where(np.isinf(self.hi), hs.kHighsInf, self.hi).astype(float))
            if st == hs.HighsModelStatus.kOptimal:
                return "optimal", x
            if st in (hs.HighsModelStatus.kUnbounded, hs.HighsModelStatus.kUnboundedOrInfeasible):
                return "unbounded", None
            return h.modelStatusToString(st), None
        from scipy.optimize import linprog

        lo, hi = bounds if bounds is not None else (self.lo, self.hi)
        res = linprog(-c if maximise else c, A_ub=self.A_ub, b_ub=self.b_ub, A_eq=self.A_eq, b_eq=self.b_eq,
                      bounds=np.column_stack([lo, hi]), method="highs")
        return (("optimal", res.x) if res.status == 0 else ("unbounded", None) if res.status == 3
                else (res.message, None))

    def keep(self, x: np.ndarray) -> None:
        """Remember a feasible whole-number solution (evidence that intervals are at least this wide)."""
        if self._count == len(self._points):
            self._points = np.vstack([self._points, np.zeros_like(self._points)])
        self._points[self._count] = x
        self._count += 1

    def values(self, c: np.ndarray) -> np.ndarray:
        """c.x at every feasible whole-number solution kept so far."""
        nz = np.flatnonzero(c)              # a count is one unknown or a difference of two
        P = self._points[:self._count]
        if len(nz) == 1:                    # whole numbers: the same values as the product, exactly
            return P[:, nz[0]] * c[nz[0]]
        if len(nz) == 2:
            return P[:, nz[0]] * c[nz[0]] + P[:, nz[1]] * c[nz[1]]
        return P[:, nz] @ c[nz]

    def point(self, c: np.ndarray, maximise: bool, box) -> None:
        """Add the optimum of c.x within ``box`` (a feasible solution of the real problem) if whole."""
        st, x = self._lp(c, maximise, box)
        if st == "optimal" and _integral(x):
            self.keep(np.round(x))

    def _at_box(self, c: np.ndarray, maximise: bool) -> float | None:
        """The end of c.x the unknowns' own bounds allow (every solution lies within it), when a kept whole-number
        solution attains it: then it is the optimum itself, with no solve (a withheld count seen at 0, its least
        value). None otherwise."""
        if not self._count:
            return None
        nz = np.flatnonzero(c)
        a = c[nz]
        up = (a > 0) == maximise
        ends = np.where(up, self.hi[nz], self.lo[nz])
        if not np.isfinite(ends).all():
            return None
        end = float(a @ ends)
        vals = self.values(c)
        return end if float(vals.max() if maximise else vals.min()) == end else None

    def solve(self, c: np.ndarray, maximise: bool) -> float:
        """Exact integer optimum of c.x: :meth:`bound`, and when that is not exact, :meth:`integer_end` (an integer
        programme only if no kept whole-number solution attains the rounded linear bound)."""
        end, exact = self.bound(c, maximise)
        return end if exact else self.integer_end(c, end, maximise)

    def bound(self, c: np.ndarray, maximise: bool) -> tuple[float, bool]:
        """(bound, exact): the linear optimum of c.x rounded in to a whole number (c is whole: every whole solution lies
        within it) and whether it is the integer optimum itself (the linear vertex is whole, and kept as evidence; or
        a kept solution attains the unknowns' own bounds: :meth:`_at_box`)."""
        end = self._at_box(c, maximise)
        if end is not None:
            return end, True
        st, x = self._lp(c, maximise)
        if st == "unbounded":
            return (np.inf if maximise else -np.inf), True
        if st != "optimal":
            raise RuntimeError(f"disclosure audit: the intruder's problem could not be solved ({st})")
        if _integral(x):
            self.keep(np.round(x))
            return float(c @ np.round(x)), True
        v = float(c @ x)
        return (float(np.floor(v + 1e-6)) if maximise else float(np.ceil(v - 1e-6))), False

    def integer_end(self, c: np.ndarray, rounded: float, maximise: bool) -> float:
        """The integer optimum of c.x, given ``rounded``: the linear optimum rounded in to a whole number (a bound of
        every whole solution, :meth:`bound`). A kept whole-number solution that attains it is the optimum, so the
        integer programme is solved only when none does (the same value either way)."""
        vals = self.values(c)
        if len(vals) and float(vals.max() if maximise else vals.min()) == rounded:
            return float(rounded)
        return self._milp(c, -1.0 if maximise else 1.0)

    def _milp(self, c, sign) -> float:
        from scipy.optimize import Bounds, LinearConstraint, milp

        cons = []
        if self.A_eq is not None:
            cons.append(LinearConstraint(self.A_eq, self.b_eq, self.b_eq))
        if self.A_ub is not None:
            cons.append(LinearConstraint(self.A_ub, -np.inf, self.b_ub))
        res = milp(sign * c, constraints=cons, integrality=np.ones(len(c)), bounds=Bounds(self.lo, self.hi))
        if res.status != 0 or res.x is None:
            raise RuntimeError(f"disclosure audit: the intruder's integer problem could not be solved ({res.message})")
        self.keep(np.round(res.x))
        return float(c @ np.round(res.x))


class Evidence:
    """Whole-number solutions of the intruder's problem found by earlier audits of one model (secondary suppression
    audits one pattern per round), kept as departures from the true counts, to show intervals wide in later audits.

    A solution found for one pattern (its piece's unknowns, the true counts elsewhere) satisfies every constraint. It
    is a solution for another pattern when every unknown it moves from the truth is free there (withheld, or a rounded
    count) and within that unknown's bounds: the constraints are the same, and the unknowns it leaves at the truth are
    published at the truth or free. So its values of the counts are values the intruder cannot rule out: evidence
    that an interval is at least so wide, never a verdict that it is narrow (those are solved). At most ``limit``
    solutions are kept (the latest)."""

    def __init__(self, truth: np.ndarray, limit: int = 4000):
        self._truth = np.asarray(truth, dtype=float)
        self.n, self.limit = len(self._truth), int(limit)
        self._rows: list[tuple[np.ndarray, np.ndarray]] = []
        self._seen: set = set()
        self._mat: Any = None                  # the kept solutions (moves from the truth) as a sparse matrix
        self._csc: Any = None
        self._ok: Any = None
        self._state: tuple[bytes, bytes] | None = None

    def add(self, idx: np.ndarray, points: np.ndarray, truth: np.ndarray) -> None:
        """Keep ``points`` (solutions over the unknowns ``idx``, rows) that move some count from ``truth``."""
        dev = points - truth[idx]
        for d in dev:
            nz = np.flatnonzero(d)
            if not len(nz):
                continue
            key = (idx[nz].tobytes(), d[nz].tobytes())
            if key in self._seen:
                continue
            self._seen.add(key)
            self._rows.append((idx[nz].astype(np.int64), d[nz].astype(float)))
        if len(self._rows) > self.limit:
            for i, v in self._rows[:len(self._rows) - self.limit]:
                self._seen.discard((i.tobytes(), v.tobytes()))
            self._rows = self._rows[-self.limit:]
        self._mat = None

    def points(self, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The kept solutions that are solutions for the bounds ``lo``/``hi`` (one pattern), over the unknowns ``cols``
        (one piece), without those that leave the piece at the truth."""
        from scipy import sparse

        if not self._rows:
            return np.zeros((0, len(cols)))
        if self._mat is None:
            lens = [len(i) for i, _ in self._rows]
            self._mat = sparse.csr_matrix((np.concatenate([v for _, v in self._rows]),
                                           np.concatenate([i for i, _ in self._rows]),
                                           np.concatenate([[0], np.cumsum(lens)])), shape=(len(self._rows), self.n))
            self._csc = self._mat.tocsc()
            self._state = None
        state = (lo.tobytes(), hi.tobytes())
        if self._state != state:                 # which solutions fit these bounds: once per pattern
            m = self._mat
            val = self._truth[m.indices] + m.data
            bad = (val < lo[m.indices] - 1e-9) | (val > hi[m.indices] + 1e-9)
            row = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
            self._ok = np.bincount(row[bad], minlength=m.shape[0]) == 0
            self._state = state
        sub = self._csc[:, cols].tocsr()
        touch = self._ok & (np.diff(sub.indptr) > 0)
        if not touch.any():
            return np.zeros((0, len(cols)))
        return self._truth[cols] + sub[np.flatnonzero(touch)].toarray()


def audit(model: CountModel, suppressed, round_to=None, full: bool = False, previous: AuditResult | None = None,
          random_state: int = 0, cache: dict | None = None, exact_failures: bool = True,
          evidence: "Evidence | None" = None) -> AuditResult:
    """Attack the publication that ``suppressed`` (bool per row of ``model.table``) and ``round_to``
    (per row: rounding base, NaN for none) describe; see the module docstring.

    ``full=True`` solves every bound exactly (slower); otherwise bounds are solved only until the
    interval is shown to be wide enough. ``previous``: an audit of a publication that suppressed a
    subset of these rows (with the same rounding); counts that passed it pass again without a solve,
    since suppressing more only takes information away from the intruder. ``random_state`` seeds
    the random directions used to find feasible solutions quickly (it does not change the verdict).
    ``cache``: a dict kept by the caller between audits of the same ``model`` and ``round_to`` (secondary
    suppression audits one pattern per round): an independent piece of the intruder's problem that an earlier
    audit met unchanged (the same free unknowns with the same bounds, so the same constraints and right-hand
    sides, and the same counts to bound) gives the same verdicts and is not solved again.
    ``exact_failures=False`` (secondary suppression's rounds, which need only the verdicts): a count whose linear
    bounds are already too close fails without the integer programme that would find its exact ends; its ``low``
    and ``high`` are then values the intruder cannot rule out (``solved`` False), inside its interval, which is too
    narrow. Verdicts are the same either way.
    ``evidence``: an :class:`Evidence` kept by the caller between audits of the same ``model`` and ``round_to``:
    whole-number solutions found by earlier audits that are still feasible for this pattern show intervals wide
    without a solve (random directions are then tried only in a piece where they do not suffice).
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    suppressed = np.asarray(suppressed, dtype=bool)
    lo, hi = published_bounds(model, suppressed, round_to)
    free = lo < hi
    # a count printed in the clear in another row (the same children counted by another indicator) is published:
    # only a count outside the suppression range can be, else that row is withheld too (primary suppression)
    elsewhere = model.printed_elsewhere(suppressed, round_to)
    elsewhere &= ~((model.truth >= model.smin[model.var_row]) & (model.truth <= model.smax[model.var_row]))
    targets = []      # (row, count, coefficient dict over variables)
    for i in np.flatnonzero(suppressed):
        targets += [(i, kind, coefs) for kind, coefs in model.counts(int(i))
                    if kind != "denominator" or not elsewhere[model.den_var[i]]]
    # published rounded counts: the sums must not give them back exactly (un-rounding)
    rounded_rows = set()
    if round_to is not None:
        base = np.asarray(round_to, dtype=float)
        for i in np.flatnonzero(~suppressed & ~np.isnan(base) & (np.nan_to_num(base) > 1)):
            d, m = model.den_var[i], model.num_var[i]
            if lo[d] < hi[d] or (m >= 0 and lo[m] < hi[m]):
                rounded_rows.add(int(i))
                targets += [(i, kind, coefs) for kind, coefs in model.counts(int(i))]
    records = []
    # a count that is 0 by the relations alone is known whatever is withheld (see CountModel.zero_by_relations):
    # not a target; its record says so (required 0)
    known = model.zero_by_relations(targets)
    if known:
        records += [(r, c, 0.0, 0.0, True, 0.0, True) for r, c, _ in targets if (int(r), c) in known]
        targets = [tg for tg in targets if (int(tg[0]), tg[1]) not in known]
    if previous is not None and not full:
        prev = previous.table[previous.table["passed"] & ~previous.table["published"]]
        keep = {(int(r), c) for r, c in zip(prev["row"], prev["count"])}
        kept = [(r, c) for r, c, _ in targets if (r, c) in keep and r not in rounded_rows]
        targets = [tg for tg in targets if (tg[0], tg[1]) not in keep or tg[0] in rounded_rows]
        if kept:
            seen = dict(zip(zip(prev["row"].tolist(), prev["count"].tolist()),
                            zip(prev["low"].tolist(), prev["high"].tolist(), prev["required"].tolist())))
            for r, kind in kept:
                low, high, need = seen[(int(r), kind)]
                records.append((r, kind, low, high, False, need, True))
    rng = np.random.default_rng(random_state)
    if targets:
        fixed_val = np.where(free, 0.0, lo)
        A = model.A
        active = np.asarray((A[:, free] != 0).sum(axis=1)).ravel() > 0
        A_act = A[active]
        rhs = -(A_act @ fixed_val)
        sense = model.sense[active]
        Af = A_act[:, free].tocsr()
        free_idx = np.flatnonzero(free)
        pos = np.full(model.n_vars, -1)
        pos[free_idx] = np.arange(len(free_idx))
        # components of free unknowns linked by constraints
        adj = (Af.T @ Af) if Af.shape[0] else sparse.csr_matrix((len(free_idx), len(free_idx)))
        ncomp, label = connected_components(adj, directed=False)
        # each active constraint's component: that of its first free unknown (all of them share one component)
        if Af.shape[0]:
            nz = Af.copy()
            nz.eliminate_zeros()
            con_comp = label[nz.indices[nz.indptr[:-1]]]
        else:
            con_comp = np.array([], int)
        by_comp: dict[int, list] = {}
        for tg in targets:
            k = pos[next(iter(tg[2]))]
            by_comp.setdefault(label[k], []).append(tg)
        for comp, tgs in by_comp.items():
            cols = np.flatnonzero(label == comp)
            key = None
            if cache is not None:
                # the piece is fixed by its free unknowns and their bounds: a constraint's other unknowns are
                # published exactly (lo == hi), so its right-hand side is too; the targets carry their own kind
                fv = free_idx[cols]
                key = (bool(full), bool(exact_failures), fv.tobytes(), lo[fv].tobytes(), hi[fv].tobytes(),
                       tuple((int(r), c, int(r) in rounded_rows) for r, c, _ in tgs))
                if key in cache:
                    records += cache[key]
                    continue
            first = len(records)
            rows_c = np.flatnonzero(con_comp == comp)
            sub = Af[rows_c][:, cols]
            b = rhs[rows_c]
            eq = sense[rows_c] == "="
            A_eq = sub[eq] if eq.any() else None
            A_ub = sub[~eq] if (~eq).any() else None
            C = _Component(A_eq, b[eq] if eq.any() else None, A_ub, b[~eq] if (~eq).any() else None,
                           lo[free_idx[cols]], hi[free_idx[cols]])
            local = {v: j for j, v in enumerate(free_idx[cols])}
            # feasible whole-number solutions that show intervals are wide without a solve per count:
            # the true counts, and optima of random directions inside a box (feasible for the real problem)
            C.keep(model.truth[free_idx[cols]])
            if evidence is not None and not full:
                for x in evidence.points(free_idx[cols], lo, hi):
                    C.keep(x)
            explored = full            # random directions tried (only when a count is not shown wide without them)

            def explore(C=C, tgs=tgs, cols=cols):        # this piece's (called in this iteration only)
                cap = 2 * float(np.max(model.truth)) + 10
                box = (C.lo, np.minimum(C.hi, cap))
                for k in range(min(12, 2 + len(tgs) // 10)):
                    C.point(rng.uniform(0.1, 1.0, len(cols)), k % 2 == 1, box)

            if evidence is None and not full:
                explore()
                explored = True
            solved_passed = False
            for row, count, coefs in tgs:
                c = np.zeros(len(cols))
                const = 0.0
                for v, a in coefs.items():
                    if v in local:
                        c[local[v]] += a
                    else:
                        const += a * lo[v]
                true = sum(a * model.truth[v] for v, a in coefs.items())
                # a count in the suppression range must stay as uncertain as the range is wide; any other
                # withheld count (0, or above the range) must not be pinned
                small = model.smin[row] <= true <= model.smax[row] and row not in rounded_rows
                need = required_width(model.smin[row], model.smax[row]) if small else 1.0
                vals = C.values(c) + const
                low, high, solved = vals.min(), vals.max(), False
                if not explored and high - low < need and solved_passed:
                    # the count before passed but had to be solved: the solutions kept are not enough evidence
                    # here, so try the random directions now (a count that fails is solved either way)
                    explore()
                    explored = True
                    vals = C.values(c) + const
                    low, high = vals.min(), vals.max()
                solved_passed = high - low < need        # True from here if this count passes after a solve
                if not full and not exact_failures and high - low < need:
                    # the linear bounds first: a count they show narrow fails, whatever its integer ends
                    lo_b, lo_x = C.bound(c, False)
                    low = (lo_b if lo_x else C.values(c).min()) + const
                    high = C.values(c).max() + const
                    if high - low < need:
                        hi_b, hi_x = C.bound(c, True)
                        high = (hi_b if hi_x else C.values(c).max()) + const
                        if lo_x and hi_x:
                            solved = True
                        elif hi_b - lo_b >= need:       # the linear problem leaves room: the integer ends decide
                            low = (lo_b if lo_x else C.integer_end(c, lo_b, False)) + const
                            high = (hi_b if hi_x else C.integer_end(c, hi_b, True)) + const
                            solved = True
                        elif not lo_x:                  # narrow: the values seen stand for the interval
                            low = C.values(c).min() + const
                        passed = high - low >= need if solved else False
                        records.append((row, count, low, high, solved, need, passed))
                        solved_passed = passed
                        continue
                elif full or high - low < need:
                    low = C.solve(c, False) + const
                    high = C.values(c).max() + const
                    if full or high - low < need:
                        high = C.solve(c, True) + const
                        solved = True
                records.append((row, count, low, high, solved, need, high - low >= need))
            if cache is not None and key is not None:
                cache[key] = records[first:]
            if evidence is not None:
                evidence.add(free_idx[cols], C._points[:C._count], model.truth)
    # published rows contribute no records; fixed suppressed counts (free is False) are exact
    return AuditResult(_audit_table(model, records, rounded_rows), all(r[6] for r in records))


_CELL = ("indicator_id", "geography_type", "geography_code", "breakdown", "breakdown_value")


def _audit_table(model: CountModel, records: list, rounded_rows: set) -> pd.DataFrame:
    """:attr:`AuditResult.table` from the audit's records ``(row, count, low, high, solved, required, passed)``:
    columns row, count, published, the row's cell (indicator_id ... breakdown_value), low, high, solved, required,
    passed (built column by column from arrays: one audit per round of secondary suppression)."""
    if not records:
        out = pd.DataFrame(records, columns=["row", "count", "low", "high", "solved", "required", "passed"])
        out.insert(2, "published", [])
        for col in _CELL:
            out.insert(len(out.columns) - 5, col, [])
        return out
    rows, count, low, high, solved, required, passed = zip(*records)
    row = np.array(rows, dtype=np.int64)
    cols = {"row": row, "count": np.array(count, dtype=object),
            "published": np.isin(row, np.fromiter(rounded_rows, dtype=np.int64, count=len(rounded_rows))),
            **{col: model.labels(col)[row] for col in _CELL},
            "low": np.array(low, dtype=float), "high": np.array(high, dtype=float),
            "solved": np.array(solved, dtype=bool), "required": np.array(required, dtype=float),
            "passed": np.array(passed, dtype=bool)}
    return pd.DataFrame(cols)


def check_disclosure(published: pd.DataFrame, framework=None, true_table: pd.DataFrame | None = None) -> list[str]:
    """Every way a published board table leaks a count; an empty list means it passes.

    Checks that no count in the suppression range (the framework's, else 1-5) is published in the
    clear, directly or as denominator - numerator, that suppressed rows publish no number, and (with
    ``framework``) that no 0% or 100% is published in a group smaller than the indicator's ``all_or_none_below``;
    with ``framework`` and ``true_table`` (the table before suppression, from which the intruder's
    constraints are built) it also runs :func:`audit` on the suppression pattern.
    """
    pub = published.reset_index(drop=True)
    suppressed = pub["suppressed"].astype(bool).to_numpy()
    problems = []
    if framework is not None:
        rules = _indicator_rules(framework)
        lo = pub["indicator_id"].map(lambda i: rules[i].disclosure.suppress_min).to_numpy(dtype=float)
        hi = pub["indicator_id"].map(lambda i: rules[i].disclosure.suppress_max).to_numpy(dtype=float)
        prop = pub["indicator_id"].map(lambda i: rules[i].value_type == "proportion").to_numpy()
    else:
        lo, hi = np.full(len(pub), 1.0), np.full(len(pub), 5.0)
        prop = pub["ci_method"].eq("wilson").to_numpy()
    num, den = pub["numerator"].to_numpy(dtype=float), pub["denominator"].to_numpy(dtype=float)

    def small(x):
        return (x >= lo) & (x <= hi)

    def where(i) -> str:
        return (f"({str(pub.at[i, 'indicator_id'])}, {str(pub.at[i, 'geography_name'])}, "
                f"{str(pub.at[i, 'breakdown'])}={str(pub.at[i, 'breakdown_value'])})")

    clear_small = ~suppressed & (small(den) | (prop & (small(num) | small(den - num))))
    for i in np.flatnonzero(clear_small):
        problems.append(f"row {i}: a count of {lo[i]:g}-{hi[i]:g} is published {where(i)}")
    if framework is not None:

        for i in np.flatnonzero(~suppressed & all_or_none(pub, framework)):
            problems.append(f"row {i}: {num[i] / den[i]:.0%} of a group of {den[i]:g} is published, which tells every "
                            f"child's outcome {where(i)}")
    leaked = suppressed & (pub[["numerator", "denominator", "value", "ci_low", "ci_high"]].notna().any(axis=1)
                           .to_numpy())
    for i in np.flatnonzero(leaked):
        problems.append(f"row {i}: suppressed but a number is published")
    if framework is not None and true_table is not None:
        base = true_table.reset_index(drop=True)
        model = build_model(base, framework)
        rounding = base["indicator_id"].map(lambda i: rules[i].disclosure.round_to).astype(float).to_numpy()
        problems += audit(model, suppressed, rounding).problems
    return problems


# ----------------------------------------------------------------------------- cuts for optimal suppression
def free_components(model: CountModel, suppressed: np.ndarray, round_to=None):
    """(lo, hi, label): the intruder's bounds of every unknown for this pattern, and the connected
    component of each free unknown (-1: fixed), as :func:`audit` splits the problem."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    lo, hi = published_bounds(model, np.asarray(suppressed, dtype=bool), round_to)
    free = lo < hi
    label = np.full(model.n_vars, -1)
    idx = np.flatnonzero(free)
    if len(idx):
        Af = model.A[:, idx]
        Af = Af[np.asarray((Af != 0).sum(axis=1)).ravel() > 0]
        adj = (abs(Af).T @ abs(Af)) if Af.shape[0] else sparse.csr_matrix((len(idx), len(idx)))
        _, lab = connected_components(adj, directed=False)
        label[idx] = lab
    return lo, hi, label


class CutGenerator:
    """Fischetti-Salazar capacity cuts for counts that fail the audit (see :meth:`cuts`).

    Built once per model: the published bounds of every unknown (as if nothing were withheld) and
    the constraint matrix in both sparse layouts are kept between rounds."""

    def __init__(self, model: CountModel, round_to=None, cap: float | None = None):
        self.model = model
        self.round_to = round_to
        self.cap = float(np.nanmax(model.truth)) + 1 if cap is None else cap
        self.p_lo, self.p_hi = published_bounds(model, np.zeros(len(model.table), dtype=bool), round_to)
        self.A = model.A.tocsr()
        self.Ac = model.A.tocsc()

    def cuts(self, suppressed: np.ndarray, targets: list, components=None) -> list:
        """For each target (unknown -> coefficient dict), (const, row_coef) or None (count fixed).

        The intruder's interval for the count under any suppression pattern x (one 0/1 per row) is
        at most ``const + sum(row_coef[r] * x[r])`` wide: both ends come from the dual of the
        intruder's linear programme for the current pattern (weak duality: the dual stays feasible
        when the pattern, and so the unknowns' bounds, change; a withheld unknown lies in
        [0, cap]). A pattern that protects the count must therefore make this at least the
        required width; for the current pattern it equals the linear intruder's interval.
        """
        from scipy.optimize import linprog

        model = self.model
        supp = np.asarray(suppressed, dtype=bool)
        lo, hi, label = components if components is not None else free_components(model, supp, self.round_to)
        self._hi_now = np.where(np.isinf(hi), self.cap, hi)
        out = [None] * len(targets)
        by_comp: dict[int, list] = {}
        for k, coefs in enumerate(targets):
            comp = max(label[int(v)] for v in coefs)
            if comp >= 0:
                by_comp.setdefault(int(comp), []).append(k)
        for comp, ks in by_comp.items():
            cols = np.flatnonzero(label == comp)
            rows_c = np.unique(self.Ac[:, cols].nonzero()[0])
            sub_full = self.A[rows_c]
            fixed = np.where(label == comp, 0.0, lo)
            b = -(sub_full @ fixed)
            sub = sub_full[:, cols]
            eq = model.sense[rows_c] == "="
            where = {int(v): j for j, v in enumerate(cols)}
            bounds = np.column_stack([lo[cols], hi[cols]])
            kw = _LinprogArgs(sub, b, eq, bounds)
            h = self._highs(sub, b, eq, bounds)
            # the unknowns the component's constraints touch (its own and the published ones beside them): the same
            # for every count of the component, so found once
            shape = self._touched(sub_full, cols, lo)
            for k in ks:
                c = np.zeros(len(cols))
                for v, a in targets[k].items():
                    if int(v) in where:
                        c[where[int(v)]] += a
                out[k] = self._one(c, cols, rows_c, sub_full, eq, kw, linprog, h, lo, shape)
        return out

    @staticmethod
    def _highs(sub, b, eq, bounds):
        """The component's linear programme held by HiGHS, so that only the objective changes between
        solves (warm-started primal simplex), or None without highspy."""
        if importlib.util.find_spec("highspy") is None:
            return None
        A = sub.tocsc()
        h, hs = _highs_model(A, bounds[:, 0], bounds[:, 1], np.where(eq, b, -np.inf), b)
        return h, hs, np.arange(A.shape[1], dtype=np.int32)

    def _touched(self, sub_full, cols, lo) -> tuple:
        """What every count of one component needs from its constraints ``sub_full`` (rows x all unknowns): the
        unknowns they touch (``touched``: the component's own and the published ones beside them), where the
        component's unknowns sit among them, their rows, the constraints transposed to those unknowns (CSR, so the
        reduced costs are summed over the constraints in the order a product with ``sub_full.T`` sums them), and
        the bounds of each touched unknown as :meth:`_one` reads them."""
        touched = np.union1d(sub_full.nonzero()[1], cols)
        sub_t = sub_full[:, touched].T.tocsr()
        sub_t.sort_indices()
        p_hi = self.p_hi[touched]
        return (touched, np.searchsorted(touched, cols), self.model.var_row[touched], sub_t, self.p_lo[touched], p_hi,
                lo[touched], self._hi_now[touched], self.cap - p_hi)

    def _one(self, c, cols, rows_c, sub_full, eq, kw, linprog, h, lo, shape=None):
        if shape is None:
            shape = self._touched(sub_full, cols, lo)
        touched, pos_in, touched_row, sub_t, p_lo_t, p_hi_t, lo_t, hi_now_t, room_t = shape
        ineq = ~eq
        total_const, row_coef = 0.0, {}
        for sign in (1.0, -1.0):          # min c.y (lower end), then min -c.y (minus the upper end)
            lam = None
            if h is not None:
                hh, hs, idx = h
                hh.changeColsCost(len(idx), idx, sign * c)
                run_highs(hh)
                if hh.getModelStatus() == hs.HighsModelStatus.kOptimal:
                    sol = hh.getSolution()
                    lam = np.array(sol.row_dual, dtype=float)
                    lam[ineq] = np.minimum(lam[ineq], 0.0)
                    opt = float(hh.getInfo().objective_function_value)
            if lam is None:
                res = linprog(sign * c, **dict(kw))
                if res.status != 0:
                    return None
                lam = np.zeros(len(rows_c))
                if eq.any():
                    lam[eq] = res.eqlin.marginals
                if (~eq).any():
                    lam[~eq] = np.minimum(res.ineqlin.marginals, 0.0)
                opt = float(res.fun)
            d = -(sub_t @ lam)                                   # reduced costs of the unknowns involved
            d[pos_in] += sign * c
            d[np.abs(d) < 1e-9] = 0.0
            pos, neg = d > 0, d < 0
            d_pos, d_neg, lo_pos = d[pos], d[neg], p_lo_t[pos]
            # lower bound of min(sign*c.y) = sum over d>0 of d*lower(x) + over d<0 of d*upper(x), where
            # lower(x) = p_lo (1 - x_r) and upper(x) = p_hi + (cap - p_hi) x_r
            total_const -= float(d_pos @ lo_pos + d_neg @ p_hi_t[neg])
            # self-check: at the current pattern the dual bound must equal the optimum (else the duals'
            # signs were not as assumed: fall back to scipy's marginals, whose convention is documented)
            cur = float(np.where(pos, d * lo_t, 0.0).sum() + np.where(neg, d * hi_now_t, 0.0).sum())
            if abs(cur - opt) > 1e-6 * max(1.0, abs(opt)) and h is not None:
                return self._one(c, cols, rows_c, sub_full, eq, kw, linprog, None, lo, shape)
            grow = np.zeros(len(touched))
            grow[pos] = d_pos * lo_pos                           # the interval widens by these when x_r = 1
            grow[neg] = -d_neg * room_t[neg]
            wide = grow > 1e-9
            for r, g in zip(touched_row[wide].tolist(), grow[wide].tolist()):
                row_coef[r] = row_coef.get(r, 0.0) + g
        return total_const, row_coef


class _LinprogArgs:
    """The keyword arguments of ``scipy.optimize.linprog`` for one component (the fallback when highspy is missing
    or its duals fail the self-check), sliced only when asked for: ``dict(args)``."""

    def __init__(self, sub, b, eq, bounds):
        self.sub, self.b, self.eq, self.bounds = sub, b, eq, bounds

    def keys(self):
        return ["A_ub", "b_ub", "A_eq", "b_eq", "bounds", "method"]

    def __getitem__(self, key):
        sub, b, eq = self.sub, self.b, self.eq
        ub, has_ub, has_eq = ~eq, (~eq).any(), eq.any()
        return {"A_ub": sub[ub] if has_ub else None, "b_ub": b[ub] if has_ub else None,
                "A_eq": sub[eq] if has_eq else None, "b_eq": b[eq] if has_eq else None,
                "bounds": self.bounds, "method": "highs"}[key]


def protection_cut(model: CountModel, suppressed: np.ndarray, coefs: dict, round_to=None, cap: float | None = None,
                   components=None):
    """One capacity cut (:meth:`CutGenerator.cuts`) for the count ``coefs`` (unknown -> coefficient):
    (const, row -> coefficient), or None if the count's unknowns are fixed."""
    return CutGenerator(model, round_to, cap).cuts(suppressed, [coefs], components)[0]


def neighbourhood_of(model: CountModel, suppressed: np.ndarray, row: int, components) -> tuple[np.ndarray, np.ndarray]:
    """(suppressed rows in ``row``'s component, published rows sharing a constraint with it): what a
    'no-good' cut names when the linear intruder's cut cannot separate an integer failure."""
    lo, hi, label = components
    v = model.den_var[row]
    if label[v] < 0 and model.num_var[row] >= 0:
        v = model.num_var[row]
    comp = label[v]
    vars_c = np.flatnonzero(label == comp)
    A = model.A.tocsc()
    cons = np.unique(A[:, vars_c].nonzero()[0])
    touched = np.unique(model.A.tocsr()[cons].nonzero()[1]) if len(cons) else vars_c
    rows_in = np.unique(model.var_row[vars_c])
    rows_touch = np.unique(model.var_row[touched])
    supp = np.asarray(suppressed, dtype=bool)
    return rows_in[supp[rows_in]], rows_touch[~supp[rows_touch]]
