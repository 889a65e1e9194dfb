"""Write the neighbourhood board pack: CSV + Frictionless data package, Excel, spec sheets, briefings,
and a page for families per neighbourhood (``families/<code>.html``).

``write_board_pack(framework, data, out)`` builds everything in a temporary folder and swaps it
into place only when complete, so a failed run never leaves a half-written pack and an earlier
pack is replaced only by a finished one.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from measurekit.core import atomic
from measurekit.core.formatting import CSV_FLOAT_FORMAT, ROUNDING_NOTE, publish_board_table

SYMBOLS = {"c": "confidential: suppressed to protect small numbers",
           "x": "not available: no children in this group",
           "z": "not applicable",
           "u": "low reliability: fewer than 30 children, read with caution"}


def table_schema() -> dict:
    """Frictionless Table Schema of board_table.csv."""
    s = lambda name, desc, **c: {"name": name, "type": "string", "description": desc, **({"constraints": c} if c else {})}
    n = lambda name, desc, **c: {"name": name, "type": "number", "description": desc, **({"constraints": c} if c else {})}
    return {"fields": [
        s("indicator_id", "Indicator identifier (see the indicators in this package)", required=True),
        s("indicator_title", "Indicator title"),
        s("period", "Period, e.g. 2024/25", required=True),
        s("geography_type", "Level of geography", required=True, enum=["la", "neighbourhood", "small_area"]),
        s("geography_code", "Geography code (joins with other data by this code)", required=True),
        s("geography_name", "Geography name"),
        s("breakdown", "Which characteristic the row is broken down by", required=True,
          enum=["all", "fsm", "eal", "send", "sex", "home_language"]),
        s("breakdown_value", "Value of the breakdown characteristic ('all' for everyone)", required=True),
        n("numerator", "Numerator (children meeting the definition; sum of scores for means)", minimum=0),
        {"name": "denominator", "type": "integer", "description": "Denominator (children in the group)",
         "constraints": {"minimum": 0}},
        n("value", "Indicator value: percentage for proportions, mean for scores"),
        n("ci_low", "Lower 95% confidence limit"),
        n("ci_high", "Upper 95% confidence limit"),
        s("ci_method", "Interval method: wilson (proportions), t or weighted_t (means)", enum=["wilson", "t", "weighted_t"]),
        n("comparator", "The local authority value for the same breakdown"),
        s("significance_95", "Compared with the local authority at 95% (funnel-plot limits)", enum=["higher", "similar", "lower", ""]),
        s("significance_998", "Compared with the local authority at 99.8%", enum=["higher", "similar", "lower", ""]),
        s("polarity", "Whether higher values are better", enum=["higher_is_better", "lower_is_better", "no_judgement"]),
        {"name": "suppressed", "type": "boolean", "description": "True when numbers are withheld (symbol c)"},
        s("symbol", "GSS symbol: c confidential, x not available, z not applicable, u low reliability",
          enum=["", "c", "x", "z", "u"]),
        s("note", "Plain-English note on the row"),
    ], "missingValues": [""], "primaryKey": ["indicator_id", "period", "geography_type", "geography_code", "breakdown",
                                             "breakdown_value"]}


def write_board_pack(framework, data, out, period=None, evidence=None, evidence_notes: dict | None = None,
                     coverage=None, weights=None, lookup=None) -> dict[str, Path]:
    """Build the pack in ``out`` (atomically). Returns the main files written.

    ``data`` is a Cohort or an analysis frame; a frame that already holds the voice scores
    (``voice_<domain>`` columns, as the main job passes) is not scored again. ``weights`` and
    ``lookup`` go to ``board_table``. ``evidence_notes`` (optional): indicator id ->
    {"reliability": text, "added_value": text} for the specification sheets.
    """
    from measurekit.publish.board_table import board_table, small_area_lookup
    from measurekit.publish.briefing import write_briefings, write_spec_sheets
    from measurekit.publish.disclosure import protect
    from measurekit.publish.ees import write_ees
    from measurekit.publish.excel import write_workbook
    from measurekit.publish.family_page import write_family_pages
    from measurekit.publish.gate import check_shareable, small_range

    if evidence is None and getattr(framework, "path", None) and (Path(framework.path) / "evidence").is_dir():
        from measurekit.design.evidence import load_evidence

        evidence = load_evidence(framework)
    frame = data.analysis_frame() if hasattr(data, "analysis_frame") else data   # built once, used twice
    protected = protect(board_table(framework, frame, period=period, weights=weights,
                                    lookup=small_area_lookup(data, lookup), disclosure=False), framework)
    table = publish_board_table(protected.table, framework)   # rounded and typed as every output is
    with atomic.atomic_directory(out) as tmp:
        atomic.write_csv(tmp / "board_table.csv", table, float_format=CSV_FLOAT_FORMAT)
        package = {
            "name": f"{framework.name or 'measurekit'}-board-pack".lower(),
            "title": f"{framework.title or framework.name}: neighbourhood board pack",
            "description": "Voice-informed indicators by neighbourhood with confidence intervals and disclosure control"
                           + (" (ILLUSTRATIVE, synthetic data)" if framework.illustrative else ""),
            "resources": [{"name": "board_table", "path": "board_table.csv", "profile": "tabular-data-resource",
                           "format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "schema": table_schema()}],
            "symbols": SYMBOLS,
            "rounding": ROUNDING_NOTE,
            "indicators": [ind.model_dump(mode="json") for ind in framework.indicators],
        }
        (tmp / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        write_workbook(framework, table, tmp / "board_pack.xlsx")
        write_spec_sheets(framework, tmp / "specs", evidence, evidence_notes or {})
        write_briefings(framework, table, frame, tmp / "briefing", evidence)
        write_family_pages(framework, table, tmp / "families", evidence)
        ees_files = write_ees(framework, table, tmp) if getattr(framework, "area", None) is not None else ()
        # nothing is swapped into place unless the whole pack passes the gate and the audit
        check_shareable(tmp, audit=protected.audit, small=small_range(framework))
    out = Path(out)
    return {"board_table": out / "board_table.csv", "datapackage": out / "datapackage.json",
            "workbook": out / "board_pack.xlsx", "specs": out / "specs", "briefing": out / "briefing",
            "families": out / "families",
            **dict(zip(("ees_data", "ees_meta"), (out / p.name for p in ees_files)))}

