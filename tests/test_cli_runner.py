"""tests/cli_runner.py: ``run_cli`` gives what ``python -m measurekit`` gives (exit code, stdout, stderr) and leaves
nothing behind in the test process. The state checked here is listed by this file itself (``_visible_state``),
not taken from the runner, so a runner that forgets something fails here."""
from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from cli_runner import run_cli

from measurekit.cli import commands

ROOT = Path(__file__).resolve().parents[1]
SECOND = ROOT / "indicators" / "north-yorkshire-care-leavers"


def _visible_state() -> dict:
    """What a later test could see of this process: working folder, environment, warning filters and display,
    every logger's configuration, logging.disable, numpy's error settings, random states, SIGALRM, stdout/err."""
    loggers = {}
    for name, logger in [("", logging.getLogger()), *sorted(logging.Logger.manager.loggerDict.items())]:
        if isinstance(logger, logging.Logger):
            loggers[name] = (logger.level, list(logger.handlers), list(logger.filters), logger.propagate,
                             logger.disabled)
    return {"cwd": os.getcwd(), "environ": dict(os.environ), "filters": list(warnings.filters),
            "showwarning": warnings.showwarning, "loggers": loggers, "disable": logging.root.manager.disable,
            "np_err": np.geterr(), "np_random": np.random.get_state()[1].tolist(),
            "random": random.getstate(),
            "alarm": (signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL)),
            "streams": (sys.stdout, sys.stderr)}


def _differences(before: dict, after: dict) -> list[str]:
    """The parts that changed; of the loggers, those that existed before (a logger a first import makes is new)."""
    after = dict(after, loggers={k: v for k, v in after["loggers"].items() if k in before["loggers"]})
    return [k for k in before if before[k] != after[k]]


def test_real_commands_exit_codes_and_output_and_nothing_left_behind(tmp_path):
    before = _visible_state()
    ok = run_cli("check-spec", SECOND)
    assert ok.returncode == 0 and "0 error(s)" in ok.stdout and "items in" in ok.stdout, ok.stderr
    assert _differences(before, _visible_state()) == []
    helped = run_cli("--help")
    assert helped.returncode == 0 and helped.stdout.startswith("usage: measurekit") and helped.stderr == ""
    refused = run_cli("check-spec", SECOND, "--no-such-option")           # argparse: SystemExit(2)
    assert refused.returncode == 2 and "unrecognized arguments: --no-such-option" in refused.stderr
    missing = run_cli("validate", tmp_path / "nowhere", "--framework", SECOND)   # an InputError: 1, no traceback
    assert missing.returncode == 1 and "Traceback" not in missing.stderr + missing.stdout
    assert "nowhere" in missing.stdout + missing.stderr
    out = tmp_path / "forms"
    made = run_cli("export-form", SECOND, "--format", "redcap", "--out", "forms", cwd=tmp_path)   # relative to cwd
    assert made.returncode == 0 and sorted(p.name for p in out.iterdir()) == [
        "north-yorkshire-care-leavers_redcap_adviser.csv", "north-yorkshire-care-leavers_redcap_young_person.csv"]
    assert _differences(before, _visible_state()) == []


def test_the_same_as_a_fresh_interpreter(tmp_path):
    """One command both ways: the same exit code and the same text on stdout and stderr (a check-spec of a
    framework with an unknown scale: exit 1, the report on stdout)."""
    import shutil

    bad = tmp_path / "fw"
    shutil.copytree(SECOND, bad)
    text = (bad / "items.yaml").read_text(encoding="utf-8")
    assert "scale: " in text
    (bad / "items.yaml").write_text(text.replace("scale: ", "scale: no_such_", 1), encoding="utf-8")
    fresh = subprocess.run([sys.executable, "-m", "measurekit", "check-spec", str(bad)], capture_output=True,
                           text=True, timeout=300)
    here = run_cli("check-spec", bad)
    assert fresh.returncode == 1 and "unknown_scale" in fresh.stdout
    assert (here.returncode, here.stdout, here.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)


def test_a_command_that_changes_everything_is_undone(monkeypatch, tmp_path):
    """A stand-in command changes what a real one might (and crashes): the runner puts all of it back, captures its
    output and warning, and reports the crash as the interpreter would."""
    monkeypatch.setenv("CLI9_GONE", "here before")
    seen = {}

    def vandal(args):
        seen["cwd"] = os.getcwd()
        seen["env"] = (os.environ.get("CLI9_SET"), os.environ.get("CLI9_GONE"))
        print("to stdout")
        print("to stderr", file=sys.stderr)
        warnings.warn("a warning the interpreter would print", UserWarning, stacklevel=1)
        warnings.warn("a deprecation the interpreter would not print", DeprecationWarning, stacklevel=1)
        warnings.simplefilter("error")
        logging.getLogger().setLevel(logging.DEBUG)
        logging.getLogger().addHandler(logging.StreamHandler())
        logging.getLogger("measurekit").setLevel(logging.CRITICAL)
        logging.getLogger("measurekit").propagate = False
        logging.disable(logging.CRITICAL)
        np.seterr(all="raise")
        np.random.seed(12345)
        random.seed(12345)
        os.environ["CLI9_MADE"] = "by the command"
        os.environ.pop("HOME", None)
        os.chdir("/")
        raise RuntimeError("the command broke")

    monkeypatch.setattr(commands, "check_spec", vandal)
    logging.getLogger("measurekit")          # exists before the call
    before = _visible_state()
    r = run_cli("check-spec", "x", cwd=tmp_path, env={"CLI9_SET": "for the call", "CLI9_GONE": None})
    assert _differences(before, _visible_state()) == []
    assert seen == {"cwd": str(tmp_path), "env": ("for the call", None)}
    assert r.returncode == 1 and r.stdout == "to stdout\n"
    assert r.stderr.startswith("to stderr\n") and "UserWarning: a warning the interpreter would print" in r.stderr
    assert "deprecation" not in r.stderr
    assert "Traceback (most recent call last)" in r.stderr
    assert r.stderr.rstrip().endswith("RuntimeError: the command broke")


@pytest.mark.parametrize("code,returncode,stderr", [(None, 0, ""), (3, 3, ""), ("a message", 1, "a message\n")])
def test_sys_exit_becomes_the_exit_status(monkeypatch, code, returncode, stderr):
    monkeypatch.setattr(commands, "check_spec", lambda args: sys.exit(code))
    r = run_cli("check-spec", "x")
    assert (r.returncode, r.stderr) == (returncode, stderr)


def test_main_returning_a_status_and_keyboard_interrupt(monkeypatch):
    monkeypatch.setattr(commands, "check_spec", lambda args: 4)
    assert run_cli("check-spec", "x").returncode == 4

    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr(commands, "check_spec", interrupted)
    r = run_cli("check-spec", "x")
    assert r.returncode == 130 and "Stopped." in r.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_timeout_interrupts_a_blocked_command_and_puts_the_alarm_back(monkeypatch, tmp_path):
    """A command stuck opening a named pipe nobody writes to: ``subprocess.TimeoutExpired`` after the timeout, as
    ``subprocess.run`` raises it; the process's own SIGALRM handler is back afterwards."""
    import time

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def stuck(args):
        print("opening")
        with open(fifo, encoding="utf-8") as fh:       # blocks: no writer
            return len(fh.read())

    monkeypatch.setattr(commands, "check_spec", stuck)
    handler = signal.getsignal(signal.SIGALRM)
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as exc:
        run_cli("check-spec", "x", timeout=0.5)
    assert 0.4 < time.monotonic() - start < 30
    assert exc.value.timeout == 0.5 and exc.value.output == "opening\n"
    assert signal.getsignal(signal.SIGALRM) == handler and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    monkeypatch.setattr(commands, "check_spec", lambda args: 0)
    assert run_cli("check-spec", "x", timeout=5).returncode == 0     # no alarm left to fire later
    time.sleep(0.01)
