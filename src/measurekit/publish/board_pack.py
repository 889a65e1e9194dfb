"""Write the board pack: CSV + Frictionless data package, EES open data, Excel, spec sheets, a briefing
per area (``briefing/<code>.html``) and a page for families per area (``families/<code>.html``).

``write_board_pack(framework, data, out)`` builds the board table once
(:func:`~measurekit.publish.board_table.build_board_table`) and :func:`render_board_pack` writes every file
from that one object, in a temporary folder swapped into place only when complete and passed by the gate,
so a failed run never leaves a half-written pack and an earlier pack is replaced only by a finished one.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measurekit.core import atomic, labels
from measurekit.core.formatting import CSV_FLOAT_FORMAT, ROUNDING_NOTE
from measurekit.publish.board_table import SYMBOLS, symbols  # noqa: F401 - the data package's symbols, kept here too


def _field(name: str, kind: str, desc: str, constraints: dict) -> dict:
    return {"name": name, "type": kind, "description": desc, **({"constraints": constraints} if constraints else {})}


def table_schema(framework=None) -> dict:
    """Frictionless Table Schema of board_table.csv (the breakdowns: "all" and the framework's declared ones)."""
    def s(name: str, desc: str, **c) -> dict:
        return _field(name, "string", desc, c)

    def n(name: str, desc: str, **c) -> dict:
        return _field(name, "number", desc, c)

    def words(text: str) -> str:     # the framework's word for its people ("young people meeting ...")
        return labels.in_people_words(text, framework)

    return {"fields": [
        s("indicator_id", "Indicator identifier (see the indicators in this package)", required=True),
        s("indicator_title", "Indicator title"),
        s("period", "Period, e.g. 2024/25", required=True),
        s("geography_type", "Level of geography", required=True, enum=["la", "neighbourhood", "small_area"]),
        s("geography_code", "Geography code (joins with other data by this code)", required=True),
        s("geography_name", "Geography name"),
        s("breakdown", "Which characteristic the row is broken down by", required=True,
          enum=["all", *(b.id for b in getattr(framework, "group_breakdowns", []))]),
        s("breakdown_value", "Value of the breakdown characteristic ('all' for everyone)", required=True),
        n("numerator", words("Numerator: children meeting the definition (proportions); blank for mean scores"),
          minimum=0),
        {"name": "denominator", "type": "integer", "description": words("Denominator (children in the group)"),
         "constraints": {"minimum": 0}},
        n("value", "Indicator value: percentage for proportions, mean for scores"),
        n("ci_low", "Lower 95% confidence limit"),
        n("ci_high", "Upper 95% confidence limit"),
        s("ci_method", "Interval method: wilson (proportions), t or weighted_t (means)",
          enum=["wilson", "t", "weighted_t"]),
        n("comparator", "The local authority value for the same breakdown"),
        s("significance_95", "Compared with the local authority at 95% (funnel-plot limits)",
          enum=["higher", "similar", "lower", ""]),
        s("significance_998", "Compared with the local authority at 99.8%", enum=["higher", "similar", "lower", ""]),
        s("polarity", "Whether higher values are better", enum=["higher_is_better", "lower_is_better", "no_judgement"]),
        {"name": "suppressed", "type": "boolean", "description": "True when numbers are withheld (symbol c)"},
        s("symbol", "GSS symbol: c confidential, x not available, z not applicable, u low reliability",
          enum=["", "c", "x", "z", "u"]),
        s("note", "Plain-English note on the row"),
    ], "missingValues": [""], "primaryKey": ["indicator_id", "period", "geography_type", "geography_code", "breakdown",
                                             "breakdown_value"]}


def datapackage(board) -> dict:
    """The Frictionless data package descriptor of a board table (``datapackage.json``)."""
    fw = board.framework
    words = board.words
    return {
        "name": f"{fw.name or 'measurekit'}-board-pack".lower(),
        "title": f"{fw.title or fw.name}: {words.area} board pack",
        "description": f"Voice-informed indicators by {words.area} with confidence intervals and disclosure control"
                       + (" (ILLUSTRATIVE, synthetic data)" if fw.illustrative else ""),
        "resources": [{"name": "board_table", "path": "board_table.csv", "profile": "tabular-data-resource",
                       "format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "schema": table_schema(fw)}],
        "symbols": symbols(fw),
        "rounding": ROUNDING_NOTE,
        "periods": list(board.periods),
        "indicators": [ind.model_dump(mode="json") for ind in fw.indicators],
    }


def write_board_csv(board, path) -> Path:
    """``board_table.csv``: the published rows, numbers as :mod:`measurekit.core.formatting` types them."""
    return atomic.write_csv(path, board.rows, float_format=CSV_FLOAT_FORMAT, root=Path(path).parent)


def write_board_pack(framework, data, out, period=None, evidence=None, evidence_notes: dict | None = None,
                     weights=None, lookup=None, ledger=None, label: str | None = None,
                     shares_children_with=()) -> dict[str, Path]:
    """Build the board table of ``framework`` over ``data`` and write the pack in ``out`` (atomically).
    Returns the main files written.

    ``data`` is a Cohort or an analysis frame; a frame that already holds the voice scores
    (``voice_<domain>`` columns, as the main job passes) is not scored again. ``weights`` and
    ``lookup`` go to :func:`~measurekit.publish.board_table.build_board_table`. ``evidence_notes``
    (optional): indicator id -> {"reliability": text, "added_value": text} for the specification sheets.

    ``ledger`` (a folder, or a :class:`~measurekit.publish.ledger.Ledger`; default none): the release ledger.
    The pack is audited jointly with the earlier releases recorded there about the same period (and the periods
    named in ``shares_children_with``: earlier releases about some of the same children), and recorded there
    (as ``label``, default "board pack <period>") once it has been written. The ledger holds true counts: a
    ledger folder inside ``out`` is refused (``ledger_in_shareable``). Without a ledger, the pack's
    ``README.txt`` says that no earlier release was checked.
    """
    from measurekit.publish.board_table import build_board_table

    led = open_ledger(ledger, out, shares_children_with)
    board = build_board_table(data, framework=framework, period=period, weights=weights, lookup=lookup,
                              evidence=evidence, ledger=led)
    files = render_board_pack(board, out, evidence_notes=evidence_notes, readme=True)
    if led is not None:
        files["ledger_release"] = record_release(board, led, label)
    return files


def open_ledger(ledger, shareable, shares_children_with=()):
    """The :class:`~measurekit.publish.ledger.Ledger` at ``ledger`` (None: none), refused
    (``ledger_in_shareable``) when it is, holds or lies inside ``shareable`` (the folder that is shared or
    replaced): the ledger holds true counts and must outlive every output folder."""
    if ledger is None:
        return None
    from measurekit.publish.ledger import Ledger

    led = ledger if isinstance(ledger, Ledger) else Ledger(ledger, shares_children_with)
    if shares_children_with and isinstance(ledger, Ledger):
        led.shares_children_with = [str(p) for p in ([shares_children_with] if isinstance(shares_children_with, str)
                                                     else shares_children_with)]
    where, folder = Path(led.path).resolve(), Path(shareable).resolve()
    if where == folder or folder in where.parents or where in folder.parents:
        from measurekit.problems import InputError

        raise InputError.of(
            "ledger_in_shareable",
            f"Refused: the release ledger {str(led.path)!r} "
            + ("is" if where == folder else "lies inside" if folder in where.parents else "contains")
            + f" the output folder {str(shareable)!r}. The ledger holds the true counts of every release, so it is as "
            "sensitive as the child-level data; it must never be shared, and the output folder is replaced on every "
            "run. Nothing was written.", file=str(led.path), column="--ledger", value=str(led.path),
            rule="the ledger lives outside every output folder")
    return led


def record_release(board, ledger, label: str | None = None) -> Path:
    """Record ``board`` (a protected :class:`~measurekit.publish.board_table.BoardTable`, as published) in the
    release ledger: its true counts, the table as released and its period. Returns the release's folder.
    Call it after the pack has been written (``write_board_pack`` and ``measurekit run`` do)."""
    from measurekit.publish.ledger import Ledger

    res = board.disclosure
    if res is None or res.counts is None or not board.published:
        from measurekit.problems import InputError

        raise InputError.of("board_table_unprotected", "only a protected board table (built with disclosure "
                            "control) is recorded in the release ledger", rule="record what was published")
    led = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    return led.record(res.counts, board.rows, label or f"board pack {', '.join(board.periods)}",
                      nesting=res.nesting)


def ledger_note(board) -> list[str]:
    """The README's paragraph on earlier releases: which were audited with this one, or that none was."""
    earlier = getattr(board.disclosure, "earlier", None)
    fw = getattr(board, "framework", None)
    if earlier is None:
        return [labels.in_people_words(
                "Earlier releases: none was checked. This pack was made without a release ledger, so it was not "
                "audited together with any earlier release about the same children; if one was published (a pack "
                "re-run with late records, by other areas or other groups), tell the information governance "
                "officer before sharing this one.", fw)]
    if not earlier:
        return [labels.in_people_words(
                "Earlier releases: the release ledger holds no earlier release about these children; this pack "
                "has been recorded in it, so later releases are audited together with it.", fw)]
    return ["Earlier releases: audited together with " + "; ".join(f"'{x}'" for x in earlier) + " (recorded in "
            "the release ledger), so no withheld number in this pack or in those can be worked out by comparing "
            "them. This pack has been recorded in the ledger too."]


def render_board_pack(board, out, evidence_notes: dict | None = None, readme: bool = False,
                      over_time=None) -> dict[str, Path]:
    """Write every file of the pack for ``board`` (a :class:`~measurekit.publish.board_table.BoardTable`) in
    ``out``: built in a temporary folder and swapped into place only when complete and passed by the gate, so a
    failed run never leaves a half-written pack and an earlier pack is replaced only by a finished one.
    ``readme``: also write ``README.txt`` (what passed disclosure control, and which earlier releases were
    audited with this one; the main job writes its own README beside the pack instead). ``over_time``: the
    :class:`~measurekit.publish.over_time_pack.PublishedOverTime` of a multi-period board table: the briefings and
    family pages show the latest period (briefings with an "Over time" section) and ``over_time/`` holds its
    tables.

    The same as :func:`draft_board_pack` then :func:`finish_board_pack` in the temporary folder (the main job
    drafts the pack while the analysis steps run, and finishes it with their evidence notes)."""
    _refuse_unprotected(board)         # before anything is written
    with atomic.atomic_directory(out) as tmp:
        draft = draft_board_pack(board, tmp, readme=readme, over_time=over_time)
        finish_board_pack(draft, evidence_notes)
    return pack_files(draft, out)


def _refuse_unprotected(board) -> None:
    if not board.published or board.audit is None:
        from measurekit.problems import InputError, Problem, ProblemReport

        raise InputError(ProblemReport([Problem(
            "board_table_unprotected", "This board table has no disclosure audit (built with disclosure=False, or "
            "read back from a file): it may hold true small counts and is never written to a board pack.",
            rule="every shared number passes disclosure control")]))


@dataclass
class PackDraft:
    """A board pack written but for its specification sheets (:func:`draft_board_pack`), in ``folder``, with the
    gate's reading of the files written so far (``scan``, a :class:`~measurekit.publish.gate.GateScan`)."""

    board: Any
    folder: Path
    readme: bool = False
    over_time: Any = None
    ees_files: tuple = ()
    scan: Any = None


def draft_board_pack(board, folder, readme: bool = False, over_time=None) -> PackDraft:
    """Every file of the pack (as :func:`render_board_pack`) except the specification sheets, the only part that
    carries evidence notes, written in ``folder`` (a folder the caller swaps into place once
    :func:`finish_board_pack` has passed; nothing here is shareable before that), and read once by the gate
    (:class:`~measurekit.publish.gate.GateScan`: the finishing check reads again only the files written or changed
    since). Refuses a board table without a disclosure audit (``board_table_unprotected``)."""
    from measurekit.publish.briefing import write_briefings
    from measurekit.publish.ees import write_ees
    from measurekit.publish.excel import write_workbook
    from measurekit.publish.family_page import write_family_pages
    from measurekit.publish.gate import GateScan

    _refuse_unprotected(board)
    fw = board.framework
    tmp = Path(folder)
    write_board_csv(board, tmp / "board_table.csv")
    package, pages = datapackage(board), board
    if over_time is not None:   # several periods: the over-time tables, listed in the data package too
        from measurekit.publish.over_time_pack import (
            latest_period_board,
            over_time_resources,
            write_over_time_files,
        )

        pages = latest_period_board(board)
        package["resources"] += over_time_resources(write_over_time_files(over_time, tmp / "over_time"), tmp)
    atomic.write_text(tmp / "datapackage.json", json.dumps(package, indent=2, ensure_ascii=False)
                      + "\n", root=tmp)
    extra = None
    if over_time is not None:     # the "Over time" sheet is added before the workbook's one save
        from measurekit.publish.over_time_pack import over_time_sheet

        def extra(wb):
            over_time_sheet(wb, over_time, board)
    write_workbook(board, tmp / "board_pack.xlsx", extra=extra)
    write_briefings(pages, tmp / "briefing", over_time=over_time)
    write_family_pages(pages, tmp / "families")
    ees_files = write_ees(board, tmp) if getattr(fw, "area", None) is not None else ()
    if readme:
        atomic.write_text(tmp / "README.txt", _pack_readme(board), root=tmp)
    draft = PackDraft(board, tmp, readme, over_time, tuple(ees_files), GateScan())
    draft.scan.read(tmp, board=board)
    return draft


def finish_board_pack(draft: PackDraft, evidence_notes: dict | None = None) -> None:
    """The specification sheets (with ``evidence_notes``: indicator id -> {"reliability": text, ...}) written in
    the draft's folder, then the gate on the whole folder (:func:`~measurekit.publish.gate.check_shareable`, which
    reads again every file not read by the draft's scan with the same bytes): raises
    :class:`~measurekit.publish.gate.DisclosureGateError` when anything would disclose a small count."""
    from measurekit.publish.briefing import write_spec_sheets
    from measurekit.publish.gate import check_shareable

    write_spec_sheets(draft.board, draft.folder / "specs", evidence_notes or {})
    # nothing is swapped into place unless the whole pack passes the gate and the audit
    check_shareable(draft.folder, board=draft.board, scan=draft.scan)


def pack_files(draft: PackDraft, out) -> dict[str, Path]:
    """The main files of a pack written from ``draft``, under their final folder ``out``."""
    out = Path(out)
    return {"board_table": out / "board_table.csv", "datapackage": out / "datapackage.json",
            "workbook": out / "board_pack.xlsx", "specs": out / "specs", "briefing": out / "briefing",
            "families": out / "families",
            **dict(zip(("ees_data", "ees_meta"), (out / p.name for p in draft.ees_files))),
            **({"readme": out / "README.txt"} if draft.readme else {}),
            **({"over_time": out / "over_time"} if draft.over_time is not None else {})}


def _pack_readme(board) -> str:
    """README.txt of a pack written by ``measurekit board-pack``: what passed disclosure control, earlier releases."""
    fw = board.framework
    lines = [f"{fw.title or fw.name}: board pack, period {', '.join(board.periods)}."
             + (_synthetic_note(fw) if fw.illustrative else ""),
             "", "What passed disclosure control", _controlled(board), ""] + ledger_note(board)
    return "\n".join(lines) + "\n"


def _synthetic_note(fw) -> str:
    """The README's warning on an illustrative pack, in the framework's word for its people: "not real children
    or families" on the data contract, "not real young people" for a framework whose people are young people."""
    if labels.contract_words(fw):
        return " ILLUSTRATIVE: made from synthetic data, not real children or families."
    return f" ILLUSTRATIVE: made from synthetic data, not real {labels.people_words(fw).people}."


def _who_answered(fw) -> str:
    """Who the family pages are for: "families who answered" on the data contract, else the framework's people
    ("young people who answered", "members whose carer answered")."""
    return "families who answered" if labels.contract_words(fw) else labels.people_words(fw).answered()


def _controlled(board) -> str:
    d = sorted({(ind.disclosure.suppress_min, ind.disclosure.suppress_max) for ind in board.framework.indicators})
    ranges = ", ".join(f"{lo} to {hi}" for lo, hi in d) or "1 to 5"
    return (f"Every number in these files comes from one board table that passed disclosure control: counts of "
            f"{ranges} are withheld (shown as c), and further cells are withheld where a withheld count could be "
            "worked out from totals; an audit solved every way of working a withheld count back and found none. "
            "Before the files were put here, a gate read every file (tables, workbook, pages, text) and found no "
            "small count in the clear.")


def _inside(path, root) -> str:
    """``path`` as the README names it: relative to the shareable folder ``root`` (both resolved, so a run given a
    relative output folder, which writes into a temporary folder beside it, lists board_pack/... and not the
    temporary folder's name); a path outside ``root`` as it is."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def shareable_readme(board, files: dict[str, Path], root: Path) -> str:
    """The README of the shareable folder: what each file holds and what passed disclosure control."""
    fw, words = board.framework, board.words
    rel = {k: _inside(v, root) for k, v in files.items()}
    lines = [
        "SHAREABLE: FILES THAT MAY LEAVE THE ORGANISATION",
        "",
        f"{fw.title or fw.name}, period {', '.join(board.periods)}."
        + (_synthetic_note(fw) if fw.illustrative else ""),
        "",
        "What this folder holds",
        f"- {rel.get('board_table', 'board_pack/board_table.csv')}: every indicator for {words.the_la}, each "
        f"{words.area} and each group of {labels.people_words(fw).people}, with 95% intervals and the comparison "
        f"with {words.the_la} "
        "(one row per indicator, area and group; the columns are described in datapackage.json).",
        f"- {rel.get('datapackage', 'board_pack/datapackage.json')}: the Frictionless data package describing the "
        "table, its symbols, its rounding and every indicator's definition.",
        f"- {rel.get('workbook', 'board_pack/board_pack.xlsx')}: the same figures as a workbook, one sheet per "
        "indicator, ready to print.",
        f"- {rel.get('specs', 'board_pack/specs')}/: one specification sheet per indicator (Markdown and HTML).",
        f"- {rel.get('briefing', 'board_pack/briefing')}/: one printable briefing page per {words.area} for its "
        "board.",
        f"- {rel.get('families', 'board_pack/families')}/: one page per {words.area} for the "
        f"{_who_answered(fw)}, in plain words and their languages.",
    ]
    if "ees_data" in rel:
        lines.append(f"- {rel['ees_data']} and {rel.get('ees_meta', '')}: the same numbers as open data in the "
                     "Department for Education's format (explore education statistics).")
    lines += [
        "",
        "What passed disclosure control",
        _controlled(board),
        "",
        *ledger_note(board),
        "",
        "Symbols: " + "; ".join(f"{k} = {v}" for k, v in symbols(fw).items()) + ".",
        "",
        "Material with unsuppressed counts (validation, linkage, measurement tables, the trial report) is in the "
        "internal folder beside this one and must not be shared.",
    ]
    return "\n".join(lines) + "\n"


def write_board_pack_over_time(framework, periods, out, *, ledger=None, label: str | None = None,
                               evidence_notes: dict | None = None, repetitions: int = 10_000) -> dict:
    """The board pack of a multi-period data folder: ``board_table.csv`` (every period), the data package, the
    EES files (one ``time_period`` per period), the workbook (every period), specification sheets, the briefings and
    family pages of the latest period (briefings with an "Over time" section) and ``over_time/`` (the published
    over-time tables), written atomically and passed by the gate. ``ledger``: as
    :func:`write_board_pack`."""
    from measurekit.publish.over_time_pack import build_board_table_over_time, frames_once, over_time_published

    led = open_ledger(ledger, out)
    periods = frames_once(periods)      # each period's analysis frame made once (board table, then the SII)
    board = build_board_table_over_time(periods, framework=framework, ledger=led)
    over = over_time_published(board, periods, repetitions=repetitions)
    files = render_board_pack(board, out, evidence_notes=evidence_notes, readme=True, over_time=over)
    if led is not None:
        files["ledger_release"] = record_release(board, led, label)
    return files
