"""Write an information map to a folder, whole or not at all.

``write_information_map(result, out)`` writes, through ``core.atomic.atomic_directory`` (the folder appears
complete or is left as it was):

- ``information_map.html``: the page (findings, the map, the tables; prints on A4);
- ``information_map.svg``: the map alone;
- ``information.csv``, ``priorities.csv``, ``brokers.csv``, ``national_local.csv``, ``voice_outside.csv``,
  ``gaps.csv``: the result's tables (columns as documented on ``InformationMap``);
- ``findings.txt``: the findings, one per line.

The output folder is replaced whole, so it may not be, or contain, the inventory (``output_holds_input``).
"""
from __future__ import annotations

from pathlib import Path

from measurekit.problems import InputError, Problem, ProblemReport

FILES = ("information_map.html", "information_map.svg", "information.csv", "priorities.csv", "brokers.csv",
         "national_local.csv", "voice_outside.csv", "gaps.csv", "findings.txt")


def check_output(out, inputs) -> None:
    """Refuse (``InputError`` code ``output_holds_input``) an output folder that is, or contains, an input."""
    out_r = Path(out).resolve()
    for path in inputs:
        if path is None:
            continue
        p = Path(path).resolve()
        if p == out_r or out_r in p.parents:
            raise InputError(ProblemReport([Problem(
                "output_holds_input", f"The output folder {str(out)!r} is or contains the input {str(path)!r}; the "
                "output folder is replaced whole, which would delete the input. Choose another output folder.",
                value=str(out), rule="output folder apart from the inputs")], title="Output"))


def write_information_map(result, out) -> dict[str, Path]:
    """Write the page, the SVG, the tables and the findings of an ``InformationMap`` into the folder ``out``.
    Returns file label -> path (the final paths inside ``out``)."""
    from measurekit.core import atomic

    inv = result.inventory
    check_output(out, [inv.path] if inv is not None else [])
    out = Path(out)
    with atomic.atomic_directory(out) as tmp:
        atomic.write_text(tmp / "information_map.html", result.html(), root=tmp)
        atomic.write_text(tmp / "information_map.svg", result.svg(), root=tmp)
        for name in ("information", "priorities", "brokers", "national_local", "voice_outside", "gaps"):
            atomic.write_csv(tmp / f"{name}.csv", getattr(result, name), root=tmp, index=False)
        atomic.write_text(tmp / "findings.txt", "\n".join(result.findings + result.warnings) + "\n", root=tmp)
    return {name: out / name for name in FILES}

