"""The steps of the main job (``measurekit run``), in the order they run.

Each step takes the ``RunState``, reads what earlier steps left in it, fills in its own part,
writes its files (shareable ones under ``state.shareable``, analyst material under
``state.internal``) and returns a one-line note for the console.

Analysis steps degrade instead of aborting: a part that cannot run on these data (too few
children in a group, no variation in an item...) is recorded in ``state.skipped`` with the
reason, and the rest of the run goes on. Only unusable inputs stop a run.

Which columns the analyses use is the framework's (``analysis:`` in framework.yaml: fairness groups, item
analysis, coverage and weighting groups, outcomes with their covariates); nothing here names a column of a
particular framework. A part the framework declares nothing for is skipped with that reason.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from measurekit.core import atomic
from measurekit.data.population import declared, first_respondent, technical_frame, voice_tables
from measurekit.pipeline.perspectives_step import applies as perspectives_applies
from measurekit.pipeline.perspectives_step import perspectives_step
from measurekit.pipeline.state import (
    Board,
    Fairness,
    Measurement,
    RunState,
    Value,
    attempt,
    ready,
)
from measurekit.problems import InputError

INTERNAL_README = """\
INTERNAL: DO NOT SHARE

The files in this folder are for the analysts running the trial. They hold unsuppressed counts
(linkage and response rates by group, validation problems that name rows, measurement tables)
that could identify children in small groups. Only the `shareable` folder beside this one has
passed disclosure control and may leave the organisation.
"""


def read_inputs(state: RunState) -> str:
    """Load the framework and read + validate every input file, once: the data folder and the framework's
    ``evidence/`` folder (quotes, content-validity ratings, interview log; ``design.evidence``). Problems of
    the evidence files join the validation report, so they stop the run before any analysis as data problems do."""
    from measurekit.data import read_and_validate
    from measurekit.design import load_framework
    from measurekit.design.evidence import read_framework_evidence

    state.framework = load_framework(state.inputs.framework_dir)
    state.cohort, state.validation = read_and_validate(state.inputs.data_dir, config=state.inputs.config,
                                                       framework=state.framework)
    try:
        state.evidence = read_framework_evidence(state.framework)
    except InputError as exc:
        ready(state.validation, "validation report").extend(exc.report)
        state.cohort = None
    return state.validation.summary()


def read_period_inputs(state: RunState) -> str:
    """A data folder of several academic years (``data/periods.py``): every period read and validated once by the one
    reader, the checks across periods, and the framework's evidence; the one-year analyses then use the period
    ``inputs.period`` names (default: the latest). Problems of any period stop the run as one year's do: the board
    pack and the over-time statistics need every period."""
    from measurekit.data.periods import read_and_validate_periods
    from measurekit.design import load_framework
    from measurekit.design.evidence import read_framework_evidence

    state.framework = load_framework(state.inputs.framework_dir)
    periods = read_and_validate_periods(state.inputs.data_dir, config=state.inputs.config, framework=state.framework)
    state.validation = periods.report
    try:
        state.evidence = read_framework_evidence(state.framework)
    except InputError as exc:
        periods.report.extend(exc.report)
    if periods.report.ok:
        label = chosen_period(state.inputs.period, periods.folders or {}, state.inputs.data_dir)
        state.periods = periods
        state.cohort = periods.cohorts[label]
        state.inputs.period = label
    return (f"{len(periods.cohorts)} periods; " if periods.report.ok else "") + periods.report.summary()


def chosen_period(period: str | None, folders: dict, data_dir) -> str:
    """The academic year the one-year analyses use: ``period`` (``2024/25``, ``2024-25`` or ``202425``) when it is
    one of the folder's periods, else the latest. A period the folder does not hold is refused
    (``period_not_found``), naming the periods it holds."""
    from measurekit.data.periods import period_label

    labels = list(folders)
    if period is None:
        return labels[-1]
    label = period_label(str(period).strip().replace("/", "-"))
    if label is None or label not in folders:
        raise InputError.of("period_not_found", f"--period {period}: the data folder {str(data_dir)!r} holds no "
                            f"folder for that academic year; it holds {', '.join(labels)}.", column="--period",
                            value=str(period), rule="one of the periods the data folder holds")
    return label


def link_step(state: RunState) -> str:
    from measurekit.data import link
    from measurekit.data.linkage import population_names

    result = link(ready(state.cohort, "cohort"))
    state.linkage = result
    from measurekit.core.labels import in_people_words

    atomic.write_text(state.internal / "README.txt", in_people_words(INTERNAL_README, state.framework))
    atomic.write_csv(state.internal / "validation_report.csv", ready(state.validation, "validation report").to_frame())
    state.files["validation report (internal)"] = Path("internal/validation_report.csv")
    folder = state.internal / "linkage"
    atomic.write_csv(folder / "linkage_summary.csv", result.summary)
    atomic.write_csv(folder / "linkage_comparison.csv", result.comparison)
    atomic.write_csv(folder / "unmatched_responses.csv", result.unmatched_responses)
    state.files["linkage report (internal)"] = Path("internal/linkage")
    words = population_names(ready(state.cohort, "cohort"))
    linked = int(result.summary.loc[result.summary["measure"] == f"{words['people']} with a linked response",
                                    "count"].iloc[0])
    if words["declared"]:
        return f"{linked} of {len(result.linked)} {words['people']} have a linked response"
    return f"{linked} of {len(result.linked)} children have a linked parent response"


def score_step(state: RunState) -> str:
    """Score the voice domains once; every later step (and the board pack) uses these scores."""
    from measurekit.stats.scoring import score

    fw = ready(state.framework, "framework")
    frame = ready(state.linkage, "linkage").linked
    responders = frame[frame["responded"] == 1]
    state.scored = frame.join(score(responders, framework=fw, respondent=first_respondent(fw)))
    cols = [d.score_column for d in fw.domains]
    summary = state.respondents[cols].describe().T[["count", "mean", "std", "min", "max"]]
    state.score_summary = summary.rename_axis("scale").reset_index()
    atomic.write_csv(state.internal / "scores" / "score_summary.csv", state.score_summary)
    state.files["scale score summary (internal)"] = Path("internal/scores/score_summary.csv")
    sample = f"; trial analyses on a random sample of {state.trial_size:,}" if state.sample_note else ""
    return f"{len(cols)} domain scores for {len(responders)} respondents{sample}"


def reliability_step(state: RunState) -> str:
    from measurekit.stats.factor import efa, omega, parallel_analysis
    from measurekit.stats.items import item_analysis
    from measurekit.stats.reliability import reliability_by_domain
    from measurekit.stats.scoring import item_values

    step, fw, resp = "Reliability and structure", ready(state.framework, "framework"), state.trial_respondents
    who = first_respondent(fw)
    shared = [i.id for i in fw.items if who in i.respondents and len(i.all_domains) > 1]
    if shared:
        # each topic is one rating mapped onto several domains: a domain groups topics, it is not a scale whose
        # items measure one thing, so alpha, factor analysis and omega do not apply (agreement between
        # perspectives and change between reviews are this design's evidence: the perspectives step)
        state.skip(step, f"alpha, factor analysis and omega: the topics are single ratings, {len(shared)} of them in "
                         "several domains each, so a domain is a grouping of topics rather than a scale of items "
                         "measuring one thing")
        by = [c for c in fw.analysis.item_analysis_by if c in resp]
        ia = attempt(state, step, "item analysis", item_analysis, resp, framework=fw, by=by, respondent=who)
        if ia is not None:
            atomic.write_csv(state.internal / "measurement" / "item_analysis.csv", ia.items.reset_index())
            state.files["measurement tables (internal)"] = Path("internal/measurement")
        return "skipped: single-rating topics in several domains (no alpha)"
    rel = attempt(state, step, "alpha by domain", reliability_by_domain, resp, framework=fw, n_boot=500, random_state=1,
                  respondent=who)
    if rel is None:
        return "skipped"
    values = item_values(resp, framework=fw, respondent=who)
    m = Measurement(reliability=rel)
    m.parallel = attempt(state, step, "parallel analysis", parallel_analysis, values, random_state=1)
    k = max(m.parallel.n_factors, 1) if m.parallel is not None else len(fw.domain_items(who))
    m.efa = attempt(state, step, "exploratory factor analysis", efa, values, k)
    if values.shape[1] > 4:
        m.omega = attempt(state, step, "omega", omega, values, n_factors=max(k, 3))
    by = declared_columns(state, step, "item analysis groups", "item_analysis_by", fw.analysis.item_analysis_by, resp)
    m.item_analysis = attempt(state, step, "item analysis", item_analysis, resp, framework=fw, by=by,
                              respondent=who)
    state.measurement = m
    folder = state.internal / "measurement"
    atomic.write_csv(folder / "reliability.csv", rel)
    if m.efa is not None:
        atomic.write_csv(folder / "efa_loadings.csv", m.efa.loadings.reset_index())
    if m.item_analysis is not None:
        atomic.write_csv(folder / "item_analysis.csv", m.item_analysis.items.reset_index())
    state.files["measurement tables (internal)"] = Path("internal/measurement")
    found = f"; parallel analysis suggests {m.parallel.n_factors} factors" if m.parallel is not None else ""
    return f"alpha {rel['raw_alpha'].min():.2f}-{rel['raw_alpha'].max():.2f}{found}"


NO_DECLARATION = "the framework declares no {what} (`analysis: {key}:` in framework.yaml)"


def declared_columns(state: RunState, step: str, what: str, key: str, columns, frame) -> list[str]:
    """The columns of ``frame`` among those the framework declares for ``what`` (``analysis: key:``); each declared
    column the data do not have is recorded in ``state.skipped`` (a misspelt column is said, never dropped quietly)."""
    missing = [c for c in columns if c not in frame]
    if missing:
        state.skip(step, f"{what}: the data have no column {', '.join(map(repr, missing))} (declared in "
                   f"`analysis: {key}:` in framework.yaml); left out")
    return [c for c in columns if c in frame]


def fairness_frame(state: RunState):
    """Reverse-keyed item values of respondents with the fairness group columns (the framework's
    ``analysis.fairness_groups``) beside them, each under its group name: the column's values, or
    ``reference`` vs ``other_label`` when the group declares a reference (e.g. "English" vs "other")."""
    from measurekit.stats.scoring import item_values

    resp = state.trial_respondents
    fw = ready(state.framework, "framework")
    data = item_values(resp, framework=fw, respondent=first_respondent(fw))
    for g in fw.analysis.fairness_groups:
        if g.column not in resp:
            continue
        col = resp[g.column]
        if g.reference is not None:
            col = col.astype(str).eq(g.reference).where(col.notna()).map({True: g.reference, False: g.other_label})
        data[g.name] = col
    return data


def ordinal_items(framework) -> bool:
    """True when every parent item is answered on a scale of at most 7 categories: the invariance
    models then treat the answers as ordered categories (WLSMV), not as continuous (ML)."""
    return all(len(framework.scale(framework.item(i).scale).codes) <= 7
               for i in framework.item_ids(first_respondent(framework)))


def fairness_step(state: RunState) -> str:
    from measurekit.stats.dif import dif
    from measurekit.stats.invariance import invariance

    step, fw = "Fairness: invariance and DIF", ready(state.framework, "framework")
    who = first_respondent(fw)
    declared = fw.analysis.fairness_groups
    if not declared:
        state.skip(step, NO_DECLARATION.format(what="groups to compare", key="fairness_groups"))
        return "skipped: no fairness groups declared"
    data = fairness_frame(state)
    missing = [g.column for g in declared if g.name not in data]
    if missing:
        state.skip(step, f"the data have no column {', '.join(missing)} (declared in `analysis: fairness_groups:`)")
    ordinal = ordinal_items(fw)
    f = Fairness(route="ordinal (WLSMV, Wu and Estabrook 2016)" if ordinal else "continuous (maximum likelihood)",
                 groups={g.name: g.words for g in declared if g.name in data})
    for group, label in f.groups.items():
        r = attempt(state, step, f"invariance by {label}", invariance, data, fw.lavaan_model(who), group,
                    ordered=True if ordinal else None)
        if r is None and ordinal:   # ordinal models need more answers per group than ML: fall back, and say so
            r = attempt(state, step, f"invariance by {label} (continuous fallback)", invariance, data,
                        fw.lavaan_model(who), group)
            if r is not None:
                f.routes[group] = "continuous (maximum likelihood), because the ordinal model could not be fitted"
                state.skip(step, f"invariance by {label}: the ordinal route was replaced by the continuous (ML) route")
        if r is not None:
            f.invariance[group] = r
            atomic.write_csv(state.internal / "fairness" / f"invariance_{group}.csv", r.table)
    by = next((g for g in declared if g.dif and g.name in data), None)
    words = ""
    if by is None:
        state.skip(step, "DIF: " + NO_DECLARATION.format(what="group to test items by", key="fairness_groups: ... "
                                                         "dif: true"))
    else:
        declared_by = fw.breakdown(by.column)
        words = declared_by.in_words if declared_by is not None else by.column.replace("_", " ")
        f.dif_group = by.name
        f.dif = attempt(state, step, f"DIF by {words}", dif, state.trial_respondents,
                        items=fw.domain_items(who), group=data[by.name], reference=by.reference, framework=fw)
    if f.dif is not None and by is not None:
        atomic.write_csv(state.internal / "fairness" / f"dif_{by.column}.csv", f.dif.table)
    state.fairness = f
    state.files["fairness tables (internal)"] = Path("internal/fairness")
    route = "ordinal" if ordinal else "continuous"
    if f.dif is None:
        return f"invariance {route}; DIF skipped"
    flagged = f.dif.table.loc[f.dif.table["flag"], "item"].tolist()
    return f"invariance {route}; DIF by {words} flags: {', '.join(flagged) or 'none'}"


def coverage_step(state: RunState) -> str:
    """Whose voices were heard (coverage by the declared groups, the R-indicator) and the raking weights that
    the board table's weighted estimates use; every child, not the trial sample."""
    from measurekit.stats.coverage import coverage, response_weights

    step, fw, scored = "Coverage and response weights", ready(state.framework, "framework"), ready(state.scored,
                                                                                                   "scores")
    v = Value()
    roles = fw.analysis
    by = declared_columns(state, step, "coverage", "coverage_by", roles.coverage_by, scored)
    if by:
        v.coverage = attempt(state, step, "coverage", coverage, scored, responded="responded", by=by)
    else:
        state.skip(step, "coverage: " + NO_DECLARATION.format(what="groups to compare coverage by",
                                                              key="coverage_by"))
    margins = declared_columns(state, step, "response weights", "weighting_by", roles.weighting_by, scored)
    if margins:
        v.weights = attempt(state, step, "response weights", response_weights, scored, responded="responded",
                            by=margins)
    else:
        state.skip(step, "response weights: " + NO_DECLARATION.format(what="weighting margins", key="weighting_by"))
    if v.coverage is not None:
        atomic.write_csv(state.internal / "value" / "coverage.csv", v.coverage.table)
    state.value = v
    state.files["added value and coverage (internal)"] = Path("internal/value")
    return f"R-indicator {v.coverage.r_indicator:.2f}" if v.coverage is not None else ""


def added_value_step(state: RunState) -> str:
    """What the voice domains add to routine data in predicting each declared outcome (trial respondents)."""
    from measurekit.stats.added_value import added_value

    step, fw, scored = "Added value", ready(state.framework, "framework"), ready(state.scored, "scores")
    v = ready(state.value, "coverage and weights")
    roles = fw.analysis
    new = [d.score_column for d in fw.domains]
    resp = state.trial_respondents
    notes = []
    if not roles.outcomes:
        state.skip(step, "added value: " + NO_DECLARATION.format(what="outcomes", key="outcomes"))
    for o in roles.outcomes:
        outcome = o.column
        if outcome not in resp:
            state.skip(step, f"added value for {outcome}: the data have no column {outcome!r} (declared in "
                       "`analysis: outcomes:` in framework.yaml)")
            continue
        if resp[outcome].isna().all():
            continue
        base = declared_columns(state, step, f"added value for {outcome}", "outcomes: covariates", o.covariates,
                                scored) + list(o.given)
        r = attempt(state, step, f"added value for {outcome}", added_value, resp, outcome, base, new,
                    n_boot=500, random_state=1, by=list(o.by))
        if r is not None:
            v.added_value[outcome] = r
            v.outcomes[outcome] = o
            atomic.write_csv(state.internal / "value" / f"added_value_{outcome}.csv", r.table)
            notes.append(f"{outcome}: LR p = {r.p_val:.2g}")
    state.files["added value and coverage (internal)"] = Path("internal/value")
    return "; ".join(notes)


def evidence_parts(state: RunState) -> str:
    """The early part of the evidence step: what it rates besides this run's analyses, computed while they run in
    worker processes: the co-design evidence kept with the framework (content validity panel) and a declared
    retest table in the data folder (test-retest). Into ``state.evidence_parts``."""
    step, fw = "Measurement evidence (COSMIN)", ready(state.framework, "framework")
    evidence = ready(state.evidence, "framework evidence")   # read once with the inputs (read_inputs)
    cv = rt = None
    if evidence.ratings is not None:
        from measurekit.design.content_validity import content_validity

        cv = attempt(state, step, "content validity", content_validity, evidence.ratings, framework=fw)
    tables = ready(state.cohort, "cohort").tables
    # the declared retest table (read and checked with every other input) and the voice table of its respondent
    retest_decl = next((t for t in fw.tables if t.kind == "voice" and t.retest and t.name in tables), None)
    first_decl = next((t for t in voice_tables(fw) if retest_decl is not None
                       and t.respondent == retest_decl.respondent and t.name in tables), None)
    if retest_decl is not None and first_decl is not None and fw.population is not None:
        from measurekit.stats.retest import retest

        pid, second = fw.population.id, tables[retest_decl.name]
        first = tables[first_decl.name]
        first = first[first[pid].isin(second[pid])]
        rt = attempt(state, step, "test-retest", retest, first, second, framework=fw, id=pid)
    state.evidence_parts = {"content_validity": cv, "retest": rt}
    return ", ".join(k.replace("_", " ") for k, v in state.evidence_parts.items() if v is not None) or "nothing to rate"


def evidence_step(state: RunState) -> str:
    """COSMIN-style rating of every voice indicator's measurement properties from what this run computed,
    plus the co-design evidence kept with the framework (content validity panel, cognitive interviews)
    and a retest file in the data folder (``voice_retest.csv``) when there is one (``evidence_parts``, the step's
    early part; computed here when it did not run)."""
    from measurekit.stats.cosmin import cosmin_table

    fw = ready(state.framework, "framework")
    if state.evidence_parts is None:
        evidence_parts(state)
    parts = ready(state.evidence_parts, "evidence parts")
    cv, rt = parts["content_validity"], parts["retest"]
    log = ready(state.evidence, "framework evidence").interviews
    m, fa, v = state.measurement, state.fairness, state.value
    dif = {fa.dif_group: fa.dif} if fa is not None and fa.dif is not None else None
    state.cosmin = cosmin_table(
        framework=fw, content_validity=cv, reliability=m.reliability if m else None, omega=m.omega if m else None,
        invariance=fa.invariance if fa is not None and fa.invariance else None, dif=dif, retest=rt,
        added_value=v.added_value if v is not None and v.added_value else None, interviews=log,
        item_analysis=m.item_analysis if m else None, perspectives=getattr(state, "perspectives", None))
    atomic.write_csv(state.internal / "measurement" / "cosmin_properties.csv", state.cosmin.table)
    atomic.write_csv(state.internal / "measurement" / "item_evidence_cards.csv", state.cosmin.items)
    state.files["measurement evidence (internal)"] = Path("internal/measurement/cosmin_properties.csv")
    rated = state.cosmin.table["rating"].value_counts()
    return f"{int(rated.get('+', 0))} properties sufficient, {int(rated.get('-', 0))} insufficient, " \
           f"{int(rated.get('?', 0))} indeterminate"


def evidence_notes(state: RunState, computed_on: str | None = None) -> dict[str, dict[str, str]]:
    """Indicator id -> plain-English evidence (reliability, added value, the COSMIN table) for the spec sheets.
    ``computed_on``: the period the trial's results were computed on, said after the reliability and added-value
    notes (a pack of several periods)."""
    fw = ready(state.framework, "framework")
    notes: dict[str, dict[str, str]] = {}
    scale_indicators = [ind for ind in fw.indicators if ind.compute.source == "scale"]
    if state.measurement is not None:
        rel = state.measurement.reliability.set_index("domain")
        for ind in scale_indicators:
            d = ind.compute.field.removeprefix("voice_")
            if d in rel.index:
                r = rel.loc[d]
                notes.setdefault(ind.id, {})["reliability"] = (
                    f"alpha {r['raw_alpha']:.2f} (95% CI {r['ci_low']:.2f}-{r['ci_high']:.2f}) in this trial")
    for o in fw.analysis.outcomes:      # the outcomes whose result the framework has the spec sheets print
        v = state.value.added_value.get(o.column) if state.value is not None and o.evidence_note else None
        if v is None:
            continue
        auc = v.table.set_index("measure").loc["auc"]
        text = (f"{o.evidence_note.strip()} "
                f"(LR test p = {v.p_val:.1g}; AUC gain {auc['difference']:.3f}, "
                f"95% CI {auc['ci_low']:.3f}-{auc['ci_high']:.3f})")
        for ind in scale_indicators:
            notes.setdefault(ind.id, {})["added_value"] = text
    if computed_on is not None:
        notes = {ind: {k: f"{v} ({computed_on} data)" for k, v in d.items()} for ind, d in notes.items()}
    if state.cosmin is not None:
        for ind in fw.indicators:
            if not state.cosmin.for_indicator(ind.id).empty:
                notes.setdefault(ind.id, {})["cosmin"] = state.cosmin.to_markdown(ind.id)
    return notes


def board_table_step(state: RunState) -> str:
    """The board table, built once from the scores computed once and kept in memory (``state.board_table``):
    aggregates, intervals, comparisons, disclosure control and its audit. Weighted estimates use the raking
    weights. It reads nothing the reliability, fairness and added-value steps make, so it runs beside them."""
    from measurekit.publish.board_table import build_board_table

    fw = ready(state.framework, "framework")
    weights = None
    if any(ind.ci_method == "weighted_t" for ind in fw.indicators):
        if state.value is None or state.value.weights is None:
            state.skip("Board table",
                       "weighted estimates: no response weights could be made; unweighted intervals used")
        else:
            weights = state.value.weights.weights
    led = None
    if state.inputs.ledger is not None:
        from measurekit.publish.ledger import Ledger

        led = Ledger(state.inputs.ledger)
    tables = ready(state.cohort, "cohort").tables
    # a framework's own population, area and table names -> the board table's technical names (unchanged else)
    frame = technical_frame(ready(state.scored, "scores"), tables, fw)
    lookup_name = (fw.population.lookup if declared(fw) and fw.population is not None and fw.population.lookup
                   else "small_areas")
    state.board_table = build_board_table(frame, framework=fw, weights=weights, lookup=tables.get(lookup_name),
                                          ledger=led, evidence=ready(state.evidence, "framework evidence"))
    return f"{len(state.board_table.rows):,} rows, disclosure control applied"


def board_pack_step(state: RunState) -> str:
    """The board pack and the shareable folder's README, rendered from the board table (``state.board_table``)
    with the evidence notes of this run's measurement results (reliability, added value, COSMIN): the draft of
    every file but the specification sheets (``board_pack_draft``, written while the analysis steps ran) finished
    with the specification sheets, passed by the gate and put in place."""
    from measurekit.publish.board_pack import shareable_readme

    board = ready(state.board_table, "board table")
    _, files = _finish_pack(state, evidence_notes(state))
    state.board = Board(board_table=board, files=files)
    atomic.write_text(state.shareable / "README.txt", shareable_readme(board, files, state.shareable),
                      root=state.shareable)
    state.files["board pack (shareable)"] = Path("shareable/board_pack")
    state.files[f"{board.words.area} briefings (shareable)"] = Path("shareable/board_pack/briefing")
    state.files["shareable folder README"] = Path("shareable/README.txt")
    return "data package, workbook, spec sheets and briefings"


DRAFT = ".board_pack.draft"     # the pack's draft folder, beside shareable/board_pack inside the run's own folder


def board_pack_draft(state: RunState) -> str:
    """The early part of the Board pack step: every file of the pack that needs no analysis result (board table CSV,
    data package, workbook, briefings, family pages, EES files; all but the specification sheets) written from the
    board table, while the reliability, fairness and added-value steps run in worker processes, into
    ``shareable/.board_pack.draft`` (inside the run's temporary folder: nothing is in place before the whole run
    succeeds) and read once by the gate. A folder of years builds its board table of every period here too."""
    from measurekit.publish.board_pack import draft_board_pack

    folder = state.shareable / DRAFT
    atomic.inside(state.work, folder).mkdir(parents=True, exist_ok=True)
    if state.periods is None:
        state.pack_draft = draft_board_pack(ready(state.board_table, "board table"), folder)
        return "every file but the specification sheets"
    from measurekit.publish.over_time_pack import build_board_table_over_time, over_time_published

    fw, periods = ready(state.framework, "framework"), ready(state.periods, "periods")
    led = None
    if state.inputs.ledger is not None:
        from measurekit.publish.ledger import Ledger

        led = Ledger(state.inputs.ledger)
    board = build_board_table_over_time(periods, framework=fw, ledger=led,
                                        evidence=ready(state.evidence, "framework evidence"))
    over = over_time_published(board, periods)
    state.pack_draft = draft_board_pack(board, folder, readme=True, over_time=over)
    return f"{len(periods.labels)} periods in one board table; every file but the specification sheets"


def _finish_pack(state: RunState, notes: dict):
    """The drafted pack (``board_pack_draft``; drafted here when the early part did not run) moved into
    ``shareable/board_pack`` (swapped in as one folder), finished with the specification sheets and passed by the
    gate. Returns the board table it was rendered from and the pack's main files."""
    import os

    from measurekit.publish.board_pack import finish_board_pack, pack_files

    if state.pack_draft is None:
        board_pack_draft(state)
    draft = ready(state.pack_draft, "board pack draft")
    out = state.shareable / "board_pack"
    with atomic.atomic_directory(out) as tmp:
        for entry in sorted(draft.folder.iterdir()):
            os.replace(entry, tmp / entry.name)
        draft.folder.rmdir()
        draft.folder = tmp
        finish_board_pack(draft, notes)
    state.pack_draft = None
    return draft.board, pack_files(draft, out)


PERIODS_README = (
    "The data folder holds {n} academic years ({labels}). The one-year analyses in this folder (linkage, scores, "
    "measurement, fairness, added value and coverage, the measurement evidence and the trial report) are of {period} "
    "only{why}. over_time/ holds the statistics over every period (what `measurekit over-time` writes: series, "
    "trends, change, targets, inequality, gaps, funnel, follow-up), with unsuppressed counts. validation_report.csv "
    "lists the problems of every period and across periods. The shareable board pack beside this folder carries "
    "every period.")


def over_time_step(state: RunState) -> str:
    """The statistics over every period of a folder of years (``stats/over_time.py``, what ``measurekit over-time``
    writes), into ``internal/over_time``; the internal README says which period the one-year analyses used."""
    from measurekit.stats.over_time import over_time, write_over_time

    step, fw, periods = "Over time (every period)", ready(state.framework, "framework"), ready(state.periods, "periods")
    labels = periods.labels
    why = (" (the latest; `measurekit run --period YYYY/YY` analyses another)" if state.inputs.period == labels[-1]
           else f" (chosen with --period; the latest is {labels[-1]})")
    text = PERIODS_README.format(n=len(labels), labels=", ".join(labels), period=state.inputs.period, why=why)
    atomic.write_text(state.internal / "README.txt",
                      INTERNAL_README + "\nSEVERAL PERIODS\n\n" + textwrap.fill(text, 110) + "\n")
    result = attempt(state, step, "statistics over time", over_time, periods, framework=fw, random_state=1)
    if result is None:
        return "skipped"
    write_over_time(result, state.internal / "over_time")
    state.files["over-time tables (internal)"] = Path("internal/over_time")
    return f"{len(labels)} periods ({labels[0]} to {labels[-1]}); {len(result.trend)} trends"


def board_pack_over_time_step(state: RunState) -> str:
    """The board pack of every period (what ``measurekit board-pack`` writes for the folder of years: one board
    table with a row set per period, protected and audited at once, and the over-time figures from the published
    numbers), with the chosen period's measurement evidence on the specification sheets, as a one-year run. The
    board table of every period and every file but the specification sheets are made in the step's early part
    (``board_pack_draft``), while the analysis steps run."""
    from measurekit.publish.board_pack import shareable_readme

    periods = ready(state.periods, "periods")
    # the one-year evidence, said to be of the period it was computed on
    board, files = _finish_pack(state, evidence_notes(state, computed_on=state.inputs.period))
    state.board = Board(board_table=board, files=files)
    latest = periods.labels[-1]
    extra = "\nSeveral periods\n" + textwrap.fill(
        f"board_pack/board_table.csv, the workbook and the open-data files carry every period "
        f"({', '.join(periods.labels)}); the briefings and family pages show {latest} with each indicator's series; "
        "board_pack/over_time/ holds the over-time figures, computed from the published numbers only. The "
        f"specification sheets' measurement evidence is from {state.inputs.period}.", 110) + "\n"
    atomic.write_text(state.shareable / "README.txt", shareable_readme(board, files, state.shareable) + extra,
                      root=state.shareable)
    state.files["board pack of every period (shareable)"] = Path("shareable/board_pack")
    state.files[f"{board.words.area} briefings (shareable)"] = Path("shareable/board_pack/briefing")
    state.files["shareable folder README"] = Path("shareable/README.txt")
    return f"{len(periods.labels)} periods in one board table, one disclosure audit"


def board_step(state: RunState) -> str:
    """The board pack: of one year, or of every period of a folder of years."""
    return board_pack_over_time_step(state) if state.periods is not None else board_pack_step(state)


def trial_report_step(state: RunState) -> str:
    from measurekit.pipeline.trial_report import write_trial_report

    path = write_trial_report(state, state.internal / "trial_report.html")
    state.files["trial report (internal)"] = path.relative_to(state.work)
    return path.name


@dataclass(frozen=True)
class Step:
    name: str
    func: Callable[[RunState], str]
    needs: tuple[str, ...] = ()   # RunState parts that must be filled in for the step to run
    # None: every run; else the step is part of a run only when this returns True (not logged, not "skipped")
    applies: Callable[[RunState], bool] | None = None
    # True: the step may run in a process of its own (``pipeline/workers.py``) while the main process goes on: it
    # reads only parts made before it and fills in only ``makes`` (attribute paths of the RunState, sent back),
    # its files and its ``skipped`` entries
    apart: bool = False
    makes: tuple[str, ...] = ()
    # True: the step reads nothing that the apart steps before it make, so it runs while they run; any other step
    # waits for them first
    beside: bool = False
    # a first part of the step that reads nothing the apart steps make: the runner runs it while they run (after
    # the steps beside them), and the step itself, in its place, does the rest with what they made
    early: Callable[[RunState], str] | None = None


STEPS = [
    Step("Link survey to records", link_step),
    Step("Score voice domains", score_step, needs=("linkage",)),
    Step("Coverage and response weights", coverage_step, needs=("scored",)),
    Step("Reliability and structure", reliability_step, needs=("scored",), apart=True, makes=("measurement",)),
    Step("Fairness: invariance and DIF", fairness_step, needs=("scored",), apart=True, makes=("fairness",)),
    Step("Added value", added_value_step, needs=("scored", "value"), apart=True,
         makes=("value.added_value", "value.outcomes")),
    # one year's board table, beside the workers; a folder of years builds every period's in the board pack step
    Step("Board table", board_table_step, needs=("scored",), beside=True, applies=lambda s: s.periods is None),
    # reads the framework, the linkage and the cohort only: beside the workers too
    Step("Two perspectives", perspectives_step, needs=("linkage",), applies=perspectives_applies, beside=True),
    # after them: it rates their results (its early part, content validity and retest, beside them)
    Step("Measurement evidence (COSMIN)", evidence_step, needs=("scored",), early=evidence_parts),
    Step("Over time (every period)", over_time_step, needs=("periods",), applies=lambda s: s.periods is not None),
    # its files that need no analysis result are drafted beside the workers (early), the rest after them
    Step("Board pack", board_step, needs=("scored",), early=board_pack_draft),
    Step("Trial report", trial_report_step, needs=("linkage",)),
]
