"""Differential item functioning (DIF) by ordinal logistic regression, in the style of lordif.

By default items are matched on the graded-response trait with lordif's purification (``_purify_trait``);
the notes below describe the observed-score matching (``matching="total"``), which is also the fallback.

For each item, three nested proportional-odds models of the item response:
M1: item ~ matching score; M2: + group (uniform DIF); M3: + group x matching score (non-uniform DIF).
Likelihood-ratio chi-squares chi12 (uniform), chi13 (any DIF) and chi23 (non-uniform), with
McFadden pseudo R-squared changes r2_12, r2_13, r2_23 (effect sizes: below 0.02 is usually
negligible, as lordif's default cut-off). lordif matches on an IRT ability estimate; we match on
the observed score of the item set (the sum of the answered items, prorated for missing answers),
with iterative purification one item at a time: the flagged item with the largest chi13 in each set
is dropped from the matching score of the other items of its set and the tests are repeated, until
no new flagged item remains (or only three items would be left to match on). One at a time, because a
strong DIF item contaminates the total and can make clean items look biased the other way.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core import thresholds as th
from measurekit.core.result import Result
from measurekit.problems import InputError, Problem, ProblemReport
from measurekit.stats._numerics.distributions import chi2_sf
from measurekit.stats._numerics.ordinal import fit_ordinal


@dataclass
class DIFResult(Result):
    """Result of :func:`dif`: one row per item.

    item, n, chi12 / df12 / p12 (uniform DIF: does group matter at the same matching score?),
    chi13 / df13 / p13 (any DIF), chi23 / df23 / p23 (non-uniform: does the group difference
    change along the score?), r2_12, r2_13, r2_23 (McFadden pseudo R-squared changes), flag,
    dif_type ("uniform", "non-uniform", "both" or "").
    With ``method="irt"`` the chi-squares are likelihood-ratio tests between multi-group graded
    response models (M0 anchored, M1 intercepts free, M2 slope and intercepts free; mirt::DIF),
    there are no r2 columns, and b_shift (or b_shift_<group>) gives the mean shift of the item's
    thresholds in each focal group, in reference-group SD units (positive: lower answers at the
    same trait level).
    ``matching``: what the ordinal route matched on, "trait" (lordif's GRM trait, the default) or "total"
    (asked for, or the fallback when the GRM could not be fitted: the first warning says why); "trait" for
    the IRT route.
    """

    table: pd.DataFrame
    criterion: str = "chisqr"
    alpha: float = 0.01
    r2_cutoff: float = th.DIF_R2_CHANGE
    iterations: int = 1
    purified: list = field(default_factory=list)
    groups: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _data: dict = field(default_factory=dict, repr=False)
    matching: str = "total"
    method: str = "ordinal"
    _title = "Differential item functioning"
    _main = "table"

    @property
    def flagged(self) -> list[str]:
        return self.table.loc[self.table["flag"], "item"].tolist()

    def curves(self, item: str, bins: int = 8, min_n: int = 10) -> pd.DataFrame:
        """Mean answer to ``item`` along the matching level, by group: what the DIF test compares.

        The respondents' matching levels for ``item`` (``matching`` "trait": the GRM trait estimate; "total": the
        total of the item's set, after purification) are cut into ``bins`` bins of equal size (fewer where levels
        tie). One row per group and bin, groups in sorted order: ``group``, ``match`` (mean matching level in the
        bin), ``y`` (mean answer to the item, reverse-keyed, don't know left out) and ``n`` (answers); bins with
        fewer than ``min_n`` answers are left out. Lines apart at the same level are differential functioning.
        Empty when ``item`` was not analysed. (lordif's plots draw the same from the fitted models.)"""
        d = self._data
        empty = pd.DataFrame({"group": [], "match": [], "y": [], "n": []})
        if "responses" not in d or item not in d["responses"]:
            return empty
        frame = pd.DataFrame({"y": d["responses"][item], "match": d["matching"][item], "group": d["group"]}).dropna()
        if frame.empty:
            return empty
        frame["bin"] = pd.qcut(frame["match"], bins, duplicates="drop")
        parts = []
        for g, sub in frame.groupby("group"):
            m = sub.groupby("bin", observed=True).agg(match=("match", "mean"), y=("y", "mean"), n=("y", "size"))
            parts.append(m[m["n"] >= min_n].reset_index(drop=True).assign(group=g))
        return pd.concat(parts, ignore_index=True)[["group", "match", "y", "n"]]

    def plot(self, item: str, ax=None):
        """Mean item response against the matching score (the IRT route: the trait estimate), by group
        (binned, :meth:`curves`): lines apart = DIF."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        for g, m in self.curves(item).groupby("group", sort=False):
            ax.plot(m["match"], m["y"], "o-", label=f"{g}")
        xlabel = ("latent trait (GRM, anchored on the other items)" if self.method == "irt"
                  else "latent trait (GRM, purified as lordif)" if self.matching == "trait"
                  else "matching score (total of the item's set)")
        ax.set(xlabel=xlabel, ylabel=f"mean answer to {item}",
               title=f"{item}: answers at the same score, by group")
        ax.legend(title="group", fontsize=8)
        return ax


def _matching(values: pd.DataFrame, anchors: list[str]) -> pd.Series:
    block = values[anchors]
    n = block.notna().sum(axis=1)
    return (block.mean(axis=1) * len(anchors)).where(n >= max(1, int(np.ceil(len(anchors) / 2))))


def _tests(y, match, g_dummies):
    ok = ~np.isnan(y) & ~np.isnan(match) & ~np.isnan(g_dummies).any(axis=1)
    y, match, G = y[ok], match[ok], g_dummies[ok]
    levels = np.unique(y)
    codes = np.searchsorted(levels, y)
    fits = [fit_ordinal(X, codes) for X in (match[:, None], np.column_stack([match, G]),
                                            np.column_stack([match, G, G * match[:, None]]))]
    ll0 = float(np.sum(np.bincount(codes) * np.log(np.bincount(codes) / len(codes))))
    ll = [f.loglik for f in fits]
    r2 = [1 - x / ll0 for x in ll]
    k = G.shape[1]
    out = {"n": int(ok.sum())}
    for (a, b), df in (((0, 1), k), ((0, 2), 2 * k), ((1, 2), k)):
        chi = max(2 * (ll[b] - ll[a]), 0.0)
        tag = f"{a + 1}{b + 1}"
        out.update({f"chi{tag}": chi, f"df{tag}": df, f"p{tag}": float(chi2_sf(chi, df)),
                    f"r2_{tag}": r2[b] - r2[a]})
    out["converged"] = all(f.converged for f in fits)
    return out


@dataclass
class _Prepared:
    """Checked inputs of :func:`dif`: item values (don't-know removed, reverse keys flipped), the
    item sets and each item's set, the group labels (``gs``), their levels (reference first) and
    the group dummies ``G`` (one column per non-reference level)."""

    values: pd.DataFrame
    sets: dict
    domain_of: dict
    items: list
    gs: pd.Series
    levels: list
    G: np.ndarray


def _prepare(df, items, group, matching, criterion, method, min_group, reference, dont_know, reverse, min_n,
             framework) -> _Prepared:
    report = ProblemReport(title="DIF input")
    if method not in ("ordinal", "irt"):
        report.add("bad_option", f"method={method!r}: use 'ordinal' or 'irt'.", column="method")
    elif matching not in (("trait", "total") if method == "ordinal" else ("trait",)):
        report.add("bad_option", f"matching={matching!r} is not supported with method={method!r}; use matching="
                   + ("'trait' or 'total'." if method == "ordinal"
                      else "'trait' (the IRT route matches on the latent trait)."), column="matching")
    if criterion not in ("chisqr", "r2"):
        report.add("bad_option", f"criterion={criterion!r}: use 'chisqr' or 'r2'.", column="criterion")
    elif method == "irt" and criterion == "r2":
        report.add("bad_option", "criterion='r2' (McFadden R-squared) belongs to the ordinal route; the IRT route "
                   "flags by the likelihood-ratio tests (criterion='chisqr').", column="criterion")
    from measurekit.stats._numerics.item_data import named_frame, names

    if isinstance(items, dict):
        sets = {str(k): names(v) for k, v in items.items()}
    else:
        sets = {"": names(items)}
    items = [it for v in sets.values() for it in v]
    if isinstance(group, pd.Series):
        group = group.rename(None) if group.name is not None and not isinstance(group.name, str) else group
    else:
        group = str(group)
    df = named_frame(df, "The data", used=items + ([group] if isinstance(group, str) else []))
    dup = sorted({it for it in items if items.count(it) > 1})
    if dup:
        report.add("duplicate_column", f"Items listed twice: {', '.join(dup)}; list each item once.",
                   column=", ".join(dup), rule="items listed once")
    domain_of = {it: k for k, v in sets.items() for it in v}
    for it in items:
        if it not in df.columns:
            report.add("unknown_item", f"Item {it!r} is not a column of the data.", column=it)
    g = (df[group] if isinstance(group, str) and group in df.columns
         else (group if isinstance(group, pd.Series) else None))
    if g is None:
        report.add("unknown_column", f"Group column {group!r} is not in the data.", column=str(group))
    for k, v in sets.items():
        if len(v) < 3:
            report.add("too_few_items", "DIF by observed scores needs at least three items in a set "
                       f"({k or 'items'} has {len(v)}).")
    report.raise_if_errors()
    from measurekit.stats._numerics.item_data import numeric_items

    values = numeric_items(df, items, min_items=0, what="DIF", allow_constant=True)
    values = values.where(~values.isin(list(dont_know)))
    if framework is not None:
        from measurekit.stats.scoring import item_values

        fv = item_values(df, framework=framework, respondent=None)
        known = [it for it in items if it in fv.columns]
        values[known] = fv[known]
        rev = []
    else:
        rev = [r for r in reverse if r in items]
    if rev:
        lo, hi = np.nanmin(values.to_numpy()), np.nanmax(values.to_numpy())
        values[rev] = lo + hi - values[rev]
    assert g is not None                       # a missing group column was reported above
    g = g.reindex(df.index)
    answered = values.notna().any(axis=1) & g.notna()
    counts = g[answered].astype(str).value_counts()
    if len(counts) < 2:
        report.add("one_group", f"The group column has only one group ({', '.join(counts.index) or 'none'}) among "
                   "respondents; DIF compares two or more groups.", column=str(getattr(g, "name", group)))
    small = counts[counts < min_group]
    if len(small) and len(counts) >= 2:
        report.add("small_group", f"Groups too small for DIF (fewer than {min_group} respondents): "
                   + ", ".join(f"{k} ({v})" for k, v in small.items())
                   + ". Merge them, e.g. compare English with all other home languages.",
                   column=str(getattr(g, "name", group)))
    if reference is not None and str(reference) not in counts.index:
        report.add("unknown_reference",
                   f"Reference group {reference!r} is not among the groups: {', '.join(counts.index)}.")
    n_item = values[answered].notna().sum()
    for it in items:
        if n_item[it] < min_n:
            report.add("too_few_cases",
                       f"Item {it!r} has {int(n_item[it])} answers with a group; DIF needs at least {min_n}.",
                       column=it)
        elif values.loc[answered, it].nunique() < 2:
            report.add("constant_item", f"Item {it!r} has the same answer from everyone with a group "
                       f"({values.loc[answered, it].dropna().iloc[0]:g}), so it cannot differ between groups; "
                       "leave it out of the DIF analysis.", column=it, rule="at least two different answers")
    report.raise_if_errors()
    ref = str(reference) if reference is not None else counts.index[0]
    levels = [ref] + [lv for lv in counts.index if lv != ref]
    gs = g.astype(str).where(g.notna())
    G = np.column_stack([(gs == lv).astype(float).to_numpy() for lv in levels[1:]])
    G[gs.isna().to_numpy()] = np.nan
    return _Prepared(values, sets, domain_of, items, gs, levels, G)


def _ordinal_round(prep: _Prepared, removed: set, matchings: dict) -> pd.DataFrame:
    """Fitting, ordinal route: the three nested proportional-odds models of every item on its
    matching score (the total of its set without the purified items), group and interaction."""
    rows = []
    for it in prep.items:
        own = prep.sets[prep.domain_of[it]]
        anchors = [a for a in own if a == it or a not in removed]
        match = _matching(prep.values, anchors)
        matchings[it] = match
        res = _tests(prep.values[it].to_numpy(), match.to_numpy(), prep.G)
        rows.append({"item": it, "domain": prep.domain_of[it], **res})
    return pd.DataFrame(rows)


def _flags(table: pd.DataFrame, criterion: str, alpha: float, r2_cutoff: float) -> pd.Series:
    if criterion == "chisqr":
        return (table[["p12", "p13", "p23"]] < alpha).any(axis=1)
    return table["r2_13"] >= r2_cutoff


def _purify(fit_round, sets: dict, flag, purify: bool, max_iter: int):
    """Purification: repeat the fitting round, each time taking out of its set's matching (score or
    anchors) the flagged item with the largest chi13 of each set, one at a time, as long as three
    other items remain; stop when no new item is flagged. Returns (table, removed, rounds, warnings)."""
    removed: set[str] = set()
    warnings: list[str] = []
    iteration = 0
    for _ in range(max_iter):
        iteration += 1
        table = fit_round(removed)
        table["flag"] = flag(table)
        if not purify:
            break
        added = False
        for own in sets.values():
            cand = table[table["flag"] & table["item"].isin(own) & ~table["item"].isin(removed)]
            if cand.empty or len(own) - len(removed & set(own)) - 1 < 3:
                continue
            removed.add(cand.sort_values("chi13", ascending=False)["item"].iloc[0])
            added = True
        if not added:
            break
    else:
        warnings.append(f"Purification stopped after {max_iter} rounds.")
    return table, removed, iteration, warnings


def dif(data: pd.DataFrame, *, items, group, matching: str | None = None, criterion: str = "chisqr",
        alpha: float = 0.01, r2_cutoff: float = th.DIF_R2_CHANGE, purify: bool = True, max_iter: int = 10,
        min_group: int = 50, reference=None, dont_know=(9,), reverse=(), min_n: int = 100, framework=None,
        method: str = "ordinal") -> DIFResult:
    """DIF of each item across the groups of ``group`` (a column name or a Series aligned with ``data``).

    method: "ordinal" (default): lordif-style nested ordinal logistic regressions on an observed
        matching score (module notes). "irt": likelihood-ratio tests in a multi-group graded response
        model (:func:`measurekit.grm`), the route of ``mirt::DIF`` and of IRT-LR-DIF (Thissen,
        Steinberg and Wainer 1993): the trait has mean 0, SD 1 in the reference group and its own
        mean and SD in each other group, linked by the anchor items (every other item of the set not
        purified). For each item, M0 holds its parameters equal across groups, M1 frees its
        intercepts (uniform DIF), M2 frees its slope too; chi12 = 2 (logL1 - logL0) with
        (K-1)(G-1) df, chi13 = M2 vs M0 with K(G-1) df, chi23 = M2 vs M1 (non-uniform) with G-1 df.
        Purification frees flagged items from the anchors, as the ordinal route takes them out of
        the matching score. The table has no r2 columns; ``b_shift`` (two groups) is the mean change
        of the item's thresholds b_k in the focal group under M1, in reference-group SD units
        (negative: the focal group gives higher answers at the same trait level; positive: lower);
        with more groups one ``b_shift_<group>`` column per focal group. lordif (Choi, Gibbons and
        Crane 2011) matches on the same GRM trait but tests with ordinal regressions; mirt::DIF
        (Chalmers 2012) tests as here.
    items: a list of item columns forming ONE scale (the matching score is their total), or a dict
        ``{domain: [items]}``: each item is then matched on its own domain's total (recommended for a
        multi-domain instrument: a total across domains mixes different things, and real group
        differences on one domain then look like DIF). Codes in ``dont_know`` and blanks are not
        answers and are excluded item by item.
    reverse: reverse-keyed items, flipped as (min + max) - x (min and max of the answered codes of the
        whole item set, as psych does) before the totals are formed.
    matching: "trait" (default): for the ordinal route, lordif's matching: the EAP trait of a one-group
        graded response model of the item's set, with lordif's purification (flagged items split into one
        copy per group, trait re-estimated, items re-tested, until the split items stop changing; at least
        two items stay unsplit); when the GRM cannot be fitted, the total score, with the reason in
        ``warnings`` (``result.matching`` says which was used). For the IRT route: the latent trait of the
        multi-group GRM. "total" (ordinal route): the total score of the item's set, item included,
        prorated for missing answers (mean of the answered items times the number of items; at least half
        must be answered, else the person is left out for that item), with flagged items leaving the other
        items' total one at a time. ``result.purified`` lists the purified items.
    criterion: "chisqr" (default, lordif's default) flags an item when any of p12, p13, p23 is below
        ``alpha`` (0.01); "r2" (ordinal route only) flags when r2_13 (McFadden change) reaches
        ``r2_cutoff`` (0.02). With thousands of respondents the chi-square flags small effects: read
        the r2 columns (or b_shift) and the plot before acting (the result's ``warnings`` say when a
        flag has a small effect size).
    reference: the reference group (default: the largest). Groups with fewer than ``min_group``
        respondents raise an error: merge them first (e.g. English vs all other home languages).
    min_n: fewest answered responses an item needs.
    framework: a loaded framework (``measurekit.design.load_framework``); when given, its reverse keys
        and scales' don't-know codes are used (``measurekit.stats.scoring.item_values``) instead of
        ``reverse`` and ``dont_know``.

    Returns a :class:`DIFResult`; ``.table`` has one row per item: item, domain, n, chi12, df12, p12,
    chi13, df13, p13, chi23, df23, p23, r2_12, r2_13, r2_23 (ordinal route) or b_shift (IRT route),
    flag, dif_type. The ordinal models match MASS::polr (tests/fixtures/r/dif.R); the tests are
    lordif's (Choi, Gibbons and Crane 2011).
    """
    criterion = criterion.lower()
    chosen = matching is not None
    if matching is None:
        matching = "trait"
    prep = _prepare(data, items, group, matching, criterion, method, min_group, reference, dont_know, reverse,
                    min_n, framework)
    matchings: dict = {}
    flag = lambda t: _flags(t, criterion, alpha, r2_cutoff)  # noqa: E731
    if method == "ordinal" and matching == "trait":
        try:
            table, removed, iteration, warnings = _purify_trait(prep, matchings, flag, purify, max_iter)
            return _finish(table, prep, criterion, alpha, r2_cutoff, iteration, removed, warnings, matchings,
                           method, "trait")
        except _NoTrait as exc:
            if chosen:
                raise InputError(ProblemReport([Problem("too_few_cases", f"matching='trait': {exc} Use "
                                                        "matching='total'.", column="matching")],
                                               title="DIF")) from None
            reason = f"The graded response model could not be used for matching ({exc}); items were matched on the " \
                     "total score of their set instead."
            matchings.clear()
    else:
        reason = None
    if method == "irt":
        cache: dict = {}
        fit_round = lambda removed: _irt_round(prep, removed, matchings, cache)  # noqa: E731
    else:
        fit_round = lambda removed: _ordinal_round(prep, removed, matchings)  # noqa: E731
    table, removed, iteration, warnings = _purify(fit_round, prep.sets, flag, purify, max_iter)
    if reason:
        warnings.insert(0, reason)
    return _finish(table, prep, criterion, alpha, r2_cutoff, iteration, removed, warnings, matchings, method,
                   "trait" if method == "irt" else "total")


class _NoTrait(Exception):
    """The graded response model cannot give the matching trait (the reason is the message)."""


def _grm_trait(prep: _Prepared, own: list, split: set) -> pd.Series:
    """lordif's matching trait for one item set: EAP estimates (prior N(0, 1) for everyone) from a one-group graded
    response model of the set in which each item of ``split`` (flagged for DIF) is replaced by one copy per group,
    answered only by that group's respondents, so a flagged item has its own slope and thresholds in each group
    and no longer pulls one group's trait up or down; the other items are the anchors that keep the groups on one
    scale. A group's copy of an item with fewer than two different answers is left out."""
    from measurekit.stats._numerics.grm_em import eap, fit_grm
    from measurekit.stats.irt import item_codes

    values = prep.values[own]
    keep = (values.notna().any(axis=1) & prep.gs.notna()).to_numpy()
    cols = {}
    for it in own:
        if it not in split:
            cols[it] = values[it]
            continue
        for lv in prep.levels:
            part = values[it].where(prep.gs == lv)
            if part[keep].nunique() >= 2:
                cols[f"{it} [{lv}]"] = part
    expanded = pd.DataFrame(cols)[keep]
    answered = expanded.notna().any(axis=1).to_numpy()
    if len(own) < 3:
        raise _NoTrait(f"fewer than three items to estimate the trait of {', '.join(own)}")
    codes, n_cat, _ = item_codes(expanded[answered])
    if (n_cat < 2).any():
        raise _NoTrait("an item has a single answer among those analysed")
    try:
        fit = fit_grm(codes, n_cat, tol=1e-4, max_iter=500)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:   # numerical failure of EM
        raise _NoTrait(f"the model could not be fitted: {exc}") from None
    if not fit.converged:
        raise _NoTrait(f"the model for {', '.join(own)} did not converge in 500 EM cycles")
    theta = pd.Series(np.nan, index=prep.values.index)
    theta.iloc[np.flatnonzero(keep)[answered]] = eap(fit)[0]
    return theta


def _purify_trait(prep: _Prepared, matchings: dict, flag, purify: bool, max_iter: int):
    """Iterative purification as lordif's (Choi, Gibbons and Crane 2011): estimate the GRM trait, test every item
    on it with the three ordinal models, give the flagged items group-specific parameters, estimate the trait
    again, and repeat until the items given group-specific parameters no longer change (or ``max_iter`` rounds).
    At least two items of a set stay anchors (the flagged ones with the smallest chi13 stay when more are
    flagged): with every item split, each group's trait would be scaled on its own items and a real difference
    between the groups would vanish from the trait and reappear as DIF in every item."""
    warnings = []
    split: set[str] = set()
    iteration = 0
    # (set, its split items) -> (trait, rows): a set whose split items did not change since an earlier round has the
    # same trait and the same tests (every fit is deterministic), so it is not fitted again
    done: dict = {}
    for _ in range(max_iter):
        iteration += 1
        rows = []
        for domain, own in prep.sets.items():
            key = (domain, frozenset(split & set(own)))
            if key not in done:
                theta = _grm_trait(prep, own, split & set(own))
                done[key] = (theta, [{"item": it, "domain": domain,
                                      **_tests(prep.values[it].to_numpy(), theta.to_numpy(), prep.G)} for it in own])
            theta, own_rows = done[key]
            for it in own:
                matchings[it] = theta
            rows += [dict(r) for r in own_rows]
        table = pd.DataFrame(rows).set_index("item").loc[prep.items].reset_index()
        table["flag"] = flag(table)
        if not purify:
            break
        new_split: set[str] = set()
        for own in prep.sets.values():
            cand = table[table["flag"] & table["item"].isin(own)].sort_values("chi13", ascending=False)
            new_split |= set(cand["item"].iloc[:max(len(own) - 2, 0)])
        if new_split == split:
            break
        split = new_split
    else:
        warnings.append(f"Purification stopped after {max_iter} rounds with the flagged items still changing.")
    kept = table.loc[table["flag"] & ~table["item"].isin(split), "item"].tolist()
    if purify and kept:
        warnings.append(f"Flagged items {', '.join(kept)} stayed anchors of the trait: at least two items of a set "
                        "must link the groups. With so many items flagged the trait itself may differ between groups.")
    return table, sorted(split), iteration, warnings


def _finish(table, prep, criterion, alpha, r2_cutoff, iteration, removed, warnings, matchings, method,
            matching="total") -> DIFResult:
    if table["flag"].sum() >= len(prep.items) - 1:
        warnings.append("Almost every item is flagged: the matching score itself may not be fair; "
                        "results need expert review.")
    uni = table["p12"] < alpha if criterion == "chisqr" else table["r2_12"] >= r2_cutoff
    non = table["p23"] < alpha if criterion == "chisqr" else table["r2_23"] >= r2_cutoff
    table["dif_type"] = np.where(~table["flag"], "",
                                 np.where(uni & non, "both", np.where(non, "non-uniform", "uniform")))
    if method == "ordinal":
        small_effects = table["flag"] & (table["r2_13"] < r2_cutoff)
        if small_effects.any():
            warnings.append(f"Flagged by the chi-square test but with small effect sizes (R2 change < {r2_cutoff}): "
                            + ", ".join(table.loc[small_effects, "item"]) + ". With large samples tiny differences "
                            "are significant; judge them by the effect size and the effect plot.")
        if not table["converged"].all():
            warnings.append("Some ordinal models did not converge: "
                            + ", ".join(table.loc[~table["converged"], "item"]))
    elif not table["converged"].all():
        warnings.append("Some graded response models did not converge: "
                        + ", ".join(table.loc[~table["converged"], "item"]))
    if len(prep.sets) == 1:
        table = table.drop(columns="domain")
    return DIFResult(table.drop(columns="converged"), criterion, alpha, r2_cutoff, iteration, sorted(removed),
                     prep.levels, warnings,
                     {"responses": prep.values, "matching": matchings, "group": prep.gs}, matching=matching,
                     method=method)


def _irt_round(prep: _Prepared, removed: set, matchings: dict, cache: dict) -> pd.DataFrame:
    """Fitting, IRT route: per set, the anchored multi-group GRM (M0) and, per item, M1 (its
    intercepts free across groups) and M2 (slope and intercepts free); likelihood-ratio tests.
    A set whose purified items did not change since an earlier round is taken from ``cache``."""
    from measurekit.stats._numerics.grm_em import eap, fit_grm
    from measurekit.stats.irt import item_codes

    gmap = {lv: i for i, lv in enumerate(prep.levels)}
    n_groups = len(prep.levels)
    rows = []
    for domain, own in prep.sets.items():
        key = (domain, frozenset(removed & set(own)))
        if key in cache:
            rows += cache[key]
            continue
        first = len(rows)
        values = prep.values[own]
        keep = values.notna().any(axis=1) & prep.gs.notna()
        codes, n_cat, _ = item_codes(values[keep])
        gvec = prep.gs[keep].map(gmap).to_numpy(dtype=int)
        base_fits = {}
        for j, it in enumerate(own):
            free = tuple(sorted(own.index(r) for r in removed & set(own) if r != it))
            if free not in base_fits:
                base_fits[free] = fit_grm(codes, n_cat, gvec, free_a=free, free_d=free, tol=1e-4)
            m0 = base_fits[free]
            start = [L.ad(0) for L in m0.layouts]
            latent = (m0.mean, m0.sd)
            m1 = fit_grm(codes, n_cat, gvec, free_a=free, free_d=free + (j,), start=start, latent_start=latent,
                         tol=1e-4)
            m2 = fit_grm(codes, n_cat, gvec, free_a=free + (j,), free_d=free + (j,), start=start,
                         latent_start=latent, tol=1e-4)
            theta = pd.Series(np.nan, index=prep.values.index)
            theta[keep] = eap(m0)[0]
            matchings[it] = theta
            K = int(n_cat[j])
            ll0, ll1, ll2 = m0.loglik, max(m1.loglik, m0.loglik), max(m2.loglik, m1.loglik, m0.loglik)
            out = {"item": it, "domain": domain, "n": int((codes[:, j] >= 0).sum())}
            for tag, (lo, hi), df in (("12", (ll0, ll1), (K - 1) * (n_groups - 1)),
                                      ("13", (ll0, ll2), K * (n_groups - 1)),
                                      ("23", (ll1, ll2), n_groups - 1)):
                chi = max(2 * (hi - lo), 0.0)
                out.update({f"chi{tag}": chi, f"df{tag}": df, f"p{tag}": float(chi2_sf(chi, df))})
            a_ref, d_ref = m1.layouts[j].ad(0)
            for g in range(1, n_groups):
                a_g, d_g = m1.layouts[j].ad(g)
                name = "b_shift" if n_groups == 2 else f"b_shift_{prep.levels[g]}"
                out[name] = float(np.mean(-d_g / a_g - (-d_ref / a_ref)))
            out["converged"] = m0.converged and m1.converged and m2.converged
            rows.append(out)
        cache[key] = rows[first:]
    table = pd.DataFrame(rows)
    return table.set_index("item").loc[prep.items].reset_index()
