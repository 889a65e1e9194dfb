"""The "third framework" test (issue 26): a framework made by renaming every id, title, area and language of a
bundled one runs through synth, validate, run and board-pack, and no id or word of the original reaches an output.

The renaming is written here, independently of measurekit: the ids are read from the bundled YAML files, each gets
an invented token, every free text (titles, item wording, labels, notes ...) is replaced by a neutral numbered text,
the LA and its codes, the areas and the languages are replaced by other ones. The original's words are read from
the same YAML files; the few that the renaming cannot remove (the data contract's fixed column names, generic
English) are excluded below, each with the reason.
"""
from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
import yaml

from measurekit.cli import main

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted(p.parent for p in (ROOT / "indicators").glob("*/framework.yaml"))
FILES = ("framework.yaml", "items.yaml", "scales.yaml", "indicators.yaml", "synthetic.yaml")

# other valid codes: Gateshead (old 390, E08000037), region North East (E12000001)
NEW_AREA = {"la_name": "Gateshead", "old_la_code": "390", "new_la_code": "E08000037", "region_code": "E12000001",
            "region_name": "North East", "la_word": "district", "area_word": "zone", "small_area_word": "block",
            "area_word_plural": "zones"}
# free-text keys: their value is replaced by a neutral numbered text (in every language)
TEXT_KEYS = {"title", "label", "text", "description", "definition", "note", "notes", "purpose", "rationale",
             "reason", "caveats", "vision", "outcomes", "assumptions", "owner", "ees", "ees_name", "plain", "words",
             "reader_note", "evidence_note", "informs_decision", "readme", "understood", "change_made",
             "lawful_basis", "dpia_reference", "retention", "advisers", "analysts", "families", "source",
             "other_label", "neighbourhood_boards", "young_people", "care_leavers_board", "intro",
             "child_id_message", "frequency", "themes", "quotes", "data_quality"}
# values of text-named keys that are a format's vocabulary (indicators' compute.source), not free text
KEEP_VALUES = {"routine", "scale", "item"}
# pictures and recordings are files named after the original's items: the third framework goes without them
DROPPED = {"media", "pictorial"}
# the second and later languages become other real codes (Welsh, Irish, Scottish Gaelic, Cornish, Basque, Breton)
NEW_LANGS = ["cy", "ga", "gd", "kw", "eu", "br"]
# the scripts the home languages' names are written in (synthetic.yaml ``scripts:``, ISO 15924 codes) become other
# real scripts ('Arab' is also an ethnic group of the school-readiness framework)
NEW_SCRIPTS = {"Arab": "Cyrl", "Beng": "Grek", "Guru": "Armn", "Deva": "Hebr", "Latn": "Latn"}
# the fixed names of the national datasets measurekit reads itself: the table kinds eyfsp and asq (the school-
# readiness framework names its tables after their kinds, and the renaming is by whole word everywhere, so `kind:`
# would be renamed too), the EYFSP's GLD column (the routine indicator 'gld' keeps the id of the column it counts)
# and the ASQ-3 total measurekit computes. Everything else, the population table, its id and columns, the voice
# tables and their respondents, the later outcome, is renamed (synth writes what the framework declares).
CONTRACT = {"eyfsp", "asq", "gld", "asq_total"}
# keys of measurekit's YAML formats, not ids of the framework (never renamed, never searched for)
FORMAT_KEYS = {"small_areas", "small_area_prefix", "language_mixes", "language_mix", "areas", "columns", "plant"}
# keys of framework.yaml's population that share their name with the column they usually name: the key stays,
# the column it names is renamed
SPEC_KEYS = {"small_area", "small_area_name"}


def _y(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _ids(fw: Path) -> set[str]:
    """Every id the framework declares, read from its YAML (the renaming's domain)."""
    meta = _y(fw / "framework.yaml")
    ids = {meta["name"]}
    for t in meta.get("tables") or []:
        ids.add(t["name"])
        ids.update(t.get("key") or [])
        ids.update(c["name"] for c in t.get("columns") or [])
        for c in t.get("columns") or []:
            ids.update(str(v) for v in c.get("enum") or [] if isinstance(v, str))
        if t.get("respondent"):
            ids.add(t["respondent"])
    for b in meta.get("breakdowns") or []:
        ids.add(b["id"])
        ids.update(str(v["value"]) for v in b.get("values") or [] if not str(v["value"]).isdigit())
    for g in (meta.get("analysis") or {}).get("fairness_groups") or []:
        ids.update(x for x in (g.get("column"), g.get("id")) if x)
    for o in (meta.get("analysis") or {}).get("outcomes") or []:
        ids.add(o["column"])
        ids.update(o.get("covariates") or [])
    pop = meta.get("population") or {}
    ids.update(str(v) for k, v in pop.items() if isinstance(v, str) and k not in ("group", "person", "people"))
    ids.update(s["id"] for s in _y(fw / "scales.yaml").get("scales", []))
    items = _y(fw / "items.yaml")
    ids.update(d["id"] for d in items.get("domains", []))
    ids.update(i["id"] for i in items.get("items", []))
    ids.update(i["id"] for i in _y(fw / "indicators.yaml").get("indicators", []))
    syn = _y(fw / "synthetic.yaml")
    for a in syn.get("areas") or []:
        ids.update(str(a[k]) for k in ("name", "small_area_prefix") if a.get(k))
    ids.update((syn.get("language_mixes") or {}).keys())
    ids.discard("")
    return {i for i in ids if not i.isdigit()} - CONTRACT - FORMAT_KEYS


def _tokens(ids: set[str]) -> dict[str, str]:
    """Each id -> an invented token (letters only, so it is a valid id, column name, area name or prefix)."""
    letters = ("".join(p) for p in itertools.product("bcdfghjklmnpqrstvwxz", repeat=3))
    out = {}
    for i in sorted(ids, key=lambda s: (-len(s), s)):
        tok = "zz" + next(letters)
        out[i] = tok.upper() if i.isupper() else (tok.title() if i[:1].isupper() else tok)
    # a domain's scale score is the field 'voice_<domain id>' (docs/framework.md): renamed with its domain
    out.update({"voice_" + i: "voice_" + t for i, t in list(out.items())})
    return out


def _sub(text: str, tokens: dict[str, str]) -> str:
    pat = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(re.escape(k) for k in tokens) + r")(?![A-Za-z0-9_])")
    return pat.sub(lambda m: tokens[m.group(1)], text)


class _Renamer:
    def __init__(self, fw: Path):
        meta = _y(fw / "framework.yaml")
        self.tokens = _tokens(_ids(fw))
        langs = [lang for lang in meta.get("languages") or [] if lang != "en"]
        self.langs = dict(zip(langs, NEW_LANGS))
        self.n = 0

    def neutral(self) -> str:
        self.n += 1
        return f"Neutral text {self.n}"

    def is_language(self, k) -> bool:
        """A key of a text by language ({en: ..., ur: ...}); not a key of a record under a text-named list (an
        outcome's column under analysis.outcomes is an id, not free text)."""
        return k == "en" or k in self.langs

    def key(self, k):
        if isinstance(k, str):
            if k in self.langs:
                return self.langs[k]
            return _sub(k, self.tokens) if k not in FORMAT_KEYS | SPEC_KEYS else k
        return k

    def __call__(self, obj, key=None):
        if isinstance(obj, dict):
            if key == "scripts":        # home language -> script code: the languages renamed, the codes replaced
                return {self.key(k): NEW_SCRIPTS[v] for k, v in obj.items()}
            if obj and set(obj) <= {"en", *self.langs} and all(isinstance(v, str) for v in obj.values()):
                return {self.key(k): self.neutral() for k in obj}   # a text in each language (stem, hint ...)
            out = {}
            for k, v in obj.items():
                if k in DROPPED:
                    continue
                if key in TEXT_KEYS and isinstance(v, str) and self.is_language(k):   # a text by language
                    out[self.key(k)] = self.neutral()
                elif k in NEW_AREA and isinstance(v, str):
                    out[k] = NEW_AREA[k]
                else:
                    out[self.key(k)] = self(v, k)
            return out
        if isinstance(obj, list):
            return [self(v, key) for v in obj]
        if isinstance(obj, str):
            if key in TEXT_KEYS and obj not in KEEP_VALUES:
                return self.neutral()
            if key == "groups":                       # items' provenance groups: measurekit's vocabulary
                return obj
            if key == "languages" or key in self.langs:     # a language code is replaced; anything else renamed
                return self.langs[obj] if obj in self.langs else _sub(obj, self.tokens)
            return _sub(obj, self.tokens)
        return obj


def _third(fw: Path, dest: Path) -> _Renamer:
    dest.mkdir()
    ren = _Renamer(fw)
    for f in FILES:
        if (fw / f).is_file():
            doc = ren(_y(fw / f))
            if f == "framework.yaml":
                doc["name"] = "zz-third-framework"
                doc["title"] = "Neutral framework"
                if "population" in doc:
                    doc["population"].update(group="a test group", person="member", people="members")
            (dest / f).write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return ren


# --------------------------------------------------------------------------------------------- the original's words
# generic English or codes the renaming leaves in measurekit's own sentences and which every framework shares
GENERIC = {
    "en",            # English stays the source language (measurekit's forms need one source language)
    "english",       # the value 'English' of a home-language column is generic, and measurekit names English text
    "other",         # 'Other' is a generic category value used by measurekit itself
    "none",          # generic value
    "all",           # the 'all' breakdown of the board table
    "area",          # measurekit's own word for the area breakdown
    "services",      # a domain id of one framework that is plain English used in measurekit's sentences
    "parent", "child", "carer", "young_person",   # generic respondent words in measurekit's own text
    "sex", "f", "m",  # the sex breakdown is generic; F/M are letters
    "yes", "no",     # values of a yes/no column (renamed in the third framework) and everyday words in sentences
    "children",      # a table name (renamed), but also a value of measurekit's provenance-group vocabulary
                     # (items' provenance.groups), which a framework cannot rename, and plain English
    "what you told us",   # a heading of measurekit's own family page (publish/family_page.py), which the
                          # care-leavers framework also uses as one of its form texts
    "small_area",    # a column name (renamed), and a value of the board table's geography_type vocabulary
                     # (la | neighbourhood | small_area), measurekit's output format
    "education",     # a domain id (renamed) that is plain English; measurekit names the Department for Education
}


def _texts(obj, key=None):
    """The free texts of a YAML document: values of TEXT_KEYS and of language-keyed maps."""
    if isinstance(obj, dict):
        lang_map = bool(obj) and all(isinstance(k, str) and len(k) == 2 for k in obj)
        for k, v in obj.items():
            if isinstance(v, str) and (key in TEXT_KEYS or k in TEXT_KEYS or lang_map):
                yield v.strip()
            else:
                yield from _texts(v, k)
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, str) and key in TEXT_KEYS:
                yield v.strip()
            else:
                yield from _texts(v, key)


def _words(fw: Path) -> set[str]:
    meta = _y(fw / "framework.yaml")
    words = {i.lower() for i in _ids(fw)} | {meta["name"].lower(), meta["title"].lower()}
    area = meta.get("area") or {}
    words.update(str(area[k]).lower() for k in ("la_name", "old_la_code", "new_la_code", "region_name", "region_code")
                 if area.get(k))
    words.update(str(area[k]).lower() for k in ("la_word", "area_word") if area.get(k))   # the place words
    # every free text of two words or more (titles, labels, item wording, notes ... in every language): a leaked
    # phrase is a leak; its words alone are not (they are everyday words)
    for f in FILES:
        words.update(t.lower() for t in _texts(_y(fw / f)) if len(t.split()) >= 2)
    # a number alone (the old LA code, '354') is not searched for: any count or numbered text may hold it; the
    # GSS codes (E08..., E12...) are
    return {w for w in words if w and w not in GENERIC and len(w) > 1 and not w.isdigit()}


def _cells(path: Path):
    """(line or cell, text) of one output file."""
    if path.suffix == ".xlsx":
        import openpyxl
        wb = openpyxl.load_workbook(path, read_only=True)
        for ws in wb.worksheets:
            yield f"sheet {ws.title!r}", ws.title
            for row in ws.iter_rows():
                for c in row:
                    if c.value is not None:
                        yield f"{ws.title}!{getattr(c, 'coordinate', '?')}", str(c.value)
        wb.close()
        return
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return
    for n, line in enumerate(text.splitlines(), 1):
        yield f"line {n}", line


# measurekit's own vocabulary that shares a word with the school-readiness framework, allowed only in its place
# (file name, pattern of the lower-cased line); anywhere else the word is a leak
FORMAT_VOCABULARY = [
    # the board table's geography_type (la | neighbourhood | small_area), after the period, and its enum in the
    # data package: measurekit's output format, the same for every framework ('neighbourhood' is also a column
    # and the area word of the school-readiness framework)
    ("board_table.csv", re.compile(r"(?<=,\d{4}/\d{2},)neighbourhood(?=,)")),
    ("datapackage.json", re.compile(r'^\s*"neighbourhood",?\s*$')),
    # a key of ground_truth.json (docs/architecture.md), also a table name of the school-readiness framework
    ("ground_truth.json", re.compile(r'^\s*"later_outcome": \{')),
    # the briefing chart's legend ('Black' is also an ethnic group the school-readiness framework declares)
    (".html", re.compile(r"black bar")),
]


def _trie(words) -> str:
    """A regular expression matching exactly the strings ``words``, written as their prefix tree (``ab(?:c|d)``
    for ab, abc and abd ...): Python's ``re`` tries the alternatives of ``a|b|...`` one after the other at every
    position, so the tree, which shares each prefix, finds the same matches several times faster."""
    root: dict = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}                       # a word ends here

    def build(node) -> str:
        out = ""
        while len(node) == 1 and "" not in node:            # one way on: no group needed
            (ch, node), = node.items()
            out += re.escape(ch)
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return out
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return out + (f"(?:{body})?" if "" in node else body)

    return build(root)


_PATTERNS: dict = {}


def _patterns(words: set[str]):
    """(a pattern for each word, one pattern for any of them), compiled once for each set of words (``_leaks`` scans
    four folders with the same words: compiling hundreds of patterns each time was a fifth of its time)."""
    key = frozenset(words)
    if key not in _PATTERNS:
        pats = {w: re.compile(r"(?<![a-z0-9_])" + re.escape(w) + r"(?![a-z0-9_])") for w in words}
        anyword = re.compile(r"(?<![a-z0-9_])(?:" + _trie(words) + r")(?![a-z0-9_])")
        _PATTERNS[key] = (pats, anyword)
    return _PATTERNS[key]


def _leaks(folder: Path, words: set[str]) -> list[str]:
    # one pattern for any of the words: a line (or file name) it does not match holds none of them (most lines), so
    # only the others are searched word by word, for the list of what was found
    pats, anyword = _patterns(words)
    found = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        file_name = p.name.lower()
        for w, pat in (pats.items() if anyword.search(file_name) else ()):
            if pat.search(file_name):
                found.append(f"{p.relative_to(folder)} (file name): {w!r}")
        allowed = [pat for name, pat in FORMAT_VOCABULARY if p.name.endswith(name)]
        for where, text in _cells(p):
            low = text.lower()
            for pat in allowed:
                low = pat.sub(" ", low)
            if not anyword.search(low):
                continue
            for w, pat in pats.items():
                if pat.search(low):
                    found.append(f"{p.relative_to(folder)} {where}: {w!r}")
    return found


@pytest.mark.parametrize("fw", BUNDLED, ids=[fw.name for fw in BUNDLED])
def test_third_framework_has_no_word_of_the_original(fw, tmp_path, capsys):
    third = tmp_path / "third"
    ren = _third(fw, third)
    words = _words(fw)
    assert len(ren.tokens) > 30 and len(words) > 30
    # the renamed framework holds no word of the original (the test's own renaming is complete)
    assert _leaks(third, words - SPEC_KEYS) == []          # (those stay as keys of the format, not as columns)

    before = {p.name: p.read_bytes() for p in third.iterdir()}
    data, out, pack = tmp_path / "data", tmp_path / "out", tmp_path / "pack"
    assert main(["synth", "--framework", str(third), "--n", "600", "--seed", "5", "--out", str(data)]) == 0, \
        capsys.readouterr()
    assert main(["validate", str(data), "--framework", str(third)]) == 0, capsys.readouterr()
    assert main(["run", "--data", str(data), "--framework", str(third), "--out", str(out)]) == 0, capsys.readouterr()
    assert main(["board-pack", "--data", str(data), "--framework", str(third), "--out", str(pack)]) == 0, \
        capsys.readouterr()
    printed = capsys.readouterr()
    assert {p.name: p.read_bytes() for p in third.iterdir()} == before          # the framework is an input
    # the run used the third framework: the board table's indicators are its (renamed) ids, and a workbook was
    # written (so the xlsx cells were scanned)
    import pandas as pd
    board = pd.read_csv(pack / "board_table.csv")
    renamed = {ren.tokens[i["id"]] for i in _y(fw / "indicators.yaml")["indicators"] if i["id"] in ren.tokens}
    assert set(board["indicator_id"]) and set(board["indicator_id"]) <= renamed | CONTRACT   # 'gld': see CONTRACT
    assert list(pack.rglob("*.xlsx")) and list(out.rglob("*.xlsx"))
    # the voice indicators keep their content although no respondent is called 'parent' any more (the board-pack
    # command scores the answers itself): each has counted people, and a scale's spec sheet lists its items
    items = _y(third / "items.yaml")["items"]
    for ind in _y(third / "indicators.yaml")["indicators"]:
        c = ind["compute"]
        if c["source"] not in ("scale", "item"):
            continue
        rows = board[board["indicator_id"] == ind["id"]]
        assert (rows["denominator"] > 0).any(), f"voice indicator {ind['id']} counted nobody"
        if c["source"] == "scale":
            domain = c["field"].removeprefix("voice_")
            spec = (pack / "specs" / f"{ind['id']}.md").read_text(encoding="utf-8")
            mine = [i["id"] for i in items if domain in [i.get("domain"), *(i.get("domains") or [])]]
            assert any(f"**{i}**" in spec for i in mine), f"the spec sheet of {ind['id']} lists none of its items"
    # the planted truth is kept under the new names and recovered: the item synthetic.yaml plants DIF on is, renamed,
    # the ground truth's DIF item, and the run's DIF table (by the renamed group) flags it
    planted = (_y(fw / "synthetic.yaml") or {}).get("dif")
    if planted:
        truth = json.loads((data / "ground_truth.json").read_text(encoding="utf-8"))["dif"]
        assert truth["item"] == ren.tokens[planted["item"]] and truth["group"] == ren.tokens[planted["group"]]
        dif = pd.read_csv(out / "internal" / "fairness" / f"dif_{truth['group']}.csv")
        assert truth["item"] in set(dif.loc[dif["flag"].astype(bool), "item"])
    outputs = [p for base in (data, out, pack) for p in base.rglob("*") if p.is_file()]
    assert outputs
    leaks = [f"data/{x}" for x in _leaks(data, words)] + [f"out/{x}" for x in _leaks(out, words)] \
        + [f"pack/{x}" for x in _leaks(pack, words)]
    leaks += [f"printed: {w!r}" for w in words
              if re.search(r"(?<![a-z0-9_])" + re.escape(w) + r"(?![a-z0-9_])", (printed.out + printed.err).lower())]
    assert leaks == [], "\n".join(leaks[:200])


def test_the_scan_finds_a_planted_word_in_text_json_xlsx_and_file_names(tmp_path):
    """The checker itself: an original word hidden in each kind of output is found, with its place."""
    import openpyxl

    fw = BUNDLED[0]
    words = _words(fw)
    item = sorted(i["id"] for i in _y(fw / "items.yaml")["items"])[0]
    la = _y(fw / "framework.yaml")["area"]["la_name"]
    (tmp_path / "a.csv").write_text("x,y\n1,fine\n2,Value " + la.upper() + " here\n", encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"k": [f"the {item} item"]}), encoding="utf-8")
    wb = openpyxl.Workbook()
    wb.active["C3"] = f"about {item}"
    wb.save(tmp_path / "c.xlsx")
    (tmp_path / f"{item}.txt").write_text("nothing", encoding="utf-8")
    (tmp_path / "d.txt").write_text(f"{item}x and x{item} and {item}_2 are other words", encoding="utf-8")
    found = _leaks(tmp_path, words)
    assert f"a.csv line 3: {la.lower()!r}" in found
    assert any(f.startswith("b.json line 1") and repr(item) in f for f in found)
    assert any(f.startswith("c.xlsx Sheet!C3") and repr(item) in f for f in found)
    assert any(f.startswith(f"{item}.txt (file name)") for f in found)
    assert not any(f.startswith("d.txt") for f in found)          # word boundaries: a longer token is not a hit


def test_third_framework_identifiers_carry_no_word_of_the_original(tmp_path, capsys):
    """``synth --identifiers`` on the renamed school-readiness framework (the generator with an EYFSP table) writes
    the legal and given identifiers under the framework's own names (its population table, id, date of birth, its
    voice table's response id) and no id or word of the original."""
    fw = next(p for p in BUNDLED if any(t.get("kind") == "eyfsp" for t in _y(p / "framework.yaml").get("tables", [])))
    third = tmp_path / "third"
    ren = _third(fw, third)
    data = tmp_path / "data"
    assert main(["synth", "--framework", str(third), "--n", "600", "--seed", "5", "--identifiers",
                 "--out", str(data)]) == 0, capsys.readouterr()
    import pandas as pd

    meta = _y(third / "framework.yaml")
    pop = meta["population"]
    people = pd.read_csv(data / f"{pop['table']}.csv", dtype=str)
    assert {"first_name", "last_name", "postcode", "setting"} <= set(people.columns)
    survey = pd.read_csv(data / "survey_responses.csv", dtype=str)
    assert {pop["id"], pop["birth_date"], "first_name", "postcode"} <= set(survey.columns)
    truth = json.loads((data / "ground_truth.json").read_text(encoding="utf-8"))["linkage"]["true_child"]
    assert set(v for v in truth.values() if v) <= set(people[pop["id"]])
    leaks = _leaks(data, _words(fw))
    assert leaks == [], "\n".join(leaks[:100])
    assert ren.tokens        # (the renaming ran)
