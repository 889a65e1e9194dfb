"""The few distribution functions the main job needs, as ``scipy.stats`` computes them, without importing it.

``import scipy.stats`` costs about a third of a second of CPU (it brings scipy.spatial, ndimage, optimize, sparse
...) and each call of a distribution method about 50 microseconds of argument handling. Each function here calls the
``scipy.special`` function that the ``scipy.stats`` method calls, on the same arguments, and gives the edge cases the
values the method gives them (outside the support, at q = 0 or 1, invalid parameters: NaN), so the numbers are the
same to the last digit (tests/test_distributions.py compares them on a grid with the edges). Standard forms only
(loc 0, scale 1). A scalar argument gives a numpy scalar, as ``scipy.stats`` does.
"""
from __future__ import annotations

import numpy as np


def _prepare(x, args):
    arrays = np.broadcast_arrays(np.asarray(x, dtype=float), *(np.asarray(a, dtype=float) for a in args))
    x, params = arrays[0], arrays[1:]
    valid = np.ones(x.shape, dtype=bool)
    for p in params:                  # rv_continuous._argcheck: every shape parameter > 0 (NaN is not)
        valid &= p > 0
    return x, params, valid


def _done(out: np.ndarray):
    return out[()] if out.ndim == 0 else out


def _sf(func, x, args, lower: float):
    """rv_continuous.sf: 1 at or below the support's lower end, 0 at +inf, NaN for NaN or invalid parameters."""
    x, params, valid = _prepare(x, args)
    out = np.zeros(x.shape)
    out[~valid | np.isnan(x)] = np.nan
    out[valid & (x <= lower)] = 1.0
    inside = valid & (lower < x) & (x < np.inf)
    if inside.any():
        out[inside] = func(*(p[inside] for p in params), x[inside])
    return _done(out)


def _ppf(func, q, args, lower: float, upper: float = np.inf):
    """rv_continuous.ppf: the support's ends at q = 0 and 1, NaN outside [0, 1] or for invalid parameters."""
    q, params, valid = _prepare(q, args)
    out = np.full(q.shape, np.nan)
    out[valid & (q == 0)] = lower
    out[valid & (q == 1)] = upper
    inside = valid & (0 < q) & (q < 1)
    if inside.any():
        out[inside] = func(*(p[inside] for p in params), q[inside]) * 1 + 0    # * scale + loc, as scipy (-0 -> 0)
    return _done(out)


def chi2_sf(x, df):
    """``scipy.stats.chi2.sf(x, df)``."""
    from scipy.special import chdtrc

    return _sf(chdtrc, x, (df,), 0.0)


def f_sf(x, dfn, dfd):
    """``scipy.stats.f.sf(x, dfn, dfd)``."""
    from scipy.special import fdtrc

    return _sf(fdtrc, x, (dfn, dfd), 0.0)


def f_ppf(q, dfn, dfd):
    """``scipy.stats.f.ppf(q, dfn, dfd)``."""
    from scipy.special import fdtri

    return _ppf(fdtri, q, (dfn, dfd), 0.0)


def t_ppf(q, df):
    """``scipy.stats.t.ppf(q, df)``."""
    from scipy.special import stdtrit

    return _ppf(stdtrit, q, (df,), -np.inf)


def norm_ppf(q):
    """``scipy.stats.norm.ppf(q)``."""
    from scipy.special import ndtri

    return _ppf(ndtri, q, (), -np.inf)


def norm_sf(x):
    """``scipy.stats.norm.sf(x)``."""
    from scipy.special import ndtr

    return _sf(lambda z: ndtr(-z), x, (), -np.inf)
