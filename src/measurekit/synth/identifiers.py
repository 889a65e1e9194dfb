"""Synthetic identifiers: legal names in the records, and the names, dates and postcodes families give.

``add_identifiers(cohort, random_state)`` returns a copy of a synthetic cohort whose population table (the framework's
``children`` table, or whatever it names; its columns are read from the framework's declared names) also holds
legal ``first_name``, ``last_name``, a ``postcode`` and an early-years ``setting`` (with twins and siblings in the
same household), plus a ``survey_responses`` table: the responses of the framework's first voice table as a council
would receive them, with no
reliable ``child_id`` but the child's identifiers as the family gave them. ``ground_truth["linkage"]`` keeps the
true child of every response (None for a child who is not in the records), the rates below and counts of what
was planted, so linkage quality is measurable. The cohort's other tables are not changed.

Names come from the generic list in package data ``identifier_names.json`` (given names by sex and family names,
keyed by home language); the variants families use come from ``name_variants.json``. Postcodes are made up in
the area ``ZZ``, which no real UK postcode uses: district ``ZZ<k>`` per neighbourhood, sector per small area.

The rates (``RATES``, each the chance per response unless it says otherwise):

=========================  =====  ================================================================================
first_variant              0.15   first name given as a known variant (nickname, diminutive, other transliteration)
last_variant               0.06   family name given as a known variant
translit                   0.15   a name of a home language written in another script (``scripts:`` of the
                                  framework's synthetic.yaml, e.g. Urdu: Arab; Latn when not named) spelt another
                                  way by rule (vowels a/u/o, ee/i, oo/u, doubled consonants, h after a consonant):
                                  applied to first and family name separately
diacritics                 0.50   names of a name list with accents (package data) given without them
typo_first, typo_last      0.03   one keyboard slip (a letter changed, dropped, doubled or two swapped)
name_order                 0.02   first and family names given the other way round
first_missing              0.01   first name left blank (family name blank: 0.02)
dob_swapped                0.05   day and month swapped (only where the day is 12 or less)
dob_typo                   0.02   the day off by one, or the year off by one
dob_missing                0.03   date of birth left blank
moved                      0.05   old postcode given (plus 0.20 when the child's record flags mobility)
postcode_typo              0.02   one character of the postcode wrong
postcode_missing           0.05   postcode left blank
setting_missing            0.30   setting left blank (a wrong setting: 0.05)
id_given                   0.20   the child's record id given (forms sent out by settings), so exact linkage works;
                                  a wrong id (not in the records) 0.01 of those
not_in_records             0.02   extra responses about children who are not in the records (moved in later)
twins                      0.015  of children are in a twin pair (same date of birth, family name and postcode)
siblings                   0.02   of children share a household (family name, postcode) with another child
=========================  =====  ================================================================================
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from measurekit.data.linkage_names import name_lists

RATES = {"first_variant": 0.15, "last_variant": 0.06, "translit": 0.15, "diacritics": 0.50, "typo_first": 0.03,
         "typo_last": 0.03, "name_order": 0.02, "first_missing": 0.01, "last_missing": 0.02, "dob_swapped": 0.05,
         "dob_typo": 0.02, "dob_missing": 0.03, "moved": 0.05, "moved_if_mobile": 0.20, "postcode_typo": 0.02,
         "postcode_missing": 0.05, "setting_missing": 0.30, "setting_wrong": 0.05, "id_given": 0.20,
         "id_wrong": 0.01, "not_in_records": 0.02, "twins": 0.015, "siblings": 0.02}
IDENTIFIER_COLUMNS = ("first_name", "last_name", "date_of_birth", "postcode", "setting")
_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))   # the letters UK postcodes use in the inward code


def _names_for(languages: np.ndarray, sex: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    lists = name_lists()
    first = np.empty(len(languages), dtype=object)
    last = np.empty(len(languages), dtype=object)
    for lang in pd.unique(languages):
        names = lists.get(lang, lists["Other"])
        m = languages == lang
        for s in ("F", "M"):
            ms = m & (sex == s)
            first[ms] = np.array(names[s], dtype=object)[rng.integers(0, len(names[s]), ms.sum())]
        last[m] = np.array(names["surname"], dtype=object)[rng.integers(0, len(names["surname"]), m.sum())]
    return first, last


def _postcodes(district: np.ndarray, sector: np.ndarray, rng) -> np.ndarray:
    units = _LETTERS[rng.integers(0, len(_LETTERS), (len(district), 2))]
    return np.array([f"ZZ{d} {s}{u[0]}{u[1]}" for d, s, u in zip(district, sector, units)], dtype=object)


def legal_identifiers(children: pd.DataFrame, rng, rates=None) -> pd.DataFrame:
    """``children`` with legal ``first_name``, ``last_name``, ``postcode`` and ``setting`` added, and twins and
    siblings planted (a twin takes the date of birth, family name and postcode of the other; a sibling the family
    name and postcode). Needs ``child_id``, ``sex``, ``date_of_birth``, ``home_language``, ``small_area`` and
    ``neighbourhood``. Returns a new frame; ``children`` is not changed."""
    r = {**RATES, **(rates or {})}
    out = children.copy()
    n = len(out)
    lang = out["home_language"].astype(str).to_numpy()
    first, last = _names_for(lang, out["sex"].astype(str).to_numpy(), rng)
    nb_codes, _ = pd.factorize(out["neighbourhood"].astype(str), sort=True)
    area_codes, _ = pd.factorize(out["small_area"].astype(str), sort=True)
    district = nb_codes + 1
    sector = area_codes % 10
    postcode = _postcodes(district, sector, rng)
    setting = np.array([f"S{a:03d}{k}" for a, k in zip(area_codes, rng.integers(0, 3, n))], dtype=object)
    dob = out["date_of_birth"].astype(str).to_numpy().copy()
    # households: pairs of children in the same small area and home language (twins: same month of birth too)
    twin_of = np.full(n, -1)
    order = np.lexsort((rng.random(n), [d[:7] for d in dob], lang, area_codes))
    used = np.zeros(n, bool)
    planted = {"twin_pairs": 0, "sibling_pairs": 0}
    for kind, share in (("twin", r["twins"]), ("sibling", r["siblings"])):
        want = int(round(share * n / 2))
        starts = rng.permutation(n - 1)
        for s in starts:
            if planted[f"{kind}_pairs"] >= want:
                break
            i, j = order[s], order[s + 1]
            if used[i] or used[j] or area_codes[i] != area_codes[j] or lang[i] != lang[j]:
                continue
            if kind == "twin" and dob[i][:7] != dob[j][:7]:
                continue
            used[i] = used[j] = True
            last[j], postcode[j], setting[j] = last[i], postcode[i], setting[i]
            if kind == "twin":
                dob[j] = dob[i]
                twin_of[i], twin_of[j] = j, i
                while first[j] == first[i]:
                    first[j] = _names_for(lang[j:j + 1], out["sex"].astype(str).to_numpy()[j:j + 1], rng)[0][0]
            planted[f"{kind}_pairs"] += 1
    out["date_of_birth"] = dob
    out["first_name"], out["last_name"], out["postcode"], out["setting"] = first, last, postcode, setting
    out.attrs["planted"] = planted
    return out


def _other_variant(name: str, rng) -> str:
    from measurekit.data.linkage_names import (
        normalise_name,
        variant_groups,
        variant_groups_list,
    )

    norm = normalise_name(name)
    groups = variant_groups(norm)
    if not groups:
        return name
    choices = [x for g in groups for x in variant_groups_list()[g] if x != norm]
    return str(choices[rng.integers(len(choices))]).capitalize() if choices else name


_TRANSLIT = [("u", "o"), ("o", "u"), ("ee", "i"), ("i", "ee"), ("oo", "u"), ("a", "aa"), ("aa", "a"),
             ("ai", "ay"), ("y", "i"), ("ss", "s"), ("s", "ss"), ("mm", "m"), ("m", "mm"), ("kh", "k"), ("q", "k"),
             ("h", ""), ("e", "a"), ("a", "e"), ("z", "s"), ("dd", "d")]


def _transliterate(name: str, rng) -> str:
    """Another spelling of a transliterated name, by one rule applied at one place."""
    low = name.lower()
    rules = [(a, b) for a, b in _TRANSLIT if a in low[1:]]
    if not rules:
        return name
    a, b = rules[rng.integers(len(rules))]
    places = [k for k in range(1, len(low)) if low.startswith(a, k)]
    k = places[rng.integers(len(places))]
    return (low[:k] + b + low[k + len(a):]).capitalize()


def _typo(text: str, rng) -> str:
    if len(text) < 3:
        return text
    low = text.lower()
    k = int(rng.integers(1, len(low) - 1))
    kind = rng.integers(4)
    if kind == 0:
        low = low[:k] + "abcdefghijklmnoprstuvwy"[rng.integers(23)] + low[k + 1:]
    elif kind == 1:
        low = low[:k] + low[k + 1:]
    elif kind == 2:
        low = low[:k] + low[k] + low[k:]
    else:
        low = low[:k - 1] + low[k] + low[k - 1] + low[k + 1:]
    return low.capitalize()


def _strip_accents(name: str) -> str:
    from measurekit.data.linkage_names import normalise_name

    return (normalise_name(name) or name).capitalize()


def _blank_where(mask: np.ndarray, values) -> np.ndarray:
    """``values`` as an object array with None where ``mask`` is true (``np.where(mask, None, values)``, which
    numpy's stubs do not accept)."""
    out = np.array(values, dtype=object)
    out[mask] = None
    return out


def _accented_lists() -> list[str]:
    """The name lists (package data, keyed by home language) that hold names with accents."""
    return [k for k, v in name_lists().items()
            if any(not name.isascii() for names in v.values() for name in names)]


def given_identifiers(records: pd.DataFrame, rng, rates=None, scripts: dict | None = None) -> pd.DataFrame:
    """The identifiers a family gives for each child in ``records`` (rows of the legal-identifier children frame):
    ``first_name``, ``last_name``, ``date_of_birth``, ``postcode``, ``setting`` and ``child_id`` (blank unless the
    id was given), with the errors of ``RATES``. ``scripts``: home language -> the script its names are written in
    (ISO 15924; ``Latn``, no transliteration, for a language not named)."""
    r = {**RATES, **(rates or {})}
    n = len(records)
    u = lambda: rng.random(n)  # noqa: E731 - one fresh uniform per response and error kind
    first = records["first_name"].astype(str).to_numpy().copy()
    last = records["last_name"].astype(str).to_numpy().copy()
    lang = records["home_language"].astype(str).to_numpy()
    script = np.isin(lang, [str(k) for k, v in (scripts or {}).items() if v != "Latn"])
    accents = np.isin(lang, _accented_lists())
    draws = {k: u() for k in ("fv", "lv", "ft", "lt", "dia", "typf", "typl", "order", "fm", "lm")}
    for i in range(n):
        if draws["fv"][i] < r["first_variant"]:
            first[i] = _other_variant(first[i], rng)
        if draws["lv"][i] < r["last_variant"]:
            last[i] = _other_variant(last[i], rng)
        if script[i] and draws["ft"][i] < r["translit"]:
            first[i] = _transliterate(first[i], rng)
        if script[i] and draws["lt"][i] < r["translit"]:
            last[i] = _transliterate(last[i], rng)
        if accents[i] and draws["dia"][i] < r["diacritics"]:
            first[i], last[i] = _strip_accents(first[i]), _strip_accents(last[i])
        if draws["typf"][i] < r["typo_first"]:
            first[i] = _typo(first[i], rng)
        if draws["typl"][i] < r["typo_last"]:
            last[i] = _typo(last[i], rng)
        if draws["order"][i] < r["name_order"]:
            first[i], last[i] = last[i], first[i]
    first = _blank_where(draws["fm"] < r["first_missing"], first)
    last = _blank_where(draws["lm"] < r["last_missing"], last)
    dob = records["date_of_birth"].astype(str).to_numpy().copy()
    sw, ty, mi = u(), u(), u()
    for i in range(n):
        y, m, d = dob[i].split("-")
        if sw[i] < r["dob_swapped"] and int(d) <= 12 and d != m:
            dob[i] = f"{y}-{d}-{m}"
        elif ty[i] < r["dob_typo"]:
            if rng.random() < 0.5:
                dob[i] = f"{int(y) + (1 if rng.random() < 0.5 else -1)}-{m}-{d}"
            else:
                day = int(d) + 1 if int(d) < 28 else int(d) - 1
                dob[i] = f"{y}-{m}-{day:02d}"
    dob = _blank_where(mi < r["dob_missing"], dob)
    pc = records["postcode"].astype(str).to_numpy().copy()
    mobile = records["mobility"].to_numpy() == 1 if "mobility" in records else np.zeros(n, bool)
    moved = u() < (r["moved"] + r["moved_if_mobile"] * mobile)
    if moved.any():
        district = np.array([p.split(" ")[0][2:] for p in pc[moved]])
        same = rng.random(moved.sum()) < 0.5
        other = np.where(same, district, rng.integers(1, 9, moved.sum()).astype(str))
        pc[moved] = _postcodes(other, rng.integers(0, 10, moved.sum()), rng)
    pt = u()
    for j in np.flatnonzero(pt < r["postcode_typo"]):
        chars = list(pc[j])
        k = int(rng.integers(len(chars)))
        if chars[k] != " ":
            chars[k] = str(rng.integers(10)) if chars[k].isdigit() else str(_LETTERS[rng.integers(len(_LETTERS))])
        pc[j] = "".join(chars)
    # families write postcodes in their own way: lower case, no space
    style = u()
    pc = np.array([p.lower() if s < 0.1 else (p.replace(" ", "") if s < 0.2 else p) for p, s in zip(pc, style)],
                  dtype=object)
    pc = _blank_where(u() < r["postcode_missing"], pc)
    setting = records["setting"].astype(str).to_numpy().copy()
    wrong = u() < r["setting_wrong"]
    setting[wrong] = setting[rng.permutation(n)][wrong]
    setting = _blank_where(u() < r["setting_missing"], setting)
    ids = _blank_where(~(u() < r["id_given"]), records["child_id"].astype(str).to_numpy())
    bad = (ids != None) & (u() < r["id_wrong"])  # noqa: E711 - elementwise on an object array
    ids[bad] = [f"XX{rng.integers(10**6):06d}" for _ in range(int(bad.sum()))]
    return pd.DataFrame({"child_id": ids, "first_name": first, "last_name": last, "date_of_birth": dob,
                         "postcode": pc, "setting": setting})


def _contract_frame(table: pd.DataFrame, names) -> pd.DataFrame:
    """The population table's columns the identifiers are drawn from, under the names of the functions above
    (``child_id``, ``sex``, ``date_of_birth``, ``home_language``, ``small_area``, ``neighbourhood``, ``mobility``),
    read from the framework's declared names (``names``: :class:`~measurekit.synth.profile.Names`). A part no
    column plays is neutral: every person in one home language (the generic name list) and one small area per area;
    the first names are drawn from the two lists by the sex role's reference and other value."""
    n = len(table)
    sex_col = names.column("recorded_sex")
    ref = names.sex[0]
    sex = (np.where(table[sex_col].astype(str).to_numpy() == str(ref), "F", "M") if sex_col else
           np.where(np.arange(n) % 2 == 0, "F", "M"))
    lang_col = names.column("language_at_home")
    out = pd.DataFrame({
        "child_id": table[names.id].to_numpy(),
        "sex": sex,
        "date_of_birth": table[names.birth_date].to_numpy(),
        "home_language": table[lang_col].to_numpy() if lang_col else np.full(n, "Other", dtype=object),
        "neighbourhood": table[names.area].to_numpy(),
        "small_area": table[names.small_area if names.small_area in table else names.area].to_numpy(),
    }, index=table.index)
    moved = names.column("moved_home")
    if moved and moved in table:
        out["mobility"] = table[moved].to_numpy()
    return out


def response_id(decl, pid: str) -> str:
    """The response id column of the voice table ``decl``: its declared key when that is one column other than the
    person id, else ``response_id`` (a table keyed by person and review round has no response id of its own)."""
    key = list(getattr(decl, "key", None) or [])
    return key[0] if len(key) == 1 and key[0] != pid else "response_id"


def add_identifiers(cohort, random_state=None, rates=None):
    """A copy of a synthetic ``cohort`` with legal identifiers in its population table and a ``survey_responses``
    table (see the module docstring); ``ground_truth["linkage"]`` holds the true links. The tables and columns are
    the framework's (its population table, person id, date of birth, areas, and the columns ``roles:`` of
    synthetic.yaml gives the sex, home language and moved-home parts; its ``scripts:``). ``cohort`` is not
    changed."""
    from measurekit.data.cohort import Cohort
    from measurekit.problems import InputError
    from measurekit.synth.profile import load_profile

    names = load_profile(cohort.framework).names
    if not names.birth_date or names.population not in cohort.tables:
        raise InputError.of("bad_option", "--identifiers needs a population table with a date of birth "
                            "(population: birth_date in framework.yaml).", column="--identifiers",
                            rule="population.birth_date")
    r = {**RATES, **(rates or {})}
    rng = np.random.default_rng(np.random.SeedSequence(random_state).spawn(2)[1])
    from measurekit.data.linkage_files import responses_table

    population = cohort.tables[names.population]
    pid = names.id
    legal = legal_identifiers(_contract_frame(population, names), rng, r)
    people = population.copy()
    people[names.birth_date] = legal["date_of_birth"].to_numpy()      # twins share their date of birth
    for c in ("first_name", "last_name", "postcode", "setting"):
        people[c] = legal[c].to_numpy()
    decl = responses_table(cohort.framework)
    voice = cohort.tables[decl.name]
    rid = response_id(decl, pid)
    rec = legal.set_index("child_id").loc[voice[pid]].reset_index()
    given = given_identifiers(rec, rng, r, names.scripts)
    true_child = voice[pid].astype(str).tolist()
    # people who are not in the records: fresh legal identifiers, answers of a random other response
    n_new = int(round(r["not_in_records"] * len(voice)))
    extra_answers = voice.iloc[rng.integers(0, len(voice), n_new)].reset_index(drop=True)
    if n_new:
        ghosts = legal.iloc[rng.integers(0, len(legal), n_new)].reset_index(drop=True)
        ghosts = legal_identifiers(ghosts.assign(child_id=[f"NEW{k}" for k in range(n_new)]), rng, {"twins": 0,
                                                                                                   "siblings": 0})
        dates = pd.Timestamp("2019-09-01") + pd.to_timedelta(rng.integers(0, 366, n_new), unit="D")
        ghosts["date_of_birth"] = dates.strftime("%Y-%m-%d")
        g = given_identifiers(ghosts, rng, {**r, "id_given": 0.0}, names.scripts)
        given = pd.concat([given, g], ignore_index=True)
        true_child += [None] * n_new
    given = given.rename(columns={"child_id": pid, "date_of_birth": names.birth_date})   # the framework's names
    answers = pd.concat([voice, extra_answers], ignore_index=True).drop(columns=[c for c in (rid, pid)
                                                                                 if c in voice])
    ids = [f"S{k:06d}" for k in range(1, len(given) + 1)]
    survey = pd.concat([pd.DataFrame({rid: ids}), given, answers], axis=1)
    order = rng.permutation(len(survey))          # responses arrive in no particular order
    survey = survey.iloc[order].reset_index(drop=True)
    truth = dict(zip(ids, true_child))
    tables = {**cohort.tables, names.population: people, "survey_responses": survey}
    out = Cohort(tables, dict(cohort.ground_truth or {}), cohort.framework)
    out.ground_truth["linkage"] = {"rates": r, "true_child": {k: truth[k] for k in survey[rid]},
                                   "planted": {**legal.attrs.get("planted", {}), "not_in_records": n_new,
                                               "id_given": int(given[pid].notna().sum())}}
    return out


def survey_schema(framework) -> dict:
    """Table Schema of ``survey_responses.csv``: the responses of the framework's first voice table as received,
    identifiers as given."""
    from measurekit.core import labels
    from measurekit.data.linkage_files import responses_table
    from measurekit.data.schemas import table_schema

    decl = responses_table(framework)
    voice = table_schema(decl.name, framework)
    pid = framework.population.id if getattr(framework, "population", None) is not None else "child_id"
    rid = response_id(decl, pid)
    if labels.contract_words(framework):
        who, whose, by, setting = "The child's", "Child's", "the family", "Early years setting or school code"
    else:       # the framework's people, and a setting without the early-years word
        w = labels.people_words(framework)
        who, whose, by, setting = f"The {w.person}'s", f"The {w.person}'s", "they", "Setting code"
    given = [
        {"name": pid, "type": "string", "description": f"{who} record id where {by} or a setting "
         "gave it (blank otherwise; not always right)" if by == "they" else f"{who} record id where the family or "
         "setting gave it (blank otherwise; not always right)"},
        {"name": "first_name", "type": "string", "description": f"{whose} first name as {by} gave it"},
        {"name": "last_name", "type": "string", "description": f"{whose} family name as {by} gave it"},
        {"name": getattr(framework.population, "birth_date", None) or "date_of_birth", "type": "string",
         "description": f"{whose} date of birth as given (YYYY-MM-DD; "
         "day and month may be swapped)"},
        {"name": "postcode", "type": "string", "description": "Home postcode as given (may be an old one)"},
        {"name": "setting", "type": "string", "description": f"{setting} as given"},
    ]
    first = [f for f in voice["fields"] if f["name"] == rid] or [
        {"name": rid, "type": "string", "description": "Identifier of the response as received"}]
    fields = first + given + [f for f in voice["fields"] if f["name"] not in (rid, pid)]
    return {"fields": fields, "primaryKey": [rid], "missingValues": [""]}
