"""Cost of the over-time tables as years are added (issue 27). Run: python bench/bench_periods.py [children a year]

Builds synthetic cohorts in memory (``synth/over_time.make_periods``, no population truth) and times
``stats.over_time.over_time`` on the first year alone and on all five years: the cost should grow no faster than
the data (five years at most about 5x one year; the added-value bootstrap among flagged children is capped at a
random sample of 20,000, so it grows less). Best of three; the load average is printed with the figures (the
machine is shared). Reading and validating the CSV files is timed by bench_national.py for one year; a folder of
years is read year by year, so it costs the sum of its years.
"""
import os
import sys
import time

from _timing import best

from measurekit.core.paths import BUNDLED_FRAMEWORK
from measurekit.stats.over_time import over_time
from measurekit.synth.over_time import make_periods

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


t0 = time.perf_counter()
multi = make_periods("2021/22-2025/26", n=N, random_state=1, framework=BUNDLED_FRAMEWORK, truth=False)
print(f"generated 5 x {N:,} children in {time.perf_counter() - t0:.1f} s")
first = dict(list(multi.cohorts.items())[:1])
one = best(lambda: over_time(first, framework=multi.framework, repetitions=10_000, n_boot=50))
five = best(lambda: over_time(multi.cohorts, framework=multi.framework, repetitions=10_000, n_boot=50))
print(f"over_time, {N:,} children a year: 1 year {one:.2f} s, 5 years {five:.2f} s, ratio {five / one:.2f} "
      f"(target <= 5)   load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
