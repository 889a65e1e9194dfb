"""The information inventory as Python objects (read from YAML by ``reading.read_inventory``).

Plain frozen dataclasses: the inventory is data the analyst wrote, checked once on reading and never
changed afterwards. ``Inventory.information_frame()`` lists the information types as a table.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Priority:
    """A strategic priority progress is judged against. ``voice_domains``: ids of a measurekit framework's voice
    domains that speak to it (used to find where a framework indicator would bring an unused voice to it)."""

    id: str
    title: str
    description: str = ""
    voice_domains: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Actor:
    """A service or team (``kind="service"``) or an IT system (``kind="system"``) that collects, holds or passes
    information on; ``organisation`` names the organisation it belongs to (boundaries are between organisations)."""

    id: str
    title: str
    kind: str = "service"
    organisation: str = ""
    description: str = ""


@dataclasses.dataclass(frozen=True)
class Edge:
    """One declared link of an information type to a priority: ``relation`` is "informs" or "measures"; the
    information travels through the actors in ``via`` in that order (empty: straight to the priority)."""

    information: str
    priority: str
    relation: str
    via: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Information:
    """One type of information collected (see ``schema`` for the meaning of each field)."""

    id: str
    title: str
    collected_by: str
    voice: tuple[str, ...]
    level: str
    requirement: str
    held_in: tuple[str, ...] = ()
    frequency: str = ""
    edges: tuple[Edge, ...] = ()
    feeds: tuple[str, ...] = ()
    description: str = ""

    @property
    def carries_voice(self) -> bool:
        """True when it records the views or experience of children, parents or practitioners."""
        return any(v != "none" for v in self.voice)

    @property
    def voices(self) -> tuple[str, ...]:
        return tuple(v for v in self.voice if v != "none")


@dataclasses.dataclass(frozen=True)
class Inventory:
    """A checked information inventory: ``priorities``, ``actors`` and ``information`` in file order."""

    title: str
    priorities: tuple[Priority, ...]
    actors: tuple[Actor, ...]
    information: tuple[Information, ...]
    area: str = ""
    description: str = ""
    illustrative: bool = False
    source: str = ""
    path: Path | None = None

    def priority(self, id: str) -> Priority:
        return next(p for p in self.priorities if p.id == id)

    def actor(self, id: str) -> Actor:
        return next(a for a in self.actors if a.id == id)

    def info(self, id: str) -> Information:
        return next(i for i in self.information if i.id == id)

    def edges(self) -> list[Edge]:
        return [e for i in self.information for e in i.edges]

    def information_frame(self):
        """One row per information type: id, title, collected_by, organisation (of the collector), held_in,
        voice, level, requirement, frequency, informs, measures, feeds (lists joined with '; ')."""
        import pandas as pd

        orgs = {a.id: a.organisation for a in self.actors}
        rows = [{"id": i.id, "title": i.title, "collected_by": i.collected_by,
                 "organisation": orgs.get(i.collected_by, ""), "held_in": "; ".join(i.held_in),
                 "voice": "; ".join(i.voice), "level": i.level, "requirement": i.requirement,
                 "frequency": i.frequency,
                 "informs": "; ".join(dict.fromkeys(e.priority for e in i.edges if e.relation == "informs")),
                 "measures": "; ".join(dict.fromkeys(e.priority for e in i.edges if e.relation == "measures")),
                 "feeds": "; ".join(i.feeds)} for i in self.information]
        return pd.DataFrame(rows, columns=["id", "title", "collected_by", "organisation", "held_in", "voice", "level",
                                           "requirement", "frequency", "informs", "measures", "feeds"])
