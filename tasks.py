"""Set up measurekit in a local virtual environment and run it.

Commands, on any machine with Python 3.11 or newer:

    python3 tasks.py demo         # set up, then run the main job on the bundled synthetic cohort
    python3 tasks.py lab          # set up (with JupyterLab), then open the guided notebooks
    python3 tasks.py test         # set up (with test tools), then run the whole test suite
    python3 tasks.py test-latest  # the suite again in .venv-latest, with the newest versions the ranges allow
    python3 tasks.py freeze       # write constraints.txt from the working .venv (after changing a range)
    python3 tasks.py lint         # ruff and mypy on src/ (settings in pyproject.toml), as CI runs them

The first run creates ``.venv/`` beside this file and installs measurekit into it (a few minutes) with the
tested versions pinned in ``constraints.txt``; later runs reuse it and reinstall only when ``pyproject.toml``
or ``constraints.txt`` changed. ``test-latest`` installs into ``.venv-latest/`` without the constraints and
upgrades every package to the newest release inside ``pyproject.toml``'s ranges, so a new release that breaks
measurekit is seen before users meet it. Extra arguments after ``demo`` go to ``measurekit run``; after
``lab``, to ``jupyter lab``; after ``test`` or ``test-latest``, to pytest. The demo environment also has
JupyterLab, so after ``demo`` ``.venv/bin/jupyter lab notebooks/`` works as well.

Stopping a command with Ctrl-C stops everything it started (JupyterLab and its kernels included).
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LATEST = ROOT / ".venv-latest"
CONSTRAINTS = ROOT / "constraints.txt"
COMMANDS = ("demo", "lab", "test", "test-latest", "freeze", "lint")
# the whole suite on every core (pytest-xdist; tests/conftest.py decides which worker runs what) and the 20
# slowest tests listed; arguments after them win
PYTEST_DEFAULTS = ("-n", "auto", "--durations=20")


def _bin(env: Path) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin")


def _py(env: Path) -> Path:
    return _bin(env) / ("python.exe" if os.name == "nt" else "python")


BIN, PY = _bin(VENV), _py(VENV)


def _say(msg: str) -> None:
    print(f"[tasks] {msg}", flush=True)


def ensure_env(extras: str, env: Path = VENV, pinned: bool = True) -> None:
    """Create ``env`` and install measurekit[extras] unless the same install is already there.

    ``pinned``: install the tested versions of ``constraints.txt``; otherwise the newest versions the ranges
    of ``pyproject.toml`` allow (``--upgrade --upgrade-strategy eager``)."""
    if sys.version_info < (3, 11):
        sys.exit(f"measurekit needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    py = _py(env)
    if not py.exists():
        _say(f"creating virtual environment in {env}")
        venv.EnvBuilder(with_pip=True).create(env)
    pins = CONSTRAINTS.read_bytes() if pinned and CONSTRAINTS.exists() else b"newest"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode() + pins).hexdigest()
    stamp = env / f".measurekit-installed-{extras or 'core'}"
    if pinned and stamp.exists() and stamp.read_text() == digest:
        return
    target = f".[{extras}]" if extras else "."
    if pinned:
        _say(f"installing measurekit[{extras}] with the tested versions of {CONSTRAINTS.name} (first run takes a few minutes)")
        how = ["-c", str(CONSTRAINTS)] if CONSTRAINTS.exists() else []
    else:
        _say(f"installing measurekit[{extras}] with the newest versions pyproject.toml allows")
        how = ["--upgrade", "--upgrade-strategy", "eager"]
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True, cwd=ROOT)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", *how, "-e", target], check=True, cwd=ROOT)
    if not pinned:
        versions = subprocess.run([str(py), "-m", "pip", "list", "--format=freeze"], capture_output=True,
                                  text=True, cwd=ROOT).stdout
        newer = _differences(versions)
        _say("versions differing from constraints.txt: " + (", ".join(newer) if newer else "none"))
    stamp.write_text(digest)


def _differences(freeze: str) -> list[str]:
    """``name old -> new`` for each package whose installed version differs from constraints.txt."""
    pinned = dict(_pins(CONSTRAINTS.read_text(encoding="utf-8"))) if CONSTRAINTS.exists() else {}
    out = []
    for name, version in _pins(freeze):
        if name in pinned and pinned[name] != version:
            out.append(f"{name} {pinned[name]} -> {version}")
    return out


def _pins(text: str):
    for line in text.splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            yield name.strip().lower().replace("_", "-"), version.strip()


def freeze() -> int:
    """Write constraints.txt from the working .venv (measurekit itself and local paths left out)."""
    if not PY.exists():
        sys.exit("No .venv yet: run 'python3 tasks.py test' first.")
    lines = subprocess.run([str(PY), "-m", "pip", "freeze", "--exclude-editable"], capture_output=True, text=True,
                           check=True, cwd=ROOT).stdout.splitlines()
    keep = sorted((ln for ln in lines if "==" in ln and " @ " not in ln
                   and not ln.lower().startswith("measurekit==")), key=str.lower)
    header = [
        f"# Tested versions of every package measurekit's demo, notebooks and tests install (Python "
        f"{sys.version_info.major}.{sys.version_info.minor}, {sys.platform}).",
        "# tasks.py installs with '-c constraints.txt' so a fresh set-up gets exactly these; the wheel keeps the",
        "# ranges of pyproject.toml. Regenerate with 'python3 tasks.py freeze' from a working .venv after changing",
        "# a range, then check with 'python3 tasks.py test' and 'python3 tasks.py test-latest'.",
    ]
    CONSTRAINTS.write_text("\n".join(header + keep) + "\n", encoding="utf-8")
    _say(f"wrote {len(keep)} pinned versions to {CONSTRAINTS}")
    return 0


def _run(cmd: list[str], env: dict | None = None) -> int:
    """Run ``cmd`` (with environment ``env``, default this one) in its own process group and stop the whole group
    (JupyterLab and its kernels, pytest and its subprocesses) when this script is interrupted (Ctrl-C) or
    terminated, instead of leaving it running."""
    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s}
    kw = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt" else {"start_new_session": True})
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, **kw)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        _say("stopping ...")
        _signal_group(proc, signal.SIGTERM if os.name != "nt" else signal.CTRL_BREAK_EVENT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL if os.name != "nt" else signal.SIGTERM)
            proc.wait()
        return 130
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _signal_group(proc: subprocess.Popen, sig) -> None:
    try:
        if os.name == "nt":
            proc.send_signal(sig)
        else:
            os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def lab_command(rest: list[str]) -> list[str]:
    """``jupyter lab`` with the user's arguments; as root (a container) ``--allow-root``, without which it stops."""
    cmd = [str(BIN / "jupyter"), "lab", *rest]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in rest:
        cmd.append("--allow-root")
    return cmd + [str(ROOT / "notebooks")]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "demo":
        ensure_env("notebooks")
        return _run([str(BIN / "measurekit"), "run", "--out", str(ROOT / "out"), *rest])
    if cmd == "lab":
        ensure_env("notebooks")
        return _run(lab_command(rest))
    if cmd == "freeze":
        return freeze()
    if cmd == "lint":
        ensure_env("dev")
        return _run([str(BIN / "ruff"), "check", "src", *rest]) or _run([str(BIN / "mypy"), *rest])
    if cmd == "test-latest":
        ensure_env("dev", LATEST, pinned=False)
        return _timed("test suite (newest allowed versions)",
                      [str(_py(LATEST)), "-m", "pytest", *PYTEST_DEFAULTS, *rest])
    ensure_env("dev")
    return _timed("test suite", [str(PY), "-m", "pytest", *PYTEST_DEFAULTS, *rest])


def _timed(what: str, cmd: list[str]) -> int:
    """Run ``cmd`` and say how long it took on the wall clock (the set-up before it not counted)."""
    import time

    # the suite starts about a hundred Python processes (two workers, the command line, notebook kernels, the
    # wheel's): each would compile measurekit's modules and rewrite the test modules' asserts again where
    # PYTHONDONTWRITEBYTECODE is set (it is on some machines), about 40 s of CPU in all. The caches go to
    # __pycache__ folders, which git ignores and the sdist and wheel leave out.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.monotonic()
    code = _run(cmd, env)
    took = time.monotonic() - start
    _say(f"{what}: {took:.0f} s wall ({int(took // 60)} min {took % 60:.0f} s), exit {code}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
