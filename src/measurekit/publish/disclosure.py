"""Statistical disclosure control for the board table.

Primary suppression: a cell is suppressed when a count it publishes is small (by default 1 to 5):
the numerator, the number without the outcome (denominator - numerator), or the denominator; for
means, the number of children. Secondary suppression: cells add up (breakdown values of one
geography sum to its "all" row; neighbourhoods sum to the local authority), so a suppressed cell
that is the only unknown in such a sum could be recovered by subtraction; another cell of the sum
(the one with the fewest children) is then suppressed too, repeating until no sum has exactly one
unknown. Optional rounding of published counts to the nearest 5. Suppressed cells show the GSS
symbol ``c`` and no numbers. ``measurekit.publish.disclosure_audit`` independently tries to recover them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

NUMBERS = ["numerator", "denominator", "value", "ci_low", "ci_high"]


def additive_groups(table: pd.DataFrame) -> list[tuple[int, list[int]]]:
    """(total row, member rows) for every sum in the table whose members add up to the total."""
    groups = []
    t = table.reset_index(drop=True)
    allrows = t[t["breakdown"] == "all"].set_index(["indicator_id", "period", "geography_type", "geography_code"])
    key_all = dict(zip(allrows.index, allrows.index.map(lambda k: None)))
    lookup_all = {k: i for k, i in zip(t.loc[t["breakdown"] == "all", ["indicator_id", "period", "geography_type",
                                                                        "geography_code"]].itertuples(index=False, name=None),
                                       t.index[t["breakdown"] == "all"])}
    del key_all
    sub = t[t["breakdown"] != "all"]
    for key, g in sub.groupby(["indicator_id", "period", "geography_type", "geography_code", "breakdown"], sort=False):
        total = lookup_all.get(key[:4])
        if total is not None and np.isclose(g["denominator"].sum(), t.at[total, "denominator"]):
            groups.append((total, list(g.index)))
    la = t[t["geography_type"] == "la"]
    la_index = {k: i for k, i in zip(la[["indicator_id", "period", "breakdown", "breakdown_value"]].itertuples(index=False, name=None), la.index)}
    nb = t[t["geography_type"] == "neighbourhood"]
    for key, g in nb.groupby(["indicator_id", "period", "breakdown", "breakdown_value"], sort=False):
        total = la_index.get(key)
        if total is not None and np.isclose(g["denominator"].sum(), t.at[total, "denominator"]):
            groups.append((total, list(g.index)))
    return groups


def primary_mask(table: pd.DataFrame, framework) -> np.ndarray:
    rules = {ind.id: ind for ind in framework.indicators}
    lo = table["indicator_id"].map(lambda i: rules[i].disclosure.suppress_min).to_numpy()
    hi = table["indicator_id"].map(lambda i: rules[i].disclosure.suppress_max).to_numpy()
    is_prop = table["indicator_id"].map(lambda i: rules[i].value_type == "proportion").to_numpy()
    num, den = table["numerator"].to_numpy(), table["denominator"].to_numpy()

    def small(x):
        return (x >= lo) & (x <= hi)

    return np.where(is_prop, small(num) | small(den - num) | small(den), small(den))


def apply_disclosure_control(table: pd.DataFrame, framework) -> pd.DataFrame:
    """Suppress (primary and secondary) and round as each indicator declares; returns a new table."""
    t = table.reset_index(drop=True).copy()
    primary = primary_mask(t, framework)
    suppressed = primary.copy()
    groups = additive_groups(t)
    den = t["denominator"].to_numpy()
    changed = True
    while changed:
        changed = False
        for total, members in groups:
            cells = [total, *members]
            unknown = [c for c in cells if suppressed[c]]
            if len(unknown) != 1:
                continue
            candidates = [m for m in members if not suppressed[m] and den[m] > 0]
            if not candidates and not suppressed[total]:
                candidates = [total]
            if not candidates:
                continue
            pick = min(candidates, key=lambda c: (den[c], c))
            suppressed[pick] = True
            changed = True
    secondary = suppressed & ~primary
    t.loc[suppressed, NUMBERS] = np.nan
    t.loc[suppressed, ["significance_95", "significance_998"]] = ""
    t["suppressed"] = suppressed
    t.loc[suppressed, "symbol"] = "c"
    t.loc[primary, "note"] = "suppressed: small count"
    t.loc[secondary, "note"] = "suppressed: to protect a small count elsewhere in the table"
    rounding = t["indicator_id"].map(lambda i: next(ind.disclosure.round_to for ind in framework.indicators if ind.id == i))
    r = pd.to_numeric(rounding, errors="coerce").to_numpy()
    has_r = ~np.isnan(r) & ~suppressed
    for col in ("numerator", "denominator"):
        v = t[col].to_numpy(dtype=float)
        t[col] = np.where(has_r, np.round(v / np.where(has_r, r, 1)) * np.where(has_r, r, 1), v)
    return t
