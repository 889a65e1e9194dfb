"""Hostile input at the boundaries (issue 13): names that become paths, YAML that attacks the parser, text that a
spreadsheet would run as a formula. Each case must end in a clear error (a catalogued code) or a correct result,
never a traceback or a crash, and must leave its inputs byte-identical."""
from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cli_runner import run_cli
from measurekit.core import atomic
from measurekit.design import check_framework, load_framework
from measurekit.problems import CATALOGUE, InputError

ROOT = Path(__file__).resolve().parents[1]
DANGER = ("=", "+", "-", "@", "\t", "\r")


def _hashes(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): atomic.sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def spec(framework_dir, tmp_path):
    """A private copy of the bundled framework; the test asserts afterwards that checking it changed nothing."""
    d = tmp_path / "fw"
    shutil.copytree(framework_dir, d)
    yield d


def _edit(folder: Path, name: str, change) -> None:
    doc = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
    change(doc)
    (folder / name).write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _check(folder: Path):
    before = _hashes(folder)
    report = check_framework(folder)
    assert _hashes(folder) == before, "checking a specification changed it"
    assert report.codes() <= set(CATALOGUE)
    return report


def _cli(*args, cwd=None, timeout=120):
    """Run the command line in a fresh interpreter, so a crash (segfault) shows as a return code: KEPT for the
    cases that hand hostile text to a parser (libyaml segfaulted on very deep nesting; a named pipe could hang)."""
    proc = subprocess.run([sys.executable, "-m", "measurekit", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-3000:]
    return proc


def _here(*args, cwd=None, timeout=120):
    """The command line in this process (tests/cli_runner.py), for the output-folder cases: nothing there can
    crash the interpreter, and the refusals are decided before anything is read."""
    proc = run_cli(*args, cwd=cwd, timeout=timeout)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-3000:]
    return proc


# ----------------------------------------------------------------------------------- names -> paths
@pytest.mark.parametrize("bad", ["../../../x/PWNED", "a/b", "..", "x y", "", "/etc/passwd", "C:\\evil", "CON",
                                 "a" * 65, "-rf", ".hidden", "é"])
def test_indicator_id_that_is_not_a_safe_file_name_is_reported(spec, bad):
    _edit(spec, "indicators.yaml", lambda d: d["indicators"][0].__setitem__("id", bad))
    report = _check(spec)
    hits = [p for p in report.errors if p.code == "unsafe_name"]
    assert [p.column for p in hits] == ["indicators[0].id"], report.to_text()
    assert hits[0].row is not None


@pytest.mark.parametrize("where,file,path", [
    ("name", "framework.yaml", "name"), ("item", "items.yaml", "items[2].id"),
    ("domain", "items.yaml", "domains[1].id"), ("scale", "scales.yaml", "scales[0].id"),
    ("language", "framework.yaml", "languages[0]")])
def test_every_name_that_becomes_a_path_is_checked(spec, where, file, path, monkeypatch):
    bad = "../../x/PWNED"
    if where == "name":
        _edit(spec, file, lambda d: d.__setitem__("name", bad))
    elif where == "language":
        _edit(spec, file, lambda d: d.__setitem__("languages", [bad] + d["languages"][1:]))
    else:
        key = {"item": "items", "domain": "domains", "scale": "scales"}[where]
        i = int(re.search(r"\[(\d+)\]", path).group(1))
        _edit(spec, file, lambda d: d[key][i].__setitem__("id", bad))
    report = _check(spec)
    assert any(p.code == "unsafe_name" and p.column == path and p.file == file for p in report.errors), report.to_text()
    # the command line in this process: the name is an ordinary string that check_framework just parsed here (above),
    # so a fresh interpreter (about 1 CPU s a case) guarded no crash; the deep-nesting and named-pipe cases keep one.
    # As in a fresh interpreter, the command reads the folder itself (not the copy loaded for _check just above)
    from measurekit.design import loading

    monkeypatch.setattr(loading, "_LOADED", {})
    proc = _here("check-spec", spec)
    assert proc.returncode == 1 and "unsafe_name" in proc.stdout


def test_safe_names_still_pass(spec):
    _edit(spec, "indicators.yaml", lambda d: d["indicators"][0].__setitem__("id", "gld-2025.v2_final"))
    assert not _check(spec).errors


def test_writers_refuse_paths_outside_the_output_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("../escape.txt", "sub/../../escape.txt", str(tmp_path / "escape.txt")):
        with pytest.raises(InputError) as exc:
            atomic.write_text(out / name, "x", root=out)
        assert exc.value.report.codes() == {"unsafe_path"}
        with pytest.raises(InputError):
            atomic.write_csv(out / name, pd.DataFrame({"a": [1]}), root=out)
    (out / "link").symlink_to(tmp_path, target_is_directory=True)      # a symlink out of the folder
    with pytest.raises(InputError):
        atomic.write_text(out / "link" / "escape.txt", "x", root=out)
    assert not (tmp_path / "escape.txt").exists()
    assert atomic.write_text(out / "sub" / "ok.txt", "x", root=out).read_text() == "x"


def test_spec_sheets_and_forms_never_write_outside_their_folder(framework_dir, tmp_path):
    """Even a framework that bypassed the checks (built in code, fields set after validation) cannot escape."""
    from measurekit.design.forms import export_form
    from measurekit.publish.briefing import write_spec_sheets

    fw = load_framework(framework_dir)
    fw.indicators[0].id = "../../PWNED"
    out = tmp_path / "a" / "b"
    out.mkdir(parents=True)
    with pytest.raises(InputError) as exc:
        write_spec_sheets(fw, out)
    assert exc.value.report.codes() == {"unsafe_path"}
    fw = load_framework(framework_dir)
    fw.name = "../../PWNED"
    for fmt in ("xlsform", "redcap"):
        with pytest.raises(InputError):
            export_form(fw, fmt, out)
    fw = load_framework(framework_dir)
    fw.languages = ["../../../PWNED"]
    with pytest.raises(InputError):
        export_form(fw, "html", out)
    assert not list(tmp_path.rglob("*PWNED*"))


# ---------------------------------------------------------------------------------- YAML limits
@pytest.mark.parametrize("text", ["[" * 100_000, "{" * 100_000, "- " * 100_000,
                                  "items:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 300))])
def test_deep_nesting_is_a_clear_error_not_a_crash(spec, text):
    (spec / "items.yaml").write_text(text, encoding="utf-8")
    before = _hashes(spec)
    proc = _cli("check-spec", spec)          # a fresh interpreter: a segfault here must not take pytest with it
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])     # 139 was the libyaml segfault
    assert "yaml_too_deep" in proc.stdout
    assert _hashes(spec) == before


@pytest.mark.parametrize("depth,refused", [(30, False), (45, True)])
def test_depth_is_measured_on_the_text_before_any_parser(spec, depth, refused, monkeypatch):
    """The code is decided by measurekit, not by the wording of a YAML library: with every parser entry point
    broken, a too-deep file is still ``yaml_too_deep``; a moderately nested one is not refused for depth."""
    from measurekit.design import loading

    nested = "extra: " + "[" * depth + "]" * depth + "\n"
    (spec / "scales.yaml").write_text((spec / "scales.yaml").read_text(encoding="utf-8") + nested, encoding="utf-8")
    if refused:
        def broken(*a, **k):
            raise AssertionError("the parser was called before the depth was decided")
        for name in ("scan", "parse", "compose", "load", "safe_load"):
            monkeypatch.setattr(loading.yaml, name, broken)
        monkeypatch.setattr(loading, "_Loader", broken)
    from measurekit.problems import ProblemReport

    report = ProblemReport()
    try:
        loading._read_yaml(spec / "scales.yaml", report, True, {})
    except AssertionError:
        assert not refused
    assert ("yaml_too_deep" in report.codes()) is refused, report.codes()
    if not refused:
        assert "yaml_too_deep" not in _check(spec).codes()


def test_one_long_value_reused_by_alias_everywhere_is_refused(spec):
    """One anchored 60,000-character title reused by every indicator once expanded many megabytes of output."""
    text = (spec / "indicators.yaml").read_text(encoding="utf-8")
    long = "word " * 1_900          # 9,500 characters: under the per-value limit
    doc = "huge: &t \"" + long + "\"\n" + text
    doc = re.sub(r"(?m)^(\s+)title: .*$", lambda m: m.group(1) + "title: *t", doc)
    # repeat the indicators block's titles enough times (extra keys) that the expansion passes the limit
    doc += "copies:\n" + "".join(f"  - [{', '.join(['*t'] * 50)}]\n" for _ in range(12))
    (spec / "indicators.yaml").write_text(doc, encoding="utf-8")
    assert "yaml_alias" in {p.code for p in _check(spec).errors}


def test_a_text_value_longer_than_the_limit_is_refused(spec):
    text = (spec / "framework.yaml").read_text(encoding="utf-8")
    (spec / "framework.yaml").write_text(text + "note: \"" + "x" * 10_001 + "\"\n", encoding="utf-8")
    assert "yaml_text_too_long" in {p.code for p in _check(spec).errors}
    (spec / "framework.yaml").write_text(text + "note: \"" + "x" * 9_000 + "\"\n", encoding="utf-8")
    assert "yaml_text_too_long" not in _check(spec).codes()


def test_alias_bomb_is_refused_before_it_grows(spec):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(8))
    (spec / "framework.yaml").write_text((spec / "framework.yaml").read_text() + bomb, encoding="utf-8")
    report = _check(spec)
    assert "yaml_alias" in {p.code for p in report.errors}, report.to_text()
    with pytest.raises(InputError):
        load_framework(spec)


def test_alias_inside_an_indicator_is_bounded(spec):
    text = (spec / "indicators.yaml").read_text()
    text = text.replace("indicators:", "lol: &l0 [aaaaaaaa, aaaaaaaa, aaaaaaaa, aaaaaaaa, aaaaaaaa, aaaaaaaa]\n"
                        + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9))
                        + "indicators:", 1)
    (spec / "indicators.yaml").write_text(text, encoding="utf-8")
    assert "yaml_alias" in _check(spec).codes()


def test_self_referencing_alias_is_refused(spec):
    (spec / "framework.yaml").write_text((spec / "framework.yaml").read_text() + "loop: &x [1, *x]\n")
    assert "yaml_alias" in _check(spec).codes() or "yaml_syntax" in _check(spec).codes()


def test_small_harmless_aliases_still_load(spec):
    text = (spec / "framework.yaml").read_text()
    (spec / "framework.yaml").write_text(text.replace("version:", "owner_note: &o hello\nowner_copy: *o\nversion:", 1))
    report = _check(spec)
    assert not report.errors and {p.column for p in report if p.code == "unknown_spec_key"} == {"owner_note", "owner_copy"}


def test_oversized_and_unreadable_files_are_clear_errors(spec, monkeypatch):
    from measurekit.design import loading

    monkeypatch.setattr(loading, "MAX_BYTES", 1000)
    assert "yaml_too_large" in _check(spec).codes()
    monkeypatch.undo()
    raw = (spec / "scales.yaml").read_bytes()
    line = raw[: raw.index(b"scales:")].count(b"\n") + 2
    (spec / "scales.yaml").write_bytes(raw.replace(b"scales:", b"scales:\n# caf\xe9\n", 1))
    report = _check(spec)
    bad = [p for p in report.errors if p.code == "unreadable_file"]
    assert bad and bad[0].row == line and "0xe9" in bad[0].message
    (spec / "indicators.yaml").unlink()
    (spec / "indicators.yaml").mkdir()
    assert "unreadable_file" in _check(spec).codes()
    (spec / "items.yaml").unlink()
    (spec / "items.yaml").symlink_to(spec / "items.yaml")               # a symlink loop
    assert "unreadable_file" in _check(spec).codes()


def test_unknown_keys_are_named_and_never_carried_into_outputs(spec, tmp_path):
    _edit(spec, "framework.yaml", lambda d: d.update(payload="PAYLOAD-TOP", scales=[]))
    _edit(spec, "items.yaml", lambda d: (d["items"][0].update(colour="PAYLOAD-ITEM"), d.update(extra_block=[1, 2])))
    _edit(spec, "indicators.yaml", lambda d: d["indicators"][0]["compute"].update(secret="PAYLOAD-IND"))
    report = _check(spec)
    assert not report.errors
    named = {(p.file, p.column) for p in report.warnings if p.code == "unknown_spec_key"}
    assert {("framework.yaml", "payload"), ("framework.yaml", "scales"), ("items.yaml", "items[0].colour"),
            ("items.yaml", "extra_block"), ("indicators.yaml", "indicators[0].compute.secret")} <= named
    fw = load_framework(spec)
    assert "PAYLOAD" not in fw.model_dump_json()
    from measurekit.design.forms import export_form
    from measurekit.publish.briefing import write_spec_sheets

    out = tmp_path / "out"
    write_spec_sheets(fw, out)
    export_form(fw, "redcap", out)
    assert not [p for p in out.rglob("*") if p.is_file() and b"PAYLOAD" in p.read_bytes()]


def test_a_spec_broken_three_ways_reports_all_three_in_one_pass(spec):
    def change(d):
        d["items"][1]["id"] = d["items"][0]["id"]          # duplicated id
        d["items"][2]["scale"] = "no_such_scale"           # unknown scale
        del d["items"][3]["id"]                            # item without an id
    _edit(spec, "items.yaml", change)
    report = _check(spec)
    where = {(p.code, p.column) for p in report.errors}
    assert ("duplicate_id", "items[0].id") in where and ("duplicate_id", "items[1].id") in where
    assert ("unknown_scale", "items[2].scale") in where
    assert ("invalid_field", "items[3].id") in where
    assert all(p.row for p in report.errors)


def test_a_broken_scale_is_reported_once_not_again_as_unknown(spec):
    _edit(spec, "scales.yaml", lambda d: d["scales"][0].__setitem__("options", "not a list"))
    report = _check(spec)
    assert "invalid_field" in report.codes() and "unknown_scale" not in report.codes()
    # and later entries keep their own position in the file
    _edit(spec, "items.yaml", lambda d: (d["items"][0].pop("stem"), d["items"][5].__setitem__("domain", "nope")))
    where = {(p.code, p.column) for p in _check(spec).errors}
    assert ("unknown_domain", "items[5].domain") in where and ("invalid_field", "items[0].stem") in where


# -------------------------------------------------------------------------------- formula injection
def _cell_is_safe(text: str) -> bool:
    """Independent check: a cell is safe if it does not start like a formula, or is a plain number."""
    if not text or text[0] not in DANGER:
        return True
    try:
        float(text)
        return True
    except ValueError:
        return text in ("-", "+")


HOSTILE = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1",
           "=1", "plain", "-1.5", "+44", "1e5"]


def test_write_csv_neutralises_formula_text_and_keeps_numbers(tmp_path):
    frame = pd.DataFrame({"text": HOSTILE, "num": range(len(HOSTILE)), "neg": [-1.5] * len(HOSTILE),
                          "cat": pd.Categorical(["=1"] * len(HOSTILE)), "=evil header": "ok"})
    path = atomic.write_csv(tmp_path / "x.csv", frame)
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))
    assert all(_cell_is_safe(c) for r in rows for c in r), rows
    assert len(rows) == len(HOSTILE) + 1 and {len(r) for r in rows} == {5}      # a bare CR did not split a row
    back = pd.read_csv(path)
    assert back["num"].tolist() == list(range(len(HOSTILE))) and (back["neg"] == -1.5).all()
    assert back["text"].tolist()[:7] == ["'" + h.replace("\r", "\n") for h in HOSTILE[:7]]
    assert back["text"].tolist()[7:] == ["plain", -1.5, 44, 1e5] or back["text"].astype(str).tolist()[7:] == [
        "plain", "-1.5", "+44", "1e5"]
    assert frame["text"].tolist() == HOSTILE            # the caller's frame is not changed


def _xlsx_formulas(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [m for n in z.namelist() if n.startswith("xl/worksheets/")
                for m in re.findall(r"<f[ >].*?</f>", z.read(n).decode("utf-8"))]


def test_workbooks_hold_no_formula_cells(tmp_path):
    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    for v in HOSTILE:
        wb.active.append([v, 3.5])
    path = atomic.save_workbook(wb, tmp_path / "x.xlsx")
    assert _xlsx_formulas(path) == []
    back = load_workbook(path)
    values = [r[0].value for r in back.active.iter_rows()]
    assert values == [h.replace("\r", "\n") for h in HOSTILE] and all(r[1].value == 3.5 for r in back.active.iter_rows())
    assert all(r[0].data_type == "s" for r in back.active.iter_rows())


def test_hostile_titles_reach_the_board_pack_as_text(framework_dir, tmp_path):
    from measurekit.synth.cohort import make_cohort
    from measurekit.publish.board_pack import write_board_pack

    fw = load_framework(framework_dir)
    fw.indicators = fw.indicators[:2]
    fw.indicators[0].title = '=HYPERLINK("http://evil.example","click")'
    fw.indicators[1].definition = "@SUM(1+1)"
    cohort = make_cohort(n=300, random_state=3)
    small = cohort.tables["small_areas"]
    small.loc[small.index[0], "neighbourhood_name"] = "=cmd|' /C calc'!A0"
    files = write_board_pack(fw, cohort, tmp_path / "pack")
    csvs = list((tmp_path / "pack").rglob("*.csv"))
    assert csvs
    for p in csvs:
        rows = list(csv.reader(io.StringIO(p.read_text(encoding="utf-8"), newline="")))
        assert all(_cell_is_safe(c) for r in rows for c in r), p
    books = list((tmp_path / "pack").rglob("*.xlsx"))
    assert books and all(_xlsx_formulas(b) == [] for b in books)
    assert files


def test_exported_forms_hold_no_formula_cells(framework_dir, tmp_path):
    from measurekit.design.forms import export_form

    fw = load_framework(framework_dir)
    fw.items[0].stem["en"] = "=HYPERLINK(\"http://evil\")"
    fw.items[1].stem["en"] = "- a list-like stem"
    xlsx = export_form(fw, "xlsform", tmp_path)[0]
    assert _xlsx_formulas(xlsx) == []
    from openpyxl import load_workbook

    labels = [c.value for c in load_workbook(xlsx)["survey"]["C"]]
    assert "=HYPERLINK(\"http://evil\")" in labels or any("HYPERLINK" in str(v) for v in labels)
    red = export_form(fw, "redcap", tmp_path)[0]
    rows = list(csv.reader(io.StringIO(red.read_text(encoding="utf-8"), newline="")))
    assert all(_cell_is_safe(c) for r in rows for c in r)


def test_media_named_outside_the_framework_folder_is_never_copied(framework_dir, tmp_path):
    from measurekit.design.forms import media_files
    from measurekit.design.models import Media

    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for the form")
    fw = load_framework(framework_dir)
    for ref in (str(secret), "../" * 12 + str(secret).lstrip("/"), "media/../../" + "x" * 3):
        fw.items[0].media = Media(image={"en": ref})
        with pytest.raises(InputError) as exc:
            media_files(fw)
        assert "missing_media" in exc.value.report.codes()


# ---------------------------------------------------------------------- outputs never destroy inputs (issue 31)
@pytest.fixture
def workspace(framework_dir, synthetic_dir, tmp_path):
    """A user's project: a data folder D and a framework folder FW side by side, each a private copy."""
    project = tmp_path / "project"
    shutil.copytree(synthetic_dir, project / "D")
    shutil.copytree(framework_dir, project / "FW")
    (project / "notes.txt").write_text("the analyst's own notes\n", encoding="utf-8")
    return project


def _tree(folder: Path) -> dict:
    """Every file under ``folder`` (and the folder's own hash-free listing), to prove nothing changed."""
    return {p.relative_to(folder).as_posix(): (atomic.sha256(p) if p.is_file() else "dir")
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("case", [
    "run --data D --out D", "run --data D --out .", "board-pack --data D --out D", "board-pack --data D --out FW",
    "link D --out D", "validate D --report D/children.csv", "export-form FW --format redcap --out FW/items.yaml",
    "synth --out D", "run --data D --out D/results", "check-ees D/children.csv --report D/children.csv",
    "synth --out FW", "run --out BUNDLED", "board-pack --data D --out DATA_PARENT"])
def test_an_output_over_an_input_is_refused_and_nothing_changes(workspace, synthetic_dir, case):
    args = case.split()
    needs_fw = args[0] in ("run", "board-pack", "link", "validate", "synth")
    if needs_fw and "--framework" not in args and not (args[0] == "run" and "--data" not in args):
        args += ["--framework", str(workspace / "FW")]
    args = [str(synthetic_dir) if a == "BUNDLED" else str(workspace.parent) if a == "DATA_PARENT"
            else str(workspace) if a == "." else a for a in args]
    before = _tree(workspace)
    bundled_before = _tree(synthetic_dir)
    proc = _here(*args, cwd=workspace, timeout=300)
    assert proc.returncode == 1, (case, proc.returncode, proc.stdout[-1000:], proc.stderr[-2000:])
    assert re.search(r"output_overlaps_input|output_not_ours", proc.stderr), proc.stderr
    assert "Nothing was written" in proc.stderr and "Choose" in proc.stderr, proc.stderr
    assert _tree(workspace) == before, case
    assert _tree(synthetic_dir) == bundled_before


def test_an_existing_folder_measurekit_did_not_make_is_refused(workspace, tmp_path):
    other = tmp_path / "holiday_photos"
    other.mkdir()
    (other / "a.jpg").write_bytes(b"\xff\xd8 not really a photo")
    proc = _here("link", "D", "--framework", "FW", "--out", other, cwd=workspace)
    assert proc.returncode == 1 and "output_not_ours" in proc.stderr
    assert (other / "a.jpg").read_bytes() == b"\xff\xd8 not really a photo"


def test_re_running_into_measurekits_own_output_is_allowed(workspace, tmp_path):
    out = tmp_path / "linked"
    for _ in range(2):
        proc = _here("link", "D", "--framework", "FW", "--out", out, cwd=workspace)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert (out / "linked.csv").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _here("link", "D", "--framework", "FW", "--out", empty, cwd=workspace).returncode == 0


def test_synth_replaces_only_what_synth_made(workspace, tmp_path, monkeypatch, capsys):
    """The first synth through tests/cli_runner.py (from the project folder); the four commands after it by
    ``measurekit.cli.main`` from the same folder (its own exit code and messages): each synth in a fresh
    interpreter paid the imports and the framework's population truth again (about 5 s of CPU each)."""
    from measurekit.cli import main

    def mk(*args):
        code = main([str(a) for a in args])
        err = capsys.readouterr().err
        assert "Traceback" not in err, err[-3000:]
        return code, err

    out = tmp_path / "practice"
    proc = _here("synth", "--n", 200, "--framework", "FW", "--out", out, cwd=workspace)
    assert proc.returncode == 0, proc.stderr[-2000:]
    monkeypatch.chdir(workspace)
    code, err = mk("synth", "--n", 200, "--framework", "FW", "--out", out)    # a re-run into its own output is allowed
    assert code == 0, err[-2000:]
    linked = tmp_path / "linked"
    assert mk("link", "D", "--framework", "FW", "--out", linked)[0] == 0
    before = _tree(linked)
    code, err = mk("synth", "--n", 200, "--framework", "FW", "--out", linked)
    assert code == 1 and "output_not_ours" in err
    assert _tree(linked) == before
    # and another command does not replace synthetic data (it may be somebody's input)
    before = _tree(out)
    code, err = mk("link", "D", "--framework", "FW", "--out", out)
    assert code == 1 and "output_not_ours" in err
    assert _tree(out) == before


def test_matplotlib_writes_nothing_under_home(tmp_path):
    """With an empty $HOME and no MPLCONFIGDIR, drawing a chart through measurekit leaves $HOME empty."""
    import os

    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    env["HOME"] = str(home)
    code = ("import measurekit, os; import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt; "
            "plt.plot([1, 2]); plt.savefig(os.devnull, format='png'); print(matplotlib.get_cachedir())")
    # a fresh interpreter is the point: what `import measurekit` sets up (MPLCONFIGDIR) before matplotlib loads
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not str(home) in proc.stdout and not list(home.rglob("*")), list(home.rglob("*"))


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="named pipes need a POSIX system")
def test_a_named_pipe_in_a_framework_is_refused_without_waiting(spec):
    import os

    os.remove(spec / "scales.yaml")
    os.mkfifo(spec / "scales.yaml")
    proc = _cli("check-spec", spec, timeout=120)     # a fresh interpreter: the parser meets a special file
    assert proc.returncode == 1 and "special_file" in proc.stdout, proc.stdout[-2000:]


def test_config_yaml_gets_the_same_limits(tmp_path, synthetic_dir):
    from measurekit.data.readers import load_config

    cfg = tmp_path / "config.yaml"
    cfg.write_text("columns: " + "[" * 5000 + "\n")
    with pytest.raises(InputError) as exc:
        load_config(cfg)
    assert exc.value.report.codes() == {"yaml_too_deep"}
    cfg.write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(8)))
    with pytest.raises(InputError) as exc:
        load_config(cfg)
    assert exc.value.report.codes() == {"yaml_alias"}


def test_library_calls_never_replace_a_folder_measurekit_did_not_make(workspace):
    """The last line for notebook and library users: a board pack written over the data folder is refused."""
    import measurekit as mk
    from measurekit.publish.board_pack import write_board_pack

    fw = load_framework(workspace / "FW")
    cohort = mk.make_cohort(200, random_state=5, framework=workspace / "FW", truth=False)
    before = _tree(workspace)
    with pytest.raises(InputError) as exc:
        write_board_pack(fw, cohort, workspace / "D")
    assert exc.value.report.codes() == {"output_not_ours"}
    assert _tree(workspace) == before
