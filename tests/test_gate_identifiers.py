"""publish/gate.py's identifier scan looks at each distinct cell text once. The check: on random files full of
near-misses, it flags exactly the columns named like an identifier that a look at every cell in turn flags (the
scan as it was: split the text at , tab | newline < >, strip, match; written here), and the same postcodes and
names."""
from __future__ import annotations

import random
import re

import pytest

from measurekit.publish import gate

NAMES = ["first name", "First_Names", "forename", "GIVEN NAMES", "last name", "surname", "Family_name", "full name",
         "child name", "name of child", "date of birth", "DOB", "birth date", "postcode", "post code", "Postal code",
         "address", "NHS number", "upn", "ſurname", "poſtcode", "  dob  ", '"surname"', '" dob "', "dob\t"]
NEAR = ["name", "names", "username", "dobs", "birthday", "post", "postcodes", "addresses", "nhs", "up n",
        "the surname", "surname:", "date of births", "value", "12", "Heywood", "John Smith", "OL11 1AA", "ſ", "K"]
SEPARATORS = [",", "\t", "|", "\n", "<", ">", " ", ";", '"', ":", "/"]


def _every_cell(text: str, suffix: str) -> set[str]:
    """The identifier-named cells by a look at every cell (written here, not taken from the gate)."""
    cells = [c.strip().strip('"') for c in re.split(r"[,\t|\n<>]", text)]
    if suffix == ".json":
        cells += re.findall(r'"([^"\\]{1,60})"\s*:', text)
    return {c for c in cells if gate.IDENTIFIER_NAME.match(c.strip())}


def _flagged(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    report = gate.ProblemReport()
    gate._Identifiers().scan(gate._File(path, tmp_path), report)
    return report


@pytest.mark.parametrize("seed", range(80))
def test_the_same_identifier_columns_as_a_look_at_every_cell(tmp_path, seed):
    rnd = random.Random(seed)
    words = [rnd.choice(NAMES if rnd.random() < 0.25 else NEAR) for _ in range(rnd.randint(1, 60))]
    text = "".join(w + rnd.choice(SEPARATORS) for w in words)
    suffix = rnd.choice([".csv", ".html", ".md", ".txt", ".json"])
    report = _flagged(tmp_path, f"f{suffix}", text)
    columns = {p.column for p in report if p.column is not None}
    assert columns == _every_cell(text, suffix)
    assert [p.value for p in report if p.value] == sorted(set(gate.POSTCODE_TEXT.findall(text))) + [
        f"{a} {b}" for a, b in sorted(set(gate.NAME_PAIR.findall(text)))
        if a.lower() in gate._Identifiers().given and b.lower() in gate._Identifiers().family]


def test_a_workbook_cell_named_like_an_identifier_is_flagged(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["area", " Date of Birth ", "username", "ſurname"])
    wb.save(tmp_path / "b.xlsx")
    report = gate.ProblemReport()
    gate._Identifiers().scan(gate._File(tmp_path / "b.xlsx", tmp_path), report)
    assert sorted(p.column for p in report) == sorted(
        c for c in ["area", " Date of Birth ", "username", "ſurname"] if gate.IDENTIFIER_NAME.match(c.strip()))
    assert len(report) == 2
