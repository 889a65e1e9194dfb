"""Where the bundled example framework and synthetic cohort live.

measurekit is installed from its source folder (``pip install -e .``, as ``tasks.py`` does),
so the examples are found beside the package: ``<repo>/indicators/rochdale-school-readiness``
and ``<repo>/data/synthetic``. Point the functions at your own folders to use your own data.
"""
from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
BUNDLED_FRAMEWORK = REPO_ROOT / "indicators" / "rochdale-school-readiness"
BUNDLED_DATA = REPO_ROOT / "data" / "synthetic"
