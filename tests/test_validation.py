"""Validation reports every planted problem, with row, column, value and code; inputs never change."""
import shutil

import pandas as pd
import pytest

from cli_runner import run_cli
from measurekit.core.atomic import sha256
from measurekit.data import read_dir, validate_dir
from measurekit.problems import InputError

from conftest import FRAMEWORK_DIR


@pytest.fixture()
def corrupted(tmp_path, synthetic_dir):
    d = tmp_path / "data"
    shutil.copytree(synthetic_dir, d)
    ch = pd.read_csv(d / "children.csv", dtype=str, keep_default_na=False)
    planted = []
    ch = pd.concat([ch, ch.iloc[[2]]], ignore_index=True)               # duplicate id (rows 4 and last)
    planted += [("duplicate_id", 4, "child_id"), ("duplicate_id", len(ch) + 1, "child_id")]
    ch.loc[10, "sex"] = "X"; planted.append(("unknown_code", 12, "sex"))
    ch.loc[11, "idaci_decile"] = "11"; planted.append(("out_of_range", 13, "idaci_decile"))
    ch.loc[12, "date_of_birth"] = "2020-02-30"; planted.append(("invalid_date", 14, "date_of_birth"))
    ch.loc[13, "date_of_birth"] = "2031-01-05"; planted.append(("future_date", 15, "date_of_birth"))
    ch.loc[14, "fsm"] = "yes"; planted.append(("wrong_type", 16, "fsm"))
    ch.loc[15, "small_area"] = "SYN-XXX-99"; planted.append(("unknown_small_area", 17, "small_area"))
    ch.to_csv(d / "children.csv", index=False)
    e = pd.read_csv(d / "eyfsp.csv", dtype=str, keep_default_na=False)
    row = e.index[e["gld"] == "1"][0]
    e.loc[row, "elg_writing"] = "1"                                      # GLD column now disagrees with the ELGs
    planted += [("gld_mismatch", row + 2, "gld"), ("total_elgs_mismatch", row + 2, "total_elgs_expected")]
    e.to_csv(d / "eyfsp.csv", index=False)
    v = pd.read_csv(d / "voice_parent.csv", dtype=str, keep_default_na=False)
    v.loc[5, "hl2"] = "7"; planted.append(("item_out_of_scale", 7, "hl2"))
    v.loc[6, "child_id"] = "CH000000"; planted.append(("unknown_child", 8, "child_id"))
    v.loc[7, "completed_on"] = "2019-01-01"; planted.append(("date_before_birth", 9, "completed_on"))
    v.to_csv(d / "voice_parent.csv", index=False)
    a = pd.read_csv(d / "asq.csv", dtype=str, keep_default_na=False)
    a.loc[2, "asq_communication"] = "33"; planted.append(("asq_not_multiple_of_5", 4, "asq_communication"))
    a.to_csv(d / "asq.csv", index=False)
    return d, planted


def test_clean_data_has_no_problems(synthetic_dir):
    report = validate_dir(synthetic_dir, framework=FRAMEWORK_DIR)
    assert report.ok and len(report) == 0


def test_report_names_every_planted_error(corrupted):
    folder, planted = corrupted
    report = validate_dir(folder, framework=FRAMEWORK_DIR)
    assert not report.ok
    found = {(p.code, p.row, p.column) for p in report.problems}
    missing = [p for p in planted if p not in found]
    assert not missing, f"not reported: {missing}"
    frame = report.to_frame()
    assert list(frame.columns) == ["severity", "code", "file", "row", "column", "value", "rule", "message"]
    bad_sex = frame[(frame.code == "unknown_code") & (frame.column == "sex")].iloc[0]
    assert bad_sex["value"] == "X" and bad_sex["file"] == "children.csv" and "F|M" in bad_sex["rule"]
    # anything else reported is a true knock-on effect of a planted error (the future birth date)
    extra = {(p.code, p.file) for p in report.errors if (p.code, p.row, p.column) not in set(planted)}
    assert extra <= {("summer_born_mismatch", "children.csv"), ("date_before_birth", "voice_practitioner.csv"),
                     ("date_before_birth", "voice_parent.csv")}, extra


def test_validation_never_modifies_inputs(corrupted):
    folder, _ = corrupted
    before = {p.name: sha256(p) for p in folder.iterdir()}
    validate_dir(folder, framework=FRAMEWORK_DIR)
    with pytest.raises(InputError):
        read_dir(folder, framework=FRAMEWORK_DIR)
    assert {p.name: sha256(p) for p in folder.iterdir()} == before


def test_read_dir_raises_with_the_whole_report(corrupted):
    folder, planted = corrupted
    with pytest.raises(InputError) as info:
        read_dir(folder, framework=FRAMEWORK_DIR)
    assert len(info.value.report.errors) >= len(planted)


def test_cli_exit_codes_and_report_file(corrupted, synthetic_dir, tmp_path, capsys):
    """The failing validate through tests/cli_runner.py, the passing one by ``measurekit.cli.main``."""
    from measurekit.cli import main

    folder, _ = corrupted
    bad = run_cli("validate", folder, "--framework", FRAMEWORK_DIR, "--report", tmp_path / "r.csv")
    assert bad.returncode == 1
    assert "gld_mismatch" in bad.stdout and "row" in bad.stdout
    assert len(pd.read_csv(tmp_path / "r.csv")) >= 10
    capsys.readouterr()
    good = main(["validate", str(synthetic_dir)])
    assert good == 0, capsys.readouterr()


def test_missing_required_file_and_column(tmp_path, synthetic_dir):
    d = tmp_path / "d"
    shutil.copytree(synthetic_dir, d)
    (d / "eyfsp.csv").unlink()
    ch = pd.read_csv(d / "children.csv", dtype=str, keep_default_na=False).drop(columns=["sex"])
    ch.to_csv(d / "children.csv", index=False)
    report = validate_dir(d, framework=FRAMEWORK_DIR)
    codes = {(p.code, p.column) for p in report.problems}
    assert ("missing_column", "sex") in codes
    assert any(p.code == "missing_file" and "eyfsp" in (p.file or "") for p in report.problems)


def test_la_headers_excel_and_kobo_export_via_config(tmp_path, synthetic_dir):
    """An LA's own headers (Excel) and a KoboToolbox export read through the column-mapping config."""
    d = tmp_path / "la"
    shutil.copytree(synthetic_dir, d)
    ch = pd.read_csv(d / "children.csv", dtype=str, keep_default_na=False)
    (d / "children.csv").unlink()
    ch = ch.rename(columns={"child_id": "PupilRef", "sex": "Gender"})
    ch["Gender"] = ch["Gender"].map({"F": "Female", "M": "Male"})
    ch.to_excel(d / "pupils.xlsx", index=False)
    v = pd.read_csv(d / "voice_parent.csv", dtype=str, keep_default_na=False)
    (d / "voice_parent.csv").unlink()
    kobo = v.rename(columns={c: f"group_a/{c}" for c in v.columns if c[:2] in ("hl", "wb", "sv", "cc")})
    kobo = kobo.rename(columns={"response_id": "_uuid", "completed_on": "_submission_time"})
    kobo["_submission_time"] = kobo["_submission_time"] + "T10:11:12"
    kobo["_index"] = range(len(kobo))
    kobo.to_csv(d / "kobo_export.csv", index=False)
    (d / "config.yaml").write_text(
        "files:\n"
        "  children:\n    path: pupils.xlsx\n    columns: {PupilRef: child_id, Gender: sex}\n"
        "    values: {sex: {Female: F, Male: M}}\n"
        "  voice_parent:\n    path: kobo_export.csv\n")
    report = validate_dir(d, config=d / "config.yaml", framework=FRAMEWORK_DIR)
    assert report.ok, report.to_text()
    cohort = read_dir(d, config=d / "config.yaml", framework=FRAMEWORK_DIR)
    assert cohort.analysis_frame()["responded"].sum() == len(v)
    assert set(cohort.tables["children"]["sex"]) == {"F", "M"}
