"""The neighbourhood briefing and the trial report render in headless Chromium with no console errors."""
import pytest

from measurekit.design import load_framework

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
        "--disable-component-update", "--disable-sync"]


def _render(chromium_path, page_path, shot):
    from playwright.sync_api import sync_playwright

    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 1600})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.goto(page_path.resolve().as_uri())
        page.wait_for_load_state("load")
        images = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        heading = page.inner_text("h1")
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    return errors, requests, images, heading


@pytest.mark.browser
def test_briefing_renders_offline_without_errors(chromium_path, framework_dir, cohort, tmp_path):
    from measurekit.publish.board_pack import write_board_pack

    fw = load_framework(framework_dir)
    out = tmp_path / "pack"
    write_board_pack(fw, cohort, out)
    page = out / "briefing" / "rochdale-south.html"
    errors, requests, images, heading = _render(chromium_path, page, tmp_path / "briefing.png")
    assert errors == [] and requests == []            # self-contained: nothing fetched from a network
    assert images and all(w > 100 for w in images)    # the dot plot decoded
    assert "Rochdale South" in heading
    assert (tmp_path / "briefing.png").stat().st_size > 20_000


@pytest.mark.browser
def test_trial_report_renders(chromium_path, tmp_path):
    from measurekit.pipeline.run import run

    run(out=tmp_path / "out", log=lambda *_: None)
    errors, requests, images, heading = _render(chromium_path, tmp_path / "out" / "internal" / "trial_report.html", tmp_path / "r.png")
    assert errors == [] and requests == [] and len(images) >= 4 and "Trial report" in heading
