"""The information map (issue 29): the inventory format and its checks, every measure against an independent
computation on small hand-made networks with known answers, the illustrative Early Years inventory's headline
counts, the CLI, and the page in a real browser (axe, A4 print).

The independent computations below use plain Python (breadth-first searches over the edge list read from the
YAML with yaml.safe_load), never networkx or measurekit.mapping.network, so a mistake in how the package builds
or reads its network fails here.
"""
from __future__ import annotations

import itertools
import textwrap
from collections import deque
from pathlib import Path

import pytest
import yaml

import measurekit as mk
from cli_runner import CliResult, run_cli
from measurekit.problems import CATALOGUE, InputError

ROOT = Path(__file__).resolve().parents[1]
ILLUSTRATIVE = ROOT / "data" / "information_map" / "early_years_inventory.yaml"


# ---------------------------------------------------------------------------------- independent computation
def edges_of(doc: dict) -> list[tuple[str, str]]:
    """The directed edges the inventory format documents, read straight from the YAML document."""
    out = []
    for t in doc["information"]:
        out.append((t["collected_by"], t["id"]))
        for s in t.get("held_in") or []:
            out.append((s, t["id"]))
        default = t.get("via") or []
        for rel in ("informs", "measures"):
            value = t.get(rel) or []
            for e in value if isinstance(value, list) else [value]:
                pid, via = (e, default) if isinstance(e, str) else (e["priority"], e.get("via", default))
                hops = [t["id"], *via, pid]
                out += list(zip(hops[:-1], hops[1:]))
        for f in t.get("feeds") or []:
            out.append((t["id"], f))
    return sorted(set(out))


def reaches(edges, start: str, targets: set[str], removed: str | None = None) -> bool:
    nxt: dict[str, list[str]] = {}
    for u, v in edges:
        if removed not in (u, v):
            nxt.setdefault(u, []).append(v)
    seen, todo = {start}, [start]
    while todo:
        for v in nxt.get(todo.pop(), []):
            if v in targets:
                return True
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return False


def used_by_hand(doc: dict, removed: str | None = None) -> set[str]:
    pids = {p["id"] for p in doc["priorities"]}
    edges = edges_of(doc)
    return {t["id"] for t in doc["information"] if t["id"] != removed and reaches(edges, t["id"], pids, removed)}


def betweenness_by_hand(nodes: list[str], edges) -> dict[str, float]:
    """Directed betweenness by counting shortest paths between every ordered pair (no Brandes), normalised by
    (n-1)(n-2)."""
    nxt: dict[str, list[str]] = {n: [] for n in nodes}
    for u, v in edges:
        nxt[u].append(v)

    def bfs(s):
        dist, sigma, q = {s: 0}, {s: 1}, deque([s])
        while q:
            u = q.popleft()
            for v in nxt[u]:
                if v not in dist:
                    dist[v], sigma[v] = dist[u] + 1, 0
                    q.append(v)
                if dist[v] == dist[u] + 1:
                    sigma[v] += sigma[u]
        return dist, sigma

    info = {s: bfs(s) for s in nodes}
    score = dict.fromkeys(nodes, 0.0)
    for s, t in itertools.permutations(nodes, 2):
        dist_s, sigma_s = info[s]
        if t not in dist_s:
            continue
        for v in nodes:
            if v in (s, t) or v not in dist_s:
                continue
            dist_v, sigma_v = info[v]
            if t in dist_v and dist_s[v] + dist_v[t] == dist_s[t]:
                score[v] += sigma_s[v] * sigma_v[t] / sigma_s[t]
    n = len(nodes)
    return {v: x / ((n - 1) * (n - 2)) for v, x in score.items()}


# ---------------------------------------------------------------------------------- small inventories
SMALL = """\
inventory: {title: Small test map}
priorities:
  - {id: p1, title: First priority, voice_domains: [talk]}
  - {id: p2, title: Second priority}
actors:
  - {id: a, title: Team A, organisation: Org X}
  - {id: b, title: Team B, organisation: Org Y}
  - {id: s, title: System S, kind: system, organisation: Org X}
information:
  - {id: t1, title: T one, collected_by: a, voice: none, level: aggregate, requirement: local, measures: [p1], via: [a]}
  - {id: t2, title: T two, collected_by: b, held_in: [s], voice: [parent], level: individual, requirement: national,
     informs: [{priority: p2, via: [a, b]}]}
  - {id: t3, title: T three, collected_by: a, voice: [practitioner], level: individual, requirement: local, feeds: [t1]}
  - {id: t4, title: T four, collected_by: b, voice: [parent, child], level: individual, requirement: local}
  - {id: t5, title: T five, collected_by: s, voice: none, level: aggregate, requirement: national, measures: [p2]}
  - {id: t6, title: T six, collected_by: a, voice: [child], level: individual, requirement: local, informs: [p1],
     via: [b]}
"""


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_small_map_known_answers(small):
    """Answers worked out by hand from the drawing of SMALL (see the comments), then by the independent code."""
    r = mk.information_map(small)
    doc = yaml.safe_load(SMALL)
    used = set(r.information.loc[r.information["used"], "id"])
    # t4 has no link; every other type has a route (t3 through t1 which it feeds)
    assert used == {"t1", "t2", "t3", "t5", "t6"} == used_by_hand(doc)
    assert (r.n_collected, r.n_used, r.n_outside) == (6, 5, 1)
    assert list(r.voice_outside["id"]) == ["t4"]
    pr = r.priorities.set_index("id")
    # p2 is measured by t5 alone (national) and informed by t2; p1 measured by t1 (local)
    assert bool(pr.loc["p2", "measured_only_nationally"]) and not bool(pr.loc["p1", "measured_only_nationally"])
    assert pr.loc["p1", ["n_informs", "n_measures", "n_types"]].tolist() == [1, 1, 3]          # t6; t1; t1 t3 t6
    assert pr.loc["p1", "voices"] == "child; practitioner" and pr.loc["p2", "voices"] == "parent"
    # leaving a: t1 (a -> p1), t3 (feeds t1) and t2 (t2 -> a -> b) lose every route; leaving b cuts t6 only,
    # because t2 still reaches p1 through a, on the route t1 opened
    br = r.brokers.set_index("id")
    assert set(br.loc["a", "types_lost"].split("; ")) == {"t1", "t2", "t3"}
    assert br.loc["b", "types_lost"] == "t6" and br.loc["s", "n_types_lost"] == 0
    for actor in ("a", "b", "s"):
        expected = used_by_hand(doc) - used_by_hand(doc, removed=actor)
        assert set(filter(None, br.loc[actor, "types_lost"].split("; "))) == expected, actor
    # t2 (collected by b, held in s) and t4 are Org Y / Org X ... a carries t1, t2, t3, t6 from Org X and Org Y
    assert br.loc["a", "n_organisations"] == 2 and br.loc["a", "n_types_carried"] == 4
    nl = r.national_local.set_index("group")
    assert nl.loc["collected", ["n", "n_national"]].tolist() == [6, 2]
    assert nl.loc["used", ["n", "n_national"]].tolist() == [5, 2]
    assert nl.loc["links to priorities", ["n", "n_national"]].tolist() == [4, 2]
    assert nl.loc["outside", "share_national"] == 0.0


def test_betweenness_matches_counting_every_shortest_path(small):
    r = mk.information_map(small)
    doc = yaml.safe_load(SMALL)
    nodes = [p["id"] for p in doc["priorities"]] + [a["id"] for a in doc["actors"]] + [t["id"] for t in doc["information"]]
    by_hand = betweenness_by_hand(nodes, edges_of(doc))
    got = r.brokers.set_index("id")["betweenness"]
    for actor in ("a", "b", "s"):
        assert got[actor] == pytest.approx(by_hand[actor], abs=1e-12), actor
    assert by_hand["a"] > 0


def test_betweenness_on_a_chain_is_known(tmp_path):
    """c collects t, which goes through a to p: edges c->t, t->a, a->p. a lies on c->p and t->p: 2 of the
    (4-1)(4-2) = 6 ordered pairs, so 1/3."""
    path = tmp_path / "chain.yaml"
    path.write_text(textwrap.dedent("""\
        inventory: {title: chain}
        priorities: [{id: p, title: P}]
        actors: [{id: c, title: C}, {id: a, title: A}]
        information:
          - {id: t, title: T, collected_by: c, voice: none, level: aggregate, requirement: local, measures: [p], via: [a]}
        """), encoding="utf-8")
    br = mk.information_map(path).brokers.set_index("id")["betweenness"]
    assert br["a"] == pytest.approx(1 / 3) and br["c"] == 0


def test_gaps_with_a_framework_known_answer(small):
    """A stand-in framework (the attributes the gap finder reads): domain talk (parent items) with a scale
    indicator, domain staff (practitioner items) with an item indicator, and a routine indicator."""
    from types import SimpleNamespace as NS

    items = [NS(id="q1", domain="talk", respondents=["parent"]), NS(id="q2", domain="talk", respondents=["parent"]),
             NS(id="q3", domain="staff", respondents=["practitioner"])]
    fw = NS(name="Test framework", domains=[NS(id="talk", title="Talking"), NS(id="staff", title="Staff views")],
            items=items, item=lambda i: next(x for x in items if x.id == i),
            indicators=[NS(id="talk_low", title="Low talking", compute=NS(source="scale", field="voice_talk")),
                        NS(id="q3_share", title="Staff agree", compute=NS(source="item", field="q3")),
                        NS(id="gld", title="GLD", compute=NS(source="routine", field="gld"))])
    r = mk.information_map(small, framework=fw)
    # only t4 is unused; it carries parent and child voice: parents match talk_low (p1 names talk); nothing
    # in this framework is answered by children or matches t4 through staff items
    assert r.gaps[["information", "indicator", "priority", "voice"]].values.tolist() == [["t4", "talk_low", "p1", "parent"]]
    assert "First priority" in r.gaps.loc[0, "how"] and r.framework_name == "Test framework"
    fw.domains = fw.domains[1:]                 # p1 now names a domain the framework lacks
    r2 = mk.information_map(small, framework=fw)
    assert any("unknown_voice_domain" in w for w in r2.warnings)


def test_illustrative_inventory_gives_the_reports_headline_counts():
    r = mk.information_map(ILLUSTRATIVE)
    doc = yaml.safe_load(ILLUSTRATIVE.read_text(encoding="utf-8"))
    assert (r.n_collected, r.n_used, r.n_outside) == (41, 28, 13)
    assert len(doc["information"]) == 41 and len(used_by_hand(doc)) == 28
    assert set(r.information.loc[r.information["used"], "id"]) == used_by_hand(doc)
    assert len(doc["priorities"]) == 7 and r.inventory.illustrative
    titles = " ".join(r.information.loc[~r.information["used"], "title"]).lower()
    for kind in ("observation notes", "children's files", "staff audit tools", "children's voice", "wellcomm"):
        assert kind in titles, kind
    # national requirements over-represented among what is used, as the report found
    nl = r.national_local.set_index("group")["share_national"]
    assert nl["used"] > nl["collected"] > nl["outside"]
    assert r.findings[0].startswith("41 types of information are collected; 28 are used")


def test_illustrative_inventory_with_the_bundled_framework_finds_gaps(framework_dir):
    r = mk.information_map(ILLUSTRATIVE, framework=framework_dir)
    assert len(r.gaps) and set(r.gaps["information"]) <= set(r.voice_outside["id"])
    assert not r.warnings and (r.gaps["priority"] != "").all()


def test_mapping_source_names_no_bundled_framework():
    text = " ".join(p.read_text(encoding="utf-8").lower() for p in (ROOT / "src/measurekit/mapping").rglob("*")
                    if p.is_file() and p.suffix in (".py", ".j2"))
    for word in ("rochdale", "parent_voice_coverage", "sv4", "home_learning", "family_wellbeing"):
        assert word not in text, word


# ---------------------------------------------------------------------------------- malformed inventories
def line_of(text: str, marker: str) -> int:
    return next(k for k, line in enumerate(text.splitlines(), 1) if marker in line)


BAD = """\
inventory: {title: Broken map}
priorities:
  - {id: p1, title: One}
  - {id: p1, title: Again}                  # DUP
actors:
  - {id: a, title: A, kind: robot}          # ENUMKIND
information:
  - id: t1
    title: T1
    collected_by: a
    voice: [parent, granny]                 # ENUMVOICE
    level: individual
    requirement: national
    informs: [p1, nowhere]                  # UNKPRI
    feeds: [t2]
  - id: t2
    title: T2
    collected_by: ghost                     # UNKACTOR
    voice: none
    level: aggregate
    requirement: sometimes                  # ENUMREQ
    feeds: [t1, missing_type]               # UNKTYPE
  - id: t3                                  # MISSING
    title: T3
    collected_by: a
    voice: none
    via: [a, a]                             # VIACYCLE
    measures: [p1]
"""


def test_every_problem_of_a_malformed_inventory_with_its_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    report = mk.check_inventory(path)
    got = {(p.code, p.row) for p in report.errors}
    expected = {("duplicate_id", line_of(BAD, "# DUP")), ("unknown_code", line_of(BAD, "# ENUMKIND")),
                ("unknown_code", line_of(BAD, "# ENUMVOICE")), ("unknown_priority", line_of(BAD, "# UNKPRI")),
                ("unknown_actor", line_of(BAD, "# UNKACTOR")), ("unknown_code", line_of(BAD, "# ENUMREQ")),
                ("unknown_information", line_of(BAD, "# UNKTYPE")), ("missing_value", line_of(BAD, "# MISSING")),
                ("information_cycle", line_of(BAD, "# VIACYCLE")), ("information_cycle", line_of(BAD, "feeds: [t2]"))}
    assert expected <= got, expected - got
    # t3 lacks both level and requirement: two problems on its line
    assert sum(p.code == "missing_value" for p in report.errors) == 2
    assert all(p.file == "bad.yaml" and p.column and p.rule and p.code in CATALOGUE for p in report.errors)
    by_code = {p.code: p for p in report.errors}
    assert by_code["unknown_priority"].value == "nowhere" and by_code["unknown_actor"].value == "ghost"
    assert any(p.code == "information_cycle" and p.value == "t1 -> t2 -> t1" for p in report.errors)
    with pytest.raises(InputError) as info:
        mk.read_inventory(path)
    assert len(info.value.report.errors) == len(report.errors)
    assert path.read_text(encoding="utf-8") == BAD                     # never modified


@pytest.mark.parametrize("text, code, marker", [
    ("inventory: {title: x}\npriorities: [{id: p, title: P}\n", "yaml_syntax", None),
    ("- just\n- a list\n", "yaml_type", None),
    ("inventory: {title: x}\npriorities: []\ninformation: []\n", "missing_value", None),
    ("inventory: {title: x}\npriorities: [{id: 'p 1', title: P}]   # ID\ninformation: []\n", "invalid_field", "# ID"),
    ("inventory: {title: x}\npriorities:\n  - {id: p, title: P}\nactors: [{id: p, title: A}]   # CROSS\n"
     "information: []\n", "duplicate_id", "# CROSS"),
    ("inventory: {title: x}\npriorities: [{id: p, title: P}]\nactors: [{id: a, title: A}]\ninformation:\n"
     "  - {id: t, title: T, collected_by: a, voice: [none, parent], level: individual, requirement: local}  # NONE\n",
     "invalid_field", "# NONE"),
    ("inventory: {title: x}\npriorities: [{id: p, title: P}]\nactors: [{id: a, title: A}]\ninformation:\n"
     "  - {id: t, title: T, collected_by: a, voice: none, level: individual, requirement: local, feeds: [t]}  # SELF\n",
     "information_cycle", "# SELF"),
])
def test_each_malformed_case_is_reported_with_its_line(tmp_path, text, code, marker):
    path = tmp_path / "inv.yaml"
    path.write_text(text, encoding="utf-8")
    report = mk.check_inventory(path)
    hits = [p for p in report.errors if p.code == code]
    assert hits, report.to_text()
    if marker:
        assert hits[0].row == line_of(text, marker)
    if code == "yaml_syntax":
        assert hits[0].row is not None
    done = _cli("map", path, "--out", tmp_path / "out")
    assert done.returncode == 1 and code in done.stdout and "Traceback" not in done.stdout + done.stderr
    if hits[0].row is not None:
        assert f"row {hits[0].row}" in done.stdout


def test_unknown_keys_are_warnings_not_errors(tmp_path):
    path = tmp_path / "inv.yaml"
    path.write_text(SMALL.replace("inventory: {title: Small test map}", "inventory: {title: Small, colour: red}")
                    + "extras: 1\n", encoding="utf-8")
    report = mk.check_inventory(path)
    assert report.ok and {p.code for p in report.warnings} == {"unknown_spec_key"} and len(report.warnings) == 2
    assert mk.read_inventory(path).title == "Small"


def _cli(*args) -> CliResult:
    return run_cli(*args, timeout=120, cwd=ROOT)


def test_cli_reports_a_malformed_inventory_without_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    out = tmp_path / "out"
    done = _cli("map", path, "--out", out)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "unknown_priority" in done.stdout and f"row {line_of(BAD, '# UNKPRI')}" in done.stdout
    assert not out.exists()
    missing = _cli("map", tmp_path / "nope.yaml", "--out", out)
    assert missing.returncode == 1 and "Traceback" not in missing.stdout + missing.stderr


def test_cli_writes_the_map_and_refuses_an_output_folder_holding_the_inventory(tmp_path, small):
    before = small.read_bytes()
    refused = _cli("map", small, "--out", small.parent)
    assert refused.returncode == 1 and "output_overlaps_input" in refused.stderr and "Traceback" not in refused.stderr
    inside = _cli("map", small, "--out", small.parent / "sub")      # beside the inventory is fine ...
    assert inside.returncode == 0, inside.stderr
    assert _cli("map", small, "--out", small).returncode == 1        # ... the inventory itself is not
    assert small.read_bytes() == before
    out = tmp_path / "map_out"
    done = _cli("map", small, "--out", out)
    assert done.returncode == 0, done.stderr
    from measurekit.mapping.writing import FILES

    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(FILES)
    again = _cli("map", small, "--out", out)                           # a re-run replaces its own output
    assert again.returncode == 0, again.stderr
    page = (out / "information_map.html").read_text(encoding="utf-8")
    assert "<svg" in page and "T four" in page and "<script" not in page
    assert small.read_bytes() == before


def test_page_escapes_inventory_text(tmp_path):
    path = tmp_path / "inv.yaml"
    path.write_text(SMALL.replace("title: T four", "title: \"<script>alert(1)</script> & co\""), encoding="utf-8")
    r = mk.information_map(path)
    page, svg = r.html(), r.svg()
    assert "<script>" not in page and "&lt;script&gt;" in page and "<script>" not in svg


# ---------------------------------------------------------------------------------- in a browser
@pytest.fixture(scope="module")
def map_page(tmp_path_factory, framework_dir_module):
    out = tmp_path_factory.mktemp("map") / "out"
    r = mk.information_map(ILLUSTRATIVE, framework=framework_dir_module)
    mk.write_information_map(r, out)
    return out / "information_map.html"


@pytest.fixture(scope="module")
def bare_page(tmp_path_factory):
    """A map with nothing used, no broker and no gaps: the empty branches of the page."""
    folder = tmp_path_factory.mktemp("bare")
    (folder / "inv.yaml").write_text(textwrap.dedent("""\
        inventory: {title: Nothing reaches the board}
        priorities: [{id: p, title: Only priority}]
        actors: [{id: a, title: Lone team}]
        information:
          - {id: t, title: Lone notes, collected_by: a, voice: child, level: individual, requirement: local}
        """), encoding="utf-8")
    mk.write_information_map(mk.information_map(folder / "inv.yaml"), folder / "out")
    return folder / "out" / "information_map.html"


@pytest.fixture(scope="module")
def framework_dir_module():
    from measurekit.core.paths import demo_framework

    return demo_framework()


@pytest.fixture(scope="module")
def browser(chromium_path):
    from pagecheck import launch
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p, chromium_path)
        yield b
        b.close()


@pytest.mark.browser
@pytest.mark.parametrize("which", ["map_page", "bare_page"])
def test_map_page_passes_axe_offline(which, request, browser):
    from pagecheck import serious_axe_violations

    map_page = request.getfixturevalue(which)
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.goto(map_page.resolve().as_uri())
    bad = serious_axe_violations(page)
    svgs = page.eval_on_selector_all("svg[role=img]", "els => els.map(e => [e.getBoundingClientRect().width, "
                                     "e.getAttribute('aria-label') || '', e.querySelector('title') ? 1 : 0])")
    lang = page.get_attribute("html", "lang")
    page.close()
    assert bad == [] and errors == [] and requests == [] and lang == "en"
    assert len(svgs) == 1 and svgs[0][0] > 300 and len(svgs[0][1]) > 100 and svgs[0][2] == 1, svgs


@pytest.mark.browser
def test_map_page_prints_on_a4_with_the_map_on_one_page(map_page, browser, tmp_path):
    from pypdf import PdfReader
    from test_board_browser import MARK_FIGURES

    page = browser.new_page()
    page.goto(map_page.resolve().as_uri())
    n = page.evaluate(MARK_FIGURES)
    pdf = tmp_path / "map.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    page.close()
    reader = PdfReader(str(pdf))
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 2 and abs(float(box.height) - 841.9) < 2
    texts = [p.extract_text().replace(" ", "") for p in reader.pages]
    assert n == 1
    top = [i for i, t in enumerate(texts) if "chart0topmark" in t]
    end = [i for i, t in enumerate(texts) if "chart0endmark" in t]
    assert len(top) == 1 and top == end, (top, end)


def test_svg_is_well_formed_named_and_sets_the_unused_apart():
    import xml.etree.ElementTree as ET

    r = mk.information_map(ILLUSTRATIVE)
    root = ET.fromstring(r.svg())
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img" and "41 types" in root.get("aria-label")
    assert float(root.get("width")) <= 700                 # 7 inches: within A4's printable width
    desc = root.find(f"{ns}desc").text
    outside = desc.split("Reaching no priority: ")[1]
    for title in r.information.loc[~r.information["used"], "title"]:
        assert title in outside, title
    for title in r.information.loc[r.information["used"], "title"]:
        assert title not in outside and title in desc, title
    # one marker per type (41) plus the four in the key: circles are national, squares local
    shapes = root.find(f"{ns}g")
    circles = len(shapes.findall(f"{ns}circle"))
    squares = [e for e in shapes.findall(f"{ns}rect") if e.get("width") == "8"]
    n_national = int((r.information["requirement"] == "national").sum())
    assert circles == n_national + 2 and len(squares) == 41 - n_national + 2
    dashed = [e for e in shapes.findall(f"{ns}rect") if e.get("stroke-dasharray")]
    assert len(dashed) == 1                                  # the box of what reaches no priority


def test_routes_are_shortest_paths_to_a_priority(small):
    r = mk.information_map(small)
    doc = yaml.safe_load(SMALL)
    edges = set(edges_of(doc))
    pids = {p["id"] for p in doc["priorities"]}

    def distance(start):                        # breadth-first, on the edge list read from the YAML
        seen, frontier, d = {start}, [start], 0
        while frontier:
            if any(n in pids for n in frontier):
                return d
            frontier = [v for u in frontier for (a, v) in edges if a == u and v not in seen and not seen.add(v)]
            d += 1
        return None

    for row in r.information.itertuples():
        hops = row.route.split(" > ") if row.route else []
        if not row.used:
            assert hops == [] and distance(row.id) is None
            continue
        assert hops[0] == row.id and hops[-1] in pids and all(e in edges for e in zip(hops[:-1], hops[1:]))
        assert len(hops) - 1 == distance(row.id), row.id


def test_page_speaks_in_titles_not_inventory_ids(framework_dir):
    """People read titles: no id of a priority, actor or type (nor a framework indicator or domain id) is printed."""
    r = mk.information_map(ILLUSTRATIVE, framework=framework_dir)
    page = r.html()
    doc = yaml.safe_load(ILLUSTRATIVE.read_text(encoding="utf-8"))
    ids = [x["id"] for s in ("priorities", "actors", "information") for x in doc[s]]
    ids += list(r.gaps["indicator"]) + list(r.gaps["domain"])
    assert len(r.gaps) and [i for i in set(ids) if "_" in i and i in page] == []
    for title in list(r.priorities["title"]) + list(r.gaps["indicator_title"]):
        assert title.replace("'", "&#39;") in page, title


def test_the_template_inventory_reads_and_maps():
    r = mk.information_map(ROOT / "data" / "information_map" / "template_inventory.yaml")
    assert (r.n_collected, r.n_used, r.n_outside) == (2, 1, 1) and list(r.voice_outside["id"]) == ["family_feedback"]
