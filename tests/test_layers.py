"""The folders are the stages of the flow and no import runs upward; no two modules import each other (issue 25).

Stages, lowest first: core (and problems.py) -> design -> data -> stats -> synth -> publish -> mapping -> pipeline
-> cli. A module may import its own stage or a lower one, at module level or inside a function alike. Read from the
source with ast, written without the package's help."""
from __future__ import annotations

import ast
import functools
from pathlib import Path

import networkx as nx

SRC = Path(__file__).resolve().parents[1] / "src" / "measurekit"
ORDER = ["core", "design", "data", "stats", "synth", "publish", "mapping", "pipeline", "cli"]
RANK = {name: k for k, name in enumerate(ORDER)} | {"problems": 0}


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


@functools.cache
def _imports(path: Path) -> frozenset[str]:
    """The measurekit modules and names ``path`` imports (each file parsed once: both tests read every file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "measurekit":
            found |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "measurekit"}
    return frozenset(found)


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANK else None


def test_every_stage_is_known():
    folders = {p.name for p in SRC.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}
    assert folders <= set(ORDER) | {"templates"}, folders - set(ORDER)


def test_no_import_runs_upward():
    upward = []
    for module, path in _modules().items():
        here = _stage(module)
        if here is None:          # the package root: its lazy map may name every stage
            continue
        for target in _imports(path):
            there = _stage(target)
            if there is not None and RANK[there] > RANK[here]:
                upward.append(f"{module} imports {target} ({here} -> {there})")
    assert not upward, "\n".join(sorted(set(upward)))


def test_no_two_modules_import_each_other():
    modules = _modules()
    graph = nx.DiGraph()
    for module, path in modules.items():
        if path.name == "__init__.py":
            continue
        for target in _imports(path):
            if target in modules and not modules[target].name == "__init__.py" and target != module:
                graph.add_edge(module, target)
    cycles = [c for c in nx.simple_cycles(graph)]
    assert not cycles, cycles
