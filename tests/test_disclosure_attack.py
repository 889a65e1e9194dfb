"""A motivated intruder with everything published, one release or two, written independently of
measurekit.publish.disclosure / disclosure_audit / ledger (it imports none of them).

It reads the released board_table.csv files and writes down what it can see or infer: sums of
breakdowns to "all", areas to the local authority, small areas to their area (the public lookup),
EAL "0" equals the home-language group English (the definitions say so), 0 <= numerator <=
denominator, equal denominators of indicators that agree in every cell both publish; across two
releases of the same period, equal cells where every published pair agrees, else (late records
added) the later count is never smaller and the numerator grows by no more than the denominator.
Then an integer programme (scipy.optimize.milp, HiGHS) gives the lowest and highest value of every
withheld count. Held-out cohorts: seeds measurekit's own tests do not use.
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
    """Bounds on every withheld count of every release: columns release, row, count, lo, hi. A count whose
    interval is at least as wide as the suppression range is given two values the intruder cannot rule out
    (two whole-number solutions), not necessarily its ends; narrower ones are the intruder's exact bounds."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    pubs = [_read(p) for p in paths]
    var: dict[tuple, int] = {}
    fixed: dict[tuple, float] = {}

    def cell(k, r, what):                     # what: "N" denominator, "K" numerator
        pub = pubs[k]
        if pub.at[r, "suppressed"]:
            return var.setdefault((k, r, what), len(var)), None
        return None, float(pub.at[r, "denominator" if what == "N" else "numerator"])

    rels = []                                 # (dict var -> coef, constant, sense) : sum + constant (= | <=) 0

    def rel(pos, neg, s):
        co, const = {}, 0.0
        for cells, sg in ((pos, 1.0), (neg, -1.0)):
            for k, r, what in cells:
                j, v = cell(k, r, what)
                if j is None:
                    const += sg * v
                else:
                    co[j] = co.get(j, 0.0) + sg
        if co:
            rels.append((co, const, s))

    for k, pub in enumerate(pubs):
        prop = pub["ci_method"].eq("wilson")
        for what in ("N", "K"):
            use = pub if what == "N" else pub[prop]
            idx = {tuple(x): i for i, x in zip(use.index, use[KEY].itertuples(index=False, name=None))}
            # sums of breakdown values
            for (ind, per, gt, gc, bd), g in use[use["breakdown"] != "all"].groupby(
                    ["indicator_id", "period", "geography_type", "geography_code", "breakdown"]):
                tot = idx.get((ind, per, gt, gc, "all", "all"))
                if tot is not None:
                    rel([(k, r, what) for r in g.index], [(k, tot, what)], "=")
            # areas -> LA
            for (ind, per, bd, bv), g in use[use["geography_type"] == "neighbourhood"].groupby(
                    ["indicator_id", "period", "breakdown", "breakdown_value"]):
                la = use[(use["geography_type"] == "la") & (use["indicator_id"] == ind) & (use["breakdown"] == bd)
                         & (use["breakdown_value"] == bv) & (use["period"] == per)]
                if len(la):
                    rel([(k, r, what) for r in g.index], [(k, la.index[0], what)], "=")
            # small areas -> area
            sa = use[use["geography_type"] == "small_area"]
            if len(sa) and lookup:
                for (ind, per, area), g in sa.groupby(["indicator_id", "period", sa["geography_code"].map(lookup)]):
                    tot = idx.get((ind, per, "neighbourhood", area, "all", "all"))
                    if tot is not None:
                        rel([(k, r, what) for r in g.index], [(k, tot, what)], "=")
            # EAL 0 = home language English
            for (ind, per, gt, gc), g in use.groupby(["indicator_id", "period", "geography_type", "geography_code"]):
                e = g[(g["breakdown"] == "eal") & (g["breakdown_value"] == "0")]
                h = g[(g["breakdown"] == "home_language") & (g["breakdown_value"] == "English")]
                if len(e) and len(h):
                    rel([(k, e.index[0], what)], [(k, h.index[0], what)], "=")
        for r in pub.index[prop]:
            rel([(k, r, "K")], [(k, r, "N")], "<")
        # equal denominators of indicators whose published definitions count the same children (the whole cohort)
        cellkey = ["period", "geography_type", "geography_code", "breakdown", "breakdown_value"]
        same = [i for i in pub["indicator_id"].unique() if i in COHORT_WIDE]
        by = {i: pub[pub["indicator_id"] == i].reset_index().set_index(cellkey)["index"] for i in same}
        for a in same:
            for b in same:
                if a < b:
                    sh = by[a].index.intersection(by[b].index)
                    for x, y in zip(by[a][sh].to_numpy(), by[b][sh].to_numpy()):
                        rel([(k, x, "N")], [(k, y, "N")], "=")
    # across releases
    for k1 in range(len(pubs)):
        for k2 in range(k1 + 1, len(pubs)):
            a, b = pubs[k1].reset_index(), pubs[k2].reset_index()
            m = a.merge(b, on=KEY, suffixes=("_a", "_b"))
            if not len(m):
                continue
            pubd = ~m["suppressed_a"] & ~m["suppressed_b"]
            da, db = m.loc[pubd, "denominator_a"].to_numpy(float), m.loc[pubd, "denominator_b"].to_numpy(float)
            prop = m["ci_method_a"].eq("wilson")
            if np.array_equal(da, db):
                for x, y, p in zip(m["index_a"], m["index_b"], prop):
                    rel([(k1, x, "N")], [(k2, y, "N")], "=")
                    if p:
                        rel([(k1, x, "K")], [(k2, y, "K")], "=")
            else:
                later, earlier = (k2, k1) if (db >= da).all() else (k1, k2)
                for x, y, p in zip(m["index_a"], m["index_b"], prop):
                    xl, xe = (y, x) if later == k2 else (x, y)
                    rel([(earlier, xe, "N")], [(later, xl, "N")], "<")
                    if p:
                        rel([(earlier, xe, "K")], [(later, xl, "K")], "<")
                        # added with the outcome <= added
                        rel([(later, xl, "K"), (earlier, xe, "N")], [(earlier, xe, "K"), (later, xl, "N")], "<")
    n = len(var)
    if not n:
        return pd.DataFrame(columns=["release", "row", "count", "lo", "hi", "solved"])
    rows, cols, vals, lo_b, hi_b = [], [], [], [], []
    for i, (co, const, s) in enumerate(rels):
        for j, v in co.items():
            rows.append(i), cols.append(j), vals.append(v)
        lo_b.append(-const if s == "=" else -np.inf)
        hi_b.append(-const)
    A = sparse.csr_matrix((vals, (rows, cols)), shape=(len(rels), n))
    cons = [LinearConstraint(A, lo_b, hi_b)]
    out = []
    # every whole-number solution found is a table the intruder cannot rule out: once two of them differ by the
    # width of the range in a count, that count is neither pinned nor narrowed, and is not solved for again
    seen: list[np.ndarray] = []

    def spread(c):
        if not seen:
            return np.inf, -np.inf
        v = np.array([c @ x for x in seen])
        return float(v.min()), float(v.max())

    for (k, r, what), j in var.items():
        exprs = [(what, {j: 1.0})]
        if what == "K":
            exprs.append(("complement", {var[(k, r, "N")]: 1.0, j: -1.0}))
        for name, co in exprs:
            c = np.zeros(n)
            for jj, v in co.items():
                c[jj] = v
            low, high = spread(c)
            solved = high - low < WIDEST()
            if solved:
                ends = []
                for sign in (1.0, -1.0):
                    res = milp(sign * c, constraints=cons, integrality=np.ones(n), bounds=Bounds(0, np.inf),
                               options={"time_limit": 30})
                    if res.status == 3 or res.x is None:
                        ends.append(-np.inf * sign if res.status == 3 else np.nan)
                    else:
                        x = np.round(res.x)
                        seen.append(x)
                        ends.append(float(c @ x))
                low, high = ends
            out.append((k, r, {"N": "denominator", "K": "numerator"}.get(name, name), low, high, solved))
    out = pd.DataFrame(out, columns=["release", "row", "count", "lo", "hi", "solved"])
    out.attrs["published"] = pubs
    return out


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
        seen = read_folder(leak)
        assert float(seen.at[r, "denominator"]) == float(truth) and not seen.at[r, "suppressed"], where


def test_area_pack_and_small_area_pack_learn_nothing(fw, tmp_path):
    from measurekit.publish.disclosure import protect
    from measurekit.publish.ledger import Ledger

    cohort = mk.make_cohort(800, random_state=14, truth=False)
    lookup = cohort.tables["small_areas"]
    nest = dict(zip(lookup["small_area"], lookup["neighbourhood_code"]))
    areas = mk.board_table(cohort, framework=fw, disclosure=False, period="2024/25")
    small = mk.board_table(cohort, framework=fw, disclosure=False, period="2024/25", small_areas=True)
    first = protect(areas, fw)
    led = Ledger(tmp_path / "ledger")
    led.record(areas, first.table, "areas")
    second = protect(small, fw, nesting=nest, earlier=led)
    first.table.to_csv(tmp_path / "a.csv", index=False)
    second.table.to_csv(tmp_path / "b.csv", index=False)
    v = judge(attack([tmp_path / "a.csv", tmp_path / "b.csv"], lookup=nest),
              [areas.reset_index(drop=True), small.reset_index(drop=True)])
    assert v["exact"] == 0 and v["small_narrowed"] == 0, v
