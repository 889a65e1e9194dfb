"""Read an LA's input files (CSV or Excel), mapping its column names onto ours.

A folder holds one file per table the framework declares (``tables:`` in its framework.yaml; e.g. ``children``,
``eyfsp``, ``voice_parent``), each ``<table>.csv``, ``.xlsx`` or ``.xls``.
Two files for one table (``children.csv`` and ``children.xlsx``) is an error: say which one
to use with ``path:`` in the config. Other names and headers are mapped with a small YAML config::

    columns: {UPN: child_id}          # applies to every file (say it once, not seven times)
    values:  {fsm: {"Y": 1, "N": 0}}  # applies to every file
    date_format: "%d/%m/%Y"           # dates as Excel writes them in the UK (default: yyyy-mm-dd)
    completeness_threshold: 0.05      # share of children without an EYFSP record that is an error
    files:
      children:
        path: pupils_2025.xlsx        # relative to the data folder
        sheet: Pupils                 # Excel only (default: first sheet)
        columns: {PupilRef: child_id, Gender: sex, FSMeligible: fsm}   # added to the global mapping
        values:  {sex: {Female: F, Male: M}}
        delimiter: ";"                # CSV only; detected from the header line when not given
        encoding: cp1252              # CSV only; see ENCODINGS for the order tried otherwise
        date_format: "%d/%m/%Y"       # overrides the global one for this file
      voice_parent:
        path: kobo_export.csv         # a KoboToolbox / ODK CSV export works as it is

Survey exports from KoboToolbox/ODK are recognised: group prefixes in headers
(``<group>/<item>``) are removed, ``_uuid`` becomes ``response_id`` and
``_submission_time`` becomes ``completed_on`` when those columns are absent; other
metadata columns starting with ``_`` are dropped.

CSV files are read by Polars (a columnar engine: all of a 1,000,000-row file is checked with
vectorised expressions; see ``docs/architecture.md``, "How the cost grows"). Every cell is read as
text, blanks as ``""``; typing happens after validation. Files are only ever opened for reading.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from measurekit.problems import ProblemReport

SUFFIXES = (".csv", ".xlsx", ".xls")
# Encodings tried, in this order, when the config does not name one. UTF-8 (with or without the
# byte-order mark Excel writes) first; then Windows-1252, what Excel on Windows in England writes
# as "CSV" (it covers every byte of Latin-1 text except five unused positions).
ENCODINGS = ("utf-8", "cp1252")
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
MAX_SHOWN = 80   # characters of a value shown in a message (a 50 MB field is never echoed whole)
# One cell: Excel's own limit; a longer field is refused (a 1 MB name once drove a run past 17 GB).
MAX_FIELD_CHARS = 32_767
MAX_NAME_CHARS = 100       # names and codes that become labels in every output (ONS area names are under 60)

# The config's keys: top level, and under files: <table>: (see the module docstring).
CONFIG_KEYS = ("columns", "values", "date_format", "completeness_threshold", "files", "delimiter", "encoding")
FILE_KEYS = ("path", "sheet", "columns", "values", "delimiter", "encoding", "date_format")
MAX_CONFIG_BYTES = 1_000_000


def cut(value, limit: int = MAX_SHOWN) -> str:
    """``value`` as text, cut to ``limit`` characters with the full length said when longer."""
    text = "" if value is None else str(value)
    if len(text) <= limit:
        return text
    return f"{text[:max(limit - 30, 8)]}... ({len(text):,} characters)"


class ReadProblem(Exception):
    """A file that cannot be read as it is; ``code`` is a catalogue code, ``where`` row/column."""

    def __init__(self, code: str, message: str, **where):
        super().__init__(message)
        self.code, self.message, self.where = code, message, where


@dataclass
class TableSource:
    name: str
    path: Path | None
    sheet: str | int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict] = field(default_factory=dict)
    delimiter: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    candidates: list[Path] = field(default_factory=list)   # every file found for this table
    given: bool = False       # the path was named with ``path:`` in the config (not found by its name)
    notes: list[dict] = field(default_factory=list)   # problems found while reading (keyword arguments of Problem)
    survey: bool = False      # a voice table: survey-export headers (group prefixes, _uuid ...) are recognised
    name_columns: tuple[str, ...] = ()   # columns whose values are labels in the outputs (at most MAX_NAME_CHARS)
    # a lookup table: pairs (code, name) that must name each other one to one (two areas of one name would merge)
    unique_names: tuple[tuple[str, str], ...] = ()


def _did_you_mean(word: str, choices, listed: bool = False) -> str:
    """"Did you mean 'x'?" for the nearest of ``choices``; else the choices (unless the message ``listed`` them)."""
    import difflib

    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    if close:
        return f"Did you mean {close[0]!r}?"
    return "" if listed else f"The keys allowed here are: {', '.join(choices)}."


def check_config(cfg: dict, file: str = "config", tables=None) -> ProblemReport:
    """Every problem of a config mapping: unknown keys (a typo such as ``date_fromat`` would otherwise be ignored
    silently and change the results), table names under ``files:`` that are not among ``tables`` (the
    framework's; not checked when None), and values of the wrong shape."""
    from measurekit.problems import ProblemReport

    report = ProblemReport(title=f"Config {file}")
    if not isinstance(cfg, dict):
        report.add("config_invalid", "The config must be a mapping (key: value) with keys such as `columns:`, "
                   "`date_format:` and `files:`.", file=file)
        return report
    for key in cfg:
        if key not in CONFIG_KEYS:
            report.add("unknown_config_key", f"The config key {cut(key)!r} is not one measurekit reads, so it would "
                       f"be ignored. {_did_you_mean(key, CONFIG_KEYS)}", file=file, column=cut(key), value=cut(key),
                       rule="keys: " + ", ".join(CONFIG_KEYS))
    for key in ("columns", "values", "files"):
        if cfg.get(key) is not None and not isinstance(cfg[key], dict):
            report.add("config_invalid", f"`{key}:` must be a mapping (name: value), not {type(cfg[key]).__name__}.",
                       file=file, column=key)
    given_files = cfg.get("files")
    files = given_files if isinstance(given_files, dict) else {}
    for table, entry in files.items():
        if tables is not None and table not in tables:
            hint = _did_you_mean(table, tables, listed=True)
            report.add("unknown_config_key", f"`files:` names the table {cut(table)!r}, which measurekit does not "
                       f"read. {hint + ' ' if hint else ''}The tables are: {', '.join(tables)} (name your own "
                       "file with `path:` under one of them).", file=file, column=f"files.{cut(table)}",
                       value=cut(table), rule="tables: " + ", ".join(tables))
            continue
        if entry is None:
            continue
        if not isinstance(entry, dict):
            report.add("config_invalid", f"`files: {table}:` must be a mapping (path:, columns:, ...).", file=file,
                       column=f"files.{table}")
            continue
        for key in entry:
            if key not in FILE_KEYS:
                report.add("unknown_config_key", f"The key {cut(key)!r} under `files: {table}:` is not one measurekit "
                           f"reads, so it would be ignored. {_did_you_mean(key, FILE_KEYS)}", file=file,
                           column=f"files.{table}.{cut(key)}", value=cut(key), rule="keys: " + ", ".join(FILE_KEYS))
    return report


def load_config(config, tables=None) -> dict:
    """Read and check the column-mapping config (a path to YAML, a dict, or None); ``tables``: the table names
    the framework declares (``files:`` may name only these).

    Raises ``InputError``: a config file that does not exist (``missing_file``), cannot be parsed
    (``yaml_syntax``, with its line), or names keys measurekit does not read (``unknown_config_key``, with a
    did-you-mean)."""
    from measurekit.problems import InputError, ProblemReport

    if config is None:
        return {}
    if isinstance(config, dict):
        data, name = config, "config"
    else:
        import yaml

        path = Path(config)
        name = path.name
        report = ProblemReport(title=f"Config {path}")
        if not path.exists():
            report.add("missing_file", f"The config file {str(path)!r} does not exist. Check the path given to "
                       "--config.", file=name, value=str(path))
            raise InputError(report)
        why = path_problem(path, folder=False)
        if why is None and path.stat().st_size > MAX_CONFIG_BYTES:
            why = ("unreadable_file", f"{name} is {path.stat().st_size:,} bytes; a config is a short text file.")
        if why:
            report.add(why[0], why[1], file=name)
            raise InputError(report)
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            report.add("unreadable_file", f"{name} cannot be read as UTF-8 text ({cut(exc, 200)}).", file=name)
            raise InputError(report) from None
        from measurekit.design.loading import yaml_text_ok

        try:
            if not yaml_text_ok(text, name, report):
                raise InputError(report)
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            row = (mark.line + 1) if mark else None
            report.add("yaml_syntax", f"{name} is not valid YAML{f' (line {row})' if row else ''}: "
                       f"{cut(getattr(exc, 'problem', None) or exc, 200)}. Check the indentation and quotes on that "
                       "line; a value holding ':' or '#' needs quotes.", file=name, row=row)
            raise InputError(report) from None
    problems = check_config(data, name, tables)
    if problems.errors:
        raise InputError(problems)
    return data


def sources(folder, config=None, *, framework=None) -> dict[str, TableSource]:
    """Where each table the framework declares comes from (path None when no file was found).

    The top-level ``columns``, ``values`` and ``date_format`` of the config apply to every file; a
    file's own entries are added to them (and win where both name the same column).
    ``candidates`` lists every file that could be the table (more than one is an error).
    """
    from measurekit.data.schemas import declared, population

    fw = declared(framework)
    pop = population(fw)
    names = [t.name for t in fw.tables]
    folder = Path(folder)
    cfg = load_config(config, names)
    per_file = cfg.get("files", {}) or {}
    area_columns = tuple(c for c in (pop.area, pop.area_code, pop.small_area, pop.small_area_name) if c)
    pairs = tuple((a, b) for a, b in ((pop.area_code, pop.area), (pop.small_area, pop.small_area_name)) if a and b)
    out = {}
    for table in fw.tables:
        name = table.name
        entry = per_file.get(name, {}) or {}
        candidates = []
        given = bool(entry.get("path"))
        if given:
            candidates = [folder / str(entry["path"])]
        else:
            candidates = [folder / f"{name}{s}" for s in SUFFIXES if os.path.lexists(folder / f"{name}{s}")]
        columns = {**(cfg.get("columns") or {}), **(entry.get("columns") or {})}
        values = {**(cfg.get("values") or {}), **(entry.get("values") or {})}
        out[name] = TableSource(name, candidates[0] if candidates else None, entry.get("sheet"),
                                {str(k): str(v) for k, v in columns.items()}, dict(values),
                                entry.get("delimiter") or cfg.get("delimiter"),
                                entry.get("encoding") or cfg.get("encoding"),
                                entry.get("date_format") or cfg.get("date_format"), candidates, given=given,
                                survey=table.kind == "voice",
                                name_columns=area_columns + tuple(c.name for c in table.columns
                                                                  if c.label and c.name not in area_columns),
                                unique_names=pairs if name == pop.lookup else ())
    return out


def path_problem(path: Path, given: bool = False, folder: bool = True) -> tuple[str, str] | None:
    """Why ``path`` cannot be opened (code, message), or None when it can.

    ``given``: the path was named in the config, so its absence is reported as that path not found (a table
    found by its name is simply absent). Refused: links in a loop or to nothing, folders, special files (a named
    pipe would hang the read, a device never ends) and, with ``folder``, a symbolic link that leads outside the
    folder it is in (an input linked to a system file)."""
    import stat

    path = Path(path)
    if not os.path.lexists(path):
        if given:
            return "missing_file", (f"The config names {str(path)!r} with `path:`, and no such file exists. Check the "
                                    "spelling; the path is relative to the data folder.")
        return None
    if path.is_symlink() and not path.exists():
        seen: set[Path] = set()
        here = Path(os.path.abspath(path))
        while here.is_symlink():
            if here in seen or len(seen) > 40:
                return "symlink_loop", (f"{path.name} is a symbolic link that points (through other links) back "
                                        "to itself.")
            seen.add(here)
            here = Path(os.path.abspath(here.parent / os.readlink(here)))
        return "broken_link", (f"{path.name} is a symbolic link to {os.readlink(path)}, which does not "
                               "exist.")
    if path.is_dir():
        return "unreadable_file", f"{path.name} is a folder, not a file."
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return "unreadable_file", f"{path.name} cannot be read ({exc.strerror or exc})."
    if not stat.S_ISREG(mode):
        return "special_file", (f"{path.name} is not an ordinary file (a named pipe, socket or device); reading it "
                                "could wait for ever. Save the data as an ordinary CSV or Excel file.")
    if folder and path.is_symlink():
        home = Path(os.path.abspath(path)).parent.resolve()
        target = path.resolve()
        if home not in target.parents:
            return "link_outside", (f"{path.name} is a symbolic link to {str(target)!r}, outside the data folder; "
                                    "measurekit reads only files in the data folder. Copy the file into the folder.")
    return None


def read_raw(source: TableSource):
    """Read one file as text (a Polars frame, every cell a string, blanks as ''), headers mapped to ours.

    Raises ``ReadProblem`` for a file that cannot be read (undecodable bytes, duplicated headers
    are reported by the caller from ``source.notes``).
    """
    import polars as pl

    path = source.path
    assert path is not None, "read_raw is called only for a table whose file was found"
    if path.suffix.lower() == ".csv":
        frame, header = _read_csv(path, source)
    else:
        frame, header = _read_excel(path, source)
    header = [str(c).strip() for c in header]
    before = _note_duplicates(header, source, mapped=False)
    mapped = [source.columns.get(c, c) for c in header]
    if source.survey:
        mapped = [c.rsplit("/", 1)[-1] if "/" in c else c for c in mapped]
    _note_duplicates(mapped, source, mapped=True, known=before)
    seen, keep, names = set(), [], []
    for i, c in enumerate(mapped):
        if c in seen:
            continue     # later copies of a duplicated header are reported and not used
        seen.add(c)
        keep.append(i)
        names.append(c)
    frame = frame.select([pl.col(frame.columns[i]).alias(n) for i, n in zip(keep, names)])
    if source.survey:
        frame = _from_survey_export(frame)
    frame = _clean_text(frame)
    maps = []
    for col, mapping in source.values.items():
        if col in frame.columns and mapping:
            uniq = frame[col].unique().to_list()
            table = {v: str(mapping.get(v, mapping.get(_num_key(v), v))) for v in uniq}
            table = {k: v for k, v in table.items() if k != v}
            if table:
                maps.append(pl.col(col).replace(table))
    if maps:
        frame = frame.with_columns(maps)
    _check_sizes(frame, source)
    _check_names(frame, source)
    return frame


def _first_row(frame, condition) -> tuple[int, pl.DataFrame]:
    """Spreadsheet row (header = 1) and the first row (a one-row frame) where ``condition`` holds."""
    hit = frame.with_row_index("__row").filter(condition).head(1)
    return int(hit["__row"][0]) + 2, hit


def _check_sizes(frame, source: TableSource) -> None:
    """Refuse a field longer than ``MAX_FIELD_CHARS`` (``ReadProblem`` ``field_too_long``); report names and codes
    longer than ``MAX_NAME_CHARS`` (``name_too_long``): they are labels in every table, chart and page."""
    import polars as pl

    if not frame.height or not frame.width:
        return
    longest = frame.select([pl.col(c).str.len_bytes().max().alias(c) for c in frame.columns]).row(0)
    for col, nbytes in zip(frame.columns, longest):
        if nbytes is None or nbytes <= MAX_FIELD_CHARS:
            continue
        long = pl.col(col).str.len_chars() > MAX_FIELD_CHARS
        if frame.select(long.any()).item():
            row, hit = _first_row(frame, long)
            raise ReadProblem("field_too_long", f"the value in row {row}, column {cut(col)!r} is "
                              f"{len(hit[col][0]):,} characters long; a cell may hold at most {MAX_FIELD_CHARS:,} "
                              "(Excel's own limit). Check the file was exported correctly (an unclosed quote "
                              "joins many rows into one cell).", row=row, column=cut(col),
                              value=cut(hit[col][0]))
    for col in source.name_columns:
        if col in frame.columns and frame.height:
            long = pl.col(col).str.len_chars() > MAX_NAME_CHARS
            n = frame.select(long.sum()).item()
            if n:
                row, hit = _first_row(frame, long)
                source.notes.append(dict(severity="error", code="name_too_long", row=row, column=col,
                                         value=cut(hit[col][0]), rule=f"at most {MAX_NAME_CHARS} characters",
                                         message=f"{n:,} {col} value(s) are longer than {MAX_NAME_CHARS} characters "
                                         f"(first in row {row}); names and codes are labels in every table, chart "
                                         "and page. Shorten them."))


def _check_names(frame, source: TableSource) -> None:
    """In the small-area lookup each code has one name and each name one code (``duplicate_name``): two
    areas sharing a name would be merged into one row of the published files."""
    import polars as pl

    for code, name in source.unique_names:
        if code not in frame.columns or name not in frame.columns:
            continue
        pairs = frame.select(pl.col(code), pl.col(name)).filter((pl.col(code) != "") & (pl.col(name) != "")).unique()
        for a, b in ((name, code), (code, name)):
            many = pairs.group_by(a).agg(pl.col(b).sort().alias("others")).filter(pl.col("others").list.len() > 1)
            for value, others in many.sort(a).head(20).iter_rows():
                row, _ = _first_row(frame, pl.col(a) == value)
                shown = ", ".join(cut(o, 40) for o in others[:5])
                source.notes.append(dict(severity="error", code="duplicate_name", row=row, column=a, value=cut(value),
                                         rule=f"one {b} per {a}", message=
                                         f"The {a} {cut(value)!r} goes with {len(others)} different {b} values "
                                         f"({shown}). Each {'code' if a == code else 'name'} must have one "
                                         f"{'name' if a == code else 'code'}, or the areas would be merged (or split) "
                                         "in the outputs. Give each area its own name and code."))



def _clean_text(frame):
    """Blanks for missing cells and no surrounding white space; only columns that need it are rewritten
    (a cheap scan of the ends of every cell first: rewriting 1,000,000 strings costs more than reading them)."""
    import polars as pl

    nulls = [c for c in frame.columns if frame[c].null_count()]
    if nulls:
        frame = frame.with_columns([pl.col(c).fill_null("") for c in nulls])
    ws = frame.select([(pl.col(c).str.starts_with(" ") | pl.col(c).str.ends_with(" ")
                        | pl.col(c).str.contains("\t", literal=True)
                        | pl.col(c).str.ends_with("\r")).any().alias(c) for c in frame.columns])
    dirty = [c for c in frame.columns if ws[c][0]] if frame.height else []
    if dirty:
        frame = frame.with_columns([pl.col(c).str.strip_chars() for c in dirty])
    return frame


def _num_key(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return v


def _note_duplicates(header: list[str], source: TableSource, mapped: bool, known=()) -> list[list[int]]:
    """Report headers that occur more than once (``known``: groups already reported before mapping)."""
    positions: dict[str, list[int]] = {}
    for i, c in enumerate(header):
        positions.setdefault(c, []).append(i + 1)
    groups = []
    for c, pos in positions.items():
        if len(pos) > 1:
            groups.append(pos)
            if pos in known:
                continue
            how = "After the config's column mapping, the" if mapped else "The"
            source.notes.append(dict(severity="error", code="duplicate_column", column=cut(c), rule="unique headers",
                                     message=f"{how} header {cut(c)!r} appears {len(pos)} times (columns "
                                     f"{', '.join(map(str, pos))}); only the first is read. Remove or rename the "
                                     "others."))
    return groups


def _first_line(data: bytes) -> bytes:
    end = data.find(b"\n")
    return data if end < 0 else data[:end]


def detect_delimiter(header_line: str) -> str:
    """The delimiter of a CSV file from its header line: the most frequent of , ; tab | outside quotes."""
    counts = {}
    for d in DELIMITERS:
        try:
            counts[d] = len(next(csv.reader([header_line], delimiter=d)))
        except (csv.Error, StopIteration):
            counts[d] = 1
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] > 1 else ","


def _decode_position(data: bytes, offset: int, delimiter: str) -> tuple[int, int, str | None]:
    """Row (header = 1, counting records as a spreadsheet does) and column of byte ``offset``."""
    start = data.rfind(b"\n", 0, offset) + 1
    prefix = data[:start].decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(prefix), delimiter=delimiter)) if prefix else []
    line = data[start:offset].decode("utf-8", errors="replace")
    try:
        col = len(next(csv.reader([line], delimiter=delimiter)))
    except StopIteration:
        col = 1
    col = max(col, 1)
    header = next(csv.reader([_first_line(data).decode("utf-8", errors="replace")], delimiter=delimiter), [])
    name = header[col - 1].strip() if 0 < col <= len(header) else None
    return len(rows) + 1, col, name


def _read_csv(path: Path, source: TableSource):
    import polars as pl

    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    head_text = _first_line(head).decode("utf-8-sig", errors="replace").rstrip("\r")
    delimiter = source.delimiter or detect_delimiter(head_text)
    if delimiter not in DELIMITERS and len(delimiter) != 1:
        raise ReadProblem("unreadable_file", f"delimiter {delimiter!r} must be one character")
    if source.delimiter is None and delimiter != ",":
        source.notes.append(dict(severity="info", code="delimiter_detected", value=delimiter, message=
                             f"{path.name} is separated by {DELIMITER_NAMES.get(delimiter, repr(delimiter))}s, not "
                             f"commas; it was read as such (say `delimiter: {delimiter!r}` in the config to make "
                             "this explicit)."))
    header = next(csv.reader([head_text], delimiter=delimiter), [])
    if source.delimiter is not None and len(header) <= 1 and detect_delimiter(head_text) != delimiter:
        found = detect_delimiter(head_text)
        source.notes.append(dict(severity="warning", code="delimiter_detected", value=found, message=
                                 f"The config says {path.name} is separated by "
                                 f"{DELIMITER_NAMES.get(delimiter, repr(delimiter))}s, "
                                 f"but its header line is one column and looks separated by "
                                 f"{DELIMITER_NAMES.get(found, repr(found))}s. Say `delimiter: {found!r}` in the "
                                 "config, or leave `delimiter:` out to have it detected."))
    names = [f"__c{i}" for i in range(len(header))]

    def read(source_data: Path | bytes) -> pl.DataFrame:
        return pl.read_csv(source_data, encoding="utf8", separator=delimiter, infer_schema=False, has_header=True,
                           new_columns=names, empty_string_is_null=False, truncate_ragged_lines=True,
                           raise_if_empty=False)

    encodings = [source.encoding] if source.encoding else list(ENCODINGS)
    if encodings[0].replace("-", "").lower() in ("utf8", "utf8sig"):
        try:
            return read(path), header
        except pl.exceptions.ComputeError as exc:
            if "utf-8" not in str(exc).lower() and "utf8" not in str(exc).lower():
                raise ReadProblem("unreadable_file", f"Could not read the file: {cut(exc, 300)}") from exc
    data = path.read_bytes()
    first_bad = None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc
    tried = []
    for enc in encodings:
        tried.append(enc)
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError) as exc:
            if isinstance(exc, LookupError):
                raise ReadProblem("unreadable_file", f"unknown encoding {enc!r} in the config") from exc
            last = exc
            continue
        if first_bad is not None and enc.replace("-", "").lower() not in ("utf8", "utf8sig"):
            row, col, cname = _decode_position(data, first_bad.start, delimiter)
            source.notes.append(dict(severity="warning", code="encoding_fallback", row=row, column=cname,
                                     value=f"0x{data[first_bad.start]:02x}",
                                     rule="encoding: " + " then ".join(encodings), message=
                                 f"{path.name} is not UTF-8 (byte 0x{data[first_bad.start]:02x} at row {row}, column "
                                 f"{col}{' ' + repr(cname) if cname else ''}); it was read as {enc}. Check accented "
                                 "names, or save the file as 'CSV UTF-8' from Excel."))
        return read(text.encode("utf-8")), header
    row, col, cname = _decode_position(data, last.start, delimiter)
    raise ReadProblem("undecodable_byte",
                      f"byte 0x{data[last.start]:02x} at row {row}, column {col}"
                      f"{' (' + repr(cname) + ')' if cname else ''} cannot be read in any of the encodings tried "
                      f"({', '.join(tried)}, in that order). Save the file as 'CSV UTF-8' or name its encoding "
                      "in the config (`encoding:`).", row=row, column=cname)


def _excel_text(v) -> str:
    import datetime as dt

    if v is None:
        return ""
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_excel(path: Path, source: TableSource):
    """Read a sheet with openpyxl (read-only, values not formulas); dates become yyyy-mm-dd."""
    import polars as pl

    if path.suffix.lower() == ".xls":
        raise ReadProblem("unreadable_file", "old .xls workbooks cannot be read: save it as .xlsx or CSV UTF-8.")
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = source.sheet
        if sheet is None or sheet == 0:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            ws = wb.worksheets[sheet]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise ReadProblem("unreadable_file", f"no sheet {sheet!r}; the sheets are {', '.join(wb.sheetnames)}")
        rows = ws.iter_rows(values_only=True)
        header = [_excel_text(v) for v in next(rows, ())]
        while header and header[-1] == "":
            header.pop()
        width = len(header)
        body = []
        for r in rows:
            cells = [_excel_text(v) for v in r[:width]]
            if not any(cells):
                continue
            body.append(cells + [""] * (width - len(cells)))
    finally:
        wb.close()
    names = [f"__c{i}" for i in range(width)]
    cols = list(zip(*body)) if body else [()] * width
    return pl.DataFrame({n: pl.Series(n, list(c), dtype=pl.String) for n, c in zip(names, cols)}), header


def _from_survey_export(frame):
    """Normalise a KoboToolbox/ODK export (group prefixes already stripped): map metadata columns."""
    import polars as pl

    if "response_id" not in frame.columns and "_uuid" in frame.columns:
        frame = frame.rename({"_uuid": "response_id"})
    if "completed_on" not in frame.columns and "_submission_time" in frame.columns:
        frame = frame.with_columns(pl.col("_submission_time").fill_null("").str.slice(0, 10).alias("completed_on"))
    drop = [c for c in frame.columns
            if c.startswith("_") or c in ("start", "end", "today", "deviceid", "meta/instanceID", "instanceID")]
    return frame.drop(drop)


def _text_array(series):
    """A Polars text column as a numpy array of Python strings (None for missing).

    Columns with few distinct values (codes, languages, areas) hold one shared string object per
    distinct value instead of one per row: the same values, a fraction of the memory at national
    scale (1,000,000 rows x 30 columns of separate strings is about 2 GB; shared, about 250 MB).
    """
    import numpy as np
    import polars as pl

    n = len(series)
    if n < 1000 or series.head(10_000).n_unique() > 2_500:    # identifiers and free text: nothing to share
        return series.to_numpy()
    labels = series.drop_nulls().unique(maintain_order=True)
    codes = series.cast(pl.Enum(labels.to_list())).to_physical().fill_null(len(labels)).to_numpy()
    return np.asarray(labels.to_list() + [None], dtype=object)[codes]


def to_pandas(frame):
    """A Polars text frame as a pandas frame of Python strings (no pyarrow needed)."""
    import pandas as pd

    return pd.DataFrame({c: _text_array(frame[c]) for c in frame.columns}, columns=list(frame.columns))


def _numbers(series, whole_as_int: bool = True):
    """A Polars text column as numbers, as ``pandas.to_numeric(errors="coerce")`` reads it (blank,
    unreadable -> NaN; surrounding spaces ignored), parsed by Polars in one vectorised pass. int64 when
    ``whole_as_int`` and every value is a whole number written without a decimal point or exponent (as
    pandas gives), else float64."""
    import numpy as np
    import polars as pl

    text = series.str.strip_chars()
    values = text.cast(pl.Float64, strict=False)
    if whole_as_int and values.null_count() == 0 and not values.is_nan().any() \
            and text.str.contains(r"^[+-]?[0-9]+$").all():
        whole = text.cast(pl.Int64, strict=False)
        if whole.null_count() == 0:
            return whole.to_numpy()
    return values.fill_null(np.nan).to_numpy()


def typed(frame, schema: dict):
    """A Polars text frame (as the readers give it) as a pandas frame with the schema's types (integers as nullable
    Int64; dates stay ISO text).

    Numbers are parsed by Polars before the frame becomes a pandas frame (``pandas.to_numeric`` on a
    million Python strings is what made typing slow); text columns become Python strings with blanks
    as None.
    """
    import pandas as pd
    import polars as pl

    kinds = {f["name"]: f["type"] for f in schema["fields"]}
    columns = {}
    for name in frame.columns:
        col, kind = frame[name], kinds.get(name)
        if kind == "integer":
            num = pd.Series(_numbers(col, whole_as_int=False)).round().astype("Int64")
            columns[name] = num.astype("int64") if not num.isna().any() else num
        elif kind == "number":
            columns[name] = _numbers(col)
        elif kind is not None:
            blank_as_none = pl.select(pl.when(col == "").then(None).otherwise(col)).to_series()
            columns[name] = pd.Series(_text_array(blank_as_none), dtype=object, copy=False)
        else:
            columns[name] = _text_array(col)
    return pd.DataFrame(columns, columns=list(frame.columns))
