"""Places that assumed the bundled framework's tables, respondents, domains and column roles (issues 25/26):
each checked on the second illustrative framework and on the bundled one."""
import pandas as pd
import pytest

from measurekit.design import load_framework
from measurekit.problems import InputError


@pytest.fixture(scope="module")
def bundled(framework_dir):
    return load_framework(framework_dir)


@pytest.fixture(scope="module")
def second(root):
    return load_framework(root / "indicators" / "north-yorkshire-care-leavers")


def _voice_items(fw, table):
    return [i.id for i in fw.items if fw.table(table).respondent in i.respondents]


# ---- 2. survey responses are typed by the framework's declared voice table ----

@pytest.mark.parametrize("which", ["bundled", "second"])
def test_read_responses_types_the_declared_voice_tables(which, request, tmp_path):
    from measurekit.data.linkage_files import read_responses
    from measurekit.data.population import voice_tables

    fw = request.getfixturevalue(which)
    src = tmp_path / "responses.csv"
    for table in voice_tables(fw):
        items = _voice_items(fw, table.name)
        assert items, table.name
        rows = [{"response_id": f"R{k}", **{i: str((k + j) % 3 + 1) for j, i in enumerate(items)}} for k in range(4)]
        rows[2][items[-1]] = "two"                      # not a code: reported with row and column
        pd.DataFrame(rows).to_csv(src, index=False)
        with pytest.raises(InputError) as e:
            read_responses(src, fw, table.name)
        (p,) = e.value.report.problems
        assert (p.code, p.row, p.column, p.value) == ("wrong_type", 4, items[-1], "two")
        rows[2][items[-1]] = "2"
        pd.DataFrame(rows).to_csv(src, index=False)
        got = read_responses(src, fw, table.name)
        assert str(got[items[0]].dtype) == "Int64" and got[items[-1]].tolist() == [int(r[items[-1]]) for r in rows]
    # no table named: the first declared voice table
    first = voice_tables(fw)[0].name
    assert list(read_responses(src, fw).columns) == list(read_responses(src, fw, first).columns)


def test_read_responses_refuses_a_table_that_is_not_a_voice_table(second, tmp_path):
    from measurekit.data.linkage_files import read_responses

    src = tmp_path / "r.csv"
    pd.DataFrame({"response_id": ["R1"]}).to_csv(src, index=False)
    with pytest.raises(InputError) as e:
        read_responses(src, second, second.population.table)
    assert e.value.codes == ["unknown_table"] and "table=" in str(e.value)
    bare = second.model_copy(update={"tables": [t for t in second.tables if t.kind != "voice"]})
    with pytest.raises(InputError) as e:
        read_responses(src, bare)
    assert e.value.codes == ["no_voice_table"]


def test_survey_schema_follows_the_first_voice_table(bundled, second):
    from measurekit.data.population import voice_tables
    from measurekit.data.schemas import table_schema
    from measurekit.synth.identifiers import survey_schema

    for fw in (bundled, second):
        voice = table_schema(voice_tables(fw)[0].name, fw)
        names = [f["name"] for f in survey_schema(fw)["fields"]]
        expected_answers = [f["name"] for f in voice["fields"] if f["name"] not in ("response_id", fw.population.id)]
        assert names[-len(expected_answers):] == expected_answers
        assert set(_voice_items(fw, voice_tables(fw)[0].name)) <= set(names)


# ---- 3. an item in several domains counts in each ----

def _ratings(fw, n=800, seed=11):
    """0-10 ratings with a planted structure: looking_after_yourself follows your_future closely; every other
    topic is independent noise."""
    import numpy as np

    rng = np.random.default_rng(seed)
    future = rng.integers(0, 11, n)
    data = {i.id: rng.integers(0, 11, n) for i in fw.items}
    data["your_future"] = future
    data["looking_after_yourself"] = np.clip(future + rng.integers(-1, 2, n), 0, 10)
    return pd.DataFrame(data)


def _domains_from_yaml(root):
    import yaml

    raw = yaml.safe_load((root / "indicators" / "north-yorkshire-care-leavers" / "items.yaml").read_text())["items"]
    return {it["id"]: it.get("domains") or [it["domain"]] for it in raw}


def test_item_analysis_has_a_row_and_an_item_rest_correlation_per_domain(second, root):
    import numpy as np

    from measurekit.stats.items import item_analysis

    data = _ratings(second)
    before = data.copy()
    res = item_analysis(data, framework=second)              # no respondent: the first the items name
    pd.testing.assert_frame_equal(data, before)
    domains = _domains_from_yaml(root)
    assert len(res.items) == sum(len(d) for d in domains.values())
    t = res.items.reset_index()
    for item, its in domains.items():
        assert sorted(t.loc[t["item"] == item, "domain"]) == sorted(its)
        for d in its:
            mates = [o for o, ods in domains.items() if d in ods and o != item]
            got = t.loc[(t["item"] == item) & (t["domain"] == d), "r_drop"].item()
            if not mates:
                assert np.isnan(got)
                continue
            want = np.corrcoef(data[item], data[mates].mean(axis=1))[0, 1]
            assert got == pytest.approx(want, abs=1e-12)
    # the planted link shows where it should: strong in the domain it shares with your_future alone
    fin = t[(t["item"] == "looking_after_yourself") & (t["domain"] == "finances")]["r_drop"].item()
    assert fin > 0.9
    idc = t[(t["item"] == "identity_and_culture")]["r_drop"].item()
    assert abs(idc) < 0.2 and "identity_and_culture: " in " ".join(res.warnings)


def test_item_analysis_on_the_bundled_framework_keeps_one_row_per_item(bundled, cohort):
    from measurekit.stats.items import item_analysis

    voice = cohort.tables["voice_parent"]
    res = item_analysis(voice, framework=bundled)
    assert res.items.index.is_unique and list(res.items.index) == bundled.item_ids(bundled.respondents()[0])
    assert (res.items["domain"] == [bundled.item(i).domain for i in res.items.index]).all()


def test_cosmin_rates_an_item_indicator_in_each_of_its_domains(second, root):
    from measurekit.stats.cosmin import PROPERTIES, cosmin_table
    from measurekit.stats.items import item_analysis

    data = _ratings(second)
    ia = item_analysis(data, framework=second)
    res = cosmin_table(framework=second, item_analysis=ia)
    domains = _domains_from_yaml(root)
    item_inds = {ind.id: ind.compute.field for ind in second.indicators if ind.compute.source == "item"}
    for ind, item in item_inds.items():
        rows = res.table[res.table["indicator"] == ind]
        assert sorted(set(rows["domain"])) == sorted(domains[item])
        assert len(rows) == len(PROPERTIES) * len(domains[item])
    cards = res.items
    assert len(cards) == sum(len(d) for d in domains.values())
    card = cards[(cards["item"] == "looking_after_yourself") & (cards["domain"] == "finances")]["r_drop"].item()
    t = ia.items.reset_index()
    assert card == t[(t["item"] == "looking_after_yourself") & (t["domain"] == "finances")]["r_drop"].item()


# ---- 4. no default column roles: the caller or the framework names them ----

@pytest.mark.parametrize("call, parameter", [
    (lambda mk, f: mk.coverage(f, responded="responded"), "by"),
    (lambda mk, f: mk.coverage(f, responded=f.iloc[::2], by=["g"]), "id_col"),
    (lambda mk, f: mk.response_weights(f, responded="responded"), "by"),
    (lambda mk, f: mk.weighted_estimates(f, "x"), "by"),
    (lambda mk, f: mk.added_value(f, new=["x"]), "outcome"),
    (lambda mk, f: mk.added_value(f, "y", new=["x"]), "base"),
    (lambda mk, f: mk.discordance(f, voice_flag="y"), "gld"),
])
def test_a_missing_column_role_is_a_clear_error_naming_the_parameter(call, parameter):
    import numpy as np

    import measurekit as mk

    rng = np.random.default_rng(3)
    f = pd.DataFrame({"pid": range(200), "g": rng.choice(["a", "b"], 200), "x": rng.normal(size=200),
                      "y": rng.integers(0, 2, 200), "responded": rng.integers(0, 2, 200)})
    with pytest.raises(InputError) as e:
        call(mk, f)
    (p,) = e.value.report.problems
    assert (p.code, p.column) == ("role_required", parameter) and f"{parameter}=" in p.message


def test_coverage_on_the_second_framework_uses_its_declared_roles(second, tmp_path):
    """Coverage by the second framework's declared `coverage_by` columns (no bundled column involved): the counts
    are the data's own, group by group, and a planted low-response group is found."""
    import numpy as np

    import measurekit as mk

    rng = np.random.default_rng(5)
    n = 600
    by = list(second.analysis.coverage_by)
    frame = pd.DataFrame({c: rng.choice(["p", "q", "r"], n) for c in by})
    truth = np.where(frame[by[0]] == "p", 0.2, 0.8)                   # planted: group p answers far less
    frame["responded"] = (rng.random(n) < truth).astype(int)
    cov = mk.coverage(frame, responded="responded", by=by)
    t = cov.table[cov.table["variable"] == by[0]].set_index("group")
    for g in "pqr":
        sub = frame[frame[by[0]] == g]
        assert t.loc[g, "n_cohort"] == len(sub) and t.loc[g, "n_responded"] == sub["responded"].sum()
    assert t.loc["p", "response_rate"] < 0.3 < 0.7 < t.loc["q", "response_rate"]
    assert by[0] in cov.summary.set_index("measure").loc["who_is_missing", "value"]


def test_the_bundled_pipeline_passes_the_declared_added_value_groups(bundled):
    for o in bundled.analysis.outcomes:
        assert o.by, o.column      # declared in framework.yaml, so the run's by-group tables stay as they were


# ---- 5. the trial report's wording comes from the framework ----

def _blocks_text(rep) -> str:
    out = []
    for s in rep.sections:
        out.append(s.title)
        for b in s.blocks:
            out += [str(v) for v in b.values() if isinstance(v, str)]
    return " ".join(out)


def test_added_value_section_takes_the_declared_outcome_words(second):
    from types import SimpleNamespace

    import numpy as np

    import measurekit as mk
    from measurekit.design.models import Outcome
    from measurekit.pipeline import trial_report
    from measurekit.pipeline.state import Value

    rng = np.random.default_rng(2)
    n = 400
    x = rng.normal(size=n)
    f = pd.DataFrame({"x": x, "base": rng.normal(size=n), "y": (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(int)})
    res = mk.added_value(f, "y", ["base"], ["x"], n_boot=0, cv=None)
    o = Outcome(column="y", title="Settled home at 21", words="being in a settled home at 21")
    state = SimpleNamespace(framework=second, value=Value(added_value={"y": res}, outcomes={"y": o}))
    rep = trial_report._Report("t", "s")
    trial_report._added_value(rep, state)
    text = _blocks_text(rep)
    assert "Added value: Settled home at 21" in text
    assert f"predicting {second.population.people} being in a settled home at 21" in text
    assert "GLD" not in text and "phonics" not in text and "children" not in text.split("predicting")[1][:40]


def test_dif_and_group_words_come_from_the_fairness_group(bundled):
    from types import SimpleNamespace

    from measurekit.pipeline import trial_report

    fw = bundled.model_copy(deep=True)
    g = next(g for g in fw.analysis.fairness_groups if g.dif)
    g.label, g.reference = "first language (Welsh or other)", "Welsh"
    fw.breakdown(g.column).words = "first language"
    label, column = trial_report._dif_words(fw, SimpleNamespace(dif_group=g.name))
    assert (label, column) == ("first language (Welsh or other)", "first language")
    # the area column is recognised by the framework's declaration, whatever its name
    area = fw.area_breakdown.id
    assert trial_report._group_label(fw, area, "North").endswith(": North")
    assert trial_report._group_label(fw, "fsm", 1) == fw.breakdown("fsm").value("1").label


def test_weighting_sentence_names_the_declared_margins(second):
    from types import SimpleNamespace

    import numpy as np

    import measurekit as mk
    from measurekit.pipeline import trial_report
    from measurekit.pipeline.state import Value

    fw = second.model_copy(deep=True)
    area = fw.area_breakdown.id
    fw.analysis.weighting_by = [area, "uasc"]
    rng = np.random.default_rng(4)
    n = 500
    f = pd.DataFrame({area: rng.choice(["A", "B", "C"], n), "uasc": rng.integers(0, 2, n),
                      "responded": rng.integers(0, 2, n)})
    v = Value(coverage=mk.coverage(f, responded="responded", by=[area, "uasc"]),
              weights=mk.response_weights(f, responded="responded", by=[area, "uasc"]))
    rep = trial_report._Report("t", "s")
    trial_report._coverage(rep, SimpleNamespace(framework=fw, value=v))
    text = _blocks_text(rep)
    assert f"Raking weights ({fw.area.area_word}, uasc)" in text
    assert "free school meals" not in text and "English as an additional language" not in text


def test_fallback_words_of_the_data_contract_do_not_reach_a_framework_with_its_own_population(bundled, second):
    from measurekit.core import labels

    # the bundled framework is on the data contract (children, child_id): its undeclared codes keep their words
    assert labels.category("summer_born", 1, framework=bundled) == labels.CATEGORIES[("summer_born", "1")]
    # a framework with its own population declares no sex breakdown: the value, not words about children
    assert labels.category("sex", "F", framework=second) == "F"
    assert labels.breakdown("all", framework=second) == "All"
    assert labels.breakdown("all", framework=bundled) == labels.BREAKDOWNS["all"]


@pytest.fixture(scope="module")
def second_run(second_site_run):
    """The second framework's synth (500 young people) and run, each in a fresh interpreter: the session's shared run
    (conftest ``second_site_run``, also read by tests/test_second_site.py)."""
    return second_site_run.out


def test_second_framework_trial_report_has_no_words_of_the_bundled_one(second_run):
    import html
    import re

    page = (second_run / "internal" / "trial_report.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    for words in ("GLD", "phonics", "free school meals", "English as an additional language", "Girls", "Boys",
                  "home language", "Summer-born"):
        assert words not in text, words
    cards = pd.read_csv(second_run / "internal" / "measurement" / "item_evidence_cards.csv")
    assert (cards.groupby("item").size() > 1).any()          # an item in several domains: a card for each
