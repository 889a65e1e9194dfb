"""Make the screenshots in docs/img from a run of the main job on the bundled synthetic data.

    python docs/img/screenshots.py            # runs the main job into a temporary folder (a few minutes)
    python docs/img/screenshots.py OUT        # uses an existing output folder of `measurekit run`

Needs Playwright and Debian's Chromium (/usr/bin/chromium); Bengali and Gurmukhi text needs fonts
that have those scripts (Debian: fonts-noto-core) or it shows as boxes in the family page.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def shoot(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    pack = out / "shareable" / "board_pack"
    shots = [(pack / "briefing" / "syn-n05.html", "briefing.png", None),
             (pack / "families" / "syn-n05.html", "family_page.png", None),
             (out / "internal" / "trial_report.html", "trial_report.png", 2300)]
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
        for page_path, name, height in shots:
            page = browser.new_page(viewport={"width": 1000, "height": height or 1200})
            page.goto(page_path.resolve().as_uri())
            page.screenshot(path=str(HERE / name), full_page=height is None)
            page.close()
        # the briefing as printed on A4: both pages side by side
        page = browser.new_page()
        page.goto((pack / "briefing" / "syn-n05.html").resolve().as_uri())
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 794, "height": 1123})
        page.screenshot(path=str(HERE / "briefing_print.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        shoot(Path(sys.argv[1]))
    else:
        from measurekit.pipeline.run import run

        with tempfile.TemporaryDirectory() as tmp:
            run(out=Path(tmp) / "out", log=lambda *_: None)
            shoot(Path(tmp) / "out")
