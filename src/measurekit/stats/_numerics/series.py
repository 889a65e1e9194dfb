"""Series of counts over periods, checked once for the statistics over time (``stats/trend.py``,
``stats/target.py``, ``stats/inequality.py``, ``stats/funnel.py``), and the interval for a difference of
two proportions they share (Newcombe 1998, method 10).

Periods are read into a number on one time axis (:func:`period_number`): a calendar year ``2024`` is
2024; an academic year ``2023/24`` (or ``2023-24``, or the EES time period ``202324``) is the year it
ends, 2024, so that a target "by 2028" and the academic year 2027/28 fall on the same point (the
EYFSP of summer 2028). One series uses one kind of period.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from measurekit.problems import InputError, Problem, ProblemReport

_YEAR = re.compile(r"^\s*(\d{4})\s*$")
_ACADEMIC = re.compile(r"^\s*(\d{4})\s*[/\-]\s*(\d{2}|\d{4})\s*$")
_EES = re.compile(r"^\s*(\d{4})(\d{2})\s*$")


def problem(code: str, message: str, title: str = "Statistics over time", **where) -> InputError:
    """An ``InputError`` holding one problem with its catalogued code and where it was found."""
    return InputError(ProblemReport([Problem(code, message, **where)], title=title))


def period_kind_and_number(value) -> tuple[str, int]:
    """``("year", 2024)`` for 2024; ``("academic", 2024)`` for 2023/24, 2023-24, 2023/2024 or 202324.

    Raises ``InputError`` (``bad_period``) for anything else, including an academic year whose two
    years are not consecutive.
    """
    if isinstance(value, (bool, np.bool_)):
        raise problem("bad_period", f"Period {value!r} is not a year.", value=repr(value),
                      rule="a year (2024) or an academic year (2023/24)")
    if isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating)) and float(value).is_integer()):
        text = str(int(value))
    else:
        text = str(value)
    m = _YEAR.match(text)
    if m:
        return "year", int(m.group(1))
    m = _ACADEMIC.match(text) or _EES.match(text)
    if m:
        start, end = int(m.group(1)), m.group(2)
        end_year = int(end) if len(end) == 4 else (start // 100) * 100 + int(end)
        if end_year < start:             # 1999/00
            end_year += 100
        if end_year == start + 1:
            return "academic", end_year
    raise problem("bad_period", f"Period {value!r} is not a year (2024), an academic year (2023/24) or an EES time "
                  "period (202324) of two consecutive years.", value=str(value),
                  rule="a year (2024) or an academic year (2023/24)")


def period_number(value) -> int:
    """The period on one time axis: a year, or the year an academic year ends (2023/24 -> 2024)."""
    return period_kind_and_number(value)[1]


def columns_present(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise problem("missing_column", f"{what} have no column {', '.join(map(repr, missing))}; name the column "
                      "that holds it.", column=", ".join(missing))


def numeric_column(df: pd.DataFrame, column: str, *, minimum: float | None = 0.0, allow_missing: bool = False,
                   positive: bool = False) -> np.ndarray:
    """The column as floats, with a problem (row as a spreadsheet user sees it: header is row 1) for text,
    blanks (unless allowed), infinities and values below ``minimum`` (or not above 0 when ``positive``); the
    first offending row is reported."""
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    blank = raw.isna().to_numpy()
    checks = [
        (np.isnan(values) & ~blank, "non_numeric", "holds {r!r} in row {row}, not a number", "a number"),
        (blank & (not allow_missing), "missing_value", "is blank in row {row}", None),
        (np.isinf(values), "infinite_value", "is infinite in row {row}", None),
    ]
    if positive:
        checks.append((values <= 0, "out_of_range", "is {r!r} in row {row}; it must be above 0", "> 0"))
    if minimum is not None:
        checks.append((values < minimum, "out_of_range", "is {r!r} in row {row}; it cannot be below " f"{minimum:g}",
                       f">= {minimum:g}"))
    first = None
    for mask, code, text, rule in checks:
        hit = np.flatnonzero(mask)
        if hit.size and (first is None or hit[0] < first[0]):
            first = (int(hit[0]), code, text, rule)
    if first is not None:
        i, code, text, rule = first
        r, row = raw.iloc[i], i + 2
        raise problem(code, f"{column!r} " + text.format(r=r, row=row) + ".", row=row, column=column,
                      value=None if code == "missing_value" else str(r), rule=rule)
    return values


def counts(df: pd.DataFrame, numerator: str, denominator: str) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator as floats: whole, not negative, denominator above 0, numerator not above it."""
    k = numeric_column(df, numerator)
    n = numeric_column(df, denominator, positive=True)
    for col, arr in ((numerator, k), (denominator, n)):
        frac = np.flatnonzero(arr != np.round(arr))
        if frac.size:
            i = int(frac[0])
            raise problem("wrong_type", f"{col!r} is {df[col].iloc[i]!r} in row {i + 2}; counts are whole numbers.",
                          row=i + 2, column=col, value=str(df[col].iloc[i]), rule="whole number")
    above = np.flatnonzero(k > n)
    if above.size:
        i = int(above[0])
        raise problem("count_above_denominator", f"Row {i + 2}: {numerator!r} ({k[i]:g}) is larger than "
                      f"{denominator!r} ({n[i]:g}).", row=i + 2, column=numerator, value=f"{k[i]:g}",
                      rule=f"{numerator} <= {denominator}")
    return k, n


def periods(df: pd.DataFrame, column: str) -> np.ndarray:
    """Each row's period number (see :func:`period_number`); every row of one kind (years or academic years)."""
    kinds, numbers = [], []
    seen: dict = {}
    for i, v in enumerate(df[column]):
        if pd.isna(v):
            raise problem("missing_value", f"{column!r} is blank in row {i + 2}.", row=i + 2, column=column)
        try:
            key = (type(v), v)
            hash(key)
        except TypeError:
            key = (type(v), repr(v))
        if key not in seen:
            try:
                seen[key] = period_kind_and_number(v)
            except InputError as exc:
                p = exc.report.problems[0]
                raise problem("bad_period", p.message, row=i + 2, column=column, value=str(v), rule=p.rule) from None
        kind, number = seen[key]
        kinds.append(kind)
        numbers.append(number)
    if len(set(kinds)) > 1:
        i = kinds.index("year" if kinds[0] == "academic" else "academic")
        raise problem("bad_period", f"{column!r} mixes calendar years and academic years (row {i + 2}: "
                      f"{df[column].iloc[i]!r}); use one kind of period in a series.", row=i + 2, column=column,
                      value=str(df[column].iloc[i]), rule="one kind of period")
    return np.asarray(numbers, dtype=int)


def no_duplicate_periods(df: pd.DataFrame, keys: list[str], period: str) -> None:
    dup = df.duplicated(subset=[*keys, "_period_number"], keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        where = ", ".join(f"{k} {df[k].iloc[i]!r}" for k in keys)
        raise problem("duplicate_period", f"Period {df[period].iloc[i]!r} appears more than once"
                      f"{' for ' + where if where else ''} (row {i + 2}).", row=i + 2, column=period,
                      value=str(df[period].iloc[i]), rule="one row per period")


def newcombe_difference(k1, n1, k2, n2, level: float = 0.95):
    """Difference p1 - p2 of two independent proportions and its interval by Newcombe's (1998) method 10,
    the hybrid Wilson score interval without continuity correction (as PHE's tools compute the difference
    of two proportions). Returns (difference, low, high) as arrays on the 0-1 scale."""
    from measurekit.stats.intervals import wilson

    p1, p2 = np.asarray(k1, float) / np.asarray(n1, float), np.asarray(k2, float) / np.asarray(n2, float)
    l1, u1 = wilson(k1, n1, level)
    l2, u2 = wilson(k2, n2, level)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


def group_keys(by) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return [str(b) for b in by]
