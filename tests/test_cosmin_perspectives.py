"""COSMIN boxes from two perspectives (issue 26): a topic planted to agree gets "+", one planted to diverge gets "-",
by the rule, not "?" by default.

The data are drawn here with known truth: on "Your home" the young person and the adviser rate the same true state
with small noise (population ICC about 0.9, limits of agreement within 2 points) and young people in accommodation
the return calls unsuitable are worse off (the known-groups hypothesis holds); on "Feeling safe and well" the adviser
rates 3 points lower with more noise (ICC well below 0.70) and the "suitable" group is the worse off (the hypothesis
is contradicted). The shares of the known-groups comparison are recomputed here with plain pandas.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from measurekit.design import load_framework
from measurekit.stats.cosmin import cosmin_table
from measurekit.stats.cosmin_perspectives import HYPOTHESES, known_groups
from measurekit.stats.perspectives import perspective_agreement

FOLDER = Path(__file__).resolve().parents[1] / "indicators" / "north-yorkshire-care-leavers"
AGREE, DIVERGE, UNRATED = "your_home", "safe_and_well", "learning_and_work"


@pytest.fixture(scope="module")
def fw():
    return load_framework(FOLDER)


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(26)
    n = 600
    ids = [f"YP{i:06d}" for i in range(n)]
    suitable = (rng.random(n) < 0.7).astype(int)
    true_home = rng.normal(6.5, 1.8, n) - 2.5 * (suitable == 0)      # unsuitable accommodation: worse home
    true_safe = rng.normal(6.5, 1.8, n) - 2.5 * (suitable == 1)      # contradicts the hypothesis on purpose

    def rate(x):
        return np.clip(np.round(x), 0, 10)

    rows = []
    for topic, true, shift, noise in ((AGREE, true_home, 0.0, 0.4), (DIVERGE, true_safe, -3.0, 1.5)):
        yp = rate(true + rng.normal(0, 0.4, n))
        adv = rate(true + shift + rng.normal(0, noise, n))
        rows.append(pd.DataFrame({"young_person_id": ids, "perspective": "young_person", "topic": topic, "rating": yp}))
        rows.append(pd.DataFrame({"young_person_id": ids, "perspective": "adviser", "topic": topic, "rating": adv}))
    long = pd.concat(rows, ignore_index=True)
    routine = pd.DataFrame({"young_person_id": ids, "accommodation_suitable": suitable})
    return long, routine


@pytest.fixture(scope="module")
def rated(fw, planted):
    long, routine = planted
    agreement = perspective_agreement(long, perspectives=("young_person", "adviser"), id="young_person_id",
                                      items=[AGREE, DIVERGE], framework=fw)
    own = long[long["perspective"] == "young_person"]
    kg = known_groups(own, routine, measure="accommodation_suitable", perspective_value="young_person", value=1,
                      threshold=4, id="young_person_id", items=[AGREE, DIVERGE], framework=fw)
    table = cosmin_table(framework=fw, perspectives={"agreement": agreement, "known_groups": kg}).table
    return agreement, kg, table


def _rating(table, indicator, prop):
    """The rating and result of one property of an indicator (one row per domain its item counts in: the same)."""
    rows = table[(table["indicator"] == indicator) & (table["property"] == prop)]
    assert len(rows) >= 1 and rows["rating"].nunique() == 1, (indicator, prop, rows)
    return rows.iloc[0]["rating"], rows.iloc[0]["result"]


def test_the_planted_truth_is_as_described(rated):
    agreement, _, _ = rated
    t = agreement.table.set_index("name")
    assert t.loc[AGREE, "icc2"] > 0.85 and t.loc[DIVERGE, "icc2"] < 0.5
    assert max(abs(t.loc[AGREE, "loa_low"]), abs(t.loc[AGREE, "loa_high"])) < 2
    assert t.loc[DIVERGE, "mean_diff"] > 2.5          # young person minus adviser: the adviser rates lower


def test_reliability_box_high_agreement_plus_divergent_minus(rated):
    _, _, table = rated
    assert _rating(table, "home_rated_7_or_more", "reliability")[0] == "+"
    assert _rating(table, "adviser_home_rated_7_or_more", "reliability")[0] == "+"
    assert _rating(table, "safe_rated_7_or_more", "reliability")[0] == "-"
    rating, text = _rating(table, "safe_rated_7_or_more", "reliability")
    assert "ICC(2,1)" in text and "young person and adviser" in text
    # a topic the perspectives' results do not cover keeps the rule's "?" (no evidence), not a default "+"/"-"
    assert _rating(table, "learning_rated_7_or_more", "reliability")[0] == "?"


def test_measurement_error_box_against_the_frameworks_agreement_margin(rated, fw):
    _, _, table = rated
    assert fw.analysis.perspectives.k == 2
    rating, text = _rating(table, "home_rated_7_or_more", "measurement error")
    assert rating == "+" and "k = 2" in text
    assert _rating(table, "safe_rated_7_or_more", "measurement error")[0] == "-"


def test_measurement_error_with_a_given_mic(fw, planted, rated):
    agreement, kg, _ = rated
    t = agreement.table.set_index("name")
    widest = max(abs(t.loc[AGREE, "loa_low"]), abs(t.loc[AGREE, "loa_high"]))
    tight = cosmin_table(framework=fw, mic=widest * 0.9, perspectives={"agreement": agreement,
                                                                      "known_groups": kg}).table
    assert _rating(tight, "home_rated_7_or_more", "measurement error")[0] == "-"
    loose = cosmin_table(framework=fw, mic=widest * 1.1, perspectives={"agreement": agreement,
                                                                      "known_groups": kg}).table
    assert _rating(loose, "home_rated_7_or_more", "measurement error")[0] == "+"


def test_known_groups_box_follows_the_planted_direction(rated):
    _, _, table = rated
    assert _rating(table, "home_rated_7_or_more", HYPOTHESES)[0] == "+"
    assert _rating(table, "safe_rated_7_or_more", HYPOTHESES)[0] == "-"
    rating, text = _rating(table, "learning_rated_7_or_more", HYPOTHESES)
    assert rating == "?" and "no hypothesis" in text


def test_known_groups_shares_recomputed_by_hand(planted, rated):
    long, routine = planted
    _, kg, _ = rated
    mine = long[long["perspective"] == "young_person"].merge(routine, on="young_person_id")
    for topic in (AGREE, DIVERGE):
        g = mine[mine["topic"] == topic]
        inside, outside = g[g["accommodation_suitable"] == 1], g[g["accommodation_suitable"] == 0]
        row = kg.set_index("name").loc[topic]
        assert row["n_in"] == len(inside) and row["n_out"] == len(outside)
        assert row["low_in"] == int((inside["rating"] <= 4).sum())
        assert row["low_out"] == int((outside["rating"] <= 4).sum())
        d = (outside["rating"] <= 4).mean() - (inside["rating"] <= 4).mean()
        assert row["difference"] == pytest.approx(d, abs=1e-12)
        assert row["ci_low"] < d < row["ci_high"]


def test_without_perspectives_the_table_is_as_before(fw):
    table = cosmin_table(framework=fw).table
    assert HYPOTHESES not in set(table["property"])
    assert set(table.loc[table["property"] == "reliability", "rating"]) == {"?"}


def test_inputs_are_not_modified(planted, fw):
    long, routine = planted
    before = long.copy(), routine.copy()
    known_groups(long[long["perspective"] == "young_person"], routine, measure="accommodation_suitable",
                 perspective_value="young_person", id="young_person_id", items=[AGREE], framework=fw)
    pd.testing.assert_frame_equal(long, before[0])
    pd.testing.assert_frame_equal(routine, before[1])


def test_item_cards_carry_the_agreement_between_perspectives(fw, rated):
    agreement, kg, _ = rated
    cards = cosmin_table(framework=fw, perspectives={"agreement": agreement, "known_groups": kg}).items
    cards = cards.drop_duplicates("item").set_index("item")
    t = agreement.table.set_index("name")
    assert cards.loc[AGREE, "icc2"] == pytest.approx(t.loc[AGREE, "icc2"]) and cards.loc[AGREE, "reliability"] == "+"
    assert cards.loc[DIVERGE, "reliability"] == "-"
    assert cards.loc[UNRATED, "reliability"] == "?" and np.isnan(cards.loc[UNRATED, "icc2"])


def test_known_groups_reuses_a_given_discordance_table(fw, planted, rated):
    """The main job passes the discordance table it already has (the ``_in`` side); the result is the same."""
    from measurekit.stats.perspectives import routine_discordance

    long, routine = planted
    _, kg, _ = rated
    own = long[long["perspective"] == "young_person"]
    kw = dict(measure="accommodation_suitable", perspective_value="young_person", value=1, threshold=4,
              id="young_person_id", items=[AGREE, DIVERGE], framework=fw)
    inside = routine_discordance(own, routine, **kw).table
    pd.testing.assert_frame_equal(known_groups(own, routine, inside=inside, **kw), kg)
