import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.stats.agreement import icc, weighted_kappa
from measurekit.problems import InputError


@pytest.mark.r_fixture
def test_icc_and_weighted_kappa_match_psych(fixtures_dir):
    b = pd.read_csv(fixtures_dir / "r" / "bfi.csv")[["A2", "A3"]].dropna()
    ref = pd.read_csv(fixtures_dir / "r" / "agreement_bfi_a2_a3.csv").iloc[0]
    got = icc(b["A2"].to_numpy(), b["A3"].to_numpy())
    for k in ("icc1", "icc2", "icc3"):
        assert got[k] == pytest.approx(ref[k], abs=1e-9)
    assert weighted_kappa(b["A2"], b["A3"], range(1, 7)) == pytest.approx(ref["kappa_w"], abs=1e-9)


def test_parent_practitioner_agreement_on_synthetic_cohort(cohort, analysis_frame):
    parents = analysis_frame[analysis_frame.responded == 1]
    res = mk.agreement(parents, cohort.tables["voice_practitioner"], framework=cohort.framework)
    t = res.table.set_index("name")
    assert set(t.index) == {"cc1", "cc2", "cc3", "cc4", "voice_child_communication"}
    both = set(parents.child_id) & set(cohort.tables["voice_practitioner"].child_id)
    assert t.loc["voice_child_communication", "n"] <= len(both)
    # the generator plants moderate agreement and practitioners rating a little higher
    scale = t.loc["voice_child_communication"]
    assert 0.2 < scale["icc2"] < 0.8
    assert scale["mean_diff"] < 0 and scale["loa_low"] < scale["mean_diff"] < scale["loa_high"]
    assert (t.loc[["cc1", "cc2", "cc3", "cc4"], "icc2"] < scale["icc2"]).all()  # scales agree better than items


def test_agreement_errors(cohort):
    with pytest.raises(InputError):
        mk.agreement(pd.DataFrame({"x": [1]}), cohort.tables["voice_practitioner"], framework=cohort.framework)
    with pytest.raises(InputError):
        mk.agreement(pd.DataFrame({"child_id": ["a"], "hl1": [1]}), pd.DataFrame({"child_id": ["a"], "hl1": [2]}),
                     framework=cohort.framework)


def test_agreement_with_a_mapping_by_hand():
    rng = np.random.default_rng(5)
    n = 60
    true = rng.integers(1, 6, n)
    parent = pd.DataFrame({"child_id": [f"c{i}" for i in range(n)], "q1": true,
                           "q2": np.clip(true + rng.integers(-1, 2, n), 1, 5)})
    prac = parent.sample(frac=1, random_state=1).reset_index(drop=True)   # other row order: must join on child_id
    prac["q1"] = np.clip(prac["q1"] - rng.integers(0, 2, n), 1, 5)
    prac = prac[prac.child_id != "c0"]                                     # one child without a practitioner rating
    res = mk.agreement(parent, prac, framework={"d": {"items": ["q1", "q2"], "min": 1, "max": 5}})
    t = res.table.set_index("name")
    m = parent.merge(prac, on="child_id", suffixes=("_p", "_r"))
    d = m["q1_p"] - m["q1_r"]
    assert t.loc["q1", "n"] == n - 1
    assert t.loc["q1", "mean_diff"] == pytest.approx(d.mean())
    assert t.loc["q1", "loa_high"] == pytest.approx(d.mean() + 1.96 * d.std())
    assert t.loc["q2", "icc2"] == pytest.approx(1.0) and t.loc["q2", "mean_diff"] == 0
    from sklearn.metrics import cohen_kappa_score

    assert t.loc["q1", "kappa_w"] == pytest.approx(cohen_kappa_score(m["q1_p"], m["q1_r"], weights="quadratic"))
    assert set(t["level"]) == {"item", "scale"} and "voice_d" in t.index


# ------------------------------------------------------------ shorthand and items= (issue 13)
def _pairs(cohort, analysis_frame, cols):
    parents = analysis_frame[analysis_frame.responded == 1]
    prac = cohort.tables["voice_practitioner"]
    m = parents[["child_id", *cols]].merge(prac[["child_id", *cols]], on="child_id", suffixes=("_p", "_r"))
    return parents, prac, m


def test_shorthand_mapping_compares_every_pair(cohort, analysis_frame):
    parents, prac, m = _pairs(cohort, analysis_frame, ["cc1"])
    expected = int((m["cc1_p"].notna() & m["cc1_r"].notna()).sum())
    assert expected > 100
    res = mk.agreement(parents, prac, framework={"dom": ["cc1"]})
    t = res.table.set_index("name")
    assert t.loc["cc1", "n"] == expected and t.loc["voice_dom", "n"] == expected
    ok = m["cc1_p"].notna() & m["cc1_r"].notna()
    assert t.loc["cc1", "mean_diff"] == pytest.approx((m.loc[ok, "cc1_p"] - m.loc[ok, "cc1_r"]).mean())


def test_items_without_a_framework_names_the_columns(cohort, analysis_frame):
    parents, prac, m = _pairs(cohort, analysis_frame, ["cc1", "cc2"])
    res = mk.agreement(parents, prac, items=["cc2", "cc1"])
    t = res.table
    assert t["name"].tolist() == ["cc2", "cc1"] and set(t["level"]) == {"item"}
    ok = m["cc2_p"].notna() & m["cc2_r"].notna()
    assert t.set_index("name").loc["cc2", "n"] == ok.sum()
    assert t.set_index("name").loc["cc2", "mean_parent"] == pytest.approx(m.loc[ok, "cc2_p"].mean())
    with pytest.raises(InputError) as exc:
        mk.agreement(parents, prac, items=["cc1", "no_such_column"])
    assert exc.value.report.codes() == {"unknown_item"} and "no_such_column" in str(exc.value)


def _two_raters(seed=8, n=150, k=3, names=None):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n)
    names = names or [f"q{j}" for j in range(k)]
    rate = lambda: {nm: np.clip(np.round(3 + theta + rng.normal(0, 0.6, n)), 1, 5).astype(int) for nm in names}  # noqa: E731
    return (pd.DataFrame({"child_id": range(n), **rate()}), pd.DataFrame({"child_id": range(n), **rate()}))


def test_integer_column_names_work_as_text():
    parent, prac = _two_raters(names=[0, 1, 2])
    by_items = mk.agreement(parent, prac, items=[0, 1, 2])
    assert by_items.table["name"].tolist() == ["0", "1", "2"]
    assert (by_items.table["icc2"] > 0.5).all()
    by_mapping = mk.agreement(parent, prac, framework={"d": [0, 1, 2]})
    assert "voice_d" in by_mapping.table["name"].tolist()


def test_weighted_kappa_with_many_categories():
    """issue 31: pandas' category codes are int8, and code_a * m + code_b overflowed above 11 categories."""
    rng = np.random.default_rng(9)
    a = rng.integers(0, 61, 500)
    b = np.clip(a + rng.integers(-3, 4, 500), 0, 60)
    cats = range(61)
    k = weighted_kappa(a, b, cats)
    # quadratic-weighted kappa written out from its definition: 1 - sum w O / sum w E
    m = 61
    obs = np.zeros((m, m))
    np.add.at(obs, (a, b), 1)
    obs /= obs.sum()
    exp = np.outer(obs.sum(1), obs.sum(0))
    w = np.subtract.outer(np.arange(m), np.arange(m)) ** 2
    assert k == pytest.approx(1 - (w * obs).sum() / (w * exp).sum(), abs=1e-12)
    assert k > 0.95
