"""Write an information map to a folder, whole or not at all.

``write_information_map(result, out)`` writes, through ``core.atomic.atomic_directory`` (the folder appears
complete or is left as it was):

- ``information_map.html``: the page (findings, the map, the tables; prints on A4);
- ``information_map.svg``: the map alone;
- ``information.csv``, ``priorities.csv``, ``brokers.csv``, ``national_local.csv``, ``voice_outside.csv``,
  ``gaps.csv``: the result's tables (columns as documented on ``InformationMap``);
- ``findings.txt``: the findings, one per line.

The output folder is replaced whole, so it is checked first (``core.paths.check_output``): it may not be, hold or
lie inside the inventory or the framework (``output_overlaps_input``), nor be a non-empty folder measurekit did
not make (``output_not_ours``).
"""
from __future__ import annotations

from pathlib import Path

FILES = ("information_map.html", "information_map.svg", "information.csv", "priorities.csv", "brokers.csv",
         "national_local.csv", "voice_outside.csv", "gaps.csv", "findings.txt")


def write_information_map(result, out, *, inputs=()) -> dict[str, Path]:
    """Write the page, the SVG, the tables and the findings of an ``InformationMap`` into the folder ``out``.
    ``inputs``: further files or folders the output must keep clear of (the inventory's own file always is).
    Returns file name -> path (the final paths inside ``out``)."""
    from measurekit.core import atomic
    from measurekit.core.paths import check_output

    inv = result.inventory
    check_output(out, inputs=[inv.path if inv is not None else None, *inputs], command="map")
    out = Path(out)
    with atomic.atomic_directory(out) as tmp:
        atomic.write_text(tmp / "information_map.html", result.html(), root=tmp)
        atomic.write_text(tmp / "information_map.svg", result.svg(), root=tmp)
        for name in ("information", "priorities", "brokers", "national_local", "voice_outside", "gaps"):
            atomic.write_csv(tmp / f"{name}.csv", getattr(result, name), root=tmp, index=False)
        atomic.write_text(tmp / "findings.txt", "\n".join(result.findings + result.warnings) + "\n", root=tmp)
    return {name: out / name for name in FILES}

