"""Check a DfE open-data (EES) file and its ``.meta.csv`` against the main rules of DfE's data screener.

``check_ees(path)`` returns a ``ProblemReport``: every failure with the file, the row (spreadsheet
numbering: the header is row 1), the column, the value and the rule, named after the screener check
it follows (DfE's ``eesyscreener`` R package and the analysts' guide "Open data standards").
``measurekit check-ees FILE`` prints it and exits 1 on errors.

Rules covered (screener check -> code here):

- file names: ``filename_spaces``, ``filename_special``, ``filenames_match`` (``<name>.meta.csv``),
  no years in file names (guide) -> ``ees_file_name``
- columns: required ``time_period, time_identifier, geographic_level, country_code, country_name``;
  geography columns for each level present (``geog_col_present``, ``geog_la_col_present``,
  ``geog_region_col_present``) -> ``ees_missing_column``; ``col_names_spaces``, ``col_snake_case``,
  ``col_dupes``, API limit of 50 characters -> ``ees_column_name``
- values: ``time_period`` four or six digits, six digits consecutive years (``time_period``,
  ``time_period_six``) -> ``ees_time_period``; ``time_identifier`` and ``geographic_level`` from DfE's
  lists (``time_identifier``, ``geographic_level``) -> ``ees_allowed_value``; GSS codes by pattern and
  entity (E92 country, E12 region, E06-E10 LA, E05 ward; ``old_la_code`` three digits; ``x``/``z`` for
  unknown/not applicable) -> ``gss_code``
- blanks: blank indicator cells (``ind_blanks``/``ind_invalid_entry``), blank filter cells
  (``filter_blanks``), blank geography names/codes for the row's level (``geog_na``) -> ``ees_blank``
- indicator cells are numbers or GSS symbols ``c x z low`` (``u`` accepted with a warning: GSS
  symbol, not in the screener's list); legacy ``~ :`` fail (``ind_obsolete_symbols``) -> ``ees_symbol``
- filters: each has a ``Total`` (guide; the screener advises) -> ``ees_total`` (warning);
  ``Total``/``All`` not in observational-unit columns (``filter_ob_total``) -> ``ees_allowed_value``;
  one row per time x place x filters (``general_dupes``) -> ``ees_duplicate_row``
- metadata: required columns (``req_meta_cols``), ``col_type`` Filter|Indicator, every ``col_name`` in
  the data and every non-geography data column in the metadata, no geography/time columns in it
  (``meta_geog_catch``), labels present and unique (``meta_label``, ``meta_duplicate_label``),
  ``indicator_unit`` from ``% pp £ £m numberstring`` and only on indicators (``meta_ind_unit``,
  ``meta_indicator_unit_validation``), ``indicator_dp`` a whole number, only on indicators
  (``meta_indicator_dp``), ``filter_hint``/``filter_grouping_column`` only on filters and the grouping
  column a filter column of the data (``meta_filter_hint``, ``meta_filter_group_*``),
  ``indicator_grouping`` only on indicators -> ``ees_meta``

Not covered: comparisons against DfE's lookups of real place names and codes (``geog_combos``:
whether a new_la_code really is the la_name beside it), harmonised filter names (``harmonised``), filter item limits,
whitespace trimming beyond blanks, and the screener's advisory checks. DfE's own screener remains
the last step before an upload to EES.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from measurekit.core import gss
from measurekit.problems import ProblemReport

REQUIRED = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name"]
META_REQUIRED = ["col_name", "col_type", "label", "indicator_grouping", "indicator_unit", "indicator_dp",
                 "filter_hint", "filter_grouping_column"]
META_OPTIONAL = ["filter_default"]
TERMS = ["Autumn term", "Spring term", "Summer term"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
WEEKS = [f"Week {k}" for k in range(1, 53)]
FIN_QUARTERS = [f"Financial year Q{k}" for k in range(1, 5)]
FIN_HALVES = ["Part 1 (April to September)", "Part 2 (October to March)"]
SIX_DIGIT_IDS = ["Autumn and spring term", *TERMS, "Financial year", "Academic year", "Tax year", *FIN_QUARTERS,
                 *FIN_HALVES]
FOUR_DIGIT_IDS = ["Calendar year", "Reporting year", *WEEKS, *MONTHS]
TIME_IDENTIFIERS = SIX_DIGIT_IDS + FOUR_DIGIT_IDS
# geographic_level -> columns that must be filled on its rows (beyond the country)
LEVEL_COLUMNS = {
    "National": [],
    "Regional": ["region_code", "region_name"],
    "Local authority": ["old_la_code", "new_la_code", "la_name"],
    "Local authority district": ["lad_code", "lad_name"],
    "RSC region": ["rsc_region_lead_name"],
    "Parliamentary constituency": ["pcon_code", "pcon_name"],
    "Local skills improvement plan area": ["lsip_code", "lsip_name"],
    "Local enterprise partnership": ["local_enterprise_partnership_code", "local_enterprise_partnership_name"],
    "English devolved area": ["english_devolved_area_code", "english_devolved_area_name"],
    "Opportunity area": ["opportunity_area_code", "opportunity_area_name"],
    "Ward": ["ward_code", "ward_name"],
    "MAT": ["trust_id", "trust_name"],
    "Sponsor": ["sponsor_id", "sponsor_name"],
    "School": ["school_urn", "school_name"],
    "Provider": ["provider_ukprn", "provider_name"],
    "Institution": ["institution_id", "institution_name"],
    "Planning area": ["planning_area_code", "planning_area_name"],
    "Police force area": ["pfa_code", "pfa_name"],
}
OBSERVATIONAL = set(REQUIRED) | {"region_code", "region_name", "old_la_code", "new_la_code", "la_name"} | {
    c for cols in LEVEL_COLUMNS.values() for c in cols}
# code column -> GSS entity it must be (x and z allowed for unknown / not applicable)
CODE_ENTITIES = {"country_code": "country", "region_code": "region", "new_la_code": "la", "ward_code": "ward",
                 "lsoa_code": "lsoa", "msoa_code": "msoa"}
SYMBOLS = {"c", "x", "z", "low"}
LEGACY_SYMBOLS = {"~", ":"}
UNITS = {"%", "pp", "£", "£m", "numberstring"}
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_NUMBER = re.compile(r"^-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?$")
_FILE = re.compile(r"^[a-z0-9_]+(\.meta)?\.csv$")
_YEAR = re.compile(r"(19|20)\d{2}")
MAX_REPORTED_PER_RULE = 200


class _Report:
    """A ProblemReport that keeps at most MAX_REPORTED_PER_RULE problems per (code, column), and counts the rest."""

    def __init__(self, title):
        self.report = ProblemReport(title=title)
        self.counts: dict = {}

    def add(self, code, message, **where):
        key = (code, where.get("column"), where.get("file"))
        self.counts[key] = self.counts.get(key, 0) + 1
        if self.counts[key] <= MAX_REPORTED_PER_RULE:
            self.report.add(code, message, **where)
        elif self.counts[key] == MAX_REPORTED_PER_RULE + 1:
            self.report.add(code, f"... further rows break the same rule ({where.get('rule')}); fix the ones above "
                            "and check again.", file=where.get("file"), column=where.get("column"),
                            rule=where.get("rule"), severity=where.get("severity", "error"))


def _rows(mask: pd.Series) -> list[int]:
    """Spreadsheet row numbers (header = 1) of the True cells."""
    return [int(i) + 2 for i in mask.index[mask.to_numpy(dtype=bool)]]


def check_ees(path, meta_path=None) -> ProblemReport:
    """Every way the EES data file ``path`` (and its ``<name>.meta.csv``) breaks the rules listed above."""
    path = Path(path)
    meta_path = Path(meta_path) if meta_path else path.with_name(path.name.removesuffix(".csv") + ".meta.csv")
    r = _Report(f"EES check of {path.name}")
    data_name, meta_name = path.name, meta_path.name
    _check_names(r, path, meta_path)
    data = _read(r, path)
    meta = _read(r, meta_path)
    if data is None:
        return r.report
    _check_columns(r, data, data_name)
    _check_time(r, data, data_name)
    _check_geography(r, data, data_name)
    if meta is not None:
        indicators, filters = _check_meta(r, meta, data, meta_name)
        _check_indicators(r, data, indicators, data_name)
        _check_filters(r, data, filters, data_name)
    return r.report


def _read(r, path: Path):
    if not path.is_file():
        r.add("missing_file", f"{path.name} not found: an EES data file needs its metadata beside it as "
              f"<name>.meta.csv.", file=path.name, rule="filenames_match")
        return None
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        r.add("unreadable_file", f"{path.name} cannot be read as UTF-8 CSV: {exc}", file=path.name, rule="csv_utf8")
        return None


def _check_names(r, path: Path, meta_path: Path) -> None:
    for p in (path, meta_path):
        name = p.name
        if " " in name:
            r.add("ees_file_name", "File names have no spaces.", file=name, value=name, rule="filename_spaces")
        elif not _FILE.match(name):
            r.add("ees_file_name", "File names use lower-case letters, digits and underscores only, ending .csv "
                  "(metadata: .meta.csv).", file=name, value=name, rule="filename_special")
        if _YEAR.search(name):
            r.add("ees_file_name", "File names have no years in them (the year is in time_period).", file=name,
                  value=name, rule="filename_no_years")
    if path.name.endswith(".meta.csv"):
        r.add("ees_file_name", "This is a metadata file: give the data file, the .meta.csv is found beside it.",
              file=path.name, rule="filenames_match")
    elif meta_path.name != path.name.removesuffix(".csv") + ".meta.csv":
        r.add("ees_file_name", f"The metadata file must be named {path.name.removesuffix('.csv')}.meta.csv.",
              file=meta_path.name, value=meta_path.name, rule="filenames_match")


def _check_columns(r, data: pd.DataFrame, file: str) -> None:
    for col in REQUIRED:
        if col not in data.columns:
            r.add("ees_missing_column", f"Required column {col} is missing.", file=file, column=col,
                  rule="required_columns")
    seen = set()
    for col in data.columns:
        if col in seen or re.fullmatch(r".+\.\d+", col) and col.rsplit(".", 1)[0] in data.columns:
            r.add("ees_column_name", "Column names must be unique.", file=file, column=col, rule="col_dupes")
        seen.add(col)
        if " " in col:
            r.add("ees_column_name", "Column names have no spaces.", file=file, column=col, value=col,
                  rule="col_names_spaces")
        elif not _SNAKE.match(col):
            r.add("ees_column_name", "Column names are snake_case: lower-case letters, digits and underscores, "
                  "starting with a letter.", file=file, column=col, value=col, rule="col_snake_case")
        if len(col) > 50:
            r.add("ees_column_name", "Column names are at most 50 characters.", file=file, column=col, value=col,
                  rule="api_char_limit")
    empty = [c for c in data.columns if (data[c].str.strip() == "").all()] if len(data) else []
    for col in empty:
        r.add("ees_blank", "The column is empty: remove it or fill it.", file=file, column=col, rule="empty_cols")


def _check_time(r, data: pd.DataFrame, file: str) -> None:
    if "time_identifier" in data:
        bad = ~data["time_identifier"].isin(TIME_IDENTIFIERS)
        for row in _rows(bad):
            r.add("ees_allowed_value", "time_identifier must be one of DfE's values (e.g. 'Academic year', "
                  "'Calendar year', 'Financial year').", file=file, row=row, column="time_identifier",
                  value=data.at[row - 2, "time_identifier"], rule="time_identifier")
    if "time_period" not in data:
        return
    tid = data["time_identifier"] if "time_identifier" in data else pd.Series("", index=data.index)
    for i, (tp, ti) in enumerate(zip(data["time_period"], tid)):
        problem = None
        if not re.fullmatch(r"\d{4}|\d{6}", tp):
            problem = ("time_period is four digits (calendar years) or six digits (academic/financial years).",
                       "time_period")
        elif len(tp) == 6 and (int(tp[2:4]) + 1) % 100 != int(tp[4:6]):
            problem = ("A six-digit time_period is two consecutive years, e.g. 202425.", "time_period_six")
        elif ti in SIX_DIGIT_IDS and len(tp) != 6:
            problem = (f"time_identifier '{ti}' needs a six-digit time_period (e.g. 202425).", "time_period_length")
        elif ti in FOUR_DIGIT_IDS and len(tp) != 4:
            problem = (f"time_identifier '{ti}' needs a four-digit time_period (e.g. 2025).", "time_period_length")
        if problem:
            r.add("ees_time_period", problem[0], file=file, row=i + 2, column="time_period", value=tp, rule=problem[1])


def _check_geography(r, data: pd.DataFrame, file: str) -> None:
    if "geographic_level" not in data:
        return
    levels = data["geographic_level"]
    for row in _rows(~levels.isin(LEVEL_COLUMNS)):
        r.add("ees_allowed_value", "geographic_level must be one of DfE's levels (National, Regional, Local authority, "
              "Ward, ...).", file=file, row=row, column="geographic_level", value=levels.iat[row - 2],
              rule="geographic_level")
    for level in sorted(set(levels) & set(LEVEL_COLUMNS)):
        on = levels == level
        needed = ["country_code", "country_name"] + LEVEL_COLUMNS[level] + (
            ["region_code", "region_name"] if level == "Local authority" else [])
        for col in needed:
            if col not in data:
                r.add("ees_missing_column", f"Rows at level '{level}' need the column {col}.", file=file, column=col,
                      rule="geog_col_present")
                continue
            for row in _rows(on & (data[col].str.strip() == "")):
                r.add("ees_blank", f"{col} is blank on a '{level}' row; use the name or code, or x (not available) "
                      "/ z (not applicable) for a code.", file=file, row=row, column=col, rule="geog_na")
    for col in set(data.columns) & OBSERVATIONAL:
        for row in _rows(data[col].isin(["Total", "total", "All", "all"])):
            r.add("ees_allowed_value", "Total/All belongs in filter columns, not in time or geography columns.",
                  file=file, row=row, column=col, value=data.at[row - 2, col], rule="filter_ob_total")
    for col, entity in CODE_ENTITIES.items():
        if col not in data:
            continue
        for i, code in enumerate(data[col]):          # read_csv's RangeIndex: position = label
            if code in ("", "x", "z"):
                continue
            message = gss.gss_problem(code, entity)
            if message:
                r.add("gss_code", message, file=file, row=i + 2, column=col, value=code, rule=f"gss_{entity}_code")
    if "old_la_code" in data:
        for i, code in enumerate(data["old_la_code"]):
            if code not in ("", "x", "z") and gss.old_la_problem(code):
                r.add("gss_code", gss.old_la_problem(code), file=file, row=i + 2, column="old_la_code", value=code,
                      rule="old_la_code")


def _check_meta(r, meta: pd.DataFrame, data: pd.DataFrame, file: str):
    for col in META_REQUIRED:
        if col not in meta.columns:
            r.add("ees_meta", f"The metadata file needs the column {col}.", file=file, column=col, rule="req_meta_cols")
    for col in meta.columns:
        if col not in META_REQUIRED + META_OPTIONAL:
            r.add("ees_meta", f"Column {col} is not a metadata column.", file=file, column=col, rule="meta_cols",
                  severity="warning")
    meta = meta.reindex(columns=list(dict.fromkeys(list(meta.columns) + META_REQUIRED)), fill_value="")
    indicators, filters = [], []
    seen_names, seen_labels = set(), set()
    data_cols = set(data.columns)
    for i, m in enumerate(meta.to_dict("records")):        # read_csv's RangeIndex: position = label
        row, name, kind = i + 2, m["col_name"], m["col_type"]

        def bad(message, column, rule, value=None, row=row):
            r.add("ees_meta", message, file=file, row=row, column=column, value=value, rule=rule)

        if kind not in ("Filter", "Indicator"):
            bad("col_type is Filter or Indicator.", "col_type", "meta_col_type", kind)
        if not name or " " in name:
            bad("col_name is the data column's name, without spaces.", "col_name", "meta_col_name_spaces", name)
        if name in seen_names:
            bad("col_name is listed twice.", "col_name", "meta_col_name_duplicate", name)
        seen_names.add(name)
        if name in OBSERVATIONAL:
            bad("Time and geography columns are not listed in the metadata.", "col_name", "meta_geog_catch", name)
        elif name not in data_cols:
            bad("col_name is not a column of the data file.", "col_name", "filenames_match_columns", name)
        if not m["label"].strip():
            bad("Every filter and indicator needs a plain-English label.", "label", "meta_label", name)
        elif m["label"] in seen_labels:
            bad("Labels must be unique.", "label", "meta_duplicate_label", m["label"])
        seen_labels.add(m["label"])
        if kind == "Indicator":
            indicators.append(name)
            if m["indicator_unit"] not in UNITS | {""}:
                bad("indicator_unit is blank or one of % pp £ £m numberstring.", "indicator_unit",
                    "meta_indicator_unit_validation", m["indicator_unit"])
            if m["indicator_dp"] != "" and not re.fullmatch(r"\d+", m["indicator_dp"]):
                bad("indicator_dp is a whole number of decimal places.", "indicator_dp", "meta_indicator_dp",
                    m["indicator_dp"])
            for col, rule in (("filter_hint", "meta_filter_hint"), ("filter_grouping_column", "meta_filter_group")):
                if m[col].strip():
                    bad(f"Indicators have no {col}.", col, rule, m[col])
        elif kind == "Filter":
            filters.append(name)
            for col, rule in (("indicator_unit", "meta_ind_unit"), ("indicator_dp", "meta_indicator_dp"),
                              ("indicator_grouping", "meta_indicator_grouping")):
                if m[col].strip():
                    bad(f"Filters have no {col}.", col, rule, m[col])
            group = m["filter_grouping_column"].strip()
            if group and group not in data_cols:
                bad("filter_grouping_column names a column that is not in the data.", "filter_grouping_column",
                    "meta_filter_group_match", group)
            elif group and group == name:
                bad("A filter cannot be its own grouping column.", "filter_grouping_column", "meta_filter_group", group)
    listed = set(meta["col_name"])
    for col in data.columns:
        if col not in OBSERVATIONAL and col not in listed:
            r.add("ees_meta", "The data column is not in the metadata file: add a Filter or Indicator row for it.",
                  file=file, column=col, rule="filenames_match_columns")
    return indicators, filters


def _check_indicators(r, data: pd.DataFrame, indicators: list[str], file: str) -> None:
    for col in indicators:
        if col not in data:
            continue
        cells = data[col].str.strip()
        for row in _rows(cells == ""):
            r.add("ees_blank", "Indicator cells are never blank: a number, or c (confidential), x (not available), "
                  "z (not applicable) or low.", file=file, row=row, column=col, rule="ind_blanks")
        odd = (cells != "") & ~cells.str.match(_NUMBER) & ~cells.isin(SYMBOLS)
        for row in _rows(odd):
            value = data.at[row - 2, col]
            if value == "u":
                r.add("ees_symbol",
                      "u (low reliability) is a GSS symbol but not in the screener's list (c, x, z, low).",
                      file=file, row=row, column=col, value=value, rule="ind_invalid_entry", severity="warning")
            elif value in LEGACY_SYMBOLS:
                r.add("ees_symbol", "Legacy symbol: use c, x, z or low.", file=file, row=row, column=col, value=value,
                      rule="ind_obsolete_symbols")
            else:
                r.add("ees_symbol", "Indicator cells hold a number or a GSS symbol (c, x, z, low).", file=file, row=row,
                      column=col, value=value, rule="ind_invalid_entry")


def _check_filters(r, data: pd.DataFrame, filters: list[str], file: str) -> None:
    present = [f for f in filters if f in data]
    for col in present:
        for row in _rows(data[col].str.strip() == ""):
            r.add("ees_blank", "Filter cells are never blank (use Total for all).", file=file, row=row, column=col,
                  rule="filter_blanks")
        if "Total" not in set(data[col]):
            r.add("ees_total", "The filter has no Total row; DfE's standard gives every filter a Total.", file=file,
                  column=col, rule="filter_total", severity="warning")
    keys = [c for c in data.columns if c in OBSERVATIONAL or c in present]
    if keys:
        dup = data.duplicated(subset=keys, keep="first")
        for row in _rows(dup):
            r.add("ees_duplicate_row", "Another row has the same time period, place and filter values.", file=file,
                  row=row, rule="general_dupes")
