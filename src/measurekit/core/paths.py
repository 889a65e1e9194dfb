"""Where the bundled example framework and synthetic cohort live.

An installed measurekit (``pip install measurekit`` or a wheel) carries both inside the package,
in ``measurekit/_bundled/`` (the build copies them there from the repository: see ``setup.py``),
and finds them with :mod:`importlib.resources`. A source checkout or editable install
(``pip install -e .``, as ``tasks.py`` does) has no ``_bundled`` folder and uses the repository's
own folders: ``<repo>/indicators/rochdale-school-readiness`` and ``<repo>/data/synthetic``.
Either way the repository folders are the only copies anyone edits.

Point the functions at your own folders to use your own framework and data.
"""
from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]

# name inside measurekit/_bundled/ -> folder in a source checkout (setup.py uses the same pairs)
_SOURCES = {
    "rochdale-school-readiness": ("indicators", "rochdale-school-readiness"),
    "synthetic": ("data", "synthetic"),
}
_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def bundled(name: str) -> Path:
    """The folder of one bundled example as a real path on disk.

    ``name`` is ``"rochdale-school-readiness"`` (the illustrative framework) or ``"synthetic"``
    (the seed-1 cohort). The packaged copy wins when present (installed from a wheel); otherwise
    the repository folder is returned (source checkout). If the package is imported from a zip
    file the folder is extracted to a temporary place for the life of the process.
    """
    if name not in _SOURCES:
        raise KeyError(f"no bundled example called {name!r}; choose from {', '.join(_SOURCES)}")
    packaged = resources.files("measurekit").joinpath("_bundled", name)
    if packaged.is_dir():
        if isinstance(packaged, Path):
            return packaged
        return Path(_extracted.enter_context(resources.as_file(packaged)))
    return REPO_ROOT.joinpath(*_SOURCES[name])


BUNDLED_FRAMEWORK = bundled("rochdale-school-readiness")
BUNDLED_DATA = bundled("synthetic")
