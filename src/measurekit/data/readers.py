"""Read an LA's input files (CSV or Excel), mapping its column names onto ours.

A folder holds one file per table: ``children``, ``small_areas``, ``eyfsp``, ``asq``,
``voice_parent``, ``voice_practitioner``, ``later_outcome`` (``.csv``, ``.xlsx`` or ``.xls``).
Other names and headers are mapped with a small YAML config::

    files:
      children:
        path: pupils_2025.xlsx        # relative to the data folder
        sheet: Pupils                 # Excel only (default: first sheet)
        columns: {PupilRef: child_id, Gender: sex, FSMeligible: fsm}
        values:  {sex: {Female: F, Male: M}, fsm: {"Y": 1, "N": 0}}
      voice_parent:
        path: kobo_export.csv         # a KoboToolbox / ODK CSV export works as it is

Survey exports from KoboToolbox/ODK are recognised: group prefixes in headers
(``home_learning/hl1``) are removed, ``_uuid`` becomes ``response_id`` and
``_submission_time`` becomes ``completed_on`` when those columns are absent; other
metadata columns starting with ``_`` are dropped.

Files are only ever opened for reading.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from measurekit.data.schemas import TABLES

SUFFIXES = (".csv", ".xlsx", ".xls")


@dataclass
class TableSource:
    name: str
    path: Path | None
    sheet: str | int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict] = field(default_factory=dict)


def load_config(config) -> dict:
    """Read the column-mapping config (a path to YAML, a dict, or None)."""
    if config is None:
        return {}
    if isinstance(config, dict):
        return config
    import yaml

    with open(config, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{config}: the config must be a mapping with a 'files' section")
    return data


def sources(folder, config=None) -> dict[str, TableSource]:
    """Where each table comes from (path None when no file was found)."""
    folder = Path(folder)
    cfg = load_config(config).get("files", {}) or {}
    out = {}
    for name in TABLES:
        entry = cfg.get(name, {}) or {}
        path = None
        if entry.get("path"):
            path = folder / entry["path"]
        else:
            for suffix in SUFFIXES:
                if (folder / f"{name}{suffix}").exists():
                    path = folder / f"{name}{suffix}"
                    break
        out[name] = TableSource(name, path, entry.get("sheet"), dict(entry.get("columns") or {}),
                                dict(entry.get("values") or {}))
    return out


def read_raw(source: TableSource) -> pd.DataFrame:
    """Read one file as text (every cell a string, blanks as ''), with headers mapped to ours."""
    path = source.path
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    else:
        frame = pd.read_excel(path, sheet_name=source.sheet or 0, dtype=str, keep_default_na=False)
        frame = frame.fillna("")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.rename(columns=source.columns)
    if source.name in ("voice_parent", "voice_practitioner"):
        frame = _from_survey_export(frame)
    for col, mapping in source.values.items():
        if col in frame:
            frame[col] = frame[col].map(lambda v, m=mapping: str(m.get(v, m.get(_num_key(v), v))))
    return frame.apply(lambda s: s.astype(str).str.strip())


def _num_key(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return v


def _from_survey_export(frame: pd.DataFrame) -> pd.DataFrame:
    """Normalise a KoboToolbox/ODK export: strip group prefixes, map metadata columns."""
    renamed = {c: c.rsplit("/", 1)[-1] for c in frame.columns if "/" in c}
    frame = frame.rename(columns=renamed)
    if "response_id" not in frame and "_uuid" in frame:
        frame = frame.rename(columns={"_uuid": "response_id"})
    if "completed_on" not in frame and "_submission_time" in frame:
        frame["completed_on"] = frame["_submission_time"].str.slice(0, 10)
    drop = [c for c in frame.columns if c.startswith("_") or c in ("start", "end", "today", "deviceid", "meta/instanceID", "instanceID")]
    return frame.drop(columns=drop)


def typed(frame: pd.DataFrame, schema: dict) -> pd.DataFrame:
    """Convert text columns to the schema's types (integers as nullable Int64; dates stay ISO text)."""
    out = frame.copy()
    for f in schema["fields"]:
        name = f["name"]
        if name not in out:
            continue
        if f["type"] == "integer":
            num = pd.to_numeric(out[name].replace("", None), errors="coerce")
            out[name] = num.round().astype("Int64")
            if not out[name].isna().any():
                out[name] = out[name].astype("int64")
        elif f["type"] == "number":
            out[name] = pd.to_numeric(out[name].replace("", None), errors="coerce")
        else:
            out[name] = out[name].astype(object).where(out[name] != "", None)
    return out
