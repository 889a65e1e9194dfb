"""Save a framework back to its YAML files, and export JSON Schemas of the specification files."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from measurekit.core import atomic
from measurekit.design.models import Framework, Indicator, Item, Scale
from measurekit.problems import InputError

FILES = {"framework.yaml": None, "scales.yaml": "scales", "items.yaml": ("domains", "items"),
         "indicators.yaml": "indicators"}


def _dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def framework_documents(fw: Framework) -> dict[str, dict]:
    """The four YAML documents of a framework, as plain data (what ``save_framework`` writes)."""
    data = fw.model_dump(mode="json", exclude_defaults=False, exclude={"path"})
    meta = {k: v for k, v in data.items() if k not in ("scales", "domains", "items", "indicators")}
    return {"framework.yaml": meta, "scales.yaml": {"scales": data["scales"]},
            "items.yaml": {"domains": data["domains"], "items": data["items"]},
            "indicators.yaml": {"indicators": data["indicators"]}}


def save_framework(fw: Framework, path=None) -> Path:
    """Write the framework's YAML files (atomically, one file at a time) to ``path`` (default: where it was loaded)."""
    target = path or fw.path
    if target is None:   # a framework built in code (not loaded from a folder) and no path given
        raise InputError.of("missing_folder", "This framework was not loaded from a folder, so there is nowhere to "
                            "save it back to: name the folder with path=.")
    path = Path(target)
    header = "# Written by measurekit. Comments are not kept; keep notes in the `notes` fields.\n"
    if fw.illustrative:
        header += "# ILLUSTRATIVE: a worked example, not an official or validated instrument.\n"
    for name, doc in framework_documents(fw).items():
        atomic.write_text(path / name, header + _dump(doc))
    return path


def json_schemas() -> dict[str, dict]:
    """JSON Schemas of the specification models (for editors and other tools)."""
    return {"framework": Framework.model_json_schema(), "item": Item.model_json_schema(),
            "scale": Scale.model_json_schema(), "indicator": Indicator.model_json_schema()}


def export_json_schemas(folder) -> list[Path]:
    folder = Path(folder)
    out = []
    for name, schema in json_schemas().items():
        out.append(atomic.write_text(folder / f"{name}.schema.json", json.dumps(schema, indent=2) + "\n"))
    return out
