"""Checking data before any statistic: column names as text and unique, numeric item codes, not empty,
not constant.

Every public statistic passes its frames through :func:`named_frame` (and its item lists through
:func:`names`) before anything else, so odd frames (integer or duplicate column names, nullable
dtypes, numbers stored as text) get the same treatment everywhere: integer names work as their text
(``0`` is item ``"0"``), a name given to two columns is refused with ``duplicate_column``, and item
codes are read by :func:`numeric_items` (or ``stats.scoring.item_values``) into floats.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, overload

import numpy as np
import pandas as pd

from measurekit.problems import InputError, Problem, ProblemReport


def bad_option(option: str, message: str, value=None) -> InputError:
    """An ``InputError`` (code ``bad_option``) for an option given a value the statistic does not offer."""
    return InputError(ProblemReport([Problem("bad_option", message, column=option,
                                             value=None if value is None else repr(value))], title="Options"))


@overload
def names(items: str | int | np.integer | Iterable[Any]) -> list[str]: ...
@overload
def names(items: None) -> None: ...
def names(items) -> list[str] | None:
    """A list of column names as text: ``None`` stays None, one name (text or number) becomes a list of one."""
    if items is None:
        return None
    if isinstance(items, (str, int, np.integer)) or not isinstance(items, Iterable):
        items = [items]
    return [str(i) for i in items]


def named_frame(df, what: str = "The data", used=None) -> pd.DataFrame:
    """``df`` with every column name as text, the caller's frame untouched (a relabelled shallow copy when
    any name is not text; ``df`` itself otherwise).

    Raises ``InputError``: ``invalid_input`` when ``df`` is not a DataFrame; ``duplicate_column`` when two
    columns share a name once written as text (``1`` and ``"1"`` count as one name), among ``used`` (the
    names the analysis reads) when given, else among all columns.
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(ProblemReport([Problem("invalid_input", f"{what} must be a pandas DataFrame, not "
                                                f"{type(df).__name__}.", value=type(df).__name__,
                                                rule="type: DataFrame")], title="Input"))
    text = [str(c) for c in df.columns]
    plain = all(isinstance(c, str) for c in df.columns)
    labels = pd.Index(text)
    if not labels.is_unique:
        dup = labels[labels.duplicated()].unique()
        wanted = None if used is None else {str(u) for u in (used if not isinstance(used, str) else [used])}
        bad = [d for d in dup if wanted is None or d in wanted]
        if bad:
            report = ProblemReport(title="Column names")
            for d in bad:
                report.add("duplicate_column", f"{what} have {text.count(d)} columns named {d!r} (names are compared "
                           "as text); a statistic cannot tell which is meant.", column=d, value=d,
                           rule="column names unique",
                           advice="Rename or drop the extra column before calling the statistic.")
            raise InputError(report)
    if plain:
        return df
    out = df.copy(deep=False)
    out.columns = text
    return out


def item_names_of(spec) -> list[str]:
    """Every item name a scoring mapping or item list names (for :func:`named_frame`'s ``used``)."""
    if isinstance(spec, Mapping):
        out = []
        for v in spec.values():
            if isinstance(v, Mapping):
                out += names(v.get("items") or []) or []
            else:
                out += names(v) or []
        return out
    return names(spec) or []


def numeric_items(df: pd.DataFrame, items=None, min_items: int = 2, what: str = "This analysis",
                  min_rows: int = 0, allow_constant: bool = False) -> pd.DataFrame:
    """The item columns as floats (column names as text); raises ``InputError`` listing every unknown,
    duplicated, non-numeric, empty or constant item (codes unknown_item, duplicate_column, non_numeric,
    all_missing, constant_item, too_few_items), and ``too_few_cases`` when fewer than ``min_rows``
    respondents answered any item. Nullable dtypes (Int64, Float64, boolean) and numbers stored as
    text are read as numbers; blanks (``pd.NA``, ``None``, empty text) are missing. ``allow_constant``: leave
    empty and constant items to the caller (which checks them among the rows it uses)."""
    items = names(items)
    df = named_frame(df, what=f"{what}: the data", used=items)
    items = list(df.columns) if items is None else items
    report = ProblemReport(title="Item data")
    cols = {}
    for it in items:
        if it not in df.columns:
            report.add("unknown_item", f"Item {it!r} is not a column of the data.", column=it)
            continue
        x = _as_float(df[it], it, report)
        if x is None:
            continue
        if allow_constant:
            pass
        elif np.isnan(x).all():
            report.add("all_missing", f"Item {it} has no answers at all.", column=it)
        elif np.nanmin(x) == np.nanmax(x):
            report.add("constant_item", f"Item {it} has the same answer for everyone; drop it.", column=it,
                       value=float(np.nanmin(x)))
        cols[it] = x
    if len(items) < min_items:
        report.add("too_few_items", f"{what} needs at least {min_items} items.", value=len(items),
                   rule=f"at least {min_items} items")
    report.raise_if_errors()
    out = pd.DataFrame(cols, index=df.index)
    n = int(out.notna().any(axis=1).sum())
    if n < min_rows:
        report.add("too_few_cases", f"{what} needs at least {min_rows} respondents with an answer for "
                   f"{len(items)} items; the data have {n}.", value=n, rule=f"at least {min_rows} respondents")
        report.raise_if_errors()
    return out


def _as_float(col: pd.Series, name: str, report: ProblemReport):
    """One column as a float array (NaN for blanks), or None after adding a ``non_numeric`` problem."""
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=float, na_value=np.nan)
    num = pd.to_numeric(col, errors="coerce")
    bad = col[num.isna() & col.notna()]
    bad = bad[bad.astype(str).str.strip() != ""]
    if len(bad):
        row = int(np.flatnonzero((num.isna() & col.notna()).to_numpy())[0]) + 2
        report.add("non_numeric", f"Item {name} has non-numeric codes (e.g. {bad.iloc[0]!r}); recode them "
                   "to numbers or set them to missing first.", column=name, value=str(bad.iloc[0]), row=row,
                   rule="numeric codes")
        return None
    return num.to_numpy(dtype=float, na_value=np.nan)


_NUMERIC_KINDS = frozenset("fiub")


def plain_values(df, items) -> tuple[np.ndarray, list[str]] | None:
    """The item columns as a new float array and their names, read directly when ``df`` is a plain DataFrame
    whose item columns are unique text names of numpy numeric dtypes (what :func:`numeric_items` would pass
    unchanged); None otherwise, and the full checks run instead. The array is column-major, as the frame
    :func:`numeric_items` builds gives it: the sums below then add in the same order, to the last bit."""
    if type(df) is not pd.DataFrame or len(df) == 0:   # no rows: the full checks say so (too_few_cases)
        return None
    cols = df.columns
    if not cols.is_unique or not ((cols.dtype == "str" and not cols.hasnans) or all(type(c) is str for c in cols)):
        return None
    if items is None:
        values = df.to_numpy()       # numeric kinds only from numeric columns (and categories of numbers)
        if values.dtype.kind not in _NUMERIC_KINDS:
            return None
        return np.array(values, dtype=float, order="F"), list(cols)
    want = names(items)
    if len(set(want)) != len(want):
        return None
    series = []
    for it in want:
        if it not in cols:
            return None
        s = df[it]
        if not isinstance(s.dtype, np.dtype) or s.dtype.kind not in _NUMERIC_KINDS:
            return None
        series.append(s)
    x = np.empty((len(df), len(want)), order="F")
    for j, s in enumerate(series):
        x[:, j] = s.to_numpy(dtype=float)
    return x, want


def checked_matrix(df, items=None, min_items: int = 2, what: str = "This analysis") -> tuple[np.ndarray, list[str]]:
    """The item columns as a float matrix (column-major, a new array) and their names, with every check of
    :func:`numeric_items`: read directly by :func:`plain_values` when it can be, and through
    :func:`numeric_items` (which reports the problems) when it cannot, or when an item is empty or constant,
    or there are too few items."""
    plain = plain_values(df, items)
    if plain is not None:
        x, cols = plain
        if x.shape[1] >= min_items:
            empty = np.isnan(x).all(axis=0)
            if not empty.any() and not (np.nanmin(x, axis=0) == np.nanmax(x, axis=0)).any():
                return x, cols
    data = numeric_items(df, items, min_items=min_items, what=what)
    return np.array(data.to_numpy(dtype=float), order="F"), list(data.columns)
