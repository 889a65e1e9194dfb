"""Differential item functioning (DIF) by ordinal logistic regression, in the style of lordif.

For each item, three nested proportional-odds models of the item response:
M1: item ~ matching score; M2: + group (uniform DIF); M3: + group x matching score (non-uniform DIF).
Likelihood-ratio chi-squares chi12 (uniform), chi13 (any DIF) and chi23 (non-uniform), with
McFadden pseudo R-squared changes r2_12, r2_13, r2_23 (effect sizes: below 0.02 is usually
negligible, as lordif's default cut-off). lordif matches on an IRT ability estimate; we match on
the observed score of the item set (the sum of the answered items, prorated for missing answers),
with iterative purification: items flagged for DIF are dropped from the matching score of the
other items and the tests repeated until the flags stop changing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from measurekit._ordinal import fit_ordinal
from measurekit._result import Result
from measurekit.problems import InputError, ProblemReport


@dataclass
class DIFResult(Result):
    """Result of :func:`dif`: one row per item.

    item, n, chi12 / df12 / p12 (uniform DIF: does group matter at the same matching score?),
    chi13 / df13 / p13 (any DIF), chi23 / df23 / p23 (non-uniform: does the group difference
    change along the score?), r2_12, r2_13, r2_23 (McFadden pseudo R-squared changes), flag,
    dif_type ("uniform", "non-uniform", "both" or "").
    """

    table: pd.DataFrame
    criterion: str = "chisqr"
    alpha: float = 0.01
    r2_cutoff: float = 0.02
    iterations: int = 1
    groups: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _data: dict = field(default_factory=dict, repr=False)
    _title = "Differential item functioning"
    _main = "table"

    @property
    def flagged(self) -> list[str]:
        return self.table.loc[self.table["flag"], "item"].tolist()

    def plot(self, item: str, ax=None):
        """Mean item response against the matching score, by group (binned): lines apart = DIF."""
        import matplotlib.pyplot as plt

        d = self._data
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        frame = pd.DataFrame({"y": d["responses"][item], "match": d["matching"][item], "group": d["group"]}).dropna()
        frame["bin"] = pd.qcut(frame["match"], 8, duplicates="drop")
        for g, sub in frame.groupby("group"):
            m = sub.groupby("bin", observed=True).agg(match=("match", "mean"), y=("y", "mean"), n=("y", "size"))
            m = m[m["n"] >= 10]
            ax.plot(m["match"], m["y"], "o-", label=f"{g}")
        ax.set(xlabel="matching score (other items)", ylabel=f"mean answer to {item}",
               title=f"{item}: answers at the same score, by group")
        ax.legend(title="group", fontsize=8)
        return ax


def _matching(values: pd.DataFrame, anchors: list[str]) -> pd.Series:
    block = values[anchors]
    n = block.notna().sum(axis=1)
    return (block.mean(axis=1) * len(anchors)).where(n >= max(1, int(np.ceil(len(anchors) / 2))))


def _tests(y, match, g_dummies):
    ok = ~np.isnan(y) & ~np.isnan(match)
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
        out.update({f"chi{tag}": chi, f"df{tag}": df, f"p{tag}": float(stats.chi2.sf(chi, df)),
                    f"r2_{tag}": r2[b] - r2[a]})
    out["converged"] = all(f.converged for f in fits)
    return out


def dif(df: pd.DataFrame, items, group, matching: str = "total", criterion: str = "chisqr", alpha: float = 0.01,
        r2_cutoff: float = 0.02, purify: bool = True, max_iter: int = 10, min_group: int = 50,
        reference=None, dont_know=(9,)) -> DIFResult:
    """DIF of each item across the groups of ``group`` (a column name or a Series).

    items: item columns (codes; ``dont_know`` codes and blanks are not answers). Reverse-keyed
        items should be flipped first (``measurekit.scoring.item_values`` does both).
    matching: "total" (sum of the set's items, prorated) -- the only option; see the module notes.
    criterion: "chisqr" flags an item when any of p12, p13, p23 is below ``alpha`` (lordif's
        default); "r2" flags when r2_13 reaches ``r2_cutoff``.
    Groups smaller than ``min_group`` answered responses raise an error: merge them first
    (e.g. ``home_language != "English"``).
    """
    if matching != "total":
        raise ValueError("only matching='total' is supported")
    if criterion not in ("chisqr", "r2"):
        raise ValueError("criterion must be 'chisqr' or 'r2'")
    items = list(items)
    report = ProblemReport(title="DIF input")
    for it in items:
        if it not in df.columns:
            report.add("unknown_item", f"Item {it!r} is not a column of the data.", column=it)
    g = df[group] if isinstance(group, str) and group in df.columns else (group if isinstance(group, pd.Series) else None)
    if g is None:
        report.add("unknown_column", f"Group column {group!r} is not in the data.", column=str(group))
    if len(items) < 3:
        report.add("too_few_items", "DIF by observed scores needs at least three items in the set.")
    report.raise_if_errors()
    values = df[items].apply(pd.to_numeric, errors="coerce")
    values = values.where(~values.isin(list(dont_know)))
    g = g.reindex(df.index)
    answered = values.notna().any(axis=1) & g.notna()
    counts = g[answered].astype(str).value_counts()
    if len(counts) < 2:
        raise InputError(f"The group column has only one group ({', '.join(counts.index)}); DIF needs two or more.")
    small = counts[counts < min_group]
    if len(small):
        raise InputError(f"Groups too small for DIF (fewer than {min_group} respondents): "
                         + ", ".join(f"{k} ({v})" for k, v in small.items())
                         + ". Merge them, e.g. compare English with all other home languages.")
    ref = str(reference) if reference is not None else counts.index[0]
    levels = [ref] + [lv for lv in counts.index if lv != ref]
    gs = g.astype(str).where(g.notna())
    G = np.column_stack([(gs == lv).astype(float).to_numpy() for lv in levels[1:]])
    G[gs.isna().to_numpy()] = np.nan
    warnings = []
    flagged: set[str] = set()
    rows = []
    matchings = {}
    for iteration in range(1, max_iter + 1):
        rows = []
        for it in items:
            anchors = [a for a in items if a == it or a not in flagged] if purify else items
            match = _matching(values, anchors)
            matchings[it] = match
            res = _tests(values[it].to_numpy(), match.to_numpy(), G)
            rows.append({"item": it, **res})
        table = pd.DataFrame(rows)
        if criterion == "chisqr":
            table["flag"] = (table[["p12", "p13", "p23"]] < alpha).any(axis=1)
        else:
            table["flag"] = table["r2_13"] >= r2_cutoff
        new = set(table.loc[table["flag"], "item"])
        if not purify or new == flagged:
            break
        flagged = new
        if len(flagged) >= len(items) - 1:
            warnings.append("Almost every item is flagged: the matching score itself may not be fair; "
                            "results need expert review.")
            break
    uni = table["p12"] < alpha if criterion == "chisqr" else table["r2_12"] >= r2_cutoff
    non = table["p23"] < alpha if criterion == "chisqr" else table["r2_23"] >= r2_cutoff
    table["dif_type"] = np.where(~table["flag"], "", np.where(uni & non, "both", np.where(non, "non-uniform", "uniform")))
    small_effects = table["flag"] & (table["r2_13"] < r2_cutoff)
    if small_effects.any():
        warnings.append(f"Flagged by the chi-square test but with small effect sizes (R2 change < {r2_cutoff}): "
                        + ", ".join(table.loc[small_effects, "item"]) + ". With large samples tiny differences "
                        "are significant; judge them by the effect size and the effect plot.")
    if not table["converged"].all():
        warnings.append("Some ordinal models did not converge: " + ", ".join(table.loc[~table["converged"], "item"]))
    return DIFResult(table.drop(columns="converged"), criterion, alpha, r2_cutoff, iteration, levels, warnings,
                     {"responses": values, "matching": matchings, "group": gs})
