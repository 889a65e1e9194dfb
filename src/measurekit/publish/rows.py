"""A board table's rows as plain Python values for the pages and the workbook, read column by column.

``records`` gives what ``frame[columns].to_dict("records")`` gives and ``tuples`` what
``frame[columns].itertuples()`` gives, without pandas building a frame of the columns first (the pages' and the
workbook's loops spent most of their time there; tests/test_pack_writers.py checks both against pandas).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _native(v):
    """A value as pandas' ``to_dict`` boxes the values of an object column (numpy numbers as Python ones)."""
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        return v.item()
    return v


def records(frame: pd.DataFrame, columns) -> list[dict]:
    """``frame[columns].to_dict("records")``: the same values of the same types (numpy numbers as Python ones,
    a missing whole number as None), read column by column from numpy-typed, object, text (pandas' str) and
    nullable integer columns (pandas' ``to_dict`` cost a page ~1 ms a call, most of the time of its loops); any
    other column through pandas itself."""
    columns = list(columns)
    values: dict[str, list] = {}
    rest = []
    for c in columns:
        col = frame[c]
        dtype = col.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
            values[c] = col.tolist()
        elif isinstance(dtype, np.dtype) and dtype.kind == "O":
            values[c] = [_native(v) for v in col.tolist()]
        elif isinstance(dtype, pd.Int64Dtype):
            values[c] = [None if v is pd.NA else int(v) for v in col.tolist()]
        elif isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan:   # pandas' str: text, NaN if missing
            values[c] = col.tolist()
        else:
            rest.append(c)
    if rest:
        records = frame[rest].to_dict("records")
        for c in rest:
            values[c] = [r[c] for r in records]
    return [dict(zip(columns, row)) for row in zip(*(values[c] for c in columns))]


def tuples(frame: pd.DataFrame, columns) -> list:
    """``frame[columns].itertuples()`` as a list: named tuples ``Pandas(Index, *columns)`` of each column's own
    values, iterated as pandas' itertuples iterates them (each column and the index as a Series), without
    pandas building a frame of the columns first (a page's loops spent most of their time there)."""
    import collections

    columns = list(columns)
    if not frame.columns.is_unique:             # a name of several columns: pandas' own way
        return list(frame[columns].itertuples())
    row = collections.namedtuple("Pandas", ["Index", *columns], rename=True)  # type: ignore[misc]  # fields known at run time
    return [row._make(v) for v in zip(frame.index, *(frame[c] for c in columns))]
