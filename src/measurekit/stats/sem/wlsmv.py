"""Step 4 of a fit, ordered items: WLSMV (lavaan ``estimator = "WLSMV"``): DWLS on thresholds and
polychoric correlations, robust standard errors and the scaled-and-shifted test (the numerics are in
``_numerics/wlsmv.py``; the sample statistics in ``_numerics/polychoric.py``)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from measurekit.stats.sem import fit_measures as fm
from measurekit.stats.sem.estimates import ordinal_table
from measurekit.stats.sem.results import CFAResult, Solution
from measurekit.stats.sem.spec import not_identified


def fit_ordinal(sample, level: str = "configural", id_fac: str = "marker", parameterization: str = "delta",
                release=()) -> CFAResult:
    """Fit ``sample.model`` to :class:`~measurekit.stats.sem.sample.OrdinalSample` ``sample`` at an
    invariance ``level`` (see ``_numerics.wlsmv.build_spec``); fit measures named as lavaan's."""
    from measurekit.stats._numerics.wlsmv import baseline, build_spec, fit_dwls

    moms = sample.moments
    stats_ = [mo.stats for mo in moms]
    gammas = [mo.gamma for mo in moms]
    nobs = np.array([mo.n for mo in moms], dtype=float)
    spec = build_spec(sample.model, sample.groups, sample.ncat, parameterization, level, id_fac, release, stats_[0])
    res = fit_dwls(spec, stats_, gammas, nobs)
    if res.df < 0:
        raise not_identified(f"The model is not identified: it has {spec.n_free} free parameters but only "
                             f"{sum(len(s) for s in stats_)} thresholds and correlations. Add indicators or "
                             "constraints.")
    N, G = nobs.sum(), len(moms)
    nth = int((sample.ncat - 1).sum())
    chisq_b, chisq_b_scaled, df_b = baseline(stats_, gammas, nobs, [nth] * G)
    df = res.df
    srmr = fm.srmr_correlations(res.residuals, nobs, nth, len(spec.observed))
    warnings, admissible = list(sample.merged), True
    estimates = ordinal_table(spec, res)
    resid = estimates[(estimates.op == "~~") & (estimates.lhs == estimates.rhs)]
    if (resid["est"] < 0).any() or not res.converged:
        admissible = not (resid["est"] < 0).any()
    if not admissible:
        warnings.append("Improper solution: a residual variance is negative (a Heywood case). Do not interpret these "
                        "estimates; simplify the model.")
    if not res.converged:
        warnings.append("The model did not converge: the numbers below are not trustworthy.")
    if G > 1 and nobs.min() < 200:
        warnings.append(f"The smallest group has {int(nobs.min())} rows: ordinal estimates need more data than ML "
                        "(aim for 200+ per group).")
    if any(mo.converged is False for mo in moms):
        warnings.append("A polychoric correlation did not converge.")
    n_rmsea = N - G                                     # lavaan: N - G for the DWLS statistics
    fit = pd.DataFrame([{
        "chisq": res.chisq, "df": df, "pvalue": fm.pvalue(res.chisq, df),
        "chisq_scaled": res.chisq_scaled, "df_scaled": df,
        "pvalue_scaled": fm.pvalue(res.chisq_scaled, df),
        "cfi_scaled": fm.cfi(res.chisq_scaled, df, chisq_b_scaled, df_b),
        "tli_scaled": fm.tli(res.chisq_scaled, df, chisq_b_scaled, df_b),
        "rmsea_scaled": fm.rmsea(res.chisq_scaled, df, n_rmsea, G), "cfi": fm.cfi(res.chisq, df, chisq_b, df_b),
        "tli": fm.tli(res.chisq, df, chisq_b, df_b), "rmsea": fm.rmsea(res.chisq, df, n_rmsea, G), "srmr": srmr,
        "baseline_chisq": chisq_b, "baseline_chisq_scaled": chisq_b_scaled, "n": int(N), "n_free": spec.n_free,
        "converged": res.converged, "admissible": admissible, "estimator": "WLSMV",
        "parameterization": parameterization, "n_rows": sample.selection.n_rows,
        "n_dropped": sample.selection.dropped}])
    return CFAResult(fit, estimates, res.converged, admissible, warnings, sample.note, Solution(spec, res.theta, res))
