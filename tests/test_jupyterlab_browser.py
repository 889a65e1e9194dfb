"""The guided notebooks and both widgets as an analyst uses them: in a real JupyterLab, in Chromium.

A JupyterLab server is started on localhost over a copy of the notebooks, data and framework; Debian's
Chromium, driven by Playwright, opens notebooks 01 and 08, runs every cell from the Run menu, types
into the widgets, clicks their buttons, checks what the page shows and what was written to disk,
then saves and re-opens each notebook and checks that no widget fails to display.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
        "--disable-component-update", "--disable-sync"]
TOKEN = "measurekit-test"
# Run All has finished: no cell waits ('*') and every code cell shows its execution count (but the hidden answers,
# whose prompt stays empty), or a cell raised (Run All stops there). Waiting for the counts needs no pause after the
# click (before: 1 s, so that the '*' had appeared): before the run every prompt is empty.
ALL_DONE = """() => { const p = [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')];
    const code = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')]
        .filter(c => !c.querySelector('.jp-InputPlaceholder')).map(c => c.querySelector('.jp-InputPrompt'));
    if (!code.length || p.some(e => e.textContent.includes('*'))) return false;
    return code.every(e => /\\[\\d+\\]/.test(e.textContent))
        || [...document.querySelectorAll('.jp-OutputArea-output')].some(e => e.textContent.includes('Traceback')); }"""
# every widget view of the re-opened notebook (an output panel of its own) has drawn itself, or has said it cannot
# ("Error displaying widget ...", class jupyter-widgets); "Loading widget..." is a view still waiting for its model
WIDGETS_SETTLED = """n => { const v = [...document.querySelectorAll('.jp-OutputArea-output')].filter(e =>
        e.classList.contains('lm-Panel') || e.classList.contains('jupyter-widgets')
        || e.textContent.startsWith('Loading widget'));
    return v.length >= n && v.every(e => e.classList.contains('jupyter-widgets')
        || (e.childElementCount > 0 && !e.textContent.startsWith('Loading widget'))); }"""


def _settings(folder: Path) -> None:
    """Lab settings for a test: render every cell (no windowing), no news pop-up."""
    for plugin, values in {"@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
                           "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"}}.items():
        path = folder / (plugin + ".jupyterlab-settings")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(tmp_path_factory, chromium_path):
    pytest.importorskip("jupyterlab")
    root = tmp_path_factory.mktemp("lab")
    for d in ("notebooks", "data", "indicators"):
        shutil.copytree(ROOT / d, root / d, ignore=shutil.ignore_patterns("output", ".ipynb_checkpoints"))
    _settings(root / ".settings")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "CI")}  # as an analyst's session
    env.update(JUPYTER_CONFIG_DIR=str(root / ".jupyter"), JUPYTER_RUNTIME_DIR=str(root / ".runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(root / ".settings"), JUPYTERLAB_WORKSPACES_DIR=str(root / ".ws"),
               # JupyterLab asks for the export formats on every page load: nbconvert then builds every exporter
               # (templates, preprocessors) to see which are enabled: four calls (this module's page loads) cost
               # the server 1.2 CPU s, 0.7 s with the formats listed by name (nbconvert's own switch; the File >
               # Save and Export menu still lists them). Nothing here exports.
               NBCONVERT_DISABLE_CONFIG_EXPORTERS="1")
    log = open(root / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}", "--allow-root",
         "--LabApp.news_url=", "--ServerApp.open_browser=False"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start: " + (root / "server.log").read_text()[-2000:])
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path, args=ARGS, headless=True)
            # one browser profile for the module, as an analyst's browser: the second notebook's JupyterLab loads its
            # scripts from the cache the first filled (each test still opens its own tab, with a reset workspace)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            yield base, root, context
            context.close()
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _open_and_run(context, base, notebook: str):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/lab/tree/notebooks/{notebook}?token={TOKEN}&reset")   # reset: no tabs from earlier tests
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=120_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()
    page.wait_for_function(ALL_DONE, timeout=300_000, polling=200)
    errors += page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    tracebacks = [e for e in errors if "Traceback" in e or "Error" in e.split("\n")[0]]
    assert not page.locator(".jp-OutputArea-output:has-text('Traceback')").count(), "a cell raised"
    return page, tracebacks


def _save_and_reopen(page, notebook: Path):
    """Save (the widget state goes into the file), reload the page, and return the visible text once every widget
    view has drawn itself or failed to. Waits for the file to be rewritten and the tab to be clean, and then for the
    widget views the saved file holds (fixed pauses of 1.5 s and 4 s before: slower than needed on a quiet machine,
    maybe too short on a busy one)."""
    before = notebook.stat().st_mtime_ns
    page.keyboard.press("Control+s")
    for _ in range(600):                                  # up to 60 s
        if notebook.stat().st_mtime_ns != before and not page.locator(".lm-TabBar-tab.jp-mod-dirty").count():
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail(f"{notebook.name} was not saved")
    saved = json.loads(notebook.read_text(encoding="utf-8"))
    views = [o for c in saved["cells"] for o in c.get("outputs", [])
             if o.get("data", {}).get("application/vnd.jupyter.widget-view+json", {}).get("model_id")]
    assert views, "the saved notebook holds no widget"
    page.reload()
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_function(WIDGETS_SETTLED, arg=len(views), timeout=120_000, polling=200)
    return page.inner_text(".jp-Notebook")


def _widget_text(page, description: str):
    return page.locator(f".widget-text:has(label:text-is('{description}')) input").last


@pytest.mark.browser
@pytest.mark.slow
def test_notebook_01_drafter_in_jupyterlab(lab):
    base, root, context = lab
    page, errors = _open_and_run(context, base, "01_draft_items.ipynb")
    assert not errors, errors
    stem = page.locator(".widget-textarea:has(label:text-is('Wording')) textarea").last
    stem.fill("Do you agree that the EHCP process and the setting are good?")
    checks = page.locator(".widget-html:has-text('jargon')").last
    checks.wait_for(timeout=20_000)                       # the findings update as the analyst types
    assert "double_barrelled" in checks.inner_text()
    _widget_text(page, "Who").fill("Parent panel, browser test")
    _widget_text(page, "Why").fill("Trying a wording")
    page.locator("button:has-text('Save to YAML')").last.click()
    page.get_by_text(re.compile(r"^Not saved: \d+ open wording")).last.wait_for(timeout=20_000)  # warnings block it
    page.locator(".widget-checkbox:has-text('Save anyway') input").last.check()
    _widget_text(page, "Because").fill("Testing the override")
    page.locator("button:has-text('Save to YAML')").last.click()
    page.get_by_text(re.compile(r"^Saved \w+ \(")).last.wait_for(timeout=20_000)
    assert _widget_text(page, "Who").input_value() == ""          # cleared for the next change
    items = (root / "notebooks" / "output" / "01_draft_items" / "framework" / "items.yaml").read_text(encoding="utf-8")
    assert "the EHCP process and the setting are good?" in items and "Testing the override" in items
    text = _save_and_reopen(page, root / "notebooks" / "01_draft_items.ipynb")
    assert "Error displaying widget" not in text and "model not found" not in text
    page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_notebook_08_review_widget_in_jupyterlab(lab):
    base, root, context = lab
    own = root / "notebooks" / "output" / "08_framework_review" / "framework_review.yaml"
    page, errors = _open_and_run(context, base, "08_framework_review.ipynb")
    assert not errors, errors
    assert (own.parent / "example_review.yaml").exists() and not own.exists()   # the example kept to its own file
    path_box = _widget_text(page, "File")
    path_box.fill(str(own.parent))                                   # a folder, by mistake
    page.locator("button.jupyter-button[title='Save']").last.click()
    status = page.locator(".widget-html:has-text('Not saved')").last
    status.wait_for(timeout=20_000)
    assert "is a folder, not a file" in status.inner_text() and "Errno" not in status.inner_text()
    path_box.fill(str(own))
    page.locator("button.jupyter-button[title='Save']").last.click()
    # wait for THIS save's message (the notebook's own save of the example already printed "Saved to ..."; waiting
    # for any such text could return before the click was handled)
    page.get_by_text(re.compile(r"^Saved to .*" + re.escape(own.name) + "$")).last.wait_for(timeout=20_000)
    assert own.exists()
    text = _save_and_reopen(page, root / "notebooks" / "08_framework_review.ipynb")
    assert "Error displaying widget" not in text and "model not found" not in text
    page.close()
