"""A funnel plot drawn as inline SVG from a ``stats.funnel.FunnelResult`` (with the helpers of ``publish/svg.py``).

One dot per area at (denominator, percent), the target line, the 95% and 99.8% limits (solid) and, when the
overdispersion adjustment is used, the adjusted limits (dashed); areas outside the limits that are read
(adjusted when used) are drawn as filled dark dots and labelled. A pure function of the result: no files.
"""
from __future__ import annotations

import math

from measurekit.publish import svg

LIMIT_COLOURS = {"95": "#4a6f96", "99_8": "#1d3557"}


def funnel_svg(result, *, alt: str, area: str = "area", y_label: str = "Percent", x_label: str = "Children",
               width: float = 640, height: float = 380, size: float = 8.5, label_outside: bool = True) -> str:
    """The funnel plot of ``result`` (from :func:`measurekit.stats.funnel.funnel`) as one ``<svg role='img'>``
    named by ``alt``. ``area`` names the table's area column (labels for areas outside the limits)."""
    table, grid = result.table, result.limits
    levels = [c.removeprefix("low_") for c in grid.columns if c.startswith("low_")]
    prefix = "adj_" if result.adjusted else ""
    ys = [*table["value"], result.target, *(v for c in grid.columns if c != "denominator" for v in grid[c])]
    ylo, yhi = svg.padded(max(min(ys), 0.0), min(max(ys), 100.0), 0.04)
    xlo, xhi = 0.0, float(grid["denominator"].max())
    yt, xt = svg.nice_ticks(ylo, yhi, 5), svg.nice_ticks(xlo, xhi, 6)
    left = max(svg.text_width(svg.tick_label(t, yt), size) for t in yt) + size * svg.PT * 2.6
    top, right = 10.0, width - 12
    legend_h = size * svg.PT * 1.6 * (2 if result.adjusted else 1)
    bottom = height - legend_h - size * svg.PT * 4.2
    sx, sy = svg.scale(xlo, xhi, left, right), svg.scale(ylo, yhi, bottom, top)
    c = svg.Canvas(width, height)
    for t in yt:
        c.line(left, sy(t), right, sy(t), "#e0e0e0", 0.6 * svg.PT)
    c.x_axis(sx, xt, bottom, left, right, size)
    c.y_axis(sy, yt, left, bottom, top, size)
    c.line(left, sy(result.target), right, sy(result.target), svg.INK, 1.2)

    def clip(v):
        return min(max(v, ylo), yhi)

    gx = [sx(float(d)) for d in grid["denominator"]]
    for lv in levels:
        colour = LIMIT_COLOURS.get(lv, svg.GREY)
        for side in ("low", "high"):
            c.polyline(gx, [sy(clip(float(v))) for v in grid[f"{side}_{lv}"]], colour, 1.2)
            if result.adjusted and f"adj_{side}_{lv}" in grid:
                c.polyline(gx, [sy(clip(float(v))) for v in grid[f"adj_{side}_{lv}"]], colour, 1.4, dash="5,3")
    read = [f"{prefix}outside_{lv}" for lv in levels if f"{prefix}outside_{lv}" in table]
    for _, row in table.iterrows():
        x, y = sx(float(row["denominator"])), sy(clip(float(row["value"])))
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        outside = any(row[col] for col in read)
        c.marker("o", x, y, 6, svg.INK if outside else "#fff", edge=svg.INK, edge_width=1.0)
        if outside and label_outside:
            c.text(x + 6, y, str(row[area]), size * 0.9, halo=True)
    c.text((left + right) / 2, bottom + size * svg.PT * 2.4, x_label, size, "middle")
    c.text(size * svg.PT * 0.9, (top + bottom) / 2, y_label, size, "middle", rotate=True)
    entries = [(_swatch(svg.INK, 1.2), f"target {result.target:.1f}%")]
    for lv in levels:
        colour = LIMIT_COLOURS.get(lv, svg.GREY)
        entries.append((_swatch(colour, 1.2), f"{lv.replace('_', '.')}% limits"))
        if result.adjusted:
            entries.append((_swatch(colour, 1.4, "5,3"),
                            f"{lv.replace('_', '.')}% limits, adjusted for overdispersion"))
    c.legend(entries, bottom + size * svg.PT * 3.4, size, 3)
    return c.svg(alt)


def _swatch(colour: str, width: float, dash: str | None = None):
    """A legend key: a short line in the given colour (dashed when ``dash`` is given)."""
    def draw(cv, x, y):
        if dash is None:
            cv.line(x - 9, y, x + 9, y, colour, width)
        else:
            cv.line(x - 9, y, x + 9, y, colour, width, dash)
    return draw
