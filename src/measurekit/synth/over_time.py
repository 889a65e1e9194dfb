"""A multi-year synthetic cohort with planted change, for the statistics over time (issue 27).

``make_periods("2021/22-2025/26", n=3000, random_state=1, framework=...)`` draws one reception cohort per
academic year with the single-year generator's parts (``synth/cohort.py``: places, families, development,
ASQ-3, EYFSP, voice, later outcome) and plants, on the child development latent behind the ELGs:

* a GLD trend per area: the framework's first area improving, its second flat, its third worsening
  (``area_trend``: a shift of the development latent per year);
* an FSM gap that narrows in the fourth area (FSM children start further behind and their development rises each
  year until the last period, where the gap is the usual one) and widens in the fifth (it falls each year); with
  fewer areas the roles wrap round;
* a boundary change: from the third period on, the last two small areas of the fourth area belong to the
  fifth (the lookup and the children's area change; the planted shifts follow the published area);
* children followed from two to five: each child's ASQ-3 at 2 to 2.5 years (three years before their
  reception year) is drawn before the planted shifts, so "flagged at two" (below the cut-off in any domain)
  is the same notion in every year, and the share of flagged children reaching GLD at five is planted
  through the development latent they share.

``ground_truth`` records the plan and the population values of every planted quantity, computed from a
very large draw of the same model for each period (GLD by area, the FSM gap by area, GLD among flagged and
unflagged children by area), so tests compare estimates with the truth rather than with the plan's words.
The single-year generator is not changed: ``make_cohort`` gives the same bytes as before.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from measurekit.core import paths
from measurekit.data.cohort import Cohort
from measurekit.data.schemas import ASQ_DOMAINS
from measurekit.synth import cohort as single
from measurekit.synth.profile import load_profile

AREA_TREND = 0.12      # development-latent shift per year: improving area +, worsening area -
FSM_TREND = 0.22       # shift per year of FSM children's development: + where the gap narrows, - where it widens
BOUNDARY_PERIOD = 2    # index of the first period with the new boundaries
MOVED_SMALL_AREAS = 2
_TRUTH_N = 200_000
_YEARS = re.compile(r"^\s*(\d{4})\s*/\s*(\d{2})\s*-\s*(\d{4})\s*/\s*(\d{2})\s*$")
_ROLES = ("improving", "flat", "worsening", "gap_narrowing", "gap_widening")


@dataclasses.dataclass
class MultiYear:
    """The cohorts by academic year (``2021/22`` -> ``Cohort``) and the planted truth across years."""

    cohorts: dict
    ground_truth: dict
    framework: object = None


def parse_years(text: str) -> list[int]:
    """``2021/22-2025/26`` -> the start years [2021, ..., 2025]; ``InputError`` (``bad_option``) otherwise."""
    from measurekit.problems import InputError

    m = _YEARS.match(str(text))
    a, a2, b, b2 = (int(g) for g in m.groups()) if m is not None else (0, 0, -1, 0)
    ok = m is not None and (a + 1) % 100 == a2 and (b + 1) % 100 == b2 and a <= b and b - a < 30
    if not ok:
        raise InputError.of("bad_option", f"--years {text!r} is not a range of academic years such as 2021/22-2025/26 "
                            "(first year first, each of two consecutive years).", column="--years", value=str(text),
                            rule="YYYY/YY-YYYY/YY")
    return list(range(a, b + 1))


def label(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


def folder_name(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def _plan(prof, n_periods: int) -> dict:
    """Which area plays which role (by the profile's order of areas; roles wrap round with fewer than five)."""
    names = [a.name for a in prof.areas]
    roles = {r: names[k % len(names)] for k, r in enumerate(_ROLES)}
    src = next(a for a in prof.areas if a.name == roles["gap_narrowing"])
    moved = [f"SYN-{src.small_area_prefix}-{j:02d}" for j in range(max(1, src.small_areas - MOVED_SMALL_AREAS + 1),
                                                                    src.small_areas + 1)]
    if roles["gap_narrowing"] == roles["gap_widening"]:
        moved = []
    return {"roles": roles, "n_periods": n_periods, "area_trend_per_year": AREA_TREND, "fsm_trend_per_year": FSM_TREND,
            "boundary": {"first_period_index": BOUNDARY_PERIOD, "small_areas": moved,
                         "from": roles["gap_narrowing"], "to": roles["gap_widening"]}}


def _publish_areas(v, prof, plan, t) -> tuple[np.ndarray, list[dict]]:
    """Each child's published area index and the lookup rows, after the boundary change from its period on."""
    names = [a.name for a in prof.areas]
    nb = v["nb_idx"].copy()
    rows = [dict(r) for r in v["area_rows"]]
    b = plan["boundary"]
    if t >= b["first_period_index"] and b["small_areas"]:
        to = names.index(b["to"])
        code = prof.areas[to].code
        moved = set(b["small_areas"])
        for r in rows:
            if r["small_area"] in moved:
                r["neighbourhood"], r["neighbourhood_code"] = b["to"], code
        nb = np.where(np.isin(v["small_area"], list(moved)), to, nb)
    return nb, rows


def _shift(nb, fsm, prof, plan, t) -> np.ndarray:
    names = [a.name for a in prof.areas]
    r = plan["roles"]

    def area_is(name) -> np.ndarray:
        """Each child's area name == ``name`` (compared once per area, then by the children's area positions)."""
        return np.isin(nb, [k for k, a in enumerate(names) if a == name])

    s = np.zeros(len(nb))
    s += AREA_TREND * t * area_is(r["improving"]) - AREA_TREND * t * area_is(r["worsening"])
    # narrowing: FSM children start behind and catch up to the usual gap by the last period (never past zero)
    last = plan["n_periods"] - 1
    s += (FSM_TREND * (t - last) * fsm * area_is(r["gap_narrowing"])
          - FSM_TREND * t * fsm * area_is(r["gap_widening"]))
    return s


def _routine(n, rng, prof, plan, t, keep=None):
    """Places, families, development, ASQ-3 at two (before the shift), then the planted shift and the EYFSP (``keep``:
    the only EYFSP columns whose values are wanted, as ``synth/cohort.py`` ``_eyfsp``; None: every column)."""
    v = single._places(n, rng, prof)
    v.update(single._families(n, rng, v, prof))
    v.update(single._development(n, rng, v))
    v.update(single._asq(n, rng, v))
    nb, rows = _publish_areas(v, prof, plan, t)
    v["nb_idx"], v["area_rows"] = nb, rows
    v["D"] = v["D"] + _shift(nb, v["fsm"], prof, plan, t)
    eyfsp = single._eyfsp(n, rng, v, keep)
    return v, eyfsp


def _flagged(v) -> np.ndarray:
    """Below the ASQ-3 cut-off in any domain (children with an ASQ-3 only; others are False)."""
    below = np.zeros(len(v["D"]), dtype=bool)
    for d in ASQ_DOMAINS:     # each zone is drawn as its position in ASQ_ZONES
        below |= v["asq"][f"asq_{d}_zone"] == single.ASQ_ZONES.index("below")
    return below & v["has_asq"]


def _shift_dates(values, years: int) -> np.ndarray:
    s = pd.to_datetime(pd.Series(values))
    return (s + pd.DateOffset(years=years)).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)


def _meals_word(prof) -> str:
    """The free-meals group in the README and ground truth's sentences: the framework's own column (upper case)."""
    col = prof.names.column("free_meals")
    return col.upper() if col else "free-meals"


def _year(n, rng, fw, prof, plan, t, start) -> dict:
    v, eyfsp = _routine(n, rng, prof, plan, t)
    v.update(single._voice_latents(n, rng, fw, v, prof))
    dif = prof.dif
    dif_shift = {dif["item"]: dif["shift"] * (single._values_of(v, prof, dif["group"]) != dif["reference"])} if dif \
        else {}
    names = prof.names
    parent_items = [i for i in fw.items if names.respondent in i.respondents]
    parent_codes = single._respond(rng, fw, prof, v["theta"], parent_items, single._P_DONT_KNOW,
                                   single._P_ITEM_MISSING, dif_shift)
    v.update(single._parent_response(n, rng, v))
    practitioner = single._practitioner_ratings(n, rng, fw, prof, v)
    phonics = single._later_outcome(n, rng, fw, prof, v, eyfsp, 1.0)
    ids = single._six_digit_ids(rng, n)
    child_id = single._id_strings(f"CH{start % 100:02d}", ids)
    tables = single._tables(child_id, v, eyfsp, parent_codes, practitioner, phonics, prof)
    k = start - 2024     # the single-year generator's dates are for reception in 2024/25
    # the dates the framework declares: the population's date of birth, each voice table's date
    dated = [(names.population, names.birth_date)]
    dated += [(t.name, t.date) for t in (names.voice, names.rater_voice) if t is not None]
    for table, column in dated:
        if column and table in tables and column in tables[table].columns:
            tables[table][column] = _shift_dates(tables[table][column], k)
    return {"profile": prof, "tables": tables, "theta": v["theta"], "s": v["s"], "propensity": v["propensity"],
            "responded": v["responded"], "all_answers": pd.DataFrame(dict(parent_codes)), "D": v["D"],
            "dif_shift": dif_shift, "child_id": child_id, "flagged": _flagged(v), "has_asq": v["has_asq"]}


def _population(prof, plan, t, seed, framework_dir=None) -> dict:
    """Population values of period ``t`` from a very large draw of the routine part of the model (kept between
    processes by ``synth/truth_cache.py`` when the framework has a folder: the same values, read back)."""
    from measurekit.synth.truth_cache import cached

    return cached("population_by_period", framework_dir, {"plan": plan, "t": t, "seed": seed, "n": _TRUTH_N},
                  lambda: _draw_population(prof, plan, t, seed))


def _draw_population(prof, plan, t, seed) -> dict:
    """The population values of ``_population``, drawn."""
    rng = np.random.default_rng([20270127, seed, t])
    v, eyfsp = _routine(_TRUTH_N, rng, prof, plan, t, keep={"gld"})      # the ELGs' codes are not read
    area_names = [a.name for a in prof.areas]
    gld, fsm, flagged, has_asq = eyfsp["gld"].to_numpy(), v["fsm"], _flagged(v), v["has_asq"]
    out: dict = {"gld_percent": {}, "fsm_gap_pp": {}, "gld_flagged_percent": {}, "gld_unflagged_percent": {}}
    if all(isinstance(a, str) for a in area_names) and gld.dtype.kind in "iub" and fsm.dtype.kind in "iub":
        # the LA, then each area present in the order pandas' groupby gives them (sorted names); every value a
        # share of 0/1 values, so its mean is the count over the size, as pandas computes it (NaN when none)
        def mean(mask):
            k = np.count_nonzero(mask)
            return np.count_nonzero(gld[mask]) / k if k else float("nan")

        present = np.unique(v["nb_idx"])
        groups = [("LA", np.ones(len(gld), dtype=bool))]
        groups += [(name, np.isin(v["nb_idx"], [k for k, a in enumerate(area_names) if a == name]))
                   for name in sorted({area_names[k] for k in present})]
        for area, m in groups:
            out["gld_percent"][area] = round(100 * float(mean(m)), 3)
            out["fsm_gap_pp"][area] = round(100 * float(mean(m & (fsm == 1)) - mean(m & (fsm == 0))), 3)
            out["gld_flagged_percent"][area] = round(100 * float(mean(m & has_asq & flagged)), 3)
            out["gld_unflagged_percent"][area] = round(100 * float(mean(m & has_asq & ~flagged)), 3)
        return out
    frame = pd.DataFrame({"area": np.array(area_names, dtype=object)[v["nb_idx"]], "gld": gld, "fsm": fsm,
                          "flagged": flagged, "has_asq": has_asq})
    for area, g in [("LA", frame), *frame.groupby("area")]:
        out["gld_percent"][area] = round(100 * float(g["gld"].mean()), 3)
        out["fsm_gap_pp"][area] = round(100 * float(g.loc[g.fsm == 1, "gld"].mean() - g.loc[g.fsm == 0, "gld"].mean()),
                                        3)
        a = g[g["has_asq"]]
        out["gld_flagged_percent"][area] = round(100 * float(a.loc[a.flagged, "gld"].mean()), 3)
        out["gld_unflagged_percent"][area] = round(100 * float(a.loc[~a.flagged, "gld"].mean()), 3)
    return out


def make_periods(years: str = "2021/22-2025/26", n: int = 3000, random_state: int | None = 1, *,
                 framework=paths.BUNDLED_FRAMEWORK, truth: bool = True) -> MultiYear:
    """One synthetic reception cohort of ``n`` children for each academic year in ``years`` (a range such as
    ``2021/22-2025/26``), with the planted trends, gap changes, boundary change and follow-up from two to five
    described in the module docstring. Same seed, same bytes. ``truth=False`` skips the population draws."""
    from measurekit.problems import InputError

    starts = parse_years(years)
    if n < 50:
        raise InputError.of("bad_option", f"make_periods needs n >= 50 children a year, not {n}.", column="n",
                            value=str(n))
    fw = single._framework(framework)
    prof = load_profile(fw)
    plan = _plan(prof, len(starts))
    seeds = np.random.SeedSequence(random_state).spawn(len(starts))
    cohorts, periods_truth = {}, {}
    for t, (start, seq) in enumerate(zip(starts, seeds)):
        sim = _year(int(n), np.random.default_rng(seq), fw, prof, plan, t, start)
        tables = sim["tables"]
        c = Cohort(tables, framework=fw)
        c.ground_truth = single._ground_truth(sim, fw, n, random_state, 1.0, None)
        c.ground_truth["period"] = label(start)
        cohorts[label(start)] = c
        entry = {"period": label(start), "years_from_first": t, "asq_review_year": label(start - 3),
                 "flagged_at_two": int(sim["flagged"].sum()), "with_asq": int(sim["has_asq"].sum())}
        if truth:
            entry["population"] = _population(prof, plan, t, 0 if random_state is None else int(random_state),
                                              fw.path if fw is not framework else None)
        periods_truth[label(start)] = entry
    gt = {
        "kind": "multi-period synthetic cohort", "seed": random_state, "n_per_period": int(n),
        "framework": fw.name, "periods": [label(s) for s in starts], "plan": plan,
        "expected": {
            "gld_trend": {plan["roles"]["improving"]: "increasing", plan["roles"]["flat"]: "no change",
                          plan["roles"]["worsening"]: "decreasing"},
            "fsm_gap": {plan["roles"]["gap_narrowing"]: "narrowing", plan["roles"]["gap_widening"]: "widening"},
            "boundary_change": {"period": label(starts[min(BOUNDARY_PERIOD, len(starts) - 1)])
                                if len(starts) > BOUNDARY_PERIOD else None,
                                "small_areas": plan["boundary"]["small_areas"] if len(starts) > BOUNDARY_PERIOD
                                else []},
        },
        "by_period": periods_truth,
        "description": ("Development latent D of each child shifted by area_trend_per_year x years since the first "
                        f"period (improving +, worsening -) and, for {_meals_word(prof)} children, by "
                        "fsm_trend_per_year x (years since the first period - years from the first to the last) "
                        "where the gap narrows (they catch up) and by -fsm_trend_per_year x years where it widens; "
                        "GLD follows from the ELGs drawn on D. The ASQ-3 at two "
                        "is drawn before the shift (flagged = below the cut-off in any domain). population: values "
                        f"of each period in a draw of {_TRUTH_N:,} children of the same model."),
    }
    return MultiYear(cohorts, gt, fw)


def write_periods(result: MultiYear, out_dir) -> Path:
    """Write one folder per academic year (``2021-22/`` ...: the single-year files, schemas, README and that
    period's ground truth) and the planted truth across years as ``ground_truth.json`` beside them."""
    from measurekit.core import atomic
    from measurekit.synth.cohort import write_cohort

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for lab, c in result.cohorts.items():
        write_cohort(c, out_dir / folder_name(int(lab[:4])))
    atomic.write_text(out_dir / "ground_truth.json", json.dumps(result.ground_truth, indent=1, sort_keys=True) + "\n")
    atomic.write_text(out_dir / "README.md", _README.format(periods=", ".join(result.cohorts),
                                                             meals=_meals_word(load_profile(result.framework))))
    return out_dir


_README = """# Synthetic data over several academic years (not real children)

One folder per academic year ({periods}), each a complete data folder for that year's reception cohort (children,
small-area lookup, EYFSP, ASQ-3 at two, voice responses, later outcome). Planted truth across the years (trends by
area, {meals} gaps that narrow and widen, a boundary change, children followed from two to five) is in
ground_truth.json; each period's own truth is in its folder. Validate with
`measurekit validate DATA --framework ...`; the over-time tables: `measurekit over-time --data DATA ...`
(docs/over_time.md).
"""


# ---- several years for a framework that declares its own tables (synth/declared.py makes each year) ----

TOPIC_TREND = 0.06     # a year, as a share of the scale's range (0.6 points a year on a 0-10 rating)


def default_trend_item(framework):
    """The topic whose trend is planted: the item of the framework's first indicator computed from one item's
    answers (``compute: source: item``) of the first perspective, else the first perspective's first item."""
    from measurekit.data.population import first_respondent

    who = first_respondent(framework)
    for ind in framework.indicators:
        c = ind.compute
        if c.source == "item" and c.table is None and c.field in {i.id for i in framework.items}:
            return framework.item(c.field)
    return next(i for i in framework.items if who in i.respondents)


def make_declared_periods(years: str = "2022/23-2025/26", n: int = 500, random_state: int | None = 1, *,
                          framework, item: str | None = None):
    """Several academic years of synthetic data for a framework that declares its tables: one cohort of ``n``
    different people per year in ``years`` (``2022/23-2025/26``), each with its review rounds inside the year (the
    profile's rounds, as many as fit in twelve months, the first on 1 October), and a planted trend in one topic
    (``item``; default :func:`default_trend_item`) by area: the profile's first area improving, its second flat,
    its third worsening (a shift of the true state of ``TOPIC_TREND`` of the scale's range a year), the other areas
    flat. People of earlier periods are drawn younger by the years to the latest period (ages are validated against
    today's date). Returns ``synth.over_time.MultiYear`` (cohorts by academic year, ground truth across years).
    Same seed, same bytes."""
    from measurekit.design.choose import choose_framework
    from measurekit.problems import InputError
    from measurekit.synth.declared import (
        MIN_PEOPLE,
        _areas,
        _check_profile,
        load_declared_profile,
        make_declared_cohort,
    )

    fw = choose_framework(framework)
    starts = parse_years(years)
    if n < MIN_PEOPLE:
        raise InputError.of("bad_option", f"synth needs n >= {MIN_PEOPLE} people a year, not {n}.", column="n",
                            value=str(n))
    prof = load_declared_profile(fw)
    _check_profile(prof, fw)
    if item is not None and item not in {i.id for i in fw.items}:
        raise InputError.of("bad_option", f"{item!r} is not an item of the framework.", column="item", value=item,
                            rule="an item id of the framework")
    topic = fw.item(item) if item is not None else default_trend_item(fw)
    names = [a["name"] for a in _areas(prof)]
    roles = {"improving": names[0], "flat": names[1 % len(names)], "worsening": names[2 % len(names)]}
    scale = fw.scale(topic.scale)
    per_year = TOPIC_TREND * (scale.max - scale.min)
    months = int(prof.get("months_between_rounds", 6))
    rounds = max(1, min(int(prof.get("rounds", 3)), 12 // max(months, 1)))
    seeds = np.random.SeedSequence(random_state).generate_state(len(starts))
    cohorts, by_period = {}, {}
    for t, (start, seed) in enumerate(zip(starts, seeds)):
        shift = {roles["improving"]: per_year * t, roles["worsening"]: -per_year * t}
        c = make_declared_cohort(n, int(seed), framework=fw, first_review=datetime.date(start, 10, 1).isoformat(),
                                 rounds=rounds, id_start=t * n + 1, shift={topic.id: shift},
                                 years_to_latest=len(starts) - 1 - t)
        cohorts[label(start)] = c
        by_period[label(start)] = {"years_from_first": t, "first_review": datetime.date(start, 10, 1).isoformat(),
                                   "rounds": rounds, "shift": {a: float(v) for a, v in shift.items()}}
    indicators = [i.id for i in fw.indicators if i.compute.source == "item" and i.compute.field == topic.id
                  and i.compute.table is None and i.compute.among is None]
    gt = {"generator": "declared_tables", "kind": "multi-period synthetic data", "framework": fw.name,
          "seed": random_state, "n_per_period": int(n), "periods": [label(s) for s in starts],
          "plan": {"item": topic.id, "indicators": indicators, "roles": roles, "shift_per_year": per_year},
          "expected": {"topic_trend": {roles["improving"]: "increasing", roles["flat"]: "no change",
                                       roles["worsening"]: "decreasing"}},
          "by_period": by_period,
          "description": (f"The true state of every person on {topic.id!r} is shifted by shift_per_year x years "
                          f"since the first period: up in {roles['improving']}, down in {roles['worsening']}, "
                          "unchanged elsewhere; both perspectives rate the shifted state. Each period holds "
                          "different people (ids numbered on), its review rounds within the academic year; every "
                          "period's own planted truth is in its folder.")}
    return MultiYear(cohorts, gt, fw)


def write_declared_periods(result, out_dir) -> Path:
    """One folder per academic year (``2022-23/`` ...: :func:`write_declared_cohort`) and the truth across years
    as ``ground_truth.json`` beside them, with a README."""
    from measurekit.core import atomic
    from measurekit.synth.declared import write_declared_cohort

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for lab, c in result.cohorts.items():
        write_declared_cohort(c, out_dir / folder_name(int(lab[:4])))
    atomic.write_text(out_dir / "ground_truth.json", json.dumps(result.ground_truth, indent=1, sort_keys=True) + "\n")
    plan = result.ground_truth["plan"]
    atomic.write_text(out_dir / "README.md", (
        f"# Synthetic data over several academic years (not real people)\n\nOne folder per academic year "
        f"({', '.join(result.cohorts)}), each a complete data folder for that year. Planted across the years: a trend "
        f"in {plan['item']!r} by area ({', '.join(f'{v} {k}' for k, v in plan['roles'].items())}); see "
        "ground_truth.json. `measurekit run`, `over-time` and `board-pack` take this folder (docs/over_time.md).\n"))
    return out_dir
