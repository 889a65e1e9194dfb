"""The information map as one self-contained HTML page (Jinja2 template ``templates/information_map.html.j2``).

The page holds the findings in plain words, the SVG map (``drawing.py``) and the same content as tables
(priorities, voices that reach no priority, framework gaps, brokers, national and local shares, the whole
inventory) with the words of the label vocabulary, not the inventory's codes. No scripts, no web fonts, no
network; autoescaping is on, so text from the inventory can never become markup. Printed, it uses A4.
"""
from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
VOICE_WORDS = {"child": "children", "parent": "parents", "practitioner": "practitioners", "none": "no one's"}
FREQUENCY_WORDS = {"as_needed": "as needed", "once": "once per child"}


def _voice(text: str) -> str:
    return ", ".join(VOICE_WORDS.get(v, v) for v in text.split("; ") if v) if text else ""


def map_page(result) -> str:
    """The HTML page of an ``InformationMap`` (see the module docstring)."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    inv = result.inventory
    titles = {a.id: a.title for a in inv.actors}
    ptitle = {p.id: p.title for p in inv.priorities}
    info = result.information
    priorities = [{"number": k + 1, "title": r.title, "n_informs": r.n_informs, "n_measures": r.n_measures,
                   "n_measures_national": r.n_measures_national,
                   "only_national": "yes" if r.measured_only_nationally else ("not measured" if not r.n_measures
                                                                              else "no"),
                   "voices": _voice(r.voices) or "none"}
                  for k, r in enumerate(result.priorities.itertuples())]
    rows = [{"title": r.title, "collected_by": titles.get(r.collected_by, r.collected_by), "voice": _voice(r.voice),
             "level": r.level, "requirement": r.requirement,
             "frequency": FREQUENCY_WORDS.get(r.frequency, r.frequency),
             "priorities": ", ".join(ptitle[p] for p in r.priorities.split("; ") if p) or "none"}
            for r in info.itertuples()]
    voice_outside = [row for row, used in zip(rows, info["used"]) if not used and row["voice"] != "no one's"]
    brokers = [{"title": r.title, "kind": r.kind, "organisation": r.organisation,
                "betweenness": f"{r.betweenness:.3f}", "n_types_carried": r.n_types_carried,
                "n_organisations": r.n_organisations, "n_types_lost": r.n_types_lost}
               for r in result.brokers.itertuples()]
    national = [{"group": {"collected": "All information collected", "used": "Used for a priority",
                           "outside": "Reaching no priority", "links to priorities": "Links to priorities"}[r.group],
                 "n": r.n, "n_national": r.n_national, "n_local": r.n_local,
                 "share": "" if r.n == 0 else f"{r.share_national:.0%}"} for r in result.national_local.itertuples()]
    gaps = result.gaps.to_dict(orient="records")
    return env.get_template("information_map.html.j2").render(
        title=result.title or "Information map", area=inv.area, illustrative=inv.illustrative,
        n_collected=result.n_collected, n_used=result.n_used, n_outside=result.n_outside,
        findings=result.findings, warnings=result.warnings, svg=Markup(result.svg()), priorities=priorities,
        voice_outside=voice_outside, gaps=gaps, framework_name=result.framework_name or "the framework",
        brokers=brokers,
        national_local=national, information=rows,
        source_name=inv.path.name if inv.path is not None else "inventory")
