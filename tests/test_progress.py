"""Progress bars leave nothing broken or empty in a saved notebook (no closed widget models, no blank boxes)."""
import nbformat
import pytest


def shown(text: str) -> str:
    """What a notebook shows for a stream's text: each line as the last part after a carriage return."""
    return "\n".join(line.split("\r")[-1] for line in text.split("\n")).strip()


def boxes(outputs) -> list[tuple[str, str]]:
    """The boxes a notebook draws: consecutive stream outputs of the same name merged (as JupyterLab does)."""
    out: list[tuple[str, str]] = []
    for o in outputs:
        if o.get("output_type") != "stream":
            continue
        if out and out[-1][0] == o["name"]:
            out[-1] = (o["name"], out[-1][1] + o["text"])
        else:
            out.append((o["name"], o["text"]))
    return out


def test_shown_text_of_a_stream_is_what_a_notebook_draws():
    """The checker itself: an erased bar is blank, a kept one is not."""
    assert shown("\rboot:   0%|   | 0/5\r                    \r") == ""
    assert shown("\rboot:   0%|   | 0/5\rboot: 100%|###| 5/5\n").endswith("5/5")
    assert boxes([{"output_type": "stream", "name": "stderr", "text": "a"},
                  {"output_type": "stream", "name": "stderr", "text": "\n"},
                  {"output_type": "stream", "name": "stdout", "text": "1"}]) == [("stderr", "a\n"), ("stdout", "1")]


@pytest.mark.slow
def test_progress_bar_in_a_notebook_saves_as_plain_output_without_empty_boxes(tmp_path):
    from conftest import execute_notebook

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "import time\n"
        "from measurekit.core.progress import progress\n"
        "total = 0\n"
        "for i in progress(range(30), total=30, desc='bootstrap', show=True):\n"
        "    time.sleep(0.05)\n"
        "    total += i\n"
        "print(total)"))
    nb.cells.append(nbformat.v4.new_code_cell(
        "from measurekit.core.progress import progress\n"
        "print(sum(progress(range(200), total=200, desc='quick', show=True)))"))
    execute_notebook(nb, tmp_path, timeout=120)      # a kernel of its own (see conftest)
    slow, quick = nb.cells[0].outputs, nb.cells[1].outputs
    assert any(o.get("text", "").strip().endswith("435") for o in slow if o.output_type == "stream")
    errs = [text for name, text in boxes(slow) if name == "stderr"]
    assert errs and all(shown(t) for t in errs), errs                       # no empty box
    assert "bootstrap" in shown(errs[-1]) and "30/30" in shown(errs[-1])
    assert sum(len(t) for t in errs) < 2000                                 # a few redraws, not one per step
    # a loop quicker than the delay writes no bar at all
    assert [o.get("name") for o in quick] == ["stdout"] and quick[0]["text"].strip() == "19900"
    for o in slow + quick:
        assert "application/vnd.jupyter.widget-view+json" not in o.get("data", {}), o
