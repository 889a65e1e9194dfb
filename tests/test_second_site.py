"""The whole flow on the second illustrative framework (issue 26): a framework that declares its own population,
tables and two perspectives (tests name it only by its folder; nothing in ``src/`` does).

``measurekit synth`` then ``measurekit run`` complete on 500 young people (and on 5,000 in a slow-marked test);
the truths the generator planted (ground_truth.json) are found again in the run's own output files, read here
with plain pandas: the topics where the two perspectives diverge, the locality where adviser ratings are missing
most, the group in "suitable" accommodation whose home ratings are low. ``check-spec`` passes, the EES file passes
``check-ees``, and the independent intruder of tests/test_disclosure_attack.py learns no withheld count of the
published board table.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "indicators" / "north-yorkshire-care-leavers"


def _cli(*args, timeout=900):
    return run_cli(*args, cwd=ROOT, timeout=timeout)


def _synth_and_run(base: Path, n: int, seed: int):
    data, out = base / "data", base / "out"
    done = _cli("synth", "--framework", FOLDER, "--n", n, "--seed", seed, "--out", data)
    assert done.returncode == 0, done.stdout + done.stderr
    done = _cli("run", "--framework", FOLDER, "--data", data, "--out", out)
    return data, out, done


@pytest.fixture(scope="module")
def site(second_site_run):
    """``measurekit synth`` (500 young people, seed 5) and ``measurekit run`` (tests/cli_runner.py): the
    session's shared run (conftest ``second_site_run``, also read by tests/test_framework_general.py)."""
    return second_site_run.data, second_site_run.out, second_site_run.stdout


def test_run_completes_and_says_what_it_skipped_and_why(site):
    data, out, stdout = site
    assert "Traceback" not in stdout
    assert "Finished in" in stdout
    # the parts this design cannot support are named with a plain reason, not a traceback
    assert "alpha, factor analysis and omega: the topics are single ratings" in stdout
    assert "the framework declares no groups to compare" in stdout
    for folder in ("internal/linkage", "internal/perspectives", "shareable/board_pack/briefing",
                   "shareable/board_pack/families", "shareable/board_pack/specs"):
        assert (out / folder).is_dir(), folder
    summary = pd.read_csv(out / "internal" / "linkage" / "linkage_summary.csv").set_index("measure")["count"]
    people = pd.read_csv(data / "young_people.csv")
    voice = pd.read_csv(data / "voice_young_person.csv")
    # the linkage counts the declared population and its first voice table, checked against the files here
    assert summary["young people in the cohort"] == len(people)
    assert summary["young people with a linked response"] == voice["young_person_id"].nunique()
    assert summary["survey responses"] == len(voice)


def test_the_divergent_topics_are_the_planted_ones(site):
    data, out, _ = site
    truth = json.loads((data / "ground_truth.json").read_text())
    flagged = pd.read_csv(out / "internal" / "perspectives" / "divergence_flagged.csv")
    topics = flagged[flagged["level"] == "topic"]
    found = set(topics.loc[topics["diverges"].astype(bool), "name"])
    assert found == {d["item"] for d in truth["divergence"]}, topics
    # the sign: the planted perspective rates lower, so (first minus second) has the opposite sign of the shift
    first = pd.read_csv(out / "internal" / "perspectives" / "agreement.csv")["first"].iloc[0]   # first minus second
    for d in truth["divergence"]:
        row = topics.set_index("name").loc[d["item"]]
        sign = 1 if d["respondent"] == first else -1
        assert sign * row["mean_diff"] * d["shift"] > 0, row
        assert abs(abs(row["mean_diff"]) - abs(d["shift"])) < 0.6, row


def test_adviser_ratings_are_missing_most_in_the_planted_locality(site):
    data, out, _ = site
    truth = json.loads((data / "ground_truth.json").read_text())["missing"]
    miss = pd.read_csv(out / "internal" / "perspectives" / "missingness.csv")
    rows = miss[(miss["perspective"] == truth["respondent"]) & (miss["name"] == "all topics")
                & (miss["by"] == "locality")].set_index("group")["share_missing"]
    assert rows.idxmax() == truth["area"], rows
    assert rows.max() > rows.drop(rows.idxmax()).max() + 0.2, rows
    # the other perspective has no such peak there
    other = miss[(miss["perspective"] != truth["respondent"]) & (miss["name"] == "all topics")
                 & (miss["by"] == "locality")].set_index("group")["share_missing"]
    assert other[truth["area"]] < rows[truth["area"]] - 0.2


def test_the_suitable_but_low_home_group_stands_out(site):
    data, out, _ = site
    g = json.loads((data / "ground_truth.json").read_text())["discordant_group"]
    dis = pd.read_csv(out / "internal" / "perspectives" / "discordance.csv", dtype={"group": str})
    rows = dis[(dis["measure"] == g["suitable_column"]) & (dis["name"] == g["item"]) & (dis["by"] == g["column"])]
    rows = rows.set_index("group")
    planted = rows.loc[g["value"]]
    others = rows.drop(index=g["value"])
    others = others[others["denominator"] >= 20]
    assert planted["ci_low"] > others["ci_high"].max(), rows[["numerator", "denominator", "share"]]
    # the shares are the counts as written (recomputed here from the young people's latest own rating)
    ret = pd.read_csv(data / "care_leaver_return.csv")
    yp = pd.read_csv(data / "voice_young_person.csv").sort_values(["young_person_id", "review_round"])
    latest = yp.groupby("young_person_id").tail(1)    # each young person's latest review, rated or not
    joined = latest.merge(ret, on="young_person_id")
    joined = joined[joined[g["item"]].notna()]
    joined = joined[(joined[g["suitable_column"]] == 1) & (joined[g["column"]] == g["value"])]
    assert planted["denominator"] == len(joined)
    assert planted["numerator"] == int((joined[g["item"]] <= 4).sum())


def test_change_between_reviews_follows_the_planted_trend(site):
    data, out, _ = site
    truth = json.loads((data / "ground_truth.json").read_text())
    change = pd.read_csv(out / "internal" / "perspectives" / "change.csv")
    topics = change[change["level"] == "topic"].groupby("name")["mean_change"].mean()
    rising = {k for k, v in truth["change"].items() if v > 0}
    flat = set(topics.index) - rising
    assert min(topics[list(rising)]) > max(topics[list(flat)]), topics


def test_board_pack_ees_and_spec_pass_their_checks(site):
    data, out, _ = site
    pack = out / "shareable" / "board_pack"
    ees = [p for p in pack.glob("*.csv") if p.name != "board_table.csv" and not p.name.endswith(".meta.csv")]
    assert len(ees) == 1
    done = _cli("check-ees", ees[0])
    assert done.returncode == 0 and "0 error(s)" in done.stdout, done.stdout + done.stderr
    header = ees[0].read_text(encoding="utf-8").splitlines()[0].split(",")
    assert "locality" in header and not any("children" in c for c in header)
    done = _cli("check-spec", FOLDER)
    assert done.returncode == 0 and "0 error(s)" in done.stdout, done.stdout + done.stderr
    table = pd.read_csv(pack / "board_table.csv")
    ids = set(table["indicator_id"])
    assert {"adviser_home_rated_7_or_more", "home_rated_7_or_more", "suitable_but_home_rated_low",
            "suitable_accommodation"} <= ids
    spec = (pack / "specs" / "home_rated_7_or_more.md").read_text(encoding="utf-8")
    assert "latest review" in spec


def test_the_page_for_young_people_shows_statements_beside_the_numbers(site):
    _, out, _ = site
    pages = sorted((out / "shareable" / "board_pack" / "families").glob("*.html"))
    assert len(pages) == 6
    quotes = pd.read_csv(FOLDER / "evidence" / "quotes.csv")
    withheld = set(quotes.loc[quotes["consent_to_quote"] == "no", "text"])
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "young people" in html and "your child" not in html
        for text in withheld:
            assert text.replace("'", "&#39;") not in html and text not in html
        # a statement sits inside the same block as its topic's number (no tooltip, no title attribute)
        block = html.split("<h3>Your home</h3>")[1].split("</div>")[0]
        assert "in 10 young people" in block and "<blockquote>" in block
        assert "title=" not in block


def test_the_intruder_learns_no_withheld_count_of_the_board_table(site, tmp_path):
    """tests/test_disclosure_attack.py's intruder (written from the published files, not from measurekit's
    disclosure code) against the framework's board table, judged by the true counts of the same data. That intruder
    reads every published count as exact, so it attacks the table as published without rounding (the framework
    copied with ``round_to: null``): suppression alone must hold; rounding to 5 only widens what it can learn."""
    import shutil

    from test_disclosure_attack import COHORT_WIDE, attack, judge

    import measurekit as mk
    from measurekit.data import read_and_validate
    from measurekit.design import load_framework

    data, _, _ = site
    copy = tmp_path / "framework"
    shutil.copytree(FOLDER, copy)
    text = (copy / "indicators.yaml").read_text(encoding="utf-8")
    assert "round_to: 5" in text
    (copy / "indicators.yaml").write_text(text.replace("round_to: 5", "round_to: null"), encoding="utf-8")
    fw = load_framework(copy)
    # denominators that are every young person by their published definitions (case record, the return)
    COHORT_WIDE.update({"young_person_rating_coverage", "adviser_rating_coverage", "in_education_employment_training"})
    cohort, _ = read_and_validate(data, framework=fw)
    raw = mk.board_table(cohort, framework=fw, disclosure=False).reset_index(drop=True)
    published = mk.board_table(cohort, framework=fw)
    path = tmp_path / "board_table.csv"
    published.to_csv(path, index=False)
    key = ["indicator_id", "geography_type", "geography_code", "breakdown", "breakdown_value"]
    assert (published[key].astype(str).to_numpy() == raw[key].astype(str).to_numpy()).all()
    assert published["suppressed"].astype(bool).any()
    bounds = attack([path])
    # attack() reports a maximum nothing published caps (here the areas' and the county's population totals are all
    # withheld) as inf: that interval is unbounded, the widest there is
    assert not bounds[["lo", "hi"]].isna().any().any()
    v = judge(bounds, [raw])
    assert v["withheld_counts"] > 0
    assert v["exact"] == 0 and v["small_narrowed"] == 0, v


@pytest.mark.slow
def test_run_completes_on_5000_young_people(tmp_path):
    """Measured on the shared 2-core machine: this test (synth + run) 49 s at load 6-8; the run alone 79 s at load
    about 10 (the perspectives step is most of it)."""
    data, out, done = _synth_and_run(tmp_path, 5000, 7)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    truth = json.loads((data / "ground_truth.json").read_text())
    flagged = pd.read_csv(out / "internal" / "perspectives" / "divergence_flagged.csv")
    topics = flagged[flagged["level"] == "topic"]
    assert set(topics.loc[topics["diverges"].astype(bool), "name"]) == {d["item"] for d in truth["divergence"]}
    assert (out / "shareable" / "board_pack" / "board_table.csv").exists()


@pytest.mark.browser
def test_the_pages_pass_the_browser_and_axe_checks(site, chromium_path):
    """Every briefing, page for young people and specification sheet of this framework's board pack, and its trial
    report, through the same checks as the bundled pages (tests/pagecheck.py, as tests/test_board_browser.py):
    offline, no console error, no serious or critical axe-core WCAG 2.x A/AA violation, html lang en, charts decoded
    with real alt text."""
    from pagecheck import launch, pages_problems
    from playwright.sync_api import sync_playwright

    _, out, _ = site
    pack = out / "shareable" / "board_pack"
    pages = (sorted((pack / "briefing").glob("*.html")) + sorted((pack / "families").glob("*.html"))
             + sorted((pack / "specs").glob("*.html")) + [out / "internal" / "trial_report.html"])
    assert len(pages) == 6 + 6 + 11 + 1
    with sync_playwright() as p:
        browser = launch(p, chromium_path)
        problems = pages_problems(browser, pages)
        browser.close()
    assert problems == []


# ---- no school-readiness word in a care leavers' output (issue 26, second site) ----
# An independent list, written for this test: the school-readiness framework's people, respondents, measures, groups
# and languages. Words this framework declares itself (a topic "Learning at school, college ...", its owner's team
# name) are masked first: the test is about words measurekit writes, not the framework's own text.
SCHOOL_WORDS = ["child", "children", "child's", "children's", "parent", "parents", "parent's", "parents'", "pupil",
                "pupils", "GLD", "good level of development", "FSM", "free school meals", "EYFSP", "EYFS",
                "early years", "early learning goal", "reception", "school readiness", "starting school", "family",
                "families", "families'", "SEN", "SEND", "EAL", "English as an additional language", "Urdu",
                "Bengali", "home language", "poverty", "phonics", "ASQ", "practitioner", "practitioners"]

def _declared_strings(folder: Path) -> list[str]:
    import yaml

    out: set[str] = set()

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, str) and len(x) >= 12:
            out.add(" ".join(x.split()))
            head = x.split(":")[0].strip()      # a topic's short name ("Your family: how are ...")
            if ":" in x and len(head) >= 4:
                out.add(" ".join(head.split()))

    for f in folder.glob("*.yaml"):
        walk(yaml.safe_load(f.read_text(encoding="utf-8")))
    for f in folder.rglob("*.csv"):
        for row in pd.read_csv(f, dtype=str).fillna("").itertuples(index=False):
            walk(list(row))
    return sorted(out, key=len, reverse=True)


def _text_of(path: Path) -> str:
    import html as htmllib
    import re

    if path.suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        return "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row
                         if c is not None)
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix in (".html", ".svg"):
        text = re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.S | re.I)
        text = htmllib.unescape(re.sub(r"<[^>]+>", "\n", text))
    return text


# the pack's folder layout, the same for every framework (measurekit's output format): the README names the folder
# of the pages for the people who answered by its path
LAYOUT = ("board_pack/families/",)


def _mask(text: str, declared: list[str]) -> str:
    """``text`` with every declared string (whitespace normalised) and every shortened form of one (cut and ended
    with "…", as labels of limited length are) blanked out."""
    text = " ".join(text.replace('""', '"').split(" "))
    flat = "\n".join(" ".join(line.split()) for line in text.splitlines())
    for path in LAYOUT:
        flat = flat.replace(path, " ")
    for d in declared:
        flat = flat.replace(d, " ")
    while "…" in flat:
        i = flat.index("…")
        window = flat[max(0, i - 200):i]
        cut = next((len(d[:j]) for d in declared for j in range(len(d) - 1, 11, -1) if window.endswith(d[:j])), 0)
        flat = flat[:i - cut] + " " + flat[i + 1:]
    return flat


def _school_words_found(out: Path) -> dict[tuple[str, str], str]:
    import re

    declared = _declared_strings(FOLDER)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(SCHOOL_WORDS, key=len, reverse=True)))
                         + r")(?![\w-])", re.I)
    found: dict[tuple[str, str], str] = {}
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.suffix not in {".csv", ".html", ".md", ".json", ".txt", ".svg", ".xlsx"}:
            continue
        text = _mask(_text_of(path), declared)
        for m in pattern.finditer(text):
            key = (path.relative_to(out).as_posix(), m.group(1).lower())
            found.setdefault(key, text[max(0, m.start() - 60):m.end() + 60].replace("\n", " "))
    return found


def test_no_school_readiness_word_reaches_the_care_leavers_outputs(site):
    _, out, stdout = site
    found = _school_words_found(out)
    leaks = found
    assert not leaks, "\n".join(f"{f} [{w}]: ...{ctx}..." for (f, w), ctx in sorted(leaks.items()))
    # the words come from the framework instead: its people, its respondents, its place words
    pack = out / "shareable" / "board_pack"
    spec = _text_of(pack / "specs" / "adviser_home_rated_7_or_more.html")
    assert "young people whose adviser answered" in spec or "all young people counted" in spec
    assert "young person's home working for them" in spec              # the adviser's own question
    report = _text_of(out / "internal" / "trial_report.html")
    assert "All young people" in report and "Fairness across language and poverty groups" not in report
    assert "neighbourhood" not in report.lower() + spec.lower()
    import openpyxl

    wb = openpyxl.load_workbook(pack / "board_pack.xlsx", read_only=True)
    symbols = {r[0]: r[1] for r in wb["Symbols"].iter_rows(min_row=2, values_only=True)}
    assert "young people" in symbols["x"]


def test_the_school_readiness_word_check_finds_a_planted_word(site, tmp_path):
    """The checker above is not blind: a copy of the outputs with one planted word is caught."""
    import shutil

    _, out, _ = site
    copy = tmp_path / "out"
    shutil.copytree(out / "shareable" / "board_pack" / "briefing", copy / "briefing")
    page = sorted((copy / "briefing").glob("*.html"))[0]
    page.write_text(page.read_text(encoding="utf-8").replace("</main>", "<p>Pupils eligible for FSM</p></main>"),
                    encoding="utf-8")
    found = _school_words_found(copy)
    assert {w for (f, w) in found} == {"pupils", "fsm"}


def test_the_shareable_readme_and_data_package_use_the_frameworks_people_words(site):
    """The words the board pack writes itself (the shareable README, the data package's field descriptions and
    symbols) name the framework's people, not the data contract's children and families."""
    _, out, _ = site
    readme = (out / "shareable" / "README.txt").read_text(encoding="utf-8")
    assert "not real young people" in readme and "each group of young people" in readme
    assert "for the young people who answered" in readme
    package = json.loads((out / "shareable" / "board_pack" / "datapackage.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f["description"] for f in package["resources"][0]["schema"]["fields"]}
    assert fields["denominator"] == "Denominator (young people in the group)"
    assert fields["numerator"].startswith("Numerator: young people meeting the definition")
    assert package["symbols"]["x"] == "not available: no young people in this group"


def test_cosmin_boxes_are_rated_from_the_two_perspectives(site):
    """The run's COSMIN table rates reliability between the perspectives by its rule: the planted divergent topics
    (their adviser ratings shifted, so ICC(2,1) falls) get "-", and no topic the perspectives rate is left "?"."""
    data, out, _ = site
    truth = json.loads((data / "ground_truth.json").read_text())
    table = pd.read_csv(out / "internal" / "measurement" / "cosmin_properties.csv")
    fw_items = {"home_rated_7_or_more": "your_home", "safe_rated_7_or_more": "safe_and_well",
                "learning_rated_7_or_more": "learning_and_work"}
    rel = table[table["property"] == "reliability"].drop_duplicates("indicator").set_index("indicator")["rating"]
    diverging = {d["item"] for d in truth["divergence"]}
    for ind, item in fw_items.items():
        assert rel[ind] in "+-"
        if item in diverging:
            assert rel[ind] == "-", (ind, rel[ind])
    assert "hypotheses testing for construct validity" in set(table["property"])
    assert (out / "internal" / "perspectives" / "known_groups.csv").exists()
