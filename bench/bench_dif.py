"""Benchmark: DIF for all 16 voice items (4 domains, purification on) on the seed-1 cohort.

Prints our time against the target (no target is set in the issue; we use 10 s for both group
variables, so that DIF fits comfortably in the main job's 60 s). Run: .venv/bin/python bench/bench_dif.py
"""
import time

import measurekit as mk
from measurekit.stats.scoring import item_values

cohort = mk.make_cohort(n=3000, random_state=1)
fw = cohort.framework
frame = cohort.analysis_frame()
resp = frame[frame["responded"] == 1]
values = item_values(resp, framework=fw)
domains = {d.id: [i.id for i in fw.items_in(d.id)] for d in fw.domains}
english = resp["home_language"].eq("English").map({True: "English", False: "other"})

t = time.perf_counter()
a = mk.dif(values, items=domains, group=english, reference="English")
t1 = time.perf_counter() - t
t = time.perf_counter()
b = mk.dif(values, items=domains, group=resp["home_language"], reference="English", min_group=20)
t2 = time.perf_counter() - t
print(f"DIF, 16 items, English vs other ({len(resp)} parents): {t1:.2f} s; flagged {a.flagged}")
print(f"DIF, 16 items, {len(b.groups)} home languages: {t2:.2f} s; flagged {b.flagged}")
print(f"total {t1 + t2:.2f} s vs target 10 s")
