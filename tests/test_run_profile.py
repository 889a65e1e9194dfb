"""measurekit run --profile: the report of where a run's time went (pipeline.run.profile_report)."""
from __future__ import annotations

import cProfile

from measurekit.cli.parser import build_parser
from measurekit.pipeline.run import profile_report
from measurekit.pipeline.state import StepLog


def _slow_sum(n):
    return sum(i * i for i in range(n))


def test_profile_report_orders_steps_and_names_functions():
    profiler = cProfile.Profile()
    profiler.runcall(_slow_sum, 200_000)
    steps = [StepLog("Quick step", 0.5, cpu=0.25), StepLog("Slow step", 3.0, cpu=1.75), StepLog("Middle step", 1.5)]
    text = profile_report(profiler, steps, total=5.0, top=5)
    lines = text.splitlines()
    step_lines = [ln for ln in lines if ln.rstrip().endswith(" step")]
    assert [ln.split("%")[-1].strip() for ln in step_lines] == ["Slow step", "Middle step", "Quick step"]
    assert "60.0%" in step_lines[0] and "10.0%" in step_lines[2]          # shares of the 5 s total
    # each step's CPU time beside its wall time when it was measured (a busy machine inflates only the wall time)
    assert "1.75 s CPU" in step_lines[0] and "0.25 s CPU" in step_lines[2] and "CPU" not in step_lines[1]
    assert "Top 5 all functions by own time:" in text
    assert "_slow_sum" in text or "<genexpr>" in text                      # the profiled work is named


def test_run_accepts_profile_flag():
    args = build_parser().parse_args(["run", "--profile", "--out", "x"])
    assert args.profile is True
    assert build_parser().parse_args(["run"]).profile is False


def test_each_step_records_its_cpu_time(bundled_run):
    """The run loop records wall and CPU time for every step; CPU time is never negative, and a step cannot
    use much more CPU than its wall time on this machine's cores (plus a margin for timer resolution)."""
    import os

    steps = bundled_run.state.steps
    assert steps and all(s.cpu is not None and s.cpu >= 0 for s in steps)
    times = [(s.name, s.seconds, s.cpu) for s in steps]
    assert all(s.cpu <= s.seconds * (os.cpu_count() or 1) + 0.05 for s in steps), times
