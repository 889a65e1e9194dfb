"""GSS (Government Statistical Service) geography codes: pattern and entity checks.

A GSS code is 9 characters: a letter for the country (E England, W Wales, S Scotland, N Northern
Ireland), two digits naming the entity type, then six digits (``E08000003`` is Manchester, a
metropolitan district). The entity types measurekit publishes or reads:

- ``country``: E92 (England)
- ``region``: E12 (English regions, e.g. E12000002 North West)
- ``la``: E06 unitary authority, E07 non-metropolitan district, E08 metropolitan district,
  E09 London borough, E10 county (DfE's ``new_la_code``)
- ``ward``: E05 electoral ward
- ``lsoa``: E01 lower layer super output area (2021)
- ``msoa``: E02 middle layer super output area (2021)

DfE's ``old_la_code`` is the three-digit LA number (Manchester 352), not a GSS code.
"""
from __future__ import annotations

import re

ENTITIES: dict[str, tuple[str, ...]] = {
    "country": ("E92",),
    "region": ("E12",),
    "la": ("E06", "E07", "E08", "E09", "E10"),
    "ward": ("E05",),
    "lsoa": ("E01",),
    "msoa": ("E02",),
}
NAMES = {"country": "country", "region": "region", "la": "local authority", "ward": "ward",
         "lsoa": "LSOA (2021)", "msoa": "MSOA (2021)"}
GSS_PATTERN = re.compile(r"^[ENSW]\d{8}$")
OLD_LA_PATTERN = re.compile(r"^\d{3}$")


def gss_problem(code, entity: str) -> str | None:
    """Why ``code`` is not a GSS code of ``entity`` (a key of ``ENTITIES``), or None when it is."""
    prefixes = ENTITIES[entity]
    want = f"{NAMES[entity]} codes start {'/'.join(prefixes)}"
    text = "" if code is None else str(code)
    if not GSS_PATTERN.match(text):
        return (f"{text!r} is not a GSS code: GSS codes are 9 characters, a letter then 8 digits "
                f"(e.g. {prefixes[0]}000001); {want}.")
    if not text.startswith(prefixes):
        return f"{text!r} is a GSS code of type {text[:3]}, not a {NAMES[entity]} code: {want}."
    return None


def old_la_problem(code) -> str | None:
    """Why ``code`` is not a three-digit DfE LA number (``old_la_code``), or None when it is."""
    text = "" if code is None else str(code)
    if not OLD_LA_PATTERN.match(text):
        return f"{text!r} is not a DfE LA number: old_la_code is three digits (e.g. 352 for Manchester)."
    return None
