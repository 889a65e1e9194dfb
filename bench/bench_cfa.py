"""Speed of the four-level ML invariance sequence (configural, loadings, intercepts, residuals; 3 factors x
12 items, 2 groups) against lavaan in the same run (target: at least 5x faster than lavaan; issue 19).
Run: python bench/bench_cfa.py

Two data sets, both timed exactly as bench/bench_vs_r.py times its rows (its functions: one warm-up
call on each side, then the best of 3; R timed inside R with system.time):
- "cohort": bench_vs_r.py's invariance row itself (the bundled cohort's complete responders, 5-point
  items, groups by free school meals);
- "synthetic": 3,000 children, continuous items, two random groups of about 1,500.

This script used to time lavaan's *first* call in a fresh R session (lazy loading and byte compilation
made it about twice as slow as the following calls) against Python's best of three after a warm-up, and
on different data from bench_vs_r.py; that is why the two benches reported 10.6x and 2.9x for "the same"
row.
"""
import sys

import numpy as np
import pandas as pd

from bench_vs_r import cohort_workloads, python_seconds, r_seconds


def synthetic():
    from measurekit.stats.invariance import invariance

    rng = np.random.default_rng(1)
    n = 3000
    f = rng.multivariate_normal([0, 0, 0], [[1, .4, .3], [.4, 1, .35], [.3, .35, 1]], size=n)
    df = pd.DataFrame({f"x{k + 1}": 0.7 * f[:, k // 4] + 0.7 * rng.normal(size=n) for k in range(12)})
    df["g"] = rng.integers(0, 2, n)
    model = "\n".join(f"f{j + 1} =~ " + " + ".join(f"x{4 * j + i + 1}" for i in range(4)) for j in range(3))
    return (lambda: invariance(df, model, "g")), df, [f"x{k + 1}" for k in range(12)], model


def main() -> int:
    fn, frame, cols, repeat, model = cohort_workloads()["invariance"]
    rows = [("cohort", fn, frame, cols, model, "fsm")]
    sfn, sdf, scols, smodel = synthetic()
    rows.append(("synthetic", sfn, sdf, scols, smodel, "g"))
    print(f"{'data':10s} {'n':>6s} {'measurekit s':>13s} {'lavaan s':>9s} {'lavaan/mk':>10s}  (target >= 5)")
    for name, fn, frame, cols, model, group in rows:
        py = python_seconds(fn, 3)
        r_s = r_seconds(frame, cols, "invariance", 3, model, group=group)
        ratio = f"{r_s / py:10.1f}" if r_s else f"{'-':>10s}"
        print(f"{name:10s} {len(frame):6d} {py:13.3f} {r_s if r_s is not None else float('nan'):9.3f} {ratio}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
