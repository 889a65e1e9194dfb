"""Speed of mk.added_value with 1,000 bootstrap resamples on 3,000 children and 12 predictors
(target < 3 s). Run: python bench/bench_value.py"""
import time

import numpy as np
import pandas as pd

import measurekit as mk

rng = np.random.default_rng(1)
n = 3000
X = rng.normal(size=(n, 12))
lin = X[:, :8] @ rng.normal(0, 0.4, 8) + 0.3 * X[:, 8:].sum(axis=1)
df = pd.DataFrame(X, columns=[f"x{i}" for i in range(12)])
df["y"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
base, new = [f"x{i}" for i in range(8)], [f"x{i}" for i in range(8, 12)]
mk.added_value(df, "y", base, new, n_boot=20, by=())
times = []
for _ in range(3):
    t = time.perf_counter()
    mk.added_value(df, "y", base, new, n_boot=1000, random_state=0, by=())
    times.append(time.perf_counter() - t)
print(f"added_value, 1,000 bootstrap resamples, 3,000 x 12 predictors: {min(times):.2f} s (target < 3 s)")
