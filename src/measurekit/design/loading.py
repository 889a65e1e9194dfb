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
from pathlib import Path

import yaml

from measurekit.problems import InputError, ProblemReport
from measurekit.design.models import Framework


class SpecError(InputError):
    """The specification cannot be used; ``.report`` lists every problem."""


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when available: several times faster


class _Loader(_Base):
    """SafeLoader that records duplicate keys (YAML silently keeps the last one) instead of losing them."""

    def __init__(self, stream):
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


def _read_yaml(path: Path, report: ProblemReport, required: bool, nodes: dict) -> dict:
    if not path.exists():
        if required:
            report.add("missing_file", f"{path.name} is missing from the framework folder.", file=path.name)
        return {}
    text = path.read_text(encoding="utf-8")
    try:
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


def _load(path: Path):
    report = ProblemReport(title=f"Specification {path}")
    if not path.is_dir():
        report.add("missing_folder", f"Framework folder {path} does not exist.")
        return None, report
    nodes: dict = {}
    meta = _read_yaml(path / "framework.yaml", report, required=False, nodes=nodes)
    scales = _read_yaml(path / "scales.yaml", report, required=True, nodes=nodes)
    items = _read_yaml(path / "items.yaml", report, required=True, nodes=nodes)
    indicators = _read_yaml(path / "indicators.yaml", report, required=False, nodes=nodes)
    where = {"scales": "scales.yaml", "domains": "items.yaml", "items": "items.yaml", "indicators": "indicators.yaml"}
    doc = {k: v for k, v in meta.items() if k not in where}
    doc["scales"] = scales.get("scales", [])
    doc["domains"] = items.get("domains", [])
    doc["items"] = items.get("items", [])
    doc["indicators"] = indicators.get("indicators", [])
    from pydantic import ValidationError

    fw = None
    try:
        fw = Framework.model_validate(doc)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            file = where.get(str(loc[0]), "framework.yaml") if loc else "framework.yaml"
            dotted = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(loc))
            report.add("invalid_field", err["msg"], file=file, column=dotted, value=err.get("input") if not isinstance(err.get("input"), dict) else None)
    if fw is not None:
        fw.path = path
        from measurekit.design.consistency import check_consistency

        report.extend(check_consistency(fw))
    return fw, _with_lines(report, nodes)
