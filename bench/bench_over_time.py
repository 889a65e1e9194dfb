"""Speed of the statistics over time (issue 27). Run: python bench/bench_over_time.py

The board pack will call these for every area, breakdown and indicator of a multi-year release: a national
release is about 150 LAs x 10 areas x a few breakdowns, i.e. thousands of series. Target: 10,000 series of 6
periods in under 5 s for trend markers, change from the previous period and target progress each; one SII
(10 deciles, 100,000 Monte Carlo draws) under 0.5 s; a funnel of 10,000 areas under 2 s. Timings are the
best of three (the machine is shared); the load average is printed with them.
"""
import os

import numpy as np
import pandas as pd
import scipy.stats  # noqa: F401  (imported once, outside the timings)
from _timing import best

from measurekit.stats.funnel import funnel
from measurekit.stats.inequality import sii
from measurekit.stats.target import target_progress
from measurekit.stats.trend import change_from_previous, trend_markers

rng = np.random.default_rng(1)
years = [f"{y}/{str(y + 1)[2:]}" for y in range(2020, 2026)]
for n_series in (1_000, 10_000):
    d = pd.DataFrame({"area": np.repeat(np.arange(n_series), len(years)), "period": years * n_series})
    d["denominator"] = rng.integers(50, 500, len(d))
    d["numerator"] = rng.binomial(d["denominator"], 0.68)
    for name, f in (("trend_markers", lambda d=d: trend_markers(d, by="area")),
                    ("change_from_previous", lambda d=d: change_from_previous(d, by="area")),
                    ("target_progress", lambda d=d: target_progress(d, by="area", target=75, target_period=2028))):
        print(f"{name:22s} {n_series:6,} series x 6 periods: {best(f):6.2f} s   (target < 5 s at 10,000)")
pop = rng.integers(3000, 6000, 10)
deciles = pd.DataFrame({"quantile": range(1, 11), "population": pop,
                        "x": rng.binomial(pop, np.linspace(0.6, 0.75, 10))})
print(f"sii, 10 deciles, 100,000 draws:            {best(lambda: sii(deciles, numerator='x', random_state=1)):6.2f} s"
      "   (target < 0.5 s)")
areas = pd.DataFrame({"area": range(10_000), "denominator": rng.integers(50, 900, 10_000)})
areas["numerator"] = rng.binomial(areas["denominator"], 0.68)
print(f"funnel, 10,000 areas:                      {best(lambda: funnel(areas)):6.2f} s   (target < 2 s)")
print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
