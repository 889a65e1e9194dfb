"""Disclosure control judged by an intruder who has only the published board_table.csv.

The intruder here is written independently of measurekit.publish.disclosure / disclosure_audit
(it imports neither): it reads the CSV, writes down every relation it can see or infer (sums to
totals, neighbourhoods to the borough, 0 <= numerator <= denominator, equal denominators of
indicators that agree in every cell both publish, voice denominators at most the coverage
numerator), and solves an integer programme (HiGHS: a linear programme first, in one model per group of related
counts kept open, and the integer programme when its optimum is fractional) for the lowest and highest value of
every suppressed numerator, denominator and complement.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.design import load_framework

from test_disclosure_attack import highs_model as _model

SMALL = (1, 5)          # the standard range; each indicator's own range is read from its specification (RANGES)
RANGES: dict = {}


# ----------------------------------------------------------------------------- the intruder
def intruder(csv_path) -> pd.DataFrame:
    """Bounds the intruder can derive: one row per suppressed count (row, count, lo, hi).

    When whole-number solutions already show a count can take values at least as far apart as
    the suppression range, lo and hi are those values (the true bounds are at least as wide);
    otherwise they are the integer programme's exact minimum and maximum."""
    import highspy
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    pub = pd.read_csv(csv_path, dtype={"geography_code": str, "breakdown_value": str}, keep_default_na=False,
                      na_values={"numerator": [""], "denominator": [""]})
    pub["suppressed"] = pub["suppressed"].astype(str).str.lower().eq("true")
    unknown: dict[tuple[int, str], int] = {}
    for r in pub.index[pub["suppressed"]]:
        unknown[(r, "N")] = len(unknown)
        if pub.at[r, "ci_method"] == "wilson":
            unknown[(r, "K")] = len(unknown)

    def term(r, what):
        if (r, what) in unknown:
            return {unknown[(r, what)]: 1.0}, 0.0
        return {}, float(pub.at[r, "denominator" if what == "N" else "numerator"])

    eqs, les = [], []       # (coefficients, constant): coefficients . x + constant (== | <=) 0

    def relate(pos_cells, neg_cells, what, into):
        co, const = {}, 0.0
        for cells, s in ((pos_cells, 1.0), (neg_cells, -1.0)):
            for r in cells:
                d, c = term(r, what)
                for j, a in d.items():
                    co[j] = co.get(j, 0.0) + s * a
                const += s * c
        if co:
            into.append((co, const))

    wilson = pub["ci_method"].eq("wilson")
    for what in ("N", "K"):
        use = pub if what == "N" else pub[wilson]
        alls = use[use["breakdown"] == "all"].set_index(["indicator_id", "geography_type", "geography_code"]).index
        all_row = dict(zip(alls, use.index[use["breakdown"] == "all"]))
        for (i, gt, gc, _), g in use[use["breakdown"] != "all"].groupby(
                ["indicator_id", "geography_type", "geography_code", "breakdown"]):
            if (i, gt, gc) in all_row:
                relate(list(g.index), [all_row[(i, gt, gc)]], what, eqs)
        la = use[use["geography_type"] == "la"]
        la_row = dict(zip(la.set_index(["indicator_id", "breakdown", "breakdown_value"]).index, la.index))
        for key, g in use[use["geography_type"] == "neighbourhood"].groupby(["indicator_id", "breakdown", "breakdown_value"]):
            if key in la_row:
                relate(list(g.index), [la_row[key]], what, eqs)
    for r in pub.index[pub["suppressed"] & wilson]:
        relate([r], [], "K", les)
        les[-1] = ({**les[-1][0], unknown[(r, "N")]: -1.0}, 0.0)
    # links between indicators, inferred from the cells both publish
    # (assumed when at least 5 cells, the borough total among them, are published by both and agree)
    cell = ["geography_type", "geography_code", "breakdown", "breakdown_value"]
    ids = list(pub["indicator_id"].unique())
    order = pub["geography_type"].ne("la") | pub["breakdown"].ne("all")        # the borough total first
    by = {i: pub[pub["indicator_id"] == i].assign(o=order).reset_index().sort_values(["o", "index"], kind="stable")
          .set_index(cell)["index"] for i in ids}
    for a in ids:
        for b in ids:
            if a >= b:
                continue
            shared = by[a].index.intersection(by[b].index)
            ra, rb = by[a][shared].to_numpy(), by[b][shared].to_numpy()
            both = ~pub.loc[ra, "suppressed"].to_numpy() & ~pub.loc[rb, "suppressed"].to_numpy()
            if both.sum() >= 5 and both[0] and np.array_equal(pub.loc[ra[both], "denominator"].to_numpy(),
                                                  pub.loc[rb[both], "denominator"].to_numpy()):
                for x, y in zip(ra, rb):
                    relate([x], [y], "N", eqs)
    cov = "parent_voice_coverage"
    for b in ids:
        if b == cov or b not in by or cov not in by:
            continue
        shared = by[b].index.intersection(by[cov].index)
        rb, rc = by[b][shared].to_numpy(), by[cov][shared].to_numpy()
        both = ~pub.loc[rb, "suppressed"].to_numpy() & ~pub.loc[rc, "suppressed"].to_numpy()
        nb, kc = pub.loc[rb[both], "denominator"].to_numpy(), pub.loc[rc[both], "numerator"].to_numpy()
        if both.sum() >= 5 and both[0] and (nb <= kc).all() and not (pub.loc[rb[both], "denominator"].to_numpy()
                                                         == pub.loc[rc[both], "denominator"].to_numpy()).all():
            for x, y in zip(rb, rc):
                dn, cn = term(x, "N")
                dk, ck = term(y, "K")
                co = dict(dn)
                for j, v in dk.items():
                    co[j] = co.get(j, 0.0) - v
                if co:
                    les.append((co, cn - ck))
    n = len(unknown)

    def matrix(rel):
        rows, cols, vals, rhs = [], [], [], []
        for k, (co, const) in enumerate(rel):
            for j, v in co.items():
                rows.append(k), cols.append(j), vals.append(v)
            rhs.append(-const)
        return sparse.csr_matrix((vals, (rows, cols)), shape=(len(rel), n)), np.array(rhs)

    Aeq, beq = matrix(eqs)
    Aub, bub = matrix(les)
    both = sparse.vstack([Aeq, Aub]).tocsr()
    ncomp, label = connected_components(abs(both).T @ abs(both), directed=False)
    out = []
    for comp in range(ncomp):
        cols = np.flatnonzero(label == comp)
        e = np.flatnonzero(np.asarray(abs(Aeq[:, cols]).sum(axis=1)).ravel() > 0)
        u = np.flatnonzero(np.asarray(abs(Aub[:, cols]).sum(axis=1)).ravel() > 0)
        ae, be, au, bu = Aeq[e][:, cols], beq[e], Aub[u][:, cols], bub[u]

        points = []
        h = _model(sparse.vstack([ae, au]).tocsc(), np.concatenate([be, np.full(len(u), -np.inf)]),
                   np.concatenate([be, bu]))
        mip = None
        every = np.arange(len(cols), dtype=np.int32)

        def lp(h, c, sign, upper):
            h.changeColsBounds(len(cols), every, np.zeros(len(cols)), np.full(len(cols), upper))
            h.changeColsCost(len(cols), every, sign * c)
            h.run()
            status = h.getModelStatus()
            if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
                return None
            assert status == highspy.HighsModelStatus.kOptimal, h.modelStatusToString(status)
            return np.asarray(h.getSolution().col_value)

        def best(c, sign):
            nonlocal mip
            x = lp(h, c, sign, highspy.kHighsInf)
            if x is None:
                return np.inf if sign < 0 else -np.inf
            if np.abs(x - np.round(x)).max(initial=0) > 1e-6:      # a fractional optimum: the integer programme
                if mip is None:
                    mip = _model(sparse.vstack([ae, au]).tocsc(), np.concatenate([be, np.full(len(u), -np.inf)]),
                                 np.concatenate([be, bu]), integer=True)
                x = lp(mip, c, sign, highspy.kHighsInf)
            points.append(np.round(x))
            return float(c @ np.round(x))

        # whole-number solutions of random objectives in a box: each is a value the intruder cannot rule out
        rng = np.random.default_rng(0)
        cap = 10 * np.nanmax(pub["denominator"].to_numpy(dtype=float)) + 10
        for k in range(12):
            x = lp(h, rng.uniform(0.1, 1, len(cols)), 1.0 if k % 2 else -1.0, cap)
            if np.abs(x - np.round(x)).max(initial=0) <= 1e-6:
                points.append(np.round(x))

        where = {j: k for k, j in enumerate(cols)}
        for (r, what), j in unknown.items():
            if j not in where:
                continue
            exprs = [(what, {j: 1.0})]
            if what == "K":
                exprs.append(("complement", {unknown[(r, "N")]: 1.0, j: -1.0}))
            for name, co in exprs:
                c = np.zeros(len(cols))
                for jj, v in co.items():
                    c[where[jj]] = v
                seen = np.array(points) @ c if points else []
                if len(seen) and max(seen) - min(seen) >= max([SMALL[1] - SMALL[0]]
                                                         + [b - a for a, b in RANGES.values()]) + 1:
                    lo, hi, solved = min(seen), max(seen), False     # wide enough: no need to solve to the end
                else:
                    lo, hi, solved = best(c, 1.0), best(c, -1.0), True
                out.append((r, {"N": "denominator", "K": "numerator"}.get(name, name), lo, hi, solved))
    return pd.DataFrame(out, columns=["row", "count", "lo", "hi", "solved"])


def _same_children(fw) -> dict:
    """indicator -> whose children its denominator counts, from the published definitions: "cohort" (every
    child) or "respondents" (the families who answered, also the numerator of the coverage indicator)."""
    return {ind.id: ind.compute.population for ind in fw.indicators}


def verdict(csv_path, truth: pd.DataFrame, fw=None) -> dict:
    """Attack the CSV; compare with the true counts (truth: the table before suppression, same rows).

    A small count is narrowed when the intruder's interval holds fewer whole values than the indicator's
    suppression range (from its specification; 1 to 5: 5 values, so hi - lo < 4). A withheld denominator the
    intruder pins is not counted as recovered when the same cell prints it anyway, as the denominator of another
    indicator about the same children (or, for the families who answered, the coverage indicator's numerator)."""
    b = intruder(csv_path)
    num, den = truth["numerator"].to_numpy(), truth["denominator"].to_numpy()
    true = np.where(b["count"] == "denominator", den[b["row"]],
                    np.where(b["count"] == "numerator", num[b["row"]], den[b["row"]] - num[b["row"]]))
    sound = (b["lo"] <= true + 1e-6) & (true <= b["hi"] + 1e-6)
    assert sound[b["solved"]].all()                                        # the intruder's model is sound
    pub = pd.read_csv(csv_path, dtype={"geography_code": str, "breakdown_value": str, "period": str},
                      keep_default_na=False, na_values={"numerator": [""], "denominator": [""]})
    ind = pub["indicator_id"].to_numpy()[b["row"]]
    if fw is not None:
        RANGES.update({i.id: (i.disclosure.suppress_min, i.disclosure.suppress_max) for i in fw.indicators})
    lo_s = np.array([RANGES.get(i, SMALL)[0] for i in ind], dtype=float)
    hi_s = np.array([RANGES.get(i, SMALL)[1] for i in ind], dtype=float)
    small = (true >= lo_s) & (true <= hi_s)
    width = (b["hi"] - b["lo"]).to_numpy()
    exact = width < 0.5
    if fw is not None:
        who = _same_children(fw)
        shown = pub["suppressed"].astype(str).str.lower().ne("true").to_numpy()
        cells = pub[["period", "geography_type", "geography_code", "breakdown", "breakdown_value"]].astype(str)
        key = cells.agg("|".join, axis=1).to_numpy()
        cover = {i.id for i in fw.indicators if i.compute.field == "responded"}
        for j in np.flatnonzero(exact & (b["count"] == "denominator").to_numpy()):
            r = int(b["row"].iloc[j])
            for o in np.flatnonzero((key == key[r]) & shown):
                same = who.get(ind[j]) is not None and who.get(pub.at[o, "indicator_id"]) == who.get(ind[j])
                if same and float(pub.at[o, "denominator"]) == den[r]:
                    exact[j] = False
                elif (who.get(ind[j]) == "respondents" and pub.at[o, "indicator_id"] in cover
                      and float(pub.at[o, "numerator"]) == den[r]):
                    exact[j] = False
    return {"suppressed_counts": len(b), "exact": int(exact.sum()),
            "small_narrowed": int((small & (width < np.maximum(hi_s - lo_s, 1))).sum())}


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def fw(framework_dir):
    return load_framework(framework_dir)


def _raw(fw, cohort):
    return mk.board_table(cohort, framework=fw, disclosure=False)


def _old_method(table, fw):
    """A minimal copy of the previous secondary suppression: within one indicator, a sum with one
    suppressed cell gets another (the smallest), until no sum has exactly one."""
    from measurekit.publish.disclosure import primary_mask

    t = table.reset_index(drop=True).copy()
    supp = primary_mask(t, fw)
    groups = []
    alls = {k: i for i, k in zip(t.index[t.breakdown == "all"], t.loc[t.breakdown == "all", ["indicator_id", "geography_type",
                                                                                            "geography_code"]].itertuples(index=False, name=None))}
    for key, g in t[t.breakdown != "all"].groupby(["indicator_id", "geography_type", "geography_code", "breakdown"]):
        groups.append([alls[key[:3]], *g.index])
    la = {k: i for i, k in zip(t.index[t.geography_type == "la"], t.loc[t.geography_type == "la", ["indicator_id", "breakdown",
                                                                                                  "breakdown_value"]].itertuples(index=False, name=None))}
    for key, g in t[t.geography_type == "neighbourhood"].groupby(["indicator_id", "breakdown", "breakdown_value"]):
        groups.append([la[key], *g.index])
    den = t["denominator"].to_numpy()
    changed = True
    while changed:
        changed = False
        for cells in groups:
            if sum(supp[c] for c in cells) == 1:
                cand = [c for c in cells[1:] if not supp[c] and den[c] > 0] or [c for c in cells[:1] if not supp[c]]
                if cand:
                    supp[min(cand, key=lambda c: den[c])] = True
                    changed = True
    t.loc[supp, ["numerator", "denominator", "value", "ci_low", "ci_high"]] = np.nan
    t["suppressed"] = supp
    return t


@pytest.fixture(scope="module")
def tables(fw, bundled_boards):
    """``get(n, seed)``: the board table (no disclosure) of a cohort of n children (3000, 1: the bundled cohort), and
    ``get(n, seed, protected=True)``: its ``protect()`` result with the bundled framework, each made once per module
    (two tests read the same table: the 300-child cohort of seed 1, and the bundled cohort protected as usual). The
    bundled cohort's: the session's shared ones (conftest ``bundled_boards``: its ``raw`` rows and ``protected()``,
    which tests/test_board_pack.py rounds by hand)."""
    from measurekit.publish.disclosure import protect

    made: dict = {(3000, 1, False): bundled_boards.raw.rows}

    def get(n, seed, protected=False):
        if (n, seed, protected) == (3000, 1, True):
            return bundled_boards.protected()
        if (n, seed, protected) not in made:
            if protected:
                made[(n, seed, True)] = protect(get(n, seed), fw)
            else:
                made[(n, seed, False)] = _raw(fw, mk.make_cohort(n, random_state=seed, truth=False))
        return made[(n, seed, protected)]

    return get


# ----------------------------------------------------------------------------- tests
@pytest.mark.parametrize("n,seed", [(150, 1), (150, 2), (300, 1), (300, 2), (800, 1), (800, 2), (3000, 1)])
def test_intruder_recovers_nothing(fw, tables, tmp_path, n, seed):
    raw, result = tables(n, seed), tables(n, seed, protected=True)
    result.table.to_csv(tmp_path / "board_table.csv", index=False)
    v = verdict(tmp_path / "board_table.csv", raw, fw)
    assert v["suppressed_counts"] > 0
    assert v["exact"] == 0, v
    assert v["small_narrowed"] == 0, v
    # the audit inside measurekit agrees: it passed
    assert result.audit.passed


def test_intruder_breaks_the_old_method(fw, tables, tmp_path):
    raw = tables(300, 1)
    _old_method(raw, fw).to_csv(tmp_path / "board_table.csv", index=False)
    v = verdict(tmp_path / "board_table.csv", raw, fw)
    assert v["exact"] > 0 and v["small_narrowed"] > 0, v


# ----------------------------------------------------------------------------- the shareable folder
def _small_counts_in_pack(folder) -> list[str]:
    """An independent scan of every file of a board pack for a count of 1-5 outside a suppressed cell."""
    import json
    import re

    from openpyxl import load_workbook

    found = []
    lo, hi = SMALL

    def table_rows(header, rows, where):
        h = [str(x).strip().lower() for x in header]
        idx = {name: h.index(name) for name in ("numerator", "denominator", "children", "n") if name in h}
        sym = h.index("symbol") if "symbol" in h else None
        for k, r in enumerate(rows):
            if sym is not None and sym < len(r) and str(r[sym]).strip() == "c":
                continue
            vals = {}
            for name, j in idx.items():
                try:
                    vals[name] = float(str(r[j]).replace(",", ""))
                except (ValueError, IndexError):
                    continue
                if lo <= vals[name] <= hi and vals[name] == int(vals[name]):
                    found.append(f"{where} row {k}: {name} = {vals[name]:g}")
            if {"numerator", "denominator"} <= set(vals) and vals["numerator"] == int(vals["numerator"]) \
                    and vals["numerator"] <= vals["denominator"] and lo <= vals["denominator"] - vals["numerator"] <= hi:
                found.append(f"{where} row {k}: denominator - numerator = {vals['denominator'] - vals['numerator']:g}")

    kinds = set()
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        kinds.add(p.suffix)
        where = p.relative_to(folder).as_posix()
        if p.suffix == ".csv":
            t = pd.read_csv(p, dtype=str, keep_default_na=False)
            wilson = t["ci_method"].eq("wilson") if "ci_method" in t else pd.Series(True, index=t.index)
            t.loc[~wilson, "numerator"] = ""                        # means: the numerator is a sum of scores
            table_rows(list(t.columns), t.to_numpy().tolist(), where)
        elif p.suffix == ".xlsx":
            wb = load_workbook(p, read_only=True)
            for ws in wb.worksheets:
                rows = [list(r) for r in ws.iter_rows(values_only=True)]
                for k, r in enumerate(rows):
                    if "Number of children" in r or "Denominator" in r:
                        names = {"Number of children": "denominator", "Denominator": "denominator",
                                 "Numerator": "numerator", "Symbol": "symbol"}     # "Sum of scores" (means) is no count
                        table_rows([names.get(x, x) for x in r], rows[k + 1:], f"{where}[{ws.title}]")
                        kinds.add("xlsx table")
                        break
            wb.close()
        elif p.suffix in (".html", ".md", ".txt"):
            text = p.read_text(encoding="utf-8")
            for tab in re.findall(r"<table.*?</table>", text, flags=re.S):
                trs = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, flags=re.S) for tr in re.findall(r"<tr.*?</tr>", tab, flags=re.S)]
                trs = [[re.sub(r"<[^>]+>", "", c).strip() for c in tr] for tr in trs if tr]
                if trs:
                    table_rows(trs[0], trs[1:], where)
            plain = re.sub(r"<[^>]+>|data:[^'\"]+", " ", text)
            for m in re.finditer(r"(?<![\d.])([1-5]) (children|families|pupils|parents)\b", plain):
                found.append(f"{where}: '{m.group(0)}'")
        elif p.suffix == ".json":
            def walk(o, path):
                if isinstance(o, dict):
                    for k, v in o.items():
                        if k in ("numerator", "denominator", "n", "count") and isinstance(v, (int, float)) and lo <= v <= hi:
                            found.append(f"{where}: {path}{k} = {v}")
                        walk(v, f"{path}{k}.")
                elif isinstance(o, list):
                    for v in o:
                        walk(v, path)
            walk(json.loads(p.read_text(encoding="utf-8")), "")
        else:
            found.append(f"{where}: a file the scan cannot read")
    assert {".csv", ".xlsx", "xlsx table", ".html", ".md", ".json"} <= kinds
    return found


@pytest.fixture(scope="module")
def pack(fw, tmp_path_factory):
    from measurekit.publish.board_pack import write_board_pack

    c = mk.make_cohort(300, random_state=3, truth=False)
    out = tmp_path_factory.mktemp("share") / "board_pack"
    write_board_pack(fw, c, out)
    return c, out


def test_shareable_pack_holds_no_small_count(pack, tmp_path):
    import shutil

    _, out = pack
    t = pd.read_csv(out / "board_table.csv")
    assert t["suppressed"].any() and (~t["suppressed"]).any()
    assert _small_counts_in_pack(out) == []
    # the scan can fail: the same pack with one suppressed row given back its complement of 3
    shutil.copytree(out, tmp_path / "leaky")
    i = int(np.flatnonzero(t["suppressed"] & t["ci_method"].eq("wilson"))[0])
    t.loc[i, ["numerator", "denominator", "suppressed", "symbol"]] = [20, 23, False, ""]
    t.to_csv(tmp_path / "leaky" / "board_table.csv", index=False)
    assert _small_counts_in_pack(tmp_path / "leaky") == [f"board_table.csv row {i}: denominator - numerator = 3"]


def test_gate_refuses_every_kind_of_leak(pack, tmp_path):
    import shutil

    from openpyxl import load_workbook

    from measurekit.publish.gate import DisclosureGateError, check_shareable

    _, out = pack
    assert len(check_shareable(out)) == 0
    plants = {
        "extra.csv": lambda d: (d / "extra.csv").write_text("send,group,n_cohort,n_responded\nsend,ehc_plan,11,4\n"),
        "note.md": lambda d: (d / "note.md").write_text("# Note\n\nOnly 3 children with an EHC plan answered.\n"),
        "page.html": lambda d: (d / "page.html").write_text("<table><tr><th>group</th><th>children</th></tr>"
                                                            "<tr><td>ehc_plan</td><td>2</td></tr></table>"),
        "meta.json": lambda d: (d / "meta.json").write_text('{"groups": [{"name": "ehc_plan", "count": 5}]}'),
        "chart.png": lambda d: (d / "chart.png").write_bytes(b"\x89PNG"),
    }
    for name, plant in plants.items():
        d = tmp_path / name
        shutil.copytree(out, d)
        plant(d)
        with pytest.raises(DisclosureGateError) as err:
            check_shareable(d)
        assert {p.file for p in err.value.report} == {name}, err.value.report.to_text()
    # a workbook with a small count typed into it
    d = tmp_path / "xlsx"
    shutil.copytree(out, d)
    wb = load_workbook(d / "board_pack.xlsx")
    ws = wb.worksheets[3]
    col = [c.value for c in ws[4]].index("Number of children") + 1
    ws.cell(row=5, column=col, value=4)
    wb.save(d / "board_pack.xlsx")
    with pytest.raises(DisclosureGateError, match="a count of 4"):
        check_shareable(d)


def test_board_pack_refuses_to_finish_when_the_gate_fails(fw, pack, tmp_path, monkeypatch):
    import shutil

    from measurekit.publish import board_pack, disclosure
    from measurekit.publish.gate import DisclosureGateError

    c, out = pack
    dest = tmp_path / "board_pack"
    shutil.copytree(out, dest)
    before = (dest / "board_table.csv").read_bytes()
    real = disclosure.protect

    def leaky(table, framework, *a, **k):            # publish one primary-suppressed row in the clear
        r = real(table, framework, *a, **k)
        i = int(np.flatnonzero(r.reasons.to_numpy() == "primary")[0])
        r.table.loc[i, ["numerator", "denominator", "value"]] = table.loc[i, ["numerator", "denominator", "value"]]
        r.table.loc[i, ["suppressed", "symbol"]] = [False, ""]
        return r

    monkeypatch.setattr(disclosure, "protect", leaky)
    with pytest.raises(DisclosureGateError):
        board_pack.write_board_pack(fw, c, dest)
    assert (dest / "board_table.csv").read_bytes() == before             # the previous pack is untouched


# ----------------------------------------------------------------------------- settings
def _framework_with(tmp_path, framework_dir, **disclosure):
    import shutil

    import yaml

    d = tmp_path / "fw"
    shutil.copytree(framework_dir, d)
    doc = yaml.safe_load((d / "indicators.yaml").read_text(encoding="utf-8"))
    doc["indicators"][0]["disclosure"] = {**doc["indicators"][0].get("disclosure", {}), **disclosure}
    (d / "indicators.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return d


@pytest.mark.parametrize("setting,code", [({"suppress_max": 0}, "suppress_range"),
                                          ({"suppress_min": 3, "suppress_max": 2}, "suppress_range"),
                                          ({"suppress_max": 3}, "weaker_disclosure"),
                                          ({"suppress_min": 2}, "weaker_disclosure"),
                                          ({"round_to": 0}, "weaker_disclosure"),
                                          ({"suppress_max": 3, "allow_weaker_disclosure": True}, "weaker_disclosure")])
def test_disclosure_settings_are_checked(tmp_path, framework_dir, setting, code):
    from measurekit.design import check_framework
    from measurekit.problems import CATALOGUE

    report = check_framework(_framework_with(tmp_path, framework_dir, **setting))
    codes = {p.code for p in report.errors}
    assert code in codes and code in CATALOGUE, report.to_text()
    assert any("disclosure" in (p.column or "") for p in report.errors if p.code == code)


def test_weaker_disclosure_is_said_in_plain_words(tmp_path, framework_dir, pack):
    from measurekit.design import check_framework
    from measurekit.publish.board_table import BoardTable
    from measurekit.publish.briefing import spec_markdown, write_briefings

    d = _framework_with(tmp_path, framework_dir, suppress_max=3, allow_weaker_disclosure=True,
                        reason="the board asked for counts of 4 and 5 and the IG lead agreed on 1 May")
    assert not check_framework(d).errors
    f = load_framework(d)
    ind = f.indicators[0]
    md = spec_markdown(f, ind)
    assert "WEAKER THAN THE STANDARD RULE" in md and "counts of 4 to 5 are published" in md and "IG lead agreed" in md
    assert "WEAKER" not in spec_markdown(f, f.indicators[1])
    _, out = pack
    numbers = ["numerator", "denominator", "value", "ci_low", "ci_high", "comparator"]
    table = pd.read_csv(out / "board_table.csv", dtype={"geography_code": str, "breakdown_value": str},
                        keep_default_na=False, na_values={c: [""] for c in numbers})
    write_briefings(BoardTable.from_rows(f, table), tmp_path / "briefing")
    page = next((tmp_path / "briefing").glob("*.html")).read_text(encoding="utf-8")
    assert f"For {ind.title}, small numbers are protected less than usual" in page


def _whole_groups(table: pd.DataFrame, below: int) -> pd.DataFrame:
    """Published proportion rows of 0% or 100% in a group of fewer than ``below`` children (read off the table)."""
    shown = table[~table["suppressed"].astype(bool) & table["ci_method"].eq("wilson")]
    num, den = shown["numerator"].astype(float), shown["denominator"].astype(float)
    return shown[(den > 0) & (den < below) & ((num == 0) | (num == den))]


def test_all_or_none_rule_withholds_group_disclosure(tmp_path, framework_dir, tables):
    """On by default below 10 children; raised to 30 here: no 0% or 100% of a group under 30 is published, the audit still passes and an
    independent intruder pins no withheld count."""
    import yaml

    from measurekit.design import check_framework
    from measurekit.publish.disclosure import protect
    from measurekit.publish.disclosure_audit import check_disclosure

    d = _framework_with(tmp_path, framework_dir)
    doc = yaml.safe_load((d / "indicators.yaml").read_text(encoding="utf-8"))
    for ind in doc["indicators"]:
        ind["disclosure"] = {**ind.get("disclosure", {}), "all_or_none_below": 30}
    (d / "indicators.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert not check_framework(d).errors
    strict = load_framework(d)
    raw = tables(3000, 1)                                           # the bundled 3,000 children
    before = tables(3000, 1, protected=True).table                 # protected with the bundled framework
    assert len(_whole_groups(before, 30)) > 0                      # the default publishes such rows
    result = protect(raw, strict)
    assert len(_whole_groups(result.table, 30)) == 0 and result.audit.passed
    assert check_disclosure(result.table, strict) == [] and check_disclosure(before, strict) != []
    result.table.to_csv(tmp_path / "board_table.csv", index=False)
    v = verdict(tmp_path / "board_table.csv", raw, strict)
    assert v["exact"] == 0 and v["small_narrowed"] == 0, v
    assert "0% and 100% withheld in groups of fewer than 30 children" in strict.indicators[0].disclosure.describe()


def test_the_guarantee_follows_the_configured_range(tmp_path, framework_dir, cohort):
    """A wider suppression range (1 to 9) asks for wider intervals (9 possible values, not a constant 5): the audit
    requires it, and the independent intruder, reading each indicator's range from its specification, narrows no
    small count below it and pins nothing."""
    import yaml

    from measurekit.publish.disclosure import protect
    from measurekit.publish.disclosure_audit import required_width

    assert required_width(1, 5) == 4 and required_width(1, 9) == 8 and required_width(3, 3) == 1
    d = _framework_with(tmp_path, framework_dir)
    doc = yaml.safe_load((d / "indicators.yaml").read_text(encoding="utf-8"))
    for ind in doc["indicators"]:
        ind["disclosure"] = {**ind.get("disclosure", {}), "suppress_max": 9}
    (d / "indicators.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    wide = load_framework(d)
    raw = _raw(wide, cohort)
    result = protect(raw, wide)
    assert result.audit.passed
    req = result.audit.table["required"].to_numpy()
    assert set(np.unique(req)) <= {1.0, 8.0} and (req == 8.0).any()
    result.table.to_csv(tmp_path / "board_table.csv", index=False)
    v = verdict(tmp_path / "board_table.csv", raw, wide)
    assert v["suppressed_counts"] > 0
    assert v["exact"] == 0 and v["small_narrowed"] == 0, v
