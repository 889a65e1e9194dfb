"""Breakdowns and analysis roles declared by the framework (``breakdowns:``, ``analysis:`` in framework.yaml).

The last test makes a framework that differs from the bundled one in every breakdown id, label and analysis
column (and data columns to match), runs ``measurekit run`` on it and looks for the bundled framework's words in
every shareable file. The words it looks for are read from the bundled framework.yaml here, not from the code.
"""
from __future__ import annotations

import csv
import json
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cli_runner import CliResult, run_cli
from measurekit.core import labels
from measurekit.design import check_framework, load_framework

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "indicators" / "rochdale-school-readiness"
DATA = ROOT / "data" / "synthetic"


def _copy_framework(tmp_path: Path) -> Path:
    target = tmp_path / "fw"
    shutil.copytree(BUNDLED, target)
    return target


def _edit_yaml(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _codes(report):
    return [(p.code, p.file, p.column, p.value) for p in report.problems if p.severity == "error"]


# --- the declaration and its checks -------------------------------------------------------------------------------

def test_bundled_framework_declares_the_breakdowns_indicators_use():
    fw = load_framework(BUNDLED)
    raw = yaml.safe_load((BUNDLED / "framework.yaml").read_text(encoding="utf-8"))
    assert [b.id for b in fw.breakdowns] == [b["id"] for b in raw["breakdowns"]]
    assert fw.area_breakdown is not None and fw.area_breakdown.area
    used = {b for ind in fw.indicators for b in ind.breakdowns}
    assert used <= {b.id for b in fw.breakdowns}
    assert not [p for p in check_framework(BUNDLED).problems if p.code in ("unknown_breakdown", "area_breakdown")]


def test_indicator_with_an_undeclared_breakdown_is_reported_with_its_place(tmp_path):
    fw = _copy_framework(tmp_path)
    _edit_yaml(fw / "indicators.yaml", lambda d: d["indicators"][1]["breakdowns"].append("postcode_district"))
    problems = [p for p in check_framework(fw).problems if p.code == "unknown_breakdown"]
    assert len(problems) == 1
    p = problems[0]
    assert p.file == "indicators.yaml" and p.value == "postcode_district" and p.severity == "error"
    assert p.column.startswith("indicators[1].breakdowns[") and p.row is not None and p.rule
    assert "postcode_district" in p.message and "breakdowns:" in p.message
    with pytest.raises(Exception) as exc:        # load_framework refuses it (SpecError, an InputError)
        load_framework(fw)
    assert "unknown_breakdown" in {q.code for q in exc.value.report.problems}


def test_relation_between_undeclared_or_area_breakdowns_is_reported(tmp_path):
    fw = _copy_framework(tmp_path)

    def change(doc):
        doc["breakdown_relations"][0]["equals_breakdown"] = "first_language_recorded"
        doc["breakdown_relations"].append({"breakdown": doc["breakdowns"][0]["id"], "value": "x",
                                           "equals_breakdown": "fsm", "equals_values": ["1"]})
    _edit_yaml(fw / "framework.yaml", change)
    problems = {(p.column, p.value) for p in check_framework(fw).problems if p.code == "unknown_breakdown"}
    assert ("breakdown_relations[0].equals_breakdown", "first_language_recorded") in problems
    assert ("breakdown_relations[1].breakdown", "neighbourhood") in problems      # the area is not a group


def test_two_area_breakdowns_and_duplicate_ids_are_reported(tmp_path):
    fw = _copy_framework(tmp_path)

    def change(doc):
        doc["breakdowns"][1]["area"] = True
        doc["breakdowns"].append(dict(doc["breakdowns"][2]))
    _edit_yaml(fw / "framework.yaml", change)
    codes = [(p.code, p.column) for p in check_framework(fw).problems if p.severity == "error"]
    assert ("area_breakdown", "breakdowns[1].area") in codes
    assert ("duplicate_id", f"breakdowns[{6}].id") in codes


def test_without_a_declaration_only_the_area_breakdown_is_known(tmp_path):
    fw = _copy_framework(tmp_path)
    _edit_yaml(fw / "framework.yaml", lambda d: (d.pop("breakdowns"), d.pop("breakdown_relations")))
    problems = [p for p in check_framework(fw).problems if p.code == "unknown_breakdown"]
    named = {b for ind in yaml.safe_load((fw / "indicators.yaml").read_text())["indicators"]
             for b in ind.get("breakdowns", []) if b != "neighbourhood"}
    assert {p.value for p in problems} == named and named


def test_an_indicator_without_breakdowns_is_broken_down_by_the_declared_area(tmp_path):
    fw = _copy_framework(tmp_path)
    _edit_yaml(fw / "framework.yaml", lambda d: d["breakdowns"][0].update(id="patch"))

    def drop(doc):
        for ind in doc["indicators"]:
            ind["breakdowns"] = ["patch" if b == "neighbourhood" else b for b in ind.get("breakdowns", [])]
        doc["indicators"][0].pop("breakdowns")
    _edit_yaml(fw / "indicators.yaml", drop)
    loaded = load_framework(fw)
    assert loaded.indicators[0].breakdowns == ["patch"]
    assert loaded.indicators[1].breakdowns[0] == "patch"


def test_without_a_declaration_the_area_breakdown_is_the_population_area_column(tmp_path):
    """A framework that declares its population table (with an area column other than "neighbourhood") and no
    breakdowns: its indicators are broken down by that area column, never by a word of another framework."""
    fw = tmp_path / "fw"
    shutil.copytree(ROOT / "indicators" / "north-yorkshire-care-leavers", fw)
    _edit_yaml(fw / "framework.yaml", lambda d: (d.pop("breakdowns", None), d.pop("breakdown_relations", None)))
    _edit_yaml(fw / "indicators.yaml", lambda d: [ind.pop("breakdowns", None) for ind in d["indicators"]])
    raw = yaml.safe_load((fw / "framework.yaml").read_text(encoding="utf-8"))
    area = raw["population"]["area"]
    assert area != "neighbourhood"
    loaded = load_framework(fw)
    assert loaded.area_breakdown.id == area and [b.id for b in loaded.declared_breakdowns] == [area]
    assert loaded.indicators and all(ind.breakdowns == [area] for ind in loaded.indicators)
    assert not [p for p in check_framework(fw).problems if p.code == "unknown_breakdown"]


def test_labels_come_from_the_declaration():
    fw = load_framework(BUNDLED)
    raw = yaml.safe_load((BUNDLED / "framework.yaml").read_text(encoding="utf-8"))
    for b in raw["breakdowns"]:
        assert labels.breakdown(b["id"], fw) == b["title"]
        for v in b.get("values", []):
            assert labels.category(b["id"], v["value"], framework=fw) == v["label"]
            assert labels.category(b["id"], v["value"], plain=True, framework=fw) == (v.get("plain") or v["label"])
    other = fw.model_copy(deep=True)
    other.breakdowns[1].title = "Lunch help"
    other.breakdowns[1].values[1].label = "Gets lunch help"
    bid = other.breakdowns[1].id
    assert labels.breakdown(bid, other) == "Lunch help"
    assert labels.category(bid, 1, framework=other) == "Gets lunch help"
    assert labels.category(bid, "7", framework=other) == "7"        # undeclared value: shown as it is
    assert labels.category(bid, "0", framework=other) == other.breakdowns[1].values[0].label
    words = labels.breakdown_code_words(other)
    assert words[bid] == "lunch help" and "none" not in words and "1" not in words


# --- the pipeline: analysis roles from the declaration --------------------------------------------------------------

def _run(data: Path, fw: Path, out: Path) -> CliResult:
    """``measurekit run`` in this process (tests/cli_runner.py), with $HOME a scratch folder for the call."""
    return run_cli("run", "--data", data, "--framework", fw, "--out", out, env={"HOME": str(out.parent)}, timeout=900)


def test_a_framework_without_analysis_roles_skips_those_analyses_with_a_reason(tmp_path):
    from measurekit.pipeline.run import run

    fw = _copy_framework(tmp_path)
    _edit_yaml(fw / "framework.yaml", lambda d: d.pop("analysis"))
    state = run(DATA, framework=fw, out=tmp_path / "out", log=lambda _: None)
    reasons = {(s.step, s.reason) for s in state.skipped}
    assert state.fairness is None
    assert any(step.startswith("Fairness") and "declares no" in r and "fairness_groups" in r for step, r in reasons)
    for key in ("coverage_by", "weighting_by", "outcomes"):
        assert any("declares no" in r and key in r for _, r in reasons), key
    assert state.value is not None and not state.value.added_value and state.value.coverage is None
    assert (tmp_path / "out" / "shareable" / "board_pack" / "board_table.csv").is_file()
    assert not (tmp_path / "out" / "internal" / "fairness").exists()


def test_declared_analysis_columns_the_data_lack_are_said_not_dropped_quietly(tmp_path):
    from measurekit.pipeline.run import run

    fw = _copy_framework(tmp_path)

    def change(doc):
        doc["analysis"]["coverage_by"].append("free_meals_typo")
        doc["analysis"]["outcomes"][0]["covariates"].append("birth_month_typo")
        doc["analysis"]["outcomes"].append({"column": "ks1_typo", "covariates": ["fsm"]})
    _edit_yaml(fw / "framework.yaml", change)
    state = run(DATA, framework=fw, out=tmp_path / "out", log=lambda _: None)
    reasons = " | ".join(s.reason for s in state.skipped)
    assert "'free_meals_typo'" in reasons and "coverage_by" in reasons
    assert "'birth_month_typo'" in reasons and "'ks1_typo'" in reasons
    # the declared columns the data have are still used
    assert state.value.coverage is not None and set(state.value.added_value) == {
        o["column"] for o in yaml.safe_load((BUNDLED / "framework.yaml").read_text())["analysis"]["outcomes"]}


# --- a framework made differently ---------------------------------------------------------------------------------

NEW_IDS = {"fsm": "meal_grant", "eal": "second_tongue", "send": "learning_plan", "sex": "gender_rec",
           "home_language": "family_tongue", "neighbourhood": "patch"}
NEW_ANALYSIS = {"summer_born": "birth_season", "asq_total": "early_screen", "gld": "early_dev",
                "y1_phonics_pass": "later_pass", "home_language_group": "tongue_group"}
NEW_VALUES = {"send": {"none": "tier0", "sen_support": "tier1", "ehc_plan": "tier2"}, "sex": {"F": "g1", "M": "g2"}}


def _languages() -> dict[str, str]:
    kids = pd.read_csv(DATA / "children.csv", dtype=str)
    return {lang: f"Tongue{k}" for k, lang in enumerate(sorted(kids["home_language"].unique()))}


def _old_words(raw: dict) -> tuple[set[str], set[str]]:
    """(ids, phrases) of the bundled framework's breakdowns and analysis roles, from its framework.yaml."""
    ids, phrases = set(), set()
    for b in raw["breakdowns"]:
        ids.add(b["id"])
        for key in ("title", "words", "ees_name"):
            if b.get(key) and not b.get("area"):
                phrases.add(b[key])
        for v in b.get("values", []):
            # a label that is the value itself ("Other") is a data value, renamed with the data
            phrases |= {v[k] for k in ("label", "plain", "ees") if v.get(k) and v[k] != str(v["value"])}
            if "_" in str(v["value"]):
                ids.add(str(v["value"]))
    for rel in raw["breakdown_relations"]:
        phrases |= {rel["reader_note"], rel["note"]}
    a = raw["analysis"]
    for g in a["fairness_groups"]:
        ids |= {g["column"], g.get("id") or g["column"]}
        if g.get("label"):
            phrases.add(g["label"])
    for o in a["outcomes"]:
        ids |= {o["column"], *o["covariates"]}
        phrases |= {x for x in (o.get("title"), o.get("evidence_note")) if x}
    return ids, phrases


def _phrase(p: str) -> re.Pattern:
    return re.compile(rf"(?<!\w){re.escape(p)}(?!\w)", re.IGNORECASE)


def _rename_text(text: str, phrases: dict[str, str], ids: dict[str, str]) -> str:
    for old, new in ids.items():       # ids first: a title such as "Sex" would otherwise rename its id
        text = re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, text)
    for old in sorted(phrases, key=len, reverse=True):
        text = _phrase(old).sub(phrases[old], text)
    return text


def _make_renamed(tmp_path: Path) -> tuple[Path, Path, set[str], set[str]]:
    raw = yaml.safe_load((BUNDLED / "framework.yaml").read_text(encoding="utf-8"))
    old_ids, old_phrases = _old_words(raw)
    langs = _languages()
    # every phrase of the old declaration -> a made-up phrase (made here, independent of the code under test)
    phrase_map = {p: f"Phrase {k} of the other framework" for k, p in enumerate(sorted(old_phrases))}
    codes = {k: v for k, v in NEW_VALUES["send"].items() if "_" in k}      # value codes that read as codes
    id_map = {**NEW_IDS, **NEW_ANALYSIS, **codes}
    # the analysis names data columns: the area column stays (the population table's schema names it)
    data_map = {k: v for k, v in id_map.items() if k != "neighbourhood"}
    fw = _copy_framework(tmp_path)

    def rename(node):
        if isinstance(node, dict):
            return {k: rename(v) for k, v in node.items()}
        if isinstance(node, list):
            return [rename(v) for v in node]
        return _rename_text(node, phrase_map, id_map) if isinstance(node, str) else node

    def framework(doc):
        for b in doc["breakdowns"]:
            old = b["id"]
            for v in b.get("values", []):
                v["value"] = NEW_VALUES.get(old, {}).get(str(v["value"]), str(v["value"]))
                if old == "home_language":
                    v["value"] = langs.get(v["value"], v["value"])
        for rel in doc["breakdown_relations"]:
            rel["equals_values"] = [langs.get(x, x) for x in rel["equals_values"]]
        for g in doc["analysis"]["fairness_groups"]:
            if g.get("reference"):
                g["reference"] = langs[g["reference"]]
        doc["area"].update(la_word="district", area_word="patch", area_word_plural="patches")
        analysis = doc.pop("analysis")
        # the declared input tables (population, tables) describe the data files, whose old columns stay beside the
        # renamed ones added below: the declaration keeps the old column names and codes
        doc.update(rename({k: doc[k] for k in doc if k not in ("area", "population", "tables")}))
        doc["analysis"] = yaml.safe_load(_rename_text(yaml.safe_dump(analysis, width=10_000), phrase_map, data_map))
    _edit_yaml(fw / "framework.yaml", framework)
    for name in ("indicators.yaml", "items.yaml", "scales.yaml"):
        _edit_yaml(fw / name, lambda d: d.update(rename(d)))
    for f in (fw / "evidence").rglob("*"):
        if f.is_file() and f.suffix in (".csv", ".yaml", ".md", ".txt", ".qdc", ".xml"):
            f.write_text(_rename_text(f.read_text(encoding="utf-8"), phrase_map, {}), encoding="utf-8")

    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    kids = pd.read_csv(data / "children.csv", dtype=str, keep_default_na=False)
    asq = pd.read_csv(data / "asq.csv", dtype=str)
    domains = [c for c in asq.columns if c.startswith("asq_") and not c.endswith(("_zone", "_months"))]
    total = asq.set_index("child_id")[domains].astype(float).sum(axis=1, min_count=len(domains))
    for old, new in NEW_IDS.items():
        if old == "neighbourhood":       # the area column belongs to the population table's schema: kept
            continue
        values = {**NEW_VALUES.get(old, {}), **(langs if old == "home_language" else {})}
        kids[new] = kids[old].map(lambda v, values=values: values.get(v, v))
    kids["birth_season"] = kids["summer_born"]
    kids["early_screen"] = kids["child_id"].map(total).map(lambda x: "" if pd.isna(x) else str(int(x)))
    kids.to_csv(data / "children.csv", index=False)
    ey = pd.read_csv(data / "eyfsp.csv", dtype=str, keep_default_na=False)
    ey["early_dev"] = ey["gld"]
    ey.to_csv(data / "eyfsp.csv", index=False)
    later = pd.read_csv(data / "later_outcome.csv", dtype=str, keep_default_na=False)
    later["later_pass"] = later["y1_phonics_pass"]
    later.to_csv(data / "later_outcome.csv", index=False)
    words = {p.lower() for p in old_phrases}
    return fw, data, old_ids, words


def _shareable_texts(folder: Path):
    """(file, text) of every shareable file; workbooks by their cells; CSV without the technical
    geography_type column (its value ``neighbourhood`` is the board table's fixed name for board areas)."""
    for f in sorted(folder.rglob("*")):
        if not f.is_file():
            continue
        rel = f.relative_to(folder).as_posix()
        if f.suffix == ".xlsx":
            with zipfile.ZipFile(f) as z:
                yield rel, " ".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
        elif f.suffix == ".csv":
            with f.open(encoding="utf-8", newline="") as h:
                rows = list(csv.DictReader(h))
            yield rel, "\n".join(",".join(v for k, v in r.items() if k != "geography_type") for r in rows) + \
                "\n" + ",".join(rows[0].keys() if rows else [])
        elif f.suffix == ".json":
            doc = json.loads(f.read_text(encoding="utf-8"))
            for res in doc.get("resources", []):
                for fld in res.get("schema", {}).get("fields", []):
                    if fld["name"] == "geography_type":
                        fld["constraints"]["enum"] = [e for e in fld["constraints"]["enum"] if e != "neighbourhood"]
            yield rel, json.dumps(doc, ensure_ascii=False)
        else:
            yield rel, f.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_framework_with_other_breakdowns_and_analysis_columns_runs_without_the_originals(tmp_path):
    fw, data, old_ids, old_phrases = _make_renamed(tmp_path)
    loaded = load_framework(fw)
    assert {b.id for b in loaded.breakdowns} == set(NEW_IDS.values())
    out = tmp_path / "out"
    done = _run(data, fw, out)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    shareable = out / "shareable"
    table = pd.read_csv(shareable / "board_pack" / "board_table.csv", dtype=str)
    assert set(table["breakdown"]) == {"all"} | {b for b in NEW_IDS.values() if b != "patch"}
    # the EES file files the areas under the declared filter name and the groups under the declared words
    from measurekit.publish.ees_check import check_ees

    ees = next((shareable / "board_pack").glob("*.meta.csv")).with_name(
        next((shareable / "board_pack").glob("*.meta.csv")).name.removesuffix(".meta.csv") + ".csv")
    assert not check_ees(ees).errors
    ees_rows = pd.read_csv(ees, dtype=str)
    assert "patch" in ees_rows.columns and "neighbourhood" not in ees_rows.columns
    declared = {b.ees_name or b.title for b in loaded.group_breakdowns}
    assert set(ees_rows["characteristic_group"]) == {"Total"} | declared
    # the renamed analysis columns were used: fairness by the renamed groups, added value for the renamed outcomes
    assert (out / "internal" / "fairness" / "invariance_meal_grant.csv").is_file()
    assert (out / "internal" / "fairness" / "invariance_tongue_group.csv").is_file()
    assert (out / "internal" / "fairness" / "dif_family_tongue.csv").is_file()
    assert (out / "internal" / "value" / "added_value_early_dev.csv").is_file()
    assert (out / "internal" / "value" / "added_value_later_pass.csv").is_file()
    cov = pd.read_csv(out / "internal" / "value" / "coverage.csv", dtype=str)
    assert "meal_grant" in " ".join(cov.astype(str).stack()) and "fsm" not in set(cov.iloc[:, 0])
    # the new framework's words are there; none of the old ones
    texts = dict(_shareable_texts(shareable))
    everything = "\n".join(texts.values())
    assert "Phrase" in everything and "other framework" in everything
    id_hits, phrase_hits = [], []
    for rel, text in texts.items():
        for old in sorted(old_ids):
            if re.search(rf"(?<![\w-]){re.escape(old)}(?![\w-])", text):
                id_hits.append((rel, old))
        for phrase in sorted(old_phrases):
            if _phrase(phrase).search(text):
                phrase_hits.append((rel, phrase))
    assert not id_hits, id_hits[:20]
    assert not phrase_hits, phrase_hits[:20]
