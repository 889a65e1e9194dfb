"""How the suite is shared out between pytest-xdist workers (tests/conftest.py, issue 30) stays true to the tests.

The scheduler's tables name modules and tests by hand; these checks read the test files themselves (with ``ast``,
not through the tables' own helpers) so a renamed test, a new reader of the shared main-job run or a stale entry
is caught here instead of quietly costing time.
"""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import conftest
import pytest

TESTS = Path(__file__).resolve().parent


@functools.cache
def _functions(path: Path) -> dict[str, list[str]]:
    """Every module-level function of a test file and the names of its arguments (each file read once: every
    shared fixture's check reads them all)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name: [a.arg for a in node.args.args + node.args.kwonlyargs]
            for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_every_entry_of_the_tables_names_a_test_that_exists():
    for key in [*conftest.COST, *[m for ms in conftest.SHARED_UNITS.values() for m in ms], *conftest.SPLIT]:
        module, _, test = key.partition("::")
        assert (TESTS / module).is_file(), key
        if test:
            assert re.sub(r"\[.*\]$", "", test) in _functions(TESTS / module), key
    assert set(conftest.UNIT_COST) <= set(conftest.SHARED_UNITS)          # a unit's cost names a shared unit


# the session fixtures whose readers must share a worker (each is made once per worker that asks for it)
SHARED = ("bundled_run", "second_site_run", "bundled_boards")


@pytest.mark.parametrize("fixture", SHARED)
def test_every_reader_of_a_shared_run_is_in_its_unit(fixture):
    """A test (or a fixture of its module) taking ``bundled_run`` (``second_site_run``, ``bundled_boards``) outside
    the unit would make a worker run the main job (the second framework's synth and run, the bundled board tables)
    a second time."""
    for path in sorted(TESTS.glob("test_*.py")):
        funcs = _functions(path)
        readers = [name for name, args in funcs.items() if fixture in args]
        if not readers:
            continue
        if any(not name.startswith("test_") for name in readers):    # a fixture: any test of the module may use it
            assert path.name in conftest.SHARED_UNITS[fixture], (path.name, readers)
            assert conftest._unit(f"tests/{path.name}::test_any") == fixture, (path.name, readers)
            continue
        for name in readers:
            assert conftest._unit(f"tests/{path.name}::{name}") == fixture, (path.name, name)
            assert conftest._unit(f"tests/{path.name}::{name}[x]") == fixture, (path.name, name)


def test_shared_fixtures_are_session_fixtures_of_conftest():
    tree = ast.parse((TESTS / "conftest.py").read_text(encoding="utf-8"))
    session = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)
               and any("session" in ast.unparse(d) for d in node.decorator_list)}
    assert set(SHARED) <= session and set(SHARED) <= set(conftest.SHARED_UNITS)


def test_units_are_modules_except_split_ones():
    assert conftest._unit("tests/test_alpha.py::test_x") == "tests/test_alpha.py"
    assert conftest._unit("tests/test_alpha.py::test_y[3]") == "tests/test_alpha.py"
    split = sorted(conftest.SPLIT)[0]
    assert conftest._unit(f"tests/{split}::test_x[1]") == f"tests/{split}::test_x[1]"
    assert conftest._unit("tests/test_pipeline.py::test_main_job_writes_reports") == "bundled_run"
    assert conftest._unit("tests/test_pipeline.py::test_main_job_writes_reportsX") != "bundled_run"
    assert conftest._unit("tests/test_second_site.py::test_x[1]") == "second_site_run"
    # notebooks 01 and 08 run first by test_notebook_runs, then again by the edits test, on one copy: one unit
    reruns = {conftest._unit(f"tests/test_notebooks.py::{t}") for t in (
        "test_notebook_runs[01_draft_items]", "test_notebook_runs[08_framework_review]",
        "test_analysts_edits_survive_a_rerun")}
    assert len(reruns) == 1 and conftest._unit("tests/test_notebooks.py::test_notebook_runs[00_start_here]") not in reruns


def test_the_collection_is_sorted_longest_unit_first(request):
    """Whatever was collected in this session (the whole suite, or a few files) comes longest first."""
    costs = [conftest._cost(item) for item in request.session.items]
    assert costs == sorted(costs, reverse=True)
    # inside a module (among its tests of one cost) the written order is kept: module-scoped fixtures are made
    # once, and tests that build on each other keep their order
    lines: dict = {}
    for item in request.session.items:
        lines.setdefault((item.path.name, conftest._cost(item)), []).append(item.location[1])
    for key, found in lines.items():
        assert found == sorted(found), key
