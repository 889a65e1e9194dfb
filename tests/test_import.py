import subprocess
import sys

import measurekit


def test_import_is_fast_and_light():
    """`import measurekit` must not pull heavy libraries, and takes well under 1 s."""
    code = (
        "import sys, time; t = time.perf_counter(); import measurekit; dt = time.perf_counter() - t; "
        "heavy = [m for m in ('scipy', 'sklearn', 'matplotlib', 'pingouin', 'factor_analyzer', 'openpyxl', "
        "'pyxform', 'statsmodels', 'jinja2', 'pydantic') if m in sys.modules]; print(dt, ','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    elapsed = float(out[0])
    heavy = out[1] if len(out) > 1 else ""
    assert heavy == "", f"import measurekit loaded heavy modules: {heavy}"
    assert elapsed < 1.0


def test_public_api_names_resolve():
    missing = []
    for name in measurekit.__all__:
        if name.startswith("__"):
            continue
        try:
            getattr(measurekit, name)
        except (ImportError, AttributeError) as exc:  # pragma: no cover - reported below
            missing.append(f"{name}: {exc}")
    assert not missing, "public names that do not resolve:\n" + "\n".join(missing)


def test_cli_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "measurekit", "--help"], capture_output=True, text=True, check=True).stdout
    for cmd in ("run", "synth", "validate", "link", "check-spec", "export-form", "board-pack", "check-ees", "map"):
        assert cmd in out


def test_public_names_are_functions_not_modules():
    """A submodule named like a public function would shadow it once imported (mk.agreement -> module)."""
    import importlib
    import types

    for name, module in measurekit._API.items():
        importlib.import_module(module)
        assert not isinstance(getattr(measurekit, name), types.ModuleType), name


def test_every_module_imports_as_a_module_and_no_top_level_module_is_named_like_a_public_call():
    """Modules live in stage folders (measurekit.stats.cfa); the package root only maps names to them.

    Importing every module must leave each public name bound to its function, and every dotted
    module path must give back the module (``import measurekit.stats.cfa as m`` is a module).
    """
    import importlib
    import pkgutil
    import types

    names = [m.name for m in pkgutil.walk_packages(measurekit.__path__, "measurekit.")]
    assert len(names) > 30
    for dotted in names:
        if dotted.endswith("__main__"):
            continue
        module = importlib.import_module(dotted)
        assert isinstance(module, types.ModuleType), dotted
        parent, _, leaf = dotted.rpartition(".")
        assert isinstance(getattr(importlib.import_module(parent), leaf), types.ModuleType), dotted
    top_level = {n.split(".")[1] for n in names}
    assert not top_level & set(measurekit._API), top_level & set(measurekit._API)
    for name in measurekit._API:
        assert callable(getattr(measurekit, name)) and not isinstance(getattr(measurekit, name), types.ModuleType), name
    import measurekit.stats.cfa as m

    assert isinstance(m, types.ModuleType) and m.cfa is measurekit.cfa


def test_top_level_is_the_stages():
    from pathlib import Path

    root = Path(measurekit.__file__).parent
    entries = sorted(p.name for p in root.iterdir() if p.name != "__pycache__")
    assert len(entries) <= 12, entries
    for stage in ("design", "data", "stats", "publish", "pipeline", "cli", "core"):
        assert (root / stage / "__init__.py").exists(), stage


def test_every_result_class_has_a_main_table():
    """`.table` is the main tidy view of every result object (AlphaResult.total, CFAResult.estimates...)."""
    import measurekit as mk

    a = mk.alpha(__import__("pandas").DataFrame({"a": [1, 2, 3, 4, 2], "b": [1, 3, 3, 4, 1], "c": [2, 2, 3, 5, 1]}))
    assert a.table is a.total and a.to_frame().equals(a.total)
    import importlib
    import pkgutil

    from measurekit.core.result import Result

    for m in pkgutil.walk_packages(measurekit.__path__, "measurekit."):
        if not m.name.endswith("__main__"):
            importlib.import_module(m.name)
    subclasses = Result.__subclasses__()
    assert len(subclasses) >= 10
    for cls in subclasses:
        assert "table" in {f.name for f in __import__("dataclasses").fields(cls)} or cls._main, cls.__name__


def test_notebooks_use_no_private_names():
    """Notebooks teach the public API: no `measurekit._x` modules or `_name` imports."""
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "notebooks"
    bad = []
    for nb in sorted(root.glob("*.ipynb")):
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            src = "".join(cell["source"])
            if cell["cell_type"] != "code":
                continue
            for line in src.splitlines():
                if re.search(r"measurekit(\.\w+)*\._\w", line) or re.search(r"from measurekit[\w.]* import .*\b_\w", line):
                    bad.append(f"{nb.name}: {line.strip()}")
    assert not bad, bad
