"""measurekit against its R peer, timed in one run: python bench/bench_vs_r.py

For each workload the Python call and the same call in R (``Rscript``, with psych / lavaan) run on the
same data (the bundled cohort's parent responders, written to a temporary CSV) and both times are printed
with the ratio R / Python. R's time is measured inside R (``system.time``), so starting R and loading
packages is not counted against it; Python's likewise excludes imports (one warm-up call first).
Without Rscript only the Python times are printed.

Workloads (issue 19): polychoric correlations of the 16 items (psych::polychoric); parallel analysis with
20 iterations (psych::fa.parallel, fa = "both"); ML invariance, 4 levels, 3 factors x 12 items, 2 groups
(lavaan cfa with group.equal, as measurekit.invariance); alpha with 1,000 bootstraps of an 8-item scale
(psych::alpha, n.iter = 1000).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from _timing import best

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def best_of(fn, repeat=3) -> float:
    fn()                                   # warm-up (imports, caches)
    return best(fn, repeat)


R_TEMPLATE = r"""
suppressMessages({library(psych); library(lavaan)})
x <- read.csv("%(csv)s")
items <- x[, %(items)s]
best <- function(f, k = 3) { f(); min(sapply(1:k, function(i) system.time(f())[["elapsed"]])) }
t <- switch("%(what)s",
  polychoric = best(function() suppressWarnings(polychoric(items))),
  parallel   = best(function() suppressWarnings(fa.parallel(items, fa = "both", n.iter = 20, plot = FALSE))),
  alpha      = best(function() suppressWarnings(alpha(items[, 1:8], n.iter = 1000)), 1),
  invariance = best(function() {
      m <- '%(model)s'
      for (eq in list("", c("loadings"), c("loadings", "intercepts"), c("loadings", "intercepts", "residuals")))
        suppressWarnings(cfa(m, data = x, group = "fsm", group.equal = eq))
  }, 1))
cat(sprintf("R_SECONDS %%.4f\n", t))
"""


def main() -> int:
    import measurekit as mk
    from measurekit.data import read_dir
    from measurekit.stats.factor import parallel_analysis, polychoric
    from measurekit.stats.invariance import invariance
    from measurekit.stats.reliability import alpha
    from measurekit.stats.scoring import item_values

    fw = mk.load_framework(ROOT / "indicators" / "rochdale-school-readiness")
    f = read_dir(ROOT / "data" / "synthetic", framework=fw).analysis_frame()
    resp = f[f["responded"] == 1]
    vals = item_values(resp, fw)
    items = list(vals.columns)
    domains = [[i.id for i in fw.items_in(d.id)] for d in fw.domains][:3]
    inv_items = [i for d in domains for i in d]
    model = "\n".join(f"F{j + 1} =~ " + " + ".join(d) for j, d in enumerate(domains))
    data = vals.copy()
    data["fsm"] = resp["fsm"].to_numpy()
    inv_data = data.dropna(subset=inv_items)
    work = {
        "polychoric": (lambda: polychoric(vals), items, data),
        "parallel": (lambda: parallel_analysis(vals, n_iter=20, random_state=1), items, data),
        "invariance": (lambda: invariance(inv_data, model, "fsm"), inv_items, inv_data),
        "alpha": (lambda: alpha(vals[items[:8]], n_boot=1000, random_state=1), items, data),
    }
    rscript = shutil.which("Rscript")
    print(f"{len(resp)} respondents, {len(items)} items; R peer: {rscript or 'not found'}")
    print(f"{'workload':12s} {'python s':>9s} {'R s':>9s} {'R/python':>9s}")
    with tempfile.TemporaryDirectory() as tmp:
        for what, (fn, cols, frame) in work.items():
            py = best_of(fn, 3 if what != "invariance" else 1)
            r_s = None
            if rscript:
                csv = Path(tmp) / f"{what}.csv"
                frame[cols + ["fsm"]].to_csv(csv, index=False)
                script = R_TEMPLATE % {"csv": csv, "items": "c(" + ", ".join(f'"{c}"' for c in cols) + ")",
                                       "what": what, "model": model.replace("\n", "; ")}
                out = subprocess.run([rscript, "-e", script], capture_output=True, text=True)
                line = [ln for ln in out.stdout.splitlines() if ln.startswith("R_SECONDS")]
                r_s = float(line[0].split()[1]) if line else None
                if r_s is None:
                    print("   R failed:", out.stderr.strip().splitlines()[-3:] if out.stderr else "")
            ratio = f"{r_s / py:9.1f}" if r_s else f"{'-':>9s}"
            print(f"{what:12s} {py:9.3f} {r_s if r_s is not None else float('nan'):9.3f} {ratio}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
