"""Problems found in inputs or specifications, collected into one report.

Validation never stops at the first problem: every check appends ``Problem`` records to a
``ProblemReport``; callers decide what to do with errors. Raising is for unusable input,
and the exception carries the whole report (``exc.report``).

Codes are stable strings (``"duplicate_id"``, ``"unknown_scale"``...) that tests and users can
rely on; messages are plain English and say what to do.
"""
from __future__ import annotations

import dataclasses
import html
from typing import Any, Iterable

import pandas as pd

SEVERITIES = ("error", "warning", "info")


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem.

    code: stable identifier of the kind of problem.
    message: plain-English explanation with advice.
    file: the file it was found in (name relative to the input folder), if any.
    row: 1-based data row number as a spreadsheet user sees it (header is row 1, first data row is 2),
         or None when the problem is not about one row.
    column: the column (or, for specifications, the path in the document, e.g. ``items[3].scale``).
    value: the offending value, as text.
    rule: the rule that was broken (e.g. ``enum: emerging|expected``, ``minimum: 0``).
    severity: "error", "warning" or "info".
    """

    code: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None
    rule: str | None = None
    severity: str = "error"

    def __post_init__(self):
        if self.row is not None:
            object.__setattr__(self, "row", int(self.row))
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    def location(self) -> str:
        bits = [b for b in (self.file, f"row {self.row}" if self.row is not None else None, self.column) if b]
        return ", ".join(bits) if bits else "(whole input)"

    def __str__(self) -> str:
        value = "" if self.value is None else f" [value: {self.value!r}]"
        return f"{self.severity.upper()} {self.code} at {self.location()}{value}: {self.message}"


class ProblemReport:
    """An ordered collection of problems with table, text and HTML views."""

    COLUMNS = ["severity", "code", "file", "row", "column", "value", "rule", "message"]

    def __init__(self, problems: Iterable[Problem] = (), title: str = "Problems"):
        self.problems: list[Problem] = list(problems)
        self.title = title

    def add(self, code: str, message: str, **where) -> Problem:
        p = Problem(code=code, message=message, **where)
        self.problems.append(p)
        return p

    def extend(self, other: "ProblemReport | Iterable[Problem]") -> None:
        self.problems.extend(other.problems if isinstance(other, ProblemReport) else other)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    def codes(self) -> set[str]:
        return {p.code for p in self.problems}

    def __len__(self) -> int:
        return len(self.problems)

    def __iter__(self):
        return iter(self.problems)

    def to_frame(self) -> pd.DataFrame:
        rows = [{c: getattr(p, c) for c in self.COLUMNS} for p in self.problems]
        frame = pd.DataFrame(rows, columns=self.COLUMNS)
        frame["row"] = frame["row"].astype("Int64")
        frame["value"] = frame["value"].map(lambda v: None if v is None else str(v))
        return frame

    def summary(self) -> str:
        n_err, n_warn = len(self.errors), len(self.warnings)
        return f"{self.title}: {n_err} error(s), {n_warn} warning(s)"

    def to_text(self, limit: int | None = 200) -> str:
        lines = [self.summary()]
        shown = self.problems if limit is None else self.problems[:limit]
        lines += [f"  {p}" for p in shown]
        if limit is not None and len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more (see the full report file)")
        return "\n".join(lines)

    def raise_if_errors(self, exc_type: type["InputError"] | None = None) -> None:
        if self.errors:
            raise (exc_type or InputError)(self)

    def _repr_html_(self) -> str:
        head = f"<p><b>{html.escape(self.summary())}</b></p>"
        if not self.problems:
            return head
        return head + self.to_frame().to_html(index=False, na_rep="")

    def __repr__(self) -> str:
        return self.to_text(limit=20)


class MeasurekitError(Exception):
    """Base class for errors raised by measurekit."""


class InputError(MeasurekitError, ValueError):
    """Input that cannot be used; ``.report`` holds every problem found."""

    def __init__(self, report: ProblemReport | str):
        if isinstance(report, str):
            report = ProblemReport([Problem("invalid_input", report)])
        self.report = report
        super().__init__(report.to_text(limit=50))
