"""One way to round and type every published number (board table, data package, Excel, briefings, EES).

Rules (also written into the data package and the specification sheets, ``ROUNDING_NOTE``):

- **Counts** (numerators of proportions, denominators, children) are whole numbers, written
  without a decimal point (``1820``, never ``1820.0``).
- **Percentages** (0-100) and **averages** (means of scores, confidence limits, comparators) are
  rounded to the indicator's ``decimal_places`` (default 1), **half away from zero** (2.25 -> 2.3,
  as official statistics round; Python's own ``round`` would give 2.2).
- A value that is not zero but rounds to zero is published as the GSS symbol ``low`` where a symbol can
  be written (EES files); elsewhere it is shown as 0 at the stated precision.
- Missing values stay missing; suppressed cells carry their symbol instead (``c``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_DP = 1
KINDS = ("count", "percent", "average")
ROUNDING_NOTE = ("Counts are whole numbers. Percentages (0-100), averages, confidence limits and comparators are "
                 "rounded half away from zero to the indicator's decimal places (indicator_dp / decimal_places, "
                 "default 1). Rounding is done once, after all calculation and disclosure control.")


def round_half_away(values, dp: int = DEFAULT_DP) -> np.ndarray:
    """Round half away from zero to ``dp`` decimal places; NaN stays NaN. Works on scalars and arrays."""
    x = np.asarray(values, dtype=float)
    scale = 10.0 ** int(dp)
    # the tiny nudge keeps values such as 2.675 (stored as 2.67499999...) rounding as written
    r = np.sign(x) * np.floor(np.abs(x) * scale + 0.5 + 1e-9) / scale
    return r + 0.0   # no negative zero


def publish(values, kind: str, dp: int = DEFAULT_DP) -> pd.Series:
    """Round and type published numbers: ``kind`` "count" -> nullable whole numbers (``Int64``);
    "percent" or "average" -> floats rounded to ``dp`` places. Returns a Series (index kept)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    x = pd.to_numeric(s, errors="coerce").astype(float)
    if kind == "count":
        return pd.Series(round_half_away(x, 0), index=s.index).astype("Int64")
    return pd.Series(round_half_away(x, dp), index=s.index)


def cell_text(value, kind: str, dp: int = DEFAULT_DP, symbol: str = "") -> str:
    """One published cell as text: the symbol when given, else the number rounded and typed by ``kind``,
    ``low`` for a non-zero value that rounds to zero, ``x`` (not available) for a missing number."""
    if symbol:
        return symbol
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return "x"
    v = float(value)
    if kind == "count":
        return str(int(round_half_away(v, 0)))
    r = float(round_half_away(v, dp))
    if r == 0 and v != 0:
        return "low"
    return f"{r:.{int(dp)}f}"


def cell_texts(values, kind: str, dp: int = DEFAULT_DP, symbols=None) -> list[str]:
    """``cell_text`` over a column; ``symbols`` (same length, "" for none) override numbers."""
    vals = list(pd.to_numeric(pd.Series(values), errors="coerce"))
    syms = ([""] * len(vals) if symbols is None
            else ["" if s is None or (isinstance(s, float) and np.isnan(s)) else str(s) for s in symbols])
    return [cell_text(v, kind, dp, s) for v, s in zip(vals, syms)]


# float columns are written with up to 15 significant digits and no trailing zeros, so a rounded
# 60.7 stays "60.7" and a whole-number count stored as float is written "1820", never "1820.0"
CSV_FLOAT_FORMAT = "%.15g"
BOARD_RATES = ("value", "ci_low", "ci_high", "comparator")


def decimal_places(framework, indicator_ids) -> np.ndarray:
    """The declared decimal places of each row's indicator (``Indicator.decimal_places``, default 1)."""
    dp = {ind.id: int(getattr(ind, "decimal_places", DEFAULT_DP)) for ind in framework.indicators}
    return np.array([dp.get(i, DEFAULT_DP) for i in indicator_ids], dtype=int)


def publish_board_table(table: pd.DataFrame, framework) -> pd.DataFrame:
    """Round and type the board table's numbers (a new frame): denominators as whole numbers
    (``Int64``); numerators of proportions as whole numbers; value, confidence limits and comparator rounded to
    the indicator's places. A mean score has no numerator to publish (a sum of scores means nothing to a
    reader and is not a count): its numerator is left blank; the denominator is its number of children."""
    t = table.copy()
    dps = decimal_places(framework, t["indicator_id"])
    is_mean = t["indicator_id"].map({ind.id: ind.value_type == "mean" for ind in framework.indicators}).fillna(False)
    t["denominator"] = publish(t["denominator"], "count")
    num = pd.to_numeric(t["numerator"], errors="coerce").astype(float).to_numpy()
    t["numerator"] = np.where(is_mean.to_numpy(dtype=bool), np.nan, round_half_away(num, 0))
    for col in BOARD_RATES:
        if col in t:
            t[col] = _round_rows(pd.to_numeric(t[col], errors="coerce").astype(float).to_numpy(), dps)
    return t


def _round_rows(x: np.ndarray, dps: np.ndarray) -> np.ndarray:
    out = np.array(x, dtype=float)
    for dp in np.unique(dps):
        m = dps == dp
        out[m] = round_half_away(out[m], dp)
    return out


def display_texts(values, dps, kind: str = "average") -> list[str]:
    """Numbers as text for pages and reports, each with its row's decimal places ("" when missing)."""
    vals = pd.to_numeric(pd.Series(list(values)), errors="coerce").astype(float).to_numpy()
    dps = np.broadcast_to(np.asarray(dps, dtype=int), vals.shape)
    out = []
    for v, dp in zip(vals, dps):
        if np.isnan(v):
            out.append("")
        elif kind == "count":
            out.append(f"{int(round_half_away(v, 0)):d}")
        else:
            out.append(f"{float(round_half_away(v, dp)):.{int(dp)}f}")
    return out
