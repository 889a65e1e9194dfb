"""docs/architecture.md matches the source tree (issue 11): every module and package-data file under
src/measurekit/ is listed in the module map, and every module path or dotted name the page mentions
exists. Written independently of the package: it walks the file system and reads the Markdown, so a
move that forgets the page fails here."""
from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "measurekit"
DOC = ROOT / "docs" / "architecture.md"
SHIPPED = {".py", ".yaml", ".yml", ".json", ".csv", ".txt", ".html", ".j2", ".jinja"}


def shipped_files() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in SHIPPED:
            out.append(path.relative_to(PACKAGE).as_posix())
    return out


def backticked(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def module_map(text: str) -> str:
    start = text.index("## Module map")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_every_file_is_in_the_module_map():
    listed = set()
    for token in backticked(module_map(DOC.read_text(encoding="utf-8"))):
        listed.add(token.removeprefix("src/measurekit/"))
    files = shipped_files()
    assert len(files) > 50  # the walk found the package
    missing = [f for f in files if f not in listed]
    assert not missing, f"in src/measurekit/ but not in the module map of docs/architecture.md: {missing}"


def _package_parts() -> set[str]:
    return {p.name for p in PACKAGE.iterdir() if p.name != "__pycache__"}


def test_every_path_the_page_mentions_exists():
    text = DOC.read_text(encoding="utf-8")
    parts = _package_parts()
    checked, gone = 0, []
    for token in backticked(text):
        if "<" in token or " " in token:
            continue
        rel = token.removeprefix("src/measurekit/")
        looks_like_path = token.startswith("src/measurekit/") or (
            "/" in rel and rel.split("/")[0] in parts) or (rel in parts and "." in rel)
        if not looks_like_path:
            continue
        checked += 1
        if not (PACKAGE / rel).exists():
            gone.append(token)
    assert checked > 50
    assert not gone, f"docs/architecture.md names paths that do not exist: {gone}"


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            spec = None
        if spec is None:
            continue
        obj = importlib.import_module(name)
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_dotted_name_the_page_mentions_exists():
    text = DOC.read_text(encoding="utf-8")
    names = set()
    for token in backticked(text):
        m = re.match(r"(measurekit(?:\.\w+)+)", token)
        if m:
            names.add(m.group(1))
    assert names
    gone = sorted(n for n in names if not _resolves(n))
    assert not gone, f"docs/architecture.md names modules or objects that do not exist: {gone}"
