import pandas as pd
import pytest

from measurekit.data import eyfsp


def _frame(**overrides):
    row = {c: "2" for c in eyfsp.ELG_COLUMNS}
    row.update(overrides)
    return pd.DataFrame([row])


def test_seventeen_elgs_twelve_count_for_gld():
    assert len(eyfsp.ELGS) == 17
    assert len(eyfsp.GLD_COLUMNS) == 12
    areas = {e.area for e in eyfsp.ELGS if e.counts_for_gld}
    assert areas == {"Communication and Language", "Personal, Social and Emotional Development",
                     "Physical Development", "Literacy", "Mathematics"}


def test_all_expected_is_gld():
    assert eyfsp.derive_gld(_frame()).iloc[0] == 1
    assert eyfsp.total_expected(_frame()).iloc[0] == 17


@pytest.mark.parametrize("column", eyfsp.GLD_COLUMNS)
def test_one_emerging_gld_elg_means_no_gld(column):
    assert eyfsp.derive_gld(_frame(**{column: "1"})).iloc[0] == 0


@pytest.mark.parametrize("column", ["elg_past_present", "elg_people_culture", "elg_natural_world",
                                    "elg_creating_materials", "elg_imaginative"])
def test_understanding_world_and_arts_do_not_count(column):
    f = _frame(**{column: "1"})
    assert eyfsp.derive_gld(f).iloc[0] == 1
    assert eyfsp.total_expected(f).iloc[0] == 16


def test_not_assessed_is_not_expected_and_whitespace_is_tolerated():
    assert eyfsp.derive_gld(_frame(elg_number="A")).iloc[0] == 0
    assert eyfsp.derive_gld(_frame(elg_number=" 2 ")).iloc[0] == 1


def test_shipped_gld_agrees_with_rule(synthetic_dir):
    e = pd.read_csv(synthetic_dir / "eyfsp.csv", dtype=str)
    assert (eyfsp.derive_gld(e).astype(str) == e["gld"]).all()
    assert (eyfsp.total_expected(e).astype(str) == e["total_elgs_expected"]).all()
