"""The board table's aggregation (group counts once per breakdown) gives the same table as the
per-indicator-and-cell code it replaced, frozen in tests/fixtures/board_table/ for the seed-1 cohort
(plain, weighted, with small areas). Disclosure control is left out: it has its own tests."""
import importlib.util

import numpy as np
import pandas as pd
import pytest

from measurekit.publish import board_table as bt


@pytest.fixture(scope="module")
def frozen(fixtures_dir, cohort):
    spec = importlib.util.spec_from_file_location("make_frozen", fixtures_dir / "board_table" / "make_frozen.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return fixtures_dir / "board_table", list(mod.variants(cohort))


def test_aggregation_identical_to_frozen_output(frozen, monkeypatch):
    import measurekit.core.formatting as formatting

    # the aggregation before publication rounding (added after the freeze, tested in its own module)
    monkeypatch.setattr(formatting, "publish_board_table", lambda table, framework: table)
    folder, variants = frozen
    for name, fw, cohort, kw in variants:
        new = bt.board_table(cohort, framework=fw, disclosure=False, **kw)
        old = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        area = getattr(fw, "area", None)
        if area:   # LA rows carry the framework's GSS code and name since the EES export (not before)
            la = old["geography_type"] == "la"
            old.loc[la, "geography_code"], old.loc[la, "geography_name"] = area.new_la_code, area.la_name
        assert list(new.columns) == list(old.columns) and len(new) == len(old), name
        for col in new.columns:
            if col in ("numerator", "denominator", "value", "ci_low", "ci_high", "comparator"):
                a = new[col].to_numpy(dtype=float)
                b = pd.to_numeric(old[col].replace("", np.nan)).to_numpy(dtype=float)
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=f"{name}.{col}")
            else:
                got = new[col].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
                assert list(got) == list(old[col]), f"{name}.{col}"
