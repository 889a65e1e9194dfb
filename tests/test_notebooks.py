"""Every guided notebook runs top to bottom on the bundled synthetic data, and is stored without outputs.

The notebooks run on a COPY of the repository's folders (notebooks/, indicators/, data/) in a temporary
folder, never in place: a run writes the notebook's outputs (``notebooks/output/``) and an analyst's own
work lives there, so running the suite must neither touch that work nor leave anything behind
(``git status`` of the repository is the same before and after).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from conftest import execute_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FOLDERS = ("notebooks", "indicators", "data")


def _git_status() -> str | None:
    try:
        r = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--ignored", "--", *FOLDERS],
                           cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout if r.returncode == 0 else None


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory) -> Path:
    """The repository's notebook, framework and data folders copied (without any notebook outputs)."""
    dst = tmp_path_factory.mktemp("repo")
    for name in FOLDERS:
        shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("output", ".ipynb_checkpoints"))
    return dst


def execute(path: Path, extra: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    """Run the notebook at ``path`` in its own folder (as Run All does), with ``extra`` cells appended."""
    nb = nbformat.read(path, as_version=4)
    for source in extra:
        nb.cells.append(nbformat.v4.new_code_cell(source))
    return execute_notebook(nb, path.parent)


def errors(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} have stored outputs; strip them before committing"


ANSWER_FLAG = re.compile(r"^(\w*answers\w*) = False\b", re.IGNORECASE | re.MULTILINE)


def answer_cells(nb) -> list:
    """The hidden exercise answers: code cells tagged "answer"."""
    return [c for c in nb.cells if c.cell_type == "code" and "answer" in c.metadata.get("tags", [])]


def switched_on(source: str) -> str:
    """An answer cell with its flag set to True (as the analyst does to see the answers)."""
    return ANSWER_FLAG.sub(lambda m: f"{m.group(1)} = True", source, count=1)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_has_exercises_hidden_answers_and_a_next_step(path):
    """Exercises; hidden answers (cells tagged "answer") only run when their flag is set, e.g.
    ``SHOW_ANSWERS = False`` / ``if SHOW_ANSWERS:``; a way on from every notebook but the last, and only the last
    may say it is the last."""
    nb = nbformat.read(path, as_version=4)
    for c in answer_cells(nb):
        flag = ANSWER_FLAG.search(c.source)
        assert flag and re.search(rf"^if {flag.group(1)}\b", c.source, re.MULTILINE), (path.name, c.source[:80])
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Exercises" in text, path.name
    if path != NOTEBOOKS[-1]:
        assert "last notebook" not in text.lower(), path.name
        assert "Next" in text, path.name


# per copy of the repository (repo_copy): the notebooks that have run on it and passed every check of
# test_notebook_runs (run_checked)
_CHECKED: dict[Path, set[str]] = {}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, repo_copy):
    """Runs on the copy. Answers print nothing on Run All; switched on (appended at the end), they run."""
    run_checked(path.name, repo_copy)


def run_checked(name: str, repo_copy: Path) -> None:
    """Run All of notebook ``name`` on ``repo_copy``, its answers switched on, with every check of
    test_notebook_runs; once per copy. test_analysts_edits_survive_a_rerun needs notebooks 01 and 08 to have run
    on its copy before the analyst edits: when test_notebook_runs has run them on the same copy (they share the
    module's copy when one worker runs them one after another), that run is the first run, and the other way
    round; run alone, each test runs and checks the notebook itself."""
    done = _CHECKED.setdefault(repo_copy, set())
    if name in done:
        return
    path = ROOT / "notebooks" / name
    status = _git_status()
    copy = repo_copy / "notebooks" / path.name
    stored = nbformat.read(copy, as_version=4)
    answers = [switched_on(c.source) for c in answer_cells(stored)]
    nb = execute(copy, tuple(answers))
    assert not errors(nb), errors(nb)[:1]
    n = len(stored.cells)
    for c in answer_cells(nbformat.v4.new_notebook(cells=nb.cells[:n])):
        shown = [o for o in c.outputs if not (o.get("output_type") == "stream" and "hidden" in o.get("text", "")
                                              and len(o["text"].strip().splitlines()) == 1)]
        assert not shown, f"{path.name}: a hidden answer printed on Run All"      # at most a note that they are hidden
    for c in nb.cells[n:]:
        assert c.outputs, f"{path.name}: an answer switched on shows nothing"
    widgets = [c.source[:40] for c in nb.cells if c.cell_type == "code" for o in c.outputs
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
               and not any(w in c.source for w in ("FrameworkReview(", "ItemDrafter(", "\nw\n", "\ndr\n"))]
    assert not widgets, f"{path.name}: progress or other widgets left in saved outputs: {widgets}"
    assert _git_status() == status, "running a notebook changed the repository"
    done.add(name)


@pytest.mark.slow
def test_analysts_edits_survive_a_rerun(repo_copy):
    """An item edited in notebook 01's drafter and a review scored in notebook 08's widget are intact after both
    notebooks run again; the demo edits of 01 happen on their own copy, and 08's widget opens with the review."""
    import yaml

    from measurekit.design import load_framework
    from measurekit.design.widgets.drafter import ItemDrafter
    from measurekit.design.widgets.review import FrameworkReview

    status = _git_status()
    nbdir = repo_copy / "notebooks"
    shipped = load_framework(repo_copy / "indicators" / "rochdale-school-readiness")
    for name in ("01_draft_items.ipynb", "08_framework_review.ipynb"):
        run_checked(name, repo_copy)         # the first Run All (shared with test_notebook_runs on this copy)
    work = nbdir / "output" / "01_draft_items" / "framework"
    assert load_framework(work).item("sv4") == shipped.item("sv4"), "the demo edited the analyst's copy"
    # the analyst edits an item in the drafter and saves
    dr = ItemDrafter(work)
    dr.item.value = "hl1"
    dr.stem.value = "We read books together on most days."
    dr.who.value, dr.reason.value = "Analyst", "my own edit"
    dr.override.value, dr.override_reason.value = True, "kept for the test"
    assert dr.save(), dr.message.value
    mine = {p.name: p.read_bytes() for p in work.glob("*.yaml")}
    # ... and scores the review in notebook 08's widget
    review = nbdir / "output" / "08_framework_review" / "framework_review.yaml"
    w = FrameworkReview(review, framework=repo_copy / "indicators" / "rochdale-school-readiness", project="Mine")
    scores = {"codesign_who": 3, "toc_written": 0, "gov_lawful": 1}
    for qid, s in scores.items():
        w.controls[qid]["score"].value = s
    w.controls["codesign_who"]["notes"].value = "my notes"
    assert w.save() is not None, w.status.value
    saved_review = review.read_bytes()
    # Run All again, twice for 01 (a demo that appended each time would show on the second run)
    for _ in range(2):
        assert not errors(execute(nbdir / "01_draft_items.ipynb"))
    show = ("import json\nprint(json.dumps({q: c['score'].value for q, c in w.controls.items()"
            " if c['score'].value is not None}))\nw.save()\nprint(w.status.value)")
    nb8 = execute(nbdir / "08_framework_review.ipynb", (show,))
    assert not errors(nb8)
    assert {p.name: p.read_bytes() for p in work.glob("*.yaml")} == mine
    item = load_framework(work).item("hl1")
    assert item.stem["en"] == "We read books together on most days."
    assert len(item.history) == len(shipped.item("hl1").history) + 1
    assert review.read_bytes() == saved_review
    assert yaml.safe_load(saved_review)["answers"]["codesign_who"]["notes"] == "my notes"
    shown = "".join(o.get("text", "") for o in nb8.cells[-1].outputs if o.get("output_type") == "stream")
    import json

    assert json.loads(shown.splitlines()[0]) == scores, "the re-run widget did not open with the saved review"
    assert "Saved" in shown                 # it loaded the file, so saving it again needs no confirmation
    assert _git_status() == status
