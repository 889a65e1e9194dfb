"""The faster paths of protect() give what the plain ones gave: the master's repaired start (a heap of near cuts
instead of a rescan after every repair) against a plain loop over the cuts, written here from the documented rule,
the relations between indicators of build_model (one lookup per pair of populations) against a plain search
over the cells, and the exact audit's ends (which skip solves a kept whole-number solution makes needless) against
programmes over the whole intruder's system."""
from __future__ import annotations

import numpy as np
import pytest

import measurekit as mk


def plain_repair(cuts, x, lb, ub, cost):
    """The documented rule, spelled out: visit the cuts in order; while one is violated, set the row with room whose
    coefficient per unit of cost is largest; up to four passes; None when a violated cut has no row left to set."""
    x = np.maximum(x.astype(float), lb)
    for _ in range(4):
        changed = False
        for keys, v, rhs in cuts:
            while float(v @ x[keys]) < rhs - 1e-9:
                room = (v > 0) & (x[keys] < 1) & (ub[keys] > 0)
                if not room.any():
                    return None
                j = np.flatnonzero(room)[np.argmax(v[room] / np.maximum(cost[keys][room], 1e-9))]
                x[keys[j]] = 1.0
                changed = True
        if not changed:
            return x
    return None


@pytest.mark.parametrize("seed", range(12))
def test_repaired_start_is_the_plain_loops(seed):
    from measurekit.publish.disclosure import _Master

    rng = np.random.default_rng(seed)
    n = 60
    cost = rng.uniform(1, 5, n)
    on = rng.random(n) < 0.1
    off = ~on & (rng.random(n) < 0.1)
    master = _Master(cost, on, off, time_limit=10.0)
    cuts = []
    for _ in range(rng.integers(20, 120)):
        k = int(rng.integers(2, 8))
        keys = rng.choice(n, k, replace=False)
        v = rng.choice([-2.0, -1.0, 1.0, 1.0, 2.0, 3.0], k)
        rhs = float(rng.integers(-1, 3)) - 1e-6
        master.add(dict(zip(keys.tolist(), v.tolist())), rhs)
        cuts.append((keys.astype(np.int32), v, rhs))
    master._flush()
    x = rng.random(n) < 0.3
    got = master._repair(x)
    want = plain_repair(cuts, x, master.lb, master.ub, master.cost)
    assert (got is None) == (want is None)
    if want is not None:
        assert np.array_equal(got, want)


def test_relations_between_indicators_are_those_a_plain_search_finds(framework_dir):
    from measurekit.publish.disclosure_audit import build_model
    from measurekit.synth.cohort import make_cohort

    framework = mk.load_framework(framework_dir)
    table = mk.board_table(make_cohort(300, 3, truth=False), framework=framework, disclosure=False)
    model = build_model(table, framework)
    t = model.table
    key = ["period", "geography_type", "geography_code", "breakdown", "breakdown_value"]
    cells = [tuple(str(v) for v in r) for r in t[key].itertuples(index=False)]
    rules = {ind.id: ind for ind in framework.indicators}
    pops = []
    for iid, rule in rules.items():
        rows = [i for i in range(len(t)) if t.at[i, "indicator_id"] == iid]
        if not rows:
            continue
        pops.append((iid, {cells[i]: model.den_var[i] for i in rows}, rows, "den"))
        if (rule.value_type == "proportion" and rule.compute.field == "responded"
                and rule.compute.statistic == "proportion"):
            pops.append((iid, {cells[i]: model.num_var[i] for i in rows}, rows, "num"))
    want_eq, want_le = [], []
    for a, (ia, va, rows_a, _) in enumerate(pops):
        for b, (ib, vb, _, _) in enumerate(pops):
            if ia == ib:
                continue
            pairs = [(va[cells[i]], vb[cells[i]]) for i in rows_a if cells[i] in vb]
            if not pairs:
                continue
            ua = np.array([model.truth[p] for p, _ in pairs])
            ub = np.array([model.truth[q] for _, q in pairs])
            if np.allclose(ua, ub):
                if a < b:
                    want_eq += pairs
            elif (ua <= ub + 1e-9).all():
                want_le += pairs
    A = model.A.tocsr()
    two = []
    for r in range(A.shape[0]):
        cols, vals = A.indices[A.indptr[r]:A.indptr[r + 1]], A.data[A.indptr[r]:A.indptr[r + 1]]
        if len(cols) == 2 and sorted(vals.tolist()) == [-1.0, 1.0]:
            p, q = (cols[0], cols[1]) if vals[0] > 0 else (cols[1], cols[0])
            two.append((int(p), int(q), model.sense[r]))
    # relations tie counts of two indicators (a sum of one group, or numerator <= denominator, stays within one)
    ind = t["indicator_id"].to_numpy()[model.var_row]
    across = [(p, q, s) for p, q, s in two if ind[p] != ind[q]]
    got_eq = [(p, q) for p, q, s in across if s == "="]
    got_le = [(p, q) for p, q, s in across if s == "<"]
    assert sorted(got_eq) == sorted((int(p), int(q)) for p, q in want_eq)
    assert sorted(got_le) == sorted((int(p), int(q)) for p, q in want_le)
    assert sorted(map(tuple, model.same_count.tolist())) == sorted((int(p), int(q)) for p, q in want_eq)
    assert len(want_eq) > 0


def test_exact_audit_ends_are_the_whole_problems_integer_optima(framework_dir):
    """``audit(full=True)`` reports each withheld count's exact ends, though it skips solves (a kept whole solution at
    the unknowns' own bounds, or at the linear optimum rounded in, is the end itself; its linear programmes run without
    bound perturbation). Checked here against programmes written independently, over the WHOLE intruder's system
    (every unknown, every relation, bounds read off the publication directly), not its pieces: for every tenth count
    the audit reports, each end is the linear optimum when that lies at a whole-number vertex, else the integer
    programme's. On this table the audit rounds a fractional linear end in hundreds of times."""
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    from measurekit.publish import disclosure_audit as da
    from measurekit.publish.disclosure import primary_mask

    framework = mk.load_framework(framework_dir)
    table = mk.board_table(mk.make_cohort(150, 2, truth=False), framework=framework, disclosure=False)
    model = da.build_model(table, framework)
    supp = primary_mask(table, framework) | (np.random.default_rng(2).random(len(table)) < 0.25)
    got = da.audit(model, supp, full=True).table
    assert got["solved"].all()
    # the publication as an intruder reads it: a withheld row's counts are whole numbers >= 0, any other is printed
    withheld = supp[model.var_row]
    lo = np.where(withheld, 0.0, model.truth)
    hi = np.where(withheld, np.inf, model.truth)
    eq = model.sense == "="
    A_eq, A_ub = model.A[eq], model.A[~eq]
    cons = [LinearConstraint(A_eq, 0.0, 0.0), LinearConstraint(A_ub, -np.inf, 0.0)]
    checked = got.iloc[::10]
    assert len(checked) >= 50 and (checked["low"] == 0).any() and (checked["low"] > 0).any()
    for r in checked.itertuples():
        c = np.zeros(model.n_vars)
        for v, a in dict(model.counts(int(r.row)))[r.count].items():
            c[v] += a
        ends = []
        for sign in (1.0, -1.0):
            res = linprog(sign * c, A_ub=A_ub, b_ub=np.zeros(A_ub.shape[0]), A_eq=A_eq, b_eq=np.zeros(A_eq.shape[0]),
                          bounds=np.column_stack([lo, hi]), method="highs")
            if res.status == 3:
                ends.append(sign * np.inf)
                continue
            if np.abs(res.x - np.rint(res.x)).max() > 1e-6:
                res = milp(sign * c, constraints=cons, integrality=np.ones(model.n_vars), bounds=Bounds(lo, hi),
                           options={"mip_rel_gap": 0.0})
            ends.append(sign * round(res.fun))
        assert (r.low, r.high) == (ends[0], ends[1]), (r, ends)
