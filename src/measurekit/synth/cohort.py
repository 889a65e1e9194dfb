"""A synthetic reception cohort with known ground truth, for practice and for testing.

``make_cohort(n=3000, random_state=1)`` returns a :class:`measurekit.data.Cohort` with the
tables an LA would hold (children, small-area lookup, EYFSP, ASQ-3, parent and practitioner
voice responses, a later outcome) and ``.ground_truth`` recording what was planted:

* areas that differ in deprivation, EAL and mobility;
* a child development latent driving the 17 ELGs (GLD by the DfE rule) and ASQ-3;
* correlated voice domains measured by the framework's items (read from the framework: items, scales and
  domains are not repeated here), with a clean simple structure;
* differential item functioning (DIF) where the framework's synthesis profile plants it;
* a "seldom heard" trait (deprivation, EAL, mobility) that lowers the chance a parent responds;
* an effect of the voice domains on the later outcome (Year 1 phonics) beyond GLD and routine data,
  scaled by ``voice_effect`` (0 removes it: the outcome then depends only on the routine predictors).

What is particular to a framework (its areas, how its domains behave, what is planted) comes from its synthesis
profile (``synthetic.yaml`` beside ``framework.yaml``; defaults otherwise: ``synth/profile.py``). Every table,
column and value written is one the framework declares: the population table and its lookup (``population:``), the
tables of kind eyfsp and asq, the first voice table (the respondent whose answers are scored), a second voice table
(a rater's), the retest table and the table of the follow-up outcome (``tables:``); which population column is the
sex, free-meals, additional-language, special-needs, home-language, ethnic-group, deprivation-decile and moved-home
column, and which of their values is the reference, come from the profile's ``roles`` (``synth/profile.py``
``Names``); a declared column that plays no part is drawn evenly from its declared values.
Everything is deterministic given ``random_state``: the same seed gives the same bytes.
"""
from __future__ import annotations

import functools
import json
import zlib
from datetime import date
from pathlib import Path
from typing import TypedDict

import numpy as np
import pandas as pd

from measurekit.core import paths
from measurekit.data.cohort import Cohort
from measurekit.data.eyfsp import ELGS, EMERGING, EXPECTED, NOT_ASSESSED, count_expected, gld_rule
from measurekit.data.schemas import ASQ_DOMAINS
from measurekit.synth.profile import Names, Profile, load_profile

_THRESHOLDS = np.array([-1.6, -0.8, 0.0, 0.9])  # latent response cut points between codes 1|2|3|4|5
_P_DONT_KNOW, _P_ITEM_MISSING = 0.03, 0.03

# Response (unit non-response is not at random): logit P(respond) = a + b * s
_RESPONSE = {"intercept": 0.55, "seldom_heard": -1.0}
# Seldom-heard trait: s = 0.55 * deprivation + 0.9 * additional language + 0.7 * moved home + N(0, 0.6^2) - 0.5
# (the parts of the model by their names in synth/profile.py ROLES; ground_truth.json names them by their columns)
_SELDOM = {"deprivation": 0.55, "additional_language": 0.9, "moved_home": 0.7, "noise_sd": 0.6, "centre": 0.5}

# Later outcome (the follow-up outcome): logit = base terms + voice_effect * voice terms; the special-needs terms
# are for the lighter and the heavier level of need, the sex term for the value that is not the reference
_OUTCOME_BASE = {"intercept": 1.25, "gld": 1.5, "free_meals": -0.35, "additional_language": -0.10,
                 "lighter_need": -0.7, "heavier_need": -1.5, "other_sex": -0.25, "summer_birth": -0.20,
                 "asq_total_per_point": 0.008}
_ASQ = {"communication": (42, 13), "gross_motor": (50, 9), "fine_motor": (44, 11),
        "problem_solving": (45, 11), "personal_social": (47, 10)}
_ASQ_CENTRE = 230.0

# Co-design evidence and retest, drawn on a separate random stream (so the seven tables above keep their bytes).
# Retest: a random 5% of responders (at least 40) answer again 14-28 days later; each domain latent then is
# stability x the first + a fresh part, and every answer has a fresh unique part.


class _RetestDesign(TypedDict):
    share: float             # share of all children asked again (at least min_n responders)
    min_n: int
    stability: float         # correlation of a domain latent between the two answers
    days: tuple[int, int]    # the second answer comes this many days after the first (inclusive range)


_RETEST: _RetestDesign = {"share": 0.05, "min_n": 40, "stability": 0.9, "days": (14, 28)}
_PROBES = ["In your own words, what is this question asking?", "How did you choose your answer?",
           "What does this sentence mean to you?", "Was anything hard to answer here?"]
_YEAR_START = date(2019, 9, 1)  # children born 1 Sep 2019 - 31 Aug 2020: reception in 2024/25


_ELG_CODES = (EXPECTED, EMERGING, NOT_ASSESSED)
ASQ_ZONES = ["below", "monitoring", "above"]    # an ASQ-3 domain score's zone: below the cut-off, monitoring, above


@functools.lru_cache(maxsize=1)
def _str_dtype():
    """The dtype pandas gives a column of Python strings (pandas 3: its pyarrow-backed ``str``)."""
    return pd.Series(np.array(["x"], dtype=object)).dtype


def _strings(pool, idx: np.ndarray):
    """``pool[idx]`` as the column pandas would make of those Python strings (same dtype, same values), made by one
    pyarrow ``take`` from the few distinct values instead of converting every row's Python string."""
    dtype = _str_dtype()
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        import pyarrow as pa

        return pd.array(pa.array(list(pool), type=pa.large_string()).take(pa.array(np.asarray(idx, dtype=np.intp))),
                        dtype=dtype)
    return np.array(list(pool), dtype=object)[idx]


def _day_strings(days: np.ndarray):
    """``np.datetime_as_string(days, unit="D")`` as the column pandas makes of it: each distinct day written once."""
    days = np.asarray(days, dtype="datetime64[D]")
    number = days.astype(np.int64)
    low = int(number.min()) if len(number) else 0
    if len(number) and not np.isnat(days).any() and int(number.max()) - low < 4 * len(number) + 1000:
        # days within a few years: the distinct days and each one's position among them by counting, not sorting
        present = np.bincount(number - low) > 0
        position = np.cumsum(present) - 1
        distinct = (np.flatnonzero(present) + low).astype("datetime64[D]")
        return _strings(np.datetime_as_string(distinct, unit="D"), position[number - low])
    distinct, idx = np.unique(days, return_inverse=True)
    return _strings(np.datetime_as_string(distinct, unit="D"), idx.reshape(-1))


def _column(v: dict, key: str, rows=None):
    """The table column of the drawn values ``v[key]`` (of the rows ``rows``, a mask, when given): made by
    :func:`_strings` from the codes the draw kept (``v["codes"][key]``: the distinct values and each row's position
    among them) when every value is text, so the column is what pandas makes of the drawn values without
    converting every row's string; the drawn values themselves otherwise (values that are not text)."""
    coded = v.get("codes", {}).get(key)
    if coded is not None and all(isinstance(p, str) for p in coded[0]):
        pool, idx = coded
        return _strings(pool, idx if rows is None else idx[rows])
    values = v[key]
    return values if rows is None else values[rows]


def _id_strings(prefix: str, ids: np.ndarray, width: int = 0):
    """The ids ``prefix`` + each number of ``ids`` (whole numbers from 0), written with at least ``width`` digits
    (``f"{prefix}{i:0{width}d}"``), as the column pandas makes of those Python strings; joined by pyarrow when
    pandas keeps text in it."""
    dtype = _str_dtype()
    ids = np.asarray(ids)
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow" and ids.dtype.kind in "iu" and len(ids) and (
            ids.min() >= 0):
        import pyarrow as pa
        import pyarrow.compute as pc

        digits = pa.array(ids).cast(pa.large_string())
        if width:
            digits = pc.utf8_lpad(digits, width=width, padding="0")
        text = pc.binary_join_element_wise(pa.scalar(prefix, pa.large_string()), digits,
                                           pa.scalar("", pa.large_string()))
        return pd.array(text, dtype=dtype)
    return np.asarray([f"{prefix}{i:0{width}d}" for i in ids.tolist()], dtype=object)


def _whole_numbers(x: np.ndarray):
    """Codes drawn as floats (NaN: not answered) as a nullable integer column: ``pd.array(x, dtype="Int64")``, made
    from the values and the mask of missing ones (1 stored under a missing value, as pandas stores it)."""
    x = np.asarray(x, dtype=float)
    missing = np.isnan(x)
    filled = np.where(missing, 1.0, x)
    whole = filled.astype(np.int64)
    if not np.array_equal(whole, filled):     # not whole numbers: as pandas has it (it refuses them)
        return pd.array(x, dtype="Int64")
    return pd.arrays.IntegerArray(whole, missing)


def _six_digit_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` different numbers from 100000 to 999999: ``rng.choice(np.arange(100000, 1000000), n, replace=False)``,
    the same draw from the same stream, without making the 900,000 candidates first."""
    return rng.choice(900_000, size=n, replace=False) + 100_000


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _framework(framework):
    """The framework: a folder loaded, or a framework already loaded (``design.models.Framework``) as it is."""
    from measurekit.design import load_framework
    from measurekit.design.models import Framework

    return framework if isinstance(framework, Framework) else load_framework(framework)


def _folder(framework, fw) -> tuple[str, object]:
    """The resolved framework folder (the key of the population truth) and the framework to draw it from: ``fw``
    when it was loaded from that folder here, None (load it afresh) when the caller passed a loaded framework,
    which may differ in memory from its folder."""
    from measurekit.design.models import Framework

    if isinstance(framework, Framework):
        if framework.path is None:
            from measurekit.problems import InputError

            raise InputError.of("bad_option", "The ground truth's population values are drawn from a framework "
                                "folder; this framework was not loaded from one. Pass its folder, or truth=False.",
                                column="framework", rule="a framework folder")
        return str(Path(framework.path).resolve()), None
    return str(Path(framework).resolve()), fw


def _simulate(n: int, rng: np.random.Generator, fw, voice_effect: float, keep: set | None = None) -> dict:
    """Draw one cohort; returns the tables and the latent quantities (for ground truth).

    The parts run in a fixed order on one random stream (each part's draws follow the previous
    part's), so the same seed gives the same cohort: places, families, development, EYFSP, ASQ-3,
    voice latents, parent answers and response, practitioner ratings, later outcome, identifiers.
    ``keep``: the only columns whose values are wanted (see ``_tables``); None: every column.
    """
    prof = load_profile(fw)
    v = _places(n, rng, prof)
    v.update(_families(n, rng, v, prof))
    v.update(_development(n, rng, v))
    eyfsp = _eyfsp(n, rng, v, keep)
    v.update(_asq(n, rng, v))
    v.update(_voice_latents(n, rng, fw, v, prof))
    dif = prof.dif
    dif_shift = {dif["item"]: dif["shift"] * (_values_of(v, prof, dif["group"]) != dif["reference"])} if dif else {}
    parent_items = [i for i in fw.items if prof.names.respondent in i.respondents]
    parent_codes = _respond(rng, fw, prof, v["theta"], parent_items, _P_DONT_KNOW, _P_ITEM_MISSING, dif_shift)
    v.update(_parent_response(n, rng, v))
    practitioner = _practitioner_ratings(n, rng, fw, prof, v)
    phonics = _later_outcome(n, rng, fw, prof, v, eyfsp, voice_effect)
    ids = _six_digit_ids(rng, n)
    # the ids' text; where only some columns are kept and not the id, the drawn numbers (the same people are
    # equal, the same joins: the column itself is not read)
    child_id = _id_strings("CH", ids) if keep is None or prof.names.id in keep else ids
    tables = _tables(child_id, v, eyfsp, parent_codes, practitioner, phonics, prof, keep)
    sim = {"profile": prof, "tables": tables, "theta": v["theta"], "s": v["s"], "propensity": v["propensity"],
           "responded": v["responded"], "answers": parent_codes, "D": v["D"], "dif_shift": dif_shift,
           "child_id": child_id}
    if keep is None:
        sim["all_answers"] = pd.DataFrame(dict(parent_codes))
    return sim


# the drawn quantity (a key of the simulation's values) behind each part of the model a column can play
_DRAWN = {"recorded_sex": "sex", "summer_birth": "summer_born", "free_meals": "fsm", "additional_language": "eal",
          "special_needs": "send", "language_at_home": "home_language", "ethnic_group": "ethnicity",
          "deprivation_decile": "idaci", "moved_home": "mobility"}


def _values_of(v, prof: Profile, column: str) -> np.ndarray:
    """The drawn values of a population column with a part in the model (``dif.group`` names one)."""
    from measurekit.problems import InputError

    part = next((p for p, c in prof.names.columns.items() if c == column and p in _DRAWN), None)
    if part is None:
        raise InputError.of("bad_synthetic_profile", f"dif.group names {column!r}, which plays no part of the model "
                            "(roles in synthetic.yaml).", file="synthetic.yaml", column="dif.group", value=column,
                            rule="a column named in roles")
    return v[_DRAWN[part]]


def _places(n, rng, prof: Profile) -> dict:
    """Area and small area of each child (the small-area map is fixed for every seed), and the
    deprivation latent ``dep``."""
    areas = prof.areas
    nb_idx = rng.choice(len(areas), size=n, p=[a.share for a in areas])
    area_rows: list[dict[str, str]] = []
    area_effect: list[float] = []
    first_area: list[int] = []
    area_rng = np.random.default_rng(7)  # small-area layout is fixed: the same map for every seed
    for a in areas:
        first_area.append(len(area_rows))
        for j in range(1, a.small_areas + 1):
            area_rows.append({"small_area": f"SYN-{a.small_area_prefix}-{j:02d}",
                              "small_area_name": f"{a.name} {j} (synthetic)",
                              "neighbourhood_code": a.code, "neighbourhood": a.name})
            area_effect.append(float(area_rng.normal(0, 0.3)))
    n_areas = np.array([a.small_areas for a in areas])
    area_idx = np.array(first_area)[nb_idx] + np.floor(rng.random(n) * n_areas[nb_idx]).astype(int)
    small_areas = [r["small_area"] for r in area_rows]
    small_area = np.array(small_areas, dtype=object)[area_idx]
    dep = np.array([a.deprivation for a in areas])[nb_idx] + np.array(area_effect)[area_idx] + rng.normal(0, 0.8, n)
    # the names travel with the values: the later parts write the framework's values (``names``); ``codes`` keeps
    # the text values drawn as (distinct values, position of each row's value among them) for ``_column``
    return {"nb_idx": nb_idx, "area_rows": area_rows, "small_area": small_area, "dep": dep, "names": prof.names,
            "codes": {"small_area": (small_areas, area_idx)}}


def _families(n, rng, v, prof: Profile) -> dict:
    """IDACI decile, EAL and home language, FSM, mobility, sex, date of birth and ethnicity."""
    nb_idx, dep = v["nb_idx"], v["dep"]
    idaci = np.clip(1 + np.floor(10 * (1 - _norm_cdf(dep / 1.1))), 1, 10).astype(int)
    areas = prof.areas
    eal = (rng.random(n) < _expit(np.array([a.eal_logit for a in areas])[nb_idx] + 0.3 * dep)).astype(int)
    names: Names = v["names"]
    others = names.other_languages
    # the number of the child's area's cumulative shares below a uniform draw (each area's shares summed once:
    # the same sums as summing each child's row); by a binary search in each area where the sums rise
    cum_mix = np.cumsum(np.array([prof.language_mixes[a.language_mix] for a in areas]), axis=1)
    u = rng.random(n)
    if (np.diff(cum_mix, axis=1) >= 0).all() and not np.isnan(u).any():
        lang_draw = np.zeros(n, dtype=np.intp)
        for k in np.unique(nb_idx):
            in_area = nb_idx == k
            lang_draw[in_area] = np.searchsorted(cum_mix[k], u[in_area])
    else:
        lang_draw = (u[:, None] > cum_mix[nb_idx]).sum(axis=1)
    other_idx = np.minimum(lang_draw, len(others) - 1)
    home_language = np.where(eal == 1, np.array(others, dtype=object)[other_idx], names.main_language)
    # the home languages as codes: the other languages, then the main one (last)
    languages = np.array([*others, names.main_language], dtype=object)
    language_idx = np.where(eal == 1, other_idx, len(others))
    fsm = (rng.random(n) < _expit(-1.45 + 1.1 * dep)).astype(int)
    mobility = (rng.random(n) < _expit(np.array([a.mobility_logit for a in areas])[nb_idx] + 0.4 * dep)).astype(int)
    reference = rng.random(n) < 0.49
    sex = np.where(reference, names.sex[0], names.sex[1])
    day = rng.integers(0, 366, n)
    first_day = np.datetime64(_YEAR_START.isoformat())
    dob = first_day + day.astype("timedelta64[D]")
    # the month of each of the 366 days, looked up (the same months as converting every date)
    month = ((first_day + np.arange(366).astype("timedelta64[D]")).astype("datetime64[M]").astype(int) % 12 + 1)[day]
    summer_born = ((month >= 4) & (month <= 8)).astype(int)
    eth_u = rng.random(n)
    ethnicity = np.empty(n, dtype=object)
    groups_all: list = []
    group_idx = np.full(n, -1)
    for lang, (groups, probs) in names.ethnic.items():
        m = (languages == lang)[language_idx]       # home_language == lang, compared once per distinct language
        draw = np.minimum((eth_u[m][:, None] > np.cumsum(probs)).sum(axis=1), len(groups) - 1)
        ethnicity[m] = np.array(groups, dtype=object)[draw]
        group_idx[m] = len(groups_all) + draw
        groups_all += list(groups)
    codes = {"home_language": (list(languages), language_idx), "sex": (list(names.sex), np.where(reference, 0, 1))}
    if (group_idx >= 0).all():      # every child has a group (else the column is made from the drawn values)
        codes["ethnicity"] = (groups_all, group_idx)
    return {"idaci": idaci, "eal": eal, "home_language": home_language, "fsm": fsm, "mobility": mobility, "sex": sex,
            "dob": dob, "summer_born": summer_born, "age_c": 0.5 - day / 365.0, "ethnicity": ethnicity,
            "codes": {**v.get("codes", {}), **codes}}


def _development(n, rng, v) -> dict:
    """The child development latent ``D`` and SEND (which lowers ``D``)."""
    D = -0.36 * v["dep"] - 0.12 * v["fsm"] + 0.8 * v["age_c"] + 0.17 * v["eal"] + rng.normal(0, 0.85, n)
    u = rng.random(n)
    p_ehc, p_sen = _expit(-4.4 - 1.3 * D), _expit(-2.2 - 1.0 * D)
    no_need, lighter, heavier = v["names"].needs
    level = np.where(u < p_ehc, 2, np.where(u < p_ehc + p_sen, 1, 0))     # position in ``needs``
    send = np.where(level == 2, heavier, np.where(level == 1, lighter, no_need))
    D = D - 0.6 * (send == lighter) - 1.2 * (send == heavier)
    return {"D": D, "send": send, "codes": {**v.get("codes", {}), "send": (list(v["names"].needs), level)}}


def _placeholder(k: int) -> np.ndarray:
    """What stands for a column whose values are not wanted (``keep`` of ``_tables``): ``k`` zeros."""
    return np.zeros(k, dtype=np.int8)


def _eyfsp(n, rng, v, keep: set | None = None) -> pd.DataFrame:
    """The 17 ELG judgements from ``D`` (language areas lower for EAL), a few not assessed, GLD by the DfE rule.
    ``keep``: the only columns whose values are wanted (the others hold ``_placeholder``); None: every column."""
    D, eal = v["D"], v["eal"]
    elg_expected = {}
    language_areas = {"Communication and Language", "Literacy"}
    on_d, on_eal = 0.9 * D, 0.22 * eal      # the same for every ELG: computed once
    for e in ELGS:
        offset = {"elg_writing": 0.25, "elg_word_reading": 0.1, "elg_gross_motor": -0.4, "elg_fine_motor": -0.1,
                  "elg_past_present": -0.2, "elg_imaginative": -0.3}.get(e.column, 0.0)
        z = on_d + 0.44 * rng.normal(size=n) - (on_eal if e.area in language_areas else 0.0)
        elg_expected[e.column] = z > (-1.13 + offset)
    not_assessed_child = rng.random(n) < 0.006
    elg_cols, at_expected = {}, {}
    for k, e in enumerate(ELGS):
        na = not_assessed_child & ((rng.random(n) < 0.5) | (k < 3))
        # the code of each child (expected, emerging, or not assessed) as a position in _ELG_CODES
        elg_cols[e.column] = (_strings(_ELG_CODES, np.where(na, 2, np.where(elg_expected[e.column], 0, 1)))
                              if keep is None or e.column in keep else _placeholder(n))
        at_expected[e.column] = elg_expected[e.column] & ~na
    eyfsp = pd.DataFrame(elg_cols)
    # GLD and the number at expected by data/eyfsp.py's rules, from the judgements the codes were made from rather
    # than by reading the codes back (derive_gld and total_expected apply the same rules to read codes)
    eyfsp["gld"] = gld_rule(at_expected)
    eyfsp["total_elgs_expected"] = count_expected(at_expected)
    return eyfsp


def _asq(n, rng, v) -> dict:
    """ASQ-3 at 2 to 2.5 years (domain scores, zones, who has one) and the standardised development ``Dz``."""
    D = v["D"]
    Dz = (D - D.mean()) / D.std() if n > 1 else D
    asq = {"asq_age_months": rng.integers(24, 31, n)}
    on_dz = 0.55 * Dz       # the same for every domain: computed once
    for d in ASQ_DOMAINS:
        mean, sd = _ASQ[d]
        raw = mean + sd * (on_dz + 0.83 * rng.normal(size=n))
        asq[f"asq_{d}"] = np.clip(5 * np.round(raw / 5), 0, 60).astype(int)
    codes = {}
    for d in ASQ_DOMAINS:
        mean, sd = _ASQ[d]
        s = asq[f"asq_{d}"]
        # each zone as its position in ASQ_ZONES (the table's text is made from it: ``_column``)
        asq[f"asq_{d}_zone"] = zone = np.where(s <= mean - 2 * sd, 0, np.where(s <= mean - sd, 1, 2))
        codes[f"asq_{d}_zone"] = (ASQ_ZONES, zone)
    has_asq = rng.random(n) > _expit(-2.3 + 0.9 * v["mobility"])
    asq_total = sum(asq[f"asq_{d}"] for d in ASQ_DOMAINS).astype(float)
    return {"Dz": Dz, "asq": asq, "has_asq": has_asq, "asq_total": asq_total,
            "codes": {**v.get("codes", {}), **codes}}


def _voice_latents(n, rng, fw, v, prof: Profile) -> dict:
    """The seldom-heard trait ``s`` and the correlated voice-domain latents ``theta``."""
    s = (_SELDOM["deprivation"] * v["dep"] + _SELDOM["additional_language"] * v["eal"]
         + _SELDOM["moved_home"] * v["mobility"]
         + rng.normal(0, _SELDOM["noise_sd"], n) - _SELDOM["centre"])
    domains = [d.id for d in fw.domains]
    chol = np.linalg.cholesky(prof.domain_correlation)
    U = rng.normal(size=(n, len(domains))) @ chol.T
    theta = {}
    for k, dom in enumerate(domains):
        a, b = prof.domains[dom].on_development, prof.domains[dom].on_seldom_heard
        theta[dom] = a * v["Dz"] + b * s + np.sqrt(max(1 - a**2 - b**2, 0.2)) * U[:, k]
    return {"s": s, "theta": theta}


def _respond(rng, fw, prof: Profile, latent_by_domain, items, dk_p, miss_p, extra_shift=None) -> dict:
    """Answers to ``items``: latent response = loading x domain latent + unique part (+ a DIF shift), cut at
    the thresholds into the scale's codes (reversed for reverse-keyed items); then don't know and missing."""
    out = {}
    n = len(next(iter(latent_by_domain.values())))
    for item in items:
        dom_items = [i.id for i in fw.items_in(item.domain, respondent=None)]
        lam = prof.loading(item.domain, dom_items.index(item.id))
        ystar = lam * latent_by_domain[item.domain] + np.sqrt(1 - lam**2) * rng.normal(size=n)
        if extra_shift is not None and item.id in extra_shift:
            ystar = ystar + extra_shift[item.id]
        scale = fw.scale(item.scale)
        codes = np.array(scale.codes)
        cuts = (_THRESHOLDS if len(codes) == 5
                else np.quantile(np.linspace(-2, 2, 101), np.linspace(0, 1, len(codes) + 1)[1:-1]))
        # the number of cut points below each answer's latent value (the cut points rise)
        pos = np.searchsorted(cuts, ystar) if not np.isnan(ystar).any() else (ystar[:, None] > cuts).sum(axis=1)
        code = codes[pos] if not item.reverse else codes[::-1][pos]
        code = code.astype(float)
        r = rng.random(n)
        if scale.dont_know is not None:
            code[r < dk_p] = scale.dont_know.code
        code[(r >= dk_p) & (r < dk_p + miss_p)] = np.nan
        out[item.id] = code
    return out


def _parent_response(n, rng, v) -> dict:
    """Who responds (propensity falls with the seldom-heard trait), the form language and the completion date."""
    propensity = _expit(_RESPONSE["intercept"] + _RESPONSE["seldom_heard"] * v["s"])
    responded = rng.random(n) < propensity
    names = v["names"]
    source = names.source_language
    # each distinct home language's form language, looked up once (codes of ``_families``): then per child
    languages, language_idx = v["codes"]["home_language"]
    languages = np.array(languages, dtype=object)
    form_of = pd.Series(languages).map(names.form_language).astype(object).fillna(source).to_numpy()
    translated = (languages != names.main_language)[language_idx] & (rng.random(n) < 0.55)
    form_lang = np.where(translated, form_of[language_idx], source)
    forms = [*form_of, source]          # the form languages as codes: each home language's, then the source
    completed = np.datetime64("2025-03-03") + rng.integers(0, 100, n).astype("timedelta64[D]")
    return {"propensity": propensity, "responded": responded, "form_lang": form_lang, "completed": completed,
            "codes": {**v["codes"], "form_lang": (forms, np.where(translated, language_idx, len(form_of)))}}


def _practitioner_ratings(n, rng, fw, prof: Profile, v) -> dict:
    """Practitioner ratings of the same children's communication items (about 45% of children rated)."""
    prac_items = [i for i in fw.items if prof.names.rater is not None and prof.names.rater in i.respondents]
    prac_theta = {dom: 0.75 * v["theta"][dom] + 0.66 * rng.normal(size=n) + 0.2 for dom in v["theta"]}
    codes = _respond(rng, fw, prof, prac_theta, prac_items, 0.01, 0.01)
    rated = rng.random(n) < 0.45
    setting = rng.integers(1, 121, n)
    rated_on = np.datetime64("2025-05-01") + rng.integers(0, 50, n).astype("timedelta64[D]")
    return {"codes": codes, "rated": rated, "setting": setting, "rated_on": rated_on}


def _later_outcome(n, rng, fw, prof: Profile, v, eyfsp, voice_effect) -> np.ndarray:
    """Year 1 phonics pass: routine predictors plus ``voice_effect`` x the voice latents (logistic)."""
    asq_for_outcome = np.where(v["has_asq"], v["asq_total"], _ASQ_CENTRE)
    ob, send, sex = _OUTCOME_BASE, v["send"], v["sex"]
    _, lighter, heavier = prof.names.needs
    lin = (ob["intercept"] + ob["gld"] * eyfsp["gld"].to_numpy() + ob["free_meals"] * v["fsm"]
           + ob["additional_language"] * v["eal"]
           + ob["lighter_need"] * (send == lighter) + ob["heavier_need"] * (send == heavier)
           + ob["other_sex"] * (sex == prof.names.sex[1]) + ob["summer_birth"] * v["summer_born"]
           + ob["asq_total_per_point"] * (asq_for_outcome - _ASQ_CENTRE))
    lin = lin + voice_effect * sum(prof.domains[d.id].later_outcome * v["theta"][d.id] for d in fw.domains)
    return (rng.random(n) < _expit(lin)).astype(int)


def _voice_columns(table, pid: str) -> dict[str, str | None]:
    """The parts of a declared voice table's columns: its response id (a key column other than the person id), its
    form-language column (``values_from: languages``), its date, and its first other column (a rater's id)."""
    if table is None:
        return {"response": None, "form": None, "date": None, "other": None}
    names = [c.name for c in table.columns]
    response = next((k for k in table.key if k != pid), None)
    form = next((c.name for c in table.columns if c.values_from == "languages"), None)
    other = next((c for c in names if c not in (pid, response, form, table.date)), None)
    return {"response": response, "form": form, "date": table.date, "other": other}


def _in_declared_order(table, known: dict, n: int, fw, extra: dict | None = None,
                       keep: set | None = None) -> pd.DataFrame:
    """A table in its declared column order: the ``known`` columns, and any other declared column drawn evenly from
    its declared values (synth/declared.py's draw; a stream of its own, so the model's draws do not move); then the
    ``extra`` columns (a voice table's items). ``keep``: the only columns drawn (others hold ``_placeholder``)."""
    from measurekit.synth.declared import _generic

    cols: dict = {}
    for col in (table.columns if table is not None else []):
        if col.name in known:
            cols[col.name] = known[col.name]
        elif keep is not None and col.name not in keep:
            cols[col.name] = _placeholder(n)
        else:
            rng = np.random.default_rng([zlib.crc32(f"{table.name}.{col.name}".encode()), n])
            cols[col.name] = _generic(col, n, rng, fw)
    for name, values in known.items():   # a column the table does not declare (the person id of a built-in kind)
        cols.setdefault(name, values)
    cols.update(extra or {})             # made in one go (an extra with a column's name replaces it in place)
    return pd.DataFrame(cols)


def _tables(child_id, v, eyfsp, parent_codes, prac, phonics, prof: Profile,
            keep: set | None = None) -> dict[str, pd.DataFrame]:
    """The tables an LA would hold, from the drawn quantities, under the names the framework declares (the
    population table, its lookup, the EYFSP and ASQ-3 tables, the first voice table, a rater's voice table, the
    follow-up outcome's table, and any other routine table, drawn evenly).

    ``keep`` (None: every column): the names of the only columns whose values are wanted; every other column of
    the tables ``Cohort.analysis_frame`` joins is there under its name holding ``_placeholder`` zeros (so the joined
    frame has the same columns, and what is read from it the same values), and a rater's voice table, which it
    does not join, is not made. The population truth's draw reads a few columns of 200,000 people."""
    names = prof.names
    fw = names.framework
    pid, n = names.id, len(child_id)
    table = fw.table

    def col(name, make, k=n):
        return make() if keep is None or name in keep else _placeholder(k)

    people = {pid: child_id,
              names.area: col(names.area, lambda: _strings([a.name for a in prof.areas], v["nb_idx"]))}
    if names.birth_date:
        people[names.birth_date] = col(names.birth_date, lambda: _day_strings(v["dob"]))
    if names.small_area:
        people[names.small_area] = col(names.small_area, lambda: _column(v, "small_area"))
    people.update({c: col(c, lambda part=part: _column(v, _DRAWN[part]))
                   for part, c in names.columns.items() if part in _DRAWN})
    out = {names.population: _in_declared_order(table(names.population), people, n, fw, keep=keep)}
    if names.lookup:
        rows = v["area_rows"]
        lookup = {col: [r[key] for r in rows] for col, key in
                  ((names.small_area, "small_area"), (names.small_area_name, "small_area_name"),
                   (names.area_code, "neighbourhood_code"), (names.area, "neighbourhood")) if col}
        out[names.lookup] = _in_declared_order(table(names.lookup), lookup, len(rows), fw)
    if names.eyfsp:
        eyfsp.insert(0, pid, child_id)
        out[names.eyfsp] = eyfsp
    if names.asq:
        has = v["has_asq"]     # the children with an ASQ-3, picked before the columns become a frame
        k = int(np.count_nonzero(has))
        asq = {c: col(c, lambda c=c, a=a: _column({"codes": v["codes"], c: a}, c, has), k)
               for c, a in v["asq"].items()}
        out[names.asq] = pd.DataFrame({pid: child_id[has], **asq})
    # each voice table: the rows of the children who answered, picked before the columns are made
    if names.voice is not None:
        c = _voice_columns(names.voice, pid)
        rows = v["responded"]
        k = int(np.count_nonzero(rows))
        answers = {pid: child_id[rows]}
        if c["form"]:
            answers[c["form"]] = col(c["form"], lambda: _column(v, "form_lang", rows), k)
        if c["date"]:
            answers[c["date"]] = col(c["date"], lambda: _day_strings(v["completed"][rows]), k)
        codes = {i: col(i, lambda x=x: _whole_numbers(x[rows]), k) for i, x in parent_codes.items()}
        if c["response"]:
            answers[c["response"]] = col(c["response"], lambda: _id_strings("R", np.arange(1, k + 1), 5), k)
        out[names.voice.name] = _in_declared_order(names.voice, answers, k, fw, codes, keep)
    if names.rater_voice is not None and keep is None:
        c = _voice_columns(names.rater_voice, pid)
        rows = prac["rated"]
        answers = {pid: child_id[rows]}
        if c["other"]:
            prefix = c["other"][:2].upper()
            setting = prac["setting"][rows]     # whole numbers from 1: each code written once, then picked
            pool = np.char.add(prefix, np.char.zfill(np.arange(int(setting.max(initial=0)) + 1).astype(str), 3))
            answers[c["other"]] = _strings(pool.tolist(), setting)
        if c["date"]:
            answers[c["date"]] = _day_strings(prac["rated_on"][rows])
        out[names.rater_voice.name] = _in_declared_order(
            names.rater_voice, answers, int(np.count_nonzero(rows)), fw,
            {i: _whole_numbers(x[rows]) for i, x in prac["codes"].items()})
    if names.outcome_table:
        out[names.outcome_table] = _in_declared_order(table(names.outcome_table),
                                                      {pid: child_id, names.column("follow_up_outcome"): phonics},
                                                      n, fw, keep=keep)
    made = {*out, *(t.name for t in (names.voice, names.rater_voice, names.retest) if t is not None)}
    for t in fw.tables:   # a routine table the model does not make: one row per person, drawn evenly
        if t.name not in made and t.kind == "routine":
            out[t.name] = _in_declared_order(t, {pid: child_id}, n, fw, keep=keep)
    return out


def _norm_cdf(x):
    from scipy.special import ndtr

    return ndtr(x)


def _alpha_pairwise(block: pd.DataFrame) -> float:
    cov = block.cov().to_numpy()
    k = cov.shape[0]
    return float(k / (k - 1) * (1 - np.trace(cov) / cov.sum()))


_TRUTH_MEMO: dict = {}     # (framework folder, voice effect, n) -> population truth, the last 8 of this process


def _population_truth(framework_dir: str, voice_effect: float, n: int = 200_000, fw=None) -> dict:
    """Population quantities from a very large draw with a fixed seed (cached per process, and between processes
    by ``synth/truth_cache.py``: the same values, read back instead of drawn again). ``fw``: the framework as just
    loaded from ``framework_dir`` by the caller (not loaded again for the draw); None loads it."""
    from measurekit.synth.truth_cache import cached

    key = (framework_dir, voice_effect, n)
    if key not in _TRUTH_MEMO:
        value = cached("population_truth", framework_dir, {"voice_effect": voice_effect, "n": n},
                       lambda: _draw_population_truth(framework_dir, voice_effect, n, fw))
        while len(_TRUTH_MEMO) >= 8:
            _TRUTH_MEMO.pop(next(iter(_TRUTH_MEMO)))
        _TRUTH_MEMO[key] = value
    return _TRUTH_MEMO[key]


def _draw_population_truth(framework_dir: str, voice_effect: float, n: int, fw=None) -> dict:
    """The population quantities of ``_population_truth``, drawn (from ``fw`` when given: the framework loaded from
    ``framework_dir``)."""
    from measurekit.stats._numerics.logistic import add_intercept, auc, fit_logistic
    from measurekit.stats.scoring import score

    fw = _framework(framework_dir) if fw is None else fw
    names: Names = load_profile(fw).names
    outcome = names.column("follow_up_outcome")
    base_cols = [c for c in (names.column("free_meals"), names.column("additional_language"),
                             names.column("summer_birth"), "asq_total", "gld") if c]
    needs, sex = names.column("special_needs"), names.column("recorded_sex")
    # the columns read below: the items, the model's columns (and a column named as a score would be, which would
    # be joined with the scores as before); the tables hold values only in these and in the ones the analysis
    # frame joins by or computes from (``_tables``' keep: the others are there, named, holding zeros)
    read = {i.id for i in fw.items} | set(base_cols) | {needs, sex, outcome}
    read |= {c for d in fw.domains for c in (d.score_column, f"n_answered_{d.id}")}
    joined_by = {names.small_area, names.voice.date if names.voice is not None else None}   # (and the id)
    keep = read | joined_by | {f"asq_{d}" for d in ASQ_DOMAINS}
    sim = _simulate(n, np.random.default_rng(20250601), fw, voice_effect, keep)
    frame = Cohort(sim["tables"], framework=fw).analysis_frame()
    # the responders' rows of the columns read, picked at once rather than every column's rows and then the few
    resp = frame.loc[frame["responded"].to_numpy() == 1, frame.columns.isin(list(read))]
    del frame
    sim["tables"] = {}      # read: their memory is free for what follows (fewer fresh pages to touch)
    from measurekit.stats.scoring import item_values

    values = item_values(resp, framework=fw, respondent=names.respondent)
    reliability = {d.id: _alpha_pairwise(values[[i.id for i in fw.items_in(d.id, names.respondent)]])
                   for d in fw.domains}
    retest = _population_retest(sim, fw)
    if outcome is None:    # no column plays the later outcome: no gain in AUC to compute
        return {"true_reliability": reliability, "auc_base": None, "auc_full": None, "population_delta_auc": None,
                "n_population": n, **retest}
    scores = score(resp, framework=fw, respondent=names.respondent)
    data = pd.concat([resp, scores], axis=1)
    new_cols = [d.score_column for d in fw.domains]
    data = data.dropna(subset=base_cols + new_cols + [outcome])
    Xb: pd.DataFrame = pd.concat([data[base_cols].astype(float)]
                   + ([pd.get_dummies(data[needs], prefix=needs, drop_first=True, dtype=float)] if needs else [])
                   + ([(data[sex] == names.sex[1]).astype(float).rename("other_sex")] if sex else []), axis=1)
    Xf = pd.concat([Xb, data[new_cols].astype(float)], axis=1)
    y = data[outcome].to_numpy()
    aucs = []
    for X in (Xb, Xf):
        design = add_intercept(X.to_numpy())
        aucs.append(auc(y, design @ fit_logistic(design, y).coef))
    return {"true_reliability": reliability, "auc_base": float(aucs[0]), "auc_full": float(aucs[1]),
            "population_delta_auc": float(aucs[1] - aucs[0]), "n_population": n, **retest}


def _population_retest(sim, fw) -> dict:
    """ICC(2,1) of each domain score and item between first answers and a retest of every responder."""
    from measurekit.stats.retest import icc_table
    from measurekit.stats.scoring import item_values, score

    idx = np.flatnonzero(sim["responded"])
    first = pd.DataFrame({i: x[idx] for i, x in sim["answers"].items()})     # all_answers' rows of responders
    second = pd.DataFrame(_retest_answers(np.random.default_rng(20250602), fw, sim, idx))
    who = sim["profile"].names.respondent
    s1, s2 = score(first, framework=fw, respondent=who), score(second, framework=fw, respondent=who)
    v1, v2 = item_values(first, framework=fw, respondent=who), item_values(second, framework=fw, respondent=who)

    def icc2(a, b):
        return float(icc_table(np.column_stack([a, b])).set_index("type").loc["ICC2", "estimate"])

    return {"retest_icc2": {d.id: icc2(s1[d.score_column], s2[d.score_column]) for d in fw.domains},
            "retest_icc2_items": {c: icc2(v1[c], v2[c]) for c in v1.columns}}


def make_cohort(n: int = 3000, random_state: int | None = None, *, framework=paths.BUNDLED_FRAMEWORK,
                voice_effect: float = 1.0, truth: bool = True, identifiers: bool = False) -> Cohort:
    """Generate one synthetic reception cohort of ``n`` children.

    Parameters
    ----------
    n : number of children.
    random_state : seed; the same seed gives the same cohort (and the same bytes when written).
    framework : framework folder whose items, scales and domains define the voice instrument (or the framework
        loaded from it: not loaded again).
    voice_effect : multiplies the planted effect of the voice domains on the later outcome
        (0 = no effect beyond the routine predictors, for checking false-positive rates).
    truth : compute the population quantities of the ground truth (true reliability and
        population delta AUC: one large simulation with a fixed seed, kept per process and between processes by
        ``synth/truth_cache.py``, the same values read back). ``False`` skips them.
    identifiers : add legal names, postcodes and settings to ``children`` and a ``survey_responses`` table with
        identifiers as families give them (``measurekit.synth.identifiers``); other tables unchanged.

    A framework that declares its own tables (no EYFSP; ``synth.declared.uses_declared``) gets the cohort of
    ``synth.declared.make_declared_cohort`` (its planted truth always made; ``voice_effect`` and ``identifiers``
    are options of this generator only).
    """
    from measurekit.synth.declared import make_declared_cohort, uses_declared

    fw = _framework(framework)
    if uses_declared(fw):
        if identifiers or voice_effect != 1.0:
            from measurekit.problems import InputError

            option = "identifiers" if identifiers else "voice_effect"
            raise InputError.of("bad_option", f"{option} is an option of the school-readiness generator; this "
                                "framework's data are made from its declared tables (synthetic.yaml).", column=option)
        return make_declared_cohort(n, random_state, framework=fw)
    if n < 50:
        from measurekit.problems import InputError

        raise InputError.of("bad_option", f"make_cohort needs n >= 50 children, not {n}.", column="n", value=str(n))
    if fw.population is None or not any(t.kind == "voice" and not t.retest for t in fw.tables):
        from measurekit.problems import InputError

        raise InputError.of("no_tables_declared", f"{fw.name or 'This framework'} declares no population or no voice "
                            "table, so there is nothing to synthesise. Declare `population:` and `tables:` (with a "
                            "table of kind voice) in framework.yaml.", file="framework.yaml", column="tables")
    seeds = np.random.SeedSequence(random_state)
    sim = _simulate(int(n), np.random.default_rng(seeds), fw, float(voice_effect))
    # the retest, panel and interviews come from a child stream: the cohort's own tables do not change
    extra = _codesign(np.random.default_rng(seeds.spawn(1)[0]), fw, sim)
    cohort = Cohort({**sim["tables"], **extra["tables"]}, framework=fw)
    cohort.ground_truth = _ground_truth(sim, fw, n, random_state, voice_effect, framework if truth else None)
    cohort.ground_truth.update(extra["truth"])
    if truth:
        pop = _population_truth(_folder(framework, fw)[0], float(voice_effect))    # read back: drawn above
        cohort.ground_truth["retest"].update(population_icc2=pop["retest_icc2"],
                                             population_icc2_items=pop["retest_icc2_items"])
    if identifiers:
        from measurekit.synth.identifiers import add_identifiers

        cohort = add_identifiers(cohort, random_state)
    return cohort


def _retest_answers(rng, fw, sim, idx) -> dict:
    """Second answers of the children ``idx``: domain latents ``stability x first + fresh part``, fresh unique parts."""
    st = _RETEST["stability"]
    theta2 = {d: st * t[idx] + np.sqrt(1 - st ** 2) * rng.normal(size=len(idx)) for d, t in sim["theta"].items()}
    shift = {k: v[idx] for k, v in sim["dif_shift"].items()}
    items = [i for i in fw.items if sim["profile"].names.respondent in i.respondents]
    return _respond(rng, fw, sim["profile"], theta2, items, _P_DONT_KNOW, _P_ITEM_MISSING, shift)


def _codesign(rng, fw, sim) -> dict:
    """The retest subsample, the content validity panel's ratings and the cognitive-interview log."""
    panel, interviews, names = sim["profile"].panel, sim["profile"].interviews, sim["profile"].names
    retest = _retest_table(rng, fw, sim)    # drawn whether or not the framework declares a retest table
    tables = {names.retest.name: retest} if names.retest is not None else {}
    tables.update({"panel_ratings": _panel_ratings(rng, fw, sim["profile"]),
                   "cognitive_interviews": _interview_log(rng, fw, interviews, names.respondent)})
    planted = panel["relevance"] | panel["clarity"]
    n_raters = sum(panel["raters"].values())
    truth = {
        "retest": dict(_RETEST, n=int(len(retest)), days=list(_RETEST["days"]),
                       description="A random sample of responders answered again 14-28 days later; domain latents "
                                   "at retest = stability x first + sqrt(1 - stability^2) x fresh normal; "
                                   "population_icc2 is ICC(2,1) of each domain score among all responders of a "
                                   "very large draw."),
        "content_validity": {
            "raters": panel["raters"], "p_relevant": panel["p_relevant"], "p_clear": panel["p_clear"],
            "planted_relevance": panel["relevance"], "planted_clarity": panel["clarity"],
            "flagged": sorted(planted),
            "flagged_by_group": {
                "all": sorted(k for k, v in planted.items() if sum(v.values()) / n_raters < 0.6),
                **{g: sorted(k for k, v in planted.items() if v[g] / panel["raters"][g] < 0.6)
                   for g in panel["raters"]}},
            "description": panel["description"]},
        "interviews": {"per_item": interviews["per_item"], "p_noise": interviews["p_noise"],
                       "planted": {k: {"problem_type": v["problem_type"], "p": v["p"], "languages": v["languages"]}
                                   for k, v in interviews["planted"].items()},
                       "flagged": sorted(interviews["planted"])},
    }
    return {"tables": tables, "truth": truth}


def _retest_table(rng, fw, sim) -> pd.DataFrame:
    """The second answers of a random sample of responders, under the retest table's declared names (the first
    voice table's where the framework declares no retest table)."""
    names: Names = sim["profile"].names
    was = _voice_columns(names.voice, names.id)
    voice = sim["tables"][names.voice.name]
    responders = np.flatnonzero(sim["responded"])
    k = min(len(responders), max(_RETEST["min_n"], int(round(_RETEST["share"] * len(sim["responded"])))))
    pick = np.sort(rng.choice(len(responders), size=k, replace=False))
    codes = _retest_answers(rng, fw, sim, responders[pick])
    first = voice.iloc[pick]
    lo, hi = _RETEST["days"]
    first_on = (first[was["date"]].to_numpy().astype("datetime64[D]") if was["date"]
                else np.full(k, np.datetime64("2025-03-03")))
    second_on = first_on + rng.integers(lo, hi + 1, k).astype("timedelta64[D]")
    decl = names.retest if names.retest is not None else names.voice
    now = _voice_columns(decl, names.id)
    known = {names.id: first[names.id].to_numpy()}
    if now["form"]:
        known[now["form"]] = (first[was["form"]].to_numpy() if was["form"]
                              else np.full(k, names.source_language, dtype=object))
    if now["date"]:
        known[now["date"]] = np.datetime_as_string(second_on, unit="D")
    return _in_declared_order(decl, known, k, fw, {i: pd.array(np.where(np.isnan(c), np.nan, c), dtype="Int64")
                                                   for i, c in codes.items()})


def _panel_ratings(rng, fw, prof: Profile) -> pd.DataFrame:
    """Relevance and clarity ratings (1-4) of every item by the panel, planted items with fixed counts of 3-4."""
    panel = prof.panel
    raters = [(f"{g[:2].upper()}{k:02d}", g) for g, m in panel["raters"].items() for k in range(1, m + 1)]
    groups = np.array([g for _, g in raters])

    def ratings(planted, p):
        ok = rng.random(len(raters)) < p
        for g, count in (planted or {}).items():
            members = np.flatnonzero(groups == g)
            ok[members] = False
            ok[rng.choice(members, size=count, replace=False)] = True
        high = rng.random(len(raters)) < 0.6       # 4 rather than 3; 2 rather than 1
        return np.where(ok, np.where(high, 4, 3), np.where(high, 2, 1))

    rows = []
    for item in fw.items:
        rel = ratings(panel["relevance"].get(item.id), panel["p_relevant"])
        cla = ratings(panel["clarity"].get(item.id), panel["p_clear"])
        on_relevance, on_clarity = prof.panel_comment(item.id, "relevance"), prof.panel_comment(item.id, "clarity")
        for k, (rater, group) in enumerate(raters):
            comment = ""
            if rel[k] <= 2 and on_relevance is not None:
                comment = on_relevance
            elif cla[k] <= 2 and on_clarity is not None:
                comment = on_clarity
            rows.append({"rater": rater, "rater_group": group, "item": item.id, "relevance": int(rel[k]),
                         "clarity": int(cla[k]), "comment": comment})
    return pd.DataFrame(rows)


def _interview_log(rng, fw, plan_of: dict, respondent: str) -> pd.DataFrame:
    """Six cognitive interviews per item: planted problems recur on their items, other problems are one-offs."""
    from measurekit.design.interviews import PROBLEM_TYPES

    langs, weights = list(plan_of["languages"]), np.array(list(plan_of["languages"].values()))
    start = np.datetime64(plan_of["start"])
    other_types = [t for t in PROBLEM_TYPES if t != "none"]
    rows, participant = [], 0
    cum = np.cumsum(weights / weights.sum())     # the languages' cumulative weights
    for item in fw.items:
        plan = plan_of["planted"].get(item.id)
        pool = plan["languages"] if plan and plan["languages"] else None
        for k in range(plan_of["per_item"]):
            participant += 1
            if pool and k < len(pool):
                lang = pool[k]
            else:
                lang = langs[int(np.searchsorted(cum, rng.random()))]
            problem, understood, change = "none", "Understood as intended.", ""
            u = rng.random()
            if plan and u < plan["p"] and (pool is None or lang in pool):
                problem, understood = plan["problem_type"], plan["understood"]
            elif not plan and u < plan_of["p_noise"]:
                problem = other_types[int(rng.integers(len(other_types)))]
                understood = "Hesitated; answered after the question was read again."
            rows.append({"item": item.id, "date": str(start + int(rng.integers(0, 21))), "language": lang,
                         "participant_group": f"{respondent} (outreach)" if rng.random() < 0.6
                         else f"{respondent} (panel)",
                         "participant": f"CI{participant:03d}", "probe": _PROBES[k % len(_PROBES)],
                         "understood": understood, "problem_type": problem, "change_made": change})
        if plan:   # the change was made once, after the round: recorded on the item's last problem interview
            last = max((j for j in range(len(rows)) if rows[j]["item"] == item.id
                        and rows[j]["problem_type"] == plan["problem_type"]), default=None)
            if last is not None:
                rows[last]["change_made"] = plan["change_made"]
    return pd.DataFrame(rows, columns=["item", "date", "language", "participant_group", "participant", "probe",
                                       "understood", "problem_type", "change_made"])


def _ground_truth(sim, fw, n, seed, voice_effect, framework) -> dict:
    from measurekit.stats.scoring import score

    prof = sim["profile"]
    names: Names = prof.names
    people = sim["tables"][names.population]
    who = names.respondent
    domains = [d.id for d in fw.domains]
    folder, loaded = _folder(framework, fw) if framework is not None else (None, None)
    pop = _population_truth(folder, float(voice_effect), fw=loaded) if folder is not None else {}
    theta = np.column_stack([sim["theta"][d] for d in domains])
    full_scores = score(sim["all_answers"], framework=fw, respondent=who)
    full_scores["__area"] = people[names.area].to_numpy()
    full_means = full_scores.groupby("__area")[[f"voice_{d}" for d in domains]].mean()
    ids = people[names.id].tolist()     # Python values, as iterating the column gives them
    # the parts of the model under their columns' names (the part's own name where no column plays it)
    fsm, eal, mobility = names.key("free_meals"), names.key("additional_language"), names.key("moved_home")
    needs, sex = names.key("special_needs"), names.key("recorded_sex")
    base = {"intercept": _OUTCOME_BASE["intercept"], "gld": _OUTCOME_BASE["gld"], fsm: _OUTCOME_BASE["free_meals"],
            eal: _OUTCOME_BASE["additional_language"], f"{needs}_{names.needs[1]}": _OUTCOME_BASE["lighter_need"],
            f"{needs}_{names.needs[2]}": _OUTCOME_BASE["heavier_need"],
            f"{sex}_{names.sex[1]}": _OUTCOME_BASE["other_sex"],
            names.key("summer_birth"): _OUTCOME_BASE["summer_birth"],
            "asq_total_per_point": _OUTCOME_BASE["asq_total_per_point"]}
    seldom = {"deprivation": _SELDOM["deprivation"], eal: _SELDOM["additional_language"],
              mobility: _SELDOM["moved_home"], "noise_sd": _SELDOM["noise_sd"], "centre": _SELDOM["centre"]}
    truth = {
        "seed": seed, "n": int(n), "voice_effect": float(voice_effect),
        "framework": fw.name,   # the framework the voice answers were made for (``--framework`` of later steps)
        "n_factors": len(domains),
        "domains": {
            d: {"items": [i.id for i in fw.items_in(d, who)],
                "loadings": {i.id: prof.loading(d, k) for k, i in enumerate(fw.items_in(d, respondent=None))
                             if who in i.respondents},
                "reverse_keyed": [i.id for i in fw.items_in(d, who) if i.reverse],
                "true_reliability": pop.get("true_reliability", {}).get(d)}
            for d in domains},
        "factor_correlations": {"domains": domains, "matrix": np.round(np.corrcoef(theta, rowvar=False), 4).tolist(),
                                "generating_residual_matrix": prof.domain_correlation.tolist()},
        "dif": dict(prof.dif) if prof.dif else None,
        "invariance": {fsm: f"no DIF or non-invariance planted by {fsm.upper()}: same loadings and thresholds in "
                            "both groups"},
        "later_outcome": {
            "outcome": names.column("follow_up_outcome"),
            "base": [fsm, needs, eal, sex, names.key("summer_birth"), "asq_total", "gld"],
            "new": [f"voice_{d}" for d in domains],
            "coefficients": {"base": base,
                             "voice_latents": {d: voice_effect * prof.domains[d].later_outcome for d in domains}},
            "asq_total_centre": _ASQ_CENTRE,
            "population_delta_auc": pop.get("population_delta_auc"),
            "population_auc_base": pop.get("auc_base"),
            "population_auc_full": pop.get("auc_full"),
        },
        "response": {
            "model": "logit P(respond) = intercept + seldom_heard * s",
            "coefficients": _RESPONSE,
            "seldom_heard": dict(seldom, formula=f"s = deprivation*dep + {eal}*{eal.upper()} + {mobility}*moved "
                                                 "+ N(0, noise_sd^2) - centre; dep is the latent behind the IDACI "
                                                 "decile"),
            "response_rate": float(np.mean(sim["responded"])),
            "propensity": {cid: round(p, 6) for cid, p in zip(ids, np.asarray(sim["propensity"], float).tolist())},
            "seldom_heard_value": {cid: round(v, 6) for cid, v in zip(ids, np.asarray(sim["s"], float).tolist())},
        },
        "full_cohort_domain_means": {nb: {k: round(float(v), 6) for k, v in row.items()}
                                     for nb, row in full_means.iterrows()},
    }
    return truth


def _ratings_schema(framework) -> dict:
    """The content-validity ratings' schema, its rater groups named as the synthesis profile's panel names them."""
    from measurekit.design.content_validity import TABLE_SCHEMA

    groups = ", ".join(load_profile(framework).panel["raters"])
    given: list[dict] = TABLE_SCHEMA["fields"]   # type: ignore[assignment]
    fields = [{**f, "description": f"Rater group ({groups}, ...)"} if f["name"] == "rater_group" else f
              for f in given]
    return {**TABLE_SCHEMA, "fields": fields, "primaryKey": ["rater", "item"]}


def _interviews_schema(framework) -> dict:
    from measurekit.design.interviews import TABLE_SCHEMA

    return {**TABLE_SCHEMA, "primaryKey": ["item", "participant"]}


def _survey_schema(framework) -> dict:
    from measurekit.synth.identifiers import survey_schema

    return survey_schema(framework)


_CODESIGN_SCHEMAS = {"panel_ratings": _ratings_schema,
                     "cognitive_interviews": _interviews_schema, "survey_responses": _survey_schema}


def write_cohort(cohort: Cohort, out_dir) -> Path:
    """Write the cohort's CSVs, a Table Schema beside each, and ground_truth.json (atomically)."""
    from measurekit.core import atomic
    from measurekit.data.schemas import table_schema

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in cohort.tables.items():
        atomic.write_csv(out_dir / f"{name}.csv", frame)
        schema = (_CODESIGN_SCHEMAS[name](cohort.framework) if name in _CODESIGN_SCHEMAS
                  else table_schema(name, cohort.framework))
        atomic.write_text(out_dir / f"{name}.schema.json", json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    from measurekit.data.schemas import data_dictionary_markdown

    readme = load_profile(cohort.framework).readme
    atomic.write_text(out_dir / "README.md", readme + "\n" + data_dictionary_markdown(cohort.framework))
    if cohort.ground_truth is not None:
        atomic.write_text(out_dir / "ground_truth.json",
                          json.dumps(cohort.ground_truth, indent=1, sort_keys=True) + "\n")
    return out_dir

