"""The main job: one run of the whole trial on a folder of data.

    read + validate inputs (once) -> link survey to records -> score voice domains (once)
    -> reliability and structure -> fairness (invariance, DIF) -> added value and coverage
    -> board pack (shareable) -> trial report (internal)

``run()`` is what ``measurekit run`` and ``python3 tasks.py demo`` call. Each step is timed and
printed; the steps share one typed ``RunState`` (``pipeline/state.py``). The output folder is
replaced only when the whole run has succeeded. Inputs with errors stop the run before any
analysis, with the validation report written beside the output folder (``OUT.failed/validation_report.csv``),
the previous output left as it was; analysis that the data cannot support is skipped with the reason, and the rest
runs.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from measurekit.core import paths
from measurekit.pipeline.state import Inputs, RunState, StepLog, ready
from measurekit.problems import InputError

FAILED_README = """\
INTERNAL: DO NOT SHARE

The last run into {out} stopped because its input files have errors; validation_report.csv lists every problem
(file, row, column, value, rule). Nothing was analysed and {out} still holds the last complete run, unchanged.
This folder is replaced by the next failed run.
"""


def failed_folder(out: Path) -> Path:
    """Where a run that stopped on invalid inputs writes its problems: beside ``out``, never inside it."""
    out = Path(out)
    return out.with_name(out.name + ".failed")


class RunStopped(InputError):
    """The inputs have errors: nothing was analysed. ``report_path`` is where the full report is."""

    def __init__(self, report, report_path: Path):
        super().__init__(report)
        self.report_path = report_path


def _cpu_now() -> float:
    """CPU seconds (user + system) of this process and of its finished worker processes."""
    try:
        import resource
    except ImportError:                                  # pragma: no cover - Windows: no worker processes anyway
        return time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def profile_report(profiler, steps: list[StepLog], total: float, top: int = 15) -> str:
    """Where a profiled run's time went: each step's wall time, its CPU time (on a busy machine the wall time
    includes waiting for a core; the CPU time does not) and its share of the run's wall time, then the ``top``
    functions by cumulative time (measurekit's own first, then any) and by own time (``cProfile``; times include
    its overhead, so read them as shares)."""
    import io
    import pstats

    lines = ["", "Profile (wall and CPU time per step, share of the wall time; cProfile adds overhead, "
                 "compare shares):"]
    for s in sorted(steps, key=lambda s: -s.seconds):
        cpu = f"{s.cpu:7.2f} s CPU" if s.cpu is not None else " " * 13
        lines.append(f"  {s.seconds:7.2f} s  {cpu}  {100 * s.seconds / max(total, 1e-9):5.1f}%  {s.name}")
    for title, key, pattern in (("measurekit functions by cumulative time", "cumulative", "measurekit"),
                                ("all functions by own time", "tottime", "")):
        buf = io.StringIO()
        stats = pstats.Stats(profiler, stream=buf).sort_stats(key)
        stats.print_stats(pattern, top) if pattern else stats.print_stats(top)
        body = buf.getvalue().splitlines()
        head = next((i for i, line in enumerate(body) if line.lstrip().startswith("ncalls")), 0)
        lines += ["", f"Top {top} {title}:"] + [line for line in body[head:] if line.strip()]
    return "\n".join(lines)


def _run_steps(state: RunState, log, parallel: bool) -> None:
    """Run ``steps.STEPS`` in order. With ``parallel``, each step marked ``apart`` starts in a worker process of its
    own (``pipeline/workers.py``), the steps marked ``beside`` run meanwhile, then the early parts of the steps
    after them (``Step.early``), and the workers are collected, in step order, before any other step; without,
    every step runs here, one after the other (the early parts at the same place). The same numbers either way."""
    from measurekit.pipeline import steps, workers
    from measurekit.pipeline.state import StepLog
    from measurekit.pipeline.workers import timed

    pending: list[workers.Pending] = []
    # step name -> its early part's log, added to the step's own; None until the early parts have run
    early: dict[str, StepLog] | None = None
    seen_apart = False
    try:
        for i, step in enumerate(steps.STEPS):
            if step.applies is not None and not step.applies(state):
                continue     # a step for another kind of framework (e.g. two perspectives): not part of this run
            if seen_apart and early is None and not (step.apart or step.beside):
                early = _run_early(state, steps.STEPS[i:], log, len(pending))
            if pending and not (step.apart or step.beside):
                while pending:
                    workers.collect(state, pending[0], log)
                    pending.pop(0)        # only once collected: a failure or an interrupt stops every worker left
            missing = [part for part in step.needs if getattr(state, part) is None]
            if missing:
                state.skip(step.name, f"needs {', '.join(missing)}, which could not be produced")
                log(f"-> {step.name}: skipped (needs {', '.join(missing)})")
                continue
            seen_apart = seen_apart or step.apart
            if parallel and step.apart:
                pending.append(workers.start(state, step))
                continue
            timed(state, step.name, step.func, log,
                   f"beside {len(pending)} worker process{'es' if len(pending) > 1 else ''}" if pending else "")
            if early and step.name in early:  # the step's whole time: its early part and the rest
                first, rest = early[step.name], state.steps[-1]
                state.steps[-1] = StepLog(step.name, first.seconds + rest.seconds, rest.note,
                                          cpu=None if first.cpu is None or rest.cpu is None else first.cpu + rest.cpu)
        while pending:
            workers.collect(state, pending[0], log)
            pending.pop(0)
    finally:
        workers.stop(pending)
    order = {s.name: i for i, s in enumerate(steps.STEPS)}
    state.steps.sort(key=lambda s: order.get(s.name, -1))       # the order of STEPS, however they overlapped
    state.skipped.sort(key=lambda s: order.get(s.step, -1))


def _run_early(state: RunState, later, log, n_workers: int) -> dict:
    """The early parts (``Step.early``) of the steps ``later`` that are part of this run and whose needs are met,
    here and now (beside ``n_workers`` worker processes), each logged on the console as a step of its own; returns
    step name -> the early part's :class:`StepLog` (the step's own log adds it)."""
    from measurekit.pipeline.workers import timed

    done = {}
    for step in later:
        if step.early is None or (step.applies is not None and not step.applies(state)) \
                or any(getattr(state, part) is None for part in step.needs):
            continue
        where = f"beside {n_workers} worker process{'es' if n_workers > 1 else ''}" if n_workers else ""
        n = len(state.steps)
        timed(state, f"{step.name}: early part", step.early, log, where)
        done[step.name] = state.steps.pop(n)
    return done


_profiled = False     # True while ``run(profile=True)`` runs: every step in this process, where cProfile sees it


def run(data: Path | str | None = None, *, framework=None, out: Path | str = Path("out"),
        config: Path | str | None = None, log: Callable[[str], None] = print,
        trial_sample: int | str = "auto", profile: bool = False, ledger: Path | str | None = None,
        period: str | None = None) -> RunState:
    """Run the whole trial. Returns the run state with every result; writes everything under ``out``:
    ``out/shareable`` (the board pack) and ``out/internal`` (analyst material, not to be shared).

    ``data``: the folder of input files (None: the bundled synthetic cohort, the demo). ``framework``: the folder of
    the framework the data were collected with, or a shipped framework's name; it may be left out only with the
    bundled demo data (see ``measurekit.design.choose``). ``trial_sample``: how many respondents the trial analyses
    (reliability, fairness, added value, evidence) use: "auto" (default: every one up to 20,000, else a random
    sample of 20,000, said in the console and the report), "all", or a number. Linkage, coverage and the board pack
    use every child.

    Inputs with errors raise ``RunStopped`` before any analysis: the previous output folder is left as it was, and
    the validation report goes to its own folder beside it, ``<out>.failed/`` (``RunStopped.report_path``).

    ``profile=True`` (``measurekit run --profile``) runs under ``cProfile`` and logs ``profile_report`` at the end.

    ``ledger`` (``--ledger DIR``; default none): the release ledger (``measurekit.publish.ledger``). The board
    pack is audited jointly with the earlier releases recorded there, and recorded there once the whole output
    folder is in place. A ledger inside ``out`` is refused (``ledger_in_shareable``) before anything runs.

    A data folder of several academic years (one subfolder per year, ``data/periods.py``): every period is read and
    validated (errors in any period, or across periods, stop the run as one year's do); the one-year analyses
    (linkage, scores, reliability, fairness, added value, evidence, trial report) use ``period`` (``2024/25``;
    default: the latest), said in the console and the internal README; ``internal/over_time`` holds the statistics
    over every period (as ``measurekit over-time``) and ``shareable/board_pack`` the board pack of every period (as
    ``measurekit board-pack`` on the folder, with the chosen period's measurement evidence on the specification
    sheets). ``period`` with a one-year folder is refused (``period_option_one_year``)."""
    if profile:
        import cProfile

        global _profiled
        profiler = cProfile.Profile()
        start = time.perf_counter()
        _profiled = True
        try:
            state = profiler.runcall(run, data, framework=framework, out=out, config=config, log=log,
                                     trial_sample=trial_sample, ledger=ledger, period=period)
        finally:
            profiler.disable()
            _profiled = False
        log(profile_report(profiler, state.steps, time.perf_counter() - start))
        return state
    from measurekit.core import atomic
    from measurekit.data.periods import is_period_folder
    from measurekit.design.choose import framework_path
    from measurekit.pipeline import steps, workers
    from measurekit.pipeline.workers import timed

    data_dir = Path(data) if data is not None else paths.bundled_data()
    several = is_period_folder(data_dir)
    if period is not None and not several:
        raise InputError.of("period_option_one_year", f"--period {period}: picks one academic year of a data folder "
                            f"that holds one subfolder per year; {str(data_dir)!r} holds the files of one year.",
                            column="--period", value=str(period),
                            rule="--period only with a folder of academic years")
    if period is not None:      # a year the folder does not hold is refused before anything is read
        from measurekit.data.periods import period_label

        named = {period_label(e.name): e for e in data_dir.iterdir() if e.is_dir()}
        steps.chosen_period(period, dict(sorted((k, v) for k, v in named.items() if k is not None)), data_dir)
    if ledger is not None:
        from measurekit.publish.board_pack import open_ledger

        open_ledger(ledger, out)       # refused before anything runs when it lies inside the output folder
    inputs = Inputs(data_dir, framework_path(framework, data=data), Path(out), Path(config) if config else None,
                    trial_sample, Path(ledger) if ledger is not None else None, period)
    total_start, cpu_start = time.perf_counter(), _cpu_now()
    log(f"measurekit run: data {inputs.data_dir}, framework {inputs.framework_dir}")
    state = RunState(inputs=inputs, work=inputs.out, cpu_at_start=workers.cpu_sample())
    timed(state, "Read and validate inputs" + (" (every period)" if several else ""),
           steps.read_period_inputs if several else steps.read_inputs, log)
    validation = ready(state.validation, "validation report")
    if not validation.ok:
        # Stop before any analysis; an earlier complete output folder is left byte for byte as it was.
        failed = failed_folder(inputs.out)
        with atomic.atomic_directory(failed) as work:
            atomic.write_csv(work / "validation_report.csv", validation.to_frame())
            atomic.write_text(work / "README.txt", FAILED_README.format(out=inputs.out))
        raise RunStopped(validation, failed / "validation_report.csv")
    if state.periods is not None:
        labels = state.periods.labels
        log(f"   {len(labels)} academic years ({', '.join(labels)}): the one-year analyses use {inputs.period}"
            + (" (the latest; --period picks another)" if inputs.period == labels[-1] else " (--period)")
            + "; the over-time statistics and the board pack use every period")
    with atomic.atomic_directory(inputs.out) as work:
        state.work = work
        state.core_idle = workers.idle_core(state.cpu_at_start)
        _run_steps(state, log, parallel=workers.wanted(state.core_idle) and not _profiled)
    if inputs.ledger is not None and state.board is not None:
        from measurekit.publish.board_pack import record_release

        folder = record_release(state.board.board_table, inputs.ledger)
        log(f"Recorded the board pack in the release ledger: {folder}")
    total = time.perf_counter() - total_start
    if state.skipped:
        log("\nSkipped on these data (see the trial report):")
        for s in state.skipped:
            log(f"  {s.step}: {s.reason}")
    log(f"\nFinished in {total:.1f} s (CPU {_cpu_now() - cpu_start:.1f} s, workers included). "
        f"Outputs in {inputs.out.resolve()}:")
    for label, rel in state.files.items():
        log(f"  {label:<40} {inputs.out / rel}")
    return state
