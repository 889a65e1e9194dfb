"""Charts drawn straight to inline SVG from the numbers (the neighbourhood briefings).

A briefing's charts are simple (dots with intervals, funnel plots, bars), so they are written as
SVG markup here instead of being rendered by matplotlib and embedded as PNG: vector (sharp on
screen, zoomed and on A4 paper), a few kilobytes each, real text in the page's own font, and
milliseconds to make, so a publication with 150 neighbourhoods costs seconds, not minutes.

Sizes are CSS pixels at 100 per inch (a 700-wide chart is 7 inches, as the PNGs at 100 dpi were);
font sizes are given in points (``PT`` pixels each). Every chart is one ``<svg role='img'>`` named
by ``aria-label`` and by a ``<title>`` (its alt text, WCAG 1.1.1); the drawing inside is
presentation only. Text widths are estimated (``text_width``) because there is no font engine
here: labels are anchored at the axis so an estimate that is a little off moves their free end.
"""
from __future__ import annotations

import html
import math

PT = 100 / 72            # pixels per point at 100 pixels per inch
INK, GREY = "#1b1b1b", "#595959"


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def num(x: float) -> str:
    """A coordinate with one decimal, no trailing zeros (keeps the markup short)."""
    return f"{x:.1f}".removesuffix(".0")


def text_width(text: str, size_pt: float) -> float:
    """Estimated width in pixels of ``text`` in a sans-serif font of ``size_pt`` points (slightly generous)."""
    wide = sum(c in "mwMW%@" for c in text)
    narrow = sum(c in "il.,:;|!'()[] 1tfjr" for c in text)
    return (0.56 * (len(text) - wide - narrow) + 0.9 * wide + 0.32 * narrow) * size_pt * PT


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values within [lo, hi], about ``target`` steps of 1, 2, 2.5 or 5 times a power of ten (at least
    two ticks when the range is not a single value)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    for want in range(max(target, 1), max(target, 1) + 8):
        raw = (hi - lo) / want
        mag = 10 ** math.floor(math.log10(raw))
        step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * 0.999)
        first = math.ceil(lo / step - 1e-9)
        ticks = [round((first + k) * step, 10) for k in range(math.floor(hi / step + 1e-9) - first + 1)]
        if len(ticks) >= 2:
            break
    return ticks


def tick_label(value: float, ticks: list[float]) -> str:
    """A tick value with as many decimals as the step between ticks needs (2.5 -> one, 0.25 -> two)."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    while decimals < 4 and abs(step * 10 ** decimals - round(step * 10 ** decimals)) > 1e-6:
        decimals += 1
    return f"{value:,.{decimals}f}"


def scale(d0: float, d1: float, r0: float, r1: float):
    """A linear map from data [d0, d1] to pixels [r0, r1]."""
    k = (r1 - r0) / (d1 - d0) if d1 != d0 else 0.0
    return lambda v: r0 + (v - d0) * k


def padded(lo: float, hi: float, margin: float = 0.05) -> tuple[float, float]:
    """Data limits widened by ``margin`` of the span on each side (a single value gets a unit span)."""
    if hi <= lo:
        return lo - 0.5, hi + 0.5
    pad = (hi - lo) * margin
    return lo - pad, hi + pad


class Canvas:
    """Collects SVG elements; ``svg(alt)`` returns the finished ``<svg>`` element."""

    def __init__(self, width: float, height: float = 0.0):
        self.width, self.height = width, height
        self.parts: list[str] = []

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def line(self, x1, y1, x2, y2, stroke=INK, width=1.0, dash: str = "", cap: str = "") -> None:
        extra = (f" stroke-dasharray='{dash}'" if dash else "") + (f" stroke-linecap='{cap}'" if cap else "")
        self.parts.append(f"<line x1='{num(x1)}' y1='{num(y1)}' x2='{num(x2)}' y2='{num(y2)}' stroke='{stroke}' "
                          f"stroke-width='{num(width)}'{extra}/>")

    def polyline(self, xs, ys, stroke=INK, width=1.0, dash: str = "") -> None:
        pts = " ".join(f"{num(x)},{num(y)}" for x, y in zip(xs, ys) if math.isfinite(x) and math.isfinite(y))
        extra = f" stroke-dasharray='{dash}'" if dash else ""
        self.parts.append(f"<polyline points='{pts}' fill='none' stroke='{stroke}' "
                          f"stroke-width='{num(width)}'{extra}/>")

    def rect(self, x, y, w, h, fill) -> None:
        self.parts.append(f"<rect x='{num(x)}' y='{num(y)}' width='{num(max(w, 0))}' height='{num(max(h, 0))}' "
                          f"fill='{fill}'/>")

    def text(self, x, y, text, size: float, anchor: str = "start", colour: str = INK, bold: bool = False,
             middle: bool = True, rotate: bool = False, halo: bool = False) -> None:
        """One or more lines (``text`` may hold newlines) at (x, y); ``middle``: y is the middle of the block."""
        lines = str(text).split("\n")
        lh = size * PT * 1.2
        y0 = y - (len(lines) - 1) * lh / 2 if middle else y
        attrs = f" text-anchor='{anchor}'" if anchor != "start" else ""
        attrs += " font-weight='bold'" if bold else ""
        attrs += f" transform='rotate(-90 {num(x)} {num(y)})'" if rotate else ""
        attrs += " stroke='#fff' stroke-width='3' paint-order='stroke'" if halo else ""
        dy = "0.35em" if middle else "0"
        spans = "".join(f"<tspan x='{num(x)}' y='{num(y0 + k * lh)}' dy='{dy}'>{esc(t)}</tspan>"
                        for k, t in enumerate(lines))
        self.parts.append(f"<text font-size='{num(size * PT)}' fill='{colour}'{attrs}>{spans}</text>")

    def marker(self, kind: str, x: float, y: float, size: float, fill: str, edge: str = "", edge_width: float = 0.0,
               hollow: bool = False) -> None:
        """A scatter marker of ``size`` points across: 'o' circle, '^'/'v' triangles, '|' a vertical bar."""
        s = size * PT
        paint = f"fill='{'#fff' if hollow else fill}'" + (f" stroke='{edge}' stroke-width='{num(edge_width)}'"
                                                          if edge else "")
        if kind == "|":
            self.line(x, y - s / 2, x, y + s / 2, fill, max(edge_width, 2 * PT))
        elif kind in "^v":
            r = s * 0.62                   # circumradius: the triangle's area is close to a circle of size s
            sgn = -1 if kind == "^" else 1
            pts = [(x, y + sgn * r), (x - r * 0.866, y - sgn * r / 2), (x + r * 0.866, y - sgn * r / 2)]
            self.parts.append(f"<polygon points='{' '.join(f'{num(a)},{num(b)}' for a, b in pts)}' {paint}/>")
        else:
            self.parts.append(f"<circle cx='{num(x)}' cy='{num(y)}' r='{num(s / 2)}' {paint}/>")

    def x_axis(self, sx, ticks, y, x0, x1, size: float, grid_to: float | None = None, names: dict | None = None
               ) -> None:
        """Bottom axis line from x0 to x1 at y, with ticks and labels (and vertical grid lines up to ``grid_to``).
        ``names``: tick value -> its label (e.g. academic years), instead of the number."""
        for t in ticks:
            if grid_to is not None:
                self.line(sx(t), grid_to, sx(t), y, "#e0e0e0", 0.6 * PT)
        self.line(x0, y, x1, y, INK, 0.8)
        for t in ticks:
            self.line(sx(t), y, sx(t), y + 4, INK, 0.8)
            label = names.get(t, "") if names is not None else tick_label(t, ticks)
            self.text(sx(t), y + 5 + size * PT * 0.6, label, size, "middle")

    def y_axis(self, sy, ticks, x, y0, y1, size: float) -> None:
        """Left axis line from y0 to y1 at x, with ticks and labels."""
        self.line(x, y0, x, y1, INK, 0.8)
        for t in ticks:
            self.line(x - 4, sy(t), x, sy(t), INK, 0.8)
            self.text(x - 6, sy(t), tick_label(t, ticks), size, "end")

    def legend(self, entries, top: float, size: float, ncol: int = 3) -> float:
        """Draw ``entries`` (callable(canvas, x, y) drawing the key, label) centred in rows of ``ncol`` from ``top``;
        returns the y below the legend."""
        ncol = max(1, min(ncol, len(entries)))
        widths = [24 + text_width(label, size) for _, label in entries]
        col_w = [max(widths[k::ncol]) + 14 for k in range(ncol)]
        x0 = max((self.width - sum(col_w)) / 2, 4)
        row_h = size * PT * 1.6
        for k, (key, label) in enumerate(entries):
            x = x0 + sum(col_w[: k % ncol])
            y = top + (k // ncol + 0.5) * row_h
            key(self, x + 9, y)
            self.text(x + 22, y, label, size)
        return top + math.ceil(len(entries) / ncol) * row_h

    def svg(self, alt: str) -> str:
        """The ``<svg>`` element: role img, named by ``alt`` (aria-label and title), scaling with its container."""
        w, h = num(self.width), num(self.height)
        return (f"<svg xmlns='http://www.w3.org/2000/svg' role='img' aria-label='{esc(alt)}' width='{w}' height='{h}' "
                f"viewBox='0 0 {w} {h}' font-family='inherit'><title>{esc(alt)}</title>{''.join(self.parts)}</svg>")


# ---------------------------------------------------------------- charts of the trial report
# Bars, lines and a heat map drawn from the numbers (added for the trial report; the briefings' charts live in
# publish/briefing.py). Each returns one finished ``<svg role='img'>`` element named by ``alt``.

SERIES_COLOURS = ("#1d3557", "#b5470b", "#2e7d32", "#6a3d9a", "#8a6d00", "#0f6e7a")


def bar_chart(labels, values, *, alt: str, axis_label: str, lo: float | None = None, hi: float | None = None,
              ref: float | None = None, ref_label: str = "", ref_dashed: bool = False, value_text=None,
              width: float = 700, size: float = 8.5, colour: str = "#4a6f96") -> str:
    """Horizontal bars, one per label, from ``lo`` (default 0) to each value, with the value written at the bar's
    end (``value_text(v)``, default two decimals), an optional vertical reference line at ``ref`` (named in the
    legend line above the bars by ``ref_label``), and an axis with ``axis_label`` below. Missing values draw no
    bar and say "no data"."""
    labels = [str(x) for x in labels]
    vals = [float(v) if v is not None and math.isfinite(float(v)) else math.nan for v in values]
    fmt = value_text or (lambda v: f"{v:.2f}")
    finite = [v for v in vals if math.isfinite(v)] + ([ref] if ref is not None else [])
    lo = 0.0 if lo is None else lo
    hi = max(finite + [lo + 1e-9]) * 1.08 if hi is None else hi
    lab_w = min(max([text_width(t, size) for t in labels] + [10]) + 10, width * 0.42)
    val_w = max([text_width(fmt(v), size) for v in vals if math.isfinite(v)] + [text_width("no data", size)]) + 8
    row = max(size * PT * 1.75, 16)
    top = size * PT * 2.2 if ref is not None and ref_label else 6
    x0, x1 = lab_w, width - val_w - 4
    ticks = nice_ticks(lo, hi, 5)
    sx = scale(lo, hi, x0, x1)
    height = top + row * len(labels) + size * PT * 3.6
    c = Canvas(width, height)
    bottom = top + row * len(labels)
    c.x_axis(sx, ticks, bottom, x0, x1, size, grid_to=top)
    for k, (label, v) in enumerate(zip(labels, vals)):
        y = top + (k + 0.5) * row
        c.text(x0 - 6, y, label, size, "end")
        if math.isfinite(v):
            a, b = sx(max(min(v, hi), lo)), sx(lo)
            c.rect(min(a, b), y - row * 0.34, abs(a - b), row * 0.68, colour)
            c.text(max(a, b) + 4, y, fmt(v), size, colour=INK, halo=True)
        else:
            c.text(x0 + 4, y, "no data", size, colour=GREY)
    if ref is not None and lo <= ref <= hi:
        c.line(sx(ref), top - 2, sx(ref), bottom, INK, 1.4, dash="5,3" if ref_dashed else "")
        if ref_label:
            c.text(sx(ref), top - size * PT * 1.1, ref_label, size, "middle", halo=True)
    c.text((x0 + x1) / 2, height - size * PT * 0.7, axis_label, size, "middle")
    return c.svg(alt)


def line_chart(series, *, alt: str, x_label: str, y_label: str, x_range: tuple | None = None,
               y_range: tuple | None = None, hline: float | None = None, diagonal: bool = False,
               width: float = 640, height: float = 340, size: float = 8.5, legend_columns: int = 2,
               x_names: dict | None = None) -> str:
    """Lines (and markers) of several series on shared axes with a legend below.

    ``series``: a list of dicts with ``name``, ``x``, ``y`` and optionally ``colour``, ``dash`` (an SVG dash
    pattern) and ``marker`` ('o', '^', 'v' or '' for none). ``hline``: a thin grey horizontal line at that value;
    ``diagonal``: the line y = x (a calibration or ROC reference). ``x_names``: x value -> tick label (e.g. 2021.0 ->
    "21/22"): the ticks are exactly these values."""
    pts = [(float(a), float(b)) for s in series for a, b in zip(s["x"], s["y"])
           if math.isfinite(float(a)) and math.isfinite(float(b))]
    xs, ys = [p[0] for p in pts] or [0.0, 1.0], [p[1] for p in pts] or [0.0, 1.0]
    xlo, xhi = x_range or padded(min(xs), max(xs), 0.03)
    ylo, yhi = y_range or padded(min(ys + ([hline] if hline is not None else [])),
                                 max(ys + ([hline] if hline is not None else [])))
    yt, xt = nice_ticks(ylo, yhi, 5), (sorted(x_names) if x_names else nice_ticks(xlo, xhi, 6))
    left = max(text_width(tick_label(t, yt), size) for t in yt) + size * PT * 2.6 if yt else 40
    entries = []
    for k, s in enumerate(series):
        colour = s.get("colour", SERIES_COLOURS[k % len(SERIES_COLOURS)])
        dash, mk = s.get("dash", ""), s.get("marker", "o")

        def key(cv, x, y, colour=colour, dash=dash, mk=mk):
            cv.line(x - 9, y, x + 9, y, colour, 2, dash)
            if mk:
                cv.marker(mk, x, y, 6, colour)
        entries.append((key, str(s["name"])))
    ncol = max(1, min(legend_columns, len(entries)))
    legend_h = math.ceil(len(entries) / ncol) * size * PT * 1.6 if entries else 0
    top, plot_bottom = 10, height - legend_h - size * PT * 4.2
    right = width - 12
    sx, sy = scale(xlo, xhi, left, right), scale(ylo, yhi, plot_bottom, top)
    c = Canvas(width, height)
    for t in yt:
        c.line(left, sy(t), right, sy(t), "#e0e0e0", 0.6 * PT)
    c.x_axis(sx, xt, plot_bottom, left, right, size, names=x_names)
    c.y_axis(sy, yt, left, plot_bottom, top, size)
    if hline is not None and ylo <= hline <= yhi:
        c.line(left, sy(hline), right, sy(hline), GREY, 0.8)
    if diagonal:
        d0, d1 = max(xlo, ylo), min(xhi, yhi)
        c.line(sx(d0), sy(d0), sx(d1), sy(d1), GREY, 1, dash="3,3")
    for k, s in enumerate(series):
        colour = s.get("colour", SERIES_COLOURS[k % len(SERIES_COLOURS)])
        x = [sx(float(a)) for a in s["x"]]
        y = [sy(float(b)) for b in s["y"]]
        c.polyline(x, y, colour, 2, s.get("dash", ""))
        if s.get("marker", "o"):
            for a, b in zip(x, y):
                if math.isfinite(a) and math.isfinite(b):
                    c.marker(s.get("marker", "o"), a, b, 5, colour)
    c.text((left + right) / 2, plot_bottom + size * PT * 2.4, x_label, size, "middle")
    c.text(size * PT * 0.9, (top + plot_bottom) / 2, y_label, size, "middle", rotate=True)
    c.legend(entries, plot_bottom + size * PT * 3.4, size, ncol)
    return c.svg(alt)


def heat_map(row_labels, column_labels, values, *, alt: str, cut: float = 0.3, size: float = 8.5,
             cell_width: float = 64, max_width: float = 700) -> str:
    """A table of numbers as coloured cells (blue positive, red negative, stronger with the absolute value up to 1),
    each cell with its value to two decimals; values below ``cut`` in absolute value are written in grey."""
    rows, cols = [str(r) for r in row_labels], [str(c) for c in column_labels]
    lab_w = min(max([text_width(r, size) for r in rows] + [10]) + 12, max_width * 0.5)
    cell_w = min(cell_width, (max_width - lab_w) / max(len(cols), 1))
    row_h = size * PT * 1.7
    top = size * PT * 2
    width, height = lab_w + cell_w * len(cols) + 2, top + row_h * len(rows) + 4
    c = Canvas(width, height)
    for j, name in enumerate(cols):
        c.text(lab_w + (j + 0.5) * cell_w, top / 2, name, size, "middle", bold=True)
    for i, name in enumerate(rows):
        y = top + i * row_h
        c.text(lab_w - 8, y + row_h / 2, name, size, "end")
        for j in range(len(cols)):
            v = float(values[i][j])
            if not math.isfinite(v):
                continue
            strength = min(abs(v), 1.0)
            base = (29, 79, 145) if v >= 0 else (181, 71, 11)
            fill = "#" + "".join(f"{round(255 - (255 - ch) * strength * 0.55):02x}" for ch in base)
            c.rect(lab_w + j * cell_w + 1, y + 1, cell_w - 2, row_h - 2, fill)     # light enough for black text
            c.text(lab_w + (j + 0.5) * cell_w, y + row_h / 2, f"{v:.2f}", size, "middle",
                   colour=INK if abs(v) >= cut else GREY, bold=abs(v) >= cut)
    return c.svg(alt)
