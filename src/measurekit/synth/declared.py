"""Synthetic data for any framework that declares its tables, with planted truth (``measurekit synth``).

The tables, their columns and allowed values come from the framework's declaration (``population``, ``tables``);
how each column is drawn, how the perspectives rate the items at each review round, and what is planted come from
the ``synthetic.yaml`` beside ``framework.yaml`` (every key optional; neutral defaults otherwise). Frameworks with a
table of ``kind: eyfsp`` use the school-readiness generator (``synth/cohort.py``) instead; ``uses_declared`` says
which one applies.

Keys of ``synthetic.yaml`` read here:
- ``generator: declared_tables`` (optional: chosen anyway for a framework without an EYFSP table);
- ``id_prefix`` (person ids are the prefix and six digits), ``first_review`` (ISO date of round 1), ``rounds``,
  ``months_between_rounds``;
- ``areas``: ``{name, code, small_area_prefix, share, small_areas}`` (default three areas);
- ``columns``: ``<table>.<column>`` -> ``{weights: [...]}`` over its allowed values; ``{by: <column>,
  share_of_ones: {<value>: p, default: p}, blank_when: [...]}`` for a 0/1 column that depends on another;
  ``{one_when: {column, values}}`` for a 0/1 column derived from another; ``{age_from_birth: true}`` for the age in
  whole years at the last review; anything else is drawn evenly from the allowed values or range;
- ``voice``: ``form_languages`` (language -> weight), ``engaged`` (respondent -> share of people who take part
  from that perspective at all; default 1), ``response`` (respondent -> share of those with a row at each round),
  ``pool`` (column -> number of distinct codes, e.g. advisers, one per person), ``item_missing``
  (share of blank answers), ``items`` (``default`` and per item: ``mean`` at round 1, ``person_sd`` between people,
  ``noise_sd`` within a review, ``change_per_round``);
- ``plant``: ``divergence`` (list of ``{item, respondent, shift}``: that respondent rates the item ``shift`` points
  away from the others), ``missing`` (``{respondent, area, response}``: fewer rows in one area, ``response``
  replacing the per-round share among the engaged there),
  ``discordant_group`` (``{table, column, value, suitable_column, item, shift}``: people with that value all have
  ``suitable_column`` = 1 and their true state on ``item`` is ``shift`` points lower).

The model (written into ``ground_truth.json``): each person has a true state per item, ``mean + u + change x
(round - 1) (+ the group's shift)`` with ``u ~ N(0, person_sd)`` shared by the perspectives; each perspective's
rating is that plus its divergence shift and ``N(0, noise_sd)`` noise, rounded and kept within the scale.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from measurekit.data.cohort import Cohort
from measurekit.problems import InputError

PROFILE_KEYS = ("generator", "id_prefix", "first_review", "rounds", "months_between_rounds", "areas", "columns",
                "voice", "plant", "readme")
DEFAULT_ITEM = {"mean": None, "person_sd": None, "noise_sd": None, "change_per_round": 0.0}
MIN_PEOPLE = 50


def _bad(message: str, **where) -> InputError:
    return InputError.of("bad_synthetic_profile", message, title="Synthetic profile", file="synthetic.yaml", **where)


def uses_declared(framework) -> bool:
    """True when ``measurekit synth`` makes this framework's data from its declared tables (it declares tables and
    none of kind eyfsp, or its synthetic.yaml says ``generator: declared_tables``)."""
    if not getattr(framework, "tables", None) or framework.population is None:
        return False
    profile = _read_profile(framework) if framework.path is not None else {}
    return profile.get("generator") == "declared_tables" or not any(t.kind == "eyfsp" for t in framework.tables)


def load_declared_profile(framework) -> dict:
    """The framework's ``synthetic.yaml`` as a mapping ({} without one); unknown keys are ``bad_synthetic_profile``."""
    import copy

    # read afresh every call (an edited file is seen at once); parsed once per distinct text, handed out as a copy
    return copy.deepcopy(_read_profile(framework))


def _read_profile(framework) -> dict:
    """``load_declared_profile`` without the copy: the parsed mapping shared by every call with the same text, to be
    read and never changed."""
    path = Path(framework.path) / "synthetic.yaml" if framework.path is not None else None
    if path is None or not path.is_file():
        return {}
    return _parse_profile(path.read_text(encoding="utf-8"), path.name)


@functools.lru_cache(maxsize=16)
def _parse_profile(text: str, name: str) -> dict:
    """``synthetic.yaml``'s text checked (size, depth, aliases: design/loading.py ``yaml_text_ok``) and parsed;
    cached per process by its text (errors are raised, never cached)."""
    import yaml

    from measurekit.design.loading import yaml_text_ok
    from measurekit.problems import ProblemReport

    report = ProblemReport(title="Synthetic profile")
    if not yaml_text_ok(text, name, report):
        raise InputError(report)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise _bad(f"synthetic.yaml is not valid YAML: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise _bad("synthetic.yaml must hold a mapping (key: value) at the top level.")
    return data


def _check_profile(prof: dict, fw) -> None:
    """Every name the profile uses must exist in the framework (a typo would silently plant nothing)."""
    if prof.get("generator") not in (None, "declared_tables"):
        # the school-readiness generator's profile: its keys are checked by synth/profile.py
        return
    unknown = [k for k in prof if k not in PROFILE_KEYS]
    if unknown:
        raise _bad(f"synthetic.yaml has keys this generator does not read: {', '.join(map(str, unknown))}.",
                   column=str(unknown[0]), rule="keys: " + ", ".join(PROFILE_KEYS))
    tables = {t.name: t for t in fw.tables}
    for key in (prof.get("columns") or {}):
        table, _, col = str(key).partition(".")
        if table not in tables or col not in {c.name for c in tables[table].columns}:
            raise _bad(f"columns: {key!r} is not <table>.<column> of a declared table.", column=f"columns.{key}",
                       value=str(key), rule="a declared column")
    items = {i.id for i in fw.items}
    voice = prof.get("voice") or {}
    for item in (voice.get("items") or {}):
        if item != "default" and item not in items:
            raise _bad(f"voice.items names {item!r}, which is not an item of the framework.",
                       column=f"voice.items.{item}", value=str(item), rule="an item id")
    respondents = set(fw.respondents())
    plant = prof.get("plant") or {}
    for k, d in enumerate(plant.get("divergence") or []):
        if d.get("item") not in items or d.get("respondent") not in respondents:
            raise _bad(f"plant.divergence[{k}] must name an item and a respondent of the framework.",
                       column=f"plant.divergence[{k}]", value=f"{d.get('item')} / {d.get('respondent')}",
                       rule="item and respondent of the framework")
    missing = plant.get("missing")
    areas = [a.get("name") for a in prof.get("areas") or []]
    if missing and (missing.get("respondent") not in respondents or missing.get("area") not in areas):
        raise _bad("plant.missing must name a respondent of the framework and one of the profile's areas.",
                   column="plant.missing", value=f"{missing.get('respondent')} / {missing.get('area')}",
                   rule="respondent and area declared")
    group = plant.get("discordant_group")
    if group:
        t = tables.get(group.get("table"))
        cols = {c.name: c for c in t.columns} if t is not None else {}
        named = (group.get("column"), group.get("suitable_column"))
        if any(c not in cols for c in named) or group.get("item") not in items:
            raise _bad("plant.discordant_group must name a declared table, two of its columns and an item.",
                       column="plant.discordant_group", value=str(group.get("column")),
                       rule="table, column, suitable_column and item declared")
        enum = cols[group["column"]].enum
        if enum is not None and group.get("value") not in enum:
            raise _bad(f"plant.discordant_group value {group.get('value')!r} is not an allowed value of "
                       f"{group['column']}.", column="plant.discordant_group.value", value=str(group.get("value")),
                       rule="enum: " + "|".join(map(str, enum)))


def _areas(prof: dict) -> list[dict]:
    given = prof.get("areas")
    if not given:
        given = [{"name": f"Area {c}", "code": f"SYN-A0{k + 1}", "small_area_prefix": f"A{c}", "share": 1 / 3,
                  "small_areas": 4} for k, c in enumerate("ABC")]
    total = sum(float(a.get("share", 1)) for a in given)
    return [{**a, "share": float(a.get("share", 1)) / total, "small_areas": int(a.get("small_areas", 4))}
            for a in given]


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    return day.replace(year=day.year + y, month=m + 1, day=min(day.day, 28))


def _generic(col, n: int, rng: np.random.Generator, framework, spec: dict | None = None) -> np.ndarray:
    """``n`` values of a declared column: weights over its allowed values, else evenly over them or its range."""
    spec = spec or {}
    values = list(framework.languages) if col.values_from == "languages" else col.enum
    if values is not None:
        w = np.asarray(spec.get("weights") or [1.0] * len(values), dtype=float)
        if len(w) != len(values):
            raise _bad(f"columns: {col.name}: {len(w)} weights for {len(values)} allowed values.",
                       column=col.name, rule="one weight per allowed value")
        return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=w / w.sum())]
    if col.type in ("integer", "number"):
        lo = col.minimum if col.minimum is not None else 0
        hi = col.maximum if col.maximum is not None else lo + 100
        if col.type == "integer":
            return rng.integers(int(lo), int(hi) + 1, size=n).astype(object)
        return np.round(rng.uniform(lo, hi, size=n), 2).astype(object)
    if col.type == "date":
        start = dt.date(2024, 1, 1)
        return np.asarray([(start + dt.timedelta(days=int(d))).isoformat() for d in rng.integers(0, 365, size=n)],
                          dtype=object)
    return np.asarray([f"{col.name.upper()[:3]}{k:05d}" for k in rng.integers(1, 99_999, size=n)], dtype=object)


def make_declared_cohort(n: int = 500, random_state: int | None = None, *, framework, first_review=None,
                         rounds: int | None = None, id_start: int = 1, shift: dict | None = None,
                         years_to_latest: int = 0) -> Cohort:
    """A synthetic cohort of ``n`` people for a framework that declares its tables (see the module docstring).

    Returns a ``Cohort`` whose tables are the declared ones (the routine tables one row per person; each voice
    table one row per person and review round answered; retest tables are not made) and whose ``ground_truth``
    holds what was planted. The same seed gives the same tables.

    For one period of several (``synth.over_time.make_declared_periods``): ``first_review`` (an ISO date) and
    ``rounds`` replace the profile's, ``id_start`` numbers the people from there (so periods hold different people),
    and ``shift`` (item id -> area name -> points) moves the true state of everyone in that area on that item, and
    ``years_to_latest`` (how many years before the latest period this one is) makes its people that much younger
    (validation checks ages against today's date, so every period of a data set stays valid as long as its latest
    does); left out, the data are those of a single year, byte for byte."""
    from measurekit.design.choose import choose_framework

    fw = choose_framework(framework)
    if fw.population is None or not fw.tables:
        raise InputError.of("no_tables_declared", f"{fw.name or 'This framework'} declares no data tables, so there "
                            "is nothing to synthesise. Declare `population:` and `tables:` in framework.yaml.",
                            file="framework.yaml", column="tables")
    if n < MIN_PEOPLE:
        raise InputError.of("bad_option", f"synth needs n >= {MIN_PEOPLE} people, not {n}.", column="n", value=str(n))
    built_in = [t.name for t in fw.tables if t.kind in ("eyfsp", "asq")]
    if built_in:
        raise _bad(f"The declared-table generator does not make national datasets ({', '.join(built_in)}); "
                   "frameworks with an EYFSP table use the school-readiness generator.", value=built_in[0])
    prof = load_declared_profile(fw)
    _check_profile(prof, fw)
    rng = np.random.default_rng(np.random.SeedSequence(random_state))
    pop = fw.population
    areas = _areas(prof)
    rounds = int(rounds if rounds is not None else prof.get("rounds", 3))
    months = int(prof.get("months_between_rounds", 6))
    first = dt.date.fromisoformat(str(first_review if first_review is not None
                                      else prof.get("first_review", "2024-04-01")))
    last = _add_months(first, months * (rounds - 1))
    colspec = prof.get("columns") or {}
    tables: dict[str, pd.DataFrame] = {}

    # areas and small areas
    lookup_rows = []
    for a in areas:
        for k in range(1, a["small_areas"] + 1):
            lookup_rows.append({"code": f"SYN-{a['small_area_prefix']}{k:02d}", "name": f"{a['name']} {k}",
                                "area_code": a.get("code", f"SYN-{a['small_area_prefix']}"), "area": a["name"]})
    area_of = rng.choice(len(areas), size=n, p=[a["share"] for a in areas])
    small_of = np.asarray([f"SYN-{areas[i]['small_area_prefix']}{int(rng.integers(1, areas[i]['small_areas'] + 1)):02d}"
                           for i in area_of], dtype=object)
    area_name = np.asarray([areas[i]["name"] for i in area_of], dtype=object)
    ids = np.asarray([f"{prof.get('id_prefix', 'P')}{k:06d}" for k in range(id_start, id_start + n)], dtype=object)
    born = None
    if pop.birth_date:
        lo, hi = pop.age_years or [30, 60]
        top = max(lo + 1.0, hi - 4.0 - years_to_latest)
        age_days = rng.uniform((lo + 1) * 365.25, top * 365.25, size=n)
        born = np.asarray([last - dt.timedelta(days=int(d)) for d in age_days], dtype=object)

    def column_values(table, col, frame: dict) -> np.ndarray:
        spec = colspec.get(f"{table.name}.{col.name}") or {}
        if col.name == pop.id:
            return ids
        if col.name == pop.area:
            return area_name
        if col.name == pop.small_area:
            return small_of
        if col.name == pop.birth_date and born is not None:
            return np.asarray([b.isoformat() for b in born], dtype=object)
        if spec.get("age_from_birth") and born is not None:
            return np.asarray([(last.year - b.year) - ((last.month, last.day) < (b.month, b.day)) for b in born],
                              dtype=object)
        if "one_when" in spec:
            src = frame[spec["one_when"]["column"]]
            return np.isin(src, spec["one_when"]["values"]).astype(int).astype(object)
        if "by" in spec:
            src = frame[spec["by"]]
            shares = spec.get("share_of_ones") or {}
            p = np.asarray([float(shares.get(v, shares.get("default", 0.5))) for v in src])
            out = (rng.random(n) < p).astype(int).astype(object)
            out[np.isin(src, spec.get("blank_when") or [])] = None
            return out
        return _generic(col, n, rng, fw, spec)

    for table in fw.tables:
        if table.name == pop.lookup:
            names = {pop.small_area: "code", pop.small_area_name: "name", pop.area_code: "area_code",
                     pop.area: "area"}
            drawn: dict[str, np.ndarray] = {}
            for col in table.columns:
                key = names.get(col.name)
                spec = colspec.get(f"{table.name}.{col.name}")
                drawn[col.name] = (np.asarray([r[key] for r in lookup_rows], dtype=object) if key
                                   else _generic(col, len(lookup_rows), rng, fw, spec))
            tables[table.name] = pd.DataFrame(drawn)
        elif table.kind == "routine":
            drawn = {}
            # columns drawn from another column come after it, whatever the declared order
            depends = {c.name for c in table.columns
                       if {"by", "one_when"} & set(colspec.get(f"{table.name}.{c.name}") or {})}
            for col in sorted(table.columns, key=lambda c: c.name in depends):
                drawn[col.name] = column_values(table, col, drawn)
            tables[table.name] = pd.DataFrame({c.name: drawn[c.name] for c in table.columns})

    # planted: a group whose accommodation is "suitable" by the return while its true state on an item is low
    plant = prof.get("plant") or {}
    group = plant.get("discordant_group")
    in_group = np.zeros(n, dtype=bool)
    if group:
        t = tables[group["table"]]
        in_group = (t[group["column"]] == group["value"]).to_numpy()
        t.loc[in_group, group["suitable_column"]] = 1
    # the true state of every person on every item (shared by the perspectives)
    voice = prof.get("voice") or {}
    item_spec = voice.get("items") or {}
    truth_items: dict[str, dict[str, Any]] = {}
    latent = {}
    for item in fw.items:
        scale = fw.scale(item.scale)
        span = scale.max - scale.min
        base = {**DEFAULT_ITEM, **{k: v for k, v in (item_spec.get("default") or {}).items()}}
        spec = {**base, **(item_spec.get(item.id) or {})}
        spec["mean"] = float(spec["mean"]) if spec["mean"] is not None else scale.min + 0.6 * span
        spec["person_sd"] = float(spec["person_sd"]) if spec["person_sd"] is not None else 0.15 * span
        spec["noise_sd"] = float(spec["noise_sd"]) if spec["noise_sd"] is not None else 0.09 * span
        spec["change_per_round"] = float(spec["change_per_round"] or 0.0)
        truth_items[item.id] = spec
        latent[item.id] = spec["mean"] + rng.normal(0.0, spec["person_sd"], size=n)
        if group and item.id == group["item"]:
            latent[item.id] = latent[item.id] + float(group["shift"]) * in_group
        if shift and item.id in shift:      # a period's planted change in one area (make_declared_periods)
            by_area = shift[item.id]
            latent[item.id] = latent[item.id] + np.asarray([float(by_area.get(a, 0.0)) for a in area_name])
    shifts = {(d["respondent"], d["item"]): float(d["shift"]) for d in plant.get("divergence") or []}
    response = voice.get("response") or {}
    engaged = voice.get("engaged") or {}
    missing = plant.get("missing") or {}
    pools = voice.get("pool") or {}
    languages = voice.get("form_languages") or {}
    for table in fw.tables:
        if table.kind != "voice" or table.retest:
            continue
        who = table.respondent
        p_row = np.full(n, float(response.get(who, 0.8)))
        if missing and missing.get("respondent") == who:
            p_row[area_name == missing["area"]] = float(missing["response"])
        # people who take part at all from this perspective (the others have no row in any round): non-response
        # clusters within people, as it does when a young person is not in touch
        if who in engaged:    # drawn only when asked for: without it the stream (and the data) are as before
            p_row = p_row * (rng.random(n) < float(engaged[who]))
        n_rounds = rounds if table.round else 1
        pool_of = {c: rng.integers(1, int(k) + 1, size=n) for c, k in pools.items()}
        rows: dict[str, list] = {c.name: [] for c in table.columns}
        answered_items = [i for i in fw.items if who in i.respondents]
        answers: dict[str, list] = {i.id: [] for i in answered_items}
        for r in range(1, n_rounds + 1):
            present = rng.random(n) < p_row
            idx = np.flatnonzero(present)
            day0 = _add_months(first, months * (r - 1))
            days = rng.integers(0, 28, size=len(idx))
            for col in table.columns:
                if col.name == pop.id:
                    vals = list(ids[idx])
                elif col.name == table.round:
                    vals = [r] * len(idx)
                elif col.name == table.date:
                    vals = [(day0 + dt.timedelta(days=int(d))).isoformat() for d in days]
                elif col.values_from == "languages" and languages:
                    langs = list(languages)
                    w = np.asarray([float(languages[k]) for k in langs])
                    vals = list(np.asarray(langs, dtype=object)[rng.choice(len(langs), size=len(idx), p=w / w.sum())])
                elif col.name in pool_of:
                    vals = [f"{col.name.split('_')[0].upper()[:3]}{int(k):03d}" for k in pool_of[col.name][idx]]
                else:
                    vals = list(_generic(col, len(idx), rng, fw, colspec.get(f"{table.name}.{col.name}")))
                rows[col.name] += vals
            for item in answered_items:
                scale = fw.scale(item.scale)
                spec = truth_items[item.id]
                value = (latent[item.id][idx] + spec["change_per_round"] * (r - 1) + shifts.get((who, item.id), 0.0)
                         + rng.normal(0.0, spec["noise_sd"], size=len(idx)))
                codes = np.clip(np.rint(value), scale.min, scale.max)
                if scale.codes != list(range(scale.min, scale.max + 1)):
                    allowed = np.asarray(scale.codes)
                    codes = allowed[np.abs(allowed[:, None] - codes[None, :]).argmin(axis=0)]
                out = pd.array(codes.astype(int), dtype="Int64")
                blank = rng.random(len(idx)) < float(voice.get("item_missing", 0.03))
                out[blank] = pd.NA
                answers[item.id] += list(out)
        voice_frame = pd.DataFrame(rows)
        for item in answered_items:
            voice_frame[item.id] = pd.array(answers[item.id], dtype="Int64")
        if table.round and len(voice_frame):
            voice_frame = voice_frame.sort_values([pop.id, table.round], kind="stable").reset_index(drop=True)
        tables[table.name] = voice_frame

    def whole_numbers(values: pd.Series) -> bool:
        return bool(values.map(lambda v: v is None or isinstance(v, (int, np.integer))).all())

    for written in tables.values():
        for col in written.columns:
            # whole numbers with blanks (a 0/1 flag left blank) as nullable integers: written 1, not 1.0
            if written[col].dtype == object and whole_numbers(written[col]) and written[col].notna().any():
                written[col] = pd.array([None if v is None else int(v) for v in written[col]], dtype="Int64")
    ordered = {t.name: tables[t.name] for t in fw.tables if t.name in tables}
    truth = {
        "generator": "declared_tables", "framework": fw.name, "seed": random_state, "n": int(n), "rounds": rounds,
        "first_review": first.isoformat(), "months_between_rounds": months,
        "areas": [{"name": a["name"], "share": a["share"]} for a in areas],
        "items": truth_items,
        "response": {r: float(response.get(r, 0.8)) for r in fw.respondents()},
        "engaged": {r: float(engaged.get(r, 1.0)) for r in fw.respondents()},
        "divergence": [{"item": d["item"], "respondent": d["respondent"], "shift": float(d["shift"]),
                        "description": f"{d['respondent']} ratings of {d['item']} are {float(d['shift']):+g} points "
                                       "from the true state the other perspectives rate"}
                       for d in plant.get("divergence") or []],
        "missing": ({**missing, "response": float(missing["response"]),
                     "other_response": float(response.get(missing["respondent"], 0.8)),
                     "description": f"{missing['respondent']} rows are kept with probability "
                                    f"{float(missing['response']):g} in {missing['area']} instead of "
                                    f"{float(response.get(missing['respondent'], 0.8)):g}"} if missing else None),
        "discordant_group": ({**group, "shift": float(group["shift"]), "n": int(in_group.sum()),
                              "description": f"{group['column']} = {group['value']}: {group['suitable_column']} = 1 "
                                             f"for all, true {group['item']} {float(group['shift']):+g} points"}
                             if group else None),
        "change": {i: s["change_per_round"] for i, s in truth_items.items() if s["change_per_round"]},
    }
    if shift:
        truth["period_shift"] = {i: {a: float(v) for a, v in d.items()} for i, d in shift.items()}
    return Cohort(ordered, truth, fw)


def write_declared_cohort(cohort: Cohort, out_dir) -> Path:
    """Write each table as ``<name>.csv`` with its Table Schema beside it, a README (the profile's opening and the
    data dictionary) and ``ground_truth.json``, atomically."""
    from measurekit.core import atomic
    from measurekit.data.schemas import data_dictionary_markdown, table_schema

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fw: Any = cohort.framework
    for name, frame in cohort.tables.items():
        atomic.write_csv(out_dir / f"{name}.csv", frame)
        atomic.write_text(out_dir / f"{name}.schema.json",
                          json.dumps(table_schema(name, fw), indent=2, ensure_ascii=False) + "\n")
    readme = load_declared_profile(fw).get("readme") or f"# Synthetic data for {fw.title or fw.name}\n"
    atomic.write_text(out_dir / "README.md", readme + "\n" + data_dictionary_markdown(fw))
    if cohort.ground_truth is not None:
        atomic.write_text(out_dir / "ground_truth.json",
                          json.dumps(cohort.ground_truth, indent=1, sort_keys=True) + "\n")
    return out_dir

