"""measurekit works when installed from its wheel, not only from an editable checkout.

Builds the sdist and, from it, the wheel (``python -m build``, as a release would), checks that both
carry the illustrative framework and the seed-1 cohort file for file, installs the wheel into a new
virtual environment outside the repository and runs, from yet another folder:
``measurekit run``, ``measurekit synth`` (with and without ``--framework``) and
``python -c "import measurekit as mk; mk.make_cohort(500)"``.

Dependencies of the new environment: by default it borrows the test environment's installed
libraries through a ``.pth`` file (fast, offline) while measurekit itself comes only from the wheel.
``MEASUREKIT_WHEEL_DEPS=index`` (set by ``.ci/run``) installs the wheel with its dependencies
resolved from the package index instead, as a new user would: with uv (dev extra) when it is there,
which resolves and downloads in parallel and keeps a cache (about 15 s on a cold cache where pip took
230 s, most of it waiting on the index; issue 30), otherwise with pip. Either way nothing but the
wheel's own declared requirements decides what is installed, and ``pip check`` (``uv pip check``)
must find them consistent. The sdist and wheel are built in isolated environments as a release
would be (uv creates them when it is there).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# repository folder -> where it must appear inside the wheel
# (every framework folder under indicators/ ships, found by its framework.yaml, never by name)
BUNDLED = {
    **{f"indicators/{p.parent.name}": f"measurekit/_bundled/frameworks/{p.parent.name}"
       for p in sorted((ROOT / "indicators").glob("*/framework.yaml"))},
    "data/synthetic": "measurekit/_bundled/synthetic",
}

# both tests use the module's build: under pytest-xdist they go to one worker (a module is one unit of
# tests/conftest.py's scheduling; the group says the same to --dist loadgroup), so it is built once
pytestmark = pytest.mark.slow


def _uv() -> str | None:
    """uv's executable (the ``uv`` package of the dev extra, or one on PATH), or None."""
    try:
        from uv import find_uv_bin
    except ImportError:
        return shutil.which("uv")
    try:
        return find_uv_bin()
    except FileNotFoundError:
        return shutil.which("uv")


def _repo_files(folder: str) -> set[str]:
    base = ROOT / folder
    return {p.relative_to(base).as_posix() for p in base.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts}


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env.update(MEASUREKIT_NO_PROGRESS="1", MPLBACKEND="Agg", **extra)
    return env


def _run(cmd, cwd, timeout=600, **kw):
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_clean_env(), capture_output=True, text=True,
                         timeout=timeout, **kw)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))} failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def _build(dist: Path) -> tuple[Path, Path]:
    """The sdist, then the wheel from the unpacked sdist, into the empty folder ``dist``."""
    # no folder given to --sdist/--wheel: build makes the sdist, then the wheel from the unpacked sdist
    installer = ["--installer", "uv"] if _uv() else []
    _run([sys.executable, "-m", "build", *installer, "--outdir", dist, ROOT], cwd=dist)
    (wheel,) = dist.glob("measurekit-*.whl")
    (sdist,) = dist.glob("measurekit-*.tar.gz")
    return wheel, sdist


def _install(wheel: Path, env_dir: Path) -> tuple[Path, Path, Path]:
    """A new virtual environment in the empty folder ``env_dir`` with the wheel installed (see the module doc)."""
    assert ROOT not in env_dir.parents
    from_index = os.environ.get("MEASUREKIT_WHEEL_DEPS") == "index"
    uv = _uv() if from_index else None
    venv.EnvBuilder(with_pip=uv is None).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    py = bin_dir / ("python.exe" if os.name == "nt" else "python")
    if uv:
        # the wheel and what its metadata requires, resolved from the package index into the new environment
        _run([uv, "pip", "install", "--quiet", "--python", py, wheel], cwd=env_dir, timeout=1800)
        _run([uv, "pip", "check", "--python", py], cwd=env_dir)
        return env_dir, bin_dir, py
    if from_index:
        _run([py, "-m", "pip", "install", "--quiet", wheel], cwd=env_dir, timeout=1800)
    else:
        _run([py, "-m", "pip", "install", "--quiet", "--no-deps", wheel], cwd=env_dir)
        site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=env_dir).stdout.strip())
        # the test environment's libraries, after the new environment's own site-packages: .pth files
        # there (such as an editable measurekit) are not processed, so measurekit comes from the wheel
        borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        (site / "_borrowed_dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    _run([py, "-m", "pip", "check"], cwd=env_dir)
    return env_dir, bin_dir, py


# ---------------------------------------------------------------- the build and install, started early (issue 30)
# Most of the wall time of building and installing is waiting (on the package index: build's isolated environments,
# uv's resolution; on pip). tests/conftest.py starts this file as a script (prepare below) in the background as soon
# as the session's collection holds a test of this module (the xdist controller, or the one pytest process), so the
# waiting overlaps other tests; the fixtures then wait for its result. The steps are _build and _install, the same
# functions the fixtures call when no background job was started; a failure is reported by the fixture of its step,
# with the failing command's output and the job's log.
def _write_result(folder: Path, result: dict) -> None:
    tmp = folder / "result.json.partial"
    tmp.write_text(json.dumps(result), encoding="utf-8")
    os.replace(tmp, folder / "result.json")


def prepare(folder: Path) -> int:
    """The background job: ``built`` and ``installed``'s steps into ``folder`` (dist/, venv/), each step's outcome
    in ``folder/result.json`` (paths, or the step that failed and its message)."""
    import traceback

    result: dict = {}
    try:
        import build  # noqa: F401
    except ImportError:
        _write_result(folder, {"no_build": True})
        return 0
    for step in ("built", "installed"):
        try:
            if step == "built":
                dist = folder / "dist"
                dist.mkdir()
                found = _build(dist)
            else:
                env_dir = folder / "venv"
                env_dir.mkdir()
                found = _install(Path(result["built"][0]), env_dir)
        except BaseException as exc:  # noqa: BLE001 - every failure is the step's, shown by its fixture
            result["failed"] = step
            result["error"] = "".join(traceback.format_exception_only(type(exc), exc))
            _write_result(folder, result)
            return 1
        result[step] = [str(p) for p in found]
        _write_result(folder, result)
    return 0


def _prepared(request, step: str) -> tuple | None:
    """``step``'s paths from the background job (waited for), or None when no job was started (then the fixture
    does the step itself). A failed step fails the fixture with the job's message and log."""
    from conftest import background_job

    job = background_job(request.config, "wheel")
    if job is None:
        return None
    outcome = job.wait()
    found = job.folder / "result.json"
    result = json.loads(found.read_text(encoding="utf-8")) if outcome.finished and found.is_file() else {}
    if result.get("no_build"):          # not in the job's interpreter (the same as this one): the fixture says so
        return None
    if step in result:
        return tuple(Path(p) for p in result[step])
    if result.get("failed") == step or not result:
        pytest.fail(f"{step}: {result.get('error', outcome.reason)}\n--- log of the background build "
                    f"({job.folder}) ---\n{job.log()[-6000:]}", pytrace=False)
    pytest.fail(f"{step}: not reached, the step before failed", pytrace=False)


def _need_build() -> None:
    try:
        import build  # noqa: F401
    except ImportError:
        if os.environ.get("MEASUREKIT_WHEEL_DEPS"):
            pytest.fail("the 'build' package (dev extra) is required here (MEASUREKIT_WHEEL_DEPS is set)")
        pytest.skip("the 'build' package (dev extra) builds the sdist and wheel")


@pytest.fixture(scope="module")
def built(request, tmp_path_factory):
    _need_build()
    done = _prepared(request, "built")
    if done is not None:
        return done
    return _build(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def installed(built, request, tmp_path_factory):
    done = _prepared(request, "installed")
    if done is not None:
        return done
    return _install(built[0], tmp_path_factory.mktemp("venv"))


def test_sdist_and_wheel_carry_the_examples(built):
    wheel, sdist = built
    with zipfile.ZipFile(wheel) as z:
        wheel_names = set(z.namelist())
    with tarfile.open(sdist) as t:
        top = t.getnames()[0].split("/")[0]
        sdist_names = {n[len(top) + 1:] for n in t.getnames()}
    for folder, packaged in BUNDLED.items():
        files = _repo_files(folder)
        assert files, folder
        missing_wheel = sorted(f for f in files if f"{packaged}/{f}" not in wheel_names)
        missing_sdist = sorted(f for f in files if f"{folder}/{f}" not in sdist_names)
        assert not missing_wheel, f"wheel lacks {folder}: {missing_wheel}"
        assert not missing_sdist, f"sdist lacks {folder}: {missing_sdist}"
        with zipfile.ZipFile(wheel) as z:
            for f in files:  # byte for byte: the wheel's copy is the repository's
                assert z.read(f"{packaged}/{f}") == (ROOT / folder / f).read_bytes(), f
    assert not any(n.startswith("src/measurekit/_bundled") for n in sdist_names), "a second copy was committed"
    metadata = zipfile.ZipFile(wheel).read(f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in metadata


def test_installed_wheel_runs_from_another_folder(installed, tmp_path):
    env_dir, bin_dir, py = installed
    elsewhere = tmp_path / "somewhere_else"
    elsewhere.mkdir()
    where = _run([py, "-c", "import measurekit, measurekit.core.paths as p; "
                            "print(measurekit.__file__); print(p.BUNDLED_FRAMEWORK); print(p.BUNDLED_DATA)"],
                 cwd=elsewhere).stdout.split("\n")
    for line in where[:3]:
        assert Path(line).resolve().is_relative_to(env_dir.resolve()), f"{line} is not inside the new environment"

    exe = bin_dir / "measurekit"
    _run([exe, "run", "--out", "out"], cwd=elsewhere)
    assert (elsewhere / "out" / "internal" / "trial_report.html").is_file()
    assert (elsewhere / "out" / "shareable" / "board_pack" / "board_table.csv").is_file()

    fw = Path(where[1])
    # a shipped framework by name: a user with only the wheel can make data for it and run on them
    res = _run([exe, "synth", "--framework", fw.name, "--n", "300", "--seed", "2", "--out", "synth"], cwd=elsewhere)
    assert "300 children" in res.stdout
    assert (elsewhere / "synth" / "children.csv").is_file()
    res = _run([exe, "validate", "synth", "--framework", fw.name], cwd=elsewhere)
    assert "No errors" in res.stdout
    res = _run([exe, "synth", "--n", "200", "--framework", fw, "--out", "synth_fw"], cwd=elsewhere)
    assert (elsewhere / "synth_fw" / "voice_parent.csv").is_file()

    res = _run([py, "-c", "import measurekit as mk; c = mk.make_cohort(500); print(len(c.analysis_frame()))"],
               cwd=elsewhere)
    assert res.stdout.strip().endswith("500")


if __name__ == "__main__":        # the background job (tests/conftest.py starts it): python test_wheel.py FOLDER
    sys.exit(prepare(Path(sys.argv[1])))
