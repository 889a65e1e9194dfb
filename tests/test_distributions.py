"""stats/_numerics/distributions: the distribution functions the main job uses give scipy.stats' numbers to the last
digit, edges included (outside the support, q of 0 and 1, invalid or missing parameters)."""
import numpy as np
import pytest
from scipy import stats

from measurekit.stats._numerics import distributions as d

X = np.array([-np.inf, -3.0, -1.0, -0.0, 0.0, 1e-12, 0.3, 1.0, 2.5, 7.9, 40.0, 1e6, np.inf, np.nan])
Q = np.array([-0.1, 0.0, 1e-15, 0.001, 0.025, 0.5, 0.8, 0.975, 0.999999, 1.0, 1.5, np.nan])
DF = np.array([-1.0, 0.0, 0.5, 1.0, 3.0, 17.0, 250.0, 1e5, np.inf, np.nan])


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True) \
        and np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("ours, theirs, grid, n_par", [
    (d.chi2_sf, stats.chi2.sf, X, 1), (d.f_sf, stats.f.sf, X, 2), (d.norm_sf, stats.norm.sf, X, 0),
    (d.norm_ppf, stats.norm.ppf, Q, 0), (d.t_ppf, stats.t.ppf, Q, 1), (d.f_ppf, stats.f.ppf, Q, 2)])
def test_same_numbers_as_scipy_stats(ours, theirs, grid, n_par):
    if n_par == 0:
        args = [()]
    elif n_par == 1:
        args = [(df,) for df in DF]
    else:
        args = [(a, b) for a in DF[::2] for b in DF[1::2]]
    for a in args:
        assert same(ours(grid, *a), theirs(grid, *a)), (ours.__name__, a)
        for v in grid:                                        # scalars give numpy scalars, as scipy.stats
            mine, ref = ours(v, *a), theirs(v, *a)
            assert type(mine) is type(ref) and same(mine, ref), (ours.__name__, v, a)
    # arrays of parameters broadcast against the values
    if n_par:
        grid2 = np.resize(grid, len(DF))
        pars = [DF] * n_par
        assert same(ours(grid2, *pars), theirs(grid2, *pars))
