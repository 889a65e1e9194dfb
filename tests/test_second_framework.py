"""The second bundled framework (issue 26, stage 3): North Yorkshire's care leavers' Pathway Plan reviews.

The expected facts are copied here from the domain notes (the nine topics and their domains, the LA's codes), not
read from the framework, so a slip in either shows."""
from __future__ import annotations

from pathlib import Path

from cli_runner import run_cli

from measurekit.data.schemas import table_names, table_schema
from measurekit.design import check_framework, load_framework

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "indicators" / "north-yorkshire-care-leavers"

# topic (as the young person reads it) -> its outcome domains (by title), from the interim report
TOPICS = {
    "Your future in five years": "all",
    "Your relationships": {"Relationships", "Accommodation"},
    "Your family": {"Relationships", "Accommodation"},
    "Your home": {"Accommodation"},
    "Learning at school, college, university or work": {"Education", "Work"},
    "The things you like doing": {"Physical health", "Well-being and mental health"},
    "Feeling safe and well": {"Risk"},
    "Looking after yourself": {"Well-being and mental health", "Physical health", "Finances and life management"},
    "Your identity and culture": {"Well-being and mental health"},
}


def test_it_passes_check_spec_and_loads():
    report = check_framework(FOLDER)
    assert report.ok and not report.errors, report.to_frame()
    out = run_cli("check-spec", FOLDER, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 error(s)" in out.stdout


def test_the_council_and_its_words():
    fw = load_framework(FOLDER)
    assert fw.illustrative
    a = fw.area
    assert (a.la_name, a.old_la_code, a.new_la_code, a.region_code, a.region_name) == (
        "North Yorkshire", "815", "E06000065", "E12000003", "Yorkshire and The Humber")
    assert a.area_word == "locality" and a.areas_word == "localities"
    assert (fw.population.person, fw.population.people) == ("young person", "young people")
    assert fw.languages[0] == "en" and len(fw.languages) == 2


def test_nine_topics_in_eight_domains_rated_by_two_perspectives_on_0_to_10():
    fw = load_framework(FOLDER)
    titles = {d.id: d.title for d in fw.domains}
    assert len(fw.domains) == 8 and len(fw.items) == 9
    for item in fw.items:
        topic = next(t for t in TOPICS if item.stem["en"].startswith(t + ":"))
        want = set(titles.values()) if TOPICS[topic] == "all" else TOPICS[topic]
        assert {titles[d] for d in item.all_domains} == want, item.id
        assert item.respondents == ["young_person", "adviser"]
        assert set(item.stem) == set(fw.languages)
        scale = fw.scale(item.scale)
        assert scale.codes == list(range(11))
        assert set(scale.anchors) == {0, 10}
        assert all(o.label["en"] == str(o.code) for o in scale.options[1:10])
    assert len({i.stem["en"].split(":")[0] for i in fw.items}) == 9


def test_the_declared_tables():
    fw = load_framework(FOLDER)
    names = table_names(fw)
    assert fw.population.table == "young_people" and fw.population.area == "locality"
    voice = [n for n in names if fw.table(n).kind == "voice"]
    assert sorted(fw.table(n).respondent for n in voice) == ["adviser", "young_person"]
    for n in voice:
        t = fw.table(n)
        assert t.round and t.round in t.key and fw.population.id in t.key
        fields = [f["name"] for f in table_schema(n, fw)["fields"]]
        assert {i.id for i in fw.items} <= set(fields)
    ret = {f["name"]: f for f in table_schema("care_leaver_return", fw)["fields"]}
    assert ret["accommodation_suitable"]["constraints"]["enum"] == [0, 1]
    assert "not_known" in ret["accommodation_type"]["constraints"]["enum"]
    assert {"age", "in_touch", "activity", "eet"} <= set(ret)


def test_indicators_for_the_board():
    fw = load_framework(FOLDER)
    by_id = {i.id: i for i in fw.indicators}
    assert fw.coverage_indicator in by_id
    home = [i for i in fw.indicators if i.compute.field == "your_home"]
    assert any(i.compute.statistic == "proportion_at_or_above" and i.compute.threshold == 7 for i in home)
    discord = [i for i in home if i.compute.among is not None]
    assert len(discord) == 1 and discord[0].compute.threshold == 5
    assert discord[0].compute.statistic == "proportion_below"
    assert discord[0].compute.among.field == "accommodation_suitable" and discord[0].compute.among.values == [1]
    assert any(i.compute.table == "voice_adviser" and i.compute.field == "responded" for i in fw.indicators)
    assert any(i.compute.field == "accommodation_suitable" and i.compute.among is None for i in fw.indicators)


def test_an_indicator_reading_an_undeclared_column_is_named(tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(FOLDER, copy)
    text = (copy / "indicators.yaml").read_text(encoding="utf-8")
    (copy / "indicators.yaml").write_text(text.replace("field: accommodation_suitable\n      values:",
                                                       "field: accommodation_ok\n      values:"), encoding="utf-8")
    report = check_framework(copy)
    bad = [p for p in report.errors if p.code == "bad_table_declaration"]
    assert len(bad) == 1 and bad[0].file == "indicators.yaml" and bad[0].value == "accommodation_ok"
    assert bad[0].column.endswith("compute.among.field") and bad[0].row is not None
