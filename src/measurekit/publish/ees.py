"""The board table as DfE open data for explore-education-statistics (EES): ``<name>.csv`` + ``<name>.meta.csv``.

Beside ``board_table.csv`` (measurekit's own long table: one row per indicator, with intervals,
comparisons and notes), this writes the same numbers in the shape DfE publishes EYFSP results
in, so analysts can put them next to DfE's files and load them into EES-style tools:

- **Observational units** (always filled): ``time_period`` (six digits, e.g. ``202425``),
  ``time_identifier`` ("Academic year"), ``geographic_level`` ("Local authority"),
  ``country_code/country_name``, ``region_code/region_name``, ``old_la_code/new_la_code/la_name``,
  from the framework's ``area`` (the LA's real codes).
- **Filters** (each with a ``Total``): the board areas (the column is the framework's area breakdown's
  ``ees_name``, e.g. ``neighbourhood``; ``Total`` = the whole LA), ``characteristic_group`` (Total and each
  declared breakdown's ``ees_name`` or title, e.g. Free school meals) and ``characteristic`` (its values'
  ``ees`` labels or labels, grouped by ``characteristic_group``; an undeclared value as it is).
  Neighbourhoods are not a DfE geography, so they are a filter, not a ``geographic_level``; a
  ward-level file would need a ward lookup from the LA (ward codes E05), which measurekit does not
  yet take: see docs/board_pack.md.
- **Indicators**, one measure per column named ``{indicator}_{type}``: for a proportion
  ``<id>_count`` (numerator), ``<id>_children_count`` (denominator), ``<id>_percent`` and
  ``<id>_percent_lower_ci``/``<id>_percent_upper_ci`` (95%, Wilson); for a mean ``<id>_average``,
  its limits and ``<id>_children_count``. Counts are whole numbers; percentages (0-100) and averages
  are rounded half away from zero to the indicator's ``decimal_places`` (``core.formatting``).
- **Symbols in the value cells** (never a blank): ``c`` suppressed by disclosure control (every
  measure of that cell), ``x`` no children in the group, ``z`` the indicator is not broken down by
  that characteristic, ``low`` a non-zero value that rounds to zero. Values from fewer than 30
  children are published (the board table flags them ``u``); their intervals show the uncertainty.

``measurekit check-ees FILE`` (``publish.ees_check``) checks a file against DfE's screener rules.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import pandas as pd

from measurekit.core import atomic, formatting
from measurekit.problems import InputError, Problem, ProblemReport

OBSERVATIONAL = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name",
                 "region_code", "region_name", "old_la_code", "new_la_code", "la_name"]
FILTERS = ["characteristic_group", "characteristic"]   # after the area filter (see area_filter)
META_COLUMNS = ["col_name", "col_type", "label", "indicator_grouping", "indicator_unit", "indicator_dp",
                "filter_hint", "filter_grouping_column"]
TOTAL = "Total"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_YEAR = re.compile(r"(19|20)\d{2}")


def ees_name(text: str) -> str:
    """A file name that meets the standard: lower-case snake case, no spaces, no years."""
    name = _YEAR.sub("", str(text).lower())
    name = re.sub(r"[^a-z0-9]+", "_", name).strip("_")
    name = re.sub(r"_+", "_", name)
    if not name or not name[0].isalpha():
        name = f"data_{name}".strip("_")
    return name


def time_period(period: str) -> str:
    """'2024/25' (or '2024-25', '202425') -> '202425'; raises InputError for anything else."""
    text = str(period).strip()
    m = re.fullmatch(r"(\d{4})\s*[/-]?\s*(\d{2})", text)
    if m and (int(m.group(1)) + 1) % 100 == int(m.group(2)):
        return m.group(1) + m.group(2)
    raise InputError(ProblemReport([Problem(
        "ees_time_period", f"Period {text!r} is not an academic year such as 2024/25: DfE open data needs a six-digit "
        "time_period of two consecutive years (202425). Give --period 2024/25.", column="period", value=text,
        rule="YYYY/YY, consecutive years")]))


def _label(title: str, suffix: str, limit: int = 80) -> str:
    room = limit - len(suffix)
    if len(title) > room:
        title = title[: room - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return title + suffix


def _people(framework) -> str:
    """The framework's word for many people (``population.people``; the data contract's "children")."""
    pop = getattr(framework, "population", None)
    return pop.people if pop is not None and pop.people else "children"


def _group_word(board) -> str:
    """The word in each indicator's group-size column ``<id>_<word>_count``: the people word in snake case
    (``children``), or ``group`` when that would make a column name longer than EES allows (50 characters)."""
    word = ees_name(_people(board.framework))
    longest = max((len(ind.id) for ind in board.indicators.values()), default=0)
    return word if longest + len(word) + len("__count") <= 50 else "group"


def _measures(ind, people: str = "children", group_word: str = "") -> list[tuple[str, str, str, str]]:
    """(column, board-table column, kind, label suffix) for one indicator; ``people``: the word for the population
    (the group-size column is ``<id>_<people>_count``)."""
    group = ees_name(group_word or people)
    if ind.value_type == "proportion":
        return [(f"{ind.id}_count", "numerator", "count", f": number of {people}"),
                (f"{ind.id}_{group}_count", "denominator", "count", f": {people} in the group"),
                (f"{ind.id}_percent", "value", "percent", " (%)"),
                (f"{ind.id}_percent_lower_ci", "ci_low", "percent", ": lower 95% confidence limit (%)"),
                (f"{ind.id}_percent_upper_ci", "ci_high", "percent", ": upper 95% confidence limit (%)")]
    return [(f"{ind.id}_{group}_count", "denominator", "count", f": {people} in the group"),
            (f"{ind.id}_average", "value", "average", ": average"),
            (f"{ind.id}_average_lower_ci", "ci_low", "average", ": lower 95% confidence limit"),
            (f"{ind.id}_average_upper_ci", "ci_high", "average", ": upper 95% confidence limit")]


def area_filter(framework) -> str:
    """The name of the area filter column: the area breakdown's ``ees_name`` (default: its id)."""
    area = getattr(framework, "area_breakdown", None)
    return ees_name((area.ees_name or area.id) if area is not None else "area")


def _characteristic(framework, breakdown: str, value: str) -> tuple[str, str]:
    """(characteristic_group, characteristic) of a board-table breakdown and value, in the framework's words."""
    if breakdown == "all":
        return TOTAL, TOTAL
    declared = framework.breakdown(breakdown) if hasattr(framework, "breakdown") else None
    if declared is None:
        return breakdown.replace("_", " ").capitalize(), str(value)
    group = declared.value(value)
    return declared.ees_name or declared.title, (group.ees or group.label) if group is not None else str(value)


def ees_tables(board) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The EES data and metadata frames (all cells text) of a board table
    (:class:`~measurekit.publish.board_table.BoardTable`).

    Needs ``framework.area`` (the LA's codes). Small-area rows are left out (internal use only).
    """
    framework, table, words = board.framework, board.rows, board.words
    area = getattr(framework, "area", None)
    if area is None:
        raise InputError(ProblemReport([Problem(
            "ees_no_area", "The framework does not declare its local authority: add an `area:` block to framework.yaml "
            "with la_name, old_la_code (e.g. 354), new_la_code (e.g. E08000005), region_code (e.g. E12000002) and "
            "region_name, so the open-data file carries the LA's real codes.", file="framework.yaml", column="area")]))
    area_col = area_filter(framework)
    filters = [area_col, *FILTERS]
    t = table[table["geography_type"].isin(["la", "neighbourhood"])].copy()
    t[area_col] = t["geography_name"].where(t["geography_type"] == "neighbourhood", TOTAL).astype(str)
    # each distinct breakdown and value looked up once (the framework's look-up walks its declarations); typed, as
    # the workbook's, so 1, 1.0 and True are never taken for one another
    characteristic = functools.lru_cache(maxsize=None, typed=True)(lambda b, v: _characteristic(framework, b, v))
    pairs = [characteristic(b, v) for b, v in zip(t["breakdown"], t["breakdown_value"])]
    t["characteristic_group"] = [g for g, _ in pairs]
    t["characteristic"] = [c for _, c in pairs]
    keys = ["period", *filters]
    # one row per period x area x characteristic that any indicator has
    grid = t[keys].drop_duplicates()
    grid["_nb_order"] = grid[area_col].ne(TOTAL)
    grid["_ch_order"] = grid["characteristic_group"].ne(TOTAL)
    grid = grid.sort_values(["period", "_nb_order", area_col, "_ch_order", "characteristic_group",
                             "characteristic"]).drop(columns=["_nb_order", "_ch_order"]).reset_index(drop=True)
    data = pd.DataFrame({
        "time_period": [time_period(p) for p in grid["period"]],
        "time_identifier": "Academic year",
        "geographic_level": "Local authority",
        "country_code": area.country_code, "country_name": area.country_name,
        "region_code": area.region_code, "region_name": area.region_name,
        "old_la_code": area.old_la_code, "new_la_code": area.new_la_code, "la_name": area.la_name,
    })
    for f in filters:
        data[f] = grid[f].to_numpy()
    meta_rows = [
        dict(col_name=area_col, col_type="Filter", label=words.Area,
             filter_hint=f"{words.Area} board area; Total is the whole local authority"),
        dict(col_name="characteristic_group", col_type="Filter", label="Characteristic group",
             filter_hint=f"Which characteristic {_people(framework)} are grouped by; "
                         f"Total is all {_people(framework)}"),
        dict(col_name="characteristic", col_type="Filter", label="Characteristic",
             filter_hint=f"{_people(framework).capitalize()} with this characteristic; "
                         f"Total is all {_people(framework)}",
             filter_grouping_column="characteristic_group"),
    ]
    # the grid's index made once for every indicator; only the columns the measures read are joined to it,
    # and the indicators' columns are added to the data in one go (not one frame insert per column)
    target = pd.MultiIndex.from_frame(grid[keys])
    used = ["indicator_id", "suppressed", "denominator", "value", "ci_low", "ci_high", "numerator"]
    narrow = t[keys + [c for c in used if c in t.columns]]
    measures: dict[str, list[str]] = {}
    for ind in board.indicators.values():
        rows = narrow[narrow["indicator_id"] == ind.id].set_index(keys)
        rows = rows[~rows.index.duplicated()]
        joined = rows.reindex(target)
        present = joined["indicator_id"].notna().to_numpy()
        suppressed = joined["suppressed"].fillna(False).astype(bool).to_numpy()
        nobody = (pd.to_numeric(joined["denominator"], errors="coerce").fillna(0) == 0).to_numpy()
        symbols = ["z" if not p else ("c" if s else ("x" if n else "")) for p, s, n in zip(present, suppressed, nobody)]
        dp = int(getattr(ind, "decimal_places", formatting.DEFAULT_DP))
        for col, source, kind, suffix in _measures(ind, _people(framework), _group_word(board)):
            measures[col] = formatting.cell_texts(joined[source].to_numpy(), kind, dp, symbols)
            meta_rows.append(dict(col_name=col, col_type="Indicator", label=_label(ind.title, suffix),
                                  indicator_grouping=_label(ind.title, ""),
                                  indicator_unit="%" if kind == "percent" else "",
                                  indicator_dp=str(0 if kind == "count" else dp)))
    if set(measures) & set(data.columns):     # a measure named like a column before it: replaced in place
        for col, texts in measures.items():
            data[col] = texts
    elif measures:
        data = pd.concat([data, pd.DataFrame(measures, index=data.index)], axis=1)
    meta = pd.DataFrame([{c: row.get(c, "") for c in META_COLUMNS} for row in meta_rows], columns=META_COLUMNS)
    return data, meta


def write_ees(board, folder, name: str | None = None) -> tuple[Path, Path]:
    """Write ``<name>.csv`` and ``<name>.meta.csv`` of a board table into ``folder`` (atomically); returns both
    paths. ``name`` defaults to the framework's name in snake case without years."""
    data, meta = ees_tables(board)
    name = ees_name(name or board.framework.name or "measurekit_indicators")
    folder = Path(folder)
    csv_path, meta_path = folder / f"{name}.csv", folder / f"{name}.meta.csv"
    for frame, path in ((data, csv_path), (meta, meta_path)):
        atomic.write_csv(path, frame, root=folder)   # formula-like text neutralised; never outside the folder
    return csv_path, meta_path
