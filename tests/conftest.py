"""Shared fixtures. Synthetic data come from the generator (known ground truth) or the shipped copy."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
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
# jsonschema (imported by nbformat, which the notebook tests use) imports rfc3987_syntax when it is installed (a
# dependency of JupyterLab's jupyter-events), and rfc3987_syntax builds about thirty Earley parsers as it is imported:
# 1.2 CPU s in every test process, for the "iri" and "iri-reference" formats that no schema here uses (nbformat's
# notebook schema, frictionless's data package schemas). Marked absent, jsonschema leaves those two formats
# unchecked, as it does wherever the package is not installed. pyproject's addopts keep the nbval plugin (unused: the
# notebooks run through nbclient, execute_notebook below) from importing nbformat before this line (issue 30).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]


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
class BundledBoards:
    """The board tables of the seed-1, 3,000-child cohort (the ``cohort`` fixture, the bundled data) with the demo
    framework (``framework``, loaded from FRAMEWORK_DIR): ``board``, ``build_board_table(cohort, framework=...)``
    (disclosure control, rounding once: what is published), and ``raw``, the same with ``disclosure=False`` (true
    counts at full precision, internal); ``protected()``, ``protect(raw.rows, framework)`` (made when first asked
    for)."""

    framework: object
    board: object
    raw: object
    _made: dict = field(default_factory=dict, compare=False, repr=False)

    def protected(self):
        """``measurekit.publish.disclosure.protect(raw.rows, framework)``, made once (tests/test_disclosure.py's
        intruder attacks it, tests/test_board_pack.py rounds it by hand)."""
        if "protected" not in self._made:
            from measurekit.publish.disclosure import protect

            result = protect(self.raw.rows, self.framework)
            self._made["protected"] = result
            self._made["protected_fingerprint"] = _fingerprint([result.table, result.audit.table])
        return self._made["protected"]


def _fingerprint(frames) -> list:
    import pandas as pd

    return [(list(f.columns), pd.util.hash_pandas_object(f.astype(str), index=True).tolist()) for f in frames]


def _boards_fingerprint(boards: BundledBoards) -> list:
    return _fingerprint([boards.board.rows, boards.raw.rows, boards.board.disclosure.table, boards.board.audit.table])


@pytest.fixture(scope="session")
def bundled_boards(cohort):
    """The bundled cohort's board tables (BundledBoards), built once per test session (once per pytest-xdist worker:
    its readers are one scheduling unit, SHARED_UNITS below) and shared by the modules that only read them
    (test_board_pack, test_board_ready, test_briefing_charts, test_ees, test_disclosure): each built the same table
    again, about 1 CPU s each time (disclosure control is most of it), nine times in all, and protected its true
    counts twice. Tests must not change the tables (or their disclosure results and audits): checked when the session
    ends."""
    from measurekit.design import load_framework
    from measurekit.publish.board_table import build_board_table

    fw = load_framework(FRAMEWORK_DIR)
    boards = BundledBoards(fw, build_board_table(cohort, framework=fw),
                           build_board_table(cohort, framework=fw, disclosure=False))
    before = _boards_fingerprint(boards)
    yield boards
    assert _boards_fingerprint(boards) == before, "a test changed the shared board tables (bundled_boards)"
    if "protected" in boards._made:
        result = boards._made["protected"]
        assert _fingerprint([result.table, result.audit.table]) == boards._made["protected_fingerprint"], \
            "a test changed the shared protect() result (bundled_boards.protected())"


@dataclass(frozen=True)
class BundledRun:
    """One finished run of the main job: its ``RunState``, output folder and the data folder it read; ``calls``: how
    often each function of ``WATCHED`` ran during the run, and ``board_readers``: the file (module) of every
    ``pandas.read_csv`` call on a ``board_table`` path during the run; ``opened``: every time the run opened one of
    the data folder's CSV or Excel files (its resolved path, once per opening); ``scored_rows``: the number of rows
    of each call of ``measurekit.stats.scoring.score``, in order."""

    state: object
    out: Path
    data: Path
    calls: dict
    board_readers: tuple
    opened: tuple = ()
    scored_rows: tuple = ()


# functions of the main job counted during the shared run (pass-through wrappers: nothing else changes), for the tests
# that check a step runs once (test_board_pack: aggregation, disclosure control, rounding; test_framework_evidence:
# each evidence file read once); before, each of those two tests ran the whole job again with its own counters
WATCHED = (("measurekit.publish.board_table", "_aggregate"), ("measurekit.publish.disclosure", "protect"),
           ("measurekit.core.formatting", "publish_board_table"), ("measurekit.design.evidence", "read_quotes"),
           ("measurekit.design.content_validity", "read_ratings"), ("measurekit.design.interviews", "read_interviews"),
           # test_pipeline's test_one_run_reads_each_input_once_and_scores_once, which also ran a job of its own
           ("measurekit.data.validation", "read_and_check"))


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory) -> BundledRun:
    """The main job (``measurekit run``) on a copy of the bundled cohort with the demo framework, run once per test
    session (once per pytest-xdist worker) and shared by every test that only reads its state, its files or its
    counts (the run takes about a tenth of the suite's time when each test module ran its own). Tests must not
    change the state or the folders; one that needs them gone (``test_report_is_a_pure_function_of_the_run_state``)
    moves them aside and puts them back. A test that needs its own run (monkeypatched steps, other data) still calls
    ``run``.

    Every step runs in this process (``MEASUREKIT_WORKERS=1``), whatever the machine's load: the counters then see
    the whole run, and tests/test_workers.py compares its run with worker processes with this one instead of
    running the job a third time (with ``auto`` the shared run took the workers whenever a core looked idle)."""
    import importlib
    import inspect
    from collections import Counter

    import pandas as pd

    from measurekit.core import paths
    from measurekit.pipeline.run import run

    base = tmp_path_factory.mktemp("bundled_run")
    data = base / "data"
    shutil.copytree(paths.BUNDLED_DATA, data)
    out = base / "out"
    calls: Counter = Counter()
    readers: list[str] = []
    inputs = {str(p.resolve()) for p in data.iterdir() if p.suffix in (".csv", ".xlsx")}
    opened: list[str] = []
    scored_rows: list[int] = []
    watching = [True]

    def hook(event, args):      # an audit hook cannot be removed: it stops listening when the run is over
        if watching[0] and event == "open" and isinstance(args[0], (str, bytes)):
            path = os.path.realpath(os.fsdecode(args[0]))
            if path in inputs:
                opened.append(path)

    def counting(name, real):
        def spy(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return spy

    real_read_csv = pd.read_csv

    def read_csv(path, *args, **kwargs):
        if "board_table" in str(path):
            readers.append(Path(inspect.stack()[1].filename).name)
        return real_read_csv(path, *args, **kwargs)

    from measurekit.design import loading
    from measurekit.pipeline import workers
    from measurekit.stats import scoring

    real_score = scoring.score

    def score(*args, **kwargs):
        scored_rows.append(len(args[0]))
        return real_score(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        # counted as in a fresh process: no framework folder loaded before (design/loading.py keeps loaded folders)
        mp.setattr(loading, "_LOADED", {})
        mp.setenv(workers.ENV, "1")
        for module, name in WATCHED:
            mod = importlib.import_module(module)
            mp.setattr(mod, name, counting(name, getattr(mod, name)))
        mp.setattr(pd, "read_csv", read_csv)
        mp.setattr(scoring, "score", score)
        sys.addaudithook(hook)
        try:
            state = run(data, framework=paths.BUNDLED_FRAMEWORK, out=out, log=lambda *_: None)
        finally:
            watching[0] = False
    return BundledRun(state, out, data, dict(calls), tuple(readers), tuple(opened), tuple(scored_rows))


@dataclass(frozen=True)
class SecondSiteRun:
    """``measurekit synth`` (500 young people, seed 5) then ``measurekit run`` on the second illustrative framework
    (indicators/north-yorkshire-care-leavers), each in a fresh interpreter: its data and output folders and what the
    run printed."""

    data: Path
    out: Path
    stdout: str


@pytest.fixture(scope="session")
def second_site_run(tmp_path_factory) -> SecondSiteRun:
    """The second framework's synth and run, made once per test session (once per pytest-xdist worker: its readers
    are one scheduling unit, SHARED_UNITS below) and shared by the tests that only read its files
    (tests/test_second_site.py, tests/test_framework_general.py): two modules each made their own, about 9 s of CPU
    each. Tests must not change the folders."""
    from cli_runner import run_cli

    folder = ROOT / "indicators" / "north-yorkshire-care-leavers"
    base = tmp_path_factory.mktemp("second_site")
    data, out = base / "data", base / "out"

    def cli(*args):      # in this process (tests/cli_runner.py), as a fresh interpreter would run it
        return run_cli(*args, cwd=ROOT, timeout=900)

    done = cli("synth", "--framework", folder, "--n", 500, "--seed", 5, "--out", data)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    done = cli("run", "--framework", folder, "--data", data, "--out", out)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return SecondSiteRun(data, out, done.stdout)


def execute_notebook(nb, folder: Path, timeout: int = 600):
    """Run every cell of the notebook ``nb`` (in place, outputs kept) as Run All does with ``folder`` the working
    folder, in a new IPython kernel of its own; returns ``nb``.

    The kernel talks over Unix sockets in a new private folder instead of TCP on localhost, and keeps no IPython
    history. The TCP default picks each port by binding port 0 and letting it go before the kernel binds it
    (jupyter_client issue 487), so kernels started at the same moment by two pytest-xdist workers, or by anyone
    else on the machine, can be handed the same port; and every kernel writes to ~/.ipython's one history
    database. Neither can meet another kernel here. The notebook still runs top to bottom in a real kernel.

    Once the last cell has replied (every output received, every file the notebook writes closed), the kernel is
    stopped at once (``shutdown_kernel="immediate"``: SIGKILL to its process group) instead of asked to shut down:
    ipykernel 7's graceful shutdown often waited 1-3.5 s with its control thread blocked sending to the IOPub
    thread it had already stopped (py-spy; after importing pyxform, for one), idle time that added about 25 s
    to the suite's wall time over its 26 notebook runs (issue 30)."""
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    sockets = Path(tempfile.mkdtemp(prefix="mk-kernel-"))
    km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(sockets / "k"))
    try:
        NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3",
                       extra_arguments=["--HistoryManager.enabled=False"], shutdown_kernel="immediate",
                       resources={"metadata": {"path": str(folder)}}).execute(cleanup_kc=True)  # shut it down
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    return nb


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


# ---------------------------------------------------------------- how pytest-xdist shares the suite out (issue 30)
# With -n (tasks.py test passes -n auto) the workers get the suite in "units", one unit at a time, to whichever
# worker is free (MeasurekitScheduling below; xdist's own --dist load gave each worker a fixed block of about an
# eighth of the suite at the start, so every long test at the front landed on one worker while the other ran short
# ones and then waited). A unit is a whole module, so its module-scoped fixtures (fitted models, built wheels,
# a JupyterLab server, held-out cohorts) are made once, except the modules in SPLIT: their tests are long and
# share nothing costly, and each is a unit of its own. Units go out longest first (COST), so the last ones are
# the shortest and both workers finish together; units without a cost follow in the usual order.
# COST: the seconds a worker spends on the test (wall time: setup, call and teardown, its kernels, browsers and
# `measurekit` commands included, whose CPU the test process cannot always count, e.g. a module's browser), measured
# per test on a full run of the suite with -n 2 and MEASUREKIT_TEST_CPU (below; 5 Dec 07:40, issue 30, a quiet
# machine, an empty synth cache, both workers busy to the end); a module's cost is the sum of its tests'. A
# test or module missing here only loses its head start (listed: 3 s or more). JupyterLab, which mostly waits, counts
# its wall time in CI instead (kept from the earlier CI figures): it starts first and the waiting overlaps the other
# worker's work. The wheel's build and install (waiting on the package index) run in the background from the start
# of the session (BACKGROUND below), so its cost is what is left for the worker: the installed wheel's commands
# (13 s, the job done; it was 28 s with the build and install in the test).
# An explicit --dist (loadfile, worksteal, ...) is respected.
SPLIT = frozenset({"test_notebooks.py", "test_ledger.py", "test_value.py", "test_security.py", "test_fuzz.py",
                   "test_framework_declarations.py", "test_pipeline.py"})
COST = {
    # whole modules (the wheel: its installed commands, built in the background; JupyterLab: a server and a browser)
    "test_wheel.py": 14, "test_jupyterlab_browser.py": 40, "test_disclosure_attack.py": 38,
    "test_board_over_time.py": 26, "test_second_site.py": 26, "test_board_browser.py": 22,
    "test_linkage_probabilistic.py": 18, "test_run_periods.py": 15, "test_over_time_declared.py": 15,
    "test_third_framework.py": 12, "test_over_time.py": 11, "test_information_map.py": 7,
    "test_invariance_convergence.py": 6, "test_disclosure_speed.py": 5, "test_fuzz_stats.py": 5, "test_workers.py": 4,
    "test_trial_report.py": 4, "test_dif.py": 4, "test_disclosure_evidence.py": 4,
    "test_over_time_names.py": 4, "test_readers.py": 4, "test_disclosure_budget.py": 4, "test_irt.py": 3,
    "test_oblimin_stall.py": 3, "test_validation.py": 3,
    # tests of the SPLIT modules (a name with [parameters] is that case alone); notebooks: their kernels included
    "test_value.py::test_lr_false_positive_rate_near_nominal_without_voice_effect": 13,
    "test_notebooks.py::test_analysts_edits_survive_a_rerun": 11,
    "test_notebooks.py::test_notebook_runs[00_start_here]": 8,
    "test_notebooks.py::test_notebook_runs[03b_linkage_without_id]": 8,
    "test_fuzz.py::test_validate_answers_random_csv_shapes_with_clear_errors": 8,
    "test_pipeline.py::test_trial_sample_runs_the_trial_analyses_on_a_subsample": 6,
    "test_notebooks.py::test_notebook_runs[10_over_time]": 6,
    "test_ledger.py::test_the_main_job_records_its_pack": 5,
    "test_framework_declarations.py::"
    "test_a_framework_with_other_breakdowns_and_analysis_columns_runs_without_the_originals": 5,
    "test_notebooks.py::test_notebook_runs[05_fairness]": 5,
    "test_notebooks.py::test_notebook_runs[11_second_site]": 5,
    "test_pipeline.py::test_small_cohorts_degrade_with_reasons_and_weights_reach_the_board_table": 5,
    "test_pipeline.py::test_second_seed_and_bad_input": 4,
    "test_framework_declarations.py::test_declared_analysis_columns_the_data_lack_are_said_not_dropped_quietly": 4,
    "test_notebooks.py::test_notebook_runs[07_board_pack]": 4,
    "test_ledger.py::test_register_an_earlier_release_from_its_csv": 4,
    "test_ledger.py::test_pack_is_audited_with_and_recorded_in_the_ledger": 3,
    "test_notebooks.py::test_notebook_runs[06_added_value]": 3,
    "test_notebooks.py::test_notebook_runs[04_reliability]": 3,
}


# the tests that read a shared session fixture (bundled_run: the main job on the bundled data; second_site_run: the
# second framework's synth and run; bundled_boards: the bundled cohort's board tables): one unit per fixture, so one
# worker makes it
# (tests/test_suite_schedule.py checks that every test using such a fixture is listed here)
BUNDLED_RUN_UNIT = ("test_board_browser.py", "test_trial_report.py", "test_run_profile.py",
                    "test_framework_evidence.py", "test_pipeline.py::test_main_job_writes_reports",
                    "test_board_pack.py::test_pipeline_builds_the_board_table_once_rounds_once_and_never_reads_it_back",
                    "test_workers.py::test_the_run_with_workers_writes_what_the_run_without_writes",
                    "test_pipeline.py::test_one_run_reads_each_input_once_and_scores_once")
# the seconds of a shared unit whose members' own costs (COST) would put it too late: every test of the unit counts
# the whole unit's time (bundled_boards: its five modules one after the other, one process, empty synth cache, the
# session's cohort made on the way, 5 Dec 10:00)
UNIT_COST = {"bundled_boards": 33, "notebook_reruns": 9}
SHARED_UNITS = {"bundled_run": BUNDLED_RUN_UNIT,
                "second_site_run": ("test_second_site.py", "test_framework_general.py"),
                "bundled_boards": ("test_board_pack.py", "test_board_ready.py", "test_briefing_charts.py",
                                   "test_ees.py", "test_disclosure.py"),
                # not a session fixture: module state of test_notebooks.py (run_checked), whose first Run All of
                # notebooks 01 and 08 on the module's copy test_analysts_edits_survive_a_rerun re-runs after its edits
                "notebook_reruns": ("test_notebooks.py::test_notebook_runs[01_draft_items]",
                                    "test_notebooks.py::test_notebook_runs[08_framework_review]",
                                    "test_notebooks.py::test_analysts_edits_survive_a_rerun")}


def _unit(nodeid: str) -> str:
    """The unit of ``nodeid`` (``tests/test_x.py::test_y[p]``): its module, or itself in a SPLIT module; the
    readers of each shared session fixture together (SHARED_UNITS)."""
    module = nodeid.split("::", 1)[0]
    name = nodeid.rsplit("/", 1)[-1]
    for unit, members in SHARED_UNITS.items():
        if any(name == u or name.startswith(u + "::") or name.startswith(u + "[") for u in members):
            return unit
    return nodeid if module.rsplit("/", 1)[-1] in SPLIT else module


def _cost(item) -> float:
    """Estimated seconds of ``item``'s unit: a shared unit's (UNIT_COST), its module's, or in a SPLIT module its own
    (that case's, else the test function's)."""
    unit = _unit(item.nodeid)
    if unit in UNIT_COST:
        return UNIT_COST[unit]
    name = item.path.name
    if name not in SPLIT:
        return COST.get(name, 0)
    return COST.get(f"{name}::{item.name}", COST.get(f"{name}::{getattr(item, 'originalname', item.name)}", 0))


def pytest_collection_modifyitems(session, config, items):
    """Longest units first (see COST); the usual order otherwise, and inside a module."""
    order = {id(item): n for n, item in enumerate(items)}
    items.sort(key=lambda item: (-_cost(item), order[id(item)]))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Units of MeasurekitScheduling for the default distribution (-n without --dist, or --dist load)."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class MeasurekitScheduling(LoadScopeScheduling):
        """xdist's loadscope scheduler with the units of ``_unit``, handed out in collection order (no reordering
        by size: the collection is already sorted longest first)."""

        def __init__(self, config, log=None):
            super().__init__(config, log)
            config.option.loadscopereorder = False

        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    return MeasurekitScheduling(config, log)


# ---------------------------------------------------------------- CPU seconds per test (for COST above)
# MEASUREKIT_TEST_CPU=FILE: each test process appends one line per test to FILE: nodeid, its worker, the CPU seconds
# of its setup, call and teardown in the test process and in the subprocesses that ended meanwhile (kernels,
# browsers, `python -m measurekit`), and the wall seconds. A tab-separated file; several workers append to it.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    path = os.environ.get("MEASUREKIT_TEST_CPU")
    if not path:
        yield
        return
    import resource
    import time

    def cpu() -> float:
        return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                      resource.getrusage(resource.RUSAGE_CHILDREN)))

    start, wall = cpu(), time.monotonic()
    yield
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{item.nodeid}\t{worker}\t{cpu() - start:.2f}\t{time.monotonic() - wall:.2f}\n")


# ---------------------------------------------------------------- jobs started in the background (issue 30)
# A job a module's fixtures need that mostly waits (the wheel's build and install: the package index, pip) starts as
# soon as the session's collection holds a test of that module, in the xdist controller (or the one pytest process
# without xdist), so its waiting overlaps other tests; the fixture waits for its result (background_job). The
# command is ``python <module> FOLDER``: the module itself does the job (tests/test_wheel.py prepare), the same
# steps its fixtures do when no job was started; output in FOLDER/log, the exit code in FOLDER/returncode once it
# has ended. A job still running when the session ends is stopped (its process group).
BACKGROUND = {"wheel": "tests/test_wheel.py"}
_STARTED: dict = {}


def _job_folder(config, name: str) -> Path:
    return Path(config._tmp_path_factory.getbasetemp()) / f"background_{name}"


def _start_jobs(config, nodeids) -> None:
    import subprocess
    import threading

    if config.option.collectonly:
        return
    for name, module in BACKGROUND.items():
        if name in _STARTED or not any(i.split("::", 1)[0] == module for i in nodeids):
            continue
        folder = _job_folder(config, name)
        folder.mkdir()
        with open(folder / "log", "wb") as log:
            proc = subprocess.Popen([sys.executable, str(ROOT / module), str(folder)], cwd=folder, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        _STARTED[name] = proc

        def reap(proc=proc, folder=folder):
            code = proc.wait()
            (folder / "returncode.partial").write_text(str(code))
            os.replace(folder / "returncode.partial", folder / "returncode")

        threading.Thread(target=reap, daemon=True, name=f"measurekit-{name}-job").start()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """The xdist controller tells each worker where its background jobs' folders are."""
    for name in BACKGROUND:
        node.workerinput[f"measurekit_job_{name}"] = str(_job_folder(node.config, name))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    _start_jobs(node.config, ids)


def pytest_collection_finish(session):
    if not hasattr(session.config, "workerinput"):        # a worker's collection: the controller starts the jobs
        _start_jobs(session.config, [item.nodeid for item in session.items])


def pytest_unconfigure(config):
    import signal
    import subprocess

    for proc in _STARTED.values():
        if proc.poll() is None:
            try:
                if hasattr(os, "killpg"):
                    os.killpg(proc.pid, signal.SIGTERM)
                else:
                    proc.terminate()
                proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()


@dataclass(frozen=True)
class JobOutcome:
    finished: bool
    reason: str


@dataclass(frozen=True)
class BackgroundJob:
    folder: Path

    def wait(self, timeout: float = 2700.0) -> JobOutcome:
        """Until the job has ended (its exit code written), at most ``timeout`` seconds."""
        import time

        end = time.monotonic() + timeout
        while not (self.folder / "returncode").is_file():
            if time.monotonic() > end:
                return JobOutcome(False, f"the background job gave no result in {timeout:.0f} s")
            time.sleep(0.2)
        code = (self.folder / "returncode").read_text().strip()
        return JobOutcome(True, f"the background job ended with exit code {code} without a result")

    def log(self) -> str:
        path = self.folder / "log"
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else "(no log)"


def background_job(config, name: str) -> BackgroundJob | None:
    """The background job ``name`` of this session (see BACKGROUND), or None when none was started (then the
    fixture does the work itself)."""
    if hasattr(config, "workerinput"):
        folder = config.workerinput.get(f"measurekit_job_{name}")
        folder = Path(folder) if folder else None
    else:
        folder = _job_folder(config, name) if name in _STARTED else None
    return BackgroundJob(folder) if folder is not None and folder.is_dir() else None
