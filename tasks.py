"""Set up measurekit in a local virtual environment and run it.

Three commands, on any machine with Python 3.11 or newer:

    python3 tasks.py demo    # set up, then run the main job on the bundled synthetic cohort
    python3 tasks.py lab     # set up (with JupyterLab), then open the guided notebooks
    python3 tasks.py test    # set up (with test tools), then run the whole test suite

The first run creates ``.venv/`` beside this file and installs measurekit into it
(a few minutes); later runs reuse it and reinstall only when ``pyproject.toml`` changed.
Extra arguments after ``demo`` go to ``measurekit run``; after ``lab``, to ``jupyter lab``;
after ``test``, to pytest. The demo environment also has JupyterLab, so after ``demo``
``.venv/bin/jupyter lab notebooks/`` works as well.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def _say(msg: str) -> None:
    print(f"[tasks] {msg}", flush=True)


def ensure_env(extras: str) -> None:
    """Create .venv and install measurekit[extras] unless the same install is already there."""
    if sys.version_info < (3, 11):
        sys.exit(f"measurekit needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        _say(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".measurekit-installed-{extras or 'core'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    _say(f"installing measurekit[{extras}] (first run takes a few minutes)")
    target = f".[{extras}]" if extras else "."
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True, cwd=ROOT)
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "-e", target], check=True, cwd=ROOT)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "lab", "test"}:
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "demo":
        ensure_env("notebooks")
        return subprocess.call([str(BIN / "measurekit"), "run", "--out", str(ROOT / "out"), *rest], cwd=ROOT)
    if cmd == "lab":
        ensure_env("notebooks")
        return subprocess.call([str(BIN / "jupyter"), "lab", *rest, str(ROOT / "notebooks")], cwd=ROOT)
    ensure_env("dev")
    return subprocess.call([str(PY), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
