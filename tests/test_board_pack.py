"""Board table, intervals, disclosure control and its independent checker, and the published pack."""
import json
import re
import shutil
from pathlib import Path
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

import measurekit as mk
from measurekit.stats import intervals
from measurekit.publish.disclosure import apply_disclosure_control
from measurekit.publish.disclosure_audit import check_disclosure
from measurekit.design import load_framework

from conftest import FRAMEWORK_DIR


@pytest.fixture(scope="module")
def fw(framework_dir):
    return load_framework(framework_dir)


@pytest.fixture(scope="module")
def table(bundled_boards):
    """``mk.board_table(cohort, framework=fw)``: the rows of the session's shared board table (conftest
    ``bundled_boards``, built by ``build_board_table`` from the same cohort and framework)."""
    return bundled_boards.board.rows


def test_wilson_and_t_intervals_match_published_worked_values():
    # R: prop.test(5, 10, correct = FALSE)$conf.int -> 0.2365931 0.7634069; prop.test(0, 20, correct=FALSE) -> 0 0.1611252
    lo, hi = intervals.wilson([5, 0, 81], [10, 20, 263])
    np.testing.assert_allclose(lo[:2], [0.2365931, 0.0], atol=1e-7)
    np.testing.assert_allclose(hi[:2], [0.7634069, 0.1611252], atol=1e-7)
    assert lo[2] < 81 / 263 < hi[2]
    # R: t.test(c(1,2,3,4,5))$conf.int -> 1.036757 4.963243
    lo, hi = intervals.t_interval(3.0, np.std([1, 2, 3, 4, 5], ddof=1), 5)
    assert (float(lo), float(hi)) == pytest.approx((1.036757, 4.963243), abs=1e-6)
    # funnel limits at 95% and 99.8% around 60% for n = 100: 60 +- 1.96 * 4.899 and 60 +- 3.09 * 4.899
    lo95, hi95 = intervals.funnel_limits_proportion(0.6, 100, 0.95)
    lo998, _ = intervals.funnel_limits_proportion(0.6, 100, 0.998)
    assert float(lo95) == pytest.approx(0.6 - 1.959964 * np.sqrt(0.24 / 100), abs=1e-6)
    assert float(lo998) == pytest.approx(0.6 - 3.090232 * np.sqrt(0.24 / 100), abs=1e-6)


def test_board_table_contract_and_numbers(table, cohort):
    from measurekit.publish.board_table import COLUMNS

    assert list(table.columns) == COLUMNS
    f = cohort.analysis_frame()
    la = table[(table.indicator_id == "gld") & (table.geography_type == "la") & (table.breakdown == "all")].iloc[0]
    assert la["numerator"] == f["gld"].sum() and la["denominator"] == len(f)
    # published values are rounded half away from zero to the indicator's decimal places (1 for gld)
    expected = Decimal(repr(float(100 * f["gld"].mean()))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert la["value"] == float(expected)
    nb = table[(table.indicator_id == "gld") & (table.geography_type == "neighbourhood") & (table.breakdown == "all")]
    codes = set(cohort.tables["small_areas"]["neighbourhood_code"])
    assert set(nb["geography_code"]) == codes                         # codes pass through from the lookup
    pen = nb.set_index("geography_name").loc["Pennines"]
    assert pen["significance_95"] == "higher" and pen["comparator"] == pytest.approx(la["value"])
    shown = table[~table.suppressed & table["value"].notna()]
    assert (shown["ci_low"] <= shown["value"] + 1e-9).all() and (shown["value"] <= shown["ci_high"] + 1e-9).all()
    mean_rows = table[table.indicator_id == "services_experience"]
    assert set(mean_rows["ci_method"].dropna()) == {"t"}


def test_published_table_passes_the_audit(table, fw, bundled_boards):
    assert table["suppressed"].any()
    assert check_disclosure(table, fw, _table_without_sdc(bundled_boards)) == []


def test_checker_catches_primary_suppression_only(fw, bundled_boards):
    from measurekit.publish.disclosure import primary_mask

    clear = _table_without_sdc(bundled_boards)
    primary_only = clear.copy()
    m = primary_mask(primary_only, fw)
    primary_only.loc[m, ["numerator", "denominator", "value", "ci_low", "ci_high"]] = np.nan
    primary_only["suppressed"] = m
    problems = check_disclosure(primary_only, fw, clear)
    assert any("can be narrowed" in p for p in problems)
    assert check_disclosure(clear, fw)                                # no suppression at all: small counts in the clear


def test_public_table_says_only_c(table):
    sup = table[table["suppressed"]]
    assert (sup["symbol"] == "c").all() and (sup["note"].fillna("") == "").all()
    assert sup[["numerator", "denominator", "value", "ci_low", "ci_high"]].isna().all().all()
    # the comparator repeats the published borough value, so it is blank where that value is suppressed
    la = table[table.geography_type == "la"].set_index(["indicator_id", "breakdown", "breakdown_value"])
    hidden_la = la.index[la["suppressed"]]
    rows = table.set_index(["indicator_id", "breakdown", "breakdown_value"])
    assert len(hidden_la) and rows.loc[rows.index.isin(hidden_la), "comparator"].isna().all()
    text = table.astype(str).to_csv()
    assert "primary" not in text and "secondary" not in text and "small count" not in text


def _table_without_sdc(bundled_boards):
    """``mk.board_table(cohort, framework=fw, disclosure=False)``: the shared table's true counts (conftest
    ``bundled_boards``; callers copy before changing it)."""
    return bundled_boards.raw.rows


def _toy_framework(fw):
    f = fw.model_copy(deep=True)
    f.indicators = [i for i in f.indicators if i.id == "gld"]
    return f


def _toy_table(rows):
    """rows: (geography_type, code, breakdown, value, numerator, denominator)."""
    t = pd.DataFrame(rows, columns=["geography_type", "geography_code", "breakdown", "breakdown_value", "numerator", "denominator"])
    t["indicator_id"], t["period"], t["geography_name"] = "gld", "p", t["geography_code"]
    for c in ("value", "ci_low", "ci_high"):
        t[c] = t["numerator"] / t["denominator"] * 100
    t["ci_method"], t["significance_95"], t["significance_998"], t["symbol"], t["note"], t["suppressed"] = "wilson", "", "", "", "", False
    return t


def test_secondary_suppression_traps(fw):
    f = _toy_framework(fw)
    rows = [("la", "LA", "all", "all", 60, 100), ("la", "LA", "fsm", "0", 57, 80), ("la", "LA", "fsm", "1", 3, 20),
            ("neighbourhood", "N1", "all", "all", 30, 50), ("neighbourhood", "N2", "all", "all", 30, 50),
            ("neighbourhood", "N1", "fsm", "0", 27, 40), ("neighbourhood", "N1", "fsm", "1", 3, 10),
            ("neighbourhood", "N2", "fsm", "0", 30, 40), ("neighbourhood", "N2", "fsm", "1", 0, 10)]
    out = apply_disclosure_control(_toy_table(rows), f)
    s = dict(zip(zip(out.geography_code, out.breakdown, out.breakdown_value), out.suppressed))
    # primary: counts of 3 (and complements); secondary: the other FSM group of N1, so 30 - 27 does not give it away
    assert s[("N1", "fsm", "1")] and s[("LA", "fsm", "1")]
    assert s[("N1", "fsm", "0")] or s[("N1", "all", "all")]
    # the trap: N1 fsm=1 and LA fsm=1 both hidden, N2 fsm=1 published, so LA - N2 would pin N1
    # unless more cells are hidden; the audit solves every such system
    assert check_disclosure(out, f, _toy_table(rows)) == []
    assert out["suppressed"].sum() >= 4


def test_rounding_to_five(fw, cohort):
    f = fw.model_copy(deep=True)
    for ind in f.indicators:
        ind.disclosure.round_to = 5
    t = mk.board_table(cohort, framework=f)
    shown = t.dropna(subset=["numerator"])
    prop = shown[shown["ci_method"] == "wilson"]
    assert (prop["numerator"] % 5 == 0).all() and (shown["denominator"] % 5 == 0).all()
    # percentages come from the rounded counts, so they give the exact counts no way back
    # (published values are rounded to the indicator's decimal places: within half a unit of the last place)
    half = 0.5 * 10.0 ** -shown["indicator_id"].map({i.id: i.decimal_places for i in f.indicators})
    den = prop["denominator"].astype(float)
    assert ((prop["value"] - 100 * prop["numerator"] / den).abs() <= half[prop.index] + 1e-9).all()
    # a mean score publishes no numerator (a sum of scores is no count), only its rounded number of children
    means = t[(t["ci_method"] != "wilson") & t["denominator"].notna()]
    assert len(means) and means["numerator"].isna().all() and (means["denominator"] % 5 == 0).all()
    # and the audit, knowing counts lie within 2 of the rounded ones, passes
    assert check_disclosure(t, f, mk.board_table(cohort, framework=f, disclosure=False)) == []


def test_join_board_data_long_and_wide(table):
    nb = table[(table.geography_type == "neighbourhood") & (table.breakdown == "all")]
    other_wide = pd.DataFrame({"geography_code": nb["geography_code"].unique(), "housing_pressure": [1, 2, 3, 4, 5]})
    joined = mk.join_board_data(table, other_wide, wide=True)
    assert {"gld", "housing_pressure"} <= set(joined.columns) and len(joined) == 6
    other_long = pd.DataFrame({"geography_code": nb["geography_code"].unique(), "indicator_id": "child_poverty",
                               "value": [30, 20, 10, 40, 45]})
    joined = mk.join_board_data(table, other_long)
    assert joined.set_index("geography_name").loc["Pennines", "child_poverty"] == 10


def test_board_pack_files_are_valid_and_identify_nobody(fw, synthetic_dir, bundled_boards, tmp_path):
    """The pack ``write_board_pack(fw, <the bundled data>, out)`` writes: its board table is the session's shared one
    (conftest ``bundled_boards``, built from the same children by the generator that made the bundled files), so
    the pack is rendered from it as write_board_pack renders what it builds (``render_board_pack(board, out,
    readme=True)``; tests/test_disclosure.py and test_failed_run_leaves_previous_pack_intact below go through
    write_board_pack itself). The children whose identifiers must not appear are read from the bundled files."""
    from frictionless import Package
    from openpyxl import load_workbook

    from measurekit.data import read_dir
    from measurekit.publish.board_pack import render_board_pack

    cohort = read_dir(synthetic_dir, framework=FRAMEWORK_DIR)
    out = tmp_path / "pack"
    files = render_board_pack(bundled_boards.board, out, readme=True)
    report = Package(str(files["datapackage"])).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    # counts are written as whole numbers (no "1820.0"); rates with at most the indicator's decimal places
    raw = pd.read_csv(files["board_table"], dtype=str, keep_default_na=False)
    assert raw["denominator"].str.fullmatch(r"\d*").all()
    prop = raw["indicator_id"].map({i.id: i.value_type == "proportion" for i in fw.indicators})
    assert raw.loc[prop, "numerator"].str.fullmatch(r"\d*").all()
    assert (raw.loc[~prop, "numerator"] == "").all() and (~prop).any()      # no fractional "sum of scores"
    dp = raw["indicator_id"].map({i.id: i.decimal_places for i in fw.indicators})
    for col in ("value", "ci_low", "ci_high", "comparator"):
        decimals = raw[col].str.partition(".")[2].str.len()
        assert (decimals <= dp).all(), col
    meta = json.loads(files["datapackage"].read_text())
    assert "rounded half away from zero" in meta["rounding"]
    assert {i["id"] for i in meta["indicators"]} == {i.id for i in fw.indicators}
    wb = load_workbook(files["workbook"])
    assert {"README", "Symbols", "Indicators"} <= set(wb.sheetnames) and len(wb.sheetnames) == 3 + len(fw.indicators)
    assert all(len(n) <= 31 for n in wb.sheetnames)
    assert len(list((out / "specs").glob("*.md"))) == len(fw.indicators)
    assert len(list((out / "briefing").glob("*.html"))) == 5
    # identifier scan: no child id, no date of birth, no unconsented quote anywhere in the pack
    children = cohort.tables["children"]
    secrets = set(children["child_id"]) | set(children["date_of_birth"].astype(str))
    from measurekit.design.evidence import load_evidence

    ev = load_evidence(fw)
    unconsented = set(ev.quotes.loc[~ev.quotes.consent_to_quote, "text"])
    texts = []
    for p in out.rglob("*"):
        if p.suffix in (".csv", ".json", ".md", ".html"):
            texts.append(p.read_text(encoding="utf-8"))
    for ws in wb.worksheets:
        texts.append(" ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None))
    blob = "\n".join(texts)
    # one pass over the text with the prefix tree of every identifier (tests/test_third_framework.py's _trie: a
    # pattern matching exactly those strings) instead of a search of the whole text for each of the 6,000; the list
    # of what leaked is made only when something did
    from test_third_framework import _trie

    leaks = [s for s in secrets if s in blob] if re.search(_trie(secrets), blob) else []
    assert not leaks, leaks[:5]
    assert not [q for q in unconsented if q in blob]


def test_failed_run_leaves_previous_pack_intact(fw, cohort, bundled_boards, tmp_path, monkeypatch):
    from measurekit.publish import board_pack, excel

    out = tmp_path / "pack"
    # the previous pack: what write_board_pack(fw, cohort, out) writes, rendered from the shared board table of the
    # same cohort (conftest bundled_boards) as write_board_pack renders the table it builds
    board_pack.render_board_pack(bundled_boards.board, out, readme=True)
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    stamp = (out / "board_table.csv").read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(excel, "write_workbook", boom)
    with pytest.raises(RuntimeError):
        board_pack.write_board_pack(fw, cohort, out)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before
    assert (out / "board_table.csv").read_bytes() == stamp
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pack")]


def test_workbook_shows_each_indicator_to_its_declared_decimal_places(fw, cohort, tmp_path):
    """The workbook's number formats follow Indicator.decimal_places, like the CSV and the EES file."""
    from openpyxl import load_workbook

    from measurekit.publish.board_pack import write_board_pack

    fw = fw.model_copy(deep=True)
    for ind in fw.indicators:                   # declare places the old fixed formats (0.0 / 0.00) would not show
        ind.decimal_places = {"gld": 0, "services_experience": 3}.get(ind.id, ind.decimal_places)
    files = write_board_pack(fw, cohort, tmp_path / "pack")
    wb = load_workbook(files["workbook"])
    checked = 0
    for ind in fw.indicators:
        sheet = next((ws for ws in wb.worksheets if ws.cell(row=1, column=1).value == ind.title), None)
        if sheet is None:
            continue
        header = [c.value for c in sheet[4]]
        col = next(k for k, h in enumerate(header, start=1) if h in ("Value (%)", "Mean score"))
        fmt = sheet.cell(row=5, column=col).number_format
        dp = ind.decimal_places
        assert fmt == ("0" if dp == 0 else "0." + "0" * dp), (ind.id, fmt)
        checked += 1
    assert checked >= 3 and {i.decimal_places for i in fw.indicators} >= {0, 1, 3}


def test_pipeline_builds_the_board_table_once_rounds_once_and_never_reads_it_back(bundled_run):
    """One run of the main job: the aggregation, the disclosure control and the rounding each run once; no
    code but the gate reads board_table.csv back; the state holds the object the files were rendered from.
    The run is the session's shared run of the main job (conftest ``bundled_run``), which counts those calls
    (board_table._aggregate, disclosure.protect, formatting.publish_board_table, evidence.read_quotes) and the
    callers of pandas.read_csv on board_table paths."""
    import measurekit.publish.board_table as bt

    calls, readers, state, out = bundled_run.calls, bundled_run.board_readers, bundled_run.state, bundled_run.out
    assert calls["_aggregate"] == 1 and calls["protect"] == 1 and calls["publish_board_table"] == 1, calls
    assert calls["read_quotes"] == 1, calls                 # the framework's quotes read once for every page
    assert readers and set(readers) == {"gate.py"}, readers  # only the gate reads the file (to check it)
    board = state.board.board_table
    assert isinstance(board, bt.BoardTable) and state.board.table is board.rows and board.audit is not None and board.audit.passed
    written = pd.read_csv(out / "shareable" / "board_pack" / "board_table.csv", dtype={"geography_code": str, "breakdown_value": str,
                                                                     "symbol": str}, keep_default_na=False,
                            na_values={c: [""] for c in ("numerator", "denominator", "value", "ci_low", "ci_high",
                                                         "comparator")})
    assert len(written) == len(board.rows) and list(written.columns) == list(board.rows.columns)
    for col in ("numerator", "denominator", "value", "ci_low", "ci_high", "comparator"):
        np.testing.assert_array_equal(written[col].to_numpy(dtype=float), board.rows[col].to_numpy(dtype=float))
    assert board.periods == ("2024/25",) and board.indicator("gld").id == "gld"
    readme = (out / "shareable" / "README.txt").read_text(encoding="utf-8")
    assert "passed disclosure control" in readme and "board_pack/board_table.csv" in readme
    from measurekit.publish.gate import scan_folder
    assert len(scan_folder(out / "shareable")) == 0


def test_rounding_once_matches_rounding_the_unrounded_table(fw, bundled_boards):
    """Rounded once, after disclosure control: the same numbers as protecting the full-precision table and
    rounding it by the rule (half away from zero, checked with Decimal), never a rounding of a rounding.
    ``build_board_table(cohort, framework=fw)`` with and without disclosure control: the session's shared tables
    (conftest ``bundled_boards``)."""
    board, raw = bundled_boards.board, bundled_boards.raw
    assert not raw.published and raw.disclosure is None
    assert raw.rows["value"].map(lambda v: pd.notna(v) and round(v, 1) != v).any()     # full precision inside
    expected = bundled_boards.protected().table        # protect(raw.rows, fw), made once (tests/test_disclosure.py)
    dp = {i.id: i.decimal_places for i in fw.indicators}
    for col in ("value", "ci_low", "ci_high", "comparator"):
        want = [float(Decimal(repr(float(v))).quantize(Decimal(1).scaleb(-dp[i]), rounding=ROUND_HALF_UP))
                if pd.notna(v) else np.nan for v, i in zip(expected[col], expected["indicator_id"])]
        np.testing.assert_allclose(board.rows[col].to_numpy(dtype=float), want, equal_nan=True, atol=1e-12)
    assert (board.rows["suppressed"].to_numpy() == expected["suppressed"].to_numpy()).all()


def test_render_refuses_the_internal_table(fw, bundled_boards, tmp_path):
    """``build_board_table(cohort, framework=fw)`` with and without disclosure control: the session's shared tables
    (conftest ``bundled_boards``)."""
    from measurekit.publish.board_pack import render_board_pack

    from measurekit.problems import InputError
    from measurekit.publish.board_table import BoardTable

    raw = bundled_boards.raw
    with pytest.raises(InputError) as err:
        render_board_pack(raw, tmp_path / "pack")
    assert err.value.report.codes() == {"board_table_unprotected"}
    published = bundled_boards.board
    with pytest.raises(InputError):                     # rows without their audit (e.g. read back from a file)
        render_board_pack(BoardTable.from_rows(fw, published.rows), tmp_path / "pack")
    assert not (tmp_path / "pack").exists()
