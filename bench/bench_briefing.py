"""Speed of the neighbourhood pages of the board pack: briefings and family pages.

Run: python bench/bench_briefing.py [N_AREAS]   (default 150)

1. The bundled cohort (data/synthetic, 3,000 children, 5 neighbourhoods): briefings + family pages,
   target under 4 s.
2. A regional-size cohort (30,000 children spread over 150 neighbourhoods): the cost per extra
   neighbourhood, target well under 0.5 s. Its table skips the secondary suppression search
   (``protect``, timed in bench_disclosure.py): the pages cost the same either way.
"""
import sys
import tempfile
import time
from pathlib import Path

from _areas import spread_over_areas
from _timing import best

import dataclasses

import measurekit as mk
from measurekit.core.formatting import publish_board_table
from measurekit.data import read_dir
from measurekit.synth.cohort import make_cohort
from measurekit.publish.board_table import build_board_table
from measurekit.publish.briefing import write_briefings
from measurekit.publish.family_page import write_family_pages

N_AREAS = int(sys.argv[1]) if len(sys.argv) > 1 else 150
ROOT = Path(__file__).resolve().parents[1]
fw = mk.load_framework(ROOT / "indicators" / "rochdale-school-readiness")


def published(data, suppress=True, **kw):
    board = build_board_table(data, framework=fw, disclosure=suppress, **kw)
    if not suppress:   # pages timed without the disclosure control (benchmarked on its own): rounded only
        board = dataclasses.replace(board, rows=publish_board_table(board.rows, fw), published=True)
    return board


def pages(board, folder):
    write_briefings(board, folder / "briefing")
    write_family_pages(board, folder / "families")


small = published(read_dir(ROOT / "data" / "synthetic", framework=fw))
frame, lookup = spread_over_areas(make_cohort(30_000, 3, truth=False).analysis_frame(), n_small=2 * N_AREAS, n_areas=N_AREAS)
large = published(frame, suppress=False, lookup=lookup)
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    pages(small, tmp / "warm")          # imports and font caches once, as in any real run
    t5 = best(lambda: pages(small, tmp / "small"), repeat=3)
    n5 = len(small.area_codes())
    print(f"briefings + family pages, bundled cohort ({n5} neighbourhoods): {t5:6.2f} s   (target < 4 s)")
    t = time.perf_counter()
    pages(large, tmp / "large")
    t150 = time.perf_counter() - t
    n150 = len(large.area_codes())
    print(f"briefings + family pages, {n150:>3} neighbourhoods:            {t150:6.2f} s   "
          f"({(t150 - t5) / (n150 - n5):.3f} s per extra neighbourhood, target well under 0.5 s)")
