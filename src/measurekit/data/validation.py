"""Validate a folder of input files against their Table Schemas and the cross-file rules.

Every problem is reported (not only the first), each with file, row (as a spreadsheet user
counts it: the header is row 1), column, value, rule, a plain-English message and a stable
code. Nothing in the input folder is ever written to.

Codes: ``missing_file``, ``unreadable_file``, ``missing_column``, ``unknown_column`` (warning),
``missing_value``, ``wrong_type``, ``invalid_date``, ``unknown_code``, ``item_out_of_scale``,
``out_of_range``, ``duplicate_id``, ``unknown_child``, ``unknown_small_area``,
``neighbourhood_mismatch``, ``gld_mismatch``, ``total_elgs_mismatch``, ``summer_born_mismatch``,
``future_date``, ``implausible_date``, ``date_before_birth``, ``asq_not_multiple_of_5``,
``duplicate_response`` (warning).
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd

from measurekit.data import eyfsp
from measurekit.data.readers import read_raw, sources
from measurekit.data.schemas import REQUIRED_TABLES, TABLES, table_schema
from measurekit.problems import ProblemReport

_INT = re.compile(r"^[+-]?\d+(\.0+)?$")
_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _rows(mask: pd.Series) -> np.ndarray:
    return np.flatnonzero(mask.to_numpy())


def _parse_dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.where(values.str.match(_DATE.pattern)), format="%Y-%m-%d", errors="coerce")


def check_table(name: str, frame: pd.DataFrame, schema: dict, file: str, report: ProblemReport) -> None:
    """Check one table (text cells) against its schema, adding problems to ``report``."""
    fields = {f["name"]: f for f in schema["fields"]}
    for col in fields:
        if col not in frame.columns:
            report.add("missing_column", f"Column {col!r} is required in {file} but is missing "
                       "(map your own header to it in the config file if it has another name).",
                       file=file, column=col, rule="required column")
    for col in frame.columns:
        if col not in fields:
            report.add("unknown_column", f"Column {col!r} is not part of the {name} schema and will be ignored.",
                       file=file, column=col, severity="warning")
    item_like = name in ("voice_parent", "voice_practitioner")
    for col, f in fields.items():
        if col not in frame.columns:
            continue
        values = frame[col]
        c = f.get("constraints", {})
        blank = values == ""
        if c.get("required"):
            for i in _rows(blank):
                report.add("missing_value", f"{col} is empty but is required.", file=file, row=i + 2, column=col,
                           value="", rule="required")
        present = ~blank
        if f["type"] == "integer":
            bad = present & ~values.str.match(_INT.pattern)
            for i in _rows(bad):
                report.add("wrong_type", f"{col} must be a whole number.", file=file, row=i + 2, column=col,
                           value=values.iloc[i], rule="type: integer")
            ok = present & ~bad
            parsed = pd.to_numeric(values.where(ok), errors="coerce")
        elif f["type"] == "number":
            bad = present & ~values.str.match(_NUM.pattern)
            for i in _rows(bad):
                report.add("wrong_type", f"{col} must be a number.", file=file, row=i + 2, column=col,
                           value=values.iloc[i], rule="type: number")
            ok = present & ~bad
            parsed = pd.to_numeric(values.where(ok), errors="coerce")
        elif f["type"] == "date":
            parsed = _parse_dates(values)
            bad = present & parsed.isna()
            for i in _rows(bad):
                report.add("invalid_date", f"{col} is not a real date in the form yyyy-mm-dd.", file=file, row=i + 2,
                           column=col, value=values.iloc[i], rule="type: date (yyyy-mm-dd)")
            ok = present & ~bad
        else:
            parsed = values
            ok = present
        if "enum" in c:
            allowed = c["enum"]
            if f["type"] in ("integer", "number"):
                bad = ok & ~parsed.isin(allowed)
            else:
                bad = ok & ~values.isin([str(a) for a in allowed])
            code = "item_out_of_scale" if item_like and f["type"] == "integer" else "unknown_code"
            for i in _rows(bad):
                what = "is not a code of this item's response scale" if code == "item_out_of_scale" else "is not an allowed code"
                report.add(code, f"{col} = {values.iloc[i]!r} {what}; allowed: {', '.join(map(str, allowed))}.",
                           file=file, row=i + 2, column=col, value=values.iloc[i],
                           rule="enum: " + "|".join(map(str, allowed)))
        for bound, op in (("minimum", np.less), ("maximum", np.greater)):
            if bound in c and f["type"] in ("integer", "number"):
                bad = ok & op(parsed, c[bound]).fillna(False)
                for i in _rows(bad):
                    report.add("out_of_range", f"{col} = {values.iloc[i]} is outside the allowed range "
                               f"{c.get('minimum', '')}..{c.get('maximum', '')}.", file=file, row=i + 2, column=col,
                               value=values.iloc[i], rule=f"{bound}: {c[bound]}")
        if c.get("unique"):
            dup = present & values.duplicated(keep=False)
            for i in _rows(dup):
                report.add("duplicate_id", f"{col} {values.iloc[i]!r} appears more than once; it must be unique.",
                           file=file, row=i + 2, column=col, value=values.iloc[i], rule="unique")


def _cross_checks(raw: dict[str, pd.DataFrame], files: dict[str, str], report: ProblemReport, today: dt.date) -> None:
    children = raw.get("children")
    known = set(children["child_id"]) if children is not None and "child_id" in children else None
    dob = None
    if children is not None and {"child_id", "date_of_birth"} <= set(children.columns):
        dob = pd.Series(_parse_dates(children["date_of_birth"]).to_numpy(), index=children["child_id"].to_numpy())
        dob = dob[~dob.index.duplicated()]
        births = _parse_dates(children["date_of_birth"])
        f = files["children"]
        ts_today = pd.Timestamp(today)
        for i in _rows(births > ts_today):
            report.add("future_date", "date_of_birth is in the future.", file=f, row=i + 2, column="date_of_birth",
                       value=children["date_of_birth"].iloc[i], rule=f"<= {today.isoformat()}")
        age = (ts_today - births).dt.days / 365.25
        for i in _rows((births <= ts_today) & ((age < 2) | (age > 12))):
            report.add("implausible_date", "date_of_birth gives an age outside 2-12 years for a reception cohort.",
                       file=f, row=i + 2, column="date_of_birth", value=children["date_of_birth"].iloc[i],
                       rule="age 2-12 years")
        if "summer_born" in children:
            expected = births.dt.month.between(4, 8).astype("Int64").astype(str)
            bad = births.notna() & children["summer_born"].isin(["0", "1"]) & (children["summer_born"] != expected)
            for i in _rows(bad):
                report.add("summer_born_mismatch", "summer_born disagrees with date_of_birth (born April-August = 1).",
                           file=f, row=i + 2, column="summer_born", value=children["summer_born"].iloc[i],
                           rule="summer_born = month of birth in 4..8")
    lookup = raw.get("small_areas")
    if children is not None and lookup is not None and {"small_area", "neighbourhood"} <= set(children.columns) \
            and {"small_area", "neighbourhood"} <= set(lookup.columns):
        nb_of = dict(zip(lookup["small_area"], lookup["neighbourhood"]))
        f = files["children"]
        for i in _rows(~children["small_area"].isin(list(nb_of)) & (children["small_area"] != "")):
            report.add("unknown_small_area", "small_area is not in the small-area lookup (small_areas file).",
                       file=f, row=i + 2, column="small_area", value=children["small_area"].iloc[i],
                       rule="foreign key: small_areas.small_area")
        mapped = children["small_area"].map(nb_of)
        for i in _rows(mapped.notna() & (mapped != children["neighbourhood"])):
            report.add("neighbourhood_mismatch", f"neighbourhood disagrees with the lookup for small area "
                       f"{children['small_area'].iloc[i]} ({mapped.iloc[i]}).", file=f, row=i + 2,
                       column="neighbourhood", value=children["neighbourhood"].iloc[i], rule="lookup small_area -> neighbourhood")
    for name, frame in raw.items():
        if name in ("children", "small_areas") or "child_id" not in frame:
            continue
        f = files[name]
        if known is not None:
            bad = (frame["child_id"] != "") & ~frame["child_id"].isin(known)
            for i in _rows(bad):
                report.add("unknown_child", "child_id is not in the children file.", file=f, row=i + 2,
                           column="child_id", value=frame["child_id"].iloc[i], rule="foreign key: children.child_id")
        for date_col in ("completed_on", "rated_on"):
            if date_col not in frame:
                continue
            d = _parse_dates(frame[date_col])
            for i in _rows(d > pd.Timestamp(today)):
                report.add("future_date", f"{date_col} is in the future.", file=f, row=i + 2, column=date_col,
                           value=frame[date_col].iloc[i], rule=f"<= {today.isoformat()}")
            if dob is not None:
                born = frame["child_id"].map(dob)
                for i in _rows(d.notna() & born.notna() & (d < born)):
                    report.add("date_before_birth", f"{date_col} is before the child's date of birth.", file=f,
                               row=i + 2, column=date_col, value=frame[date_col].iloc[i], rule=">= date_of_birth")
    if "voice_parent" in raw and "child_id" in raw["voice_parent"]:
        v = raw["voice_parent"]
        for i in _rows((v["child_id"] != "") & v["child_id"].duplicated(keep="first")):
            report.add("duplicate_response", "This child already has a parent response; the latest is used.",
                       file=files["voice_parent"], row=i + 2, column="child_id", value=v["child_id"].iloc[i],
                       rule="one response per child", severity="warning")
    e = raw.get("eyfsp")
    if e is not None and set(eyfsp.ELG_COLUMNS) <= set(e.columns):
        f = files["eyfsp"]
        if "gld" in e:
            derived = eyfsp.derive_gld(e).astype(str)
            bad = e["gld"].isin(["0", "1"]) & (e["gld"] != derived)
            for i in _rows(bad):
                report.add("gld_mismatch", f"gld = {e['gld'].iloc[i]} but the ELG judgements give {derived.iloc[i]} "
                           "(GLD needs 'expected' in all 12 ELGs of the prime areas, literacy and mathematics).",
                           file=f, row=i + 2, column="gld", value=e["gld"].iloc[i], rule="DfE GLD rule")
        if "total_elgs_expected" in e:
            derived = eyfsp.total_expected(e).astype(str)
            bad = e["total_elgs_expected"].str.match(_INT.pattern) & (e["total_elgs_expected"] != derived)
            for i in _rows(bad):
                report.add("total_elgs_mismatch", f"total_elgs_expected = {e['total_elgs_expected'].iloc[i]} but "
                           f"{derived.iloc[i]} ELGs are at 'expected'.", file=f, row=i + 2, column="total_elgs_expected",
                           value=e["total_elgs_expected"].iloc[i], rule="count of ELGs at expected")
    a = raw.get("asq")
    if a is not None:
        for col in [c for c in a.columns if c.startswith("asq_") and not c.endswith("_zone") and c != "asq_age_months"]:
            num = pd.to_numeric(a[col].where(a[col].str.match(_INT.pattern)), errors="coerce")
            for i in _rows(num.notna() & (num % 5 != 0)):
                report.add("asq_not_multiple_of_5", f"{col} must be a multiple of 5 (items score 0, 5 or 10).",
                           file=files["asq"], row=i + 2, column=col, value=a[col].iloc[i], rule="multiple of 5")


def read_and_check(folder, config=None, framework=None, today: dt.date | None = None):
    """Read every table as text and check it. Returns (raw tables, file names, report)."""
    from measurekit.core import paths
    from measurekit.design import load_framework

    folder = Path(folder)
    fw = framework if framework is not None else load_framework(paths.BUNDLED_FRAMEWORK)
    report = ProblemReport(title=f"Validation of {folder}")
    today = today or dt.date.today()
    raw, files = {}, {}
    if not folder.is_dir():
        report.add("missing_folder", f"The data folder {folder} does not exist.")
        return raw, files, report
    for name, src in sources(folder, config).items():
        if src.path is None or not src.path.exists():
            if name in REQUIRED_TABLES or src.path is not None:
                report.add("missing_file", f"No {name} file found in {folder} (expected {name}.csv or .xlsx, "
                           "or a path in the config).", file=str(src.path.name if src.path else f"{name}.csv"))
            continue
        files[name] = src.path.name
        try:
            frame = read_raw(src)
        except Exception as exc:  # noqa: BLE001 - any read failure is reported, not raised
            report.add("unreadable_file", f"Could not read the file: {exc}", file=src.path.name)
            continue
        raw[name] = frame
        check_table(name, frame, table_schema(name, fw), src.path.name, report)
    _cross_checks(raw, files, report, today)
    return raw, files, report


def validate_dir(folder, config=None, framework=None, today: dt.date | None = None) -> ProblemReport:
    """Check every input file in ``folder``; returns a report of every problem found.

    ``report.ok`` is False when there are errors; ``report.to_frame()`` has the columns
    severity, code, file, row, column, value, rule, message.
    """
    return read_and_check(folder, config, framework, today)[2]
