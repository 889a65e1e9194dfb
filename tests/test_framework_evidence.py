"""The framework's evidence/ folder is read once per run (design.evidence.read_framework_evidence) and what it
read reaches the board table and the evidence step; the item evidence cards carry the item-rest correlations
the reliability step computed."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import FRAMEWORK_DIR

from measurekit.design import load_framework
from measurekit.pipeline.run import run
from measurekit.problems import InputError


@pytest.fixture(scope="module")
def counted_run(bundled_run):
    """The bundled run (the session's shared run, conftest ``bundled_run``, which counts how often each evidence file
    is read: read_quotes, read_ratings, read_interviews)."""
    calls = {"quotes": bundled_run.calls.get("read_quotes", 0), "ratings": bundled_run.calls.get("read_ratings", 0),
             "interviews": bundled_run.calls.get("read_interviews", 0)}
    return bundled_run.state, bundled_run.out, calls


def test_evidence_folder_read_once(counted_run):
    state, _out, calls = counted_run
    evidence = FRAMEWORK_DIR / "evidence"
    assert (evidence / "quotes.csv").is_file() and (evidence / "content_validity.csv").is_file()
    assert (evidence / "interviews.csv").is_file()
    # each file once per run: when the framework is loaded and checked (the run keeps what was read)
    assert calls == {"quotes": 1, "ratings": 1, "interviews": 1}
    # what was read is kept in the run state and is what the board table carries
    assert state.evidence is not None and state.evidence.folder == evidence
    assert state.board.board_table.evidence is state.evidence.voice
    assert len(state.evidence.voice.quotes) == len(pd.read_csv(evidence / "quotes.csv"))
    assert len(state.evidence.ratings) == len(pd.read_csv(evidence / "content_validity.csv"))


def test_item_cards_have_item_rest_for_every_parent_item(counted_run):
    state, out, _calls = counted_run
    cards = pd.read_csv(out / "internal" / "measurement" / "item_evidence_cards.csv").set_index("item")
    fw = load_framework(FRAMEWORK_DIR)
    parent = [i for i in fw.items if "parent" in i.respondents]
    assert parent
    resp = state.trial_respondents
    for item in parent:
        got = cards.loc[item.id, "r_drop"]
        assert np.isfinite(got), item.id
        # independent check: reverse-key by the scale's ends, drop the don't-know code, correlate the item
        # with the mean of the other answered parent items of its domain over rows with both
        def keyed(it):
            sc = fw.scale(it.scale)
            x = pd.to_numeric(resp[it.id], errors="coerce")
            x = x.where(x.isin(sc.codes))
            return (sc.min + sc.max - x) if it.reverse else x
        others = [o for o in parent if o.domain == item.domain and o.id != item.id]
        rest = pd.concat([keyed(o) for o in others], axis=1).mean(axis=1)
        v = keyed(item)
        ok = v.notna() & rest.notna()
        want = np.corrcoef(v[ok], rest[ok])[0, 1]
        assert got == pytest.approx(want, abs=1e-9), item.id


def _framework_copy(tmp_path):
    target = tmp_path / "framework"
    shutil.copytree(FRAMEWORK_DIR, target)
    return target


def test_a_bad_ratings_file_stops_the_run_before_any_analysis(tmp_path):
    fw = _framework_copy(tmp_path)
    path = fw / "evidence" / "content_validity.csv"
    ratings = pd.read_csv(path, dtype=str, keep_default_na=False)
    ratings.loc[2, "relevance"] = "7"
    ratings.to_csv(path, index=False)
    with pytest.raises(InputError) as info:      # the framework's own check (load_framework) refuses it
        run(framework=fw, out=tmp_path / "out", log=lambda *_: None)
    problems = info.value.report.to_frame()
    bad = problems[problems["column"] == "relevance"]
    assert len(bad) == 1 and bad["row"].iloc[0] == 4 and str(bad["value"].iloc[0]) == "7"
    assert not (tmp_path / "out").exists()


def test_a_bad_quotes_file_stops_the_run_before_any_analysis(tmp_path):
    fw = _framework_copy(tmp_path)
    path = fw / "evidence" / "quotes.csv"
    quotes = pd.read_csv(path, dtype=str, keep_default_na=False)
    quotes.loc[0, "consent_to_quote"] = "maybe"
    quotes.to_csv(path, index=False)
    before = path.read_bytes()
    with pytest.raises(InputError) as info:
        run(framework=fw, out=tmp_path / "out", log=lambda *_: None)
    assert "unknown_code" in info.value.report.codes()
    bad = info.value.report.to_frame()
    assert (bad["column"] == "consent_to_quote").any() and (bad["value"].astype(str) == "maybe").any()
    assert not (tmp_path / "out").exists()
    assert path.read_bytes() == before          # the input is only read
