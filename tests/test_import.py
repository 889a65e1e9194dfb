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
    for cmd in ("run", "synth", "validate", "link", "check-spec", "export-form", "board-pack"):
        assert cmd in out


def test_public_names_are_functions_not_modules():
    """A submodule named like a public function would shadow it once imported (mk.agreement -> module)."""
    import importlib
    import types

    for name, module in measurekit._API.items():
        importlib.import_module(module)
        assert not isinstance(getattr(measurekit, name), types.ModuleType), name
