"""Fuzzing the boundaries (issue 13): run-folder hygiene and property-based tests that throw random bytes,
random YAML and random CSV shapes at ``check-spec`` and ``validate``. Every outcome must be exit code 0 or 1 with
no traceback, and the inputs must be byte-identical afterwards."""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from measurekit.cli import main
from measurekit.core import atomic
from measurekit.problems import CATALOGUE, InputError

from conftest import FRAMEWORK_DIR

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _hashes(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): atomic.sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(*argv) -> tuple[int, str]:
    """The command line in-process; any exception other than a clean exit fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    text = out.getvalue() + err.getvalue()
    assert rc in (0, 1), text
    assert "Traceback" not in text
    return rc, text


# ------------------------------------------------------------------------------- run folder hygiene
def test_stale_partial_folders_from_killed_runs_are_removed(tmp_path):
    out = tmp_path / "OUT"
    stale = tmp_path / ".OUT.abc123.partial"
    stale.mkdir()
    (stale / "half.csv").write_text("x")
    other = tmp_path / ".OTHER.abc.partial"          # another output's partial folder is not ours to remove
    other.mkdir()
    with atomic.atomic_directory(out) as tmp:
        (tmp / "a.txt").write_text("done")
    assert (out / "a.txt").read_text() == "done"
    assert not stale.exists() and other.exists()
    assert not list(tmp_path.glob(".OUT.*"))          # no lock or partial left behind


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "OUT"
    with atomic.atomic_directory(out) as tmp:
        (tmp / "a.txt").write_text("first")
        code = ("import sys; from measurekit.core import atomic\n"
                "from measurekit.problems import InputError\n"
                "try:\n    with atomic.atomic_directory(sys.argv[1]): pass\n"
                "except InputError as e:\n    print(sorted(e.report.codes()))\n")
        r = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=str(Path(atomic.__file__).parents[2])))
        assert r.stdout.strip() == "['output_locked']", r.stderr
    assert (out / "a.txt").read_text() == "first"
    with atomic.atomic_directory(out) as tmp:          # free again once the first run has finished
        (tmp / "b.txt").write_text("second")
    assert sorted(p.name for p in out.iterdir()) == [".measurekit.json", "b.txt"]   # the marker: measurekit made it


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root ignores permissions")
def test_read_only_output_parent_is_a_clear_error(tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        with pytest.raises(InputError) as exc:
            with atomic.atomic_directory(parent / "OUT"):
                pass
        assert exc.value.report.codes() == {"unwritable_output"}
        with pytest.raises(InputError):
            atomic.write_text(parent / "x.txt", "x")
    finally:
        parent.chmod(0o700)


def test_output_where_a_file_stands_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    for target in (tmp_path / "file", tmp_path / "file" / "OUT"):
        with pytest.raises(InputError) as exc:
            with atomic.atomic_directory(target):
                pass
        assert exc.value.report.codes() == {"unwritable_output"}
    assert (tmp_path / "file").read_text() == "x"


def test_unwritable_output_through_the_command_line(tmp_path, framework_dir):
    (tmp_path / "file").write_text("x")
    rc, text = _run("export-form", framework_dir, "--format", "html", "--out", tmp_path / "file" / "forms")
    assert rc == 1 and "unwritable_output" in text


# ------------------------------------------------------------------------------------ property tests
yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                         st.text(max_size=30))
yaml_docs = st.recursive(yaml_scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=5), st.dictionaries(st.sampled_from(
        ["items", "scales", "domains", "indicators", "id", "scale", "domain", "stem", "options", "code", "label",
         "name", "languages", "compute", "title", "x"]) | st.text(max_size=8), kids, max_size=5)), max_leaves=25)


@pytest.fixture(scope="module")
def spec_dir(framework_dir, tmp_path_factory):
    return tmp_path_factory.mktemp("fuzzspec")


@FUZZ
@given(name=st.sampled_from(["framework.yaml", "scales.yaml", "items.yaml", "indicators.yaml"]),
       data=st.one_of(st.binary(max_size=400), yaml_docs.map(lambda d: __import__("yaml").safe_dump(d).encode())))
def test_check_spec_answers_random_bytes_and_yaml_with_clear_errors(framework_dir, spec_dir, name, data):
    d = spec_dir / "fw"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(framework_dir, d, ignore=shutil.ignore_patterns("evidence", "media"))
    (d / name).write_bytes(data)
    before = _hashes(d)
    rc, _ = _run("check-spec", d)
    assert _hashes(d) == before
    from measurekit.design import check_framework

    assert check_framework(d).codes() <= set(CATALOGUE)


cells = st.one_of(st.text(max_size=12), st.integers(-5, 300).map(str), st.sampled_from(
    ["", "NA", "2020-02-30", "15/02/2020", "=1+1", "\u00e9", "CH1", "1.5", "9"]))


@pytest.fixture(scope="module")
def data_dir(synthetic_dir, tmp_path_factory):
    return tmp_path_factory.mktemp("fuzzdata")


@FUZZ
@given(table=st.sampled_from(["children.csv", "eyfsp.csv", "voice_parent.csv", "small_areas.csv"]),
       header=st.booleans(), sep=st.sampled_from([",", ";", "\t"]),
       rows=st.lists(st.lists(cells, min_size=0, max_size=6), max_size=6),
       raw=st.one_of(st.none(), st.binary(max_size=200)))
def test_validate_answers_random_csv_shapes_with_clear_errors(synthetic_dir, data_dir, table, header, sep, rows, raw):
    d = data_dir / "in"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(synthetic_dir, d)
    if raw is not None:
        (d / table).write_bytes(raw)
    else:
        with open(d / table, encoding="utf-8") as fh:
            head = fh.readline() if header else ""
        body = "\n".join(sep.join(c.replace("\n", " ") for c in r) for r in rows)
        (d / table).write_text(head + body + "\n", encoding="utf-8")
    before = _hashes(d)
    _run("validate", d, "--framework", FRAMEWORK_DIR)
    assert _hashes(d) == before


def test_permission_denied_while_writing_is_a_clear_error(tmp_path, monkeypatch):
    """As root cannot be refused by file modes, the refusal itself is simulated at the system call."""
    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkdtemp", denied)
    monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)
    with pytest.raises(InputError) as exc:
        with atomic.atomic_directory(tmp_path / "OUT"):
            pass
    assert exc.value.report.codes() == {"unwritable_output"} and "Permission denied" in str(exc.value)
    with pytest.raises(InputError):
        atomic.write_csv(tmp_path / "x.csv", __import__("pandas").DataFrame({"a": [1]}))
    assert not list(tmp_path.iterdir())
