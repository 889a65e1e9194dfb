"""A common base for result objects: tidy tables with a notebook view and plain exports."""
from __future__ import annotations

import dataclasses
import html
from typing import TYPE_CHECKING, Any

import pandas as pd


class Result:
    """Base class for results made of named DataFrames and scalars.

    Subclasses are dataclasses. Every result has ``.table``, its main tidy view: the field named
    ``table`` when there is one, else the field ``_main`` names (``AlphaResult.total``,
    ``CFAResult.estimates``...), else the first DataFrame field. ``to_frame()`` returns a copy of it;
    ``to_dict()`` returns every field (tables as lists of records); ``_repr_html_`` shows the title,
    notes and every table. Functions whose whole answer is one table (``score``, ``board_table``,
    ``check_items``) return that DataFrame itself rather than a wrapper around it.
    """

    _title: str = ""
    _main: str | None = None

    def _fields(self) -> dict[str, Any]:
        if not dataclasses.is_dataclass(self):  # every subclass is a dataclass (see the class docstring)
            raise TypeError(f"{type(self).__name__} is not a dataclass")
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.name.startswith("_")}

    def tables(self) -> dict[str, pd.DataFrame]:
        return {k: v for k, v in self._fields().items() if isinstance(v, pd.DataFrame)}

    def _main_table(self) -> pd.DataFrame:
        if self._main:
            main = getattr(self, self._main)
            return main.to_frame() if isinstance(main, pd.Series) else main
        tables = self.tables()
        if not tables:
            raise ValueError(f"{type(self).__name__} holds no table")
        return next(iter(tables.values()))

    if TYPE_CHECKING:
        # For type checkers: every result has ``.table``; any other attribute must be declared by the subclass, so a
        # misspelt attribute is a type error.
        table: pd.DataFrame
    else:
        def __getattr__(self, name: str):
            # Only reached when normal lookup fails: results with a field named ``table`` keep it.
            if name == "table":
                return self._main_table()
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def to_frame(self) -> pd.DataFrame:
        return self._main_table().copy()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self._fields().items():
            if isinstance(v, pd.DataFrame):
                out[k] = v.reset_index().to_dict(orient="records") if v.index.name else v.to_dict(orient="records")
            elif isinstance(v, pd.Series):
                out[k] = v.to_dict()
            elif isinstance(v, Result):
                out[k] = v.to_dict()
            else:
                out[k] = v
        return out

    def notes(self) -> list[str]:
        """Plain-English caveats and warnings attached to this result."""
        return list(getattr(self, "warnings", []) or [])

    def _repr_html_(self) -> str:
        title = self._title or type(self).__name__
        parts = [f"<h4>{html.escape(title)}</h4>"]
        for note in self.notes():
            parts.append(f"<p style='color:#8a4b00'>&#9888; {html.escape(str(note))}</p>")
        for name, table in self.tables().items():
            parts.append(f"<p><b>{html.escape(name)}</b></p>")
            parts.append(table.to_html(float_format=lambda x: f"{x:.4g}", na_rep="", max_rows=60))
        scalars = {k: v for k, v in self._fields().items()
                   if isinstance(v, (int, float, str, bool)) and k != "warnings"}
        if scalars:
            rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
                           for k, v in scalars.items())
            parts.append(f"<table>{rows}</table>")
        return "\n".join(parts)

    def __repr__(self) -> str:
        names = ", ".join(self._fields())
        return f"<{type(self).__name__}: {names}>"
