"""What ``measurekit synth`` plants for one framework: its areas, how its voice domains behave, what goes wrong.

A framework may carry a ``synthetic.yaml`` beside its ``framework.yaml`` (the bundled ones do); everything in it is
optional, and anything left out gets a neutral default built from the framework itself, so any framework can be
synthesised. Nothing here names a framework: the words and numbers of a particular council live in its file, and
the tables, columns and values written are the ones its ``framework.yaml`` declares (:class:`Names`).

Keys of ``synthetic.yaml`` (all optional):
- ``areas``: list of ``{name, code, small_area_prefix, share, deprivation, eal_logit, mobility_logit, small_areas,
  language_mix}``; default three areas "Area A/B/C" that differ in deprivation.
- ``roles``: which column of the population table plays each part of the generator's model (``ROLES``): a column
  name, or ``{column, reference}`` where the part needs to know one value (``reference``: the value the others are
  compared with). A population column with no part is drawn evenly from its declared values (no effect planted).
- ``language_mixes``: mix name -> shares of the home languages other than the main one (the ``language_at_home``
  column's values other than its ``reference``, in the order of its ``enum``); default even shares.
- ``ethnic_groups``: home language -> ``{ethnic group: share}`` (every home language; groups from the
  ``ethnic_group`` column's ``enum``); default even shares of every group, whatever the language.
- ``translated_forms``: a language of the framework -> the home languages whose families may answer the form in it
  (others answer in the framework's first language); default none.
- ``scripts``: home language -> the ISO 15924 code of the script its names are written in before they are spelt in
  Latin letters (``Arab``, ``Beng``, ``Guru``...); only ``--identifiers`` reads it: the names of a language with a
  script other than ``Latn`` are given transliterated another way at a documented rate. Default ``Latn`` (no
  transliteration) for every home language.
- ``domains``: domain id -> ``{loadings (by item position, cycled), on_development, on_seldom_heard,
  later_outcome}``; default loadings 0.7, 0.3 on development, -0.2 on the seldom-heard trait, 0.25 on the outcome.
- ``domain_correlation``: correlation matrix of the domain latents' own parts (framework domain order); default
  0.35 between every pair.
- ``dif``: ``{item, group, reference, shift, description}`` (``group``: a column with a part in the model);
  default none planted.
- ``panel``: content-validity panel (``raters``, ``p_relevant``, ``p_clear``, planted ``relevance``/``clarity``
  counts by item, ``comments``, ``description``).
- ``interviews``: cognitive interviews (``per_item``, ``p_noise``, ``start``, ``planted`` by item, ``languages``
  form-language weights).
- ``readme``: the opening of the README written beside the data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# the parts of the school-readiness generator's model (synth/cohort.py) a column of the population table can play
# (``roles:`` in synthetic.yaml); a part named with ``reference`` needs to know one value of its column
ROLES = {
    "recorded_sex": "two values: the reference is drawn for 49% of people, the later outcome's sex term applies to "
                    "the other",
    "summer_birth": "0/1: born from April to August (from the date of birth)",
    "free_meals": "0/1: eligible for free meals (more likely with deprivation)",
    "additional_language": "0/1: the home language is not the main language",
    "special_needs": "the reference means no special needs; the other two values, in the enum's order, are the "
                     "lighter and the heavier level of need",
    "language_at_home": "the reference is the home language of people without an additional language; the others, "
                        "in the enum's order, are drawn by the areas' language mixes",
    "ethnic_group": "drawn by home language (ethnic_groups)",
    "deprivation_decile": "1 = most deprived ... 10 (from the deprivation latent)",
    "moved_home": "0/1: moved home recently (more likely with deprivation)",
    "follow_up_outcome": "0/1: the later outcome (a column of a routine table with one row per person, not the "
                         "population table)",
}
_NEEDS_REFERENCE = {"recorded_sex": 2, "special_needs": 3, "language_at_home": None}
# the model's values where no column plays a part (drawn, never written)
_UNWRITTEN_SEX = ("first", "second")
_UNWRITTEN_NEEDS = ("no_need", "lighter_need", "heavier_need")
_UNWRITTEN_MAIN = "main_language"


@dataclass(frozen=True)
class Area:
    name: str
    code: str
    small_area_prefix: str
    share: float
    deprivation: float
    eal_logit: float
    mobility_logit: float
    small_areas: int
    language_mix: str


@dataclass(frozen=True)
class DomainBehaviour:
    loadings: list[float]
    on_development: float
    on_seldom_heard: float
    later_outcome: float


@dataclass(frozen=True)
class Names:
    """The names the generator writes, all read from the framework: its tables (``population``, ``tables``), the
    columns with a part in the model (``roles`` of synthetic.yaml: part -> column; a part no column plays is drawn
    but not written) and their values, the home languages and their forms and ethnic groups, the respondents."""

    population: str                 # the population table and its columns (framework.yaml population:)
    id: str
    area: str
    area_code: str | None
    small_area: str | None
    small_area_name: str | None
    birth_date: str | None
    lookup: str | None
    columns: dict[str, str]         # part of the model (ROLES) -> column
    sex: tuple[Any, Any]            # (reference, other)
    needs: tuple[Any, Any, Any]     # (no need, lighter, heavier)
    main_language: Any
    other_languages: list[Any]      # the language mixes' order
    ethnic: dict[Any, tuple[list[Any], list[float]]]   # home language -> (groups, shares)
    form_language: dict[Any, str]   # home language -> the form language its families may answer in
    source_language: str            # the framework's first language: everyone else's form language
    eyfsp: str | None               # the table of kind eyfsp, of kind asq
    asq: str | None
    outcome_table: str | None       # the table of the follow_up_outcome column
    voice: Any                      # the first voice table (DataTable), the second (a rater's), the retest table
    rater_voice: Any
    retest: Any
    respondent: str                 # who answers the first voice table, who rates in the second
    rater: str | None
    framework: Any = field(default=None, repr=False)
    scripts: dict[Any, str] = field(default_factory=dict)   # home language -> its names' script (default Latn)

    def script(self, language) -> str:
        """The ISO 15924 script of a home language's names (``scripts:`` of synthetic.yaml; ``Latn`` if none)."""
        return self.scripts.get(language, "Latn")

    def column(self, part: str) -> str | None:
        """The column that plays ``part`` of the model (``None``: no column does; the part is not written)."""
        return self.columns.get(part)

    def key(self, part: str) -> str:
        """The name of a part in files about the model (ground_truth.json): its column, else the part's name."""
        return self.columns.get(part) or part


@dataclass
class Profile:
    areas: list[Area]
    language_mixes: dict[str, list[float]]
    domains: dict[str, DomainBehaviour]
    domain_correlation: np.ndarray
    dif: dict[str, Any] | None
    panel: dict[str, Any]
    interviews: dict[str, Any]
    readme: str
    names: Names            # the names the generator writes (from the framework and the roles)
    source: Path | None = field(default=None)

    def loading(self, domain: str, position: int) -> float:
        """The loading of the item at ``position`` within its domain (the domain's list, cycled)."""
        lams = self.domains[domain].loadings
        return lams[position % len(lams)]

    def panel_comment(self, item: str, aspect: str) -> str | None:
        for c in self.panel.get("comments", []):
            if c["item"] == item and c["aspect"] == aspect:
                return c["text"]
        return None


def _default_areas() -> list[dict]:
    return [{"name": f"Area {c}", "code": f"SYN-A0{k + 1}", "small_area_prefix": f"AR{c}", "share": share,
             "deprivation": dep, "eal_logit": eal, "mobility_logit": mob, "small_areas": 5, "language_mix": "even"}
            for k, (c, share, dep, eal, mob) in enumerate([("A", 0.4, 0.6, -0.6, -1.2), ("B", 0.35, 0.0, -1.6, -1.6),
                                                          ("C", 0.25, -0.7, -2.4, -2.0)])]


_DEFAULT_README = """# Synthetic cohort (not real people)

Made by `measurekit synth` (the same seed always gives the same bytes). Every person, identifier, small area and
answer here is invented. Codes of small areas start `SYN-` so they can never be mistaken for real geography.
`ground_truth.json` says exactly what was planted, so analyses can be checked.
"""


def _enum(col) -> list:
    return list(col.enum) if col is not None and col.enum is not None else []


def _names(fw, raw: dict, add) -> Names:
    """The names the generator writes (see :class:`Names`); every problem of ``roles``, ``ethnic_groups`` and
    ``translated_forms`` goes to ``add(message, column, value, rule)``."""
    from measurekit.data.population import first_respondent

    pop = fw.population
    tables = list(getattr(fw, "tables", None) or [])
    by_name = {t.name: t for t in tables}
    people = by_name.get(pop.table) if pop is not None else None
    cols = {c.name: c for c in (people.columns if people is not None else [])}
    columns: dict[str, str] = {}
    reference: dict[str, Any] = {}
    outcome_table = None
    given = raw.get("roles") or {}
    if not isinstance(given, dict):
        add("roles must map parts of the model to columns (part: column).", "roles", type(given).__name__,
            "part: column")
        given = {}
    for part, spec in given.items():
        at = f"roles.{part}"
        column, ref = (spec.get("column"), spec.get("reference")) if isinstance(spec, dict) else (spec, None)
        if part not in ROLES:
            add(f"roles names {part!r}, which is not a part of the model.", at, part, "parts: " + ", ".join(ROLES))
            continue
        if part == "follow_up_outcome":
            home = [t for t in tables if t.kind == "routine" and t.name != (pop.table if pop else None)
                    and column in {c.name for c in t.columns}]
            if not home:
                add(f"roles.{part} names {column!r}, not a column of a routine table other than the population "
                    "table.", at, column, "a column of a routine table")
                continue
            outcome_table = home[0].name
        elif column not in cols:
            add(f"roles.{part} names {column!r}, which the population table does not declare.", at, column,
                "a column of the population table")
            continue
        if part in _NEEDS_REFERENCE:
            values = _enum(cols[column])
            count = _NEEDS_REFERENCE[part]
            if ref not in values:
                add(f"roles.{part} needs `reference:`, one of the values {column!r} declares "
                    f"({', '.join(map(str, values)) or 'none declared'}).", f"{at}.reference", ref,
                    f"reference: one of the enum of {column}")
                continue
            if count is not None and len(values) != count:
                add(f"roles.{part}: the column {column!r} must declare {count} values (enum), not {len(values)}.",
                    at, column, f"{count} values")
                continue
            reference[part] = ref
        columns[part] = str(column)

    def others(part):
        return [v for v in _enum(cols.get(columns.get(part, ""))) if v != reference.get(part)]

    sex = (reference["recorded_sex"], others("recorded_sex")[0]) if "recorded_sex" in reference else _UNWRITTEN_SEX
    needs = ((reference["special_needs"], *others("special_needs")) if "special_needs" in reference
             else _UNWRITTEN_NEEDS)
    main = reference.get("language_at_home", _UNWRITTEN_MAIN)
    if "language_at_home" in reference:
        other_languages = others("language_at_home")
    else:
        first_mix = next(iter((raw.get("language_mixes") or {}).values()), [1.0])
        other_languages = [f"other_language_{k + 1}" for k in range(len(first_mix))]
    languages = [main, *other_languages]
    groups = _enum(cols.get(columns.get("ethnic_group", ""))) or ["unwritten_group"]
    ethnic: dict[Any, tuple[list[Any], list[float]]] = {}
    declared_groups = raw.get("ethnic_groups")
    if declared_groups:
        for lang, shares in declared_groups.items():
            if lang not in languages:
                add(f"ethnic_groups names the home language {lang!r}, not a value of the language_at_home column.",
                    f"ethnic_groups.{lang}", lang, "a home language")
            elif not isinstance(shares, dict) or not shares or any(g not in groups for g in shares):
                add(f"ethnic_groups.{lang} must map ethnic groups the ethnic_group column declares to shares.",
                    f"ethnic_groups.{lang}", str(shares)[:100], "group: share")
            else:
                ethnic[lang] = (list(shares), [float(x) for x in shares.values()])
        missing = [lang for lang in languages if lang not in declared_groups]
        if missing:
            add(f"ethnic_groups gives no groups for the home languages {', '.join(map(str, missing))}.",
                "ethnic_groups", str(missing[0]), "every home language")
    else:
        ethnic = {lang: (groups, [1.0 / len(groups)] * len(groups)) for lang in languages}
    form_language: dict[Any, str] = {}
    for code, langs in (raw.get("translated_forms") or {}).items():
        if code not in fw.languages or not isinstance(langs, list) or any(v not in other_languages for v in langs):
            add(f"translated_forms.{code} must be a language of the framework and list home languages other than "
                "the main one.", f"translated_forms.{code}", code, "language: [home languages]")
            continue
        for lang in langs:
            form_language[lang] = code
    scripts: dict[Any, str] = {}
    given_scripts = raw.get("scripts") or {}
    if not isinstance(given_scripts, dict):
        add("scripts must map home languages to script codes (language: Arab).", "scripts",
            type(given_scripts).__name__, "home language: ISO 15924 code")
        given_scripts = {}
    for lang, code in given_scripts.items():
        if lang not in languages:
            add(f"scripts names the home language {lang!r}, not a value of the language_at_home column.",
                f"scripts.{lang}", lang, "a home language")
        elif not (isinstance(code, str) and len(code) == 4 and code.isalpha() and code[0].isupper()
                  and code[1:].islower()):
            add(f"scripts.{lang} must be an ISO 15924 script code such as Arab, Beng or Latn.", f"scripts.{lang}",
                code, "four letters, the first a capital")
        else:
            scripts[lang] = code
    voices = [t for t in tables if t.kind == "voice" and not t.retest]
    first = voices[0] if voices else None
    second = voices[1] if len(voices) > 1 else None
    return Names(population=pop.table if pop else "", id=pop.id if pop else "", area=pop.area if pop else "",
                 area_code=pop.area_code if pop else None, small_area=pop.small_area if pop else None,
                 small_area_name=pop.small_area_name if pop else None, birth_date=pop.birth_date if pop else None,
                 lookup=pop.lookup if pop else None, columns=columns, sex=sex, needs=needs, main_language=main,
                 other_languages=other_languages, ethnic=ethnic, form_language=form_language,
                 source_language=fw.languages[0],
                 eyfsp=next((t.name for t in tables if t.kind == "eyfsp"), None),
                 asq=next((t.name for t in tables if t.kind == "asq"), None), outcome_table=outcome_table,
                 voice=first, rater_voice=second, retest=next((t for t in tables if t.kind == "voice" and t.retest),
                                                              None),
                 respondent=first_respondent(fw), rater=second.respondent if second is not None else None,
                 framework=fw, scripts=scripts)


def load_profile(fw) -> Profile:
    """The synthesis profile of framework ``fw``: its ``synthetic.yaml`` where there is one, defaults elsewhere."""
    from measurekit.problems import InputError, Problem, ProblemReport
    from measurekit.synth.declared import load_declared_profile

    path = Path(fw.path) / "synthetic.yaml" if getattr(fw, "path", None) else None
    raw: dict = load_declared_profile(fw) if path is not None else {}
    domains = [d.id for d in fw.domains]
    given = raw.get("domains") or {}
    behaviour = {}
    for d in domains:
        b = given.get(d, {})
        behaviour[d] = DomainBehaviour(loadings=[float(x) for x in b.get("loadings", [0.7])],
                                       on_development=float(b.get("on_development", 0.3)),
                                       on_seldom_heard=float(b.get("on_seldom_heard", -0.2)),
                                       later_outcome=float(b.get("later_outcome", 0.25)))
    if "domain_correlation" in raw:
        corr = np.array(raw["domain_correlation"], dtype=float)
    else:
        corr = np.full((len(domains), len(domains)), 0.35)
        np.fill_diagonal(corr, 1.0)
    problems = []
    if corr.shape != (len(domains), len(domains)):
        problems.append(Problem("bad_synthetic_profile", f"domain_correlation is {corr.shape[0]} x {corr.shape[1]}; "
                                f"the framework has {len(domains)} domains.", file=str(path),
                                column="domain_correlation"))
    unknown = sorted(set(given) - set(domains))
    if unknown:
        problems.append(Problem("bad_synthetic_profile", f"domains names {', '.join(unknown)}, not domains of the "
                                "framework.", file=str(path), column="domains"))

    def add(message, column, value=None, rule=None):
        problems.append(Problem("bad_synthetic_profile", message, file=str(path), column=column,
                                value=None if value is None else str(value)[:200], rule=rule))

    names = _names(fw, raw, add)
    k = len(names.other_languages)
    mixes = dict(raw.get("language_mixes") or {"even": [1.0 / k] * k})
    for mix, shares in mixes.items():
        if len(shares) != k:
            add(f"language_mixes.{mix} gives {len(shares)} shares for {k} home languages other than the main one.",
                f"language_mixes.{mix}", len(shares), "one share per home language other than the main one")
    areas = [Area(**a) for a in (raw.get("areas") or _default_areas())]
    for a in areas:
        if a.language_mix not in mixes:
            problems.append(Problem("bad_synthetic_profile", f"area {a.name!r} uses language mix {a.language_mix!r}, "
                                    "which language_mixes does not define.", file=str(path), column="areas"))
    dif = raw.get("dif")
    item_ids = {i.id for i in fw.items}
    if dif and dif.get("item") not in item_ids:
        problems.append(Problem("bad_synthetic_profile", f"dif names item {dif.get('item')!r}, not an item of the "
                                "framework.", file=str(path), column="dif.item"))
    if problems:
        raise InputError(ProblemReport(problems, title="Synthesis profile"))
    raters = {names.respondent: 8, **({names.rater: 6} if names.rater else {})}
    panel = {"raters": raters, "p_relevant": 0.98, "p_clear": 0.98, "relevance": {},
             "clarity": {}, "comments": [], "description": "No item was planted as not relevant or unclear.",
             **(raw.get("panel") or {})}
    interviews = {"per_item": 6, "p_noise": 0.02, "start": "2025-02-03", "planted": {},
                  "languages": {lang: 1.0 / len(fw.languages) for lang in fw.languages},
                  **(raw.get("interviews") or {})}
    return Profile(areas=areas, language_mixes=mixes, domains=behaviour, domain_correlation=corr, dif=dif,
                   panel=panel, interviews=interviews, readme=raw.get("readme", _DEFAULT_README), source=path,
                   names=names)
