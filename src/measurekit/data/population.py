"""What the main job needs to know about a framework's declared people and tables, in one place.

A framework that declares its tables (``population`` and ``tables`` in framework.yaml) names its own population
table, person id, area column, voice tables and their respondents. The steps of ``measurekit run`` and the board
table keep their technical names (``neighbourhood`` and ``neighbourhood_code`` for the areas boards cover,
``completed_on`` for the date of the voice answers, ``responded``); this module maps the declared names onto
them, so no step names a column of any particular framework. A framework without declared tables keeps the data
contract's default layout, unchanged.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_RESPONDENT = "parent"


def voice_tables(framework) -> list:
    """The declared voice tables (not retest tables), in framework order; [] when the framework declares none."""
    return [t for t in (getattr(framework, "tables", None) or []) if t.kind == "voice" and not t.retest]


def first_respondent(framework) -> str:
    """The respondent whose answers are scored and published (``Framework.main_respondent``: the respondent of the
    first declared voice table; without one, the data contract's ``parent`` when the items name it or name none,
    else the first respondent the items name); ``parent`` for a shorthand mapping of scales."""
    main = getattr(framework, "main_respondent", None)
    return main() if callable(main) else DEFAULT_RESPONDENT


def declared(framework) -> bool:
    """True when the framework declares its own population (not the data contract's ``children``/``child_id``)."""
    pop = getattr(framework, "population", None)
    return bool(getattr(framework, "tables", None)) and pop is not None and \
        (pop.table, pop.id) != ("children", "child_id")


def _latest(table: pd.DataFrame, decl, pid: str) -> pd.DataFrame:
    """One row per person of a voice table: the latest review (by its round, then its date column)."""
    order = [c for c in (decl.round, decl.date) if c and c in table]
    t = table.sort_values([pid, *order], kind="stable") if order else table
    return t.drop_duplicates(pid, keep="last").set_index(pid)


def field_column(table: str | None, field: str) -> str:
    """The column of the board frame an indicator reads: ``field``, or ``<table>.<field>`` when the indicator
    names a declared table (``compute.table``, ``compute.among.table``); :func:`technical_frame` adds those."""
    return f"{table}.{field}" if table else field


def technical_frame(frame: pd.DataFrame, tables: dict | None, framework) -> pd.DataFrame:
    """The analysis frame (one row per person, same index) with the board table's technical names: the declared
    area column as ``neighbourhood``, its code as ``neighbourhood_code``, the small area as ``small_area``, the
    first voice table's date as ``completed_on``; and one column ``<table>.<field>`` for every declared table and
    field an indicator names (``compute.table``, ``compute.among``): from a table with one row per person, its
    value; from a voice table, the person's latest review (``responded``: 1 when the person has a row in it, else
    0). The caller's frame is not changed. A framework without declared tables: ``frame`` itself, unchanged."""
    if not declared(framework):
        return frame
    pop = framework.population
    voices = voice_tables(framework)
    rename = {pop.area: "neighbourhood", pop.area_code: "neighbourhood_code", pop.small_area: "small_area",
              pop.small_area_name: "small_area_name", (voices[0].date if voices else None): "completed_on"}
    rename = {k: v for k, v in rename.items() if k and k != v and k in frame and v not in frame}
    out = frame.rename(columns=rename) if rename else frame.copy()
    wanted = []
    for ind in framework.indicators:
        c = ind.compute
        if c.table:
            wanted.append((c.table, c.field))
        if c.among is not None and c.among.table:
            wanted.append((c.among.table, c.among.field))
    by_name = {t.name: t for t in framework.tables}
    first = voices[0].name if voices else None
    for table, fld in dict.fromkeys(wanted):
        col = field_column(table, fld)
        if col in out:
            continue
        decl = by_name.get(table)
        source = (tables or {}).get(table)
        if table == first or (decl is not None and decl.kind != "voice" and (fld in frame or fld in out)):
            # already joined into the analysis frame (one row per person, or the first voice table's latest)
            out[col] = out[rename.get(fld, fld)] if rename.get(fld, fld) in out else np.nan
            continue
        if source is None or decl is None:
            out[col] = np.nan
            continue
        if decl.kind == "voice":
            latest = _latest(source, decl, pop.id)
            ids = out[pop.id] if pop.id in out else frame[pop.id]
            if fld == "responded":
                out[col] = ids.isin(latest.index).astype(int).to_numpy()
            else:
                out[col] = ids.map(latest[fld]).to_numpy() if fld in latest else np.nan
        else:
            one = source.drop_duplicates(pop.id).set_index(pop.id)
            ids = out[pop.id] if pop.id in out else frame[pop.id]
            out[col] = ids.map(one[fld]).to_numpy() if fld in one else np.nan
    return out


def technical_lookup(lookup: pd.DataFrame | None, framework) -> pd.DataFrame | None:
    """The small-area lookup with the board table's technical names (``small_area``, ``small_area_name``,
    ``neighbourhood_code``, ``neighbourhood``); unchanged for a framework without declared tables."""
    if lookup is None or not declared(framework):
        return lookup
    pop = framework.population
    rename = {pop.small_area: "small_area", pop.small_area_name: "small_area_name",
              pop.area_code: "neighbourhood_code", pop.area: "neighbourhood"}
    rename = {k: v for k, v in rename.items() if k and k != v and k in lookup and v not in lookup}
    return lookup.rename(columns=rename)


def among_mask(values: pd.Series, allowed) -> pd.Series:
    """True where ``values`` is one of ``allowed`` (an indicator's ``among`` condition), numbers compared as
    numbers (1 matches 1.0 and "1"), text as text."""
    num = pd.to_numeric(values, errors="coerce")
    nums = pd.to_numeric(pd.Series(list(allowed), dtype=object), errors="coerce")
    as_number = num.isin(nums.dropna().astype(float).tolist()) if nums.notna().any() else False
    return values.astype(str).isin([str(a) for a in allowed]) | as_number


def review_rule(framework, ind) -> str:
    """In words, which review of each person an indicator reads when its ratings come from a voice table with
    review rounds (the board table takes each person's latest review: ``Cohort.analysis_frame`` for the first
    voice table, :func:`technical_frame` for the others); "" when no such table is involved."""
    voices = voice_tables(framework)
    if not voices:
        return ""
    c = ind.compute
    table = c.table or (voices[0].name if c.source in ("item", "scale") or c.field == "responded" else None)
    decl = next((v for v in voices if v.name == table), None)
    if decl is None or not decl.round:
        return ""
    pop = framework.population
    person = pop.person if pop is not None else "person"
    whose = f"the {(decl.respondent or decl.name).replace('_', ' ')}'s ratings"
    if c.field == "responded":
        return f"a {person} counts when {whose} are recorded at one or more reviews in the period"
    return (f"{whose} at each {person}'s latest review in the period; earlier reviews are not in this figure (the "
            "trial report shows change between reviews)")
