"""Shared by the national-scale benchmarks: spread a cohort over 600 small areas in 150 neighbourhoods."""
from __future__ import annotations

import numpy as np
import pandas as pd


def spread_over_areas(frame: pd.DataFrame, n_small: int = 600, n_areas: int = 150, seed: int = 0):
    """Give every child a random small area and its neighbourhood (in place); return (frame, lookup)."""
    rng = np.random.default_rng(seed)
    frame["small_area"] = np.char.add("SA", rng.integers(0, n_small, len(frame)).astype(str))
    lookup = pd.DataFrame({"small_area": [f"SA{i}" for i in range(n_small)],
                           "small_area_name": [f"Small area {i}" for i in range(n_small)],
                           "neighbourhood_code": [f"AREA{i % n_areas:03d}" for i in range(n_small)],
                           "neighbourhood": [f"Area {i % n_areas}" for i in range(n_small)]})
    frame["neighbourhood"] = frame["small_area"].map(dict(zip(lookup.small_area, lookup.neighbourhood)))
    return frame, lookup
