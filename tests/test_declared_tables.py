"""The framework declares its data (issue 26, stage 1): population and tables in framework.yaml.

Written against the data contract, not against the code that builds the schemas: a small framework of a made-up
service is written here from scratch (its own population table, id, area words and a voice table with review
rounds), and the data it describes are written as CSV by hand, with problems planted row by row."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from measurekit.data import validate_dir
from measurekit.data.schemas import table_names, table_schema
from measurekit.design import check_framework, load_framework
from measurekit.design.models import DeclaredData
from measurekit.problems import CATALOGUE, InputError

ROOT = Path(__file__).resolve().parents[1]


def test_tables_json_schema_is_current():
    stored = json.loads((ROOT / "indicators" / "schema" / "tables.schema.json").read_text(encoding="utf-8"))
    assert stored == DeclaredData.model_json_schema(), "indicators/schema/tables.schema.json is stale"


def test_bundled_framework_declares_the_shipped_schemas(framework_dir, synthetic_dir):
    """Every <table>.schema.json shipped with the demo data is what the declaration gives, and every declared
    table has its file: the declaration is the data contract, nothing more and nothing less."""
    fw = load_framework(framework_dir)
    names = table_names(fw)
    shipped = sorted(p.name.removesuffix(".schema.json") for p in synthetic_dir.glob("*.schema.json"))
    assert set(names) <= set(shipped)
    for name in names:
        stored = json.loads((synthetic_dir / f"{name}.schema.json").read_text(encoding="utf-8"))
        assert stored == table_schema(name, fw), name


# ------------------------------------------------------------------------------------------------------------------
# a framework of a made-up service, written from scratch

FRAMEWORK = {
    "name": "test-service", "languages": ["en", "cy"],
    "population": {"table": "members", "id": "member_ref", "area": "patch", "small_area": "block",
                   "birth_date": "born_on", "age_years": [16, 30], "group": "the members", "person": "member",
                   "people": "members"},
    "tables": [
        {"name": "members", "required": True, "key": ["member_ref"], "columns": [
            {"name": "member_ref", "description": "Member reference", "required": True, "unique": True},
            {"name": "born_on", "type": "date", "description": "Date of birth", "required": True},
            {"name": "patch", "description": "Patch", "required": True, "label": True},
            {"name": "block", "description": "Block", "required": True}]},
        {"name": "housing", "key": ["member_ref"], "columns": [
            {"name": "member_ref", "description": "Member reference", "required": True, "unique": True},
            {"name": "suitable", "type": "integer", "description": "Suitable (1/0)", "required": True,
             "enum": [0, 1]},
            {"name": "rooms", "type": "integer", "description": "Rooms", "minimum": 1, "maximum": 9}]},
        {"name": "views_member", "kind": "voice", "respondent": "member", "required": True,
         "key": ["member_ref", "round"], "date": "asked_on", "round": "round", "columns": [
             {"name": "member_ref", "description": "Member reference", "required": True},
             {"name": "round", "type": "integer", "description": "Review round", "required": True, "minimum": 1},
             {"name": "asked_on", "type": "date", "description": "Date asked", "required": True},
             {"name": "lang", "description": "Form language", "required": True, "values_from": "languages"}]},
    ],
}
SCALES = {"scales": [{"id": "zero_ten", "options": [{"code": k, "label": {"en": str(k)}} for k in range(11)]}]}
ITEMS = {"domains": [{"id": "home"}, {"id": "money"}],
         "items": [{"id": "t_home", "domains": ["home", "money"], "scale": "zero_ten", "respondents": ["member"],
                    "stem": {"en": "Your home", "cy": "Eich cartref"}},
                   {"id": "t_money", "domain": "money", "scale": "zero_ten", "respondents": ["member"],
                    "stem": {"en": "Your money", "cy": "Eich arian"}}]}


def _write_framework(folder: Path, framework: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, doc in (("framework.yaml", framework or FRAMEWORK), ("scales.yaml", SCALES), ("items.yaml", ITEMS)):
        (folder / name).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return folder


def _csv(path: Path, rows: list[str]) -> None:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_a_framework_of_its_own_validates_its_own_tables(tmp_path):
    fw = load_framework(_write_framework(tmp_path / "fw"))
    assert table_names(fw) == ["members", "housing", "views_member"]
    views = table_schema("views_member", fw)
    assert [f["name"] for f in views["fields"]] == ["member_ref", "round", "asked_on", "lang", "t_home", "t_money"]
    assert views["fields"][3]["constraints"]["enum"] == ["en", "cy"]
    assert views["fields"][4]["constraints"]["enum"] == list(range(11))
    assert views["primaryKey"] == ["member_ref", "round"]
    assert views["foreignKeys"] == [{"fields": "member_ref", "reference": {"resource": "members",
                                                                          "fields": "member_ref"}}]
    data = tmp_path / "data"
    data.mkdir()
    _csv(data / "members.csv", ["member_ref,born_on,patch,block", "M1,2005-03-01,North,B1", "M2,2004-07-09,South,B2",
                                "M3,2020-01-01,South,B2"])                       # row 4: aged about 6
    _csv(data / "housing.csv", ["member_ref,suitable,rooms", "M1,1,2", "M2,2,3", "M9,0,12"])   # rows 3, 4
    _csv(data / "views_member.csv", ["member_ref,round,asked_on,lang,t_home,t_money",
                                     "M1,1,2024-01-10,en,7,5", "M1,2,2024-07-10,cy,8,",
                                     "M1,2,2024-07-11,en,3,3",                   # row 4: round 2 again
                                     "M2,1,2024-02-01,fr,11,4"])                 # row 5: language, code
    report = validate_dir(data, framework=fw)
    got = {(p.code, p.file, p.row, p.column) for p in report.problems}
    assert ("implausible_date", "members.csv", 4, "born_on") in got
    assert ("unknown_code", "housing.csv", 3, "suitable") in got
    assert ("out_of_range", "housing.csv", 4, "rooms") in got
    assert ("unknown_child", "housing.csv", 4, "member_ref") in got
    assert ("duplicate_compound_key", "views_member.csv", 4, "member_ref + round") in got
    assert ("unknown_code", "views_member.csv", 5, "lang") in got
    assert ("item_out_of_scale", "views_member.csv", 5, "t_home") in got
    assert not report.ok
    unknown = next(p for p in report.problems if p.code == "unknown_child")
    assert "members file" in unknown.message and unknown.value == "M9"
    age = next(p for p in report.problems if p.code == "implausible_date")
    assert "16-30" in age.message and "the members" in age.message
    # nothing else was reported: the clean rows are clean
    assert len(report.errors) == 7, report.to_frame()


def test_required_declared_tables_must_be_there(tmp_path):
    fw = load_framework(_write_framework(tmp_path / "fw"))
    data = tmp_path / "data"
    data.mkdir()
    _csv(data / "members.csv", ["member_ref,born_on,patch,block", "M1,2005-03-01,North,B1"])
    report = validate_dir(data, framework=fw)
    assert [(p.code, p.file) for p in report.errors] == [("missing_file", "views_member.csv")]


def test_a_framework_without_tables_is_a_clear_error(tmp_path):
    bare = {k: v for k, v in FRAMEWORK.items() if k not in ("population", "tables")}
    fw = load_framework(_write_framework(tmp_path / "fw", bare))
    with pytest.raises(InputError) as err:
        validate_dir(tmp_path, framework=fw)
    assert err.value.codes == ["no_tables_declared"]
    with pytest.raises(InputError) as err:
        table_schema("members", load_framework(_write_framework(tmp_path / "fw2")) and fw)
    assert err.value.codes == ["no_tables_declared"]


def test_an_unknown_table_is_an_input_error(tmp_path):
    fw = load_framework(_write_framework(tmp_path / "fw"))
    with pytest.raises(InputError) as err:
        table_schema("children", fw)
    assert err.value.codes == ["unknown_table"]


@pytest.mark.parametrize("change, column, rule_word", [
    (lambda f: f["population"].update(id="ref"), "population.id", "a column of members"),
    (lambda f: f["population"].update(table="people"), "population.table", "tables:"),
    (lambda f: f["tables"][1]["columns"][1].update(enum=["0", "1"]), "tables[1].columns[1].enum", "enum values"),
    (lambda f: f["tables"][1]["columns"][0].update(name="ref"), "tables[1].key", "key columns"),
    (lambda f: f["tables"][2].update(date="when"), "tables[2].date", "date column"),
    (lambda f: f["tables"][2].update(respondent="adviser"), "tables[2].respondent", "respondent"),
    (lambda f: f["tables"][1]["columns"][2].update(type="string"), "tables[1].columns[2].minimum", "minimum"),
    (lambda f: f["tables"].append({"name": "eyfsp", "kind": "eyfsp", "columns": [{"name": "x"}]}),
     "tables[3].columns", "no columns"),
    (lambda f: f["tables"][0].update(required=False), "tables[0].required", "required"),
    (lambda f: f.pop("population"), "population", "together"),
])
def test_a_table_declared_wrong_is_named_with_its_place(tmp_path, change, column, rule_word):
    framework = json.loads(json.dumps(FRAMEWORK))
    change(framework)
    folder = _write_framework(tmp_path / "fw", framework)
    report = check_framework(folder)
    bad = [p for p in report.problems if p.code == "bad_table_declaration"]
    assert bad and bad[0].column == column, report.to_frame()
    # the consequences named too: the id is missing from the other tables; a range has a minimum and a maximum
    more = {"population.id": 3, "tables[1].key": 2, "tables[1].columns[2].minimum": 2}
    assert len(bad) == more.get(column, 1), [p.column for p in bad]
    assert bad[0].file == "framework.yaml" and bad[0].row is not None and rule_word in bad[0].rule
    assert "bad_table_declaration" in CATALOGUE
    with pytest.raises(InputError):
        load_framework(folder)


def test_items_in_several_domains(tmp_path):
    fw = load_framework(_write_framework(tmp_path / "fw"))
    assert [i.id for i in fw.items_in("money", respondent="member")] == ["t_home", "t_money"]
    assert [i.id for i in fw.items_in("home", respondent="member")] == ["t_home"]
    assert fw.item("t_home").domain == "home" and fw.item("t_home").all_domains == ["home", "money"]
    with pytest.raises(InputError) as err:
        fw.lavaan_model(respondent="member")
    assert err.value.codes == ["cross_loading_items"]
    items = json.loads(json.dumps(ITEMS))
    items["items"][0]["domains"] = ["home", "nowhere"]
    folder = _write_framework(tmp_path / "fw2")
    (folder / "items.yaml").write_text(yaml.safe_dump(items), encoding="utf-8")
    report = check_framework(folder)
    assert [(p.code, p.column) for p in report.errors] == [("unknown_domain", "items[0].domains[1]")]


def test_copied_bundled_framework_keeps_its_declaration(tmp_path, framework_dir):
    copy = tmp_path / "copy"
    shutil.copytree(framework_dir, copy)
    fw = load_framework(copy)
    assert table_names(fw) == table_names(load_framework(framework_dir))
