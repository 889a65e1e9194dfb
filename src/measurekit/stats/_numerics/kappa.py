"""Cohen's weighted kappa for two ratings of the same cases, with its large-sample standard error.

One kernel behind ``stats.retest.weighted_kappa`` (estimate only) and ``stats.agreement.cohen_kappa`` (estimate,
standard error, interval). Agreement weights on ``m`` ordered categories: ``w_ij = 1 - (|i - j| / (m - 1)) ** p``
with ``p = 1`` (linear) or ``p = 2`` (quadratic), exactly the weights matrix of ``psych::cohen.kappa`` (quadratic is
its default; linear is ``w = 1 - abs(outer(0:10, 0:10, "-")) / 10`` for a 0-10 scale). The estimate is
``(po - pe) / (1 - pe)`` with ``po = sum(w * p_ij)`` and ``pe = sum(w * p_i. * p_.j)`` (psych ``weighted.kappa``;
= sklearn ``cohen_kappa_score(weights=...)``). The standard error is Fleiss, Cohen and Everitt's (1969) large-sample
formula as SAS PROC FREQ and statsmodels ``cohens_kappa`` compute it (psych's ``var.weighted`` sums its margins the
other way round and can come out negative, which psych then sets to 0; it is not used here).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from measurekit.problems import InputError

WEIGHTS = {"linear": 1, "quadratic": 2}


def kappa_weights(m: int, weights: str = "quadratic") -> np.ndarray:
    """The m x m agreement weights matrix ``1 - (|i - j| / (m - 1)) ** p`` (psych::cohen.kappa's ``w``)."""
    if weights not in WEIGHTS:
        raise InputError.of("bad_option", f"weights must be 'linear' or 'quadratic', not {weights!r}.",
                            column="weights", value=repr(weights), rule="linear | quadratic")
    d = np.abs(np.subtract.outer(np.arange(m), np.arange(m))).astype(float)
    return 1.0 - (d / max(m - 1, 1)) ** WEIGHTS[weights]


def contingency(a, b, categories) -> np.ndarray:
    """The m x m table of counts of (a, b) over the ordered ``categories`` (a rating not among them: InputError)."""
    cats = list(categories)
    m = len(cats)
    # category numbers as int64: pandas' own codes are int8 for up to 127 categories, and ia * m + ib overflows
    ia = pd.Categorical(np.asarray(a), categories=cats).codes.astype(np.int64)
    ib = pd.Categorical(np.asarray(b), categories=cats).codes.astype(np.int64)
    if (ia < 0).any() or (ib < 0).any():
        bad = np.asarray(a)[ia < 0] if (ia < 0).any() else np.asarray(b)[ib < 0]
        raise InputError.of("out_of_range", "Weighted kappa: a rating is not one of the scale's categories.",
                            value=str(bad[0]), rule="one of " + ", ".join(map(str, cats)))
    return np.bincount(ia * m + ib, minlength=m * m).reshape(m, m).astype(float)


def weighted_kappa_table(table: np.ndarray, weights: str = "quadratic", level: float = 0.95) -> dict:
    """Weighted kappa of an m x m table of counts: ``estimate``, ``se`` (Fleiss, Cohen and Everitt 1969),
    ``ci_low`` / ``ci_high`` (estimate -/+ z * se, clipped to [-1, 1] as psych does), ``n``."""
    from measurekit.stats._numerics.distributions import norm_ppf

    table = np.asarray(table, dtype=float)
    n = table.sum()
    m = table.shape[0]
    w = kappa_weights(m, weights)
    p = table / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po = float((w * p).sum())
    pe = float((w * np.outer(rows, cols)).sum())
    if pe >= 1:                      # one category used by both raters: no variation, kappa undefined
        return {"estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": int(n)}
    kappa = (po - pe) / (1 - pe)
    wi = w @ cols                   # mean weight of row category i over the second rating's margin
    wj = rows @ w                   # mean weight of column category j over the first rating's margin
    term = (p * (w - np.add.outer(wi, wj) * (1 - kappa)) ** 2).sum()
    var = (term - (kappa - pe * (1 - kappa)) ** 2) / ((1 - pe) ** 2 * n)
    se = float(np.sqrt(var)) if var > 0 else 0.0
    z = float(norm_ppf(0.5 + level / 2))
    return {"estimate": float(kappa), "se": se, "ci_low": float(max(kappa - z * se, -1.0)),
            "ci_high": float(min(kappa + z * se, 1.0)), "n": int(n)}
