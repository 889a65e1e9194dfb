"""The main job: one run of the whole trial on a folder of data.

validate -> link -> score -> reliability and structure -> fairness (invariance, DIF)
-> added value and coverage -> board pack -> trial report.

``run()`` is what ``measurekit run`` and ``python3 tasks.py demo`` call. Each step is timed
and printed; the output folder is replaced only when the whole run has succeeded.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from measurekit.core import paths


@dataclass
class StepLog:
    name: str
    seconds: float
    note: str = ""


@dataclass
class RunContext:
    """What the steps share: inputs, intermediate results and the report being built."""

    data_dir: Path
    framework_dir: Path
    work: Path
    config: Path | None = None
    results: dict[str, Any] = field(default_factory=dict)
    steps: list[StepLog] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)


def _timed(ctx: RunContext, name: str, func: Callable[[RunContext], str | None], log) -> None:
    log(f"-> {name} ...")
    start = time.perf_counter()
    note = func(ctx) or ""
    elapsed = time.perf_counter() - start
    ctx.steps.append(StepLog(name, elapsed, note))
    log(f"   done in {elapsed:.1f} s{'  (' + note + ')' if note else ''}")


def run(data_dir: Path | None = None, framework_dir: Path | None = None, out: Path = Path("out"),
        config: Path | None = None, log: Callable[[str], None] = print) -> RunContext:
    """Run the whole trial. Returns the context with every result; writes everything under ``out``."""
    from measurekit.core import atomic
    from measurekit.pipeline import steps

    data_dir = Path(data_dir or paths.BUNDLED_DATA)
    framework_dir = Path(framework_dir or paths.BUNDLED_FRAMEWORK)
    out = Path(out)
    total_start = time.perf_counter()
    log(f"measurekit run: data {data_dir}, framework {framework_dir}")
    # Validation first, outside the atomic folder: a failed validation writes its report beside
    # the output folder and leaves any earlier complete output untouched.
    ctx = RunContext(data_dir=data_dir, framework_dir=framework_dir, work=out, config=config)
    _timed(ctx, "Validate inputs", lambda c: steps.validate(c, out), log)
    with atomic.atomic_directory(out) as work:
        ctx.work = work
        for name, func in steps.STEPS:
            _timed(ctx, name, func, log)
        ctx.results["step_times"] = [(s.name, s.seconds) for s in ctx.steps]
        _timed(ctx, "Write trial report", steps.write_report, log)
    total = time.perf_counter() - total_start
    log(f"\nFinished in {total:.1f} s. Outputs in {out.resolve()}:")
    for label, rel in ctx.files.items():
        log(f"  {label:<28} {out / rel}")
    return ctx

