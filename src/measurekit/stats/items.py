"""Item analysis: how each item behaves, overall and by subgroup.

Use it before trusting a scale: items that nearly everyone answers at the top (ceiling),
that many skip or answer "don't know", or that do not go with the rest of their domain
deserve a second look with the families who helped write them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.problems import InputError, Problem, ProblemReport


@dataclass
class ItemAnalysis(Result):
    """Result of :func:`item_analysis`.

    items (one row per item and domain it belongs to, indexed by item: an item in several domains,
        ``Item.all_domains``, has a row for each): domain, n (respondents shown the item), answered,
        missing_pct (left blank), dont_know_pct, floor_pct / ceiling_pct (share of answers at the lowest /
        highest code, before reverse keying), mean and sd (after reverse keying, don't know excluded),
        r_drop (correlation with the mean of the other items in that domain; NaN when the domain has no other
        item), flags (plain English).
    distribution (long): item, group variable and value, response category, proportion of answers.
    """

    items: pd.DataFrame
    distribution: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    _title = "Item analysis"
    _main = "items"


def item_analysis(data: pd.DataFrame, *, framework, by: str | list[str] | None = None, respondent: str | None = None,
                  floor_ceiling_flag: float = 0.6, missing_flag: float = 0.1) -> ItemAnalysis:
    """Floor and ceiling, missing and don't-know rates, item-rest correlations and distributions by subgroup.

    ``framework`` is a framework (``measurekit.design.Framework`` or a path to one) or a plain mapping as
    :func:`measurekit.score` takes (domain -> items, or dict with items/reverse/min/max/dont_know).
    ``by`` names subgroup columns (e.g. a language or eligibility column) for the distribution table.
    ``respondent``: whose answers (an item's ``respondents``); ``None``: the first respondent the framework's
    items name.
    Items are flagged when at least ``floor_ceiling_flag`` of answers sit at one end, when at least
    ``missing_flag`` are blank or don't know, when nobody varies, or when r_drop < 0.3.
    The item-rest correlation is ``psych::alpha``'s r.drop computed per pair of complete answers
    (item vs mean of the other answered items of its domain, after reverse keying), once per domain of the item.
    """
    from measurekit.stats._numerics.item_data import named_frame, names
    from measurekit.stats.scoring import as_framework, item_values

    fw = as_framework(framework, data)
    if isinstance(framework, Mapping) or respondent is None:
        respondent = fw.respondents()[0] if fw.respondents() else "parent"
    by = names(by) or []
    data = named_frame(data, used=[i.id for i in fw.items] + by)
    items = [i for i in fw.items if respondent in i.respondents]
    missing_cols = [i.id for i in items if i.id not in data.columns]
    if missing_cols:
        raise InputError(ProblemReport([Problem("missing_item_column", f"The data have no column for items "
                                                f"{', '.join(missing_cols)}.", column=", ".join(missing_cols))],
                                       title="Item analysis"))
    unknown = [b for b in by if b not in data.columns]
    if unknown:
        raise InputError.of("unknown_variable", f"Subgroup columns not in the data: {', '.join(unknown)}.",
                            column=", ".join(map(str, unknown)))
    values = item_values(data, framework=fw, respondent=respondent)
    rows, warnings = [], []
    for item in items:
        sc = fw.scale(item.scale)
        raw = pd.to_numeric(data[item.id], errors="coerce")
        n = len(raw)
        dk = (raw == sc.dont_know.code).sum() if sc.dont_know else 0
        answered = raw.isin(sc.codes)
        v = values[item.id]
        floor = (raw[answered] == sc.min).mean() if answered.any() else np.nan
        ceiling = (raw[answered] == sc.max).mean() if answered.any() else np.nan
        several = len(item.all_domains) > 1
        for domain in item.all_domains:           # an item in several domains: a row (and an r_drop) for each
            others = [i.id for i in fw.items_in(domain, respondent) if i.id != item.id]
            rest = values[others].mean(axis=1) if others else pd.Series(np.nan, index=data.index)
            ok = v.notna() & rest.notna()
            varies = ok.sum() > 2 and v[ok].std() > 0 and rest[ok].std() > 0
            r_drop = float(np.corrcoef(v[ok], rest[ok])[0, 1]) if varies else np.nan
            flags = []
            if max(floor, ceiling) >= floor_ceiling_flag:
                flags.append("most answers at one end of the scale")
            if raw.isna().mean() >= missing_flag:
                flags.append("often left blank")
            if dk / max(n, 1) >= missing_flag:
                flags.append("often 'don't know'")
            if answered.any() and v.std() == 0:
                flags.append("everyone gave the same answer")
            elif r_drop < 0.3:
                flags.append(f"weak link with the rest of its domain {domain}" if several
                             else "weak link with the rest of its domain")
            rows.append({"item": item.id, "domain": domain, "n": n, "answered": int(answered.sum()),
                         "missing_pct": 100 * raw.isna().mean(), "dont_know_pct": 100 * dk / max(n, 1),
                         "floor_pct": 100 * floor, "ceiling_pct": 100 * ceiling, "mean": v.mean(), "sd": v.std(),
                         "r_drop": r_drop, "flags": "; ".join(flags)})
    table = pd.DataFrame(rows).set_index("item")
    flagged = table[table["flags"] != ""]
    for it, row in flagged.iterrows():
        if f"{it}: {row['flags']}." not in warnings:
            warnings.append(f"{it}: {row['flags']}.")
    dist = []
    for group_var in ["all", *by]:
        groups = pd.Series("all", index=data.index) if group_var == "all" else data[group_var].astype(str)
        for item in items:
            raw = pd.to_numeric(data[item.id], errors="coerce")
            sc = fw.scale(item.scale)
            valid = raw.isin(sc.valid_codes)
            labels, codes, counts = _crosstab(groups[valid], raw[valid])
            totals = counts.sum(axis=1)
            props = counts / totals[:, None]
            # groups are text (astype(str) or "all"), columns the numeric answer codes
            for g, shares, n in zip(labels, props, totals):
                for code, p in zip(codes, shares):
                    dist.append({"item": item.id, "group": group_var, "group_value": g, "category": int(code),
                                 "proportion": float(p), "n": int(n)})
    return ItemAnalysis(table, pd.DataFrame(dist), warnings)


def _crosstab(rows: pd.Series, cols: pd.Series) -> tuple[list[str], np.ndarray, np.ndarray]:
    """What ``pd.crosstab(rows, cols)`` counts, without its pivot table (a few ms a call, 48 calls a run): the row
    labels (text, sorted), the column values (sorted) and the counts (rows x columns); pairs with a missing value
    are left out, and so are rows and columns with no count, as crosstab leaves them out."""
    r, row_labels = pd.factorize(rows, sort=True)
    c, col_values = pd.factorize(cols, sort=True)
    ok = (r >= 0) & (c >= 0)
    counts = np.zeros((len(row_labels), len(col_values)), dtype=np.int64)
    np.add.at(counts, (r[ok], c[ok]), 1)
    has_r, has_c = counts.any(axis=1), counts.any(axis=0)
    return ([str(v) for v in np.asarray(row_labels)[has_r]], np.asarray(col_values)[has_c],
            counts[has_r][:, has_c])
