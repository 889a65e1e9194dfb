"""Speed of disclosure control (issue 12). Run: python bench/bench_disclosure.py [--quick]

1. Audit + secondary suppression for the bundled cohort (3,000 children, 5 neighbourhoods, every
   indicator and breakdown): target < 10 s.
2. The same for 150 areas of a national cohort (600,000 children as bench_board.py builds it, and
   a sparser 60,000 children, where many more cells are small): target < 60 s.
Also prints how many rows were suppressed (primary / secondary) and a fresh audit's time.
Not a test: speed is measured here, never asserted in the test suite.
"""
import sys
import time
from pathlib import Path


import measurekit as mk
from measurekit.synth.cohort import make_cohort
from measurekit.publish import disclosure_audit
from measurekit.publish.disclosure import protect
from _areas import spread_over_areas

fw = mk.load_framework(Path(__file__).resolve().parents[1] / "indicators" / "rochdale-school-readiness")


def run(label, data, lookup=None, target=None):
    raw = mk.board_table(fw, data, lookup=lookup, disclosure=False)
    t = time.perf_counter()
    res = protect(raw, fw)
    elapsed = time.perf_counter() - t
    reasons = res.reasons.value_counts()
    t = time.perf_counter()
    again = disclosure_audit.audit(disclosure_audit.build_model(raw, fw), res.table["suppressed"].to_numpy())
    audit_s = time.perf_counter() - t
    print(f"{label:<42} audit + suppression {elapsed:6.2f} s (target < {target} s); {len(raw):,} rows, "
          f"{reasons.get('primary', 0)} primary + {reasons.get('secondary', 0)} secondary suppressed, "
          f"{res.rounds} repair rounds; a fresh audit {audit_s:.2f} s, passed={again.passed}", flush=True)


def national(n, seed):
    big = make_cohort(n, seed, truth=False)
    return spread_over_areas(big.analysis_frame())


run("bundled cohort, 3,000 children:", make_cohort(3000, 1, truth=False), target=10)
if "--quick" not in sys.argv:
    for n in (60_000, 600_000):
        frame, lookup = national(n, 2)
        run(f"national cohort, {n:,} children, 150 areas:", frame, lookup, target=60)
