"""The synthetic cohort: realistic marginals and the planted ground truth."""
import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest

from measurekit.synth.cohort import make_cohort, write_cohort


def test_marginals_look_like_the_borough(analysis_frame):
    f = analysis_frame
    assert len(f) == 3000
    assert 0.58 <= f["gld"].mean() <= 0.64
    fsm_gap = f.loc[f.fsm == 0, "gld"].mean() - f.loc[f.fsm == 1, "gld"].mean()
    eal_gap = f.loc[f.eal == 0, "gld"].mean() - f.loc[f.eal == 1, "gld"].mean()
    assert 0.15 <= fsm_gap <= 0.25
    assert 0.04 <= eal_gap <= 0.10
    by_nb = f.groupby("neighbourhood")["gld"].mean()
    assert set(by_nb.index) == {"Heywood", "Middleton", "Pennines", "Rochdale North", "Rochdale South"}
    assert by_nb.max() - by_nb.min() >= 0.10
    assert 0.05 <= f["asq_total"].isna().mean() <= 0.2
    assert 0.5 <= f["responded"].mean() <= 0.7


def test_neighbourhoods_differ_in_deprivation_eal_and_mobility(analysis_frame):
    g = analysis_frame.groupby("neighbourhood")[["idaci_decile", "eal", "mobility"]].mean()
    assert g["idaci_decile"].max() - g["idaci_decile"].min() > 2
    assert g["eal"].max() - g["eal"].min() > 0.3
    assert g["mobility"].max() - g["mobility"].min() > 0.15


def test_small_area_codes_are_synthetic_and_lookup_is_consistent(cohort):
    sa = cohort.tables["small_areas"]
    assert sa["small_area"].str.startswith("SYN-").all()
    merged = cohort.tables["children"].merge(sa, on="small_area", suffixes=("", "_lookup"))
    assert len(merged) == 3000
    assert (merged["neighbourhood"] == merged["neighbourhood_lookup"]).all()


def test_non_response_follows_the_seldom_heard_trait(cohort, analysis_frame):
    gt = cohort.ground_truth["response"]
    s = analysis_frame["child_id"].map(gt["seldom_heard_value"])
    r = analysis_frame["responded"]
    # responders have a lower seldom-heard trait, and response falls across its quartiles
    assert s[r == 1].mean() < s[r == 0].mean() - 0.3
    by_quartile = r.groupby(pd.qcut(s, 4)).mean().to_numpy()
    assert np.all(np.diff(by_quartile) < 0)
    p = analysis_frame["child_id"].map(gt["propensity"])
    assert abs(p.mean() - r.mean()) < 0.03


def test_ground_truth_is_complete(cohort, framework_dir):
    from measurekit.design import load_framework

    fw = load_framework(framework_dir)
    gt = cohort.ground_truth
    assert gt["n_factors"] == len(fw.domains) == 4
    for d in fw.domains:
        info = gt["domains"][d.id]
        assert info["items"] == [i.id for i in fw.items_in(d.id)]
        assert 0.6 < info["true_reliability"] < 0.9
    assert gt["dif"]["item"] in fw.item_ids()
    lo = gt["later_outcome"]
    assert 0.005 < lo["population_delta_auc"] < 0.05
    assert set(gt["full_cohort_domain_means"]) == set(cohort.tables["children"]["neighbourhood"])


def test_items_come_from_the_spec(cohort, framework_dir):
    from measurekit.design import load_framework

    fw = load_framework(framework_dir)
    voice = cohort.tables["voice_parent"]
    assert [c for c in voice.columns if c in fw.item_ids()] == fw.item_ids("parent")
    prac = cohort.tables["voice_practitioner"]
    assert [c for c in prac.columns if c in fw.item_ids(None)] == fw.item_ids("practitioner")
    codes = set(pd.unique(voice[fw.item_ids()].stack().dropna()))
    assert codes <= set(fw.scale("agree5").valid_codes)


def test_planted_dif_is_visible_in_raw_means(analysis_frame, cohort):
    """At similar levels of the other services items, sv4 is lower for non-English home languages."""
    from measurekit.stats.scoring import item_values

    v = item_values(analysis_frame[analysis_frame.responded == 1], framework=cohort.framework)
    lang = analysis_frame.loc[v.index, "home_language"] != "English"
    rest = v[["sv1", "sv2", "sv3"]].mean(axis=1).round()
    gap_dif = (v["sv4"][~lang] .groupby(rest).mean() - v["sv4"][lang].groupby(rest).mean()).mean()
    gap_ok = (v["sv1"][~lang].groupby(rest).mean() - v["sv1"][lang].groupby(rest).mean()).mean()
    assert gap_dif > gap_ok + 0.2


def test_voice_effect_zero_removes_the_outcome_dependence():
    c = make_cohort(3000, 5, voice_effect=0.0, truth=False)
    assert c.ground_truth["later_outcome"]["coefficients"]["voice_latents"]["home_learning"] == 0.0


def test_same_seed_same_bytes(tmp_path):
    hashes = []
    for k in range(2):
        out = write_cohort(make_cohort(300, 11), tmp_path / f"run{k}")
        hashes.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())})
    assert hashes[0] == hashes[1]
    other = write_cohort(make_cohort(300, 12), tmp_path / "other")
    assert hashlib.sha256((other / "children.csv").read_bytes()).hexdigest() != hashes[0]["children.csv"]


# Numbers in ground_truth.json agree to this absolute tolerance. They are probabilities, AUCs, ICCs and model
# coefficients on unit scale; the population figures come from iterative fits (logistic regression stopping at a
# relative deviance change of 1e-10) over a very large draw, whose last digits move with numpy/scipy/BLAS releases
# (population_auc_base moved by 5e-8 between releases), and figures rounded to 6 decimals can flip in the last place.
GROUND_TRUTH_ABS_TOL = 2e-6


def _same_truth(fresh, shipped, where="ground_truth"):
    """Structure, keys, strings, integers and booleans exactly; floats within GROUND_TRUTH_ABS_TOL."""
    if isinstance(shipped, float) or isinstance(fresh, float):
        assert isinstance(fresh, (int, float)) and isinstance(shipped, (int, float)), where
        assert not isinstance(fresh, bool) and not isinstance(shipped, bool), where
        assert math.isclose(fresh, shipped, rel_tol=0.0, abs_tol=GROUND_TRUTH_ABS_TOL), (where, fresh, shipped)
    elif isinstance(shipped, dict):
        assert isinstance(fresh, dict) and list(fresh) == list(shipped), (where, list(fresh), list(shipped))
        for key in shipped:
            _same_truth(fresh[key], shipped[key], f"{where}.{key}")
    elif isinstance(shipped, list):
        assert isinstance(fresh, list) and len(fresh) == len(shipped), where
        for i, (a, b) in enumerate(zip(fresh, shipped)):
            _same_truth(a, b, f"{where}[{i}]")
    else:
        assert type(fresh) is type(shipped) and fresh == shipped, (where, fresh, shipped)


def test_shipped_cohort_is_the_seed_1_cohort(synthetic_dir, tmp_path):
    out = write_cohort(make_cohort(3000, 1), tmp_path / "fresh")
    for path in sorted(synthetic_dir.glob("*.csv")) + [synthetic_dir / "README.md"]:
        assert (out / path.name).read_bytes() == path.read_bytes(), path.name
    _same_truth(json.loads((out / "ground_truth.json").read_text(encoding="utf-8")),
                json.loads((synthetic_dir / "ground_truth.json").read_text(encoding="utf-8")))


def test_ground_truth_comparison_is_not_blind():
    """The tolerant comparison still catches a changed number, key, string or type."""
    base = {"a": 0.5, "b": [1, "x", {"c": 0.25}]}
    _same_truth(base, json.loads(json.dumps(base)))
    _same_truth({"a": 0.5 + 1e-7, "b": [1, "x", {"c": 0.25}]}, base)
    for changed in ({"a": 0.5 + 1e-4, "b": [1, "x", {"c": 0.25}]}, {"a": 0.5, "b": [2, "x", {"c": 0.25}]},
                    {"a": 0.5, "b": [1, "y", {"c": 0.25}]}, {"a": 0.5, "b": [1, "x", {"d": 0.25}]},
                    {"a": 0.5, "b": [1, "x"]}, {"a": "0.5", "b": [1, "x", {"c": 0.25}]}):
        with pytest.raises(AssertionError):
            _same_truth(changed, base)


@pytest.mark.parametrize("name", ["children", "small_areas", "eyfsp", "asq", "voice_parent", "voice_practitioner", "later_outcome",
                                  "voice_retest", "panel_ratings", "cognitive_interviews"])
def test_shipped_files_pass_frictionless_validation(synthetic_dir, name):
    from frictionless import Resource, Schema

    schema = Schema.from_descriptor(json.loads((synthetic_dir / f"{name}.schema.json").read_text()))
    schema.foreign_keys = []  # checked across files by measurekit's own validation
    report = Resource(path=f"{name}.csv", basepath=str(synthetic_dir), schema=schema).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    described = {f.name for f in schema.fields}
    header = (synthetic_dir / f"{name}.csv").read_text().splitlines()[0].split(",")
    assert described == set(header)
    assert all(f.description for f in schema.fields)


def test_retest_recovers_the_known_test_retest_reliability(cohort):
    import measurekit as mk

    gt = cohort.ground_truth["retest"]
    retest = cohort.tables["voice_retest"]
    assert len(retest) == gt["n"] == 150
    first = cohort.tables["voice_parent"].set_index("child_id").loc[retest["child_id"]]
    assert (pd.to_datetime(retest["completed_on"]).to_numpy() - pd.to_datetime(first["completed_on"]).to_numpy()
            >= np.timedelta64(14, "D")).all()
    res = mk.retest(cohort.tables["voice_parent"], retest, framework=cohort.framework)
    scales = res.table[res.table["level"] == "scale"].set_index("name")
    for domain, truth in gt["population_icc2"].items():
        row = scales.loc[f"voice_{domain}"]
        assert row["icc2_ci_low"] < truth < row["icc2_ci_high"], domain
        assert abs(row["icc2"] - truth) < 0.1, domain
    items = res.table[res.table["level"] == "item"].set_index("name")
    # items are far less reliable than scores (as planted: unique parts redrawn at retest)
    assert (items["icc2"] < scales["icc2"].min()).all()


def test_panel_ratings_recover_the_planted_flags(cohort):
    import measurekit as mk

    gt = cohort.ground_truth["content_validity"]
    res = mk.content_validity(cohort.tables["panel_ratings"], framework=cohort.framework)
    assert sorted(res.flagged) == gt["flagged"] == ["hl4", "sv3", "wb4"]
    t = res.items
    for group, expected in gt["flagged_by_group"].items():
        assert sorted(t.loc[(t["group"] == group) & t["flagged"], "item"]) == expected, group
    reasons = t[t["group"] == "all"].set_index("item")["reason"]
    assert "relevance" in reasons["hl4"] and "clarity" in reasons["wb4"] and reasons["sv3"] == ""


def test_interview_log_recovers_the_planted_problems(cohort):
    from measurekit.design.interviews import load_interviews, summarise

    gt = cohort.ground_truth["interviews"]
    log = load_interviews(cohort.tables["cognitive_interviews"], cohort.framework)
    summary = summarise(log).set_index("item")
    assert sorted(summary.index[summary["flagged"]]) == gt["flagged"] == ["sv4", "wb4"]
    for item, plan in gt["planted"].items():
        assert summary.loc[item, "problems"].startswith(plan["problem_type"]) and summary.loc[item, "changes"]
    sv4 = log[(log["item"] == "sv4") & (log["problem_type"] == "translation")]
    assert set(sv4["language"]) <= set(gt["planted"]["sv4"]["languages"])


def test_framework_evidence_holds_the_synthetic_panel_and_log(synthetic_dir, framework_dir):
    evidence = framework_dir / "evidence"
    assert (evidence / "content_validity.csv").read_bytes() == (synthetic_dir / "panel_ratings.csv").read_bytes()
    assert (evidence / "interviews.csv").read_bytes() == (synthetic_dir / "cognitive_interviews.csv").read_bytes()


def test_any_framework_synthesises_without_a_profile_and_bad_profiles_are_named(tmp_path, framework_dir):
    """The generator's framework-specific numbers live in the framework's synthetic.yaml; without one, neutral
    defaults (three areas, no planted DIF) make a cohort for the framework's own items; a profile that names a
    domain or item the framework lacks is a clear error."""
    import shutil

    from measurekit.problems import InputError

    fw = tmp_path / "fw"
    shutil.copytree(framework_dir, fw)
    (fw / "synthetic.yaml").unlink()
    c = make_cohort(300, 4, framework=fw, truth=False)
    assert sorted(c.tables["children"]["neighbourhood"].unique()) == ["Area A", "Area B", "Area C"]
    assert c.ground_truth["dif"] is None
    assert set(c.tables["voice_parent"].columns) >= {i.id for i in c.framework.items if "parent" in i.respondents}
    (fw / "synthetic.yaml").write_text("domains:\n  no_such_domain: {loadings: [0.7]}\ndif: {item: zz9, group: "
                                       "home_language, reference: English, shift: -1}\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        make_cohort(300, 4, framework=fw, truth=False)
    codes = [p.code for p in info.value.report.problems]
    assert codes == ["bad_synthetic_profile", "bad_synthetic_profile"], codes
    assert "no_such_domain" in str(info.value) and "zz9" in str(info.value)


def _identical(a, b, where="value"):
    """Same keys in the same order, same types, floats equal to the bit (a checker of its own, not the cache's)."""
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b), (where, list(a), list(b))
        for k in a:
            _identical(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _identical(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert np.float64(a).tobytes() == np.float64(b).tobytes(), (where, a, b)
    else:
        assert a == b, (where, a, b)


def test_population_truth_read_back_from_the_cache_is_the_drawn_truth(tmp_path, monkeypatch, framework_dir):
    """A second process (here: the per-process cache cleared) reads the population truth back from the cache folder,
    bit for bit what a fresh draw gives; the cache off writes nothing; an edited framework file is a new key."""
    import shutil

    from measurekit.synth import cohort as single

    fw = tmp_path / "fw"
    shutil.copytree(framework_dir, fw)
    cache = tmp_path / "cache"
    monkeypatch.setenv("MEASUREKIT_SYNTH_CACHE", "off")
    drawn = single._draw_population_truth(str(fw), 1.0, 4000)
    single._TRUTH_MEMO.clear()
    _identical(single._population_truth(str(fw), 1.0, 4000), drawn)
    assert not cache.exists()
    monkeypatch.setenv("MEASUREKIT_SYNTH_CACHE", str(cache))
    calls = []
    real = single._draw_population_truth
    monkeypatch.setattr(single, "_draw_population_truth", lambda *a: calls.append(a) or real(*a))
    try:
        first = single._population_truth(str(fw), 1.0, 4000)
        single._TRUTH_MEMO.clear()
        again = single._population_truth(str(fw), 1.0, 4000)
        assert len(calls) == 1 and len(list(cache.glob("population_truth-*.json"))) == 1
        _identical(first, drawn)
        _identical(again, drawn)
        single._TRUTH_MEMO.clear()
        single._population_truth(str(fw), 0.0, 4000)        # other arguments: drawn
        assert len(calls) == 2
        (fw / "synthetic.yaml").write_text((fw / "synthetic.yaml").read_text(encoding="utf-8") + "\n# edited\n",
                                           encoding="utf-8")
        single._TRUTH_MEMO.clear()
        _identical(single._population_truth(str(fw), 1.0, 4000), drawn)   # a comment changes no number ...
        assert len(calls) == 3                                             # ... but the files changed: drawn again
    finally:
        single._TRUTH_MEMO.clear()


def test_the_truth_cache_ignores_broken_files_and_unsafe_folders(tmp_path, monkeypatch, framework_dir):
    import os

    from measurekit.synth import truth_cache

    cache = tmp_path / "cache"
    monkeypatch.setenv("MEASUREKIT_SYNTH_CACHE", str(cache))
    value = {"a": 0.1 + 0.2, "b": None, "c": {"d": [1, 2.5e-300, float("nan")]}, "n": 7}
    calls = []

    def compute():
        calls.append(1)
        return json.loads(json.dumps(value))

    out = truth_cache.cached("t", framework_dir, {"x": 1}, compute)
    assert len(calls) == 1 and out["a"] == 0.1 + 0.2
    [stored] = cache.glob("t-*.json")
    assert (os.stat(cache).st_mode & 0o777) == 0o700 and not list(cache.glob("*.tmp"))
    back = truth_cache.cached("t", framework_dir, {"x": 1}, compute)
    assert len(calls) == 1 and math.isnan(back["c"]["d"][2])
    _identical({k: v for k, v in back.items() if k != "c"}, {k: v for k, v in value.items() if k != "c"})
    stored.write_text('{"key": "not this file\'s key", "value": {"a": 1}}', encoding="utf-8")
    assert truth_cache.cached("t", framework_dir, {"x": 1}, compute)["a"] == 0.1 + 0.2 and len(calls) == 2
    stored.write_text("{trunc", encoding="utf-8")
    assert truth_cache.cached("t", framework_dir, {"x": 1}, compute)["a"] == 0.1 + 0.2 and len(calls) == 3
    # a value JSON cannot carry exactly (a tuple) is returned as computed and not stored
    kept = len(list(cache.iterdir()))
    assert truth_cache.cached("t", framework_dir, {"x": 2}, lambda: {"t": (1, 2)}) == {"t": (1, 2)}
    assert len(list(cache.iterdir())) == kept
    # a folder that is a link (or not ours) is not used: computed every time, nothing written through it
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    monkeypatch.setenv("MEASUREKIT_SYNTH_CACHE", str(link))
    assert truth_cache.cache_folder() is None
    truth_cache.cached("t", framework_dir, {"x": 1}, compute)
    assert len(calls) == 4 and not list(target.iterdir())


def test_a_loaded_framework_gives_the_cohort_its_folder_gives(framework_dir):
    from measurekit.design import load_framework

    by_folder, by_object = make_cohort(300, 11, framework=framework_dir), make_cohort(
        300, 11, framework=load_framework(framework_dir))
    assert list(by_folder.tables) == list(by_object.tables)
    for name, frame in by_folder.tables.items():
        pd.testing.assert_frame_equal(frame, by_object.tables[name], check_exact=True)
    _identical(by_folder.ground_truth, by_object.ground_truth)
