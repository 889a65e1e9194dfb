"""Each respondent is asked a topic in their own words (issue 26): the care leavers' adviser form asks "How well is
the young person's home working for them?", not the young person's "How do you feel about where you live?".

The expected wording is read here from items.yaml with plain YAML (not through measurekit's model), so the tests
check what the forms print against what the framework author wrote.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cli_runner import run_cli
from measurekit.design import load_framework
from measurekit.design.forms import export_form, paper_form_html, redcap_dictionary, xlsform_sheets
from measurekit.problems import InputError

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "indicators" / "north-yorkshire-care-leavers"


@pytest.fixture(scope="module")
def raw():
    """items.yaml as written: item id -> its mapping."""
    doc = yaml.safe_load((FOLDER / "items.yaml").read_text(encoding="utf-8"))
    return {it["id"]: it for it in doc["items"]}


@pytest.fixture(scope="module")
def fw():
    return load_framework(FOLDER)


def test_the_adviser_wording_is_declared_for_every_topic_in_third_person(raw):
    assert len(raw) == 9
    for item_id, it in raw.items():
        adviser = it["stem_by_respondent"]["adviser"]
        assert set(adviser) == set(it["stem"]), item_id            # every language of the stem
        assert "young person" in adviser["en"] and adviser["en"] != it["stem"]["en"]
        words = adviser["en"].split(":", 1)[1].lower()
        # the question part speaks about the young person, not to them
        assert not {"you", "your", "yourself"} & set(words.replace("?", " ").replace(",", " ").split()), adviser["en"]
    home = raw["your_home"]["stem_by_respondent"]["adviser"]["en"]
    assert home.lower().endswith("how well is the young person's home working for them?")


def test_xlsform_each_respondent_sees_its_own_wording_and_hint(fw, raw, tmp_path):
    for respondent in ("young_person", "adviser"):
        survey = xlsform_sheets(fw, respondent)["survey"].set_index("name")
        for item_id, it in raw.items():
            own = it.get("stem_by_respondent", {}).get(respondent, it["stem"])
            hint = it.get("hint_by_respondent", {}).get(respondent, it["hint"])
            assert survey.loc[item_id, "label::English (en)"] == own["en"]
            assert survey.loc[item_id, "label::Arabic (ar)"] == own["ar"]
            assert survey.loc[item_id, "hint::English (en)"] == hint["en"]
    young = xlsform_sheets(fw, "young_person")["survey"].set_index("name")
    adviser = xlsform_sheets(fw, "adviser")["survey"].set_index("name")
    assert young.loc["your_home", "label::English (en)"] != adviser.loc["your_home", "label::English (en)"]
    assert "Your adviser gives their own number" not in " ".join(adviser["hint::English (en)"].astype(str))


def test_adviser_xlsform_passes_odk_validate(fw, tmp_path, java_path):
    from pyxform.xls2xform import convert

    path = export_form(fw, "xlsform", tmp_path / "adviser.xlsx", respondent="adviser")[0]
    result = convert(xlsform=str(path), validate=True)
    assert "young person's home working for them" in result.xform


def test_redcap_and_paper_form_use_the_respondents_wording(fw, raw):
    d = redcap_dictionary(fw, "adviser").set_index("Variable / Field Name")
    for item_id, it in raw.items():
        assert d.loc[item_id, "Field Label"] == it["stem_by_respondent"]["adviser"]["en"]
        assert d.loc[item_id, "Field Note"] == it["hint_by_respondent"]["adviser"]["en"]
    html = paper_form_html(fw, "en", "adviser")
    young = paper_form_html(fw, "en", "young_person")
    for it in raw.values():
        adviser_en = it["stem_by_respondent"]["adviser"]["en"].replace("'", "&#39;")
        young_en = it["stem"]["en"].replace("'", "&#39;")
        assert adviser_en in html and young_en not in html
        assert young_en in young and adviser_en not in young
    ar = paper_form_html(fw, "ar", "adviser")
    assert raw["your_home"]["stem_by_respondent"]["adviser"]["ar"] in ar


def test_data_dictionary_describes_each_voice_table_in_its_respondents_words(fw, raw):
    from measurekit.data.schemas import table_schema

    adviser = {f["name"]: f["description"] for f in table_schema("voice_adviser", fw)["fields"]}
    young = {f["name"]: f["description"] for f in table_schema("voice_young_person", fw)["fields"]}
    for item_id, it in raw.items():
        assert adviser[item_id].startswith(it["stem_by_respondent"]["adviser"]["en"])
        assert young[item_id].startswith(it["stem"]["en"])


def test_fallback_to_the_stem_and_a_warning_for_a_missing_language(tmp_path):
    """An item without an adviser wording is asked its stem; an adviser wording without Arabic makes check-spec
    warn (missing_translation) and the Arabic form falls back to the Arabic stem."""
    from measurekit.design import check_framework

    copy = tmp_path / "fw"
    shutil.copytree(FOLDER, copy)
    doc = yaml.safe_load((copy / "items.yaml").read_text(encoding="utf-8"))
    first, second = doc["items"][0], doc["items"][1]
    first.pop("stem_by_respondent")
    first.pop("hint_by_respondent")
    second["stem_by_respondent"]["adviser"].pop("ar")
    (copy / "items.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    fw = load_framework(copy)
    survey = xlsform_sheets(fw, "adviser")["survey"].set_index("name")
    assert survey.loc[first["id"], "label::English (en)"] == first["stem"]["en"]
    assert survey.loc[second["id"], "label::English (en)"] == second["stem_by_respondent"]["adviser"]["en"]
    assert survey.loc[second["id"], "label::Arabic (ar)"] == second["stem"]["ar"]
    report = check_framework(copy)
    warned = [p for p in report.problems
              if p.code == "missing_translation" and "stem_by_respondent" in (p.column or "")]
    assert len(warned) == 1 and warned[0].column.endswith(".adviser.ar") and warned[0].severity == "warning"


def test_a_wording_for_a_respondent_the_item_does_not_name_is_an_error(tmp_path):
    from measurekit.design import check_framework

    copy = tmp_path / "fw"
    shutil.copytree(FOLDER, copy)
    text = (copy / "items.yaml").read_text(encoding="utf-8")
    assert text.count("  stem_by_respondent:\n    adviser:") == 9
    (copy / "items.yaml").write_text(text.replace("  stem_by_respondent:\n    adviser:",
                                                  "  stem_by_respondent:\n    teacher:", 1), encoding="utf-8")
    report = check_framework(copy)
    errors = [p for p in report.problems if p.code == "unknown_respondent"]
    assert errors and errors[0].file == "items.yaml" and "teacher" in errors[0].message
    assert errors[0].row is not None and "young_person, adviser" in errors[0].message


def _cli(*args):
    return run_cli(*args, cwd=ROOT, timeout=300)


def test_export_form_respondent_option(tmp_path):
    out = tmp_path / "forms"
    done = _cli("export-form", FOLDER, "--format", "redcap", "--out", out, "--respondent", "adviser")
    assert done.returncode == 0, done.stdout + done.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == ["north-yorkshire-care-leavers_redcap_adviser.csv"]
    d = pd.read_csv(out / written[0]).set_index("Variable / Field Name")
    assert "young person's home working for them" in d.loc["your_home", "Field Label"]
    # default: every declared respondent, one form each
    every = tmp_path / "every"
    done = _cli("export-form", FOLDER, "--format", "html", "--out", every)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p.name for p in every.iterdir()} == {f"form_{r}_{lang}.html" for r in ("young_person", "adviser")
                                                 for lang in ("en", "ar")}
    # an unknown name: a clear error listing the declared respondents, no traceback, nothing written
    bad = tmp_path / "bad"
    done = _cli("export-form", FOLDER, "--format", "xlsform", "--out", bad, "--respondent", "teacher")
    assert done.returncode == 1
    text = done.stdout + done.stderr
    assert "unknown_respondent" in text and "young_person, adviser" in text and "Traceback" not in text
    assert not bad.exists() or not any(bad.iterdir())


def test_python_call_names_the_declared_respondents(fw):
    with pytest.raises(InputError) as e:
        xlsform_sheets(fw, "teacher")
    assert e.value.codes == ["unknown_respondent"]
    assert "young_person, adviser" in str(e.value)
