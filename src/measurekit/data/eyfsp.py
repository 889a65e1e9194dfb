"""EYFSP facts: the 17 Early Learning Goals and the Good Level of Development (GLD) rule.

Since the 2021/22 reforms each ELG is judged "emerging" or "expected". Codes in the pupil-level
extract (as in the DfE EYFSP data collection): ``1`` = emerging, ``2`` = expected,
``A`` = not assessed. A child "not assessed" in an ELG has not been judged at the expected
level, so does not meet GLD (DfE counts such children in the cohort).

GLD = expected in all 12 ELGs of the three prime areas (Communication and Language; Personal,
Social and Emotional Development; Physical Development) plus Literacy and Mathematics.
Understanding the World and Expressive Arts and Design do not count.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EMERGING, EXPECTED, NOT_ASSESSED = "1", "2", "A"
CODES = {EMERGING: "emerging", EXPECTED: "expected", NOT_ASSESSED: "not assessed"}


@dataclass(frozen=True)
class ELG:
    column: str
    name: str
    area: str
    prime: bool
    counts_for_gld: bool


_AREAS = [
    ("Communication and Language", True, True, [("elg_listening", "Listening, Attention and Understanding"),
                                                 ("elg_speaking", "Speaking")]),
    ("Personal, Social and Emotional Development", True, True, [("elg_self_regulation", "Self-Regulation"),
                                                                 ("elg_managing_self", "Managing Self"),
                                                                 ("elg_relationships", "Building Relationships")]),
    ("Physical Development", True, True, [("elg_gross_motor", "Gross Motor Skills"),
                                          ("elg_fine_motor", "Fine Motor Skills")]),
    ("Literacy", False, True, [("elg_comprehension", "Comprehension"), ("elg_word_reading", "Word Reading"),
                               ("elg_writing", "Writing")]),
    ("Mathematics", False, True, [("elg_number", "Number"), ("elg_numerical_patterns", "Numerical Patterns")]),
    ("Understanding the World", False, False, [("elg_past_present", "Past and Present"),
                                               ("elg_people_culture", "People, Culture and Communities"),
                                               ("elg_natural_world", "The Natural World")]),
    ("Expressive Arts and Design", False, False, [("elg_creating_materials", "Creating with Materials"),
                                                  ("elg_imaginative", "Being Imaginative and Expressive")]),
]

ELGS: list[ELG] = [ELG(col, name, area, prime, gld) for area, prime, gld, goals in _AREAS for col, name in goals]
ELG_COLUMNS = [e.column for e in ELGS]
GLD_COLUMNS = [e.column for e in ELGS if e.counts_for_gld]
assert len(ELGS) == 17 and len(GLD_COLUMNS) == 12


def _expected(frame: pd.DataFrame, columns) -> pd.DataFrame:
    values = np.char.strip(frame[columns].to_numpy().astype(str))
    return pd.DataFrame(values == EXPECTED, index=frame.index, columns=columns)


def gld_rule(at_expected) -> np.ndarray:
    """GLD (1/0) by the DfE rule, expected in all 12 GLD ELGs; ``at_expected``: one boolean array (or column) per
    ELG column name, True where the child is at the expected level."""
    return np.logical_and.reduce([np.asarray(at_expected[c], dtype=bool) for c in GLD_COLUMNS]).astype(np.int64)


def count_expected(at_expected) -> np.ndarray:
    """Number of the 17 ELGs at the expected level (0-17); ``at_expected`` as for :func:`gld_rule`."""
    return np.asarray(np.sum([np.asarray(at_expected[c], dtype=bool) for c in ELG_COLUMNS], axis=0, dtype=np.int64))


def derive_gld(frame: pd.DataFrame) -> pd.Series:
    """GLD (1/0) from the ELG columns by the DfE rule: expected in all 12 GLD ELGs."""
    return pd.Series(gld_rule(_expected(frame, GLD_COLUMNS)), index=frame.index)


def total_expected(frame: pd.DataFrame) -> pd.Series:
    """Number of the 17 ELGs at the expected level (0-17)."""
    return pd.Series(count_expected(_expected(frame, ELG_COLUMNS)), index=frame.index)
