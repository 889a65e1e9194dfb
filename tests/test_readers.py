"""Readers at the file boundary (issue 13): delimiters, encodings, Excel, two files for one table, duplicated
headers, long values, date formats, one mapping for every file, coded columns, header-only files,
completeness across files, symbolic links and the console's report-file line. Every case asserts a clear
problem (code, row, column) or a correct result, never a traceback, and the inputs stay byte-identical."""
import csv
import os
import shutil

import pytest

from cli_runner import run_cli
from measurekit.core.atomic import sha256
from measurekit.data import read_dir, validate_dir
from measurekit.problems import CATALOGUE, InputError

from conftest import FRAMEWORK_DIR

N_CHILDREN = 200


def _read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _write(path, header, rows, delimiter=",", encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, delimiter=delimiter, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


@pytest.fixture(scope="session")
def small_src(tmp_path_factory, synthetic_dir):
    """The first 200 children of the bundled cohort with their records in every other file (a valid folder)."""
    d = tmp_path_factory.mktemp("small")
    header, rows = _read(synthetic_dir / "children.csv")
    rows = rows[:N_CHILDREN]
    ids = {r[0] for r in rows}
    _write(d / "children.csv", header, rows)
    for src in synthetic_dir.glob("*.csv"):
        if src.name == "children.csv":
            continue
        h, body = _read(src)
        if "child_id" in h:
            k = h.index("child_id")
            body = [r for r in body if r[k] in ids]
        _write(d / src.name, h, body)
    return d


@pytest.fixture()
def small(tmp_path, small_src):
    d = tmp_path / "data"
    shutil.copytree(small_src, d)
    return d


def _codes(report):
    return {p.code for p in report.problems}


def _unchanged(folder):
    return {p.name: sha256(p) for p in folder.iterdir() if p.is_file()}


def test_small_folder_is_clean(small):
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    assert report.ok and len(report) == 0, report.to_text()


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_delimiter_detected_and_named(small, delimiter):
    for name in ("children.csv", "eyfsp.csv"):
        h, rows = _read(small / name)
        _write(small / name, h, rows, delimiter=delimiter)
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    assert report.ok, report.to_text()
    notes = [p for p in report.problems if p.code == "delimiter_detected"]
    assert {p.file for p in notes} == {"children.csv", "eyfsp.csv"}
    word = "semicolon" if delimiter == ";" else "tab"
    assert all(word in p.message and p.severity == "info" for p in notes)
    cohort = read_dir(small, framework=FRAMEWORK_DIR)
    assert len(cohort.tables["children"]) == N_CHILDREN and "sex" in cohort.tables["children"]


def test_cp1252_byte_read_with_row_and_column(small):
    h, rows = _read(small / "small_areas.csv")
    col = h.index("small_area_name")
    rows[4][col] = rows[4][col] + " Caf\u00e9"             # é is 0xE9 in Windows-1252, not valid UTF-8
    _write(small / "small_areas.csv", h, rows, encoding="cp1252")
    before = _unchanged(small)
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    assert report.ok, report.to_text()
    [p] = [p for p in report.problems if p.code == "encoding_fallback"]
    assert (p.row, p.column, p.value) == (6, "small_area_name", "0xe9")
    assert "row 6" in p.message and "cp1252" in p.message
    assert read_dir(small, framework=FRAMEWORK_DIR).tables["small_areas"]["small_area_name"].iloc[4].endswith("Caf\u00e9")
    assert _unchanged(small) == before


def test_undecodable_byte_names_row_column_and_encodings_tried(small):
    data = (small / "children.csv").read_bytes().split(b"\n")
    cells = data[3].split(b",")
    cells[7] = cells[7] + b"\x81"                        # undefined in cp1252 and invalid in UTF-8
    data[3] = b",".join(cells)
    (small / "children.csv").write_bytes(b"\n".join(data))
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    [p] = [p for p in report.problems if p.code == "undecodable_byte"]
    assert p.row == 4 and p.column == "home_language" and p.file == "children.csv"
    assert "utf-8, cp1252" in p.message and "column 8" in p.message


def test_xlsx_read_with_real_dates(small):
    from openpyxl import Workbook
    import datetime as dt

    h, rows = _read(small / "children.csv")
    (small / "children.csv").unlink()
    wb = Workbook()
    ws = wb.active
    ws.append(h)
    k = h.index("date_of_birth")
    ints = {h.index(c) for c in ("summer_born", "fsm", "eal", "idaci_decile", "mobility")}
    for r in rows:
        cells = [int(v) if i in ints else v for i, v in enumerate(r)]
        cells[k] = dt.datetime.fromisoformat(r[k])      # Excel stores dates as dates
        ws.append(cells)
    wb.save(small / "children.xlsx")
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    assert report.ok, report.to_text()
    ch = read_dir(small, framework=FRAMEWORK_DIR).tables["children"]
    assert list(ch["date_of_birth"]) == [r[k] for r in rows]
    assert ch["idaci_decile"].dtype == "int64"


def test_two_files_for_one_table_is_an_error(small):
    shutil.copy(small / "children.csv", small / "children.xlsx")
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    [p] = [p for p in report.problems if p.code == "ambiguous_file"]
    assert p.severity == "error" and "children.csv" in p.message and "children.xlsx" in p.message
    assert "path" in p.message


def test_duplicate_header_named(small):
    h, rows = _read(small / "children.csv")
    k = h.index("fsm")
    _write(small / "children.csv", h + ["fsm"], [r + [r[k]] for r in rows])
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    dup = [p for p in report.problems if p.code == "duplicate_column"]
    assert len(dup) == 1 and dup[0].column == "fsm" and f"columns {k + 1}, {len(h) + 1}" in dup[0].message
    assert not any(p.code == "unknown_column" for p in report.problems)


def test_long_value_cut_in_messages(small):
    h, rows = _read(small / "children.csv")
    rows[0][h.index("sex")] = "X" * 30_000
    _write(small / "children.csv", h, rows)
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    [p] = [p for p in report.problems if p.code == "unknown_code" and p.column == "sex"]
    assert len(p.message) < 400 and len(str(p.value)) <= 80 and "30,000 characters" in p.value
    assert len(report.to_text()) < 5_000


def test_a_field_longer_than_a_cell_is_refused_before_it_is_used(small):
    """A 1 MB neighbourhood name once drove a run past 17 GB: a field over 32,767 characters (Excel's cell limit)
    stops the file with its row and column, and the message never echoes the value whole."""
    before = _unchanged(small)
    h, rows = _read(small / "children.csv")
    rows[4][h.index("neighbourhood")] = "N" * 1_000_000
    _write(small / "children.csv", h, rows)
    before = _unchanged(small)
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    [p] = [p for p in report.problems if p.code == "field_too_long"]
    assert (p.row, p.column, p.file) == (6, "neighbourhood", "children.csv")
    assert "1,000,000 characters" in p.message and len(p.message) < 500 and len(str(p.value)) <= 80
    assert not report.ok and len(report.to_text()) < 5_000
    assert _unchanged(small) == before
    with pytest.raises(InputError):
        read_dir(small, framework=FRAMEWORK_DIR)


def test_names_longer_than_a_label_are_errors(small):
    h, rows = _read(small / "small_areas.csv")
    rows[1][h.index("small_area_name")] = "A very long name " * 10
    _write(small / "small_areas.csv", h, rows)
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    [p] = [p for p in report.problems if p.code == "name_too_long"]
    assert (p.row, p.column, p.severity) == (3, "small_area_name", "error")


def test_two_neighbourhoods_with_one_name_are_an_error(small):
    """Two neighbourhood codes under one name would be merged into one row of the published files."""
    h, rows = _read(small / "small_areas.csv")
    code, name = h.index("neighbourhood_code"), h.index("neighbourhood")
    names = sorted({r[name] for r in rows})
    assert len(names) >= 2
    first, second = names[0], names[1]
    second_code = next(r[code] for r in rows if r[name] == second)
    # give the second neighbourhood the first one's name in the lookup (and in children.csv, so only this differs)
    for r in rows:
        if r[name] == second:
            r[name] = first
    _write(small / "small_areas.csv", h, rows)
    hc, crows = _read(small / "children.csv")
    for r in crows:
        if r[hc.index("neighbourhood")] == second:
            r[hc.index("neighbourhood")] = first
    _write(small / "children.csv", hc, crows)
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    dup = [p for p in report.problems if p.code == "duplicate_name"]
    assert len(dup) == 1 and dup[0].column == "neighbourhood" and dup[0].value == first, report.to_text()
    assert second_code in dup[0].message and dup[0].file == "small_areas.csv" and dup[0].row >= 2
    assert not report.ok


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_a_named_pipe_is_refused_without_waiting(small, tmp_path):
    os.remove(small / "asq.csv")
    os.mkfifo(small / "asq.csv")
    # in this process: a command that waited on the pipe is stopped by the timeout (subprocess.TimeoutExpired)
    proc = run_cli("validate", small, "--framework", FRAMEWORK_DIR, timeout=120)
    assert proc.returncode == 1 and "special_file" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_a_link_leading_outside_the_data_folder_is_refused(small, tmp_path):
    secret = tmp_path / "elsewhere" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:SECRET-FIRST-LINE\n")
    os.remove(small / "asq.csv")
    os.symlink(secret, small / "asq.csv")
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    [p] = [p for p in report.problems if p.file == "asq.csv"]
    assert p.code == "link_outside" and "SECRET" not in report.to_text()
    # a link to a file inside the data folder is still read
    os.remove(small / "asq.csv")
    os.rename(small / "eyfsp.csv", small / "eyfsp_2025.csv")
    os.symlink("eyfsp_2025.csv", small / "eyfsp.csv")
    assert "link_outside" not in _codes(validate_dir(small, framework=FRAMEWORK_DIR))


@pytest.mark.parametrize("text,code,expect", [
    ("date_fromat: '%d/%m/%Y'\n", "unknown_config_key", "Did you mean 'date_format'?"),
    ("files:\n  pupils:\n    path: p.csv\n", "unknown_config_key", "children"),
    ("files:\n  children:\n    pth: p.csv\n", "unknown_config_key", "Did you mean 'path'?"),
    ("columns: {UPN: child_id\n", "yaml_syntax", "line"),
    ("columns:\n  - a\n   b: c\n", "yaml_syntax", "line"),
])
def test_config_mistakes_are_clear_errors(small, text, code, expect, capsys):
    """The call and the command line (``measurekit.cli.main`` in this process: its exit code and what it prints; a
    fresh interpreter for each of the five cases cost about a second of CPU each)."""
    from measurekit.cli import main

    (small / "config.yaml").write_text(text)
    with pytest.raises(InputError) as exc:
        validate_dir(small, config=small / "config.yaml", framework=FRAMEWORK_DIR)
    [p] = exc.value.report.problems
    assert p.code == code and expect in p.message, p.message
    capsys.readouterr()
    rc = main(["validate", str(small), "--framework", str(FRAMEWORK_DIR), "--config", str(small / "config.yaml")])
    err = capsys.readouterr().err
    assert rc == 1 and code in err and "Traceback" not in err, err[-2000:]


def test_a_config_that_does_not_exist_is_a_clear_error(small, tmp_path):
    proc = run_cli("run", "--data", small, "--framework", FRAMEWORK_DIR, "--config", tmp_path / "nope.yaml",
                   "--out", tmp_path / "out", timeout=300)
    assert proc.returncode == 1 and "missing_file" in proc.stderr and "nope.yaml" in proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def test_a_wrong_path_in_the_config_is_reported_as_that_path(small):
    (small / "config.yaml").write_text("files:\n  asq:\n    path: asq_2025.csv\n")
    report = validate_dir(small, config=small / "config.yaml", framework=FRAMEWORK_DIR)
    [p] = [p for p in report.problems if p.code == "missing_file"]
    assert "asq_2025.csv" in p.message and "path:" in p.message and "or a path in the config" not in p.message


def test_uk_dates_suggested_then_declared(small):
    h, rows = _read(small / "children.csv")
    k = h.index("date_of_birth")
    iso = [r[k] for r in rows]
    for r in rows:
        y, m, d = r[k].split("-")
        r[k] = f"{d}/{m}/{y}"
    _write(small / "children.csv", h, rows)
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    [hint] = [p for p in report.problems if p.code == "date_format_hint"]
    assert '"%d/%m/%Y"' in hint.message and hint.column == "date_of_birth"
    bad = [p for p in report.problems if p.code == "invalid_date"]
    assert len(bad) == N_CHILDREN and "%d/%m/%Y" in bad[0].message
    (small / "config.yaml").write_text('date_format: "%d/%m/%Y"\n')
    report = validate_dir(small, config=small / "config.yaml", framework=FRAMEWORK_DIR)
    assert report.ok, report.to_text()
    assert list(read_dir(small, config=small / "config.yaml", framework=FRAMEWORK_DIR).tables["children"]["date_of_birth"]) == iso


def test_one_mapping_block_for_every_file(small):
    for src in small.glob("*.csv"):
        h, rows = _read(src)
        if "child_id" in h:
            _write(src, ["UPN" if c == "child_id" else c for c in h], rows)
    assert any(p.code == "missing_column" for p in validate_dir(small, framework=FRAMEWORK_DIR).problems)
    (small / "config.yaml").write_text("columns: {UPN: child_id}\n")
    report = validate_dir(small, config=small / "config.yaml", framework=FRAMEWORK_DIR)
    assert report.ok, report.to_text()


def test_coded_column_message_names_allowed_values_and_mapping(small):
    h, rows = _read(small / "children.csv")
    k = h.index("fsm")
    for r in rows:
        r[k] = "Y" if r[k] == "1" else "N"
    s = h.index("sex")
    rows[0][s] = "Female"
    _write(small / "children.csv", h, rows)
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    fsm = [p for p in report.problems if p.column == "fsm"]
    assert fsm and all(p.code == "wrong_type" for p in fsm)
    assert "allowed codes: 0, 1" in fsm[0].message and "values: {fsm: {'" in fsm[0].message
    assert "'Y': 1" in fsm[0].message and "'N': 0" in fsm[0].message
    [sex] = [p for p in report.problems if p.column == "sex"]
    assert "allowed: F, M" in sex.message and "values: {sex: {'Female': <one of F, M>}}" in sex.message
    (small / "config.yaml").write_text('values: {fsm: {"Y": 1, "N": 0}, sex: {Female: F}}\n')
    assert validate_dir(small, config=small / "config.yaml", framework=FRAMEWORK_DIR).ok


def test_header_only_children_does_not_crash(small):
    h, _ = _read(small / "children.csv")
    _write(small / "children.csv", h, [])
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    assert not report.ok and "unknown_child" in _codes(report)
    with pytest.raises(InputError):
        read_dir(small, framework=FRAMEWORK_DIR)


@pytest.mark.parametrize("dropped, severity", [(2, "warning"), (40, "error"), (N_CHILDREN, "error")])
def test_children_without_eyfsp_counted(small, dropped, severity):
    h, rows = _read(small / "eyfsp.csv")
    _write(small / "eyfsp.csv", h, rows[dropped:])
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    [p] = [p for p in report.problems if p.code == "missing_eyfsp"]
    assert p.severity == severity and p.value == str(dropped) and f"{dropped:,} of {N_CHILDREN}" in p.message
    if severity == "warning":
        cohort = read_dir(small, framework=FRAMEWORK_DIR)
        assert cohort.completeness.without_eyfsp == dropped and cohort.completeness.children == N_CHILDREN


def test_elg_not_assessed_counted_and_error_above_threshold(small):
    h, rows = _read(small / "eyfsp.csv")
    k = h.index("elg_past_present")                   # not a GLD goal: GLD and totals stay consistent
    tot = h.index("total_elgs_expected")
    for r in rows[:30]:
        if r[k] == "2":
            r[tot] = str(int(r[tot]) - 1)
        r[k] = "A"
    _write(small / "eyfsp.csv", h, rows)
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    [p] = [p for p in report.problems if p.code == "elg_not_assessed"]
    n = int(p.value)
    assert n >= 30 and p.severity == "error"
    (small / "config.yaml").write_text("completeness_threshold: 0.5\n")
    cohort = read_dir(small, config=small / "config.yaml", framework=FRAMEWORK_DIR)
    assert cohort.completeness.not_assessed == n


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_symlink_loop_is_not_a_missing_file(small):
    (small / "children.csv").unlink()
    os.symlink(small / "children.csv", small / "children.csv")
    report = validate_dir(small, framework=FRAMEWORK_DIR)
    assert "symlink_loop" in _codes(report) and "missing_file" not in _codes(report)
    (small / "voice_practitioner.csv").unlink()
    os.symlink(small / "nowhere.csv", small / "voice_practitioner.csv")
    assert "broken_link" in _codes(validate_dir(small, framework=FRAMEWORK_DIR))


def test_report_file_line_only_when_written(small, tmp_path, capsys):
    """The plain command through tests/cli_runner.py; the same with --report by ``measurekit.cli.main``."""
    from measurekit.cli import main

    h, rows = _read(small / "children.csv")
    for r in rows:
        r[h.index("sex")] = "X"
    _write(small / "children.csv", h, rows)
    cmd = ["validate", str(small), "--framework", str(FRAMEWORK_DIR)]
    plain = run_cli(*cmd)
    assert plain.returncode == 1 and "more (" in plain.stdout and "see the full report file" not in plain.stdout
    assert "--report FILE" in plain.stdout
    capsys.readouterr()
    rc = main(cmd + ["--report", str(tmp_path / "r.csv")])
    out = capsys.readouterr().out
    assert rc == 1 and f"see the full report file {tmp_path / 'r.csv'}" in out
    assert (tmp_path / "r.csv").exists()


def test_new_codes_are_catalogued():
    for code in ("ambiguous_file", "symlink_loop", "broken_link", "undecodable_byte", "encoding_fallback",
                 "delimiter_detected", "duplicate_column", "date_format_hint", "missing_eyfsp", "elg_not_assessed",
                 "item_out_of_scale"):
        assert code in CATALOGUE


def test_numbers_are_parsed_as_pandas_to_numeric_would_and_codes_share_strings():
    """Typing moved from pandas.to_numeric to Polars: same values and dtypes (pandas is the oracle here);
    text columns with few distinct values hold one string object per value."""
    import numpy as np
    import pandas as pd
    import polars as pl

    from measurekit.data.readers import _numbers, _text_array

    cases = [["1", " 2", "3 ", "-7", "+8", "007"], ["1", "2", ""], ["4.5", "1e3", "2.", ".5"],
             ["1", "abc", "1,000", "0x10"], ["inf", "nan", "3"]]
    for texts in cases:
        want = pd.to_numeric(pd.Series(texts, dtype=object).replace("", None), errors="coerce")
        got = _numbers(pl.Series(texts, dtype=pl.String))
        assert got.dtype == want.dtype, texts
        assert np.array_equal(got, want.to_numpy(), equal_nan=True), texts
    codes = pl.Series(["F", "M", None, "M"] * 1000, dtype=pl.String)
    arr = _text_array(codes)
    assert list(arr[:4]) == ["F", "M", None, "M"] and arr[1] is arr[3] is arr[5]
    ids = pl.Series([f"child-{i}" for i in range(5000)], dtype=pl.String)
    assert list(_text_array(ids)) == ids.to_list()


def test_a_semicolon_file_read_with_the_wrong_delimiter_gets_a_hint(small):
    h, rows = _read(small / "asq.csv")
    _write(small / "asq.csv", h, rows, delimiter=";")
    (small / "config.yaml").write_text("files:\n  asq:\n    delimiter: ','\n")
    report = validate_dir(small, config=small / "config.yaml", framework=FRAMEWORK_DIR)
    [hint] = [p for p in report.problems if p.code == "delimiter_detected"]
    assert hint.file == "asq.csv" and "semicolon" in hint.message and "delimiter: ';'" in hint.message
