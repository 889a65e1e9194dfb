"""Cohort.analysis_frame: one row per child, the latest response, routine data joined by child_id."""
import numpy as np
import pandas as pd

from measurekit.data.cohort import Cohort
from measurekit.synth.cohort import make_cohort


def test_analysis_frame_joins_each_child_to_its_own_records_and_latest_response():
    c = make_cohort(400, 4, truth=False)
    t = {k: v.copy() for k, v in c.tables.items()}
    voice = t["voice_parent"]
    item = next(col for col in voice.columns if col not in ("response_id", "child_id", "form_language", "completed_on"))
    later = voice.iloc[:40].copy()
    later["response_id"] += "-later"
    later["completed_on"] = "2099-12-31"
    later[item] = -7                                   # a value no real answer has: it must win for these children
    t["voice_parent"] = pd.concat([later, voice]).reset_index(drop=True)   # the later answer comes first in the file
    t["eyfsp"] = pd.concat([t["eyfsp"].iloc[10:], t["eyfsp"].iloc[:3].assign(child_id=["ghost1", "ghost2", "ghost3"])])
    frame = Cohort(t).analysis_frame()

    assert list(frame["child_id"]) == list(t["children"]["child_id"])          # children order, nobody added
    got = frame.set_index("child_id")
    assert (got.loc[later["child_id"], item] == -7).all()
    others = voice.iloc[40:].sort_values("completed_on").drop_duplicates("child_id", keep="last").set_index("child_id")
    others = others.loc[~others.index.isin(later["child_id"])]
    assert np.array_equal(got.loc[others.index, item].to_numpy(float), others[item].to_numpy(float), equal_nan=True)
    no_eyfsp = c.tables["eyfsp"]["child_id"].iloc[:10]
    assert got.loc[no_eyfsp, "gld"].isna().all() and got.drop(index=no_eyfsp)["gld"].notna().all()
    elg = t["eyfsp"].set_index("child_id")["elg_listening"]
    kept = frame["child_id"][~frame["child_id"].isin(no_eyfsp)]
    assert (got.loc[kept, "elg_listening"].to_numpy() == elg.loc[kept].to_numpy()).all()
    assert frame["responded"].sum() == voice["child_id"].nunique()
    assert np.isin(frame["child_id"], ["ghost1", "ghost2", "ghost3"]).sum() == 0
