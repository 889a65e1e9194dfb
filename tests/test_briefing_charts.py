"""The briefing charts drawn as inline SVG (measurekit.publish.svg): well-formed, named for screen readers,
drawn from the table's numbers, one neighbourhood highlighted, and no text a reader could take for a small count."""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def fw(framework_dir):
    from measurekit.design import load_framework

    return load_framework(framework_dir)


@pytest.fixture(scope="module")
def board(bundled_boards):
    """``build_board_table(cohort, framework=fw)``: the session's shared board table (conftest ``bundled_boards``)."""
    return bundled_boards.board


@pytest.fixture(scope="module")
def table(board):
    return board.rows


def _charts(page: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", page, flags=re.S)]


@pytest.mark.parametrize("lo,hi,target", [(0, 100, 5), (1, 5, 5), (3.31, 3.72, 3), (152.0, 761.0, 4), (47.2, 81.9, 3),
                                          (0.0004, 0.0031, 4), (18.2, 19.0, 3)])
def test_ticks_are_round_evenly_spaced_and_inside_the_range(lo, hi, target):
    from measurekit.publish.svg import nice_ticks, tick_label

    ticks = nice_ticks(lo, hi, target)
    assert len(ticks) >= 2 and lo - 1e-12 <= ticks[0] and ticks[-1] <= hi + 1e-12
    steps = {round(b - a, 12) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(abs(mantissa - m) < 1e-9 for m in (1, 2, 2.5, 5))
    labels = [tick_label(t, ticks) for t in ticks]
    assert len(set(labels)) == len(labels)                              # enough decimals to tell them apart
    assert all(abs(float(s.replace(",", "")) - t) < 1e-9 for s, t in zip(labels, ticks))


def test_briefing_charts_are_named_svg_and_highlight_only_this_neighbourhood(board, table):
    from measurekit.publish.briefing import FunnelCharts, briefing_page

    funnels = FunnelCharts(board)
    everyone = table[(table["breakdown"] == "all") & (table["geography_type"] == "neighbourhood")]
    codes = sorted(everyone["geography_code"].unique())
    plotted = everyone[everyone["value"].notna()]
    for code in codes[:2]:
        page = briefing_page(board, code, funnels=funnels)
        assert page == briefing_page(board, code)                          # shared drawing changes nothing
        assert "<img" not in page and "data:image" not in page
        charts = _charts(page)
        assert len(charts) == 4
        for svg in charts:
            assert svg.get("role") == "img" and len(svg.get("aria-label")) > 40
            assert svg.find(f"{SVG}title").text == svg.get("aria-label")
            assert float(svg.get("width")) > 100 and svg.get("viewBox").endswith(f"{svg.get('width')} {svg.get('height')}")
        name = everyone.loc[everyone["geography_code"] == code, "geography_name"].iloc[0]
        funnel = next(s for s in charts if s.get("aria-label").startswith("Funnel plots"))
        assert f"{name} is highlighted" in funnel.get("aria-label")
        # grey dots: every other neighbourhood with a value in each panel; one highlighted marker (black edge) per
        # panel where this neighbourhood has a value
        grey = [c for c in funnel.iter(f"{SVG}circle") if c.get("fill") == "#8c8c8c"]
        mine = [e for e in funnel.iter() if e.get("stroke") == "#1b1b1b" and e.tag in (f"{SVG}circle", f"{SVG}polygon")
                and e.get("fill") != "#fff"]
        n_ind = plotted["indicator_id"].nunique()
        legend_grey = 1
        assert len(grey) - legend_grey == (plotted["geography_code"] != code).sum()
        assert len(mine) == (plotted["geography_code"] == code).sum() <= n_ind


def test_indicator_chart_places_values_and_intervals_on_the_axis(board, table):
    """Read the chart back: the marker and interval ends sit where the axis ticks say the numbers are."""
    from measurekit.publish.briefing import briefing_page

    code = "SYN-N03"
    page = briefing_page(board, code)
    svg = next(s for s in _charts(page) if s.get("aria-label").startswith("Chart of the percentage"))
    ticks = {t.findtext(f"{SVG}tspan"): t.find(f"{SVG}tspan") for t in svg.iter(f"{SVG}text")}
    x0, x100, tick_y = float(ticks["0"].get("x")), float(ticks["100"].get("x")), float(ticks["0"].get("y"))
    to_value = lambda x: (float(x) - x0) / (x100 - x0) * 100
    rows = table[(table["geography_code"] == code) & (table["breakdown"] == "all") & table["value"].notna()
                 & table["ci_method"].eq("wilson")]
    intervals = sorted((to_value(ln.get("x1")), to_value(ln.get("x2"))) for ln in svg.iter(f"{SVG}line")
                       if ln.get("stroke") == "#595959" and ln.get("y1") == ln.get("y2") and float(ln.get("y1")) < tick_y)
    expected = sorted(zip(rows["ci_low"], rows["ci_high"]))
    assert len(intervals) == len(expected)
    for (a, b), (lo, hi) in zip(intervals, expected):
        assert abs(a - lo) < 0.1 and abs(b - hi) < 0.1


def test_chart_text_never_reads_as_a_small_count(board, table, tmp_path):
    """The gate reads a page's text run together: tick values next to axis words ('5 children counted') would be
    refused. Shrink every neighbourhood so the funnel axes get single-digit ticks, then scan the charts alone."""
    from measurekit.publish.briefing import briefing_page
    from measurekit.publish.gate import scan_folder

    small = table.copy()
    nb = small["geography_type"] == "neighbourhood"
    small.loc[nb, "denominator"] = (small.loc[nb, "denominator"] / 100).round().clip(lower=1)
    ticks_seen = set()
    for code in sorted(small.loc[nb, "geography_code"].unique()):
        page = briefing_page(board.with_rows(small), code)
        svgs = re.findall(r"<svg .*?</svg>", page, flags=re.S)
        (tmp_path / f"{code}.html").write_text("<html><body>" + "".join(svgs) + "</body></html>", encoding="utf-8")
        ticks_seen |= {t for s in svgs for t in re.findall(r">([1-5])</tspan>", s)}
    assert ticks_seen                                   # the case is real: small numbers are drawn as ticks
    assert len(scan_folder(tmp_path)) == 0, scan_folder(tmp_path).to_text()
    # and the scan would have seen them had they been run into words
    (tmp_path / "bad.html").write_text("<svg><text>4</text><text>children counted</text></svg>", encoding="utf-8")
    assert len(scan_folder(tmp_path)) == 1


def test_write_briefings_shows_a_progress_bar_over_neighbourhoods(board, table, tmp_path, monkeypatch):
    from measurekit.core import progress as progress_module
    from measurekit.publish.briefing import write_briefings

    seen = []

    def spy(iterable, total=None, desc="", show=None):
        seen.append((desc, total))
        return iterable

    monkeypatch.setattr(progress_module, "progress", spy)
    written = write_briefings(board, tmp_path / "b")
    n = table.loc[table["geography_type"] == "neighbourhood", "geography_code"].nunique()
    assert seen == [("Briefings", n)] and len(written) == n


def test_charts_draw_only_published_values(board, table):
    """Withhold (as disclosure control would) one area's headline and one of its coverage groups: neither value
    is drawn or named anywhere on the page; the bars drawn are exactly the published groups."""
    from measurekit.publish.briefing import briefing_page

    code, cov_id = "SYN-N02", board.framework.coverage_indicator
    t = table.copy()
    own = t["geography_code"] == code
    head = own & (t["indicator_id"] == "gld") & (t["breakdown"] == "all")
    group = own & (t["indicator_id"] == cov_id) & (t["breakdown"] == "eal") & (t["breakdown_value"] == "0")
    hidden = t.loc[head | group, "value"].tolist()
    assert len(hidden) == 2 and all(v == v for v in hidden)
    numbers = ["numerator", "denominator", "value", "ci_low", "ci_high"]
    t.loc[head | group, numbers] = float("nan")
    t.loc[head | group, ["symbol", "suppressed"]] = ["c", True]
    page = briefing_page(board.with_rows(t), code)
    charts = _charts(page)
    gld_title = t.loc[head, "indicator_title"].iloc[0]
    pct = next(s for s in charts if s.get("aria-label").startswith("Chart of the percentage"))
    assert gld_title not in pct.get("aria-label")
    assert gld_title not in [x.text for x in pct.iter(f"{SVG}tspan")]
    cov = next(s for s in charts if s.get("aria-label").startswith("Bar chart"))
    texts = [x.text for x in cov.iter(f"{SVG}tspan")]
    mine = t[own & (t["indicator_id"] == cov_id) & (t["breakdown"] != "all")]
    drawn = mine.groupby("breakdown").filter(lambda g: g["value"].notna().any())    # groups with anything published
    bars = [r for r in cov.iter(f"{SVG}rect") if r.get("fill") == "#5b7fa6"]
    assert len(bars) == drawn["value"].notna().sum()
    assert texts.count("withheld (c)") == (drawn["symbol"] == "c").sum() >= 1
    assert f"{hidden[1]:.0f}%" not in " ".join(texts) or (drawn["value"].round() == round(hidden[1])).any()
    assert "Withheld to protect small numbers" in page
