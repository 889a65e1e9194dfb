"""Cognitive interviews: what families understood each item to ask, what went wrong, and what was changed.

A cognitive-interview log has one row per item per interview (Willis 2005, *Cognitive Interviewing*):

    item, date, language, participant_group, probe, understood, problem_type, change_made

(optional: ``participant``, ``interviewer``, ``round``). ``problem_type`` follows the question-answering
model (Tourangeau 1984) that cognitive interviewing probes, plus the problems of translated forms:
``none``, ``comprehension`` (the words or the idea were misunderstood), ``recall`` (could not remember or
work out the answer), ``judgement`` (unsure how to weigh it, or would not answer honestly),
``response_options`` (the answer wanted was not offered, or the options were confusing), ``translation``
(the translated wording meant something different), ``sensitivity`` (uncomfortable to answer) and
``layout`` (the form, audio or picture got in the way). ``change_made`` is blank when nothing was changed.

The log lives beside the quotes (``evidence/interviews.csv`` or ``.yaml``) and is checked with the rest of
the specification (``measurekit check-spec``): every problem has a row, a column and a catalogued code.
:func:`interview_history` writes the findings into each item's history; :func:`item_history` shows one item's
whole record (history entries, interviews, content-validity numbers) as one table.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from measurekit.problems import InputError, ProblemReport

INTERVIEW_COLUMNS = ["item", "date", "language", "participant_group", "probe", "understood", "problem_type",
                     "change_made"]
OPTIONAL_COLUMNS = ["participant", "interviewer", "round"]
PROBLEM_TYPES = ("none", "comprehension", "recall", "judgement", "response_options", "translation", "sensitivity",
                 "layout")
REQUIRED = ("item", "date", "language", "participant_group", "problem_type")
FILES = ("interviews.csv", "interviews.yaml", "interviews.yml")

# Frictionless Table Schema of the CSV form (written beside synthetic logs).
TABLE_SCHEMA = {"fields": [
    {"name": "item", "type": "string", "description": "Item id, as in items.yaml", "constraints": {"required": True}},
    {"name": "date", "type": "date", "description": "Date of the interview", "constraints": {"required": True}},
    {"name": "language", "type": "string", "description": "Language of the interview (ISO 639-1 code)",
     "constraints": {"required": True}},
    {"name": "participant_group", "type": "string", "description": "Who took part (e.g. parent, outreach parent)",
     "constraints": {"required": True}},
    {"name": "participant", "type": "string", "description": "Pseudonymous participant code"},
    {"name": "probe", "type": "string", "description": "The probe asked (e.g. 'What does \"services\" mean to you?')"},
    {"name": "understood", "type": "string", "description": "What the participant understood the item to ask"},
    {"name": "problem_type", "type": "string", "description": "Kind of problem found (none if none)",
     "constraints": {"required": True, "enum": list(PROBLEM_TYPES)}},
    {"name": "change_made", "type": "string", "description": "What was changed in response (blank if nothing)"},
], "missingValues": [""]}


def find_log(folder) -> Path | None:
    """The interview log in a framework's ``evidence`` folder (or the folder itself), if there is one."""
    folder = Path(folder)
    for base in (folder / "evidence", folder):
        for name in FILES:
            if (base / name).exists():
                return base / name
    return None


def read_interviews(path) -> pd.DataFrame:
    """Read a log from CSV or YAML (a list of records, or ``interviews:`` holding one) as text, unchecked.

    ``.attrs["file"]`` holds the file name and, for YAML, ``.attrs["yaml"]`` the text (for line numbers).
    """
    path = Path(path)
    if not path.exists():
        raise InputError.of("missing_file", f"Interview log {path} does not exist.", file=str(path))
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        text = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text) or []
        except yaml.YAMLError as exc:
            report = ProblemReport(title=f"Interview log {path.name}")
            mark = getattr(exc, "problem_mark", None)
            report.add("yaml_syntax", f"YAML syntax error: {exc}", file=path.name,
                       row=(mark.line + 1) if mark else None)
            raise InputError(report) from None
        records = data.get("interviews", []) if isinstance(data, dict) else data
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            report = ProblemReport(title=f"Interview log {path.name}")
            report.add("yaml_type", "The log must be a list of interviews (each a mapping of column: value), "
                       "optionally under `interviews:`.", file=path.name)
            raise InputError(report)
        frame = pd.DataFrame(records).astype(object)
        frame = frame.where(frame.notna(), "").astype(str)
        frame.attrs["yaml"] = text
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.attrs["file"] = path.name
    return frame


def check_interviews(log: pd.DataFrame, framework=None, file: str | None = None) -> ProblemReport:
    """Every problem of an interview log: missing columns, blank required values, dates that are not dates
    or lie in the future, unknown problem types, items the framework does not define, languages it does not
    declare (a warning). Rows are spreadsheet rows (header = 1) for CSV and YAML lines for YAML."""
    file = file or log.attrs.get("file")
    report = ProblemReport(title=f"Cognitive interviews{f' {file}' if file else ''}")
    yaml_text = log.attrs.get("yaml")
    lines = _record_lines(yaml_text) if yaml_text else None

    def where(pos, col):
        if lines is not None:
            return {"row": lines[pos] if pos < len(lines) else None, "column": f"interviews[{pos}].{col}"}
        return {"row": pos + 2, "column": col}

    for col in REQUIRED:
        if col not in log.columns:
            report.add("missing_column", f"The interview log needs a {col!r} column.", file=file, column=col)
    if not report.ok:
        return report
    text = log.astype(object).where(log.notna(), "").astype(str).apply(lambda s: s.str.strip())
    today = dt.date.today()
    known_items = {i.id for i in framework.items} if framework is not None else None
    languages = set(getattr(framework, "languages", []) or [])
    columns = {c: text[c].tolist() for c in text.columns}     # plain lists: a pandas row per record was slow
    for pos in range(len(text)):
        row = {c: values[pos] for c, values in columns.items()}
        for col in REQUIRED:
            if not row[col]:
                report.add("missing_value", f"Interview on {_where_text(lines, pos)} has no {col}.", file=file,
                           **where(pos, col))
        if row["date"]:
            try:
                day = dt.date.fromisoformat(row["date"])
            except ValueError:
                report.add("invalid_date", f"{row['date']!r} is not a date (write YYYY-MM-DD).", file=file,
                           value=row["date"], rule="date YYYY-MM-DD", **where(pos, "date"))
            else:
                if day > today:
                    report.add("future_date", f"Interview date {row['date']} is in the future.", file=file,
                               value=row["date"], **where(pos, "date"))
        if row["problem_type"] and row["problem_type"] not in PROBLEM_TYPES:
            report.add("out_of_range",
                       f"problem_type {row['problem_type']!r} is not one of {', '.join(PROBLEM_TYPES)}.",
                       file=file, value=row["problem_type"], rule="one of " + "|".join(PROBLEM_TYPES),
                       **where(pos, "problem_type"))
        if known_items is not None and row["item"] and row["item"] not in known_items:
            report.add("unknown_item", f"Item {row['item']!r} is not in the framework.", file=file,
                       value=row["item"], **where(pos, "item"))
        if languages and row["language"] and row["language"] not in languages:
            report.add("undeclared_language", f"Language {row['language']!r} is not declared in framework.yaml.",
                       file=file, value=row["language"], severity="warning", **where(pos, "language"))
    return report


def _where_text(lines, pos):
    return f"line {lines[pos]}" if lines is not None and pos < len(lines) else f"row {pos + 2}"


def _record_lines(text: str) -> list[int]:
    """1-based YAML line of each record of a log (for problem locations)."""
    import yaml

    node = yaml.compose(text)
    if isinstance(node, yaml.MappingNode):
        node = next((v for k, v in node.value if getattr(k, "value", None) == "interviews"), None)
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [child.start_mark.line + 1 for child in node.value]


def load_interviews(path_or_frame, framework=None) -> pd.DataFrame:
    """Read and check a log; raises ``InputError`` listing every error. Returns one row per interview with
    ``date`` as text (YYYY-MM-DD) and the optional columns present (blank when not given)."""
    log = path_or_frame if isinstance(path_or_frame, pd.DataFrame) else read_interviews(path_or_frame)
    check_interviews(log, framework).raise_if_errors()
    out = log.astype(object).where(log.notna(), "").astype(str).apply(lambda s: s.str.strip())
    for col in INTERVIEW_COLUMNS + OPTIONAL_COLUMNS:
        if col not in out:
            out[col] = ""
    return out


def summarise(log: pd.DataFrame, min_reports: int = 2) -> pd.DataFrame:
    """One row per item: item, n_interviews, n_problems, languages (sorted, ';'-joined), problems
    (type:count, most frequent first), changes (the distinct changes made, ' | '-joined), last_date and
    flagged (True when at least ``min_reports`` interviews found the same kind of problem)."""
    log = load_interviews(log) if not isinstance(log, pd.DataFrame) else log
    rows = []
    for item, block in log.groupby("item", sort=False):
        problems = block.loc[block["problem_type"] != "none", "problem_type"].value_counts()
        changes = [c for c in dict.fromkeys(block["change_made"]) if c]
        rows.append({"item": item, "n_interviews": len(block), "n_problems": int(problems.sum()),
                     "languages": ";".join(sorted(set(block["language"]))),
                     "problems": ", ".join(f"{k}:{v}" for k, v in problems.items()),
                     "changes": " | ".join(changes), "last_date": max(block["date"]),
                     "flagged": bool(len(problems) and problems.max() >= min_reports)})
    return pd.DataFrame(rows, columns=["item", "n_interviews", "n_problems", "languages", "problems", "changes",
                                       "last_date", "flagged"])


def interview_history(framework, log, *, by: str = "cognitive interviews", save: bool = False):
    """A copy of ``framework`` whose items carry the interview findings in their history.

    Per item interviewed: a ``cognitively_tested`` entry dated at the last interview, whose reason says how
    many interviews in which languages found which problems, with ``interviews`` (the counts) as an extra key;
    and, when a change was made, a ``revised`` entry naming the change. Items without interviews and the
    framework passed in are unchanged; ``save=True`` writes the copy back (``design.saving.save_framework``).
    """
    from measurekit.design.models import HistoryEntry
    from measurekit.design.saving import save_framework

    log = load_interviews(log, framework)
    fw = framework.model_copy(deep=True)
    known = {i.id for i in fw.items}
    for row in summarise(log).to_dict("records"):
        if row["item"] not in known:
            continue
        item = fw.item(row["item"])
        found = f"problems found: {row['problems']}" if row["problems"] else "no problems found"
        item.history.append(HistoryEntry(
            status="cognitively_tested", date=row["last_date"], by=by,
            reason=f"{row['n_interviews']} cognitive interview(s) in {row['languages'].replace(';', ', ')}; {found}.",
            interviews={"n": int(row["n_interviews"]), "n_problems": int(row["n_problems"]),
                        "problems": row["problems"], "languages": row["languages"]}))
        if row["changes"]:
            item.history.append(HistoryEntry(status="revised", date=row["last_date"], by=by,
                                             reason=f"Changed after cognitive interviews: {row['changes']}"))
    if save:
        save_framework(fw)
    return fw


def item_history(framework, item: str, interviews=None, content_validity=None) -> pd.DataFrame:
    """One item's whole record, oldest first: its history entries, each cognitive interview, and the content
    validity numbers per rater group. Columns: date, kind (history / interview / content validity), status,
    who, what (the reason, or what was understood and the problem), change."""
    it = framework.item(item)
    rows = [{"date": h.date, "kind": "history", "status": h.status, "who": h.by, "what": h.reason, "change": ""}
            for h in it.history]
    if interviews is not None:
        log = load_interviews(interviews) if not isinstance(interviews, pd.DataFrame) else interviews
        for r in log[log["item"] == item].itertuples(index=False):
            what = f"[{r.language}] {r.probe} -> {r.understood}".strip(" ->")
            rows.append({"date": r.date, "kind": "interview", "status": r.problem_type,
                         "who": r.participant_group, "what": what, "change": r.change_made})
    if content_validity is not None:
        t = content_validity.items
        for r in t[t["item"] == item].itertuples(index=False):
            rows.append({"date": "", "kind": "content validity", "status": "flagged" if r.flagged else "ok",
                         "who": f"{r.group} raters (n={r.n_raters})",
                         "what": f"I-CVI {r.i_cvi:.2f}, k* {r.kappa:.2f} ({r.adequacy}), clarity "
                                 + ("-" if pd.isna(r.clarity_cvi) else f"{r.clarity_cvi:.2f}"),
                         "change": r.reason})
    frame = pd.DataFrame(rows, columns=["date", "kind", "status", "who", "what", "change"])
    order = np.argsort(frame["date"].replace("", "9999").to_numpy(), kind="stable")
    return frame.iloc[order].reset_index(drop=True)
