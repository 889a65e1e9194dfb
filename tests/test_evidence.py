"""Voice evidence: quotes CSV and REFI-QDA codebook import, every problem reported, and what traceability flags."""
import shutil
import uuid
import xml.etree.ElementTree as ET
import zipfile

import pandas as pd
import pytest

from measurekit.problems import InputError
from measurekit.design import load_framework
from measurekit.design.evidence import QUOTE_COLUMNS, load_evidence, read_codebook, read_quotes
from measurekit.design.trace import traceability

NS = "urn:QDA-XML:codebook:1.0"


def _write_quotes(path, rows, columns=QUOTE_COLUMNS):
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def test_shipped_quotes_and_codebook_are_consistent(framework_dir):
    ev = load_evidence(framework_dir)
    q = ev.quotes
    assert len(q) >= 40 and q["id"].is_unique
    assert set(q["voice_group"]) >= {"seldom_heard_outreach", "parent_panel", "practitioners"}
    assert q["consent_to_quote"].dtype == bool and (~q["consent_to_quote"]).any()
    coded = {t for ts in q["themes"] for t in ts}
    assert coded <= set(ev.themes["code"])                     # every quote's theme is in the codebook
    assert "SYNTHETIC" in (framework_dir / "evidence" / "README.md").read_text()


def test_codebook_is_well_formed_refi_qda(framework_dir):
    root = ET.parse(framework_dir / "evidence" / "codebook.qdc").getroot()
    assert root.tag == f"{{{NS}}}CodeBook"
    codes = list(root.iter(f"{{{NS}}}Code"))
    assert codes and all(c.get("name") and c.get("isCodable") in ("true", "false") for c in codes)
    guids = [c.get("guid") for c in codes]
    assert len(set(guids)) == len(guids) and all(uuid.UUID(g) for g in guids)
    themes = read_codebook(framework_dir / "evidence" / "codebook.qdc")
    t01 = themes.set_index("code").loc["T01"]
    assert t01["parent"] == "Home learning and play" and t01["codable"] and "stories" in t01["description"]
    assert not themes.set_index("name").loc["Home learning and play", "codable"]


def test_quote_problems_are_all_reported_with_rows(tmp_path):
    path = _write_quotes(tmp_path / "quotes.csv", [
        ["Q1", "We read at bedtime.", "parent_panel", "panel", "yes", "T01"],
        ["Q1", "Same id again.", "parent_panel", "panel", "maybe", "T01"],
        ["", "No id here.", "practitioners", "workshop", "no", ""],
        ["Q4", "", "", "workshop", "no", "T02"],
    ])
    with pytest.raises(InputError) as info:
        read_quotes(path)
    got = {(p.code, p.row, p.column) for p in info.value.report.problems}
    assert {("duplicate_id", 2, "id"), ("duplicate_id", 3, "id"), ("unknown_code", 3, "consent_to_quote"),
            ("missing_value", 4, "id"), ("missing_value", 5, "text"), ("missing_value", 5, "voice_group")} <= got


def test_missing_columns_are_named(tmp_path):
    path = _write_quotes(tmp_path / "quotes.csv", [["Q1", "Text"]], columns=["id", "text"])
    with pytest.raises(InputError) as info:
        read_quotes(path)
    missing = {p.column for p in info.value.report.problems if p.code == "missing_column"}
    assert missing == {"voice_group", "setting", "consent_to_quote", "themes"}


def test_quotes_parse_consent_and_themes(tmp_path):
    path = _write_quotes(tmp_path / "quotes.csv", [["Q1", "a", "parent_panel", "s", " Yes ", "T01; T02;"],
                                                   ["Q2", "b", "grandparents", "s", "n", ""]])
    q = read_quotes(path)
    assert q["consent_to_quote"].tolist() == [True, False]
    assert q["themes"].tolist() == [["T01", "T02"], []]


def test_bad_codebooks_raise_clear_errors(tmp_path):
    (tmp_path / "broken.qdc").write_text("<CodeBook><Codes>", encoding="utf-8")
    with pytest.raises(InputError, match="not valid XML"):
        read_codebook(tmp_path / "broken.qdc")
    (tmp_path / "other.qdc").write_text("<Something/>", encoding="utf-8")
    with pytest.raises(InputError, match="no <Codes>"):
        read_codebook(tmp_path / "other.qdc")
    (tmp_path / "fake.qdpx").write_text("not a zip", encoding="utf-8")
    with pytest.raises(InputError, match="not a zip"):
        read_codebook(tmp_path / "fake.qdpx")


def test_codebook_from_a_qdpx_project(tmp_path, framework_dir):
    qdc = (framework_dir / "evidence" / "codebook.qdc").read_text(encoding="utf-8")
    body = qdc[qdc.index("<Codes>"):qdc.index("</CodeBook>")]
    project = (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="x">'
               f'<CodeBook>{body}</CodeBook></Project>')
    with zipfile.ZipFile(tmp_path / "study.qdpx", "w") as zf:
        zf.writestr("project.qde", project)
    from_project = read_codebook(tmp_path / "study.qdpx")
    assert from_project["code"].tolist() == read_codebook(framework_dir / "evidence" / "codebook.qdc")["code"].tolist()


def test_codes_without_a_number_use_the_whole_name(tmp_path):
    (tmp_path / "c.qdc").write_text(
        f'<CodeBook xmlns="{NS}"><Codes><Code guid="{uuid.uuid4()}" name="Feeling judged" isCodable="true"/>'
        f'</Codes></CodeBook>', encoding="utf-8")
    assert read_codebook(tmp_path / "c.qdc")["code"].tolist() == ["Feeling judged"]


def test_trace_flags_quote_themes_missing_from_codebook_and_counts_other_groups(tmp_path, framework_dir):
    d = tmp_path / "fw"
    shutil.copytree(framework_dir, d)
    q = pd.read_csv(d / "evidence" / "quotes.csv", dtype=str, keep_default_na=False)
    q.loc[q["id"] == "Q001", "themes"] = "T01;T99"
    q.loc[q["id"] == "Q002", "voice_group"] = "grandparents"
    q.to_csv(d / "evidence" / "quotes.csv", index=False)
    fw = load_framework(d)
    t = traceability(fw, load_evidence(fw))
    assert ("", "quote_unknown_theme", "Q001: T99") in set(map(tuple, t["problems"].to_numpy()))
    hl1 = t["items"].set_index("item").loc["hl1"]
    assert hl1["grandparents"] == 1 and hl1["seldom_heard_outreach"] == 1 and hl1["n_quotes"] == 2


def test_evidence_without_codebook_takes_themes_from_quotes(tmp_path, framework_dir):
    shutil.copy(framework_dir / "evidence" / "quotes.csv", tmp_path / "quotes.csv")
    ev = load_evidence(tmp_path)
    assert set(ev.themes["code"]) == {t for ts in ev.quotes["themes"] for t in ts}
