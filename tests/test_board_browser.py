"""Board-ready outputs in a real browser (issue 15): every briefing, every family page and the trial report.

One run of the main job feeds all checks. Each page is loaded in Debian's headless Chromium (the checks of
tests/pagecheck.py, shared with the other browser tests) and must: render offline (no network request, no console
error, every chart decoded), pass axe-core (vendored in tests/vendor/axe-core, pinned 4.10.2) with no serious or
critical WCAG 2.x A/AA violation, and show no raw code in its visible text (fsm, eal, ehc_plan, 0/1 group values,
counts printed as floats). Technical names may appear only in brackets after their words (R's
name of a statistic) or inside the trial report's "for analysts" appendix. A briefing printed
to A4 PDF is at most two pages and no chart is split across pages.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pagecheck import FLOAT_COUNT, RAW_CODES, Tab, launch, pages_problems


@pytest.fixture(scope="module")
def run_out(bundled_run):
    """The output folder of the shared run of the main job on the bundled data (conftest ``bundled_run``)."""
    return bundled_run.out


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p, chromium_path)
        yield b
        b.close()


def _pages(out: Path) -> list[Path]:
    pack = out / "shareable" / "board_pack"
    pages = sorted((pack / "briefing").glob("*.html")) + sorted((pack / "families").glob("*.html"))
    return pages + [out / "internal" / "trial_report.html"]


def test_raw_code_check_catches_what_it_should():
    """The checker itself (independent of the pages): codes and float counts are caught, words are not."""
    assert RAW_CODES.search("Free school meals: fsm 1") and RAW_CODES.search("group ehc_plan")
    assert FLOAT_COUNT.search("611.0 children") and not FLOAT_COUNT.search("61.0% of 611 children, mean 3.0")
    assert not RAW_CODES.search("Eligible for free school meals; SEN support; EHC plan")
    assert "chi12" not in re.sub(r"\([^()]*\)", " ", "Uniform + non-uniform DIF test (chi12)")


@pytest.mark.browser
def test_every_page_is_accessible_offline_and_free_of_codes(run_out, browser):
    pages = _pages(run_out)
    assert len(pages) == 11 and all(p.exists() for p in pages)
    assert pages_problems(browser, pages, codes=True) == []


@pytest.mark.browser
def test_translated_blocks_carry_language_and_direction(run_out, browser):
    path = sorted((run_out / "shareable" / "board_pack" / "families").glob("*.html"))[0]
    with Tab(browser, viewport=None) as tab:
        blocks = tab.open(path).eval_on_selector_all("section[lang]", "els => els.map(e => [e.lang, e.dir])")
    langs = dict(blocks)
    assert {"ur", "bn", "pa", "pl", "ar", "ro"} <= set(langs)
    assert langs["ar"] == "rtl" and langs["ur"] == "rtl" and langs["pl"] == "" and langs["bn"] == ""


# a mark at the top and one at the bottom of every chart (out of the flow: the layout does not change); each mark is
# a link, which Chromium's PDF keeps as a link annotation of the page it is printed on: finding a page's marks reads
# its annotations (2 ms a briefing), where finding their text parsed every page's drawing (0.27 s a briefing; the two
# found every mark on the same page, on the briefings and on briefings with a chart forced across the page break)
MARK_FIGURES = """() => { const figs = [...document.querySelectorAll('figure')];
    figs.forEach((f, k) => { f.style.position = 'relative';
        for (const [end, css] of [['top', 'top:0'], ['end', 'bottom:0']]) { const s = document.createElement('a');
            s.href = `https://mark.invalid/chart${k}${end}`; s.textContent = `chart${k}${end}mark`;
            s.style.cssText = `position:absolute;left:0;${css};font-size:5px;font-variant-ligatures:none`;
            f.appendChild(s); } });
    return figs.length; }"""
SPLIT_SECOND_CHART = """() => { const f = document.querySelectorAll('figure')[1];
    f.style.minHeight = '900px'; f.style.breakInside = 'auto'; }"""


def _printed(page, pdf: Path) -> tuple[object, int, dict]:
    """Marks the charts of the loaded ``page`` and prints it to A4 at ``pdf``: the PDF reader, the number of charts,
    and for each mark (chart, 'top' or 'end') the pages it is on."""
    from pypdf import PdfReader

    n_charts = page.evaluate(MARK_FIGURES)
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    reader = PdfReader(str(pdf))
    links = [[a.get_object().get("/A", {}).get("/URI", "") for a in (p.get("/Annots") or [])] for p in reader.pages]
    where = {(k, end): [i for i, uris in enumerate(links) if f"https://mark.invalid/chart{k}{end}" in uris]
             for k in range(n_charts) for end in ("top", "end")}
    return reader, n_charts, where


@pytest.mark.browser
def test_briefing_prints_on_two_a4_pages_without_split_charts(run_out, browser, tmp_path):
    tab = Tab(browser, viewport=None)
    for path in sorted((run_out / "shareable" / "board_pack" / "briefing").glob("*.html")):
        reader, n_charts, where = _printed(tab.open(path), tmp_path / f"{path.stem}.pdf")
        box = reader.pages[0].mediabox
        assert abs(float(box.width) - 595.3) < 2 and abs(float(box.height) - 841.9) < 2   # A4 in points
        assert len(reader.pages) <= 2, (path.name, len(reader.pages))
        # a chart cut by a page break has its top on one page and its bottom on the next
        assert n_charts >= 3 and all(len(v) == 1 for v in where.values()), (path.name, where)
        assert all(where[(k, "top")] == where[(k, "end")] for k in range(n_charts)), (path.name, where)
    tab.close()


@pytest.mark.browser
def test_split_chart_check_finds_a_chart_cut_by_the_page_break(run_out, browser, tmp_path):
    """The check above on a briefing whose second chart is made taller than what is left of the first page and
    allowed to break: its top is on page 1 and its bottom on page 2, the others whole."""
    path = sorted((run_out / "shareable" / "board_pack" / "briefing").glob("*.html"))[0]
    with Tab(browser, viewport=None) as tab:
        page = tab.open(path)
        page.evaluate(SPLIT_SECOND_CHART)
        _, n_charts, where = _printed(page, tmp_path / "split.pdf")
    assert where[(1, "top")] == [0] and where[(1, "end")] == [1], where
    assert all(where[(k, "top")] == where[(k, "end")] for k in range(n_charts) if k != 1), where


def test_trial_report_opens_each_section_with_a_verdict_and_reconciles_invariance_with_dif(run_out):
    text = (run_out / "internal" / "trial_report.html").read_text(encoding="utf-8")
    # the fairness section is headed by the framework's declared fairness groups
    fairness_title = "Fairness across groups: free school meals and home language (English or other)"
    for title in ("Reliability and structure", fairness_title, "Whose voices were heard", "Added value: GLD at age 5"):
        section = text.split(f"<h2>{title}</h2>")[1]
        assert section.startswith("<p class='verdict'>"), title
    fairness = text.split(f"<h2>{fairness_title}</h2>")[1].split("<section")[0]
    if "works differently" in fairness and "so group means can be compared" in fairness:
        assert "Why the two results do not contradict each other" in fairness
    assert "Uniform + non-uniform DIF test (chi12)" in text and "0.0000" not in text


MARKDOWN = re.compile(r"`|\*|^\s*\|?\s*-{3,}|^#{1,6}\s|\[[^\]]+\]\([^)]+\)", re.M)   # any * is Markdown here
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")


def test_markdown_and_code_checks_catch_what_they_should():
    """The checkers themselves (independent of the pages)."""
    for bad in ("Indicator `gld`", "**hl1** text", "a stray *", "*Indicator*", "|---|---|", "## Caveats"):
        assert MARKDOWN.search(bad), bad
    for good in ("alpha >= 0.70", "Rated + sufficient, - insufficient, ? indeterminate", "ICC(2,1) 0.63", "3 x 4"):
        assert not MARKDOWN.search(good), good
    assert SNAKE.search("mean of voice_services") and SNAKE.search("home_language_group: holds")
    assert not SNAKE.search("Home language (English or other)")


@pytest.mark.browser
def test_spec_sheets_show_no_markdown_and_no_codes(run_out, browser):
    """Each specification sheet as a reader sees it: no Markdown syntax, no code (fsm, wilson, voice_home_learning
    or any snake_case name), no "proportion below of"; the identifier only in the analysts' line."""
    specs = sorted((run_out / "shareable" / "board_pack" / "specs").glob("*.html"))
    assert len(specs) == 6
    problems = []
    tab = Tab(browser, viewport=None)
    for path in specs:
        text = tab.open(path).evaluate("""() => { const b = document.body.cloneNode(true);
            b.querySelectorAll('.analysts').forEach(e => e.remove()); return b.innerText; }""")
        found = [m.group(0) for m in MARKDOWN.finditer(text)] + [m.group(0) for m in SNAKE.finditer(text)]
        found += [m.group(0) for m in RAW_CODES.finditer(text)]
        found += [w for w in ("wilson", "proportion below", "proportion of", path.stem) if w in text]
        if found:
            problems.append(f"{path.name}: {sorted(set(found))[:8]}")
    tab.close()
    assert problems == []


@pytest.mark.browser
def test_chart_labels_are_whole_on_screen(run_out, browser):
    """Every text of every chart lies inside its chart (no first letters cut off at the left edge), measured by
    the browser's own font."""
    problems = []
    tab = Tab(browser)
    for path in sorted((run_out / "shareable" / "board_pack" / "briefing").glob("*.html")):
        cut = tab.open(path).evaluate("""() => [...document.querySelectorAll('svg[role=img]')].flatMap(svg => {
            const box = svg.getBoundingClientRect();
            return [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()])
                .filter(([s, r]) => r.left < box.left - 0.5 || r.right > box.right + 0.5).map(([s, r]) => s); })""")
        if cut:
            problems.append(f"{path.name}: {cut[:5]}")
    tab.close()
    assert problems == []


PLANTED = {  # page file -> the problems it plants (written for this test, independent of measurekit's pages)
    "clean.html": (),
    "console.html": ("console errors",),
    "thrown.html": ("console errors",),
    "network.html": ("network requests", "chart did not decode"),     # the picture is never fetched
    "nolang.html": ("html lang is 'fr'",),
    "noalt.html": ("axe [('image-alt'", "chart did not decode"),
    "codes.html": ("raw codes",),
    "zero.html": ("bare 0/1",),
}
_BODY = "<main><h1>A page</h1><p>Text for the board.</p>{}</main>"


@pytest.mark.browser
def test_one_tab_catches_each_planted_problem_on_the_page_that_has_it(browser, tmp_path):
    """The page checks reuse one tab for many pages: each planted problem is found on its own page and on no
    other, whatever was opened before (a clean page last: nothing carries over from the page before it)."""
    extra = {"console.html": "<script>console.error('broken chart')</script>",
             "thrown.html": "<script>null.nothing()</script>",
             "network.html": "<img src='http://127.0.0.1:9/x.png' alt='a picture that is never fetched'>",
             "noalt.html": "<img src='data:image/gif;base64,R0lGODlhAQABAAAAACw=' width=200 height=20>",
             "codes.html": "<p>Children with fsm: 611.0</p>",
             "zero.html": "<table><thead><tr><th>Group</th><th>n</th></tr></thead><tbody><tr><td>0</td><td>40</td>"
                          "</tr></tbody></table>"}
    paths = []
    for name in [*PLANTED, "clean.html"]:
        lang = " lang='fr'" if name == "nolang.html" else " lang='en'"
        html = f"<!doctype html><html{lang}><head><meta charset='utf-8'><title>{name}</title></head><body>"
        html += _BODY.format(extra.get(name, "")) + "</body></html>"
        (tmp_path / name).write_text(html, encoding="utf-8")
        paths.append(tmp_path / name)
    with Tab(browser) as tab:
        found = [(path.name, tab.problems(path, codes=True)) for path in paths]
    for name, problems in found:
        expected = PLANTED[name]
        assert len(problems) == len(expected) and all(any(e in p for p in problems) for e in expected), (name, problems)
