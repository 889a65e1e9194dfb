"""`measurekit synth` for a framework that declares its tables (issue 26, stage 4): the data validate against the
declaration, and the planted truths are recovered from the written CSV files by plain pandas here (not by the
generator's code): divergence between perspectives in two topics, more missing adviser ratings in one locality, a
group in "suitable" accommodation with low "Your home" ratings, change between reviews."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import run_cli
from measurekit.data import validate_dir
from measurekit.problems import InputError
from measurekit.synth.declared import make_declared_cohort, write_declared_cohort

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "indicators" / "north-yorkshire-care-leavers"


def _cli(*args):
    return run_cli(*args, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("ny") / "data"
    done = _cli("synth", "--framework", FOLDER, "--n", 500, "--seed", 3, "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def _read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv", dtype={"young_person_id": str})


def test_the_cli_writes_every_declared_table_and_validate_passes(written):
    names = {"young_people", "small_areas", "care_leaver_return", "voice_young_person", "voice_adviser"}
    assert {p.stem for p in written.glob("*.csv")} == names
    assert {p.name.removesuffix(".schema.json") for p in written.glob("*.schema.json")} == names
    done = _cli("validate", "--framework", FOLDER, written)
    assert done.returncode == 0 and "0 error(s)" in done.stdout, done.stdout + done.stderr
    assert len(_read(written, "young_people")) == 500
    voice = _read(written, "voice_young_person")
    assert sorted(voice["review_round"].unique()) == [1, 2, 3]
    assert not voice.duplicated(["young_person_id", "review_round"]).any()


def test_perspectives_diverge_in_the_two_planted_topics_only(written):
    truth = json.loads((written / "ground_truth.json").read_text())
    planted = {d["item"]: d["shift"] for d in truth["divergence"] if d["respondent"] == "adviser"}
    assert len(planted) == 2
    yp, adv = _read(written, "voice_young_person"), _read(written, "voice_adviser")
    both = yp.merge(adv, on=["young_person_id", "review_round"], suffixes=("_yp", "_adv"))
    assert len(both) > 900
    topics = [c.removesuffix("_yp") for c in both.columns if c.endswith("_yp") and c != "reviewed_on_yp"]
    assert len(topics) == 9
    for topic in topics:
        gap = (both[f"{topic}_adv"] - both[f"{topic}_yp"]).mean()
        assert abs(gap - planted.get(topic, 0.0)) < 0.25, (topic, gap)


def test_adviser_ratings_are_missing_more_in_one_locality(written):
    whole = json.loads((written / "ground_truth.json").read_text())
    truth, engaged = whole["missing"], whole["engaged"]["adviser"]      # 1: every young person has an adviser
    people = _read(written, "young_people")[["young_person_id", "locality"]]
    per_area = people["locality"].value_counts()

    def rate(name):
        rows = _read(written, name).merge(people, on="young_person_id")["locality"].value_counts()
        return rows / (per_area * 3)

    adviser, own = rate("voice_adviser"), rate("voice_young_person")
    area = truth["area"]
    # rows at each round: the engaged share times the per-round share (lower in the planted area)
    assert abs(adviser[area] - engaged * truth["response"]) < 0.08
    others = adviser.drop(area)
    assert (abs(others - engaged * truth["other_response"]) < 0.08).all(), others
    assert adviser[area] < others.min() - 0.2
    assert abs(own[area] - own.drop(area).mean()) < 0.08     # only the adviser perspective is missing there


def test_a_suitable_group_rates_your_home_low(written):
    g = json.loads((written / "ground_truth.json").read_text())["discordant_group"]
    ret = _read(written, "care_leaver_return")
    group = ret[g["column"]] == g["value"]
    assert group.sum() == g["n"] > 30
    assert (ret.loc[group, g["suitable_column"]] == 1).all()
    yp = _read(written, "voice_young_person").merge(ret, on="young_person_id")
    suitable = yp[yp[g["suitable_column"]] == 1]
    in_group = suitable[g["column"]] == g["value"]
    gap = suitable.loc[in_group, g["item"]].mean() - suitable.loc[~in_group, g["item"]].mean()
    assert abs(gap - g["shift"]) < 0.5, gap
    # the return alone cannot see it: the group is as "suitable" as anyone
    assert ret.loc[group, g["suitable_column"]].mean() >= ret.loc[~group, g["suitable_column"]].mean()


def test_non_response_can_cluster_within_people(tmp_path):
    """With ``voice: engaged:`` some people take part in no review from a perspective (as when a young person is
    not in touch): the share with no rating of their own at all is then the non-engaged share plus the engaged who
    missed every round, far above what independent misses at each round give."""
    copy = tmp_path / "fw"
    shutil.copytree(FOLDER, copy)
    text = (copy / "synthetic.yaml").read_text(encoding="utf-8")
    assert "  response:\n" in text
    (copy / "synthetic.yaml").write_text(text.replace("  response:\n", "  engaged:\n    young_person: 0.7\n"
                                                      "  response:\n", 1), encoding="utf-8")
    cohort = make_declared_cohort(2000, 4, framework=copy)
    truth = cohort.ground_truth
    rated = set(cohort.tables["voice_young_person"]["young_person_id"])
    never = 1 - cohort.tables["young_people"]["young_person_id"].isin(rated).mean()
    engaged, per_round = truth["engaged"]["young_person"], truth["response"]["young_person"]
    assert engaged == 0.7 and truth["engaged"]["adviser"] == 1.0
    expected = (1 - engaged) + engaged * (1 - per_round) ** truth["rounds"]
    assert abs(never - expected) < 0.03, (never, expected)
    assert never > 5 * (1 - per_round) ** truth["rounds"]


def test_ratings_change_between_reviews_as_planted(written):
    change = json.loads((written / "ground_truth.json").read_text())["change"]
    assert set(change) == {"your_future", "learning_and_work"}
    yp = _read(written, "voice_young_person")
    first = yp[yp["review_round"] == 1].set_index("young_person_id")
    third = yp[yp["review_round"] == 3].set_index("young_person_id")
    same = first.index.intersection(third.index)
    assert len(same) > 250
    for topic in ("your_future", "learning_and_work", "your_home", "safe_and_well"):
        moved = (third.loc[same, topic] - first.loc[same, topic]).mean()
        assert abs(moved - 2 * change.get(topic, 0.0)) < 0.3, (topic, moved)


def test_same_seed_same_bytes_and_the_cohort_reads_back(tmp_path):
    a = write_declared_cohort(make_declared_cohort(120, 5, framework=FOLDER), tmp_path / "a")
    b = write_declared_cohort(make_declared_cohort(120, 5, framework=FOLDER), tmp_path / "b")
    for p in sorted(a.iterdir()):
        assert p.read_bytes() == (b / p.name).read_bytes(), p.name
    from measurekit.data import read_dir

    cohort = read_dir(a, framework=FOLDER)
    frame = cohort.analysis_frame()
    assert len(frame) == 120 and {"responded", "your_home", "accommodation_suitable", "locality_code"} <= set(frame)


def test_without_a_profile_neutral_defaults_still_validate(tmp_path):
    copy = tmp_path / "fw"
    shutil.copytree(FOLDER, copy)
    (copy / "synthetic.yaml").unlink()
    out = write_declared_cohort(make_declared_cohort(80, 2, framework=copy), tmp_path / "data")
    report = validate_dir(out, framework=copy)
    assert report.ok and not report.errors, report.to_frame()


@pytest.mark.parametrize("old, new", [("item: your_home\n    shift", "item: your_flat\n    shift"),
                                      ("area: Scarborough", "area: Atlantis"),
                                      ("young_people.uasc:", "young_people.asylum:")])
def test_a_profile_naming_what_the_framework_lacks_is_refused(tmp_path, old, new):
    copy = tmp_path / "fw"
    shutil.copytree(FOLDER, copy)
    text = (copy / "synthetic.yaml").read_text(encoding="utf-8")
    assert old in text
    (copy / "synthetic.yaml").write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(InputError) as err:
        make_declared_cohort(60, 1, framework=copy)
    assert err.value.codes == ["bad_synthetic_profile"]
    assert err.value.report.problems[0].file == "synthetic.yaml"


def test_the_two_perspective_statistics_find_what_was_planted(written):
    """The generator's data through measurekit's own statistics for this design (stats/perspectives.py): the
    divergent topics are the flagged ones, the adviser's missing ratings peak in the planted locality, and the
    planted group in "suitable" accommodation rates "Your home" 4 or less far more often."""
    from measurekit.stats.perspectives import (
        perspective_divergence,
        perspective_missingness,
        routine_discordance,
        stack_perspectives,
    )

    truth = json.loads((written / "ground_truth.json").read_text())
    yp, adv = _read(written, "voice_young_person"), _read(written, "voice_adviser")
    people, ret = _read(written, "young_people"), _read(written, "care_leaver_return")
    items = [c for c in yp.columns if c not in ("young_person_id", "review_round", "reviewed_on", "form_language")]
    long = stack_perspectives({"young_person": yp, "adviser": adv}, items=items, id="young_person_id",
                              round="review_round")
    keys = dict(id="young_person_id", round="review_round", framework=FOLDER)
    div = perspective_divergence(long, perspectives=("adviser", "young_person"), **keys)
    topics = div.table[(div.table["level"] == "topic") & (div.table["by"] == "all")].set_index("name")
    flagged = set(topics.index[(topics["ci_high"] < -1.0)])
    assert flagged == {d["item"] for d in truth["divergence"]}, topics[["mean_diff", "ci_low", "ci_high"]]
    expected = people[["young_person_id", "locality"]].merge(pd.DataFrame({"review_round": [1, 2, 3]}), how="cross")
    miss = perspective_missingness(long.merge(people[["young_person_id", "locality"]], on="young_person_id"),
                                   perspectives=("young_person", "adviser"), by="locality", expected=expected, **keys)
    t = miss.table
    adviser = t[(t["perspective"] == "adviser") & (t["by"] == "locality")].groupby("group")["share_missing"].mean()
    assert adviser.idxmax() == truth["missing"]["area"] and adviser.max() > adviser.drop(adviser.idxmax()).max() + 0.2
    g = truth["discordant_group"]
    ret["planted"] = (ret[g["column"]] == g["value"]).map({True: "planted", False: "others"})
    dis = routine_discordance(long, ret[["young_person_id", g["suitable_column"], "planted"]],
                              measure=g["suitable_column"], perspective_value="young_person", threshold=4,
                              by="planted", items=[g["item"]], **keys).table.set_index("group")
    assert dis.loc["planted", "ci_low"] > dis.loc["others", "ci_high"], dis
