"""DIF: the ordinal models agree with MASS::polr, and the planted DIF item is found."""
import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit._ordinal import fit_ordinal
from measurekit.problems import InputError
from measurekit.scoring import item_values


@pytest.mark.r_fixture
def test_ordinal_regression_matches_mass_polr(fixtures_dir):
    d = pd.read_csv(fixtures_dir / "r" / "dif_sv4.csv")
    y = d["sv4"].astype(int).to_numpy() - 1
    designs = [d[["total"]].to_numpy(), d[["total", "group"]].to_numpy(),
               np.column_stack([d["total"], d["group"], d["total"] * d["group"]])]
    ref = pd.read_csv(fixtures_dir / "r" / "dif_polr_loglik.csv")["loglik"].to_numpy()
    fits = [fit_ordinal(X, y) for X in designs]
    for fit, ll in zip(fits, ref):
        assert fit.loglik == pytest.approx(ll, abs=1e-4)   # polr stops a little earlier than we do
    coef = pd.read_csv(fixtures_dir / "r" / "dif_polr_m3_coef.csv")["estimate"].to_numpy()
    np.testing.assert_allclose(np.concatenate([fits[2].beta, fits[2].zeta]), coef, atol=1e-4)


@pytest.fixture(scope="module")
def values(analysis_frame, cohort):
    resp = analysis_frame[analysis_frame.responded == 1]
    return item_values(resp, cohort.framework), resp


def test_planted_dif_is_flagged_by_home_language(values, cohort):
    v, resp = values
    truth = cohort.ground_truth["dif"]
    domain = next(d for d, info in cohort.ground_truth["domains"].items() if truth["item"] in info["items"])
    items = cohort.ground_truth["domains"][domain]["items"]
    english = resp[truth["group"]].eq(truth["reference"]).map({True: "English", False: "other"})
    res = mk.dif(v, items, english, reference="English")
    assert truth["item"] in res.flagged and len(res.flagged) <= 2
    row = res.table.set_index("item").loc[truth["item"]]
    assert row["p12"] < 1e-6 and row["dif_type"] in ("uniform", "both")
    multi = mk.dif(v, items, resp[truth["group"]], min_group=20, reference="English")
    assert truth["item"] in multi.flagged and len(multi.flagged) <= 2
    assert multi.table.set_index("item").loc[truth["item"], "df12"] == len(multi.groups) - 1
    ax = res.plot(truth["item"])
    assert ax.get_title().startswith(truth["item"])


def test_no_dif_flagged_where_none_was_planted(values, cohort):
    v, resp = values
    flagged = []
    for domain, info in cohort.ground_truth["domains"].items():
        flagged += mk.dif(v, info["items"], resp["fsm"].astype(str)).flagged
    assert len(flagged) <= 1, flagged


def test_r2_criterion_and_errors(values):
    v, resp = values
    items = ["sv1", "sv2", "sv3", "sv4"]
    g = resp["eal"].astype(str)
    res = mk.dif(v, items, g, criterion="r2", r2_cutoff=0.005)
    assert set(res.flagged) <= {"sv4"}
    with pytest.raises(InputError):
        mk.dif(v, ["sv1", "zz", "sv3"], g)
    with pytest.raises(InputError):
        mk.dif(v, items, pd.Series("one", index=v.index))
    with pytest.raises(InputError) as info:
        mk.dif(v, items, resp["home_language"])                     # several languages have < 50 respondents
    assert "Merge" in str(info.value)
    with pytest.raises(InputError):
        mk.dif(v.head(30), items, g.head(30))
