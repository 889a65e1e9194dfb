"""Steps of the main job run in processes of their own, beside the main process (two cores: about half the wall time
of the analysis steps).

A step marked ``apart`` (``pipeline/steps.py``) reads only what the steps before it made and fills in only the parts
it ``makes``; it runs in a forked copy of the main process (the run state, the imported modules and the data are
shared copy-on-write, nothing is pickled on the way in) and sends back those parts, its ``skipped`` entries, the
files it registered, its step log and the warnings it raised. The main process goes on with the steps marked
``beside`` and collects the apart steps, in the order of ``STEPS``, before any other step. Every step computes
exactly what it computes in the main process (the same functions, data and seeds), so the numbers are the same to
the last digit: tests/test_workers.py compares every file of a run with and without workers.

Workers are used only where forking is safe and helps: Linux (``fork``), at least two CPU cores available to the
process, not inside a daemonic process, not under ``--profile`` (cProfile sees one process), and only when at least
one core is idle (measured over the run so far, see :func:`idle_core`): on a machine whose cores are already
busy the workers cannot run beside the main process, and forking, copying pages and sending results back cost about
0.7 s of CPU (measured on this project's shared 2-core machine at load 7-10: wall 22 s with workers against 16 s
without). ``MEASUREKIT_WORKERS``: ``auto`` (default, the rule above), ``on`` (whenever forking is possible, whatever
the load; what tests/test_workers.py uses), ``0``, ``1`` or ``off`` (never). Without workers the steps run one after
the other, as before. When a core is idle, workers run at a lower scheduling priority than the main process
(``NICE``), which holds the longest chain of work meanwhile (see ``_lower_priority``).
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from measurekit.pipeline.state import RunState, StepLog

ENV = "MEASUREKIT_WORKERS"      # "auto" (default), "on", or "0" / "1" / "off": see the module notes


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):          # pragma: no cover - not Linux
        return os.cpu_count() or 1


def possible() -> bool:
    """Whether worker processes can be forked here at all (Linux, fork, two cores or more, not a daemon)."""
    if not sys.platform.startswith("linux") or available_cores() < 2:
        return False
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def timed(state: RunState, name: str, func: Callable[[RunState], str], log, where: str = "") -> None:
    """Run one step here, logging its start and its wall and CPU time (``state.steps``); ``where`` says beside what."""
    log(f"-> {name} ...")
    start, cpu_start = time.perf_counter(), time.process_time()
    note = func(state) or ""
    state.steps.append(StepLog(name, time.perf_counter() - start, note, cpu=time.process_time() - cpu_start,
                               where=where))
    log(state.steps[-1].done_line())


def wanted(idle: bool | None = None) -> bool:
    """Whether apart steps run in worker processes in this run (see the module notes); ``idle``: the run's
    :func:`idle_core` decision (worked out here when not given)."""
    setting = os.environ.get(ENV, "auto").strip().lower() or "auto"
    if setting in ("0", "1", "off", "no", "false") or not possible():
        return False
    if setting in ("on", "yes", "true"):
        return True
    return idle_core() if idle is None else idle


def cpu_sample() -> tuple[float, float, float] | None:
    """Now: (seconds the cores this process may run on have been busy since boot, by every process; this process's
    own CPU seconds; a wall clock), from ``/proc/stat``; None where there is no ``/proc/stat``."""
    try:
        with open("/proc/stat") as f:
            lines = [line.split() for line in f if line.startswith("cpu") and line[3:4].isdigit()]
        mine = {f"cpu{c}" for c in os.sched_getaffinity(0)}
    except (OSError, AttributeError):                 # pragma: no cover - not Linux
        return None
    busy = 0
    for name, *ticks in lines:
        if name in mine:
            t = [int(x) for x in ticks[:8]]           # user nice system idle iowait irq softirq steal
            busy += sum(t) - t[3] - (t[4] if len(t) > 4 else 0)
    return busy / os.sysconf("SC_CLK_TCK"), time.process_time(), time.perf_counter()


# how long the run must have gone on before its own measure of the machine is trusted (seconds)
MEASURE_FOR = 0.3


def idle_core(since: tuple[float, float, float] | None = None,
              now: tuple[float, float, float] | None = None) -> bool:
    """Whether a core is idle for the workers.

    Measured where it can be: from ``since`` (a :func:`cpu_sample` taken when the run started, at least
    ``MEASURE_FOR`` seconds ago) to ``now``, the CPU time other processes took on this process's cores (all their
    busy time less this process's own), per second: a core is idle when that leaves at least half a core free
    beside the one this run holds. This sees the machine as it is during the run: the one-minute load average
    still counts a run that ended seconds ago (an analyst re-running the job, a benchmark's repeats) and said
    "busy" on a quiet machine. Otherwise (no ``/proc/stat``, or too short a run so far): the one-minute load
    average at least one below the cores."""
    now = now if now is not None or since is None else cpu_sample()
    if since is not None and now is not None and now[2] - since[2] >= MEASURE_FOR:
        others = max(0.0, (now[0] - since[0]) - (now[1] - since[1])) / (now[2] - since[2])
        return available_cores() - 1 - others >= 0.5
    try:
        load = os.getloadavg()[0]
    except OSError:                                   # pragma: no cover - no load average: assume busy
        return False
    return available_cores() - load >= 1.0


def _get(obj: Any, path: str) -> Any:
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


def _set(obj: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for name in parents:
        obj = getattr(obj, name)
    setattr(obj, last, value)


@dataclass
class Outcome:
    """What an apart step sends back to the main process."""

    parts: dict[str, Any]
    skipped: list
    files: dict
    log: StepLog
    warnings: list = field(default_factory=list)


NICE = int(os.environ.get("MEASUREKIT_WORKER_NICE", "5"))   # how much lower a worker's scheduling priority is


def _lower_priority(nice: int) -> None:
    """Give this worker a lower scheduling priority than the main process (``nice`` steps: ``NICE``, or 0 when the
    machine has no idle core; an experiment can set ``MEASUREKIT_WORKER_NICE``, 0 for none). The main process
    holds the longest chain of work while the workers run (the board table, then the early parts: about 2.8 s of
    CPU on the bundled cohort against 0.6, 1.0 and 1.4 s for the three workers); with equal priorities four
    processes on two cores each get half a core, so the main process finishes last, long after the workers (about
    3.5 s). One step lower would not do: the system balances the cores by weight, and at ``nice 5`` the three
    workers together weigh about as much as the main process, which then keeps a core to itself while they share
    the other (about 3 s). A worker alone on a core still runs at full speed: priority only orders who waits. On a
    machine whose cores are busy with other work (``MEASUREKIT_WORKERS=on`` there) the workers keep the main
    process's priority, so that other work does not hold them back."""
    try:
        os.nice(nice)
    except OSError:                                   # pragma: no cover - not allowed here: equal priority
        pass


def _child(state: RunState, step, conn, nice: int = 0) -> None:
    """In the worker: run ``step`` on the forked state (``nice`` steps below the main process's priority) and send
    back its :class:`Outcome` (or the exception)."""
    import warnings

    os.environ["MEASUREKIT_NO_PROGRESS"] = "1"      # no progress bars drawn over the main process's console
    if nice:
        _lower_priority(nice)
    try:
        n_skipped, files = len(state.skipped), dict(state.files)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            start, cpu = time.perf_counter(), time.process_time()
            note = step.func(state) or ""
            log = StepLog(step.name, time.perf_counter() - start, note, cpu=time.process_time() - cpu,
                          where="in a worker process")
        new_files = {k: v for k, v in state.files.items() if files.get(k) != v}
        said = [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
        outcome = Outcome({p: _get(state, p) for p in step.makes}, state.skipped[n_skipped:], new_files, log, said)
        try:
            from multiprocessing.reduction import ForkingPickler

            message = bytes(ForkingPickler.dumps(("ok", outcome)))
        except Exception as exc:                          # a result that cannot be pickled: the main process reruns
            conn.send(("rerun", f"{type(exc).__name__}: {exc}"))
        else:
            conn.send_bytes(message)
    except BaseException as exc:                          # noqa: BLE001 - every failure goes back to the main process
        import traceback

        text = traceback.format_exc()
        try:
            conn.send(("error", exc, text))
        except Exception:                                 # an exception that cannot be pickled: its text
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}"), text))
    finally:
        conn.close()


@dataclass
class Pending:
    step: Any
    process: Any
    conn: Any


def start(state: RunState, step) -> Pending:
    """Fork a worker running ``step`` on a copy of ``state``. Before the first fork, the modules that every
    analysis step and the board table use (scipy.optimize, which brings scipy.linalg, sparse and special) are
    imported here once: a worker inherits what is imported before it is forked, so they are not imported again in
    each process (about half a second of CPU each)."""
    import multiprocessing

    import scipy.optimize  # noqa: F401

    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    idle = state.core_idle if state.core_idle is not None else idle_core()
    nice = NICE if NICE > 0 and idle else 0
    process = ctx.Process(target=_child, args=(state, step, send, nice), name=f"measurekit: {step.name}",
                          daemon=True)
    process.start()
    send.close()
    return Pending(step, process, receive)


def collect(state: RunState, pending: Pending, log) -> None:
    """Wait for a worker and put what its step made into ``state``, as if the step had run here; re-raise its
    exception (with the worker's traceback as a note) when it failed."""
    import warnings

    step = pending.step
    try:
        kind, *rest = pending.conn.recv()
    except EOFError:
        pending.process.join()
        raise RuntimeError(f"the worker process of the step {step.name!r} stopped without a result (exit code "
                           f"{pending.process.exitcode}); run with {ENV}=1 to run every step in one process") from None
    finally:
        pending.conn.close()
    pending.process.join()
    if kind == "error":
        exc, text = rest
        exc.add_note(f"(in the worker process of the step {step.name!r}:)\n{text}")
        raise exc
    if kind == "rerun":
        # its result could not be sent back (an object that does not pickle): run the step here, with the same
        # data and seeds, so the same numbers; its files are written again, the same bytes

        log(f"   ({step.name}: the worker's result could not be sent back ({rest[0]}); running it here)")
        timed(state, step.name, step.func, log)
        return
    out: Outcome = rest[0]
    for path, value in out.parts.items():
        _set(state, path, value)
    state.skipped.extend(out.skipped)
    state.files.update(out.files)
    state.steps.append(out.log)
    for message, category, filename, lineno in out.warnings:
        warnings.warn_explicit(message, category, filename, lineno)
    log(f"-> {step.name} ...")
    log(out.log.done_line())


def stop(pending: list[Pending]) -> None:
    """End the workers still running (the run failed or was interrupted)."""
    for p in pending:
        if p.process.is_alive():
            p.process.terminate()
        p.process.join()
        p.conn.close()             # closing twice is allowed
