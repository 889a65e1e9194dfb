"""One gate for everything that leaves the building.

``check_shareable(folder, audit=...)`` reads every file of a folder meant to be shared (CSV,
JSON, Excel, HTML, Markdown, plain text) and refuses (raises :class:`DisclosureGateError`) when

* a count of 1 to 5 (the suppression range) appears in the clear: any whole number in that range
  in a column or key that holds counts (numerator, denominator, n, count, children, families,
  respondents, pupils...), a "denominator - numerator" of 1-5 in a board-table row, or a phrase
  such as "3 children" in text;
* the board table's disclosure audit (``measurekit.publish.disclosure_audit``) did not pass, or
  the suppressed rows of ``board_table.csv`` are not the ones it audited;
* a file is of a kind the gate cannot read (images, archives, PDFs...): it cannot vouch for it;
* a name, date of birth or postcode appears (``scan_identifiers``): identifiers are for linking only.

Percentages, means, intervals and years are not counts and are not flagged. Rows whose symbol
is ``c`` are suppressed and carry no numbers. The scan is deliberately blunt: a column named like
a count in any shared file is treated as one. Files that must hold small numbers (linkage and
coverage detail, row-level scores, trial reports) belong in the internal folder, never here.
"""
from __future__ import annotations

import html.parser
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from measurekit.core.paths import MARKER
from measurekit.problems import MeasurekitError, Problem, ProblemReport

SCANNED = {".csv", ".json", ".xlsx", ".html", ".htm", ".md", ".txt"}
IGNORED = {".gitkeep"}
COUNT_NAME = re.compile(
    r"^(numerator|denominator|n|n_[a-z_]+|[a-z_]+_n|count|counts|[a-z_]*_count|count_[a-z_]+|number( of [a-z ]+)?|"
    r"children|families|pupils|parents|respondents|responses|people|girls|boys|frequency|freq|cases|total)$")
COUNT_PHRASE = re.compile(r"(?<![\d.,])([1-9]\d*)\s+(children|child|pupils?|famil(?:y|ies)|parents?|respondents?|"
                          r"people|girls|boys|cases)\b", re.I)


class DisclosureGateError(MeasurekitError):
    """The shareable folder would disclose a small count; ``.report`` lists where."""

    def __init__(self, report: ProblemReport):
        self.report = report
        super().__init__(report.to_text(limit=30))


def _is_count_name(name) -> bool:
    key = re.sub(r"[\s\-]+", "_", str(name).strip().lower()).strip("_")
    return bool(COUNT_NAME.match(key.replace("_", " ") if key.startswith("number") else key))


def _numbers(values) -> np.ndarray:
    return pd.to_numeric(pd.Series(list(values), dtype=object).map(
        lambda v: str(v).replace(",", "").strip() if v is not None else ""), errors="coerce").to_numpy(dtype=float)


def _scan_table(frame: pd.DataFrame, where: str, lo: float, hi: float, report: ProblemReport) -> None:
    """Flag whole numbers in [lo, hi] in count columns of rows that are not suppressed."""
    if frame.empty:
        return
    cols = {c: str(c) for c in frame.columns}
    sym = next((c for c in frame.columns if str(c).strip().lower() == "symbol"), None)
    sup = next((c for c in frame.columns if str(c).strip().lower() == "suppressed"), None)
    hidden = np.zeros(len(frame), dtype=bool)
    if sym is not None:
        hidden |= frame[sym].astype(str).str.strip().str.lower().eq("c").to_numpy()
    if sup is not None:
        hidden |= frame[sup].astype(str).str.strip().str.lower().isin(["true", "1"]).to_numpy()
    values = {}
    for c, name in cols.items():
        if not _is_count_name(name):
            continue
        x = _numbers(frame[c])
        values[name.strip().lower()] = x
        bad = (x >= lo) & (x <= hi) & (np.abs(x - np.round(x)) < 1e-9)
        for i in np.flatnonzero(bad):
            report.add("small_count_published", f"{where}: a count of {x[i]:g} in column '{name}' is published "
                       + ("in a row marked suppressed" if hidden[i] else "in the clear"),
                       file=where, row=int(i) + 2, column=name, value=f"{x[i]:g}",
                       rule=f"counts of {lo:g}-{hi:g} suppressed")
    den_name = next((k for k in ("denominator", "number of children") if k in values), None)
    if "numerator" in values and den_name:
        num, den = values["numerator"], values[den_name]
        method = next((c for c in frame.columns if str(c).strip().lower() == "ci_method"), None)
        prop = (frame[method].astype(str).eq("wilson").to_numpy() if method is not None
                else (num <= den) & (np.abs(num - np.round(num)) < 1e-9))
        comp = den - num
        bad = prop & (comp >= lo) & (comp <= hi)
        for i in np.flatnonzero(bad):
            report.add("small_count_published", f"{where}: denominator - numerator = {comp[i]:g} (children without "
                       "the outcome) can be read from this row", file=where, row=int(i) + 2, column="denominator",
                       value=f"{comp[i]:g}", rule=f"counts of {lo:g}-{hi:g} suppressed")


def _scan_text(text: str, where: str, lo: float, hi: float, report: ProblemReport) -> None:
    for m in COUNT_PHRASE.finditer(text):
        v = float(m.group(1))
        if lo <= v <= hi:
            report.add("small_count_published", f"{where}: the text says '{m.group(0)}'", file=where,
                       value=m.group(0), rule=f"counts of {lo:g}-{hi:g} suppressed")


class _HtmlTables(html.parser.HTMLParser):
    """Tables (header = the first row) and visible text of an HTML page; scripts, styles and data URIs skipped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.text: list[str] = []
        self._row = None
        self._cell = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
            self.tables[-1].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._skip:
            return
        if self._cell is not None:
            self._cell.append(data)
        else:
            self.text.append(data)


def _rows_to_frame(rows: list[list[str]]) -> pd.DataFrame:
    rows = [r for r in rows if r]
    if len(rows) < 2:
        return pd.DataFrame()
    width = max(len(r) for r in rows)
    head = rows[0] + [f"col{k}" for k in range(len(rows[0]), width)]
    return pd.DataFrame([r + [""] * (width - len(r)) for r in rows[1:]], columns=head)


def _markdown_tables(text: str):
    block: list[list[str]] = []
    rest = []
    for line in text.splitlines() + [""]:
        if line.strip().startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                block.append(cells)
            continue
        if block:
            yield block, None
            block = []
        rest.append(line)
    yield None, "\n".join(rest)


def _json_counts(obj, path, where, lo, hi, report):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and _is_count_name(k):
                if lo <= v <= hi and float(v).is_integer():
                    report.add("small_count_published", f"{where}: {path}{k} = {v:g}", file=where,
                               column=f"{path}{k}", value=f"{v:g}", rule=f"counts of {lo:g}-{hi:g} suppressed")
            else:
                _json_counts(v, f"{path}{k}.", where, lo, hi, report)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _json_counts(v, f"{path}[{i}].", where, lo, hi, report)
    elif isinstance(obj, str):
        _scan_text(obj, where, lo, hi, report)


def _xlsx_rows(path: Path) -> list[tuple[str, list[list]]]:
    """(sheet title, rows of cell values) of every sheet of a workbook, as written (read-only, cached values)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        return [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets]
    finally:
        wb.close()


def _scan_xlsx(sheets, where: str, lo, hi, report) -> None:
    for title, values in sheets:
        rows = [["" if v is None else v for v in r] for r in values]
        header = next((k for k, r in enumerate(rows)
                       if sum(_is_count_name(v) for v in r if isinstance(v, str))), None)
        for r in rows[: header if header is not None else len(rows)]:
            for v in r:
                if isinstance(v, str):
                    _scan_text(v, f"{where} [{title}]", lo, hi, report)
        if header is not None:
            frame = _rows_to_frame([[str(v) for v in r] for r in rows[header:]])
            _scan_table(frame, f"{where} [{title}]", lo, hi, report)


class _File:
    """One file of a folder being checked, read at most once for both scans (its text, or a workbook's cells)."""

    def __init__(self, path: Path, folder: Path):
        self.path, self.where, self.suffix = path, path.relative_to(folder).as_posix(), path.suffix.lower()
        self._data: bytes | None = None
        self._sheets = None

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = self.path.read_bytes()
        return self._data

    @property
    def text(self) -> str:
        """The text as ``Path.read_text`` gives it (universal newlines: ``\\r\\n`` and ``\\r`` read as ``\\n``)."""
        return self.data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")

    @property
    def sheets(self):
        if self._sheets is None:
            self._sheets = _xlsx_rows(self.path)
        return self._sheets


def _files(folder: Path) -> list[_File]:
    return [_File(p, folder) for p in sorted(p for p in folder.rglob("*") if p.is_file())]


def scan_folder(folder, small: tuple[int, int] = (1, 5)) -> ProblemReport:
    """Every small count found in the files of ``folder`` (see the module docstring)."""
    folder = Path(folder)
    report = ProblemReport(title=f"Shareable folder {folder}")
    if not folder.is_dir():
        report.add("missing_folder", f"{folder} is not a folder")
        return report
    for f in _files(folder):
        _counts_in(f, float(small[0]), float(small[1]), report)
    return report


def _counts_in(f: _File, lo: float, hi: float, report: ProblemReport) -> None:
    """``scan_folder``'s check of one file."""
    where, suffix = f.where, f.suffix
    if f.path.name in IGNORED:
        return
    if f.path.name == MARKER:               # the JSON marker of a folder measurekit made: read as JSON
        suffix = ".json"
    if suffix not in SCANNED:
        report.add("unscanned_file", f"{where}: the gate cannot read {suffix or 'this kind of'} files, so it "
                   "cannot vouch for them; move the file to the internal folder", file=where)
        return
    if suffix == ".xlsx":
        _scan_xlsx(f.sheets, where, lo, hi, report)
        return
    text = f.text
    if suffix == ".csv":
        try:
            frame = pd.read_csv(io.BytesIO(f.data), dtype=str, keep_default_na=False)
        except Exception as exc:                      # noqa: BLE001 - any unreadable CSV is refused
            report.add("unscanned_file", f"{where}: cannot be read as CSV ({exc})", file=where)
            return
        _scan_table(frame, where, lo, hi, report)
    elif suffix == ".json":
        try:
            _json_counts(json.loads(text), "", where, lo, hi, report)
        except json.JSONDecodeError as exc:
            report.add("unscanned_file", f"{where}: not valid JSON ({exc})", file=where)
    elif suffix in (".html", ".htm"):
        parser = _HtmlTables()
        parser.feed(text)
        for rows in parser.tables:
            _scan_table(_rows_to_frame(rows), where, lo, hi, report)
        _scan_text(" ".join(parser.text), where, lo, hi, report)
    else:
        for block, rest in _markdown_tables(text):
            if block is not None:
                _scan_table(_rows_to_frame(block), where, lo, hi, report)
            else:
                _scan_text(rest, where, lo, hi, report)


def small_range(framework) -> tuple[int, int]:
    """The counts the gate looks for: the narrowest range every indicator suppresses (standard 1-5;
    an indicator allowed a weaker rule publishes the counts outside its range)."""
    rules = [ind.disclosure for ind in framework.indicators]
    if not rules:
        return (1, 5)
    lo, hi = max(r.suppress_min for r in rules), min(r.suppress_max for r in rules)
    return (lo, hi) if hi >= lo else (1, 0)


IDENTIFIER_NAME = re.compile(r"^(first[ _]?names?|forenames?|given[ _]?names?|last[ _]?name|surname|family[ _]?name|"
                             r"full[ _]?name|child[ _]?name|name[ _]of[ _]child|date[ _]of[ _]birth|dob|birth[ _]?date|"
                             r"post[ _]?code|postal[ _]code|address|nhs[ _]number|upn)$", re.I)
POSTCODE_TEXT = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2}\b")
NAME_PAIR = re.compile(r"\b([A-Z][a-z\u00c0-\u017f]+)[ ,]+([A-Z][a-z\u00c0-\u017f'-]+)\b")


def scan_identifiers(folder, known=()) -> ProblemReport:
    """Names, dates of birth and postcodes in the files of a shareable ``folder`` (code ``identifier_in_shareable``).

    Flags a column, key or table header named like an identifier (first_name, surname, date_of_birth, dob,
    postcode, address, nhs_number, upn...), any text shaped like a full UK postcode, a given name followed by a
    family name from the bundled name lists (``identifier_names.json``), and any of ``known`` (identifier values
    from the linkage input: names, dates of birth, postcodes; compared without case or spaces) found as a word in
    any file. Reads the same kinds of file as ``scan_folder``; files it cannot read are ``scan_folder``'s concern.
    """
    folder = Path(folder)
    report = ProblemReport(title=f"Identifiers in the shareable folder {folder}")
    if not folder.is_dir():
        return report
    look = _Identifiers(known)
    for f in _files(folder):
        look.scan(f, report)
    return report


class _Identifiers:
    """``scan_identifiers``'s look-ups (the bundled name lists, the known identifiers), made once per check."""

    def __init__(self, known=()):
        from measurekit.data.linkage_names import name_lists

        lists = name_lists()
        self.given = {n.lower() for v in lists.values() for s in ("F", "M") for n in v[s]}
        self.family = {n.lower() for v in lists.values() for n in v["surname"]}
        self.wanted = {_squash(k) for k in known if k is not None and len(_squash(k)) >= 4}

    def scan(self, f: _File, report: ProblemReport) -> None:
        """``scan_identifiers``'s check of one file."""
        if f.suffix not in SCANNED:
            return
        where = f.where
        # cells: the distinct texts of the file's cells (each looked at once: a page repeats the same few)
        if f.suffix == ".xlsx":
            values = [str(v) for _title, rows in f.sheets for r in rows for v in r if v is not None]
            text = "\n".join(values)
            cells = set(values)
        else:
            text = f.text
            cells = {c.strip().strip('"') for c in set(re.split(r"[,\t|\n<>]", text))}
            if f.suffix == ".json":
                cells.update(re.findall(r'"([^"\\]{1,60})"\s*:', text))
        for c in sorted({c for c in cells if IDENTIFIER_NAME.match(c.strip())}):
            report.add("identifier_in_shareable", f"{where}: a column or field named {c!r} (an identifier)",
                       file=where, column=c, rule="no identifier columns in shareable files")
        for m in sorted(set(POSTCODE_TEXT.findall(text))):
            report.add("identifier_in_shareable", f"{where}: {m!r} looks like a postcode", file=where, value=m,
                       rule="no postcodes in shareable files")
        for a, b in sorted(set(NAME_PAIR.findall(text))):
            if a.lower() in self.given and b.lower() in self.family:
                report.add("identifier_in_shareable", f"{where}: {a} {b!s} looks like a child's name", file=where,
                           value=f"{a} {b}", rule="no names in shareable files")
        if self.wanted:
            found = {_squash(c) for c in cells} & self.wanted
            flat = _squash(text)
            found |= {k for k in self.wanted - found if k in flat and not k.isdigit()}
            for _ in found:          # one problem per identifier, never naming it
                report.add("identifier_in_shareable", f"{where}: holds an identifier from the linkage input",
                           file=where, rule="no identifiers in shareable files")


def _squash(v) -> str:
    return re.sub(r"\s+", "", str(v)).lower()


class GateScan:
    """What the gate found in each file of a folder, kept with the file's bytes: a folder checked in two goes (a
    board pack whose files are written while other work runs, then finished) is read again only where a file is
    new or changed (``check_shareable(..., scan=)``); a file whose bytes are the same gives the same problems."""

    def __init__(self):
        self._seen: dict[str, tuple[tuple[bytes, float, float], list[Problem], list[Problem]]] = {}

    def read(self, folder, small: tuple[int, int] | None = None, board=None) -> tuple[ProblemReport, ProblemReport]:
        """Scan the files of ``folder`` not scanned before with these bytes (``small``: as ``check_shareable``):
        (small counts, identifiers), every file's problems in file order; nothing is raised here."""
        folder = Path(folder)
        if small is None:
            small = small_range(board.framework) if board is not None else (1, 5)
        lo, hi = float(small[0]), float(small[1])
        counts = ProblemReport(title=f"Shareable folder {folder}")
        ids = ProblemReport(title=f"Identifiers in the shareable folder {folder}")
        if not folder.is_dir():
            counts.add("missing_folder", f"{folder} is not a folder")
            return counts, ids
        look = None
        for f in _files(folder):
            key = (f.data, lo, hi)
            hit = self._seen.get(f.where)
            if hit is None or hit[0] != key:
                c, i = ProblemReport(), ProblemReport()
                _counts_in(f, lo, hi, c)
                look = look or _Identifiers()
                look.scan(f, i)
                hit = self._seen[f.where] = (key, list(c), list(i))
            counts.extend(hit[1])
            ids.extend(hit[2])
        return counts, ids


def check_shareable(folder, audit=None, small: tuple[int, int] | None = None, board=None,
                    scan: GateScan | None = None) -> ProblemReport:
    """Refuse to let ``folder`` leave the building if it would disclose a small count.

    ``board``: the :class:`~measurekit.publish.board_table.BoardTable` the folder was rendered from
    (``render_board_pack`` passes it): its audit must have passed, and the suppressed rows of every
    ``board_table.csv`` in the folder (read from the file, as written) must be the ones it audited and the
    ones the object holds; its framework gives the counts to look for (:func:`small_range`). ``audit``: an
    :class:`~measurekit.publish.disclosure_audit.AuditResult` given on its own (no object). ``small``: the
    range of counts to look for when no board is given (default 1-5). ``scan``: a :class:`GateScan` that read
    some of the files before (their bytes compared, so a file changed since is read again). Raises
    :class:`DisclosureGateError` (with the whole report) on any problem; returns the (empty) report otherwise.
    """
    folder = Path(folder)
    if board is not None:
        audit = board.audit if audit is None else audit
        small = small_range(board.framework) if small is None else small
        if audit is None:
            raise DisclosureGateError(ProblemReport([Problem(
                "board_table_unprotected", "The board table carries no disclosure audit (built with disclosure=False "
                "or read back from a file): the gate cannot vouch for it.", rule="every shared number passes "
                "disclosure control")]))
    report, ids = (scan or GateScan()).read(folder, small or (1, 5))
    report.extend(ids)
    if audit is not None:
        if not audit.passed:
            for msg in audit.problems:
                report.add("disclosure_audit_failed", msg, file="board_table.csv")
        checked = audit.table
        if "published" in checked:   # published (e.g. rounded) cells are audited too: compare the suppressed ones
            checked = checked[~checked["published"].astype(bool)]
        audited = set(checked["row"].astype(int).tolist())
        held = set(np.flatnonzero(board.rows["suppressed"].astype(bool).to_numpy()).tolist()) if board is not None \
            else audited
        for path in sorted(folder.rglob("board_table.csv")):
            where = path.relative_to(folder).as_posix()
            t = pd.read_csv(path, dtype=str, keep_default_na=False)
            rows = set(np.flatnonzero(t["suppressed"].str.lower().eq("true")).tolist())
            if rows != audited or rows != held:
                report.add("disclosure_audit_failed", f"{where}: its suppressed rows are not the ones the disclosure "
                           "audit checked", file=where)
    if len(report):
        raise DisclosureGateError(report)
    return report
