"""The fast paths of disclosure control give the verdicts of the plain audit.

Secondary suppression audits one pattern per round and keeps, between rounds, the pieces of the intruder's
problem it has already audited (``audit(..., cache=...)``). Here random sequences of patterns (growing, shrinking,
coming back to an earlier one) are audited with one shared cache and, independently, afresh each time and exactly
(``full=True``): the pass/fail verdict of every count must agree, and every interval the cached audit reports must
lie inside the exact one (its ends are values the intruder cannot rule out).
"""
from __future__ import annotations

import numpy as np
import pytest

import measurekit as mk
from measurekit.design import load_framework


@pytest.fixture(scope="module")
def fw(framework_dir):
    return load_framework(framework_dir)


def _patterns(raw, fw, rng, k=6):
    from measurekit.publish.disclosure import primary_mask

    base = primary_mask(raw, fw)
    pats, cur = [], base.copy()
    for step in range(k):
        if step == 4:                     # back to an earlier pattern: every piece is met again
            cur = pats[1].copy()
        else:
            flip = rng.random(len(cur)) < 0.08
            cur = (cur | flip) if step % 3 != 2 else ((cur & ~flip) | base)
        pats.append(cur.copy())
    return pats


def assert_same_verdicts(fast, exact) -> None:
    """``fast`` (an audit by a fast path) and ``exact`` (``full=True``) hold the same counts with the same verdicts,
    and each interval ``fast`` reports lies inside the exact one (its ends are values the intruder cannot rule out)."""
    f = fast.table.set_index(["row", "count"]).sort_index()
    e = exact.table.set_index(["row", "count"]).sort_index()
    assert list(f.index) == list(e.index)
    assert (f["passed"] == e["passed"]).all(), (f[f["passed"] != e["passed"]], e[f["passed"] != e["passed"]])
    assert fast.passed == exact.passed
    assert (f["low"] >= e["low"] - 1e-6).all() and (f["high"] <= e["high"] + 1e-6).all()
    # the exact interval is the intruder's; a count passes exactly when that interval is wide enough
    assert (e["passed"] == (e["high"] - e["low"] >= e["required"])).all()


@pytest.mark.parametrize("n,seed", [(150, 3)])
def test_cached_audit_gives_the_exact_verdicts(fw, n, seed):
    from measurekit.publish import disclosure_audit as da

    raw = mk.board_table(mk.make_cohort(n, random_state=seed, truth=False), framework=fw, disclosure=False)
    model = da.build_model(raw, fw)
    rounding = np.full(len(raw), np.nan)
    cache: dict = {}
    hits = 0
    for s in _patterns(raw, fw, np.random.default_rng(seed)):
        before = len(cache)
        fast = da.audit(model, s, rounding, cache=cache)
        exact = da.audit(model, s, rounding, full=True)
        hits += len(cache) == before and len(fast.table) > 0
        assert_same_verdicts(fast, exact)
    assert hits >= 1                      # the pattern met again was answered from the cache


def test_protect_uses_the_cache_without_changing_the_result(fw, monkeypatch):
    """The same withheld rows with the cache as with every round audited afresh."""
    from measurekit.publish import disclosure_audit as da
    from measurekit.publish.disclosure import protect

    raw = mk.board_table(mk.make_cohort(150, random_state=5, truth=False), framework=fw, disclosure=False)
    with_cache = protect(raw, fw)
    plain = da.audit

    def no_cache(*a, cache=None, **k):
        return plain(*a, **k)

    monkeypatch.setattr(da, "audit", no_cache)
    without = protect(raw, fw)
    assert (with_cache.table["suppressed"].to_numpy() == without.table["suppressed"].to_numpy()).all()
    assert with_cache.rounds == without.rounds and with_cache.audit.passed and without.audit.passed


def test_highs_runs_when_another_thread_count_started_first():
    """HiGHS's scheduler is shared by the process: code outside measurekit may have started it with another
    thread count; the audit's solvers still run (and return the optimum)."""
    highspy = pytest.importorskip("highspy")
    from measurekit.publish import disclosure_audit as da

    def lp(h):
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = 2, 1
        lp.col_cost_ = np.array([1.0, 2.0])
        lp.col_lower_, lp.col_upper_ = np.zeros(2), np.array([10.0, 10.0])
        lp.row_lower_, lp.row_upper_ = np.array([3.0]), np.array([highspy.kHighsInf])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.array([0, 1, 2], dtype=np.int32)
        lp.a_matrix_.index_ = np.array([0, 0], dtype=np.int32)
        lp.a_matrix_.value_ = np.array([1.0, 1.0])
        h.passModel(lp)
        return h

    other = highspy.Highs()
    other.setOptionValue("output_flag", False)
    other.setOptionValue("threads", 2)
    highspy.Highs.resetGlobalScheduler(True)
    lp(other).run()                                     # the scheduler now runs 2 threads
    h = lp(da.new_highs())
    da.run_highs(h)
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert abs(h.getInfo().objective_function_value - 3.0) < 1e-9
