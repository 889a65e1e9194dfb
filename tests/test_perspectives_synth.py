"""The two-perspective statistics recover what `measurekit synth` plants for the second illustrative framework
(ground_truth.json): the two diverging topics (flagged, CI covers the planted shift), the area with more missing
reviews from one perspective, the change per review, and the group whose routine record says "suitable" while its
rating of the planted topic is low. Everything is read from the framework's declarations and the ground truth;
skipped while the framework or its generator is not in this checkout."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

FRAMEWORK = Path(__file__).resolve().parents[1] / "indicators" / "north-yorkshire-care-leavers"
pytestmark = [pytest.mark.skipif(not (FRAMEWORK / "synthetic.yaml").exists(),
                                 reason="the second illustrative framework is not in this checkout")]


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    from measurekit.cli import main
    from measurekit.design import load_framework

    out = tmp_path_factory.mktemp("synth_perspectives")
    # the synth command in this process (it runs in a fresh interpreter in tests/conftest.py's second_site_run,
    # test_synth_declared and test_security): the same files, without a second interpreter's imports
    assert main(["synth", "--framework", str(FRAMEWORK), "--n", "1500", "--seed", "5", "--out", str(out)]) == 0
    fw = load_framework(FRAMEWORK)
    truth = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
    pop = fw.population
    people = pd.read_csv(out / f"{pop.table}.csv")
    voice = [t for t in fw.tables if t.kind == "voice" and not t.retest]
    rounds = {t.round for t in voice}
    assert len(voice) == 2 and len(rounds) == 1
    from measurekit.stats.perspectives import stack_perspectives

    items = [i.id for i in fw.items]
    tables = {t.respondent: pd.read_csv(out / f"{t.name}.csv").merge(people[[pop.id, pop.area]], on=pop.id)
              for t in voice}
    long = stack_perspectives(tables, items=items, id=pop.id, round=rounds.pop(), keep=[pop.area])
    return fw, truth, people, long, out


def _cols(fw):
    return dict(id=fw.population.id, round=[t.round for t in fw.tables if t.kind == "voice"][0])


def test_planted_divergence_is_flagged_and_covered(synth):
    from measurekit.stats.perspectives import perspective_divergence

    fw, truth, _, long, _ = synth
    first, second = sorted(long.perspective.unique())
    res = perspective_divergence(long, perspectives=(first, second), framework=fw, **_cols(fw))
    f = res.flagged.set_index("name")
    planted = {d["item"]: (d["shift"] if d["respondent"] == first else -d["shift"]) for d in truth["divergence"]}
    assert set(f.index[f.diverges & (f.level == "topic")]) == set(planted)
    for item, diff in planted.items():
        assert f.loc[item, "ci_low"] <= diff <= f.loc[item, "ci_high"], item


def test_planted_missing_area_is_found(synth):
    from measurekit.stats.perspectives import perspective_missingness

    fw, truth, people, long, _ = synth
    miss = truth["missing"]
    cols = _cols(fw)
    area = fw.population.area
    expected = people[[fw.population.id, area]].merge(pd.DataFrame({cols["round"]: range(1, truth["rounds"] + 1)}),
                                                      how="cross")
    first, second = sorted(long.perspective.unique())
    res = perspective_missingness(long, perspectives=(first, second), by=area, expected=expected, **cols)
    t = res.table[(res.table.name == "whole review") & (res.table.by == area) &
                  (res.table.perspective == miss["respondent"])].set_index("group")
    # a review row is kept with the planted probability (rounds a person never reached aside, counted as missing
    # here): the planted area's missing share stands out from every other area's
    worst = t["share_missing"].idxmax()
    assert worst == miss["area"]
    others = t.drop(index=miss["area"])
    assert t.loc[miss["area"], "ci_low"] > others["ci_high"].max()


def test_planted_change_per_review_is_covered(synth):
    from measurekit.stats.perspectives import review_change

    fw, truth, _, long, _ = synth
    res = review_change(long, framework=fw, **_cols(fw))
    t = res.table.set_index(["name", "perspective"])
    ch = res.changes
    for item, per_round in truth["change"].items():
        for who in long.perspective.unique():
            pairs = ch[(ch.name == item) & (ch.perspective == who)]
            expected = per_round * (pairs.to_round - pairs.from_round).mean()
            assert t.loc[(item, who), "ci_low"] <= expected <= t.loc[(item, who), "ci_high"], (item, who)
            assert t.loc[(item, who), "n_single"] > 0           # people with one review are counted
    flat = [i for i, v in truth["items"].items() if v["change_per_round"] == 0][0]
    for who in long.perspective.unique():
        assert t.loc[(flat, who), "ci_low"] <= 0 <= t.loc[(flat, who), "ci_high"]


def test_planted_discordant_group(synth):
    from measurekit.stats.perspectives import routine_discordance

    fw, truth, _, long, out = synth
    g = truth["discordant_group"]
    routine = pd.read_csv(out / f"{g['table']}.csv")
    routine = routine.assign(planted=np.where(routine[g["column"]] == g["value"], "planted", "other"))
    for who in long.perspective.unique():          # the planted shift is in the true state both perspectives rate
        res = routine_discordance(long, routine, measure=g["suitable_column"], value=1, perspective_value=who,
                                  by="planted", items=[g["item"]], framework=fw, **_cols(fw))
        t = res.table.set_index(["by", "group"])
        assert t.loc[("planted", "planted"), "n_measure"] == g["n"]        # every planted person is "suitable"
        assert t.loc[("planted", "planted"), "ci_low"] > t.loc[("planted", "other"), "ci_high"]
        row = t.loc[("planted", "planted")]
        assert row.denominator + row.n_unrated == row.n_measure and 0 < row.numerator <= row.denominator
