"""``measurekit new-framework``: a council's own framework, from nothing to a run (issue 26, docs/framework.md).

The flow the guide describes is run through the command line: new-framework -> check-spec (refused on the
placeholder codes only, then passes once real codes are written) -> synth -> validate -> run. The words of the two
bundled frameworks are collected here from their own YAML files (not from measurekit), and no written file may
hold one.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from measurekit.cli import main

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted(p.parent for p in (ROOT / "indicators").glob("*/framework.yaml"))
REAL = {"old_la_code": "938", "new_la_code": "E10000032", "region_code": "E12000008"}   # written by a user


def _mk(*args) -> int:
    return main([str(a) for a in args])


def _yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _problems(capsys) -> str:
    out = capsys.readouterr()
    return out.out + out.err


# ------------------------------------------------------------------------------------- the bundled frameworks' words
def _bundled_words() -> tuple[set[str], set[str]]:
    """(distinctive words and ids to find anywhere, every id to keep out of the new framework's ids), read from
    the bundled frameworks' own files."""
    anywhere: set[str] = {"rochdale", "yorkshire", "care leaver", "care leavers", "pathway plan", "school readiness",
                          "eyfsp", "gld", "asq"}
    ids: set[str] = set()
    for fw in BUNDLED:
        meta = _yaml(fw / "framework.yaml")
        anywhere.add(str(meta["name"]).lower())
        area = meta.get("area") or {}
        for key in ("la_name", "region_name"):
            if area.get(key):
                anywhere.add(str(area[key]).lower())
        for table in meta.get("tables") or []:
            ids.add(table["name"])
            if table.get("respondent"):
                ids.add(table["respondent"])
        ids.update(b["id"] for b in meta.get("breakdowns") or [])
        ids.update(s["id"] for s in _yaml(fw / "scales.yaml").get("scales", []))
        items = _yaml(fw / "items.yaml")
        ids.update(d["id"] for d in items.get("domains", []))
        ids.update(i["id"] for i in items.get("items", []))
        ids.update(i["id"] for i in _yaml(fw / "indicators.yaml").get("indicators", []))
        anywhere.update(str(a["name"]).lower() for a in _yaml(fw / "synthetic.yaml").get("areas") or [])
    # ids that are not plain English words (sv4, your_home, parent_voice_coverage ...) must appear nowhere
    # (small_areas is also a key of measurekit's synthetic.yaml format: the number of small areas per area)
    anywhere.update(i.lower() for i in ids if re.search(r"[_0-9]", i) and i != "small_areas")
    return anywhere, ids


def _found(text: str, words: set[str]) -> list[str]:
    low = text.lower()
    return sorted(w for w in words if re.search(r"(?<![a-z0-9_])" + re.escape(w) + r"(?![a-z0-9_])", low))


def _new_ids(folder: Path) -> set[str]:
    meta = _yaml(folder / "framework.yaml")
    ids = {t["name"] for t in meta["tables"]} | {t["respondent"] for t in meta["tables"] if t.get("respondent")}
    ids |= {b["id"] for b in meta.get("breakdowns") or []}
    ids |= {s["id"] for s in _yaml(folder / "scales.yaml")["scales"]}
    items = _yaml(folder / "items.yaml")
    ids |= {d["id"] for d in items["domains"]} | {i["id"] for i in items["items"]}
    return ids | {i["id"] for i in _yaml(folder / "indicators.yaml")["indicators"]}


def test_bundled_word_list_is_not_empty():
    anywhere, ids = _bundled_words()
    assert len(BUNDLED) >= 2
    assert len(ids) > 20 and len(anywhere) > 20
    # the scan does find a bundled framework's words in that framework's own files (it could fail)
    assert _found((BUNDLED[0] / "items.yaml").read_text(encoding="utf-8"), anywhere)


# --------------------------------------------------------------------------------------------------- the command
def test_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / ".notes").write_text("my notes\n", encoding="utf-8")
    assert _mk("new-framework", folder) == 1
    assert "folder_not_empty" in _problems(capsys)
    assert sorted(p.name for p in folder.iterdir()) == [".notes"]
    assert (folder / ".notes").read_text(encoding="utf-8") == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]        # no partial folder left beside it


def test_refuses_a_folder_inside_a_bundled_framework(capsys):
    inside = BUNDLED[0] / "mine"
    assert not inside.exists()
    before = sorted(p.name for p in BUNDLED[0].iterdir())
    assert _mk("new-framework", inside) == 1
    assert "output_overlaps_input" in _problems(capsys)
    assert sorted(p.name for p in BUNDLED[0].iterdir()) == before


def test_refuses_a_file_and_bad_options(tmp_path, capsys):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    assert _mk("new-framework", tmp_path / "afile") == 1
    assert "unwritable_output" in _problems(capsys)
    assert _mk("new-framework", tmp_path / "a", "--la-code", "E12000008") == 1      # a region code given as LA
    assert "gss_code" in _problems(capsys)
    assert _mk("new-framework", tmp_path / "b", "--la-code", "E06000000") == 1      # the placeholder itself
    assert "placeholder_code" in _problems(capsys)
    assert _mk("new-framework", tmp_path / "c", "--area-word", "ward\nname: x") == 1
    assert "bad_option" in _problems(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_empty_folder_is_used_and_yaml_special_text_survives(tmp_path):
    from measurekit.design import load_framework

    folder = tmp_path / "empty"
    folder.mkdir()
    title = "Family help: \"what works\" # for us, 100% {honest}"
    assert _mk("new-framework", folder, "--title", title, "--la-name", "St. Anywhere: upon-Sea") == 0
    fw = load_framework(folder)
    assert fw.title == title
    assert fw.area.la_name == "St. Anywhere: upon-Sea"
    assert fw.name == "empty"


def test_placeholders_refused_by_check_spec_until_filled_in(tmp_path, capsys):
    from measurekit.design import check_framework
    from measurekit.design.new_framework import placeholder_problems

    folder = tmp_path / "our-framework"
    assert _mk("new-framework", folder, "--title", "Family help as families see it") == 0
    capsys.readouterr()
    assert sorted(p.name for p in folder.iterdir()) == ["framework.yaml", "indicators.yaml", "items.yaml",
                                                        "scales.yaml", "synthetic.yaml"]
    # the framework itself is valid: its only errors are the documented placeholders
    assert check_framework(folder).errors == []
    assert _mk("check-spec", folder) == 1
    text = _problems(capsys)
    left = placeholder_problems(folder)
    assert {p.code for p in left.errors} == {"placeholder_code"}
    assert {p.column for p in left.errors} == {"area.la_name", "area.region_name", "area.old_la_code",
                                               "area.new_la_code", "area.region_code"}
    assert all(p.file == "framework.yaml" and p.value and p.rule for p in left.errors)
    assert "area.new_la_code" in text and "placeholder_code" in text
    assert {p.code for p in left.warnings} == {"placeholder_text"}       # TODO text: warnings only
    assert any(p.column == "governance.lawful_basis" for p in left.warnings)

    # placeholders or not, the framework can be tried at once: synth, then validate
    data = tmp_path / "practice"
    assert _mk("synth", "--framework", folder, "--n", 120, "--out", data) == 0
    assert _mk("validate", data, "--framework", folder) == 0
    capsys.readouterr()
    assert sorted(p.stem for p in data.glob("*.csv")) == ["area_lookup", "families", "support_record",
                                                          "voice_family"]

    # the analyst writes the real name and codes in framework.yaml, as docs/framework.md says
    path = folder / "framework.yaml"
    text = path.read_text(encoding="utf-8")
    for key, code in REAL.items():
        text, n = re.subn(rf"^(  {key}: ).*$", rf"\g<1>'{code}'", text, flags=re.M)
        assert n == 1
    text = re.sub(r"^(  la_name: ).*$", r"\g<1>Kent", text, flags=re.M)
    text = re.sub(r"^(  region_name: ).*$", r"\g<1>South East", text, flags=re.M)
    path.write_text(text, encoding="utf-8")
    assert _mk("check-spec", folder) == 0
    out = _problems(capsys)
    assert "4 items in 2 domains, 2 indicators" in out
    assert "ERROR" not in out


def _expected_response(profile: dict, area: str) -> float:
    """Share of people with at least one answered review in ``area``, from the profile's own numbers."""
    p = float(profile["voice"]["response"]["family"])
    missing = profile["plant"]["missing"]
    if missing["area"] == area:
        p = float(missing["response"])
    return 1 - (1 - p) ** int(profile["rounds"])


def test_new_framework_synth_validate_run(tmp_path, capsys):
    folder = tmp_path / "fw"
    data = tmp_path / "data"
    out = tmp_path / "out"
    assert _mk("new-framework", folder, "--title", "Family help as families see it", "--la-name", "Kent",
               "--old-la-code", REAL["old_la_code"], "--la-code", REAL["new_la_code"], "--region-code",
               REAL["region_code"], "--region-name", "South East", "--area-word", "locality") == 0
    assert _mk("check-spec", folder) == 0
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert _mk("synth", "--framework", folder, "--n", 800, "--seed", 3, "--out", data) == 0
    assert _mk("validate", data, "--framework", folder) == 0
    assert "0 error(s)" in _problems(capsys)
    assert _mk("run", "--data", data, "--framework", folder, "--out", out) == 0
    capsys.readouterr()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before         # the framework is an input

    pack = out / "shareable" / "board_pack"
    assert _mk("check-ees", pack / "fw.csv") == 0                                 # the open-data file (named after it)
    assert "0 error(s)" in _problems(capsys)
    assert len(list((pack / "briefing").glob("*.html"))) == 3                      # one briefing per area
    board = pd.read_csv(pack / "board_table.csv")
    assert set(board["indicator_id"]) == {"plan_agreed_on_time", "feel_listened_to"}
    la = board[(board["geography_type"] == "la") & (board["breakdown"] == "all")].set_index("indicator_id")
    assert set(la["geography_code"]) == {REAL["new_la_code"]}
    # the routine indicator recovers the share synthetic.yaml draws (weights [0.25, 0.75] over 0/1)
    profile = _yaml(folder / "synthetic.yaml")
    w = profile["columns"]["support_record.plan_on_time"]["weights"]
    share = w[1] / sum(w)
    row = la.loc["plan_agreed_on_time"]
    assert int(row["denominator"]) in range(795, 806)          # 800 families, rounded to 5
    assert abs(row["value"] / 100 - share) < 4 * math.sqrt(share * (1 - share) / 800)
    # coverage by area recovers the planted missingness: fewer families answer in the planted area
    cov = pd.read_csv(out / "internal" / "value" / "coverage.csv")
    cov = cov[cov["variable"] == "area"].set_index("group")
    assert set(cov.index) == {a["name"] for a in profile["areas"]}
    for name, r in cov.iterrows():
        expected = _expected_response(profile, name)
        assert abs(r["response_rate"] - expected) < 4 * math.sqrt(expected * (1 - expected) / r["n_cohort"]), name
    planted = profile["plant"]["missing"]["area"]
    assert cov["response_rate"].idxmin() == planted

    # no written file holds a word or id of the bundled frameworks
    anywhere, bundled_ids = _bundled_words()
    assert not (_new_ids(folder) & bundled_ids)
    for base in (folder, data):
        for p in base.rglob("*"):
            if p.is_file() and p.suffix in (".yaml", ".csv", ".json", ".md"):
                assert not _found(p.read_text(encoding="utf-8"), anywhere), p
    shareable = [p for p in (out / "shareable").rglob("*") if p.is_file() and p.suffix in (".csv", ".json", ".html")]
    assert shareable
    for p in shareable:
        assert not _found(p.read_text(encoding="utf-8"), anywhere), p


def test_the_new_framework_is_not_an_output_another_command_may_replace(tmp_path, capsys):
    """new-framework writes no marker of a measurekit output, so no command may replace the folder with its own
    output (the analyst's edits would be lost)."""
    folder = tmp_path / "fw"
    other = tmp_path / "other"
    assert _mk("new-framework", folder) == 0
    assert _mk("new-framework", other) == 0
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert _mk("synth", "--framework", other, "--n", 60, "--out", folder) == 1
    assert "output_not_ours" in _problems(capsys)
    assert _mk("synth", "--framework", folder, "--n", 60, "--out", folder / "data") == 1
    assert "output_overlaps_input" in _problems(capsys)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.parametrize("word, plural", [("locality", "localities"), ("ward", "wards"), ("parish", "parishes")])
def test_area_word_reaches_the_outputs_words(tmp_path, word, plural):
    from measurekit.design import load_framework

    folder = tmp_path / word
    assert _mk("new-framework", folder, "--area-word", word) == 0
    fw = load_framework(folder)
    assert fw.area.area_word == word and fw.area.areas_word == plural
    assert [a["name"] for a in _yaml(folder / "synthetic.yaml")["areas"]][0] == word.title() + " A"


def test_area_word_plural_given(tmp_path):
    from measurekit.design import load_framework

    folder = tmp_path / "x"
    assert _mk("new-framework", folder, "--area-word", "area of need", "--area-word-plural", "areas of need") == 0
    assert load_framework(folder).area.areas_word == "areas of need"
