"""The ``Cohort``: the tables of one cohort of people, as read from files or generated.

Which table holds the people, their id and the other tables come from the framework's declaration
(``population`` and ``tables``); a ``Cohort`` built without a framework uses the data contract's default names
(``children``, ``child_id``, ``small_areas``, ``eyfsp``, ``asq``, ``later_outcome``, ``voice_parent``)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.data.schemas import ASQ_DOMAINS

_KEY = "__child"   # integer code of the person id while tables are joined


@dataclass(frozen=True)
class _Layout:
    """Where things are in the tables: the population table and id, the lookup and its area code, the tables
    with one row per person joined in order (name, kind), and the voice table whose latest answers are joined."""

    table: str
    id: str
    lookup: str | None
    small_area: str | None
    area_code: str | None
    routine: tuple[tuple[str, str], ...]
    voice: str | None
    voice_date: str | None
    voice_drop: tuple[str, ...]


def _layout(framework, tables: dict) -> _Layout:
    fw = framework
    if fw is None or not getattr(fw, "tables", None) or getattr(fw, "population", None) is None:
        routine = tuple((n, n) for n in ("eyfsp", "asq", "later_outcome") if n in tables)
        return _Layout("children", "child_id", "small_areas", "small_area", "neighbourhood_code", routine,
                       "voice_parent", "completed_on", ("response_id",))
    pop = fw.population
    routine = tuple((t.name, t.kind) for t in fw.tables
                    if t.kind != "voice" and t.name not in (pop.table, pop.lookup)
                    and list(t.key or [pop.id]) == [pop.id] and t.name in tables)
    first = next((t for t in fw.tables if t.kind == "voice" and not t.retest), None)
    drop = tuple(k for k in (first.key if first else []) if k != pop.id)
    return _Layout(pop.table, pop.id, pop.lookup, pop.small_area, pop.area_code, routine,
                   first.name if first else None, first.date if first else None, drop)


def _join_lookup(frame: pd.DataFrame, lookup: pd.DataFrame, on: str, column: str) -> pd.DataFrame:
    """``frame.merge(lookup, on=on, how="left")`` (``lookup``: one row per key): where the keys are text of one
    dtype and every key of the frame is in the lookup, the lookup's ``column`` picked by position and put last, on
    the merge's fresh row numbers (the same frame without the merge's work); the merge itself otherwise."""
    keys, known = frame[on], lookup[on]
    if isinstance(keys.dtype, pd.StringDtype) and keys.dtype == known.dtype and list(lookup.columns) == [on, column]:
        at = pd.Index(known).get_indexer(keys)
        if len(at) and (at >= 0).all():
            out = frame.reset_index(drop=True)
            out[column] = lookup[column].array.take(at)
            return out
    return frame.merge(lookup, on=on, how="left")


def _person_codes(ids: list[pd.Series]) -> np.ndarray:
    """One integer per distinct person id over the columns ``ids`` put end to end (-1 for a missing id), as
    ``pd.factorize`` of their values: factorized as text at once when every column holds pandas text of one dtype
    (pyarrow's dictionary encoding rather than a hash of every row's Python string). Only which ids are equal
    matters to the joins, so any such numbering gives the same frame."""
    first = ids[0].dtype
    if isinstance(first, pd.StringDtype) and all(i.dtype == first for i in ids):
        return np.asarray(pd.factorize(pd.concat(ids, ignore_index=True))[0])
    return pd.factorize(np.concatenate([i.to_numpy() for i in ids]))[0]


@dataclass
class Cohort:
    """Tables keyed by file stem (the tables the framework declares), plus the ground truth for synthetic
    cohorts."""

    tables: dict[str, pd.DataFrame]
    ground_truth: dict | None = None
    framework: object | None = field(default=None, repr=False)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def analysis_frame(self) -> pd.DataFrame:
        """One row per person in the population table with routine data, outcomes and the first voice table's
        item codes (the bundled framework: one row per child in ``children``).

        Columns: every population column; the area code (``neighbourhood_code`` in the bundled framework, from the
        small-area lookup); then the columns of each table with one row per person, in the framework's order
        (bundled: the ELG columns, ``gld`` and ``total_elgs_expected``; the ASQ-3 columns and ``asq_total``, the
        sum of the five domain scores, NaN without an ASQ; ``y1_phonics_pass``); ``responded`` (1 if a response
        of the first voice table is linked); that table's other columns (bundled: ``form_language``,
        ``completed_on``) and its item columns with raw codes (the don't-know code kept). Where a person has more
        than one response (or several review rounds), the latest by its date column is used
        (``measurekit.data.link`` reports duplicates).
        """
        t = self.tables
        lay = _layout(self.framework, t)
        pid = lay.id
        frame = t[lay.table].copy(deep=False)   # columns are added to the copy, never to the table
        if lay.lookup and lay.lookup in t and lay.area_code and lay.small_area and lay.area_code not in frame:
            lookup = t[lay.lookup][[lay.small_area, lay.area_code]].drop_duplicates(lay.small_area)
            frame = _join_lookup(frame, lookup, lay.small_area, lay.area_code)
        # the person id of every table as one integer code, hashed once: the joins below are on integers
        voice_name = lay.voice if lay.voice in t else None
        joined = [n for n, _ in lay.routine] + ([voice_name] if voice_name else [])
        ids = [frame[pid]] + [t[n][pid] for n in joined]
        codes = np.split(_person_codes(ids), np.cumsum([len(i) for i in ids])[:-1])
        key: dict[str, np.ndarray] = dict(zip(joined, codes[1:]))
        frame[_KEY] = codes[0]

        def one_per_child(name: str) -> pd.DataFrame:
            """The table with an integer key instead of child_id; the first row of each child."""
            right = t[name].drop(columns=pid).assign(**{_KEY: key[name]})
            again = right[_KEY].duplicated().to_numpy()
            return right[~again] if again.any() else right

        def plain(frame: pd.DataFrame, right: pd.DataFrame) -> bool:
            """Whether ``frame.merge(right, on=_KEY, how="left")`` only puts each person's row of ``right`` beside
            the frame: the frame numbered 0, 1, ... (as a merge numbers its result), no column name shared, one row
            of ``right`` per person."""
            return (isinstance(frame.index, pd.RangeIndex) and frame.index.equals(pd.RangeIndex(len(frame)))
                    and right.columns.is_unique and not set(frame.columns) & (set(right.columns) - {_KEY})
                    and bool(right[_KEY].is_unique))

        def beside(frame: pd.DataFrame, right: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
            """The merge of a ``plain`` join without its work: ``right``'s rows reindexed by the frame's keys
            (pandas' fill where a person has none, as the merge fills) and put beside the frame; and where a row
            was found. Without a copy when ``right`` holds the frame's people in the frame's order."""
            if len(right) == len(frame) and right.index.equals(frame.index) and np.array_equal(
                    right[_KEY].to_numpy(), frame[_KEY].to_numpy()):
                return pd.concat([frame, right.drop(columns=_KEY)], axis=1), np.ones(len(frame), dtype=bool)
            keyed = right.set_index(_KEY)
            codes = frame[_KEY].to_numpy()
            found = keyed.index.get_indexer(pd.Index(codes)) >= 0
            taken = keyed.reindex(codes)
            taken.index = frame.index
            return pd.concat([frame, taken], axis=1), found

        def join(frame: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
            """``frame.merge(right, on=_KEY, how="left")``."""
            return beside(frame, right)[0] if plain(frame, right) else frame.merge(right, on=_KEY, how="left")

        for name, kind in lay.routine:
            right = one_per_child(name)
            if kind == "asq":
                right["asq_total"] = right[[f"asq_{d}" for d in ASQ_DOMAINS]].sum(axis=1, min_count=5)
            frame = join(frame, right)
        voice = t.get(voice_name) if voice_name else None
        if voice is not None and voice_name is not None:
            # the latest response of each person (a missing date sorts last, as pandas sorts it); with one response
            # each there is nothing to choose (the merge below puts them in the frame's order)
            voice = voice.drop(columns=pid).assign(**{_KEY: key[voice_name]})
            order: list[str] = [_KEY] + ([lay.voice_date] if lay.voice_date and lay.voice_date in voice else [])
            if voice[_KEY].duplicated().any():
                voice = voice.sort_values(order).drop_duplicates(_KEY, keep="last")
            voice = voice.drop(columns=list(lay.voice_drop), errors="ignore")
            first_column = next((c for c in voice.columns if c != _KEY), None)
            if plain(frame, voice) and "_linked" not in frame.columns and "_linked" not in voice.columns:
                frame, found = beside(frame, voice)
                linked: np.ndarray | pd.Series = found.astype(int)
                at = frame.columns.get_loc(first_column) if first_column is not None else len(frame.columns)
            else:
                frame = frame.merge(voice, on=_KEY, how="left", indicator="_linked")
                at = frame.columns.get_loc(first_column) if first_column is not None else len(frame.columns) - 1
                linked = (frame.pop("_linked") == "both").astype(int)
            assert isinstance(at, int)  # the merged columns are unique, so get_loc gives a position
            frame.insert(at, "responded", linked)
        else:
            frame["responded"] = 0
        return frame.drop(columns=_KEY)

    def cohort_size(self) -> int:
        return int(len(self.tables[_layout(self.framework, self.tables).table]))

    def response_rate(self) -> float:
        f = self.analysis_frame()
        return float(np.mean(f["responded"]))
