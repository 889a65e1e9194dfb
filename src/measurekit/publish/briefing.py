"""Indicator specification sheets (Markdown + HTML) and a self-contained briefing page per area.

Every function here renders a :class:`~measurekit.publish.board_table.BoardTable` (its published rows, its
framework, the SDs and quotes it carries) and nothing else: no file is read, nothing is recomputed from
rounded numbers. Pages come from the Jinja2 templates in ``templates/`` (autoescaped).

A briefing (``briefing/<code>.html``, named from the area's code so names never collide) has: headline cards
(value, 95% interval, the local authority's value and the comparison in words), one chart for the percentage
indicators on a 0-100 axis and one for mean scores on their own scale, a funnel plot of every area against
the local authority with 95% and 99.8% limits, who was heard, consented quotes (saying where they come
from), caveats, a glossary of the terms the page uses, data source and date. Place words ("county",
"neighbourhood"...) are the framework's (``framework.area``); labels come from :mod:`measurekit.core.labels`;
comparisons are only "higher"/"lower" when the value lies outside the board table's 95% limits, otherwise
"similar". Charts draw only published values: a withheld value is said "withheld" and never drawn. It prints
on at most two A4 pages.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from measurekit.core import atomic, labels
from measurekit.publish import html as pagekit
from measurekit.publish.rows import records, tuples


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _items_for(fw, ind):
    """The items an indicator reads: a scale's items as its respondent is asked them (the respondent of the
    indicator's voice table, else the framework's first respondent: never a fixed name), or its one item."""
    from measurekit.data.population import first_respondent

    c = ind.compute
    if c.source == "scale":
        return fw.items_in(c.field.removeprefix("voice_"), _respondent(fw, ind) or first_respondent(fw))
    if c.source == "item":
        return [fw.item(c.field)]
    return []


def _disclosure_text(d, fw=None) -> str:
    w = labels.people_words(fw)
    text = d.describe(w.person, w.people)
    if d.weakenings(w.people):
        text += (f". WEAKER THAN THE STANDARD RULE (counts of 1 to 5 suppressed): {'; '.join(d.weakenings(w.people))}. "
                 f"Agreed because: {d.reason.strip()}")
    return text


POLARITY = {"higher_is_better": "Higher is better", "lower_is_better": "Lower is better",
            "no_judgement": "Neither higher nor lower is better"}
CI_METHODS = {"wilson": "Wilson score interval", "t": "t interval (from the spread of the scores)",
              "weighted_t": "weighted t interval (weights for who answered; design effect allowed for)"}
POPULATIONS = {"respondents": "children whose parent answered the survey", "cohort": "all children in the cohort"}


def _respondent(fw, ind=None) -> str | None:
    """The respondent whose answers an indicator reads: the respondent of its declared voice ``table``, else the
    first voice table's (None: the framework declares no voice table)."""
    table = getattr(getattr(ind, "compute", None), "table", None)
    for t in getattr(fw, "tables", ()):
        if t.kind == "voice" and t.respondent and (table is None or t.name == table):
            return t.respondent
    return None


def population_words(fw, ind) -> str:
    """Who an indicator counts, in words: the data contract's ("children whose parent answered the survey") or the
    framework's people and the respondent whose answers it reads ("people whose case worker answered")."""
    c = ind.compute
    if labels.contract_words(fw):
        return POPULATIONS.get(c.population, labels.plain(c.population.replace("_", " ")))
    w = labels.people_words(fw)
    if c.population == "respondents":
        return w.answered(labels.respondent_words(_respondent(fw, ind)) or None)
    return f"all {w.people} counted" if c.population == "cohort" else labels.plain(c.population.replace("_", " "))


STATUS = {"cognitively_tested": "tested in cognitive interviews"}


def field_words(fw, field: str, respondent: str | None = None) -> str:
    """What an indicator's field is, in words: a voice domain's score, an item's question (as ``respondent`` is
    asked it, ``Item.stem_for``), or a routine field."""
    if field.startswith("voice_"):
        try:
            d = fw.domain(field.removeprefix("voice_"))
            who = "parent" if labels.contract_words(fw) else (labels.respondent_words(respondent)
                                                              or labels.people_words(fw).respondent)
            return f"{d.title.lower()} score (the average of a {who}'s answers to its questions)"
        except Exception:   # noqa: BLE001 - not a domain of this framework: said as a routine field
            pass
    try:
        item = fw.item(field)
        return f"answer to “{item.stem_for(respondent).get('en', '')}”"
    except Exception:   # noqa: BLE001 - not an item: a routine field
        return labels.plain(labels.breakdown(field, fw), labels.breakdown_code_words(fw))


def computed_words(fw, ind) -> str:
    """How an indicator is computed, in words (no codes)."""
    c = ind.compute
    what = field_words(fw, c.field, _respondent(fw, ind))
    among = population_words(fw, ind)
    if c.statistic == "proportion_below":
        text = f"The percentage whose {what} is below {c.threshold:g}"
    elif c.statistic == "proportion_at_or_above":
        text = f"The percentage whose {what} is {c.threshold:g} or more"
    elif c.statistic == "proportion":
        text = "The numerator as a percentage of the denominator"
    elif c.statistic == "mean":
        text = f"The average of the {what}"
    else:
        text = labels.plain(c.statistic.replace("_", " ")).capitalize() + f" of the {what}"
    return f"{text}, among {among}."


def _code_words(fw) -> dict[str, str]:
    """The framework's own codes (breakdowns, score columns, indicator ids) -> words, for :func:`labels.plain`."""
    words = labels.breakdown_code_words(fw)     # breakdown ids and group codes, as the framework declares them
    analysis = getattr(fw, "analysis", None)
    words.update({g.name: g.words for g in (analysis.fairness_groups if analysis is not None else ())})
    words.update({d.score_column: f"{d.title.lower()} score" for d in fw.domains})
    words.update({ind.id: ind.title for ind in fw.indicators})
    return words


def spec_rows(fw, ind, words: labels.PlaceWords) -> list[tuple[str, str]]:
    """The fields of an indicator's specification sheet, in words."""
    from measurekit.data.population import review_rule

    unit = "Percentage (0-100)" if ind.value_type == "proportion" else f"Mean score ({ind.unit})"
    area = fw.area_breakdown
    breakdowns = [words.Area if area is not None and b == area.id else labels.breakdown(b, fw) for b in ind.breakdowns]
    rows = [("Definition", ind.definition), ("Rationale", ind.rationale),
            ("Polarity", POLARITY.get(ind.polarity, labels.plain(ind.polarity.replace("_", " ")))),
            ("Unit", unit),
            ("Numerator", f"{ind.numerator.definition} (source: {ind.numerator.source})"
             if ind.value_type == "proportion" else "None published: a mean score has no numerator"),
            ("Denominator", f"{ind.denominator.definition} (source: {ind.denominator.source})"),
            ("How it is computed", computed_words(fw, ind)),
            ("Breakdowns", ", ".join(breakdowns)),
            ("Confidence interval", "95% " + CI_METHODS.get(ind.ci_method, labels.plain(ind.ci_method))),
            ("Disclosure control", _disclosure_text(ind.disclosure, fw)),
            ("Rounding", f"percentages and averages to {ind.decimal_places} decimal place(s), half away from zero; "
                         "counts are whole numbers" + (f" ({ind.rounding})" if ind.rounding else "")),
            ("Reviews used", review_rule(fw, ind)),
            ("Frequency", ind.frequency), ("Informs the decision", ind.informs_decision),
            ("Data quality", ind.data_quality)]
    extra = _code_words(fw)
    return [(k, labels.plain(v, extra)) for k, v in rows if v]


def _provenance(fw, ind) -> list[dict]:
    out = []
    who = _respondent(fw, ind)
    for it in _items_for(fw, ind):
        groups = ", ".join(g.replace("_", " ") for g in it.provenance.groups) or "no voice evidence recorded"
        out.append({"id": it.id, "stem": it.stem_for(who).get("en", ""), "groups": groups,
                    "status": STATUS.get(it.status, it.status.replace("_", " "))})
    return out


def spec_markdown(fw, ind, evidence=None, notes: dict | None = None) -> str:
    """The specification sheet of one indicator as Markdown (for analysts' repositories)."""
    notes = notes or {}
    words = labels.place_words(fw)
    lines = [f"# {ind.title}", "", f"*Indicator `{ind.id}` of {fw.title or fw.name}*"
             + (" — ILLUSTRATIVE example, not an official indicator." if fw.illustrative else ""), ""]
    lines += ["| Field | |", "|---|---|"] + [f"| {k} | {str(v).replace('|', '/')} |"
                                            for k, v in spec_rows(fw, ind, words)]
    items = _provenance(fw, ind)
    if items:
        lines += ["", "## Voice provenance", "",
                  "The items behind this indicator were shaped with these groups (quotes linked per item):", ""]
        lines += [f"- **{it['id']}** “{it['stem']}” — {it['groups']}; status: {it['status']}" for it in items]
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


def _markdown_table(md: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a Markdown table (as ``CosminResult.to_markdown`` writes it)."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in md.splitlines()
            if line.strip().startswith("|") and not set(line.strip()) <= set("|-: ")]
    return (rows[0], rows[1:]) if rows else ([], [])


def spec_page(fw, ind, notes: dict | None = None) -> str:
    """The specification sheet of one indicator as an HTML page (template ``spec.html.j2``): words for every
    code, no Markdown syntax; the indicator's identifier only in the analysts' line."""
    notes = notes or {}
    words = labels.place_words(fw)
    extra = _code_words(fw)
    head, rows = _markdown_table(notes.get("cosmin", ""))
    evidence = [(key.replace("_", " ").capitalize(), labels.plain(notes[key], extra))
                for key in ("reliability", "added_value") if notes.get(key)]
    caveats = [labels.plain(c, extra) for c in ind.caveats]
    text = " ".join([ind.definition, ind.rationale, *caveats, *(t for _, t in evidence)])
    return pagekit.render(
        "spec.html.j2", title=ind.title, lang="en", heading=ind.title, framework_title=fw.title or fw.name,
        illustrative=fw.illustrative, indicator_id=ind.id, fields=spec_rows(fw, ind, words),
        provenance=_provenance(fw, ind), evidence=evidence,
        cosmin_head=[labels.plain(h, extra) for h in head],
        cosmin_rows=[[labels.plain(c, extra) for c in r] for r in rows], caveats=caveats,
        glossary=labels.glossary(text, fw))


def write_spec_sheets(board, folder: Path, notes: dict | None = None, cosmin=None) -> None:
    """One Markdown and one HTML sheet per indicator of a board table's framework (``board`` may also be the
    framework itself: the sheets describe the indicators, not the numbers). ``notes``: indicator id ->
    {"reliability", "added_value", "cosmin": Markdown table}; ``cosmin``: a ``stats.cosmin.CosminResult`` whose
    rows fill the COSMIN section."""
    fw = getattr(board, "framework", board)
    folder.mkdir(parents=True, exist_ok=True)
    for ind in fw.indicators:
        ind_notes = dict((notes or {}).get(ind.id) or {})
        if cosmin is not None and not cosmin.for_indicator(ind.id).empty:
            ind_notes["cosmin"] = cosmin.to_markdown(ind.id)
        atomic.write_text(folder / f"{ind.id}.md", spec_markdown(fw, ind, None, ind_notes), root=folder)
        atomic.write_text(folder / f"{ind.id}.html", spec_page(fw, ind, ind_notes), root=folder)


INK, BETTER, WORSE, SIMILAR, LA_INK = "#1b1b1b", "#1a7f5a", "#b3261e", "#1d4f91", "#1b1b1b"
# marker shape, colour and words ("{la}" is the framework's word for the local authority)
MARKERS = {"similar": ("o", SIMILAR, "Similar to the {la}"), "better": ("^", BETTER, "Better than the {la}"),
           "worse": ("v", WORSE, "Worse than the {la}"), "higher": ("^", SIMILAR, "Higher than the {la}"),
           "lower": ("v", SIMILAR, "Lower than the {la}"), "": ("o", "#767676", "Not compared")}


def file_stems(codes) -> dict[str, str]:
    """A safe, unique file name stem per geography code (lower-case ASCII letters, digits and dashes).

    Names come from codes, never from free-text names, so "North  End!" and "North End"
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
LABEL_PAD = 6.0      # labels start this far from the chart's left edge (never cut by it)


def _key(kind: str, colour: str, size: float = 7.0, **kw):
    """A legend key: a marker, or a line ('-', '--', ':') of ``colour``."""
    from measurekit.publish.svg import PT

    dashes = {"-": "", "--": "5,2.2", ":": "1.4,2.3"}
    if kind in dashes:
        width = kw.get("width", 1.0) * PT
        return lambda c, x, y: c.line(x - 9, y, x + 9, y, colour, width, dashes[kind])
    return lambda c, x, y: c.marker(kind, x, y, size, colour, **kw)


def _label_column(labels_: list[str], size: float, x0: float = 0.0) -> float:
    """The x where a chart's plot starts when its labels are written from ``x0 + LABEL_PAD``, left-aligned:
    the labels' widest line (estimated generously, so a wider real font runs into the gap, never off the
    chart's left edge as right-aligned labels did) plus a gap."""
    from measurekit.publish.svg import text_width

    widest = max((text_width(line, size) for lab in labels_ for line in lab.split("\n")), default=0.0)
    return x0 + LABEL_PAD + widest * 1.12 + 14


def _indicator_chart(rows: pd.DataFrame, name: str, xlim: tuple[float, float], xlabel: str, alt: str,
                     words: labels.PlaceWords) -> str:
    """Dots with 95% intervals for one area, the local authority as a black bar; full wrapped labels (SVG).
    ``rows``: published rows with a value (a withheld value is never drawn)."""
    from measurekit.publish.svg import PT, Canvas, nice_ticks, scale

    labels_ = [_wrap(t, 38) for t in rows["indicator_title"]]
    line_h = 8 * PT * 1.2
    left = _label_column(labels_, 8)
    heights = [(lab.count("\n") + 1) * line_h + 14 for lab in labels_]
    top, right = 6.0, 16.0
    axis_y = top + sum(heights)
    mids = top + np.cumsum(heights) - np.asarray(heights) / 2
    sx = scale(xlim[0], xlim[1], left, WIDTH - right)

    def clip(v) -> float:
        return sx(min(max(float(v), xlim[0]), xlim[1]))

    c = Canvas(WIDTH)
    for lab, y in zip(labels_, mids):
        c.text(LABEL_PAD, y, lab, 8)
    c.x_axis(sx, nice_ticks(*xlim, 5), axis_y, left, WIDTH - right, 8, grid_to=top)
    c.line(left, top, left, axis_y, "#1b1b1b", 0.8)
    c.text((left + WIDTH - right) / 2, axis_y + 31, xlabel, 8, "middle")
    used = []
    for y, r in zip(mids, records(rows, ("significance_95", "polarity", "ci_low", "ci_high", "comparator",
                                          "value"))):
        j = judgement(r["significance_95"], r["polarity"])
        marker, colour, _ = MARKERS.get(j, MARKERS[""])
        used.append(j)
        if pd.notna(r["ci_low"]) and pd.notna(r["ci_high"]):
            c.line(clip(r["ci_low"]), y, clip(r["ci_high"]), y, "#595959", 1.6 * PT)
        if pd.notna(r["comparator"]):
            c.marker("|", clip(r["comparator"]), y, 14, LA_INK, edge_width=2 * PT)
        c.marker(marker, clip(r["value"]), y, 7.75, colour, edge="#fff", edge_width=0.6 * PT)
    entries = [(_key(MARKERS[j][0], MARKERS[j][1]), f"{name}: " + MARKERS[j][2].format(la=words.la).lower())
               for j in dict.fromkeys(used)]
    entries += [(_key("-", "#595959", width=1.6), "95% interval"),
                (lambda cv, x, y: cv.marker("|", x, y, 12, LA_INK, edge_width=2 * PT), words.La)]
    c.height = c.legend(entries, axis_y + 44, 7.5, ncol=3) + 6
    return c.svg(alt)


def _chart_alt(rows: pd.DataFrame, name: str, value_type: str, kind: str, words: labels.PlaceWords) -> str:
    parts = [f"{r['indicator_title']}: {labels.value(r['value'], value_type)} in {name} (95% interval "
             f"{labels.value(r['ci_low'], value_type)} to {labels.value(r['ci_high'], value_type)}), {words.la} "
             f"{labels.value(r['comparator'], value_type)}, "
             f"{labels.comparison(r['significance_95'], r['polarity'], words.the_la)}"
             for r in records(rows, ("indicator_title", "value", "ci_low", "ci_high", "comparator",
                                      "significance_95", "polarity"))]
    return f"{kind} for {name}. " + "; ".join(parts) + "."


def funnel_limits(value_type: str, target: float, sd: float, n_grid, level: float):
    """Funnel limits around the local authority's published value ``target`` for denominators ``n_grid`` (the
    board table's rule); ``sd``: the SD of the children's values over the local authority (means only), carried
    by the board table (never rebuilt from a rounded interval)."""
    from measurekit.stats import intervals

    if value_type == "proportion":
        lo, hi = intervals.funnel_limits_proportion(target / 100, n_grid, level)
        return lo * 100, hi * 100
    return intervals.funnel_limits_mean(target, sd, n_grid, level)


class FunnelCharts:
    """Funnel plots of every indicator (small multiples), every area against the local authority, as SVG.

    Everything but the highlighted area is the same on every briefing, so it is drawn once per board table;
    :meth:`svg` adds one area's marker (shape and colour by its comparison, drawn in place of its grey dot) and
    the legend naming it. Only published values are drawn; an indicator whose local authority value is
    withheld, or a mean whose SD the board table does not carry, has no panel.
    """

    PANEL_W, PLOT_H, NCOL = WIDTH / 3, 84.0, 3

    def __init__(self, board):
        from measurekit.publish.svg import PT, Canvas

        self.words = board.words
        self.people = labels.people_words(board.framework).people
        table = board.rows
        everyone = table[table["breakdown"] == "all"]
        by_ind = dict(tuple(everyone.groupby("indicator_id", sort=False)))
        inds = [i for i in board.indicators.values() if i.id in by_ind and self._drawable(board, i, by_ind[i.id])]
        self.parts: list = []          # markup strings, and per panel a dict code -> (grey dot, highlight)
        self.canvas = Canvas(WIDTH)
        line_h = 8 * PT * 1.2
        titles = [_wrap(ind.title, 30) for ind in inds]
        top = 2.0
        for row in range(int(np.ceil(len(inds) / self.NCOL))):
            row_titles = titles[row * self.NCOL:(row + 1) * self.NCOL]
            title_h = max(t.count("\n") + 1 for t in row_titles) * line_h + 6
            for k, ind in enumerate(inds[row * self.NCOL:(row + 1) * self.NCOL]):
                self._panel(board, ind, by_ind[ind.id], titles[row * self.NCOL + k], k * self.PANEL_W, top, title_h)
            top += title_h + self.PLOT_H + 44
        self.legend_top = top

    @staticmethod
    def _drawable(board, ind, t: pd.DataFrame) -> bool:
        la = t[t["geography_type"] == "la"]
        nb = t[(t["geography_type"] == "neighbourhood") & t["value"].notna()]
        if la.empty or nb.empty or pd.isna(la["value"].iloc[0]):
            return False
        return ind.value_type == "proportion" or np.isfinite(board.la_sd(ind.id))

    def _panel(self, board, ind, t: pd.DataFrame, title: str, x0: float, y0: float, title_h: float) -> None:
        from measurekit.publish.svg import PT, Canvas, nice_ticks, padded, scale

        la = t[t["geography_type"] == "la"].iloc[0]
        nb = t[(t["geography_type"] == "neighbourhood") & t["value"].notna()]
        n_max = max(float(nb["denominator"].max()) * 1.15, 10)
        grid = np.linspace(max(float(nb["denominator"].min()) * 0.6, 5), n_max, 120)
        target, sd = float(la["value"]), board.la_sd(ind.id)
        limits = [(style, funnel_limits(ind.value_type, target, sd, grid, level))
                  for level, style in ((0.95, "5,2.2"), (0.998, "1.4,2.3"))]
        ys = np.concatenate([np.asarray(v, dtype=float) for _, lim in limits for v in lim]
                            + [nb["value"].to_numpy(dtype=float), [target]])
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
        c.text((left + right) / 2, bottom + 27, f"{self.people} counted", 7, "middle")
        c.text(x0 + 8, y0 + 2 + 8 * PT * 0.6, title, 8, middle=False)
        gx = [sx(v) for v in grid]
        for dash, lim in limits:
            for v in lim:
                c.polyline(gx, [sy(float(y)) for y in v], "#595959", PT, dash)
        c.line(left, sy(target), right, sy(target), LA_INK, 1.2 * PT)
        self.parts.append("".join(c.parts))
        dots = {}
        for r in records(nb, ("denominator", "value", "significance_95", "polarity", "geography_code")):
            x, y = sx(float(r["denominator"])), sy(float(r["value"]))
            grey, mine = Canvas(WIDTH), Canvas(WIDTH)
            grey.marker("o", x, y, 4.25, "#8c8c8c")
            marker, colour, _ = MARKERS.get(judgement(r["significance_95"], r["polarity"]), MARKERS[""])
            mine.marker(marker, x, y, 7.75, colour, edge=INK, edge_width=0.6 * PT)
            dots[str(r["geography_code"])] = (grey.parts[0], mine.parts[0])
        self.parts.append(dots)

    def svg(self, code: str, name: str, alt: str) -> str:
        """The chart for one area's briefing: ``code`` highlighted, ``name`` in the legend."""
        from measurekit.publish.svg import PT, Canvas

        c = Canvas(WIDTH)
        for part in self.parts:
            if isinstance(part, str):
                c.add(part)
                continue
            c.parts += [grey for k, (grey, _) in part.items() if k != code]
            if code in part:
                c.add(part[code][1])
        w = self.words
        entries = [(_key("o", INK, 7, edge=INK, edge_width=PT, hollow=True), f"{name} (shape and colour as above)"),
                   (_key("o", "#8c8c8c", 5), f"Other {w.areas}"),
                   (_key("-", LA_INK, width=1.2), w.La),
                   (_key("--", "#595959"), "95% limits"),
                   (_key(":", "#595959"), "99.8% limits")]
        c.height = c.legend(entries, self.legend_top, 7.5, ncol=3) + 4
        return c.svg(alt)

def _coverage_chart(cov: pd.DataFrame, overall: float, name: str, alt: str, framework=None) -> str:
    """Who was heard: share of children whose parent answered, by group, as labelled bars (SVG).

    Breakdowns the framework declares ``own_panel: true`` (many groups, such as languages) in a second panel so the
    chart stays short enough for the printed page. ``cov``: the
    published rows; a withheld group is labelled "withheld (c)" and has no bar (its value is never drawn).
    """
    from measurekit.publish.svg import PT, Canvas, nice_ticks, scale, text_width

    people = labels.people_words(framework)
    own = cov["breakdown"].isin([b.id for b in getattr(framework, "group_breakdowns", []) if b.own_panel])
    panels = [cov[~own], cov[own]]
    panels = [p for p in panels if len(p)]
    rows_max = max(len(p) for p in panels)
    row_h, top = 25.0, 6.0
    axis_y = top + row_h * rows_max
    panel_w = WIDTH / len(panels)
    c = Canvas(WIDTH)
    ticks = nice_ticks(0, 100, 5)
    for k, part in enumerate(panels):
        x0 = k * panel_w
        bars = records(part, ("breakdown", "breakdown_value", "value", "symbol"))
        labels_ = [_wrap(labels.category(r["breakdown"], r["breakdown_value"], framework=framework), 34)
                   for r in bars]
        left = _label_column(labels_, 7, x0)
        right = x0 + panel_w - 46
        sx = scale(0, 100, left, right)
        mids = [top + (j + 0.5) * row_h for j in range(len(part))]
        for lab, y in zip(labels_, mids):
            c.text(x0 + LABEL_PAD, y, lab, 7)
        for y, r in zip(mids, bars):
            if pd.notna(r["value"]) and r["symbol"] != "c":
                c.rect(left, y - row_h * 0.325, sx(float(r["value"])) - left, row_h * 0.65, "#5b7fa6")
        line_x = sx(overall)
        c.line(line_x, top - 2, line_x, axis_y, LA_INK, 1.2 * PT, "5,2.2")
        for y, r in zip(mids, bars):
            shown = pd.notna(r["value"]) and r["symbol"] != "c"
            text = f"{r['value']:.0f}%" + (" (u)" if r["symbol"] == "u" else "") if shown else (
                "withheld (c)" if r["symbol"] == "c" else f"no {people.people} (x)")
            x = sx(float(r["value"]) if shown else 0) + 4
            if x - 3 < line_x < x + text_width(text, 7) + 2:        # the label would sit on the dashed line
                x = line_x + 4
            c.text(x, y, text, 7, halo=True)
        c.x_axis(sx, ticks, axis_y, left, right, 7.5)
        c.line(left, top - 2, left, axis_y, "#1b1b1b", 0.8)
        c.text((left + right) / 2, axis_y + 29, "% whose parent answered" if people.respondent == "parent"
               and labels.contract_words(framework) else "% who gave their ratings" if people.own
               else f"% whose {people.respondent} answered", 7.5, "middle")
    entries = [(_key("--", LA_INK, width=1.2), f"All of {name}: {overall:.0f}%")]
    c.height = c.legend(entries, axis_y + 40, 7.5, ncol=1) + 4
    return c.svg(alt)


def _chance_words(r) -> str:
    """Whether a difference from the local authority could be chance, in plain words."""
    if r.significance_95 in ("higher", "lower"):
        return ("A clear difference: very unlikely to be chance." if r.significance_998 == r.significance_95
                else "A difference that is unlikely to be chance.")
    return "The difference could be chance." if r.significance_95 else ""


def _card(r, value_type: str, words: labels.PlaceWords, symbols: dict | None = None) -> dict:
    """One headline card's texts (the template lays them out)."""
    if pd.isna(r.value):
        return {"title": r.indicator_title, "missing": (symbols or labels.SYMBOLS).get(r.symbol, "Not available")}
    comp = labels.comparison(r.significance_95, r.polarity, words.the_la)
    return {"title": r.indicator_title, "missing": "", "value": labels.value(r.value, value_type), "symbol": r.symbol,
            "low": labels.value(r.ci_low, value_type), "high": labels.value(r.ci_high, value_type),
            "children": labels.count(r.denominator), "comparison": comp[:1].upper() + comp[1:],
            "comparator": labels.value(r.comparator, value_type) if pd.notna(r.comparator) else "withheld",
            "chance": _chance_words(r)}


QUOTES_PER_PAGE = 2


def page_quotes(board, code: str, k: int, own: pd.DataFrame | None = None) -> tuple[list[dict], str]:
    """Consented quotes for one area's pages and the sentence that says where they come from.

    Quotes are not recorded by area, so no page pretends they are its own: the note says they come from
    families across the local authority. Pages take turns through the consented quotes (area ``k`` of the
    table starts at quote ``k * k_per_page``), so the pages do not all repeat the same few. ``own``: the area's
    rows (:meth:`BoardTable.area_rows`) when already split from the table."""
    ev = board.evidence
    quotes = ev.consented_quotes() if ev is not None else pd.DataFrame()
    if not len(quotes):
        return [], ""
    w = board.words
    k_per_page = QUOTES_PER_PAGE
    n = min(k_per_page, len(quotes))
    start = (k * k_per_page) % len(quotes)
    picked = [quotes.iloc[(start + j) % len(quotes)] for j in range(n)]
    out = [{"text": q["text"], "source": ", ".join(t for t in (labels.breakdown(q["voice_group"]).capitalize(),
                                                                  str(q.get("setting", "") or "").strip()) if t)}
           for q in picked]
    same = (f"every {w.area}'s page shows quotes from the same set" if len(quotes) <= k_per_page
            else f"each {w.area}'s page shows a different few of them")
    quoted = ((getattr(board.framework.form_text, "family", None) or {}).get("quoted_by") or {}).get(
        "en", "families" if labels.contract_words(board.framework) else labels.people_words(board.framework).people)
    note = (f"Shared with consent by {quoted} across the {w.la}: not recorded by {w.area}, so they may not be from "
            f"{(board.area_rows(code) if own is None else own)['geography_name'].iloc[0]}; {same}. After each quote: "
            "who was heard, and where.")
    return out, note


def briefing_page(board, code: str, made_on: str | None = None, funnels: FunnelCharts | None = None,
                  own: pd.DataFrame | None = None, over_time=None) -> str:
    """The HTML briefing for one area (by code) of a board table (template ``briefing.html.j2``).

    When many briefings are made from one table, :func:`write_briefings` passes what is shared or can be
    found once: ``funnels`` (the table's :class:`FunnelCharts`) and ``own`` (:meth:`BoardTable.area_rows`).
    ``over_time``: the published over-time results of a multi-period pack
    (:func:`~measurekit.publish.over_time_pack.briefing_section`: each indicator's series as small multiples, the
    target line, the trend words and the gap between groups).
    """
    import datetime as _dt

    fw, words = board.framework, board.words
    meta = board.indicators
    own = board.area_rows(code) if own is None else own
    rows = own[own["breakdown"] == "all"]
    rows = rows.assign(_o=rows["indicator_id"].map({i: k for k, i in enumerate(meta)})).sort_values("_o")
    name = str(rows["geography_name"].iloc[0])
    period = str(rows["period"].iloc[0])
    made_on = made_on or _dt.date.today().strftime("%d %B %Y")
    symbols = labels.symbols(fw)
    cards = [_card(r, meta[r.indicator_id].value_type, words, symbols) for r in tuples(rows, (
        "indicator_id", "indicator_title", "value", "symbol", "significance_95", "significance_998", "polarity",
        "ci_low", "ci_high", "denominator", "comparator"))]
    shown = rows[rows["value"].notna() & rows["symbol"].ne("c")]          # published values only
    props = shown[shown["indicator_id"].map(lambda i: meta[i].value_type == "proportion")]
    means = shown[shown["indicator_id"].map(lambda i: meta[i].value_type != "proportion")]
    charts = []
    if len(props):
        alt = _chart_alt(props, name, "proportion", "Chart of the percentage indicators", words)
        axis = ("Percentage of children or parents (0-100%)" if labels.contract_words(fw)
                else f"Percentage of {labels.people_words(fw).people} (0-100%)")
        chart = _indicator_chart(props, name, (0, 100), axis, alt, words)
        charts.append({"svg": pagekit.markup(chart),
                       "caption": f"Percentages with their 95% intervals; the black bar is the {words.la}."})
    for r in tuples(means, ("indicator_id",)):
        ind = meta[r.indicator_id]
        lo, hi = _scale_range(fw, ind, means)
        one = means[means["indicator_id"] == r.indicator_id]
        chart = _indicator_chart(one, name, (lo, hi), f"Mean score on the survey's scale ({lo:g} = lowest, {hi:g} = "
                                 "highest)", _chart_alt(one, name, "mean", "Chart of a mean score", words), words)
        charts.append({"svg": pagekit.markup(chart),
                       "caption": f"{ind.title}: mean score from {lo:g} to {hi:g}, with its 95% interval."})
    alt = (f"Funnel plots, one per indicator: each {words.area}'s value against the number of "
           f"{labels.people_words(fw).people} counted, "
           f"with the {words.la} value and 95% and 99.8% limits. {name} is highlighted. Points outside the limits "
           f"differ from the {words.la} by more than chance. " + " ".join(
               f"{r['indicator_title']}: {labels.comparison(r['significance_95'], r['polarity'], words.the_la)} "
               f"at 95%, {labels.comparison(r['significance_998'], r['polarity'], words.the_la)} at 99.8%."
               for r in records(shown, ("indicator_title", "significance_95", "significance_998", "polarity"))))
    funnels = funnels if funnels is not None else FunnelCharts(board)
    funnel = {"svg": pagekit.markup(funnels.svg(code, name, alt)),
              "caption": f"Each dot is one {words.area}; the solid line is the {words.la}. Outside the dashed lines: "
                         "a difference bigger than chance alone would give 95 times in 100 for a group that size; "
                         "outside the dotted lines (99.8%): very unlikely to be chance."}
    coverage = _coverage(board, own, rows, name)
    codes = board.area_codes()
    k = codes.index(str(code)) if str(code) in codes else 0
    quotes, quotes_note = page_quotes(board, code, k, own)
    extra = _code_words(fw)
    said = page_words(fw)
    care = [said["care"],
            "95% interval: the range the true value is likely to be in; small groups give wide intervals.",
            f"“Similar”: the difference from the {words.la} could be chance."]
    care += [f"{ind.title}: {labels.plain(c, extra)}" for ind in meta.values() for c in ind.caveats]
    people = labels.people_words(fw).people
    care += [f"For {ind.title}, small numbers are protected less than usual "
             f"({'; '.join(ind.disclosure.weakenings(people))}), because {ind.disclosure.reason.strip()}."
             for ind in meta.values() if ind.disclosure.weakenings()]
    used_symbols = sorted({s for s in own["symbol"] if s})
    sources = sorted({ind.numerator.source for ind in meta.values()}
                     | {ind.denominator.source for ind in meta.values()})
    text = " ".join([*(c["title"] for c in cards), *care, *(f["caption"] for f in charts), funnel["caption"]])
    return pagekit.render(
        "briefing.html.j2", title=f"{name}: {words.area} briefing", lang="en", name=name,
        framework_title=fw.title or fw.name, period=period, words=words, illustrative=fw.illustrative, cards=cards,
        charts=charts, funnel=funnel, coverage=coverage, quotes=quotes, quotes_note=quotes_note, care=care,
        said=said, over_time=None if over_time is None else _over_time_section(over_time, board, code),
        glossary=labels.glossary(text, fw), symbols=[(s, symbols.get(s, s)) for s in used_symbols],
        sources=", ".join(s for s in sources if s), made_on=made_on)


def _over_time_section(over_time, board, code):
    from measurekit.publish.over_time_pack import briefing_section

    return briefing_section(over_time, board, code)


BRIEFING_WORDS = {"heading": "what families tell us about starting school",
                  "synthetic": "Illustrative example built from synthetic data: not real children or families.",
                  "people": "children", "quotes": "",   # "": the template's own "In families' own words"
                  "care": "Voice indicators come from parents who answered the survey; see who was heard above."}


def page_words(fw) -> dict[str, str]:
    """The briefing's own words about the people: a framework that declares its own population (``population``
    with its ``people`` word) gets them in that word; any other keeps the data contract's (children, families)."""
    from measurekit.data.population import declared

    if not declared(fw):
        return dict(BRIEFING_WORDS)
    people = fw.population.people
    return {"heading": f"what {people} tell us", "people": people,
            "synthetic": f"Illustrative example built from synthetic data: not real {people}.",
            "quotes": f"In {people}'s own words" if not people.endswith("s") else f"In {people}' own words",
            "care": f"Voice indicators come from the {people} who gave their own ratings; see who was heard above."}


def _coverage(board, own: pd.DataFrame, rows: pd.DataFrame, name: str) -> dict | None:
    """The "who was heard" chart and sentence of a briefing, from the framework's coverage indicator."""
    ind, fw = board.coverage_indicator, board.framework
    if ind is None:
        return None
    cov = own[(own["indicator_id"] == ind.id) & (own["breakdown"] != "all")]
    cov_all = rows[rows["indicator_id"] == ind.id]
    if not (len(cov) and len(cov_all) and pd.notna(cov_all["value"].iloc[0])):
        return None
    overall = float(cov_all["value"].iloc[0])
    published = cov[cov["value"].notna() & cov["symbol"].ne("c")]
    withheld_all = [b for b, g in cov.groupby("breakdown", sort=False) if not g["value"].notna().any()]
    drawn = cov[~cov["breakdown"].isin(withheld_all)]
    alt = (f"Bar chart: share of children whose parent answered the survey in {name}, by group. " + "; ".join(
        f"{labels.category(r.breakdown, r.breakdown_value, framework=fw)}: "
        + ("withheld" if pd.isna(r.value) else labels.percent(r.value))
        for r in tuples(drawn, ("breakdown", "breakdown_value", "value"))) + ".")
    low = published[published["value"] < overall - 10]
    text = f"Parents of {labels.percent(overall)} of children in {name} answered the survey. "
    from measurekit.data.population import declared

    if declared(fw):     # a framework with its own population: in its words
        text = f"{labels.percent(overall)} of {fw.population.people} in {name} gave their own ratings. "
        alt = alt.replace("children whose parent answered the survey", f"{fw.population.people} who gave ratings")
    if len(low):
        text += ("Fewer answered among: " + ", ".join(labels.category(r.breakdown, r.breakdown_value, framework=fw)
                                                      for r in tuples(low, ("breakdown", "breakdown_value")))
                 + ". Their views are under-represented in the voice indicators above.")
    if withheld_all:
        text += (" " + " and ".join(labels.breakdown(b, fw) for b in withheld_all)
                 + ": every group withheld to protect small numbers (not drawn).")
    shown = set(cov["breakdown"])
    caption = " ".join(["Only published figures are drawn."] + [
        rel.reader_note.strip() for rel in getattr(fw, "breakdown_relations", ())
        if rel.reader_note.strip() and {rel.breakdown, rel.equals_breakdown} <= shown])
    return {"svg": pagekit.markup(_coverage_chart(drawn, overall, name, alt, fw)) if len(drawn) else "",
            "caption": caption, "text": text}


def own_rows(table: pd.DataFrame, code: str) -> pd.DataFrame:
    """The rows of one area (every indicator and breakdown) in a board table's rows."""
    return table[(table["geography_type"] == "neighbourhood") & (table["geography_code"].astype(str) == code)]


def write_area_pages(board, folder: Path, render, desc: str = "") -> dict[str, Path]:
    """Write ``render(code, own)`` for every area of ``board`` to ``folder/<stem>.html`` (stems from
    :func:`file_stems`, inside ``folder`` only), with a progress bar named ``desc``. ``own`` is the
    area's rows, split from the table once for all pages. Returns code -> path."""
    from measurekit.core.progress import progress

    folder.mkdir(parents=True, exist_ok=True)
    table = board.rows
    nb = table[table["geography_type"] == "neighbourhood"]
    # text columns as Python objects: each page walks its rows many times, and pandas' own string arrays make
    # every row lookup slow (30 times slower at 150 areas); the numbers stay numbers. The copy puts the columns
    # of one type in one block (pandas' consolidation), so each of a page's many filters is one take per type
    nb = nb.astype({c: object for c in nb.columns if pd.api.types.is_string_dtype(nb[c].dtype)
                    and not pd.api.types.is_object_dtype(nb[c].dtype)}).copy()
    keys = nb["geography_code"].astype(str)
    codes = board.area_codes()
    own = dict(tuple(nb.groupby(keys, sort=False)))
    stems = file_stems(codes)
    return {code: atomic.write_text(folder / f"{stems[code]}.html", render(code, own[code]), root=folder)
            for code in progress(codes, total=len(codes), desc=desc)}


def write_briefings(board, folder: Path, over_time=None) -> dict[str, Path]:
    """One self-contained HTML page per area of a board table (inline CSS and SVG charts; no scripts, no
    network). Files are named from the area codes (:func:`file_stems`). Returns code -> path."""
    funnels = FunnelCharts(board)
    return write_area_pages(board, folder, lambda code, own: briefing_page(board, code, funnels=funnels, own=own,
                                                                           over_time=over_time), "Briefings")
