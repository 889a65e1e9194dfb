"""The perspectives step of the main job: for a framework whose people are rated on the same topics from two
perspectives (two declared voice tables, e.g. the person and a professional), at repeated reviews.

What it computes, with ``measurekit.stats.perspectives`` (docs/perspectives.md), all from the declared tables:

* agreement per topic and domain (ICCs as psych::ICC, weighted kappa, Bland-Altman, share within k points) at
  each person's latest review rated from both sides;
* divergence (first perspective minus second) overall, by area and by the framework's ``analysis: perspectives:
  by:`` groups, with the topics that diverge overall;
* missingness of each perspective by area (every person is expected at every review round seen in the data);
* change between reviews of the same person (consecutive reviews, per perspective);
* discordance with the routine measures the framework declares (``analysis: perspectives: routine:``): among
  people whose routine record has the value, the share rating the topic at or below the threshold.

Files (internal, unsuppressed counts): ``internal/perspectives/agreement.csv``, ``agreement_icc.csv``,
``divergence.csv``, ``divergence_tests.csv``, ``divergence_flagged.csv``, ``missingness.csv``,
``missingness_patterns.csv``, ``change.csv``, ``discordance.csv``, ``known_groups.csv`` (each routine check as a
known-groups comparison for the COSMIN table: ``stats/cosmin_perspectives.py``); their columns are those of the
result tables documented in ``measurekit.stats.perspectives``. A framework with one perspective: skipped with that
reason.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from measurekit.core import atomic
from measurekit.data.population import voice_tables
from measurekit.pipeline.state import Perspectives, RunState, attempt, ready

STEP = "Two perspectives"


def _people(state: RunState, cols: list[str]) -> pd.DataFrame:
    """One row per person: id plus the wanted columns, from the linked frame (population + routine data)."""
    fw = ready(state.framework, "framework")
    assert fw.population is not None   # the step applies only to frameworks that declare their population
    pid = fw.population.id
    linked = ready(state.linkage, "linkage").linked
    have = [c for c in dict.fromkeys(cols) if c in linked and c != pid]
    return linked[[pid, *have]].drop_duplicates(pid)


def applies(state: RunState) -> bool:
    """Whether the step belongs in this run: the framework declares ``analysis: perspectives:``, or it has two voice
    tables with review rounds. Otherwise the step is not part of the run at all (not "skipped"): a framework of one
    perspective, or two without repeated reviews and without the declaration, runs exactly as before."""
    fw = state.framework
    if fw is None:
        return False
    if fw.analysis.perspectives is not None:
        return True
    voices = voice_tables(fw)
    return len(voices) >= 2 and all(v.round for v in voices[:2])


def perspectives_step(state: RunState) -> str:
    from measurekit.design.models import PerspectiveRoles
    from measurekit.stats.perspectives import (
        perspective_agreement,
        perspective_divergence,
        perspective_missingness,
        review_change,
        routine_discordance,
        stack_perspectives,
    )

    fw = ready(state.framework, "framework")
    voices = voice_tables(fw)
    if len(voices) < 2 or fw.population is None:
        state.skip(STEP, "the framework declares one perspective (one voice table): nothing to compare")
        return "skipped: one perspective"
    one, two = voices[0], voices[1]
    first, second = one.respondent or one.name, two.respondent or two.name
    tables = ready(state.cohort, "cohort").tables
    if two.name not in tables:
        state.skip(STEP, f"no {two.name} file in the data folder: the second perspective is missing")
        return "skipped: no second perspective"
    pop, pid = fw.population, fw.population.id
    rnd = one.round if one.round and one.round == two.round else None
    topics = [i.id for i in fw.items if first in i.respondents and second in i.respondents
              and i.id in tables[one.name] and i.id in tables[two.name]]
    if not topics:
        state.skip(STEP, f"no topic is rated by both {first} and {second}")
        return "skipped: no shared topics"
    roles = fw.analysis.perspectives or PerspectiveRoles()
    area = pop.area
    by = [area] + [b for b in roles.by if b != area]
    people = _people(state, by)
    by = [b for b in by if b in people]
    missing_by = [b for b in [area, *roles.by] if b not in by]
    if missing_by:
        state.skip(STEP, f"groups {', '.join(missing_by)}: not columns of the {pop.table} or routine data")
    long = stack_perspectives({first: tables[one.name], second: tables[two.name]}, items=topics, id=pid,
                              round=rnd)
    long = long.merge(people, on=pid, how="left")
    keys = dict(id=pid, round=rnd, framework=fw, items=topics)
    p = Perspectives(first, second, area, by)
    p.agreement = attempt(state, STEP, "agreement", perspective_agreement, long, perspectives=(first, second),
                          k=roles.k, **keys)
    p.divergence = attempt(state, STEP, "divergence", perspective_divergence, long, perspectives=(first, second),
                           by=by, k=roles.k, **keys)
    rounds = sorted(long[rnd].dropna().unique()) if rnd else None
    expected = people[[pid, *by]]
    if rnd:
        expected = expected.merge(pd.DataFrame({rnd: rounds}), how="cross")
    p.missingness = attempt(state, STEP, "missing ratings", perspective_missingness, long,
                            perspectives=(first, second), by=by, expected=expected, **keys)
    if rnd and rounds is not None and len(rounds) > 1:
        p.change = attempt(state, STEP, "change between reviews", review_change, long, perspectives=[first, second],
                           k=roles.k, **{**keys, "round": rnd})
    else:
        state.skip(STEP, "change between reviews: the data hold one review per person")
    parts, groups_compared = [], []
    if not roles.routine:
        state.skip(STEP, "discordance with routine measures: the framework declares none "
                         "(`analysis: perspectives: routine:` in framework.yaml)")
    for check in roles.routine:
        source = tables.get(check.table) if check.table else None
        cols = [check.column, *check.by]
        routine = (source[[pid, *[c for c in cols if c in source]]].drop_duplicates(pid) if source is not None
                   else _people(state, cols))
        routine = routine.merge(people[[pid, *[b for b in by if b not in routine]]], on=pid, how="left")
        who = check.perspective or first
        groups = [b for b in [*by, *check.by] if b in routine]
        # that perspective's own reviews: its latest review is the person's latest review it rated in
        own = long.loc[long["perspective"] == who, long.columns.drop([b for b in by if b in long.columns])]
        r = attempt(state, STEP, f"discordance with {check.column}", routine_discordance, own, routine,
                    measure=check.column, perspective_value=who,
            value=check.value, threshold=check.threshold, by=groups, id=pid, round=rnd, framework=fw,
            items=[i for i in check.items if i in topics])
        if r is not None:
            parts.append(r.table.assign(check=check.title or f"{check.column} = {check.value}"))
            p.checks.append(check)
            p.warnings += r.warnings
            # the same check as a known-groups hypothesis (COSMIN construct validity): against everyone else
            from measurekit.stats.cosmin_perspectives import known_groups

            kg = attempt(state, STEP, f"known groups by {check.column}", known_groups, own, routine,
                         measure=check.column, perspective_value=who, value=check.value, threshold=check.threshold,
                         id=pid, round=rnd, framework=fw, items=[i for i in check.items if i in topics],
                         check=check.title or f"{check.column} = {check.value}", inside=r.table)
            if kg is not None:
                groups_compared.append(kg)
    p.discordance = pd.concat(parts, ignore_index=True) if parts else None
    p.known_groups = pd.concat(groups_compared, ignore_index=True) if groups_compared else None
    state.perspectives = p
    folder = state.internal / "perspectives"
    written = {"agreement.csv": p.agreement.table if p.agreement else None,
               "agreement_icc.csv": p.agreement.icc if p.agreement else None,
               "divergence.csv": p.divergence.table if p.divergence else None,
               "divergence_tests.csv": p.divergence.tests if p.divergence else None,
               "divergence_flagged.csv": p.divergence.flagged if p.divergence else None,
               "missingness.csv": p.missingness.table if p.missingness else None,
               "missingness_patterns.csv": p.missingness.patterns if p.missingness else None,
               "change.csv": p.change.table if p.change else None,
               "discordance.csv": p.discordance, "known_groups.csv": p.known_groups}
    for name, table in written.items():
        if table is not None:
            atomic.write_csv(folder / name, table)
    state.files["two perspectives (internal)"] = Path("internal/perspectives")
    notes = []
    if p.divergence is not None:
        f = p.divergence.flagged
        topic_flags = f[(f["level"] == "topic") & f["diverges"].astype(bool)]["name"].tolist() if "level" in f else []
        notes.append(f"topics that diverge: {', '.join(topic_flags) or 'none'}")
    if p.agreement is not None:
        t = p.agreement.table
        t = t[t["level"] == "topic"]
        if "icc2" in t and t["icc2"].notna().any():
            notes.append(f"ICC(2,1) {t['icc2'].min():.2f}-{t['icc2'].max():.2f} across topics")
    return "; ".join(notes) or "done"
