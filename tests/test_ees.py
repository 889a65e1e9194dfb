"""DfE open-data (EES) export of the board table, and the checker that applies DfE's screener rules.

The export is checked twice: by ``measurekit check-ees`` (publish/ees_check.py) and by the
independent assertions here, written from DfE's open-data standard (docs/board_pack.md), not from
the exporter's code. Planted faults (blank value, bad code, wrong time_period, ...) must make the
checker fail with the row and the rule.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest

from measurekit.core import formatting, gss

REQUIRED = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name"]
SYMBOLS = {"c", "x", "z", "low", "u"}


@pytest.fixture(scope="module")
def fw(framework_dir):
    from measurekit.design import load_framework

    return load_framework(framework_dir)


@pytest.fixture(scope="module")
def built(bundled_boards):
    """``build_board_table(cohort, framework=fw)`` of the bundled seed-1 cohort (conftest ``cohort``, the children of
    the bundled files): the session's shared board table (conftest ``bundled_boards``)."""
    return bundled_boards.board


@pytest.fixture(scope="module")
def board(built):
    return built.rows


@pytest.fixture(scope="module")
def exported(built, tmp_path_factory):
    from measurekit.publish.ees import write_ees

    folder = tmp_path_factory.mktemp("ees")
    data_path, meta_path = write_ees(built, folder)
    return data_path, meta_path


def _read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _half_up(x: float, dp: int) -> str:
    return str(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-dp), rounding=ROUND_HALF_UP))


def test_export_meets_the_standard_independently(exported, fw, cohort, board):
    data_path, meta_path = exported
    assert data_path.name == "rochdale_school_readiness.csv" and meta_path.name == "rochdale_school_readiness.meta.csv"
    assert not re.search(r"(19|20)\d\d", data_path.name)
    data, meta = _read(data_path), _read(meta_path)
    assert list(data.columns[:5]) == REQUIRED
    assert list(meta.columns) == ["col_name", "col_type", "label", "indicator_grouping", "indicator_unit",
                                  "indicator_dp", "filter_hint", "filter_grouping_column"]
    # observational units: Rochdale's real codes, six-digit academic year
    assert set(data["time_period"]) == {"202425"} and set(data["time_identifier"]) == {"Academic year"}
    assert set(data["geographic_level"]) == {"Local authority"}
    for col, value in {"country_code": "E92000001", "country_name": "England", "region_code": "E12000002",
                       "region_name": "North West", "old_la_code": "354", "new_la_code": "E08000005",
                       "la_name": "Rochdale"}.items():
        assert set(data[col]) == {value}, col
    # no blank cell anywhere; every column snake case
    assert (data != "").all().all()
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c) and len(c) <= 50 for c in data.columns)
    # meta rows = the filter and indicator columns, nothing else
    filters = meta.loc[meta["col_type"] == "Filter", "col_name"].tolist()
    indicators = meta.loc[meta["col_type"] == "Indicator", "col_name"].tolist()
    assert set(meta["col_type"]) == {"Filter", "Indicator"}
    assert set(filters) | set(indicators) == set(data.columns) - set(REQUIRED) - {
        "region_code", "region_name", "old_la_code", "new_la_code", "la_name"}
    for f in filters:
        assert "Total" in set(data[f]), f
    neighbourhoods = set(cohort.tables["small_areas"]["neighbourhood"])
    assert set(data["neighbourhood"]) == neighbourhoods | {"Total"}
    # indicator cells: whole numbers for counts, the declared places for the rest, or a GSS symbol
    for row in meta[meta["col_type"] == "Indicator"].itertuples():
        dp = int(row.indicator_dp)
        pattern = r"\d+" if dp == 0 else rf"-?\d+\.\d{{{dp}}}"
        cells = data[row.col_name]
        bad = cells[~cells.str.fullmatch(pattern) & ~cells.isin(SYMBOLS)]
        assert bad.empty, (row.col_name, bad.head().tolist())
        assert row.label and len(row.label) <= 80
        assert (row.indicator_unit == "%") == row.col_name.endswith(("_percent", "_percent_lower_ci", "_percent_upper_ci"))
    # the numbers are the cohort's: GLD for all children in the LA, computed here from the data
    f = cohort.analysis_frame()
    total = data[(data["neighbourhood"] == "Total") & (data["characteristic"] == "Total")].iloc[0]
    assert total["gld_count"] == str(int(f["gld"].sum())) and total["gld_children_count"] == str(len(f))
    assert total["gld_percent"] == _half_up(100 * f["gld"].mean(), 1)
    fsm1 = f[f["fsm"] == 1]
    row = data[(data["neighbourhood"] == "Total")
               & (data["characteristic"] == "Known to be eligible for free school meals")].iloc[0]
    assert row["gld_percent"] == _half_up(100 * fsm1["gld"].mean(), 1)
    # every board-table suppression shows as c in every measure of that indicator
    supp = board[board["suppressed"] & (board["geography_type"] == "neighbourhood")]
    assert len(supp)
    for r in supp.head(10).itertuples():
        cols = [c for c in indicators if c.startswith(r.indicator_id + "_")]
        cells = data[data["neighbourhood"] == r.geography_name]
        assert (cells[cols] == "c").all(axis=1).any(), (r.indicator_id, r.geography_name, r.breakdown, r.breakdown_value)
    # an indicator without an FSM breakdown is z (not applicable) on FSM rows
    no_fsm = [i for i in fw.indicators if "fsm" not in i.breakdowns]
    for ind in no_fsm:
        assert (data.loc[data["characteristic_group"] == "Free school meals", f"{ind.id}_children_count"] == "z").all()


def test_formatting_rounds_half_away_from_zero_and_types_counts():
    assert formatting.cell_text(2.25, "percent", 1) == "2.3"
    assert formatting.cell_text(-2.25, "percent", 1) == "-2.3"
    assert formatting.cell_text(2.675, "average", 2) == "2.68"
    assert formatting.cell_text(1820.0, "count") == "1820"
    assert formatting.cell_text(0.02, "percent", 1) == "low"
    assert formatting.cell_text(0.0, "percent", 1) == "0.0"
    assert formatting.cell_text(float("nan"), "percent", 1) == "x"
    assert formatting.cell_text(12.3, "percent", 1, symbol="c") == "c"
    s = formatting.publish(pd.Series([1820.0, None, 3.4999]), "count")
    assert str(s.dtype) == "Int64" and s.tolist()[0] == 1820 and pd.isna(s.tolist()[1]) and s.tolist()[2] == 3


def test_gss_codes_checked_by_pattern_and_entity():
    assert gss.gss_problem("E08000005", "la") is None
    assert gss.gss_problem("E12000002", "region") is None
    assert "not a GSS code" in gss.gss_problem("E0800005", "la")
    assert "not a local authority code" in gss.gss_problem("E12000002", "la")
    assert gss.old_la_problem("354") is None and gss.old_la_problem("35A")


def test_framework_with_a_bad_la_code_fails_to_load_with_a_clear_error(framework_dir, tmp_path):
    import shutil

    from measurekit.design import SpecError, load_framework

    copy = tmp_path / "fw"
    shutil.copytree(framework_dir, copy)
    text = (copy / "framework.yaml").read_text(encoding="utf-8")
    (copy / "framework.yaml").write_text(text.replace("new_la_code: E08000005", "new_la_code: E12000005"),
                                         encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_framework(copy)
    problem = err.value.report.errors[0]
    assert problem.code == "gss_code" and problem.column == "area.new_la_code"
    assert "not a local authority code" in problem.message
    assert problem.file == "framework.yaml" and problem.row is not None


def test_period_that_is_not_an_academic_year_is_refused(built, board):
    from measurekit.problems import InputError
    from measurekit.publish.ees import ees_tables

    bad = built.with_rows(board.assign(period="2024/26"))
    with pytest.raises(InputError) as err:
        ees_tables(bad)
    assert err.value.report.errors[0].code == "ees_time_period"


def _copy(exported, tmp_path, edit=None, edit_meta=None):
    """Copies of the exported pair, optionally changed by ``edit(data)`` / ``edit_meta(meta)``."""
    data_path, meta_path = exported
    data, meta = _read(data_path), _read(meta_path)
    if edit:
        data = edit(data)
    if edit_meta:
        meta = edit_meta(meta)
    out = tmp_path / data_path.name
    data.to_csv(out, index=False, lineterminator="\n")
    meta.to_csv(tmp_path / meta_path.name, index=False, lineterminator="\n")
    return out


def test_demo_export_passes_the_checker_and_the_cli(exported):
    from measurekit.cli import main
    from measurekit.publish.ees_check import check_ees

    report = check_ees(exported[0])
    assert report.ok and not report.warnings, report.to_text()
    assert main(["check-ees", str(exported[0])]) == 0


def _where(report, code):
    return [(p.row, p.column, p.rule) for p in report.errors if p.code == code]


def test_planted_faults_fail_with_row_and_rule(exported, tmp_path, capsys):
    from measurekit.cli import main
    from measurekit.publish.ees_check import check_ees

    def plant(d):
        d.loc[3, "gld_percent"] = ""                 # blank indicator cell -> data row 3 is spreadsheet row 5
        d.loc[5, "new_la_code"] = "E12000002"        # a region code where an LA code belongs
        d.loc[6, "old_la_code"] = "35"               # not three digits
        d.loc[7, "time_period"] = "202426"           # not consecutive years
        d.loc[8, "gld_count"] = "n/a"                # neither number nor symbol
        d.loc[9, "time_identifier"] = "School year"  # not one of DfE's identifiers
        return d

    bad = _copy(exported, tmp_path, plant)
    report = check_ees(bad)
    assert not report.ok
    assert (5, "gld_percent", "ind_blanks") in _where(report, "ees_blank")
    assert (7, "new_la_code", "gss_la_code") in _where(report, "gss_code")
    assert (8, "old_la_code", "old_la_code") in _where(report, "gss_code")
    assert (9, "time_period", "time_period_six") in _where(report, "ees_time_period")
    assert (10, "gld_count", "ind_invalid_entry") in _where(report, "ees_symbol")
    assert (11, "time_identifier", "time_identifier") in _where(report, "ees_allowed_value")
    assert len(report.errors) == 6, report.to_text()
    assert main(["check-ees", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "row 5" in out and "gld_percent" in out


def test_meta_and_naming_faults(exported, tmp_path):
    from measurekit.publish.ees_check import check_ees

    def meta_edit(m):
        m.loc[m["col_name"] == "gld_percent", "indicator_unit"] = "percent"   # not an allowed unit
        m.loc[m["col_name"] == "neighbourhood", "indicator_dp"] = "1"         # dp on a filter
        return m[m["col_name"] != "gld_count"]                              # data column missing from meta

    def data_edit(d):
        d.loc[d["neighbourhood"] == "Total", "neighbourhood"] = "All areas"  # no Total left
        return d.drop(columns=["country_name"])

    bad = _copy(exported, tmp_path, data_edit, meta_edit)
    renamed = bad.with_name("School Readiness 2025.csv")
    bad.rename(renamed)
    bad.with_name(bad.name.replace(".csv", ".meta.csv")).rename(renamed.with_name("School Readiness 2025.meta.csv"))
    report = check_ees(renamed)
    rules = {(p.code, p.rule) for p in report.problems}
    assert ("ees_missing_column", "required_columns") in rules
    assert ("ees_meta", "meta_indicator_unit_validation") in rules
    assert ("ees_meta", "meta_indicator_dp") in rules
    assert ("ees_meta", "filenames_match_columns") in rules
    assert ("ees_file_name", "filename_spaces") in rules and ("ees_file_name", "filename_no_years") in rules
    assert ("ees_total", "filter_total") in rules
