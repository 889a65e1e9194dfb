"""Added value and discordance: recovery of the planted effect, null calibration, awkward data."""
import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.stats._numerics.logistic import add_intercept, auc, fit_logistic
from measurekit.problems import InputError
from measurekit.synth.cohort import make_cohort

BASE = ["fsm", "send", "eal", "sex", "summer_born", "asq_total", "gld"]


def _scored(cohort):
    f = cohort.analysis_frame()
    r = f[f.responded == 1]
    return pd.concat([r, mk.score(r, framework=cohort.framework)], axis=1)


@pytest.fixture(scope="module")
def scored(cohort):
    return _scored(cohort)


def _voice(frame):
    return [c for c in frame.columns if c.startswith("voice_")]


def test_detects_planted_voice_effect_and_covers_true_delta_auc(scored, cohort):
    v = mk.added_value(scored, "y1_phonics_pass", BASE, _voice(scored), n_boot=1000, random_state=1,
                       by=["fsm", "eal", "neighbourhood"])
    t = v.table.set_index("measure")
    assert v.p_val < 0.001
    assert t.loc["lr_chisq", "df"] == 4
    truth = cohort.ground_truth["later_outcome"]["population_delta_auc"]
    assert t.loc["auc", "ci_low"] <= truth <= t.loc["auc", "ci_high"]
    assert t.loc["brier", "difference"] < 0 and t.loc["cv_log_loss", "difference"] < 0
    assert v.n == len(scored.dropna(subset=BASE + _voice(scored) + ["y1_phonics_pass"]))
    assert len(v.by_group) == 2 + 2 + 5 and set(v.by_group["variable"]) == {"fsm", "eal", "neighbourhood"}
    assert v.dropped.attrs["n_dropped"] > 0 and any("left out" in w for w in v.warnings)


def test_logistic_fit_matches_glm_likelihood_equations(scored):
    """At the ML estimate the score equations X'(y - p) = 0 hold (what R's glm solves)."""
    data = scored.dropna(subset=["gld", "asq_total", "fsm"])
    X = add_intercept(data[["asq_total", "fsm"]].to_numpy(float))
    y = data["gld"].to_numpy(float)
    fit = fit_logistic(X, y)
    p = 1 / (1 + np.exp(-X @ fit.coef))
    assert np.abs(X.T @ (y - p)).max() < 1e-6 and fit.converged
    from sklearn.metrics import roc_auc_score

    assert auc(y, X @ fit.coef) == pytest.approx(roc_auc_score(y, X @ fit.coef), abs=1e-12)


@pytest.mark.slow
def test_lr_false_positive_rate_near_nominal_without_voice_effect(monkeypatch):
    """200 cohorts with the voice effect removed: the LR test rejects about 5% of the time."""
    from measurekit.core import paths
    from measurekit.design import load_framework
    from measurekit.synth import cohort as synth_cohort

    def p_value(seed, cv=0):
        c = make_cohort(3000, 1000 + seed, voice_effect=0.0, truth=False)
        s = _scored(c)
        return mk.added_value(s, "y1_phonics_pass", BASE, _voice(s), n_boot=0, cv=cv, by=()).p_val

    # the first cohort made as every user makes one (framework and its synthesis profile read from the folder), and
    # its added value with cross-validation as a user would ask for it ...
    first = p_value(0, cv=2)
    # ... then the framework and its synthesis profile (synthetic.yaml) read once for all 200 cohorts instead of
    # once per cohort (the same objects each time; make_cohort only reads them): about a fifth of the test's time;
    framework = load_framework(paths.BUNDLED_FRAMEWORK)
    read_profile = synth_cohort.load_profile
    profile = read_profile(framework)
    monkeypatch.setattr(synth_cohort, "_framework", lambda path: framework)
    monkeypatch.setattr(synth_cohort, "load_profile", lambda fw: profile if fw is framework else read_profile(fw))
    # and the sample's ground truth (true scores, propensities), which this test never reads, is not worked out: it
    # draws no random numbers, so the cohort's tables are the same (checked on the first seed just below)
    monkeypatch.setattr(synth_cohort, "_ground_truth", lambda *args: {})
    # nor the co-design tables (retest subsample, panel ratings, interview log): drawn from a child random stream
    # of their own, so the cohort's other tables are the same without them
    monkeypatch.setattr(synth_cohort, "_codesign", lambda *args: {"tables": {}, "truth": {}})
    # and added_value without cross-validation (cv=0): the out-of-sample log loss, which this test never reads, is
    # worked out after the LR test's p-value (3-7 ms of the 80-110 ms a cohort takes, measured in one process)
    p_values = [p_value(seed) for seed in range(200)]
    # the shared objects draw the same cohort and the LR test gives the same p-value without cross-validation (to
    # the bit)
    assert p_values[0] == first
    rejections = [p < 0.05 for p in p_values]
    rate = np.mean(rejections)
    # within 2 points of 5%, as the brief asks (the seeds are fixed, so this is deterministic;
    # the Monte Carlo SE with 200 seeds is 1.5 points: bench/null_calibration.py runs more)
    assert abs(rate - 0.05) <= 0.02, rate


def test_separation_is_warned_not_crashed(scored):
    data = scored.copy()
    data["leak"] = data["y1_phonics_pass"] * 10.0
    v = mk.added_value(data, "y1_phonics_pass", ["fsm"], ["leak"], n_boot=0)
    assert any("separation" in w for w in v.warnings)
    assert np.isfinite(v.table.set_index("measure").loc["lr_chisq", "difference"])


def test_group_with_no_events_and_all_missing_predictor(scored):
    data = scored.copy()
    data.loc[data.neighbourhood == "Pennines", "y1_phonics_pass"] = 1
    v = mk.added_value(data, "y1_phonics_pass", BASE, _voice(data), n_boot=0, by=["neighbourhood"])
    row = v.by_group.set_index("group").loc["Pennines"]
    assert "too small" in row["note"] and np.isnan(row.get("delta_auc", np.nan))
    data["empty"] = np.nan
    with pytest.raises(InputError) as info:
        mk.added_value(data, "y1_phonics_pass", BASE, ["empty"])
    assert "empty" in str(info.value)
    with pytest.raises(InputError):
        mk.added_value(data, "y1_phonics_pass", BASE, [])


def test_bootstrap_is_reproducible(scored):
    a = mk.added_value(scored, "gld", BASE[:-1], _voice(scored), n_boot=100, random_state=5, by=())
    b = mk.added_value(scored, "gld", BASE[:-1], _voice(scored), n_boot=100, random_state=5, by=())
    pd.testing.assert_frame_equal(a.table, b.table)
    fig = a.plot()
    assert len(fig.axes) == 2


def test_discordance_counts_and_intervals(scored):
    data = scored.copy()
    data["voice_need"] = (data["voice_child_communication"] < 3).astype(float)
    data.loc[data["voice_child_communication"].isna(), "voice_need"] = np.nan
    d = mk.discordance(data, "gld", "voice_need", by="neighbourhood").table.set_index("group")
    ok = data.dropna(subset=["gld", "voice_need"])
    expected = int(((ok.gld == 1) & (ok.voice_need == 1)).sum())
    assert d.loc["all", "gld_with_need"] == expected
    assert d.drop("all")["gld_with_need"].sum() == expected
    row = d.loc["all"]
    assert row["ci_low_gld_with_need"] < row["rate_gld_with_need"] < row["ci_high_gld_with_need"]


@pytest.mark.r_fixture
def test_lr_test_and_coefficients_match_r_glm(fixtures_dir):
    d = pd.read_csv(fixtures_dir / "r" / "value_seed1_complete.csv")
    ref = pd.read_csv(fixtures_dir / "r" / "value_glm_lr.csv").iloc[0]
    v = mk.added_value(d, "y1_phonics_pass", BASE, _voice(d), n_boot=0, by=())
    t = v.table.set_index("measure")
    assert t.loc["log_likelihood", "base"] == pytest.approx(ref["loglik_base"], abs=1e-6)
    assert t.loc["log_likelihood", "full"] == pytest.approx(ref["loglik_full"], abs=1e-6)
    assert t.loc["lr_chisq", "difference"] == pytest.approx(ref["lr_chisq"], abs=1e-6)
    assert t.loc["lr_chisq", "df"] == ref["df"]
    assert v.p_val == pytest.approx(ref["p_val"], rel=1e-6)
    from measurekit.stats._numerics.design_matrix import design_matrix

    X, _ = design_matrix(d, BASE + _voice(d), reference={"send": "none", "sex": "F"})
    coef = fit_logistic(add_intercept(X.to_numpy()), d["y1_phonics_pass"].to_numpy(float)).coef
    r_coef = pd.read_csv(fixtures_dir / "r" / "value_glm_coef.csv")["estimate"].to_numpy()
    ours = dict(zip(["(Intercept)", *X.columns], coef))
    r_names = pd.read_csv(fixtures_dir / "r" / "value_glm_coef.csv")["term"]
    mapping = {"sendehc_plan": "send_ehc_plan", "sendsen_support": "send_sen_support", "sexM": "sex_M"}
    for name, est in zip(r_names, r_coef):
        assert ours[mapping.get(name, name)] == pytest.approx(est, abs=1e-6), name


# ------------------------------------------------------------ odd input (issue 13)
@pytest.mark.r_fixture
@pytest.mark.parametrize("case,extra", [("constant", ["const"]), ("collinear", ["twice"]), ("both", ["const", "twice"])])
def test_constant_or_collinear_new_predictor_is_dropped_as_r_does(fixtures_dir, case, extra):
    d = pd.read_csv(fixtures_dir / "r" / "value_seed1_complete.csv")
    d["const"] = 1
    d["twice"] = 2 * d["voice_home_learning"] + 1
    ref = pd.read_csv(fixtures_dir / "r" / "value_aliased_lr.csv").set_index("case").loc[case]
    with np.errstate(all="raise"):
        v = mk.added_value(d, "y1_phonics_pass", BASE, ["voice_home_learning", *extra], n_boot=0, by=())
    t = v.table.set_index("measure")
    assert t.loc["lr_chisq", "df"] == ref["df"] == 1
    assert t.loc["lr_chisq", "difference"] == pytest.approx(ref["lr_chisq"], abs=1e-6)
    assert t.loc["log_likelihood", "full"] == pytest.approx(ref["loglik_full"], abs=1e-6)
    assert v.p_val == pytest.approx(ref["p_val"], rel=1e-5)
    note = [w for w in v.warnings if "left out" in w]
    assert len(note) == 1 and all(name in note[0] for name in ref["aliased"].split())


def test_only_constant_new_predictors_is_a_clear_error(scored):
    data = scored.assign(same=3.0)
    with pytest.raises(InputError) as exc:
        mk.added_value(data, "y1_phonics_pass", BASE, ["same"], n_boot=0, by=())
    assert exc.value.report.codes() == {"aliased_predictor"} and "same" in str(exc.value)


def test_cv_zero_means_no_cross_validation_and_bad_options_are_errors(scored):
    import warnings as w

    with w.catch_warnings():
        w.simplefilter("error")                     # no divide-by-zero RuntimeWarning
        v = mk.added_value(scored, "y1_phonics_pass", BASE, _voice(scored), n_boot=0, cv=0, by=())
    t = v.table.set_index("measure")
    assert np.isnan(t.loc["cv_log_loss", "difference"]) and np.isfinite(t.loc["lr_chisq", "difference"])
    for bad in ({"cv": 1}, {"cv": -2}, {"cv": 2.5}, {"n_boot": -1}, {"level": 1.5}, {"cv": 10 ** 9}):
        with pytest.raises(InputError) as exc:
            mk.added_value(scored, "y1_phonics_pass", BASE, _voice(scored), **{"n_boot": 0, "by": (), **bad})
        assert exc.value.report.codes() == {"bad_option"}, bad


def test_new_predictor_constant_within_a_group_is_noted_not_crashed(scored):
    data = scored.copy()
    data["flag"] = np.where(data["fsm"] == 1, 1.0, np.random.default_rng(0).normal(size=len(data)))
    v = mk.added_value(data, "y1_phonics_pass", BASE, ["flag"], n_boot=0, by=("fsm",), min_group=50)
    g = v.by_group.set_index("group")
    assert "do not vary" in g.loc["1", "note"] and g.loc["0", "df"] == 1


def test_numbers_stored_as_text_are_read_as_numbers_with_a_warning():
    """issue 31: a voice score read from a CSV as text was dummy coded, one category per value, silently."""
    rng = np.random.default_rng(12)
    n = 600
    fsm = rng.integers(0, 2, n)
    voice = np.round(rng.uniform(1, 5, n), 1)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-0.5 - 0.6 * fsm + 0.5 * (voice - 3))))).astype(int)
    numeric = pd.DataFrame({"y": y, "fsm": fsm, "voice": voice})
    text = numeric.assign(voice=numeric["voice"].map(lambda v: f" {v} "))
    text.loc[3, "voice"] = ""                                   # a blank cell is missing, not a category
    before = text.copy()
    got = mk.added_value(text, "y", base=["fsm"], new=["voice"], n_boot=0, cv=None, by=())
    want = mk.added_value(numeric.assign(voice=numeric["voice"].where(numeric.index != 3)), "y", base=["fsm"],
                          new=["voice"], n_boot=0, cv=None, by=())
    assert got.table.set_index("measure").loc["lr_chisq", "df"] == 1
    assert got.p_val == pytest.approx(want.p_val, rel=1e-9)
    assert any("numbers stored as text" in w and "voice" in w for w in got.warnings)
    pd.testing.assert_frame_equal(text, before)
    as_categories = mk.added_value(text.assign(voice=text["voice"].astype("category")), "y", base=["fsm"],
                                   new=["voice"], n_boot=0, cv=None, by=())
    assert not any("numbers stored as text" in w for w in as_categories.warnings)


def test_fitted_risks_are_the_two_models_the_table_reports(scored):
    """AddedValueResult.fitted_risks (what the trial report's ROC and calibration charts draw): one row per child
    analysed, and the AUC and Brier score computed here from it by hand are the table's."""
    v = mk.added_value(scored, "gld", BASE, _voice(scored), n_boot=0, cv=0)
    risks = v.fitted_risks()
    assert list(risks.columns) == ["y", "p_base", "p_full"] and len(risks) == v.n
    assert int(risks["y"].sum()) == v.n_events
    t = v.table.set_index("measure")
    y = risks["y"].to_numpy()
    for col, model in (("p_base", "base"), ("p_full", "full")):
        p = risks[col].to_numpy()
        pos, neg = p[y == 1], p[y == 0]
        # Mann-Whitney form of the AUC, ties counted one half: independent of the package's auc()
        hand_auc = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (
            len(pos) * len(neg))
        assert hand_auc == pytest.approx(t.loc["auc", model], abs=1e-12)
        assert np.mean((p - y) ** 2) == pytest.approx(t.loc["brier", model], abs=1e-12)


def test_a_separated_resample_gives_no_overflow_warning():
    """A bootstrap resample in which an outcome is separated drives the linear predictor to hundreds: exp() of it
    overflows to inf, which is the probability 0 it stands for; the analyst sees no RuntimeWarning (they did with
    `measurekit run --trial-sample 200`), and the fit still moves towards separation."""
    import warnings

    from measurekit.stats._numerics.logistic import fit_logistic_batch

    x = np.linspace(-3, 3, 40)
    X = add_intercept(x[:, None])
    y = (x > 0).astype(float)                                    # perfectly separated
    W = np.ones((3, len(x)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coef, loglik, _ = fit_logistic_batch(X, y, W, start=np.array([0.0, 400.0]))
    assert np.all(np.isfinite(loglik)) and np.all(coef[:, 1] > 100)
