"""Names, dates and postcodes made comparable for linkage.

* ``normalise_name``: lower case, letters only (accents and the Polish ``ł`` folded: "Małgorzata" -> "malgorzata",
  "Al-Hassan" -> "alhassan").
* ``phonetic``: a sound key in the spirit of Soundex, kept at full length: the first letter (any vowel as ``a``;
  ``c``, ``k`` and ``q`` as ``k``; ``ph`` as ``f``), then the Soundex class of each consonant, vowels and ``h``,
  ``w``, ``y`` dropped and repeats collapsed. "Muhammad", "Mohammed" and "Mohamed" all give ``m53``; "Hussain",
  "Hossain" and "Husain" give ``h25``.
* ``variant_groups``: the numbers of the groups in the bundled name-variant table (package data
  ``name_variants.json``: transliterations, diminutives, nicknames) that hold a name. Two names that share a group
  are "known variants" of each other ("Katarzyna" and "Kasia", "Yusuf" and "Yousef").
* ``dob_parts``, ``postcode_parts``: the date of birth as ISO text with its day/month-swapped form, and a UK
  postcode as full (no space), sector (outward code + first digit of the inward code) and district (outward code).

Everything here works on unique values and maps back, so a national file of 600,000 names costs one pass over
its few thousand distinct spellings.
"""
from __future__ import annotations

import functools
import json
import re
import unicodedata
from importlib import resources

import numpy as np
import pandas as pd

_FOLD = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "ß": "ss", "đ": "d", "æ": "ae", "œ": "oe",
                       "ı": "i"})
_SOUNDEX = {**dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"), "l": "4",
            **dict.fromkeys("mn", "5"), "r": "6"}
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])([A-Z]{2})$")


def normalise_name(name) -> str | None:
    """A name as lower-case ASCII letters only; None for a missing or empty name."""
    if name is None or (not isinstance(name, str) and pd.isna(name)):
        return None
    text = unicodedata.normalize("NFKD", str(name).translate(_FOLD))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^a-z]", "", text)
    return text or None


def phonetic(name: str | None) -> str | None:
    """The full-length Soundex-like key of a normalised name (see the module docstring)."""
    if not name:
        return None
    name = name.replace("ph", "f")
    first = name[0]
    head = "a" if first in "aeiouy" else ("k" if first in "ckq" else first)
    out, last = [head], _SOUNDEX.get(first, "")
    for ch in name[1:]:
        code = _SOUNDEX.get(ch)
        if code is None:
            if ch in "aeiou":          # a vowel separates two equal codes (Soundex rule); h, w, y do not
                last = ""
            continue
        if code != last:
            out.append(code)
        last = code
    return "".join(out)


@functools.lru_cache(maxsize=1)
def variant_table() -> dict[str, tuple[int, ...]]:
    """Normalised name -> the numbers of the variant groups that hold it (package data ``name_variants.json``)."""
    raw = json.loads(resources.files("measurekit.data").joinpath("name_variants.json").read_text(encoding="utf-8"))
    table: dict[str, set] = {}
    for k, group in enumerate(raw["groups"]):
        for name in group:
            norm = normalise_name(name)
            if norm:
                table.setdefault(norm, set()).add(k)
    return {name: tuple(sorted(groups)) for name, groups in table.items()}


@functools.lru_cache(maxsize=1)
def variant_groups_list() -> list[list[str]]:
    """The variant groups as lists of normalised names (group number = position)."""
    raw = json.loads(resources.files("measurekit.data").joinpath("name_variants.json").read_text(encoding="utf-8"))
    return [[n for n in (normalise_name(x) for x in g) if n] for g in raw["groups"]]


def variant_groups(name: str | None) -> list[int]:
    """The variant groups holding a normalised name (empty when the table does not know it)."""
    return list(variant_table().get(name or "", ()))


def _by_unique(series: pd.Series, fn) -> pd.Series:
    values = pd.Series(series, copy=False).astype(object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = [fn(u) for u in uniques] + [fn(None)]
    mapped = np.empty(len(results), dtype=object)    # filled one by one: lists must stay lists, not a 2-D array
    for k, r in enumerate(results):
        mapped[k] = r
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def name_columns(series: pd.Series, prefix: str) -> dict[str, pd.Series]:
    """``{prefix}`` (normalised), ``{prefix}_phon`` and ``{prefix}_groups`` for a column of names."""
    norm = _by_unique(series, normalise_name)
    return {prefix: norm, f"{prefix}_phon": _by_unique(norm, phonetic),
            f"{prefix}_groups": _by_unique(norm, variant_groups)}


def _dob(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    try:
        d = pd.Timestamp(str(value)[:10])
    except (ValueError, TypeError):
        return None
    return None if pd.isna(d) else d.strftime("%Y-%m-%d")


def dob_parts(series: pd.Series) -> dict[str, pd.Series]:
    """``dob`` (ISO text, None when missing or not a date) and ``dob_swapped`` (day and month exchanged, None when
    the day is over 12 or equals the month, so that no real date has the same swapped form)."""
    dob = _by_unique(series, _dob)

    def swap(d):
        if not d:
            return None
        y, m, dd = d.split("-")
        return f"{y}-{dd}-{m}" if int(dd) <= 12 and dd != m else None

    return {"dob": dob, "dob_swapped": _by_unique(dob, swap)}


def _postcode(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = re.sub(r"[^A-Z0-9]", "", str(value).upper())
    return text or None


def postcode_parts(series: pd.Series) -> dict[str, pd.Series]:
    """``postcode`` (upper case, no spaces), ``pc_sector`` (``AB12 3``) and ``pc_district`` (``AB12``); sector
    and district are None when the text is not a UK postcode."""
    pc = _by_unique(series, _postcode)

    def part(k):
        def f(p):
            m = _POSTCODE.match(p) if p else None
            return None if m is None else (m.group(1) + " " + m.group(2) if k == "sector" else m.group(1))
        return f

    return {"postcode": pc, "pc_sector": _by_unique(pc, part("sector")),
            "pc_district": _by_unique(pc, part("district"))}


@functools.lru_cache(maxsize=1)
def name_lists() -> dict:
    """Home language -> {"F": given names, "M": given names, "surname": family names} (package data)."""
    raw = json.loads(resources.files("measurekit.data").joinpath("identifier_names.json").read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}
