"""Where the bundled example frameworks and synthetic cohort live.

An installed measurekit (``pip install measurekit`` or a wheel) carries them inside the package, in
``measurekit/_bundled/frameworks/<name>`` and ``measurekit/_bundled/synthetic`` (the build copies them there from the
repository: see ``setup.py``), and finds them with :mod:`importlib.resources`. A source checkout or editable install
(``pip install -e .``, as ``tasks.py`` does) has no ``_bundled`` folder and uses the repository's own folders:
``<repo>/indicators/<name>`` and ``<repo>/data/synthetic``. Either way the repository folders are the only copies
anyone edits.

Nothing here names a framework: the bundled frameworks are whatever folders with a ``framework.yaml`` were shipped,
and the demo's framework is the one the bundled cohort's ``ground_truth.json`` says it was made for. Which framework a
command uses is decided in one place, :func:`measurekit.design.choose.choose_framework`.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import json
from importlib import resources
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def _packaged(*parts: str) -> Path | None:
    """A folder under ``measurekit/_bundled`` as a real path, or None in a source checkout."""
    node = resources.files("measurekit").joinpath("_bundled", *parts)
    if not node.is_dir():
        return None
    if isinstance(node, Path):
        return node
    return Path(_extracted.enter_context(resources.as_file(node)))   # imported from a zip file


@functools.cache
def bundled_frameworks() -> dict[str, Path]:
    """Every framework shipped with measurekit: folder name -> folder (each holds a ``framework.yaml``)."""
    root = _packaged("frameworks") or REPO_ROOT / "indicators"
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if (p / "framework.yaml").is_file()}


def bundled_data() -> Path:
    """The shipped seed-1 synthetic cohort (the demo's data)."""
    return _packaged("synthetic") or REPO_ROOT / "data" / "synthetic"


@functools.cache
def demo_framework() -> Path:
    """The framework the bundled synthetic cohort was made for (``framework`` in its ``ground_truth.json``)."""
    truth = json.loads((bundled_data() / "ground_truth.json").read_text(encoding="utf-8"))
    return bundled_frameworks()[truth["framework"]]


def __getattr__(name: str) -> Path:
    # BUNDLED_FRAMEWORK / BUNDLED_DATA: read lazily, so importing this module reads no file
    if name == "BUNDLED_FRAMEWORK":
        return demo_framework()
    if name == "BUNDLED_DATA":
        return bundled_data()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------------------ where outputs may go
MARKER = ".measurekit.json"
"""File that marks a folder measurekit made (written by ``atomic.atomic_directory`` and by ``synth``); it holds
the command that made the folder. Only a marked folder (or an empty or new one) may be replaced by an output."""


def _resolved(path) -> Path:
    return Path(path).expanduser().resolve()


def made_by(folder) -> str | None:
    """The command that made ``folder`` (from its marker file), or None if measurekit did not make it."""
    marker = Path(folder) / MARKER
    try:
        if not marker.is_file() or marker.is_symlink():
            return None
        import json

        data = json.loads(marker.read_text(encoding="utf-8")[:10_000])
        return str(data.get("command", "measurekit")) if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def marker_text(command: str) -> str:
    """Contents of the marker file for a folder made by ``command``."""
    import json

    from measurekit import __version__

    return json.dumps({"made_by": "measurekit", "command": command, "version": __version__}, indent=1) + "\n"


def protected_folders() -> list[Path]:
    """The repository's (or the installed package's) own data: the bundled framework and cohort folders."""
    return [_resolved(p) for p in bundled_frameworks().values()] + [_resolved(bundled_data())]


def check_output(out, *, inputs=(), folder: bool = True, command: str = "output") -> Path:
    """Refuse an output that would destroy what the user has, before anything is written. Returns ``out`` resolved.

    Refused with ``InputError`` code ``output_overlaps_input``: an output (folder or file) that is, contains or lies
    inside any of ``inputs`` (data folders, framework folders, config and key files, ...) or the bundled
    framework and cohort folders. Refused with code ``output_not_ours`` (only when ``folder``, an output folder
    that replaces what is there): an existing folder that is not empty and that measurekit did not make (no
    marker file, see ``MARKER``); and for ``command="synth"``, an existing folder that ``synth`` did not make,
    so synthetic data never replaces a real cohort. Other commands may replace a folder any measurekit command
    made except synthetic data (which may be someone's input).
    """
    from measurekit.problems import InputError

    target = _resolved(out)
    given = [(Path(p), "input") for p in inputs if p is not None]
    given += [(p, "bundled") for p in protected_folders()]
    for raw, why in given:
        p = _resolved(raw)
        what = f"the input {str(raw)!r}" if why == "input" else f"measurekit's own example data {str(p)!r}"
        elsewhere = p.parent / f"{p.stem or 'measurekit'}-{command}"
        if target == p:
            how = f"is {what}"
        elif p in target.parents:
            how = f"lies inside {what}"
        elif target in p.parents:
            how = f"contains {what}"
        else:
            continue
        raise InputError.of(
            "output_overlaps_input",
            f"Refused: the output {str(out)!r} {how}; writing it would overwrite or delete that. Nothing was "
            f"written. Choose an output {'folder' if folder else 'file'} outside every input, for example "
            f"{str(elsewhere)!r}.", value=str(out))
    if folder and target.is_dir():
        try:
            entries = [e for e in target.iterdir()]
        except OSError:
            entries = []
        maker = made_by(target)
        if entries and (maker is None or (command == "synth") != (maker == "synth")):
            if maker is None:
                why = "was not made by measurekit"
            elif command == "synth":
                why = f"was made by 'measurekit {maker}', not by synth"
            else:
                why = "holds synthetic data (it may be another run's input)"
            raise InputError.of(
                "output_not_ours",
                f"Refused: the output folder {str(out)!r} already exists, holds {len(entries)} entr"
                f"{'y' if len(entries) == 1 else 'ies'} and {why}; the output would replace all of it. Nothing "
                "was written. Choose a new or empty folder, or move that folder's contents away yourself first.",
                value=str(out))
    return target


# ------------------------------------------------------------------------------ matplotlib's cache
def keep_matplotlib_out_of_home() -> str | None:
    """Point matplotlib's config and font cache (``MPLCONFIGDIR``) at a private folder in the temporary directory
    unless the user set one: measurekit must not write under ``$HOME``. The folder (``measurekit-matplotlib-<user>``,
    mode 0700) is kept between runs so the font list is built once; if it exists but is not ours (another user, a
    link) a fresh one is made. Returns the folder, or None when ``MPLCONFIGDIR`` was already set. Called by
    ``import measurekit``, before any matplotlib import."""
    import os
    import tempfile

    if os.environ.get("MPLCONFIGDIR"):
        return None
    user = str(os.getuid()) if hasattr(os, "getuid") else (os.environ.get("USERNAME") or "user")
    folder = Path(tempfile.gettempdir()) / f"measurekit-matplotlib-{user}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(folder)
        if folder.is_symlink() or not folder.is_dir() or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            raise PermissionError(str(folder))
    except OSError:
        folder = Path(tempfile.mkdtemp(prefix="measurekit-matplotlib-"))
    os.environ["MPLCONFIGDIR"] = str(folder)
    return str(folder)
