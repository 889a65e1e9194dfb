"""Indicator specification sheets (Markdown + HTML) and a self-contained briefing page per neighbourhood.

A briefing (``briefing/<code>.html``, named from the neighbourhood's code so names never collide)
has: headline cards (value, 95% interval, borough value and the comparison in words), one chart
for the percentage indicators on a 0-100 axis and one for mean scores on their own scale, a
funnel plot of every neighbourhood against the borough with 95% and 99.8% limits, who was
heard, consented quotes, caveats, data source and date. Labels come from
:mod:`measurekit.core.labels`; comparisons are only "higher"/"lower" when the value lies outside
the board table's 95% funnel-plot limits, otherwise "similar". It prints on at most two A4 pages.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd

from measurekit.core import atomic
from measurekit.core import labels
from measurekit.publish.html import CSS, figure_html


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
            ("Rounding", f"percentages and averages to {ind.decimal_places} decimal place(s), half away from zero; "
                         "counts are whole numbers" + (f" ({ind.rounding})" if ind.rounding else "")),
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


INK, BETTER, WORSE, SIMILAR, BOROUGH = "#1b1b1b", "#1a7f5a", "#b3261e", "#1d4f91", "#1b1b1b"
MARKERS = {"similar": ("o", SIMILAR, "Similar to the borough"), "better": ("^", BETTER, "Better than the borough"),
           "worse": ("v", WORSE, "Worse than the borough"), "higher": ("^", SIMILAR, "Higher than the borough"),
           "lower": ("v", SIMILAR, "Lower than the borough"), "": ("o", "#767676", "Not compared")}


def file_stems(codes) -> dict[str, str]:
    """A safe, unique file name stem per geography code (lower-case ASCII letters, digits and dashes).

    Names come from codes, never from free-text names, so "Rochdale  North!" and "Rochdale North"
    cannot overwrite each other and a non-Latin name never becomes a hidden file. Codes that clean
    to the same stem (or to nothing) get a short hash of the original code.
    """
    import hashlib

    out, used = {}, set()
    for code in codes:
        code = str(code)
        stem = re.sub(r"[^a-z0-9]+", "-", code.lower()).strip("-")[:60]
        if not stem or stem in used:
            stem = (stem + "-" if stem else "area-") + hashlib.sha256(code.encode("utf-8")).hexdigest()[:8]
        used.add(stem)
        out[code] = stem
    return out


def judgement(sig: str, polarity: str) -> str:
    """"better"/"worse" when the comparison has a direction and the indicator a polarity, else sig itself."""
    if sig in ("higher", "lower") and polarity in ("higher_is_better", "lower_is_better"):
        return "better" if (sig == "higher") == (polarity == "higher_is_better") else "worse"
    return sig or ""


def _wrap(text: str, width: int = 34) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _scale_range(fw, ind, rows) -> tuple[float, float]:
    """The response scale's range for a mean score (from the framework), else the data's."""
    try:
        items = _items_for(fw, ind)
        codes = fw.scale(items[0].scale).codes
        return float(min(codes)), float(max(codes))
    except Exception:   # noqa: BLE001 - a mean that is not a scale score: fall back on the values shown
        lo, hi = np.nanmin(rows["ci_low"]), np.nanmax(rows["ci_high"])
        return float(np.floor(lo)), float(np.ceil(hi))


def _indicator_chart(rows: pd.DataFrame, name: str, xlim: tuple[float, float], xlabel: str):
    """Dots with 95% intervals for one neighbourhood, the borough as a black bar; full wrapped labels."""
    plt = _plt()
    labels_ = [_wrap(t, 38) for t in rows["indicator_title"]]
    lines = sum(l.count("\n") + 1 for l in labels_)
    ax_h = 0.15 * lines + 0.12 * len(rows) + 0.1
    fig_h = ax_h + 0.95
    fig, ax = plt.subplots(figsize=(7.0, fig_h))
    y = np.arange(len(rows))
    used = []
    for k, r in enumerate(rows.itertuples()):
        j = judgement(r.significance_95, r.polarity)
        marker, colour, _ = MARKERS.get(j, MARKERS[""])
        used.append(j)
        ax.plot([r.ci_low, r.ci_high], [k, k], color="#595959", lw=1.6, solid_capstyle="butt")
        ax.scatter([r.value], [k], marker=marker, s=60, color=colour, zorder=3, edgecolor="white", linewidth=.6)
        ax.scatter([r.comparator], [k], marker="|", s=200, color=BOROUGH, zorder=4, linewidths=2)
    ax.set_yticks(y, labels_, fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(*xlim)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#e0e0e0", lw=.6)
    ax.set_axisbelow(True)
    handles = [plt.Line2D([], [], marker=MARKERS[j][0], color=MARKERS[j][1], ls="", ms=7, label=f"{name}: " + MARKERS[j][2].lower())
               for j in dict.fromkeys(used)]
    handles += [plt.Line2D([], [], color="#595959", lw=1.6, label="95% interval"),
                plt.Line2D([], [], marker="|", color=BOROUGH, ls="", ms=12, mew=2, label="Borough")]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 3), fontsize=7.5, frameon=False)
    fig.tight_layout(rect=(0, 0.3 / fig_h * (1 + (len(handles) > 3)), 1, 1))
    return fig


def _chart_alt(rows: pd.DataFrame, name: str, value_type: str, kind: str) -> str:
    parts = [f"{r.indicator_title}: {labels.value(r.value, value_type)} in {name} (95% interval "
             f"{labels.value(r.ci_low, value_type)} to {labels.value(r.ci_high, value_type)}), borough "
             f"{labels.value(r.comparator, value_type)}, {labels.comparison(r.significance_95, r.polarity)}"
             for r in rows.itertuples()]
    return f"{kind} for {name}. " + "; ".join(parts) + "."


def funnel_limits(rows: pd.DataFrame, value_type: str, la_row, n_grid, level: float):
    """Funnel limits around the borough value for denominators ``n_grid`` (same rule as the board table)."""
    from measurekit.stats import intervals

    target = float(la_row["value"])
    if value_type == "proportion":
        lo, hi = intervals.funnel_limits_proportion(target / 100, n_grid, level)
        return lo * 100, hi * 100
    from scipy import stats

    n_la = float(la_row["denominator"])
    sd = (float(la_row["ci_high"]) - float(la_row["ci_low"])) / 2 * np.sqrt(n_la) / stats.t.ppf(0.975, n_la - 1)
    return intervals.funnel_limits_mean(target, sd, n_grid, level)


def _funnel_chart(fw, table: pd.DataFrame, code: str, name: str):
    """Small multiples: one funnel plot per indicator, every neighbourhood, this one highlighted."""
    plt = _plt()
    inds = [i for i in fw.indicators if len(table[(table["indicator_id"] == i.id) & (table["breakdown"] == "all")])]
    ncol = 3
    nrow = int(np.ceil(len(inds) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(7.2, 1.6 * nrow + 0.45), squeeze=False)
    for ax in axes.flat[len(inds):]:
        ax.axis("off")
    for ax, ind in zip(axes.flat, inds):
        t = table[(table["indicator_id"] == ind.id) & (table["breakdown"] == "all")]
        la = t[t["geography_type"] == "la"]
        nb = t[(t["geography_type"] == "neighbourhood") & t["value"].notna()]
        if la.empty or nb.empty or pd.isna(la["value"].iloc[0]):
            ax.axis("off")
            continue
        la = la.iloc[0]
        n_max = max(float(nb["denominator"].max()) * 1.15, 10)
        grid = np.linspace(max(float(nb["denominator"].min()) * 0.6, 5), n_max, 120)
        for level, style in ((0.95, "--"), (0.998, ":")):
            lo, hi = funnel_limits(nb, ind.value_type, la, grid, level)
            ax.plot(grid, lo, style, color="#595959", lw=1)
            ax.plot(grid, hi, style, color="#595959", lw=1)
        ax.axhline(la["value"], color=BOROUGH, lw=1.2)
        others = nb[nb["geography_code"] != code]
        ax.scatter(others["denominator"], others["value"], s=18, color="#8c8c8c", zorder=3)
        me = nb[nb["geography_code"] == code]
        if len(me):
            r = me.iloc[0]
            marker, colour, _ = MARKERS.get(judgement(r["significance_95"], r["polarity"]), MARKERS[""])
            ax.scatter([r["denominator"]], [r["value"]], s=60, marker=marker, color=colour, zorder=4,
                       edgecolor="black", linewidth=.6)
        ax.set_title(_wrap(ind.title, 30), fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
        ax.set_xlabel("children counted", fontsize=7)
        ax.set_ylabel("%" if ind.value_type == "proportion" else "mean score", fontsize=7)
    handles = [plt.Line2D([], [], marker="o", color="#1b1b1b", mfc="white", ls="", ms=7, label=f"{name} (shape and colour as above)"),
               plt.Line2D([], [], marker="o", color="#8c8c8c", ls="", ms=5, label="Other neighbourhoods"),
               plt.Line2D([], [], color=BOROUGH, lw=1.2, label="Borough"),
               plt.Line2D([], [], color="#595959", ls="--", lw=1, label="95% limits"),
               plt.Line2D([], [], color="#595959", ls=":", lw=1, label="99.8% limits")]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7.5, frameon=False)
    fig.tight_layout(rect=(0, 0.42 / (1.6 * nrow + 0.45), 1, 1), h_pad=0.3)
    return fig


def _coverage_chart(cov: pd.DataFrame, overall: float, name: str):
    """Who was heard: share of children whose parent answered, by group, as labelled bars.

    Home languages in a second panel so the chart stays short enough for the printed page.
    """
    plt = _plt()
    panels = [cov[cov["breakdown"] != "home_language"], cov[cov["breakdown"] == "home_language"]]
    panels = [p for p in panels if len(p)]
    rows_max = max(len(p) for p in panels)
    fig_h = 0.25 * rows_max + 0.85
    fig, axes = plt.subplots(1, len(panels), figsize=(7.2, fig_h), squeeze=False)
    for ax, part in zip(axes[0], panels):
        labels_ = [_wrap(labels.category(r.breakdown, r.breakdown_value), 34) for r in part.itertuples()]
        y = np.arange(len(part))
        ax.barh(y, part["value"].fillna(0).to_numpy(), color="#5b7fa6", height=.65)
        for k, r in enumerate(part.itertuples()):
            text = "withheld (c)" if r.symbol == "c" else f"{r.value:.0f}%" + (" (u)" if r.symbol == "u" else "")
            ax.text((0 if pd.isna(r.value) else r.value) + 1.5, k, text, va="center", fontsize=7, color=INK)
        ax.axvline(overall, color=BOROUGH, ls="--", lw=1.2)
        ax.set_yticks(y, labels_, fontsize=7)
        ax.set_ylim(rows_max - 0.5, -0.5)
        ax.set_xlim(0, 100)
        ax.tick_params(axis="x", labelsize=7.5)
        ax.set_xlabel("% whose parent answered", fontsize=7.5)
    fig.legend(handles=[plt.Line2D([], [], color=BOROUGH, ls="--", lw=1.2, label=f"All of {name}: {overall:.0f}%")],
               loc="lower center", fontsize=7.5, frameon=False)
    fig.tight_layout(rect=(0, 0.3 / fig_h, 1, 1))
    return fig


def _limits_words(r) -> str:
    if r.significance_95 in ("higher", "lower"):
        return ("Outside the 95% and 99.8% limits: very unlikely to be chance." if r.significance_998 == r.significance_95
                else "Outside the 95% limits: unlikely to be chance.")
    return "Within the 95% limits: the difference could be chance." if r.significance_95 else ""


def _card(r, name: str, value_type: str) -> str:
    sym = f" <span class='sym'>({html.escape(r.symbol)})</span>" if r.symbol else ""
    if pd.isna(r.value):
        body = f"<p class='big'>{html.escape(labels.SYMBOLS.get(r.symbol, 'Not available'))}</p>"
    else:
        comp = labels.comparison(r.significance_95, r.polarity)
        body = (f"<p class='big'>{labels.value(r.value, value_type)}{sym}</p>"
                f"<p>95% interval {labels.value(r.ci_low, value_type)} to {labels.value(r.ci_high, value_type)}"
                f" · {labels.count(r.denominator)} children</p>"
                f"<p><b>{html.escape(comp[:1].upper() + comp[1:])}</b> ({labels.value(r.comparator, value_type)})</p>"
                f"<p class='muted'>{html.escape(_limits_words(r))}</p>")
    return f"<div class='card'><h3>{html.escape(r.indicator_title)}</h3>{body}</div>"


def briefing_page(fw, table: pd.DataFrame, code: str, evidence=None, made_on: str | None = None) -> str:
    """The HTML briefing for one neighbourhood (by code)."""
    import datetime as _dt

    meta = {ind.id: ind for ind in fw.indicators}
    nb = table[(table["geography_type"] == "neighbourhood") & (table["breakdown"] == "all")]
    rows = nb[nb["geography_code"] == code]
    rows = rows.assign(_o=rows["indicator_id"].map({i.id: k for k, i in enumerate(fw.indicators)})).sort_values("_o")
    name = str(rows["geography_name"].iloc[0])
    period = str(rows["period"].iloc[0])
    made_on = made_on or _dt.date.today().strftime("%d %B %Y")
    e = html.escape
    parts = [f"<header><h1>{e(name)}: what families tell us about starting school</h1>"
             f"<div>{e(fw.title or fw.name)} · {e(period)} · neighbourhood briefing</div></header><main>"]
    if fw.illustrative:
        parts.append("<p class='note'>Illustrative example built from synthetic data: not real children or families.</p>")
    parts.append("<h2>Headlines compared with the borough</h2><div class='cards'>")
    parts += [_card(r, name, meta[r.indicator_id].value_type) for r in rows.itertuples()]
    parts.append("</div>")
    shown = rows.dropna(subset=["value"])
    props = shown[shown["indicator_id"].map(lambda i: meta[i].value_type == "proportion")]
    means = shown[shown["indicator_id"].map(lambda i: meta[i].value_type != "proportion")]
    if len(props):
        fig = _indicator_chart(props, name, (0, 100), "Percentage of children or parents (0-100%)")
        parts.append(figure_html(fig, _chart_alt(props, name, "proportion", "Chart of the percentage indicators"),
                                 "Percentages with their 95% intervals; the black bar is the borough.", dpi=100))
    for r in means.itertuples():
        ind = meta[r.indicator_id]
        lo, hi = _scale_range(fw, ind, means)
        one = means[means["indicator_id"] == r.indicator_id]
        fig = _indicator_chart(one, name, (lo, hi), f"Mean score on the survey's scale ({lo:g} = lowest, {hi:g} = highest)")
        parts.append(figure_html(fig, _chart_alt(one, name, "mean", "Chart of a mean score"),
                                 f"{ind.title}: mean score from {lo:g} to {hi:g}, with its 95% interval.", dpi=100))
    parts.append("<h2>All neighbourhoods against the borough</h2>")
    fig = _funnel_chart(fw, table, code, name)
    alt = (f"Funnel plots, one per indicator: each neighbourhood's value against the number of children counted, "
           f"with the borough value and 95% and 99.8% limits. {name} is highlighted. Points outside the limits differ "
           f"from the borough by more than chance. " + " ".join(
               f"{r.indicator_title}: {labels.comparison(r.significance_95, r.polarity)} at 95%, "
               f"{labels.comparison(r.significance_998, r.polarity)} at 99.8%." for r in shown.itertuples()))
    parts.append(figure_html(fig, alt, "A neighbourhood outside the dashed lines differs from the borough by more "
                             "than chance would give (95%); outside the dotted lines (99.8%) the difference is very "
                             "unlikely to be chance.", dpi=100))
    parts.append("<h2>Who was heard</h2>")
    cov = table[(table["indicator_id"] == "parent_voice_coverage") & (table["geography_code"] == code)
                & (table["geography_type"] == "neighbourhood") & (table["breakdown"] != "all")]
    cov_all = rows[rows["indicator_id"] == "parent_voice_coverage"]
    if len(cov) and len(cov_all) and pd.notna(cov_all["value"].iloc[0]):
        overall = float(cov_all["value"].iloc[0])
        fig = _coverage_chart(cov, overall, name)
        alt = (f"Bar chart: share of children whose parent answered the survey in {name}, by group. " + "; ".join(
            f"{labels.category(r.breakdown, r.breakdown_value)}: "
            + ("withheld" if pd.isna(r.value) else labels.percent(r.value)) for r in cov.itertuples()) + ".")
        parts.append(figure_html(fig, alt, "", dpi=100))
        low = cov[cov["value"] < overall - 10]
        text = (f"Parents of {labels.percent(overall)} of children in {name} answered the survey. ")
        if len(low):
            text += ("Fewer answered among: " + ", ".join(labels.category(r.breakdown, r.breakdown_value)
                                                          for r in low.itertuples())
                     + ". Their views are under-represented in the voice indicators above.")
        parts.append(f"<p>{e(text)}</p>")
    quotes = evidence.consented_quotes() if evidence is not None else pd.DataFrame()
    if len(quotes):
        parts.append("<h2>In families' own words</h2><ul class='keep'>")
        for q in quotes.head(3).itertuples():
            parts.append(f"<li>&ldquo;{e(q.text)}&rdquo; <span class='muted'>({e(labels.breakdown(q.voice_group))})</span></li>")
        parts.append("</ul><p class='muted'>Quotes shared with consent; not necessarily from this neighbourhood.</p>")
    used_symbols = sorted({s for s in table.loc[table["geography_code"] == code, "symbol"] if s})
    parts.append("<div class='cols'><h2>Reading these figures with care</h2><ul>"
                 "<li>Voice indicators come from parents who answered the survey; see who was heard above.</li>"
                 "<li>The 95% interval is the range the true value is likely to be in; small groups give wide intervals.</li>"
                 "<li>&ldquo;Similar&rdquo; means the difference from the borough is within the 95% funnel limits, "
                 "so it could be chance.</li>")
    for ind in fw.indicators:
        for c in ind.caveats:
            parts.append(f"<li>{e(ind.title)}: {e(c)}</li>")
    parts += [f"<li>For {e(ind.title)}, small numbers are protected less than usual "
              f"({e('; '.join(ind.disclosure.weakenings()))}), because {e(ind.disclosure.reason.strip())}.</li>"
              for ind in fw.indicators if ind.disclosure.weakenings()]
    parts.append("</ul>")
    parts.append("<h3>Key to symbols</h3><ul class='key'>"
                 "<li>▲ better than the borough · ▼ worse than the borough · ● similar to the borough "
                 "(shapes as well as colours)</li><li>Black bar: the borough value · grey line: 95% interval</li>")
    parts += [f"<li>({e(s)}): {e(labels.SYMBOLS.get(s, s))}</li>" for s in used_symbols]
    parts.append("</ul></div>")
    sources = sorted({ind.numerator.source for ind in fw.indicators} | {ind.denominator.source for ind in fw.indicators})
    parts.append(f"<p class='muted'>Data: {e(', '.join(s for s in sources if s))}; period {e(period)}. "
                 f"Made on {e(made_on)} with measurekit. Numbers for every group are in board_table.csv and "
                 "board_pack.xlsx beside this page.</p></main>")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>{e(name)}: neighbourhood briefing</title>"
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>")


def write_neighbourhood_pages(table: pd.DataFrame, folder: Path, render) -> dict[str, Path]:
    """Write ``render(code)`` for every neighbourhood of ``table`` to ``folder/<stem>.html`` (stems from
    :func:`file_stems`, inside ``folder`` only). Returns code -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = table[(table["geography_type"] == "neighbourhood") & (table["breakdown"] == "all")]
    codes = list(dict.fromkeys(nb["geography_code"].astype(str)))
    stems = file_stems(codes)
    return {code: atomic.write_text(folder / f"{stems[code]}.html", render(code), root=folder) for code in codes}


def write_briefings(fw, table: pd.DataFrame, frame: pd.DataFrame, folder: Path, evidence=None) -> dict[str, Path]:
    """One self-contained HTML page per neighbourhood (inline CSS and images; no scripts, no network).

    Files are named from the neighbourhood codes (:func:`file_stems`). Returns code -> path.
    """
    return write_neighbourhood_pages(table, folder, lambda code: briefing_page(fw, table, code, evidence))
