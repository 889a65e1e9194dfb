"""Benchmark: graded response model of 16 items x 3,000 children (issue 16: under 3 s).

Simulated answers (4 and 5 categories, known slopes and thresholds); times mk.grm with standard
errors, EAP scores and S-X2 item fit, as a user would call it, and a second run without SEs and
S-X2. Prints the times against the target. Run: .venv/bin/python bench/bench_irt.py
"""
import time

import numpy as np
import pandas as pd

import measurekit as mk

rng = np.random.default_rng(2026)
n, n_items = 3000, 16
theta = rng.normal(size=n)
cols = {}
for j in range(n_items):
    k = 5 if j % 2 == 0 else 4
    a = rng.uniform(0.9, 2.3)
    b = np.sort(rng.uniform(-2.2, 2.2, k - 1))
    cum = 1 / (1 + np.exp(-a * (theta[:, None] - b[None, :])))
    cols[f"q{j + 1}"] = 1 + (rng.random(n)[:, None] < cum).sum(axis=1)
data = pd.DataFrame(cols)

t = time.perf_counter()
mk.grm(data.head(300), items=list(data.columns)[:4], se=False)      # first call: imports scipy pieces once
print(f"first call on 300 x 4 (imports included): {time.perf_counter() - t:.2f} s")
t = time.perf_counter()
full = mk.grm(data, items=list(data.columns))
t_full = time.perf_counter() - t
t = time.perf_counter()
mk.grm(data, items=list(data.columns), se=False, item_fit=False)
t_bare = time.perf_counter() - t
print(f"GRM 16 items x 3,000 with SEs, EAP and S-X2: {t_full:.2f} s ({full.iterations} EM cycles) vs target 3 s")
print(f"GRM 16 items x 3,000, estimates and EAP only: {t_bare:.2f} s")
