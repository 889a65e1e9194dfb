import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.problems import InputError


def test_coverage_shows_planted_under_response(analysis_frame, cohort):
    cov = mk.coverage(analysis_frame, responded="responded", by=["neighbourhood", "eal", "fsm", "send", "home_language", "mobility"])
    t = cov.table.set_index(["variable", "group"])
    assert t.loc[("eal", "1"), "response_rate"] < t.loc[("eal", "0"), "response_rate"] - 0.1
    assert t.loc[("mobility", "1"), "representation"] < 1 < t.loc[("mobility", "0"), "representation"]
    assert t.loc[("neighbourhood", "Rochdale South"), "response_rate"] < t.loc[("neighbourhood", "Pennines"), "response_rate"]
    assert cov.r_indicator < 0.9
    # the estimated propensities track the true ones
    true_p = analysis_frame["child_id"].map(cohort.ground_truth["response"]["propensity"])
    assert np.corrcoef(cov.propensity, true_p)[0, 1] > 0.6
    assert "eal" in cov.summary.set_index("measure").loc["who_is_missing", "value"] or \
        "home_language" in cov.summary.set_index("measure").loc["who_is_missing", "value"]
    # passing the survey frame gives the same answer as the flag
    responses = cohort.tables["voice_parent"]
    same = mk.coverage(analysis_frame, responded=responses, by=["eal"], id_col="child_id")
    assert same.table["n_responded"].sum() == analysis_frame["responded"].sum()


def test_raking_matches_margins_and_improves_neighbourhood_means(analysis_frame, cohort):
    by = ["neighbourhood", "eal", "fsm", "mobility", "idaci_decile"]
    w = mk.response_weights(analysis_frame, responded="responded", by=by)
    m = w.margins
    assert np.allclose(m["weighted_share"], m["cohort_share"], atol=1e-6)
    assert w.weights.sum() == pytest.approx(len(analysis_frame))
    assert w.weights.max() <= 5 * w.weights.mean() + 1e-9
    assert 0 < w.n_eff < len(w.weights)
    resp = analysis_frame[analysis_frame.responded == 1]
    scored = resp.join(mk.score(resp, framework=cohort.framework))
    truth = cohort.ground_truth["full_cohort_domain_means"]
    err_u, err_w = [], []
    for col in [c for c in scored.columns if c.startswith("voice_")]:
        est = mk.weighted_estimates(scored, col, w.weights, by="neighbourhood")
        for r in est.itertuples():
            err_u.append(abs(r.mean - truth[r.group][col]))
            err_w.append(abs(r.weighted_mean - truth[r.group][col]))
            assert r.weighted_ci_low < r.weighted_mean < r.weighted_ci_high
    assert np.mean(err_w) < np.mean(err_u)


def test_weighting_reports_empty_groups_and_bad_input(analysis_frame):
    data = analysis_frame.copy()
    data.loc[data.home_language == "Arabic", "responded"] = 0
    w = mk.response_weights(data, responded="responded", by=["home_language"])
    assert any("Arabic" in x for x in w.warnings)
    with pytest.raises(InputError):
        mk.response_weights(data, responded="responded", by=["nope"])
    none = data.assign(responded=0)
    with pytest.raises(InputError):
        mk.response_weights(none, responded="responded", by=["eal"])


def test_blank_group_is_a_clear_error():
    rng = np.random.default_rng(11)
    n = 300
    cohort = pd.DataFrame({"child_id": range(n), "area": rng.choice(["a", "b", "c"], n),
                           "eal": rng.integers(0, 2, n).astype(float), "responded": rng.integers(0, 2, n)})
    cohort.loc[5, "eal"] = np.nan
    cohort.loc[5, "responded"] = 1
    for call in (mk.response_weights, mk.coverage):
        with pytest.raises(InputError) as info:
            call(cohort, responded="responded", by=["area", "eal"])
        p = info.value.report.problems[0]
        assert (p.code, p.column, p.row) == ("missing_group", "eal", 7)
    ok = mk.response_weights(cohort.assign(eal=cohort["eal"].fillna(-1)), responded="responded", by=["area", "eal"])
    assert ok.weights.sum() == pytest.approx(n)
