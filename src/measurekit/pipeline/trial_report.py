"""The trial report: one self-contained HTML page for the analysts, a pure function of the run state.

It holds unsuppressed counts (response rates by group, DIF sample sizes), so it is written to the
internal folder. Each section opens with a one-paragraph verdict in plain English (is each voice
domain reliable enough for group reporting, does it work the same across groups and for which
items not, does it add to GLD and by how much, whose voices are missing), then the evidence:
statistics labelled in words with R's name in brackets (:mod:`measurekit.core.labels`), p-values
as "< 0.001", counts as whole numbers. Technical column names appear only in the "For analysts"
appendix. A part that was skipped is named with its reason instead of a table.

How it is made: :func:`render_trial_report` collects sections of blocks (verdicts, text, tables of
text cells, SVG charts drawn from the numbers by :mod:`measurekit.publish.svg`, item cards) from the
:class:`~measurekit.pipeline.state.RunState` alone (it reads no file of the run back) and renders them
with the Jinja2 template ``pipeline/templates/trial_report.html.j2`` (package data, autoescaping on).
The page has no script, no web font and no network request; it fits a 1280-pixel screen and its print
style puts it on A4 with no text below 8 points. :func:`write_trial_report` writes it atomically.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from measurekit.core import atomic, labels
from measurekit.core import thresholds as th
from measurekit.data.population import declared, first_respondent
from measurekit.pipeline.state import RunState, ready

GOOD_ALPHA = th.ALPHA_MIN   # usual minimum for comparing groups (core/thresholds.py); individual decisions need ~0.90
LEVELS = {"configural": "Same structure (configural)", "thresholds": "Same thresholds (thresholds)",
          "metric": "Same loadings (metric)", "loadings": "Same loadings (loadings)",
          "scalar": "Same intercepts (scalar)", "intercepts": "Same intercepts (intercepts)",
          "strict": "Same residual variances (strict)", "residuals": "Same residual variances (residuals)"}
MEANS_COMPARABLE = {"scalar", "intercepts", "strict", "residuals"}     # levels at which group means can be compared
METRIC = {"metric", "loadings"}

RATINGS = {"+": "sufficient (+)", "-": "insufficient (-)", "?": "not known yet (?)"}
TEMPLATE = "trial_report.html.j2"


def _base(level) -> str:
    return str(level).split(" ")[0]


# ---------------------------------------------------------------- the page model
@dataclass
class Table:
    """A table of text cells: headers, rows, the columns holding words (left-aligned), and a note on rows left out."""

    headers: list[str]
    rows: list[list[str]]
    caption: str = ""
    text_columns: set[int] = field(default_factory=set)
    more: str = ""


@dataclass
class Section:
    title: str
    blocks: list[dict] = field(default_factory=list)
    css_class: str = ""

    @property
    def anchor(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")


def _is_number_text(text: str) -> bool:
    t = text.replace(",", "").replace("%", "").replace("<", "").replace("+", "").replace("\u2212", "-").strip()
    try:
        float(t)
    except ValueError:
        return False
    return True


def _table(frame: pd.DataFrame, caption: str = "", max_rows: int = 80) -> Table:
    """A DataFrame of display values as a :class:`Table` (missing values blank, floats to three decimals)."""
    def cell(x) -> str:
        if x is None or (isinstance(x, float) and np.isnan(x)):
            return ""
        if isinstance(x, (float, np.floating)):
            return f"{x:.3f}"
        return str(x)

    shown = frame.head(max_rows)
    rows = [[cell(x) for x in r] for r in shown.itertuples(index=False)]
    text_cols = {j for j in range(shown.shape[1]) if any(v and not _is_number_text(v) for v in (r[j] for r in rows))}
    more = f"Showing {max_rows} of {len(frame):,} rows." if len(frame) > max_rows else ""
    return Table([str(c) for c in shown.columns], rows, caption, text_cols, more)


class _Report:
    """Sections of blocks, filled by the parts below and rendered by the template."""

    def __init__(self, title: str, subtitle: str):
        self.title, self.subtitle = title, subtitle
        self.sections: list[Section] = []

    def section(self, title: str, css_class: str = "") -> Section:
        s = Section(title, css_class=css_class)
        self.sections.append(s)
        return s

    @staticmethod
    def verdict(s: Section, text: str) -> None:
        s.blocks.append({"kind": "verdict", "text": text})

    @staticmethod
    def text(s: Section, text: str, kind: str = "text", lead: str = "") -> None:
        s.blocks.append({"kind": "note" if kind == "note" else "text", "text": text, "lead": lead})

    @staticmethod
    def bullets(s: Section, entries: list[tuple[str, str]]) -> None:
        s.blocks.append({"kind": "list", "entries": entries})

    @staticmethod
    def table(s: Section, frame: pd.DataFrame, caption: str = "", max_rows: int = 80) -> None:
        s.blocks.append({"kind": "table", "table": _table(frame, caption, max_rows)})

    @staticmethod
    def figure(s: Section, svg_markup: str, caption: str) -> None:
        from markupsafe import Markup

        # the SVG is drawn by measurekit.publish.svg, which escapes every text it writes
        s.blocks.append({"kind": "figure", "svg": Markup(svg_markup), "caption": caption})

    @staticmethod
    def figures(s: Section, charts: list[tuple[str, str]]) -> None:
        """Charts side by side where the page is wide enough (one under the other on paper)."""
        from markupsafe import Markup

        s.blocks.append({"kind": "figures", "figures": [{"svg": Markup(m), "caption": c} for m, c in charts]})

    @staticmethod
    def cards(s: Section, cards: list[dict], caption: str = "") -> None:
        s.blocks.append({"kind": "cards", "cards": cards, "caption": caption})


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    folder = Path(__file__).resolve().parent / "templates"
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


@lru_cache(maxsize=1)
def _css() -> str:
    return (Path(__file__).resolve().parent / "templates" / "trial_report.css").read_text(encoding="utf-8")


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


def _is_area(fw, variable) -> bool:
    """``variable`` is the framework's area column (its area breakdown, or the population's area column)."""
    area = fw.area_breakdown if fw is not None else None
    pop = getattr(fw, "population", None)
    return variable in {"area", *(x for x in (area.id if area else None, pop.area if pop else None) if x)}


def _group_label(fw, variable, group) -> str:
    """A group of the linkage and coverage tables in words; the framework names its areas and groups."""
    if _is_area(fw, variable):
        return f"{_area_word(fw).capitalize()}: {group}"
    declared = fw.breakdown(variable) if fw is not None else None
    if declared is not None and declared.own_panel:       # a many-valued group (e.g. a language): "Title: value"
        return f"{labels.breakdown(variable, framework=fw)}: {group}"
    return labels.category(variable, group, framework=fw)


def _dif_words(fw, f) -> tuple[str, str]:
    """The DIF grouping in words: (its label, e.g. "language (X or other)"; how its column reads in a sentence,
    e.g. "language"), from the framework's fairness group ``f.dif_group``."""
    g = next((g for g in fw.analysis.fairness_groups if g.name == f.dif_group), None)
    if g is None:
        return labels.breakdown(f.dif_group, framework=fw).lower(), labels.breakdown(f.dif_group, framework=fw).lower()
    declared = fw.breakdown(g.column)
    return g.words, (declared.in_words if declared is not None else g.column.replace("_", " "))


def _area_word(fw, plural: bool = False) -> str:
    area = getattr(fw, "area", None)
    if area is None:
        return "areas" if plural else "area"
    return area.areas_word if plural else area.area_word


def _verdict(rep, s, text: str) -> None:
    rep.verdict(s, text)


# ---------------------------------------------------------------- report
def render_trial_report(state: RunState) -> str:
    """The trial report as one HTML string, from the run state alone (no file of the run is read)."""
    import measurekit

    fw = ready(state.framework, "framework")
    own = declared(fw)   # a framework with its own population: its title and words (the bundled report unchanged)
    rep = _Report(f"Trial report: {fw.title or fw.name or state.inputs.framework_dir.name}",
                  f"Framework: {fw.title or fw.name or state.inputs.framework_dir.name}")
    summary = rep.section("Summary")
    verdicts: list[tuple[str, str]] = []
    if own:
        pop = fw.population
        assert pop is not None   # own: the framework declares its population
        rep.text(summary, f"This report checks the input files, links the {pop.people}'s ratings to their records, "
                          "and says for each analysis what it found or why it could not run on this design. Each "
                          "section starts with its verdict; the evidence follows. Read whose ratings are missing "
                          "before any result.")
    else:
        rep.text(summary, "This report checks the input files, links parents' survey responses to children's records, "
                          "scores the voice domains and tests whether they are reliable, fair across groups and add to "
                          "what routine data already say. Each section starts with its verdict; the evidence follows. "
                          "Read who responded before any result: families who are seldom heard are the least likely to "
                          "be in the survey.")
    if getattr(state, "sample_note", ""):
        rep.text(summary, state.sample_note, "note")
    periods = getattr(state, "periods", None)
    if periods is not None and state.inputs.period:    # `run` on a folder of years
        years = list(periods.labels)
        rep.text(summary, f"Period analysed: {state.inputs.period}, one of the {len(years)} academic years of the "
                          f"data folder ({', '.join(years)}). Every analysis in this report is of "
                          f"{state.inputs.period} alone; the series over the years are in the over-time tables and "
                          "the board pack.", "note")
    if state.skipped:
        rep.text(summary, "Some analyses could not run on these data and were skipped: "
                          + "; ".join(f"{k.step} ({k.reason})" for k in state.skipped) + ".", "note")
    for part in (_inputs, _linkage, _scores, _measurement, _fairness, _coverage, _added_value, _cosmin):
        v = part(rep, state)
        if v:
            verdicts.append(v)
    if getattr(state, "perspectives", None) is not None:   # two perspectives of the same topics
        from measurekit.pipeline.trial_report_perspectives import perspectives_section

        v = perspectives_section(rep, state, _verdict)
        if v:
            verdicts.append(v)
    if verdicts:
        rep.bullets(summary, verdicts)
    s = rep.section("Run details")
    rep.table(s, _fmt(pd.DataFrame([(x.name, x.seconds) for x in state.steps], columns=["step", "seconds"]),
                      [("step", "Step", None), ("seconds", "Seconds", 1)]))
    _appendix(rep, state)
    made_by = (f"Made by measurekit {measurekit.__version__} from the data folder "
               f"\u201c{Path(state.inputs.data_dir).name}\u201d. Internal: it holds unsuppressed counts; "
               "do not share it.")
    return _environment().get_template(TEMPLATE).render(title=rep.title, subtitle=rep.subtitle, made_by=made_by,
                                                        sections=rep.sections, css=_css())


def write_trial_report(state: RunState, path: Path) -> Path:
    """Render the trial report (:func:`render_trial_report`) and write it atomically to ``path``."""
    return atomic.write_text(path, render_trial_report(state))


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
    fw = state.framework
    s = rep.section("Linkage and who responded")
    link = state.linkage
    summ = link.summary.set_index("measure")
    people = fw.population.people if fw.population is not None else "children"
    cohort = summ["count"].get(f"{people} in the cohort")
    linked = summ["count"].get(f"{people} with a linked response")
    text = ""
    if cohort is not None and linked is not None and cohort:
        text = (f"{labels.count(linked)} of {labels.count(cohort)} {people} ({linked / cohort:.0%}) have a "
                f"{first_respondent(fw).replace('_', ' ')} response linked to their record.")
        comp = link.comparison
        overall = linked / cohort
        for words, part in (("lower", comp[comp["rate"] <= overall - 0.10]),
                            ("higher", comp[comp["rate"] >= overall + 0.10])):
            if len(part):
                text += (f" Response was at least 10 points {words} among: "
                         + ", ".join(f"{_group_label(fw, r.variable, r.group)} ({r.rate:.0%})"
                                     for r in part.itertuples()) + ".")
        _verdict(rep, s, text)
    rep.table(s, _fmt(link.summary, [("measure", "Measure", lambda x: (str(x)[:1].upper() + str(x)[1:])
                                      .replace("child_id", "child reference")),
                                     ("count", "Count", "count"),
                                     ("percent", "Percent", lambda x: labels.percent(x, 1))]))
    for w in link.warnings:
        if not w.startswith("Response rates differ"):      # said in the verdict, with labels instead of codes
            rep.text(s, w, "note")
    comp = link.comparison.assign(label=[_group_label(fw, r.variable, r.group) for r in link.comparison.itertuples()])
    heads = (("Children", "Parent responses") if not declared(fw) else
             (people[:1].upper() + people[1:], f"With a {first_respondent(fw).replace('_', ' ')} response"))
    rep.table(s, _fmt(comp, [("label", "Group", None), ("n_cohort", heads[0], "count"),
                             ("n_linked", heads[1], "count"), ("rate", "Response rate (%)", "pct"),
                             ("difference", "Difference from the overall rate (points)", 1)]),
              caption="Response rate by group")
    overall = (linked / cohort) if cohort else None
    v = _voices(fw)
    rep.figure(s, _rate_chart(comp, "rate", "Response rate (%)", overall=overall, framework=fw),
               f"Share of each group with a linked {v.respondent} response; dashed line: all {v.people}")
    return ("Who responded", text) if text else None


@dataclass(frozen=True)
class _Voices:
    """The report's words for whose voices these are: ``families`` (the people heard, as a group), ``respondents``
    (who answered, plural), ``respondent`` and ``person``/``people`` (the framework's words; the data contract's
    families, parents, child and children for a framework on it)."""

    families: str
    respondents: str
    respondent: str
    person: str
    people: str


def _voices(fw) -> _Voices:
    w = labels.people_words(fw)
    if labels.contract_words(fw):
        return _Voices("families", "parents", w.respondent, w.person, w.people)
    plural = w.people if w.own else f"{w.respondent}s"
    return _Voices(w.people, plural, w.respondent, w.person, w.people)


def chart_groups(fw) -> list[str]:
    """The groups the report's bar charts show: the framework's area breakdown and the groups it declares for
    coverage (``analysis: coverage_by:``), else every breakdown it declares."""
    area = getattr(fw, "area_breakdown", None)
    declared_groups = list(fw.analysis.coverage_by) or [b.id for b in getattr(fw, "group_breakdowns", [])]
    return list(dict.fromkeys(([area.id] if area is not None else []) + declared_groups))


def _rate_chart(comp: pd.DataFrame, col: str, xlabel: str, overall=None, ref: float | None = None,
                framework=None) -> str:
    """Bars by group (the framework's areas and its coverage groups, :func:`chart_groups`) as inline SVG."""
    from measurekit.publish import svg

    people = _voices(framework).people
    data = comp[comp["variable"].isin(chart_groups(framework))]
    if col == "rate":
        values = (data[col].to_numpy(dtype=float) * 100).tolist()
        ref_value = overall * 100 if overall is not None else None
        alt = f"Bar chart, {xlabel.lower()} by group: " + "; ".join(
            f"{lab} {v:.0f}%" for lab, v in zip(data["label"], values))
        if ref_value is not None:
            alt += f"; all {people} {ref_value:.0f}%"
        return svg.bar_chart(data["label"], values, alt=alt + ".", axis_label=xlabel, lo=0, hi=100, ref=ref_value,
                             ref_label=f"All {people} {ref_value:.0f}%" if ref_value is not None else "",
                             ref_dashed=True, value_text=lambda v: f"{v:.0f}%")
    values = data[col].to_numpy(dtype=float).tolist()
    alt = f"Bar chart, {xlabel.lower()} by group: " + "; ".join(
        f"{lab} {v:.2f}" for lab, v in zip(data["label"], values))
    return svg.bar_chart(data["label"], values, alt=alt + ".", axis_label=xlabel, lo=0, ref=ref,
                         ref_label="Fair share (1)" if ref is not None else "")


def _scores(rep, state):
    if state.score_summary is None:
        return None
    fw = state.framework
    s = rep.section("Voice domain scores")
    who = "Parents"
    if declared(fw):   # a framework with its own population: its scales and its people
        who = f"{fw.population.people[:1].upper()}{fw.population.people[1:]}"
        rep.text(s, f"Each domain score is the mean of the answered items of the domain ({first_respondent(fw)}'s "
                    f"ratings at their latest review), for {fw.population.people} who answered enough of them."
                    .replace("_", " "))
    else:
        rep.text(s, f"Each domain score is the mean of the answered items ({_scale_ends(fw)}, "
                    "reverse-worded items flipped), for parents who answered enough of the domain's items.")
    titles = {d.score_column: d.title for d in fw.domains}
    rep.table(s, _fmt(state.score_summary, [("scale", "Domain", lambda x: titles.get(x, x)),
                                            ("count", f"{who} with a score", "count"), ("mean", "Mean", 2),
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
        parts.append(f"All {len(rel)} voice domains are reliable enough for reporting groups such as "
                     f"{_area_word(fw, plural=True)} "
                     f"(Cronbach's alpha {rel['raw_alpha'].min():.2f} to {rel['raw_alpha'].max():.2f}, "
                     "each with its 95% "
                     f"interval above {GOOD_ALPHA:.2f}); they are not precise enough for decisions about one "
                     f"{_voices(fw).person}.")
    else:
        if len(good):
            parts.append("Reliable enough for group reporting: " + ", ".join(good[title_col]) + ".")
        if len(border):
            parts.append("Borderline (alpha above 0.70 but its interval reaches below): " + ", ".join(border[title_col])
                         + "; report with care.")
        if len(weak):
            parts.append("Not reliable enough yet (alpha below 0.70): " + ", ".join(weak[title_col])
                         + f"; revise items with {_voices(fw).families} before publishing.")
    if m.parallel is not None:
        k = m.parallel.n_factors
        parts.append(f"The answers support {k} distinct domain{'s' if k != 1 else ''}"
                     + (", as designed." if k == len(fw.domains) else f", against {len(fw.domains)} designed."))
    text = " ".join(parts)
    _verdict(rep, s, text)
    rep.text(s, "Cronbach's alpha says how consistently a domain's items move together (0.70 or more is usually "
                "enough for comparing groups; the interval is a bootstrap one). Parallel analysis compares the "
                "structure of the answers with random data to suggest how many distinct domains they support.")
    who = _voices(fw).respondents
    rep.table(s, _fmt(rel, [(title_col, "Domain", None), ("items", "Items", "count"),
                            ("n", who[:1].upper() + who[1:], "count"),
                            ("raw_alpha", _col("raw_alpha"), 2), ("ci_low", "95% interval, lower", 2),
                            ("ci_high", "95% interval, upper", 2), ("average_r", _col("average_r"), 2),
                            ("weakest_item", "Weakest item", None), ("weakest_r_drop", _col("r_drop"), 2)]))
    if m.parallel is not None:
        rep.figure(s, _scree_chart(m.parallel), "Observed eigenvalues against random data (parallel analysis)")
    if m.efa is not None:
        rep.figure(s, _loadings_chart(m.efa), "Factor loadings (exploratory factor analysis, oblimin rotation); "
                                              "values below 0.30 in grey")
    if m.omega is not None:
        rep.text(s, f"{_col('omega_total')}: {m.omega.omega_total:.2f} (all common factors); "
                    f"{_col('omega_h')}: {m.omega.omega_h:.2f} (one general factor). A low omega hierarchical means "
                    "the domains are better reported separately than as one total.")
    if m.item_analysis is not None:
        flagged = m.item_analysis.items
        flagged = flagged[flagged["flags"] != ""]
        rep.text(s, f"Items to look at again with {_voices(fw).families}: "
                 + ("; ".join(f"{i} (“{_stem(fw, i)}”): {str(r).replace('_', ' ')}"
                              for i, r in flagged["flags"].items())
                    or "none flagged."))
    if state.cosmin is None and (m.item_analysis is not None or m.efa is not None):
        rep.cards(s, _item_cards(state), caption="Item cards")
    return ("Reliability", text)


def _scree_chart(parallel) -> str:
    from measurekit.publish import svg

    e = parallel.eigenvalues
    x = list(range(1, len(e) + 1))
    series = [{"name": "Components, your data", "x": x, "y": e["pc_observed"], "colour": "#1d3557", "marker": "o"},
              {"name": "Factors, your data", "x": x, "y": e["fa_observed"], "colour": "#2e7d32", "marker": "^"},
              {"name": "Components, random data (95th percentile)", "x": x, "y": e["pc_simulated"],
               "colour": "#b5470b", "dash": "6,4", "marker": ""},
              {"name": "Factors, random data (95th percentile)", "x": x, "y": e["fa_simulated"],
               "colour": "#b5470b", "dash": "2,3", "marker": ""}]
    alt = (f"Scree plot of parallel analysis: {parallel.n_factors} factor(s) and {parallel.n_components} "
           "component(s) of the observed data lie above those of random data. Observed component eigenvalues: "
           + ", ".join(f"{v:.2f}" for v in e["pc_observed"].head(6)) + ".")
    return svg.line_chart(series, alt=alt, x_label="Factor or component number", y_label="Eigenvalue", hline=0.0)


def _loadings_chart(efa) -> str:
    from measurekit.publish import svg

    L = efa.loadings
    main = L.abs().idxmax(axis=1)
    alt = ("Heat map of exploratory factor loadings. Each item's largest loading: "
           + "; ".join(f"{i} {f} {L.loc[i, f]:.2f}" for i, f in main.items()) + ".")
    return svg.heat_map(list(L.index), list(L.columns), L.to_numpy().tolist(), alt=alt)


def _own_factor_loadings(fw, efa) -> dict[str, float]:
    """Each item's EFA loading on its own domain's factor: the factor on which the domain's items load most in sum
    (so an item that loads on another domain's factor shows a small number here, not that other loading)."""
    L = efa.loadings
    out = {}
    for d in fw.domains:
        ids = [i.id for i in fw.items_in(d.id, first_respondent(fw)) if i.id in L.index]
        if not ids:
            continue
        factor = L.loc[ids].sum(axis=0).abs().idxmax()
        out.update({i: float(L.loc[i, factor]) for i in ids})
    return out


def _item_cards(state) -> list[dict]:
    """One card per item: the numbers the run computed about it, in words (a number not computed says so); an
    item in several domains shows its item-rest correlation in each."""
    fw, m, c = state.framework, state.measurement, state.cosmin
    cards_table = c.items if c is not None else pd.DataFrame(columns=["item", "domain"])
    base = cards_table.drop_duplicates("item").set_index("item")      # what does not depend on the domain
    rest_in = {(str(r["item"]), str(r["domain"])): r.get("r_drop", np.nan) for r in cards_table.to_dict("records")}

    def known(col, item) -> float:
        if col in base and item in base.index and pd.notna(base.loc[item, col]):
            return base.loc[item, col]
        return np.nan

    cfa_loadings = c is not None and "loading" in base and base["loading"].notna().any()
    loadings = {} if cfa_loadings or m is None or m.efa is None else _own_factor_loadings(fw, m.efa)
    loading_label = labels.statistic("loading", "CFA, std.all" if cfa_loadings else "EFA, own domain's factor")
    r_drop = {}
    if m is not None and m.item_analysis is not None and "r_drop" in m.item_analysis.items:
        t = m.item_analysis.items
        r_drop = {(str(i), str(d)): v for i, d, v in zip(t.index, t["domain"], t["r_drop"])}
    titles = {d.id: d.title for d in fw.domains}
    f = state.fairness
    dif_by = labels.breakdown(f.dif_group if f is not None else "", framework=fw).lower()   # the DIF grouping

    def num(x, digits=2):
        return (labels.number(x, digits), "") if pd.notna(x) else ("not computed", "missing")

    cards = []
    for it in fw.items:
        i = it.id
        loading = known("loading", i) if cfa_loadings else loadings.get(i, np.nan)
        fields = [(loading_label, *num(loading))]
        for d in it.all_domains:
            rest = rest_in.get((i, d), np.nan)
            rest = rest if pd.notna(rest) else r_drop.get((i, d), np.nan)
            name = labels.statistic("r_drop")
            fields.append((f"{name}, {titles.get(d, d)}" if len(it.all_domains) > 1 else name, *num(rest)))
        if c is not None:
            status = base.loc[i, "status"] if i in base.index else it.status
            fields.append((labels.STATISTICS["status"], str(status).replace("_", " ").capitalize(), ""))
            fields.append((labels.statistic("i_cvi", "I-CVI"), *num(known("i_cvi", i))))
            fields.append((labels.statistic("clarity_cvi"), *num(known("clarity_cvi", i))))
            n_int = known("interviews", i)
            fields.append((labels.STATISTICS["interviews"], labels.count(n_int) if pd.notna(n_int) else "0", ""))
            problems = str(base.loc[i, "interview_problems"]) if i in base.index else ""
            if problems and problems != "nan":
                fields.append((labels.STATISTICS["interview_problems"], _problems_words(problems),
                               "flag"))
            dif = known("dif_r2", i)
            fields.append((f"DIF effect size by {dif_by} (McFadden R\u00b2 change)",
                           _small(dif) if pd.notna(dif) else "not computed", "" if pd.notna(dif) else "missing"))
            flagged = bool(base.loc[i, "dif_flag"]) if i in base.index and "dif_flag" in base else False
            fields.append((labels.STATISTICS["dif_flag"], "Yes" if flagged else "No", "flag" if flagged else ""))
            fields.append((labels.statistic("icc2"), *num(known("icc2", i))))
            fields.append((labels.statistic("sdc"), *num(known("sdc", i))))
            for col in ("content", "cross_cultural", "reliability"):
                rating = str(base.loc[i, col]) if i in base.index and col in base else "?"
                fields.append((labels.STATISTICS[col], RATINGS.get(rating, rating), "flag" if rating == "-" else ""))
        cards.append({"id": i, "title": f"{i} \u00b7 {titles.get(it.domain, it.domain)}", "subtitle": _stem(fw, i),
                      "fields": fields})
    return cards


def _problems_words(text: str) -> str:
    """``comprehension:3; translation:1`` -> "comprehension (3), translation (1)"."""
    parts = [p.strip() for p in str(text).replace(",", ";").split(";") if p.strip()]
    out = []
    for p in parts:
        kind, _, n = p.partition(":")
        out.append(f"{kind.replace('_', ' ')} ({n})" if n else kind.replace("_", " "))
    return ", ".join(out)


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


def _unfitted(inv) -> bool:
    """True when the first level that does not hold failed because its fit did not converge (``converged`` False),
    not because the data disagree with it."""
    t = inv.table
    if "converged" not in t:
        return False
    for _, r in t.iterrows():
        if not bool(r["converged"]):
            return True
        if _result(r["verdict"]) not in ("holds", "baseline"):
            return False
    return False


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
    voices = _voices(fw)
    s = rep.section("Fairness across groups: " + " and ".join(dict.fromkeys(f.groups.values()))
                    if f.groups else "Fairness across groups")
    parts, reconcile = [], []
    dif_t = f.dif.table if f.dif is not None else None
    flagged = dif_t[dif_t["flag"]] if dif_t is not None else pd.DataFrame()
    for group, label in f.groups.items():
        inv = f.invariance.get(group)
        if inv is None:
            continue
        level, t = _highest_level(inv)
        if level in MEANS_COMPARABLE:
            parts.append(f"By {label}, the domains work the same way (invariance up to the {level} level), so group "
                         "means can be compared.")
            key = next((k for k in ("scalar", "intercepts") if t is not None and k in t.index), None)
            scalar = t.loc[key] if key else None
            if group == f.dif_group and len(flagged) and scalar is not None:
                reconcile.append((label, scalar))
        elif level in METRIC or level == "thresholds":
            parts.append(f"By {label}, items relate to their domains equally (metric invariance) but the same answers "
                         "may not mean the same level (scalar invariance fails): do not compare group means yet.")
        elif _unfitted(inv):
            parts.append(f"By {label}, the model could not be fitted in every group (the fit did not converge, "
                         "usually because a group is small): this check says nothing yet; do not compare groups.")
        else:
            parts.append(f"By {label}, the domains do not have the same structure in every group: "
                         "do not compare groups.")
    dif_label, dif_column = _dif_words(fw, f) if dif_t is not None else ("", "")
    dif_group = next((g for g in fw.analysis.fairness_groups if g.name == f.dif_group), None)
    whose = (f"for {voices.families} whose {dif_column} is not {dif_group.reference}"
             if dif_group is not None and dif_group.reference else f"by {dif_label}")
    if dif_t is not None:
        if len(flagged):
            parts.append("Item by item, " + "; ".join(
                f"{r.item} (“{_stem(fw, r.item)}”) works differently {whose} "
                f"(p {_p_words(r.p13)}, effect size {r.r2_13:.3f})" for r in flagged.itertuples())
                + f". Act on the item-level result: review its wording and translation with {voices.families}.")
        else:
            parts.append(f"No item works differently by {dif_column}.")
    text = " ".join(parts)
    _verdict(rep, s, text)
    for label, scalar in reconcile:
        rep.text(s, lead="Why the two results do not contradict each other.", kind="note", text=(
            f"Invariance by {label} is a whole-scale test: it asks whether the means of all items together can be "
            f"compared, treating the answers as {f.route.split(' (')[0]}, and its thresholds "
            "(change in comparative fit "
            f"index no worse than -0.010) allow small differences in single items. Here the change was "
            f"{scalar['delta_cfi']:+.3f}" + (f" and the chi-square difference test gave p {_p_words(scalar['p_val'])}"
                                             if pd.notna(scalar.get("p_val")) else "")
            + ", so the whole scale passes while one item does not. Differential item functioning (DIF) is an "
            f"item-level test on the ordinal answers of {voices.respondents} at the same level of the domain, so it "
            "sees what the whole-scale test averages away. Act on the DIF flag: until the item is reviewed, compare "
            f"the {dif_column or label} groups on its domain with and without it."))
    rep.text(s, "Measurement invariance asks whether the instrument works the same way in each group; items treated "
                f"as {f.route}. Differential item functioning (DIF) asks, item by item, whether {voices.families} at "
                "the same level answer differently depending on their group.")
    for group, label in f.groups.items():
        inv = f.invariance.get(group)
        if inv is None:
            continue
        rep.table(s, _fmt(inv.table, [("level", "Level", lambda x: LEVELS.get(_base(x), x)),
                                      ("chisq", _col("chisq"), 2), ("df", _col("df"), "count"),
                                      ("chisq_scaled", _col("chisq_scaled"), 2),
                                      ("df_scaled", _col("df_scaled"), _cell),
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
              caption=f"Differential item functioning by {dif_label}, within each domain")
    for r in flagged.itertuples():
        chart = _dif_chart(fw, f, r.item)
        if chart:
            rep.figure(s, chart, f"{r.item}: mean answer at the same level of the domain, by {dif_column}")
    return ("Fairness", text)


def _dif_chart(fw, f, item: str) -> str:
    """Mean answer to ``item`` against the matching level (``DIFResult.curves``: eight bins of equal size), one
    line per group, as in ``DIFResult.plot``: lines apart at the same level are the difference the DIF test flags."""
    from measurekit.publish import svg

    dif = f.dif
    curves = dif.curves(item)
    if curves.empty:
        return ""
    series, words = [], []
    for g, m in curves.groupby("group", sort=False):
        name = labels.category(f.dif_group, g, framework=fw)
        series.append({"name": name, "x": m["match"].tolist(), "y": m["y"].tolist()})
        words.append(f"{name}: " + ", ".join(f"{v:.1f}" for v in m["y"]))
    level = ("level of the domain (trait estimate of a graded response model)" if dif.method == "irt"
             else "level of the domain (total of its other items)")
    alt = (f"Line chart for item {item}, \u201c{_stem(fw, item)}\u201d: mean answer against the {level}, one line per "
           f"{_dif_words(fw, f)[1].replace(' ', '-')} group; mean answers from low to high level, "
           + "; ".join(words) + ".")
    return svg.line_chart(series, alt=alt, x_label=level[:1].upper() + level[1:], y_label=f"Mean answer to {item}",
                          height=320)


def _roc_points(y: np.ndarray, p: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """True positive rate at each false positive rate of ``grid`` (the empirical ROC curve, interpolated)."""
    order = np.argsort(-p, kind="mergesort")
    y, p = y[order], p[order]
    last = np.r_[np.flatnonzero(np.diff(p)), len(p) - 1]         # the last case of each distinct threshold
    tps, fps = np.cumsum(y)[last], np.cumsum(1 - y)[last]
    tpr = np.r_[0.0, tps / max(tps[-1], 1)]
    fpr = np.r_[0.0, fps / max(fps[-1], 1)]
    return np.interp(grid, fpr, tpr)


def _added_value_charts(v, words: str, people: str = "children") -> list[tuple[str, str]]:
    """ROC curves and calibration (observed against predicted by tenths of risk) of the routine and the routine +
    voice models, drawn from the result's fitted risks (``AddedValueResult.fitted_risks``)."""
    from measurekit.publish import svg

    risks = v.fitted_risks()
    if risks.empty:
        return []
    y = risks["y"].to_numpy(dtype=float)
    models = (("Routine data only", risks["p_base"].to_numpy(dtype=float), "#b5470b", "6,4"),
              ("Routine data + voice", risks["p_full"].to_numpy(dtype=float), "#1d3557", ""))
    grid = np.linspace(0, 1, 101)
    t = v.table.set_index("measure")
    auc = t.loc["auc"] if "auc" in t.index else None
    roc = [{"name": name + (f" (area {auc['base' if k == 0 else 'full']:.3f})" if auc is not None else ""),
            "x": grid, "y": _roc_points(y, p, grid), "colour": colour, "dash": dash, "marker": ""}
           for k, (name, p, colour, dash) in enumerate(models)]
    alt_roc = (f"ROC curves of the two models predicting {people} {words}"
               + (f": area under the curve {auc['base']:.3f} with routine data only and {auc['full']:.3f} with "
                  "the voice domains added" if auc is not None else "") + "; the dashed diagonal is chance.")
    cal, alt_cal = [], []
    for name, p, colour, dash in models:
        bins = pd.qcut(pd.Series(p), 10, labels=False, duplicates="drop")
        g = pd.DataFrame({"p": p, "y": y, "bin": bins}).groupby("bin").mean()
        cal.append({"name": name, "x": g["p"], "y": g["y"], "colour": colour, "dash": dash})
        alt_cal.append(f"{name}: " + ", ".join(f"{a:.2f} predicted, {b:.2f} observed" for a, b in zip(g["p"], g["y"])))
    return [(svg.line_chart(roc, alt=alt_roc, x_label="False positive rate", y_label="True positive rate",
                            x_range=(0, 1), y_range=(0, 1), diagonal=True, width=520, height=380, legend_columns=1),
             "ROC curves of the routine and routine + voice models"),
            (svg.line_chart(cal, alt="Calibration by tenths of predicted risk. " + "; ".join(alt_cal) + ".",
                            x_label="Predicted probability", y_label="Observed proportion", x_range=(0, 1),
                            y_range=(0, 1), diagonal=True, width=520, height=380, legend_columns=1),
             ("Calibration: observed against predicted risk by tenths, for both models; the diagonal is perfect "
              "calibration"))]


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
    fw = state.framework
    t = cov.table.assign(label=[_group_label(fw, r.variable, r.group) for r in cov.table.itertuples()])
    missing = t[t["representation"] < th.REPRESENTATION_MIN]
    text = (f"{_col('r_indicator', 'R-indicator')}: {cov.r_indicator:.2f} (1 = every group equally likely to "
            "respond). ")
    people = _voices(fw).people
    text += (f"Under-represented by more than 15% (their share of respondents against their share of {people}): "
             + ", ".join(f"{r.label} ({r.representation:.2f})" for r in missing.itertuples())
             + ". Unweighted voice figures speak mostly for the groups who responded."
             if len(missing) else "No group is under-represented by more than 15%.")
    _verdict(rep, s, text)
    rep.figure(s, _rate_chart(t, "representation", f"Share of respondents / share of {people} (1 = fair share)",
                              ref=1.0, framework=fw),
               "Who is over- and under-represented among respondents; the line at 1 is a fair share")
    if v.weights is not None:
        w = v.weights
        margins = [_area_word(fw) if _is_area(fw, c) else
                   (b.in_words if (b := fw.breakdown(c)) is not None else labels.breakdown(c, framework=fw).lower())
                   for c in fw.analysis.weighting_by]
        rep.text(s, f"Raking weights ({', '.join(margins)}): "
                    f"{_col('n_eff')} {labels.count(w.n_eff)} of {labels.count(len(w.weights))} respondents.")
    return ("Whose voices are missing", text)


def _routine_examples(fw, outcome) -> str:
    """"(such as ...)": the routine data the added value is judged against, in the framework's words (the outcome's
    covariates); the data contract's free school meals, SEN and EAL for a framework on it."""
    if labels.contract_words(fw):
        return ("(such as free school meals, special educational needs and English as an additional language)")
    names = [labels.breakdown(c, framework=fw).lower() for c in getattr(outcome, "covariates", [])]
    if not names:
        return ""
    return "(here " + (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]) + ")"


def _added_value(rep, state):
    if state.value is None:
        return None
    out = None
    declared = state.value.outcomes or {o.column: o for o in state.framework.analysis.outcomes}
    people = getattr(getattr(state.framework, "population", None), "people", None) or "children"
    for outcome, o in declared.items():
        label, words = o.label, o.in_words
        v = state.value.added_value.get(outcome)
        if v is None:
            continue
        s = rep.section(f"Added value: {label}")
        t = v.table.set_index("measure")
        auc = t.loc["auc"] if "auc" in t.index else None
        yes = v.p_val < 0.05
        text = (f"{'Yes' if yes else 'No clear evidence'}: the voice domains "
                f"{'add' if yes else 'do not clearly add'} to routine data in predicting {people} {words} "
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
                    f"{_routine_examples(state.framework, o)}; the other rows say how much, with bootstrap intervals.")
        show = v.table.assign(measure_words=v.table["measure"].map(lambda m: _col(m)))
        rep.table(s, _fmt(show, [("measure_words", "Measure", None), ("base", "Routine data only", 3),
                                 ("full", "Routine data + voice", 3), ("difference", "Difference", 3),
                                 ("ci_low", "95% interval, lower", 3), ("ci_high", "95% interval, upper", 3),
                                 ("df", _col("df"), "count"), ("p_val", _col("p_val"), "p")]))
        charts = _added_value_charts(v, words, people)
        if charts:
            rep.figures(s, charts)
        for note in v.warnings:
            if "`dropped`" in note:
                note = note.replace("see `dropped` for how they differ from those analysed.",
                                    "the table below shows how they differ from those analysed.")
                rep.text(s, note, "note")
                dropped = getattr(v, "dropped", None)
                if dropped is not None and len(dropped):
                    rep.table(s, _fmt(dropped, [("variable", "Characteristic",
                                                 lambda x: declared[x].label if x in declared
                                                 else labels.breakdown(x, framework=state.framework)),
                                                ("analysed_mean", "Children analysed (mean)", 3),
                                                ("dropped_mean", "Children left out (mean)", 3)]))
            else:
                rep.text(s, note, "note")
    return out


def _scale_ends(fw) -> str:
    """The ends of the domains' answer scale in words ("1 = strongly disagree ... 5 = strongly agree"), from the
    framework's scale when the domains' items share one, else the scale's lowest to highest answer."""
    ids = {i.scale for d in fw.domains for i in fw.items_in(d.id, first_respondent(fw))}
    if len(ids) == 1:
        try:
            opts = fw.scale(next(iter(ids))).options
        except (KeyError, ValueError, AttributeError):
            opts = []
        if len(opts) >= 2 and opts[0].label.get("en") and opts[-1].label.get("en"):
            return (f"{opts[0].code} = {opts[0].label['en'].lower()} ... "
                    f"{opts[-1].code} = {opts[-1].label['en'].lower()}")
    return "from the scale's lowest to its highest answer"


def _codes_to_words(text, framework=None) -> str:
    """Breakdown codes inside a sentence (``by fsm``, ``home_language_group``) replaced by their labels: the
    framework's declared title where it declares the breakdown, else the contract's fallback words."""
    import re

    return re.sub(r"\b(" + "|".join(sorted(labels.BREAKDOWNS, key=len, reverse=True)) + r")\b",
                  lambda m: (labels.breakdown(m.group(1), framework=framework).lower() if m.group(1) != "all"
                             else m.group(1)), str(text))


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
    bad = t[t["rating"] == "-"].drop_duplicates(["indicator", "property"])   # an item in several domains: once
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
    spec = [("indicator", "Indicator", lambda x: labels.indicator(fw, x)),
            ("domain", "Domain", lambda x: titles.get(x, x)),
            ("property", "Property", lambda x: str(x)[:1].upper() + str(x)[1:]),
            ("result", "Result", lambda x: _codes_to_words(x, fw)),
            ("rating", "Rating", None), ("criterion", "Criterion", None), ("source", "Source", None)]
    rep.table(s, _fmt(t, spec), caption="Measurement properties by indicator")
    rep.cards(s, _item_cards(state), caption="Evidence card of every item")
    return ("Measurement properties", text)


def _appendix(rep, state):
    """Technical names, for analysts who open the CSV files or compare with R."""
    s = rep.section("For analysts", css_class="analysts")
    rep.text(s, "The tables behind this report are CSV files in the internal folder, with the technical column names "
                "used by R (psych, lavaan, lordif) so that results can be compared directly.")
    used = ["raw_alpha", "average_r", "r_drop", "chisq", "df", "cfi", "rmsea", "delta_cfi", "delta_rmsea", "p_val",
            "chi12", "p12", "chi23", "p23", "r2_13", "lr_chisq", "auc", "brier", "nri_events", "nri_nonevents",
            "r_indicator", "n_eff"]
    fw = state.framework
    rows = pd.DataFrame([(n, labels.in_people_words(labels.STATISTICS[n], fw)) for n in used],
                        columns=["Column name", "Meaning"])
    rep.table(s, rows)
    if labels.contract_words(fw):
        # the contract's codes, but only of groups this framework has (its breakdowns and fairness groups, and the
        # contract's own analysis columns), in its words: a code from another framework's declaration is not listed
        known = None if fw is None else ({b.id for b in fw.declared_breakdowns} | {"responded", "summer_born"}
                                         | {g.name for g in fw.analysis.fairness_groups})
        pairs = [(f"{b} = {v}", labels.category(b, v, framework=fw)) for (b, v) in labels.CATEGORIES
                 if b != "all" and (known is None or b in known)]
    else:       # a framework with its own population: the group codes it declares, in its words
        pairs = [(f"{b.id} = {v.value}", v.label) for b in fw.group_breakdowns for v in b.values]
    if pairs:
        rep.table(s, pd.DataFrame(pairs, columns=["Code in the data", "Label in this report"]))
