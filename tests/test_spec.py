"""Specifications: YAML round trip, every problem reported with a stable code, JSON Schemas, evidence and traceability."""
import json
import shutil

import pytest
import yaml

from measurekit.design import SpecError, check_framework, load_framework
from measurekit.design.evidence import load_evidence, read_codebook
from measurekit.design.saving import framework_documents, json_schemas, save_framework
from measurekit.design.trace import traceability


@pytest.fixture()
def fw_copy(tmp_path, framework_dir):
    d = tmp_path / "fw"
    shutil.copytree(framework_dir, d)
    return d


def test_round_trip_yaml_model_yaml_is_lossless(fw_copy, tmp_path):
    fw = load_framework(fw_copy)
    docs = framework_documents(fw)
    out = tmp_path / "saved"
    shutil.copytree(fw_copy / "evidence", out / "evidence")
    save_framework(fw, out)
    again = load_framework(out)
    assert framework_documents(again) == docs
    assert again.model_dump(exclude={"path"}) == fw.model_dump(exclude={"path"})
    # and what was saved equals what was read from the shipped files
    for name, doc in docs.items():
        assert yaml.safe_load((out / name).read_text(encoding="utf-8")) == doc


def test_shipped_framework_is_complete_and_illustrative(framework_dir):
    fw = load_framework(framework_dir)
    assert fw.illustrative and "ILLUSTRATIVE" in (framework_dir / "items.yaml").read_text()
    assert len(fw.items) == 16 and len(fw.domains) == 4 and len(fw.indicators) >= 6
    assert fw.theory_of_change.vision and fw.governance.dpia_reference and fw.practices
    assert all(set(i.stem) == set(fw.languages) for i in fw.items)
    assert all(i.provenance.quotes and i.history for i in fw.items)
    assert check_framework(framework_dir).ok and len(check_framework(framework_dir)) == 0


def _edit(path, name, func):
    doc = yaml.safe_load((path / name).read_text(encoding="utf-8"))
    func(doc)
    (path / name).write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_every_error_is_reported_at_once_with_code_and_location(fw_copy):
    def items(doc):
        doc["items"][2]["scale"] = "agree7"                     # unknown scale
        doc["items"][3]["id"] = doc["items"][0]["id"]          # duplicate id
        del doc["items"][4]["stem"]["pl"]                      # missing translation
    _edit(fw_copy, "items.yaml", items)

    def scales(doc):
        doc["scales"].append({"id": "yesno", "options": [{"code": 1, "label": {"en": "Yes", "ur": "ہاں", "pl": "Tak"}},
                                                          {"code": 0, "label": {"en": "No", "ur": "نہیں", "pl": "Nie"}}]})
    _edit(fw_copy, "scales.yaml", scales)

    def items2(doc):
        doc["items"][5]["scale"] = "yesno"
        doc["items"][5]["reverse"] = True                      # reverse keyed on a scale without a middle
    _edit(fw_copy, "items.yaml", items2)

    def indicators(doc):
        doc["indicators"][2]["compute"] = {"source": "item", "field": "zz9", "statistic": "proportion"}
    _edit(fw_copy, "indicators.yaml", indicators)
    report = check_framework(fw_copy)
    where = {(p.code, p.file, p.column) for p in report.problems}
    assert ("unknown_scale", "items.yaml", "items[2].scale") in where
    assert ("duplicate_id", "items.yaml", "items[3].id") in where
    assert ("missing_translation", "items.yaml", "items[4].stem.pl") in where
    assert ("reverse_without_middle", "items.yaml", "items[5].reverse") in where
    assert ("indicator_missing_item", "indicators.yaml", "indicators[2].compute.field") in where
    with pytest.raises(SpecError) as info:
        load_framework(fw_copy)
    assert len(info.value.report.errors) >= 4


def test_yaml_syntax_and_type_errors_have_locations(fw_copy):
    (fw_copy / "scales.yaml").write_text("scales:\n  - id: agree5\n    options: [\n", encoding="utf-8")
    report = check_framework(fw_copy)
    assert "yaml_syntax" in report.codes()
    assert any(p.file == "scales.yaml" and p.row for p in report.problems)


def test_invalid_field_names_its_path(fw_copy):
    _edit(fw_copy, "indicators.yaml", lambda d: d["indicators"][0].update(polarity="up"))
    report = check_framework(fw_copy)
    bad = [p for p in report.problems if p.code == "invalid_field"]
    assert bad and bad[0].column == "indicators[0].polarity" and bad[0].file == "indicators.yaml"


def test_json_schemas_are_exported_and_current(root):
    for name, schema in json_schemas().items():
        stored = json.loads((root / "indicators" / "schema" / f"{name}.schema.json").read_text())
        assert stored == schema, f"indicators/schema/{name}.schema.json is stale: run export_json_schemas"


def test_codebook_and_traceability(framework_dir):
    fw = load_framework(framework_dir)
    ev = load_evidence(fw)
    themes = read_codebook(framework_dir / "evidence" / "codebook.qdc")
    assert {"T01", "T17"} <= set(themes["code"])
    t = traceability(fw, ev)
    uncovered = set(t["themes"].loc[~t["themes"]["covered"], "code"])
    assert uncovered == {"T17", "T18"}                       # planted: housing and digital access
    assert t["items"]["has_evidence"].all() and t["problems"].empty
    row = t["items"].set_index("item").loc["cc2"]
    assert row["parent_panel"] == 1 and row["practitioners"] == 1
    assert "child_communication_concern" in row["indicators"]
    assert ev.consented_quotes()["consent_to_quote"].all() and len(ev.consented_quotes()) < len(ev.quotes)


def test_items_without_evidence_are_flagged(fw_copy):
    _edit(fw_copy, "items.yaml", lambda d: d["items"][0].update(provenance={"themes": [], "quotes": ["Q999"], "groups": []}))
    fw = load_framework(fw_copy)
    t = traceability(fw, load_evidence(fw))
    assert not t["items"].set_index("item").loc["hl1", "has_evidence"]
    assert ("hl1", "unknown_quote", "Q999") in set(map(tuple, t["problems"].to_numpy()))


def test_translation_problems_cover_scales_form_text_and_undeclared_languages(fw_copy):
    def scales(doc):
        del doc["scales"][0]["options"][1]["label"]["bn"]
        del doc["scales"][0]["dont_know"]["label"]["ar"]
    _edit(fw_copy, "scales.yaml", scales)

    def meta(doc):
        del doc["form_text"]["intro"]["ro"]
        doc["translations"]["de"] = {"status": "draft"}
    _edit(fw_copy, "framework.yaml", meta)
    _edit(fw_copy, "items.yaml", lambda d: d["items"][1]["stem"].update(de="Mein Kind hat Platz zum Spielen."))
    report = check_framework(fw_copy)
    where = {(p.code, p.file, p.column, p.severity) for p in report.problems}
    assert ("missing_translation", "scales.yaml", "scales[0].options[1].label.bn", "warning") in where
    assert ("missing_translation", "scales.yaml", "scales[0].dont_know.label.ar", "warning") in where
    assert ("missing_translation", "framework.yaml", "form_text.intro.ro", "warning") in where
    assert ("undeclared_language", "framework.yaml", "translations.de", "warning") in where
    assert ("undeclared_language", "items.yaml", "items[1].stem.de", "warning") in where
    assert report.ok                                   # warnings only: the framework still loads
    load_framework(fw_copy)


def test_shipped_translations_are_marked_as_drafts(framework_dir):
    fw = load_framework(framework_dir)
    assert fw.languages[0] == "en" and {"ur", "bn", "pa", "pl", "ar", "ro"} <= set(fw.languages)
    assert fw.translations["en"].status == "source"
    assert all(fw.translations[lang].status == "draft" and "review" in fw.translations[lang].note
               for lang in fw.languages[1:])
    assert all(set(d.label) == set(fw.languages[1:]) for d in fw.domains)
    assert fw.domain("services").title_in("xx") == fw.domain("services").title


def test_problems_carry_the_yaml_line(fw_copy):
    text = (fw_copy / "items.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    hl2 = lines.index("- id: hl2")                                # 0-based line of the second item
    scale_line = next(i for i in range(hl2, len(lines)) if lines[i].strip() == "scale: agree5")
    lines[scale_line] = lines[scale_line].replace("agree5", "agree7")
    (fw_copy / "items.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = check_framework(fw_copy)
    p = next(p for p in report.problems if p.code == "unknown_scale")
    assert (p.file, p.column, p.row) == ("items.yaml", "items[1].scale", scale_line + 1)
    assert f"row {scale_line + 1}" in str(p)


def test_duplicate_yaml_keys_are_reported(fw_copy):
    text = (fw_copy / "framework.yaml").read_text(encoding="utf-8")
    text = text.replace("version: 0.1.0\n", "version: 0.1.0\nversion: 0.2.0\n", 1)
    (fw_copy / "framework.yaml").write_text(text, encoding="utf-8")
    report = check_framework(fw_copy)
    dup = [p for p in report.problems if p.code == "duplicate_key"]
    line = text.splitlines().index("version: 0.2.0") + 1
    assert [(p.file, p.row, p.value) for p in dup] == [("framework.yaml", line, "version")]
    with pytest.raises(SpecError):
        load_framework(fw_copy)
