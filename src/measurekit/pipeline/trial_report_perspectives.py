"""The trial report's section on two perspectives (``pipeline/perspectives_step.py``), from the run state alone.

Plain words first (which topics the two perspectives rate differently, where one perspective is missing most,
what changed between reviews, how often a routine measure and the ratings disagree), then the tables: agreement
per topic and domain (psych::ICC's ICC(2,1), weighted kappa, Bland-Altman limits, share within k points),
divergence by area and group, missingness by perspective and area, change between reviews, discordance with the
routine measures. Unsuppressed: the internal trial report only.
"""
from __future__ import annotations

import pandas as pd

from measurekit.core import labels


def _who(name: str) -> str:
    return str(name).replace("_", " ")


def _topic_words(fw, name) -> str:
    try:
        return fw.item(str(name)).topic()
    except Exception:   # noqa: BLE001 - a domain or pooled row: its title, or the name in words
        try:
            return fw.domain(str(name)).title
        except Exception:   # noqa: BLE001
            return str(name).replace("_", " ")


def _num(x, dp: int = 2) -> str:
    return "" if x is None or pd.isna(x) else f"{float(x):.{dp}f}"


def _ci(lo, hi, dp: int = 2) -> str:
    return "" if pd.isna(lo) or pd.isna(hi) else f"{float(lo):.{dp}f} to {float(hi):.{dp}f}"


def _pct(x) -> str:
    return "" if x is None or pd.isna(x) else f"{100 * float(x):.0f}%"


def perspectives_section(rep, state, verdict):
    """Add the section to ``rep`` (the trial report's page model); ``verdict(rep, s, text)`` writes its verdict.
    Returns (title, verdict text) for the summary, or None when the step did not run."""
    p = getattr(state, "perspectives", None)
    if p is None:
        return None
    fw = state.framework
    area_words = fw.area.area_word if fw.area is not None else "area"
    first, second = _who(p.first), _who(p.second)
    s = rep.section("Two perspectives: agreement, divergence, missing ratings, change, routine measures")
    parts = []
    if p.divergence is not None:
        f = p.divergence.flagged
        f = f[(f["level"] == "topic")]
        div = f[f["diverges"].astype(bool)]
        if len(div):
            parts.append("The two perspectives differ beyond chance on " + "; ".join(
                f"{_topic_words(fw, r.name)} ({first} minus {second}: {r.mean_diff:+.1f} points, 95% CI "
                f"{_ci(r.ci_low, r.ci_high, 1)})" for r in div.itertuples()) + ".")
        else:
            parts.append(f"No topic differs by {1:g} point or more between {first} and {second} beyond chance.")
    if p.agreement is not None and "icc2" in p.agreement.table:
        t = p.agreement.table
        t = t[(t["level"] == "topic") & t["icc2"].notna()]
        good = int((t["icc2"] >= 0.70).sum())
        parts.append(f"Agreement (ICC(2,1)) is at least 0.70 on {good} of {len(t)} topics.")
    if p.missingness is not None:
        m = p.missingness.table
        m = m[(m["name"] == "all topics") & (m["by"] == p.area)]
        for who in (p.first, p.second):
            mw = m[m["perspective"] == who]
            if len(mw):
                top = mw.sort_values("share_missing").iloc[-1]
                parts.append(f"{_who(who).capitalize()} ratings are missing most in {top['group']} "
                             f"({_pct(top['share_missing'])} of expected ratings).")
    if p.discordance is not None and len(p.discordance):
        d = p.discordance[p.discordance["by"] == "all"]
        for r in d.itertuples():
            parts.append(f"{r.check}: {_topic_words(fw, r.name)}, {labels.count(r.numerator)} of "
                         f"{labels.count(r.denominator)} ({_pct(r.share)}).")
    text = " ".join(parts) or "The two perspectives were compared; see the tables."
    verdict(rep, s, text)
    rep.text(s, f"Each topic is rated 0-10 by the {first} and by the {second} at each review. Agreement uses each "
                f"person's latest review rated from both sides; differences are {first} minus {second}; ratings "
                f"within {state.framework.analysis.perspectives.k:g} points count as close. Statistics as R "
                "computes them: psych::ICC (ICC(2,1), two-way random, absolute agreement), psych::cohen.kappa "
                "(quadratic weights), Bland-Altman 95% limits of agreement, Wilson intervals for shares.")
    if p.agreement is not None:
        t = p.agreement.table
        cols = {"level": "Level", "name": "Topic or domain", "n": "Pairs", "icc2": "ICC(2,1)",
                "icc2_ci": "95% CI", "kappa_quadratic": "Weighted kappa (quadratic)", "mean_diff": "Mean difference",
                "loa": "Limits of agreement", "share_within": f"Within {p.agreement.k:g} points"}
        rows = pd.DataFrame({
            "level": t["level"], "name": [_topic_words(fw, n) for n in t["name"]],
            "n": [labels.count(x) if pd.notna(x) else "" for x in t["n"]],
            "icc2": [_num(x) for x in t.get("icc2", pd.Series(index=t.index, dtype=float))],
            "icc2_ci": [_ci(a, b) for a, b in zip(t.get("icc2_ci_low", t["n"] * float("nan")),
                                                   t.get("icc2_ci_high", t["n"] * float("nan")))],
            "kappa_quadratic": [_num(x) for x in t.get("kappa_quadratic", pd.Series(index=t.index, dtype=float))],
            "mean_diff": [_num(x, 1) for x in t.get("mean_diff", pd.Series(index=t.index, dtype=float))],
            "loa": [_ci(a, b, 1) for a, b in zip(t.get("loa_low", t["n"] * float("nan")),
                                                  t.get("loa_high", t["n"] * float("nan")))],
            "share_within": [_pct(x) for x in t.get("share_within", pd.Series(index=t.index, dtype=float))],
        }).rename(columns=cols)
        rep.table(s, rows, caption="Agreement between the two perspectives, per topic and domain (latest review)")
    if p.divergence is not None:
        t = p.divergence.table
        t = t[(t["level"] == "topic") & (t["by"] != "all")]
        if len(t):
            wide = t.assign(cell=[f"{m:+.1f} ({_ci(a, b, 1)})" if pd.notna(m) else "" for m, a, b in
                                  zip(t["mean_diff"], t["ci_low"], t["ci_high"])],
                            topic=[_topic_words(fw, n) for n in t["name"]])
            for by, g in wide.groupby("by", sort=False):
                table = g.pivot_table(index="topic", columns="group", values="cell", aggfunc="first",
                                      sort=False).reset_index()
                table.columns = [str(c) for c in table.columns]
                label = area_words if by == p.area else _who(by)
                rep.table(s, table.rename(columns={"topic": "Topic"}),
                          caption=f"Mean difference ({first} minus {second}) by {label}, with 95% CI")
    if p.missingness is not None:
        m = p.missingness.table
        m = m[(m["name"].isin(["all topics", "whole review"])) & (m["by"].isin(["all", p.area]))]
        rows = pd.DataFrame({"Perspective": [_who(x) for x in m["perspective"]], "What": m["name"],
                             area_words.capitalize(): m["group"].astype(str),
                             "Expected": [labels.count(x) for x in m["n_expected"]],
                             "Missing": [labels.count(x) for x in m["n_missing"]],
                             "Share missing": [_pct(x) for x in m["share_missing"]],
                             "95% CI": [f"{_pct(a)} to {_pct(b)}" for a, b in zip(m["ci_low"], m["ci_high"])]})
        rep.table(s, rows, caption=f"Missing ratings by perspective and {area_words} (every review of every person "
                                   "expected)")
    if p.change is not None:
        t = p.change.table
        t = t[t["level"] == "topic"]
        rows = pd.DataFrame({"Topic": [_topic_words(fw, n) for n in t["name"]],
                             "Perspective": [_who(x) for x in t["perspective"]],
                             "Pairs of reviews": [labels.count(x) for x in t["n_pairs"]],
                             "Mean change": [_num(x, 2) for x in t["mean_change"]],
                             "95% CI": [_ci(a, b) for a, b in zip(t["ci_low"], t["ci_high"])]})
        rep.table(s, rows, caption="Change between consecutive reviews of the same person (later minus earlier)")
    if p.discordance is not None and len(p.discordance):
        d = p.discordance
        rows = pd.DataFrame({"Check": d["check"], "Topic": [_topic_words(fw, n) for n in d["name"]],
                             "Group": [("everyone" if b == "all" else f"{_who(b)}: {g}") for b, g in
                                       zip(d["by"], d["group"])],
                             "Rated": [labels.count(x) for x in d["denominator"]],
                             "Rated low": [labels.count(x) for x in d["numerator"]],
                             "Share": [_pct(x) for x in d["share"]],
                             "95% CI": [f"{_pct(a)} to {_pct(b)}" for a, b in zip(d["ci_low"], d["ci_high"])]})
        rep.table(s, rows, caption="Ratings that disagree with a routine measure (unsuppressed: internal only)",
                  max_rows=120)
    for w in p.warnings[:10]:
        rep.text(s, w, "note")
    return ("Two perspectives", text)
