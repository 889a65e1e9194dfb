"""Speed of the board pack (targets from issue 7). Run: python bench/bench_board.py

1. Whole pack for one cohort (3,000 children, 5 neighbourhoods, all breakdowns): target < 10 s.
2. Board table for a national-size cohort (600,000 children, 150 areas): target < 15 s and < 4 GB peak.
"""
import resource
import tempfile
import time
from pathlib import Path


import measurekit as mk
from measurekit.publish.board_pack import write_board_pack
from measurekit.synth.cohort import make_cohort
from _areas import spread_over_areas

fw = mk.load_framework(Path(__file__).resolve().parents[1] / "indicators" / "rochdale-school-readiness")
cohort = make_cohort(3000, 1, truth=False)
with tempfile.TemporaryDirectory() as tmp:
    t = time.perf_counter()
    write_board_pack(fw, cohort, Path(tmp) / "pack")
    print(f"whole board pack, 3,000 children:          {time.perf_counter() - t:6.2f} s   (target < 10 s)")

big = make_cohort(600_000, 2, truth=False)
frame = big.analysis_frame()
frame, lookup = spread_over_areas(frame)
t = time.perf_counter()
table = mk.board_table(frame, framework=fw, lookup=lookup)
elapsed = time.perf_counter() - t
peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
print(f"board table, 600,000 children, 150 areas:  {elapsed:6.2f} s   (target < 15 s); {len(table):,} rows; "
      f"peak memory of this process {peak_gb:.1f} GB (target < 4 GB)")
