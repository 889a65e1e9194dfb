"""The inventory as a directed network (networkx), and reachability on it.

Nodes are the ids of priorities, actors and information types, with the attribute ``kind``
("priority", "service", "system" or "information"). Edges, each with ``relation``:

- actor -> information, ``collects`` (``collected_by``) and ``holds`` (``held_in``): they point *into* the
  type, so collecting or holding information never by itself carries it anywhere;
- information -> via[0] -> ... -> priority along each declared link, ``passes`` between hops and the link's
  relation (``informs`` or ``measures``) on the last hop; a type with no ``via`` links straight to the priority;
- information -> information, ``feeds`` (aggregated into another type).

A type is *used* when some directed path leads from it to a priority. Routes share actors, so the network
also carries information along routes other types opened (if a team passes one return to a board, the
network counts it as able to pass others): this is the usual reading of an information network.
"""
from __future__ import annotations

from itertools import pairwise

from measurekit.mapping.inventory import Inventory


def build_graph(inventory: Inventory):
    """The ``networkx.DiGraph`` of an inventory (see the module docstring for nodes and edges)."""
    import networkx as nx

    g = nx.DiGraph()
    for p in inventory.priorities:
        g.add_node(p.id, kind="priority", title=p.title)
    for a in inventory.actors:
        g.add_node(a.id, kind=a.kind, title=a.title, organisation=a.organisation)
    for i in inventory.information:
        g.add_node(i.id, kind="information", title=i.title, requirement=i.requirement, voice=i.voice)

    def link(u: str, v: str, relation: str):
        if g.has_edge(u, v):
            g[u][v]["relations"].add(relation)
        else:
            g.add_edge(u, v, relation=relation, relations={relation})

    for i in inventory.information:
        link(i.collected_by, i.id, "collects")
        for s in i.held_in:
            if s != i.collected_by:
                link(s, i.id, "holds")
        for e in i.edges:
            hops = [i.id, *e.via, e.priority]
            for u, v in pairwise(hops):
                link(u, v, e.relation if v == e.priority else "passes")
        for t in i.feeds:
            link(i.id, t, "feeds")
    return g


def priorities_reached(g, source: str) -> set[str]:
    """Priority nodes reachable from ``source`` by a directed path."""
    import networkx as nx

    return {n for n in nx.descendants(g, source) if g.nodes[n].get("kind") == "priority"}


def used_types(g, without: str | None = None) -> set[str]:
    """Information types from which some directed path reaches a priority (one reverse search from all priorities);
    ``without``: as if that node (an actor who leaves) and its edges were not there."""
    seen: set[str] = set()
    stack = [n for n, k in g.nodes(data="kind") if k == "priority" and n != without]
    while stack:
        n = stack.pop()
        for p in g.predecessors(n):
            if p not in seen and p != without:
                seen.add(p)
                stack.append(p)
    return {n for n in seen if g.nodes[n].get("kind") == "information"}


def shortest_routes(g) -> dict[str, list[str]]:
    """Node -> one shortest directed path from it to the nearest priority (the node first, the priority last), for
    every node that reaches one: a single breadth-first search backwards from all priorities at once, O(nodes +
    edges). Among equally short paths the one found first (in the order nodes and edges were added) is kept."""
    from collections import deque

    nxt: dict[str, str | None] = {n: None for n, k in g.nodes(data="kind") if k == "priority"}
    queue = deque(nxt)
    while queue:
        n = queue.popleft()
        for p in g.predecessors(n):
            if p not in nxt:
                nxt[p] = n
                queue.append(p)
    routes = {}
    for n in nxt:
        path = [n]
        step = nxt[n]
        while step is not None:
            path.append(step)
            step = nxt[step]
        routes[n] = path
    return routes


def declared_priorities(inventory: Inventory) -> dict[str, list[str]]:
    """Type id -> the priorities the inventory links it to, directly or through the types it feeds (file order)."""
    order = {p.id: k for k, p in enumerate(inventory.priorities)}
    direct = {i.id: {e.priority for e in i.edges} for i in inventory.information}
    feeds = {i.id: i.feeds for i in inventory.information}
    out = {}
    for i in inventory.information:
        seen, stack, found = {i.id}, [i.id], set()
        while stack:
            t = stack.pop()
            found |= direct[t]
            for f in feeds[t]:
                if f not in seen:
                    seen.add(f)
                    stack.append(f)
        out[i.id] = sorted(found, key=lambda p: order.get(p, len(order)))   # checked ids are all in order
    return out
