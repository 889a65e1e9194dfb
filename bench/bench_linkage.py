"""Speed of linkage without a shared identifier (issue 28). Run: python bench/bench_linkage.py [--quick]

1. 3,000 children and their parents' survey responses (the bundled cohort's size, identifiers variant):
   train the splink model without labels, score, decide: target seconds.
2. 60,000 responses against 600,000 records (a national reception cohort, with identifiers drawn as in
   ``measurekit.synth.identifiers``): target minutes on a 2-core machine; peak memory printed (the
   largest resident set of this process, which includes DuckDB's memory).
Also prints precision and recall against the planted truth. ``--quick`` runs the first only.
Not a test: speed is measured here, never asserted in the test suite.
"""
import resource
import sys
import time

import numpy as np
import pandas as pd

from measurekit.data.linkage_match import match_responses, quality
from measurekit.synth.cohort import make_cohort
from measurekit.synth.identifiers import given_identifiers, legal_identifiers

LANGS = ["English", "Urdu", "Bengali", "Punjabi", "Polish", "Arabic", "Romanian", "Other"]
SHARE = [0.80, 0.07, 0.03, 0.02, 0.03, 0.02, 0.01, 0.02]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(label, m, truth, children, seconds, target):
    q = quality(m.table, truth, children, by=("home_language",)).set_index(["variable", "group"])
    eng = q.loc[("home_language", "English"), "recall"]
    others = q.drop(index=("home_language", "English"), errors="ignore")
    others = others[others.index.get_level_values(0) == "home_language"]
    other_recall = others["correct"].sum() / max(others["n_true"].sum(), 1)
    status = m.table["status"].value_counts()
    print(f"{label:<34} {seconds:7.1f} s (target {target}); {len(m.pairs):,} scored pairs; linked "
          f"{status.get('linked', 0):,}, review {status.get('review', 0):,}, not linked {status.get('not linked', 0):,}; "
          f"precision {q.loc[('all', 'all'), 'precision']:.4f}, recall {q.loc[('all', 'all'), 'recall']:.4f} "
          f"(English {eng:.4f}, other home languages {other_recall:.4f}); peak memory {peak_mb():,.0f} MB", flush=True)


def bundled_size():
    from measurekit.synth.identifiers import add_identifiers

    c = add_identifiers(make_cohort(3000, random_state=7, truth=False), 7)
    resp, children = c.tables["survey_responses"], c.tables["children"]
    t = time.perf_counter()
    m = match_responses(resp, children)
    report(f"{len(resp):,} responses x {len(children):,} records", m, c.ground_truth["linkage"]["true_child"],
           children, time.perf_counter() - t, "seconds")


def national(n_records=600_000, n_responses=60_000, seed=3):
    rng = np.random.default_rng(seed)
    t = time.perf_counter()
    n_areas = 3000
    area = rng.integers(0, n_areas, n_records)
    children = pd.DataFrame({
        "child_id": [f"C{k:07d}" for k in range(n_records)],
        "sex": np.where(rng.random(n_records) < 0.49, "F", "M"),
        "date_of_birth": (pd.Timestamp("2019-09-01") + pd.to_timedelta(rng.integers(0, 366, n_records), unit="D")
                          ).strftime("%Y-%m-%d"),
        "home_language": np.array(LANGS, dtype=object)[rng.choice(len(LANGS), n_records, p=SHARE)],
        "small_area": [f"A{a:04d}" for a in area],
        "neighbourhood": [f"D{a // 10:03d}" for a in area],     # 300 districts of 10 sectors
        "mobility": (rng.random(n_records) < 0.15).astype(int)})
    children = legal_identifiers(children, rng)
    respond = rng.choice(n_records, n_responses, replace=False)
    given = given_identifiers(children.iloc[respond].reset_index(drop=True), rng)
    given.insert(0, "response_id", [f"R{k:06d}" for k in range(n_responses)])
    truth = dict(zip(given["response_id"], children["child_id"].iloc[respond]))
    print(f"  (made {n_records:,} records and {n_responses:,} responses in {time.perf_counter() - t:.0f} s)", flush=True)
    t = time.perf_counter()
    m = match_responses(given, children, model_options={"chunks": 4})
    report(f"{n_responses:,} responses x {n_records:,} records", m, truth, children, time.perf_counter() - t,
           "minutes")


if __name__ == "__main__":
    bundled_size()
    if "--quick" not in sys.argv:
        national()
