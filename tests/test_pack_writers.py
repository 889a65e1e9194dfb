"""The board pack's writers read rows and style cells with shortcuts (publish/rows.py ``records`` and
``tuples``, publish/excel.py ``_style_cells``). Each is checked here against the pandas or openpyxl call it stands
for, on a board table with withheld rows (missing whole numbers, missing text): the same values of the same types,
the same styles registered in the same order."""
from __future__ import annotations

import math

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def rows(framework_dir):
    import measurekit as mk
    from measurekit.publish.board_table import build_board_table
    from measurekit.synth.cohort import make_cohort

    board = build_board_table(make_cohort(400, 3, truth=False), framework=mk.load_framework(framework_dir))
    t = board.rows
    assert t["denominator"].isna().any() and t["suppressed"].any()      # the missing values are the point
    as_objects = t.astype({c: object for c in t.columns if pd.api.types.is_string_dtype(t[c].dtype)
                           and not pd.api.types.is_object_dtype(t[c].dtype)}).copy()
    return [t, as_objects, as_objects[as_objects["breakdown"] != "all"], t.iloc[:0]]


def _typed(value):
    return type(value).__name__, "nan" if isinstance(value, float) and math.isnan(value) else repr(value)


def test_records_are_pandas_to_dict_records(rows):
    from measurekit.publish.rows import records as _records

    for frame in rows:
        for columns in (list(frame.columns), ["value", "symbol", "denominator"], ["breakdown_value"]):
            ours = [{k: _typed(v) for k, v in r.items()} for r in _records(frame, columns)]
            theirs = [{k: _typed(v) for k, v in r.items()} for r in frame[columns].to_dict("records")]
            assert ours == theirs


def test_tuples_are_pandas_itertuples(rows):
    from measurekit.publish.rows import tuples as _tuples

    for frame in rows:
        for columns in (list(frame.columns), ["indicator_id", "denominator", "value"], ["symbol"]):
            ours = [(type(r).__name__, r._fields, [_typed(v) for v in r]) for r in _tuples(frame, columns)]
            theirs = [(type(r).__name__, r._fields, [_typed(v) for v in r]) for r in frame[columns].itertuples()]
            assert ours == theirs


def test_style_cells_gives_each_cell_the_style_of_styling_it_in_turn():
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    from measurekit.publish.excel import _style_cells

    def book(shortcut: bool):
        wb = Workbook()
        ws = wb.active
        for r in range(12):
            ws.append([f"text {r}", r * 1.5, None, r])
        wrap = Alignment(wrap_text=True, vertical="top")
        for pos, fmt, align in ((1, None, wrap), (2, "0.0", None), (3, "#,##0", wrap), (4, "0.0", wrap)):
            cells = [ws.cell(row=r, column=pos) for r in range(2, ws.max_row + 1)]
            if shortcut:
                _style_cells(iter(cells), fmt, align)
            else:
                for c in cells:
                    if fmt:
                        c.number_format = fmt
                    if align is not None:
                        c.alignment = align
        return wb

    a, b = book(True), book(False)
    cells = lambda wb: [(c.coordinate, c.value, tuple(c._style) if c.has_style else None)  # noqa: E731
                        for row in wb.active.iter_rows() for c in row]
    assert cells(a) == cells(b)
    assert list(a._number_formats) == list(b._number_formats)
    assert list(a._alignments) == list(b._alignments)
    assert list(a._cell_styles) == list(b._cell_styles)
    styled = a.active.cell(row=5, column=3)
    assert styled.number_format == "#,##0" and styled.alignment.wrap_text
