"""The steps of the main job (``measurekit run``), each a function of the run context.

Each step stores its results in ``ctx.results``, writes its files under ``ctx.work`` and
records them in ``ctx.files`` (label -> path relative to the output folder).
"""
from __future__ import annotations

from pathlib import Path

from measurekit.core import atomic


def validate(ctx, out: Path) -> str:
    from measurekit.data import validate_dir
    from measurekit.problems import InputError
    from measurekit.design import load_framework

    ctx.results["framework"] = load_framework(ctx.framework_dir)
    report = validate_dir(ctx.data_dir, ctx.config, ctx.results["framework"])
    ctx.results["validation"] = report
    if not report.ok:
        path = Path(out) / "validation_report.csv"
        atomic.write_csv(path, report.to_frame())
        print(report.to_text(limit=30))
        raise InputError(report)
    return report.summary()


def link_step(ctx) -> str:
    from measurekit.data import link, read_dir

    cohort = read_dir(ctx.data_dir, ctx.config, ctx.results["framework"])
    result = link(cohort)
    ctx.results["cohort"] = cohort
    ctx.results["linkage"] = result
    atomic.write_csv(ctx.work / "validation_report.csv", ctx.results["validation"].to_frame())
    ctx.files["validation report"] = Path("validation_report.csv")
    atomic.write_csv(ctx.work / "linkage" / "linkage_summary.csv", result.summary)
    atomic.write_csv(ctx.work / "linkage" / "linkage_comparison.csv", result.comparison)
    atomic.write_csv(ctx.work / "linkage" / "unmatched_responses.csv", result.unmatched_responses)
    ctx.files["linkage report"] = Path("linkage")
    linked = int(result.summary.loc[result.summary["measure"] == "children with a linked response", "count"].iloc[0])
    return f"{linked} of {len(result.linked)} children have a linked parent response"


def score_step(ctx) -> str:
    from measurekit.stats.scoring import score

    fw = ctx.results["framework"]
    frame = ctx.results["linkage"].linked
    responders = frame[frame["responded"] == 1]
    scores = score(responders, fw)
    scored = frame.join(scores)
    ctx.results["scored"] = scored
    cols = [d.score_column for d in fw.domains]
    summary = scored.loc[scored["responded"] == 1, cols].describe().T[["count", "mean", "std", "min", "max"]]
    summary = summary.rename_axis("scale").reset_index()
    ctx.results["score_summary"] = summary
    atomic.write_csv(ctx.work / "scores" / "score_summary.csv", summary)
    ctx.files["scale score summary"] = Path("scores/score_summary.csv")
    return f"{len(cols)} domain scores for {len(responders)} respondents"


def reliability_step(ctx) -> str:
    import pandas as pd

    from measurekit.stats.factor import efa, omega, parallel_analysis
    from measurekit.stats.items import item_analysis
    from measurekit.stats.reliability import alpha
    from measurekit.stats.scoring import item_values

    fw = ctx.results["framework"]
    scored = ctx.results["scored"]
    resp = scored[scored["responded"] == 1]
    values = item_values(resp, fw)
    rows = []
    for d in fw.domains:
        items = [i.id for i in fw.items_in(d.id)]
        a = alpha(values, items=items, n_boot=500, random_state=1)
        t = a.total.iloc[0]
        rows.append({"domain": d.title, "items": len(items), "n": int(values[items].notna().any(axis=1).sum()),
                     "alpha": t["raw_alpha"], "ci_low": t["ci_low"], "ci_high": t["ci_high"],
                     "average_r": t["average_r"], "weakest_item": a.items["r_drop"].idxmin(),
                     "weakest_r_drop": a.items["r_drop"].min()})
    rel = pd.DataFrame(rows)
    pa = parallel_analysis(values, random_state=1)
    k = max(pa.n_factors, 1)
    fa = efa(values, k)
    om = omega(values, n_factors=max(k, 3)) if values.shape[1] > 4 else None
    items = item_analysis(resp, fw, by=["home_language", "fsm"])
    ctx.results.update(reliability=rel, parallel=pa, efa=fa, omega=om, item_analysis=items)
    atomic.write_csv(ctx.work / "measurement" / "reliability.csv", rel)
    atomic.write_csv(ctx.work / "measurement" / "efa_loadings.csv", fa.loadings.reset_index())
    atomic.write_csv(ctx.work / "measurement" / "item_analysis.csv", items.items.reset_index())
    ctx.files["measurement tables"] = Path("measurement")
    return f"alpha {rel['alpha'].min():.2f}-{rel['alpha'].max():.2f}; parallel analysis suggests {pa.n_factors} factors"


def value_step(ctx) -> str:
    from measurekit.stats.coverage import coverage, response_weights
    from measurekit.stats.added_value import added_value

    fw = ctx.results["framework"]
    scored = ctx.results["scored"]
    by = [c for c in ("neighbourhood", "eal", "fsm", "send", "home_language") if c in scored]
    cov = coverage("responded", scored, by=by)
    weights = response_weights("responded", scored, by=[c for c in ("neighbourhood", "eal", "fsm") if c in scored])
    ctx.results.update(coverage=cov, weights=weights)
    atomic.write_csv(ctx.work / "value" / "coverage.csv", cov.table)
    new = [d.score_column for d in fw.domains]
    base = [c for c in ("fsm", "send", "eal", "sex", "summer_born", "asq_total") if c in scored]
    resp = scored[scored["responded"] == 1]
    notes = []
    for outcome, extra in (("gld", []), ("y1_phonics_pass", ["gld"])):
        if outcome not in resp or resp[outcome].isna().all():
            continue
        v = added_value(resp, outcome, base + extra, new, n_boot=500, random_state=1)
        ctx.results[f"value_{outcome}"] = v
        atomic.write_csv(ctx.work / "value" / f"added_value_{outcome}.csv", v.table)
        notes.append(f"{outcome}: LR p = {v.p_val:.2g}")
    ctx.files["added value and coverage"] = Path("value")
    return f"R-indicator {cov.r_indicator:.2f}; " + "; ".join(notes)


def fairness_step(ctx) -> str:
    from measurekit.stats.invariance import invariance
    from measurekit.stats.dif import dif
    from measurekit.stats.scoring import item_values

    fw = ctx.results["framework"]
    scored = ctx.results["scored"]
    resp = scored[scored["responded"] == 1]
    values = item_values(resp, fw)
    model = "\n".join(f"{d.id} =~ " + " + ".join(i.id for i in fw.items_in(d.id)) for d in fw.domains)
    data = values.copy()
    data["fsm"] = resp["fsm"]
    data["home_language_group"] = resp["home_language"].eq("English").map({True: "English", False: "other"})
    inv = {g: invariance(data, model, g) for g in ("fsm", "home_language_group")}
    domains = {d.id: [i.id for i in fw.items_in(d.id)] for d in fw.domains}
    r = dif(resp, domains, data["home_language_group"], reference="English", framework=fw)
    dif_table = r.table
    ctx.results.update(invariance=inv, dif=dif_table, dif_result=r)
    for g, r in inv.items():
        atomic.write_csv(ctx.work / "fairness" / f"invariance_{g}.csv", r.table)
    atomic.write_csv(ctx.work / "fairness" / "dif_home_language.csv", dif_table)
    ctx.files["fairness tables"] = Path("fairness")
    flagged = dif_table.loc[dif_table["flag"], "item"].tolist()
    return f"DIF by home language flags: {', '.join(flagged) or 'none'}"


def board_pack_step(ctx) -> str:
    from measurekit.publish.board_pack import write_board_pack

    fw = ctx.results["framework"]
    rel = ctx.results.get("reliability")
    notes = {}
    if rel is not None:
        for ind in fw.indicators:
            if ind.compute.source == "scale":
                d = ind.compute.field.removeprefix("voice_")
                row = rel[rel["domain"] == fw.domain(d).title]
                if len(row):
                    r = row.iloc[0]
                    notes.setdefault(ind.id, {})["reliability"] = (
                        f"alpha {r['alpha']:.2f} (95% CI {r['ci_low']:.2f}-{r['ci_high']:.2f}) in this trial")
        v = ctx.results.get("value_y1_phonics_pass")
        if v is not None:
            t = v.table.set_index("measure")
            text = (f"the four voice domains add to GLD and routine data in predicting Year 1 phonics "
                    f"(LR test p = {v.p_val:.1g}; AUC gain {t.loc['auc', 'difference']:.3f}, "
                    f"95% CI {t.loc['auc', 'ci_low']:.3f}-{t.loc['auc', 'ci_high']:.3f})")
            for ind in fw.indicators:
                if ind.compute.source == "scale":
                    notes.setdefault(ind.id, {})["added_value"] = text
    write_board_pack(fw, ctx.results["cohort"], ctx.work / "board_pack", evidence_notes=notes)
    ctx.files["board pack"] = Path("board_pack")
    ctx.files["neighbourhood briefings"] = Path("board_pack/briefing")
    return "board table, data package, workbook, spec sheets and briefings"


STEPS = [
    ("Link survey to records", link_step),
    ("Score voice domains", score_step),
    ("Reliability and structure", reliability_step),
    ("Fairness: invariance and DIF", fairness_step),
    ("Added value and coverage", value_step),
    ("Board pack", board_pack_step),
]


def write_report(ctx) -> str:
    from measurekit.publish.html import HtmlReport

    fw = ctx.results["framework"]
    rep = HtmlReport("Trial report: voice-informed school readiness indicators",
                     f"Framework: {fw.name or ctx.framework_dir.name} · data: {ctx.data_dir}")
    s = rep.section("What this report covers")
    rep.text(s, "This report checks the input files, links parents' survey responses to children's routine records, "
                "and scores the voice domains. Read the notes on who responded before reading any result: families "
                "who are seldom heard are the least likely to be in the survey.")
    s = rep.section("Input checks")
    v = ctx.results["validation"]
    rep.text(s, v.summary(), "ok" if v.ok else "bad")
    if len(v):
        rep.table(s, v.to_frame().head(50))
    s = rep.section("Linkage and who responded")
    link = ctx.results["linkage"]
    rep.table(s, link.summary, digits=1)
    for w in link.warnings:
        rep.text(s, w, "note")
    rep.table(s, link.comparison, caption="Response rate by group (difference from the overall rate, in points)", digits=3)
    rep.figure(s, _response_plot(link.comparison), "Share of each group with a linked parent response")
    s = rep.section("Voice domain scores")
    rep.text(s, "Each domain score is the mean of the answered items (1 = strongly disagree ... 5 = strongly agree, "
                "reverse-worded items flipped), for parents who answered enough of the domain's items.")
    rep.table(s, ctx.results["score_summary"], digits=2)
    s = rep.section("Reliability and structure")
    rep.text(s, "Alpha says how consistently a domain's items move together (0.7 or more is usually enough for "
                "comparing groups; the interval is a bootstrap one). Parallel analysis compares the structure in "
                "the answers with random data to suggest how many distinct domains the answers support.")
    rep.table(s, ctx.results["reliability"], digits=2)
    pa = ctx.results["parallel"]
    rep.text(s, f"Parallel analysis suggests {pa.n_factors} factor(s) for {len(fw.domains)} designed domains.",
             "ok" if pa.n_factors == len(fw.domains) else "note")
    rep.figure(s, pa.plot().figure, "Observed eigenvalues against random data")
    fa = ctx.results["efa"]
    rep.figure(s, fa.plot().figure, "Factor loadings (exploratory, oblimin)")
    if ctx.results.get("omega") is not None:
        om = ctx.results["omega"]
        rep.text(s, f"Omega total {om.omega_total:.2f} (all common factors); omega hierarchical {om.omega_h:.2f} "
                    "(a single general factor): the domains are better reported separately than as one total "
                    "when omega hierarchical is low.")
    flagged = ctx.results["item_analysis"].items
    flagged = flagged[flagged["flags"] != ""]
    rep.text(s, "Items to look at again with families: " + (", ".join(f"{i} ({r})" for i, r in flagged["flags"].items())
                                                            or "none flagged."))
    s = rep.section("Fairness across language and poverty groups")
    rep.text(s, "Measurement invariance asks whether the instrument works the same way in each group (items "
                "treated as continuous). Differential item functioning (DIF) asks, item by item, whether families "
                "at the same level answer differently depending on their group.")
    for g, label in (("fsm", "free school meals"), ("home_language_group", "home language (English vs other)")):
        inv = ctx.results["invariance"][g]
        rep.table(s, inv.table[["level", "chisq", "df", "cfi", "rmsea", "delta_cfi", "delta_rmsea", "verdict"]],
                  caption=f"Invariance by {label}", digits=3)
    dif_t = ctx.results["dif"]
    rep.table(s, dif_t[["domain", "item", "n", "chi12", "p12", "chi23", "p23", "r2_13", "flag", "dif_type"]],
              caption="DIF by home language (within each domain)", digits=4)
    for item in dif_t.loc[dif_t["flag"], "item"]:
        ax = ctx.results["dif_result"].plot(item)
        rep.figure(s, ax.figure, f"{item}: answers at the same score, by home language")
        rep.text(s, f"{item} works differently by home language: review its wording and translation with families "
                    "before comparing groups on its domain.", "note")
    s = rep.section("Whose voices were heard")
    cov = ctx.results["coverage"]
    rep.text(s, f"R-indicator {cov.r_indicator:.2f} (1 = every group equally likely to respond). "
                + str(cov.summary.set_index("measure").loc["who_is_missing", "value"]), "note")
    rep.figure(s, cov.plot(), "Share of respondents relative to share of the cohort")
    w = ctx.results["weights"]
    rep.text(s, f"Raking weights (neighbourhood, EAL, FSM): effective sample size {w.n_eff:.0f} of {len(w.weights)} respondents.")
    for outcome, label in (("gld", "GLD at age 5"), ("y1_phonics_pass", "Year 1 phonics (later outcome)")):
        v = ctx.results.get(f"value_{outcome}")
        if v is None:
            continue
        s = rep.section(f"Added value: {label}")
        rep.text(s, "Do the voice domains add information about this outcome beyond routine data? The likelihood-ratio "
                    "test answers yes or no; the other rows say how much, with bootstrap intervals.")
        rep.table(s, v.table, digits=4)
        rep.figure(s, v.plot(), "ROC curves and calibration of the routine and routine + voice models")
        for note in v.warnings:
            rep.text(s, note, "note")
    s = rep.section("Run details")
    import pandas as pd

    rep.table(s, pd.DataFrame(ctx.results["step_times"], columns=["step", "seconds"]), digits=2)
    atomic.write_text(ctx.work / "trial_report.html", rep.render())
    ctx.files["trial report"] = Path("trial_report.html")
    return "trial_report.html"


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
