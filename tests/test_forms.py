"""Fielding exports: the XLSForm converts with pyxform (and passes ODK Validate with Java), REDCap and paper forms."""
import pandas as pd
import pytest

from cli_runner import run_cli

from measurekit.design import forms
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
    r = run_cli("export-form", framework_dir, "--format", "html", "--out", out)
    assert r.returncode == 0, r.stderr
    who = fw.respondents()         # one form per respondent the items name, each file named after it
    first = f"form_{who[0]}_" if len(who) > 1 else "form_"
    ur = (out / f"{first}ur.html").read_text(encoding="utf-8")
    assert 'dir="rtl"' in ur and fw.item("cc1").stem["ur"] in ur and "<script" not in ur and "http" not in ur
    assert 'dir="ltr"' in (out / f"{first}pl.html").read_text(encoding="utf-8")
    stems = [f"form_{r}_" for r in who] if len(who) > 1 else ["form_"]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s}{lang}.html" for s in stems for lang in fw.languages)
    ar = (out / f"{first}ar.html").read_text(encoding="utf-8")
    assert 'dir="rtl"' in ar and fw.domain("services").label["ar"] in ar and fw.form_text.intro["ar"] in ar
    en = (out / f"{first}en.html").read_text(encoding="utf-8")
    assert "Draft translation" in ar and "Draft translation" not in en
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


def test_low_literacy_xlsform_passes_odk_validate_in_every_language(fw, tmp_path, java_path):
    """Media per language on items and choices, hints, constraints with messages, a choice filter and the faces
    scale: ODK Validate accepts the form, and every language's translation carries each of them."""
    from pyxform.xls2xform import convert

    fw2 = fw.model_copy(deep=True)
    fw2.item("sv1").constraint = ". != '9' or ${sv2} != '9'"
    fw2.item("sv1").constraint_message = {lang: f"[{lang}] Please try to answer one of these two." for lang in fw2.languages}
    fw2.item("cc2").choice_filter = "name != '9'"
    path = export_form(fw2, "xlsform", tmp_path / "lowlit.xlsx", pictorial=True)[0]
    media = tmp_path / "lowlit-media"
    assert sorted(p.name for p in media.iterdir()) == sorted(
        [f"face_{c}.png" for c in range(1, 6)] + ["hl1_books.png"] + [f"wb4_{lang}.wav" for lang in fw2.languages])
    assert (media / "face_3.png").read_bytes() == (fw2.path / "media/faces/face_3.png").read_bytes()
    xform = convert(xlsform=str(path), validate=True).xform
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xform)
    ns = {"x": "http://www.w3.org/2002/xforms"}
    translations = {t.get("lang"): t for t in root.iter("{http://www.w3.org/2002/xforms}translation")}
    assert len(translations) == len(fw2.languages) == 7
    for lang in fw2.languages:
        text = ET.tostring(translations[f"{forms.LANGUAGE_NAMES[lang]} ({lang})"], encoding="unicode")
        assert f"jr://audio/wb4_{lang}.wav" in text, lang
        assert "jr://images/face_1.png" in text and "jr://images/hl1_books.png" in text, lang
        assert fw2.item("wb4").hint[lang] in text, lang
        assert f"[{lang}] Please try" in text and fw2.form_text.child_id_message[lang] in text, lang
    assert "regex(., '^CH[0-9]{6}$')" in xform and "randomize" not in xform
    assert "nodeset=\"instance('agree5_faces')/root/item[name != '9']\"" in xform     # the choice filter
    survey = xlsform_sheets(fw2, pictorial=True)["survey"].set_index("name")
    assert survey.loc["hl1", "type"] == "select_one agree5_faces" and survey.loc["hl1", "appearance"] == "columns-pack"
    assert xlsform_sheets(fw2)["survey"].set_index("name").loc["hl1", "type"] == "select_one agree5"


def test_missing_media_is_reported_and_stops_the_export(fw, tmp_path):
    from measurekit.design.consistency import check_consistency
    from measurekit.problems import InputError

    fw2 = fw.model_copy(deep=True)
    fw2.item("hl2").media = type(fw2.item("hl1").media)(image={"en": "media/items/nowhere.png"})
    report = check_consistency(fw2)
    p = next(p for p in report if p.code == "missing_media")
    assert p.file == "items.yaml" and p.column.endswith("media.image.en") and p.value == "media/items/nowhere.png"
    with pytest.raises(InputError, match="nowhere.png"):
        export_form(fw2, "xlsform", tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_redcap_names_checked_by_check_spec_and_export(fw, framework_dir, tmp_path, capsys):
    import shutil

    from measurekit.design.forms import redcap_name_problems
    from measurekit.problems import InputError

    assert redcap_name_problems("hl1") == []
    assert redcap_name_problems("HL1") == ["lower case only"]
    assert redcap_name_problems("1st_item") == ["must start with a letter"]
    assert redcap_name_problems("sing-songs") == ["letters, digits and underscores only"]
    assert redcap_name_problems("a" * 27) == ["at most 26 characters (has 27)"] and not redcap_name_problems("a" * 26)
    copy = tmp_path / "fw"
    shutil.copytree(framework_dir, copy)
    for name in ("interviews.csv", "content_validity.csv"):          # they name hl4; not part of this check
        (copy / "evidence" / name).unlink()
    items = copy / "items.yaml"
    items.write_text(items.read_text(encoding="utf-8").replace("- id: hl4\n", "- id: Sing_songs_and_rhymes_together\n"),
                     encoding="utf-8")
    from measurekit.cli import main           # check-spec in-process (fresh interpreters: test_checks, test_security)

    capsys.readouterr()
    main(["check-spec", str(copy)])
    printed = capsys.readouterr().out
    assert "redcap_name" in printed and "Sing_songs_and_rhymes_together" in printed and "26 characters" in printed
    from measurekit.design import load_framework as load

    with pytest.raises(InputError) as e:
        redcap_dictionary(load(copy))
    assert e.value.report.problems[0].code == "redcap_name"


def test_redcap_validation_types_and_notes(fw):
    d = redcap_dictionary(fw).set_index("Variable / Field Name")
    assert d.loc["completed_on", "Text Validation Type OR Show Slider Number"] == "date_ymd"
    assert d.loc["wb4", "Field Note"] == fw.item("wb4").hint["en"]
    assert "CH and six numbers" in d.loc["child_id", "Field Note"]
    assert (d.loc[fw.item_ids(), "Field Type"] == "radio").all()


def test_paper_form_prints_the_pictorial_scale_and_hints(fw):
    plain = paper_form_html(fw, "bn")
    faces = paper_form_html(fw, "bn", pictorial=True)
    assert 'class="face"' not in plain and faces.count('class="face"') == len(fw.domains) * 5
    assert "data:image/png;base64," in faces and "http" not in faces and "<script" not in faces
    assert fw.item("wb4").hint["bn"] in plain and 'class="prompt"' in plain     # hl1's picture beside the question
    assert "Noto Sans Bengali" in plain                                         # a font for the form's script


def test_paper_form_escapes_the_framework_text(fw):
    """The paper form is rendered from a template with autoescaping: text from the framework is never markup."""
    f = fw.model_copy(deep=True)
    f.items[0].stem["en"] = "<script>alert(1)</script> & <b>bold</b>"
    page = paper_form_html(f, "en")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page


# ---- forms per declared respondent (a framework whose items are rated by two respondents, on 0-10) ----

@pytest.fixture(scope="module")
def fw2(root):
    return load_framework(root / "indicators" / "north-yorkshire-care-leavers")


def test_one_form_per_respondent_with_that_respondents_items(fw2, tmp_path):
    from pyxform.xls2xform import convert

    respondents = fw2.respondents()
    assert len(respondents) == 2
    paths = export_form(fw2, "xlsform", tmp_path / "x")
    assert [p.name for p in paths] == [f"{fw2.name}_{r}.xlsx" for r in respondents]
    form_ids = set()
    for r, p in zip(respondents, paths):
        mine = {it.id for it in fw2.items if r in it.respondents}
        survey = pd.read_excel(p, sheet_name="survey").fillna("")
        asked = survey[survey["type"].str.startswith("select_one")]
        assert sorted(asked["name"]) == sorted(mine) and asked["name"].is_unique   # each item asked once
        for name, label in zip(asked["name"], asked["label::English (en)"]):
            assert label == fw2.item(name).stem_for(r)["en"]     # each respondent its own wording
        result = convert(xlsform=str(p), validate=False)
        assert all(f"/{i}" in result.xform for i in mine)
        form_ids.add(pd.read_excel(p, sheet_name="settings").loc[0, "form_id"])
    assert len(form_ids) == 2                            # ODK servers need a distinct form id per form
    # a file named: one form, for the respondent named (none: the first the items name)
    one = export_form(fw2, "xlsform", tmp_path / "one.xlsx", respondent=respondents[1])
    assert one == [tmp_path / "one.xlsx"]
    survey = pd.read_excel(one[0], sheet_name="settings")
    assert survey.loc[0, "form_id"].endswith(respondents[1])


def test_item_in_several_domains_is_asked_once_under_its_first(fw2):
    shared = [it for it in fw2.items if len(it.all_domains) > 1]
    assert shared
    survey = xlsform_sheets(fw2, fw2.respondents()[0])["survey"]
    group = None
    where = {}
    for t, n in zip(survey["type"], survey["name"]):
        if t == "begin_group":
            group = n
        elif str(t).startswith("select_one"):
            where[n] = group
    for it in shared:
        assert where[it.id] == f"grp_{it.all_domains[0]}"
    d = redcap_dictionary(fw2, fw2.respondents()[1]).set_index("Variable / Field Name")
    it = shared[0]
    assert d.loc[it.id, "Field Annotation"].startswith("domain=" + ",".join(it.all_domains))


def test_zero_to_ten_scale_renders_with_its_anchors(fw2, tmp_path):
    sc = next(s for s in fw2.scales if s.numeric)
    lo, hi = sc.range
    choices = xlsform_sheets(fw2, "adviser")["choices"]
    mine = choices[choices["list_name"] == sc.id]
    assert list(mine["name"]) == list(range(lo, hi + 1))
    labels = dict(zip(mine["name"], mine["label::English (en)"]))
    assert labels[lo] == sc.anchors[lo]["en"] and labels[hi] == sc.anchors[hi]["en"] and labels[5] == "5"
    html = paper_form_html(fw2, "en", "young_person")
    first = html[html.index("<table>"):html.index("</table>")]
    head = first.split("</tr>")[0]
    assert head.count("<th>") == (hi - lo + 1) + 1                     # 11 boxes and the question column
    assert sc.anchors[lo]["en"] in head and sc.anchors[hi]["en"] in head
    row = first.split("</tr>")[1]
    assert row.count('class="box"') == hi - lo + 1
    paths = export_form(fw2, "html", tmp_path / "h")
    assert {p.name for p in paths} == {f"form_{r}_{lang}.html" for r in fw2.respondents() for lang in fw2.languages}


def test_respondent_must_be_declared(fw2, fw):
    from measurekit.problems import InputError

    with pytest.raises(InputError) as e:
        redcap_dictionary(fw2, "teacher")
    assert e.value.codes == ["unknown_respondent"] and "respondent=" in str(e.value)
    # no respondent named: the first the items name (the main perspective)
    first = fw2.respondents()[0]
    assert xlsform_sheets(fw2)["survey"].equals(xlsform_sheets(fw2, first)["survey"])
    assert set(xlsform_sheets(fw)["survey"]["name"]) >= set(fw.item_ids(fw.respondents()[0]))
