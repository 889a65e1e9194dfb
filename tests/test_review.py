"""Framework review: questions, scoring summary, YAML round trip, chart and the widget driven headlessly."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from measurekit.design import review as rv
from measurekit.problems import InputError
from measurekit.design.models import APPROACHES, PRACTICES


@pytest.fixture(scope="module")
def questions():
    return rv.load_questions()


def test_questions_cover_framework(questions):
    qt = rv.questions_table(questions)
    assert set(questions["approaches"]) == set(APPROACHES)
    assert set(questions["practices"]) == set(PRACTICES)
    assert set(questions["enablers"]) == {"infrastructure_governance", "behaviours_culture"}
    assert (qt.groupby("area").size() >= 2).all()
    assert qt["id"].is_unique and (qt["criteria"].str.len() > 0).all()


def test_summary_scores_and_low_claimed(questions, framework_dir):
    r = rv.new_review("trial", questions=questions)
    r["answers"]["codesign_who"]["score"] = 3
    r["answers"]["codesign_feedback"]["score"] = 1
    r["answers"]["toc_written"]["score"] = 1
    r["answers"]["map_inventory"]["score"] = 0
    s = rv.summarise(r, questions, framework=framework_dir).set_index("area")
    assert s.loc["voice_in_codesign", "score"] == 2.0
    assert s.loc["voice_in_codesign", "level"] == "established"
    assert s.loc["voice_in_codesign", "n_scored"] == 2
    claimed = set(rv.framework_claims(framework_dir)[1])
    assert "theory_of_change" in claimed and "mapping_information" not in claimed
    assert bool(s.loc["theory_of_change", "low"])           # claimed, scored 1
    assert not bool(s.loc["voice_in_codesign", "low"])      # claimed, scored 2
    assert not bool(s.loc["mapping_information", "low"])    # scored 0 but not claimed
    a = rv.summarise_approaches(s.reset_index(), questions).set_index("approach")
    assert a.loc["integrating_voice", "score"] == 2.0


def test_yaml_round_trip_and_errors(questions, tmp_path):
    r = rv.new_review("trial", "me", questions)
    r["answers"]["gov_lawful"] = {"score": 2, "notes": "DPIA done", "evidence": ["dpia.pdf"]}
    p = rv.save_review(r, tmp_path / "r.yaml", questions)
    back = rv.load_review(p, questions)
    assert back == r
    bad = dict(r, answers={**r["answers"], "gov_lawful": {"score": 5}})
    with pytest.raises(InputError) as e:
        rv.save_review(bad, tmp_path / "bad.yaml", questions)
    assert "bad_score" in {x.code for x in e.value.report.problems}
    (tmp_path / "u.yaml").write_text("project: x\nanswers:\n  nope: {score: 1}\n")
    with pytest.raises(InputError):
        rv.load_review(tmp_path / "u.yaml", questions)


def test_plot(questions, framework_dir):
    r = rv.new_review("trial", questions=questions)
    r["answers"]["toc_written"]["score"] = 0
    ax = rv.plot_review(rv.summarise(r, questions, framework_dir), questions=questions)
    assert len(ax.patches) == 10
    assert any(lbl.get_text().startswith("* ") for lbl in ax.get_yticklabels())


def test_widget_headless(tmp_path, framework_dir):
    pytest.importorskip("ipywidgets")
    from measurekit.design.widgets.review import FrameworkReview

    path = tmp_path / "review.yaml"
    wdg = FrameworkReview(path, framework=framework_dir, project="School readiness")
    wdg.assessor.value = "EY team"
    wdg.controls["codesign_who"]["score"].value = 2
    wdg.controls["codesign_who"]["notes"].value = "Urdu and Polish groups"
    wdg.controls["codesign_who"]["evidence"].value = "evidence/quotes.csv; minutes-2025-03.pdf"
    wdg.save_button.click()
    saved = yaml.safe_load(path.read_text())
    assert saved["project"] == "School readiness" and saved["assessor"] == "EY team"
    assert saved["answers"]["codesign_who"] == {"score": 2, "notes": "Urdu and Polish groups",
                                                "evidence": ["evidence/quotes.csv", "minutes-2025-03.pdf"]}
    assert saved["answers"]["toc_written"]["score"] is None
    assert "Saved" in wdg.status.value
    other = FrameworkReview(path, framework=framework_dir)
    other.load_button.click()
    assert other.controls["codesign_who"]["score"].value == 2
    assert other.project.value == "School readiness"
    # claimed but not scored: reported as not scored, not as low
    row = other.summary().set_index("area").loc["theory_of_change"]
    assert bool(row["unscored"]) and not bool(row["low"])


def test_unscored_is_not_low_and_file_errors_are_sentences(tmp_path):
    """A claimed Practice nobody has scored yet is 'not scored', not 'scores low'; a folder or a
    missing file is explained in words, not as [Errno 21]."""
    from measurekit.design.widgets.review import FrameworkReview

    fw = Path(__file__).resolve().parents[1] / "indicators" / "rochdale-school-readiness"
    w = FrameworkReview(tmp_path / "r.yaml", framework=fw, project="Pilot")
    s = w.summary().set_index("area")
    claimed = s[s["claimed"]]
    assert len(claimed) and claimed["unscored"].all() and not claimed["low"].any()
    w.path.value = str(tmp_path)                      # a folder
    assert w.save() is None
    assert "is a folder, not a file" in w.status.value and "Errno" not in w.status.value
    w.path.value = str(tmp_path / "nope.yaml")
    w.load()
    assert "There is no file" in w.status.value and "Errno" not in w.status.value


def test_saved_files_keep_their_permissions(tmp_path):
    """Rewriting a shared file keeps its mode; a new file follows the umask (not mkstemp's 0600)."""
    import os
    import stat

    from measurekit.core.atomic import write_text

    shared = tmp_path / "review.yaml"
    shared.write_text("old")
    os.chmod(shared, 0o664)
    write_text(shared, "new")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o664 and shared.read_text() == "new"
    old = os.umask(0o022)
    try:
        fresh = write_text(tmp_path / "fresh.yaml", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644


def test_widget_opens_with_the_saved_review_and_never_overwrites_an_unloaded_file(tmp_path, framework_dir):
    """A re-run (a new widget on the same file) shows what was saved; a file the widget did not load (saved by
    another widget since, or unreadable) is replaced only when asked."""
    pytest.importorskip("ipywidgets")
    from measurekit.design.widgets.review import FrameworkReview

    path = tmp_path / "review.yaml"
    first = FrameworkReview(path, framework=framework_dir, project="Mine")
    first.controls["codesign_who"]["score"].value = 3
    assert first.save() is not None
    again = FrameworkReview(path, framework=framework_dir)          # the notebook run again
    assert again.controls["codesign_who"]["score"].value == 3 and again.project.value == "Mine"
    assert "Loaded" in again.status.value
    # someone else saves in between: the first widget's Save asks instead of writing over it
    again.controls["toc_written"]["score"].value = 1
    assert again.save() is not None
    kept = path.read_bytes()
    first.controls["codesign_who"]["score"].value = 0
    assert first.save() is None and path.read_bytes() == kept
    assert "did not load" in first.status.value and "Replace" in first.status.value
    first.replace.value = True
    assert first.save() is not None and yaml.safe_load(path.read_text())["answers"]["codesign_who"]["score"] == 0
    assert first.replace.value is False                              # asked once, for one save
    # an unreadable file is shown as a problem and kept
    path.write_text("answers: [not, a, review\n")
    broken = path.read_bytes()
    third = FrameworkReview(path, framework=framework_dir)
    assert "Not loaded" in third.status.value
    assert third.save() is None and path.read_bytes() == broken
