"""Every guided notebook runs top to bottom on the bundled synthetic data, and is stored without outputs."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} have stored outputs; strip them before committing"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path):
    """Runs in place (outputs go to notebooks/output/<notebook>/, ignored by git). An analyst's own
    framework review saved there must survive notebook 08's worked example."""
    from nbclient import NotebookClient

    own = path.parent / "output" / "08_framework_review" / "framework_review.yaml"
    sentinel = "# my own review: the worked example must not overwrite it\nproject: mine\n"
    if path.stem.startswith("08"):
        own.parent.mkdir(parents=True, exist_ok=True)
        kept = own.read_bytes() if own.exists() else None
        own.write_text(sentinel)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
        if path.stem.startswith("08"):
            assert own.read_text() == sentinel, "notebook 08 overwrote the analyst's own review file"
    finally:
        if path.stem.startswith("08"):
            own.unlink()
            if kept is not None:
                own.write_bytes(kept)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    widgets = [c.source[:40] for c in nb.cells if c.cell_type == "code" for o in c.outputs
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
               and not any(w in c.source for w in ("FrameworkReview(", "ItemDrafter(", "\nw\n", "\ndr\n"))]
    assert not widgets, f"{path.name}: progress or other widgets left in saved outputs: {widgets}"
