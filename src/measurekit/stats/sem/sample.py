"""Step 2 of a fit: the sample statistics, after the one set of input checks every estimator shares
(lavaan's ``lav_data`` and ``lav_samplestats``).

- :func:`select` checks the columns (in the data, not empty, numeric), keeps the rows an estimator
  uses (complete rows for ML and WLSMV, rows with at least one answer for FIML), checks the groups and
  that every item varies, and words the sentence saying which rows were used;
- :func:`ml_sample`: covariance matrices (divided by N, lavaan's ``likelihood = "normal"``) and means
  per group;
- :func:`fiml_sample`: missing-data patterns per group, the saturated moments by EM and the
  log-likelihoods of the saturated and independence models;
- :func:`ordinal_sample`: codes, thresholds, polychoric correlations and their asymptotic covariance
  (Gamma) per group.
"""
from __future__ import annotations

import warnings as _warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.problems import InputError, Problem, ProblemReport
from measurekit.stats.sem.syntax import MeasurementModel


def plain(v):
    """A value as users write it: numpy scalars become plain ints/floats/strings in messages."""
    return v.item() if isinstance(v, np.generic) else v


@dataclass
class Selection:
    """The rows an estimator uses: ``x`` (their answers, rows x items, float), ``g`` (their group values,
    None without groups), the groups in order of first appearance (lavaan's order: the first is the
    reference), the sentence for users, rows given and dropped."""
    x: np.ndarray
    g: np.ndarray | None
    groups: list
    note: str
    n_rows: int
    dropped: int

    def rows(self):
        """(group value, row selector) for every group (one group: (None, all rows))."""
        if self.g is None:
            return [(None, slice(None))]
        return [(v, self.g == v) for v in self.groups]


def _numpy_items(df: pd.DataFrame, obs: list[str]) -> np.ndarray | None:
    """The items as floats, column by column, when every one is a column of one numpy numeric dtype (None
    otherwise: a name used twice, nullable or text columns go through pandas). Column-major, as
    ``df[obs].to_numpy()`` gives it, so the sums over rows add in the same order."""
    if not df.columns.is_unique or len(set(obs)) != len(obs):
        return None
    cols = [df[name] for name in obs]
    if not all(isinstance(c.dtype, np.dtype) and c.dtype.kind in "fiub" for c in cols):
        return None
    x = np.empty((len(df), len(obs)), order="F")
    for j, c in enumerate(cols):
        x[:, j] = c.to_numpy(dtype=float)
    return x


def check_columns(df: pd.DataFrame, obs: list[str], group: str | None) -> np.ndarray:
    """Every item and the group are columns; every item has answers and is numeric. Returns the
    items as a float matrix (all rows)."""
    report = ProblemReport(title="CFA input")
    for name in obs + ([group] if group else []):
        if name not in df.columns:
            report.add("unknown_variable", f"The model or group uses {name!r}, which is not a column of the data.",
                       column=name)
    report.raise_if_errors()
    x = _numpy_items(df, obs)
    if x is not None:
        numeric = [True] * len(obs)
    else:
        items = df[obs]
        numeric = [pd.api.types.is_numeric_dtype(t) for t in items.dtypes]
        x = items.to_numpy(float, na_value=np.nan) if all(numeric) else None
    empty = np.isnan(x).all(axis=0) if x is not None else items.isna().all().to_numpy()
    for i, name in enumerate(obs):
        if empty[i]:
            report.add("all_missing", f"{name} has no answers: every one of the {len(df):,} rows is missing. Leave it "
                       "out of the model.", column=name)
        elif not numeric[i]:
            report.add("non_numeric", f"{name} is not numeric; recode it first.", column=name)
    report.raise_if_errors()
    assert x is not None                    # every item numeric, or an error was raised above
    for i, j in zip(*np.nonzero(np.isinf(x))):
        if not any(p.column == obs[j] for p in report.problems):
            report.add("infinite_value", f"{obs[j]} is {plain(x[i, j])} in row {i + 2} (index {df.index[i]!r}); "
                       "answers must be finite numbers (leave a missing answer blank).", column=obs[j], row=int(i) + 2,
                       value=plain(x[i, j]))
    report.raise_if_errors()
    return x


def select(df: pd.DataFrame, obs: list[str], group: str | None, rows: str = "complete") -> Selection:
    """Checked columns, the rows used (``rows``: "complete", or "any" answer for FIML) and the groups."""
    x = check_columns(df, obs, group)
    present = ~np.isnan(x)
    keep = present.all(axis=1) if rows == "complete" else present.any(axis=1)
    gv: np.ndarray | None = None
    no_group = np.zeros(len(df), dtype=bool)
    if group:
        gv = df[group].to_numpy()
        no_group = pd.isna(gv)
        keep &= ~no_group
    n_kept = int(keep.sum())
    dropped = len(df) - n_kept
    if rows == "complete":
        if dropped:
            by_item = pd.Series((~present).sum(axis=0), index=obs)
            worst = ", ".join(f"{k} ({int(v)})" for k, v in
                              by_item[by_item > 0].sort_values(ascending=False).head(3).items())
            why = f"missing answers (most often {worst})" if worst else ""
            if group and no_group.any():
                why = (why + " or " if why else "") + f"a missing {group}"
            note = (f"Used {n_kept:,} of {len(df):,} rows; {dropped:,} dropped because of {why} "
                    "(listwise deletion; missing='ml' uses every row with at least one answer).")
        else:
            note = f"Used all {n_kept:,} rows (none had missing answers)."
    else:
        partial = int((~present[keep]).any(axis=1).sum())
        note = (f"Used {n_kept:,} of {len(df):,} rows (full-information ML: {partial:,} rows with some answers "
                "missing are used for what they answered)"
                + (f"; {dropped:,} dropped because they answered no item" + (f" or have no {group}" if group else "")
                   if dropped else "") + ".")
    if dropped:
        x = x[keep]
        gv = gv[keep] if gv is not None else None
    groups = [None] if gv is None else list(pd.unique(gv))
    if group and len(groups) < 2:
        with_data = "complete data" if rows == "complete" else "data"
        raise InputError(ProblemReport([Problem(
            "one_group", f"{group} has {len(groups)} group(s) with {with_data} "
            f"({', '.join(str(plain(g)) for g in groups) or 'none'}); comparing groups needs at least two.",
            column=group)]))
    sel = Selection(x, gv, groups, note, len(df), dropped)
    check_variation(sel, obs)
    return sel


def check_variation(sel: Selection, obs: list[str]) -> None:
    """Every item must vary (overall and within each group) and have answers in each group."""
    report = ProblemReport(title="CFA input")
    parts = [(None, slice(None))] + (sel.rows() if sel.g is not None else [])
    for where, rows in parts:
        sub = sel.x[rows]
        if not len(sub):
            continue
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore", RuntimeWarning)          # all-missing columns
            hi, lo = np.nanmax(sub, axis=0), np.nanmin(sub, axis=0)
        for i in np.flatnonzero(np.isnan(hi)):
            if not any(p.column == obs[i] for p in report.problems):
                report.add("all_missing", f"{obs[i]} has no answers in group {plain(where)}, so it cannot be "
                           "estimated there. Leave it out, or merge groups.", column=obs[i], value=plain(where))
        for i in np.flatnonzero(hi == lo):
            xi = obs[i]
            value = plain(sub[~np.isnan(sub[:, i]), i][0])
            value = int(value) if isinstance(value, float) and value == int(value) else value
            if where is None:
                report.add("constant_item", f"{xi} has no variance: every row has the same answer ({value}). "
                           "Leave it out of the model.", column=xi, value=value)
            elif not any(p.column == xi for p in report.problems):
                report.add("constant_item", f"{xi} has no variance in group {plain(where)} (everyone answered "
                           f"{value}). Leave it out, or merge groups.", column=xi, value=plain(where))
    report.raise_if_errors()


def too_few(where, n: int, need: int, message: str, group: str | None) -> InputError:
    return InputError(ProblemReport([Problem(
        "too_few_cases", f"{'Group ' + str(plain(where)) if where is not None else 'The data'} has {n} {message}",
        column=group, value=None if where is None else str(plain(where)))]))


def few_categories(x: np.ndarray) -> bool:
    """True when some item has 7 or fewer distinct answers (the ordinal route would suit it better).

    Counted as ``(np.diff(np.sort(col)) != 0).sum() + 1 - any missing``, which also counts every missing
    answer after the first; item by item, stopping at the first such item, and an item whose first 64 rows
    already hold more than 7 values is passed over without sorting all of it."""
    for j in range(x.shape[1]):
        col = x[:, j]
        head = col[:64]
        if len(np.unique(head[~np.isnan(head)])) > 7:
            continue
        srt = np.sort(col)
        if (np.diff(srt) != 0).sum() + 1 - bool(np.isnan(srt).any()) <= 7:
            return True
    return False


@dataclass
class Moments:
    """Per group: covariance matrix S (divided by N), mean vector M and size N; stacked once."""
    S: list[np.ndarray]
    M: list[np.ndarray]
    N: np.ndarray
    S_all: np.ndarray = field(init=False, repr=False)
    M_all: np.ndarray = field(init=False, repr=False)
    logdet_S: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        self.S_all, self.M_all = np.stack(self.S), np.stack(self.M)
        self.logdet_S = np.linalg.slogdet(self.S_all)[1]

    def stacked(self):
        """(S, M, log det S) of every group as arrays."""
        return self.S_all, self.M_all, self.logdet_S


@dataclass
class MLSample:
    """Sample statistics for ML: the model and group column, the rows used, group names (as text) and
    moments."""
    model: MeasurementModel
    group: str | None
    selection: Selection
    groups: list[str]
    moments: Moments
    few_categories: bool


def ml_sample(df: pd.DataFrame, m: MeasurementModel, group: str | None) -> MLSample:
    """Complete rows, checks, and the covariance matrix and means of every group."""
    obs = m.observed
    sel = select(df, obs, group, "complete")
    x_all = sel.x
    S, M, N = [], [], []
    for g, rows in sel.rows():
        x = x_all[rows]
        if len(x) < len(obs) + 1:
            raise too_few(g, len(x), len(obs) + 1, f"complete cases, fewer than the {len(obs) + 1} needed for "
                          f"{len(obs)} variables. Merge groups or drop the grouping.", group)
        M.append(x.mean(axis=0))
        S.append(np.cov(x, rowvar=False, bias=True))
        N.append(len(x))
    return MLSample(m, group, sel, [str(g) for g in sel.groups], Moments(S, M, np.array(N, dtype=float)),
                    few_categories(x_all))


@dataclass
class FIMLSample:
    """Sample statistics for full-information ML: missing-data patterns per group, the saturated
    model's moments (EM) and the log-likelihoods of the saturated (h1) and independence models."""
    model: MeasurementModel
    group: str | None
    selection: Selection
    groups: list[str]
    patterns: list
    moments: Moments
    loglik_saturated: float
    loglik_baseline: float
    few_categories: bool


def fiml_sample(df: pd.DataFrame, m: MeasurementModel, group: str | None) -> FIMLSample:
    from measurekit.stats._numerics.fiml import (
        em_saturated,
        independence_loglik,
        patterns,
    )

    obs = m.observed
    sel = select(df, obs, group, "any")
    x_all = sel.x
    pats, S, M, N, ll1, ll_b = [], [], [], [], 0.0, 0.0
    for g, rows in sel.rows():
        x = x_all[rows]
        if len(x) < len(obs) + 1:
            raise too_few(g, len(x), len(obs) + 1, f"rows with answers, fewer than the {len(obs) + 1} needed to "
                          f"estimate the covariances of {len(obs)} variables. Merge groups or collect more "
                          "responses.", group)
        pg = patterns(x)
        Sig, mu, ll, _ = em_saturated(pg, len(obs))
        pats.append(pg)
        S.append(Sig)
        M.append(mu)
        N.append(len(x))
        ll1 += ll
        ll_b += independence_loglik(pg, len(obs))
    return FIMLSample(m, group, sel, [str(g) for g in sel.groups], pats, Moments(S, M, np.array(N, dtype=float)),
                      ll1, ll_b, few_categories(x_all))


# --------------------------------------------------------------------------- ordered items (WLSMV)
@dataclass
class OrdinalSample:
    """Sample statistics for WLSMV: the rows used, item codes 0..K-1, categories per item, the answer
    each code stands for, per group the thresholds, polychoric correlations and Gamma, and notes on
    merged answers."""
    model: MeasurementModel
    group: str | None
    selection: Selection
    groups: list[str]
    codes: np.ndarray
    ncat: np.ndarray
    levels: dict
    moments: list
    merged: list[str]

    @property
    def note(self) -> str:
        return self.selection.note


def ordinal_codes(answers: np.ndarray, items: list[str], gv: np.ndarray | None, groups: list, max_categories: int = 10,
                  merge_empty: bool = False):
    """Items as codes 0..K-1 (categories = the values seen in the data, pooled over groups), checked:
    whole numbers, at most ``max_categories`` values, at least two, and every category used in every group.
    With ``merge_empty`` an answer nobody in some group gave is merged with its neighbour (in every group)
    and a note says so; the notes are returned as a fourth value."""
    report = ProblemReport(title="Ordinal CFA input")
    levels, codes = {}, {}
    for col, x in enumerate(items):
        v = answers[:, col]
        if not np.all(v == np.round(v)):
            bad = plain(v[v != np.round(v)][0])
            report.add("non_numeric", f"{x} has the value {bad}; ordered items need whole-number codes (1, 2, 3, ...).",
                       column=x, value=bad)
            continue
        lv = np.unique(v)
        if len(lv) > max_categories:
            report.add("bad_option", f"{x} has {len(lv)} different answers; ordered items are meant for at most "
                       f"{max_categories} categories. Treat it as continuous (leave it out of ordered=).", column=x)
        levels[x] = lv
        codes[x] = np.searchsorted(lv, v)
    report.raise_if_errors()
    notes = []
    if gv is not None:
        for x in items:
            while True:
                counts = np.stack([np.bincount(codes[x][gv == g], minlength=len(levels[x])) for g in groups])
                empty = np.argwhere(counts == 0)
                if not len(empty) or not merge_empty:
                    break
                if len(levels[x]) <= 2:
                    break
                gi, k = empty[0]
                total = counts.sum(axis=0)
                # merge the empty answer with its neighbour (the less used one when there are two)
                nb = (k + 1 if k == 0 else k - 1 if k == len(total) - 1
                      else (k - 1 if total[k - 1] <= total[k + 1] else k + 1))
                lo_, hi_ = sorted((k, nb))
                notes.append(f"Nobody in group {plain(groups[gi])} answered {int(levels[x][k])} to {x}, so answers "
                             f"{int(levels[x][lo_])} and {int(levels[x][hi_])} of {x} were merged into one category "
                             "in every group (its thresholds could not be estimated otherwise).")
                codes[x] = np.where(codes[x] > lo_, codes[x] - 1, codes[x])
                levels[x] = np.delete(levels[x], hi_)
            for gi, k in np.argwhere(counts == 0):
                code = int(levels[x][k])
                report.add("small_group", f"Nobody in group {plain(groups[gi])} answered {code} to {x}, so "
                           "its thresholds cannot be estimated there. Merge that answer with its neighbour "
                           "(recode) or merge groups.", column=x, value=code)
        report.raise_if_errors()
    return np.column_stack([codes[x] for x in items]), np.array([len(levels[x]) for x in items]), levels, notes


def ordinal_items(m: MeasurementModel, ordered) -> list[str]:
    """The model's items, after checking ``ordered=`` names every one of them."""
    obs = m.observed
    if ordered is True:
        return obs
    ordered = [ordered] if isinstance(ordered, str) else list(ordered)
    missing = [x for x in obs if x not in ordered]
    if missing:
        raise InputError(ProblemReport([Problem(
            "bad_option", f"ordered= must name every item of the model (mixing ordinal and continuous items is not "
            f"supported); not named: {', '.join(missing)}. Use ordered=True for all.", value=", ".join(missing))]))
    return obs


def ordinal_sample(df: pd.DataFrame, m: MeasurementModel, group: str | None, ordered,
                   merge_empty: bool = False) -> OrdinalSample:
    """Complete rows, codes and, per group, the thresholds, polychoric correlations and Gamma."""
    from measurekit.stats._numerics.polychoric import ordinal_moments

    obs = ordinal_items(m, ordered)
    sel = select(df, obs, group, "complete")
    codes, ncat, levels, merged = ordinal_codes(sel.x, obs, sel.g, sel.groups, merge_empty=merge_empty)
    moments = []
    for g, rows in sel.rows():
        c = codes[rows]
        need = int((ncat - 1).sum()) + len(obs)
        if len(c) < need:
            raise too_few(g, len(c), need, f"complete rows, fewer than the {need} an ordinal CFA of {len(obs)} items "
                          "needs. Merge groups or treat the items as continuous.", group)
        moments.append(ordinal_moments(c, ncat))
    return OrdinalSample(m, group, sel, [str(g) for g in sel.groups], codes, ncat, levels, moments, merged)
