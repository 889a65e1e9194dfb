"""The item drafter, driven headlessly: set widget values, click save, read the YAML back."""
import shutil

import pytest
import yaml

from measurekit.design import load_framework
from measurekit.design.widgets.drafter import ItemDrafter


@pytest.fixture()
def drafter(tmp_path, framework_dir):
    d = tmp_path / "fw"
    shutil.copytree(framework_dir, d)
    return ItemDrafter(d), d


def test_drafter_saves_what_was_typed_with_history(drafter):
    dr, path = drafter
    dr.item.value = "sv4"
    assert "reading_age" in dr.checks.value                     # the shipped sv4 wording is hard to read
    dr.stem.value = "Services tell me things in my language."
    assert "No wording problems" in dr.checks.value             # checks update as the wording changes
    dr.quotes.value = ("Q022", "Q034")
    assert "old phone" in dr.evidence_panel.value
    dr.status.value = "revised"
    dr.who.value = "Parent panel, 3 March"
    dr.reason.value = "Simpler wording after cognitive interviews"
    dr.save_button.click()
    assert "Saved sv4" in dr.message.value
    doc = yaml.safe_load((path / "items.yaml").read_text(encoding="utf-8"))
    sv4 = next(i for i in doc["items"] if i["id"] == "sv4")
    assert sv4["stem"]["en"] == "Services tell me things in my language."
    assert sv4["provenance"]["quotes"] == ["Q022", "Q034"] and "T18" in sv4["provenance"]["themes"]
    assert sv4["history"][-1] == {"status": "revised", "date": sv4["history"][-1]["date"],
                                  "by": "Parent panel, 3 March", "reason": "Simpler wording after cognitive interviews"}
    assert load_framework(path).item("sv4").status == "revised"


def test_drafter_edits_a_translation_and_refuses_anonymous_saves(drafter):
    dr, path = drafter
    dr.item.value = "cc1"
    dr.language.value = "pl"
    assert dr.stem.value.startswith("Moje dziecko")
    dr.stem.value = "Moje dziecko umie powiedzieć, czego chce."
    dr.save_button.click()
    assert "who made the change" in dr.message.value
    before = (path / "items.yaml").read_text(encoding="utf-8")
    assert "umie powiedzieć" not in before
    dr.who.value, dr.reason.value = "Polish translator", "More natural wording"
    dr.save_button.click()
    fw = load_framework(path)
    assert fw.item("cc1").stem["pl"] == "Moje dziecko umie powiedzieć, czego chce."
    assert fw.item("cc1").stem["en"] == "My child can tell me what they need."


def _add_scales(path):
    doc = yaml.safe_load((path / "scales.yaml").read_text(encoding="utf-8"))
    langs = yaml.safe_load((path / "framework.yaml").read_text(encoding="utf-8"))["languages"]
    freq = ["Never", "Rarely", "Sometimes", "Often", "Always"]
    doc["scales"].append({"id": "often5", "title": "How often",
                          "options": [{"code": k + 1, "label": {lang: t for lang in langs}} for k, t in enumerate(freq)]})
    doc["scales"].append({"id": "yesno", "title": "Yes or no",
                          "options": [{"code": 1, "label": {lang: "Yes" for lang in langs}},
                                      {"code": 0, "label": {lang: "No" for lang in langs}}]})
    (path / "scales.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_drafter_picks_a_scale_and_warns_about_mixed_scales(tmp_path, framework_dir):
    path = tmp_path / "fw"
    shutil.copytree(framework_dir, path)
    _add_scales(path)
    dr = ItemDrafter(path)
    dr.item.value = "hl4"
    assert "scale_inconsistent" not in dr.checks.value
    dr.scale.value = "often5"
    assert "scale_inconsistent" in dr.checks.value              # the other home-learning items use agree5
    dr.who.value, dr.reason.value = "Co-design group", "Frequency reads better for routines"
    before = (path / "items.yaml").read_text(encoding="utf-8")
    assert dr.save() is False                                    # an open warning blocks saving ...
    assert "Not saved" in dr.message.value and "scale_inconsistent" in dr.message.value
    assert (path / "items.yaml").read_text(encoding="utf-8") == before
    dr.override.value = True
    assert dr.save() is False                                    # ... an override needs a reason ...
    dr.override_reason.value = "Trial both scales in the pilot"
    assert dr.save()                                             # ... which is recorded
    doc = yaml.safe_load((path / "items.yaml").read_text(encoding="utf-8"))
    hl4 = next(i for i in doc["items"] if i["id"] == "hl4")
    assert hl4["scale"] == "often5"
    assert "scale_inconsistent" in hl4["history"][-1]["reason"] and "Trial both scales" in hl4["history"][-1]["reason"]
    assert dr.who.value == dr.reason.value == dr.override_reason.value == "" and dr.override.value is False


def test_drafter_refuses_an_edit_that_breaks_the_specification(tmp_path, framework_dir):
    path = tmp_path / "fw"
    shutil.copytree(framework_dir, path)
    _add_scales(path)
    dr = ItemDrafter(path)
    dr.item.value = "wb2"                                         # reverse keyed
    dr.scale.value = "yesno"                                      # no middle point
    dr.who.value, dr.reason.value = "Analyst", "Try yes/no"
    before = (path / "items.yaml").read_text(encoding="utf-8")
    assert dr.save() is False
    assert "reverse_without_middle" in dr.message.value and "Not saved" in dr.message.value
    assert (path / "items.yaml").read_text(encoding="utf-8") == before
    load_framework(path)                                          # still loads


def test_drafter_marks_translations_out_of_date_and_lays_out_rtl(drafter):
    """Editing the English wording marks the other languages out of date; saving one clears its mark."""
    dr, path = drafter
    dr.item.value = "cc1"
    dr.stem.value = "My child can tell me what they want."
    dr.who.value, dr.reason.value = "Parent panel", "Plainer"
    assert dr.save(), dr.message.value
    assert "out of date" in dr.message.value
    assert dr.item.label.endswith("what they want.")            # the item list shows the new wording
    fw = load_framework(path)
    assert set(fw.item("cc1").outdated_translations) == set(fw.languages[1:])
    dr.language.value = "ur"
    assert "mk-rtl" in dr.stem._dom_classes                     # typed right to left
    assert "translation_outdated" in dr.checks.value and "No wording problems" not in dr.checks.value
    dr.language.value = "pl"
    assert "mk-rtl" not in dr.stem._dom_classes
    dr.who.value, dr.reason.value = "Polish translator", "New wording translated"
    dr.stem.value = "Moje dziecko umie powiedzieć, czego chce."
    dr.override.value, dr.override_reason.value = True, "checked with translator"
    assert dr.save(), dr.message.value
    assert "pl" not in load_framework(path).item("cc1").outdated_translations
    from measurekit.design.wording import check_items

    found = check_items(load_framework(path))
    assert set(found.loc[(found["code"] == "translation_outdated") & (found["item"] == "cc1"), "language"]) == \
        set(fw.languages[1:]) - {"pl"}


def test_drafter_offers_standard_scales_and_clears_the_message_on_edit(drafter):
    dr, path = drafter
    ids = [v for _, v in dr.scale.options]
    assert {"agree5", "agree4", "frequency5"} <= set(ids) and len(ids) >= 4
    dr.item.value = "sv4"
    dr.who.value, dr.reason.value = "x", "y"
    assert dr.save() is False and "Not saved" in dr.message.value
    dr.stem.value = "Services tell me things in my language."
    assert dr.message.value == ""                                # the old message no longer applies


def test_save_never_overwrites_files_changed_on_disk_since_loading(tmp_path, framework_dir):
    """Two drafters on one folder (two notebooks, or a re-run beside an open one): the second save stops and says
    so instead of silently dropping the first one's edit; Reload or an explicit Replace resolves it."""
    import shutil

    from measurekit.design import load_framework
    from measurekit.design.widgets.drafter import ItemDrafter

    d = tmp_path / "fw"
    shutil.copytree(framework_dir, d)
    a, b = ItemDrafter(d), ItemDrafter(d)
    for dr, item, text in ((a, "hl1", "We read books together on most days."), (b, "hl2", "My child has space to play.")):
        dr.item.value = item
        dr.stem.value = text
        dr.who.value, dr.reason.value = "Analyst", "test"
        dr.override.value, dr.override_reason.value = True, "test"
    assert a.save()
    after_a = {p.name: p.read_bytes() for p in d.glob("*.yaml")}
    assert b.save() is False and "changed on disk" in b.message.value
    assert {p.name: p.read_bytes() for p in d.glob("*.yaml")} == after_a
    b.reload()
    assert b.fw.item("hl1").stem["en"] == "We read books together on most days."
    b.item.value = "hl2"
    b.stem.value = "My child has space to play."
    b.who.value, b.reason.value = "Analyst", "test"
    b.override.value, b.override_reason.value = True, "test"
    assert b.save()
    fw = load_framework(d)
    assert fw.item("hl1").stem["en"] == "We read books together on most days."     # both edits kept
    assert fw.item("hl2").stem["en"] == "My child has space to play."
    # an explicit Replace saves over a change made elsewhere
    a.item.value = "hl3"
    a.stem.value = "I know how to help my child learn."
    a.who.value, a.reason.value = "Analyst", "test"
    a.override.value, a.override_reason.value = True, "test"
    assert a.save() is False
    a.replace.value = True
    assert a.save() and load_framework(d).item("hl3").stem["en"] == "I know how to help my child learn."
