"""A common base for result objects: tidy tables with a notebook view and plain exports."""
from __future__ import annotations

import dataclasses
import html
from typing import Any

import pandas as pd


class Result:
    """Base class for results made of named DataFrames and scalars.

    Subclasses are dataclasses. ``to_dict()`` returns every field (tables as lists of
    records); ``to_frame()`` returns the main table (the first DataFrame field unless
    ``_main`` names another); ``_repr_html_`` shows the title, notes and every table.
    """

    _title: str = ""
    _main: str | None = None

    def _fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.name.startswith("_")}

    def tables(self) -> dict[str, pd.DataFrame]:
        return {k: v for k, v in self._fields().items() if isinstance(v, pd.DataFrame)}

    def to_frame(self) -> pd.DataFrame:
        tables = self.tables()
        if self._main:
            return tables[self._main].copy()
        if not tables:
            raise ValueError(f"{type(self).__name__} holds no table")
        return next(iter(tables.values())).copy()

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
            rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in scalars.items())
            parts.append(f"<table>{rows}</table>")
        return "\n".join(parts)

    def __repr__(self) -> str:
        names = ", ".join(self._fields())
        return f"<{type(self).__name__}: {names}>"
