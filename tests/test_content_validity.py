"""mk.content_validity: I-CVI, S-CVI/Ave, S-CVI/UA and modified kappa checked by hand against Polit, Beck and
Owen (2007)'s definitions; flags written into item history; ratings template and XLSForm."""
import math
import shutil

import pandas as pd
import pytest

import measurekit as mk
from measurekit.problems import InputError

# 6 raters (3 parents, 3 practitioners) x 4 items. relevance: i1 all relevant; i2 X3 says 2; i3 P1 and X1 say
# 1/2; i4 only three raters say 3/4. clarity: i1 unclear for two raters, otherwise clear.
REL = {"i1": [4, 3, 4, 4, 3, 4], "i2": [4, 4, 3, 3, 4, 2], "i3": [2, 3, 4, 1, 3, 4], "i4": [1, 2, 3, 4, 2, 3]}
CLA = {"i1": [2, 4, 4, 2, 4, 3], "i2": [4] * 6, "i3": [3] * 6, "i4": [4] * 6}
RATERS = ["P1", "P2", "P3", "X1", "X2", "X3"]


def _ratings():
    rows = []
    for item in REL:
        for k, r in enumerate(RATERS):
            rows.append({"rater": r, "rater_group": "parent" if r.startswith("P") else "practitioner", "item": item,
                         "relevance": REL[item][k], "clarity": CLA[item][k], "comment": f"{r} on {item}"})
    return pd.DataFrame(rows)


def test_cvi_and_modified_kappa_by_hand():
    ratings = _ratings()
    before = ratings.copy()
    res = mk.content_validity(ratings)
    pd.testing.assert_frame_equal(ratings, before)
    t = res.items.set_index(["group", "item"])
    # all raters: N = 6; pc = C(6, A) / 64; k* = (I-CVI - pc) / (1 - pc), worked as fractions
    hand = {"i1": (1.0, 1 / 64, 1.0), "i2": (5 / 6, 6 / 64, 71 / 87), "i3": (4 / 6, 15 / 64, 83 / 147),
            "i4": (3 / 6, 20 / 64, 3 / 11)}
    for item, (icvi, pc, kappa) in hand.items():
        assert t.loc[("all", item), "i_cvi"] == pytest.approx(icvi)
        assert t.loc[("all", item), "pc"] == pytest.approx(pc)
        assert t.loc[("all", item), "kappa"] == pytest.approx(kappa)
    assert list(t.loc["all", "adequacy"]) == ["excellent", "excellent", "fair", "poor"]
    # Polit et al. table 2 (3 raters): A = 2 gives I-CVI .67, pc .375, k* .47 (fair)
    assert t.loc[("practitioner", "i2"), "kappa"] == pytest.approx(7 / 15) and t.loc[("practitioner", "i2"), "adequacy"] == "fair"
    assert t.loc[("parent", "i2"), "kappa"] == pytest.approx(1.0)
    s = res.scale.set_index("group")
    assert s.loc["all", "s_cvi_ave"] == pytest.approx((6 + 5 + 4 + 3) / 24)
    assert s.loc["all", "s_cvi_ua"] == pytest.approx(1 / 4)
    assert s.loc["parent", "s_cvi_ua"] == pytest.approx(2 / 4)     # parents: i1 and i2 unanimous
    # flags: i3, i4 on relevance; i1 on clarity (4 of 6 clear < 0.78); i2 only among practitioners
    assert res.flagged == ["i1", "i2", "i3", "i4"]
    assert not t.loc[("all", "i2"), "flagged"] and t.loc[("practitioner", "i2"), "flagged"]
    assert "clarity" in t.loc[("all", "i1"), "reason"] and t.loc[("all", "i1"), "clarity_cvi"] == pytest.approx(4 / 6)
    assert set(res.comments["item"]) == {"i1", "i2", "i3", "i4"}


@pytest.mark.parametrize("n, a, label", [(3, 2, "fair"), (4, 3, "good"), (5, 4, "excellent"), (5, 3, "fair"),
                                         (6, 4, "fair"), (9, 7, "excellent"), (8, 6, "good"), (6, 3, "poor")])
def test_adequacy_labels_follow_polit_table(n, a, label):
    from measurekit.design.content_validity import adequacy, chance_agreement, modified_kappa

    pc = math.factorial(n) / (math.factorial(a) * math.factorial(n - a)) / 2 ** n
    assert chance_agreement(n, a) == pytest.approx(pc)
    assert adequacy(modified_kappa(a / n, pc)) == label


def test_bad_ratings_are_reported_with_row_and_column(framework_dir):
    ratings = _ratings()
    ratings.loc[3, "relevance"] = 5
    ratings.loc[7, "item"] = "zz9"
    ratings = pd.concat([ratings, ratings.iloc[[0]]], ignore_index=True)
    with pytest.raises(InputError) as e:
        mk.content_validity(ratings, framework=framework_dir)
    probs = {p.code: p for p in e.value.report}
    assert probs["out_of_range"].row == 5 and probs["out_of_range"].column == "relevance"
    assert probs["duplicate_rating"].row == len(ratings) + 1
    assert probs["unknown_item"].value in {"i1", "zz9"}


def test_flags_go_into_item_history_and_save(framework_dir, tmp_path):
    from measurekit.design.content_validity import record_flags

    fw = mk.load_framework(framework_dir)
    ratings = _ratings()
    ratings["item"] = ratings["item"].map({"i1": "hl1", "i2": "hl2", "i3": "wb1", "i4": "sv4"})
    res = mk.content_validity(ratings, framework=fw)
    n_before = len(fw.item("wb1").history)
    shutil.copytree(framework_dir, tmp_path / "fw")
    fw.path = tmp_path / "fw"
    new = record_flags(fw, res, date="2025-03-01", save=True)
    assert len(fw.item("wb1").history) == n_before                      # input unchanged
    entry = new.item("wb1").history[-1]
    assert entry.status == "flagged" and new.item("wb1").status == "flagged"
    nums = {d["group"]: d for d in entry.content_validity}
    assert nums["all"]["kappa"] == round(83 / 147, 3) and nums["all"]["n_raters"] == 6
    assert "0.56" in entry.reason
    reloaded = mk.load_framework(tmp_path / "fw")
    assert reloaded.item("sv4").history[-1].status == "flagged"
    assert reloaded.item("hl3").history == fw.item("hl3").history


def test_template_and_xlsform_round_trip(framework_dir, tmp_path):
    from pyxform.xls2xform import convert

    from measurekit.design.content_validity import ratings_from_xlsform, ratings_template, write_ratings_xlsform

    fw = mk.load_framework(framework_dir)
    tpl = ratings_template(fw, {"A": "parent", "B": "practitioner"}, path=tmp_path / "ratings.csv")
    assert len(tpl) == 2 * len(fw.items) and (tmp_path / "ratings.csv").exists()
    xform = convert(xlsform=str(write_ratings_xlsform(fw, tmp_path / "cv.xlsx")), validate=False).xform
    assert "hl1_relevance" in xform and "sv4_clarity" in xform
    subs = pd.DataFrame([{"rater": "A", "rater_group": "parent",
                          **{f"{i.id}_relevance": 4 for i in fw.items}, **{f"{i.id}_clarity": 3 for i in fw.items}}])
    long = ratings_from_xlsform(subs)
    assert len(long) == len(fw.items) and mk.content_validity(long).items["i_cvi"].eq(1).all()
