"""The school-readiness generator writes what the framework declares (issue 26): the parts of its model are played by
the columns synthetic.yaml's `roles` names, with the values framework.yaml declares; ethnic groups and form languages
come from synthetic.yaml; a declared column with no part is drawn evenly from its values; a profile that names what
the framework lacks is a clear error. The edits below are made to a copy of the bundled framework, by text."""
from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from measurekit.core import paths
from measurekit.problems import InputError
from measurekit.synth.cohort import make_cohort


def _bundled():
    """The bundled framework on the children contract (the one with a table of kind eyfsp)."""
    for folder in paths.bundled_frameworks().values():
        if "kind: eyfsp" in (folder / "framework.yaml").read_text(encoding="utf-8"):
            return folder
    pytest.skip("no bundled framework with an EYFSP table")


def _copy(tmp_path, edit_framework=None, edit_profile=None):
    fw = tmp_path / "fw"
    shutil.copytree(_bundled(), fw)
    for name, edit in (("framework.yaml", edit_framework), ("synthetic.yaml", edit_profile)):
        if edit is not None:
            path = fw / name
            text = path.read_text(encoding="utf-8")
            new = edit(text)
            assert new != text, f"the edit of {name} changed nothing"
            path.write_text(new, encoding="utf-8")
    return fw


def _sex_values(text: str) -> str:
    """Sex coded G/B instead of F/M: the column's enum and the sex breakdown's values."""
    text = re.sub(r"(\n  - name: sex\n(?:    .*\n)*?    enum:\n)    - F\n    - M\n", r"\1    - G\n    - B\n", text)
    return text.replace("  - value: F\n", "  - value: G\n").replace("  - value: M\n", "  - value: B\n")


def test_declared_values_are_written_and_the_reference_is_drawn_at_its_planted_share(tmp_path):
    fw = _copy(tmp_path, _sex_values, lambda t: t.replace("{column: sex, reference: F}", "{column: sex, reference: B}"))
    c = make_cohort(3000, 11, framework=fw, truth=False)
    sex = c.tables["children"]["sex"]
    assert set(sex) == {"G", "B"}
    # the reference value is drawn with probability 0.49 (the model's share): 3,000 draws, SE about 0.009
    assert abs((sex == "B").mean() - 0.49) < 0.04
    # the later outcome's sex term is for the other value, named so in the ground truth
    assert "sex_G" in c.ground_truth["later_outcome"]["coefficients"]["base"]
    assert not any(k.endswith(("_F", "_M")) for k in c.ground_truth["later_outcome"]["coefficients"]["base"])


def test_form_languages_and_ethnic_groups_follow_the_profile(tmp_path):
    """Families of a home language answer in the form language synthetic.yaml gives it (about 55% of them, the
    model's share) or in the first language; ethnic groups are drawn only among the ones listed for their language."""
    import yaml

    fw = _copy(tmp_path)
    prof = yaml.safe_load((fw / "synthetic.yaml").read_text(encoding="utf-8"))
    c = make_cohort(3000, 12, framework=fw, truth=False)
    children = c.tables["children"].set_index("child_id")
    voice = c.tables["voice_parent"].set_index("child_id")
    lang = children.loc[voice.index, "home_language"]
    offered = {home: code for code, homes in prof["translated_forms"].items() for home in homes}
    source = yaml.safe_load((fw / "framework.yaml").read_text(encoding="utf-8"))["languages"][0]
    expected = lang.map(offered).fillna(source)
    form = voice["form_language"]
    assert ((form == expected) | (form == source)).all()
    translated = lang.isin(list(offered))
    share = (form[translated] != source).mean()
    assert translated.sum() > 200 and abs(share - 0.55) < 0.08
    for home, groups in prof["ethnic_groups"].items():
        drawn = set(children.loc[children["home_language"] == home, "ethnicity_group"])
        assert drawn <= set(groups), (home, drawn - set(groups))


def test_a_declared_column_without_a_part_is_drawn_evenly_and_moves_no_other_draw(tmp_path):
    extra = ("  - name: zz_extra\n    type: integer\n    description: An extra column\n    required: true\n"
             "    enum:\n    - 1\n    - 2\n    - 3\n")
    fw = _copy(tmp_path, lambda t: t.replace("- name: small_areas\n", extra + "- name: small_areas\n", 1))
    before = make_cohort(600, 13, framework=_bundled(), truth=False)
    after = make_cohort(600, 13, framework=fw, truth=False)
    assert set(after.tables["children"]["zz_extra"]) == {1, 2, 3}
    assert after.tables["children"].drop(columns="zz_extra").equals(before.tables["children"])
    for name, table in before.tables.items():
        if name != "children":
            assert after.tables[name].equals(table), name


@pytest.mark.parametrize(("edit", "where"), [
    (lambda t: t.replace("free_meals: fsm", "free_meals: no_such_column"), "roles.free_meals"),
    (lambda t: t.replace("reference: none", "reference: nothing"), "roles.special_needs.reference"),
    (lambda t: t.replace("  summer_birth: summer_born\n", "  summer_birth: summer_born\n  shoe_size: sex\n"),
     "roles.shoe_size"),
    (lambda t: t.replace("  ur: [Urdu]\n", "  xx: [Urdu]\n"), "translated_forms.xx"),
    (lambda t: t.replace("  Polish: {White Other: 1.0}\n", ""), "ethnic_groups"),
    (lambda t: t.replace("  Arabic: {Arab: 0.85, Black: 0.15}\n", "  Arabic: {Martian: 1.0}\n"),
     "ethnic_groups.Arabic"),
    (lambda t: t.replace("  south_asian:\n  - 0.45\n", "  south_asian:\n"), "language_mixes.south_asian"),
])
def test_a_profile_naming_what_the_framework_lacks_is_a_clear_error(tmp_path, edit, where):
    fw = _copy(tmp_path, edit_profile=edit)
    with pytest.raises(InputError) as info:
        make_cohort(300, 4, framework=fw, truth=False)
    problems = info.value.report.problems
    assert [p.code for p in problems] == ["bad_synthetic_profile"], [(p.code, p.message) for p in problems]
    assert problems[0].column == where, problems[0]


def test_the_bundled_cohort_keeps_the_model_shares_under_the_role_columns():
    """Independent of the names: the drawn shares of the bundled cohort's parts are those of the model (GLD about
    60%, FSM gap about 20 points), read under the columns the roles name."""
    import yaml

    roles = yaml.safe_load((_bundled() / "synthetic.yaml").read_text(encoding="utf-8"))["roles"]
    c = make_cohort(3000, 1, framework=_bundled(), truth=False)
    f = c.analysis_frame()
    fsm = roles["free_meals"]
    gap = f.loc[f[fsm] == 0, "gld"].mean() - f.loc[f[fsm] == 1, "gld"].mean()
    assert 0.58 <= f["gld"].mean() <= 0.64 and 0.15 <= gap <= 0.25
    needs = roles["special_needs"]
    assert f[needs["column"]].value_counts().idxmax() == needs["reference"]
    assert np.isin(f[roles["moved_home"]], [0, 1]).all()
