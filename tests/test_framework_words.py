"""A framework whose people, respondents, columns and languages have other names keeps its content and its words
(issue 26, second site): the board pack's own sentences in the framework's people words, the scripts of the home
languages' names read from synthetic.yaml, and the month-of-birth check on the column the framework declares.

Each expectation is written here from the rule it states (the words of the second framework's ``population``,
a hand-made record whose flag disagrees with its date of birth), not read back from the code under test.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import FRAMEWORK_DIR

ROOT = Path(__file__).resolve().parents[1]
SECOND = ROOT / "indicators" / "north-yorkshire-care-leavers"


def _load(folder):
    from measurekit.design import load_framework

    return load_framework(folder)


# ---- 1. the board pack's own words -----------------------------------------------------------------------------
def test_board_pack_words_follow_the_frameworks_people():
    from measurekit.publish.board_pack import table_schema
    from measurekit.publish.board_table import SYMBOLS, symbols

    people = yaml.safe_load((SECOND / "framework.yaml").read_text(encoding="utf-8"))["population"]["people"]
    fields = {f["name"]: f["description"] for f in table_schema(_load(SECOND))["fields"]}
    assert fields["denominator"] == f"Denominator ({people} in the group)"
    assert fields["numerator"].startswith(f"Numerator: {people} meeting the definition")
    assert symbols(_load(SECOND))["x"] == f"not available: no {people} in this group"
    assert "children" not in " ".join(symbols(_load(SECOND)).values())
    # the school-readiness framework (the data contract's people) keeps its words exactly
    school = {f["name"]: f["description"] for f in table_schema(_load(FRAMEWORK_DIR))["fields"]}
    assert school["denominator"] == "Denominator (children in the group)"
    assert symbols(_load(FRAMEWORK_DIR)) == SYMBOLS


def test_board_table_notes_use_the_frameworks_people(tmp_path):
    """A small group's note ("fewer than 30 ...: low reliability") names the framework's people."""
    from measurekit.cli import main
    from measurekit.data import read_dir
    from measurekit.publish.board_table import LOW_RELIABILITY_N, build_board_table

    data = tmp_path / "data"
    assert main(["synth", "--framework", str(SECOND), "--n", "80", "--seed", "3", "--out", str(data)]) == 0
    fw = _load(SECOND)
    people = fw.population.people
    rows = build_board_table(read_dir(data, framework=fw), framework=fw, disclosure=False).rows
    small = rows[(rows["denominator"] > 0) & (rows["denominator"] < LOW_RELIABILITY_N)]
    assert len(small), "no small group to look at"
    assert set(small["note"]) == {f"fewer than {LOW_RELIABILITY_N} {people}: low reliability"}
    assert not rows["note"].str.contains("children").any()


# ---- 3. scripts of the home languages' names ---------------------------------------------------------------------
def _records(n=200):
    return pd.DataFrame({"child_id": [f"P{k}" for k in range(n)], "first_name": "Shahid", "last_name": "Hussain",
                         "home_language": "Lang1", "date_of_birth": "2020-05-20", "postcode": "ZZ1 2AB",
                         "setting": "S001"})


def test_transliteration_follows_the_declared_script_only():
    """With every error off but transliteration (rate 1), a language declared in another script gets other
    spellings; the same language with no script declared (Latin, the default) keeps its names."""
    from measurekit.synth.identifiers import RATES, given_identifiers

    only = {k: 0.0 for k in RATES} | {"translit": 1.0}
    rec = _records()
    kept = given_identifiers(rec, np.random.default_rng(1), only, scripts={})
    assert (kept["first_name"] == "Shahid").all() and (kept["last_name"] == "Hussain").all()
    latin = given_identifiers(rec, np.random.default_rng(1), only, scripts={"Lang1": "Latn"})
    assert (latin["first_name"] == "Shahid").all()
    other = given_identifiers(rec, np.random.default_rng(1), only, scripts={"Lang1": "Arab"})
    assert (other["first_name"] != "Shahid").mean() > 0.5 or (other["last_name"] != "Hussain").mean() > 0.5
    assert other["first_name"].str.len().gt(0).all()
    assert rec["first_name"].eq("Shahid").all()          # the input is not changed


def test_a_bad_scripts_entry_is_named(tmp_path):
    from measurekit.problems import InputError
    from measurekit.synth.profile import load_profile

    fw_dir = tmp_path / "fw"
    shutil.copytree(FRAMEWORK_DIR, fw_dir)
    path = fw_dir / "synthetic.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["scripts"], "the bundled framework declares the scripts of its home languages"
    raw["scripts"] = {"Klingon": "Arab", next(iter(raw["scripts"])): "arabic"}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_profile(_load(fw_dir))
    found = {(p.code, p.column) for p in err.value.report.problems}
    assert ("bad_synthetic_profile", "scripts.Klingon") in found
    assert any(c == "bad_synthetic_profile" and str(col).startswith("scripts.") and col != "scripts.Klingon"
               for c, col in found)


# ---- 4. the month-of-birth check on the declared column ----------------------------------------------------------
def _renamed_flag(tmp_path, synthetic_dir, new="born_late"):
    """The bundled framework and demo data with the summer-born column renamed (framework.yaml, synthetic.yaml and
    the population file), and one row's flag set against its date of birth."""
    fw_dir, data = tmp_path / "fw", tmp_path / "data"
    shutil.copytree(FRAMEWORK_DIR, fw_dir)
    shutil.copytree(synthetic_dir, data)
    for f in ("framework.yaml", "synthetic.yaml", "indicators.yaml"):
        p = fw_dir / f
        p.write_text(p.read_text(encoding="utf-8").replace("summer_born", new), encoding="utf-8")
    people = pd.read_csv(data / "children.csv", dtype=str, keep_default_na=False)
    people = people.rename(columns={"summer_born": new})
    month = pd.to_datetime(people["date_of_birth"]).dt.month
    row = int(np.flatnonzero(month.between(4, 8).to_numpy())[0])       # born in summer ...
    people.loc[row, new] = "0"                                           # ... but flagged as not
    people.to_csv(data / "children.csv", index=False)
    schema = data / "children.schema.json"
    if schema.exists():
        schema.write_text(schema.read_text(encoding="utf-8").replace("summer_born", new), encoding="utf-8")
    return fw_dir, data, row


def test_the_month_of_birth_check_reads_the_declared_column(tmp_path, synthetic_dir):
    from measurekit.data.validation import validate_dir

    fw_dir, data, row = _renamed_flag(tmp_path, synthetic_dir)
    report = validate_dir(data, framework=fw_dir).to_frame()
    hits = report[report["code"] == "summer_born_mismatch"]
    assert list(hits["column"]) == ["born_late"]
    assert int(hits["row"].iloc[0]) == row + 2              # header = row 1, as a spreadsheet shows it
    assert "April-August" in hits["message"].iloc[0]


def test_an_undeclared_flag_of_another_name_is_not_checked(tmp_path, synthetic_dir):
    """Without ``birth_months`` the renamed column is just a column: no name-based guess."""
    from measurekit.data.validation import validate_dir

    fw_dir, data, _ = _renamed_flag(tmp_path, synthetic_dir)
    p = fw_dir / "framework.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("    birth_months: [4, 5, 6, 7, 8]\n", ""), encoding="utf-8")
    report = validate_dir(data, framework=fw_dir).to_frame()
    assert "summer_born_mismatch" not in set(report["code"])


def test_the_bundled_summer_born_check_still_holds(tmp_path, synthetic_dir):
    from measurekit.data.validation import validate_dir

    data = tmp_path / "data"
    shutil.copytree(synthetic_dir, data)
    people = pd.read_csv(data / "children.csv", dtype=str, keep_default_na=False)
    month = pd.to_datetime(people["date_of_birth"]).dt.month
    row = int(np.flatnonzero((~month.between(4, 8)).to_numpy())[0])     # born in winter, flagged summer
    people.loc[row, "summer_born"] = "1"
    people.to_csv(data / "children.csv", index=False)
    report = validate_dir(data, framework=FRAMEWORK_DIR).to_frame()
    hits = report[report["code"] == "summer_born_mismatch"]
    assert list(hits["column"]) == ["summer_born"] and int(hits["row"].iloc[0]) == row + 2
    assert hits["rule"].iloc[0] == "summer_born = month of birth in 4..8"


# ---- 2. no fixed 'parent' respondent -----------------------------------------------------------------------------
def test_scores_default_to_the_frameworks_own_respondent(tmp_path, synthetic_dir):
    """The bundled framework with its parents called carers: scoring, reliability and the items of a domain with no
    respondent named read the carers' items, and give the numbers the original gives for its parents."""
    import re

    import measurekit as mk

    fw_dir = tmp_path / "fw"
    shutil.copytree(FRAMEWORK_DIR, fw_dir)
    for f in ("framework.yaml", "items.yaml"):
        p = fw_dir / f
        text = p.read_text(encoding="utf-8")
        text = re.sub(r"(respondent: )parent\b", r"\1carer", text)
        text = re.sub(r"(respondents:\n(?:\s*- \w+\n)*?\s*- )parent\b", r"\1carer", text)
        p.write_text(text, encoding="utf-8")
    carers, original = _load(fw_dir), _load(FRAMEWORK_DIR)
    assert "parent" not in carers.respondents() and "carer" in carers.respondents()
    answers = pd.read_csv(synthetic_dir / "voice_parent.csv")
    for d in original.domains:
        assert [i.id for i in carers.items_in(d.id)] == [i.id for i in original.items_in(d.id, "parent")]
    mine = mk.score(answers, framework=carers)
    theirs = mk.score(answers, framework=original, respondent="parent")
    assert list(mine.columns) == list(theirs.columns) and len(mine.columns) > 0
    pd.testing.assert_frame_equal(mine, theirs)
    assert carers.lavaan_model() == original.lavaan_model("parent")
