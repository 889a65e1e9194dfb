"""Where the bundled example frameworks and synthetic cohort live.

An installed measurekit (``pip install measurekit`` or a wheel) carries them inside the package, in
``measurekit/_bundled/frameworks/<name>`` and ``measurekit/_bundled/synthetic`` (the build copies them there from the
repository: see ``setup.py``), and finds them with :mod:`importlib.resources`. A source checkout or editable install
(``pip install -e .``, as ``tasks.py`` does) has no ``_bundled`` folder and uses the repository's own folders:
``<repo>/indicators/<name>`` and ``<repo>/data/synthetic``. Either way the repository folders are the only copies
anyone edits.

Nothing here names a framework: the bundled frameworks are whatever folders with a ``framework.yaml`` were shipped,
and the demo's framework is the one the bundled cohort's ``ground_truth.json`` says it was made for. Which framework a
command uses is decided in one place, :func:`measurekit.design.choose.choose_framework`.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import json
from importlib import resources
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def _packaged(*parts: str) -> Path | None:
    """A folder under ``measurekit/_bundled`` as a real path, or None in a source checkout."""
    node = resources.files("measurekit").joinpath("_bundled", *parts)
    if not node.is_dir():
        return None
    if isinstance(node, Path):
        return node
    return Path(_extracted.enter_context(resources.as_file(node)))   # imported from a zip file


@functools.cache
def bundled_frameworks() -> dict[str, Path]:
    """Every framework shipped with measurekit: folder name -> folder (each holds a ``framework.yaml``)."""
    root = _packaged("frameworks") or REPO_ROOT / "indicators"
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if (p / "framework.yaml").is_file()}


def bundled_data() -> Path:
    """The shipped seed-1 synthetic cohort (the demo's data)."""
    return _packaged("synthetic") or REPO_ROOT / "data" / "synthetic"


@functools.cache
def demo_framework() -> Path:
    """The framework the bundled synthetic cohort was made for (``framework`` in its ``ground_truth.json``)."""
    truth = json.loads((bundled_data() / "ground_truth.json").read_text(encoding="utf-8"))
    return bundled_frameworks()[truth["framework"]]


def __getattr__(name: str) -> Path:
    # BUNDLED_FRAMEWORK / BUNDLED_DATA: read lazily, so importing this module reads no file
    if name == "BUNDLED_FRAMEWORK":
        return demo_framework()
    if name == "BUNDLED_DATA":
        return bundled_data()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
