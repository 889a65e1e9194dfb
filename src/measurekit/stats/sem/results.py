"""Step 7 of a fit: the result object, and the assembly of fit measures, checks of the solution and
the parameter table that ML and FIML share."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.stats.sem import fit_measures as fm
from measurekit.stats.sem.estimates import ml_table
from measurekit.stats.sem.spec import improper


@dataclass
class Solution:
    """What a later fit or test needs from this one: the parameter table (``spec``), the estimates
    (``theta``) and, for WLSMV, the DWLS fit (``fitted``: weights, residuals, robust covariance)."""
    spec: Any
    theta: np.ndarray
    fitted: Any = None


@dataclass
class CFAResult(Result):
    """Result of :func:`measurekit.cfa`.

    fit (one row), ML: chisq, df, pvalue, cfi, tli, rmsea, rmsea_ci_low, rmsea_ci_high (90%), srmr,
        aic, bic, loglik, n, n_free, converged, admissible, estimator, n_rows (rows given), n_dropped;
        with ``missing="ml"`` also loglik_saturated (lavaan's "unrestricted.logl"). Names as lavaan's
        ``fitMeasures`` with "." as "_" (rmsea.ci.lower -> rmsea_ci_low, logl -> loglik, ntotal -> n).
    fit, WLSMV (``ordered=``): chisq, df, pvalue (DWLS statistic N F, lavaan's "chisq"),
        chisq_scaled, df_scaled, pvalue_scaled (the scaled-and-shifted statistic lavaan reports for
        WLSMV; use these), cfi_scaled, tli_scaled, rmsea_scaled (lavaan's "cfi.scaled", "tli.scaled",
        "rmsea.scaled"), cfi, tli, rmsea (from the unscaled statistic), srmr (lavaan's "srmr": the
        root mean square of the correlation residuals), baseline_chisq, baseline_chisq_scaled, n,
        n_free, converged, admissible, estimator, parameterization, n_rows, n_dropped.
    estimates: lhs, op (=~ loading, ~~ (co)variance, ~1 intercept or mean, | threshold with rhs t1,
        t2, ..., ~*~ scale factor of an ordered item), rhs, group, est, se (robust for WLSMV), z,
        p_val, std_all (lavaan's fully standardised solution; a residual covariance over the residual
        SDs), as ``lavaan::parameterEstimates(fit, standardized = TRUE)``.
    sample: one sentence saying how many rows were used and why any others were dropped.

    An ML or FIML fit computes the estimates, the test statistic and the checks of the solution in the
    call; ``fit`` and ``estimates`` are built from them when first read (as lavaan's ``fitMeasures`` and
    ``parameterEstimates`` are separate calls; the same tables whenever they are read).
    """

    _fit_table: Any                 # the table, or a function that builds it the first time it is read
    _estimates_table: Any
    converged: bool = True
    admissible: bool = True
    warnings: list[str] = field(default_factory=list)
    sample: str = ""
    _solution: Solution | None = field(default=None, repr=False, compare=False)
    _title = "Confirmatory factor analysis"
    _main = "estimates"

    def __getstate__(self) -> dict:
        """Pickled (e.g. sent back from a worker process of the main job) with its tables built: the functions
        that build them when first read are closures, which do not pickle."""
        self.fit, self.estimates  # noqa: B018 - build them
        return self.__dict__.copy()

    @property
    def fit(self) -> pd.DataFrame:
        if callable(self._fit_table):
            self._fit_table = self._fit_table()
        return self._fit_table

    @property
    def estimates(self) -> pd.DataFrame:
        if callable(self._estimates_table):
            self._estimates_table = self._estimates_table()
        return self._estimates_table

    def _fields(self) -> dict[str, Any]:
        return {"fit": self.fit, "estimates": self.estimates, "converged": self.converged,
                "admissible": self.admissible, "warnings": self.warnings, "sample": self.sample}


def finish(spec, theta, d, selection, chisq, df_model, chisq_b, loglik, converged, warnings, estimator, se,
           few_categories: bool, extra: dict | None = None) -> CFAResult:
    """Fit measures (lavaan's formulas; N, not N - 1), improper-solution checks and the estimates table
    of an ML or FIML fit. ``d`` holds the saturated model's moments (sample moments, or EM estimates
    with missing data)."""
    p, G, Ntot = len(spec.observed), len(spec.groups), d.N.sum()
    admissible = not improper(spec, theta)
    if not admissible:
        warnings.append("Improper solution: a residual variance is negative or the factor covariance matrix is not "
                        "positive definite (a Heywood case). Do not interpret these estimates; simplify the model.")
    if few_categories:
        warnings.append("Items with 7 or fewer response categories are treated as continuous (ML). "
                        "Estimates of fit can be biased for strongly skewed items.")

    def fit_table() -> pd.DataFrame:
        df_b = G * p * (p - 1) // 2
        lo, hi = fm.rmsea_ci(chisq, df_model, Ntot, G)
        srmr_g = []
        for g in range(G):
            L, P, T, nu, al = spec.matrices(theta, g)
            srmr_g.append(fm.srmr_ml(d.S[g], d.M[g], L @ P @ L.T + T, nu + L @ al if spec.meanstructure else None))
        srmr = float(np.sum(np.array(srmr_g) * d.N) / Ntot)
        row = {"chisq": chisq, "df": df_model, "pvalue": fm.pvalue(chisq, df_model),
               "cfi": fm.cfi(chisq, df_model, chisq_b, df_b), "tli": fm.tli(chisq, df_model, chisq_b, df_b),
               "rmsea": fm.rmsea(chisq, df_model, Ntot, G), "rmsea_ci_low": lo, "rmsea_ci_high": hi, "srmr": srmr,
               "aic": -2 * loglik + 2 * spec.n_free, "bic": -2 * loglik + spec.n_free * np.log(Ntot),
               "loglik": loglik, "n": int(Ntot), "n_free": spec.n_free, "converged": converged,
               "admissible": admissible, "estimator": estimator, "n_rows": selection.n_rows,
               "n_dropped": selection.dropped, **(extra or {})}
        return pd.DataFrame([row])

    return CFAResult(fit_table, lambda: ml_table(spec, theta, se), converged, admissible, warnings,
                     selection.note, Solution(spec, theta))
