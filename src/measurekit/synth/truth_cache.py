"""A cache of the population ground truth between processes, so a second ``measurekit synth`` does not redraw it.

The population values in ``ground_truth.json`` (true reliability, population AUC gain and retest ICCs of
``synth/cohort.py``; GLD, FSM gaps and flagged-at-two values by period of ``synth/over_time.py``) come from a very
large draw with a fixed seed: the same in every process for the same framework, code and arguments, and costly
(seconds a framework). Each process used to draw it again; this module keeps the result in a folder so the next
process reads it back instead. What is read back is exactly what was computed (floats are written with Python's
shortest round-trip repr and a value is only stored when reading it back gives the same values of the same types),
so ``ground_truth.json`` has the same bytes with or without the cache.

A value is found again only under the same key, a SHA-256 of:

* every file of the installed measurekit package (its code and package data: any change of code, a new version or
  an edited checkout gives new keys);
* the versions of Python, numpy, pandas, scipy and pyarrow, the machine type and the BLAS thread settings
  (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``): random streams and numerics;
* every file of the framework folder (names and bytes: an edited ``synthetic.yaml`` or item gives a new key);
* which value it is and its arguments (voice effect, size of the draw, period, seed, the planted change).

Where: the folder named by the environment variable ``MEASUREKIT_SYNTH_CACHE``, else ``measurekit-synth-cache-<user
id>`` in the system's temporary folder (never under ``$HOME``; measurekit writes nothing there). The folder is made
private (mode 0700) and used only if it is a real folder owned by the user; otherwise nothing is cached. Set
``MEASUREKIT_SYNTH_CACHE=off`` to turn the cache off. Deleting the folder (or any file in it) at any time is safe:
the values are computed again. Files are written to a temporary name in the folder and moved into place, so a
reader sees a whole file or none; a file that cannot be read or does not carry its own key is ignored. Nothing in
the cache is ever an output: outputs still go only to the folder a command was given.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Callable

from measurekit.core.atomic import tree_sha256

ENV = "MEASUREKIT_SYNTH_CACHE"
_OFF = {"off", "0", "no", "false", "none"}
_FORMAT = 1
_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")   # BLAS threads can move last digits


def cache_folder() -> Path | None:
    """The cache folder (made if missing), or None when the cache is off or the folder is unsafe or unwritable."""
    setting = os.environ.get(ENV, "").strip()
    if setting.lower() in _OFF:
        return None
    if setting:
        folder = Path(setting).expanduser()
    else:
        user = str(os.getuid()) if hasattr(os, "getuid") else (os.environ.get("USERNAME") or "user")
        folder = Path(tempfile.gettempdir()) / f"measurekit-synth-cache-{user}"
    try:
        folder.mkdir(mode=0o700, parents=bool(setting), exist_ok=True)
        st = os.lstat(folder)
        if folder.is_symlink() or not folder.is_dir() or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            return None
        if not os.access(folder, os.W_OK | os.X_OK):
            return None
    except OSError:
        return None
    return folder


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of the measurekit package's files, the versions of the libraries the draws depend on, the machine
    type and the BLAS thread settings."""
    import numpy
    import pandas
    import pyarrow
    import scipy

    import measurekit

    versions = [sys.version, platform.machine(), numpy.__version__, pandas.__version__, scipy.__version__,
                pyarrow.__version__, *(os.environ.get(v, "") for v in _THREADS)]
    package = tree_sha256(Path(measurekit.__file__).resolve().parent, skip_dirs=("__pycache__",))
    return hashlib.sha256(json.dumps([package, versions]).encode()).hexdigest()


def framework_digest(framework_dir) -> str:
    """SHA-256 of a framework folder's files (read afresh each call: an edit between two calls gives a new key)."""
    return tree_sha256(Path(framework_dir).resolve())


def _same(a, b) -> bool:
    """Equal values of the same types all the way down (so a cached value is the computed value)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


def cached(kind: str, framework_dir, args: dict, compute: Callable[[], dict]) -> dict:
    """``compute()``, or the value stored by an earlier call with the same key (see the module docstring)."""
    folder = cache_folder() if framework_dir is not None else None
    if folder is None:
        return compute()
    try:
        key = hashlib.sha256(json.dumps({"format": _FORMAT, "kind": kind, "code": code_digest(),
                                         "framework": framework_digest(framework_dir), "args": args},
                                        sort_keys=True).encode()).hexdigest()
    except (OSError, TypeError, ValueError):
        return compute()
    path = folder / f"{kind}-{key}.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(stored, dict) and stored.get("key") == key and isinstance(stored.get("value"), dict):
            return stored["value"]
    except (OSError, ValueError):
        pass
    value = compute()
    try:
        text = json.dumps({"key": key, "value": value})
        if not _same(json.loads(text)["value"], value):
            return value        # a value JSON cannot carry exactly (a tuple, a non-string key): not stored
        fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            _unlink_quietly(tmp)
            raise
    except (OSError, TypeError, ValueError):
        pass
    return value


def _unlink_quietly(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
