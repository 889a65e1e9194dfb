"""Linkage without a shared identifier (issue 28): names, the splink model, review round trip, quality by group,
weights, the gate's identifier check and the command line.

Quality is measured on held-out synthetic cohorts (seeds never used while the model was built) against the
planted truth; precision and recall are counted here from the raw links, independently of ``linkage_match.quality``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cli_runner import run_cli
from measurekit.data import link
from measurekit.problems import InputError

HELD_OUT = (401, 402)


# ------------------------------------------------------------------ names
def test_name_keys_group_transliterations_and_nicknames():
    from measurekit.data.linkage_names import normalise_name, phonetic, variant_groups

    keys = {phonetic(normalise_name(n)) for n in ("Muhammad", "Mohammed", "Mohamed", "Muhammed")}
    assert len(keys) == 1
    assert phonetic(normalise_name("Hussain")) == phonetic(normalise_name("Hossain"))
    assert phonetic(normalise_name("Smith")) != phonetic(normalise_name("Jones"))
    assert normalise_name("Małgorzata") == "malgorzata" and normalise_name("Al-Hassan") == "alhassan"
    assert normalise_name("  ") is None and normalise_name(None) is None
    for a, b in (("Katarzyna", "Kasia"), ("Yusuf", "Yousef"), ("Małgorzata", "Gosia"), ("William", "Billy")):
        assert set(variant_groups(normalise_name(a))) & set(variant_groups(normalise_name(b))), (a, b)
    assert not set(variant_groups("katarzyna")) & set(variant_groups("muhammad"))


def test_dates_and_postcodes_split_for_comparison():
    from measurekit.data.linkage_names import dob_parts, postcode_parts

    d = dob_parts(pd.Series(["2020-03-05", "2020-12-25", "2020-04-04", None, "31/02/2020"]))
    assert d["dob"].tolist()[:3] == ["2020-03-05", "2020-12-25", "2020-04-04"]
    assert d["dob_swapped"].tolist()[:3] == ["2020-05-03", None, None]     # day > 12, or day = month: no swap
    assert d["dob"].iloc[3] is None and d["dob"].iloc[4] is None
    p = postcode_parts(pd.Series(["zz1 2ab", "ZZ12 3AB", "not one", None]))
    assert p["postcode"].tolist()[:2] == ["ZZ12AB", "ZZ123AB"]
    assert p["pc_sector"].tolist() == ["ZZ1 2", "ZZ12 3", None, None]
    assert p["pc_district"].tolist() == ["ZZ1", "ZZ12", None, None]


# ------------------------------------------------------------------ synthetic identifiers
def test_identifier_variant_changes_only_what_it_says():
    from measurekit.synth.cohort import make_cohort
    from measurekit.data.linkage_names import name_lists

    plain = make_cohort(600, random_state=9, truth=False)
    ids = make_cohort(600, random_state=9, truth=False, identifiers=True)
    for name in plain.tables:
        if name != "children":
            pd.testing.assert_frame_equal(plain.tables[name], ids.tables[name])
    kids = ids.tables["children"]
    assert {"first_name", "last_name", "postcode", "setting"} <= set(kids.columns)
    assert "first_name" not in plain.tables["children"]
    same = [c for c in plain.tables["children"].columns if c != "date_of_birth"]
    pd.testing.assert_frame_equal(plain.tables["children"][same], kids[same])
    # names come from the list of the child's home language
    lists = name_lists()
    for r in kids.sample(100, random_state=1).itertuples():
        assert r.last_name in lists[r.home_language]["surname"]
        assert r.first_name in lists[r.home_language][r.sex]
    truth = ids.ground_truth["linkage"]["true_child"]
    survey = ids.tables["survey_responses"]
    assert set(truth) == set(survey["response_id"])
    real = {k: v for k, v in truth.items() if v is not None}
    assert set(real.values()) == set(ids.tables["voice_parent"]["child_id"])
    assert ids.ground_truth["linkage"]["planted"]["twin_pairs"] >= 1


def test_error_rates_are_realised_near_the_documented_rates():
    from measurekit.synth.cohort import make_cohort
    from measurekit.synth.identifiers import RATES

    c = make_cohort(6000, random_state=77, truth=False, identifiers=True)
    s = c.tables["survey_responses"].set_index("response_id")
    truth = {k: v for k, v in c.ground_truth["linkage"]["true_child"].items() if v is not None}
    kids = c.tables["children"].set_index("child_id")
    rec = kids.loc[list(truth.values())]
    given = s.loc[list(truth.keys())]
    n = len(given)
    swap_ok = (rec["date_of_birth"].str[8:].astype(int) <= 12).to_numpy() & \
        (rec["date_of_birth"].str[8:] != rec["date_of_birth"].str[5:7]).to_numpy()
    swapped = (given["date_of_birth"].to_numpy() == (rec["date_of_birth"].str[:5] + rec["date_of_birth"].str[8:] + "-"
                                                     + rec["date_of_birth"].str[5:7]).to_numpy()) & swap_ok
    se = np.sqrt(RATES["dob_swapped"] / swap_ok.sum())
    assert abs(swapped.sum() / swap_ok.sum() - RATES["dob_swapped"]) < 4 * se
    missing = given["date_of_birth"].isna().mean()
    assert abs(missing - RATES["dob_missing"]) < 4 * np.sqrt(RATES["dob_missing"] / n)
    id_given = given["child_id"].notna().mean()
    assert abs(id_given - RATES["id_given"]) < 4 * np.sqrt(RATES["id_given"] * 0.8 / n)
    extra = sum(v is None for v in c.ground_truth["linkage"]["true_child"].values())
    assert extra == round(RATES["not_in_records"] * len(c.tables["voice_parent"]))


# ------------------------------------------------------------------ quality on held-out cohorts
@pytest.fixture(scope="module")
def held_out():
    from measurekit.synth.cohort import make_cohort

    out = []
    for seed in HELD_OUT:
        c = make_cohort(3000, random_state=seed, truth=False, identifiers=True)
        out.append((c, link(c, responses=c.tables["survey_responses"])))
    return out


def _independent_quality(result, cohort, groups=None):
    """Precision and recall counted from the links and the truth, without measurekit's quality()."""
    truth = cohort.ground_truth["linkage"]["true_child"]
    lang = cohort.tables["children"].set_index("child_id")["home_language"]
    made = {r.response_id: r.child_id for r in result.matches.itertuples() if r.status == "linked"}
    correct = {k for k, v in made.items() if truth.get(k) == v}
    real = {k for k, v in truth.items() if v is not None}
    if groups is not None:
        real = {k for k in real if groups(lang[truth[k]])}
        return len(correct & real) / len(real)
    return len(correct) / len(made), len(correct & real) / len(real)


@pytest.mark.slow
def test_precision_and_recall_on_held_out_cohorts(held_out):
    from measurekit.data.linkage_match import quality

    for cohort, result in held_out:
        precision, recall = _independent_quality(result, cohort)
        assert precision >= 0.98, precision
        assert recall >= 0.95, recall
        english = _independent_quality(result, cohort, lambda g: g == "English")
        other = _independent_quality(result, cohort, lambda g: g != "English")
        assert other >= english - 0.02, (english, other)
        q = quality(result.matches, cohort.ground_truth["linkage"]["true_child"], cohort.tables["children"],
                    by=("home_language", "fsm", "neighbourhood", "ethnicity_group")).set_index(["variable", "group"])
        assert q.loc[("all", "all"), "precision"] == pytest.approx(precision)
        assert q.loc[("all", "all"), "recall"] == pytest.approx(recall)
        for var in ("fsm", "neighbourhood", "ethnicity_group"):
            part = q.loc[var]
            assert part["n_true"].sum() == q.loc[("all", "all"), "n_true"]
            assert (part["precision"].dropna() >= 0.95).all()
        counts = dict(zip(result.summary["measure"], result.summary["count"]))
        assert counts["responses linked on a shared identifier"] > 0
        assert counts["responses linked probabilistically"] > counts["responses linked on a shared identifier"]


@pytest.mark.slow
def test_waterfall_adds_up_to_the_match_weight(held_out):
    cohort, result = held_out[0]
    w = result.waterfall
    assert w is not None and len(w)
    for _, g in w.groupby("pair"):
        terms = g[~g["term"].isin(["total"])]
        total = g[g["term"] == "total"]["weight"].iloc[0]
        assert terms["weight"].sum() == pytest.approx(total, abs=1e-6)
        assert list(g["term"]) == ["prior", "first_name", "last_name", "dob", "postcode", "setting", "total"]
    p = result.parameters
    assert set(p["comparison"]) == {"first_name", "last_name", "dob", "postcode", "setting"}
    est = p[p["gamma"] >= 0]
    assert est["m"].between(0, 1).all() and est["u"].between(0, 1).all()
    # estimated without labels, the exact levels still carry more evidence than 'different'
    for c in ("first_name", "last_name", "dob", "postcode"):
        rows = p[p["comparison"] == c].set_index("level")
        assert rows.loc["exact", "match_weight"] > 3 > rows.loc["different", "match_weight"]


@pytest.mark.slow
def test_identifiers_never_reach_the_linked_frame(held_out):
    cohort, result = held_out[1]
    assert not {"first_name", "last_name", "postcode"} & set(result.linked.columns)
    survey = cohort.tables["survey_responses"]
    names = set(survey["last_name"].dropna()) | set(cohort.tables["children"]["last_name"])
    text = result.linked.to_csv(index=False)
    cells = set(text.replace("\n", ",").split(","))
    assert not names & cells


@pytest.mark.slow
def test_linkage_weights_give_flagged_groups_their_cohort_share(held_out):
    from measurekit.stats.coverage import linkage_weights

    for _cohort, result in held_out:
        flagged = set(result.by_group.loc[result.by_group["flag"], "variable"]) & set(result.linked.columns)
        w = linkage_weights(result, base=["neighbourhood", "eal", "fsm"])
        m = w.margins
        assert set(m["variable"]) == {"neighbourhood", "eal", "fsm"} | flagged
        assert (m["weighted_share"] - m["cohort_share"]).abs().max() < 1e-6
        assert w.weights.sum() == pytest.approx(len(result.linked))


# ------------------------------------------------------------------ deterministic first
def test_exact_route_gives_the_same_links_as_today(synthetic_dir):
    from measurekit.data import read_dir

    cohort = read_dir(synthetic_dir)
    today = link(cohort)
    voice = cohort.tables["voice_parent"]
    via_ids = link(cohort, responses=voice)
    assert via_ids.matches["method"].dropna().eq("exact child_id").all()
    assert via_ids.parameters is None         # no probabilistic step was needed
    pd.testing.assert_frame_equal(today.linked, via_ids.linked)
    with pytest.raises(InputError) as exc:          # no model decided: nothing to decide again from
        today.relink(upper=0.99)
    assert exc.value.report.codes() == {"bad_option"}
    linked_today = set(voice.loc[voice["child_id"].isin(set(cohort.tables["children"]["child_id"])), "response_id"])
    assert set(via_ids.matches.loc[via_ids.matches["status"] == "linked", "response_id"]) == linked_today


def test_unknown_shared_id_falls_back_to_probabilistic():
    from measurekit.data.linkage_match import match_responses

    kids = pd.DataFrame({"child_id": ["C1", "C2", "C3", "C4"], "first_name": ["Aisha", "Jan", "Lily", "Omar"],
                         "last_name": ["Khan", "Nowak", "Hill", "Haddad"],
                         "date_of_birth": ["2020-01-02", "2019-10-11", "2020-05-06", "2020-07-08"],
                         "postcode": ["ZZ1 1AB", "ZZ2 2CD", "ZZ3 3EF", "ZZ4 4GH"]})
    resp = pd.DataFrame({"response_id": ["R1", "R2"], "child_id": ["C2", "WRONG"], "first_name": ["Jan", "Ayesha"],
                         "last_name": ["Nowak", "Khan"], "date_of_birth": ["2019-10-11", "2020-02-01"],
                         "postcode": ["ZZ2 2CD", "zz11ab"]})
    before = resp.copy()
    m = match_responses(resp, kids, lower=0.01, upper=0.02, model_options={"u_pairs": 1e4})
    pd.testing.assert_frame_equal(resp, before)                               # inputs never modified
    t = m.table.set_index("response_id")
    assert t.loc["R1", "method"] == "exact child_id" and t.loc["R1", "child_id"] == "C2"
    assert t.loc["R2", "candidate"] == "C1"
    assert "not in the records" in t.loc["R2", "reason"]
    # the model of these responses cannot decide for others
    other = resp.assign(child_id=[None, None], response_id=["R3", "R4"])
    with pytest.raises(InputError) as exc:
        match_responses(other, kids, lower=0.01, upper=0.02, fitted=m)
    assert exc.value.report.codes() == {"bad_option"}


def test_linkage_options_are_checked():
    from measurekit.data.linkage_match import match_responses

    kids = pd.DataFrame({"child_id": ["C1"], "first_name": ["A"]})
    with pytest.raises(InputError) as exc:
        match_responses(pd.DataFrame({"response_id": ["R1"], "first_name": ["A"]}), kids, lower=0.9, upper=0.5)
    assert exc.value.report.codes() == {"bad_option"}
    with pytest.raises(InputError) as exc:
        match_responses(pd.DataFrame({"response_id": ["R1"], "colour": ["red"]}), pd.DataFrame({"child_id": ["C1"]}))
    assert "no_identifiers" in exc.value.report.codes()
    with pytest.raises(InputError) as exc:
        match_responses(pd.DataFrame({"response_id": ["R1", "R1"], "first_name": ["A", "B"]}), kids)
    assert "duplicate_id" in exc.value.report.codes()
    from measurekit.data import Cohort

    with pytest.raises(InputError) as exc:
        link(Cohort({"children": kids}), responses=pd.DataFrame({"response_id": ["R1"], "first_name": ["A"]}))
    assert {p.column for p in exc.value.report} == {"form_language", "completed_on"}


# ------------------------------------------------------------------ clerical review
@pytest.fixture(scope="module")
def small_id_cohort():
    from measurekit.synth.cohort import make_cohort

    return make_cohort(800, random_state=403, truth=False, identifiers=True)


@pytest.fixture(scope="module")
def strict_link(small_id_cohort):
    """The small cohort linked with a strict upper threshold, which sends many pairs to review (trained once for
    the review round trip and the relink check)."""
    c = small_id_cohort
    return link(c, responses=c.tables["survey_responses"], lower=0.5, upper=0.99999)


def _same_linkage(a, b):
    """Two link results agree in every table an analyst reads, and in their warnings."""
    for name in ("matches", "review", "summary", "comparison", "linked", "by_group", "parameters"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    assert (a.waterfall is None) == (b.waterfall is None)
    if a.waterfall is not None:
        pd.testing.assert_frame_equal(a.waterfall, b.waterfall, obj="waterfall")
    assert a.warnings == b.warnings


def test_review_round_trip_applies_decisions_on_rerun(small_id_cohort, strict_link, tmp_path):
    from measurekit.core import atomic
    from measurekit.data.linkage_review import read_decisions

    c = small_id_cohort
    truth = c.ground_truth["linkage"]["true_child"]
    # a strict upper threshold sends many pairs to review
    first = strict_link
    q = first.review
    assert len(q) > 0 and (q["decision"] == "").all()
    assert {"first_name_response", "first_name_record", "dob_response", "postcode_record"} <= set(q.columns)
    queue = q[q["candidate_rank"] == 1].copy()
    queue["decision"] = np.where([truth.get(r) == k for r, k in zip(queue["response_id"], queue["child_id"])],
                                 "accept", "Reject")
    atomic.write_csv(tmp_path / "decisions.csv", queue)
    decisions = read_decisions(tmp_path / "decisions.csv")
    again = link(c, responses=c.tables["survey_responses"], lower=0.5, upper=0.99999, decisions=decisions)
    t = again.matches.set_index("response_id")
    for r in queue.itertuples():
        if r.decision == "accept":
            assert t.loc[r.response_id, "method"] == "clerical" and t.loc[r.response_id, "child_id"] == r.child_id
        else:
            assert t.loc[r.response_id, "status"] == "not linked"
    assert not set(again.review["response_id"]) & set(queue["response_id"])
    linked_before = (first.matches["status"] == "linked").sum()
    assert (again.matches["status"] == "linked").sum() == linked_before + (queue["decision"] == "accept").sum()
    # the decisions applied to the first result's model and pairs, without training again: the same linkage
    kept = {name: getattr(first, name).copy() for name in ("matches", "review", "pairs", "summary")}
    _same_linkage(first.relink(decisions=decisions), again)
    for name, table in kept.items():                                    # and the first result is unchanged
        pd.testing.assert_frame_equal(getattr(first, name), table, obj=name)


def test_relink_gives_the_links_of_a_fresh_fit(small_id_cohort, strict_link):
    """Deciding again at other thresholds from a trained model (``relink``) links as training afresh at those
    thresholds does, both ways, also where the new lower threshold needs pairs the first scoring left out (below
    0.01: the same model scores them again); and the links are right against the planted truth."""
    c = small_id_cohort
    survey = c.tables["survey_responses"]
    before = survey.copy()
    loose = link(c, responses=survey, lower=0.005, upper=0.95)
    _same_linkage(strict_link.relink(lower=0.005, upper=0.95), loose)
    _same_linkage(loose.relink(lower=0.5, upper=0.99999), strict_link)
    pd.testing.assert_frame_equal(survey, before)
    assert len(loose.pairs) > len(strict_link.pairs)          # the lower floor kept more pairs
    # thresholds move responses between linked and review, as the planted truth says they should
    truth = c.ground_truth["linkage"]["true_child"]
    n_true = sum(v is not None for v in truth.values())
    for result in (loose, strict_link.relink(upper=0.9)):
        made = {r.response_id: r.child_id for r in result.matches.itertuples() if r.status == "linked"}
        right = sum(truth.get(k) == v for k, v in made.items())
        assert right / len(made) >= 0.98 and right / n_true >= 0.9, (right, len(made), n_true)
    n_review = [len(strict_link.relink(upper=u).review) for u in (0.9, 0.99, 0.99999)]
    assert n_review == sorted(n_review) and n_review[0] < n_review[-1]
    with pytest.raises(InputError) as exc:                     # the thresholds are checked as link checks them
        strict_link.relink(lower=0.6, upper=0.4)
    assert exc.value.report.codes() == {"bad_option"}


def test_bad_decisions_are_reported_with_row_and_value(tmp_path):
    from measurekit.data.linkage_review import read_decisions

    (tmp_path / "d.csv").write_text("response_id,child_id,decision\nR1,C1,accept\nR2,C2,maybe\n,C3,reject\nR4,C4,\n")
    with pytest.raises(InputError) as exc:
        read_decisions(tmp_path / "d.csv")
    probs = {(p.row, p.column, p.value) for p in exc.value.report}
    assert (3, "decision", "maybe") in probs and (4, "response_id", "") in probs
    assert exc.value.report.codes() == {"review_decision"}
    (tmp_path / "ok.csv").write_text("response_id,child_id,decision\nR1,C1,ACCEPT\nR4,C4,\n")
    assert read_decisions(tmp_path / "ok.csv").to_dict("records") == [
        {"response_id": "R1", "child_id": "C1", "decision": "accept"}]


def test_review_widget_records_clicks():
    from measurekit.data.linkage_review import QUEUE_COLUMNS, review_widget

    q = pd.DataFrame([{c: "x" for c in QUEUE_COLUMNS} | {"decision": ""} for _ in range(2)])
    w = review_widget(q)
    accept, reject, _skip = w.children[1].children
    accept.click()
    reject.click()
    assert w.decisions["decision"].tolist() == ["accept", "reject"]
    assert (q["decision"] == "").all()


# ------------------------------------------------------------------ match rates by group (no truth)
def _planted(rate_group, rate_rest, n_group, n_rest, seed):
    rng = np.random.default_rng(seed)
    lang = ["Bengali"] * n_group + ["English"] * n_rest
    linked = np.r_[rng.random(n_group) < rate_group, rng.random(n_rest) < rate_rest]
    kids = pd.DataFrame({"child_id": [f"C{k}" for k in range(len(lang))], "home_language": lang})
    table = pd.DataFrame({"response_id": [f"R{k}" for k in range(len(lang))],
                          "child_id": np.where(linked, kids["child_id"], None),
                          "candidate": kids["child_id"], "status": np.where(linked, "linked", "review")})
    return table, kids


def test_a_group_with_a_planted_lower_link_rate_is_flagged():
    from measurekit.data.linkage_match import by_group

    table, kids = _planted(0.85, 0.97, 200, 1800, seed=1)
    g = by_group(table, pd.DataFrame(index=table.index), kids, by=("home_language",)).set_index("group")
    assert g.loc["Bengali", "flag"] and not g.loc["English", "flag"]
    assert g.loc["Bengali", "difference"] < -5
    assert g.loc["Bengali", "review_share"] == pytest.approx(1 - g.loc["Bengali", "rate"])
    # the pooled two-proportion z-test, one-sided (the normal distribution function from math.erfc)
    from math import erfc, sqrt

    linked = table["status"].eq("linked").to_numpy()
    bengali = (kids["home_language"] == "Bengali").to_numpy()
    k1, n1, k2, n2 = linked[bengali].sum(), bengali.sum(), linked[~bengali].sum(), (~bengali).sum()
    pooled = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert g.loc["Bengali", "p_val"] == pytest.approx(erfc(-z / sqrt(2)) / 2, rel=1e-12, abs=1e-300)


def test_equal_link_rates_are_rarely_flagged():
    from measurekit.data.linkage_match import by_group

    flags = 0
    for seed in range(100):
        table, kids = _planted(0.95, 0.95, 200, 1800, seed=seed)
        g = by_group(table, pd.DataFrame(index=table.index), kids, by=("home_language",))
        flags += bool(g["flag"].any())
    assert flags <= 8          # one-sided 5% level split over two groups: about 2.5 expected in 100


def test_flagged_groups_enter_the_response_weights():
    from measurekit.data.linkage_match import adjusted_margins, by_group
    from measurekit.stats.coverage import response_weights

    table, kids = _planted(0.6, 0.97, 300, 1700, seed=5)
    g = by_group(table, pd.DataFrame(index=table.index), kids, by=("home_language",))
    margins = adjusted_margins(g, base=("fsm",), available=set(kids.columns) | {"fsm"})
    assert margins == ["fsm", "home_language"]
    cohort = kids.assign(fsm=np.arange(len(kids)) % 3 == 0)
    responders = pd.DataFrame({"child_id": table.loc[table["status"] == "linked", "child_id"]})
    unweighted = cohort[cohort["child_id"].isin(responders["child_id"])]["home_language"].eq("Bengali").mean()
    w = response_weights(cohort, responded=responders, by=margins, id_col="child_id")
    share = w.weights.groupby(cohort.loc[w.weights.index, "home_language"]).sum() / w.weights.sum()
    assert unweighted < 0.15 - 0.02
    assert share["Bengali"] == pytest.approx(300 / 2000, abs=1e-6)


# ------------------------------------------------------------------ the gate
def test_gate_finds_identifiers_in_a_shareable_folder(tmp_path):
    from measurekit.publish.gate import DisclosureGateError, check_shareable, scan_identifiers

    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "board.csv").write_text("neighbourhood,indicator,percent\nNorth,ready,61.2\n")
    assert len(scan_identifiers(clean)) == 0
    cases = {"col.csv": "child_surname,percent\nx,1\n".replace("child_surname", "surname"),
             "pc.md": "Families around ZZ1 2AB said it was hard.\n",
             "name.html": "<p>Quote from Aisha Khan, a parent.</p>",
             "dob.json": '{"date_of_birth": "2020-01-02"}'}
    for name, text in cases.items():
        folder = tmp_path / name.replace(".", "_")
        folder.mkdir()
        (folder / name).write_text(text)
        report = scan_identifiers(folder)
        assert report.codes() == {"identifier_in_shareable"}, name
        with pytest.raises(DisclosureGateError):
            check_shareable(folder)
    known = tmp_path / "known"
    known.mkdir()
    (known / "t.csv").write_text("area,note\nNorth,kasienka zielinska\n")
    assert len(scan_identifiers(known)) == 0
    assert scan_identifiers(known, known=["Kasienka Zielinska"]).codes() == {"identifier_in_shareable"}


def test_bundled_board_pack_passes_the_identifier_check(tmp_path, framework_dir, synthetic_dir):
    from measurekit.publish.gate import scan_identifiers

    out = tmp_path / "pack"
    r = _cli("board-pack", "--framework", framework_dir, "--data", synthetic_dir, "--out", out)
    assert r.returncode == 0, r.stderr
    assert len(scan_identifiers(out)) == 0


# ------------------------------------------------------------------ the command line
def _cli(*args, env=None):
    r = run_cli(*args, env=env)
    assert "Traceback" not in r.stdout + r.stderr, r.stderr
    return r


def test_link_cli_without_shared_ids(tmp_path, small_id_cohort, framework_dir):
    """The link command, run in this process (tests/cli_runner.py: exit code and messages as a fresh interpreter
    gives them): the first link, the review round trip's two links, the refusals."""
    from measurekit.core.atomic import sha256
    from measurekit.synth.cohort import write_cohort
    from measurekit.publish.gate import scan_identifiers

    data = write_cohort(small_id_cohort, tmp_path / "data")
    before = {p.name: sha256(p) for p in data.iterdir()}
    (tmp_path / "key").write_text("k" * 32)
    out = tmp_path / "internal" / "linkage"
    fw = ("--framework", framework_dir)
    r = _cli("link", data, *fw, "--out", out, "--responses", data / "survey_responses.csv", "--key-file", tmp_path / "key")
    assert r.returncode == 0, r.stderr
    assert {"linked.csv", "link_matches.csv", "review_queue.csv", "linkage_by_group.csv", "linkage_model.csv"} <= {
        p.name for p in out.iterdir()}
    assert {p.name: sha256(p) for p in data.iterdir()} == before
    # the linked analysis file holds pseudonyms and no identifier of the input
    survey = pd.read_csv(data / "survey_responses.csv", dtype=str)
    kids = pd.read_csv(data / "children.csv", dtype=str)
    known = set(survey["postcode"].dropna()) | set(kids["postcode"]) | set(kids["date_of_birth"]) | set(
        (kids["first_name"] + " " + kids["last_name"]))
    lonely = tmp_path / "only_linked"
    lonely.mkdir()
    (lonely / "linked.csv").write_bytes((out / "linked.csv").read_bytes())
    assert len(scan_identifiers(lonely, known=known)) == 0
    linked = pd.read_csv(out / "linked.csv", dtype=str)
    assert linked["child_id"].str.match(r"^P[0-9a-f]{16}$").all()
    assert not set(kids["child_id"]) & set(linked["child_id"])
    # a review round trip through files, with pseudonyms (the same key on both runs)
    strict = tmp_path / "internal" / "strict"

    def link_here(*args):
        r = _cli(*args)             # no traceback (_cli checks)
        return r.returncode, r.stderr

    code, err = link_here("link", data, *fw, "--out", strict, "--responses", data / "survey_responses.csv",
                          "--key-file", tmp_path / "key", "--upper", "0.99999")
    assert code == 0, err
    queue = pd.read_csv(strict / "review_queue.csv", dtype=str, keep_default_na=False)
    assert len(queue) and queue["child_id"].str.match(r"^P[0-9a-f]{16}$").all()
    queue["decision"] = "accept"
    first = queue.drop_duplicates("response_id")
    first.to_csv(tmp_path / "reviewed.csv", index=False)
    code, err = link_here("link", data, *fw, "--out", strict, "--responses", data / "survey_responses.csv",
                          "--key-file", tmp_path / "key", "--upper", "0.99999", "--decisions", tmp_path / "reviewed.csv")
    assert code == 0, err
    matches = pd.read_csv(strict / "link_matches.csv", dtype=str, keep_default_na=False)
    clerical = matches[matches["method"] == "clerical"]
    assert dict(zip(clerical["response_id"], clerical["child_id"])) == dict(zip(first["response_id"], first["child_id"]))
    # the review files hold identifiers: the command refuses a shareable folder
    r = _cli("link", data, *fw, "--out", tmp_path / "shareable" / "x", "--responses", data / "survey_responses.csv")
    assert r.returncode == 1 and "internal_only" in r.stderr
    r = _cli("link", data, *fw, "--out", tmp_path / "o", "--responses", data / "survey_responses.csv", "--upper", "1.5")
    assert r.returncode == 2 and "between 0 and 1" in r.stderr
