"""The information map as one accessible SVG drawing, computed from the analysis (no plotting library).

Layout, top to bottom: a title line; one box per strategic priority, two to a row, each listing the
information types that serve it first (see ``primary_priority``) with their other priorities as numbers;
a box set apart (dashed border, grey) for the types that reach no priority; a small bar chart of what
breaks if one actor leaves; the legend. Encodings never rely on colour alone: shape says national
(circle) or local (square), fill says measures (solid) or informs (hollow), letters say whose voice
(C child, P parent, S staff/practitioner).

The drawing is 700 CSS pixels wide (7 inches at 100 per inch, within an A4 page's printable width) and as
tall as its content. It is one ``<svg role='img'>`` named by ``aria-label`` and ``<title>``, with a
``<desc>`` that says in words what the boxes hold; the page around it (``page.py``) has the same content as
tables for screen readers and for people who prefer them.
"""
from __future__ import annotations

from measurekit.publish.svg import esc, num, text_width

WIDTH = 700
MARGIN, GAP = 8, 10
LINE = 15                  # height of one information type's line
HEAD = 22                  # height of a box's heading band
FONT, SMALL = 7.5, 6.5     # points
INK, GREY, BAND, LINK = "#1b1b1b", "#4a4a4a", "#e3ebf5", "#1d3557"
VOICE_LETTER = {"child": "C", "parent": "P", "practitioner": "S"}


def primary_priority(inventory) -> dict[str, str | None]:
    """Type id -> the priority whose box shows it: the first priority (in file order) it measures, else the first it
    informs, else the box of the first type it feeds that has one; None when it reaches no priority."""
    order = {p.id: k for k, p in enumerate(inventory.priorities)}
    info = {i.id: i for i in inventory.information}
    memo: dict[str, str | None] = {}

    def find(t: str, seen: frozenset) -> str | None:
        if t in memo:
            return memo[t]
        i = info[t]
        for relation in ("measures", "informs"):
            ps = sorted({e.priority for e in i.edges if e.relation == relation},
                        key=lambda p: order.get(p, len(order)))   # checked ids are all in order
            if ps:
                return ps[0]
        for f in i.feeds:
            if f not in seen:
                found = find(f, seen | {f})
                if found:
                    return found
        return None

    for t in info:
        memo[t] = find(t, frozenset({t}))
    return memo


def _fit(text: str, width: float, size: float) -> str:
    """``text`` cut (with '...') to fit ``width`` pixels, with a tenth to spare for fonts wider than the estimate."""
    width = width / 1.1
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "...", size) > width:
        text = text[:-1]
    return text.rstrip() + "..."


def _marker(x: float, y: float, national: bool, solid: bool) -> str:
    fill = LINK if solid else "#ffffff"
    if national:
        return f"<circle cx='{num(x)}' cy='{num(y)}' r='4' fill='{fill}' stroke='{LINK}' stroke-width='1.4'/>"
    return (f"<rect x='{num(x - 4)}' y='{num(y - 4)}' width='8' height='8' fill='{fill}' stroke='{LINK}' "
            "stroke-width='1.4'/>")


def _entry(x: float, y: float, width: float, info, solid: bool, also: list[int], used: bool) -> str:
    parts = [_marker(x + 8, y - 3.5, info.requirement == "national", solid)]
    letters = "".join(VOICE_LETTER[v] for v in info.voices)
    tx = x + 18
    if letters:
        parts.append(f"<text x='{num(tx)}' y='{num(y)}' font-size='{SMALL}pt' font-weight='700' fill='{INK}'>"
                     f"{esc(letters)}</text>")
    tx += 26
    right = f"also {', '.join(map(str, also))}" if also else ""
    room = width - (tx - x) - (text_width(right, SMALL) + 16 if right else 8)
    parts.append(f"<text x='{num(tx)}' y='{num(y)}' font-size='{FONT}pt' fill='{INK if used else GREY}'>"
                 f"{esc(_fit(info.title, room, FONT))}</text>")
    if right:
        parts.append(f"<text x='{num(x + width - 6)}' y='{num(y)}' font-size='{SMALL}pt' fill='{GREY}' "
                     f"text-anchor='end'>{esc(right)}</text>")
    return "".join(parts)


def _box(x: float, y: float, width: float, height: float, heading: str, unused: bool = False) -> str:
    dash = " stroke-dasharray='5 3'" if unused else ""
    fill = "#f2f2f2" if unused else "#ffffff"
    band = "#e6e6e6" if unused else BAND
    return (f"<rect x='{num(x)}' y='{num(y)}' width='{num(width)}' height='{num(height)}' rx='4' fill='{fill}' "
            f"stroke='{GREY if unused else LINK}' stroke-width='1'{dash}/>"
            f"<rect x='{num(x + 1)}' y='{num(y + 1)}' width='{num(width - 2)}' height='{HEAD - 2}' rx='3' "
            f"fill='{band}'/>"
            f"<text x='{num(x + 8)}' y='{num(y + 15)}' font-size='{FONT + 1}pt' font-weight='700' fill='{INK}'>"
            f"{esc(_fit(heading, width - 16, FONT + 1))}</text>")


def describe(result) -> str:
    """The drawing in one paragraph of words (its ``aria-label`` and ``<desc>``)."""
    inv = result.inventory
    top = result.brokers.iloc[0]["title"] if len(result.brokers) else ""
    only = list(result.priorities.loc[result.priorities["measured_only_nationally"], "title"])
    text = (f"Information map of {inv.title}: {result.n_collected} types of information collected, "
            f"{result.n_used} reach at least one of {len(inv.priorities)} strategic priorities, "
            f"{result.n_outside} reach none ({len(result.voice_outside)} of them carry someone's voice). "
            "Boxes group the types by the priority they serve first; a dashed box holds those that reach no priority.")
    if only:
        text += f" Measured only by national returns: {', '.join(only)}."
    if top:
        text += f" {top} carries information across most boundaries."
    return text


def map_svg(result) -> str:
    """The map of an ``InformationMap`` as SVG markup (see the module docstring)."""
    inv = result.inventory
    used = set(result.information.loc[result.information["used"], "id"])
    primary = primary_priority(inv)
    number = {p.id: k + 1 for k, p in enumerate(inv.priorities)}
    from measurekit.mapping.network import declared_priorities

    linked = declared_priorities(inv)
    measures = {(e.information, e.priority) for e in inv.edges() if e.relation == "measures"}
    col_w = (WIDTH - 2 * MARGIN - GAP) / 2
    body: list[str] = []
    y: float = MARGIN
    body.append(f"<text x='{MARGIN}' y='{num(y + 14)}' font-size='11pt' font-weight='700' fill='{INK}'>"
                f"{esc(_fit(inv.title, WIDTH - 2 * MARGIN, 11))}</text>")
    y += 22
    body.append(f"<text x='{MARGIN}' y='{num(y + 10)}' font-size='{FONT}pt' fill='{INK}'>"
                f"{result.n_collected} types collected; {result.n_used} reach a strategic priority; "
                f"{result.n_outside} reach none.{' Illustrative data.' if inv.illustrative else ''}</text>")
    y += 22
    boxes = []
    for p in inv.priorities:
        members = [i for i in inv.information if primary[i.id] == p.id]
        boxes.append((f"{number[p.id]} {p.title} ({len(members)})", p.id, members))
    for row in range(0, len(boxes), 2):
        pair = boxes[row:row + 2]
        height = HEAD + 8 + LINE * max(1, max(len(m) for _, _, m in pair))
        for k, (heading, pid, members) in enumerate(pair):
            x = MARGIN + k * (col_w + GAP)
            body.append(_box(x, y, col_w, height, heading))
            if not members:
                n = sum(pid in ps for ps in linked.values())
                words = (f"{n} types serve it; each is shown in another box (also {number[pid]})" if n
                         else "no information reaches this priority")
                body.append(f"<text x='{num(x + 10)}' y='{num(y + HEAD + LINE)}' font-size='{FONT}pt' "
                            f"fill='{GREY}'>{esc(_fit(words, col_w - 20, FONT))}</text>")
            for j, info in enumerate(members):
                also = [number[q] for q in linked[info.id] if q != pid]
                body.append(_entry(x, y + HEAD + LINE * (j + 1), col_w, info, (info.id, pid) in measures, also,
                                   True))
        y += height + GAP
    outside = [i for i in inv.information if i.id not in used]
    half = (len(outside) + 1) // 2
    height = HEAD + 8 + LINE * max(1, half)
    y += 4
    body.append(_box(MARGIN, y, WIDTH - 2 * MARGIN, height,
                     f"Collected but reaching no priority ({len(outside)})", unused=True))
    if not outside:
        body.append(f"<text x='{MARGIN + 10}' y='{num(y + HEAD + LINE)}' font-size='{FONT}pt' fill='{GREY}'>"
                    "none: every type reaches a priority</text>")
    for j, info in enumerate(outside):
        x = MARGIN + (j // half) * (col_w + GAP) if half else MARGIN
        body.append(_entry(x, y + HEAD + LINE * (j % half + 1), col_w, info, False, [], False))
    y += height + GAP + 4
    y = _breaks(body, result, y)
    y = _legend(body, y)
    label = describe(result)
    return (f"<svg xmlns='http://www.w3.org/2000/svg' role='img' aria-label='{esc(label)}' "
            f"viewBox='0 0 {WIDTH} {num(y)}' width='{WIDTH}' height='{num(y)}' "
            "font-family='system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif' class='information-map'>"
            f"<title>{esc(label)}</title><desc>{esc(_desc(result, primary))}</desc>"
            f"<g aria-hidden='true'>{''.join(body)}</g></svg>")


def _desc(result, primary) -> str:
    inv = result.inventory
    parts = []
    for p in inv.priorities:
        names = [i.title for i in inv.information if primary[i.id] == p.id]
        parts.append(f"{p.title}: {', '.join(names) if names else 'none'}.")
    outside = list(result.information.loc[~result.information["used"], "title"])
    parts.append(f"Reaching no priority: {', '.join(outside) if outside else 'none'}.")
    return " ".join(parts)


def _breaks(body: list[str], result, y: float) -> float:
    """Bars: for each actor whose leaving cuts information off, how many used types would reach no priority."""
    b = result.brokers[result.brokers["n_types_lost"] > 0].sort_values("n_types_lost", ascending=False,
                                                                      kind="stable").head(6)
    if not len(b):
        return y
    body.append(f"<text x='{MARGIN}' y='{num(y + 12)}' font-size='{FONT + 1}pt' font-weight='700' fill='{INK}'>"
                "If one actor left: types that would no longer reach any priority</text>")
    y += 20
    label_w = 250
    top = max(int(b["n_types_lost"].max()), 1)
    bar_room = WIDTH - 2 * MARGIN - label_w - 40
    for t in b.itertuples():
        w = bar_room * t.n_types_lost / top
        body.append(f"<text x='{MARGIN + label_w - 6}' y='{num(y + 10)}' font-size='{FONT}pt' fill='{INK}' "
                    f"text-anchor='end'>{esc(_fit(t.title, label_w - 10, FONT))}</text>"
                    f"<rect x='{MARGIN + label_w}' y='{num(y + 2)}' width='{num(w)}' height='10' fill='{LINK}'/>"
                    f"<text x='{num(MARGIN + label_w + w + 4)}' y='{num(y + 10)}' font-size='{FONT}pt' "
                    f"fill='{INK}'>{t.n_types_lost}</text>")
        y += LINE
    return y + GAP


def _legend(body: list[str], y: float) -> float:
    body.append(f"<text x='{MARGIN}' y='{num(y + 12)}' font-size='{FONT + 1}pt' font-weight='700' fill='{INK}'>"
                "Key</text>")
    y += 18
    items = [(True, True, "national requirement, measures the priority"),
             (True, False, "national requirement, informs it"),
             (False, True, "chosen locally, measures the priority"),
             (False, False, "chosen locally, informs it")]
    for k, (national, solid, words) in enumerate(items):
        x0, y0 = MARGIN + (k % 2) * (WIDTH - 2 * MARGIN) / 2, y + LINE * (k // 2)
        body.append(_marker(x0 + 6, y0 + 6, national, solid) + f"<text x='{num(x0 + 16)}' y='{num(y0 + 9.5)}' "
                    f"font-size='{FONT}pt' fill='{INK}'>{esc(words)}</text>")
    y += LINE * 2 + 4
    body.append(f"<text x='{MARGIN}' y='{num(y + 9)}' font-size='{FONT}pt' fill='{INK}'>"
                "Letters: whose voice the information carries (C children, P parents, S staff and "
                "practitioners).</text>"
                f"<text x='{MARGIN}' y='{num(y + 9 + LINE)}' font-size='{FONT}pt' fill='{INK}'>"
                "Numbers after 'also': the other priorities it serves, by the numbers of their boxes.</text>")
    return y + LINE + 18 + MARGIN
