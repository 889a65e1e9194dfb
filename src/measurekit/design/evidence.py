"""Voice evidence: coded quotes (CSV) and a REFI-QDA codebook (.qdc) from NVivo, Taguette or QualCoder.

quotes.csv columns: ``id``, ``text``, ``voice_group``, ``setting``, ``consent_to_quote`` (yes/no),
``themes`` (theme codes separated by ``;``). The codebook gives each theme code a name and a
description; theme codes are the first word of a code's name (``T01 Reading and stories``), or
the whole name when it has no code. A REFI-QDA project (``.qdpx``, the zip NVivo, ATLAS.ti, MAXQDA and
QualCoder export) can be read directly: its codebook is taken from the ``project.qde`` inside.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from measurekit.problems import InputError, ProblemReport

QUOTE_COLUMNS = ["id", "text", "voice_group", "setting", "consent_to_quote", "themes"]


@dataclass
class Evidence:
    """Quotes (one row per quote, ``themes`` as a list) and themes (code, name, description, parent)."""

    quotes: pd.DataFrame
    themes: pd.DataFrame

    def consented_quotes(self) -> pd.DataFrame:
        """Quotes whose speakers agreed to be quoted: the only free text allowed in published outputs."""
        return self.quotes[self.quotes["consent_to_quote"]]


def read_quotes(path) -> pd.DataFrame:
    """Read coded quotes; raises ``InputError`` listing every problem (missing columns, blank ids/text/voice
    groups, duplicate ids, consent not yes/no). Returns the quotes with ``consent_to_quote`` as bool and
    ``themes`` as a list of theme codes."""
    path = Path(path)
    if not path.exists():
        raise InputError.of("missing_file", f"Quotes file {path} does not exist.", file=str(path))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    report = ProblemReport(title=f"Quotes {path.name}")
    for col in QUOTE_COLUMNS:
        if col not in frame.columns:
            report.add("missing_column", f"{path.name} needs a {col!r} column.", file=path.name, column=col)
    report.raise_if_errors()
    frame["id"] = frame["id"].str.strip()
    for col in ("id", "text", "voice_group"):
        for i in frame.index[frame[col].str.strip() == ""]:
            report.add("missing_value", f"Quote on line {i + 2} has no {col}.", file=path.name, row=i + 2, column=col)
    for i in frame.index[frame["id"].duplicated(keep=False) & (frame["id"] != "")]:
        # every cell was read as text (dtype=str): !s states it for the type checker and prints the same
        report.add("duplicate_id", f"Quote id {frame.at[i, 'id']!s} is used twice.", file=path.name, row=i + 2,
                   column="id")
    consent = frame["consent_to_quote"].str.strip().str.lower()
    for i in frame.index[~consent.isin(["yes", "no", "true", "false", "1", "0", "y", "n"])]:
        report.add("unknown_code", "consent_to_quote must be yes or no.", file=path.name, row=i + 2,
                   column="consent_to_quote", value=frame.at[i, "consent_to_quote"])
    report.raise_if_errors()
    frame["consent_to_quote"] = consent.isin(["yes", "true", "1", "y"])
    frame["themes"] = frame["themes"].map(lambda s: [t.strip() for t in s.split(";") if t.strip()])
    return frame


def read_codebook(path) -> pd.DataFrame:
    """Themes from a REFI-QDA codebook (``.qdc``) or project (``.qdpx``).

    Columns: code (theme code used in quotes.csv and items.yaml), name (the code's full name), description,
    parent (name of the enclosing code, None at the top), guid, codable (False for grouping codes).
    """
    path = Path(path)
    if not path.exists():
        raise InputError.of("missing_file", f"Codebook {path} does not exist.", file=str(path))
    try:
        if path.suffix.lower() == ".qdpx":
            import zipfile

            try:
                with zipfile.ZipFile(path) as zf:
                    name = next((n for n in zf.namelist() if n.lower().endswith(".qde")), None)
                    if name is None:
                        raise InputError.of("unreadable_file", f"{path.name} holds no project.qde; is it a REFI-QDA "
                                            "project (.qdpx)?", file=path.name)
                    root = ET.fromstring(zf.read(name))
            except zipfile.BadZipFile as exc:
                raise InputError.of("unreadable_file", f"{path.name} is not a zip archive, so not a REFI-QDA project "
                                     "(.qdpx).", file=path.name) from exc
        else:
            root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputError.of("unreadable_file", f"{path.name} is not valid XML: {exc}", file=path.name) from exc
    rows = []

    def walk(node, parent):
        for child in node:
            tag = child.tag.split("}")[-1]
            if tag != "Code":
                continue
            name = child.get("name", "")
            desc = next((d.text or "" for d in child if d.tag.split("}")[-1] == "Description"), "")
            first = name.split(" ", 1)[0]
            code = first if any(ch.isdigit() for ch in first) else name
            rows.append({"code": code, "name": name, "description": desc.strip(), "parent": parent,
                         "guid": child.get("guid", ""), "codable": child.get("isCodable", "true") == "true"})
            walk(child, name)

    codes = next((n for n in root.iter() if n.tag.split("}")[-1] == "Codes"), None)
    if codes is None:
        raise InputError.of("unreadable_file", f"{path.name} has no <Codes> element; is it a REFI-QDA codebook (.qdc)?",
                            file=path.name)
    walk(codes, None)
    return pd.DataFrame(rows)


def load_evidence(framework_or_path) -> Evidence:
    """Read ``evidence/quotes.csv`` and ``evidence/codebook.qdc`` of a framework folder."""
    folder = Path(getattr(framework_or_path, "path", None) or framework_or_path)
    folder = folder / "evidence" if (folder / "evidence").is_dir() else folder
    quotes = read_quotes(folder / "quotes.csv")
    qdc = folder / "codebook.qdc"
    if qdc.exists():
        themes = read_codebook(qdc)
        themes = themes[themes["codable"]].reset_index(drop=True)
    else:
        codes = sorted({t for ts in quotes["themes"] for t in ts})
        themes = pd.DataFrame({"code": codes, "name": codes, "description": "", "parent": None})
    return Evidence(quotes, themes)


@dataclass
class FrameworkEvidence:
    """Everything a framework's ``evidence/`` folder holds, read and checked once (:func:`read_framework_evidence`).

    ``folder``: the evidence folder (None when the framework has none). ``voice``: the coded quotes and themes
    (``quotes.csv``, ``codebook.qdc``) or None without ``quotes.csv``. ``ratings``: the content-validity panel's
    ratings (``content_validity.csv``, as text, as ``content_validity.read_ratings`` gives them) or None.
    ``interviews``: the cognitive-interview log (``interviews.csv``, checked against the framework's items, as
    ``interviews.load_interviews`` gives it) or None. Each part is None when its file is not there.
    """

    folder: Path | None = None
    voice: Evidence | None = None
    ratings: pd.DataFrame | None = None
    interviews: pd.DataFrame | None = None


def read_framework_evidence(framework, *, report: ProblemReport | None = None) -> FrameworkEvidence:
    """Read the ``evidence/`` folder beside a framework's ``framework.yaml`` once: quotes (and codebook),
    content-validity ratings and the cognitive-interview log, each through its own checks (the codes of
    ``read_quotes``, ``read_codebook``, ``content_validity.check_ratings``, ``interviews.check_interviews``).

    ``load_framework`` calls it with its ``report`` (problems are added there, nothing is raised) and the loaded
    framework keeps the result, which later calls return without reading the files again. Without ``report``,
    every error of every file is raised together as one ``InputError``. A framework without a folder on disk,
    or without an ``evidence/`` folder, gives an empty result. The files are only read.
    """
    from measurekit.design.content_validity import RATINGS_FILE, check_ratings, read_ratings
    from measurekit.design.interviews import check_interviews, find_log, load_interviews, read_interviews

    kept = getattr(framework, "_evidence", None)
    if report is None and kept is not None:
        return kept
    base = getattr(framework, "path", None)
    folder = Path(base) / "evidence" if base else None
    out = FrameworkEvidence(folder=folder if folder is not None and folder.is_dir() else None)
    problems = ProblemReport(title=f"Framework evidence {folder}")

    def part(read):
        try:
            return read()
        except InputError as exc:
            problems.extend(exc.report)
            return None

    if out.folder is not None and (out.folder / "quotes.csv").is_file():
        out.voice = part(lambda: load_evidence(out.folder))
    log = find_log(base) if base else None
    if base and log is not None:
        name = log.relative_to(base).as_posix()
        frame = part(lambda: read_interviews(log))
        if frame is not None:
            found = check_interviews(frame, framework, file=name)
            problems.extend(found)
            if found.ok:
                out.interviews = load_interviews(frame)
    if out.folder is not None and (out.folder / RATINGS_FILE).is_file():
        ratings = part(lambda: read_ratings(out.folder / RATINGS_FILE))
        if ratings is not None:
            found = check_ratings(ratings, framework, file=f"evidence/{RATINGS_FILE}")
            problems.extend(found)
            if found.ok:
                out.ratings = ratings
    if report is not None:
        report.extend(problems)
    else:
        problems.raise_if_errors()
    return out
