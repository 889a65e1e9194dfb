"""The page checks every browser test runs (one copy: tests/test_board_browser.py, tests/test_second_site.py,
tests/test_board_over_time.py and tests/test_information_map.py use it; not a test module itself).

A page is loaded from its file in Debian's headless Chromium and must: render offline (no network request, no
console error or uncaught exception), declare ``<html lang="en">``, decode every chart (an ``<img>`` wider than 100
pixels, or an ``<svg role="img">`` drawn wider than 100 pixels) with a real text alternative (20 characters or
more), and pass axe-core (vendored in tests/vendor/axe-core, pinned 4.10.2) with no serious or critical WCAG 2.x
A/AA violation. With ``codes=True`` its visible text (outside the analysts' appendix, bracketed text removed) shows
no raw code (fsm, eal, ehc_plan, 0/1 group values, counts printed as floats) and no table row is labelled with a
bare 0 or 1.

The pages of one test are loaded one after another in one browser tab (``Tab``): each load is a new document
(its own scripts, its own axe-core, its own console), with the tab's listeners cleared for it. A new tab per page
started a new renderer process each time: on the board pack's 16 briefings, family pages and specification sheets
that tripled the browser's CPU (7.0 s against 2.3 s) for the same checks.
"""
from __future__ import annotations

import re
from pathlib import Path

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
        "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
VIEWPORT = {"width": 1100, "height": 1400}
RAW_CODES = re.compile(r"\b(fsm|eal|ehc_plan|sen_support|breakdown_value|p_val|chi12|chi23|p12|p23|r2_13|lr_chisq|"
                       r"nri_events|home_language_group)\b")
FLOAT_COUNT = re.compile(r"\b\d{3,}\.0\b(?![\d%])")
RUN_AXE = """async () => await axe.run(document, {resultTypes: ['violations'],
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"""
CHARTS = ("""els => els.map(e => [e.naturalWidth, e.getAttribute('alt') || ''])""",
          """els => els.map(e => [e.getBoundingClientRect().width, e.getAttribute('aria-label') || ''])""")


def launch(playwright, chromium_path: str):
    """Headless Debian Chromium with the suite's arguments (no sandbox, no background network, no sync)."""
    return playwright.chromium.launch(executable_path=chromium_path, args=ARGS, headless=True)


def serious_axe_violations(page) -> list[tuple[str, str, int]]:
    """axe-core on the loaded ``page``: (rule, impact, nodes) of every serious or critical WCAG 2.x A/AA violation.

    axe-core is added as a script element loading the vendored file (``file:`` URL, which the offline check does
    not count as a network request): the browser reads it from disk instead of Playwright sending its 550 kB
    through the driver for every page."""
    page.add_script_tag(url=AXE.as_uri())
    result = page.evaluate(RUN_AXE)
    return [(v["id"], v["impact"], len(v["nodes"])) for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def visible_text_outside_appendix(page) -> str:
    """innerText of the body without the analysts' appendix and with bracketed text removed."""
    text = page.evaluate("""() => {
        const body = document.body.cloneNode(true);
        body.querySelectorAll('.analysts').forEach(e => e.remove());
        document.documentElement.appendChild(body); const t = body.innerText; body.remove(); return t; }""")
    return re.sub(r"\([^()]*\)", " ", text)


def raw_codes(text: str) -> list[str]:
    """The raw codes and float counts found in ``text`` (sorted, each once)."""
    return sorted({m.group(0) for pattern in (RAW_CODES, FLOAT_COUNT) for m in pattern.finditer(text)})


class Tab:
    """One browser tab that opens page files one after another; ``errors`` and ``requests`` hold the console errors,
    uncaught exceptions and network requests (anything but ``file:`` and ``data:``) of the page opened last.
    ``viewport=None``: the browser's default size. Use as a context manager (the tab is closed at the end)."""

    def __init__(self, browser, viewport: dict | None = VIEWPORT):
        self.page = browser.new_page(viewport=viewport) if viewport else browser.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url)
                     if not r.url.startswith(("file:", "data:")) else None)

    def open(self, path: Path):
        """Load the file ``path`` as a new document (waits for its load event) and return the Playwright page."""
        self.errors.clear()
        self.requests.clear()
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        return self.page

    def problems(self, path: Path, *, codes: bool = False, name: str | None = None) -> list[str]:
        """Everything wrong with the page ``path`` (see the module docstring), one sentence each; [] when it
        passes."""
        name = name or f"{path.parent.name}/{path.name}"
        page = self.open(path)
        charts = page.eval_on_selector_all("img", CHARTS[0]) + page.eval_on_selector_all("svg[role=img]", CHARTS[1])
        lang = page.get_attribute("html", "lang")
        bad = serious_axe_violations(page)
        text = visible_text_outside_appendix(page) if codes else ""
        first_cells = (page.eval_on_selector_all("tbody tr > :first-child", "els => els.map(e => e.innerText.trim())")
                       if codes else [])
        page.evaluate("0")                          # one more round trip: every event of the page has arrived
        errors, requests = list(self.errors), list(self.requests)
        problems = []
        if bad:
            problems.append(f"{name}: axe {bad}")
        if errors or requests:
            problems.append(f"{name}: console errors {errors[:3]} or network requests {requests[:3]}")
        if lang != "en":
            problems.append(f"{name}: html lang is {lang!r}")
        if any(w <= 100 or len(alt) < 20 for w, alt in charts):
            problems.append(f"{name}: a chart did not decode or has no real alt text")
        found = raw_codes(text)
        if found:
            problems.append(f"{name}: raw codes or float counts in visible text: {found[:8]}")
        if {"0", "1"} & set(first_cells):
            problems.append(f"{name}: a table row is labelled with a bare 0/1 code")
        return problems

    def close(self) -> None:
        self.page.close()

    def __enter__(self) -> Tab:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def page_problems(browser, path: Path, *, codes: bool = False, name: str | None = None) -> list[str]:
    """``Tab.problems`` of one page in a tab of its own."""
    with Tab(browser) as tab:
        return tab.problems(path, codes=codes, name=name)


def pages_problems(browser, paths, *, codes: bool = False) -> list[str]:
    """``Tab.problems`` of every page of ``paths``, one after another in one tab."""
    with Tab(browser) as tab:
        return [problem for path in paths for problem in tab.problems(path, codes=codes)]
