"""Shared fixtures. Synthetic data come from the generator (known ground truth) or the shipped copy."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FRAMEWORK_DIR = ROOT / "indicators" / "rochdale-school-readiness"
SYNTHETIC_DIR = ROOT / "data" / "synthetic"

os.environ.setdefault("MEASUREKIT_NO_PROGRESS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# One BLAS thread per test process (set before any test imports numpy; subprocesses inherit it): the suite runs one
# pytest-xdist worker per core, so OpenBLAS threads on top only fight the other worker for the same cores. On this
# 2-core machine under load a QR of 1,900 x 8 took 130 ms with two threads and 0.2 ms with one. The library's own
# hot loops limit themselves already (stats/_numerics/threads.py); this covers everything else the tests call.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def framework_dir() -> Path:
    return FRAMEWORK_DIR


@pytest.fixture(scope="session")
def synthetic_dir() -> Path:
    return SYNTHETIC_DIR


@pytest.fixture(scope="session")
def cohort():
    """The seed-1, 3,000-child synthetic cohort, generated fresh (with ground truth)."""
    from measurekit.synth.cohort import make_cohort

    return make_cohort(n=3000, random_state=1)


@pytest.fixture(scope="session")
def analysis_frame(cohort):
    """One row per child: routine data, outcomes and raw parent item codes."""
    return cohort.analysis_frame()


@dataclass(frozen=True)
class BundledRun:
    """One finished run of the main job: its ``RunState``, output folder and the data folder it read."""

    state: object
    out: Path
    data: Path


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory) -> BundledRun:
    """The main job (``measurekit run``) on a copy of the bundled cohort with the demo framework, run once per test
    session (once per pytest-xdist worker) and shared by every test that only reads its state or its files (the
    run takes about a tenth of the suite's time when each test module ran its own). Tests must not change the
    state or the folders; one that needs them gone (``test_report_is_a_pure_function_of_the_run_state``) moves them
    aside and puts them back. A test that needs its own run (monkeypatched steps, other data) still calls ``run``."""
    from measurekit.core import paths
    from measurekit.pipeline.run import run

    base = tmp_path_factory.mktemp("bundled_run")
    data = base / "data"
    shutil.copytree(paths.BUNDLED_DATA, data)
    out = base / "out"
    state = run(data, framework=paths.BUNDLED_FRAMEWORK, out=out, log=lambda *_: None)
    return BundledRun(state, out, data)


def _require(env_var: str, what: str, found: bool) -> None:
    if found:
        return
    if os.environ.get(env_var):
        pytest.fail(f"{what} is required here ({env_var} is set) but was not found")
    pytest.skip(f"{what} not installed (CI installs it via .ci/run)")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path to Debian's chromium; skipped locally when absent, a failure in CI."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    _require("MEASUREKIT_REQUIRE_BROWSER", "Chromium", path is not None)
    return path


@pytest.fixture(scope="session")
def java_path() -> str:
    path = shutil.which("java")
    _require("MEASUREKIT_REQUIRE_JAVA", "Java", path is not None)
    return path


# Modules with the longest single tests (or most run-the-main-job tests) first, in this order; every other module
# after them in the usual order. With pytest-xdist the first tests are dealt out first, so a test of minutes starts
# while the short ones fill the other core, instead of starting last and keeping one core busy alone at the end.
# Whole modules move (the order inside a module is kept), so module-scoped fixtures are still made once.
# Ranked by the longest single test of each module in a full run (per-test CPU time and --durations, issue 30,
# suite of 928 tests on main of 4 Dec); a module missing from this list only loses its head start.
RUN_FIRST = ("test_value.py", "test_wheel.py", "test_ledger.py", "test_jupyterlab_browser.py", "test_notebooks.py",
             "test_disclosure_attack.py", "test_pipeline.py", "test_linkage_probabilistic.py", "test_security.py",
             "test_fuzz.py", "test_framework_declarations.py", "test_board_browser.py", "test_trial_report.py")


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(RUN_FIRST)}
    order = {id(item): n for n, item in enumerate(items)}
    items.sort(key=lambda item: (rank.get(item.path.name, len(RUN_FIRST)), order[id(item)]))
