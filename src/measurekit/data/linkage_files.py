"""Files of the linkage without a shared identifier: reading survey responses as received, and writing the
linkage detail into an internal folder only.

``read_responses(path, framework, table=None)``: a CSV of responses (``response_id``, identifiers as given, the
answers) with the answers typed as the schema of the framework's voice table says (``table``, default the first
declared voice table, see :func:`responses_table`); every cell that is not a whole number where one is needed
is reported (code ``wrong_type``, with row, column, value and rule). ``check_internal(folder)`` refuses an output
folder inside a folder called ``shareable`` (code ``internal_only``): the linkage detail holds names, dates of
birth and postcodes. ``write_linkage_detail(out, result)`` writes, atomically:

* ``link_matches.csv``: one row per response, how it linked or why not (``LinkageResult.matches``);
* ``review_queue.csv``: the clerical review queue, identifiers side by side, ``decision`` blank;
* ``review_waterfall.csv``: how the match weight of each pair in review adds up;
* ``linkage_by_group.csv``: match rates and share in review by group, with the flag;
* ``linkage_model.csv``: the model's m and u probabilities and match weights per comparison level.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from measurekit.problems import InputError, Problem, ProblemReport


def check_internal(folder) -> None:
    """``InputError`` (code ``internal_only``) when ``folder`` is, or is inside, a folder named ``shareable``."""
    parts = [p.lower() for p in Path(folder).resolve().parts]
    if "shareable" in parts:
        raise InputError(ProblemReport([Problem(
            "internal_only", f"{folder} is in a shareable folder, but the linkage detail holds names, dates of birth "
            "and postcodes. Write it to an internal folder (for example out/internal/linkage).", value=str(folder),
            rule="not inside a folder named 'shareable'")], title="Linkage output folder"))


def responses_table(framework, table: str | None = None):
    """The declared voice table survey responses belong to: ``table`` (which must be a voice table) or, when
    ``None``, the first voice table the framework declares (its main respondent). Raises ``InputError``:
    ``no_voice_table`` when the framework declares none, ``unknown_table`` when ``table`` is not one of them."""
    from measurekit.data.population import voice_tables

    voices = voice_tables(framework)
    if not voices:
        raise InputError.of("no_voice_table", "The framework declares no voice table (a table with kind: voice), "
                            "so there is no schema for survey responses.", column="tables",
                            rule="at least one table with kind: voice")
    if table is None:
        return voices[0]
    found = next((t for t in voices if t.name == table), None)
    if found is None:
        raise InputError.of("unknown_table", f"{table!r} is not a voice table of the framework; table= one of "
                            f"{', '.join(t.name for t in voices)}.", column="table", value=str(table),
                            rule="a declared table with kind: voice")
    return found


def read_responses(path, framework=None, table: str | None = None) -> pd.DataFrame:
    """The survey responses of ``path`` with blanks as None and item answers as whole numbers (see the module
    docstring), typed by the framework's voice table ``table`` (``None``: its first voice table). The file is
    only read."""
    from measurekit.data.schemas import table_schema

    where = Path(path).name
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(ProblemReport([Problem("missing_file", f"The responses file {str(path)!r} does not exist.",
                                                file=where)], title="Survey responses")) from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(ProblemReport([Problem("unreadable_file", f"The responses file {str(path)!r} cannot be "
                                                f"read ({type(exc).__name__}).", file=where)],
                                       title="Survey responses")) from None
    frame = frame.apply(lambda c: c.str.strip()).replace("", None)
    report = ProblemReport(title=f"Survey responses ({where})")
    if "response_id" not in frame:
        report.add("missing_column", "The responses need a response_id column.", file=where, column="response_id",
                   rule="required column")
    if framework is not None:
        for f in table_schema(responses_table(framework, table).name, framework)["fields"]:
            if f["type"] != "integer" or f["name"] not in frame:
                continue
            num = pd.to_numeric(frame[f["name"]], errors="coerce")
            bad = frame[f["name"]].notna() & (num.isna() | (num != np.round(num)))
            for i in np.flatnonzero(bad.to_numpy())[:50]:
                report.add("wrong_type", f"{f['name']} must be a whole number (an answer code).", file=where,
                           row=int(i) + 2, column=f["name"], value=str(frame[f["name"]].iloc[i]), rule="integer")
            frame[f["name"]] = num.where(~bad).round().astype("Int64")
    report.raise_if_errors()
    return frame


def write_linkage_detail(out, result) -> None:
    """Write the linkage detail files of a ``LinkageResult`` from ``link(responses=...)`` into ``out``."""
    from measurekit.core import atomic

    out = Path(out)
    atomic.write_csv(out / "link_matches.csv", result.matches)
    atomic.write_csv(out / "review_queue.csv", result.review)
    if result.waterfall is not None:
        atomic.write_csv(out / "review_waterfall.csv", result.waterfall)
    if result.by_group is not None:
        atomic.write_csv(out / "linkage_by_group.csv", result.by_group)
    if result.parameters is not None:
        atomic.write_csv(out / "linkage_model.csv", result.parameters)
