"""``measurekit run`` on a data folder of several academic years (issue 27).

A small multi-year synthetic cohort (``measurekit synth --years``: three years of 300 children) is run three ways,
each through the command line: ``run`` on the folder of years, ``run`` on the latest year's folder alone and
``board-pack`` on the folder of years (and ``over-time`` on it). The tests compare the files themselves: the one-year
CSVs of the multi-year run are byte-identical to the one-year run's, the board pack to ``board-pack``'s (the workbook
member by member, its creation time aside; the specification sheets only gain the chosen year's measurement evidence),
and the over-time tables to ``over-time``'s. Errors (a year the folder does not hold, ``--period`` with a one-year
folder, a problem in one period) are checked for their codes.
"""
from __future__ import annotations

import difflib
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import FRAMEWORK_DIR

from measurekit.cli import main
from measurekit.problems import CATALOGUE, InputError

FW = str(FRAMEWORK_DIR)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runperiods")
    data = base / "data"
    assert main(["synth", "--framework", FW, "--years", "2022/23-2024/25", "--n", "300", "--seed", "2",
                 "--out", str(data)]) == 0
    out = {"data": data, "multi": base / "multi", "one": base / "one", "pack": base / "pack", "ot": base / "ot"}
    out["ledgers"] = (base / "ledger_run", base / "ledger_pack")
    assert main(["run", "--framework", FW, "--data", str(data), "--out", str(out["multi"]),
                 "--ledger", str(out["ledgers"][0])]) == 0
    assert main(["run", "--framework", FW, "--data", str(data / "2024-25"), "--out", str(out["one"])]) == 0
    assert main(["board-pack", "--framework", FW, "--data", str(data), "--out", str(out["pack"]),
                 "--ledger", str(out["ledgers"][1])]) == 0
    assert main(["over-time", "--framework", FW, "--data", str(data), "--out", str(out["ot"])]) == 0
    return out


def _files(folder: Path, pattern: str = "*") -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob(pattern) if p.is_file())


def test_new_codes_are_catalogued():
    assert {"period_not_found", "period_option_one_year"} <= set(CATALOGUE)


def test_outputs_exist(runs):
    multi = runs["multi"]
    for rel in ("internal/trial_report.html", "internal/measurement/reliability.csv", "internal/over_time/trend.csv",
                "internal/over_time/series.csv", "internal/validation_report.csv",
                "shareable/board_pack/board_table.csv", "shareable/board_pack/over_time",
                "shareable/README.txt", "internal/README.txt"):
        assert (multi / rel).exists(), rel
    periods = set(pd.read_csv(multi / "shareable/board_pack/board_table.csv", dtype=str)["period"])
    assert periods == {"2022/23", "2023/24", "2024/25"}


def test_one_year_csvs_are_those_of_a_run_on_that_year_alone(runs):
    """Every CSV of the one-year analyses (linkage, scores, measurement, fairness, value) byte for byte; the
    validation report is the folder's (every period), so it differs on purpose and is checked below."""
    multi, one = runs["multi"] / "internal", runs["one"] / "internal"
    mine = [p for p in _files(multi, "*.csv") if p.parts[0] != "over_time" and p.name != "validation_report.csv"]
    theirs = [p for p in _files(one, "*.csv") if p.name != "validation_report.csv"]
    assert mine == theirs and len(mine) >= 8
    for rel in mine:
        assert (multi / rel).read_bytes() == (one / rel).read_bytes(), rel


def test_validation_report_covers_every_period(runs):
    rep = pd.read_csv(runs["multi"] / "internal/validation_report.csv", dtype=str, keep_default_na=False)
    assert "period_boundary_change" in set(rep["code"])          # planted from the third year on
    assert rep["severity"].ne("error").all()


def test_readmes_and_console_name_the_period(runs, capsys):
    internal = (runs["multi"] / "internal/README.txt").read_text()
    assert "2024/25" in internal and "the latest" in internal and "--period" in internal
    assert "2022/23, 2023/24, 2024/25" in internal
    shareable = (runs["multi"] / "shareable/README.txt").read_text()
    assert "Several periods" in shareable and "2022/23, 2023/24, 2024/25" in shareable


def test_board_pack_is_board_pack_on_the_folder(runs):
    mine, theirs = runs["multi"] / "shareable/board_pack", runs["pack"]
    assert _files(mine) == _files(theirs)
    for rel in _files(theirs):
        a, b = (mine / rel).read_bytes(), (theirs / rel).read_bytes()
        if rel.suffix == ".xlsx":
            with zipfile.ZipFile(mine / rel) as za, zipfile.ZipFile(theirs / rel) as zb:
                assert za.namelist() == zb.namelist()
                for name in za.namelist():
                    if name != "docProps/core.xml":        # openpyxl stamps the time the workbook was written
                        assert za.read(name) == zb.read(name), (rel, name)
        elif rel.parts[0] == "specs":
            # the run adds the chosen year's measurement evidence (as a one-year run does); nothing else changes
            ops = difflib.SequenceMatcher(None, b.decode().splitlines(), a.decode().splitlines(),
                                          autojunk=False).get_opcodes()
            assert all(op in ("equal", "insert") for op, *_ in ops), rel
            added = "\n".join("\n".join(a.decode().splitlines()[j1:j2]) for op, _, _, j1, j2 in ops if op == "insert")
            assert not added or "2024/25 data" in added or "COSMIN" in added, rel
        else:
            assert a == b, rel
    spec = (mine / "specs" / "home_learning_low.md").read_text()
    assert "Evidence that it works" in spec and "(2024/25 data)" in spec


def test_the_release_ledger_records_the_pack_of_every_period(runs):
    """With --ledger the run's pack is recorded as board-pack's is: one release, the same label and periods."""
    from measurekit.publish.ledger import Ledger

    mine, theirs = (Ledger(p).summary() for p in runs["ledgers"])
    assert len(mine) == len(theirs) == 1
    cols = ["label", "periods", "geography_types", "rows", "rows_withheld"]
    assert mine[cols].astype(str).equals(theirs[cols].astype(str))
    assert mine["periods"].iloc[0] == "2022/23, 2023/24, 2024/25"


def test_over_time_tables_are_those_of_over_time(runs):
    mine, theirs = runs["multi"] / "internal/over_time", runs["ot"]
    assert _files(mine, "*.csv") == _files(theirs, "*.csv") and _files(theirs, "*.csv")
    for rel in _files(theirs, "*.csv"):
        assert (mine / rel).read_bytes() == (theirs / rel).read_bytes(), rel


def test_period_option_picks_another_year(runs):
    """``--period`` (any spelling of the academic year) makes the one-year parts that year's data."""
    from measurekit.data import read_dir
    from measurekit.pipeline import steps
    from measurekit.pipeline.state import Inputs, RunState

    for spelling in ("2022/23", "2022-23", "202223"):
        state = RunState(inputs=Inputs(runs["data"], FRAMEWORK_DIR, runs["data"].parent / "x", period=spelling),
                         work=runs["data"].parent / "x")
        steps.read_period_inputs(state)
        assert state.inputs.period == "2022/23" and state.periods is not None
        alone = read_dir(runs["data"] / "2022-23", framework=FRAMEWORK_DIR)
        assert set(state.cohort.tables) == set(alone.tables)
        for name, table in alone.tables.items():
            pd.testing.assert_frame_equal(state.cohort.tables[name], table)


def test_period_errors(runs, tmp_path):
    from measurekit.pipeline.run import RunStopped, run

    with pytest.raises(InputError) as e:
        run(runs["data"], framework=FRAMEWORK_DIR, out=tmp_path / "a", period="2019/20", log=lambda s: None)
    (p,) = e.value.report.problems
    assert (p.code, p.column, p.value) == ("period_not_found", "--period", "2019/20")
    assert "2022/23, 2023/24, 2024/25" in p.message and p.rule
    with pytest.raises(InputError) as e:
        run(runs["data"] / "2023-24", framework=FRAMEWORK_DIR, out=tmp_path / "b", period="2023/24",
            log=lambda s: None)
    assert e.value.codes == ["period_option_one_year"]
    assert main(["run", "--framework", FW, "--data", str(runs["data"] / "2023-24"), "--out", str(tmp_path / "c"),
                 "--period", "2023/24"]) == 1
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists() and not (tmp_path / "c").exists()
    # a problem in one period (not the one analysed) stops the run before any analysis, named inside its period
    bad = tmp_path / "bad"
    shutil.copytree(runs["data"], bad)
    (bad / "2022-23" / "eyfsp.csv").unlink()
    before = sorted(p.name for p in bad.rglob("*"))
    with pytest.raises(RunStopped) as e:
        run(bad, framework=FRAMEWORK_DIR, out=tmp_path / "d", log=lambda s: None)
    files = {p.file for p in e.value.report.errors}
    assert any(f and f.startswith("2022-23/") for f in files)
    assert not (tmp_path / "d").exists() and e.value.report_path.exists()
    assert sorted(p.name for p in bad.rglob("*")) == before        # inputs untouched


def test_trial_report_names_the_period_analysed(runs):
    """The trial report of ``run`` on the folder of years names the year its analyses are of (the latest: no
    --period) and the years the folder holds; a run on one year's folder has no such line."""
    import re

    multi = (runs["multi"] / "internal/trial_report.html").read_text(encoding="utf-8")
    one = (runs["one"] / "internal/trial_report.html").read_text(encoding="utf-8")
    line = re.search(r"Period analysed: (\d{4}/\d{2}), one of the (\d+) academic years of the data folder \(([^)]*)\)",
                     multi)
    assert line is not None
    assert line.group(1) == "2024/25" and line.group(2) == "3"
    assert line.group(3).split(", ") == ["2022/23", "2023/24", "2024/25"]
    assert "Period analysed" not in one

