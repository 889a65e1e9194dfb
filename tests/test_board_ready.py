"""Board-ready outputs without a browser: the label vocabulary, file names from codes, the family
page's reading age and languages, and the workbook's print layout (issue 15; file names: issue 13)."""
from __future__ import annotations

import pandas as pd
import pytest

from measurekit.core import labels


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


def test_labels_name_every_code_in_words():
    assert labels.category("fsm", 1) == "Eligible for free school meals"
    assert labels.category("fsm", "0") == "Not eligible for free school meals"
    assert labels.category("eal", 1.0) == "English as an additional language"
    assert labels.category("send", "sen_support") == "SEN support" and labels.category("send", "ehc_plan") == "EHC plan"
    assert labels.category("summer_born", True) == "Summer-born (May to August)"
    assert labels.category("new_flag", "1") == "New flag" and labels.category("new_flag", 0) == "Not new flag"
    assert labels.breakdown("eal") == "English as an additional language"
    assert labels.statistic("chi12") == "Uniform + non-uniform DIF test (chi12)"
    assert labels.statistic("raw_alpha") == "Cronbach's alpha (raw_alpha)"
    assert [labels.p_value(p) for p in (0.0, 0.0004, 0.001, 0.0234, float("nan"))] == ["< 0.001", "< 0.001", "0.001",
                                                                                        "0.023", ""]
    assert labels.count(1859.0) == "1,859" and labels.count(611.0) == "611" and labels.count(None) == ""
    assert labels.value(48.837, "proportion") == "48.8%" and labels.value(3.2567, "mean") == "3.3"
    assert labels.comparison("lower", "higher_is_better", "the borough") == "lower than the borough (worse)"
    assert labels.comparison("higher", "lower_is_better", "the county") == "higher than the county (worse)"
    assert labels.comparison("similar", "higher_is_better") == "similar to the local authority"


def test_file_names_come_from_codes_and_never_collide():
    from measurekit.publish.briefing import file_stems

    stems = file_stems(["Rochdale  North!", "Rochdale North", "rochdale-north", "روچڈیل", "", "E02001234"])
    assert len(set(stems.values())) == 6
    assert all(s and not s.startswith(".") and all(c.isascii() and (c.isalnum() or c == "-") for c in s)
               for s in stems.values())
    assert stems["E02001234"] == "e02001234"
    assert file_stems(["روچڈیل"]) == file_stems(["روچڈیل"])          # stable between runs


def test_briefings_and_family_pages_for_names_that_slug_alike(board, table, tmp_path):
    """Two neighbourhoods named alike and one non-Latin name: three briefings, none hidden, none overwritten."""
    from measurekit.publish.briefing import write_briefings
    from measurekit.publish.family_page import write_family_pages

    rename = {"SYN-N01": "Rochdale  North!", "SYN-N02": "Rochdale North", "SYN-N03": "روچڈیل"}
    t = table.copy()
    t["geography_name"] = [rename.get(c, n) for c, n in zip(t["geography_code"], t["geography_name"])]
    t = t[t["geography_code"].isin(["LA", "SYN-N01", "SYN-N02", "SYN-N03"])]
    written = write_family_pages(board.with_rows(t), tmp_path / "families")
    files = sorted(p.name for p in (tmp_path / "families").iterdir())
    assert len(files) == 3 and not any(f.startswith(".") for f in files)
    for code, name in rename.items():
        assert name in written[code].read_text(encoding="utf-8")
    briefs = write_briefings(board.with_rows(t[t["indicator_id"].isin(["gld", "parent_voice_coverage"])]),
                             tmp_path / "b")
    assert len({p.name for p in briefs.values()}) == 3


def test_family_page_reads_at_age_nine_or_below_and_says_only_what_the_limits_support(board, table):
    from measurekit.design.readability import stats
    from measurekit.publish.family_page import english_sentences, english_text

    codes = sorted(table.loc[table["geography_type"] == "neighbourhood", "geography_code"].unique())
    for code in codes:
        text = english_text(board, code)
        s = stats(text)
        assert s["reading_age"] <= 9, (code, s)
        assert s["words"] / s["sentences"] <= 12
        for jargon in ("significan", "confidence interval", "95%", "funnel", "percentage", "indicator", "borough value"):
            assert jargon not in text.lower()
        rows = table[(table["geography_code"] == code) & (table["breakdown"] == "all")].set_index("indicator_id")
        for _d, _title, said, _k, ind in english_sentences(board, code)["told"]:
            sig = rows.loc[ind.id, "significance_95"]
            joined = " ".join(said)
            if sig == "similar":
                assert "about the same" in joined
            else:
                assert ("more" in joined or "fewer" in joined or "higher" in joined or "lower" in joined)


def test_family_page_numbers_match_the_table(board, table):
    from measurekit.publish.family_page import english_sentences

    code = "SYN-N05"
    rows = table[(table["geography_code"] == code) & (table["breakdown"] == "all")].set_index("indicator_id")
    told = english_sentences(board, code)["told"]
    for _d, _title, said, k, ind in told:
        if k is not None:                          # "about k in 10" is the percentage rounded to tens
            assert k == round(rows.loc[ind.id, "value"] / 10)
            assert f"{k} in 10" in said[0]


def test_family_page_languages_and_drafts(fw, board):
    import dataclasses

    from measurekit.publish.family_page import family_page

    page = family_page(board, "SYN-N01")
    assert '<html lang="en">' in page
    for lang in ("ur", "ar"):
        assert f'<section class="lang" id="lang-{lang}" lang="{lang}" dir="rtl">' in page
    for lang in ("bn", "pa", "pl", "ro"):
        assert f'<section class="lang" id="lang-{lang}" lang="{lang}">' in page
    assert page.count("Draft translation") == 6       # the bundled framework's translations are drafts
    not_illustrative = fw.model_copy(update={"illustrative": False})
    plain = family_page(dataclasses.replace(board, framework=not_illustrative), "SYN-N01")
    assert '<section class="lang"' not in plain and "Languages on this page" not in plain


def test_family_page_menu_quotes_and_fonts(fw, board):
    """A language menu at the top links to every language section; quotes say where they come from and that
    they are not this area's own; the page names a Noto font for every script of its languages."""
    import re

    pages = {code: __import__("measurekit.publish.family_page", fromlist=["x"]).family_page(board, code)
             for code in board.area_codes()}
    page = pages["SYN-N01"]
    nav = page.index("Languages on this page")
    assert nav < page.index("What you told us")                        # the menu comes before the English text
    anchors = re.findall(r'<a href="#(lang-[\w-]+)"', page)
    sections = re.findall(r'<section[^>]* id="(lang-[\w-]+)"', page)
    assert anchors == sections and len(anchors) == 7                  # English + the 6 draft languages, in order
    for lang, font in (("bn", "Noto Sans Bengali"), ("ur", "Noto Nastaliq Urdu"), ("pa", "Noto Sans Gurmukhi"),
                       ("ar", "Noto Naskh Arabic")):
        assert re.search(rf":lang\({lang}\)\{{font-family:'{font}'", page), lang
    quotes = {code: re.findall(r"<blockquote>(.*?)</blockquote>", p, flags=re.S) for code, p in pages.items()}
    assert all(len(q) == 2 and all("<footer>" in b for b in q) for q in quotes.values())
    assert all("may not be from" in p for p in pages.values())
    assert len({tuple(q) for q in quotes.values()}) > 1               # not the same quotes on every page


def test_workbook_prints_and_reads_without_codes(board, tmp_path):
    from openpyxl import load_workbook

    from measurekit.publish.excel import write_workbook

    path = tmp_path / "pack.xlsx"
    write_workbook(board, path)
    wb = load_workbook(path)
    assert wb.sheetnames[:3] == ["README", "Symbols", "Indicators"]
    readme = " ".join(str(c.value) for row in wb["README"].iter_rows() for c in row if c.value)
    assert "For analysts" in readme and "breakdown_value" in readme
    for ws in wb.worksheets[3:]:
        assert ws.freeze_panes == "B5" and ws.print_title_rows == "$4:$4"
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0 and ws.page_setup.orientation == "landscape"
        assert ws.print_area and ws.print_area.endswith(f"${ws.max_row}")      # a print area over the filled cells
        assert len(ws.title) <= 31
        header = [c.value for c in ws[4]]
        body = pd.DataFrame(list(ws.iter_rows(min_row=5, values_only=True)), columns=header)
        groups = set(body["Group"].dropna()) | set(body["Breakdown"].dropna())
        assert not groups & {"0", "1", "fsm", "eal", "send", "ehc_plan", "sen_support", "F", "M"}
        col = header.index("Number of children") + 1
        counts = [c.value for row in ws.iter_rows(min_row=5, min_col=col, max_col=col) for c in row if c.value is not None]
        assert counts and all(isinstance(v, int) for v in counts)
        assert ws.cell(row=5, column=header.index("Number of children") + 1).number_format == "#,##0"
        assert ws.column_dimensions["C"].width >= 25
    gld = wb[wb.sheetnames[3]]
    cells = {c.value for row in gld.iter_rows(min_row=5) for c in row}
    assert "Eligible for free school meals" in cells and "EHC plan" in cells


def test_workbook_sheet_names_are_cut_between_words():
    from measurekit.publish.excel import _sheet_name

    used: set = set()
    long = "Parents reporting little support for home learning and play"
    name = _sheet_name(long, used)
    assert len(name) <= 31 and long.startswith(name) and long[len(name)] == " "      # ends on a whole word
    again = _sheet_name(long, used)
    assert again != name and again.endswith(" 2") and len(again) <= 31
    assert long.startswith(again[:-2]) and long[len(again) - 2] == " "
    assert _sheet_name("GLD", used) == "GLD" and _sheet_name("a/b:c", used) == "a b c"


def test_plain_words_replace_markdown_and_codes():
    assert labels.plain("Indicator `gld` by **fsm** and home_language_group*") == \
        "Indicator GLD by free school meals and home language (English or other)"
    assert labels.plain("mean of voice_x", {"voice_x": "x score"}) == "mean of x score"
    assert labels.plain("alpha >= 0.70; ICC(2,1)") == "alpha >= 0.70; ICC(2,1)"       # nothing else touched
    terms = [t for t, _ in labels.glossary("Children not assessed in an ELG; see the fairness checks. GLD.")]
    assert terms == ["GLD", "ELG", "fairness checks"]


@pytest.mark.parametrize("area", [None, {"la_word": "county", "area_word": "locality", "area_word_plural": "localities",
                                         "small_area_word": "ward"}])
def test_pages_use_the_frameworks_place_words(fw, cohort, area, tmp_path):
    """Generic code writes no place word of its own: a framework without an area block reads 'local authority' and
    'area'; one that declares 'county' and 'locality' reads those, on briefings, family pages and the workbook."""
    import re

    from openpyxl import load_workbook

    from measurekit.publish.board_table import build_board_table
    from measurekit.publish.briefing import briefing_page
    from measurekit.publish.excel import write_workbook
    from measurekit.publish.family_page import family_page

    from measurekit.design.models import Framework

    # the framework's own texts (titles, caveats...) may name its places as they like: neutralised here, so the
    # check is on what measurekit writes; no quotes (path None)
    text = fw.model_dump_json().replace('"neighbourhood"', '"@code@"')          # the breakdown code stays
    for old, new in (("neighbourhood", "place"), ("Neighbourhood", "Place"), ("borough", "place"), ("Borough", "Place")):
        text = text.replace(old, new)
    f = Framework.model_validate_json(text.replace('"@code@"', '"neighbourhood"'))
    f.area = None if area is None else fw.area.model_copy(update=area)
    board = build_board_table(cohort, framework=f)
    la, place = ("local authority", "area") if area is None else ("county", "locality")
    code = board.area_codes()[0]
    path = tmp_path / "pack.xlsx"
    write_workbook(board, path)
    wb = load_workbook(path)
    cells = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value)
    for text in (briefing_page(board, code), family_page(board, code), cells):
        visible = re.sub(r"<style>.*?</style>|<[^>]+>", " ", text, flags=re.S)
        assert not re.search(r"\bborough|neighbourhood", visible, flags=re.I), re.findall(r".{30}borough.{30}", visible)
        assert la in visible
    assert f"{place} briefing" in briefing_page(board, code) and f"All {'areas' if area is None else 'localities'} against the {la}" in briefing_page(board, code)
