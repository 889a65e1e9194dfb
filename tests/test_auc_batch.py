"""auc_batch (the added-value bootstrap's AUC): with bootstrap counts as weights it sorts without keeping tied scores
in order (faster); the AUCs are exactly those of a stable sort and those of the plain weighted AUC."""
import numpy as np

from measurekit.stats._numerics import logistic
from measurekit.stats._numerics.logistic import auc, auc_batch


def _stable(scores, y, w):
    return auc_batch(scores, y, w, order=np.argsort(scores, axis=1, kind="stable"))


def test_counts_as_weights_give_the_stable_sorts_aucs_exactly():
    rng = np.random.default_rng(3)
    n, b = 900, 40
    y = (rng.random(n) < 0.35).astype(float)
    # many ties: scores on a coarse grid, as predicted risks from a few categorical predictors are
    scores = np.round(rng.random((b, n)), 2)
    idx = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
    counts = np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(float)
    assert logistic._sort_kind(counts) is None
    fast, stable = auc_batch(scores, y, counts), _stable(scores, y, counts)
    assert np.array_equal(fast, stable)
    # and each is the weighted Mann-Whitney AUC of its resample (to rounding: a different formula)
    assert np.allclose(fast, [auc(y, s, w) for s, w in zip(scores, counts)], rtol=0, atol=1e-12)


def test_other_weights_keep_the_stable_sort():
    rng = np.random.default_rng(4)
    w = rng.random((3, 50))
    assert logistic._sort_kind(w) == "stable"
    assert logistic._sort_kind(np.full((2, 5), 2.0 ** 25)) == "stable"
    assert logistic._sort_kind(-np.ones((2, 5))) == "stable"
    scores, y = rng.random((3, 50)), (rng.random(50) < 0.5).astype(float)
    assert np.array_equal(auc_batch(scores, y, w), _stable(scores, y, w))
