"""Build hook: ship the illustrative frameworks and the seed-1 cohort inside the package.

The repository keeps one copy of each (every ``indicators/<name>/`` with a ``framework.yaml``, and
``data/synthetic``). When a wheel is built, ``build_py`` copies them to
``measurekit/_bundled/frameworks/<name>`` and ``measurekit/_bundled/synthetic`` in the build folder, so an installed measurekit finds them with
``importlib.resources`` (``measurekit.core.paths``). ``MANIFEST.in`` puts the same folders in
the sdist, so a wheel built from the sdist gets them too. Editable installs (``pip install -e``)
copy nothing: ``paths`` then uses the repository folders directly.
Everything else about the package is in ``pyproject.toml``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".~lock*", ".DS_Store")


class build_py_with_examples(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "measurekit" / "_bundled"
        frameworks = sorted(p.parent for p in (ROOT / "indicators").glob("*/framework.yaml"))
        if not frameworks or not (ROOT / "data" / "synthetic" / "children.csv").is_file():
            raise SystemExit(f"measurekit build: {ROOT} has no indicators/<name>/framework.yaml or data/synthetic; "
                             "build from the repository or its sdist")
        copies = {target / "frameworks" / p.name: p for p in frameworks}
        copies[target / "synthetic"] = ROOT / "data" / "synthetic"
        for dest, src in copies.items():
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(src, dest, ignore=_SKIP)


setup(cmdclass={"build_py": build_py_with_examples})
