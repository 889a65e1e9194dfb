"""The rounds' audit of secondary suppression (issue 30) gives the verdicts of the exact audit.

``protect`` audits one pattern per round with ``exact_failures=False`` (a count whose linear bounds are too close
fails without its exact integer ends) and an ``Evidence`` of whole-number solutions kept from earlier rounds. Here a
sequence of patterns (growing, shrinking, back to an earlier one) is audited that way, with one
evidence and one cache shared by the whole sequence, and each pattern afresh with every bound solved exactly
(``full=True``): every count's verdict must agree, and the ends the fast audit reports (values the intruder cannot
rule out) must lie inside the exact interval, for failing counts too.
"""
from __future__ import annotations

import numpy as np
import pytest

import measurekit as mk
from measurekit.design import load_framework

from test_disclosure_speed import _patterns, assert_same_verdicts


@pytest.fixture(scope="module")
def fw(framework_dir):
    return load_framework(framework_dir)


@pytest.mark.parametrize("n,seed", [(150, 7)])
def test_fast_round_audit_gives_the_exact_verdicts(fw, n, seed):
    from measurekit.publish import disclosure_audit as da

    raw = mk.board_table(mk.make_cohort(n, random_state=seed, truth=False), framework=fw, disclosure=False)
    model = da.build_model(raw, fw)
    rounding = np.full(len(raw), np.nan)
    evidence, cache = da.Evidence(model.truth), {}
    failing = 0
    for s in _patterns(raw, fw, np.random.default_rng(seed), k=5):
        fast = da.audit(model, s, rounding, cache=cache, exact_failures=False, evidence=evidence)
        exact = da.audit(model, s, rounding, full=True)
        assert_same_verdicts(fast, exact)
        failing += int((~exact.table["passed"]).sum())
    assert failing > 0                         # the sequence holds counts that fail: the fast path was exercised


def test_kept_solutions_are_solutions_of_the_new_pattern(fw):
    """Every solution the evidence offers for a pattern satisfies that pattern's constraints and bounds (checked
    with the constraint matrix directly, the rest of the unknowns at their true values)."""
    from measurekit.publish import disclosure_audit as da

    raw = mk.board_table(mk.make_cohort(200, random_state=9, truth=False), framework=fw, disclosure=False)
    model = da.build_model(raw, fw)
    evidence = da.Evidence(model.truth)
    pats = _patterns(raw, fw, np.random.default_rng(9), k=5)
    offered = 0
    for s in pats:
        lo, hi = da.published_bounds(model, s)
        cols = np.flatnonzero(lo < hi)
        for x in evidence.points(cols, lo, hi):
            full = model.truth.astype(float).copy()
            full[cols] = x
            ax = model.A @ full
            eq = model.sense == "="
            assert np.allclose(ax[eq], 0) and (ax[~eq] <= 1e-9).all()
            assert (full >= lo - 1e-9).all() and (full <= hi + 1e-9).all()
            assert np.allclose(full, np.round(full))
            offered += 1
        da.audit(model, s, None, exact_failures=False, evidence=evidence)
    assert offered > 0
