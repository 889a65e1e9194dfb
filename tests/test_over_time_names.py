"""The over-time path reads the framework's declared names, not fixed ones (issues 26 and 27).

The board pack's gap breakdown is the framework's first declared two-group breakdown, whatever its id (a renamed
third framework, a framework whose first two-group breakdown is not free school meals, one with none); ``synth
--years`` on a renamed children-shaped framework writes only its declared names.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from test_third_framework import _third

from measurekit.design.loading import load_framework

ROOT = Path(__file__).resolve().parents[1]
SCHOOL = ROOT / "indicators" / "rochdale-school-readiness"


def _breakdowns(fw: Path) -> list[dict]:
    return yaml.safe_load((fw / "framework.yaml").read_text(encoding="utf-8"))["breakdowns"]


def _rewrite(fw: Path, breakdowns: list[dict]) -> None:
    doc = yaml.safe_load((fw / "framework.yaml").read_text(encoding="utf-8"))
    doc["breakdowns"] = breakdowns
    (fw / "framework.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_gap_breakdown_is_the_first_declared_two_group_breakdown_under_any_name(tmp_path):
    from measurekit.publish.over_time_pack import gap_breakdown

    # the bundled framework: its first two-value breakdown, second declared value minus the first
    declared = [b for b in _breakdowns(SCHOOL) if len(b.get("values") or []) == 2]
    assert declared, "the bundled framework declares a two-group breakdown"
    first = declared[0]
    want = (first["id"], (str(first["values"][1]["value"]), str(first["values"][0]["value"])))
    assert gap_breakdown(load_framework(SCHOOL)) == want

    # renamed: the same breakdown under its new id
    third = tmp_path / "third"
    ren = _third(SCHOOL, third)
    assert ren.tokens[first["id"]] != first["id"]
    got = gap_breakdown(load_framework(third))
    assert got is not None and got[0] == ren.tokens[first["id"]]

    # the first two-group breakdown declared last: the next declared one, whatever it is called
    other = tmp_path / "other"
    shutil.copytree(SCHOOL, other)
    _rewrite(other, [b for b in _breakdowns(SCHOOL) if b["id"] != first["id"]] + [first])
    want_next = (declared[1] if len(declared) > 1 else first)["id"]
    assert gap_breakdown(load_framework(other))[0] == want_next

    # no breakdown with exactly two groups (a third value declared for each): no gap, no error
    none = tmp_path / "none"
    shutil.copytree(SCHOOL, none)
    bs = _breakdowns(SCHOOL)
    for b in bs:
        if len(b.get("values") or []) == 2:
            b["values"].append({**b["values"][0], "value": "unknown"})
    _rewrite(none, bs)
    assert gap_breakdown(load_framework(none)) is None


def test_synth_years_on_a_renamed_framework_writes_only_its_names(tmp_path, capsys):
    """tests/test_third_framework.py's renaming of the children-shaped framework, then ``synth --years``: it runs,
    writes the renamed tables (every year's folder holds a file per declared table name it writes), and no id or
    word of the original is in any file it wrote (the same scan as the third-framework test)."""
    from test_third_framework import _leaks, _words

    from measurekit.cli import main

    third = tmp_path / "third"
    ren = _third(SCHOOL, third)
    out = tmp_path / "years"
    assert main(["synth", "--framework", str(third), "--years", "2022/23-2024/25", "--n", "200", "--seed", "3",
                 "--out", str(out)]) == 0, capsys.readouterr()
    printed = capsys.readouterr()
    years = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(years) == 3
    declared = yaml.safe_load((third / "framework.yaml").read_text(encoding="utf-8"))
    population = declared["population"]["table"]
    assert population != yaml.safe_load((SCHOOL / "framework.yaml").read_text(encoding="utf-8"))[
        "population"]["table"]
    for y in years:
        assert (y / f"{population}.csv").is_file(), sorted(p.name for p in y.iterdir())
    # the renamed voice tables were written and their dates moved to each year (the population's births too)
    import pandas as pd
    births = [pd.to_datetime(pd.read_csv(y / f"{population}.csv")[ren.tokens["date_of_birth"]]).dt.year.median()
              for y in years]
    assert births[1] - births[0] == 1 and births[2] - births[1] == 1
    words = _words(SCHOOL)
    leaks = _leaks(out, words)
    leaks += [f"printed: {w!r}" for w in words if w in (printed.out + printed.err).lower().split()]
    assert leaks == [], "\n".join(leaks[:100])


def _renamed_eyfsp(tmp_path: Path, new: str) -> Path:
    """The bundled children-shaped framework with its table of kind eyfsp renamed ``new`` (the kind kept)."""
    fw = tmp_path / "fw"
    shutil.copytree(SCHOOL, fw)
    doc = yaml.safe_load((fw / "framework.yaml").read_text(encoding="utf-8"))
    renamed = [t for t in doc["tables"] if t.get("kind") == "eyfsp"]
    assert len(renamed) == 1
    renamed[0]["name"] = new
    (fw / "framework.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return fw


def test_a_child_assessed_twice_is_found_in_the_eyfsp_table_whatever_its_name(tmp_path):
    """data/periods.py reads the table of kind eyfsp the framework declares: renamed, a child's record copied
    into the next year's file is reported as period_eyfsp_twice (row, column, value, file of the new name)."""
    import pandas as pd

    from measurekit.data.periods import validate_periods
    from measurekit.synth.over_time import make_periods, write_periods

    name = "profile_year_end"
    fw = _renamed_eyfsp(tmp_path, name)
    data = tmp_path / "data"
    write_periods(make_periods("2022/23-2023/24", n=120, random_state=2, framework=fw, truth=False), data)
    first, second = sorted(p for p in data.iterdir() if p.is_dir())
    assert (second / f"{name}.csv").is_file() and not (second / "eyfsp.csv").exists()
    clean = validate_periods(data, framework=fw)
    assert "period_eyfsp_twice" not in {p.code for p in clean.problems}

    before = pd.read_csv(first / f"{name}.csv", dtype=str)
    after = pd.read_csv(second / f"{name}.csv", dtype=str)
    pid = "child_id"
    moved, replaced = before[pid].iloc[3], after[pid].iloc[5]
    # a child of the first year is the child at row 5 of the second year's table too (every file of that year
    # says so: the period reads without errors, and the checks across periods see it)
    for f in second.glob("*.csv"):
        f.write_text(f.read_text(encoding="utf-8").replace(replaced, moved), encoding="utf-8")
    found = [p for p in validate_periods(data, framework=fw).problems if p.code == "period_eyfsp_twice"]
    assert len(found) == 1
    p = found[0]
    assert p.value == moved and p.row == 5 + 2 and p.column == pid and p.file == f"{second.name}/{name}.csv"


def test_ages_are_checked_at_each_period_end_in_a_folder_of_years(tmp_path, capsys):
    """A folder of old years (2016/17-2017/18) of the care-leavers' framework (ages 16-25 declared): ages are
    measured at each period's end (31 August), so the period validates; a birth date giving an age outside 16-25
    at that date is still an error, with its row, column, value and the date in the rule; one year's folder read
    alone keeps today's check."""
    import datetime as dt

    import pandas as pd

    from measurekit.cli import main
    from measurekit.data.periods import validate_periods
    from measurekit.data.validation import validate_dir

    care = ROOT / "indicators" / "north-yorkshire-care-leavers"
    meta = yaml.safe_load((care / "framework.yaml").read_text(encoding="utf-8"))["population"]
    lo, hi = meta["age_years"]
    table, birth = meta["table"], meta["birth_date"]
    data = tmp_path / "years"
    assert main(["synth", "--framework", str(care), "--years", "2016/17-2017/18", "--n", "150", "--seed", "4",
                 "--out", str(data)]) == 0, capsys.readouterr()
    assert validate_periods(data, framework=care).ok

    first = data / "2016-17"
    end = dt.date(2017, 8, 31)
    people = pd.read_csv(first / f"{table}.csv", dtype=str, keep_default_na=False)
    inside = end.replace(year=end.year - (hi - 1))                 # hi - 1 years old at the period's end
    outside = end.replace(year=end.year - (hi + 2))                # hi + 2 years old at the period's end
    people.loc[10, birth] = inside.isoformat()
    people.loc[20, birth] = outside.isoformat()
    people.to_csv(first / f"{table}.csv", index=False)

    bad = [p for p in validate_periods(data, framework=care).problems if p.code == "implausible_date"]
    assert [(p.row, p.column, p.value, p.file) for p in bad] == [(22, birth, outside.isoformat(),
                                                                   f"2016-17/{table}.csv")]
    assert end.isoformat() in bad[0].rule and bad[0].severity == "error"

    # the same folder read as one year: ages on today, so the person (hi - 1) at the period's end is out of range
    # today too (as long as today is two years or more after 2017)
    today_age = (dt.date.today() - inside).days / 365.25
    one = {p.row for p in validate_dir(first, framework=care).problems if p.code == "implausible_date"}
    assert 22 in one
    if today_age > hi:
        assert 12 in one
