"""Load a framework folder into a ``Framework``, reporting every problem at once.

Files: ``framework.yaml`` (name, version, languages, ...), ``scales.yaml``, ``items.yaml``
(domains and items), ``indicators.yaml``. Only ``scales.yaml`` and ``items.yaml`` are required.
Problems carry a stable code and the location (file and path in the document, e.g.
``items[3].scale``).
"""
from __future__ import annotations

from pathlib import Path

import yaml

from measurekit.problems import InputError, ProblemReport
from measurekit.spec.models import Framework


class SpecError(InputError):
    """The specification cannot be used; ``.report`` lists every problem."""


def _read_yaml(path: Path, report: ProblemReport, required: bool) -> dict:
    if not path.exists():
        if required:
            report.add("missing_file", f"{path.name} is missing from the framework folder.", file=path.name)
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        report.add("yaml_syntax", f"YAML syntax error: {exc}", file=path.name,
                   row=(mark.line + 1) if mark else None)
        return {}
    if not isinstance(data, dict):
        report.add("yaml_type", "The file must hold a mapping (key: value) at the top level.", file=path.name)
        return {}
    return data


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
    meta = _read_yaml(path / "framework.yaml", report, required=False)
    scales = _read_yaml(path / "scales.yaml", report, required=True)
    items = _read_yaml(path / "items.yaml", report, required=True)
    indicators = _read_yaml(path / "indicators.yaml", report, required=False)
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
        from measurekit.spec.rules import check_consistency

        report.extend(check_consistency(fw))
    return fw, report
