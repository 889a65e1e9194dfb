"""Checking item data before any statistic: known columns, numeric codes, not empty, not constant."""
from __future__ import annotations

import numpy as np
import pandas as pd

from measurekit.problems import ProblemReport


def numeric_items(df: pd.DataFrame, items=None, min_items: int = 2, what: str = "This analysis") -> pd.DataFrame:
    """The item columns as floats; raises ``InputError`` listing every unknown, non-numeric, empty
    or constant item (codes unknown_item, non_numeric, all_missing, constant_item, too_few_items)."""
    items = list(df.columns) if items is None else list(items)
    report = ProblemReport(title="Item data")
    cols = {}
    for it in items:
        if it not in df.columns:
            report.add("unknown_item", f"Item {it!r} is not a column of the data.", column=it)
            continue
        col = df[it]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            x = col.to_numpy(dtype=float, na_value=np.nan)
        else:
            num = pd.to_numeric(col, errors="coerce")
            bad = col[num.isna() & col.notna()]
            if len(bad):
                report.add("non_numeric", f"Item {it} has non-numeric codes (e.g. {bad.iloc[0]!r}); recode them "
                           "to numbers or set them to missing first.", column=it, value=bad.iloc[0])
                continue
            x = num.to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(x).all():
            report.add("all_missing", f"Item {it} has no answers at all.", column=it)
        elif np.nanmin(x) == np.nanmax(x):
            report.add("constant_item", f"Item {it} has the same answer for everyone; drop it.", column=it)
        cols[it] = x
    if len(items) < min_items:
        report.add("too_few_items", f"{what} needs at least {min_items} items.")
    report.raise_if_errors()
    return pd.DataFrame(cols, index=df.index)
