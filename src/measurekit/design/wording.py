"""Item-writing checks: each finding says why it matters and what to try instead.

Checks (codes): reading_age (above the target reading age; English), too_long (word limit per language,
see ``word_limits``), double_barrelled,
negative_wording, double_negative, jargon, leading_wording, scale_inconsistent (items of a domain on
different scales), missing_translation. All work offline.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import pandas as pd

from measurekit.design.readability import stats, words
from measurekit.problems import Problem

DEFAULT_JARGON = ("school readiness", "ehcp", "ehc plan", "send", "senco", "early help", "eyfs", "elg", "gld",
                  "developmental", "outcomes", "cognitive", "safeguarding", "intervention", "provision",
                  "multi-agency", "stakeholder")
NEGATIONS = ("not", "no", "never", "nobody", "nothing", "none", "neither", "nor", "without", "cannot", "can't",
             "don't", "doesn't", "didn't", "won't", "isn't", "aren't", "wasn't", "haven't", "hasn't")
LEADING = ("don't you agree", "wouldn't you", "surely", "obviously", "of course", "isn't it", "excellent",
           "wonderful", "how much do you love", "everyone knows", "most parents agree")
MAX_WORDS = 16


@dataclass
class CheckConfig:
    """Targets for the checks; change them to suit your population."""

    reading_age: float = 9.0
    max_words: int = MAX_WORDS
    jargon: tuple[str, ...] = DEFAULT_JARGON


@dataclass(frozen=True)
class Finding(Problem):
    """A wording-check problem about one item in one language: a ``Problem`` that also names the item,
    the language and the measurements behind it. ``suggestion`` is the advice for this stem."""

    item: str = ""
    language: str = ""
    detail: dict = field(default_factory=dict)

    @property
    def suggestion(self) -> str:
        return self.advice or ""

    @classmethod
    def about(cls, item: str, language: str, code: str, severity: str, message: str, suggestion: str,
              detail: dict | None = None) -> "Finding":
        return cls(code=code, message=message, column=item or None, severity=severity, advice=suggestion,
                   item=item, language=language, detail=detail or {})


def check_stem(text: str, item_id: str = "", language: str = "en", config: CheckConfig | None = None) -> list[Finding]:
    """Check one stem in one language."""
    cfg = config or CheckConfig()
    out = []
    lower = " " + text.lower() + " "
    ws = [w.lower() for w in words(text)] if language == "en" else text.split()
    if language == "en":
        s = stats(text)
        if s["reading_age"] > cfg.reading_age:
            out.append(Finding.about(item_id, language, "reading_age", "warning",
                               f"Reading age about {s['reading_age']:.1f} (target {cfg.reading_age:g}). Harder wording "
                               "loses the people we most want to hear from.",
                               "Use shorter, everyday words (one or two syllables) and one short sentence.", s))
    if len(ws) > cfg.max_words:
        out.append(Finding.about(item_id, language, "too_long", "warning",
                           f"{len(ws)} words (aim for {cfg.max_words} or fewer). Long questions are misread and "
                           "skipped.",
                           "Cut qualifiers and examples; keep one idea."))
    if language == "en":
        if re.search(r"\b(and|as well as)\b", lower):
            out.append(Finding.about(item_id, language, "double_barrelled", "warning",
                               "'and' may join two ideas, so someone who agrees with one but not the other cannot "
                               "answer.",
                               "Split into two items, or keep only the idea that matters."))
        elif re.search(r"\bor\b", lower):
            out.append(Finding.about(item_id, language, "double_barrelled", "info",
                               "'or' joins two options; fine if they are examples of one idea, not if they differ.",
                               "Check in cognitive interviews that people read both options as one thing."))
        negs = [w for w in ws if w in NEGATIONS or w.endswith("n't")]
        if negs:  # a negated prefix ("unhelpful", "dislike") after a negation makes a double negative
            negs += [w for w in ws if len(w) > 5 and w.startswith(("un", "dis"))
                     and w not in ("understand", "understood", "under")]
        if len(negs) >= 2:
            out.append(Finding.about(item_id, language, "double_negative", "warning",
                               f"Two negatives ({', '.join(negs)}): 'disagree' then means a double negative.",
                               "Rewrite positively."))
        elif negs:
            out.append(Finding.about(item_id, language, "negative_wording", "info",
                               f"Negative wording ('{negs[0]}'): disagreeing with a negative is hard to think through.",
                               "Prefer a positive statement, or make sure the scale labels read naturally."))
        for phrase in LEADING:
            if phrase in lower:
                out.append(Finding.about(item_id, language, "leading_wording", "warning",
                                   f"'{phrase}' suggests the answer you expect.", "Use neutral wording."))
    for term in cfg.jargon:
        if re.search(r"(?<![a-z])" + re.escape(term) + r"(?![a-z])", lower):
            out.append(Finding.about(item_id, language, "jargon", "warning",
                               f"'{term}' is professional language many people do not use.",
                               "Say what it means in everyday words, as people said it in the engagement work."))
    return out


def outdated_translation(item, language: str, source: str) -> Finding:
    """The finding for a translation made for an earlier source-language wording of the item."""
    return Finding.about(item.id, language, "translation_outdated", "warning",
                         f"The {source} wording of {item.id} changed after this {language} wording was written, so it "
                         "may no longer ask the same question.",
                         f"Translate the new {source} wording again and check it with a community translator; "
                         "saving this language's wording clears the mark.")


def word_limits(fw, config: CheckConfig | None = None) -> dict[str, int]:
    """The word limit per language: ``max_words`` for the source language; for a translation, ``max_words``
    times the median ratio of its word count to the source's over the framework's items (never below
    ``max_words``). Languages that write function words separately (Urdu, Punjabi) need more words for
    the same question, so a fixed limit would flag every translation; this flags the stems that are long
    for their language."""
    import statistics

    cfg = config or CheckConfig()
    src = fw.languages[0]
    out = {src: cfg.max_words}
    for lang in fw.languages[1:]:
        ratios = [len(it.stem[lang].split()) / len(it.stem[src].split())
                  for it in fw.items if it.stem.get(lang) and it.stem.get(src)]
        out[lang] = max(cfg.max_words, round(cfg.max_words * statistics.median(ratios))) if ratios else cfg.max_words
    return out


def check_items(fw, config: CheckConfig | None = None) -> pd.DataFrame:
    """Run every check on every item and language of a framework; one row per finding.

    Columns: item, language, code, severity, message, suggestion.
    """
    cfg = config or CheckConfig()
    rows: list[Finding] = []
    limits = word_limits(fw, cfg)
    for it in fw.items:
        for lang in fw.languages:
            text = it.stem.get(lang)
            if not text:
                rows.append(Finding.about(it.id, lang, "missing_translation", "error",
                                    f"No {lang} wording: people reading {lang} cannot answer this item.",
                                    "Add a translation and check it with a community translator."))
                continue
            if lang in it.outdated_translations:
                rows.append(outdated_translation(it, lang, fw.languages[0]))
            rows.extend(check_stem(text, it.id, lang, replace(cfg, max_words=limits[lang])))
    for lang, tr in getattr(fw, "translations", {}).items():
        if lang in fw.languages and tr.status == "draft":
            rows.append(Finding.about("", lang, "translation_draft", "info",
                                f"The {lang} wording is a draft nobody from the community has reviewed; a literal "
                                "translation can change what a question asks.",
                                "Have community translators review and back-translate it, then test it with people "
                                "who read this language; record the step in framework.yaml `translations`."))
    for d in fw.domains:
        scales = {i.scale for i in fw.items_in(d.id, respondent=None)}
        if len(scales) > 1:
            rows.append(Finding.about(d.id, "", "scale_inconsistent", "warning",
                                f"Items of domain {d.id} use different scales ({', '.join(sorted(scales))}); their "
                                "scores cannot simply be averaged.", "Use one response scale per domain."))
    frame = pd.DataFrame([{k: getattr(f, k) for k in ("item", "language", "code", "severity", "message", "suggestion")}
                          for f in rows], columns=["item", "language", "code", "severity", "message", "suggestion"])
    return frame
