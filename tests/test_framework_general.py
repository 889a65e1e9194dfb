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
