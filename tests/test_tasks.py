"""tasks.py (the README's set-up commands): pinned installs, the newest-versions run, Ctrl-C, root."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import tasks  # noqa: E402


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:                       # a zombie (exited, not yet reaped) is not running
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


@pytest.mark.skipif(os.name == "nt" or not Path("/proc").exists(), reason="process groups as on Linux")
def test_ctrl_c_stops_what_tasks_started_and_its_children(tmp_path):
    """A stand-in for JupyterLab: a server that starts a kernel (a grandchild). Ctrl-C on tasks.py leaves neither."""
    pids = tmp_path / "pids"
    server = ("import subprocess, sys, time, pathlib\n"
              "k = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
              f"pathlib.Path({str(pids)!r}).write_text(f'{{k.pid}}')\n"
              "time.sleep(120)\n")
    driver = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import tasks; sys.exit(tasks._run([sys.executable, '-c', {server!r}]))"
    proc = subprocess.Popen([sys.executable, "-c", driver])
    for _ in range(300):
        if pids.exists() and pids.read_text():
            break
        time.sleep(0.1)
    kernel = int(pids.read_text())
    assert _alive(kernel)
    proc.send_signal(signal.SIGINT)            # what Ctrl-C in the terminal sends to tasks.py
    assert proc.wait(timeout=60) == 130
    for _ in range(100):
        if not _alive(kernel):
            break
        time.sleep(0.1)
    assert not _alive(kernel), "the kernel of the stopped server is still running"


def test_lab_as_root_allows_root(monkeypatch):
    monkeypatch.setattr(tasks.os, "geteuid", lambda: 0, raising=False)
    assert "--allow-root" in tasks.lab_command([])
    assert tasks.lab_command(["--allow-root"]).count("--allow-root") == 1
    monkeypatch.setattr(tasks.os, "geteuid", lambda: 1000, raising=False)
    assert "--allow-root" not in tasks.lab_command([])


def test_constraints_pin_every_dependency_inside_the_ranges():
    """constraints.txt pins each runtime and extra dependency of pyproject.toml at a version its range allows,
    and never pins measurekit itself."""
    import tomllib

    from packaging.requirements import Requirement

    pins = dict(tasks._pins((ROOT / "constraints.txt").read_text(encoding="utf-8")))
    assert "measurekit" not in pins
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"]) + [r for extra in project.get("optional-dependencies", {}).values()
                                              for r in extra]
    missing, outside = [], []
    for text in wanted:
        req = Requirement(text)
        name = req.name.lower().replace("_", "-")
        if name == "measurekit" or (req.marker and not req.marker.evaluate()):
            continue
        if name not in pins:
            missing.append(name)
        elif not req.specifier.contains(pins[name], prereleases=True):
            outside.append(f"{name}=={pins[name]} not in {req.specifier}")
    assert not missing and not outside, (missing, outside)


def test_test_latest_installs_without_constraints(monkeypatch, tmp_path):
    """The newest-versions run uses its own environment, no constraints and an eager upgrade."""
    calls = []
    monkeypatch.setattr(tasks.subprocess, "run", lambda cmd, **kw: calls.append(cmd) or subprocess.CompletedProcess(cmd, 0, ""))
    env = tmp_path / "venv-latest"
    monkeypatch.setattr(tasks.venv.EnvBuilder, "create", lambda self, path: tasks._py(Path(path)).parent.mkdir(parents=True))
    tasks.ensure_env("dev", env, pinned=False)
    install = next(c for c in calls if "-e" in c)
    assert "-c" not in install and "--upgrade-strategy" in install and install[0] == str(tasks._py(env))
    calls.clear()
    tasks.ensure_env("dev", tmp_path / "venv-pinned", pinned=True)
    install = next(c for c in calls if "-e" in c)
    assert install[install.index("-c") + 1] == str(tasks.CONSTRAINTS)
