"""Nothing in src/ names a framework shipped with measurekit: no framework name, no id of its items, domains,
scales or indicators, no LA or area name of it, no word it declares for its places. Whatever differs between
councils lives in their framework folder (issue 25). The list of words is read from the shipped frameworks
themselves, so a new one is covered the day it is added."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml

from measurekit.core import paths
from measurekit.data.schemas import table_names, table_schema
from measurekit.design import load_framework

SRC = Path(__file__).resolve().parents[1] / "src" / "measurekit"
# routine-data columns are the data contract (children.csv's `neighbourhood`, eyfsp.csv's `gld` ...), not words of a
# framework; "Heywood case" is a statistical term (a negative variance), not a place; "London borough" is a GSS
# entity type. Every framework declares its own tables (issue 26): the columns of its routine tables (not of its
# voice tables, whose item columns are its ids) are column names, not words.
ALLOWED_PHRASES = [re.compile(r"Heywood case", re.I), re.compile(r"London borough")]


def _words() -> tuple[set[str], set[str]]:
    """(ids, names): ids of the framework's parts and its name; names of its places and its word for the LA."""
    ids: set[str] = set()
    names: set[str] = set()
    routine: set[str] = set()
    for folder in paths.bundled_frameworks().values():
        fw = load_framework(folder)
        ids |= {fw.name, *(i.id for i in fw.items), *(d.id for d in fw.domains), *(s.id for s in fw.scales),
                *(i.id for i in fw.indicators)}
        if fw.area is not None:
            names |= {fw.area.la_name, fw.area.la_word}
        for t in table_names(fw):
            if fw.table(t).kind != "voice":
                routine |= {f["name"] for f in table_schema(t, fw)["fields"]}
        # the places its synthetic profile invents
        profile = folder / "synthetic.yaml"
        if profile.exists():
            names |= {a["name"] for a in (yaml.safe_load(profile.read_text(encoding="utf-8")) or {}).get("areas", [])}
    with open(paths.bundled_data() / "small_areas.csv", encoding="utf-8") as fh:
        names |= {r["neighbourhood"] for r in csv.DictReader(fh)}
    return {w for w in ids - routine if len(w) > 2}, names


def test_the_word_lists_are_not_empty():
    ids, names = _words()
    assert len(ids) > 10 and len(names) > 3 and any(" " in w for w in names), (sorted(ids), sorted(names))
    # both shipped frameworks are covered: ids and names of each are in the lists
    assert len(paths.bundled_frameworks()) >= 2
    for folder in paths.bundled_frameworks().values():
        fw = load_framework(folder)
        assert fw.name in ids and fw.area is not None and fw.area.la_name in names
        assert {i.id for i in fw.items if len(i.id) > 2} & ids


def test_src_names_no_word_of_a_shipped_framework():
    ids, names = _words()

    def alternation(words):
        return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))

    # an id counts where code would use it: quoted, in backticks, or as a score column (voice_<id>); plain English
    # ("services") in a sentence is not a reference to a framework's domain. Names count anywhere.
    pattern = re.compile(
        r"(?:(?<=[\"'`])|(?<=voice_))(" + alternation(ids) + r")(?=[\"'`/])"
        r"|(?<![A-Za-z0-9_])(" + alternation(names) + r")(?![A-Za-z0-9_])", re.I)
    found = []
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in {".py", ".html", ".j2", ".css", ".yaml", ".json", ".txt"} or "_bundled" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        for phrase in ALLOWED_PHRASES:
            text = phrase.sub("", text)
        for m in pattern.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            found.append(f"{path.relative_to(SRC)}:{line}: {m.group(0)!r}")
    assert not found, "\n".join(found[:60])
