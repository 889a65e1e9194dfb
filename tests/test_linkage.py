import pandas as pd
import pytest

from cli_runner import run_cli
from measurekit.data import Cohort, link
from measurekit.data.pseudonymise import load_key, pseudonym
from measurekit.problems import InputError

from conftest import FRAMEWORK_DIR


def _small():
    children = pd.DataFrame({"child_id": ["a", "b", "c", "d", "e"], "neighbourhood": ["N1", "N1", "N2", "N2", "N2"],
                             "eal": [0, 1, 0, 1, 1], "fsm": [0, 0, 1, 1, 0], "small_area": ["s1"] * 5})
    voice = pd.DataFrame({"response_id": ["r1", "r2", "r3", "r4"], "child_id": ["a", "c", "c", "zzz"],
                          "form_language": ["en"] * 4, "completed_on": ["2025-03-01", "2025-03-02", "2025-04-01", "2025-03-03"],
                          "hl1": [1, 2, 3, 4]})
    return Cohort({"children": children, "voice_parent": voice})


def test_linkage_counts_on_a_known_case():
    res = link(_small())
    counts = dict(zip(res.summary["measure"], res.summary["count"]))
    assert counts["children in the cohort"] == 5
    assert counts["survey responses"] == 4
    assert counts["responses linked to a child"] == 3
    assert counts["responses not linked (unknown child_id)"] == 1
    assert counts["children with a linked response"] == 2
    assert counts["children without a response"] == 3
    assert counts["children with more than one response"] == 1
    assert res.unmatched_responses["child_id"].tolist() == ["zzz"]
    assert res.duplicates.to_dict("records") == [{"child_id": "c", "n_responses": 2}]
    # the latest of c's two responses is used
    assert res.linked.set_index("child_id").loc["c", "hl1"] == 3
    nb = res.comparison[res.comparison.variable == "neighbourhood"].set_index("group")
    assert nb.loc["N1", "rate"] == 0.5 and nb.loc["N2", "rate"] == pytest.approx(1 / 3)
    assert any("more than one response" in w for w in res.warnings)


def test_linkage_on_synthetic_cohort_shows_under_response(cohort):
    res = link(cohort)
    comp = res.comparison.set_index(["variable", "group"])
    assert comp.loc[("eal", "1"), "rate"] < comp.loc[("eal", "0"), "rate"] - 0.1
    assert comp.loc[("neighbourhood", "Rochdale South"), "rate"] < comp.loc[("neighbourhood", "Pennines"), "rate"]


def test_pseudonymisation_is_keyed_and_consistent(monkeypatch, tmp_path):
    key = b"a-secret-key-of-some-length"
    res = link(_small(), key=key)
    ids = set(res.linked["child_id"])
    assert "a" not in ids and pseudonym("a", key) in ids
    assert pseudonym("a", key) != pseudonym("a", b"another-secret-key-here")
    counts = dict(zip(res.summary["measure"], res.summary["count"]))
    assert counts["responses linked to a child"] == 3
    monkeypatch.delenv("MEASUREKIT_KEY", raising=False)
    with pytest.raises(InputError):
        load_key()
    (tmp_path / "k").write_text("x" * 20)
    assert load_key(tmp_path / "k") == b"x" * 20


def test_link_cli_never_writes_the_key(tmp_path, synthetic_dir):
    out = tmp_path / "linked"
    r = run_cli("link", synthetic_dir, "--framework", FRAMEWORK_DIR, "--out", out, "--pseudonymise",
                env={"MEASUREKIT_KEY": "super-secret-key-123456"})
    assert r.returncode == 0, r.stderr
    text = "".join(p.read_text() for p in out.iterdir())
    assert "super-secret-key-123456" not in text
    first_id = pd.read_csv(synthetic_dir / "children.csv")["child_id"].iloc[0]
    assert first_id not in text


# ------------------------------------------------------------------ data minimisation (issue 13)
def _dated():
    children = pd.DataFrame({"child_id": ["a", "b", "c"], "sex": ["F", "M", "F"],
                             "date_of_birth": ["2020-02-15", "2019-09-01", "2020-08-31"],
                             "neighbourhood": ["N1", "N1", "N2"], "small_area": ["s1", "s2", "s3"],
                             "ethnicity_group": ["X", "Y", "Z"], "fsm": [0, 1, 0]})
    voice = pd.DataFrame({"response_id": ["R1", "R2", "R3"], "child_id": ["a", "b", "nobody"],
                          "form_language": ["en"] * 3, "completed_on": ["2025-05-07", "2025-06-30", "2025-05-01"],
                          "hl1": [1, 2, 3]})
    return Cohort({"children": children, "voice_parent": voice})


def test_pseudonymised_linked_frame_keeps_only_what_analysis_needs():
    key = b"a-secret-key-of-some-length"
    res = link(_dated(), key=key)
    linked = res.linked.set_index("child_id")
    gone = {"date_of_birth", "completed_on", "small_area", "ethnicity_group", "response_id"}
    assert not gone & set(res.linked.columns)
    # whole months to 30 June of the reception year (the school year in which the child turns five), by hand:
    # 15 Feb 2020 -> 30 Jun 2025 = 64; 1 Sep 2019 -> 30 Jun 2025 = 69; 31 Aug 2020 -> 30 Jun 2025 = 57 (30 < 31)
    assert [linked.loc[pseudonym(c, key), "age_months_at_assessment"] for c in "abc"] == [64, 69, 57]
    assert linked.loc[pseudonym("a", key), "completion_month"] == "2025-05"
    assert pd.isna(linked.loc[pseudonym("c", key), "completion_month"])
    assert {"sex", "neighbourhood", "fsm", "hl1", "responded"} <= set(res.linked.columns)
    text = res.linked.to_csv() + res.unmatched_responses.to_csv() + res.duplicates.to_csv()
    for raw in ("R1", "R2", "R3", "2020-02-15", "2025-05-07", "s1", "nobody"):
        assert raw not in text, raw
    assert res.unmatched_responses.to_dict("records") == [{"row": 4, "child_id": pseudonym("nobody", key)}]
    kept = link(_dated(), key=key, keep=("small_area",))
    assert "small_area" in kept.linked and "date_of_birth" not in kept.linked


def test_unmatched_responses_never_carry_the_response_id():
    res = link(_small())
    assert list(res.unmatched_responses.columns) == ["row", "child_id"]
    assert res.unmatched_responses.to_dict("records") == [{"row": 5, "child_id": "zzz"}]   # header is row 1


def _cli(*args, env=None):
    r = run_cli(*args, env=env)
    assert "Traceback" not in r.stdout + r.stderr, r.stderr
    return r


def test_pseudonymised_link_outputs_hold_no_raw_ids_or_full_dates(tmp_path, synthetic_dir):
    import re

    from measurekit.core.atomic import sha256

    before = {p.name: sha256(p) for p in synthetic_dir.iterdir() if p.is_file()}
    (tmp_path / "key").write_text("k" * 32)
    out = tmp_path / "linked"
    r = _cli("link", synthetic_dir, "--framework", FRAMEWORK_DIR, "--out", out, "--key-file", tmp_path / "key")      # --key-file implies pseudonyms
    assert r.returncode == 0, r.stderr
    text = "".join(p.read_text() for p in out.iterdir())
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), "a full date reached the linked outputs"
    raw_ids = set(pd.read_csv(synthetic_dir / "children.csv")["child_id"]) | set(
        pd.read_csv(synthetic_dir / "voice_parent.csv")["response_id"])
    assert not raw_ids & set(re.findall(r"\b[A-Z]{1,2}\d{5,}\b", text))
    assert {p.name: sha256(p) for p in synthetic_dir.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("what", ["missing", "folder", "short"])
def test_a_bad_key_file_is_a_clear_error(tmp_path, synthetic_dir, what, capsys):
    """The link command in-process (``measurekit.cli.main``: exit code and message), then the call."""
    from measurekit.cli import main

    key = {"missing": tmp_path / "nonexistent", "folder": tmp_path, "short": tmp_path / "short"}[what]
    (tmp_path / "short").write_text("tooshort")
    capsys.readouterr()
    code = main(["link", str(synthetic_dir), "--framework", str(FRAMEWORK_DIR), "--out", str(tmp_path / "out"),
                 "--pseudonymise", "--key-file", str(key)])
    err = capsys.readouterr().err
    assert code == 1 and "key_file" in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError) as exc:
        load_key(key)
    assert exc.value.report.codes() == {"key_file"}
