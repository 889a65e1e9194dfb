"""Speed of the ordinal (WLSMV) CFA and ordinal invariance on 3,000 children x 16 items (5 categories,
4 factors), against lavaan in the same run when Rscript is present. Targets (issue 16): CFA under 1 s,
4-level invariance in 2 groups under 3 s. Run: python bench/bench_cfa_ordinal.py"""
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import measurekit as mk
from _timing import best

MODEL = "\n".join(f"{d} =~ " + " + ".join(f"{d}{i}" for i in range(1, 5)) for d in ("hl", "wb", "sv", "cc"))


def voice_items(n, seed=1):
    """The synthetic cohort's 16 voice items (5 categories), complete rows, and a two-level group."""
    from measurekit.synth.cohort import make_cohort

    frame = make_cohort(n, seed, truth=False).analysis_frame()
    items = "hl1 hl2 hl3 hl4 wb1 wb2 wb3 wb4 sv1 sv2 sv3 sv4 cc1 cc2 cc3 cc4".split()
    data = frame[items].where(frame[items] != 9).astype(float)
    data = data.fillna(data.median()).astype(int)
    group = frame["home_language"].eq("English").map({True: "English", False: "other"})
    return data, group




if __name__ == "__main__":
    data, group = voice_items(3000)
    df = data.assign(g=np.random.default_rng(1).integers(0, 2, len(data)))
    mk.cfa(df.head(500), MODEL, ordered=True)
    t_cfa = best(lambda: mk.cfa(df, MODEL, ordered=True))
    t_inv = best(lambda: mk.invariance(df, MODEL, "g", ordered=True))
    print(f"WLSMV CFA, 16 items x 3,000: measurekit {t_cfa:.2f} s (target < 1 s)")
    print(f"ordinal invariance, 4 levels, 2 groups: measurekit {t_inv:.2f} s (target < 3 s)")
    if shutil.which("Rscript"):
        with tempfile.TemporaryDirectory() as tmp:
            df.to_csv(Path(tmp) / "d.csv", index=False)
            m = MODEL.replace("\n", "; ")
            script = f"""suppressPackageStartupMessages({{library(lavaan); library(semTools)}})
d <- read.csv('{tmp}/d.csv'); m <- '{m}'; items <- setdiff(names(d), 'g')
t1 <- min(sapply(1:3, function(i) system.time(cfa(m, d, ordered = items, estimator = 'WLSMV'))[['elapsed']]))
lev <- list('configural', 'thresholds', c('thresholds', 'loadings'), c('thresholds', 'loadings', 'intercepts'))
t2 <- system.time(for (e in lev) {{
  s <- measEq.syntax(configural.model = m, data = d, ordered = items, parameterization = 'delta', ID.fac = 'std.lv',
                     ID.cat = 'Wu.Estabrook.2016', group = 'g', group.equal = e)
  cfa(as.character(s), data = d, group = 'g', ordered = items, parameterization = 'delta')
}})[['elapsed']]
cat(t1, t2)"""
            out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True)
            try:
                r1, r2 = map(float, out.stdout.split()[-2:])
                print(f"lavaan, same run: CFA {r1:.2f} s ({r1 / t_cfa:.1f}x), invariance {r2:.2f} s ({r2 / t_inv:.1f}x)")
            except ValueError:
                print("lavaan run failed:", out.stderr[-500:])
