"""Item-writing checks flag known-bad stems, pass known-good ones, and need no network."""
import socket
import subprocess
import sys

import pytest

from cli_runner import run_cli
from measurekit.design import load_framework
from measurekit.design.wording import CheckConfig, check_items, check_stem
from measurekit.design.readability import stats, syllables

BAD = {
    "Do you feel that the school readiness provision is adequate and timely?": {"jargon", "double_barrelled", "reading_age"},
    "I do not think the nursery never listens to me.": {"double_negative"},
    "Don't you agree that the Family Hub is excellent?": {"leading_wording"},
    "How frequently does your family participate in developmental activities organised by multi-agency practitioners in the locality?": {"too_long", "reading_age", "jargon"},
    "Is the EHCP process clear?": {"jargon"},
}
GOOD = ["My child can tell me what they need.", "I know how to help my child.", "We read books together.",
        "My child likes to play with other children."]


@pytest.mark.parametrize("stem,codes", BAD.items())
def test_known_bad_stems_are_flagged(stem, codes):
    found = {f.code for f in check_stem(stem)}
    assert codes <= found, found


@pytest.mark.parametrize("stem", GOOD)
def test_known_good_stems_pass(stem):
    assert [f.code for f in check_stem(stem) if f.severity != "info"] == []


def test_every_finding_explains_why_and_what_to_try():
    for stem in BAD:
        for f in check_stem(stem):
            assert len(f.message) > 20 and len(f.suggestion) > 10


def test_readability_numbers():
    assert syllables("cat") == 1 and syllables("table") == 2 and syllables("family") == 3
    s = stats("The cat sat on the mat.")
    assert s["words"] == 6 and s["fk_grade"] < 1 and s["flesch_reading_ease"] > 100
    assert stats("Institutional multidisciplinary interventions necessitate comprehensive evaluation.")["reading_age"] > 20


def test_configurable_target_and_jargon():
    stem = "It is easy for me to get to the services my family needs."
    assert "reading_age" in {f.code for f in check_stem(stem, config=CheckConfig(reading_age=8))}
    assert "reading_age" not in {f.code for f in check_stem(stem, config=CheckConfig(reading_age=12))}
    assert "jargon" in {f.code for f in check_stem("We go to the hub.", config=CheckConfig(jargon=("hub",)))}


def test_framework_checks_cover_languages_and_domains(framework_dir):
    fw = load_framework(framework_dir)
    findings = check_items(fw)
    assert set(findings["language"]) <= set(fw.languages) | {""}
    assert "sv4" in set(findings.loc[findings["code"] == "reading_age", "item"])
    drafts = findings[findings["code"] == "translation_draft"]
    assert set(drafts["language"]) == set(fw.languages[1:]) and (drafts["severity"] == "info").all()
    fw.items[0].scale = "other"
    assert "scale_inconsistent" in set(check_items(fw)["code"])
    fw.translations["ur"].status = "community_reviewed"
    assert "ur" not in set(check_items(fw).query("code == 'translation_draft'")["language"])


def test_checks_work_without_network():
    # a fresh interpreter is the point: which modules the check imports (no textstat, no nltk) is only seen in a
    # process that has not imported them already
    code = ("import socket\n"
            "def no(*a, **k): raise OSError('network disabled')\n"
            "socket.socket.connect = no; socket.create_connection = no\n"
            "from measurekit.design.wording import check_stem\n"
            "print(len(check_stem('Is the EHCP process clear?')))\n"
            "import sys; assert 'textstat' not in sys.modules and 'nltk' not in sys.modules\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) >= 1


def test_word_limit_follows_each_language(framework_dir):
    from measurekit.design.wording import word_limits

    fw = load_framework(framework_dir)
    limits = word_limits(fw)
    assert limits["en"] == 16 and limits["ur"] > 16          # Urdu writes postpositions as separate words
    assert "too_long" not in set(check_items(fw)["code"])
    fw.item("cc1").stem["ur"] = " ".join([fw.item("cc1").stem["ur"]] * 3)   # a padded translation
    found = check_items(fw)
    assert ("cc1", "ur") in set(zip(found.loc[found.code == "too_long", "item"], found.loc[found.code == "too_long", "language"]))


def test_check_spec_command_exit_codes(framework_dir, tmp_path):
    import shutil

    ok = run_cli("check-spec", framework_dir)
    assert ok.returncode == 0, ok.stderr
    assert "0 error(s)" in ok.stdout and "reading_age" in ok.stdout and "T17 Housing moves" in ok.stdout
    bad = tmp_path / "fw"
    shutil.copytree(framework_dir, bad)
    text = (bad / "items.yaml").read_text(encoding="utf-8").replace("scale: agree5", "scale: agree7", 1)
    (bad / "items.yaml").write_text(text, encoding="utf-8")
    r = run_cli("check-spec", bad)
    assert r.returncode == 1 and "unknown_scale" in r.stdout and "items[0].scale" in r.stdout
