"""A small builder for self-contained HTML reports (the trial report).

Everything is inline: CSS in a <style> block, plots as base64 PNG, no scripts, no web fonts,
so the file opens on a machine with no network and can be e-mailed as one attachment.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import io
from dataclasses import dataclass, field

import pandas as pd

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:0;color:#1b1b1b;line-height:1.45}
header{background:#1d3557;color:#fff;padding:1.2rem 2rem}
header h1{margin:0 0 .3rem 0;font-size:1.6rem}
main{max-width:1100px;margin:0 auto;padding:1rem 2rem 3rem}
nav ol{columns:2;font-size:.95rem}
section{border-top:1px solid #ddd;margin-top:1.5rem;padding-top:.5rem}
h2{color:#1d3557}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.88rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th{background:#eef2f7}
td:first-child,th:first-child{text-align:left}
.note{background:#fff7e6;border-left:4px solid #e0a800;padding:.4rem .8rem;margin:.6rem 0}
.ok{background:#eaf7ee;border-left:4px solid #2e7d32;padding:.4rem .8rem;margin:.6rem 0}
.bad{background:#fdecea;border-left:4px solid #c62828;padding:.4rem .8rem;margin:.6rem 0}
figure{margin:.8rem 0}
figcaption{font-size:.85rem;color:#555}
img{max-width:100%}
.muted{color:#666;font-size:.85rem}
"""


def figure_to_data_uri(fig, dpi: int = 110) -> str:
    """Render a matplotlib figure to a ``data:image/png;base64,...`` URI and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def table_html(frame: pd.DataFrame, digits: int = 3, index: bool = False, max_rows: int = 80) -> str:
    """A DataFrame as an HTML table with rounded numbers and blank missing values."""
    def fmt(x):
        if isinstance(x, float):
            return f"{x:.{digits}f}" if abs(x) < 1e6 else f"{x:.3g}"
        return str(x)

    shown = frame.head(max_rows)
    out = shown.to_html(index=index, na_rep="", float_format=lambda x: fmt(x), border=0, escape=True)
    if len(frame) > max_rows:
        out += f"<p class='muted'>Showing {max_rows} of {len(frame)} rows.</p>"
    return out


@dataclass
class Section:
    title: str
    parts: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")


@dataclass
class HtmlReport:
    """Collect sections of text, tables and figures; ``render()`` returns one HTML string."""

    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        s = Section(title)
        self.sections.append(s)
        return s

    @staticmethod
    def text(section: Section, text: str, kind: str = "") -> None:
        cls = f" class='{kind}'" if kind else ""
        section.parts.append(f"<p{cls}>{html.escape(text)}</p>")

    @staticmethod
    def table(section: Section, frame: pd.DataFrame, caption: str = "", **kwargs) -> None:
        if caption:
            section.parts.append(f"<p><b>{html.escape(caption)}</b></p>")
        section.parts.append(table_html(frame, **kwargs))

    @staticmethod
    def figure(section: Section, fig, caption: str = "") -> None:
        uri = figure_to_data_uri(fig)
        section.parts.append(
            f"<figure><img alt='{html.escape(caption or 'figure')}' src='{uri}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def render(self) -> str:
        toc = "".join(f"<li><a href='#{s.anchor}'>{html.escape(s.title)}</a></li>" for s in self.sections)
        body = "".join(
            f"<section id='{s.anchor}'><h2>{html.escape(s.title)}</h2>{''.join(s.parts)}</section>" for s in self.sections
        )
        stamp = _dt.datetime.now().strftime("%d %B %Y %H:%M")
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(self.title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{html.escape(self.title)}</h1><div>{html.escape(self.subtitle)}</div></header>"
            f"<main><p class='muted'>Made by measurekit on {stamp}.</p><nav><ol>{toc}</ol></nav>{body}</main>"
            "</body></html>"
        )
