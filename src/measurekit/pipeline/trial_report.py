"""The trial report: one self-contained HTML page for the analysts, built from the run state.

It holds unsuppressed counts (response rates by group, DIF sample sizes), so it is written to the
internal folder. Each section reads one part of ``RunState``; a part that was skipped is named
with its reason instead of a table.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from measurekit.core import atomic
from measurekit.pipeline.state import RunState
from measurekit.pipeline.steps import FAIRNESS_GROUPS


def write_trial_report(state: RunState, path: Path) -> Path:
    from measurekit.publish.html import HtmlReport

    fw = state.framework
    rep = HtmlReport("Trial report: voice-informed school readiness indicators",
                     f"Framework: {fw.name or state.inputs.framework_dir.name} · data: {state.inputs.data_dir}")
    s = rep.section("What this report covers")
    rep.text(s, "This report checks the input files, links parents' survey responses to children's routine records, "
                "and scores the voice domains. Read the notes on who responded before reading any result: families "
                "who are seldom heard are the least likely to be in the survey.")
    if state.sample_note:
        rep.text(s, state.sample_note, "note")
    if state.skipped:
        rep.text(s, "Some analyses could not run on these data and were skipped: "
                    + "; ".join(f"{k.step} ({k.reason})" for k in state.skipped) + ".", "note")
    _inputs(rep, state)
    _linkage(rep, state)
    _scores(rep, state)
    _measurement(rep, state)
    _fairness(rep, state)
    _coverage(rep, state)
    _added_value(rep, state)
    _cosmin(rep, state)
    s = rep.section("Run details")
    rep.table(s, pd.DataFrame([(x.name, x.seconds) for x in state.steps], columns=["step", "seconds"]), digits=2)
    return atomic.write_text(path, rep.render())


def _inputs(rep, state):
    s = rep.section("Input checks")
    v = state.validation
    rep.text(s, v.summary(), "ok" if v.ok else "bad")
    if len(v):
        rep.table(s, v.to_frame().head(50))


def _linkage(rep, state):
    s = rep.section("Linkage and who responded")
    link = state.linkage
    rep.table(s, link.summary, digits=1)
    for w in link.warnings:
        rep.text(s, w, "note")
    rep.table(s, link.comparison, caption="Response rate by group (difference from the overall rate, in points)", digits=3)
    rep.figure(s, _response_plot(link.comparison), "Share of each group with a linked parent response")


def _scores(rep, state):
    if state.score_summary is None:
        return
    s = rep.section("Voice domain scores")
    rep.text(s, "Each domain score is the mean of the answered items (1 = strongly disagree ... 5 = strongly agree, "
                "reverse-worded items flipped), for parents who answered enough of the domain's items.")
    rep.table(s, state.score_summary, digits=2)


def _measurement(rep, state):
    m = state.measurement
    if m is None:
        return
    fw = state.framework
    s = rep.section("Reliability and structure")
    rep.text(s, "Alpha says how consistently a domain's items move together (0.7 or more is usually enough for "
                "comparing groups; the interval is a bootstrap one). Parallel analysis compares the structure in "
                "the answers with random data to suggest how many distinct domains the answers support.")
    rep.table(s, m.reliability, digits=2)
    if m.parallel is not None:
        rep.text(s, f"Parallel analysis suggests {m.parallel.n_factors} factor(s) for {len(fw.domains)} designed domains.",
                 "ok" if m.parallel.n_factors == len(fw.domains) else "note")
        rep.figure(s, m.parallel.plot().figure, "Observed eigenvalues against random data")
    if m.efa is not None:
        rep.figure(s, m.efa.plot().figure, "Factor loadings (exploratory, oblimin)")
    if m.omega is not None:
        rep.text(s, f"Omega total {m.omega.omega_total:.2f} (all common factors); omega hierarchical "
                    f"{m.omega.omega_h:.2f} (a single general factor): the domains are better reported separately "
                    "than as one total when omega hierarchical is low.")
    if m.item_analysis is not None:
        flagged = m.item_analysis.items
        flagged = flagged[flagged["flags"] != ""]
        rep.text(s, "Items to look at again with families: "
                 + (", ".join(f"{i} ({r})" for i, r in flagged["flags"].items()) or "none flagged."))


def _fairness(rep, state):
    f = state.fairness
    if f is None:
        return
    s = rep.section("Fairness across language and poverty groups")
    rep.text(s, "Measurement invariance asks whether the instrument works the same way in each group (items "
                f"treated as {f.route}). Differential item functioning (DIF) asks, item by item, whether families "
                "at the same level answer differently depending on their group.")
    for group, label in FAIRNESS_GROUPS.items():
        inv = f.invariance.get(group)
        if inv is not None:
            cols = [c for c in ("level", "chisq", "df", "chisq_scaled", "df_scaled", "cfi", "cfi_scaled", "rmsea",
                                "rmsea_scaled", "delta_cfi", "delta_rmsea", "verdict") if c in inv.table]
            rep.table(s, inv.table[cols], caption=f"Invariance by {label} (items treated as {f.route})", digits=3)
    if f.dif is None:
        return
    dif_t = f.dif.table
    rep.table(s, dif_t[["domain", "item", "n", "chi12", "p12", "chi23", "p23", "r2_13", "flag", "dif_type"]],
              caption="DIF by home language (within each domain)", digits=4)
    for item in dif_t.loc[dif_t["flag"], "item"]:
        rep.figure(s, f.dif.plot(item).figure, f"{item}: answers at the same score, by home language")
        rep.text(s, f"{item} works differently by home language: review its wording and translation with families "
                    "before comparing groups on its domain.", "note")


def _coverage(rep, state):
    v = state.value
    if v is None or v.coverage is None:
        return
    s = rep.section("Whose voices were heard")
    cov = v.coverage
    rep.text(s, f"R-indicator {cov.r_indicator:.2f} (1 = every group equally likely to respond). "
                + str(cov.summary.set_index("measure").loc["who_is_missing", "value"]), "note")
    rep.figure(s, cov.plot(), "Share of respondents relative to share of the cohort")
    if v.weights is not None:
        w = v.weights
        rep.text(s, f"Raking weights (neighbourhood, EAL, FSM): effective sample size {w.n_eff:.0f} of "
                    f"{len(w.weights)} respondents.")


def _added_value(rep, state):
    if state.value is None:
        return
    for outcome, label in (("gld", "GLD at age 5"), ("y1_phonics_pass", "Year 1 phonics (later outcome)")):
        v = state.value.added_value.get(outcome)
        if v is None:
            continue
        s = rep.section(f"Added value: {label}")
        rep.text(s, "Do the voice domains add information about this outcome beyond routine data? The likelihood-ratio "
                    "test answers yes or no; the other rows say how much, with bootstrap intervals.")
        rep.table(s, v.table, digits=4)
        rep.figure(s, v.plot(), "ROC curves and calibration of the routine and routine + voice models")
        for note in v.warnings:
            rep.text(s, note, "note")


def _cosmin(rep, state):
    c = state.cosmin
    if c is None:
        return
    s = rep.section("Measurement properties (COSMIN)")
    rep.text(s, "Each voice indicator's measurement properties rated by COSMIN's published criteria (Prinsen et al. "
                "2018; Terwee et al. 2007): + sufficient, - insufficient, ? indeterminate (not enough evidence yet). "
                "The criterion and its source are in the table.")
    rep.table(s, c.table, caption="Measurement properties by indicator")
    rep.table(s, c.items, caption="Evidence card of every item", digits=2)


def _response_plot(comparison):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = comparison[comparison["variable"].isin(["neighbourhood", "home_language", "fsm", "eal"])]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(data) + 1))
    labels = [f"{r.variable}: {r.group}" for r in data.itertuples()]
    ax.barh(labels, data["rate"], color="#457b9d")
    first = comparison[comparison["variable"] == comparison["variable"].iloc[0]]
    overall = first["n_linked"].sum() / first["n_cohort"].sum()
    ax.axvline(overall, color="#e63946", ls="--", label=f"overall ({overall:.0%})")
    ax.set_xlim(0, 1)
    ax.set_xlabel("response rate")
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    return fig
