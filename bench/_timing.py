"""Shared by the benchmarks: the best wall time of a few repeats (the least disturbed by other work)."""
from __future__ import annotations

import time


def best(func, repeat: int = 3) -> float:
    """Minimum wall time in seconds over ``repeat`` calls of ``func()``."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        func()
        out.append(time.perf_counter() - t)
    return min(out)
