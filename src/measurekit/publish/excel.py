"""The board pack workbook: a README sheet, symbols, indicator definitions and a sheet per indicator.

Plain openpyxl features only (no macros, formulas or external links) so that Excel and
LibreOffice open it without repair prompts. Every sheet is ready to read and print: labels
instead of codes (:mod:`measurekit.core.labels`), frozen header rows, column widths, number
formats (one decimal for values and intervals, whole numbers with separators for counts), A4
landscape printing fitted to the page width with the header row repeated on each page.
The technical column names of board_table.csv are listed on the README sheet for analysts.
"""
from __future__ import annotations

import functools
import re

import pandas as pd

from measurekit.core import atomic, labels
from measurekit.data.population import declared

VIEW = ["geography_name", "breakdown", "breakdown_value", "value", "ci_low", "ci_high", "numerator", "denominator",
        "comparator", "significance_95", "symbol", "note"]
HEADERS = {"period": "Period", "geography_name": "Area",
           "breakdown": "Breakdown", "breakdown_value": "Group", "value": "Value",
           "ci_low": "95% interval, lower", "ci_high": "95% interval, upper", "numerator": "Numerator",
           "denominator": "Number of children", "comparator": "{La} value",
           "significance_95": "Compared with the {la}", "symbol": "Symbol", "note": "Note"}
WIDTHS = {"period": 10, "geography_name": 18,
          "breakdown": 22, "breakdown_value": 30, "value": 10, "ci_low": 11, "ci_high": 11,
          "numerator": 12, "denominator": 12, "comparator": 11, "significance_95": 30, "symbol": 8, "note": 40}


def _fit_words(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary (never mid-word; a single word longer
    than the limit is the only thing cut)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[: limit + 1] else text[:limit]
    return cut.rstrip(" ,;:-(") or text[:limit]


def _sheet_name(text: str, used: set) -> str:
    """An Excel sheet name (31 characters at most, none of []*?/\\:) from ``text``, cut between words; a
    number is added to tell apart names that would repeat."""
    clean = re.sub(r"[\[\]\*\?/\\:]", " ", text)
    name = _fit_words(clean, 31)
    k = 2
    while name.lower() in used:
        suffix = f" {k}"
        name = _fit_words(clean, 31 - len(suffix)) + suffix
        k += 1
    used.add(name.lower())
    return name


COUNT_FORMAT = "#,##0"


def value_format(ind) -> str:
    """Excel number format showing an indicator's values to its declared decimal places, as the CSV,
    data package and EES file publish them (core.formatting)."""
    dp = int(getattr(ind, "decimal_places", 1) or 0)
    return "0" if dp == 0 else "0." + "0" * dp


def _plain(v):
    """A cell value: missing -> empty, numpy scalars -> Python numbers, everything else as it is."""
    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):   # pd.NA: a missing whole-number count
        return None
    if hasattr(v, "item"):
        v = v.item()
    return v


def _print_setup(ws, title_rows: str | None = None, landscape: bool = True) -> None:
    """A4, fitted to the page width, the header rows repeated, and the print area the sheet's filled cells."""
    ws.print_area = f"A1:{ws.cell(row=1, column=max(ws.max_column, 1)).column_letter}{max(ws.max_row, 1)}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.5
    if title_rows:
        ws.print_title_rows = title_rows


def _style_header(row_cells, fill) -> None:
    from openpyxl.styles import Alignment, Font

    for cell in row_cells:
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _sheet_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows the indicator sheets show (no small areas), with ``_g`` (0 for the local authority, 1 for an
    area) for their order: made once for every sheet."""
    rows = table[table["geography_type"] != "small_area"].copy()
    rows["_g"] = (rows["geography_type"] != "la").astype(int)
    return rows


def _rows_for(table: pd.DataFrame, ind, shown: pd.DataFrame | None = None) -> pd.DataFrame:
    """One indicator's rows in its sheet's order; ``shown``: :func:`_sheet_rows` of ``table`` when made already."""
    shown = _sheet_rows(table) if shown is None else shown
    rows = shown[shown["indicator_id"] == ind.id].copy()
    order_b = {b: k for k, b in enumerate(["all"] + list(ind.breakdowns))}
    rows["_b"] = rows["breakdown"].map(order_b).fillna(99)
    # several periods (a multi-period pack): each period's rows together, oldest first
    return rows.sort_values(["period", "_b", "_g", "geography_name", "breakdown_value"], kind="stable")


def _example_group(framework) -> str:
    """" (for example children <a group>)" (the framework's word for its people) from the framework's first
    declared breakdown by groups that indicators use: its first group with words for families, else its last
    group; "" when there is none."""
    used = {b for ind in framework.indicators for b in ind.breakdowns}
    for b in getattr(framework, "group_breakdowns", []):
        if b.id in used and b.values:
            v = next((v for v in b.values if v.plain), b.values[-1])
            label = v.label[:1].lower() + v.label[1:] if v.label[1:2].islower() else v.label
            return f" (for example {labels.people_words(framework).people} {label})"
    return ""


def _style_cells(cells, number_format: str | None, alignment) -> None:
    """Give every one of ``cells`` (unstyled cells: written by ``ws.append`` of plain values) ``number_format``
    and ``alignment`` (None: left as it is). The first cell is styled through openpyxl (which registers the
    format and alignment with the workbook) and the others take a copy of its style ids: the same style per
    cell, and the same styles registered in the same order, as styling each cell in turn, without openpyxl
    looking the same format up again for every cell."""
    from copy import copy

    first = None
    for c in cells:
        if first is None:
            if number_format:
                c.number_format = number_format
            if alignment is not None:
                c.alignment = alignment
            first = c._style
        else:
            c._style = copy(first)


def write_workbook(board, path, extra=None) -> None:
    """The workbook of a board table (:class:`~measurekit.publish.board_table.BoardTable`) at ``path``.
    ``extra`` (optional): a function given the openpyxl workbook before it is saved, to add sheets (the
    multi-period pack's "Over time" sheet), so the workbook is written once, not saved, read back and saved
    again."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from measurekit.publish.board_table import COLUMNS as COLUMN_NAMES
    from measurekit.publish.board_table import SYMBOLS
    from measurekit.publish.rows import records

    framework, table, words = board.framework, board.rows, board.words

    wb = Workbook()
    head_fill = PatternFill("solid", fgColor="DDE6F0")
    wrap = Alignment(wrap_text=True, vertical="top")
    readme = wb.active
    readme.title = "README"
    period = ", ".join(board.periods)
    lines = [(framework.title or framework.name, "title"),
             (f"Indicators for {words.area} boards, built with measurekit." + (
                 " ILLUSTRATIVE: synthetic data, not official statistics." if framework.illustrative else ""), ""),
             (f"Period: {period}. Owner: {framework.owner or 'not stated'}.", ""), ("", ""),
             ("How to read this workbook", "head"),
             (f"One sheet per indicator: {words.the_la} and each {words.area} first, then each group"
              + _example_group(framework) + ".", ""),
             ("Value: a percentage (0-100) or a mean score on the survey's scale. The 95% interval is the range the "
              "true value is likely to be in; small groups give wide intervals.", ""),
             (f"'Compared with the {words.la}': higher or lower only when the difference from the {words.la} value "
              "is bigger than chance alone would give 95 times in 100 (for the size of the group); otherwise "
              "similar (the difference could be chance).", ""),
             (("Blank numbers with symbol c have been withheld so that no child or family can be identified; "
               "u marks fewer than 30 children (read with caution). Mean scores have no numerator: the number of "
               "children is the number of parents' answers averaged.") if not declared(framework) else
              (f"Blank numbers with symbol c have been withheld so that no {framework.population.person} can be "
               f"identified; u marks fewer than 30 {framework.population.people} (read with caution). Ratings are "
               f"each {framework.population.person}'s latest review (see each indicator's specification sheet)."),
              ""),
             ("The 'Indicators' sheet defines each indicator; the 'Symbols' sheet explains the symbols.", ""), ("", ""),
             ("For analysts", "head"),
             ("The same figures are in board_table.csv (one row per indicator, area and group) with these columns: "
              + ", ".join(COLUMN_NAMES) + ". Breakdown codes there: "
              + "; ".join(f"{b} = {labels.breakdown(b, framework)}" for b in sorted(set(table["breakdown"])))
              + ".", "")]
    for i, (line, kind) in enumerate(lines, start=1):
        c = readme.cell(row=i, column=1, value=line)
        c.alignment = wrap
        if kind == "title":
            c.font = Font(bold=True, size=14)
        elif kind == "head":
            c.font = Font(bold=True, size=12)
    readme.column_dimensions["A"].width = 110
    _print_setup(readme, landscape=False)
    sym = wb.create_sheet("Symbols")
    sym.append(["Symbol", "Meaning"])
    _style_header(sym[1], head_fill)
    for k, v in SYMBOLS.items():
        sym.append([k, labels.in_people_words(v, framework)])
    sym.column_dimensions["A"].width = 10
    sym.column_dimensions["B"].width = 70
    sym.freeze_panes = "A2"
    _print_setup(sym, "1:1", landscape=False)
    meta = wb.create_sheet("Indicators")
    fields = [("title", "Indicator", 34), ("definition", "Definition", 50), ("rationale", "Why it matters", 44),
              ("polarity", "Better when", 16), ("unit", "Unit", 10), ("numerator", "Numerator", 36),
              ("denominator", "Denominator", 36), ("ci_method", "Interval method", 14),
              ("disclosure", "Disclosure control", 30), ("caveats", "Caveats", 44), ("frequency", "Frequency", 14),
              ("informs_decision", "Informs the decision", 36)]
    meta.append([h for _, h, _ in fields])
    _style_header(meta[1], head_fill)
    better = {"higher_is_better": "Higher", "lower_is_better": "Lower", "no_judgement": "No judgement"}
    methods = {"wilson": "Wilson score", "t": "t interval", "weighted_t": "Weighted t interval"}
    for ind in board.indicators.values():
        d = ind.model_dump(mode="json")
        row = []
        for f, _, _ in fields:
            v = d.get(f)
            if f == "polarity":
                v = better.get(v, v)
            elif f == "ci_method":
                v = methods.get(v, v)
            elif f in ("numerator", "denominator"):
                v = f"{v.get('definition', '')} (source: {v.get('source', '')})"
            elif f == "disclosure":
                w = labels.people_words(framework)
                text = ind.disclosure.describe(w.person, w.people)
                v = text[0].upper() + text[1:]
            elif isinstance(v, list):
                v = " ".join(map(str, v))
            row.append(v)
        meta.append(row)
    for pos, (_, _, width) in enumerate(fields, start=1):
        meta.column_dimensions[meta.cell(row=1, column=pos).column_letter].width = width
    _style_cells((c for row in meta.iter_rows(min_row=2) for c in row), None, wrap)
    meta.freeze_panes = "B2"
    _print_setup(meta, "1:1")
    used = {"readme", "symbols", "indicators"}
    # each distinct breakdown's and group's words looked up once per workbook (a board table repeats the same few
    # codes on every row); typed, so 1, 1.0 and True are never taken for one another
    breakdown_words = functools.lru_cache(maxsize=None, typed=True)(lambda b: labels.breakdown(b, framework))
    group_words = functools.lru_cache(maxsize=None, typed=True)(
        lambda b, v: labels.category(b, v, framework=framework))
    shown = _sheet_rows(table)
    for ind in board.indicators.values():
        ws = wb.create_sheet(_sheet_name(ind.title, used))
        ws.append([ind.title])
        ws["A1"].font = Font(bold=True, size=12)
        ws.append([ind.definition])
        ws.append([f"Period {period}. Values are " + ("percentages (0-100)." if ind.value_type == "proportion"
                                                      else f"mean scores ({ind.unit})."), ])
        headers = {k: v.format(la=words.la, La=words.La) for k, v in HEADERS.items()}
        if declared(framework):   # a framework with its own population: the group size in its word
            headers["denominator"] = f"Number of {framework.population.people}"
        headers["value"] = "Value (%)" if ind.value_type == "proportion" else "Mean score"
        view = VIEW if ind.value_type == "proportion" else [c for c in VIEW if c != "numerator"]
        if len(board.periods) > 1:     # a multi-period pack: say which period each row is
            view = ["period", *view]
        ws.append([headers[c] for c in view])
        _style_header(ws[4], head_fill)
        needed = list(dict.fromkeys([*view, "breakdown", "polarity", "geography_type"]))
        for r in records(_rows_for(table, ind, shown), needed):
            out = []
            for col in view:
                cell = _plain(r[col])
                if col == "breakdown":
                    cell = breakdown_words(cell)
                elif col == "breakdown_value":
                    cell = "" if r["breakdown"] == "all" else group_words(r["breakdown"], cell)
                elif col == "significance_95":
                    cell = labels.comparison(cell, r["polarity"], words.the_la) if cell else ""
                elif col in ("numerator", "denominator") and cell is not None and (
                        ind.value_type == "proportion" or col == "denominator"):
                    cell = int(round(cell))
                elif col == "geography_name" and r["geography_type"] == "la":
                    cell = words.La
                elif col == "note":
                    cell = labels.in_people_words(cell, framework)
                out.append(cell)
            ws.append(out)
        last = ws.max_row          # (openpyxl counts it over every cell: once per sheet, not once per column)
        for pos, col in enumerate(view, start=1):
            letter = ws.cell(row=4, column=pos).column_letter
            ws.column_dimensions[letter].width = WIDTHS[col]
            fmt = COUNT_FORMAT if col in ("numerator", "denominator") else value_format(ind) if col in (
                "value", "ci_low", "ci_high", "comparator") else None
            wrapped = col in ("note", "significance_95", "breakdown_value")
            if fmt or wrapped:
                _style_cells((ws.cell(row=row, column=pos) for row in range(5, last + 1)), fmt,
                             wrap if wrapped else None)
        ws.freeze_panes = "B5"
        _print_setup(ws, "4:4")
    if extra is not None:
        extra(wb)
    atomic.save_workbook(wb, path)     # formula-like text (=, +, -, @) stored as text, never as a formula
