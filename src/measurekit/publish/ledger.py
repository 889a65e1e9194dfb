"""The publication ledger: what has been released before, so a new release is audited with the old ones.

A ledger is a folder the analyst names (``--ledger DIR``; keep it on the council network beside the
pseudonymised data, never in a shareable folder). Each release is one sub-folder
``releases/<nnnn>-<label>/`` written atomically:

* ``published.csv``: the board table exactly as released (what every reader holds);
* ``counts.csv`` (INTERNAL, as sensitive as the child-level data): the true numerator and
  denominator of every row of that release, the table before disclosure control. The joint audit
  needs them to know which withheld counts are small and to check that its model is sound;
* ``release.json``: label, period(s), geography types and codes, rows and rows withheld, the
  small-area lookup used, and when it was recorded.

:func:`joint_model` puts an earlier release and a new table into one intruder's problem: every
relation within each release, and for each cell both publish about the same period (same
indicator, period, geography and breakdown) the relation between the two counts that holds in the
data: equal (a re-run, or the same cells in a pack by other geographies or breakdowns), or never
smaller (a re-run with late records added: the difference is itself a table of children, never
negative and no larger in the numerator than in the denominator). Disclosure control then chooses
the new pattern with the earlier patterns fixed (:func:`measurekit.publish.disclosure.protect` with
``earlier=``): a cell withheld before is withheld again where publishing it would open it, and a
release no pattern can protect is refused (``disclosure_infeasible``).
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from measurekit.publish import disclosure_audit as _audit

KEY = ["indicator_id", "period", "geography_type", "geography_code", "breakdown", "breakdown_value"]
COUNTS = KEY + ["numerator", "denominator"]
#: a release that differs from an earlier one about the same children by fewer than this many children in every
#: cell they share is refused (``ledger_small_change``): subtracting the two is a table of those few children
#: (where they live, their groups, their outcomes), every count of which is small. 10 is the group-disclosure
#: threshold (``all_or_none_below``).
MIN_CHANGE = 10


@dataclasses.dataclass
class Release:
    """One earlier release: ``counts`` (true numerator and denominator per row, internal),
    ``published`` (the table as released), ``suppressed`` (bool per row), ``nesting`` (small area
    -> area, or None) and ``meta`` (release.json)."""

    counts: pd.DataFrame
    published: pd.DataFrame
    suppressed: np.ndarray
    nesting: dict | None
    meta: dict
    #: the new release's period this release is linked to when it is about another period that shares children
    #: (a declared relation, ``Ledger(..., shares_children_with=...)``); None: matched on its own period
    linked_to: str | None = None

    @property
    def label(self) -> str:
        return str(self.meta.get("label", "earlier release"))


def _problem(code: str, message: str, **where):
    from measurekit.problems import InputError, ProblemReport

    report = ProblemReport()
    report.add(code, message, **where)
    return InputError(report)


class Ledger:
    """A folder of earlier releases (see the module docstring).

    ``shares_children_with``: periods of earlier releases about (some of) the same children as the new
    release, e.g. ``["2024/25"]`` for next year's pack of a mixed-age cohort. The pack has no child ids, so
    sharing children is never detected: it is declared. Releases of those periods are then audited with the
    new one as if they were about its period (cell for cell: equal, or one never smaller, as the true counts
    show), and the declaration is recorded with the new release.
    """

    def __init__(self, path, shares_children_with=()):
        self.path = Path(path)
        if isinstance(shares_children_with, str):
            shares_children_with = [shares_children_with]
        self.shares_children_with = [str(p) for p in shares_children_with]

    def _folders(self) -> list[Path]:
        root = self.path / "releases"
        return (sorted(p for p in root.iterdir() if p.is_dir() and (p / "release.json").is_file())
                if root.is_dir() else [])

    def releases(self, periods=None) -> list[Release]:
        """Every recorded release (about ``periods`` only, when given, and the periods declared in
        ``shares_children_with``, linked to the first of ``periods``), oldest first."""
        out = []
        for folder in self._folders():
            try:
                meta = json.loads((folder / "release.json").read_text(encoding="utf-8"))
                dtype = {"geography_code": str, "breakdown_value": str, "period": str}
                counts = pd.read_csv(folder / "counts.csv", dtype=dtype, keep_default_na=False,
                                     na_values={"numerator": [""], "denominator": [""]})
                pub = pd.read_csv(folder / "published.csv", dtype=dtype, keep_default_na=False,
                                  na_values={"numerator": [""], "denominator": [""]})
            except (OSError, ValueError, KeyError) as exc:
                raise _problem("ledger_unreadable", f"release {folder.name} cannot be read: {exc}",
                               file=str(folder)) from None
            linked = None
            own = set(map(str, meta.get("periods", [])))
            if periods is not None and not own & set(map(str, periods)):
                if not own & set(self.shares_children_with):
                    continue
                linked = str(sorted(map(str, periods))[0])
            supp = pub["suppressed"].astype(str).str.lower().eq("true").to_numpy()
            out.append(Release(counts, pub, supp, meta.get("nesting"), meta, linked))
        return out

    def summary(self) -> pd.DataFrame:
        """One row per recorded release: folder, label, periods, geography types, rows, rows withheld,
        periods it was declared to share children with, when it was recorded."""
        rows = []
        for folder in self._folders():
            try:
                meta = json.loads((folder / "release.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise _problem("ledger_unreadable", f"release {folder.name} cannot be read: {exc}",
                               file=str(folder)) from None
            rows.append({"release": folder.name, "label": meta.get("label", ""),
                         "periods": ", ".join(meta.get("periods", [])),
                         "geography_types": ", ".join(meta.get("geography_types", [])),
                         "rows": meta.get("rows"), "rows_withheld": meta.get("rows_withheld"),
                         "shares_children_with": ", ".join(meta.get("shares_children_with", [])),
                         "recorded": meta.get("recorded", "")})
        return pd.DataFrame(rows, columns=["release", "label", "periods", "geography_types", "rows",
                                           "rows_withheld", "shares_children_with", "recorded"])

    def record(self, counts: pd.DataFrame, published: pd.DataFrame, label: str = "release",
               nesting: dict | None = None) -> Path:
        """Add a release: ``counts`` is the table before disclosure control (true counts, the same rows
        in the same order as ``published``), ``published`` the table as released."""
        from measurekit.core import atomic

        c = counts.reset_index(drop=True)
        p = published.reset_index(drop=True)
        _check_same_rows(c, p)
        n = len(self._folders()) + 1
        slug = re.sub(r"[^a-z0-9]+", "-", str(label).lower()).strip("-") or "release"
        folder = self.path / "releases" / f"{n:04d}-{slug}"
        supp = p["suppressed"].astype(str).str.lower().eq("true")
        meta = {"label": str(label), "recorded": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "periods": sorted(map(str, p["period"].unique())),
                "geography_types": sorted(map(str, p["geography_type"].unique())),
                "areas": sorted(map(str, p.loc[p["geography_type"] != "la", "geography_code"].unique())),
                "rows": int(len(p)), "rows_withheld": int(supp.sum()), "nesting": nesting,
                "shares_children_with": list(self.shares_children_with)}
        with atomic.atomic_directory(folder) as tmp:
            atomic.write_csv(tmp / "counts.csv", c[COUNTS])
            atomic.write_csv(tmp / "published.csv", p)
            (tmp / "release.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return folder

    def register(self, published_csv, counts: pd.DataFrame, label: str = "earlier release",
                 nesting: dict | None = None) -> Path:
        """Register a release made before the ledger existed: ``published_csv`` is the board table as it
        was released, ``counts`` the table before disclosure control re-made from the data as they were
        (``board_table(..., disclosure=False)``). The published values are checked against the counts."""
        dtype = {"geography_code": str, "breakdown_value": str, "period": str}
        pub = pd.read_csv(published_csv, dtype=dtype, keep_default_na=False,
                          na_values={"numerator": [""], "denominator": [""]})
        c = counts.reset_index(drop=True)
        merged = pub[KEY].merge(c[COUNTS].reset_index(), on=KEY, how="left")
        if merged["index"].isna().any():
            bad = merged[merged["index"].isna()].iloc[0]
            raise _problem("ledger_mismatch", "a row of the published table is not in the counts given",
                           file=str(published_csv), row=int(merged.index[merged["index"].isna()][0]),
                           column="geography_code", value=str(bad["geography_code"]))
        return self.record(c.loc[merged["index"].astype(int)].reset_index(drop=True), pub, label, nesting)


def _check_same_rows(counts: pd.DataFrame, published: pd.DataFrame) -> None:
    if (len(counts) != len(published)
            or not (counts[KEY].astype(str).to_numpy() == published[KEY].astype(str).to_numpy()).all()):
        raise _problem("ledger_mismatch", "the counts and the published table do not have the same rows in the "
                       "same order", column="indicator_id")
    supp = published["suppressed"].astype(str).str.lower().eq("true").to_numpy()
    pd_den = pd.to_numeric(published["denominator"], errors="coerce").to_numpy(dtype=float)
    den = counts["denominator"].to_numpy(dtype=float)
    off = ~supp & ~np.isnan(pd_den) & (np.abs(pd_den - den) > 2.5)   # rounding to 5 moves a count by at most 2
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise _problem("ledger_mismatch", f"published denominator {pd_den[i]:g} does not fit the count {den[i]:g}",
                       row=i, column="denominator", value=str(pd_den[i]))


@dataclasses.dataclass
class JointModel:
    """The new table's model followed by the earlier releases' rows (``model``: one CountModel, rows of
    the new table first), with the earlier patterns and rounding."""

    model: _audit.CountModel
    old_suppressed: np.ndarray
    old_rounding: np.ndarray
    labels: list = dataclasses.field(default_factory=list)    # the earlier releases audited with the new one


def _as_releases(earlier, periods) -> list[Release]:
    if isinstance(earlier, Ledger):
        return earlier.releases(periods)
    if isinstance(earlier, (str, Path)):
        return Ledger(earlier).releases(periods)
    if isinstance(earlier, Release):
        return [earlier]
    return list(earlier)


def _relate(truth, den_var, num_var, n_rows, o_rows, link, link3, small_change) -> list:
    """Tell the intruder how the cells ``n_rows`` (a release, or a later period) and ``o_rows`` (an earlier one,
    about the same children, cell for cell) are related, as their true counts show: equal (a re-run), or one never
    smaller than the other with the numerators growing by no more than the denominators (children added, or
    removed). ``link(p, q, s)`` adds p - q (= | <) 0, ``link3`` (a - b) - (c - d) < 0. Returns the row pairs tied
    by equal counts (groups for secondary suppression). ``small_change(change)``: the problem raised when the
    two differ by fewer than ``MIN_CHANGE`` children in every cell (their difference would describe them)."""
    pairs = [(den_var[n_rows], den_var[o_rows])]
    has_num = (num_var[n_rows] >= 0) & (num_var[o_rows] >= 0)
    pairs.append((num_var[n_rows][has_num], num_var[o_rows][has_num]))
    nv = np.concatenate([p[0] for p in pairs])
    ov = np.concatenate([p[1] for p in pairs])
    diff = truth[nv] - truth[ov]
    change = float(np.max(np.abs(diff))) if len(diff) else 0.0
    if 0.5 < change < MIN_CHANGE:
        raise small_change(change)
    if np.allclose(diff, 0):
        for p, q in zip(nv.tolist(), ov.tolist()):
            link(p, q, "=")
        return [np.array([a, b]) for a, b in zip(np.asarray(n_rows).tolist(), np.asarray(o_rows).tolist())]
    sign = 1.0 if (diff >= -1e-9).all() else -1.0 if (diff <= 1e-9).all() else 0.0
    if sign:   # the change is all additions (or all removals): a table of children in its own right
        for p, q in zip(nv.tolist(), ov.tolist()):
            link(q, p, "<") if sign > 0 else link(p, q, "<")
        hn = np.flatnonzero(has_num)
        dn, do_ = den_var[n_rows][hn], den_var[o_rows][hn]
        nn, no = num_var[n_rows][hn], num_var[o_rows][hn]
        for a, b, c, d in zip(nn.tolist(), no.tolist(), dn.tolist(), do_.tolist()):
            if sign > 0:
                link3(a, b, c, d, "<")        # added with the outcome <= added
            else:
                link3(b, a, d, c, "<")
    return []


def link_periods(model: _audit.CountModel, pairs) -> _audit.CountModel:
    """``model`` (one table of several periods) with the periods declared to hold the same children related cell
    for cell, as a release and an earlier one about the same children are (:func:`_relate`): ``pairs`` of
    (later period, earlier period). Without such a declaration nothing links two periods' counts: every sum is
    within a period, and a child in two periods' data is a validation error."""
    from scipy import sparse

    t = model.table
    period = t["period"].astype(str).to_numpy()
    cell = t[[c for c in KEY if c != "period"]].astype(str).agg("\x1f".join, axis=1).to_numpy()
    rows_i: list[int] = []
    cols_i: list[int] = []
    vals_i: list[float] = []
    sense: list[str] = []
    groups = list(model.groups)

    def link(p, q, s):
        rows_i.extend([len(sense)] * 2), cols_i.extend([p, q]), vals_i.extend([1.0, -1.0]), sense.append(s)

    def link3(a, b, c, d, s):
        rows_i.extend([len(sense)] * 4), cols_i.extend([a, b, c, d]), vals_i.extend([1.0, -1.0, -1.0, 1.0])
        sense.append(s)

    for later, earlier in pairs:
        a = pd.Series(np.flatnonzero(period == str(later)), index=cell[period == str(later)])
        b = pd.Series(np.flatnonzero(period == str(earlier)), index=cell[period == str(earlier)])
        shared = a.index.intersection(b.index)
        if not len(shared) or str(later) == str(earlier):
            continue
        groups += _relate(model.truth, model.den_var, model.num_var, a[shared].to_numpy(), b[shared].to_numpy(),
                          link, link3, lambda change, la=later, ea=earlier: _problem(
                              "ledger_small_change",
                              f"periods {la} and {ea} are declared to hold the same children but differ by at most "
                              f"{change:g} children in every cell: subtracting one from the other would tell a reader "
                              f"about those children", column="period", value=f"{la}",
                              rule=f"periods that share children differ by none or at least {MIN_CHANGE} children"))
    if not sense:
        return model
    E = sparse.csr_matrix((vals_i, (rows_i, cols_i)), shape=(len(sense), model.n_vars))
    return dataclasses.replace(model, A=sparse.vstack([model.A, E], format="csr"),
                               sense=np.concatenate([model.sense, np.array(sense, dtype=object)]), groups=groups)


def joint_model(model: _audit.CountModel, table: pd.DataFrame, earlier, framework) -> JointModel | None:
    """One intruder's problem for ``table`` (whose model is ``model``) and the earlier releases about
    the same period(s); None when there are none."""
    from scipy import sparse

    t = table.reset_index(drop=True)
    rels = _as_releases(earlier, sorted(map(str, t["period"].unique())))
    rules = {ind.id: ind for ind in framework.indicators}
    models, supps, rounds = [model], [], []
    for rel in rels:
        old = rel.counts.copy()
        old = old[old["indicator_id"].isin(rules)].reset_index(drop=True)
        if rel.linked_to is not None and old["period"].nunique() == 1:   # declared: about the same children
            old["period"] = rel.linked_to
        keep = rel.counts["indicator_id"].isin(rules).to_numpy()
        for c in ("geography_name", "indicator_title"):
            old[c] = ""
        models.append(_audit.build_model(old, framework, nesting=rel.nesting))
        supps.append(rel.suppressed[keep])
        rounds.append(np.array([np.nan if rules[i].disclosure.round_to is None else float(rules[i].disclosure.round_to)
                                for i in old["indicator_id"]]))
    if len(models) == 1:
        return None
    # stack the models block-diagonally
    row_off, var_off = 0, 0
    den_vars, num_vars, var_row, truths, blocks, senses, groups, smin, smax, is_prop, tables, same = (
        [] for _ in range(12))
    for k, m in enumerate(models):
        den_vars.append(m.den_var + var_off)
        num_vars.append(np.where(m.num_var >= 0, m.num_var + var_off, -1))
        var_row.append(m.var_row + row_off)
        truths.append(m.truth)
        blocks.append(m.A)
        senses.append(m.sense)
        groups += [g + row_off for g in m.groups]
        if m.same_count is not None:
            same.append(m.same_count + var_off)
        smin.append(m.smin)
        smax.append(m.smax)
        is_prop.append(m.is_prop)
        tables.append(m.table.assign(release=k)[KEY + ["numerator", "denominator", "release"]])
        row_off += len(m.table)
        var_off += m.n_vars
    den_var, num_var, truth = np.concatenate(den_vars), np.concatenate(num_vars), np.concatenate(truths)
    A = sparse.block_diag(blocks, format="csr")
    extra_r: list[int] = []
    extra_c: list[int] = []
    extra_v: list[float] = []
    extra_s: list[str] = []

    def link(p, q, s):     # p - q (= | <) 0
        k = A.shape[0] + len(extra_s)
        extra_r.extend([k, k]), extra_c.extend([p, q]), extra_v.extend([1.0, -1.0]), extra_s.append(s)

    def link3(a, b, c, d, s):   # (a - b) - (c - d) < 0
        k = A.shape[0] + len(extra_s)
        extra_r.extend([k] * 4), extra_c.extend([a, b, c, d]), extra_v.extend([1.0, -1.0, -1.0, 1.0])
        extra_s.append(s)

    big = pd.concat(tables, ignore_index=True)
    key = big[KEY].astype(str).agg("\x1f".join, axis=1)
    new_idx = pd.Series(np.arange(len(t)), index=key[:len(t)].to_numpy())
    new_idx = new_idx[~new_idx.index.duplicated()]
    start = len(t)
    for rel, m in zip(rels, models[1:]):
        rows = np.arange(start, start + len(m.table))
        start += len(m.table)
        keys = key.to_numpy()[rows]
        shared = pd.Index(keys).isin(new_idx.index)
        if not shared.any():
            continue
        o_rows, n_rows = rows[shared], new_idx[keys[shared]].to_numpy()
        groups += _relate(truth, den_var, num_var, n_rows, o_rows, link, link3, lambda change, rel=rel: _problem(
            "ledger_small_change",
            f"this release differs from the earlier release '{rel.label}' (period "
            f"{', '.join(map(str, rel.meta.get('periods', [])))}) by at most {change:g} children in every cell "
            f"both publish: subtracting one from the other would tell a reader about those children (where they "
            f"live, their groups, their outcomes). A release that close to an earlier one cannot be protected",
            file=str(rel.meta.get("label", "")), column="denominator", value=f"{change:g}",
            rule=f"a re-issue differs from every earlier release of the same children by none or at least "
                 f"{MIN_CHANGE} children"))
    if extra_s:
        E = sparse.csr_matrix((extra_v, ([r - A.shape[0] for r in extra_r], extra_c)), shape=(len(extra_s), A.shape[1]))
        A = sparse.vstack([A, E], format="csr")
    sense = np.concatenate(senses + [np.array(extra_s, dtype=object)]) if extra_s else np.concatenate(senses)
    joint = _audit.CountModel(big, den_var, num_var, np.concatenate(var_row), truth, A, sense, groups,
                              np.concatenate(smin), np.concatenate(smax), np.concatenate(is_prop),
                              np.concatenate(same) if same else None)
    return JointModel(joint, np.concatenate(supps), np.concatenate(rounds), [r.label for r in rels])
