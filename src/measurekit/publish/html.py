"""Self-contained HTML pages: the Jinja2 templates of the board pack's pages and their shared CSS.

Everything is inline: CSS in a <style> block, charts drawn as SVG inline (:mod:`measurekit.publish.svg`),
no scripts, no web fonts, so the file opens on a machine with no network and can be e-mailed as one attachment.

The briefings, family pages and specification sheets are rendered by :func:`render` from the templates in
``measurekit/publish/templates/`` (package data), with autoescaping on: every text is escaped unless it is
markup this package made (SVG charts, wrapped in ``markupsafe.Markup``).

Fonts: pages name system fonts and, for every language of the framework, Noto fonts that cover its script
(:func:`font_css`); on Debian/Ubuntu they come from ``fonts-noto-core`` (Latin, Bengali, Gurmukhi, Devanagari,
Arabic: Noto Naskh Arabic, Urdu: Noto Nastaliq Urdu) and ``fonts-noto-cjk`` (Chinese, Japanese, Korean).
"""
from __future__ import annotations

import functools

FONT_STACK = "system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',Arial,sans-serif"
CSS = "\nbody{font-family:" + FONT_STACK + ";margin:0;color:#1b1b1b;line-height:1.45}" + """
header{background:#1d3557;color:#fff;padding:1.2rem 2rem}
header h1{margin:0 0 .3rem 0;font-size:1.6rem}
main{max-width:1100px;margin:0 auto;padding:1rem 2rem 3rem}
nav li{margin:.15rem 0}
nav a{display:inline-block;min-height:24px;line-height:24px}
section{border-top:1px solid #ddd;margin-top:1.5rem;padding-top:.5rem}
h2{color:#1d3557}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.88rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th{background:#eef2f7}
td:first-child,th:first-child{text-align:left}
.note{background:#fff7e6;border-left:4px solid #e0a800;padding:.4rem .8rem;margin:.6rem 0}
figure{margin:.8rem 0}
figcaption{font-size:.85rem;color:#555}
figure svg{max-width:100%;height:auto}
.muted{color:#595959;font-size:.85rem}
a{color:#1d4f91}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:.6rem;margin:.6rem 0}
.card{border:1px solid #c8d1dc;border-radius:6px;padding:.5rem .7rem;break-inside:avoid}
.card h3{font-size:.95rem;margin:0 0 .25rem 0;color:#1d3557}
.card .big{font-size:1.6rem;font-weight:700;color:#1b1b1b}
.card p{margin:.15rem 0;font-size:.85rem}
.key{font-size:.85rem;margin:.4rem 0;padding:0;list-style:none}
.key li{margin:.1rem 0}
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
  figure svg{max-width:88%}
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
  nav{display:none}
}
"""


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
