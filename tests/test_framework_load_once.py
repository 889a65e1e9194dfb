"""A framework folder is loaded once per content and process (design/loading.py ``_LOADED``): every call still sees
the folder as it is now, and what one caller changes in its framework or report reaches no other caller."""
from __future__ import annotations

import shutil

from measurekit.design import check_framework, load_framework
from measurekit.design import loading


def _copy(framework_dir, tmp_path):
    folder = tmp_path / "fw"
    shutil.copytree(framework_dir, folder)
    return folder


def test_each_caller_gets_its_own_framework_and_report(framework_dir, tmp_path):
    folder = _copy(framework_dir, tmp_path)
    first = load_framework(folder)
    name, n_items = first.name, len(first.items)
    first.name = "changed by a caller"
    first.items.pop()
    second = load_framework(folder)
    assert second is not first and second.name == name and len(second.items) == n_items
    assert str(second.path) == str(folder)
    report = check_framework(folder)
    report.add("unknown_spec_key", "added by a caller")
    assert "unknown_spec_key" not in check_framework(folder).codes()


def test_an_edited_or_added_file_is_loaded_again(framework_dir, tmp_path):
    folder = _copy(framework_dir, tmp_path)
    assert check_framework(folder).ok
    text = (folder / "framework.yaml").read_text(encoding="utf-8")
    (folder / "framework.yaml").write_text(text + "\nnot_a_key: 1\n", encoding="utf-8")
    assert "unknown_spec_key" in check_framework(folder).codes()
    (folder / "framework.yaml").write_text(text, encoding="utf-8")
    assert check_framework(folder).ok
    # the evidence files are part of the folder too: a broken ratings file is seen at once
    (folder / "evidence" / "content_validity.csv").write_text("not,a,ratings,file\n1,2,3,4\n", encoding="utf-8")
    assert not check_framework(folder).ok


def test_the_same_content_is_parsed_once(framework_dir, tmp_path, monkeypatch):
    folder = _copy(framework_dir, tmp_path)
    calls = []
    real = loading._load_folder
    monkeypatch.setattr(loading, "_load_folder", lambda path: calls.append(path) or real(path))
    for _ in range(3):
        load_framework(folder)
    assert len(calls) == 1
    (folder / "scales.yaml").write_text((folder / "scales.yaml").read_text(encoding="utf-8") + "\n",
                                        encoding="utf-8")
    load_framework(folder)
    assert len(calls) == 2
