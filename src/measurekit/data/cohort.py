"""The ``Cohort``: the tables of one reception cohort, as read from files or generated."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.data.schemas import ASQ_DOMAINS

_KEY = "__child"   # integer code of child_id while tables are joined


@dataclass
class Cohort:
    """Tables keyed by file stem (children, small_areas, eyfsp, asq, voice_parent,
    voice_practitioner, later_outcome), plus the ground truth for synthetic cohorts."""

    tables: dict[str, pd.DataFrame]
    ground_truth: dict | None = None
    framework: object | None = field(default=None, repr=False)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def analysis_frame(self) -> pd.DataFrame:
        """One row per child in ``children`` with routine data, outcomes and parent item codes.

        Columns: every children column; ``neighbourhood_code`` (from the small-area lookup);
        the ELG columns, ``gld`` and ``total_elgs_expected``; the ASQ-3 columns and ``asq_total``
        (sum of the five domain scores, NaN without an ASQ); ``y1_phonics_pass``; ``responded``
        (1 if a parent voice response is linked); ``form_language``, ``completed_on`` and the
        parent item columns with raw codes (the don't-know code kept). Where a child has more
        than one response, the latest is used (``measurekit.data.link`` reports duplicates).
        """
        t = self.tables
        frame = t["children"].copy()
        if "small_areas" in t and "neighbourhood_code" not in frame:
            lookup = t["small_areas"][["small_area", "neighbourhood_code"]].drop_duplicates("small_area")
            frame = frame.merge(lookup, on="small_area", how="left")
        # the child_id of every table as one integer code, hashed once: the joins below are on integers
        joined = [n for n in ("eyfsp", "asq", "later_outcome", "voice_parent") if n in t]
        ids = [frame["child_id"].to_numpy()] + [t[n]["child_id"].to_numpy() for n in joined]
        codes = np.split(pd.factorize(np.concatenate(ids))[0], np.cumsum([len(i) for i in ids])[:-1])
        key: dict[str, np.ndarray] = dict(zip(joined, codes[1:]))
        frame[_KEY] = codes[0]

        def one_per_child(name: str) -> pd.DataFrame:
            """The table with an integer key instead of child_id; the first row of each child."""
            right = t[name].drop(columns="child_id").assign(**{_KEY: key[name]})
            return right[~right[_KEY].duplicated().to_numpy()]

        if "eyfsp" in t:
            frame = frame.merge(one_per_child("eyfsp"), on=_KEY, how="left")
        if "asq" in t:
            asq = one_per_child("asq")
            asq["asq_total"] = asq[[f"asq_{d}" for d in ASQ_DOMAINS]].sum(axis=1, min_count=5)
            frame = frame.merge(asq, on=_KEY, how="left")
        if "later_outcome" in t:
            frame = frame.merge(one_per_child("later_outcome"), on=_KEY, how="left")
        voice = t.get("voice_parent")
        if voice is not None:
            # the latest response of each child (a missing date sorts last, as pandas sorts it)
            voice = voice.drop(columns="child_id").assign(**{_KEY: key["voice_parent"]})
            voice = voice.sort_values([_KEY, "completed_on"]).drop_duplicates(_KEY, keep="last")
            voice = voice.drop(columns=["response_id"], errors="ignore")
            frame = frame.merge(voice, on=_KEY, how="left", indicator="_linked")
            at = frame.columns.get_loc("form_language")
            assert isinstance(at, int)  # the merged columns are unique, so get_loc gives a position
            frame.insert(at, "responded", (frame.pop("_linked") == "both").astype(int))
        else:
            frame["responded"] = 0
        return frame.drop(columns=_KEY)

    def cohort_size(self) -> int:
        return int(len(self.tables["children"]))

    def response_rate(self) -> float:
        f = self.analysis_frame()
        return float(np.mean(f["responded"]))
