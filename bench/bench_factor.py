"""Speed of mk.polychoric and mk.parallel_analysis on 3,000 children x 16 items (targets from issue 4).
Run: python bench/bench_factor.py   (R's psych on the reference machine: ~0.6 s and ~0.4 s)."""
import time

import measurekit as mk
from measurekit.synth.cohort import make_cohort
from _timing import best

frame = make_cohort(3000, 1, truth=False).analysis_frame()
items = [i for i in ("hl1 hl2 hl3 hl4 wb1 wb2 wb3 wb4 sv1 sv2 sv3 sv4 cc1 cc2 cc3 cc4".split())]
data = frame[items].where(frame[items] != 9).astype(float)   # 3,000 rows (non-responders are all missing)
data = data.fillna(data.median())                             # complete 3,000 x 16, 5 categories
mk.polychoric(data.iloc[:200])




print(f"polychoric, 3,000 x 16:                  {best(lambda: mk.polychoric(data), repeat=5):.3f} s   (target < 0.5 s; psych ~0.6 s)")
print(f"parallel_analysis, 20 iterations, 3,000 x 16: {best(lambda: mk.parallel_analysis(data, n_iter=20, random_state=1), repeat=5):.3f} s   (target < 0.5 s; psych ~0.4 s)")
