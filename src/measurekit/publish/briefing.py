"""Indicator specification sheets (Markdown + HTML) and a self-contained briefing page per neighbourhood."""
from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd

from measurekit.core import atomic
from measurekit.publish.html import CSS, figure_to_data_uri, table_html


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _items_for(fw, ind):
    c = ind.compute
    if c.source == "scale":
        return fw.items_in(c.field.removeprefix("voice_"))
    if c.source == "item":
        return [fw.item(c.field)]
    return []


def _disclosure_text(d) -> str:
    text = (f"counts of {d.suppress_min} to {d.suppress_max} suppressed, with further cells suppressed so that no "
            "suppressed count can be worked out from the others" + (f"; counts rounded to the nearest {d.round_to}"
                                                                   if d.round_to and d.round_to > 1 else ""))
    if d.weakenings():
        text += (f". WEAKER THAN THE STANDARD RULE (counts of 1 to 5 suppressed): {'; '.join(d.weakenings())}. "
                 f"Agreed because: {d.reason.strip()}")
    return text


def spec_markdown(fw, ind, evidence=None, notes: dict | None = None) -> str:
    notes = notes or {}
    lines = [f"# {ind.title}", "", f"*Indicator `{ind.id}` of {fw.title or fw.name}*"
             + (" — ILLUSTRATIVE example, not an official indicator." if fw.illustrative else ""), ""]
    rows = [("Definition", ind.definition), ("Rationale", ind.rationale), ("Polarity", ind.polarity.replace("_", " ")),
            ("Unit and value type", f"{ind.unit} ({ind.value_type})"),
            ("Numerator", f"{ind.numerator.definition} (source: {ind.numerator.source})"),
            ("Denominator", f"{ind.denominator.definition} (source: {ind.denominator.source})"),
            ("How it is computed", f"{ind.compute.statistic.replace('_', ' ')} of {ind.compute.field}"
             + (f" (threshold {ind.compute.threshold:g})" if ind.compute.threshold is not None else "")
             + f", among the {ind.compute.population}"),
            ("Breakdowns", ", ".join(ind.breakdowns)), ("Confidence interval", ind.ci_method),
            ("Disclosure control", _disclosure_text(ind.disclosure)),
            ("Frequency", ind.frequency), ("Informs the decision", ind.informs_decision), ("Data quality", ind.data_quality)]
    lines += ["| Field | |", "|---|---|"] + [f"| {k} | {str(v).replace('|', '/')} |" for k, v in rows if v]
    items = _items_for(fw, ind)
    if items:
        lines += ["", "## Voice provenance", "",
                  "The items behind this indicator were shaped with these groups (quotes linked per item):", ""]
        for it in items:
            groups = ", ".join(g.replace("_", " ") for g in it.provenance.groups) or "no voice evidence recorded"
            lines.append(f"- **{it.id}** “{it.stem.get('en', '')}” — {groups}; status: {it.status.replace('_', ' ')}")
    if notes.get("reliability") or notes.get("added_value"):
        lines += ["", "## Evidence that it works", ""]
        for key in ("reliability", "added_value"):
            if notes.get(key):
                lines.append(f"- {key.replace('_', ' ').capitalize()}: {notes[key]}")
    if notes.get("cosmin"):     # a Markdown table from measurekit.stats.cosmin (CosminResult.to_markdown)
        lines += ["", "## Measurement properties (COSMIN)", "",
                  "Rated + sufficient, - insufficient, ? indeterminate, by the criterion shown.", "", notes["cosmin"]]
    if ind.caveats:
        lines += ["", "## Caveats", ""] + [f"- {c}" for c in ind.caveats]
    return "\n".join(lines) + "\n"


def _md_to_html(md: str, title: str) -> str:
    out, in_table, in_list = [], False, False
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set(line) <= set("|-"):
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            text = html.escape(line[2:])
            text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
            out.append(f"<li>{text}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("# "):
            out.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            out.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.strip():
            out.append(f"<p>{html.escape(line.strip('*'))}</p>")
    if in_table:
        out.append("</table>")
    if in_list:
        out.append("</ul>")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body><main>{''.join(out)}</main></body></html>")


def write_spec_sheets(fw, folder: Path, evidence=None, notes: dict | None = None, cosmin=None) -> None:
    """One Markdown and one HTML sheet per indicator. ``notes``: indicator id -> {"reliability", "added_value",
    "cosmin": Markdown table}; ``cosmin``: a ``stats.cosmin.CosminResult`` whose rows fill the COSMIN section."""
    folder.mkdir(parents=True, exist_ok=True)
    for ind in fw.indicators:
        ind_notes = dict((notes or {}).get(ind.id) or {})
        if cosmin is not None and not cosmin.for_indicator(ind.id).empty:
            ind_notes["cosmin"] = cosmin.to_markdown(ind.id)
        md = spec_markdown(fw, ind, evidence, ind_notes)
        atomic.write_text(folder / f"{ind.id}.md", md, root=folder)
        atomic.write_text(folder / f"{ind.id}.html", _md_to_html(md, ind.title), root=folder)


def _dot_plot(rows: pd.DataFrame, name: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.55 * len(rows) + 1))
    y = np.arange(len(rows))
    better = ((rows["significance_95"] == "higher") & (rows["polarity"] == "higher_is_better")) | (
        (rows["significance_95"] == "lower") & (rows["polarity"] == "lower_is_better"))
    worse = ((rows["significance_95"] == "lower") & (rows["polarity"] == "higher_is_better")) | (
        (rows["significance_95"] == "higher") & (rows["polarity"] == "lower_is_better"))
    colours = np.where(better, "#2a9d8f", np.where(worse, "#e76f51", "#457b9d"))
    ax.errorbar(rows["value"], y, xerr=[rows["value"] - rows["ci_low"], rows["ci_high"] - rows["value"]], fmt="none",
                ecolor="#999", capsize=3)
    ax.scatter(rows["value"], y, color=colours, zorder=3, label=name)
    ax.scatter(rows["comparator"], y, marker="|", s=250, color="black", zorder=4, label="borough")
    ax.set_yticks(y, [t[:45] for t in rows["indicator_title"]])
    ax.invert_yaxis()
    ax.set_xlabel("value (percentage or mean score) with 95% interval; black line = borough")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def write_briefings(fw, table: pd.DataFrame, frame: pd.DataFrame, folder: Path, evidence=None) -> None:
    """One self-contained HTML page per neighbourhood (inline CSS and images; no scripts, no network)."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = table[(table["geography_type"] == "neighbourhood") & (table["breakdown"] == "all")]
    quotes = evidence.consented_quotes() if evidence is not None else pd.DataFrame()
    for (code, name), rows in nb.groupby(["geography_code", "geography_name"]):
        parts = [f"<header><h1>{html.escape(name)}: what families tell us about starting school</h1>"
                 f"<div>{html.escape(fw.title or fw.name)} · {html.escape(str(rows['period'].iloc[0]))}</div></header><main>"]
        if fw.illustrative:
            parts.append("<p class='note'>Illustrative example built from synthetic data: not real children or families.</p>")
        parts.append("<h2>Headlines compared with the borough</h2>")
        view = rows[["indicator_title", "value", "ci_low", "ci_high", "comparator", "significance_95", "symbol"]].rename(
            columns={"indicator_title": "indicator", "value": "value", "ci_low": "95% CI low", "ci_high": "95% CI high",
                     "comparator": "borough", "significance_95": "compared with borough"})
        parts.append(table_html(view, digits=1))
        shown = rows.dropna(subset=["value"])
        if len(shown):
            parts.append(f"<figure><img alt='dot plot of indicators against the borough' src='{figure_to_data_uri(_dot_plot(shown, name))}'>"
                         "<figcaption>Dots: this neighbourhood with its 95% interval ; black line: the borough.</figcaption></figure>")
        parts.append("<h2>Who was heard</h2>")
        cov = table[(table["indicator_id"] == "parent_voice_coverage") & (table["geography_code"] == code)
                    & (table["geography_type"] == "neighbourhood")]
        if len(cov):
            cv = cov[["breakdown", "breakdown_value", "value", "denominator", "symbol"]].rename(
                columns={"value": "% of families who answered", "denominator": "children"})
            parts.append(table_html(cv, digits=1))
            parts.append("<p>Families with lower response rates are under-represented in the voice indicators above.</p>")
        if len(quotes):
            parts.append("<h2>In families' own words</h2><ul>")
            for q in quotes.head(3).itertuples():
                parts.append(f"<li>&ldquo;{html.escape(q.text)}&rdquo; <span class='muted'>({html.escape(q.voice_group.replace('_', ' '))})</span></li>")
            parts.append("</ul><p class='muted'>Quotes shared with consent; not necessarily from this neighbourhood.</p>")
        parts.append("<h2>Reading these figures with care</h2><ul>"
                     "<li>Voice indicators come from parents who answered the survey; see who was heard above.</li>"
                     "<li>The interval shows the range the true value is likely to be in; small groups give wide intervals.</li>"
                     "<li>Numbers marked c are withheld so that no child or family can be identified.</li>"
                     + "".join(f"<li>For {html.escape(ind.title)}, small numbers are protected less than usual "
                               f"({html.escape('; '.join(ind.disclosure.weakenings()))}), because "
                               f"{html.escape(ind.disclosure.reason.strip())}.</li>"
                               for ind in fw.indicators if ind.disclosure.weakenings())
                     + "</ul></main>")
        page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
                f"content='width=device-width, initial-scale=1'><title>{html.escape(name)} briefing</title>"
                f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>")
        atomic.write_text(folder / f"{_slug(name)}.html", page)
