"""Speed of mk.polychoric on 3,000 children x 16 items (5 categories) against psych::polychoric, measured
in the same run when Rscript is present (target: at least 10 times faster; issues 16 and 19). R runs with
options(mc.cores = 1), one core like measurekit, as in bench_vs_r.py (psych's default mclapply on two forked processes
makes R's time on a busy machine mostly forking and waiting; see that file's notes).
Run: python bench/bench_polychoric.py"""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import measurekit as mk

sys.path.insert(0, str(Path(__file__).parent))
from bench_cfa_ordinal import best, voice_items  # noqa: E402

data = voice_items(3000)[0]
mk.polychoric(data.iloc[:200])


ours = best(lambda: mk.polychoric(data))
print(f"polychoric, 3,000 x 16: measurekit {ours:.3f} s")
if shutil.which("Rscript"):
    with tempfile.TemporaryDirectory() as tmp:
        data.to_csv(Path(tmp) / "d.csv", index=False)
        script = (f"suppressPackageStartupMessages(library(psych)); options(mc.cores = 1); "
                  f"d <- read.csv('{tmp}/d.csv'); polychoric(d)\n"
                  "t <- min(sapply(1:3, function(i) system.time(polychoric(d))[['elapsed']])); cat(t)")
        out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
        r = float(out.stdout.strip().split()[-1])
        print(f"psych::polychoric, same data, same run: {r:.3f} s -> measurekit is {r / ours:.1f}x faster "
              "(target >= 10x)")
