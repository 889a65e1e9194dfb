"""Fielding exports: the XLSForm converts with pyxform (and passes ODK Validate with Java), REDCap and paper forms."""
import subprocess
import sys

import pandas as pd
import pytest

from measurekit.design.forms import REDCAP_COLUMNS, export_form, paper_form_html, redcap_dictionary, xlsform_sheets
from measurekit.design import load_framework


@pytest.fixture(scope="module")
def fw(framework_dir):
    return load_framework(framework_dir)


def test_xlsform_has_every_item_language_and_choice(fw, tmp_path):
    sheets = xlsform_sheets(fw)
    survey = sheets["survey"]
    label_cols = [c for c in survey.columns if c.startswith("label::")]
    assert label_cols == ["label::English (en)", "label::Urdu (ur)", "label::Bengali (bn)", "label::Punjabi (pa)",
                          "label::Polish (pl)", "label::Arabic (ar)", "label::Romanian (ro)"]
    assert len(label_cols) == len(fw.languages)
    assert set(fw.item_ids()) <= set(survey["name"])
    assert (survey.loc[survey["name"] == "sv4", "label::Urdu (ur)"] == fw.item("sv4").stem["ur"]).all()
    assert (survey.loc[survey["name"] == "cc1", "label::Arabic (ar)"] == fw.item("cc1").stem["ar"]).all()
    # group labels and the text around the questions come from the framework, per language
    grp = survey.set_index("name").loc["grp_home_learning"]
    assert grp["label::Polish (pl)"] == fw.domain("home_learning").label["pl"] != grp["label::English (en)"]
    assert survey.set_index("name").loc["intro", "label::Bengali (bn)"] == fw.form_text.intro["bn"]
    assert set(sheets["choices"]["name"]) == {1, 2, 3, 4, 5, 9}
    assert sheets["settings"].loc[0, "default_language"] == "English (en)"


def test_item_without_dont_know_gets_its_own_choice_list(fw, tmp_path):
    from pyxform.xls2xform import convert

    fw2 = fw.model_copy(deep=True)
    fw2.item("wb3").dont_know = "not_offered"
    sheets = xlsform_sheets(fw2)
    survey = sheets["survey"].set_index("name")
    assert survey.loc["wb3", "type"] == "select_one agree5_nodk" and survey.loc["wb1", "type"] == "select_one agree5"
    nodk = sheets["choices"][sheets["choices"]["list_name"] == "agree5_nodk"]
    assert list(nodk["name"]) == [1, 2, 3, 4, 5]
    row = redcap_dictionary(fw2).set_index("Variable / Field Name").loc["wb3"]
    assert "9," not in row["Choices, Calculations, OR Slider Labels"]
    html = paper_form_html(fw2, "en")
    assert html.count("<table>") == len(fw2.domains) + 2     # wb3 breaks its domain's grid into three
    result = convert(xlsform=str(export_form(fw2, "xlsform", tmp_path / "nodk.xlsx")[0]), validate=False)
    assert "agree5_nodk" in result.xform


def test_xlsform_converts_with_pyxform(fw, tmp_path):
    from pyxform.xls2xform import convert

    path = export_form(fw, "xlsform", tmp_path / "voice.xlsx")[0]
    warnings = []
    result = convert(xlsform=str(path), warnings=warnings, validate=False)
    assert "<h:html" in result.xform and "/grp_services/sv4" in result.xform
    assert "itext" in result.xform and 'lang="Urdu (ur)"' in result.xform


def test_xlsform_passes_odk_validate(fw, tmp_path, java_path):
    from pyxform.xls2xform import convert

    path = export_form(fw, "xlsform", tmp_path / "voice.xlsx")[0]
    convert(xlsform=str(path), validate=True)
    # the check has teeth: a broken relevance expression that pyxform alone accepts is rejected
    broken = fw.model_copy(deep=True)
    broken.item("cc4").relevant = "${cc1} = = '1'"
    bad = export_form(broken, "xlsform", tmp_path / "bad.xlsx")[0]
    convert(xlsform=str(bad), validate=False)
    with pytest.raises(Exception, match="(?i)invalid"):
        convert(xlsform=str(bad), validate=True)


def test_redcap_dictionary_has_the_standard_columns(fw, tmp_path):
    d = redcap_dictionary(fw)
    assert list(d.columns) == REDCAP_COLUMNS and len(REDCAP_COLUMNS) == 18
    row = d.set_index("Variable / Field Name").loc["wb2"]
    assert row["Field Type"] == "radio" and row["Choices, Calculations, OR Slider Labels"].startswith("1, Strongly disagree")
    assert "reverse=yes" in row["Field Annotation"]
    path = export_form(fw, "redcap", tmp_path / "dict.csv")[0]
    assert list(pd.read_csv(path).columns) == REDCAP_COLUMNS


def test_paper_forms_per_language_and_cli(fw, framework_dir, tmp_path):
    out = tmp_path / "paper"
    r = subprocess.run([sys.executable, "-m", "measurekit", "export-form", str(framework_dir), "--format", "html",
                        "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ur = (out / "form_ur.html").read_text(encoding="utf-8")
    assert "dir='rtl'" in ur and fw.item("cc1").stem["ur"] in ur and "<script" not in ur and "http" not in ur
    assert "dir='ltr'" in (out / "form_pl.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"form_{lang}.html" for lang in fw.languages)
    ar = (out / "form_ar.html").read_text(encoding="utf-8")
    assert "dir='rtl'" in ar and fw.domain("services").label["ar"] in ar and fw.form_text.intro["ar"] in ar
    assert "Draft translation" in ar and "Draft translation" not in (out / "form_en.html").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="not a declared language"):
        paper_form_html(fw, "de")


def test_relevance_and_required_reach_every_mode(fw, tmp_path):
    from pyxform.xls2xform import convert

    from measurekit.design.forms import redcap_branching

    fw2 = fw.model_copy(deep=True)
    fw2.item("cc4").relevant = "${cc1} != '9' and ${cc1} != ''"
    fw2.item("cc1").required = True
    survey = xlsform_sheets(fw2)["survey"].set_index("name")
    assert survey.loc["cc4", "relevant"] == "${cc1} != '9' and ${cc1} != ''" and survey.loc["cc1", "required"] == "yes"
    assert survey.loc["cc2", "relevant"] == "" and survey.loc["cc2", "required"] == ""
    xform = convert(xlsform=str(export_form(fw2, "xlsform", tmp_path / "rel.xlsx")[0]), validate=False).xform
    assert 'relevant=" /' in xform and 'required="true()"' in xform
    rc = redcap_dictionary(fw2).set_index("Variable / Field Name")
    assert rc.loc["cc4", "Branching Logic (Show field only if...)"] == "[cc1] <> '9' and [cc1] <> ''"
    assert rc.loc["cc1", "Required Field?"] == "y" and redcap_branching(None) == ""
