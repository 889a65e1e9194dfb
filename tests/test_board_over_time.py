"""The board pack over several periods (issue 27, publish/over_time_pack.py).

One five-year synthetic cohort (``synth.over_time.make_periods``: planted trends per area, an FSM gap that narrows in
one area and widens in another) is packed once by ``measurekit board-pack`` on its multi-period folder. The tests
read the pack's files: every period in the board table, the EES file passing check-ees with several time_periods, the
workbook carrying every period, the planted trends in the trend words, no withheld count recoverable (the independent
intruder of tests/test_disclosure_attack.py on every period together, and an attacker of the over-time figures
written here from the files alone), and no target text for a framework without targets.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

YEARS = "2021/22-2025/26"
LABELS = ["2021/22", "2022/23", "2023/24", "2024/25", "2025/26"]
N = 1500


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from measurekit.synth.over_time import make_periods, write_periods

    folder = tmp_path_factory.mktemp("over_time_data") / "data"
    write_periods(make_periods(YEARS, n=N, random_state=7), folder)
    return folder


@pytest.fixture(scope="module")
def packed(data_dir, framework_dir, tmp_path_factory):
    """``measurekit board-pack`` on the multi-period folder (the command line, as an analyst runs it), and what the
    command built on its way: the periods it read and the board table (every period, disclosure applied, true
    counts kept), caught as ``build_board_table_over_time`` returns them, so the tests of the objects read the very
    table the files were written from instead of protecting all five periods a second time (7 s of CPU)."""
    from measurekit.cli import main
    from measurekit.publish import over_time_pack

    made = []
    real = over_time_pack.build_board_table_over_time

    def spy(periods, **kw):
        board = real(periods, **kw)
        made.append((periods, board))
        return board

    out = tmp_path_factory.mktemp("over_time_pack") / "pack"
    with pytest.MonkeyPatch.context() as m:
        m.setattr(over_time_pack, "build_board_table_over_time", spy)
        assert main(["board-pack", "--framework", str(framework_dir), "--data", str(data_dir), "--out", str(out)]) == 0
    assert len(made) == 1          # one board table for the whole pack
    return out, made[0]


@pytest.fixture(scope="module")
def pack(packed):
    return packed[0]


@pytest.fixture(scope="module")
def built(packed, framework_dir):
    """The board table and over-time results as objects (true counts kept for the attackers' judge): the command's
    own board table and periods; the over-time figures worked out here."""
    from measurekit.design import load_framework
    from measurekit.publish.over_time_pack import over_time_published

    _, (periods, board) = packed
    fw = load_framework(framework_dir)
    assert fw.model_dump() == board.framework.model_dump()       # the command read the same framework
    return fw, periods, board, over_time_published(board, periods, repetitions=2000)


def _board(pack) -> pd.DataFrame:
    return pd.read_csv(pack / "board_table.csv", dtype={"geography_code": str, "breakdown_value": str, "period": str},
                       keep_default_na=False, na_values={"numerator": [""], "denominator": [""], "value": [""]})


def test_every_period_is_in_the_board_table(pack, framework_dir):
    from measurekit.design import load_framework

    fw = load_framework(framework_dir)
    t = _board(pack)
    assert sorted(t["period"].unique()) == LABELS
    # each period: every indicator's LA row and its areas, the same row set every year
    sizes = t.groupby("period").size()
    for p in LABELS:
        rows = t[t["period"] == p]
        assert set(rows.loc[rows["geography_type"] == "la", "indicator_id"]) == {i.id for i in fw.indicators}
        assert rows["geography_type"].eq("neighbourhood").sum() > 0
    assert sizes.max() - sizes.min() <= 0.05 * sizes.max()
    package = json.loads((pack / "datapackage.json").read_text())
    assert package["periods"] == LABELS
    listed = {r["path"] for r in package["resources"]}
    assert {"board_table.csv", "over_time/trend.csv", "over_time/change.csv", "over_time/target.csv"} <= listed
    for r in package["resources"]:     # every listed file exists and its schema names its columns
        cols = list(pd.read_csv(pack / r["path"], nrows=0).columns)
        assert [f["name"] for f in r["schema"]["fields"]] == cols, r["path"]
    # the LA's row for a period is that period's children only: its denominator of GLD is about N children
    gld_la = t[(t["indicator_id"] == "gld") & (t["geography_type"] == "la") & (t["breakdown"] == "all")]
    assert len(gld_la) == 5 and (gld_la["denominator"] <= N).all() and (gld_la["denominator"] > 0.8 * N).all()


def test_ees_file_passes_check_ees_with_every_time_period(pack):
    from measurekit.publish.ees_check import check_ees

    data = next(p for p in pack.glob("*.csv") if p.name != "board_table.csv" and not p.name.endswith(".meta.csv"))
    report = check_ees(data)
    assert report.ok, report.to_text()
    periods = pd.read_csv(data, dtype={"time_period": str})["time_period"].unique()
    assert sorted(periods) == ["202122", "202223", "202324", "202425", "202526"]


def test_workbook_carries_every_period(pack):
    import openpyxl

    wb = openpyxl.load_workbook(pack / "board_pack.xlsx", read_only=True)
    over = wb["Over time"]
    rows = list(over.iter_rows(values_only=True))
    trend = pd.read_csv(pack / "over_time" / "trend.csv")
    assert [r[2] for r in rows[4:4 + len(trend)]] == trend["marker"].tolist()     # the trend words, in order
    sheets = [ws for ws in wb.worksheets if ws.title.lower() not in ("readme", "symbols", "indicators", "over time")]
    assert sheets
    for ws in sheets:
        rows = list(ws.iter_rows(values_only=True))
        header = rows[3]
        assert header[0] == "Period"
        assert {r[0] for r in rows[4:] if r and r[0]} == set(LABELS), ws.title


def test_planted_trends_and_gaps_show_in_the_words(pack, data_dir):
    truth = json.loads((data_dir / "ground_truth.json").read_text())["expected"]
    trend = pd.read_csv(pack / "over_time" / "trend.csv")
    gld = trend[(trend["indicator_id"] == "gld") & (trend["geography_type"] == "neighbourhood")]
    words = dict(zip(gld["geography_name"], gld["marker"].str.lower()))
    expect = {"increasing": "increasing and getting better", "decreasing": "decreasing and getting worse",
              "no change": "no significant change"}
    for area, planted in truth["gld_trend"].items():
        assert words[area] == expect[planted], (area, words[area])
    gap = pd.read_csv(pack / "over_time" / "gap_trend.csv")
    g = gap[(gap["indicator_id"] == "gld") & (gap["geography_type"] == "neighbourhood")]
    direction = dict(zip(g["geography_name"], g["direction"]))
    for area, planted in truth["fsm_gap"].items():
        assert direction[area] == planted, (area, direction[area])


def test_one_audit_covers_every_period(built):
    fw, periods, board, over = built
    audit = board.audit
    assert audit.passed
    withheld = set(np.flatnonzero(board.rows["suppressed"].astype(bool).to_numpy()).tolist())
    audited = set(audit.table.loc[~audit.table.get("published", pd.Series(False, index=audit.table.index))
                                  .astype(bool), "row"].astype(int))
    assert withheld and withheld == audited
    assert {board.rows.at[r, "period"] for r in withheld} == set(LABELS)


def test_independent_intruder_recovers_nothing_across_periods(pack, built):
    """tests/test_disclosure_attack.py's intruder (written without measurekit's disclosure code) reads every file of
    the pack (board table, EES file, workbook) with all five periods in one problem."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_disclosure_attack import attack, judge

    fw, periods, board, over = built
    pub = _board(pack)
    truth = board.disclosure.counts.reset_index(drop=True)
    key = ["indicator_id", "period", "geography_type", "geography_code", "breakdown", "breakdown_value"]
    # the pack on disk was built by the command line from the same data: the same rows in the same order
    assert pub[key].astype(str).equals(truth[key].astype(str))
    v = judge(attack([pack / "board_table.csv"]), [truth])
    assert v["withheld_counts"] > 0
    assert v["exact"] == 0 and v["small_narrowed"] == 0, v


def _over_time_attack(board_rows: pd.DataFrame, files: dict[str, pd.DataFrame]) -> list[dict]:
    """An attacker of the over-time figures, from the files alone: each figure gives a value for a cell of the board
    table (indicator, geography, period, group); a figure that gives a value for a WITHHELD cell is a candidate
    recovery. Written from the column meanings in the docs, not from over_time_pack's code."""
    cands = []

    def add(ind, geo, code, period, bd, val, value, how):
        cands.append({"indicator_id": ind, "geography_type": geo, "geography_code": str(code), "period": str(period),
                      "breakdown": bd, "breakdown_value": val, "candidate": float(value), "how": how})

    for r in files.get("series", pd.DataFrame()).to_dict("records"):
        add(r["indicator_id"], r["geography_type"], r["geography_code"], r["period"], "all", "all", r["value"],
            "series")
    for r in files.get("change", pd.DataFrame()).to_dict("records"):
        a = (r["indicator_id"], r["geography_type"], r["geography_code"])
        add(*a, r["period"], "all", "all", r["value"], "change value")
        add(*a, r["previous_period"], "all", "all", r["previous_value"], "change previous")
        add(*a, r["period"], "all", "all", r["previous_value"] + r["change"], "previous + change")
        add(*a, r["previous_period"], "all", "all", r["value"] - r["change"], "value - change")
    for r in files.get("target", pd.DataFrame()).to_dict("records"):
        a = (r["indicator_id"], r["geography_type"], r["geography_code"], r["current_period"], "all", "all")
        add(*a, r["current_value"], "target current")
        add(*a, r["target_value"] - r["gap_pp"], "target - gap")
    for r in files.get("gap", pd.DataFrame()).to_dict("records"):
        a = (r["indicator_id"], r["geography_type"], r["geography_code"], r["period"], "fsm")
        add(*a, "1", r["value_a"], "gap a")
        add(*a, "0", r["value_b"], "gap b")
        add(*a, "1", r["value_b"] + r["gap"], "b + gap")
        add(*a, "0", r["value_a"] - r["gap"], "a - gap")
    c = pd.DataFrame(cands)
    if not len(c):
        return []
    b = board_rows.assign(geography_code=board_rows["geography_code"].astype(str),
                          breakdown_value=board_rows["breakdown_value"].astype(str))
    m = c.merge(b, on=["indicator_id", "geography_type", "geography_code", "period", "breakdown", "breakdown_value"],
                how="left", indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"].head()   # every figure names a board cell
    return m[m["symbol"].eq("c")].to_dict("records")


def _true_percent(counts: pd.DataFrame, r: dict) -> float:
    k = counts[(counts["indicator_id"] == r["indicator_id"]) & (counts["geography_type"] == r["geography_type"])
               & (counts["geography_code"].astype(str) == r["geography_code"]) & (counts["period"] == r["period"])
               & (counts["breakdown"] == r["breakdown"]) & (counts["breakdown_value"].astype(str)
                                                             == r["breakdown_value"])].iloc[0]
    return 100 * float(k["numerator"]) / float(k["denominator"])


def _over_files(over) -> dict:
    return {k: getattr(over, k) for k in ("series", "change", "target", "gap")}


def test_over_time_figures_never_touch_a_withheld_cell_in_the_pack(pack, built):
    files = {k: pd.read_csv(pack / "over_time" / f"{k}.csv", dtype={"geography_code": str, "period": str,
                                                                     "previous_period": str, "current_period": str})
             for k in ("series", "change", "target", "gap") if (pack / "over_time" / f"{k}.csv").exists()}
    assert {"series", "change", "gap"} <= set(files)
    hits = _over_time_attack(_board(pack), files)
    assert hits == []
    # not vacuous: FSM rows of some indicator, area and year are withheld, and gap figures are printed for others
    b = _board(pack)
    assert (b["breakdown"].eq("fsm") & b["symbol"].eq("c")).any() and len(files["gap"]) > 0


def test_change_from_previous_with_one_period_withheld_does_not_reveal_it(built):
    """Withhold one area's headline row in the middle year (as disclosure control would for a small area) and
    recompute: the change figures skip that year, and the attacker finds no figure for the withheld cell; a
    naive change (the true counts) would have given it back exactly."""
    from measurekit.publish.over_time_pack import over_time_published

    fw, periods, board, over = built
    rows = board.rows.copy()
    pick = rows.index[(rows["indicator_id"] == "gld") & (rows["geography_type"] == "neighbourhood")
                      & (rows["breakdown"] == "all") & (rows["period"] == "2023/24")][0]
    true_value = float(rows.at[pick, "value"])
    code = str(rows.at[pick, "geography_code"])
    rows.loc[pick, ["numerator", "denominator", "value", "ci_low", "ci_high", "comparator"]] = np.nan
    rows.loc[pick, ["symbol", "suppressed"]] = ["c", True]
    withheld = dataclasses.replace(board, rows=rows)
    o = over_time_published(withheld, None)
    assert _over_time_attack(rows, _over_files(o)) == []
    ch = o.change[(o.change["indicator_id"] == "gld") & (o.change["geography_code"].astype(str) == code)]
    assert "2023/24" not in set(ch["period"]) | set(ch["previous_period"])
    assert ((ch["period"] == "2024/25") & (ch["previous_period"] == "2022/23")).any()
    # nothing printed equals the withheld value, however combined from this area's change rows
    derived = np.concatenate([ch["value"], ch["previous_value"], ch["previous_value"] + ch["change"],
                              ch["value"] - ch["change"]])
    assert not np.any(np.abs(derived - true_value) < 0.05)
    tr = o.trend[(o.trend["indicator_id"] == "gld") & (o.trend["geography_code"].astype(str) == code)].iloc[0]
    assert int(tr["points"]) == 4
    # the attacker is not blind: run on the unprotected over-time figures it does find the cell
    naive = over_time_published(board, None)
    found = _over_time_attack(rows, _over_files(naive))
    assert any(abs(h["candidate"] - _true_percent(board.disclosure.counts, h)) < 0.05 for h in found)


def test_framework_without_targets_gets_no_target_text(built, framework_dir, tmp_path):
    import yaml

    from measurekit.design import load_framework
    from measurekit.publish.over_time_pack import briefing_section, over_time_published

    fw, periods, board, over = built
    assert len(over.target) > 0      # the bundled framework declares GLD 75% by 2028
    folder = tmp_path / "fw"
    shutil.copytree(framework_dir, folder)
    spec = yaml.safe_load((folder / "framework.yaml").read_text(encoding="utf-8"))
    spec.pop("targets", None)
    (folder / "framework.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    fw2 = load_framework(folder)
    assert not fw2.targets
    b2 = dataclasses.replace(board, framework=fw2)
    o2 = over_time_published(b2, None)
    assert len(o2.target) == 0
    code = b2.area_codes()[0]
    sec = briefing_section(o2, b2, code)
    text = " ".join(" ".join(i["text"]) + " " + i["caption"] + " " + str(i["svg"]) for i in sec["items"])
    assert "target" not in text.lower() and "on track" not in text.lower()
    sec1 = briefing_section(over, board, code)
    assert "target" in " ".join(i["caption"] for i in sec1["items"]).lower()


def test_briefings_show_each_series_as_small_multiples(pack, built):
    fw, periods, board, over = built
    pages = sorted((pack / "briefing").glob("*.html"))
    assert len(pages) == len(board.area_codes())
    for page in pages:
        html = page.read_text(encoding="utf-8")
        i = html.index("<h2>Over time</h2>")
        section = html[i:html.index("<h2>", i + 5)]
        assert section.count("<svg") >= 1      # a chart per headline indicator (GLD), one line per other indicator
        assert "Trend:" in section and "target 75% by 2028" in section and "on track" in section.lower()
        assert section.count("<li>") >= len(fw.indicators) - section.count("<svg") - 1
        assert "slope index of inequality" in section
    # the cards and funnels describe the latest period
    assert "2025/26" in pages[0].read_text(encoding="utf-8").split("<main>")[0]


def test_sii_has_its_own_small_count_rule(built):
    fw, periods, board, over = built
    ineq = over.inequality
    assert len(ineq) and set(ineq["period"]) <= set(LABELS)
    assert (ineq["sii_lower"] <= ineq["sii"]).all() and (ineq["sii"] <= ineq["sii_upper"]).all()
    # withheld when a quintile is too small: rerun with a framework rule that makes every quintile "small"
    from measurekit.publish.over_time_pack import _sii_table

    warnings: list = []
    big = dataclasses.replace(board, framework=fw.model_copy(update={"indicators": [
        ind.model_copy(update={"disclosure": ind.disclosure.model_copy(update={"suppress_max": 10 ** 6})})
        for ind in fw.indicators]}))
    assert len(_sii_table(big, periods, "idaci_decile", 200, 1, warnings)) == 0
    assert any("withheld" in w for w in warnings)


@pytest.mark.browser
def test_over_time_briefings_pass_the_browser_checks(pack, chromium_path, tmp_path):
    """The checks of the one-period pages (tests/pagecheck.py, as tests/test_board_browser.py): offline, no console
    error, html lang en, charts decoded with alt text, axe-core with no serious or critical WCAG violation, no raw
    code in the visible text; printed to A4 on at most three pages (a one-period briefing
    takes two; the over-time section adds one)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from pagecheck import Tab, launch
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    problems = []
    with sync_playwright() as p:
        browser = launch(p, chromium_path)
        checked, printed = Tab(browser), Tab(browser, viewport=None)     # the checks; the print (a clean load)
        for path in sorted((pack / "briefing").glob("*.html")):
            problems += checked.problems(path, codes=True)
            pdf = tmp_path / f"{path.stem}.pdf"
            printed.open(path).pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
            if len(PdfReader(pdf).pages) > 3:
                problems.append((path.name, "more than three A4 pages"))
        browser.close()
    assert problems == []


def test_three_period_pack_with_the_release_ledger(framework_dir, tmp_path, capsys):
    """A three-year folder packed twice with --ledger: the multi-period pack is recorded in the ledger, and the second
    pack is audited with the first (its README names it); every period is in both. 3,000 children a year (seed 51,
    no other test's): what the ledger does does not depend on the cohort's size, and with fewer small counts protecting
    each period costs less (the test: 8.3 CPU s with 500 a year, seed 3, about 7 with 3,000)."""
    from measurekit.cli import main
    from measurekit.synth.over_time import make_periods, write_periods

    data = tmp_path / "data"
    write_periods(make_periods("2022/23-2024/25", n=3000, random_state=51, truth=False), data)
    ledger = tmp_path / "ledger"
    for k in (1, 2):
        out = tmp_path / f"pack{k}"
        assert main(["board-pack", "--framework", str(framework_dir), "--data", str(data), "--out", str(out),
                     "--ledger", str(ledger)]) == 0
        assert sorted(_board(out)["period"].unique()) == ["2022/23", "2023/24", "2024/25"]
    assert len(list((ledger / "releases").iterdir())) == 2
    readme = (tmp_path / "pack2" / "README.txt").read_text(encoding="utf-8")
    assert "audited together with 'board pack 2022/23, 2023/24, 2024/25'" in readme
    # the first pack's README says no earlier release was in the ledger
    assert "holds no earlier release" in (tmp_path / "pack1" / "README.txt").read_text(encoding="utf-8")
    # --period with a multi-period folder is refused with its code and the row/column/value/rule, not a traceback
    code = main(["board-pack", "--framework", str(framework_dir), "--data", str(data), "--out", str(tmp_path / "p3"),
                 "--period", "2024/25"])
    err = capsys.readouterr().err
    assert code != 0 and "period_option_multi at --period" in err and not (tmp_path / "p3").exists()
