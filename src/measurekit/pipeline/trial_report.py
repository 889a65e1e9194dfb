"""The trial report: one self-contained HTML page for the analysts, built from the run state.

It holds unsuppressed counts (response rates by group, DIF sample sizes), so it is written to the
internal folder. Each section opens with a one-paragraph verdict in plain English (is each voice
domain reliable enough for group reporting, does it work the same across groups and for which
items not, does it add to GLD and by how much, whose voices are missing), then the evidence:
statistics labelled in words with R's name in brackets (:mod:`measurekit.core.labels`), p-values
as "< 0.001", counts as whole numbers. Technical column names appear only in the "For analysts"
appendix. A part that was skipped is named with its reason instead of a table.
"""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from measurekit.core import atomic, labels
from measurekit.pipeline.state import RunState
from measurekit.pipeline.steps import FAIRNESS_GROUPS

GOOD_ALPHA = 0.70          # usual minimum for comparing groups (Nunnally); individual decisions need ~0.90
LEVELS = {"configural": "Same structure (configural)", "thresholds": "Same thresholds (thresholds)",
          "metric": "Same loadings (metric)", "loadings": "Same loadings (loadings)",
          "scalar": "Same intercepts (scalar)", "intercepts": "Same intercepts (intercepts)",
          "strict": "Same residual variances (strict)", "residuals": "Same residual variances (residuals)"}
MEANS_COMPARABLE = {"scalar", "intercepts", "strict", "residuals"}     # levels at which group means can be compared
METRIC = {"metric", "loadings"}


def _base(level) -> str:
    return str(level).split(" ")[0]
OUTCOMES = {"gld": ("GLD at age 5", "reaching a Good Level of Development"),
            "y1_phonics_pass": ("Year 1 phonics (later outcome)", "passing the Year 1 phonics check")}


# ---------------------------------------------------------------- formatting helpers
def _col(name: str, r_name: str | None = None) -> str:
    return labels.statistic(name, r_name)


def _fmt(frame: pd.DataFrame, spec: list[tuple[str, str, object]]) -> pd.DataFrame:
    """A display table: (column, header, formatter) where formatter is "count", "p", "pct", an int (decimals)
    or a function; every cell becomes text so counts never show as 1859.00."""
    out = {}
    for col, header, how in spec:
        if col not in frame:
            continue
        s = frame[col]
        if how == "count":
            out[header] = s.map(labels.count)
        elif how == "p":
            out[header] = s.map(labels.p_value)
        elif how == "pct":
            out[header] = s.map(lambda x: labels.number(x * 100, 1) if pd.notna(x) else "")
        elif callable(how):
            out[header] = s.map(how)
        elif isinstance(how, int):
            out[header] = s.map(lambda x, d=how: labels.number(x, d) if isinstance(x, (int, float, np.number)) else x)
        else:
            out[header] = s.astype(str)
    return pd.DataFrame(out)


def _group_label(variable, group) -> str:
    if variable == "neighbourhood":
        return f"Neighbourhood: {group}"
    if variable == "home_language":
        return f"Home language: {group}"
    return labels.category(variable, group)


def _verdict(rep, s, text: str) -> None:
    rep.raw(s, f"<p class='verdict'><b>Verdict.</b> {html.escape(text)}</p>")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# ---------------------------------------------------------------- report
def write_trial_report(state: RunState, path: Path) -> Path:
    from measurekit.publish.html import HtmlReport

    fw = state.framework
    rep = HtmlReport("Trial report: voice-informed school readiness indicators",
                     f"Framework: {fw.title or fw.name or state.inputs.framework_dir.name}")
    summary = rep.section("Summary")
    verdicts: list[tuple[str, str]] = []
    rep.text(summary, "This report checks the input files, links parents' survey responses to children's records, "
                      "scores the voice domains and tests whether they are reliable, fair across groups and add to "
                      "what routine data already say. Each section starts with its verdict; the evidence follows. "
                      "Read who responded before any result: families who are seldom heard are the least likely to "
                      "be in the survey.")
    if getattr(state, "sample_note", ""):
        rep.text(summary, state.sample_note, "note")
    if state.skipped:
        rep.text(summary, "Some analyses could not run on these data and were skipped: "
                          + "; ".join(f"{k.step} ({k.reason})" for k in state.skipped) + ".", "note")
    for part in (_inputs, _linkage, _scores, _measurement, _fairness, _coverage, _added_value, _cosmin):
        v = part(rep, state)
        if v:
            verdicts.append(v)
    if verdicts:
        rep.raw(summary, "<ul>" + "".join(f"<li><b>{html.escape(t)}:</b> {html.escape(v)}</li>" for t, v in verdicts)
                + "</ul>")
    s = rep.section("Run details")
    rep.table(s, _fmt(pd.DataFrame([(x.name, x.seconds) for x in state.steps], columns=["step", "seconds"]),
                      [("step", "Step", None), ("seconds", "Seconds", 1)]))
    _appendix(rep, state)
    return atomic.write_text(path, rep.render())


def _inputs(rep, state):
    s = rep.section("Input checks")
    v = state.validation
    n_err, n_warn = len(v.errors), len(v.warnings)
    text = ("The input files passed every check." if not n_err and not n_warn else
            f"The input files have {labels.count(n_err)} error(s) and {labels.count(n_warn)} warning(s); "
            "the warnings are listed below and did not stop the run." if not n_err else
            f"The input files have {labels.count(n_err)} error(s): fix them before reading any result.")
    _verdict(rep, s, text)
    if len(v):
        rep.table(s, v.to_frame().head(50))
    return ("Input checks", text)


def _linkage(rep, state):
    s = rep.section("Linkage and who responded")
    link = state.linkage
    summ = link.summary.set_index("measure")
    cohort = summ["count"].get("children in the cohort")
    linked = summ["count"].get("children with a linked response")
    text = ""
    if cohort is not None and linked is not None and cohort:
        text = (f"{labels.count(linked)} of {labels.count(cohort)} children ({linked / cohort:.0%}) have a parent "
                "response linked to their record.")
        comp = link.comparison
        overall = linked / cohort
        for words, part in (("lower", comp[comp["rate"] <= overall - 0.10]), ("higher", comp[comp["rate"] >= overall + 0.10])):
            if len(part):
                text += (f" Response was at least 10 points {words} among: "
                         + ", ".join(f"{_group_label(r.variable, r.group)} ({r.rate:.0%})" for r in part.itertuples()) + ".")
        _verdict(rep, s, text)
    rep.table(s, _fmt(link.summary, [("measure", "Measure", lambda x: (str(x)[:1].upper() + str(x)[1:])
                                      .replace("child_id", "child reference")),
                                     ("count", "Count", "count"), ("percent", "Percent", lambda x: labels.percent(x, 1))]))
    for w in link.warnings:
        if not w.startswith("Response rates differ"):      # said in the verdict, with labels instead of codes
            rep.text(s, w, "note")
    comp = link.comparison.assign(label=[_group_label(r.variable, r.group) for r in link.comparison.itertuples()])
    rep.table(s, _fmt(comp, [("label", "Group", None), ("n_cohort", "Children", "count"),
                             ("n_linked", "Parent responses", "count"), ("rate", "Response rate (%)", "pct"),
                             ("difference", "Difference from the overall rate (points)", 1)]),
              caption="Response rate by group")
    fig, alt = _rate_chart(comp, "rate", "Response rate (%)", overall=(linked / cohort) if cohort else None)
    rep.figure(s, fig, "Share of each group with a linked parent response; dashed line: all children", alt=alt)
    return ("Who responded", text) if text else None


def _rate_chart(comp: pd.DataFrame, col: str, xlabel: str, overall=None, ref: float | None = None):
    plt = _plt()
    data = comp[comp["variable"].isin(["neighbourhood", "home_language", "fsm", "eal", "send"])]
    fig, ax = plt.subplots(figsize=(7, 0.24 * len(data) + 1))
    scale = 100 if col == "rate" else 1
    values = data[col].to_numpy(dtype=float) * scale
    ax.barh(np.arange(len(data)), values, color="#4a6f96")
    ax.set_yticks(np.arange(len(data)), data["label"], fontsize=8)
    ax.set_ylim(len(data) - 0.5, -0.5)
    if overall is not None:
        ax.axvline(overall * 100, color="#1b1b1b", ls="--", lw=1.2)
        ax.set_xlim(0, 100)
    if ref is not None:
        ax.axvline(ref, color="#1b1b1b", lw=1)
    ax.set_xlabel(xlabel)
    fig.tight_layout()
    alt = (f"Bar chart, {xlabel.lower()} by group: "
           + "; ".join(f"{lab} {v:.0f}" if scale == 100 else f"{lab} {v:.2f}" for lab, v in zip(data["label"], values)) + ".")
    return fig, alt


def _scores(rep, state):
    if state.score_summary is None:
        return None
    fw = state.framework
    s = rep.section("Voice domain scores")
    rep.text(s, "Each domain score is the mean of the answered items (1 = strongly disagree ... 5 = strongly agree, "
                "reverse-worded items flipped), for parents who answered enough of the domain's items.")
    titles = {d.score_column: d.title for d in fw.domains}
    rep.table(s, _fmt(state.score_summary, [("scale", "Domain", lambda x: titles.get(x, x)),
                                            ("count", "Parents with a score", "count"), ("mean", "Mean", 2),
                                            ("std", "Standard deviation", 2), ("min", "Lowest", 2),
                                            ("max", "Highest", 2)]))
    return None


def _measurement(rep, state):
    m = state.measurement
    if m is None:
        return None
    fw = state.framework
    s = rep.section("Reliability and structure")
    rel = m.reliability
    title_col = "title" if "title" in rel else "domain"
    good = rel[rel["ci_low"] >= GOOD_ALPHA]
    border = rel[(rel["raw_alpha"] >= GOOD_ALPHA) & (rel["ci_low"] < GOOD_ALPHA)]
    weak = rel[rel["raw_alpha"] < GOOD_ALPHA]
    parts = []
    if len(good) == len(rel):
        parts.append(f"All {len(rel)} voice domains are reliable enough for reporting groups such as neighbourhoods "
                     f"(Cronbach's alpha {rel['raw_alpha'].min():.2f} to {rel['raw_alpha'].max():.2f}, each with its 95% "
                     f"interval above {GOOD_ALPHA:.2f}); they are not precise enough for decisions about one child.")
    else:
        if len(good):
            parts.append("Reliable enough for group reporting: " + ", ".join(good[title_col]) + ".")
        if len(border):
            parts.append("Borderline (alpha above 0.70 but its interval reaches below): " + ", ".join(border[title_col])
                         + "; report with care.")
        if len(weak):
            parts.append("Not reliable enough yet (alpha below 0.70): " + ", ".join(weak[title_col])
                         + "; revise items with families before publishing.")
    if m.parallel is not None:
        k = m.parallel.n_factors
        parts.append(f"The answers support {k} distinct domain{'s' if k != 1 else ''}"
                     + (", as designed." if k == len(fw.domains) else f", against {len(fw.domains)} designed."))
    text = " ".join(parts)
    _verdict(rep, s, text)
    rep.text(s, "Cronbach's alpha says how consistently a domain's items move together (0.70 or more is usually "
                "enough for comparing groups; the interval is a bootstrap one). Parallel analysis compares the "
                "structure of the answers with random data to suggest how many distinct domains they support.")
    rep.table(s, _fmt(rel, [(title_col, "Domain", None), ("items", "Items", "count"), ("n", "Parents", "count"),
                            ("raw_alpha", _col("raw_alpha"), 2), ("ci_low", "95% interval, lower", 2),
                            ("ci_high", "95% interval, upper", 2), ("average_r", _col("average_r"), 2),
                            ("weakest_item", "Weakest item", None), ("weakest_r_drop", _col("r_drop"), 2)]))
    if m.parallel is not None:
        rep.figure(s, m.parallel.plot().figure, "Observed eigenvalues against random data (parallel analysis)",
                   alt=f"Scree plot: observed eigenvalues against those of random data; {m.parallel.n_factors} "
                       "observed eigenvalues lie above the random ones.")
    if m.efa is not None:
        rep.figure(s, m.efa.plot().figure, "Factor loadings (exploratory factor analysis, oblimin rotation)",
                   alt="Heat map of exploratory factor loadings: each item loads mainly on the factor of its own domain.")
    if m.omega is not None:
        rep.text(s, f"{_col('omega_total')}: {m.omega.omega_total:.2f} (all common factors); "
                    f"{_col('omega_h')}: {m.omega.omega_h:.2f} (one general factor). A low omega hierarchical means "
                    "the domains are better reported separately than as one total.")
    if m.item_analysis is not None:
        flagged = m.item_analysis.items
        flagged = flagged[flagged["flags"] != ""]
        rep.text(s, "Items to look at again with families: "
                 + ("; ".join(f"{i} (“{_stem(fw, i)}”): {str(r).replace('_', ' ')}" for i, r in flagged["flags"].items())
                    or "none flagged."))
    return ("Reliability", text)


def _stem(fw, item_id: str) -> str:
    try:
        return fw.item(item_id).stem.get("en", item_id)
    except Exception:   # noqa: BLE001 - an item id the framework does not know: show the id alone
        return item_id


def _highest_level(inv) -> tuple[str | None, pd.Series | None]:
    """The last level that holds with every level before it holding too (None when metric already fails)."""
    t = inv.table
    level = None
    for _, r in t.iterrows():
        if _base(r["level"]) == "configural":
            continue
        if _result(r["verdict"]) != "holds":
            break
        level = _base(r["level"])
    return level, t.assign(base=t["level"].map(_base)).set_index("base")


def _result(verdict) -> str:
    v = str(verdict)
    if "does not hold" in v:
        return "does not hold"
    if "not judged" in v:
        return "not judged"
    if "holds" in v:
        return "holds"
    return "baseline" if v.startswith("configural") else ""


def _fairness(rep, state):
    f = state.fairness
    if f is None:
        return None
    fw = state.framework
    s = rep.section("Fairness across language and poverty groups")
    parts, reconcile = [], []
    dif_t = f.dif.table if f.dif is not None else None
    flagged = dif_t[dif_t["flag"]] if dif_t is not None else pd.DataFrame()
    for group, label in FAIRNESS_GROUPS.items():
        inv = f.invariance.get(group)
        if inv is None:
            continue
        level, t = _highest_level(inv)
        if level in MEANS_COMPARABLE:
            parts.append(f"By {label}, the domains work the same way (invariance up to the {level} level), so group "
                         "means can be compared.")
            key = next((k for k in ("scalar", "intercepts") if t is not None and k in t.index), None)
            scalar = t.loc[key] if key else None
            if group == "home_language_group" and len(flagged) and scalar is not None:
                reconcile.append((label, scalar))
        elif level in METRIC or level == "thresholds":
            parts.append(f"By {label}, items relate to their domains equally (metric invariance) but the same answers "
                         "may not mean the same level (scalar invariance fails): do not compare group means yet.")
        else:
            parts.append(f"By {label}, the domains do not have the same structure in every group: do not compare groups.")
    if dif_t is not None:
        if len(flagged):
            parts.append("Item by item, " + "; ".join(
                f"{r.item} (“{_stem(fw, r.item)}”) works differently for families whose home language is not English "
                f"(p {_p_words(r.p13)}, effect size {r.r2_13:.3f})" for r in flagged.itertuples())
                + ". Act on the item-level result: review its wording and translation with families.")
        else:
            parts.append("No item works differently by home language.")
    text = " ".join(parts)
    _verdict(rep, s, text)
    for label, scalar in reconcile:
        rep.raw(s, "<p class='note'><b>Why the two results do not contradict each other.</b> " + html.escape(
            f"Invariance by {label} is a whole-scale test: it asks whether the means of all items together can be "
            f"compared, treating the answers as {f.route.split(' (')[0]}, and its thresholds (change in comparative fit "
            f"index no worse than -0.010) allow small differences in single items. Here the change was "
            f"{scalar['delta_cfi']:+.3f}" + (f" and the chi-square difference test gave p {_p_words(scalar['p_val'])}"
                                             if pd.notna(scalar.get("p_val")) else "")
            + ", so the whole scale passes while one item does not. Differential item functioning (DIF) is an "
            "item-level test on the ordinal answers of parents at the same level of the domain, so it sees what the "
            "whole-scale test averages away. Act on the DIF flag: until the item is reviewed, compare language groups "
            "on its domain with and without it.") + "</p>")
    rep.text(s, "Measurement invariance asks whether the instrument works the same way in each group; items treated "
                f"as {f.route}. Differential item functioning (DIF) asks, item by item, whether families at the same "
                "level answer differently depending on their group.")
    for group, label in FAIRNESS_GROUPS.items():
        inv = f.invariance.get(group)
        if inv is None:
            continue
        rep.table(s, _fmt(inv.table, [("level", "Level", lambda x: LEVELS.get(_base(x), x)),
                                      ("chisq", _col("chisq"), 2), ("df", _col("df"), "count"),
                                      ("chisq_scaled", _col("chisq_scaled"), 2), ("df_scaled", _col("df_scaled"), _cell),
                                      ("cfi", _col("cfi"), 3), ("cfi_scaled", _col("cfi_scaled"), 3),
                                      ("rmsea", _col("rmsea"), 3), ("rmsea_scaled", _col("rmsea_scaled"), 3),
                                      ("delta_cfi", _col("delta_cfi"), 3),
                                      ("delta_rmsea", _col("delta_rmsea"), 3),
                                      ("p_val", "Chi-square difference test, p-value (p_val)", "p"),
                                      ("verdict", "Result", _result)]),
                  caption=f"Invariance by {label}: items treated as {f.routes.get(group, f.route)}")
    if dif_t is None:
        return ("Fairness", text)
    titles = {d.id: d.title for d in fw.domains}
    show = dif_t.assign(flag_words=dif_t["flag"].map({True: "Yes", False: "No"}))
    rep.table(s, _fmt(show, [("domain", "Domain", lambda x: titles.get(x, x)), ("item", "Item", None),
                             ("n", "Parents", "count"), ("chi12", _col("chi12"), 2), ("p12", _col("p12"), "p"),
                             ("chi23", _col("chi23"), 2), ("p23", _col("p23"), "p"), ("r2_13", _col("r2_13"), _small),
                             ("flag_words", "Flagged", None),
                             ("dif_type", "Type of difference", lambda x: str(x).replace("-", " ") if x else "")]),
              caption="Differential item functioning by home language (English or other), within each domain")
    for r in flagged.itertuples():
        rep.figure(s, f.dif.plot(r.item).figure, f"{r.item}: mean answer at the same domain score, by home language",
                   alt=f"Line chart for item {r.item}: mean answer against the domain score for families whose home "
                       "language is English and for other families; the lines are apart, which is the difference "
                       "the DIF test flags.")
    return ("Fairness", text)


def _small(x) -> str:
    """An effect size near zero: four decimals, or "< 0.0001" rather than a misleading 0.0000."""
    if x is None or pd.isna(x):
        return ""
    return "< 0.0001" if abs(x) < 0.0001 else f"{x:.4f}"


def _p_words(p) -> str:
    text = labels.p_value(p)
    return text if text.startswith("<") else f"= {text}"


def _coverage(rep, state):
    v = state.value
    if v is None or v.coverage is None:
        return None
    s = rep.section("Whose voices were heard")
    cov = v.coverage
    t = cov.table.assign(label=[_group_label(r.variable, r.group) for r in cov.table.itertuples()])
    missing = t[t["representation"] < 0.85]
    text = (f"{_col('r_indicator', 'R-indicator')}: {cov.r_indicator:.2f} (1 = every group equally likely to "
            "respond). ")
    text += ("Under-represented by more than 15% (their share of respondents against their share of children): "
             + ", ".join(f"{r.label} ({r.representation:.2f})" for r in missing.itertuples())
             + ". Unweighted voice figures speak mostly for the groups who responded."
             if len(missing) else "No group is under-represented by more than 15%.")
    _verdict(rep, s, text)
    fig, alt = _rate_chart(t, "representation", "Share of respondents / share of children (1 = fair share)", ref=1.0)
    rep.figure(s, fig, "Who is over- and under-represented among respondents; the line at 1 is a fair share", alt=alt)
    if v.weights is not None:
        w = v.weights
        rep.text(s, f"Raking weights (neighbourhood, English as an additional language, free school meals): "
                    f"{_col('n_eff')} {labels.count(w.n_eff)} of {labels.count(len(w.weights))} respondents.")
    return ("Whose voices are missing", text)


def _added_value(rep, state):
    if state.value is None:
        return None
    out = None
    for outcome, (label, words) in OUTCOMES.items():
        v = state.value.added_value.get(outcome)
        if v is None:
            continue
        s = rep.section(f"Added value: {label}")
        t = v.table.set_index("measure")
        auc = t.loc["auc"] if "auc" in t.index else None
        yes = v.p_val < 0.05
        text = (f"{'Yes' if yes else 'No clear evidence'}: the voice domains "
                f"{'add' if yes else 'do not clearly add'} to routine data in predicting children {words} "
                f"(likelihood-ratio test p {_p_words(v.p_val)}).")
        if auc is not None and pd.notna(auc["difference"]):
            d = auc["difference"]
            size = "a small" if d < 0.01 else "a modest" if d < 0.03 else "a substantial"
            text += (f" The gain is {size} one: the area under the ROC curve goes from {auc['base']:.3f} to "
                     f"{auc['full']:.3f} (+{d:.3f}, 95% interval {auc['ci_low']:+.3f} to {auc['ci_high']:+.3f}).")
        _verdict(rep, s, text)
        out = out or ("Added value", "")
        out = ("Added value", (out[1] + " " if out[1] else "") + f"{label}: {text}")
        rep.text(s, "The likelihood-ratio test says whether the voice domains add anything beyond routine data "
                    "(such as free school meals, special educational needs and English as an additional language); "
                    "the other rows say how much, with bootstrap intervals.")
        show = v.table.assign(measure_words=v.table["measure"].map(lambda m: _col(m)))
        rep.table(s, _fmt(show, [("measure_words", "Measure", None), ("base", "Routine data only", 3),
                                 ("full", "Routine data + voice", 3), ("difference", "Difference", 3),
                                 ("ci_low", "95% interval, lower", 3), ("ci_high", "95% interval, upper", 3),
                                 ("df", _col("df"), "count"), ("p_val", _col("p_val"), "p")]))
        rep.figure(s, v.plot(), "ROC curves and calibration of the routine and routine + voice models",
                   alt=f"Left: ROC curves of the two models predicting {words}; the routine + voice curve lies "
                       "slightly above. Right: observed against predicted risk by tenths for both models.")
        for note in v.warnings:
            if "`dropped`" in note:
                note = note.replace("see `dropped` for how they differ from those analysed.",
                                    "the table below shows how they differ from those analysed.")
                rep.text(s, note, "note")
                dropped = getattr(v, "dropped", None)
                if dropped is not None and len(dropped):
                    rep.table(s, _fmt(dropped, [("variable", "Characteristic", lambda x: labels.breakdown(x)),
                                                ("analysed_mean", "Children analysed (mean)", 3),
                                                ("dropped_mean", "Children left out (mean)", 3)]))
            else:
                rep.text(s, note, "note")
    return out


def _codes_to_words(text) -> str:
    """Breakdown codes inside a sentence (``by fsm``, ``home_language_group``) replaced by their labels."""
    import re

    return re.sub(r"\b(" + "|".join(sorted(labels.BREAKDOWNS, key=len, reverse=True)) + r")\b",
                  lambda m: labels.breakdown(m.group(1)).lower() if m.group(1) != "all" else m.group(1), str(text))


def _cell(x) -> str:
    """Any evidence-card value as text: yes/no, whole numbers without decimals, others to 2 decimals."""
    if isinstance(x, (bool, np.bool_)):
        return "Yes" if x else "No"
    if x is None or (isinstance(x, float) and np.isnan(x)) or x == "":
        return ""
    if isinstance(x, (int, np.integer)) or (isinstance(x, (float, np.floating)) and float(x).is_integer()):
        return labels.count(x)
    if isinstance(x, (float, np.floating)):
        return f"{x:.2f}"
    return str(x).replace("_", " ")


def _cosmin(rep, state):
    c = getattr(state, "cosmin", None)
    if c is None:
        return None
    fw = state.framework
    s = rep.section("Measurement properties (COSMIN)")
    t = c.table
    bad = t[t["rating"] == "-"]
    unknown = t[t["rating"] == "?"]
    text = (f"{labels.count((t['rating'] == '+').sum())} of {labels.count(len(t))} ratings are sufficient (+)"
            + ("; insufficient (-): " + "; ".join(f"{labels.indicator(fw, r.indicator)}, {r.property}"
                                                  for r in bad.itertuples()) if len(bad) else "")
            + (f"; {labels.count(len(unknown))} cannot be rated yet (?) for lack of evidence" if len(unknown) else "")
            + ".")
    _verdict(rep, s, text)
    rep.text(s, "Each voice indicator's measurement properties rated by COSMIN's published criteria (Prinsen et al. "
                "2018; Terwee et al. 2007): + sufficient, - insufficient, ? indeterminate (not enough evidence yet). "
                "The criterion and its source are in the table.")
    titles = {d.id: d.title for d in fw.domains}
    spec = [("indicator", "Indicator", lambda x: labels.indicator(fw, x)), ("domain", "Domain", lambda x: titles.get(x, x)),
            ("property", "Property", lambda x: str(x)[:1].upper() + str(x)[1:]), ("result", "Result", _codes_to_words),
            ("rating", "Rating", None), ("criterion", "Criterion", None), ("source", "Source", None)]
    rep.table(s, _fmt(t, spec), caption="Measurement properties by indicator")
    items = c.items
    spec = [("item", "Item", None), ("domain", "Domain", lambda x: titles.get(x, x))]
    spec += [(col, _col(col), _cell) for col in items.columns if col not in ("item", "domain")]
    rep.table(s, _fmt(items, spec), caption="Evidence card of every item")
    return ("Measurement properties", text)


def _appendix(rep, state):
    """Technical names, for analysts who open the CSV files or compare with R."""
    s = rep.section("For analysts")
    rep.raw(s, "<div class='analysts'>")
    rep.text(s, "The tables behind this report are CSV files in the internal folder, with the technical column names "
                "used by R (psych, lavaan, lordif) so that results can be compared directly.")
    used = ["raw_alpha", "average_r", "r_drop", "chisq", "df", "cfi", "rmsea", "delta_cfi", "delta_rmsea", "p_val",
            "chi12", "p12", "chi23", "p23", "r2_13", "lr_chisq", "auc", "brier", "nri_events", "nri_nonevents",
            "r_indicator", "n_eff"]
    rows = pd.DataFrame([(n, labels.STATISTICS[n]) for n in used], columns=["Column name", "Meaning"])
    rep.table(s, rows)
    codes = pd.DataFrame([(f"{b} = {v}", labels.category(b, v)) for (b, v) in labels.CATEGORIES if b != "all"],
                         columns=["Code in the data", "Label in this report"])
    rep.table(s, codes)
    rep.raw(s, "</div>")
