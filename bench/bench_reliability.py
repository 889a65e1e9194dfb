"""Speed of mk.alpha (targets from issue 4). Run: python bench/bench_reliability.py

R's psych on the reference 2-core machine: ~0.65 s (alpha, 1,000 bootstraps, 3,000 x 8) and
~1.2 s (alpha, 600,000 x 8).
"""
import time
import tracemalloc

import numpy as np
import pandas as pd

import measurekit as mk
from _timing import best


def likert(n, k, seed):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 1))
    y = 0.7 * f + 0.7 * rng.normal(size=(n, k))
    x = np.digitize(y, [-1.5, -0.5, 0.5, 1.5]) + 1.0
    x[rng.random((n, k)) < 0.03] = np.nan
    return pd.DataFrame(x, columns=[f"i{j}" for j in range(k)])




small = likert(3000, 8, 1)
mk.alpha(small, n_boot=50, random_state=0)  # warm up imports
t = best(lambda: mk.alpha(small, n_boot=1000, random_state=0))
print(f"alpha, 1,000 bootstrap resamples, 3,000 x 8:  {t:.3f} s   (target < 0.2 s; psych ~0.65 s)")

big = likert(600_000, 8, 2)
t = best(lambda: mk.alpha(big), repeat=3)
tracemalloc.start()
mk.alpha(big)
peak = tracemalloc.get_traced_memory()[1] / 2**20
tracemalloc.stop()
print(f"alpha, no bootstrap, 600,000 x 8:             {t:.3f} s   (target < 0.3 s; psych ~1.2 s); "
      f"peak extra memory {peak:.0f} MB (target < 1 GB)")
