"""publish/gate.py GateScan: a folder checked in two goes (the main job drafts the board pack while the analysis runs,
then finishes it) gives the same report as one check, and a file written or changed after the first go is read
again: a small count added later is still refused."""
from __future__ import annotations

import pytest

from measurekit.publish import gate


def _folder(tmp_path):
    """A small shareable-looking folder with known problems: a count of 3 in a CSV, a postcode in a page, a
    workbook with a count of 2 under a count header and an identifier column."""
    from openpyxl import Workbook

    d = tmp_path / "pack"
    (d / "briefing").mkdir(parents=True)
    (d / "table.csv").write_text("area,numerator,denominator,value\nA,3,40,7.5\nB,20,40,50\n", encoding="utf-8")
    (d / "briefing" / "a.html").write_text("<html><body><p>Drop-in at OL11 1AA on Mondays.</p></body></html>",
                                           encoding="utf-8")
    (d / "notes.md").write_text("Nothing small here: 120 children answered.\n", encoding="utf-8")
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet one"
    ws.append(["Title of the sheet"])
    ws.append(["area", "count", "surname"])
    ws.append(["A", 2, "x"])
    ws.append(["B", 30, "y"])
    wb.save(d / "book.xlsx")
    return d


def _key(report):
    return [(p.code, p.file, p.row, p.column, p.value, p.message) for p in report]


def _refused(folder, **kw):
    with pytest.raises(gate.DisclosureGateError) as info:
        gate.check_shareable(folder, **kw)
    return info.value.report


def test_one_check_and_two_goes_give_the_same_report(tmp_path):
    d = _folder(tmp_path)
    whole = _key(gate.scan_folder(d)) + _key(gate.scan_identifiers(d))   # the two public scans, one after the other
    codes = {c for c, *_ in whole}
    assert codes == {"small_count_published", "identifier_in_shareable"}
    assert {(f, v) for c, f, _r, _col, v, _m in whole if c == "small_count_published"} == \
        {("table.csv", "3"), ("book.xlsx [Sheet one]", "2")}
    assert _key(_refused(d)) == whole
    scan = gate.GateScan()
    scan.read(d)
    assert _key(_refused(d, scan=scan)) == whole          # the remembered reading gives the same problems
    assert _key(_refused(d, scan=scan)) == whole


def test_a_file_changed_or_added_after_the_first_go_is_read_again(tmp_path, monkeypatch):
    d = _folder(tmp_path)
    (d / "table.csv").write_text("area,numerator,denominator,value\nA,30,40,75\nB,20,40,50\n", encoding="utf-8")
    (d / "book.xlsx").unlink()
    (d / "briefing" / "a.html").write_text("<html><body><p>Drop-in on Mondays.</p></body></html>", encoding="utf-8")
    scan = gate.GateScan()
    counts, ids = scan.read(d)
    assert len(counts) == 0 and len(ids) == 0
    read: list[str] = []
    real = gate._counts_in
    monkeypatch.setattr(gate, "_counts_in", lambda f, *a: (read.append(f.where), real(f, *a))[1])
    assert len(gate.check_shareable(d, scan=scan)) == 0
    assert read == []                                     # nothing changed: nothing read again
    (d / "notes.md").write_text("Only 4 children in this group.\n", encoding="utf-8")          # changed
    (d / "specs").mkdir()
    (d / "specs" / "s.csv").write_text("indicator,n\nx,5\n", encoding="utf-8")                 # added
    report = _refused(d, scan=scan)
    assert sorted(read) == ["notes.md", "specs/s.csv"]
    assert {(p.file, p.value) for p in report} == {("notes.md", "4 children"), ("specs/s.csv", "5")}
    (d / "notes.md").write_text("Nothing small here: 120 children answered.\n", encoding="utf-8")   # put right
    (d / "specs" / "s.csv").unlink()
    assert len(gate.check_shareable(d, scan=scan)) == 0


def test_a_range_of_counts_read_with_another_range_is_read_again(tmp_path):
    d = _folder(tmp_path)
    scan = gate.GateScan()
    scan.read(d, small=(1, 2))                            # the first go looked for 1-2 only: the 3 was not flagged
    report = _refused(d, scan=scan)                       # default 1-5: the CSV's 3 is found
    assert ("table.csv", "3") in {(p.file, p.value) for p in report}
