"""Load a framework folder into a ``Framework``, reporting every problem at once.

Files: ``framework.yaml`` (name, version, languages, ...), ``scales.yaml``, ``items.yaml``
(domains and items), ``indicators.yaml``. Only ``scales.yaml`` and ``items.yaml`` are required.
Problems carry a stable code and the location: ``file``, ``column`` = the path in the document
(e.g. ``items[3].scale``) and ``row`` = the line in the YAML file (for a missing key, the line of the
nearest enclosing block).
"""
from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel

from measurekit.design.models import Framework
from measurekit.problems import InputError, ProblemReport


class SpecError(InputError):
    """The specification cannot be used; ``.report`` lists every problem."""


if typing.TYPE_CHECKING:
    _Base = yaml.SafeLoader   # CSafeLoader has the same interface; type checkers see the pure-Python one
else:
    _Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when available: several times faster


class _Loader(_Base):
    """SafeLoader that records duplicate keys (YAML silently keeps the last one) instead of losing them."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                self.duplicates.append((key, key_node.start_mark.line + 1))
            seen.add(key)
        return super().construct_mapping(node, deep)


MAX_BYTES = 5_000_000        # a framework file larger than this is refused (the bundled one is ~60 kB)
MAX_DEPTH = 40               # nesting of blocks and brackets (real specifications need about 6)
MAX_NODES = 200_000          # values after expanding YAML aliases (&anchor / *alias)
MAX_EXPANDED_CHARS = MAX_BYTES   # characters after expanding aliases: no more than a file we would read
MAX_TEXT_CHARS = 10_000      # one text value (a title, a stem, a note); the bundled framework's longest is ~300

_BLOCK_SCALAR = re.compile(r"[|>][0-9+-]{0,2}\s*(#.*)?$")


def _too_deep(text: str) -> int | None:
    """Line of the first place nested deeper than ``MAX_DEPTH``, else None.

    Measured on the text itself, before any YAML library sees it (libyaml's loader crashed the interpreter on
    very deep nesting, and newer PyYAML releases refuse it with their own wording): the depth of a place is
    the number of enclosing indented blocks (a deeper indentation, or each ``- `` / ``? `` at the start of a
    line) plus the number of open flow brackets (``[`` or ``{`` that start a value, outside quotes and
    comments). The lines of a block scalar (``|``, ``>``) are text and do not count."""
    blocks: list[int] = []       # columns of the open indented blocks
    flow = 0                     # open [ and {
    quote = None                 # the quote character of an open quoted scalar
    scalar_indent = None         # inside a block scalar: lines indented more than this are its text
    for lineno, line in enumerate(text.splitlines(), 1):
        indent = len(line) - len(line.lstrip(" "))
        stripped = line.strip()
        if scalar_indent is not None:
            if not stripped or indent > scalar_indent:
                continue
            scalar_indent = None
        pos = 0
        value_start = True       # at a place where a value (and so a quote or a flow bracket) may begin
        if flow == 0 and quote is None:
            if not stripped or stripped.startswith("#") or stripped.startswith("%"):
                continue
            if stripped.startswith(("---", "...")) and stripped[3:4] in ("", " ", "\t"):
                blocks.clear()
                pos = indent + 3
            else:
                while blocks and blocks[-1] > indent:
                    blocks.pop()
                if not blocks or blocks[-1] < indent:
                    blocks.append(indent)
                pos = indent
                while line[pos:pos + 1] in ("-", "?") and line[pos + 1:pos + 2] in (" ", "\t", ""):
                    pos += 1
                    while line[pos:pos + 1] in (" ", "\t"):
                        pos += 1
                    if pos >= len(line):
                        break
                    if not blocks or blocks[-1] < pos:
                        blocks.append(pos)
                    if len(blocks) > MAX_DEPTH:
                        return lineno
            if len(blocks) > MAX_DEPTH:
                return lineno
        n = len(line)
        while pos < n:
            ch = line[pos]
            if quote == "'":
                if ch == "'":
                    if line[pos + 1:pos + 2] == "'":
                        pos += 1
                    else:
                        quote, value_start = None, False
            elif quote == '"':
                if ch == "\\":
                    pos += 1
                elif ch == '"':
                    quote, value_start = None, False
            elif ch == "#" and (pos == 0 or line[pos - 1] in " \t"):
                break
            elif ch in " \t":
                pass
            elif value_start and ch in "'\"":
                quote = ch
            elif ch in "[{" and (value_start or flow):
                flow += 1
                value_start = True
                if len(blocks) + flow > MAX_DEPTH:
                    return lineno
            elif ch in "]}" and flow:
                flow -= 1
                value_start = False
            elif ch == "," and flow:
                value_start = True
            elif ch == ":" and line[pos + 1:pos + 2] in (" ", "\t", "") or (ch == ":" and flow):
                value_start = True
            elif ch in "-?" and value_start and line[pos + 1:pos + 2] in (" ", "\t", ""):
                pass             # "- " inside a line after a key is a plain scalar or an entry counted above
            elif ch in "&!" and value_start:
                while pos < n and line[pos] not in " \t":
                    pos += 1
                continue
            elif value_start and flow == 0 and _BLOCK_SCALAR.match(line, pos):
                scalar_indent = indent
                break
            else:
                value_start = False
            pos += 1
    return None


def _line(event: yaml.Event) -> int:
    """The 1-based line where a parser event starts (the parser always marks its events)."""
    assert event.start_mark is not None
    return event.start_mark.line + 1


def _expanded_size(text: str) -> tuple[int, int | None, str | None]:
    """(number of values once aliases are expanded, line, problem) from the event stream, stopping as soon as the
    count passes ``MAX_NODES`` or the expanded text passes ``MAX_EXPANDED_CHARS`` ("alias bomb": one long value
    reused by alias in every title multiplies the output), an alias refers to the collection it is inside (a
    cycle: "cycle"), or one text value is longer than ``MAX_TEXT_CHARS`` ("long")."""
    stack: list[list] = []       # [anchor, values, characters] of each open collection
    sizes: dict[str, tuple[int, int]] = {}
    total = chars = 0
    for ev in yaml.parse(text, Loader=_Base):
        if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            stack.append([ev.anchor, 1, 1])
            continue
        if isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, size, length = stack.pop()
        elif isinstance(ev, yaml.ScalarEvent):
            anchor, size, length = ev.anchor, 1, len(ev.value) + 1
            if len(ev.value) > MAX_TEXT_CHARS:
                return total, _line(ev), "long"
        elif isinstance(ev, yaml.AliasEvent):
            if any(a == ev.anchor for a, _, _ in stack):
                return total, _line(ev), "cycle"
            assert ev.anchor is not None   # an alias always names its anchor
            anchor, (size, length) = None, sizes.get(ev.anchor, (1, 1))
        else:
            continue
        if anchor is not None:
            sizes[anchor] = (size, length)
        if stack:
            stack[-1][1] += size
            stack[-1][2] += length
        else:
            total += size
            chars += length
        if total + sum(s[1] for s in stack) > MAX_NODES or chars + sum(s[2] for s in stack) > MAX_EXPANDED_CHARS:
            return total, _line(ev), "bomb"
    return total, None, None


def _decode(raw: bytes, path: Path, report: ProblemReport) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        report.add("unreadable_file", f"{path.name} is not UTF-8 text: byte {raw[exc.start]:#04x} on line {line} "
                   "cannot be read. Save the file as UTF-8 (most editors offer it under 'Save as').",
                   file=path.name, row=line)
        return None


def yaml_text_ok(text: str, name: str, report: ProblemReport) -> bool:
    """Check YAML text against measurekit's limits before any parser builds it; add each problem to ``report``
    and return False if the text must not be parsed. Codes, decided here and not by a YAML library's wording:
    ``yaml_too_deep`` (more than ``MAX_DEPTH`` levels, measured on the text itself), ``yaml_alias`` (aliases that
    expand past ``MAX_NODES`` values or ``MAX_EXPANDED_CHARS`` characters, or refer to themselves) and
    ``yaml_text_too_long`` (one value over ``MAX_TEXT_CHARS``). Syntax errors found while measuring the aliases
    propagate as ``yaml.YAMLError`` for the caller to report with its line. Use it for every YAML file a user
    gives (frameworks, configs, interview logs, reviews)."""
    line = _too_deep(text)
    if line is not None:
        report.add("yaml_too_deep", f"{name} nests blocks or brackets more than {MAX_DEPTH} levels deep "
                   f"(from line {line}); a specification never needs that. Check the brackets.", file=name, row=line)
        return False
    _, line, what = _expanded_size(text)
    if what == "cycle":
        report.add("yaml_alias", f"{name}: an alias (*name) on line {line} refers to the block it is "
                   "inside, which would repeat forever. Write the value out instead.", file=name, row=line)
        return False
    if what == "bomb":
        report.add("yaml_alias", f"{name}: the anchors and aliases (&name, *name) expand to more than "
                   f"{MAX_NODES:,} values or {MAX_EXPANDED_CHARS:,} characters (passed on line {line}). Write the "
                   "values out instead of repeating aliases of long values or of aliases.", file=name, row=line)
        return False
    if what == "long":
        report.add("yaml_text_too_long", f"{name}: the text value on line {line} is longer than "
                   f"{MAX_TEXT_CHARS:,} characters; titles, wordings and notes in a specification are a few "
                   "sentences. Shorten it, or keep long documents in a file beside the framework.",
                   file=name, row=line)
        return False
    return True


def _read_yaml(path: Path, report: ProblemReport, required: bool, nodes: dict) -> dict:
    if not path.exists() and not path.is_symlink():
        if required:
            report.add("missing_file", f"{path.name} is missing from the framework folder.", file=path.name)
        return {}
    try:
        if path.exists() and not path.is_file():
            special = not path.is_dir()
            report.add("special_file" if special else "unreadable_file",
                       f"{path.name} is "
                       f"{'not an ordinary file (a named pipe, socket or device)' if special else 'a folder'}; "
                       "save the specification as an ordinary text file.", file=path.name)
            return {}
        if path.is_file() and path.stat().st_size > MAX_BYTES:
            report.add("yaml_too_large", f"{path.name} is {path.stat().st_size:,} bytes; a specification file may "
                       f"be at most {MAX_BYTES:,} bytes.", file=path.name)
            return {}
        raw = path.read_bytes()
    except OSError as exc:
        report.add("unreadable_file", f"{path.name} cannot be read ({exc.strerror or type(exc).__name__}).",
                   file=path.name)
        return {}
    text = _decode(raw, path, report)
    if text is None:
        return {}
    try:
        if not yaml_text_ok(text, path.name, report):
            return {}
        loader = _Loader(text)
        try:
            data = loader.get_single_data() or {}
        finally:
            loader.dispose()
        nodes[path.name] = text          # composed into a node tree only if a problem needs a line number
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        report.add("yaml_syntax", f"YAML syntax error: {exc}", file=path.name,
                   row=(mark.line + 1) if mark else None)
        return {}
    for key, line in loader.duplicates:
        report.add("duplicate_key", f"The key {key!r} appears twice in the same block; YAML keeps only the last one, "
                   "so the first is silently lost. Remove or merge one of them.", file=path.name, row=line, value=key)
    if not isinstance(data, dict):
        report.add("yaml_type", "The file must hold a mapping (key: value) at the top level.", file=path.name)
        return {}
    return data


_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def _line_of(node, dotted: str) -> int | None:
    """1-based line of the deepest node along ``items[3].stem.pl`` that exists in a composed YAML tree."""
    line = node.start_mark.line + 1 if node is not None else None
    for index, key in _PATH_PART.findall(dotted or ""):
        nxt = None
        if index and isinstance(node, yaml.SequenceNode) and int(index) < len(node.value):
            nxt = node.value[int(index)]
        elif key and isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        if nxt is None:
            break
        node, line = nxt, nxt.start_mark.line + 1
    return line


def _with_lines(report: ProblemReport, nodes: dict) -> ProblemReport:
    """Add the YAML line number (as ``row``) to problems that name a file and a path in it."""
    out = ProblemReport(title=report.title)
    for p in report.problems:
        if p.row is None and p.file in nodes and p.column:
            if isinstance(nodes[p.file], str):
                nodes[p.file] = yaml.compose(nodes[p.file], Loader=_Base)
            p = dataclasses.replace(p, row=_line_of(nodes[p.file], p.column))
        out.problems.append(p)
    return out


def load_framework(path) -> Framework:
    """Load and check a framework folder. Raises ``SpecError`` listing every problem.

    Warnings (e.g. a missing translation) do not stop loading; ``check_framework`` lists them.
    """
    fw, report = _load(Path(path))
    report.raise_if_errors(SpecError)
    return fw


def check_framework(path) -> ProblemReport:
    """Every problem of a framework folder (errors and warnings), without raising."""
    return _load(Path(path))[1]


SPEC_FILES = {"spec_files": True}     # validation context: names must be safe as file names (models.SAFE_NAME)
_WHERE = {"scales": "scales.yaml", "domains": "items.yaml", "items": "items.yaml", "indicators": "indicators.yaml"}
_FILE_KEYS = {"scales.yaml": ("scales",), "items.yaml": ("domains", "items"), "indicators.yaml": ("indicators",)}


def _short(value, limit: int = 200):
    if isinstance(value, (dict, list)):
        return None
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"


def _model_of(annotation):
    """The pydantic model class inside an annotation (``Item``, ``list[Item]``, ``Option | None``), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _unknown_keys(model, data, where: str):
    """(path, key) of every key in ``data`` that ``model`` (or a model nested in it) does not define."""
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        field = model.model_fields.get(key) if isinstance(key, str) else None
        if field is None or field.exclude:
            yield where, key
            continue
        here = f"{where}.{key}" if where else key
        ann = field.annotation
        origin = typing.get_origin(ann)
        args = typing.get_args(ann)
        if origin is list and isinstance(value, list) and _model_of(args[0]):
            for i, v in enumerate(value):
                yield from _unknown_keys(_model_of(args[0]), v, f"{here}[{i}]")
        elif origin is dict and isinstance(value, dict) and len(args) == 2 and _model_of(args[1]):
            for k, v in value.items():
                yield from _unknown_keys(_model_of(args[1]), v, f"{here}.{k}")
        elif origin not in (list, dict) and _model_of(ann):
            yield from _unknown_keys(_model_of(ann), value, here)


def _report_unknown(doc: dict, files: dict, report: ProblemReport) -> None:
    """Warn about every key the specification does not define (it is ignored, never carried into outputs)."""
    for fname, data in files.items():
        allowed = _FILE_KEYS.get(fname)
        if allowed is None:
            continue
        for key in data:
            if key not in allowed:
                report.add("unknown_spec_key", f"{fname} has a top-level key {str(key)[:80]!r}, which is not part of "
                           f"the specification (this file holds {', '.join(allowed)}); it is ignored.",
                           file=fname, column=str(key)[:200], severity="warning")
    for key in files.get("framework.yaml", {}):
        if key in _WHERE:
            report.add("unknown_spec_key", f"framework.yaml has a key {key!r}; {key} belong in {_WHERE[key]}, so "
                       "this one is ignored.", file="framework.yaml", column=key, severity="warning")
    for where, key in _unknown_keys(Framework, doc, ""):
        root = where.split(".")[0].split("[")[0]
        file = _WHERE.get(root or str(key), "framework.yaml")
        path = f"{where}.{key}" if where else str(key)
        report.add("unknown_spec_key", f"The key {str(key)[:80]!r} is not part of the specification"
                   + (f" at {where}" if where else "") + "; it is ignored. Check the spelling against the JSON "
                   "Schemas (`measurekit.design.saving`).", file=file, column=path[:200], severity="warning")


def _salvage(doc: dict, errors: list) -> tuple[Framework | None, dict, dict]:
    """Validate what is valid so the cross-reference checks can still run: drop each list entry that failed
    and reset each other failing field to its default. Returns the framework, kept-index maps per list
    (new index -> index in the file) and the ids of dropped entries per list."""
    bad_entries: dict[str, set[int]] = {k: set() for k in _WHERE}
    bad_fields = set()
    for err in errors:
        loc = err["loc"]
        if not loc:
            return None, {}, {}
        if loc[0] in bad_entries and len(loc) > 1 and isinstance(loc[1], int):
            bad_entries[loc[0]].add(loc[1])
        else:
            bad_fields.add(loc[0])
    clean = {k: v for k, v in doc.items() if k not in bad_fields}
    kept, dropped = {}, {}
    for k, bad in bad_entries.items():
        if k in clean and isinstance(clean[k], list):
            kept[k] = [i for i in range(len(clean[k])) if i not in bad]
            dropped[k] = {str(clean[k][i].get("id")) for i in bad
                          if isinstance(clean[k][i], dict) and clean[k][i].get("id") is not None}
            clean[k] = [clean[k][i] for i in kept[k]]
    from pydantic import ValidationError

    try:
        return Framework.model_validate(clean, context=SPEC_FILES), kept, dropped
    except (ValidationError, RecursionError):
        return None, {}, {}


_INDEX = re.compile(r"^(scales|domains|items|indicators)\[(\d+)\]")


def _after_salvage(report: ProblemReport, kept: dict, dropped: dict) -> ProblemReport:
    """Cross-reference problems of a salvaged framework, with indices mapped back to the file and the
    consequences of an entry already reported as invalid left out (no "unknown scale" for a scale that failed)."""
    follow = {"unknown_scale": "scales", "unknown_domain": "domains", "indicator_missing_item": "items"}
    out = ProblemReport()
    for p in report.problems:
        if p.code in follow and str(p.value) in dropped.get(follow[p.code], set()) | (
                {f"voice_{d}" for d in dropped.get("domains", set())} if p.code == "indicator_missing_item" else set()):
            continue
        column = p.column or ""
        m = _INDEX.match(column)
        if m and m.group(1) in kept:
            p = dataclasses.replace(p, column=f"{m.group(1)}[{kept[m.group(1)][int(m.group(2))]}]" + column[m.end():])
        out.problems.append(p)
    return out


# Loaded folders kept per process (issue 30): a notebook, a test or a multi-year run loads the same framework many
# times, and each load parsed four YAML files and read and checked the evidence files again (about 0.07 s CPU). The
# key is the folder's path and every file in it (names and bytes, read afresh each call), so an edited file is
# loaded again; every caller gets its own deep copy, so nothing a caller changes reaches another.
_LOADED: dict = {}
_LOADED_MAX = 8


def _folder_key(path: Path) -> tuple | None:
    """(the path as given, SHA-256 of every file under it: relative names and bytes), or None if it cannot be read."""
    from measurekit.core.atomic import tree_sha256

    try:
        return str(path), tree_sha256(path)
    except OSError:
        return None


def _load(path: Path):
    """(the framework or None, every problem) of the folder ``path``: loaded once per content (see ``_LOADED``)."""
    import copy

    key = _folder_key(path) if path.is_dir() else None
    if key is None:
        return _load_folder(path)
    if key not in _LOADED:
        loaded = _load_folder(path)
        if _folder_key(path) != key:           # a file changed while it was being read: not kept
            return loaded
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = loaded
    fw, report = _LOADED[key]
    return (fw.model_copy(deep=True) if fw is not None else None), copy.deepcopy(report)


def _load_folder(path: Path):
    report = ProblemReport(title=f"Specification {path}")
    if not path.is_dir():
        report.add("missing_folder", f"Framework folder {path} does not exist.")
        return None, report
    nodes: dict = {}
    files = {name: _read_yaml(path / name, report, required=name in ("scales.yaml", "items.yaml"), nodes=nodes)
             for name in ("framework.yaml", "scales.yaml", "items.yaml", "indicators.yaml")}
    meta, scales, items, indicators = files.values()
    doc = {k: v for k, v in meta.items() if k not in _WHERE}
    doc["scales"] = scales.get("scales", [])
    doc["domains"] = items.get("domains", [])
    doc["items"] = items.get("items", [])
    doc["indicators"] = indicators.get("indicators", [])
    _report_unknown(doc, files, report)
    from pydantic import ValidationError

    fw: Framework | None = None
    kept: dict | None = None
    dropped: dict = {}
    try:
        fw = Framework.model_validate(doc, context=SPEC_FILES)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            file = _WHERE.get(str(loc[0]), "framework.yaml") if loc else "framework.yaml"
            dotted = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(loc))
            catalogued = ("unsafe_name", "suppress_range", "weaker_disclosure", "gss_code", "missing_domain",
                          "domain_mismatch", "bad_scale_range", "unknown_respondent")
            code = err["type"] if err["type"] in catalogued else "invalid_field"
            report.add(code, err["msg"], file=file, column=dotted[:200], value=_short(err.get("input")))
        fw, kept, dropped = _salvage(doc, exc.errors())
    if fw is not None:
        fw.path = path
        from measurekit.design.consistency import check_consistency

        cross = check_consistency(fw)
        cross.extend(check_declared_data(fw))
        report.extend(_after_salvage(cross, kept, dropped) if kept is not None else cross)
    return fw, _with_lines(report, nodes)


def check_declared_data(fw: Framework) -> ProblemReport:
    """Every problem of the data a framework declares (``population``, ``tables``) and of items in several domains.

    Code ``bad_table_declaration`` (file framework.yaml, column = the path, e.g. ``tables[2].columns[1].enum``,
    value and rule) for: a population without tables or tables without a population; a population naming a
    table or column that is not declared; two tables or two columns of one name; a key column not declared; columns
    declared for a national dataset measurekit builds (``kind: eyfsp``/``asq``); a voice table without a respondent
    whom items name, or naming a date or round column it does not declare, or a column named like an item; a table
    without the person id; allowed values of the wrong type; a range on a text column. Items whose ``domains`` name
    an undefined domain: ``unknown_domain``."""
    report = ProblemReport()
    domain_ids = {d.id for d in fw.domains}
    for i, item in enumerate(fw.items):
        for k, d in enumerate(item.domains):
            if d not in domain_ids:
                report.add("unknown_domain", f"Item {item.id} is in domain {d!r}, which items.yaml does not define.",
                           file="items.yaml", column=f"items[{i}].domains[{k}]", value=d)
    pop, tables = fw.population, fw.tables

    def bad(message: str, column: str, value=None, rule: str = "") -> None:
        report.add("bad_table_declaration", message, file="framework.yaml", column=column,
                   value=None if value is None else str(value)[:200], rule=rule)

    if pop is None and not tables:
        return report
    if pop is None:
        bad("`tables:` is declared without `population:`; say which table holds the people and its id column.",
            "population", rule="population and tables declared together")
        return report
    if not tables:
        bad("`population:` is declared without `tables:`.", "tables", rule="population and tables declared together")
        return report
    names = [t.name for t in tables]
    _check_indicator_tables(fw, report)
    for ti, t in enumerate(tables):
        if names.count(t.name) > 1 and names.index(t.name) != ti:
            bad(f"The table {t.name!r} is declared twice.", f"tables[{ti}].name", t.name, "one entry per table")
    by_name = {t.name: (ti, t) for ti, t in reversed(list(enumerate(tables)))}
    items = {it.id for it in fw.items}
    respondents = set(fw.respondents())
    if pop.table not in by_name:
        bad(f"population.table names {pop.table!r}, which `tables:` does not declare.", "population.table",
            pop.table, "tables: " + ", ".join(names))
    else:
        pi, pt = by_name[pop.table]
        cols = {c.name: c for c in pt.columns}
        if pt.kind != "routine":
            bad(f"The population table {pop.table!r} must be of kind routine (its columns declared), not {pt.kind}.",
                f"tables[{pi}].kind", pt.kind, "kind: routine")
        if not pt.required:
            bad(f"The population table {pop.table!r} must be `required: true`: nothing can be read without it.",
                f"tables[{pi}].required", pt.required, "required: true")
        for field in ("id", "area", "small_area", "birth_date"):
            col = getattr(pop, field)
            if col and col not in cols:
                bad(f"population.{field} names the column {col!r}, which the table {pop.table!r} does not declare.",
                    f"population.{field}", col, f"a column of {pop.table}")
        if pop.id in cols and not cols[pop.id].unique:
            bad(f"The id column {pop.id!r} of the population table must be `unique: true` (one row per person).",
                f"tables[{pi}].columns", pop.id, "unique: true")
        if pop.birth_date in cols and cols[pop.birth_date].type != "date":
            bad(f"population.birth_date {pop.birth_date!r} must be a column of type date.", "population.birth_date",
                cols[pop.birth_date].type, "type: date")
    if pop.age_years and pop.age_years[0] >= pop.age_years[1]:
        bad("population.age_years must be [lowest, highest] with the lowest below the highest.", "population.age_years",
            pop.age_years, "low < high")
    if pop.lookup:
        if pop.lookup not in by_name:
            bad(f"population.lookup names {pop.lookup!r}, which `tables:` does not declare.", "population.lookup",
                pop.lookup, "tables: " + ", ".join(names))
        else:
            li, lt = by_name[pop.lookup]
            lcols = {c.name for c in lt.columns}
            for field in ("small_area", "small_area_name", "area", "area_code"):
                col = getattr(pop, field)
                if col and col not in lcols:
                    bad(f"The lookup table {pop.lookup!r} must have the column {col!r} (population.{field}).",
                        f"tables[{li}].columns", col, f"population.{field} in {pop.lookup}")
            if not pop.small_area:
                bad("population.lookup needs population.small_area: the column both tables share.",
                    "population.small_area", None, "small_area with lookup")
    for ti, t in enumerate(tables):
        where = f"tables[{ti}]"
        col_names = [c.name for c in t.columns]
        for ci, c in enumerate(t.columns):
            if col_names.count(c.name) > 1 and col_names.index(c.name) != ci:
                bad(f"The column {c.name!r} is declared twice in table {t.name!r}.", f"{where}.columns[{ci}].name",
                    c.name, "one entry per column")
            at = f"{where}.columns[{ci}]"
            if c.enum is not None and c.values_from:
                bad(f"Column {c.name!r} gives both `enum` and `values_from`; give one.", f"{at}.values_from",
                    c.values_from, "enum or values_from")
            if c.enum is not None:
                if not c.enum:
                    bad(f"Column {c.name!r} has an empty `enum`: no value would be allowed.", f"{at}.enum", "[]",
                        "at least one allowed value")
                want: type | tuple[type, ...] = (int if c.type == "integer" else (int, float) if c.type == "number"
                                                 else str)
                wrong = [v for v in c.enum if not isinstance(v, want) or isinstance(v, bool)]
                if c.type == "date" or wrong:
                    bad(f"Column {c.name!r} is of type {c.type}, but its allowed values "
                        f"{', '.join(map(repr, wrong or c.enum))[:150]} are not "
                        f"{'whole numbers' if c.type == 'integer' else 'numbers' if c.type == 'number' else 'text'}"
                        + (" (a date column cannot list values)" if c.type == "date" else "")
                        + ". Quote codes of a text column ('01'), or change the type.", f"{at}.enum",
                        (wrong or c.enum)[0], f"enum values of type {c.type}")
            if c.values_from and c.type != "string":
                bad(f"Column {c.name!r} takes its values from the languages, so it must be of type string.",
                    f"{at}.type", c.type, "type: string")
            for bound in ("minimum", "maximum"):
                if getattr(c, bound) is not None and c.type not in ("integer", "number"):
                    bad(f"Column {c.name!r} is {c.type}; a {bound} applies only to integer or number columns.",
                        f"{at}.{bound}", getattr(c, bound), "minimum/maximum on numbers")
            if c.minimum is not None and c.maximum is not None and c.minimum > c.maximum:
                bad(f"Column {c.name!r}: minimum {c.minimum} is above maximum {c.maximum}.", f"{at}.minimum",
                    c.minimum, "minimum <= maximum")
        if t.kind in ("eyfsp", "asq"):
            if t.columns:
                bad(f"Table {t.name!r} is of kind {t.kind}: measurekit knows its columns (a national dataset), so "
                    "declare none.", f"{where}.columns", ", ".join(col_names)[:200], f"kind {t.kind}: no columns")
            if t.key and list(t.key) != [pop.id]:
                bad(f"Table {t.name!r} ({t.kind}) has one row per person: its key is {pop.id!r}.", f"{where}.key",
                    ", ".join(t.key), f"key: [{pop.id}]")
            continue
        for key_col in t.key:
            if key_col not in col_names:
                bad(f"The key column {key_col!r} of table {t.name!r} is not among its columns.", f"{where}.key",
                    key_col, f"key columns declared in {t.name}")
        if t.name != pop.table and t.name != pop.lookup and pop.id not in col_names:
            bad(f"Table {t.name!r} has no {pop.id!r} column, so its rows cannot be joined to the {pop.people}.",
                f"{where}.columns", pop.id, f"every table but the lookup has {pop.id}")
        if t.kind == "voice":
            if not t.respondent:
                bad(f"Voice table {t.name!r} needs `respondent:` (whose answers it holds).", f"{where}.respondent",
                    None, "respondent of some item")
            elif respondents and t.respondent not in respondents:
                bad(f"Voice table {t.name!r} holds the answers of {t.respondent!r}, but no item names that "
                    f"respondent (items name: {', '.join(sorted(respondents))}).", f"{where}.respondent",
                    t.respondent, "respondent of some item")
            for field in ("date", "round"):
                col = getattr(t, field)
                if col and col not in col_names:
                    bad(f"Voice table {t.name!r} names {field} column {col!r}, which it does not declare.",
                        f"{where}.{field}", col, f"{field} column among the columns")
            if t.date and t.date in col_names and t.columns[col_names.index(t.date)].type != "date":
                bad(f"The date column {t.date!r} of table {t.name!r} must be of type date.", f"{where}.date", t.date,
                    "type: date")
            clash = [c for c in col_names if c in items]
            if clash:
                bad(f"Voice table {t.name!r} declares columns named like items ({', '.join(clash)}); item columns come "
                    "from the items.", f"{where}.columns", clash[0], "no item ids among the declared columns")
        elif t.respondent or t.date or t.round or t.retest:
            bad(f"Table {t.name!r} is of kind {t.kind}; respondent, date, round and retest belong to voice tables.",
                where, t.kind, "kind: voice")
    return report


def _check_indicator_tables(fw: Framework, report: ProblemReport) -> None:
    """An indicator's ``compute.table`` and ``compute.among`` name declared tables and columns, and allowed values
    (code ``bad_table_declaration``, file indicators.yaml)."""
    tables = {t.name: t for t in fw.tables}
    items = {i.id for i in fw.items}

    def bad(message: str, column: str, value=None, rule: str = "") -> None:
        report.add("bad_table_declaration", message, file="indicators.yaml", column=column,
                   value=None if value is None else str(value)[:200], rule=rule)

    for k, ind in enumerate(fw.indicators):
        c = ind.compute
        for where, table, field, values in ((f"indicators[{k}].compute", c.table, c.field, None),
                                            (f"indicators[{k}].compute.among",
                                             c.among.table if c.among else None, c.among.field if c.among else None,
                                             c.among.values if c.among else None)):
            if table is None:
                continue
            if table not in tables:
                bad(f"Indicator {ind.id} reads table {table!r}, which framework.yaml does not declare.",
                    f"{where}.table", table, "tables: " + ", ".join(tables))
                continue
            t = tables[table]
            cols = {col.name: col for col in t.columns}
            known = set(cols) | ({"responded"} | items if t.kind == "voice" else set())
            if t.kind in ("eyfsp", "asq") or field in known:
                col = cols.get(field or "")
                if values and col is not None and col.enum is not None:
                    outside = [v for v in values if v not in col.enum]
                    if outside:
                        bad(f"Indicator {ind.id} restricts to {field} = {', '.join(map(str, outside))}, which is not "
                            f"an allowed value of {table}.{field}.", f"{where}.values", outside[0],
                            f"enum: {'|'.join(map(str, col.enum))}")
                continue
            bad(f"Indicator {ind.id} reads {field!r} from table {table!r}, which has no such column.",
                f"{where}.field", field, f"a column of {table}")
