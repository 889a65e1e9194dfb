"""pipeline/workers.py: steps run in worker processes give the same files as the same steps run one after the other,
and what a worker makes, skips, registers, warns or raises reaches the main process."""
from __future__ import annotations

import filecmp
import os
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

from measurekit.pipeline import workers
from measurekit.pipeline.state import Inputs, Measurement, RunState
from measurekit.pipeline.steps import STEPS, Step
from measurekit.problems import InputError

needs_workers = pytest.mark.skipif(not workers.possible(), reason="no worker processes here (not Linux, or one core)")


def _state(tmp_path) -> RunState:
    return RunState(inputs=Inputs(tmp_path, tmp_path, tmp_path), work=tmp_path)


def _makes_measurement(state: RunState) -> str:
    state.measurement = Measurement(reliability=pd.DataFrame({"domain": ["a"], "raw_alpha": [0.8125]}))
    state.skip("Made apart", "part two: too few answers")
    state.files["made apart (internal)"] = Path("internal/apart.csv")
    warnings.warn("a warning raised in the worker", UserWarning)
    return "made"


def _fails(state: RunState) -> str:
    raise InputError.of("too_few_cases", "Only 3 answers in the worker's step.", column="sv1")


@needs_workers
def test_what_a_worker_makes_reaches_the_main_process(tmp_path):
    import os

    state = _state(tmp_path)
    step = Step("Made apart", _makes_measurement, apart=True, makes=("measurement",))
    pending = workers.start(state, step)
    assert pending.process.pid != os.getpid()
    assert state.measurement is None                      # made in the worker's copy only, until collected
    lines: list[str] = []
    with pytest.warns(UserWarning, match="raised in the worker"):
        workers.collect(state, pending, lines.append)
    assert state.measurement.reliability["raw_alpha"].tolist() == [0.8125]
    assert [(s.step, s.reason) for s in state.skipped] == [("Made apart", "part two: too few answers")]
    assert state.files == {"made apart (internal)": Path("internal/apart.csv")}
    assert [s.name for s in state.steps] == ["Made apart"] and state.steps[0].note == "made"
    assert lines[0] == "-> Made apart ..." and "in a worker process" in lines[1] and lines[1].endswith("(made)")
    assert not pending.process.is_alive()


@needs_workers
def test_an_error_in_a_worker_is_raised_in_the_main_process(tmp_path):
    state = _state(tmp_path)
    pending = workers.start(state, Step("Fails apart", _fails, apart=True))
    with pytest.raises(InputError, match="Only 3 answers") as info:
        workers.collect(state, pending, lambda *_: None)
    assert info.value.report.errors[0].column == "sv1"     # the problem itself, not only its text
    assert any("in the worker process of the step 'Fails apart'" in note for note in info.value.__notes__)


def _makes_a_closure(state: RunState) -> str:
    rows = len(state.skipped)
    state.measurement = lambda: rows            # a local function: it cannot be pickled back from a worker
    return f"made after {rows} skips"


@needs_workers
def test_a_result_that_cannot_be_sent_back_is_made_again_here(tmp_path):
    state = _state(tmp_path)
    state.skip("Earlier", "a reason")
    pending = workers.start(state, Step("Closure apart", _makes_a_closure, apart=True, makes=("measurement",)))
    lines: list[str] = []
    workers.collect(state, pending, lines.append)
    assert any("could not be sent back" in line and "running it here" in line for line in lines)
    assert state.measurement() == 1 and [s.name for s in state.steps] == ["Closure apart"]
    assert state.steps[0].where == "" and state.steps[0].note == "made after 1 skips"


def _records_priority(state: RunState) -> str:
    state.measurement = os.nice(0)              # this process's niceness, sent back
    return "recorded"


@needs_workers
def test_a_worker_runs_at_a_lower_priority_than_the_main_process_when_a_core_is_idle(tmp_path, monkeypatch):
    """The main process keeps the longest chain (board table, then the early parts) while the workers run: with a
    core idle they give way to it (``workers.NICE`` steps lower); on a busy machine they keep its priority, so other
    work does not hold them back. The main process's own priority is left as it was."""
    mine = os.nice(0)
    seen = {}
    for idle in (True, False):
        monkeypatch.setattr(workers, "idle_core", lambda idle=idle: idle)
        state = _state(tmp_path)
        pending = workers.start(state, Step("Priority apart", _records_priority, apart=True, makes=("measurement",)))
        workers.collect(state, pending, lambda *_: None)
        seen[idle] = state.measurement
    assert workers.NICE >= 5
    assert seen == {True: min(mine + workers.NICE, 19), False: mine} and os.nice(0) == mine


def test_workers_are_used_only_with_an_idle_core(monkeypatch):
    monkeypatch.setattr(workers, "possible", lambda: True)
    monkeypatch.setattr(workers, "available_cores", lambda: 2)
    for setting, load, used in (("1", 0.0, False), ("off", 0.0, False), ("0", 0.0, False), ("on", 9.0, True),
                                ("auto", 0.5, True), ("", 1.0, True), ("auto", 1.2, False), ("auto", 8.0, False)):
        monkeypatch.setenv(workers.ENV, setting)
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert workers.wanted() is used, (setting, load)
    monkeypatch.setattr(workers, "possible", lambda: False)
    monkeypatch.setenv(workers.ENV, "on")
    assert not workers.wanted()


def test_an_idle_core_is_measured_over_the_run_not_the_last_minute(monkeypatch):
    """Other processes' CPU time on this process's cores over the run so far decides (all busy time less the run's
    own): a benchmark's earlier repeats still in the one-minute load average do not make a quiet machine busy."""
    monkeypatch.setattr(workers, "available_cores", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.3, 1.3, 1.3))       # "busy" by the load average
    start = (100.0, 5.0, 50.0)
    # 1 s of run: the machine busy 1.1 s, 0.95 of it this process: others 0.15 of a core -> idle
    assert workers.idle_core(start, (101.1, 5.95, 51.0))
    # others 0.7 of a core over 2 s -> not idle; the load average is not asked
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert not workers.idle_core(start, (103.4, 7.0, 52.0))
    # too short a run to measure: the load average decides
    assert workers.idle_core(start, (100.1, 5.05, 50.1))
    monkeypatch.setattr(os, "getloadavg", lambda: (1.3, 1.3, 1.3))
    assert not workers.idle_core(start, (100.1, 5.05, 50.1))
    # the sample itself: busy time since boot grows, this process's CPU time is its own
    a, b = workers.cpu_sample(), None
    sum(i * i for i in range(200_000))
    b = workers.cpu_sample()
    if a is not None:
        assert b[0] >= a[0] and b[1] > a[1] and b[2] > a[2]


def test_apart_steps_read_only_what_earlier_steps_make():
    """A step marked apart or beside may come only after the steps making what it needs, and the steps after the
    apart ones that are not beside them wait (the runner's rule); the steps apart make disjoint parts."""
    made: list[str] = []
    for step in STEPS:
        if step.apart:
            assert step.makes and not set(step.makes) & set(made), step.name
            made += step.makes
    assert [s.name for s in STEPS if s.beside] == ["Board table", "Two perspectives"]


@needs_workers
def test_the_run_with_workers_writes_what_the_run_without_writes(bundled_run, tmp_path, monkeypatch):
    """The bundled job with worker processes (MEASUREKIT_WORKERS=on) writes the same files, byte for byte, as with
    every step in one process (the shared run, bundled_run, which conftest makes with MEASUREKIT_WORKERS=1; were it
    ever made with workers, a run with MEASUREKIT_WORKERS=1 here): the workbook's zip parts apart from its creation
    time, the trial report apart from the step times."""
    import zipfile

    from measurekit.core import paths
    from measurekit.pipeline.run import run

    apart = {s.name for s in STEPS if s.apart}

    def in_workers(state):
        return {s.name for s in state.steps if s.where == "in a worker process"}

    def run_with(setting, out):
        monkeypatch.setenv(workers.ENV, setting)
        lines: list[str] = []
        state = run(bundled_run.data, framework=paths.BUNDLED_FRAMEWORK, out=out, log=lines.append)
        return state, lines

    state, lines = run_with("on", tmp_path / "on")
    assert in_workers(state) == apart and any("(CPU" in ln and "in a worker process" in ln for ln in lines)
    # the board pack's files that need no analysis result are drafted beside the workers; one step in the log
    early = lines.index("-> Board pack: early part ...")
    assert "beside 3 worker processes" in lines[early + 1] and lines.index("-> Added value ...") > early
    assert [s.name for s in state.steps].count("Board pack") == 1 and state.pack_draft is None
    assert not list((tmp_path / "on").rglob(".board_pack.draft*"))
    if not in_workers(bundled_run.state):
        single, a = bundled_run.state, bundled_run.out
    else:
        single, lines = run_with("1", tmp_path / "off")
        a = tmp_path / "off"
        assert not any("worker process" in line for line in lines)
    assert not any(s.where for s in single.steps)
    assert [s.name for s in state.steps] == [s.name for s in single.steps]
    b = tmp_path / "on"
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    names = "|".join(re.escape(n) for n in ["Read and validate inputs", *(s.name for s in STEPS)])
    times = re.compile(rf"<tr><td class='text'>(?:{names})</td><td>[\d.]+</td></tr>")
    for rel in files_a:
        if rel.suffix == ".xlsx":
            with zipfile.ZipFile(a / rel) as za, zipfile.ZipFile(b / rel) as zb:
                assert za.namelist() == zb.namelist()
                for name in za.namelist():
                    if name != "docProps/core.xml":
                        assert za.read(name) == zb.read(name), (rel, name)
        elif rel.name == "trial_report.html":
            ta, tb = ((p / rel).read_text(encoding="utf-8") for p in (a, b))
            assert times.sub("", ta) == times.sub("", tb)
        else:
            assert filecmp.cmp(a / rel, b / rel, shallow=False), rel
