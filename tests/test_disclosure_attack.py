"""A motivated intruder with everything published, one release or two, written independently of
measurekit.publish.disclosure / disclosure_audit / ledger (it imports none of them).

It reads the released board_table.csv files and writes down what it can see or infer: sums of
breakdowns to "all", areas to the local authority, small areas to their area (the public lookup),
EAL "0" equals the home-language group English (the definitions say so), 0 <= numerator <=
denominator, equal denominators of indicators that agree in every cell both publish; across two
releases of the same period, equal cells where every published pair agrees, else (late records
added) the later count is never smaller and the numerator grows by no more than the denominator.
Then an integer programme gives the lowest and highest value of every withheld count (HiGHS: each end
solved as a linear programme in one model kept open, and as an integer programme when the linear optimum
is not whole-numbered; :func:`bounds_by_milp`, one scipy.optimize.milp per end, is the plain way it is
checked against). Held-out cohorts: seeds measurekit's own tests do not use.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.design import load_framework

SMALL = (1, 5)                  # the standard suppression range, for indicators whose own range is not learned
RANGES: dict = {}               # indicator -> (suppress_min, suppress_max), from the published specification
COHORT_WIDE: set = set()        # indicators whose denominator is every child (from the published definitions)
RESPONDENTS: set = set()        # indicators whose denominator is the families who answered (published definitions)
COVERAGE: set = set()           # indicators whose numerator is the families who answered


def WIDEST() -> float:
    """A spread of values the intruder need not narrow further: wider than every suppression range."""
    return max([SMALL[1] - SMALL[0]] + [b - a for a, b in RANGES.values()]) + 1.0


def learn(framework) -> None:
    """What the published specification sheets tell the intruder and the judge: each indicator's suppression
    range and whose children its denominator counts."""
    for ind in framework.indicators:
        RANGES[ind.id] = (ind.disclosure.suppress_min, ind.disclosure.suppress_max)
        if ind.compute.population == "cohort":
            COHORT_WIDE.add(ind.id)
        elif ind.compute.population == "respondents":
            RESPONDENTS.add(ind.id)
        if ind.compute.field == "responded":
            COVERAGE.add(ind.id)


def printed_in_the_clear(pub: pd.DataFrame, truth: pd.DataFrame, row: int) -> bool:
    """True when the denominator of withheld ``row`` is printed anyway in the same cell (period, geography,
    breakdown, group) by another indicator whose published definition counts the same children: the number of
    children (indicators about every child), or the families who answered (the coverage indicator's numerator,
    another indicator among respondents). Such a count is published, whatever the withheld row shows."""
    ind, true = pub.at[row, "indicator_id"], float(truth.at[row, "denominator"])
    cell = (pub[KEY[1:]] == pub.loc[row, KEY[1:]]).all(axis=1) & ~pub["suppressed"] & (pub.index != row)
    for other in pub.index[cell]:
        o = pub.at[other, "indicator_id"]
        if ind in COHORT_WIDE and o in COHORT_WIDE and _number(pub.at[other, "denominator"]) == true:
            return True
        if ind in RESPONDENTS and o in RESPONDENTS and _number(pub.at[other, "denominator"]) == true:
            return True
        if ind in RESPONDENTS and o in COVERAGE and _number(pub.at[other, "numerator"]) == true:
            return True
    return False
KEY = ["indicator_id", "period", "geography_type", "geography_code", "breakdown", "breakdown_value"]


def _read(path) -> pd.DataFrame:
    """A released board table (a CSV file), or every table of a shareable folder (see :func:`read_folder`)."""
    from pathlib import Path

    if Path(path).is_dir():
        return read_folder(path)
    pub = pd.read_csv(path, dtype={"geography_code": str, "breakdown_value": str, "period": str},
                      keep_default_na=False, na_values={"numerator": [""], "denominator": [""]})
    pub["suppressed"] = pub["suppressed"].astype(str).str.lower().eq("true")
    return pub


# ----------------------------------------------------------------------------- every shareable file
# What the intruder reads in the files' own words (written from the published files and their metadata, not from
# measurekit's code): the EES file's characteristic groups and characteristics, and the workbook's breakdowns and
# groups, as the board table's codes (board_pack.xlsx's README lists the codes of board_table.csv).
EES_GROUPS = {"Total": "all", "First language": "eal", "Free school meals": "fsm", "Home language": "home_language",
              "SEN provision": "send", "Sex": "sex"}
EES_VALUES = {("eal", "First language English"): "0", ("eal", "First language other than English"): "1",
              ("fsm", "Known to be eligible for free school meals"): "1",
              ("fsm", "Not known to be eligible for free school meals"): "0",
              ("send", "EHC plan"): "ehc_plan", ("send", "No identified SEN"): "none", ("send", "SEN support"): "sen_support",
              ("sex", "Female"): "F", ("sex", "Male"): "M", ("all", "Total"): "all"}
BOOK_GROUPS = {"All children": "all", "English as an additional language": "eal", "Free school meals": "fsm",
               "Home language": "home_language", "Special educational needs": "send", "Sex": "sex"}
BOOK_VALUES = {("eal", "English as an additional language"): "1", ("eal", "English as first language"): "0",
               ("fsm", "Eligible for free school meals"): "1", ("fsm", "Not eligible for free school meals"): "0",
               ("home_language", "Other languages"): "Other", ("send", "EHC plan"): "ehc_plan",
               ("send", "No special educational needs"): "none", ("send", "SEN support"): "sen_support",
               ("sex", "Boys"): "M", ("sex", "Girls"): "F", ("all", None): "all"}
READ_LOG: dict = {}         # folder -> {file: cells read}, for the test that the intruder reads every file


def _number(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return np.nan


def read_folder(folder) -> pd.DataFrame:
    """Every table of a shareable folder as one board table: the board table (and every CSV resource the data
    package lists), the EES open-data file and every indicator sheet of the workbook. A cell any file prints
    a number for is known to the intruder, even if another file withholds it; two files printing different
    numbers for one cell fail the test (one of them is not what was released)."""
    import json
    from pathlib import Path

    folder = Path(folder)
    base = pd.read_csv(folder / "board_table.csv", dtype={"geography_code": str, "breakdown_value": str,
                                                          "period": str},
                       keep_default_na=False, na_values={"numerator": [""], "denominator": [""]})
    base["suppressed"] = base["suppressed"].astype(str).str.lower().eq("true")
    cell = {tuple(k): i for i, k in zip(base.index, base[KEY].itertuples(index=False, name=None))}
    seen: dict = {}          # (row, "numerator" | "denominator") -> value
    log: dict = {}

    def see(source, key, what, value):
        v = _number(value)
        if np.isnan(v):
            return
        r = cell.get(key)
        assert r is not None, (source, key)
        old = seen.setdefault((r, what), v)
        assert abs(old - v) < 1e-9, (source, key, what, old, v)
        log[source] = log.get(source, 0) + 1

    def see_board(source, frame):
        for k, num, den in zip(frame[KEY].itertuples(index=False, name=None), frame["numerator"], frame["denominator"]):
            see(source, k, "numerator", num)
            see(source, k, "denominator", den)

    see_board("board_table.csv", base)
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    for res in package.get("resources", []):
        path = folder / res["path"]
        if path.suffix == ".csv":
            see_board("datapackage:" + res["path"], pd.read_csv(
                path, dtype={"geography_code": str, "breakdown_value": str, "period": str}, keep_default_na=False))
    names = base.drop_duplicates("geography_name").set_index("geography_name")
    la = base[base["geography_type"] == "la"].iloc[0]
    period = str(base["period"].iloc[0])
    titles = base.drop_duplicates("indicator_id").set_index("indicator_title")["indicator_id"]

    def geo(name):
        if name in ("Total", "Borough", la["geography_name"]):
            return "la", la["geography_code"]
        return "neighbourhood", names.at[name, "geography_code"]

    for ees in folder.glob("*.csv"):
        if ees.name == "board_table.csv" or ees.name.endswith(".meta.csv"):
            continue
        e = pd.read_csv(ees, dtype=str, keep_default_na=False)
        ids = [c[: -len("_children_count")] for c in e.columns if c.endswith("_children_count")]
        for _, row in e.iterrows():
            bd = EES_GROUPS[row["characteristic_group"]]
            bv = EES_VALUES.get((bd, row["characteristic"]), row["characteristic"])
            gt, gc = geo(row["neighbourhood"])
            for i in ids:
                key = (i, period, gt, gc, bd, bv)
                if key not in cell and row[f"{i}_children_count"] in ("z", "x"):
                    continue
                see(ees.name, key, "denominator", row[f"{i}_children_count"])
                if f"{i}_count" in row:
                    see(ees.name, key, "numerator", row[f"{i}_count"])
    import openpyxl

    wb = openpyxl.load_workbook(folder / "board_pack.xlsx", read_only=True)
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        if not rows or rows[0][0] not in titles.index:
            continue
        ind = titles[rows[0][0]]
        head = next(k for k, r in enumerate(rows) if r and r[0] == "Area")
        col = {name: j for j, name in enumerate(rows[head]) if name}
        for r in rows[head + 1:]:
            if not r or r[0] is None:
                continue
            bd = BOOK_GROUPS[r[col["Breakdown"]]]
            bv = BOOK_VALUES.get((bd, r[col["Group"]]), r[col["Group"]])
            gt, gc = geo(r[col["Area"]])
            key = (ind, period, gt, gc, bd, bv)
            see("board_pack.xlsx:" + ws.title, key, "denominator", r[col["Number of children"]])
            if "Numerator" in col:
                see("board_pack.xlsx:" + ws.title, key, "numerator", r[col["Numerator"]])
    READ_LOG[str(folder)] = log
    out = base.copy()
    for (r, what), v in seen.items():
        out.at[r, what] = v
    # a row is withheld for the intruder only when no file prints its counts
    known = np.array([(r, "denominator") in seen for r in range(len(out))])
    out["suppressed"] = base["suppressed"].to_numpy() & ~known
    return out


def attack(paths, lookup: dict | None = None) -> pd.DataFrame:
    """Bounds on every withheld count of every release: columns release, row, count (denominator, numerator or
    complement, the denominator less the numerator), lo, hi, solved. A count whose interval is at least as wide as
    :func:`WIDEST` is given two values the intruder cannot rule out (two whole-number solutions), not necessarily
    its ends (solved False); narrower ones are the intruder's exact bounds (solved True); a count nothing published
    caps has hi = inf."""
    pubs = [_read(p) for p in paths]
    return attack_tables(pubs, lookup)


def attack_tables(pubs: list[pd.DataFrame], lookup: dict | None = None) -> pd.DataFrame:
    """:func:`attack` on releases already read (board tables with a plain row index 0, 1, ...)."""
    from collections import defaultdict

    from scipy import sparse

    rels = []                      # (dict cell -> coefficient, constant, sense): sum + constant (= | <=) 0
    cols = {}                      # per release: its columns as plain lists (what the intruder reads, row by row)
    for k, pub in enumerate(pubs):
        assert (pub.index == np.arange(len(pub))).all()
        cols[k] = {"key": list(pub[KEY].astype(str).itertuples(index=False, name=None)),
                   "suppressed": pub["suppressed"].to_numpy(bool),
                   "N": pub["denominator"].to_numpy(float), "K": pd.to_numeric(pub["numerator"]).to_numpy(float),
                   "wilson": pub["ci_method"].eq("wilson").to_numpy(bool)}

    def rel(pos, neg, s):
        co, const = {}, 0.0
        for cells, sg in ((pos, 1.0), (neg, -1.0)):
            for k, r, what in cells:
                if cols[k]["suppressed"][r]:
                    co[(k, r, what)] = co.get((k, r, what), 0.0) + sg
                else:
                    const += sg * float(cols[k][what][r])
        if co:
            rels.append((co, const, s))

    for k in cols:
        keys, wilson = cols[k]["key"], cols[k]["wilson"]
        for what in ("N", "K"):
            use = [r for r in range(len(keys)) if what == "N" or wilson[r]]
            idx = {keys[r]: r for r in use}
            breakdowns, areas, small, languages = (defaultdict(list) for _ in range(4))
            la = {}
            for r in use:
                ind, per, gt, gc, bd, bv = keys[r]
                if bd != "all":
                    breakdowns[(ind, per, gt, gc, bd)].append(r)
                if gt == "neighbourhood":
                    areas[(ind, per, bd, bv)].append(r)
                if gt == "la":
                    la.setdefault((ind, per, bd, bv), r)
                if gt == "small_area" and lookup and gc in lookup and not pd.isna(lookup[gc]):
                    small[(ind, per, lookup[gc])].append(r)
                if (bd, bv) in (("eal", "0"), ("home_language", "English")):
                    languages[(ind, per, gt, gc, bd)].append(r)
            # sums of breakdown values
            for (ind, per, gt, gc, bd), g in breakdowns.items():
                tot = idx.get((ind, per, gt, gc, "all", "all"))
                if tot is not None:
                    rel([(k, r, what) for r in g], [(k, tot, what)], "=")
            # areas -> LA
            for key, g in areas.items():
                if key in la:
                    rel([(k, r, what) for r in g], [(k, la[key], what)], "=")
            # small areas -> area
            for (ind, per, area), g in small.items():
                tot = idx.get((ind, per, "neighbourhood", area, "all", "all"))
                if tot is not None:
                    rel([(k, r, what) for r in g], [(k, tot, what)], "=")
            # EAL 0 = home language English
            for (ind, per, gt, gc, bd), e in languages.items():
                h = languages.get((ind, per, gt, gc, "home_language"))
                if bd == "eal" and h:
                    rel([(k, e[0], what)], [(k, h[0], what)], "=")
        for r in np.flatnonzero(wilson):
            rel([(k, r, "K")], [(k, r, "N")], "<")
        # equal denominators of indicators whose published definitions count the same children (the whole cohort)
        by = defaultdict(dict)                  # cell (period, geography, breakdown, group) -> indicator -> row
        for r, (ind, *place) in enumerate(keys):
            if ind in COHORT_WIDE:
                by[tuple(place)].setdefault(ind, r)
        for inds in by.values():
            for a in inds:
                for b in inds:
                    if a < b:
                        rel([(k, inds[a], "N")], [(k, inds[b], "N")], "=")
    # across releases
    for k1 in range(len(pubs)):
        for k2 in range(k1 + 1, len(pubs)):
            rows_b = {key: r for r, key in enumerate(cols[k2]["key"])}
            pairs = [(x, rows_b[key]) for x, key in enumerate(cols[k1]["key"]) if key in rows_b]
            if not pairs:
                continue
            a, b = cols[k1], cols[k2]
            shown = [(x, y) for x, y in pairs if not a["suppressed"][x] and not b["suppressed"][y]]
            da, db = np.array([a["N"][x] for x, _ in shown]), np.array([b["N"][y] for _, y in shown])
            if np.array_equal(da, db):
                for x, y in pairs:
                    rel([(k1, x, "N")], [(k2, y, "N")], "=")
                    if a["wilson"][x]:
                        rel([(k1, x, "K")], [(k2, y, "K")], "=")
            else:
                later, earlier = (k2, k1) if (db >= da).all() else (k1, k2)
                for x, y in pairs:
                    xl, xe = (y, x) if later == k2 else (x, y)
                    rel([(earlier, xe, "N")], [(later, xl, "N")], "<")
                    if a["wilson"][x]:
                        rel([(earlier, xe, "K")], [(later, xl, "K")], "<")
                        # added with the outcome <= added
                        rel([(later, xl, "K"), (earlier, xe, "N")], [(earlier, xe, "K"), (later, xl, "N")], "<")
    # the unknowns: every withheld count that appears in a relation, in the order of the releases' rows
    var = {c: j for j, c in enumerate(sorted({c for co, _, _ in rels for c in co},
                                             key=lambda c: (c[0], c[1], c[2] == "K")))}
    rels = [({var[c]: v for c, v in co.items()}, const, s) for co, const, s in rels]
    n = len(var)
    if not n:
        out = pd.DataFrame(columns=["release", "row", "count", "lo", "hi", "solved"])
        out.attrs["published"] = pubs
        return out
    rows, cols, vals, lo_b, hi_b = [], [], [], [], []
    for i, (co, const, s) in enumerate(rels):
        for j, v in co.items():
            rows.append(i), cols.append(j), vals.append(v)
        lo_b.append(-const if s == "=" else -np.inf)
        hi_b.append(-const)
    A = sparse.csr_matrix((vals, (rows, cols)), shape=(len(rels), n))
    counts = []                                # (release, row, count, {variable: coefficient})
    for (k, r, what), j in var.items():
        counts.append((k, r, {"N": "denominator", "K": "numerator"}[what], {j: 1.0}))
        if what == "K":
            counts.append((k, r, "complement", {var[(k, r, "N")]: 1.0, j: -1.0}))
    lo_b, hi_b = np.array(lo_b), np.array(hi_b)
    if np.isnan(lo_b).any() or np.isnan(hi_b).any():
        # a relation holding a blank count (a file printing a denominator but not its numerator): the integer
        # programme is not defined, and no count is bounded (scipy's milp answers no solution for each)
        ends = [(np.nan, np.nan, True)] * len(counts)
    else:
        ends = SOLVERS[SOLVER](A, lo_b, hi_b, [co for *_, co in counts])
    out = pd.DataFrame([(k, r, name, lo, hi, solved) for (k, r, name, _), (lo, hi, solved) in zip(counts, ends)],
                       columns=["release", "row", "count", "lo", "hi", "solved"])
    out.attrs["published"] = pubs
    return out


def _objective(co: dict, n: int) -> np.ndarray:
    c = np.zeros(n)
    for j, v in co.items():
        c[j] = v
    return c


class _Seen:
    """Every whole-number solution found is a table the intruder cannot rule out: once two of them differ by at
    least :func:`WIDEST` in a count, that count is neither pinned nor narrowed, and is not solved for again."""

    def __init__(self, n: int):
        self.points = np.zeros((0, n))
        self.new: list[np.ndarray] = []

    def add(self, x: np.ndarray) -> None:
        self.new.append(x)

    def spread(self, co: dict) -> tuple[float, float]:
        if self.new:
            self.points = np.vstack([self.points, *self.new])
            self.new = []
        if not len(self.points):
            return np.inf, -np.inf
        v = sum(self.points[:, j] * a for j, a in co.items())
        return float(v.min()), float(v.max())


def bounds_by_milp(A, lo_b, hi_b, objectives: list[dict]) -> list[tuple[float, float, bool]]:
    """The plain way, kept to check the fast one: one integer programme (scipy.optimize.milp) per end of every count
    not already shown wide. Returns (lowest, highest, solved) per objective.

    A caution found while checking the fast way: scipy 1.17's own HiGHS (1.12) answered "optimal" with a maximum of
    35 for a withheld denominator of test_one_release_gives_nothing_away[300-11] when the unknowns were numbered in
    another order, where a whole-number solution gives 38 (highspy 1.16 and the linear bound both say 38). An end
    found by :func:`bounds_fast` from a whole-numbered linear optimum carries its own proof (no whole-number point
    beats the relaxation)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = A.shape[1]
    cons = [LinearConstraint(A, lo_b, hi_b)]
    seen, out = _Seen(n), []
    for co in objectives:
        low, high = seen.spread(co)
        solved = high - low < WIDEST()
        if solved:
            c, ends = _objective(co, n), []
            for sign in (1.0, -1.0):
                res = milp(sign * c, constraints=cons, integrality=np.ones(n), bounds=Bounds(0, np.inf),
                           options={"mip_rel_gap": 0.0})
                if res.status in (3, 4):      # unbounded (or infeasible, which the true table is not)
                    ends.append(-np.inf * sign)
                else:
                    assert res.status == 0, res.message
                    x = np.round(res.x)
                    seen.add(x)
                    ends.append(float(c @ x))
            low, high = ends
        out.append((low, high, solved))
    return out


def highs_model(A, lo, hi, integer: bool = False):
    """A HiGHS model of rows lo <= A x <= hi (``A`` column-wise sparse), x >= 0 (whole numbers if ``integer``: HiGHS
    MIP with gap 0; else the simplex without presolve), kept open so that each solve changes the objective (and the
    column bounds) only and the simplex restarts from the last basis. The intruders of this file and of
    test_disclosure.py build their models here."""
    import highspy

    inf = highspy.kHighsInf
    n = A.shape[1]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, A.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = np.zeros(n), np.zeros(n), np.full(n, inf)
    lp.row_lower_, lp.row_upper_ = np.where(np.isfinite(lo), lo, -inf), np.where(np.isfinite(hi), hi, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h.passModel(lp)
    if integer:
        h.setOptionValue("mip_rel_gap", 0.0)
    else:
        h.setOptionValue("presolve", "off")
    return h


def bounds_fast(A, lo_b, hi_b, objectives: list[dict]) -> list[tuple[float, float, bool]]:
    """The same bounds as :func:`bounds_by_milp`, faster: one HiGHS model kept open, whose objective is changed between
    solves (the simplex restarts from the last basis). Each end is first solved as a linear programme; when its
    optimal point is whole-numbered it is the integer programme's optimum too (no whole-number point can do better
    than the relaxation), else the same model with whole-number variables is solved (HiGHS MIP, gap 0)."""
    import highspy

    n = A.shape[1]

    def model(integer: bool):
        return highs_model(A.tocsc(), lo_b, hi_b, integer)

    lp, mip = model(False), None

    def solve(h, co, sign):
        idx = np.fromiter(co, dtype=np.int32)
        h.changeColsCost(len(idx), idx, np.array([sign * co[j] for j in co]))
        h.run()
        status = h.getModelStatus()
        h.changeColsCost(len(idx), idx, np.zeros(len(idx)))
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return None
        assert status == highspy.HighsModelStatus.kOptimal, h.modelStatusToString(status)
        return np.asarray(h.getSolution().col_value)

    seen, out = _Seen(n), []
    for co in objectives:
        low, high = seen.spread(co)
        solved = high - low < WIDEST()
        if solved:
            ends = []
            for sign in (1.0, -1.0):
                STATS["lp"] += 1
                x = solve(lp, co, sign)
                if x is None:        # the relaxation is unbounded, so is the count (the true table is a solution)
                    ends.append(-np.inf * sign)
                    continue
                if np.abs(x - np.round(x)).max() > 1e-6:
                    STATS["mip"] += 1
                    mip = mip or model(True)
                    x = solve(mip, co, sign)
                x = np.round(x)
                seen.add(x)
                ends.append(float(sum(x[j] * a for j, a in co.items())))
            low, high = ends
        out.append((low, high, solved))
    return out


SOLVERS = {"milp": bounds_by_milp, "fast": bounds_fast}
SOLVER = "fast"
STATS = {"lp": 0, "mip": 0}     # solves by bounds_fast: linear programmes, and integer ones after a fractional optimum


def judge(bounds: pd.DataFrame, truths: list[pd.DataFrame]) -> dict:
    true = []
    for k, r, c in zip(bounds["release"], bounds["row"], bounds["count"]):
        t = truths[k]
        num, den = float(t.at[r, "numerator"]), float(t.at[r, "denominator"])
        true.append(den if c == "denominator" else num if c == "numerator" else den - num)
    true = np.array(true)
    solved = bounds["solved"].to_numpy(dtype=bool)
    inside = (bounds["lo"] <= true + 1e-6) & (true <= bounds["hi"] + 1e-6)
    assert inside[solved].all()     # the intruder's model is sound: the truth lies within every solved interval
    pubs = bounds.attrs.get("published")
    ind = [pubs[k].at[r, "indicator_id"] if pubs else "" for k, r in zip(bounds["release"], bounds["row"])]
    lo_s = np.array([RANGES.get(i, SMALL)[0] for i in ind], dtype=float)
    hi_s = np.array([RANGES.get(i, SMALL)[1] for i in ind], dtype=float)
    small = (true >= lo_s) & (true <= hi_s)
    width = (bounds["hi"] - bounds["lo"]).to_numpy()
    # a withheld count is pinned when the intruder's interval holds one value; a small one is narrowed when the
    # interval holds fewer whole values than the suppression range does (1 to 5: 5 values, hi - lo < 4)
    exact = width < 0.5
    if pubs and exact.any():
        for j in np.flatnonzero(exact & (bounds["count"] == "denominator").to_numpy()):
            k, r = int(bounds["release"].iloc[j]), int(bounds["row"].iloc[j])
            exact[j] = not printed_in_the_clear(pubs[k], truths[k], r)
    return {"withheld_counts": len(bounds), "exact": int(exact.sum()),
            "small_narrowed": int((small & (width < np.maximum(hi_s - lo_s, 1))).sum())}


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def fw(framework_dir):
    f = load_framework(framework_dir)
    learn(f)
    return f


@pytest.fixture(scope="module")
def packs(fw, tmp_path_factory):
    """Board tables of held-out cohorts (seeds 11 and 12), protected once and written as CSV."""
    from measurekit.publish.disclosure import protect

    out = {}
    folder = tmp_path_factory.mktemp("attack")
    for n in (300, 800, 3000):
        for seed in (11, 12):
            raw = mk.board_table(mk.make_cohort(n, random_state=seed, truth=False), framework=fw, disclosure=False)
            res = protect(raw, fw)
            path = folder / f"board_{n}_{seed}.csv"
            res.table.to_csv(path, index=False)
            out[(n, seed)] = (raw, res, path)
    return out


@pytest.mark.parametrize("n,seed", [(300, 11), (300, 12), (800, 11), (800, 12), (3000, 11), (3000, 12)])
def test_one_release_gives_nothing_away(packs, n, seed):
    raw, res, path = packs[(n, seed)]
    v = judge(attack([path]), [raw.reset_index(drop=True)])
    assert v["withheld_counts"] > 0
    assert v["exact"] == 0 and v["small_narrowed"] == 0, v


def test_headline_rows_kept_at_800(packs):
    """At 800 children no area or LA headline row is withheld unless a count in it is small itself, and the
    share of rows withheld is well below the previous method's (71.7%, measured on main before issue 32 at seeds
    1-3: 228/314, 208/312, 242/320). The two-thirds target (47.8%) is measured on seeds 1-3 by
    bench/bench_disclosure.py (46.4% pooled); these held-out seeds gave 164/318 and 138/306 (48.4% pooled), so
    the bound here is 50%, not the target."""
    shares = []
    for seed in (11, 12):
        raw, res, _ = packs[(800, seed)]
        head = (raw["breakdown"] == "all").to_numpy()
        secondary_head = head & (res.reasons == "secondary").to_numpy()
        assert not secondary_head.any(), raw[secondary_head]
        shares.append(res.table["suppressed"].mean())
    assert np.mean(shares) <= 0.50, shares


# two releases of one cohort (late records added, one child removed): tests/test_ledger.py


@pytest.fixture(scope="module")
def folders(fw, tmp_path_factory):
    """Whole shareable packs (write_board_pack: CSV, data package, EES, workbook, pages) of held-out cohorts."""
    from measurekit.publish.board_pack import write_board_pack

    out = {}
    root = tmp_path_factory.mktemp("packs")
    for n, seed in ((300, 15), (800, 16), (3000, 17)):
        cohort = mk.make_cohort(n, random_state=seed, truth=False)
        raw = mk.board_table(cohort, framework=fw, disclosure=False, period="2024/25")
        write_board_pack(fw, cohort, root / f"pack_{n}", period="2024/25")
        out[n] = (raw.reset_index(drop=True), root / f"pack_{n}")
    return out


@pytest.mark.parametrize("n", [300, 800, 3000])
def test_every_shareable_file_gives_nothing_away(folders, n):
    raw, folder = folders[n]
    pub = pd.read_csv(folder / "board_table.csv", dtype=str, keep_default_na=False)
    assert (pub[KEY].to_numpy() == raw[KEY].astype(str).to_numpy()).all()      # truth lines up with the rows
    v = judge(attack([folder]), [raw])
    log = READ_LOG[str(folder)]
    # the intruder read every table: the board table, the data package's resource, the EES file, each sheet
    assert {"board_table.csv", "datapackage:board_table.csv"} <= set(log), log
    assert any(k.endswith(".csv") and not k.startswith(("board", "datapackage")) for k in log), log
    assert sum(k.startswith("board_pack.xlsx:") for k in log) == len({i for i in raw["indicator_id"]}), log
    assert v["withheld_counts"] > 0
    assert v["exact"] == 0 and v["small_narrowed"] == 0, v


def test_a_count_printed_in_any_file_is_used(folders, tmp_path):
    """The intruder really reads the EES file and the workbook: a withheld count printed in one of them (as a
    faulty writer might) is recovered."""
    import shutil

    import openpyxl

    raw, folder = folders[800]
    pub = pd.read_csv(folder / "board_table.csv", dtype=str, keep_default_na=False)
    labels = {("sex", "F"): ("Female", "Girls"), ("sex", "M"): ("Male", "Boys"),
              ("fsm", "1"): ("Known to be eligible for free school meals", "Eligible for free school meals"),
              ("fsm", "0"): ("Not known to be eligible for free school meals", "Not eligible for free school meals")}
    withheld = pub.index[pub["suppressed"].str.lower().eq("true") & pub["breakdown"].isin(["sex", "fsm"])
                         & pub["ci_method"].eq("wilson")]
    assert len(withheld)
    r = int(withheld[0])
    ind = pub.at[r, "indicator_id"]
    for where in ("ees", "workbook"):
        leak = tmp_path / where
        shutil.copytree(folder, leak)
        area = pub.at[r, "geography_name"] if pub.at[r, "geography_type"] != "la" else "Total"
        sex = labels[(pub.at[r, "breakdown"], pub.at[r, "breakdown_value"])]
        truth = raw.at[r, "denominator"]
        if where == "ees":
            ees = next(p for p in leak.glob("*.csv") if p.name != "board_table.csv" and ".meta." not in p.name)
            e = pd.read_csv(ees, dtype=str, keep_default_na=False)
            hit = e["neighbourhood"].eq(area) & e["characteristic"].eq(sex[0])
            assert hit.sum() == 1
            e.loc[hit, f"{ind}_children_count"] = str(int(truth))
            e.to_csv(ees, index=False)
        else:
            wb = openpyxl.load_workbook(leak / "board_pack.xlsx")
            ws = wb.worksheets[[w.title for w in wb.worksheets].index(next(
                w.title for w in wb.worksheets if w.cell(1, 1).value == pub.at[r, "indicator_title"]))]
            head = next(k for k in range(1, ws.max_row + 1) if ws.cell(k, 1).value == "Area")
            cols = {ws.cell(head, j).value: j for j in range(1, ws.max_column + 1)}
            hits = [k for k in range(head + 1, ws.max_row + 1)
                    if ws.cell(k, 1).value == (area if area != "Total" else "Borough")
                    and ws.cell(k, cols["Group"]).value == sex[1]]
            assert len(hits) == 1
            ws.cell(hits[0], cols["Number of children"]).value = int(truth)
            wb.save(leak / "board_pack.xlsx")
        b = attack([leak])
        got = b[(b["row"] == r) & (b["count"] == "denominator")]
        assert got.empty, (where, got)        # no longer withheld: the intruder knows it from that file
        seen = b.attrs["published"][0]        # what the attack read: read_folder(leak)
        assert float(seen.at[r, "denominator"]) == float(truth) and not seen.at[r, "suppressed"], where


def test_area_pack_and_small_area_pack_learn_nothing(fw, tmp_path):
    """An area pack, then a small-area pack of the same children protected with the first in the ledger (and the
    small-area lookup): the intruder reading both, with the lookup, pins nothing and narrows no small count. The
    small-area pack protected without the ledger does give counts away to that intruder (the attack is real). 3,000
    children: at 800 (seed 14, before) nearly every small-area count is withheld anyway, and the two packs gave
    nothing away even without the ledger, so the test could not tell the ledger's work from luck."""
    from measurekit.publish.disclosure import protect
    from measurekit.publish.ledger import Ledger

    cohort = mk.make_cohort(3000, random_state=73, truth=False)
    lookup = cohort.tables["small_areas"]
    nest = dict(zip(lookup["small_area"], lookup["neighbourhood_code"]))
    areas = mk.board_table(cohort, framework=fw, disclosure=False, period="2024/25")
    small = mk.board_table(cohort, framework=fw, disclosure=False, period="2024/25", small_areas=True)
    first = protect(areas, fw)
    led = Ledger(tmp_path / "ledger")
    led.record(areas, first.table, "areas")
    second = protect(small, fw, nesting=nest, earlier=led)
    alone = protect(small, fw, nesting=nest)                 # the small-area pack without the ledger
    first.table.to_csv(tmp_path / "a.csv", index=False)
    truths = [areas.reset_index(drop=True), small.reset_index(drop=True)]
    found = {}
    for name, res in (("ledger", second), ("alone", alone)):
        res.table.to_csv(tmp_path / f"{name}.csv", index=False)
        found[name] = judge(attack([tmp_path / "a.csv", tmp_path / f"{name}.csv"], lookup=nest), truths)
    v = found["ledger"]
    assert v["withheld_counts"] > 0
    assert v["exact"] == 0 and v["small_narrowed"] == 0, found
    assert found["alone"]["exact"] + found["alone"]["small_narrowed"] > 0, found       # the attack is real


# ----------------------------------------------------------------------------- the fast solve is the plain one
def test_fast_bounds_equal_plain_integer_programmes_on_random_systems(monkeypatch):
    """bounds_fast (linear programme first, integer programme when its optimum is fractional) against
    bounds_by_milp (one scipy milp per end) on small random systems of sums and inequalities with a known
    whole-number solution, every count solved to the end by both: the same lowest and highest values, the known
    solution inside them, and both ways of the fast path (a fractional optimum, an unbounded count) taken."""
    import test_disclosure_attack as me
    from scipy import sparse

    monkeypatch.setattr(me, "WIDEST", lambda: np.inf)
    rng = np.random.default_rng(30)
    before, unbounded, compared = dict(STATS), 0, 0
    for _ in range(6):
        n, m = int(rng.integers(6, 12)), int(rng.integers(4, 9))
        dense = rng.choice([-1.0, 0.0, 1.0], size=(m, n), p=[0.2, 0.55, 0.25])
        truth = rng.integers(0, 8, n).astype(float)
        ax = dense @ truth
        equal = rng.random(m) < 0.5
        lo_b = np.where(equal, ax, -np.inf)
        hi_b = ax + np.where(equal, 0, rng.integers(0, 3, m))
        objectives = [{j: 1.0} for j in range(n)] + [{a: 1.0, b: -1.0} for a, b in rng.integers(0, n, (4, 2)) if a != b]
        A = sparse.csr_matrix(dense)
        fast, plain = bounds_fast(A, lo_b, hi_b, objectives), bounds_by_milp(A, lo_b, hi_b, objectives)
        assert fast == plain
        for co, (lo, hi, solved) in zip(objectives, fast):
            value = sum(truth[j] * a for j, a in co.items())
            assert solved and lo <= value <= hi
            unbounded += np.isinf(hi)
            compared += 1
    assert compared > 50
    assert STATS["mip"] > before["mip"] and unbounded > 0, (STATS, before, unbounded)


def test_fast_and_plain_intruders_agree_on_a_published_table(packs, monkeypatch):
    """The whole attack on a published table, solved the fast way and the plain way: the same counts, the same exact
    bounds of every count both solved, every count left unsolved shown at least WIDEST wide, the same verdict."""
    import test_disclosure_attack as me

    raw, _, path = packs[(3000, 12)]
    found = {}
    for way in ("milp", "fast"):
        monkeypatch.setattr(me, "SOLVER", way)
        found[way] = attack([path])
    a, b = found["milp"], found["fast"]
    assert a[["release", "row", "count"]].equals(b[["release", "row", "count"]])
    both = (a["solved"] & b["solved"]).to_numpy()
    assert both.sum() >= 5
    assert np.array_equal(a.loc[both, ["lo", "hi"]].to_numpy(), b.loc[both, ["lo", "hi"]].to_numpy())
    for t in (a, b):
        assert ((t["hi"] - t["lo"])[~t["solved"]] >= WIDEST()).all()
    truth = [raw.reset_index(drop=True)]
    assert judge(a, truth) == judge(b, truth)
