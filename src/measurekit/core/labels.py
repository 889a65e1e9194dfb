"""One vocabulary for every human-facing output (briefings, family pages, workbook, trial report).

Technical names (``fsm``, ``ehc_plan``, ``chi12``) stay in CSV/EES columns and in the "for
analysts" appendix of the trial report; everything a person reads goes through these functions:

- :func:`breakdown` – a breakdown column (``fsm`` -> "Free school meals").
- :func:`category` – a breakdown value (``("fsm", "1")`` -> "Eligible for free school meals").
  With ``framework=``, both take the words the framework declares (``breakdowns:`` in framework.yaml: title,
  value labels, plain words for families); :func:`breakdown_code_words` gives its codes' words for
  :func:`plain`. Every renderer of the board pack passes its framework; the module's own tables below are
  the fallback for analysis columns named without a framework (the trial report's groups).
- :func:`indicator` – an indicator id -> its title from the framework.
- :func:`statistic` – a statistic's name in words with R's name in brackets
  (``chi12`` -> "Uniform + non-uniform DIF test (chi12)").
- :func:`p_value`, :func:`count`, :func:`number`, :func:`percent` – numbers as people read them
  ("< 0.001", "1,859", "61.0", "61%").
- :func:`comparison` – "higher"/"similar"/"lower" than the local authority, in words, with polarity.
- :func:`place_words` – the framework's words for its places (``framework.area``: "county", "locality"...),
  neutral ("local authority", "area") when it declares none; generic code never writes a place word itself.

Unknown codes fall back to a tidied version of the code (underscores to spaces, first letter
capitalised), so a new breakdown never shows up as a bare code.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

# Fallback words for the columns of the data contract (the ``children`` table with ``child_id``: the trial report's
# analysis groups, e.g. summer_born, responded), used without a framework or with a framework on that contract.
# A framework that declares its own population gets only its declared words (or the code tidied): these words
# (children, free school meals...) would be wrong for its people. Board-pack outputs pass ``framework=``.
BREAKDOWNS = {
    "all": "All children",
    "fsm": "Free school meals",
    "eal": "English as an additional language",
    "send": "Special educational needs",
    "sex": "Sex",
    "home_language": "Home language",
    "summer_born": "Month of birth",
    "neighbourhood": "Area",
    "ethnicity": "Ethnic group",
    "responded": "Parent answered the survey",
    "home_language_group": "Home language",
}

# (breakdown, value) -> label. Values are matched as text after normalising 1.0 / True -> "1".
CATEGORIES = {
    ("all", "all"): "All children",
    ("fsm", "0"): "Not eligible for free school meals",
    ("fsm", "1"): "Eligible for free school meals",
    ("eal", "0"): "English as first language",
    ("eal", "1"): "English as an additional language",
    ("send", "none"): "No special educational needs",
    ("send", "sen_support"): "SEN support",
    ("send", "ehc_plan"): "EHC plan",
    ("sex", "F"): "Girls",
    ("sex", "M"): "Boys",
    ("summer_born", "0"): "Born September to April",
    ("summer_born", "1"): "Summer-born (May to August)",
    ("responded", "0"): "No parent response",
    ("responded", "1"): "Parent answered",
    ("home_language_group", "other"): "Home language not English",
    ("home_language_group", "English"): "English at home",
    ("home_language", "Other"): "Other languages",
}

# statistic name -> words. R's (or the table's) name is added in brackets by statistic().
STATISTICS = {
    "raw_alpha": "Cronbach's alpha",
    "alpha": "Cronbach's alpha",
    "std_alpha": "Standardised alpha",
    "average_r": "Average correlation between items",
    "r_drop": "Item-rest correlation",
    "omega_total": "Omega total",
    "omega_h": "Omega hierarchical",
    "chisq": "Chi-square",
    "df": "Degrees of freedom",
    "cfi": "Comparative fit index",
    "tli": "Tucker-Lewis index",
    "rmsea": "Root mean square error of approximation",
    "srmr": "Standardised root mean square residual",
    "delta_cfi": "Change in comparative fit index",
    "delta_rmsea": "Change in RMSEA",
    "chi12": "Uniform + non-uniform DIF test",
    "p12": "p-value, uniform + non-uniform DIF",
    "chi13": "Any DIF test",
    "p13": "p-value, any DIF",
    "chi23": "Non-uniform DIF test",
    "p23": "p-value, non-uniform DIF",
    "r2_12": "Effect size, uniform DIF (change in R²)",
    "r2_13": "Effect size, any DIF (change in R²)",
    "r2_23": "Effect size, non-uniform DIF (change in R²)",
    "lr_chisq": "Likelihood-ratio test",
    "lr_df": "Degrees of freedom of the likelihood-ratio test",
    "p_val": "p-value",
    "auc": "Area under the ROC curve",
    "brier": "Brier score",
    "nri_events": "Net reclassification, children with the outcome",
    "nri_nonevents": "Net reclassification, children without the outcome",
    "nri": "Net reclassification improvement",
    "idi": "Integrated discrimination improvement",
    "log_loss": "Log loss",
    "log_likelihood": "Log-likelihood",
    "nagelkerke_r2": "Nagelkerke R²",
    "nri_total": "Net reclassification improvement, total",
    "cv_log_loss": "Cross-validated log loss",
    "r_indicator": "Representativeness indicator",
    "chisq_scaled": "Chi-square, scaled",
    "df_scaled": "Degrees of freedom, scaled",
    "cfi_scaled": "Comparative fit index, scaled",
    "rmsea_scaled": "RMSEA, scaled",
    "i_cvi": "Item content validity index",
    "kappa": "Modified kappa",
    "clarity_cvi": "Clarity index",
    "interviews": "Cognitive interviews",
    "interview_problems": "Problems found in interviews",
    "loading": "Standardised loading",
    "dif_r2": "Largest DIF effect size (McFadden R² change)",
    "dif_flag": "Flagged for DIF",
    "icc2": "Test-retest agreement, ICC(2,1)",
    "kappa_w": "Test-retest weighted kappa",
    "sem": "Standard error of measurement",
    "sdc": "Smallest detectable change",
    "status": "Co-design status",
    "content": "Content validity rating",
    "cross_cultural": "Cross-cultural validity rating",
    "reliability": "Reliability rating",
    "n": "Number of children",
    "n_eff": "Effective sample size",
    "estimate": "Estimate",
    "se": "Standard error",
    "ci_low": "95% interval, lower",
    "ci_high": "95% interval, upper",
    "difference": "Difference",
    "value": "Value",
}

SIGNIFICANCE = {"higher": "higher than", "lower": "lower than", "similar": "similar to", "": "not compared with"}
SYMBOLS = {"c": "Withheld to protect small numbers",
           "x": "Not available: no children in this group",
           "z": "Not applicable",
           "u": "Fewer than 30 children: read with caution"}


@dataclass(frozen=True)
class PeopleWords:
    """How one framework names the people it counts and who answers for them: ``person`` / ``people`` (the
    population's words, ``population.person``/``people``), ``respondent`` (who answers the first voice table, its
    respondent id in words: ``case_worker`` -> "case worker"). ``own``: the person answers for themselves."""

    person: str = "child"
    people: str = "children"
    respondent: str = "parent"

    @property
    def own(self) -> bool:
        return self.respondent == self.person

    @property
    def People(self) -> str:     # noqa: N802 - the word with a capital, to start a sentence or a label
        return self.people[:1].upper() + self.people[1:]

    def answered(self, respondent: str | None = None) -> str:
        """"children whose parent answered", "people who answered" (``respondent``: another respondent's
        words, e.g. "case worker" -> "people whose case worker answered")."""
        who = respondent or self.respondent
        return f"{self.people} who answered" if who == self.person else f"{self.people} whose {who} answered"


def respondent_words(respondent: str | None) -> str:
    """A respondent id in words (``case_worker`` -> "case worker")."""
    return str(respondent or "").replace("_", " ").strip()


def people_words(framework) -> PeopleWords:
    """The framework's words for its people (:class:`PeopleWords`): the data contract's (children, parent) without a
    framework or for one on the data contract (see :func:`contract_words`); otherwise its ``population`` words and
    the respondent of its first voice table (the person themselves when it names none)."""
    if contract_words(framework):
        return PeopleWords()
    pop = framework.population
    first = next((t.respondent for t in getattr(framework, "tables", ()) if t.kind == "voice" and t.respondent), None)
    return PeopleWords(person=pop.person, people=pop.people, respondent=respondent_words(first) or pop.person)


def in_people_words(text, framework=None) -> str:
    """Text written for the data contract ("no children in this group", a note of the board table) in the
    framework's word for its people ("no families in this group"); unchanged for a framework on the data
    contract or without a framework."""
    import re

    if contract_words(framework) or not isinstance(text, str):
        return text
    w = people_words(framework)
    text = re.sub(r"\bchildren\b", w.people, text)
    text = re.sub(r"\bChildren\b", w.People, text)
    return re.sub(r"\bchild\b", w.person, text)


def symbols(framework=None) -> dict[str, str]:
    """The board pack's symbols in words, in the framework's word for its people ("no families in this
    group"); without a framework (or one on the data contract) the module's :data:`SYMBOLS`."""
    if contract_words(framework):
        return dict(SYMBOLS)
    w = people_words(framework)
    return {**SYMBOLS, "x": f"Not available: no {w.people} in this group",
            "u": f"Fewer than 30 {w.people}: read with caution"}


def _tidy(code) -> str:
    text = str(code).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else ""


def _norm_value(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and not math.isnan(value) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text[:-2] if text.endswith(".0") and text[:-2].lstrip("-").isdigit() else text


def contract_words(framework) -> bool:
    """True when the fallback words below apply: no framework, or one on the data contract's population (the
    ``children`` table keyed by ``child_id``); False for a framework that declares its own population."""
    pop = getattr(framework, "population", None) if framework is not None else None
    return pop is None or (pop.table, pop.id) == ("children", "child_id")


def _declared(framework, code):
    """The framework's declared breakdown ``code`` (``design.models.Breakdown``), or None."""
    find = getattr(framework, "breakdown", None)
    return find(str(code)) if callable(find) else None


def breakdown(code: str, framework=None) -> str:
    """Words for a breakdown column: ``breakdown("eal", framework=fw)`` -> the title ``fw`` declares for it
    ("English as an additional language"); without a framework, or for a code it does not declare, the
    module's fallback words or the code tidied."""
    declared = _declared(framework, code)
    if declared is not None:
        return declared.title
    return BREAKDOWNS.get(str(code), _tidy(code)) if contract_words(framework) else _tidy(code)


def category(breakdown_code: str, value, plain: bool = False, framework=None) -> str:
    """Words for one group: ``category("fsm", 1, framework=fw)`` -> the label ``fw`` declares for it
    ("Eligible for free school meals").

    ``plain=True`` gives the family-page wording where one is declared ("families who get free school meals").
    A value the framework does not declare is shown as its value, tidied (a yes/no value as the breakdown's
    words: never a bare 0/1).
    """
    key = (str(breakdown_code), _norm_value(value))
    declared = _declared(framework, breakdown_code)
    if declared is not None:
        group = declared.value(key[1])
        if group is not None:
            return (group.plain or group.label) if plain else group.label
    elif key in CATEGORIES and contract_words(framework):
        return CATEGORIES[key]
    if key[1] in ("0", "1"):        # an undeclared yes/no group: never show a bare 0/1
        words = breakdown(breakdown_code, framework)
        return "Not " + words.lower() if key[1] == "0" else words
    return _tidy(key[1])


def breakdown_code_words(framework) -> dict[str, str]:
    """The framework's breakdown codes -> words, for :func:`plain`: each declared breakdown id -> how it reads
    in a sentence, and each declared group code written as a code (with an underscore, e.g. ``sen_support``)
    -> its label. Values that are ordinary words or digits (``none``, ``1``) are left alone."""
    import re

    words: dict[str, str] = {}
    for b in getattr(framework, "declared_breakdowns", None) or ():
        if not b.area:
            words[b.id] = b.in_words
        for v in b.values:
            if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+", v.value):
                words[v.value] = v.label
    return words


def indicator(framework, indicator_id: str) -> str:
    """The indicator's title from the framework (its id tidied when the framework does not know it)."""
    for ind in getattr(framework, "indicators", []):
        if ind.id == indicator_id:
            return ind.title
    return _tidy(indicator_id)


def statistic(name: str, r_name: str | None = None) -> str:
    """``statistic("chi12")`` -> "Uniform + non-uniform DIF test (chi12)"; R's name in brackets."""
    words = STATISTICS.get(name)
    if words is None:
        return _tidy(name)
    return f"{words} ({r_name or name})"


def p_value(p) -> str:
    """A p-value as published: "< 0.001", otherwise three decimals ("0.023"); blank when missing."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    p = float(p)
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def count(n) -> str:
    """A count as a whole number with thousands separators ("1,859"); blank when missing."""
    if n is None or (isinstance(n, float) and math.isnan(n)) or n == "":
        return ""
    try:
        return f"{int(round(float(n))):,}"
    except (TypeError, ValueError):      # text where a count was expected: shown as it is
        return str(n)


def number(x, digits: int = 1) -> str:
    """A measured value with ``digits`` decimals; blank when missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{float(x):,.{digits}f}"


def percent(x, digits: int = 0) -> str:
    """A value already on 0-100 as a percentage ("61%")."""
    text = number(x, digits)
    return f"{text}%" if text else ""


def value(x, value_type: str, digits: int = 1) -> str:
    """An indicator value in its unit: "61.0%" for proportions, "3.8" for mean scores."""
    return percent(x, digits) if value_type == "proportion" else number(x, digits)


def comparison(significance: str, polarity: str = "no_judgement", place: str = "the local authority") -> str:
    """A sentence fragment the numbers support: "similar to the local authority", "higher than the council
    (better)" (``place``: the framework's word, see :func:`place_words`).

    "higher"/"lower" are only said when the value lies outside the funnel-plot limits around the
    local authority's value; otherwise the word is "similar".
    """
    sig = str(significance or "")
    text = f"{SIGNIFICANCE.get(sig, 'not compared with')} {place}"
    if sig in ("higher", "lower") and polarity in ("higher_is_better", "lower_is_better"):
        good = (sig == "higher") == (polarity == "higher_is_better")
        text += " (better)" if good else " (worse)"
    return text


@dataclass(frozen=True)
class PlaceWords:
    """How people name the places of one framework: ``la`` the whole local authority ("county", "city"),
    ``area`` / ``areas`` the areas its boards cover ("neighbourhood"), ``small_area`` ("ward", "LSOA")."""

    la: str = "local authority"
    area: str = "area"
    areas: str = "areas"
    small_area: str = "small area"

    @property
    def the_la(self) -> str:
        return f"the {self.la}"

    @property
    def La(self) -> str:        # noqa: N802 - the word with a capital, to start a sentence or a label
        return self.la[:1].upper() + self.la[1:]

    @property
    def Area(self) -> str:      # noqa: N802
        return self.area[:1].upper() + self.area[1:]

    @property
    def Areas(self) -> str:     # noqa: N802
        return self.areas[:1].upper() + self.areas[1:]


def place_words(framework) -> PlaceWords:
    """The framework's place words (``framework.area.la_word``, ``area_word``, ``areas_word``,
    ``small_area_word``); neutral words when the framework has no ``area:`` block."""
    area = getattr(framework, "area", None)
    if area is None:
        return PlaceWords()
    return PlaceWords(la=area.la_word, area=area.area_word, areas=area.areas_word, small_area=area.small_area_word)


# Terms a board member may meet on a page (in an indicator's own text or in ours), each said in plain words.
# Pages list the ones their text uses (see :func:`glossary`).
GLOSSARY = {
    "GLD": "a good level of development: the expected level, at the end of reception, in the 12 early learning "
           "goals that count (language, personal and physical development, literacy, maths)",
    "ELG": "an early learning goal: one of the 17 goals a teacher judges (expected or not yet) at the end of "
           "reception",
    "EYFSP": "the Early Years Foundation Stage Profile: the teacher's assessment at the end of reception",
    "fairness checks": "tests, in the analysts' trial report, of whether each survey question works the same for "
                       "every group of {people}{example}",
    "SEN": "special educational needs",
    "EHC plan": "an education, health and care plan: a legal plan for a child with more complex needs",
    "free school meals": "a sign of low family income used in school statistics",
}

# codes that reach human-facing text through an indicator's or a statistic's own words, and their words
CODE_WORDS = {
    "home_language_group": "home language (English or other)",
    "home_language": "home language",
    "fsm": "free school meals",
    "eal": "English as an additional language",
    "send": "special educational needs",
    "ehc_plan": "EHC plan",
    "sen_support": "SEN support",
    "wilson": "Wilson score interval",
    "weighted_t": "weighted t interval",
    "gld": "GLD",
}


def plain(text, extra: dict | None = None) -> str:
    """Text for a reader: Markdown marks (backticks, ``**``, stray ``*``) removed and known codes (``fsm``,
    ``home_language_group``, ``wilson``, a framework's field names given in ``extra``) replaced by words."""
    import re

    words = {**CODE_WORDS, **(extra or {})}
    out = str(text).replace("**", "").replace("`", "")
    out = re.sub(r"(?<!\w)\*(?!\s)|(?<=\S)\*(?!\w)", "", out)
    if words:
        pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in sorted(words, key=len, reverse=True))
                             + r")(?![\w-])")
        out = pattern.sub(lambda m: words[m.group(1)], out)
    return out


def _fairness_example(framework) -> str:
    """" (for example whatever their <group>)": the group the framework's fairness checks test items by (its DIF
    group, else its first fairness group), in the words its breakdown declares; "" without one."""
    groups = list(getattr(getattr(framework, "analysis", None), "fairness_groups", None) or ())
    g = next((g for g in groups if g.dif), groups[0] if groups else None)
    if g is None:
        return ""
    declared = _declared(framework, g.column)
    return f" (for example whatever their {declared.in_words if declared is not None else g.words})"


def glossary(text: str, framework=None) -> list[tuple[str, str]]:
    """The :data:`GLOSSARY` terms that ``text`` uses, with their plain words, in the order of the glossary
    (an example group from ``framework``'s declared fairness groups where a meaning gives one)."""
    import re

    example = _fairness_example(framework)
    people = "families" if contract_words(framework) else people_words(framework).people
    return [(term, meaning.replace("{example}", example).replace("{people}", people))
            for term, meaning in GLOSSARY.items()
            if re.search(r"(?<![\w-])" + re.escape(term) + r"(?:s)?(?![\w-])", text)]
