"""Read an information inventory (YAML) and check it, reporting every problem at once.

``read_inventory(path)`` returns an ``Inventory`` or raises ``InventoryError`` whose ``.report`` lists every
problem; ``check_inventory(path)`` returns that report (errors and warnings) without raising. Each problem
names the file, the line in it (``row``), the place in the document (``column``, e.g.
``information[4].measures[0]``), the value and the rule. The file is read with the same limits as a
framework specification (size, nesting depth, aliases, duplicate keys; see ``design/loading.py``) and
never written to.

Codes: ``yaml_syntax``, ``yaml_type``, ``duplicate_key``, ``yaml_too_large`` ... (reading); ``missing_value``
(a required field or section is absent or blank), ``wrong_type`` (a list where text is expected ...),
``unknown_code`` (a value outside its list: voice, level, requirement, frequency, kind), ``invalid_field``
(an id that cannot be used, ``none`` with another voice), ``duplicate_id``, ``unknown_priority``,
``unknown_actor``, ``unknown_information`` (an edge to something not defined), ``information_cycle``
(``feeds`` going round in a circle, or a route through one actor twice); warnings ``unknown_spec_key``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from measurekit.mapping import schema
from measurekit.mapping.inventory import Actor, Edge, Information, Inventory, Priority
from measurekit.problems import InputError, ProblemReport


class InventoryError(InputError):
    """The information inventory cannot be used; ``.report`` lists every problem."""


def read_inventory(path) -> Inventory:
    """Read and check an information inventory file (YAML, see ``measurekit.mapping.schema``).

    Raises ``InventoryError`` listing every problem (file, line, field, value, rule) when there are errors;
    warnings (an unknown key) do not stop reading. The file is never modified.
    """
    inventory, report = _read(Path(path))
    report.raise_if_errors(InventoryError)
    assert inventory is not None   # _read gives None only with an error, raised above
    return inventory


def check_inventory(path) -> ProblemReport:
    """Every problem of an inventory file (errors and warnings), without raising."""
    return _read(Path(path))[1]


def _read(path: Path) -> tuple[Inventory | None, ProblemReport]:
    from measurekit.design.loading import _read_yaml, _with_lines

    report = ProblemReport(title=f"Information inventory {path.name}")
    if path.is_dir():
        report.add("missing_file", f"{path} is a folder; give the inventory's YAML file itself.", file=path.name,
                   value=str(path))
        return None, report
    if not path.exists():
        report.add("missing_file", f"The inventory file {path} does not exist. Check the path.", file=path.name,
                   value=str(path))
        return None, report
    nodes: dict = {}
    doc = _read_yaml(path, report, True, nodes)
    if not report.ok:
        return None, report
    checker = _Checker(path.name, report)
    inventory = checker.check(doc)
    report = _with_lines(report, nodes)
    if inventory is None or not report.ok:   # check gives None only after reporting an error
        return None, report
    return dataclasses.replace(inventory, path=path), report


def _text(value) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:120] + "..."


class _Checker:
    """Collects every problem of one parsed document; ``check`` returns the inventory (or None)."""

    def __init__(self, file: str, report: ProblemReport):
        self.file, self.report = file, report
        self.ids: dict[str, str] = {}            # id -> where it was first defined (e.g. "priorities[2]")

    def add(self, code: str, message: str, where: str, value=None, rule: str | None = None, severity="error"):
        self.report.add(code, message, file=self.file, column=where, value=None if value is None else _text(value),
                        rule=rule, severity=severity)

    # ------------------------------------------------------------------ fields
    def fields(self, entry, where: str, spec: dict[str, bool], what: str) -> dict | None:
        if not isinstance(entry, dict):
            self.add("wrong_type", f"{where} must be a block of 'key: value' lines describing one {what}, "
                     f"not {type(entry).__name__}.", where, entry, "type: mapping")
            return None
        for key in entry:
            if key not in spec:
                self.add("unknown_spec_key", f"{where} has the key {key!r}, which the inventory format does not "
                         f"define for a {what}; it is ignored. Known keys: {', '.join(spec)}.", f"{where}.{key}",
                         key, "keys: " + "|".join(spec), severity="warning")
        for key, required in spec.items():
            value = entry.get(key)
            if required and (value is None or (isinstance(value, str) and not value.strip())):
                self.add("missing_value", f"{where} ({self.name(entry)}) has no {key!r}; every {what} needs one.",
                         f"{where}.{key}" if key in entry else where, None, f"required: {key}")
        return entry

    def name(self, entry: dict) -> str:
        return f"id {entry['id']!r}" if isinstance(entry.get("id"), str) else "no id"

    def text(self, entry: dict, key: str, where: str) -> str:
        value = entry.get(key)
        if value is None:
            return ""
        if isinstance(value, (dict, list)):
            self.add("wrong_type", f"{where}.{key} must be text, not a {type(value).__name__}.", f"{where}.{key}",
                     value, "type: text")
            return ""
        return str(value).strip()

    def ids_in(self, entry: dict, key: str, where: str) -> list[tuple[str, str]]:
        """(id, place) of every id in a field that takes one id or a list of them."""
        value = entry.get(key)
        if value is None:
            return []
        values = value if isinstance(value, list) else [value]
        out = []
        for k, v in enumerate(values):
            place = f"{where}.{key}[{k}]" if isinstance(value, list) else f"{where}.{key}"
            if isinstance(v, (dict, list)) or v is None or (isinstance(v, str) and not v.strip()):
                self.add("wrong_type", f"{place} must be an id (text), not {_text(v) or 'blank'}.", place, v,
                         "type: id")
                continue
            out.append((str(v).strip(), place))
        return out

    def enum(self, entry: dict, key: str, where: str, allowed: tuple, default: str = "") -> str:
        value = entry.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or value.strip() not in allowed:
            self.add("unknown_code", f"{where}.{key} is {_text(value)!r}; it must be one of {', '.join(allowed)}.",
                     f"{where}.{key}", value, "enum: " + "|".join(allowed))
            return default
        return value.strip()

    def new_id(self, entry: dict, where: str) -> str | None:
        value = entry.get("id")
        if value is None or (isinstance(value, str) and not value.strip()):
            return None                          # reported as missing_value
        if not isinstance(value, str) or not schema.ID.match(value.strip()):
            self.add("invalid_field", f"{where}.id {_text(value)!r} cannot be used as an id.", f"{where}.id", value,
                     schema.ID_RULE)
            return None
        value = value.strip()
        if value in self.ids:
            self.add("duplicate_id", f"The id {value!r} at {where} is already used at {self.ids[value]}; ids must be "
                     "unique across priorities, actors and information types. Rename one of them.",
                     f"{where}.id", value, "unique: id")
            return None
        self.ids[value] = where
        return value

    # ------------------------------------------------------------------ sections
    def section(self, doc: dict, name: str) -> list:
        value = doc.get(name)
        if value is None:
            if schema.SECTIONS[name]:
                self.add("missing_value", f"The inventory has no {name!r} section; it needs at least one entry "
                         "there.", name, None, f"required: {name}")
            return []
        if not isinstance(value, list):
            self.add("wrong_type", f"{name!r} must be a list of entries (each line starting with '- '), not "
                     f"{type(value).__name__}.", name, None, "type: list")
            return []
        if not value and schema.SECTIONS[name]:
            self.add("missing_value", f"The {name!r} section is empty; it needs at least one entry.", name, None,
                     f"required: {name}")
        return value

    def check(self, doc: dict) -> Inventory | None:
        for key in doc:
            if key not in schema.SECTIONS:
                self.add("unknown_spec_key", f"The section {key!r} is not part of the inventory format and is "
                         f"ignored. Sections: {', '.join(schema.SECTIONS)}.", str(key), key,
                         "sections: " + "|".join(schema.SECTIONS), severity="warning")
        head = doc.get("inventory")
        meta: dict = {}
        if head is None:
            self.add("missing_value", "The inventory has no 'inventory' block with its title; add 'inventory:' "
                     "with at least 'title: ...'.", "inventory", None, "required: inventory.title")
        else:
            meta = self.fields(head, "inventory", schema.INVENTORY_FIELDS, "inventory") or {}
        illustrative = meta.get("illustrative", False)
        if not isinstance(illustrative, bool):
            self.add("wrong_type", "inventory.illustrative must be true or false.", "inventory.illustrative",
                     illustrative, "type: boolean")
            illustrative = False

        priorities = [p for p in (self.priority(e, f"priorities[{k}]")
                                  for k, e in enumerate(self.section(doc, "priorities"))) if p]
        actors = [a for a in (self.actor(e, f"actors[{k}]")
                              for k, e in enumerate(self.section(doc, "actors"))) if a]
        raw = [(self.information(e, f"information[{k}]"), f"information[{k}]")
               for k, e in enumerate(self.section(doc, "information"))]
        infos = [(i, w) for i, w in raw if i]
        self.references(priorities, actors, infos)
        if not self.report.ok:
            return None
        return Inventory(title=self.text(meta, "title", "inventory"), area=self.text(meta, "area", "inventory"),
                         description=self.text(meta, "description", "inventory"), illustrative=illustrative,
                         source=self.text(meta, "source", "inventory"), priorities=tuple(priorities),
                         actors=tuple(actors), information=tuple(self.build(i) for i, _ in infos))

    def priority(self, entry, where: str) -> Priority | None:
        entry = self.fields(entry, where, schema.PRIORITY_FIELDS, "priority")
        if entry is None:
            return None
        pid = self.new_id(entry, where)
        domains = tuple(d for d, _ in self.ids_in(entry, "voice_domains", where))
        title = self.text(entry, "title", where)
        return Priority(pid, title, self.text(entry, "description", where), domains) if pid and title else None

    def actor(self, entry, where: str) -> Actor | None:
        entry = self.fields(entry, where, schema.ACTOR_FIELDS, "actor")
        if entry is None:
            return None
        aid = self.new_id(entry, where)
        kind = self.enum(entry, "kind", where, schema.ACTOR_KINDS, "service")
        title = self.text(entry, "title", where)
        return Actor(aid, title, kind, self.text(entry, "organisation", where),
                     self.text(entry, "description", where)) if aid and title else None

    def information(self, entry, where: str) -> dict | None:
        """The entry's checked values (references are checked later, once every id is known)."""
        entry = self.fields(entry, where, schema.INFORMATION_FIELDS, "information type")
        if entry is None:
            return None
        iid = self.new_id(entry, where)
        out: dict[str, Any] = {"id": iid, "title": self.text(entry, "title", where),
                                "level": self.enum(entry, "level", where, schema.LEVELS),
                                "requirement": self.enum(entry, "requirement", where, schema.REQUIREMENTS),
                                "frequency": self.enum(entry, "frequency", where, schema.FREQUENCIES),
                                "description": self.text(entry, "description", where),
                                "collected_by": self.ids_in(entry, "collected_by", where)[:1],
                                "held_in": self.ids_in(entry, "held_in", where),
                                "feeds": self.ids_in(entry, "feeds", where),
                                "via": self.ids_in(entry, "via", where)}
        if isinstance(entry.get("collected_by"), list) and len(entry["collected_by"]) != 1:
            self.add("wrong_type", f"{where}.collected_by names one actor (the one that collects it); list the "
                     "others under held_in or via.", f"{where}.collected_by", entry["collected_by"], "type: one id")
        voices = []
        raw = entry.get("voice")
        for k, v in enumerate(raw if isinstance(raw, list) else ([] if raw is None else [raw])):
            place = f"{where}.voice[{k}]" if isinstance(raw, list) else f"{where}.voice"
            if not isinstance(v, str) or v.strip() not in schema.VOICES:
                self.add("unknown_code", f"{place} is {_text(v)!r}; whose voice a type carries is one or more of "
                         "child, parent, practitioner, or none.", place, v, "enum: " + "|".join(schema.VOICES))
            else:
                voices.append(v.strip())
        if isinstance(raw, list) and not raw:
            self.add("missing_value", f"{where}.voice is an empty list; write none if it carries no one's voice.",
                     f"{where}.voice", None, "required: voice")
        if "none" in voices and len(voices) > 1:
            self.add("invalid_field", f"{where}.voice says none and also names a voice; write none alone, or only "
                     "the voices it carries.", f"{where}.voice", ", ".join(voices), "voice: none stands alone")
        out["voice"] = tuple(dict.fromkeys(voices))
        edges = []
        for relation in schema.RELATIONS:
            value = entry.get(relation)
            if value is None:
                continue
            if not isinstance(value, list):
                value = [value]
                places = [f"{where}.{relation}"]
            else:
                places = [f"{where}.{relation}[{k}]" for k in range(len(value))]
            for v, place in zip(value, places):
                if isinstance(v, dict):
                    self.fields(v, place, schema.EDGE_FIELDS, "link to a priority")   # a mapping comes back as is
                    pr = self.ids_in(v, "priority", place)
                    via = self.ids_in(v, "via", place) if "via" in v else None
                    if pr:
                        edges.append((relation, pr[0], via))
                elif isinstance(v, str) and v.strip():
                    edges.append((relation, (v.strip(), place), None))
                else:
                    self.add("wrong_type", f"{place} must be a priority id, or 'priority:' with 'via:'.", place, v,
                             "type: id or mapping")
        out["edges"] = edges
        return out

    def references(self, priorities, actors, infos) -> None:
        pids = {p.id for p in priorities} | {i for i, w in self.ids.items() if w.startswith("priorities")}
        aids = {a.id for a in actors} | {i for i, w in self.ids.items() if w.startswith("actors")}
        iids = {i for i, w in self.ids.items() if w.startswith("information")}

        def need(ref: str, place: str, known: set, code: str, what: str, section: str):
            if ref in known:
                return True
            other = self.ids.get(ref)
            also = f" ({ref!r} is defined at {other}, which is not {what})" if other else ""
            self.add(code, f"{place} names {what} {ref!r} that the inventory does not define{also}. Add it to "
                     f"'{section}' or correct the id.", place, ref, f"defined in: {section}")
            return False

        for info, _where in infos:
            for ref, place in info["collected_by"] + info["held_in"]:
                need(ref, place, aids, "unknown_actor", "an actor", "actors")
            routes = [info["via"]] + [via for _, _, via in info["edges"] if via is not None]
            for route in routes:
                for ref, place in route:
                    need(ref, place, aids, "unknown_actor", "an actor", "actors")
                seen: dict[str, str] = {}
                for ref, place in route:
                    if ref in seen:
                        self.add("information_cycle", f"{place}: the route passes through {ref!r} twice (also at "
                                 f"{seen[ref]}), which would send the information round in a circle. Name each "
                                 "actor once, in the order the information passes them.", place, ref,
                                 "route: each actor once")
                    seen.setdefault(ref, place)
            for _, (ref, place), _ in info["edges"]:
                need(ref, place, pids, "unknown_priority", "a priority", "priorities")
            for ref, place in info["feeds"]:
                need(ref, place, iids, "unknown_information", "an information type", "information")
        self.cycles(infos, iids)

    def cycles(self, infos, iids: set) -> None:
        """One ``information_cycle`` problem per group of types whose ``feeds`` go round in a circle."""
        import networkx as nx

        g = nx.DiGraph()
        place_of: dict[tuple[str, str], str] = {}
        for info, _ in infos:
            if info["id"] is None:
                continue
            for ref, place in info["feeds"]:
                if ref in iids:
                    g.add_edge(info["id"], ref)
                    place_of.setdefault((info["id"], ref), place)
        for component in nx.strongly_connected_components(g):
            members = sorted(component, key=list(self.ids).index)
            if len(members) == 1 and not g.has_edge(members[0], members[0]):
                continue
            cycle = [u for u, _ in nx.find_cycle(g.subgraph(component), source=members[0])]
            text = " -> ".join(cycle + [cycle[0]])
            place = place_of[(cycle[0], cycle[1 % len(cycle)])]
            self.add("information_cycle", f"{place}: 'feeds' goes round in a circle ({text}); information is "
                     "aggregated into other information, so one type cannot (through others) feed itself. Remove "
                     "the link that points back.", place, text, "feeds: no cycles")

    def build(self, info: dict) -> Information:
        default_via = tuple(r for r, _ in info["via"])
        edges = tuple(Edge(info["id"], ref, relation, default_via if via is None else tuple(r for r, _ in via))
                      for relation, (ref, _), via in info["edges"])
        return Information(id=info["id"], title=info["title"], collected_by=info["collected_by"][0][0],
                           voice=info["voice"], level=info["level"], requirement=info["requirement"],
                           held_in=tuple(r for r, _ in info["held_in"]), frequency=info["frequency"], edges=edges,
                           feeds=tuple(r for r, _ in info["feeds"]), description=info["description"])
