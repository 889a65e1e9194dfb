"""Offline readability for English item stems: syllables, Flesch reading ease, Flesch-Kincaid grade.

No network and no downloaded data (textstat >= 0.7.10 fetches NLTK data on first use and fails
offline): syllables are counted with a vowel-group heuristic plus common English exceptions,
accurate to about one syllable in short survey sentences. Reading age = Flesch-Kincaid grade + 5
(the UK convention: US grade 4 is roughly a reading age of 9).
"""
from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE = re.compile(r"[.!?]+")
_EXCEPTIONS = {"people": 2, "every": 2, "everyone": 3, "different": 3, "family": 3, "families": 3, "business": 2,
               "area": 3, "idea": 3, "being": 2, "quiet": 2, "science": 2, "poem": 2, "toilet": 2, "create": 2,
               "area's": 3, "usually": 4, "really": 2, "orange": 2, "someone": 2, "sometimes": 2, "something": 2,
               "themselves": 2, "understood": 3, "understand": 3, "evening": 2, "interesting": 3, "vegetable": 3}


def syllables(word: str) -> int:
    w = word.lower().strip("'")
    if w in _EXCEPTIONS:
        return _EXCEPTIONS[w]
    w = re.sub(r"'s$", "", w)
    if len(w) <= 3:
        return 1
    w = re.sub(r"(?:[^laeiouy]es|[^laeiouy]ed|[^laeiouy]e)$", "", w)
    w = re.sub(r"^y", "", w)
    return max(len(re.findall(r"[aeiouy]+", w)), 1)   # a final consonant + "le" keeps its "e" as a syllable


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def stats(text: str) -> dict:
    """words, sentences, syllables, flesch_reading_ease, fk_grade and reading_age of a text."""
    ws = words(text)
    n_words = max(len(ws), 1)
    n_sent = max(len([s for s in _SENTENCE.split(text) if s.strip()]), 1)
    n_syll = sum(syllables(w) for w in ws)
    ease = 206.835 - 1.015 * (n_words / n_sent) - 84.6 * (n_syll / n_words)
    grade = 0.39 * (n_words / n_sent) + 11.8 * (n_syll / n_words) - 15.59
    return {"words": len(ws), "sentences": n_sent, "syllables": n_syll, "flesch_reading_ease": ease,
            "fk_grade": grade, "reading_age": grade + 5}
