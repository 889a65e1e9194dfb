"""Cognitive-interview logs: read from CSV and YAML, checked like the spec (row/column/code), into item history."""
import shutil

import pandas as pd
import pytest

import measurekit as mk
from measurekit.design import check_framework
from measurekit.design.interviews import check_interviews, interview_history, item_history, load_interviews, read_interviews
from measurekit.problems import CATALOGUE, InputError

LOG = [
    {"item": "wb4", "date": "2025-02-03", "language": "ur", "participant_group": "parent", "probe": "What does it ask?",
     "understood": "Whether I am a bad parent", "problem_type": "comprehension", "change_made": ""},
    {"item": "wb4", "date": "2025-02-05", "language": "en", "participant_group": "parent", "probe": "What does it ask?",
     "understood": "Unsure what 'stressed' covers", "problem_type": "comprehension", "change_made": "Hint added"},
    {"item": "hl1", "date": "2025-02-04", "language": "pl", "participant_group": "parent", "probe": "Own words?",
     "understood": "As intended", "problem_type": "none", "change_made": ""},
]


def test_csv_and_yaml_logs_read_the_same(tmp_path, framework_dir):
    import yaml

    fw = mk.load_framework(framework_dir)
    pd.DataFrame(LOG).to_csv(tmp_path / "interviews.csv", index=False)
    (tmp_path / "interviews.yaml").write_text(yaml.safe_dump({"interviews": LOG}), encoding="utf-8")
    a = load_interviews(tmp_path / "interviews.csv", fw)
    b = load_interviews(tmp_path / "interviews.yaml", fw)
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b[a.columns].reset_index(drop=True))


def test_problems_have_row_column_and_catalogued_code(tmp_path, framework_dir):
    import yaml

    fw = mk.load_framework(framework_dir)
    bad = [dict(r) for r in LOG]
    bad[0]["date"] = "3 Feb"
    bad[1]["problem_type"] = "confusing"
    bad[2]["item"] = "hl9"
    bad[2]["language"] = "de"
    pd.DataFrame(bad).to_csv(tmp_path / "interviews.csv", index=False)
    report = check_interviews(read_interviews(tmp_path / "interviews.csv"), fw)
    found = {p.code: p for p in report}
    assert found["invalid_date"].row == 2 and found["invalid_date"].column == "date"
    assert found["out_of_range"].row == 3 and found["out_of_range"].column == "problem_type"
    assert found["unknown_item"].row == 4 and found["undeclared_language"].severity == "warning"
    assert report.codes() <= set(CATALOGUE)
    (tmp_path / "interviews.yaml").write_text(yaml.safe_dump({"interviews": bad}, sort_keys=False), encoding="utf-8")
    yreport = check_interviews(read_interviews(tmp_path / "interviews.yaml"), fw)
    ydate = next(p for p in yreport if p.code == "invalid_date")
    assert ydate.column == "interviews[0].date" and ydate.row == 2     # line of the first record
    with pytest.raises(InputError):
        load_interviews(tmp_path / "interviews.csv", fw)


def test_check_spec_reports_a_broken_interview_log(tmp_path, framework_dir):
    shutil.copytree(framework_dir, tmp_path / "fw")
    log = pd.read_csv(tmp_path / "fw" / "evidence" / "interviews.csv", dtype=str, keep_default_na=False)
    log.loc[4, "problem_type"] = "muddled"
    log.to_csv(tmp_path / "fw" / "evidence" / "interviews.csv", index=False)
    report = check_framework(tmp_path / "fw")
    p = next(p for p in report if p.code == "out_of_range")
    assert p.file == "evidence/interviews.csv" and p.row == 6 and p.column == "problem_type"
    assert check_framework(framework_dir).ok


def test_findings_go_into_history_and_the_item_record(framework_dir):
    fw = mk.load_framework(framework_dir)
    n = len(fw.item("wb4").history)
    new = interview_history(fw, pd.DataFrame(LOG))
    assert len(fw.item("wb4").history) == n
    tested, revised = new.item("wb4").history[-2:]
    assert tested.status == "cognitively_tested" and "comprehension:2" in tested.reason and tested.interviews["n"] == 2
    assert revised.status == "revised" and "Hint added" in revised.reason and revised.date == "2025-02-05"
    assert new.item("hl1").history[-1].status == "cognitively_tested" and "no problems" in new.item("hl1").history[-1].reason
    record = item_history(new, "wb4", interviews=pd.DataFrame(LOG))
    assert list(record["kind"]).count("interview") == 2 and record["date"].is_monotonic_increasing


def test_drafter_shows_the_items_interviews(framework_dir, tmp_path):
    from measurekit.design.widgets.drafter import ItemDrafter

    shutil.copytree(framework_dir, tmp_path / "fw")
    dr = ItemDrafter(tmp_path / "fw")
    dr.item.value = "wb4"
    assert "Cognitive interviews (6)" in dr.record_panel.value and "comprehension" in dr.record_panel.value
    assert "Changed: Hint added" in dr.record_panel.value
    dr.item.value = "hl1"
    assert "comprehension" not in dr.record_panel.value
