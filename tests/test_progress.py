"""Progress bars leave nothing broken in a saved notebook (no closed widget models)."""
import nbformat


def test_progress_bar_in_a_notebook_saves_as_plain_output():
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "from measurekit.core.progress import progress\n"
        "total = sum(progress(range(200), total=200, desc='bootstrap', show=True))\n"
        "print(total)"))
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert any(o.get("text", "").strip().endswith("19900") for o in outputs if o.output_type == "stream")
    assert any(o.get("name") == "stderr" and "bootstrap" in o.get("text", "") for o in outputs), outputs
    for o in outputs:
        assert "application/vnd.jupyter.widget-view+json" not in o.get("data", {}), o
