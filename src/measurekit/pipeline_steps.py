"""The steps of the main job (``measurekit run``), each a function of the run context.

Each step stores its results in ``ctx.results``, writes its files under ``ctx.work`` and
records them in ``ctx.files`` (label -> path relative to the output folder).
"""
from __future__ import annotations

from pathlib import Path

from measurekit import _io


def validate(ctx, out: Path) -> str:
    from measurekit.data import validate_dir
    from measurekit.problems import InputError
    from measurekit.spec import load_framework

    ctx.results["framework"] = load_framework(ctx.framework_dir)
    report = validate_dir(ctx.data_dir, ctx.config, ctx.results["framework"])
    ctx.results["validation"] = report
    if not report.ok:
        path = Path(out) / "validation_report.csv"
        _io.write_csv(path, report.to_frame())
        print(report.to_text(limit=30))
        raise InputError(report)
    return report.summary()


def link_step(ctx) -> str:
    from measurekit.data import link, read_dir

    cohort = read_dir(ctx.data_dir, ctx.config, ctx.results["framework"])
    result = link(cohort)
    ctx.results["cohort"] = cohort
    ctx.results["linkage"] = result
    _io.write_csv(ctx.work / "validation_report.csv", ctx.results["validation"].to_frame())
    ctx.files["validation report"] = Path("validation_report.csv")
    _io.write_csv(ctx.work / "linkage" / "linkage_summary.csv", result.summary)
    _io.write_csv(ctx.work / "linkage" / "linkage_comparison.csv", result.comparison)
    _io.write_csv(ctx.work / "linkage" / "unmatched_responses.csv", result.unmatched_responses)
    ctx.files["linkage report"] = Path("linkage")
    linked = int(result.summary.loc[result.summary["measure"] == "children with a linked response", "count"].iloc[0])
    return f"{linked} of {len(result.linked)} children have a linked parent response"


def score_step(ctx) -> str:
    from measurekit.scoring import score

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
    _io.write_csv(ctx.work / "scores" / "score_summary.csv", summary)
    ctx.files["scale score summary"] = Path("scores/score_summary.csv")
    return f"{len(cols)} domain scores for {len(responders)} respondents"


STEPS = [
    ("Link survey to records", link_step),
    ("Score voice domains", score_step),
]


def write_report(ctx) -> str:
    from measurekit.report import HtmlReport

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
    s = rep.section("Run details")
    import pandas as pd

    rep.table(s, pd.DataFrame(ctx.results["step_times"], columns=["step", "seconds"]), digits=2)
    _io.write_text(ctx.work / "trial_report.html", rep.render())
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
