"""An independent check of disclosure control: try to recover every suppressed cell.

Written separately from ``measurekit.publish.disclosure`` (it imports nothing from it): it rebuilds the sums in
the published table (breakdown values of a geography add up to its "all" row; neighbourhoods add
up to the local authority), treats every suppressed count as an unknown >= 0, and for each one
solves two linear programmes (minimum and maximum) subject to those sums. A cell whose minimum
equals its maximum is recoverable: the check fails. It also fails on any small count published in
the clear.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _sums(t: pd.DataFrame):
    sums = []
    totals = {k: i for k, i in zip(t.loc[t["breakdown"] == "all", ["indicator_id", "period", "geography_type",
                                                                    "geography_code"]].itertuples(index=False, name=None),
                                   t.index[t["breakdown"] == "all"])}
    for key, g in t[t["breakdown"] != "all"].groupby(["indicator_id", "period", "geography_type", "geography_code",
                                                      "breakdown"], sort=False):
        if key[:4] in totals:
            sums.append((totals[key[:4]], list(g.index)))
    la = {k: i for k, i in zip(t.loc[t["geography_type"] == "la", ["indicator_id", "period", "breakdown",
                                                                   "breakdown_value"]].itertuples(index=False, name=None),
                               t.index[t["geography_type"] == "la"])}
    for key, g in t[t["geography_type"] == "neighbourhood"].groupby(["indicator_id", "period", "breakdown",
                                                                      "breakdown_value"], sort=False):
        if key in la:
            sums.append((la[key], list(g.index)))
    return sums


def recoverable_cells(published: pd.DataFrame, column: str = "numerator", tol: float = 1e-6) -> pd.DataFrame:
    """Suppressed cells whose ``column`` is pinned to one value by the published sums."""
    from scipy.optimize import linprog

    t = published.reset_index(drop=True)
    hidden = t[column].isna() & t["suppressed"].astype(bool)
    idx = list(t.index[hidden])
    if not idx:
        return t.iloc[0:0]
    pos = {c: k for k, c in enumerate(idx)}
    rows, rhs = [], []
    for total, members in _sums(t):
        cells = [total, *members]
        if not any(c in pos for c in cells):
            continue
        a = np.zeros(len(idx))
        b = 0.0
        for c, sign in [(total, -1.0)] + [(m, 1.0) for m in members]:
            if c in pos:
                a[pos[c]] += sign
            else:
                v = t.at[c, column]
                if pd.isna(v):
                    break
                b -= sign * v
        else:
            rows.append(a)
            rhs.append(b)
    if not rows:
        return t.iloc[0:0]
    A, B = np.array(rows), np.array(rhs)
    pinned = []
    for k, c in enumerate(idx):
        obj = np.zeros(len(idx))
        obj[k] = 1
        lo = linprog(obj, A_eq=A, b_eq=B, bounds=(0, None), method="highs")
        hi = linprog(-obj, A_eq=A, b_eq=B, bounds=(0, None), method="highs")
        if lo.status == 0 and hi.status == 0 and abs(-hi.fun - lo.fun) < tol:
            pinned.append((c, lo.fun))
    out = t.loc[[c for c, _ in pinned]].copy()
    out[f"recovered_{column}"] = [v for _, v in pinned]
    return out


def check_disclosure(published: pd.DataFrame, min_count: int = 1, max_count: int = 5) -> list[str]:
    """Every way the published table leaks a small count; an empty list means it passes."""
    t = published.reset_index(drop=True)
    problems = []
    clear = ~t["suppressed"].astype(bool)
    prop = t["ci_method"].eq("wilson")
    num, den = t["numerator"], t["denominator"]
    for i in t.index[clear & prop & (num.between(min_count, max_count) | (den - num).between(min_count, max_count))]:
        problems.append(f"row {i}: a count of {min_count}-{max_count} is published ({t.at[i, 'indicator_id']}, "
                        f"{t.at[i, 'geography_name']}, {t.at[i, 'breakdown']}={t.at[i, 'breakdown_value']})")
    leaked = t["suppressed"].astype(bool) & (t["value"].notna() | t["denominator"].notna())
    for i in t.index[leaked]:
        problems.append(f"row {i}: suppressed but its value or denominator is published")
    for column in ("numerator", "denominator"):
        for row in recoverable_cells(t, column).itertuples():
            problems.append(f"row {row.Index}: suppressed {column} recoverable as {getattr(row, 'recovered_' + column):g} "
                            f"from the published totals ({row.indicator_id}, {row.geography_name}, "
                            f"{row.breakdown}={row.breakdown_value})")
    return problems
