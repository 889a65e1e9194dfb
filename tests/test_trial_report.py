"""The trial report (issues 25 and 31): a pure function of the run state, rendered from a Jinja2 template with
autoescaping, charts as inline SVG drawn from the numbers, item cards filled, a page that fits a laptop screen
and prints on A4 at a readable size."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def trial(bundled_run):
    """The shared run of the main job on a copy of the bundled data (conftest ``bundled_run``): the state, its
    output folder and the data copy."""
    return bundled_run.state, bundled_run.out, bundled_run.data


class Cards(HTMLParser):
    """An independent reader of the page's item cards: card title -> {label: value}."""

    def __init__(self):
        super().__init__()
        self.cards: dict[str, dict[str, str]] = {}
        self._card = self._tag = None
        self._dt = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "article" and "card" in (a.get("class") or ""):
            self._card = {}
        elif self._card is not None and tag in ("h3", "dt", "dd"):
            self._tag = tag

    def handle_endtag(self, tag):
        if tag == "article" and self._card is not None:
            self.cards[self._card.pop("_title")] = self._card
            self._card = None
        if tag == self._tag:
            self._tag = None

    def handle_data(self, data):
        if self._card is None or self._tag is None:
            return
        if self._tag == "h3":
            self._card["_title"] = self._card.get("_title", "") + data
        elif self._tag == "dt":
            self._dt = data
        else:
            self._card[self._dt] = self._card.get(self._dt, "") + data


def test_item_cards_carry_the_loading_and_item_rest_correlation_of_every_item(trial):
    state, out, _ = trial
    html = (out / "internal" / "trial_report.html").read_text(encoding="utf-8")
    parser = Cards()
    parser.feed(html)
    cards = {title.split(" ")[0]: fields for title, fields in parser.cards.items()}
    items = [i.id for i in state.framework.items]
    assert sorted(cards) == sorted(items) and len(items) == 16
    r_drop = state.measurement.item_analysis.items["r_drop"]
    L = state.measurement.efa.loadings
    for item, fields in cards.items():
        loading = next(v for k, v in fields.items() if k.startswith("Standardised loading"))
        rest = next(v for k, v in fields.items() if k.startswith("Item-rest correlation"))
        # the number on the card is the item analysis' r_drop and the item's largest EFA loading (its own factor)
        assert float(rest) == pytest.approx(r_drop[item], abs=0.005), item
        assert float(loading) == pytest.approx(L.loc[item].abs().max(), abs=0.005), item
        assert 0.3 < float(loading) < 1 and 0.2 < float(rest) < 1


def test_report_is_a_pure_function_of_the_run_state(trial):
    """Rendered again after the run's output folder and data folder are deleted: the same page (nothing is read
    back from disk), and no time stamp or other outside state in it."""
    from measurekit.pipeline.trial_report import render_trial_report

    state, out, data = trial
    before = render_trial_report(state)
    # the run is shared with other tests: move both folders out of their paths (gone, as deleted) and back after
    gone = {folder: folder.with_name(folder.name + ".moved-away") for folder in (out, data)}
    for folder, aside in gone.items():
        folder.rename(aside)
    try:
        assert not out.exists() and not data.exists()
        assert render_trial_report(state) == before
    finally:
        for folder, aside in gone.items():
            aside.rename(folder)
    # the page written by the run differs only by the run details' row of the trial report step itself
    assert "Linkage and who responded" in before and "Made by measurekit" in before


def test_template_escapes_text_and_charts_are_inline_svg(trial, monkeypatch):
    from measurekit.pipeline import trial_report

    state, _, _ = trial
    html = trial_report.render_trial_report(state)
    assert "<img" not in html and "matplotlib" not in html and "base64" not in html
    svgs = re.findall(r"<svg [^>]*aria-label='([^']*)'", html)
    assert len(svgs) >= 6 and all(len(alt) > 40 for alt in svgs)
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")
    monkeypatch.setattr(state.framework, "title", "Ours <script>alert(1)</script> & co")
    evil = trial_report.render_trial_report(state)
    assert "<script>" not in evil and "Ours &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in evil


def test_template_is_package_data():
    import tomllib

    here = Path(__file__).resolve().parents[1]
    folder = here / "src" / "measurekit" / "pipeline" / "templates"
    patterns = tomllib.loads((here / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["measurekit"]
    for f in folder.iterdir():
        assert any(f.name.endswith(p.removeprefix("**/*")) for p in patterns), f.name


def pdf_font_sizes(pdf: Path) -> list[tuple[float, str]]:
    """(size in points, text) of every text run in a PDF: the font size times the scale of the text and
    transformation matrices."""
    from pypdf import PdfReader

    found = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
            found.append((size * scale, text.strip()))
    for page in PdfReader(str(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return found


@pytest.mark.browser
def test_report_fits_a_laptop_screen_and_prints_readably_on_a4(trial, chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    state, _, _ = trial
    from measurekit.pipeline.trial_report import write_trial_report

    page_file = write_trial_report(state, tmp_path / "trial_report.html")
    pdf = tmp_path / "trial_report.pdf"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(page_file.resolve().as_uri())
        page.wait_for_load_state("load")
        width = page.evaluate("document.documentElement.scrollWidth")
        charts = page.eval_on_selector_all("svg[role=img]", "els => els.map(e => e.getBoundingClientRect().width)")
        cards = page.eval_on_selector_all("article.card", """els => els.map(card => [...card.querySelectorAll('.field')]
            .map(f => [f.querySelector('dt').innerText, f.querySelector('dd').innerText]))""")
        page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
        browser.close()
    assert not problems
    assert width <= 1280, f"the page is {width} px wide at a 1280 px window"
    assert len(charts) >= 6 and all(w > 200 for w in charts)
    assert len(cards) == 16
    for fields in cards:
        lines = dict(fields)
        for label in ("Standardised loading", "Item-rest correlation"):
            value = next(v for k, v in lines.items() if k.startswith(label))
            assert re.fullmatch(r"-?\d\.\d\d", value.strip()), (label, value)
    sizes = pdf_font_sizes(pdf)
    assert len(sizes) > 500
    small = [(round(s, 1), t) for s, t in sizes if s < 8 - 1e-6]
    assert not small, small[:5]


def test_svg_charts_are_drawn_to_scale_and_named():
    """The chart functions the report uses: bar lengths proportional to the values, missing values drawn as
    'no data', every text escaped, the chart named by its alt text."""
    from measurekit.publish import svg

    chart = svg.bar_chart(["a <b>", "half", "none"], [100, 50, None], alt="Bars & more", axis_label="Rate",
                          lo=0, hi=100, ref=50, ref_label="All")
    widths = [float(w) for w in re.findall(r"<rect [^>]*width='([\d.]+)'", chart)]
    assert len(widths) == 2 and widths[0] == pytest.approx(2 * widths[1], rel=0.01)
    assert "no data" in chart and "a &lt;b&gt;" in chart and "<b>" not in chart
    assert "aria-label='Bars &amp; more'" in chart and "<title>Bars &amp; more</title>" in chart
    line = svg.line_chart([{"name": "x", "x": [0, 1], "y": [0, 1]}], alt="Line", x_label="X", y_label="Y",
                          x_range=(0, 1), y_range=(0, 1))
    (points,) = re.findall(r"<polyline points='([^']*)'", line)
    (x0, y0), (x1, y1) = [tuple(map(float, p.split(","))) for p in points.split()]
    assert x1 > x0 and y1 < y0                       # up and to the right (SVG y grows downwards)
    heat = svg.heat_map(["i1", "i2"], ["F1"], [[0.7], [0.1]], alt="Heat", cut=0.3)
    cells = {v: a for a, v in re.findall(r"<text ([^>]*)><tspan[^>]*>(0\.\d\d)</tspan>", heat)}
    assert "font-weight='bold'" in cells["0.70"] and "font-weight" not in cells["0.10"]     # below the cut: plain
