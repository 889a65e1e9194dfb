"""mk.retest: ICC(2,1)/ICC(3,1) with psych::ICC's F-based intervals (R fixture, 1e-6), SEM, SDC and weighted kappa."""
import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.problems import InputError
from measurekit.stats.retest import icc_table


@pytest.fixture(scope="module")
def r_icc(fixtures_dir):
    return pd.read_csv(fixtures_dir / "r" / "retest_icc.csv")


@pytest.fixture(scope="module")
def pairs(fixtures_dir):
    return pd.read_csv(fixtures_dir / "r" / "retest_pairs.csv")


@pytest.mark.parametrize("name, columns", [("item", ["item_1", "item_2"]), ("scale", ["scale_1", "scale_2"]),
                                           ("sf", None)])
def test_icc_table_matches_psych_icc(r_icc, pairs, fixtures_dir, name, columns):
    x = pd.read_csv(fixtures_dir / "r" / "retest_sf.csv") if columns is None else pairs[columns]
    ours = icc_table(x.to_numpy()).set_index("type")
    ref = r_icc[r_icc["name"] == name].set_index("type")
    for col in ["estimate", "F", "df1", "df2", "p_val", "ci_low", "ci_high"]:
        np.testing.assert_allclose(ours.loc[ref.index, col], ref[col], rtol=1e-6, atol=1e-9, err_msg=f"{name} {col}")


def test_retest_matches_psych_and_computes_sem_sdc_kappa(r_icc, pairs):
    from sklearn.metrics import cohen_kappa_score

    first = pairs[["id", "item_1"]].rename(columns={"item_1": "q1"})
    second = pairs[["id", "item_2"]].rename(columns={"item_2": "q1"}).iloc[::-1]   # order must not matter
    before = second.copy()
    res = mk.retest(first, second, items={"s": {"items": ["q1"], "min": 1, "max": 5}}, id="id")
    pd.testing.assert_frame_equal(second, before)
    row = res.table.set_index("name").loc["q1"]
    ref = r_icc[r_icc["name"] == "item"].set_index("type")
    assert row["n"] == 80 and res.n_pairs == 80
    for ours, (typ, col) in {"icc2": ("ICC2", "estimate"), "icc2_ci_low": ("ICC2", "ci_low"),
                             "icc2_ci_high": ("ICC2", "ci_high"), "icc3": ("ICC3", "estimate"),
                             "icc3_ci_low": ("ICC3", "ci_low"), "icc3_ci_high": ("ICC3", "ci_high")}.items():
        assert abs(row[ours] - ref.loc[typ, col]) < 1e-6, ours
    # measurement error by hand from the definitions
    a, b = pairs["item_1"].to_numpy(float), pairs["item_2"].to_numpy(float)
    sd = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    sem = sd * np.sqrt(1 - ref.loc["ICC2", "estimate"])
    assert row["sem"] == pytest.approx(sem, abs=1e-9) and row["sdc"] == pytest.approx(1.96 * np.sqrt(2) * sem, abs=1e-9)
    assert row["mean_diff"] == pytest.approx((b - a).mean())
    assert row["kappa_w"] == pytest.approx(cohen_kappa_score(a.astype(int), b.astype(int), weights="quadratic"))
    assert set(res.icc["type"]) == {"ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"}
    assert res.table.set_index("name").loc["voice_s", "icc2"] == pytest.approx(row["icc2"])


def test_retest_with_framework_reverse_keys_and_dont_know(framework_dir):
    fw = mk.load_framework(framework_dir)
    rng = np.random.default_rng(3)
    n = 60
    first = pd.DataFrame({"child_id": [f"C{k}" for k in range(n)],
                          **{i: rng.integers(1, 6, n) for i in ["wb1", "wb2", "wb3", "wb4"]}})
    second = first.copy()
    second.loc[:4, "wb1"] = 9                    # don't know at retest: not answered
    res = mk.retest(first, second, framework=fw)
    t = res.table.set_index("name")
    assert t.loc["wb1", "n"] == n - 5 and t.loc["wb2", "icc2"] == pytest.approx(1.0)
    assert t.loc["wb2", "sem"] == pytest.approx(0.0) and t.loc["wb2", "kappa_w"] == pytest.approx(1.0)
    assert "voice_family_wellbeing" in t.index and list(t["level"]).count("scale") == 1


def test_retest_errors_name_the_problem(pairs):
    first = pairs[["id", "item_1"]].rename(columns={"item_1": "q1"})
    with pytest.raises(InputError) as e:
        mk.retest(first, pd.concat([first, first.head(1)]), items=["q1"], id="id")
    assert e.value.report.problems[0].code == "duplicate_id" and e.value.report.problems[0].row == 82
    with pytest.raises(InputError) as e:
        mk.retest(first, first, items=["q1", "q2"], id="id")
    assert "unknown_item" in e.value.report.codes()
    with pytest.raises(InputError, match="child_id"):
        mk.retest(first, first, items=["q1"])


def test_integer_column_names_and_plain_scores():
    rng = np.random.default_rng(10)
    n = 120
    true = rng.normal(30, 8, n)
    first = pd.DataFrame({"child_id": range(n), 0: np.clip(np.round(true + rng.normal(0, 2, n)), 0, 60).astype(int)})
    second = pd.DataFrame({"child_id": range(n), 0: np.clip(np.round(true + rng.normal(0, 2, n)), 0, 60).astype(int)})
    res = mk.retest(first, second, items=[0])           # a 0-60 score: kappa over 61 codes (int8 overflow before)
    row = res.table.set_index("name").loc["0"]
    assert row["icc2"] > 0.8 and row["kappa_w"] > 0.8
    assert mk.retest(first, second, items=0).table.set_index("name").loc["0", "icc2"] == row["icc2"]
    # a score with decimals is not a set of answer codes: ICC, SEM and SDC, no kappa, no scale score
    frac1, frac2 = first.assign(**{"0": first[0] + 0.5}).drop(columns=0), second.assign(**{"0": second[0] / 2})
    frac2 = frac2.drop(columns=0)
    plain = mk.retest(frac1, frac2, items=["0"]).table
    assert plain["level"].tolist() == ["scale"] and np.isnan(plain["kappa_w"].iloc[0])
    assert plain["sdc"].iloc[0] == pytest.approx(1.96 * np.sqrt(2) * plain["sem"].iloc[0])
