"""Specification models: response scales, domains, items, indicators and the framework.

These pydantic models are the one description of an instrument and its indicators; the YAML
files in ``indicators/<framework>/`` load into them (``measurekit.design.load_framework``).
Unknown keys are dropped (``extra="ignore"``), so nothing unknown reaches an output; ``load_framework``
warns about each one by name (code ``unknown_spec_key``). Every id and the framework name become parts of
file names and column names, so in specification files they must match ``SAFE_NAME`` (letters, digits, ``_``, ``-``,
``.``; starting with a letter or digit; at most 64 characters; not a reserved device name such as ``CON``): an id
such as ``../../x`` is reported by ``check-spec`` (code ``unsafe_name``) instead of writing outside the output folder.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_RESERVED = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?", re.IGNORECASE)


def _safe_name(value: str, info: ValidationInfo) -> str:
    """Checked when a specification is read from files (``load_framework`` validates with the context
    ``{"spec_files": True}``); frameworks built in code from data columns (``mk.score``'s mapping shorthand) may
    use any column name, and every writer still refuses a path outside its output folder."""
    if not (info.context or {}).get("spec_files"):
        return value
    if not SAFE_NAME.fullmatch(value) or _RESERVED.fullmatch(value):
        raise PydanticCustomError(
            "unsafe_name", "This id or name cannot be used: it becomes part of file and column names, so "
            "use only letters, digits, '_', '-' and '.', start with a letter or digit, at most 64 characters "
            "(no spaces, slashes or '..'; not a device name such as CON)", {"value": value[:80]})
    return value


SafeName = Annotated[str, AfterValidator(_safe_name), Field(json_schema_extra={"pattern": f"^{SAFE_NAME.pattern}$"})]
"""An id or name that is safe as part of a file name (see ``SAFE_NAME``)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Media(_Model):
    """Audio and picture prompts for families who read little, per language: language code (or ``all`` for
    every language) -> file path relative to the framework folder. Exports copy the files beside the form."""

    audio: dict[str, str] = Field(default_factory=dict)
    image: dict[str, str] = Field(default_factory=dict)

    def file(self, kind: str, language: str) -> str | None:
        files = getattr(self, kind)
        return files.get(language) or files.get("all")


class Option(_Model):
    code: int
    label: dict[str, str]
    media: Media | None = None


class Scale(_Model):
    """A response scale shared by items. ``codes`` are the substantive codes in order.

    A numeric rating scale (e.g. 0-10) may be declared by its ``range`` [low, high] and its ``anchors`` (code ->
    label per language, e.g. 0 and 10) instead of listing every option: the options are then the whole numbers
    from low to high, each labelled by its anchor or, between the anchors, by the number itself (in every
    language an anchor is written in)."""

    id: SafeName
    title: str = ""
    options: list[Option]
    dont_know: Option | None = None
    pictorial: "Pictorial | None" = None
    range: list[int] | None = Field(default=None, min_length=2, max_length=2)
    anchors: dict[int, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _options_from_range(cls, data):
        if not isinstance(data, dict) or data.get("options") or data.get("range") is None:
            return data
        rng, anchors = data.get("range"), data.get("anchors") or {}
        if not (isinstance(rng, (list, tuple)) and len(rng) == 2 and all(isinstance(v, int) for v in rng)
                and rng[0] < rng[1] and rng[1] - rng[0] <= 100 and isinstance(anchors, dict)):
            raise PydanticCustomError("bad_scale_range", "`range` must be [low, high]: whole numbers, low below high, "
                                      "at most 100 apart; `anchors` a mapping code -> label per language", {})
        languages = sorted({lang for label in anchors.values() if isinstance(label, dict) for lang in label}) or ["en"]
        options = []
        for code in range(rng[0], rng[1] + 1):
            label = anchors.get(code, anchors.get(str(code)))
            options.append({"code": code, "label": label if label else {lang: str(code) for lang in languages}})
        return {**data, "options": options}

    @model_validator(mode="after")
    def _anchors_on_the_scale(self):
        outside = [c for c in self.anchors if c not in self.codes]
        if self.range is not None and self.codes != list(range(self.range[0], self.range[1] + 1)):
            raise PydanticCustomError("bad_scale_range", "The options' codes are not the whole numbers of `range` "
                                      "{low}-{high}", {"low": self.range[0], "high": self.range[1]})
        if outside:
            raise PydanticCustomError("bad_scale_range", "Anchors {codes} are not codes of the scale",
                                      {"codes": ", ".join(map(str, outside))})
        return self

    @property
    def numeric(self) -> bool:
        """A rating scale declared by its range (its codes are the numbers themselves)."""
        return self.range is not None

    @property
    def codes(self) -> list[int]:
        return [o.code for o in self.options]

    @property
    def min(self) -> int:
        return min(self.codes)

    @property
    def max(self) -> int:
        return max(self.codes)

    @property
    def has_middle(self) -> bool:
        """An odd number of options has a middle (neutral) point, needed for reverse keying."""
        return len(self.options) % 2 == 1

    @property
    def valid_codes(self) -> list[int]:
        """Substantive codes plus the don't-know code, if any."""
        return self.codes + ([self.dont_know.code] if self.dont_know else [])


class Pictorial(_Model):
    """A pictorial version of a scale (e.g. faces) for forms used with families who read little: one picture
    per substantive code (file paths relative to the framework folder). ``appearance`` is the XLSForm appearance
    of items shown with it."""

    images: dict[int, str]
    appearance: str = "columns-pack"


Scale.model_rebuild()


class Domain(_Model):
    """A group of items scored together. Score column: ``voice_<id>``.

    ``title`` is in the framework's source language; ``label`` holds translated titles (language code -> text)
    for forms, and ``title_in(lang)`` picks the right one.
    """

    id: SafeName
    title: str = ""
    label: dict[str, str] = Field(default_factory=dict)
    min_answered: int = 1

    @property
    def score_column(self) -> str:
        return f"voice_{self.id}"

    def title_in(self, language: str) -> str:
        return self.label.get(language) or self.title


VoiceGroup = Literal["seldom_heard_outreach", "parent_panel", "practitioners", "children", "community_partners"]
Status = Literal["proposed", "reviewed_with_parents", "cognitively_tested", "piloted", "retained", "revised", "dropped",
                 "flagged"]
VOICE_GROUPS: tuple[str, ...] = get_args(VoiceGroup)
STATUSES: tuple[str, ...] = get_args(Status)


class Provenance(_Model):
    """Where an item came from: the themes and quotes of the engagement work, and who was involved."""

    themes: list[str] = Field(default_factory=list)
    quotes: list[str] = Field(default_factory=list)
    groups: list[VoiceGroup] = Field(default_factory=list)
    notes: str = ""


class HistoryEntry(_Model):
    """One step in an item's co-design history.

    ``flagged`` marks an item a review found wanting (e.g. a content validity panel). Entries written by
    measurekit carry the numbers behind them: ``content_validity`` (per rater group: group, n_raters, i_cvi,
    kappa, adequacy, clarity_cvi) or ``interviews`` (n, n_problems, problems, languages). Both are left out
    of the saved YAML when empty.
    """

    status: Status
    date: str
    by: str
    reason: str = ""
    content_validity: list[dict[str, Any]] | None = None
    interviews: dict[str, Any] | None = None

    @model_serializer(mode="wrap")
    def _drop_empty_evidence(self, handler):
        data = handler(self)
        for key in ("content_validity", "interviews"):
            if isinstance(data, dict) and data.get(key) is None:
                data.pop(key, None)
        return data


class Item(_Model):
    """A question. ``stem`` holds the wording per language code; ``required``/``relevant`` are fielding rules.

    ``domain`` is the item's (first) domain; ``domains`` lists every domain it belongs to when it belongs to several
    (a many-to-many topic -> domain mapping). Give either: ``domains: [a, b]`` alone sets ``domain`` to ``a``;
    ``domain`` alone means ``domains == [domain]``. ``all_domains`` is the list every caller should use.
    """

    id: SafeName
    domain: str = ""
    domains: list[str] = Field(default_factory=list)
    scale: str
    reverse: bool = False
    respondents: list[str] = Field(default_factory=lambda: ["parent"])
    stem: dict[str, str]
    dont_know: Literal["missing", "not_offered"] = "missing"
    required: bool = False
    relevant: str | None = None
    hint: dict[str, str] = Field(default_factory=dict, description="Help shown under the question, per language.")
    media: Media | None = None
    constraint: str | None = Field(default=None, description="XLSForm constraint expression ('.' is the answer).")
    constraint_message: dict[str, str] = Field(default_factory=dict, description="Shown when the constraint fails.")
    choice_filter: str | None = Field(default=None, description="XLSForm choice_filter over the choices' columns.")
    provenance: Provenance = Field(default_factory=Provenance)
    history: list[HistoryEntry] = Field(default_factory=list)
    outdated_translations: list[str] = Field(
        default_factory=list, description="Languages whose wording was made for an earlier source-language "
        "wording and must be translated again (set when the source wording changes, cleared when that "
        "language's wording is saved).")
    # per-respondent wording (respondent -> language -> text): how another perspective is asked the same topic
    # ("How well is this working for them?"); a respondent or language not given: ``stem``/``hint``
    stem_by_respondent: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="The question as one respondent is asked it, by respondent and language "
        "(e.g. a professional rating the same topic in the third person); a respondent or language left out is asked "
        "`stem`.")
    hint_by_respondent: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="The hint one respondent sees, by respondent and language; a respondent "
        "or language left out sees `hint`.")

    def stem_for(self, respondent: str | None) -> dict[str, str]:
        """The wording ``respondent`` is asked, per language: its ``stem_by_respondent`` text where given, else
        ``stem`` (``None``: ``stem``)."""
        own = self.stem_by_respondent.get(respondent or "") or {}
        return {**self.stem, **{k: v for k, v in own.items() if v}}

    def hint_for(self, respondent: str | None) -> dict[str, str]:
        """The hint ``respondent`` sees, per language (``hint_by_respondent``, else ``hint``)."""
        own = self.hint_by_respondent.get(respondent or "") or {}
        return {**self.hint, **{k: v for k, v in own.items() if v}}

    @property
    def status(self) -> str:
        return self.history[-1].status if self.history else "proposed"

    def topic(self, lang: str = "en") -> str:
        """The item's short name for people: its stem in ``lang`` (else the first language) up to a colon in its first
        60 characters ("Your home: how do you feel ..." -> "Your home"), else the whole stem."""
        text = self.stem.get(lang) or next(iter(self.stem.values()), self.id)
        head, colon, _ = text.partition(":")
        return head.strip() if colon and 0 < len(head.strip()) <= 60 else text.strip()

    @property
    def all_domains(self) -> list[str]:
        """Every domain the item belongs to, its first domain first."""
        return list(self.domains) if self.domains else ([self.domain] if self.domain else [])

    @model_serializer(mode="wrap")
    def _drop_empty_wording(self, handler):
        """``stem_by_respondent``/``hint_by_respondent`` are left out when empty: items without them save as before."""
        data = handler(self)
        for key in ("stem_by_respondent", "hint_by_respondent"):
            if isinstance(data, dict) and not data.get(key, True):
                data.pop(key, None)
        return data

    @model_validator(mode="after")
    def _one_or_many_domains(self):
        for key in ("stem_by_respondent", "hint_by_respondent"):
            stray = [r for r in getattr(self, key) if r not in self.respondents]
            if stray:
                raise PydanticCustomError(
                    "unknown_respondent", "`{key}` names {stray}, which is not one of the item's respondents "
                    "({known})", {"key": key, "stray": ", ".join(stray), "known": ", ".join(self.respondents)})
        if not self.domain and not self.domains:
            raise PydanticCustomError("missing_domain", "An item needs `domain: <id>` or `domains: [<id>, ...]`", {})
        if self.domains and not self.domain:
            self.domain = self.domains[0]
        elif self.domains and self.domain != self.domains[0]:
            raise PydanticCustomError(
                "domain_mismatch", "`domain` ({domain}) must be the first of `domains` ({domains}); give only "
                "`domains` for an item in several domains", {"domain": self.domain, "domains": ", ".join(self.domains)})
        return self


class Condition(_Model):
    """People an indicator is restricted to: those whose ``field`` (a column of the declared ``table``; default
    the population's joined routine data) holds one of ``values``, e.g. accommodation judged suitable."""

    table: str | None = None
    field: str
    values: list[int | str] = Field(min_length=1)


class Compute(_Model):
    """How an indicator is computed. ``table`` (optional): the declared table ``field`` is read from (a voice table
    gives each person's latest review; ``responded`` there is 1 for a person with a row in it); ``among``
    (optional): restrict the population to people meeting a ``Condition``."""

    source: Literal["routine", "scale", "item"]
    field: str
    statistic: Literal["proportion", "mean", "proportion_below", "proportion_at_or_above"] = "proportion"
    threshold: float | None = None
    population: Literal["cohort", "respondents"] = "cohort"
    table: str | None = None
    among: Condition | None = None

    @model_serializer(mode="wrap")
    def _drop_unset_table(self, handler):
        """``table`` and ``among`` are left out when not given, so indicators without them dump as before."""
        data = handler(self)
        for key in ("table", "among"):
            if isinstance(data, dict) and data.get(key) is None:
                data.pop(key, None)
        return data


ALL_OR_NONE_STANDARD = 10   # group disclosure: 0% / 100% withheld in groups smaller than this


class Disclosure(_Model):
    """Disclosure control of one indicator: counts from suppress_min to suppress_max are suppressed
    (standard: 1 to 5); round_to rounds published counts (e.g. 5; 0 or 1 switches rounding off).
    A weaker rule (a narrower range, or rounding switched off) needs allow_weaker_disclosure: true
    and a reason, which the specification sheet and briefings print. all_or_none_below (default 10):
    a proportion of 0% or 100% is withheld when fewer children than this are in the group, since it
    tells the outcome of every child in it (group disclosure), with secondary suppression as for
    small counts; switching it off (null or 0) or lowering it is a weaker rule and needs the same
    agreement and reason."""

    suppress_min: int = Field(default=1, ge=0)
    suppress_max: int = 5
    round_to: int | None = Field(default=None, ge=0)
    all_or_none_below: int | None = Field(default=ALL_OR_NONE_STANDARD, ge=0)
    allow_weaker_disclosure: bool = False
    reason: str = ""

    def describe(self, person: str = "child", people: str = "children") -> str:
        """The rule in plain words, for specification sheets, briefings and the workbook (``person``/``people``: the
        framework's words for the people counted)."""
        values = max(self.suppress_max - self.suppress_min + 1, 2)
        text = (f"counts of {self.suppress_min} to {self.suppress_max} suppressed, with further cells suppressed so "
                f"that no suppressed count can be worked out from the others, nor a small one narrowed to fewer "
                f"than {values} possible values")
        if self.all_or_none_below:
            text += (f"; 0% and 100% withheld in groups of fewer than {self.all_or_none_below} {people} (they would "
                     f"tell every {person}'s outcome)")
        if self.round_to and self.round_to > 1:
            text += f"; counts rounded to the nearest {self.round_to}"
        return text

    def weakenings(self, people: str = "children") -> list[str]:
        """How this rule is weaker than the standard one, in plain words (empty: not weaker)."""
        out = []
        if self.suppress_min > 1:
            out.append(f"counts below {self.suppress_min} are published")
        if self.suppress_max < 5:
            out.append(f"counts of {max(self.suppress_max + 1, 1)} to 5 are published")
        if self.round_to is not None and self.round_to <= 1:
            out.append("rounding is switched off")
        if not self.all_or_none_below:
            out.append(f"0% and 100% are published however few {people} are in the group (group disclosure "
                       "rule switched off)")
        elif self.all_or_none_below < ALL_OR_NONE_STANDARD:
            out.append(f"0% and 100% are published in groups of {self.all_or_none_below} to "
                       f"{ALL_OR_NONE_STANDARD - 1} {people}")
        return out

    @model_validator(mode="after")
    def _check(self):
        if self.suppress_max < self.suppress_min:
            raise PydanticCustomError(
                "suppress_range", "suppress_max ({max}) is below suppress_min ({min}): no count would be suppressed; "
                "the standard rule is suppress_min: 1, suppress_max: 5",
                {"min": self.suppress_min, "max": self.suppress_max})
        weaker = self.weakenings()
        if weaker and not (self.allow_weaker_disclosure and self.reason.strip()):
            raise PydanticCustomError(
                "weaker_disclosure", "This rule is weaker than the standard (counts of 1 to 5 suppressed): {what}. "
                "If your information governance lead has agreed it, add allow_weaker_disclosure: true and a reason",
                {"what": "; ".join(weaker)})
        return self


class Source(_Model):
    definition: str = ""
    source: str = ""


AREA_BREAKDOWN = "neighbourhood"   # the area breakdown's id when a framework declares no ``breakdowns:``


def _default_breakdowns() -> list[str]:
    return [AREA_BREAKDOWN]   # the framework's area breakdown (Framework renames it to its declared id)


class BreakdownValue(_Model):
    """One group of a breakdown: its ``value`` as the data hold it (as text: ``1``, ``sen_support``) and the
    words people read. ``label``: workbook, briefings, trial report ("Eligible for free school meals").
    ``plain``: words for families on the family pages ("families who get free school meals"); a value with
    ``plain`` words is one a family page may name when few of its families were heard (leave it empty for the
    comparison group). ``ees``: the characteristic label in DfE open-data files (default: ``label``)."""

    value: str
    label: str
    plain: str = ""
    ees: str = ""

    @field_validator("value", mode="before")
    @classmethod
    def _text(cls, v):
        if isinstance(v, bool):
            return "1" if v else "0"
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v) if isinstance(v, (int, float)) else v


class Breakdown(_Model):
    """A way the board table breaks indicators down, declared by the framework (``breakdowns:`` in
    framework.yaml). ``id``: the column of the population table holding each child's group (it becomes the
    ``breakdown`` column of board_table.csv). ``title``: its name in plain English ("Free school meals").
    ``area: true`` marks the breakdown by the framework's board areas (rows by geography, not groups; its words
    come from ``area:``); at most one. ``values``: the groups with their words (a group in the data but not declared
    is shown as its value, tidied). ``words``: how
    the id reads inside a sentence (default: the title in lower case). ``ees_name``: in DfE open-data files,
    the filter column of the area breakdown (default: its id) or the characteristic group of any other
    (default: the title). ``own_panel``: drawn in a panel of its own in the briefings' "who was heard" chart
    (a breakdown with many groups, such as languages)."""

    id: SafeName
    title: str
    area: bool = False
    values: list[BreakdownValue] = Field(default_factory=list)
    words: str = ""
    ees_name: str = ""
    own_panel: bool = False
    notes: str = ""

    def value(self, value) -> BreakdownValue | None:
        text = str(value)
        return next((v for v in self.values if v.value == text), None)

    @property
    def in_words(self) -> str:
        return self.words or (self.title[:1].lower() + self.title[1:])


class Indicator(_Model):
    """An indicator, with the metadata fields public health indicator tools publish (and more)."""

    id: SafeName
    title: str
    definition: str = ""
    rationale: str = ""
    polarity: Literal["higher_is_better", "lower_is_better", "no_judgement"] = "no_judgement"
    value_type: Literal["proportion", "mean"] = "proportion"
    unit: str = ""
    numerator: Source = Field(default_factory=Source)
    denominator: Source = Field(default_factory=Source)
    compute: Compute
    # ids of the framework's declared ``breakdowns:`` (by default only its area breakdown)
    breakdowns: list[str] = Field(default_factory=_default_breakdowns)
    ci_method: Literal["wilson", "t", "weighted_t"] = "wilson"
    # places after the decimal point for published percentages, averages and confidence limits
    decimal_places: int = Field(default=1, ge=0, le=4)
    disclosure: Disclosure = Field(default_factory=Disclosure)
    caveats: list[str] = Field(default_factory=list)
    frequency: str = ""
    rounding: str = ""
    data_quality: str = ""
    informs_decision: str = ""
    notes: str = ""
    # a headline indicator (the framework's main measures): disclosure control withholds its rows last
    headline: bool = False


APPROACHES = ("integrating_voice", "understanding_needs", "best_use_of_information", "appropriate_action_and_learning")
PRACTICES = ("voice_in_codesign", "theory_of_change", "mapping_information", "mapping_systems",
             "broad_local_sources", "voice_in_aggregate_reporting", "voice_in_operational_use", "national_datasets")


class TheoryOfChange(_Model):
    vision: str = ""
    outcomes: list[str] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)


class Governance(_Model):
    lawful_basis: str = ""
    dpia_reference: str = ""
    retention: str = ""
    access: dict[str, str] = Field(default_factory=dict)   # audience -> what they may see


TranslationStatus = Literal["source", "draft", "community_reviewed", "cognitively_tested", "approved"]
TRANSLATION_STATUSES: tuple[str, ...] = get_args(TranslationStatus)


class Translation(_Model):
    """Where a language version stands. Only ``community_reviewed`` or later should go to families."""

    status: TranslationStatus = "draft"
    script: str = ""
    reviewed_by: str = ""
    date: str = ""
    note: str = ""


class FormText(_Model):
    """Text around the questions on fielded forms, per language: form title, introduction, child reference prompt."""

    title: dict[str, str] = Field(default_factory=dict)
    intro: dict[str, str] = Field(default_factory=dict)
    child_id: dict[str, str] = Field(default_factory=dict)
    child_id_pattern: str = Field(default="", description="Regular expression a child reference must match.")
    child_id_message: dict[str, str] = Field(default_factory=dict,
                                             description="Shown when the reference does not match.")
    family: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="The page for the people who answered (publish/family_page.py): its "
        "phrases in the framework's own words, by key (thanks, answered, in_ten, rated, need, score, plan, again, "
        "next, private, told) and language; a key left out keeps the page's default wording.")


class Area(_Model):
    """The local authority the framework publishes for, with its official codes (used in DfE open-data
    files). GSS codes are checked by pattern and entity type (``measurekit.core.gss``)."""

    la_name: str
    old_la_code: str          # DfE's three-digit LA number, e.g. 354
    new_la_code: str          # GSS code of the LA: E06/E07/E08/E09/E10 + 6 digits, e.g. E08000005
    region_code: str          # E12 + 6 digits, e.g. E12000002
    region_name: str
    country_code: str = "E92000001"
    country_name: str = "England"
    # The words people use for the places (human-facing outputs only; technical columns keep their names):
    la_word: str = "local authority"      # the whole area, e.g. "county", "city", "district"
    area_word: str = "area"               # the areas boards cover, e.g. "neighbourhood", "locality"
    area_word_plural: str = ""            # "" = area_word + "s"
    small_area_word: str = "small area"   # e.g. "ward", "LSOA"

    @property
    def areas_word(self) -> str:
        return self.area_word_plural or f"{self.area_word}s"

    @field_validator("old_la_code", "new_la_code", "region_code", "country_code", mode="before")
    @classmethod
    def _codes(cls, v, info):
        from measurekit.core import gss

        text = str(v).strip()
        entity = {"new_la_code": "la", "region_code": "region", "country_code": "country"}.get(info.field_name)
        problem = gss.old_la_problem(text) if entity is None else gss.gss_problem(text, entity)
        if problem:
            raise PydanticCustomError("gss_code", problem)
        return text


class BreakdownRelation(_Model):
    """Two breakdowns of the same children that determine one another: the group ``breakdown`` =
    ``value`` is exactly the union of the groups ``equals_breakdown`` in ``equals_values`` (e.g. EAL 0,
    English not an additional language, is the home-language group English). Disclosure control gives
    the relation to the intruder, so withheld counts cannot be recovered through it. Both are ids of the
    framework's declared ``breakdowns:``. ``reader_note``: a sentence the briefings print under the chart
    of who was heard (why a group can show under one breakdown and be withheld under the other)."""

    breakdown: str
    value: str
    equals_breakdown: str
    equals_values: list[str] = Field(min_length=1)
    note: str = ""
    reader_note: str = ""


class FairnessGroup(_Model):
    """A grouping the fairness checks compare (measurement invariance; DIF when ``dif``). ``column``: the
    population table's column. ``id``: the name of the group variable in the analysis and its files
    (``invariance_<id>.csv``; default: the column). ``reference``: with it, the groups are ``reference`` vs
    ``other_label`` (a rule such as "English vs other"), the reference being the comparison group of DIF;
    without it, the column's own values. ``label``: the words the trial report uses ("free school meals")."""

    column: str
    id: SafeName | None = None
    label: str = ""
    reference: str | None = None
    other_label: str = "other"
    dif: bool = False

    @property
    def name(self) -> str:
        return self.id or self.column

    @property
    def words(self) -> str:
        return self.label or self.name.replace("_", " ")


class Outcome(_Model):
    """An outcome the added-value analysis predicts: does adding the voice scores to ``covariates`` (routine
    columns) predict ``column`` better? ``given``: earlier outcomes added to the covariates (a later outcome
    given the earlier one). ``evidence_note``: the words the specification sheets of the voice indicators
    print before the result ("the voice domains add to ... in predicting ..."); empty: not printed. ``by``: the
    group columns the added value is also estimated within (none: the whole population only). ``words``: how the
    outcome reads in a sentence after "predicting <people>" ("passing the check"); empty: the title in lower case."""

    column: str
    covariates: list[str] = Field(default_factory=list)
    given: list[str] = Field(default_factory=list)
    title: str = ""
    evidence_note: str = ""
    by: list[str] = Field(default_factory=list)
    words: str = ""

    @property
    def label(self) -> str:
        """The outcome's title (its column when it has none)."""
        return self.title or self.column

    @property
    def in_words(self) -> str:
        return self.words or (self.label[:1].lower() + self.label[1:])


class RoutineCheck(_Model):
    """A routine measure the ratings are read against (the perspectives step's discordance): among people whose
    ``column`` (of the declared ``table``; default: the population's joined routine data) is ``value``, the share
    rating each of ``items`` at or below ``threshold`` from ``perspective`` (default: the first voice table's
    respondent), overall and by the perspectives' ``by`` groups plus this check's own ``by`` columns."""

    table: str | None = None
    column: str
    value: int | str = 1
    items: list[str] = Field(min_length=1)
    threshold: float = 4
    perspective: str | None = None
    by: list[str] = Field(default_factory=list)
    title: str = ""


class PerspectiveRoles(_Model):
    """The perspectives step of a framework with two voice tables of the same topics (two perspectives): ``by``
    (population or routine columns the divergence and missingness are broken down by, besides the area), ``k``
    (ratings within k points count as agreeing), ``routine`` (the routine measures read against the ratings)."""

    by: list[str] = Field(default_factory=list)
    k: float = 2
    routine: list[RoutineCheck] = Field(default_factory=list)


class Analysis(_Model):
    """The roles of the population table's columns in the trial analyses (``analysis:`` in framework.yaml).
    ``fairness_groups``: invariance and DIF; ``item_analysis_by``: the groups of the item distribution table;
    ``coverage_by``: who answered, by group (coverage and R-indicator); ``weighting_by``: the margins of the
    response weights; ``outcomes``: the added-value analysis. A part left empty is skipped with the reason."""

    fairness_groups: list[FairnessGroup] = Field(default_factory=list)
    item_analysis_by: list[str] = Field(default_factory=list)
    coverage_by: list[str] = Field(default_factory=list)
    weighting_by: list[str] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(default_factory=list)
    # None: not declared; the perspectives step still runs for two voice tables with review rounds (defaults)
    perspectives: PerspectiveRoles | None = None


class Target(_Model):
    """A target for one indicator: ``value`` on the indicator's published scale (a percentage for proportions,
    75 for 75%) to reach by ``period`` (a year, 2028, or the academic year whose data show it, 2027/28; a year
    and the academic year ending in it are the same point), with where the target comes from.
    ``measurekit.stats.target.target_progress`` reads it."""

    indicator: SafeName
    value: float
    period: str = Field(pattern=r"^\s*\d{4}(\s*[/-]\s*(\d{2}|\d{4}))?\s*$")
    source: str = ""
    note: str = ""


# the default of ``respondent=`` in the calls that read one respondent's items: the framework's main respondent
# (``Framework.main_respondent``: its first voice table's), never a fixed name ('@' is not allowed in an id)
MAIN_RESPONDENT = "@main"
# the data contract's respondent (the children contract's voice table), when a framework declares no voice table
CONTRACT_RESPONDENT = "parent"

ColumnType = Literal["string", "integer", "number", "date"]
TableKind = Literal["routine", "eyfsp", "asq", "voice"]
TABLE_KINDS: tuple[str, ...] = get_args(TableKind)


class Column(_Model):
    """One column of a declared input table (a Frictionless Table Schema field).

    ``enum`` lists the allowed values (text for a string column, whole numbers for an integer one);
    ``values_from: languages`` takes them from the framework's ``languages`` (a form-language column);
    ``minimum``/``maximum`` bound a number; ``required``: a blank is an error; ``unique``: no value twice;
    ``label``: its values become labels in outputs (area names, groups), so they are held to 100 characters.
    ``birth_months``: a 0/1 column of the population table that is 1 exactly when the month of the date of birth
    (``population.birth_date``) is one of these months (1-12); ``validate`` checks every row (a summer-born flag:
    ``[4, 5, 6, 7, 8]``)."""

    name: SafeName
    type: ColumnType = "string"
    description: str = ""
    required: bool = False
    unique: bool = False
    enum: list[int | str] | None = None
    values_from: Literal["languages"] | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    label: bool = False
    birth_months: list[Annotated[int, Field(ge=1, le=12)]] | None = None


class DataTable(_Model):
    """An input table the framework's data come in (one file per table, ``<name>.csv`` or ``.xlsx``).

    ``kind``: ``routine`` (columns as declared), ``eyfsp`` or ``asq`` (national datasets whose columns and rules
    measurekit knows: the person id column plus the dataset's own columns), or ``voice`` (survey answers of one
    ``respondent``: the declared columns, then one column per item that respondent answers, codes from the item's
    scale). ``key``: the primary key (default: the population's id). ``required``: an analysis needs it (a missing
    file is an error; other tables may be absent). A voice table names its ``date`` column (checked against today
    and the date of birth), optionally a ``round`` column (the review round of repeated reviews; then one row per
    person and round), and ``retest: true`` for a second answering of the same items (test-retest)."""

    name: SafeName
    kind: TableKind = "routine"
    title: str = ""
    required: bool = False
    key: list[str] = Field(default_factory=list)
    columns: list[Column] = Field(default_factory=list)
    respondent: str | None = None
    date: str | None = None
    round: str | None = None
    retest: bool = False


class Population(_Model):
    """The table of the people the framework is about (one row each) and the words for them.

    ``table``: its name among ``tables``; ``id``: the person id column every other table carries; ``area``: the
    column of the area boards cover (``Area.area_word``) and ``area_code`` its code in the ``lookup`` table;
    ``small_area`` (and ``small_area_name`` in the lookup): the small area of the home address; ``lookup``: the
    table that maps each small area to its area (optional); ``birth_date`` and ``age_years`` [low, high]: the
    date-of-birth column and the plausible ages (an age outside is reported), ``group`` the words for the whole
    population in messages ("a reception cohort"); ``person``/``people``: the word for one and for many."""

    table: SafeName
    id: SafeName
    area: SafeName
    area_code: str | None = None
    small_area: str | None = None
    small_area_name: str | None = None
    lookup: str | None = None
    birth_date: str | None = None
    age_years: list[int] | None = Field(default=None, min_length=2, max_length=2)
    group: str = ""
    person: str = "person"
    people: str = "people"


class DeclaredData(_Model):
    """The data sections of ``framework.yaml`` (``population`` and ``tables``), for their JSON Schema."""

    population: Population | None = None
    tables: list[DataTable] = Field(default_factory=list)


class Framework(_Model):
    """A measurement framework: its purpose and governance, instrument (scales, domains, items) and indicators."""

    name: Annotated[str, AfterValidator(lambda v, info: v and _safe_name(v, info)),
                    Field(json_schema_extra={"pattern": f"^({SAFE_NAME.pattern})?$"})] = ""
    title: str = ""
    illustrative: bool = False
    purpose: str = ""
    owner: str = ""
    version: str = ""
    languages: list[SafeName] = Field(default_factory=lambda: ["en"])   # codes name form files (form_<lang>.html)
    theory_of_change: TheoryOfChange = Field(default_factory=TheoryOfChange)
    approaches: list[Literal[APPROACHES]] = Field(default_factory=list)  # type: ignore[valid-type]
    practices: list[Literal[PRACTICES]] = Field(default_factory=list)  # type: ignore[valid-type]
    governance: Governance = Field(default_factory=Governance)
    translations: dict[str, Translation] = Field(default_factory=dict)
    form_text: FormText = Field(default_factory=FormText)
    scales: list[Scale] = Field(default_factory=list)
    domains: list[Domain] = Field(default_factory=list)
    items: list[Item] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    area: Area | None = None   # the LA and its codes; needed for DfE open-data (EES) files
    # the indicator whose value is the share of the population that gave their views (briefings and family pages
    # lead with it); None: the framework has none
    coverage_indicator: str | None = None
    # the ways indicators are broken down (none declared: only the area breakdown, id population.area or
    # "neighbourhood")
    breakdowns: list[Breakdown] = Field(default_factory=list)
    # breakdowns derived from one another (disclosure control audits these equalities too)
    breakdown_relations: list[BreakdownRelation] = Field(default_factory=list)
    # roles of the data's columns in the trial analyses (none declared: those analyses are skipped)
    analysis: Analysis = Field(default_factory=Analysis)
    # targets for indicators (stats/target.py): value to reach by a period, with its source
    targets: list[Target] = Field(default_factory=list)
    # the input tables the data come in, and which of them holds the people (data/schemas.py builds the schemas)
    population: Population | None = None
    tables: list[DataTable] = Field(default_factory=list)
    path: Path | None = Field(default=None, exclude=True)
    # what the evidence/ folder held when the framework was loaded and checked (design.evidence.FrameworkEvidence):
    # read once, with the spec's checks; read_framework_evidence returns it instead of reading the files again
    _evidence: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _area_breakdown_default(self):
        """An indicator that names no breakdowns is broken down by the framework's area breakdown (whatever its id)."""
        area = self.area_breakdown
        if area is not None and area.id != AREA_BREAKDOWN:
            for ind in self.indicators:
                if "breakdowns" not in ind.model_fields_set:
                    ind.breakdowns = [area.id]
        return self

    @property
    def declared_breakdowns(self) -> list[Breakdown]:
        """The breakdowns the framework declares; none declared: only the area breakdown, whose id is the area
        column of the declared population table (``population.area``), else "neighbourhood"."""
        if self.breakdowns:
            return self.breakdowns
        area = self.population.area if self.population is not None else AREA_BREAKDOWN
        return [Breakdown(id=area, title="Area", area=True)]

    @property
    def area_breakdown(self) -> Breakdown | None:
        return next((b for b in self.declared_breakdowns if b.area), None)

    @property
    def group_breakdowns(self) -> list[Breakdown]:
        """The declared breakdowns by groups of children (every one but the area breakdown), in declared order."""
        return [b for b in self.declared_breakdowns if not b.area]

    def breakdown(self, breakdown_id: str) -> Breakdown | None:
        """The declared breakdown with this id, or None."""
        return next((b for b in self.declared_breakdowns if b.id == str(breakdown_id)), None)

    def table(self, name: str) -> DataTable:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(f"no table {name!r}; the framework declares: {', '.join(t.name for t in self.tables)}")

    def respondents(self) -> list[str]:
        """Every kind of respondent (perspective) the items name, in the order first named."""
        out: list[str] = []
        for item in self.items:
            out += [r for r in item.respondents if r not in out]
        return out

    def item(self, item_id: str) -> Item:
        return _find(self.items, item_id, "item")

    def scale(self, scale_id: str) -> Scale:
        return _find(self.scales, scale_id, "scale")

    def domain(self, domain_id: str) -> Domain:
        return _find(self.domains, domain_id, "domain")

    def main_respondent(self) -> str:
        """The respondent whose answers are scored and published when none is named: the respondent of the first
        declared voice table, else ``parent`` when the items name it (or name none), else the first they name."""
        voice = [t for t in self.tables or [] if t.kind == "voice" and not t.retest]
        if voice:
            return voice[0].respondent or CONTRACT_RESPONDENT
        named = self.respondents()
        return CONTRACT_RESPONDENT if not named or CONTRACT_RESPONDENT in named else named[0]

    def _who(self, respondent: str | None) -> str | None:
        return self.main_respondent() if respondent == MAIN_RESPONDENT else respondent

    def items_in(self, domain_id: str, respondent: str | None = MAIN_RESPONDENT) -> list[Item]:
        """Items of one domain (for one kind of respondent, or all when respondent is None; by default the
        framework's :meth:`main_respondent`); an item in several domains (``Item.domains``) is in each of them."""
        respondent = self._who(respondent)
        return [i for i in self.items
                if domain_id in i.all_domains and (respondent is None or respondent in i.respondents)]

    def item_ids(self, respondent: str | None = MAIN_RESPONDENT) -> list[str]:
        respondent = self._who(respondent)
        return [i.id for i in self.items if respondent is None or respondent in i.respondents]

    def domain_items(self, respondent: str | None = MAIN_RESPONDENT) -> dict[str, list[str]]:
        """Domain id -> its item ids, in framework order, for domains that have items for this respondent."""
        respondent = self._who(respondent)
        out = {d.id: [i.id for i in self.items_in(d.id, respondent)] for d in self.domains}
        return {d: items for d, items in out.items() if items}

    def lavaan_model(self, respondent: str | None = MAIN_RESPONDENT) -> str:
        """The measurement model the framework designs, in lavaan syntax: one factor per domain
        (``domain =~ item1 + item2 + ...``), for ``mk.cfa`` and ``mk.invariance``.

        Refused (``InputError`` ``cross_loading_items``) when an item belongs to several domains: one factor per
        domain would then be a model with cross-loadings the framework did not design as such."""
        respondent = self._who(respondent)
        shared = [i.id for i in self.items
                  if len(i.all_domains) > 1 and (respondent is None or respondent in i.respondents)]
        if shared:
            from measurekit.problems import InputError

            raise InputError.of("cross_loading_items", f"{len(shared)} item(s) belong to several domains "
                                f"({', '.join(shared[:5])}), so the framework does not design one factor per domain; "
                                "write the measurement model yourself (lavaan syntax) if a factor model is wanted.",
                                column="items.domains", value=", ".join(shared[:5]),
                                rule="one domain per item for a factor model")
        return "\n".join(f"{d} =~ " + " + ".join(items) for d, items in self.domain_items(respondent).items())


def _find(seq, key, what):
    for obj in seq:
        if obj.id == key:
            return obj
    raise KeyError(f"no {what} with id {key!r}; known: {', '.join(o.id for o in seq)}")
