"""The board pack workbook: an About sheet, symbol notes, indicator metadata and a sheet per indicator.

Plain openpyxl features only (no macros, formulas or external links) so that Excel and
LibreOffice open it without repair prompts.
"""
from __future__ import annotations

import re

import pandas as pd

from measurekit.core import atomic

VIEW = ["geography_name", "breakdown", "breakdown_value", "value", "ci_low", "ci_high", "numerator", "denominator",
        "comparator", "significance_95", "symbol", "note"]
HEADERS = {"geography_name": "Area", "breakdown": "Breakdown", "breakdown_value": "Group", "value": "Value",
           "ci_low": "95% CI low", "ci_high": "95% CI high", "numerator": "Numerator", "denominator": "Denominator",
           "comparator": "Borough value", "significance_95": "Compared with borough (95%)", "symbol": "Symbol",
           "note": "Note"}


def _sheet_name(text: str, used: set) -> str:
    name = re.sub(r"[\[\]\*\?/\\:]", " ", text)[:31].strip()
    base, k = name, 2
    while name.lower() in used:
        suffix = f" {k}"
        name = base[: 31 - len(suffix)] + suffix
        k += 1
    used.add(name.lower())
    return name


def write_workbook(framework, table: pd.DataFrame, path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from measurekit.publish.board_pack import SYMBOLS

    wb = Workbook()
    about = wb.active
    about.title = "About"
    lines = [framework.title or framework.name,
             "Indicators for neighbourhood boards, built with measurekit." + (
                 " ILLUSTRATIVE: synthetic data, not official statistics." if framework.illustrative else ""),
             "", "How to read this workbook:",
             "- One sheet per indicator: each neighbourhood and the borough, then breakdowns by group.",
             "- Value: a percentage (proportions) or a mean score; 95% CI: the range the true value is likely in.",
             "- 'Compared with borough': higher, similar or lower than the borough value (funnel-plot limits at 95%).",
             "- Blank numbers with symbol c have been withheld so that no child can be identified.",
             "- The 'Indicators' sheet defines each indicator; 'Symbols' explains the symbols."]
    for i, line in enumerate(lines, start=1):
        about.cell(row=i, column=1, value=line)
    about["A1"].font = Font(bold=True, size=14)
    about.column_dimensions["A"].width = 110
    sym = wb.create_sheet("Symbols")
    sym.append(["Symbol", "Meaning"])
    for k, v in SYMBOLS.items():
        sym.append([k, v])
    sym.column_dimensions["B"].width = 70
    meta = wb.create_sheet("Indicators")
    fields = ["id", "title", "definition", "rationale", "polarity", "unit", "numerator", "denominator", "ci_method",
              "disclosure", "caveats", "frequency", "informs_decision"]
    meta.append([f.replace("_", " ").capitalize() for f in fields])
    for ind in framework.indicators:
        d = ind.model_dump(mode="json")
        row = []
        for f in fields:
            v = d.get(f)
            if isinstance(v, dict):
                v = "; ".join(f"{k}: {x}" for k, x in v.items() if x not in (None, ""))
            elif isinstance(v, list):
                v = " ".join(map(str, v))
            row.append(v)
        meta.append(row)
    for col in "ABCDEFGHIJKLM":
        meta.column_dimensions[col].width = 28
    used = {"about", "symbols", "indicators"}
    head_fill = PatternFill("solid", fgColor="DDE6F0")
    for ind in framework.indicators:
        ws = wb.create_sheet(_sheet_name(ind.title, used))
        ws.append([ind.title])
        ws["A1"].font = Font(bold=True, size=12)
        ws.append([ind.definition])
        ws.append([])
        rows = table[(table["indicator_id"] == ind.id) & (table["geography_type"] != "small_area")]
        rows = rows.sort_values(["breakdown", "geography_type", "geography_name", "breakdown_value"],
                                key=lambda s: s.map({"all": "0", "la": "1", "neighbourhood": "0"}).fillna(s))
        ws.append([HEADERS[c] for c in VIEW])
        for cell in ws[4]:
            cell.font = Font(bold=True)
            cell.fill = head_fill
            cell.alignment = Alignment(wrap_text=True)
        for r in rows[VIEW].itertuples(index=False):
            ws.append([None if (isinstance(v, float) and pd.isna(v)) else (round(v, 1) if isinstance(v, float) else v)
                       for v in r])
        for col, width in zip("ABCDEFGHIJKL", (18, 14, 16, 9, 10, 10, 11, 12, 12, 16, 8, 50)):
            ws.column_dimensions[col].width = width
        ws.freeze_panes = "A5"
    atomic.save_workbook(wb, path)     # formula-like text (=, +, -, @) stored as text, never as a formula
