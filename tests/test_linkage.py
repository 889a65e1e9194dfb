import pandas as pd
import pytest

from measurekit.data import Cohort, link
from measurekit.data.pseudonymise import load_key, pseudonym
from measurekit.problems import InputError


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


def test_link_cli_never_writes_the_key(tmp_path, synthetic_dir, monkeypatch):
    import subprocess, sys, os

    env = dict(os.environ, MEASUREKIT_KEY="super-secret-key-123456")
    out = tmp_path / "linked"
    r = subprocess.run([sys.executable, "-m", "measurekit", "link", str(synthetic_dir), "--out", str(out), "--pseudonymise"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    text = "".join(p.read_text() for p in out.iterdir())
    assert "super-secret-key-123456" not in text
    first_id = pd.read_csv(synthetic_dir / "children.csv")["child_id"].iloc[0]
    assert first_id not in text
