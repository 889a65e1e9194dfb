"""The synthetic generator's shortcuts give what the plain ways give (issue 30: the generator, faster, drawing the
same data). Each shortcut is compared with the plain computation written here, on data where the two could differ.
bench/bench_synth.py check compares whole cohorts, truths and files with another checkout's code."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from measurekit.core import paths
from measurekit.data.cohort import Cohort, _join_lookup
from measurekit.synth import cohort as single
from measurekit.synth import over_time


def _school():
    for folder in paths.bundled_frameworks().values():
        if "kind: eyfsp" in (folder / "framework.yaml").read_text(encoding="utf-8"):
            return folder
    pytest.skip("no bundled framework with an EYFSP table")


def test_text_columns_made_from_codes_are_what_pandas_makes_of_the_strings():
    rng = np.random.default_rng(5)
    for n in (1, 7, 3000, 0):
        days = np.datetime64("2019-09-01") + rng.integers(0, 400, n).astype("timedelta64[D]")
        if not n:
            assert pd.Series(single._id_strings("R", np.arange(0))).dtype == pd.Series([], dtype=object).dtype
            break
        pd.testing.assert_series_equal(pd.Series(single._day_strings(days)),
                                       pd.Series(np.datetime_as_string(days, unit="D")), check_exact=True)
        wide = np.datetime64("1900-01-01") + rng.integers(0, 80_000, n).astype("timedelta64[D]")   # by sorting
        pd.testing.assert_series_equal(pd.Series(single._day_strings(wide)),
                                       pd.Series(np.datetime_as_string(wide, unit="D")), check_exact=True)
        ids = rng.integers(0, 10**7, n)
        for width in (0, 5):
            pd.testing.assert_series_equal(pd.Series(single._id_strings("R", ids, width)),
                                           pd.Series([f"R{i:0{width}d}" for i in ids.tolist()], dtype=object)
                                           .astype(pd.Series(np.array(["x"], dtype=object)).dtype),
                                           check_exact=True)
        pool, idx = ["Expected", "Emerging", "Not assessed"], rng.integers(0, 3, n)
        if n:       # (no rows: pandas makes an empty column of Python strings an object column)
            pd.testing.assert_series_equal(pd.Series(single._strings(pool, idx)),
                                           pd.Series(np.array(pool, dtype=object)[idx]), check_exact=True)


def test_whole_numbers_and_ids_are_pandas_and_numpys_own():
    rng = np.random.default_rng(6)
    x = rng.integers(-1, 10, 500).astype(float)
    x[rng.random(500) < 0.2] = np.nan
    pd.testing.assert_extension_array_equal(single._whole_numbers(x), pd.array(x, dtype="Int64"))
    with pytest.raises((TypeError, ValueError)):        # not whole numbers: refused as pandas refuses them
        single._whole_numbers(np.array([1.5, 2.0]))
    for seed, n in ((1, 50), (2, 3000), (3, 200_000)):
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        assert np.array_equal(single._six_digit_ids(a, n), b.choice(np.arange(100000, 1000000), size=n, replace=False))
        assert a.random() == b.random()                 # and the stream goes on from the same place


def test_the_population_truths_columns_are_the_full_draws():
    """The truth's draw keeps values only in the columns it reads (the others hold zeros under their names): the
    analysis frame's kept columns are those of the full draw, value for value, for the bundled framework and one
    without a synthesis profile (other areas and defaults)."""
    import shutil
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare"
        shutil.copytree(_school(), bare)
        (bare / "synthetic.yaml").unlink()
        for folder in (_school(), bare):
            fw = single._framework(folder)
            names = single.load_profile(fw).names
            keep = ({i.id for i in fw.items} | {names.column("free_meals"), names.column("special_needs"),
                                                "gld", names.column("follow_up_outcome"), names.small_area,
                                                names.voice.date} | {f"asq_{d}" for d in single.ASQ_DOMAINS})
            full = single._simulate(2500, np.random.default_rng(3), fw, 1.0)
            lean = single._simulate(2500, np.random.default_rng(3), fw, 1.0, keep)
            assert names.rater_voice is None or names.rater_voice.name not in lean["tables"]
            a, b = Cohort(full["tables"], framework=fw).analysis_frame(), Cohort(lean["tables"],
                                                                                 framework=fw).analysis_frame()
            assert list(a.columns) == list(b.columns)                 # the same columns, in the same order
            read = [c for c in a.columns if c in keep | {"responded", "asq_total"} and c != names.voice.date]
            assert len(read) > 20
            pd.testing.assert_frame_equal(a[read], b[read], check_exact=True)
            unread = [c for c in a.columns if c.startswith("elg_")]
            assert unread and (b[unread] == 0).all().all() and not (a[unread] == 0).all().all()
            # the rows picked by the truth are the responders of the full draw
            assert (a["responded"].to_numpy() == full["responded"].astype(int)).all()


def _plain_analysis_joins(tables, pid="child_id"):
    """The joins of the analysis frame written with pandas merges alone (no shortcut): population, then each
    table's first row per person, then whether a response is linked."""
    frame = tables["children"].merge(tables["small_areas"][["small_area", "neighbourhood_code"]]
                                     .drop_duplicates("small_area"), on="small_area", how="left")
    for name in ("eyfsp", "asq", "later_outcome"):
        right = tables[name].drop_duplicates(pid)
        if name == "asq":
            right = right.assign(asq_total=right[[f"asq_{d}" for d in single.ASQ_DOMAINS]].sum(axis=1, min_count=5))
        frame = frame.merge(right, on=pid, how="left")
    voice = (tables["voice_parent"].sort_values([pid, "completed_on"], kind="stable")
             .drop_duplicates(pid, keep="last").drop(columns="response_id"))
    frame = frame.merge(voice, on=pid, how="left", indicator="_linked")
    frame.insert(frame.columns.get_loc("form_language"), "responded", (frame.pop("_linked") == "both").astype(int))
    return frame


def test_analysis_frame_shortcuts_join_as_merges_do():
    """Ids as pandas text (factorized by pyarrow) or as Python objects, aligned tables put beside the frame or
    merged, the lookup picked or merged (a child whose small area the lookup lacks): the same joins."""
    c = single.make_cohort(600, 8, truth=False)
    t = {k: v.copy() for k, v in c.tables.items()}
    t["asq"] = t["asq"].iloc[::-1].reset_index(drop=True)       # another order: not aligned
    as_objects = {k: v.assign(child_id=v["child_id"].astype(object)) for k, v in t.items() if "child_id" in v}
    plain = _plain_analysis_joins(t)
    for tables in (t, {**t, **as_objects}):
        frame = Cohort(tables).analysis_frame()
        shared = [col for col in plain.columns if col != "child_id"]
        assert list(frame.columns) == list(plain.columns)
        pd.testing.assert_frame_equal(frame[shared], plain[shared], check_exact=True)
    # a person answering twice (the later answer kept), an answer from someone not in the records, a person
    # without an EYFSP record (NaN filled as the merge fills: integers become floats)
    voice = t["voice_parent"]
    again = voice.iloc[:5].assign(completed_on="2099-01-01", response_id=lambda f: f["response_id"] + "-2")
    ghost = voice.iloc[:1].assign(child_id="ghost", response_id="R-ghost")
    messy = dict(t, voice_parent=pd.concat([again, voice, ghost], ignore_index=True),
                 eyfsp=t["eyfsp"].iloc[3:].reset_index(drop=True))
    frame, plain = Cohort(messy).analysis_frame(), _plain_analysis_joins(messy)
    pd.testing.assert_frame_equal(frame, plain, check_exact=True)
    assert frame["gld"].isna().sum() == 3 and frame["responded"].sum() == voice["child_id"].nunique()
    lacking = dict(t, small_areas=t["small_areas"].iloc[1:])       # one small area missing: merged, NaN there
    frame = Cohort(lacking).analysis_frame()
    assert frame["neighbourhood_code"].isna().sum() == (t["children"]["small_area"] == t["small_areas"]
                                                         ["small_area"].iloc[0]).sum() > 0


def test_lookup_join_is_the_merge():
    frame = pd.DataFrame({"sa": pd.array(["b", "a", "c", "a"], dtype="str"), "x": [1, 2, 3, 4]}, index=[5, 6, 7, 8])
    lookup = pd.DataFrame({"sa": pd.array(["a", "b", "c"], dtype="str"), "code": pd.array(["A", "B", "C"],
                                                                                          dtype="str")})
    pd.testing.assert_frame_equal(_join_lookup(frame, lookup, "sa", "code"),
                                  frame.merge(lookup, on="sa", how="left"), check_exact=True)
    ints = lookup.assign(code=[10, 20, 30])
    pd.testing.assert_frame_equal(_join_lookup(frame, ints, "sa", "code"), frame.merge(ints, on="sa", how="left"),
                                  check_exact=True)
    short = lookup.iloc[:2]
    pd.testing.assert_frame_equal(_join_lookup(frame, short, "sa", "code"), frame.merge(short, on="sa", how="left"),
                                  check_exact=True)


def test_population_values_by_period_are_pandas_group_means(monkeypatch):
    """The counted shares of each period's population draw are pandas' group means of the same draw."""
    monkeypatch.setattr(over_time, "_TRUTH_N", 20_000)
    fw = single._framework(_school())
    prof = over_time.load_profile(fw)
    plan = over_time._plan(prof, 3)
    got = over_time._draw_population(prof, plan, 2, 4)
    v, eyfsp = over_time._routine(20_000, np.random.default_rng([20270127, 4, 2]), prof, plan, 2)
    frame = pd.DataFrame({"area": np.array([a.name for a in prof.areas], dtype=object)[v["nb_idx"]],
                          "gld": eyfsp["gld"].to_numpy(), "fsm": v["fsm"], "has_asq": v["has_asq"],
                          "flagged": np.any([v["codes"][f"asq_{d}_zone"][1] == 0 for d in single.ASQ_DOMAINS],
                                            axis=0) & v["has_asq"]})
    want: dict = {"gld_percent": {}, "fsm_gap_pp": {}, "gld_flagged_percent": {}, "gld_unflagged_percent": {}}
    for area, g in [("LA", frame), *frame.groupby("area")]:
        want["gld_percent"][area] = round(100 * float(g["gld"].mean()), 3)
        want["fsm_gap_pp"][area] = round(100 * float(g.loc[g.fsm == 1, "gld"].mean()
                                                     - g.loc[g.fsm == 0, "gld"].mean()), 3)
        a = g[g["has_asq"]]
        want["gld_flagged_percent"][area] = round(100 * float(a.loc[a.flagged, "gld"].mean()), 3)
        want["gld_unflagged_percent"][area] = round(100 * float(a.loc[~a.flagged, "gld"].mean()), 3)
    assert got == want and {k: list(d) for k, d in got.items()} == {k: list(d) for k, d in want.items()}
    assert len(got["gld_percent"]) == 1 + len({a.name for a in prof.areas})
