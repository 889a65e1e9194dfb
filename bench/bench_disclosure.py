"""Disclosure control: speed, information lost, and the reference tool (issues 12 and 32).

Run: python bench/bench_disclosure.py [--quick]   (--quick: bundled cohort, the 300/800/3,000 table, several
periods and pytauargus; without it also the national cohorts)
     python bench/bench_disclosure.py --patterns  (only: CPU time of protect() and the md5 of each withheld mask of 15
     tables (pattern_tables: 300/11, 800/11, 800/1, 3,000/1 first, then the test suite's cohorts and periods), to
     compare two versions: the same md5 is the same published pattern)

1. Optimisation + audit for the bundled cohort (3,000 children): target < 10 s; for 150 areas of the
   600,000-child cohort: target < 120 s; and the sparse 60,000-child case.
2. Rows withheld now vs the previous method (measured on main before this change, seeds 1-3, printed
   beside) at 300 / 800 / 3,000 children, and headline rows withheld.
3. The same tables through pytauargus (headless tau-Argus with HiGHS; dev extra): one table of children
   per breakdown (area x breakdown with totals), frequency rule (cells of 1-5 children unsafe), optimal
   suppression OPT. Compared on the same rows (GLD denominators) with measurekit's optimisation on those
   rows alone: cells withheld, cost lost (measurekit's suppression_cost), and measurekit's audit of each
   pattern on those rows (sums within each breakdown and areas to the LA).
Not a test: speed is measured here, never asserted in the test suite.
"""
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import measurekit as mk
from measurekit.synth.cohort import make_cohort
from measurekit.publish import disclosure_audit
from measurekit.publish.disclosure import protect, suppression_cost
from _areas import spread_over_areas

fw = mk.load_framework(Path(__file__).resolve().parents[1] / "indicators" / "rochdale-school-readiness")
# rows withheld by the previous method (main at 78051f6), seeds 1, 2, 3: (withheld, rows)
PREVIOUS = {300: [(242, 286), (249, 290), (263, 296)], 800: [(228, 314), (208, 312), (242, 320)],
            3000: [(95, 324), (105, 324), (112, 324)]}


def run(label, data, lookup=None, target=None):
    raw = mk.board_table(data, framework=fw, lookup=lookup, disclosure=False)
    t, cpu = time.perf_counter(), time.process_time()
    res = protect(raw, fw)
    elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    reasons = res.reasons.value_counts()
    t = time.perf_counter()
    again = disclosure_audit.audit(disclosure_audit.build_model(raw, fw), res.table["suppressed"].to_numpy())
    audit_s = time.perf_counter() - t
    print(f"{label:<42} optimisation + audit {elapsed:6.1f} s (target < {target} s; CPU time {cpu:.1f} s); "
          f"{len(raw):,} rows, "
          f"{reasons.get('primary', 0)} primary + {reasons.get('secondary', 0)} secondary withheld, "
          f"{res.rounds} rounds, least-cost={res.optimal}; a fresh audit {audit_s:.1f} s, passed={again.passed}",
          flush=True)


def shares():
    print("\nchildren seed  rows  withheld now (share)  previous (share)  ratio  headline rows withheld (small itself)")
    for n in (300, 800, 3000):
        now, before, primary = [], [], []
        for k, seed in enumerate((1, 2, 3)):
            raw = mk.board_table(make_cohort(n, seed, truth=False), framework=fw, disclosure=False)
            res = protect(raw, fw)
            s = res.table["suppressed"].to_numpy()
            head = (raw["breakdown"] == "all").to_numpy()
            prev = PREVIOUS[n][k]
            now.append((s.sum(), len(s)))
            primary.append(int((res.reasons == "primary").sum()))
            before.append(prev)
            print(f"{n:>8} {seed:>4} {len(s):>5} {s.sum():>6} ({s.mean():.0%}) {prev[0]:>12} ({prev[0] / prev[1]:.0%})"
                  f"  {s.mean() / (prev[0] / prev[1]):.2f}  {int((s & head).sum())} "
                  f"({int((s & head & (res.reasons == 'primary').to_numpy()).sum())})", flush=True)
        a = sum(x for x, _ in now) / sum(y for _, y in now)
        b = sum(x for x, _ in before) / sum(y for _, y in before)
        floor = sum(primary) / sum(y for _, y in now)
        target = (f" (target: at most 2/3 of the previous, {2 * b / 3:.1%}: {'met' if a <= 2 * b / 3 else 'NOT met'})"
                  if n == 800 else "")
        print(f"{n:>8}  all  pooled share now {a:.1%}, previous {b:.1%}, ratio {a / b:.2f}{target}; small themselves "
              f"(primary, the floor for whole rows) {floor:.1%}")


def periods(n=800, k=3):
    """k periods of n children each in ONE protect() call (separable: protected apart inside) against one call per
    period: time and the same pattern; then the same periods declared to share children (each later period the
    earlier one's children and 60 more) in one call, protected as one problem."""
    frame = make_cohort(n, 4, truth=False).analysis_frame()
    years = [f"{2020 + j}/{21 + j}" for j in range(k)]
    tables = [mk.board_table(make_cohort(n, 10 + j, truth=False), framework=fw, disclosure=False, period=y)
              for j, y in enumerate(years)]
    both = pd.concat(tables, ignore_index=True)
    t = time.perf_counter()
    one = protect(both, fw)
    one_s = time.perf_counter() - t
    t = time.perf_counter()
    apart = np.concatenate([protect(x, fw).table["suppressed"].to_numpy() for x in tables])
    apart_s = time.perf_counter() - t
    same = bool((one.table["suppressed"].to_numpy() == apart).all())
    print(f"{k} independent periods of {n} children ({len(both):,} rows): one call {one_s:.1f} s, one call per period "
          f"{apart_s:.1f} s; same pattern: {same}; audit of the whole table passed={one.audit.passed}", flush=True)
    grow = [mk.board_table(frame.iloc[60 * (k - 1 - j):], framework=fw, disclosure=False, period=y)
            for j, y in enumerate(years)]
    linked = pd.concat(grow, ignore_index=True)
    pairs = [(years[j + 1], years[j]) for j in range(k - 1)]
    t = time.perf_counter()
    res = protect(linked, fw, linked_periods=pairs)
    s = res.table["suppressed"].to_numpy()
    print(f"{k} periods sharing children (declared), {len(linked):,} rows: one problem "
          f"{time.perf_counter() - t:.1f} s, "
          f"{int(s.sum())} withheld ({s.mean():.1%}), {res.rounds} rounds, least-cost={res.optimal}, "
          f"audit passed={res.audit.passed}", flush=True)


def tau_compare(n, seed):
    """GLD denominators: measurekit's optimisation vs pytauargus OPT on the same cells."""
    try:
        import pytauargus
    except ImportError:
        print("pytauargus is not installed (pip install pytauargus, in the dev extra)")
        return
    cohort = make_cohort(n, seed, truth=False)
    frame = cohort.analysis_frame()
    raw = mk.board_table(cohort, framework=fw, disclosure=False)
    # the GLD rows as a table of counts only (a mean-type copy of the indicator: only the number of children)
    ind = next(i for i in fw.indicators if i.id == "gld")
    fw1 = fw.model_copy(update={"indicators": [ind.model_copy(update={"value_type": "mean", "ci_method": "t"})]})
    sub = raw[raw["indicator_id"] == "gld"].reset_index(drop=True)
    t = time.perf_counter()
    ours = protect(sub, fw1)
    ours_s = time.perf_counter() - t
    supp_ours = ours.table["suppressed"].to_numpy()
    # tau-Argus: one table per breakdown, area x breakdown with totals, FREQ(6,10): 1-5 children unsafe
    supp_tau = np.zeros(len(sub), dtype=bool)
    t = time.perf_counter()
    for bd in ind.breakdowns:
        if bd == "neighbourhood" or bd not in frame:
            continue
        df = pd.DataFrame({"area": frame["neighbourhood_code"].astype(str) if "neighbourhood_code" in frame
                           else frame["neighbourhood"].astype(str), "grp": frame[bd].astype(str), "one": 1.0})
        df = df[frame[bd].notna().to_numpy()]
        res = pytauargus.protect(df, [["area", "grp"]], "one", safety_rules="FREQ(6,10)", suppress="OPT(1)")
        out = res.tables[0].dataframe()
        bad = out[out["status"].isin(["U", "M", "D"]) | ~out["status"].isin(["S", "P", "Z", "E"])]
        for a, g in zip(bad["area"], bad["grp"]):
            geo = (sub["geography_type"] == "la") if a == "Total" else (sub["geography_code"] == a)
            cell = (sub["breakdown"] == "all") if g == "Total" else ((sub["breakdown"] == bd) & (sub["breakdown_value"] == g))
            if g == "Total":
                supp_tau |= (geo & cell).to_numpy()
            else:
                supp_tau |= (geo & cell).to_numpy()
    tau_s = time.perf_counter() - t
    model = disclosure_audit.build_model(sub, fw1)
    cost = suppression_cost(sub, fw1)
    for name, s, sec in (("measurekit", supp_ours, ours_s), ("pytauargus OPT", supp_tau, tau_s)):
        a = disclosure_audit.audit(model, s, full=True)
        fails = int((~a.table["passed"]).sum())
        print(f"  {name:<15} {int(s.sum()):>3} of {len(s)} cells withheld, cost {cost[s].sum():>10.0f}, "
              f"headline cells {int((s & (sub['breakdown'] == 'all').to_numpy()).sum())}, {sec:.2f} s; "
              f"measurekit's audit of the pattern: {fails} withheld counts narrowed (exact or small below range)",
              flush=True)


def pattern_tables():
    """(label, board table, keyword arguments of protect()) of the tables --patterns times: the first four as before
    (300/11, 800/11, 800/1, 3,000/1), then the held-out cohorts of tests/test_disclosure_attack.py, the cohorts of
    tests/test_disclosure.py, two independent periods in one table and three periods sharing children (linked)."""
    out = []
    for n, seed in ((300, 11), (800, 11), (800, 1), (3000, 1), (300, 12), (800, 12), (3000, 11), (3000, 12),
                    (150, 1), (150, 2), (300, 1), (300, 2), (800, 2)):
        out.append((f"{n:>6} children, seed {seed:>2}",
                    mk.board_table(make_cohort(n, seed, truth=False), framework=fw, disclosure=False), {}))
    two = pd.concat([mk.board_table(make_cohort(3000, 67 + j, truth=False), framework=fw, disclosure=False,
                                    period=f"{2023 + j}/{24 + j}") for j in range(2)], ignore_index=True)
    out.append(("two periods of 3,000 (seeds 67, 68)", two, {}))
    frame = make_cohort(800, 4, truth=False).analysis_frame()
    years = [f"{2020 + j}/{21 + j}" for j in range(3)]
    linked = pd.concat([mk.board_table(frame.iloc[60 * (2 - j):], framework=fw, disclosure=False, period=y)
                        for j, y in enumerate(years)], ignore_index=True)
    out.append(("three linked periods of 800 (seed 4)", linked,
                {"linked_periods": [(years[j + 1], years[j]) for j in range(2)]}))
    return out


def patterns():
    """protect() CPU time and the md5 of the withheld mask (one byte per row) for fixed tables: run on two versions
    of measurekit, the same md5 means the same published pattern. Totals: the first four tables (the set measured
    before) and all of them."""
    import hashlib

    first4 = total = 0.0
    for k, (label, raw, kw) in enumerate(pattern_tables()):
        cpu = time.process_time()
        res = protect(raw, fw, **kw)
        cpu = time.process_time() - cpu
        total += cpu
        first4 += cpu if k < 4 else 0.0
        s = res.table["suppressed"].to_numpy(dtype=bool)
        print(f"{label:<38}: CPU {cpu:5.1f} s, {res.rounds:>3} rounds, {int(s.sum())} of {len(s)} "
              f"withheld, cost {res.cost:.4f}, md5 {hashlib.md5(s.tobytes()).hexdigest()}", flush=True)
    print(f"protect() CPU: first four tables {first4:.1f} s, all {total:.1f} s", flush=True)


def load() -> str:
    """The machine's load average (1, 5, 15 minutes): the figures above are only comparable at a similar load."""
    import os

    try:
        return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"
    except OSError:
        return "load average not available"


if __name__ == "__main__":
    print(load())
    if "--patterns" in sys.argv:
        patterns()
        print(load())
        sys.exit(0)
    run("bundled cohort, 3,000 children:", make_cohort(3000, 1, truth=False), target=10)
    shares()
    print()
    periods()
    print("\nGLD children by area and breakdown (tau-Argus tables are single, not linked across breakdowns):")
    for n in (300, 800, 3000):
        print(f" {n} children, seed 1:")
        tau_compare(n, 1)
    if "--quick" not in sys.argv:
        for n in (60_000, 600_000):
            frame, lookup = spread_over_areas(make_cohort(n, 2, truth=False).analysis_frame())
            run(f"national cohort, {n:,} children, 150 areas:", frame, lookup, target=120)
    print(load())
