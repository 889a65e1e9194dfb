"""Self-contained HTML pages: the Jinja2 templates of the board pack's pages, and a small builder for the
trial report.

Everything is inline: CSS in a <style> block, matplotlib plots as base64 PNG (``figure_html``) and
charts drawn as SVG inline (``figure_svg``, see :mod:`measurekit.publish.svg`), no scripts, no web
fonts, so the file opens on a machine with no network and can be e-mailed as one attachment.

The briefings, family pages and specification sheets are rendered by :func:`render` from the templates in
``measurekit/publish/templates/`` (package data), with autoescaping on: every text is escaped unless it is
markup this package made (SVG charts, wrapped in ``markupsafe.Markup``).

Fonts: pages name system fonts and, for every language of the framework, Noto fonts that cover its script
(:func:`font_css`); on Debian/Ubuntu they come from ``fonts-noto-core`` (Latin, Bengali, Gurmukhi, Devanagari,
Arabic: Noto Naskh Arabic, Urdu: Noto Nastaliq Urdu) and ``fonts-noto-cjk`` (Chinese, Japanese, Korean).
"""
from __future__ import annotations

import base64
import datetime as _dt
import functools
import html
import io
from dataclasses import dataclass, field

import pandas as pd

FONT_STACK = "system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',Arial,sans-serif"
CSS = "\nbody{font-family:" + FONT_STACK + ";margin:0;color:#1b1b1b;line-height:1.45}" + """
header{background:#1d3557;color:#fff;padding:1.2rem 2rem}
header h1{margin:0 0 .3rem 0;font-size:1.6rem}
main{max-width:1100px;margin:0 auto;padding:1rem 2rem 3rem}
nav ol{columns:2;font-size:.95rem}
nav li{margin:.15rem 0}
nav a{display:inline-block;min-height:24px;line-height:24px}
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
img,figure svg{max-width:100%;height:auto}
.muted{color:#595959;font-size:.85rem}
a{color:#1d4f91}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:.6rem;margin:.6rem 0}
.card{border:1px solid #c8d1dc;border-radius:6px;padding:.5rem .7rem;break-inside:avoid}
.card h3{font-size:.95rem;margin:0 0 .25rem 0;color:#1d3557}
.card .big{font-size:1.6rem;font-weight:700;color:#1b1b1b}
.card p{margin:.15rem 0;font-size:.85rem}
.key{font-size:.85rem;margin:.4rem 0;padding:0;list-style:none}
.key li{margin:.1rem 0}
.verdict{background:#eef4fb;border-left:4px solid #1d4f91;padding:.5rem .8rem;margin:.6rem 0}
.analysts{font-size:.85rem}
[dir=rtl]{text-align:right}
@media print{
  @page{size:A4;margin:11mm 12mm}
  html{font-size:8.6pt}
  body{line-height:1.25;-webkit-print-color-adjust:exact;print-color-adjust:exact}
  .cards{grid-template-columns:repeat(3,1fr);gap:.3rem;margin:.3rem 0}
  .card{padding:.25rem .45rem}
  .card .big{font-size:1.35rem;margin:0}
  figure{margin:.3rem 0;text-align:center}
  figure img,figure svg{max-width:88%}
  figcaption{text-align:left}
  ul{margin:.2rem 0;padding-left:1.2rem}
  p{margin:.25rem 0}
  .note{margin:.3rem 0;padding:.2rem .6rem}
  .cols{columns:2;column-gap:1.2rem;font-size:.92em}
  .cols h2,.cols h3{break-after:avoid;column-span:none}
  header{padding:.4rem .8rem}
  header h1{font-size:13pt;margin:0}
  main{max-width:none;padding:0}
  h2{font-size:11pt;margin:.45rem 0 .2rem;break-after:avoid}
  h3{font-size:9.5pt;margin:.3rem 0 .1rem;break-after:avoid}
  figure,.card,table,blockquote,.keep{break-inside:avoid}
  section{margin-top:.5rem}
  .page-break{break-before:page}
  nav{display:none}
}
"""


def figure_to_data_uri(fig, dpi: int = 110) -> str:
    """Render a matplotlib figure to a ``data:image/png;base64,...`` URI and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(fig, alt: str, caption: str = "", dpi: int = 110, width: str = "") -> str:
    """A chart as ``<figure>`` with alt text (WCAG 1.1.1) and an optional visible caption."""
    uri = figure_to_data_uri(fig, dpi=dpi)
    style = f" style='width:{width}'" if width else ""
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f"<figure><img alt='{html.escape(alt, quote=True)}' src='{uri}'{style}>{cap}</figure>"


def figure_svg(svg: str, caption: str = "") -> str:
    """An inline SVG chart (already named by its aria-label and title) as ``<figure>`` with an optional caption."""
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f"<figure>{svg}{cap}</figure>"


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
    def figure(section: Section, fig, caption: str = "", alt: str = "") -> None:
        section.parts.append(figure_html(fig, alt or caption or "figure", caption))

    @staticmethod
    def raw(section: Section, markup: str) -> None:
        """Add ready-made (already escaped) HTML."""
        section.parts.append(markup)

    def render(self) -> str:
        toc = "".join(f"<li><a href='#{s.anchor}'>{html.escape(s.title)}</a></li>" for s in self.sections)
        body = "".join(
            f"<section id='{s.anchor}'><h2>{html.escape(s.title)}</h2>{''.join(s.parts)}</section>"
            for s in self.sections
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


# Noto fonts by the script of a language (ISO 639-1 code): every one is in Debian's fonts-noto-core except CJK
# (fonts-noto-cjk). A language not listed here is written in Latin, Greek or Cyrillic (Noto Sans covers them).
SCRIPT_FONTS = {
    "ur": ("Noto Nastaliq Urdu", "Noto Naskh Arabic"), "ar": ("Noto Naskh Arabic", "Noto Sans Arabic"),
    "fa": ("Noto Naskh Arabic", "Noto Sans Arabic"), "ps": ("Noto Naskh Arabic", "Noto Sans Arabic"),
    "ckb": ("Noto Naskh Arabic", "Noto Sans Arabic"), "sd": ("Noto Naskh Arabic", "Noto Sans Arabic"),
    "bn": ("Noto Sans Bengali", "Noto Serif Bengali"), "pa": ("Noto Sans Gurmukhi",),
    "hi": ("Noto Sans Devanagari",), "ne": ("Noto Sans Devanagari",), "mr": ("Noto Sans Devanagari",),
    "gu": ("Noto Sans Gujarati",), "ta": ("Noto Sans Tamil",), "te": ("Noto Sans Telugu",),
    "si": ("Noto Sans Sinhala",), "ti": ("Noto Sans Ethiopic",), "am": ("Noto Sans Ethiopic",),
    "he": ("Noto Sans Hebrew",), "yi": ("Noto Sans Hebrew",), "th": ("Noto Sans Thai",),
    "zh": ("Noto Sans CJK SC",), "ja": ("Noto Sans CJK JP",), "ko": ("Noto Sans CJK KR",),
    "ku": ("Noto Sans",), "el": ("Noto Sans",), "ru": ("Noto Sans",), "uk": ("Noto Sans",), "bg": ("Noto Sans",),
}


def fonts_for(languages) -> dict[str, tuple[str, ...]]:
    """Language -> the Noto fonts named for its script (Noto Sans for Latin, Greek and Cyrillic)."""
    return {str(lang): SCRIPT_FONTS.get(str(lang).split("-")[0], ("Noto Sans",)) for lang in languages}


def font_css(languages) -> str:
    """CSS naming, for each language, fonts that cover its script (``:lang(bn){font-family:...}``)."""
    rules = []
    for lang, fonts in fonts_for(languages).items():
        if fonts == ("Noto Sans",):
            continue
        names = ",".join(f"'{f}'" for f in fonts)
        rules.append(f":lang({lang}){{font-family:{names},{FONT_STACK}}}")
    return "\n".join(rules)


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("measurekit.publish", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True)


def render(template: str, **context) -> str:
    """Render one of the package's templates (``templates/<template>``) with autoescaping on."""
    return _environment().get_template(template).render(css=CSS, **context)


def markup(text: str):
    """Markup this package made (an SVG chart): inserted into a template as it is, not escaped."""
    from markupsafe import Markup

    return Markup(text)
