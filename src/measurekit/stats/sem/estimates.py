"""Step 6 of a fit: the parameter table with standard errors and the fully standardised solution
(lavaan's ``parameterEstimates(fit, standardized = TRUE)``, column ``std.all``).

``std_all`` as lavaan's ``lav_standardize_all`` defines it: a loading times the factor's SD over the
item's model-implied SD; a residual variance over the item's implied variance; a residual covariance
over the product of the two residual SDs (a correlation of the residuals, lavaan's ``cov2cor(THETA)``);
a factor covariance over the factors' SDs; an intercept over the item's SD; a factor mean over the
factor's SD. For ordered items the latent responses' variances take the place of the items'.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["lhs", "op", "rhs", "group", "est", "se", "z", "p_val", "std_all"]


def _frame(rows: list[tuple]) -> pd.DataFrame:
    from scipy.special import ndtr

    lhs, op, rhs, grp, *nums = zip(*rows)
    value, se, std_all = (np.array(x, dtype=float) for x in nums)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, value / se, np.nan)
    # 2 * ndtr(-|z|) is what stats.norm.sf computes, without its per-call overhead
    return pd.DataFrame({"lhs": list(lhs), "op": list(op), "rhs": list(rhs), "group": list(grp), "est": value,
                         "se": se, "z": z, "p_val": 2 * ndtr(-np.abs(z)), "std_all": std_all})


def residual_correlation(cov: float, var_i: float, var_j: float) -> float:
    """A residual covariance over the residual SDs; as lavaan, the SD of a negative (improper) residual
    variance is taken from its absolute value (nan when a residual variance is 0)."""
    den = abs(var_i) * abs(var_j)
    return float(cov / np.sqrt(den)) if den > 0 else np.nan


def ml_table(spec, theta: np.ndarray, se: np.ndarray) -> pd.DataFrame:
    """Parameter table of an ML or FIML fit (spec: :class:`measurekit.stats.sem.spec.Spec`)."""
    rows = []
    for g, gname in enumerate(spec.groups):
        L, P, T, nu, al = spec.matrices(theta, g)
        Sigma = L @ P @ L.T + T
        sd_obs, sd_lat = np.sqrt(np.diag(Sigma)), np.sqrt(np.clip(np.diag(P), 1e-300, None))
        free = {(mat, i, j): kk for (mat, gg, i, j), kk in zip(spec.slots, spec.slot_param) if gg == g}
        for fi, f in enumerate(spec.factors):
            for x in spec.model.factors[f]:
                i = spec.observed.index(x)
                kk = free.get(("L", i, fi))
                rows.append((f, "=~", x, gname, L[i, fi], se[kk] if kk is not None else 0.0,
                             L[i, fi] * sd_lat[fi] / sd_obs[i]))
        for i, x in enumerate(spec.observed):
            rows.append((x, "~~", x, gname, T[i, i], se[free[("T", i, i)]], T[i, i] / Sigma[i, i]))
        for a, b in spec.model.residual_covariances:
            i, j = sorted((spec.observed.index(a), spec.observed.index(b)), reverse=True)
            rows.append((a, "~~", b, gname, T[i, j], se[free[("T", i, j)]],
                         residual_correlation(T[i, j], T[i, i], T[j, j])))
        for fi in range(len(spec.factors)):
            for fj in range(fi + 1):
                kk = free[("P", fi, fj)]
                rows.append((spec.factors[fj], "~~", spec.factors[fi], gname, P[fi, fj], se[kk],
                             P[fi, fj] / (sd_lat[fi] * sd_lat[fj])))
        if spec.meanstructure:
            for i, x in enumerate(spec.observed):
                rows.append((x, "~1", "", gname, nu[i], se[free[("nu", i, 0)]], nu[i] / sd_obs[i]))
            for fi, f in enumerate(spec.factors):
                kk = free.get(("alpha", fi, 0))
                rows.append((f, "~1", "", gname, al[fi], se[kk] if kk is not None else 0.0, al[fi] / sd_lat[fi]))
    return _frame(rows)


def ordinal_table(spec, res) -> pd.DataFrame:
    """Parameter table of a WLSMV fit (spec: ``_numerics.wlsmv.OrdSpec``, res: its ``DWLSFit``)."""
    from measurekit.stats._numerics.distributions import norm_sf

    theta, se = res.theta, res.se
    k_of = {}
    for (mat, g, i, j, key, _value) in spec.entries:
        k_of[(mat, g, i, j)] = spec.keys[key] if key is not None else None

    def s(mat, g, i, j):
        k = k_of.get((mat, g, i, j))
        return float(se[k]) if k is not None else 0.0

    obs, facs = spec.observed, spec.factors
    rescov = [(a, b, *sorted((obs.index(a), obs.index(b)), reverse=True)) for a, b in spec.residual_covariances]
    rows = []
    for g, gname in enumerate(spec.groups):
        M = spec.matrices(theta, g)
        L, P = M["L"], M["P"]
        S = L @ P @ L.T
        if spec.parameterization == "theta":
            th = M["th"]
            var_y = np.diag(S) + th
            dl = 1 / np.sqrt(var_y)
        else:
            dl = M["dl"]
            var_y = 1 / dl ** 2
            th = var_y - np.diag(S)
        sd_y, sd_f = np.sqrt(var_y), np.sqrt(np.clip(np.diag(P), 1e-300, None))
        for fi, f in enumerate(facs):
            for i, x in enumerate(obs):
                if (("L", g, i, fi)) in k_of:
                    rows.append((f, "=~", x, gname, L[i, fi], s("L", g, i, fi), L[i, fi] * sd_f[fi] / sd_y[i]))
        t = 0
        for i, x in enumerate(obs):
            for k in range(spec.ncat[i] - 1):
                rows.append((x, "|", f"t{k + 1}", gname, M["tau"][t], s("tau", g, t, 0), M["tau"][t] / sd_y[i]))
                t += 1
        for i, x in enumerate(obs):
            rows.append((x, "~~", x, gname, th[i], s("th", g, i, 0), th[i] / var_y[i]))
        for a, b, i, j in rescov:
            rows.append((a, "~~", b, gname, M["T"][i, j], s("T", g, i, j),
                         residual_correlation(M["T"][i, j], th[i], th[j])))
        for fi in range(len(facs)):
            for fj in range(fi + 1):
                a, b = (fj, fi)
                rows.append((facs[a], "~~", facs[b], gname, P[fi, fj], s("P", g, fi, fj),
                             P[fi, fj] / (sd_f[fi] * sd_f[fj])))
        for i, x in enumerate(obs):
            rows.append((x, "~*~", x, gname, dl[i], s("dl", g, i, 0), 1.0))
        for i, x in enumerate(obs):
            rows.append((x, "~1", "", gname, M["nu"][i], s("nu", g, i, 0), M["nu"][i] / sd_y[i]))
        for fi, f in enumerate(facs):
            rows.append((f, "~1", "", gname, M["al"][fi], s("al", g, fi, 0), M["al"][fi] / sd_f[fi]))
    est = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "group", "est", "se", "std_all"])
    with np.errstate(divide="ignore", invalid="ignore"):
        est["z"] = np.where(est["se"] > 0, est["est"] / est["se"], np.nan)
    est["p_val"] = 2 * norm_sf(np.abs(est["z"]))
    return est[COLUMNS]
