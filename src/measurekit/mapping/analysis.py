"""``information_map``: the measures of an information inventory's network, in tables and plain words.

What is computed (each checked in tests/test_information_map.py against a computation written without
networkx on small graphs with known answers):

- collected / used / outside: every information type; those with a directed path to a priority; the rest;
- voice-carrying types that reach no priority;
- per priority: the types that inform and measure it, and whether only national returns measure it;
- brokers: each actor's betweenness centrality (networkx ``betweenness_centrality``, normalised for a
  directed graph by 1/((n-1)(n-2)), as igraph's ``betweenness(normalized = TRUE)`` on a directed graph) and
  what breaks if it leaves: the used types that then reach no priority;
- national and local shares of the types collected, used, outside, and of the links to priorities;
- gaps where a framework's voice indicator would bring an unused voice source to a priority (``gaps``).
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from measurekit.core.result import Result
from measurekit.mapping.inventory import Inventory
from measurekit.mapping.network import declared_priorities


@dataclasses.dataclass(repr=False)
class InformationMap(Result):
    """The analysis of an information inventory.

    information: one row per type: id, title, collected_by, organisation (of the collector), voice, level,
        requirement, frequency, used (True when a path leads to a priority), priorities (the priorities the
        inventory links it to, directly or through the types it feeds, '; '-joined), n_priorities, route (one
        shortest path to a priority, "a > b > priority"; blank when unused).
    priorities: one row per priority: id, title, n_informs (types declared to inform it), n_measures (types
        declared to measure it), n_measures_national, n_measures_local, measured_only_nationally (measured, and
        only by national returns), n_types (types linked to it directly or through feeds), n_voice_types (of
        those, types carrying someone's voice), voices (whose voices reach it).
    brokers: one row per actor: id, title, kind, organisation, betweenness, n_types_carried (types whose
        declared routes or collection pass through it), n_organisations (organisations whose information it
        carries, its own included), n_types_lost (used types that reach no priority once it leaves),
        types_lost; sorted by betweenness.
    national_local: one row per group (collected, used, outside, links to priorities): n, n_national,
        n_local, share_national.
    voice_outside: the rows of ``information`` for types that carry voice and reach no priority.
    gaps: see ``measurekit.mapping.gaps.framework_gaps``.
    findings: the main results in plain words.
    """

    information: pd.DataFrame
    priorities: pd.DataFrame
    brokers: pd.DataFrame
    national_local: pd.DataFrame
    voice_outside: pd.DataFrame
    gaps: pd.DataFrame
    n_collected: int
    n_used: int
    n_outside: int
    title: str = ""
    framework_name: str = ""
    illustrative: bool = False
    findings: list = dataclasses.field(default_factory=list)
    warnings: list = dataclasses.field(default_factory=list)
    _inventory: Inventory | None = None
    _graph: object = None

    _title = "Information map"
    _main = "information"

    @property
    def inventory(self) -> Inventory:
        assert self._inventory is not None   # map_information always sets it
        return self._inventory

    @property
    def graph(self):
        """The networkx DiGraph the measures were computed on (``measurekit.mapping.network``)."""
        return self._graph

    def svg(self) -> str:
        """The map as an accessible SVG drawing (``measurekit.mapping.drawing``)."""
        from measurekit.mapping.drawing import map_svg

        return map_svg(self)

    def html(self) -> str:
        """The whole page: findings, the map, the tables (``measurekit.mapping.page``)."""
        from measurekit.mapping.page import map_page

        return map_page(self)

    def _repr_html_(self) -> str:
        import html as _html

        items = "".join(f"<li>{_html.escape(f)}</li>" for f in self.findings)
        return f"<h4>{_html.escape(self.title or self._title)}</h4><ul>{items}</ul>" + self.svg()


def information_map(data, *, framework=None) -> InformationMap:
    """Analyse an information inventory: what is collected, what reaches the strategic priorities, whose voice
    is lost on the way, who carries information across boundaries, and (given a measurekit framework) where one
    of its voice indicators would bring an unused voice source to a priority.

    data: the inventory, an ``Inventory`` or the path of an inventory YAML file (read with ``read_inventory``).
    framework: optional ``Framework``, framework folder or name of a shipped framework; its voice indicators are
        matched against the unused voice sources (see ``measurekit.mapping.gaps``).
    Returns an ``InformationMap`` (``.table`` is ``.information``); ``.svg()`` and ``.html()`` draw it.
    """
    from measurekit.mapping.gaps import framework_gaps
    from measurekit.mapping.network import build_graph, used_types
    from measurekit.mapping.reading import read_inventory

    if not isinstance(data, Inventory):
        data = read_inventory(data)
    if framework is not None and not hasattr(framework, "indicators"):
        from measurekit.design.choose import choose_framework

        framework = choose_framework(framework, option="framework=")
    g = build_graph(data)
    used = used_types(g)
    information = _information_table(data, g, used)
    priorities = _priority_table(data, information)
    brokers = _broker_table(data, g, used)
    national_local = _national_local(data, used)
    voice_outside = information[~information["used"] & (information["voice"] != "none")].reset_index(drop=True)
    gaps, warnings = framework_gaps(data, used, framework)
    result = InformationMap(information=information, priorities=priorities, brokers=brokers,
                            national_local=national_local, voice_outside=voice_outside, gaps=gaps,
                            n_collected=len(information), n_used=int(information["used"].sum()),
                            n_outside=int((~information["used"]).sum()), title=data.title,
                            illustrative=data.illustrative, warnings=warnings,
                            framework_name=getattr(framework, "name", "") if framework is not None else "",
                            _inventory=data, _graph=g)
    result.findings = _findings(result)
    return result


def _information_table(inventory: Inventory, g, used: set[str]) -> pd.DataFrame:
    from measurekit.mapping.network import shortest_routes

    frame = inventory.information_frame()
    linked = declared_priorities(inventory)
    shortest = shortest_routes(g)
    routes = [" > ".join(shortest[i.id]) if i.id in used else "" for i in inventory.information]
    frame = frame.drop(columns=["informs", "measures", "feeds", "held_in"])
    frame["used"] = frame["id"].isin(used)
    frame["priorities"] = frame["id"].map(lambda t: "; ".join(linked[t]))
    frame["n_priorities"] = frame["id"].map(lambda t: len(linked[t]))
    frame["route"] = routes
    return frame


def _priority_table(inventory: Inventory, information: pd.DataFrame) -> pd.DataFrame:
    req = {i.id: i.requirement for i in inventory.information}
    info = {i.id: i for i in inventory.information}
    linked = dict(zip(information["id"], information["priorities"].str.split("; ")))
    rows = []
    for p in inventory.priorities:
        informs = {e.information for e in inventory.edges() if e.priority == p.id and e.relation == "informs"}
        measures = {e.information for e in inventory.edges() if e.priority == p.id and e.relation == "measures"}
        national = sum(req[t] == "national" for t in measures)
        types = [t for t, ps in linked.items() if p.id in ps]
        voices = sorted({v for t in types for v in info[t].voices})
        rows.append({"id": p.id, "title": p.title, "n_informs": len(informs), "n_measures": len(measures),
                     "n_measures_national": national, "n_measures_local": len(measures) - national,
                     "measured_only_nationally": bool(measures) and national == len(measures),
                     "n_types": len(types), "n_voice_types": sum(info[t].carries_voice for t in types),
                     "voices": "; ".join(voices)})
    return pd.DataFrame(rows)


def _broker_table(inventory: Inventory, g, used: set[str]) -> pd.DataFrame:
    import networkx as nx

    from measurekit.mapping.network import used_types

    between = nx.betweenness_centrality(g, normalized=True)
    org = {a.id: a.organisation for a in inventory.actors}
    rows = []
    for a in inventory.actors:
        carried = [i for i in inventory.information
                   if a.id == i.collected_by or a.id in i.held_in or any(a.id in e.via for e in i.edges)]
        orgs = {org.get(i.collected_by, "") for i in carried} | {a.organisation}
        still = used_types(g, without=a.id)
        lost = [i.id for i in inventory.information if i.id in used and i.id not in still]
        rows.append({"id": a.id, "title": a.title, "kind": a.kind, "organisation": a.organisation,
                     "betweenness": between.get(a.id, 0.0), "n_types_carried": len(carried),
                     "n_organisations": len({o for o in orgs if o}), "n_types_lost": len(lost),
                     "types_lost": "; ".join(lost)})
    cols = ["id", "title", "kind", "organisation", "betweenness", "n_types_carried", "n_organisations",
            "n_types_lost", "types_lost"]
    frame = pd.DataFrame(rows, columns=cols)
    return frame.sort_values(["betweenness", "n_types_lost"], ascending=False, kind="stable").reset_index(drop=True)


def _national_local(inventory: Inventory, used: set[str]) -> pd.DataFrame:
    groups = {"collected": list(inventory.information),
              "used": [i for i in inventory.information if i.id in used],
              "outside": [i for i in inventory.information if i.id not in used]}
    rows = []
    for name, items in groups.items():
        nat = sum(i.requirement == "national" for i in items)
        rows.append({"group": name, "n": len(items), "n_national": nat, "n_local": len(items) - nat})
    req = {i.id: i.requirement for i in inventory.information}
    edges = inventory.edges()
    nat = sum(req[e.information] == "national" for e in edges)
    rows.append({"group": "links to priorities", "n": len(edges), "n_national": nat, "n_local": len(edges) - nat})
    frame = pd.DataFrame(rows)
    frame["share_national"] = (frame["n_national"] / frame["n"].where(frame["n"] > 0)).astype(float)
    return frame


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _verb(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _findings(r: InformationMap) -> list[str]:
    inv = r.inventory
    out = [(f"{_plural(r.n_collected, 'type')} of information {_verb(r.n_collected, 'is', 'are')} collected; "
            f"{r.n_used:,} {_verb(r.n_used, 'is', 'are')} used to judge progress against the "
            f"{_plural(len(inv.priorities), 'strategic priority', 'strategic priorities')}, and "
            f"{r.n_outside:,} never {_verb(r.n_outside, 'reaches', 'reach')} strategic reporting.")]
    vo = r.voice_outside
    if len(vo):
        names = ", ".join(vo["title"].head(6)) + (f" and {len(vo) - 6:,} more" if len(vo) > 6 else "")
        out.append(f"{_plural(len(vo), 'type')} that {_verb(len(vo), 'carries', 'carry')} children's, parents' or "
                   f"practitioners' voice {_verb(len(vo), 'reaches', 'reach')} no priority: {names}.")
    else:
        out.append("Every type that carries someone's voice reaches at least one priority.")
    only = r.priorities[r.priorities["measured_only_nationally"]]
    if len(only):
        out.append("Measured only by national returns: " + ", ".join(only["title"]) + ".")
    unmeasured = r.priorities[r.priorities["n_measures"] == 0]
    if len(unmeasured):
        out.append("Nothing in the inventory measures: " + ", ".join(unmeasured["title"]) + ".")
    novoice = r.priorities[r.priorities["n_voice_types"] == 0]
    if len(novoice):
        out.append("No information carrying anyone's voice reaches: " + ", ".join(novoice["title"]) + ".")
    b = r.brokers[r.brokers["n_types_lost"] > 0]
    if len(b):
        top = b.sort_values("n_types_lost", ascending=False, kind="stable").head(3)
        out.append("If one actor left, information would stop reaching the priorities: " + "; ".join(
            f"without {t['title']}, {_plural(t['n_types_lost'], 'type')}" for t in top.to_dict("records")) + ".")
    if len(r.brokers) and r.brokers["betweenness"].iloc[0] > 0:
        t = r.brokers.iloc[0]
        out.append(f"{t['title']} stands between the most pairs of nodes (betweenness {t['betweenness']:.2f}) and "
                   f"carries information of {_plural(int(t['n_organisations']), 'organisation')}.")
    share = r.national_local.set_index("group")["share_national"]
    words = {"collected": "of the types collected", "used": "of those used",
             "links to priorities": "of the links to priorities"}
    parts = [f"{share[g]:.0%} {w}" for g, w in words.items() if pd.notna(share[g])]
    if parts:
        out.append("National requirements are " + (", ".join(parts[:-1]) + " and " if len(parts) > 1 else "")
                   + parts[-1] + ".")
    if len(r.gaps):
        g = r.gaps[r.gaps["priority"] != ""]
        out.append(f"{_plural(r.gaps['information'].nunique(), 'unused voice source')} could reach a priority through "
                   f"the framework's voice indicators ({_plural(len(g), 'route')} named by the priorities' voice "
                   "domains).")
    return out
