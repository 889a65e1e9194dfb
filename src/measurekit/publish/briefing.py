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
from measurekit.publish.html import CSS, figure_svg


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
    text = d.describe()
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
        stem = _slug(code)[:60]
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


def _scale_range(fw, ind, rows) -> tuple[float, float]:
    """The response scale's range for a mean score (from the framework), else the data's."""
    try:
        items = _items_for(fw, ind)
        codes = fw.scale(items[0].scale).codes
        return float(min(codes)), float(max(codes))
    except Exception:   # noqa: BLE001 - a mean that is not a scale score: fall back on the values shown
        lo, hi = np.nanmin(rows["ci_low"]), np.nanmax(rows["ci_high"])
        return float(np.floor(lo)), float(np.ceil(hi))


WIDTH = 700.0        # chart width in CSS pixels: 7 inches at 100 per inch


def _key(kind: str, colour: str, size: float = 7.0, **kw):
    """A legend key: a marker, or a line ('-', '--', ':') of ``colour``."""
    from measurekit.publish.svg import PT

    dashes = {"-": "", "--": "5,2.2", ":": "1.4,2.3"}
    if kind in dashes:
        width = kw.get("width", 1.0) * PT
        return lambda c, x, y: c.line(x - 9, y, x + 9, y, colour, width, dashes[kind])
    return lambda c, x, y: c.marker(kind, x, y, size, colour, **kw)


def _indicator_chart(rows: pd.DataFrame, name: str, xlim: tuple[float, float], xlabel: str, alt: str) -> str:
    """Dots with 95% intervals for one neighbourhood, the borough as a black bar; full wrapped labels (SVG)."""
    from measurekit.publish.svg import PT, Canvas, nice_ticks, scale, text_width

    labels_ = [_wrap(t, 38) for t in rows["indicator_title"]]
    line_h = 8 * PT * 1.2
    left = max(text_width(line, 8) for lab in labels_ for line in lab.split("\n")) + 16
    heights = [(lab.count("\n") + 1) * line_h + 14 for lab in labels_]
    top, right = 6.0, 16.0
    axis_y = top + sum(heights)
    mids = top + np.cumsum(heights) - np.asarray(heights) / 2
    sx = scale(xlim[0], xlim[1], left, WIDTH - right)
    clip = lambda v: sx(min(max(float(v), xlim[0]), xlim[1]))
    c = Canvas(WIDTH)
    for lab, y in zip(labels_, mids):
        c.text(left - 8, y, lab, 8, "end")
    c.x_axis(sx, nice_ticks(*xlim, 5), axis_y, left, WIDTH - right, 8, grid_to=top)
    c.line(left, top, left, axis_y, "#1b1b1b", 0.8)
    c.text((left + WIDTH - right) / 2, axis_y + 31, xlabel, 8, "middle")
    used = []
    for y, r in zip(mids, rows.itertuples()):
        j = judgement(r.significance_95, r.polarity)
        marker, colour, _ = MARKERS.get(j, MARKERS[""])
        used.append(j)
        if pd.notna(r.ci_low) and pd.notna(r.ci_high):
            c.line(clip(r.ci_low), y, clip(r.ci_high), y, "#595959", 1.6 * PT)
        if pd.notna(r.comparator):
            c.marker("|", clip(r.comparator), y, 14, BOROUGH, edge_width=2 * PT)
        c.marker(marker, clip(r.value), y, 7.75, colour, edge="#fff", edge_width=0.6 * PT)
    entries = [(_key(MARKERS[j][0], MARKERS[j][1]), f"{name}: " + MARKERS[j][2].lower()) for j in dict.fromkeys(used)]
    entries += [(_key("-", "#595959", width=1.6), "95% interval"),
                (lambda cv, x, y: cv.marker("|", x, y, 12, BOROUGH, edge_width=2 * PT), "Borough")]
    c.height = c.legend(entries, axis_y + 44, 7.5, ncol=3) + 6
    return c.svg(alt)


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


class FunnelCharts:
    """Funnel plots of every indicator (small multiples), every neighbourhood against the borough, as SVG.

    Everything but the highlighted neighbourhood is the same on every briefing, so it is drawn once
    per board table; :meth:`svg` adds one neighbourhood's marker (shape and colour by its
    comparison, drawn in place of its grey dot) and the legend naming it.
    """

    PANEL_W, PLOT_H, NCOL = WIDTH / 3, 84.0, 3

    def __init__(self, fw, table: pd.DataFrame):
        from measurekit.publish.svg import PT, Canvas

        everyone = table[table["breakdown"] == "all"]
        by_ind = dict(tuple(everyone.groupby("indicator_id", sort=False)))
        inds = [i for i in fw.indicators if i.id in by_ind]
        self.parts: list = []          # markup strings, and per panel a dict code -> (grey dot, highlight)
        self.canvas = Canvas(WIDTH)
        line_h = 8 * PT * 1.2
        titles = [_wrap(ind.title, 30) for ind in inds]
        top = 2.0
        for row in range(int(np.ceil(len(inds) / self.NCOL))):
            row_titles = titles[row * self.NCOL:(row + 1) * self.NCOL]
            title_h = max(t.count("\n") + 1 for t in row_titles) * line_h + 6
            for k, ind in enumerate(inds[row * self.NCOL:(row + 1) * self.NCOL]):
                self._panel(ind, by_ind[ind.id], titles[row * self.NCOL + k], k * self.PANEL_W, top, title_h)
            top += title_h + self.PLOT_H + 44
        self.legend_top = top

    def _panel(self, ind, t: pd.DataFrame, title: str, x0: float, y0: float, title_h: float) -> None:
        from measurekit.publish.svg import PT, Canvas, nice_ticks, padded, scale

        la = t[t["geography_type"] == "la"]
        nb = t[(t["geography_type"] == "neighbourhood") & t["value"].notna()]
        if la.empty or nb.empty or pd.isna(la["value"].iloc[0]):
            return
        la = la.iloc[0]
        n_max = max(float(nb["denominator"].max()) * 1.15, 10)
        grid = np.linspace(max(float(nb["denominator"].min()) * 0.6, 5), n_max, 120)
        limits = [(style, funnel_limits(nb, ind.value_type, la, grid, level))
                  for level, style in ((0.95, "5,2.2"), (0.998, "1.4,2.3"))]
        ys = np.concatenate([np.asarray(v, dtype=float) for _, lim in limits for v in lim]
                            + [nb["value"].to_numpy(dtype=float), [float(la["value"])]])
        ys = ys[np.isfinite(ys)]
        ylim = padded(float(ys.min()), float(ys.max()), 0.1)     # room for the highlighted marker
        xlim = padded(float(grid[0]), float(grid[-1]))
        left, right = x0 + 46, x0 + self.PANEL_W - 12
        top, bottom = y0 + title_h, y0 + title_h + self.PLOT_H
        sx, sy = scale(*xlim, left, right), scale(*ylim, bottom, top)
        c = Canvas(WIDTH)
        xt, yt = nice_ticks(*xlim, 4), nice_ticks(*ylim, 3)
        # text order matters to the disclosure gate, which reads the text of the page: tick values are
        # never followed directly by a word such as "children"
        c.x_axis(sx, xt, bottom, left, right, 7)
        c.y_axis(sy, yt, left, top, bottom, 7)
        c.text(x0 + 9, (top + bottom) / 2, "%" if ind.value_type == "proportion" else "mean score", 7, "middle",
               rotate=True)
        c.text((left + right) / 2, bottom + 27, "children counted", 7, "middle")
        c.text(x0 + 8, y0 + 2 + 8 * PT * 0.6, title, 8, middle=False)
        gx = [sx(v) for v in grid]
        for dash, lim in limits:
            for v in lim:
                c.polyline(gx, [sy(float(y)) for y in v], "#595959", PT, dash)
        c.line(left, sy(float(la["value"])), right, sy(float(la["value"])), BOROUGH, 1.2 * PT)
        self.parts.append("".join(c.parts))
        dots = {}
        for r in nb.itertuples():
            x, y = sx(float(r.denominator)), sy(float(r.value))
            grey, mine = Canvas(WIDTH), Canvas(WIDTH)
            grey.marker("o", x, y, 4.25, "#8c8c8c")
            marker, colour, _ = MARKERS.get(judgement(r.significance_95, r.polarity), MARKERS[""])
            mine.marker(marker, x, y, 7.75, colour, edge=INK, edge_width=0.6 * PT)
            dots[str(r.geography_code)] = (grey.parts[0], mine.parts[0])
        self.parts.append(dots)

    def svg(self, code: str, name: str, alt: str) -> str:
        """The chart for one neighbourhood's briefing: ``code`` highlighted, ``name`` in the legend."""
        from measurekit.publish.svg import PT, Canvas

        c = Canvas(WIDTH)
        for part in self.parts:
            if isinstance(part, str):
                c.add(part)
                continue
            c.parts += [grey for k, (grey, _) in part.items() if k != code]
            if code in part:
                c.add(part[code][1])
        entries = [(_key("o", INK, 7, edge=INK, edge_width=PT, hollow=True), f"{name} (shape and colour as above)"),
                   (_key("o", "#8c8c8c", 5), "Other neighbourhoods"),
                   (_key("-", BOROUGH, width=1.2), "Borough"),
                   (_key("--", "#595959"), "95% limits"),
                   (_key(":", "#595959"), "99.8% limits")]
        c.height = c.legend(entries, self.legend_top, 7.5, ncol=3) + 4
        return c.svg(alt)


def _coverage_chart(cov: pd.DataFrame, overall: float, name: str, alt: str) -> str:
    """Who was heard: share of children whose parent answered, by group, as labelled bars (SVG).

    Home languages in a second panel so the chart stays short enough for the printed page.
    """
    from measurekit.publish.svg import PT, Canvas, nice_ticks, scale, text_width

    panels = [cov[cov["breakdown"] != "home_language"], cov[cov["breakdown"] == "home_language"]]
    panels = [p for p in panels if len(p)]
    rows_max = max(len(p) for p in panels)
    row_h, top = 25.0, 6.0
    axis_y = top + row_h * rows_max
    panel_w = WIDTH / len(panels)
    c = Canvas(WIDTH)
    ticks = nice_ticks(0, 100, 5)
    for k, part in enumerate(panels):
        x0 = k * panel_w
        labels_ = [_wrap(labels.category(r.breakdown, r.breakdown_value), 34) for r in part.itertuples()]
        left = x0 + max(text_width(line, 7) for lab in labels_ for line in lab.split("\n")) + 14
        right = x0 + panel_w - 46
        sx = scale(0, 100, left, right)
        mids = [top + (j + 0.5) * row_h for j in range(len(part))]
        for lab, y in zip(labels_, mids):
            c.text(left - 7, y, lab, 7, "end")
        for y, r in zip(mids, part.itertuples()):
            if pd.notna(r.value):
                c.rect(left, y - row_h * 0.325, sx(float(r.value)) - left, row_h * 0.65, "#5b7fa6")
        line_x = sx(overall)
        c.line(line_x, top - 2, line_x, axis_y, BOROUGH, 1.2 * PT, "5,2.2")
        for y, r in zip(mids, part.itertuples()):
            text = "withheld (c)" if r.symbol == "c" else f"{r.value:.0f}%" + (" (u)" if r.symbol == "u" else "")
            x = sx(0 if pd.isna(r.value) else float(r.value)) + 4
            if x - 3 < line_x < x + text_width(text, 7) + 2:        # the label would sit on the borough line
                x = line_x + 4
            c.text(x, y, text, 7, halo=True)
        c.x_axis(sx, ticks, axis_y, left, right, 7.5)
        c.line(left, top - 2, left, axis_y, "#1b1b1b", 0.8)
        c.text((left + right) / 2, axis_y + 29, "% whose parent answered", 7.5, "middle")
    entries = [(_key("--", BOROUGH, width=1.2), f"All of {name}: {overall:.0f}%")]
    c.height = c.legend(entries, axis_y + 40, 7.5, ncol=1) + 4
    return c.svg(alt)


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


def briefing_page(fw, table: pd.DataFrame, code: str, evidence=None, made_on: str | None = None,
                  funnels: FunnelCharts | None = None, own: pd.DataFrame | None = None) -> str:
    """The HTML briefing for one neighbourhood (by code).

    When many briefings are made from one table, :func:`write_briefings` passes what is shared or can be
    found once: ``funnels`` (the table's :class:`FunnelCharts`) and ``own`` (:func:`own_rows` of ``code``).
    """
    import datetime as _dt

    meta = {ind.id: ind for ind in fw.indicators}
    own = own_rows(table, code) if own is None else own
    rows = own[own["breakdown"] == "all"]
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
        alt = _chart_alt(props, name, "proportion", "Chart of the percentage indicators")
        chart = _indicator_chart(props, name, (0, 100), "Percentage of children or parents (0-100%)", alt)
        parts.append(figure_svg(chart, "Percentages with their 95% intervals; the black bar is the borough."))
    for r in means.itertuples():
        ind = meta[r.indicator_id]
        lo, hi = _scale_range(fw, ind, means)
        one = means[means["indicator_id"] == r.indicator_id]
        chart = _indicator_chart(one, name, (lo, hi), f"Mean score on the survey's scale ({lo:g} = lowest, {hi:g} = "
                                 "highest)", _chart_alt(one, name, "mean", "Chart of a mean score"))
        parts.append(figure_svg(chart, f"{ind.title}: mean score from {lo:g} to {hi:g}, with its 95% interval."))
    parts.append("<h2>All neighbourhoods against the borough</h2>")
    alt = (f"Funnel plots, one per indicator: each neighbourhood's value against the number of children counted, "
           f"with the borough value and 95% and 99.8% limits. {name} is highlighted. Points outside the limits differ "
           f"from the borough by more than chance. " + " ".join(
               f"{r.indicator_title}: {labels.comparison(r.significance_95, r.polarity)} at 95%, "
               f"{labels.comparison(r.significance_998, r.polarity)} at 99.8%." for r in shown.itertuples()))
    funnels = funnels if funnels is not None else FunnelCharts(fw, table)
    parts.append(figure_svg(funnels.svg(code, name, alt), "A neighbourhood outside the dashed lines differs from the "
                            "borough by more than chance would give (95%); outside the dotted lines (99.8%) the "
                            "difference is very unlikely to be chance."))
    parts.append("<h2>Who was heard</h2>")
    cov = own[(own["indicator_id"] == "parent_voice_coverage") & (own["breakdown"] != "all")]
    cov_all = rows[rows["indicator_id"] == "parent_voice_coverage"]
    if len(cov) and len(cov_all) and pd.notna(cov_all["value"].iloc[0]):
        overall = float(cov_all["value"].iloc[0])
        alt = (f"Bar chart: share of children whose parent answered the survey in {name}, by group. " + "; ".join(
            f"{labels.category(r.breakdown, r.breakdown_value)}: "
            + ("withheld" if pd.isna(r.value) else labels.percent(r.value)) for r in cov.itertuples()) + ".")
        parts.append(figure_svg(_coverage_chart(cov, overall, name, alt)))
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
    used_symbols = sorted({s for s in own["symbol"] if s})
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


def own_rows(table: pd.DataFrame, code: str) -> pd.DataFrame:
    """The rows of one neighbourhood (every indicator and breakdown) in a board table."""
    return table[(table["geography_type"] == "neighbourhood") & (table["geography_code"].astype(str) == code)]


def write_neighbourhood_pages(table: pd.DataFrame, folder: Path, render, desc: str = "") -> dict[str, Path]:
    """Write ``render(code, own)`` for every neighbourhood of ``table`` to ``folder/<stem>.html`` (stems from
    :func:`file_stems`, inside ``folder`` only), with a progress bar named ``desc``. ``own`` is the
    neighbourhood's rows (:func:`own_rows`), split from the table once for all pages. Returns code -> path."""
    from measurekit.core.progress import progress

    folder.mkdir(parents=True, exist_ok=True)
    nb = table[table["geography_type"] == "neighbourhood"]
    keys = nb["geography_code"].astype(str)
    codes = list(dict.fromkeys(keys[nb["breakdown"] == "all"]))
    own = dict(tuple(nb.groupby(keys, sort=False)))
    stems = file_stems(codes)
    return {code: atomic.write_text(folder / f"{stems[code]}.html", render(code, own[code]), root=folder)
            for code in progress(codes, total=len(codes), desc=desc)}


def write_briefings(fw, table: pd.DataFrame, frame: pd.DataFrame, folder: Path, evidence=None) -> dict[str, Path]:
    """One self-contained HTML page per neighbourhood (inline CSS and SVG charts; no scripts, no network).

    Files are named from the neighbourhood codes (:func:`file_stems`). Returns code -> path.
    """
    funnels = FunnelCharts(fw, table)
    return write_neighbourhood_pages(
        table, folder, lambda code, own: briefing_page(fw, table, code, evidence, funnels=funnels, own=own), "Briefings")
