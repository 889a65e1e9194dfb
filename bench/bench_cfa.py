"""Speed of the four-level ML invariance sequence: 3 factors, 12 items, 3,000 children in two groups,
against lavaan in the same run when Rscript is present (targets: under 1 s, at least 5x faster than
lavaan; issue 19). Run: python bench/bench_cfa.py"""
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import measurekit as mk

rng = np.random.default_rng(1)
n = 3000
f = rng.multivariate_normal([0, 0, 0], [[1, .4, .3], [.4, 1, .35], [.3, .35, 1]], size=n)
items = {}
for k in range(12):
    items[f"x{k + 1}"] = 0.7 * f[:, k // 4] + 0.7 * rng.normal(size=n)
df = pd.DataFrame(items)
df["g"] = rng.integers(0, 2, n)
model = "\n".join(f"f{j + 1} =~ " + " + ".join(f"x{4 * j + i + 1}" for i in range(4)) for j in range(3))
mk.invariance(df.head(500), model, "g")
times = []
for _ in range(3):
    t = time.perf_counter()
    mk.invariance(df, model, "g")
    times.append(time.perf_counter() - t)
print(f"invariance, 4 levels, 12 items, 3 factors, 3,000 x 2 groups: measurekit {min(times):.2f} s (target < 1 s)")
if shutil.which("Rscript"):
    with tempfile.TemporaryDirectory() as tmp:
        df.to_csv(Path(tmp) / "d.csv", index=False)
        script = (f"suppressPackageStartupMessages(library(lavaan)); d <- read.csv('{tmp}/d.csv'); m <- '{model.replace(chr(10), '; ')}'\n"
                  "t <- system.time(for (e in list('none', 'loadings', c('loadings','intercepts'), "
                  "c('loadings','intercepts','residuals'))) cfa(m, d, group = 'g', group.equal = e))[['elapsed']]\ncat(t)")
        out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
        r = float(out.stdout.strip().split()[-1])
        print(f"lavaan, same sequence, same run: {r:.2f} s -> measurekit is {r / min(times):.1f}x faster (target >= 5x)")
