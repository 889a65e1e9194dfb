"""Confirmatory factor analysis, single- and multi-group, with equality constraints: ML for items
treated as continuous, WLSMV (DWLS on polychoric correlations and thresholds) for ordered items.

No Python library fits multi-group models with cross-group equality constraints (semopy fits groups
separately), which measurement invariance needs; this module does, with lavaan's defaults: ML
with ``likelihood = "normal"`` (covariances divided by N), the first loading of each factor
fixed to 1, factor variances and covariances free, a mean structure in multi-group models
(intercepts free, factor means 0; with equal intercepts the factor means of groups after the
first are freed), listwise deletion. With ``ordered=`` the items are ordinal and the estimator is
lavaan's ``estimator = "WLSMV"`` (see ``_numerics/wlsmv.py`` and ``_numerics/polychoric.py``).
Checked against lavaan 0.6-14 (``tests/fixtures/r/lavaan.R``, ``tests/fixtures/r/lavaan_wlsmv.R``).
"""
from __future__ import annotations

import warnings as _warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from measurekit.core.result import Result
from measurekit.stats.model_syntax import MeasurementModel, parse_model
from measurekit.problems import InputError, Problem, ProblemReport
from measurekit.stats._numerics.threads import single_thread

EQUAL_OPTIONS = ("loadings", "intercepts", "residuals")


@dataclass
class _Spec:
    model: MeasurementModel
    observed: list[str]
    factors: list[str]
    groups: list[str]
    meanstructure: bool
    slots: list[tuple]          # (matrix, group, i, j) -> index into theta via slot_param
    slot_param: np.ndarray
    n_free: int


def _build(model: MeasurementModel, groups: list[str], meanstructure: bool, equal, release) -> _Spec:
    obs, facs = model.observed, list(model.factors)
    slots, keys, index = [], [], {}

    def add(matrix, g, i, j, shared):
        key = (matrix, i, j) if shared else (matrix, i, j, g)
        if key not in index:
            index[key] = len(index)
        slots.append((matrix, g, i, j))
        keys.append(index[key])

    release = {(kind, name) for kind, name in (release or [])}
    for g in range(len(groups)):
        for fi, f in enumerate(facs):
            items = model.factors[f]
            for k, x in enumerate(items):
                i = obs.index(x)
                if (f, x) in model.fixed_loadings or (k == 0 and f not in model.free_first):
                    continue
                add("L", g, i, fi, "loadings" in equal and ("loadings", x) not in release)
        for fi in range(len(facs)):
            for fj in range(fi + 1):
                add("P", g, fi, fj, False)
        for i, x in enumerate(obs):
            add("T", g, i, i, "residuals" in equal and ("residuals", x) not in release)
        for a, b in model.residual_covariances:
            i, j = sorted((obs.index(a), obs.index(b)), reverse=True)
            add("T", g, i, j, False)
        if meanstructure:
            for i, x in enumerate(obs):
                add("nu", g, i, 0, "intercepts" in equal and ("intercepts", x) not in release)
            if "intercepts" in equal and g > 0:
                for fi in range(len(facs)):
                    add("alpha", g, fi, 0, False)
    return _Spec(model, obs, facs, groups, meanstructure, slots, np.array(keys), len(index))


@dataclass
class _Maps:
    """theta -> model matrices of every group, as dense linear maps (built once per spec).

    For each matrix X in L (p x m loadings), P (m x m factor covariances), T (p x p residual
    covariances), nu (p intercepts), alpha (m factor means): ``dX`` (G x k x shape) is dX_g / dtheta_k,
    so X = theta . dX (+ the fixed loadings for L). A symmetric entry maps to both (i, j) and (j, i),
    which makes a gradient with respect to X (entries treated as independent) into one with respect to
    theta by the same contraction, and gives the derivatives of Sigma and mu for the information in a
    few batched products (no per-parameter loops)."""
    dL: np.ndarray
    dP: np.ndarray
    dT: np.ndarray
    dnu: np.ndarray
    dal: np.ndarray
    L0: np.ndarray


def _maps(spec: _Spec) -> _Maps:
    cache = spec.__dict__.setdefault("_cache", {})
    if "maps" in cache:
        return cache["maps"]
    G, p, m, k = len(spec.groups), len(spec.observed), len(spec.factors), spec.n_free
    dL, dP, dT = np.zeros((G, k, p, m)), np.zeros((G, k, m, m)), np.zeros((G, k, p, p))
    dnu, dal = np.zeros((G, k, p)), np.zeros((G, k, m))
    for (name, g, i, j), kk in zip(spec.slots, spec.slot_param):
        if name == "L":
            dL[g, kk, i, j] = 1.0
        elif name in ("P", "T"):
            mat = dP if name == "P" else dT
            mat[g, kk, i, j] = mat[g, kk, j, i] = 1.0
        else:
            (dnu if name == "nu" else dal)[g, kk, i] = 1.0
    L0 = np.zeros((p, m))
    for fi, f in enumerate(spec.factors):
        for n, x in enumerate(spec.model.factors[f]):
            i = spec.observed.index(x)
            if (f, x) in spec.model.fixed_loadings:
                L0[i, fi] = spec.model.fixed_loadings[(f, x)]
            elif n == 0 and f not in spec.model.free_first:
                L0[i, fi] = 1.0
    cache["maps"] = out = _Maps(dL, dP, dT, dnu, dal, L0)
    return out


def _all_matrices(spec: _Spec, theta: np.ndarray):
    """L, P, T, nu, alpha of every group, stacked (G x ...)."""
    mp = _maps(spec)
    return (np.einsum("k,gkij->gij", theta, mp.dL) + mp.L0, np.einsum("k,gkij->gij", theta, mp.dP),
            np.einsum("k,gkij->gij", theta, mp.dT), np.einsum("k,gki->gi", theta, mp.dnu),
            np.einsum("k,gki->gi", theta, mp.dal))


def _matrices(spec: _Spec, theta: np.ndarray, g: int):
    return tuple(x[g] for x in _all_matrices(spec, theta))


@dataclass
class _Data:
    S: list[np.ndarray]
    M: list[np.ndarray]
    N: np.ndarray

    def stacked(self):
        """(S, M, log det S) of every group as arrays, computed once."""
        if not hasattr(self, "_stacked"):
            S = np.stack(self.S)
            self._stacked = (S, np.stack(self.M), np.linalg.slogdet(S)[1])
        return self._stacked


def _objective(theta, spec: _Spec, data: _Data):
    """lavaan's 2 * fmin = sum_g (N_g / N) F_g, and its gradient (all groups in one batch)."""
    L, P, T, nu, al = _all_matrices(spec, theta)
    S, M, logdet_s = data.stacked()
    Sigma = L @ P @ L.transpose(0, 2, 1) + T
    try:
        C = np.linalg.cholesky(Sigma)
    except np.linalg.LinAlgError:
        return 1e10, np.zeros_like(theta)
    Sinv = np.linalg.inv(Sigma)
    w = data.N / data.N.sum()
    p = S.shape[1]
    fg = 2 * np.log(np.diagonal(C, axis1=1, axis2=2)).sum(axis=1) + (S * Sinv).sum(axis=(1, 2)) - logdet_s - p
    G = Sinv - Sinv @ S @ Sinv
    gmu = np.zeros(M.shape)
    if spec.meanstructure:
        d = M - nu - (L @ al[:, :, None])[:, :, 0]
        sd = (Sinv @ d[:, :, None])[:, :, 0]
        fg += (d * sd).sum(axis=1)
        G -= sd[:, :, None] * sd[:, None, :]
        gmu = -2 * sd
    grad = np.zeros_like(theta)
    _chain(spec, None, L, P, al, G * w[:, None, None], gmu * w[:, None], 1.0, grad)
    return float(w @ fg), grad


def _chain(spec: _Spec, g, L, P, al, G, gmu, w, grad) -> None:
    """Add w * dF/dtheta to grad, given dF/dSigma = G (symmetric) and dF/dmu = gmu of group g
    (``g=None``: every group at once, the arguments stacked)."""
    mp = _maps(spec)
    sel = slice(None) if g is None else slice(g, g + 1)
    if g is not None:
        L, P, al, G, gmu = L[None], P[None], al[None], G[None], gmu[None]
    dL = 2 * G @ L @ P
    if spec.meanstructure:
        dL = dL + gmu[:, :, None] * al[:, None, :]
    dP = L.transpose(0, 2, 1) @ G @ L
    grad += w * (np.einsum("gkij,gij->k", mp.dL[sel], dL) + np.einsum("gkij,gij->k", mp.dP[sel], dP)
                 + np.einsum("gkij,gij->k", mp.dT[sel], G) + np.einsum("gki,gi->k", mp.dnu[sel], gmu)
                 + np.einsum("gki,gi->k", mp.dal[sel], (L.transpose(0, 2, 1) @ gmu[:, :, None])[:, :, 0]))


def _start(spec: _Spec, data: _Data) -> np.ndarray:
    theta = np.zeros(spec.n_free)
    for (matrix, g, i, j), k in zip(spec.slots, spec.slot_param):
        S, M = data.S[g], data.M[g]
        if matrix == "L":
            f = spec.factors[j]
            marker = spec.observed.index(spec.model.factors[f][0])
            theta[k] = S[i, marker] / S[marker, marker] if S[marker, marker] > 0 else 0.5
        elif matrix == "P":
            theta[k] = 0.05 if i == j else 0.0
        elif matrix == "T":
            theta[k] = S[i, i] / 2 if i == j else 0.0
        elif matrix == "nu":
            theta[k] = M[i]
    # factor variances: start from half the marker variance
    for (matrix, g, i, j), k in zip(spec.slots, spec.slot_param):
        if matrix == "P" and i == j:
            marker = spec.observed.index(spec.model.factors[spec.factors[i]][0])
            theta[k] = data.S[g][marker, marker] / 2
    return theta


@dataclass
class CFAResult(Result):
    """Result of :func:`cfa`.

    fit (one row), ML: chisq, df, pvalue, cfi, tli, rmsea, rmsea_ci_low, rmsea_ci_high (90%), srmr,
        aic, bic, loglik, n, n_free, converged, admissible, estimator, n_rows (rows given), n_dropped.
    fit, WLSMV (``ordered=``): chisq, df, pvalue (DWLS statistic N F, lavaan's "chisq"),
        chisq_scaled, df_scaled, pvalue_scaled (the scaled-and-shifted statistic lavaan reports for
        WLSMV; use these), cfi_scaled, tli_scaled, rmsea_scaled (lavaan's "cfi.scaled", "tli.scaled",
        "rmsea.scaled"), cfi, tli, rmsea (from the unscaled statistic), srmr (lavaan's "srmr": the
        root mean square of the correlation residuals), baseline_chisq, baseline_chisq_scaled, n,
        n_free, converged, admissible, estimator, parameterization, n_rows, n_dropped.
    estimates: lhs, op (=~ loading, ~~ (co)variance, ~1 intercept or mean, | threshold with rhs t1,
        t2, ..., ~*~ scale factor of an ordered item), rhs, group, est, se (robust for WLSMV), z,
        p_val, std_all (lavaan's fully standardised solution), as ``lavaan::parameterEstimates``.
    sample: one sentence saying how many rows were used and why any others were dropped.
    """

    fit: pd.DataFrame
    estimates: pd.DataFrame
    converged: bool = True
    admissible: bool = True
    warnings: list[str] = field(default_factory=list)
    sample: str = ""
    _title = "Confirmatory factor analysis"
    _main = "estimates"


def _plain(v):
    """A value as users write it: numpy scalars become plain ints/floats/strings in messages."""
    return v.item() if isinstance(v, np.generic) else v


def _check_columns(df, obs, group):
    report = ProblemReport(title="CFA input")
    for x in obs + ([group] if group else []):
        if x not in df.columns:
            report.add("unknown_variable", f"The model or group uses {x!r}, which is not a column of the data.", column=x)
    report.raise_if_errors()
    for x in obs:
        if not pd.api.types.is_numeric_dtype(df[x]):
            report.add("non_numeric", f"{x} is not numeric; recode it first.", column=x)
    report.raise_if_errors()


def _complete_rows(df, obs, group):
    """Rows with every item (and the group) present, and the sentence that says how many were used."""
    cols = obs + ([group] if group else [])
    keep = df[cols].notna().all(axis=1)
    data = df.loc[keep, cols]
    dropped = int((~keep).sum())
    if dropped:
        by_item = df[obs].isna().sum()
        worst = ", ".join(f"{k} ({int(v)})" for k, v in by_item[by_item > 0].sort_values(ascending=False).head(3).items())
        why = f"missing answers (most often {worst})" if worst else ""
        if group and df[group].isna().any():
            why = (why + " or " if why else "") + f"a missing {group}"
        note = (f"Used {len(data):,} of {len(df):,} rows; {dropped:,} dropped because of {why} "
                "(listwise deletion; missing='ml' uses every row with at least one answer).")
    else:
        note = f"Used all {len(data):,} rows (none had missing answers)."
    return data, note, dropped


def _check_variation(data, obs, group, groups):
    """Every item must vary (overall and within each group); numpy min/max, ignoring missing values."""
    report = ProblemReport(title="CFA input")
    x = data[obs].to_numpy(float)
    gv = data[group].to_numpy() if group else None
    for where, rows in [(None, slice(None))] + ([(g, gv == g) for g in groups] if group else []):
        sub = x[rows]
        if not len(sub):
            continue
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore", RuntimeWarning)          # all-missing columns
            flat = np.nanmax(sub, axis=0) == np.nanmin(sub, axis=0)
        for i in np.flatnonzero(flat):
            xi = obs[i]
            value = _plain(sub[~np.isnan(sub[:, i]), i][0]) if np.any(~np.isnan(sub[:, i])) else None
            value = int(value) if isinstance(value, float) and value == int(value) else value
            if where is None:
                report.add("constant_item", f"{xi} has no variance: every row has the same answer ({value}). "
                           "Leave it out of the model.", column=xi, value=value)
            elif not any(p.column == xi for p in report.problems):
                report.add("constant_item", f"{xi} has no variance in group {_plain(where)} (everyone answered "
                           f"{value}). Leave it out, or merge groups.", column=xi, value=_plain(where))
    report.raise_if_errors()


def _few_categories(data, obs) -> bool:
    """True when some item has 7 or fewer distinct answers (the ordinal route would suit it better)."""
    x = np.sort(data[obs].to_numpy(float), axis=0)
    distinct = (np.diff(x, axis=0) != 0).sum(axis=0) + 1 - np.isnan(x).any(axis=0)
    return bool((distinct <= 7).any())


def _prepare(df, spec_model, group, min_cases):
    obs = spec_model.observed
    _check_columns(df, obs, group)
    data, note, dropped = _complete_rows(df, obs, group)
    groups = [None] if not group else list(pd.unique(data[group]))  # order of first appearance, as lavaan: the first is the reference
    if group and len(groups) < 2:
        raise InputError(ProblemReport([Problem(
            "one_group", f"{group} has {len(groups)} group(s) with complete data "
            f"({', '.join(str(_plain(g)) for g in groups) or 'none'}); comparing groups needs at least two.",
            column=group)]))
    _check_variation(data, obs, group, groups)
    S, M, N = [], [], []
    for g in groups:
        sub = data if g is None else data[data[group] == g]
        x = sub[obs].to_numpy(float)
        if len(x) < len(obs) + 1:
            where = f"Group {_plain(g)}" if g is not None else "The data"
            raise InputError(ProblemReport([Problem(
                "too_few_cases", f"{where} has {len(x)} complete cases, fewer than the {len(obs) + 1} needed "
                f"for {len(obs)} variables. Merge groups or drop the grouping.", column=group,
                value=None if g is None else str(_plain(g)))]))
        M.append(x.mean(axis=0))
        S.append(np.cov(x, rowvar=False, bias=True))
        N.append(len(x))
    d = _Data(S, M, np.array(N, dtype=float))
    d.note, d.n_rows, d.dropped = note, len(df), dropped
    d.few_categories = _few_categories(data, obs)
    return data, [str(g) for g in groups], d


@single_thread
def cfa(df: pd.DataFrame, model: str, group: str | None = None, equal=(), estimator: str | None = None,
        release=(), ordered=None, parameterization: str = "delta", missing: str = "listwise",
        _spec=None, _sample=None, _warm=None) -> CFAResult:
    """Fit a CFA model given in lavaan syntax (``lavaan::cfa``).

    Items treated as continuous (default): maximum likelihood, as ``cfa(model, data)``. ``equal`` holds
    any of "loadings", "intercepts", "residuals" (equal across groups, as lavaan's ``group.equal``);
    ``release`` lists ("intercepts" | "loadings" | "residuals", item) pairs freed from those
    constraints (partial invariance).

    ``ordered=True`` (every item) or a list of items: the items are ordinal and the model is fitted as
    ``cfa(model, data, ordered = ..., estimator = "WLSMV")``: thresholds and polychoric correlations,
    DWLS, robust standard errors and the scaled-and-shifted test. ``parameterization`` is "delta"
    (lavaan's default: latent responses have unit variance) or "theta" (unit residual variances;
    single group only). With ``group``, ``equal`` may hold "thresholds", "loadings", "intercepts" (the
    Wu and Estabrook 2016 sequence; see :func:`measurekit.invariance`).

    ``missing="ml"`` (continuous items only): full-information maximum likelihood, as lavaan's
    ``missing = "ml"``; every row with at least one answer is used.
    """
    if ordered is not None and ordered is not False:
        if missing != "listwise":
            raise InputError(ProblemReport([Problem("bad_option", "missing='ml' is for items treated as continuous; "
                                                    "WLSMV uses complete rows (lavaan's default).", value=missing)]))
        if estimator not in (None, "WLSMV"):
            raise InputError(ProblemReport([Problem("bad_option", f"Ordered items are fitted with estimator='WLSMV', "
                                                    f"not {estimator!r}.", value=estimator)]))
        return _cfa_ordinal(df, model, group, ordered, parameterization, equal, release)
    if estimator not in (None, "ML"):
        raise InputError(ProblemReport([Problem("bad_option", f"estimator must be 'ML' (continuous items) or 'WLSMV' "
                                                f"with ordered=..., not {estimator!r}.", value=estimator)]))
    if missing == "ml":
        return _cfa_fiml(df, model, group, equal, release)
    if missing != "listwise":
        raise InputError(ProblemReport([Problem("bad_option", f"missing must be 'listwise' or 'ml', not {missing!r}.",
                                                value=missing)]))
    bad = [e for e in equal if e not in EQUAL_OPTIONS]
    if bad:
        raise ValueError(f"equal may contain {EQUAL_OPTIONS}, not {bad}")
    from scipy.optimize import minimize

    m = parse_model(model) if isinstance(model, str) else model
    # _sample: _prepare's output for these df, model and group, shared by the fits of an invariance sequence
    data, groups, d = _sample if _sample is not None else _prepare(df, m, group, 0)
    warnings = []
    if group and d.N.min() < 100:
        warnings.append(f"The smallest group has {int(d.N.min())} cases: estimates will be imprecise (aim for 100+).")
    spec = _build(m, groups, meanstructure=group is not None, equal=set(equal), release=release)
    p = len(spec.observed)
    moments = len(groups) * (p * (p + 1) // 2 + (p if spec.meanstructure else 0))
    df_model = moments - spec.n_free
    if df_model < 0:
        raise InputError(f"The model is not identified: it has {spec.n_free} free parameters but only {moments} "
                         "variances, covariances and means to estimate them from. Add indicators or constraints.")
    _check_identified(m)
    theta0 = _start(spec, d)
    if _warm is not None and getattr(_warm, "_ml", None) is not None:
        theta0 = _warm_start(spec, theta0, *_warm._ml)
    theta, fmin, grad, converged = _fisher_scoring(spec, theta0, d)
    if not converged:                       # Fisher scoring can fail far from the solution: L-BFGS-B from the start
        res = minimize(_objective, theta0, args=(spec, d), jac=True, method="L-BFGS-B",
                       options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 30})
        theta, fmin = res.x, res.fun
        converged = bool(res.success) or np.max(np.abs(res.jac)) < 1e-5
    if not converged:
        warnings.append("The model did not converge: the numbers below are not trustworthy.")
    Ntot = d.N.sum()
    chisq = Ntot * fmin
    # baseline (independence) model: diagonal covariance, free variances and means
    chisq_b = sum(n * (np.sum(np.log(np.diag(S))) - np.linalg.slogdet(S)[1]) for S, n in zip(d.S, d.N))
    loglik = 0.0
    for g in range(len(groups)):
        L, P, T, nu, al = _matrices(spec, theta, g)
        Sigma = L @ P @ L.T + T
        S, M, n = d.S[g], d.M[g], d.N[g]
        Sinv = np.linalg.inv(Sigma)
        dm = M - (nu + L @ al if spec.meanstructure else M)
        loglik += -n / 2 * (p * np.log(2 * np.pi) + np.linalg.slogdet(Sigma)[1] + np.trace(S @ Sinv) + dm @ Sinv @ dm)
    out = _finish(spec, theta, d, data, chisq, df_model, chisq_b, loglik, converged, warnings, "ML")
    out._ml = (spec, theta)
    return out


def _warm_start(spec: _Spec, theta0: np.ndarray, prev_spec: _Spec, prev_theta: np.ndarray) -> np.ndarray:
    """Start values from a fit of the same model and groups under other equality constraints (the previous
    level of an invariance sequence): each parameter takes the mean of the previous estimates of the
    matrix entries it stands for; parameters new to this model (factor means) keep ``theta0``. The
    optimum does not depend on the start; the fit needs a third of the iterations."""
    if (prev_spec.groups, prev_spec.observed, prev_spec.factors) != (spec.groups, spec.observed, spec.factors):
        return theta0
    prev = {slot: prev_theta[k] for slot, k in zip(prev_spec.slots, prev_spec.slot_param)}
    total, count = np.zeros_like(theta0), np.zeros_like(theta0)
    for slot, k in zip(spec.slots, spec.slot_param):
        if slot in prev:
            total[k] += prev[slot]
            count[k] += 1
    return np.where(count > 0, total / np.maximum(count, 1), theta0)


def _finish(spec, theta, d, data, chisq, df_model, chisq_b, loglik, converged, warnings, estimator, se=None):
    """Fit measures (lavaan's formulas; N, not N - 1), improper-solution checks and the estimates table.
    ``d.S``/``d.M`` are the saturated model's moments (sample moments, or EM estimates with missing data)."""
    p, G, Ntot = len(spec.observed), len(spec.groups), d.N.sum()
    df_b = G * p * (p - 1) // 2
    cfi_den = max(chisq_b - df_b, chisq - df_model, 0)
    cfi = 1 - max(chisq - df_model, 0) / cfi_den if cfi_den > 0 else 1.0
    tli = ((chisq_b / df_b) - (chisq / df_model)) / ((chisq_b / df_b) - 1) if df_model > 0 else 1.0
    rmsea = np.sqrt(max(chisq - df_model, 0) / (df_model * Ntot)) * np.sqrt(G) if df_model > 0 else 0.0
    lo, hi = _rmsea_ci(chisq, df_model, Ntot, G)
    srmr_g = []
    admissible = True
    for g in range(G):
        L, P, T, nu, al = _matrices(spec, theta, g)
        Sigma = L @ P @ L.T + T
        S, M = d.S[g], d.M[g]
        dm = M - (nu + L @ al if spec.meanstructure else M)
        sd = 1 / np.sqrt(np.diag(S))
        R = (S - Sigma) * np.outer(sd, sd)
        ss = np.sum(R[np.tril_indices(p)] ** 2)
        e = p * (p + 1) / 2
        if spec.meanstructure:
            ss += np.sum((dm * sd) ** 2)
            e += p
        srmr_g.append(np.sqrt(ss / e))
        if np.any(np.diag(T) < 0) or np.any(np.linalg.eigvalsh(P) < -1e-10):
            admissible = False
    srmr = float(np.sum(np.array(srmr_g) * d.N) / Ntot)
    aic = -2 * loglik + 2 * spec.n_free
    bic = -2 * loglik + spec.n_free * np.log(Ntot)
    if not admissible:
        warnings.append("Improper solution: a residual variance is negative or the factor covariance matrix is not "
                        "positive definite (a Heywood case). Do not interpret these estimates; simplify the model.")
    few = getattr(d, "few_categories", None)
    if few if few is not None else _few_categories(data, spec.observed):
        warnings.append("Items with 7 or fewer response categories are treated as continuous (ML). "
                        "Estimates of fit can be biased for strongly skewed items.")
    fit = pd.DataFrame([{"chisq": chisq, "df": df_model, "pvalue": float(stats.chi2.sf(chisq, df_model)) if df_model else np.nan,
                         "cfi": cfi, "tli": tli, "rmsea": rmsea, "rmsea_ci_low": lo, "rmsea_ci_high": hi, "srmr": srmr,
                         "aic": aic, "bic": bic, "loglik": loglik, "n": int(Ntot), "n_free": spec.n_free,
                         "converged": converged, "admissible": admissible, "estimator": estimator,
                         "n_rows": d.n_rows, "n_dropped": d.dropped}])
    estimates = _estimates(spec, theta, d, se)
    return CFAResult(fit, estimates, converged, admissible, warnings, d.note)


def _check_identified(m: MeasurementModel) -> None:
    for f, items in m.factors.items():
        if len(items) < 2 and len(m.factors) == 1:
            raise InputError(f"Factor {f} has fewer than two indicators; the model is not identified.")
    if len(m.factors) == 1 and len(next(iter(m.factors.values()))) < 3:
        raise InputError("A single factor needs at least three indicators to be identified.")


def _rmsea_ci(chisq, df, N, G, level=0.90):
    if df <= 0:
        return np.nan, np.nan
    from scipy.optimize import brentq
    from scipy.special import chdtr, chndtr

    def ncp_for(prob):
        # scipy.special's functions behind stats.ncx2.cdf / stats.chi2.cdf (same values, without their overhead)
        f = lambda lam: chndtr(chisq, df, lam) - prob if lam > 0 else chdtr(df, chisq) - prob
        if f(0) < 0:
            return 0.0
        hi = max(chisq, 1.0)
        while f(hi) > 0:
            hi *= 2
        return brentq(f, 1e-10, hi)

    lam_lo = ncp_for((1 + level) / 2)
    lam_hi = ncp_for((1 - level) / 2)
    return (np.sqrt(lam_lo / (N * df)) * np.sqrt(G), np.sqrt(lam_hi / (N * df)) * np.sqrt(G))


def _estimates(spec: _Spec, theta: np.ndarray, d: _Data, se=None) -> pd.DataFrame:
    if se is None:
        se = _expected_se(spec, theta, d)
    return _estimate_rows(spec, theta, se)


def _delta(spec: _Spec, L, P, al):
    """Analytic d Sigma_g / d theta_k (G x k x p x p) and d mu_g / d theta_k (G x k x p), all groups."""
    mp = _maps(spec)
    X = mp.dL @ (L @ P).transpose(0, 2, 1)[:, None]           # dL P L'
    Lb = L[:, None]
    dS = X + X.transpose(0, 1, 3, 2) + Lb @ mp.dP @ Lb.transpose(0, 1, 3, 2) + mp.dT
    dm = mp.dnu + (mp.dL @ al[:, None, :, None])[..., 0] + (Lb @ mp.dal[..., None])[..., 0]
    return dS, dm


def _information(spec: _Spec, theta: np.ndarray, d: _Data, observed: bool = False) -> np.ndarray:
    """Expected information, as lavaan (ML, information = "expected"):
    I = sum_g N_g [ 1/2 D_g' (W (x) W) D_g + Dmu_g' W Dmu_g ], W = Sigma_g^-1, D = d vec(Sigma) / d theta'.
    D'(W kron W)D without the kronecker product: entry (c, e) = tr(W D_c W D_e), D_c as p x p matrices.

    ``observed=True``: the observed information (N/2 times the Hessian of the objective), analytic:
    per group, with d = M - mu, A = W - W (S + d d') W and Sigma_ce, mu_ce the second derivatives,
    H_ce = -tr(W D_e W D_c) + 2 tr(W D_e W (S + d d') W D_c) + 2 d'W D_c W Dmu_e + 2 d'W D_e W Dmu_c
    + 2 Dmu_e' W Dmu_c + tr(A Sigma_ce) - 2 d'W mu_ce. It equals the expected one when the model
    reproduces S and M exactly; Newton steps with it converge quadratically where Fisher scoring's
    are only linear (rate ~0.3 on a two-group model of 887 children)."""
    L, P, T, nu, al = _all_matrices(spec, theta)
    W = np.linalg.inv(L @ P @ L.transpose(0, 2, 1) + T)
    D, Dm = _delta(spec, L, P, al)
    G, k, p = D.shape[0], D.shape[1], D.shape[2]
    WD = W[:, None] @ D

    def trace_pairs(X, Y):          # [c, e] = tr(X_c Y_e) for stacks X, Y (G x k x p x p)
        return X.reshape(G, k, p * p) @ Y.transpose(0, 1, 3, 2).reshape(G, k, p * p).transpose(0, 2, 1)

    sym = trace_pairs(WD, WD)
    mm = Dm @ W @ Dm.transpose(0, 2, 1) if spec.meanstructure else 0.0
    if not observed:
        return np.einsum("g,gkl->kl", d.N, 0.5 * sym + mm)
    mp = _maps(spec)
    S, M, _ = d.stacked()
    Sd = S.copy()
    dev = np.zeros(M.shape)
    if spec.meanstructure:
        dev = M - nu - (L @ al[:, :, None])[:, :, 0]
        Sd += dev[:, :, None] * dev[:, None, :]
    B = W @ Sd
    A = W - B @ W
    Wd = (W @ dev[:, :, None])[:, :, 0]
    H = -sym + 2 * trace_pairs(B[:, None] @ WD, WD)
    flat = lambda X: X.reshape(G, k, -1)
    dL = flat(mp.dL)
    H += 2 * dL @ flat(A[:, None] @ mp.dL @ P[:, None]).transpose(0, 2, 1)           # L-L part of tr(A Sigma_ce)
    lp = dL @ flat((A @ L)[:, None] @ mp.dP).transpose(0, 2, 1)                     # L-P part
    H += 2 * (lp + lp.transpose(0, 2, 1))
    if spec.meanstructure:
        v = (WD @ Wd[:, None, :, None])[..., 0] @ Dm.transpose(0, 2, 1)              # d'W D_c W Dmu_e
        q = (mp.dL.transpose(0, 1, 3, 2) @ Wd[:, None, :, None])[..., 0] @ mp.dal.transpose(0, 2, 1)  # d'W mu_ce
        H += 2 * (v + v.transpose(0, 2, 1)) + 2 * mm - 2 * (q + q.transpose(0, 2, 1))
    return np.einsum("g,gkl->kl", d.N, 0.5 * H)


def _expected_se(spec: _Spec, theta: np.ndarray, d: _Data) -> np.ndarray:
    try:
        return np.sqrt(np.clip(np.diag(np.linalg.inv(_information(spec, theta, d))), 0, None))
    except np.linalg.LinAlgError:
        return np.full(len(theta), np.nan)


def _fisher_scoring(spec: _Spec, theta: np.ndarray, d: _Data, max_iter: int = 200, tol: float = 1e-9):
    """Minimise the ML objective: Fisher scoring (expected information, step halving) while far from the
    solution, then Newton steps with the analytic observed information once the steps are below 0.01
    and that information is positive definite (quadratic convergence: the last step below ``tol``
    leaves an error of order tol^2; Fisher scoring alone converges linearly and its step-halving test
    cannot resolve changes of the objective below ~1e-16). Returns (theta, f, gradient, converged);
    the caller falls back on L-BFGS-B when it fails."""
    f, g = _objective(theta, spec, d)
    Ntot = d.N.sum()
    near = False
    for _ in range(max_iter):
        H = None
        if near:
            H = 2 * _information(spec, theta, d, observed=True) / Ntot
            try:
                np.linalg.cholesky(H)
            except np.linalg.LinAlgError:
                H = None
        if H is None:
            H = 2 * _information(spec, theta, d) / Ntot          # expected Hessian of the objective
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            return theta, f, g, False
        t, tiny = 1.0, near and np.max(np.abs(step)) < 1e-6
        for _half in range(30):
            fn, gn = _objective(theta + t * step, spec, d)
            if fn <= f + 1e-4 * t * (g @ step) or (tiny and fn < 1e9):
                break
            t /= 2
        else:
            return theta, f, g, False
        theta, f, g = theta + t * step, fn, gn
        size = np.max(np.abs(t * step))
        if size < tol:
            return theta, f, g, bool(np.max(np.abs(g)) < 1e-7)
        near = size < 1e-2
    return theta, f, g, False


def _estimate_rows(spec: _Spec, theta: np.ndarray, se: np.ndarray) -> pd.DataFrame:
    rows = []
    for g, gname in enumerate(spec.groups):
        L, P, T, nu, al = _matrices(spec, theta, g)
        Sigma = L @ P @ L.T + T
        sd_obs, sd_lat = np.sqrt(np.diag(Sigma)), np.sqrt(np.clip(np.diag(P), 1e-300, None))
        free = {(mat, i, j): kk for (mat, gg, i, j), kk in zip(spec.slots, spec.slot_param) if gg == g}
        for fi, f in enumerate(spec.factors):
            for x in spec.model.factors[f]:
                i = spec.observed.index(x)
                kk = free.get(("L", i, fi))
                rows.append(("=~", f, x, gname, L[i, fi], se[kk] if kk is not None else 0.0,
                             L[i, fi] * sd_lat[fi] / sd_obs[i]))
        for i, x in enumerate(spec.observed):
            rows.append(("~~", x, x, gname, T[i, i], se[free[("T", i, i)]], T[i, i] / Sigma[i, i]))
        for a, b in spec.model.residual_covariances:
            i, j = sorted((spec.observed.index(a), spec.observed.index(b)), reverse=True)
            rows.append(("~~", a, b, gname, T[i, j], se[free[("T", i, j)]], T[i, j] / (sd_obs[i] * sd_obs[j])))
        for fi in range(len(spec.factors)):
            for fj in range(fi + 1):
                kk = free[("P", fi, fj)]
                rows.append(("~~", spec.factors[fj], spec.factors[fi], gname, P[fi, fj], se[kk],
                             P[fi, fj] / (sd_lat[fi] * sd_lat[fj])))
        if spec.meanstructure:
            for i, x in enumerate(spec.observed):
                rows.append(("~1", x, "", gname, nu[i], se[free[("nu", i, 0)]], nu[i] / sd_obs[i]))
            for fi, f in enumerate(spec.factors):
                kk = free.get(("alpha", fi, 0))
                rows.append(("~1", f, "", gname, al[fi], se[kk] if kk is not None else 0.0, al[fi] / sd_lat[fi]))
    from scipy.special import ndtr

    op, lhs, rhs, grp, *nums = zip(*rows)
    value, se, std_all = (np.array(x, dtype=float) for x in nums)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, value / se, np.nan)
    # 2 * ndtr(-|z|) is what stats.norm.sf computes, without its per-call overhead
    return pd.DataFrame({"lhs": list(lhs), "op": list(op), "rhs": list(rhs), "group": list(grp), "est": value,
                         "se": se, "z": z, "p_val": 2 * ndtr(-np.abs(z)), "std_all": std_all})


# --------------------------------------------------------------------------- ordered items (WLSMV)
def ordinal_codes(data: pd.DataFrame, items: list[str], group: str | None, groups: list, max_categories: int = 10,
                  merge_empty: bool = False):
    """Items as codes 0..K-1 (categories = the values seen in the data, pooled over groups), checked:
    whole numbers, at most ``max_categories`` values, at least two, and every category used in every group.
    With ``merge_empty`` an answer nobody in some group gave is merged with its neighbour (in every group)
    and a note says so; the notes are returned as a fourth value."""
    report = ProblemReport(title="Ordinal CFA input")
    levels, codes = {}, {}
    for x in items:
        v = data[x].to_numpy(float)
        if not np.all(v == np.round(v)):
            bad = _plain(v[v != np.round(v)][0])
            report.add("non_numeric", f"{x} has the value {bad}; ordered items need whole-number codes (1, 2, 3, ...).",
                       column=x, value=bad)
            continue
        lv = np.unique(v)
        if len(lv) > max_categories:
            report.add("bad_option", f"{x} has {len(lv)} different answers; ordered items are meant for at most "
                       f"{max_categories} categories. Treat it as continuous (leave it out of ordered=).", column=x)
        levels[x] = lv
        codes[x] = np.searchsorted(lv, v)
    report.raise_if_errors()
    notes = []
    if group:
        gv = data[group].to_numpy()
        for x in items:
            while True:
                counts = np.stack([np.bincount(codes[x][gv == g], minlength=len(levels[x])) for g in groups])
                empty = np.argwhere(counts == 0)
                if not len(empty) or not merge_empty:
                    break
                if len(levels[x]) <= 2:
                    break
                gi, k = empty[0]
                total = counts.sum(axis=0)
                # merge the empty answer with its neighbour (the less used one when there are two)
                nb = k + 1 if k == 0 else k - 1 if k == len(total) - 1 else (k - 1 if total[k - 1] <= total[k + 1] else k + 1)
                lo_, hi_ = sorted((k, nb))
                notes.append(f"Nobody in group {_plain(groups[gi])} answered {int(levels[x][k])} to {x}, so answers "
                             f"{int(levels[x][lo_])} and {int(levels[x][hi_])} of {x} were merged into one category "
                             "in every group (its thresholds could not be estimated otherwise).")
                codes[x] = np.where(codes[x] > lo_, codes[x] - 1, codes[x])
                levels[x] = np.delete(levels[x], hi_)
            for gi, k in np.argwhere(counts == 0):
                code = int(levels[x][k])
                report.add("small_group", f"Nobody in group {_plain(groups[gi])} answered {code} to {x}, so "
                           "its thresholds cannot be estimated there. Merge that answer with its neighbour "
                           "(recode) or merge groups.", column=x, value=code)
        report.raise_if_errors()
    return np.column_stack([codes[x] for x in items]), np.array([len(levels[x]) for x in items]), levels, notes


def _ordinal_items(m: MeasurementModel, ordered) -> list[str]:
    obs = m.observed
    if ordered is True:
        return obs
    ordered = [ordered] if isinstance(ordered, str) else list(ordered)
    missing = [x for x in obs if x not in ordered]
    if missing:
        raise InputError(ProblemReport([Problem(
            "bad_option", f"ordered= must name every item of the model (mixing ordinal and continuous items is not "
            f"supported); not named: {', '.join(missing)}. Use ordered=True for all.", value=", ".join(missing))]))
    return obs


def ordinal_sample(df: pd.DataFrame, m: MeasurementModel, group, ordered, merge_empty: bool = False):
    """Complete rows, codes and, per group, the thresholds, polychoric correlations and Gamma."""
    from measurekit.stats._numerics.polychoric import ordinal_moments

    obs = _ordinal_items(m, ordered)
    _check_columns(df, obs, group)
    data, note, dropped = _complete_rows(df, obs, group)
    groups = [None] if not group else list(pd.unique(data[group]))  # order of first appearance, as lavaan: the first is the reference
    if group and len(groups) < 2:
        raise InputError(ProblemReport([Problem(
            "one_group", f"{group} has {len(groups)} group(s) with complete data; comparing groups needs at least two.",
            column=group)]))
    _check_variation(data, obs, group, groups)
    codes, ncat, levels, merged = ordinal_codes(data, obs, group, groups, merge_empty=merge_empty)
    moments = []
    for g in groups:
        sel = slice(None) if g is None else (data[group] == g).to_numpy()
        c = codes[sel]
        need = int((ncat - 1).sum()) + len(obs)
        if len(c) < need:
            where = f"Group {_plain(g)}" if g is not None else "The data"
            raise InputError(ProblemReport([Problem(
                "too_few_cases", f"{where} has {len(c)} complete rows, fewer than the {need} an ordinal CFA of "
                f"{len(obs)} items needs. Merge groups or treat the items as continuous.", column=group)]))
        moments.append(ordinal_moments(c, ncat))
    return dict(data=data, note=note, dropped=dropped, groups=[str(g) for g in groups], codes=codes, ncat=ncat,
                levels=levels, moments=moments, n_rows=len(df), merged=merged)


def fit_ordinal(m: MeasurementModel, sample: dict, level="configural", id_fac="marker", parameterization="delta",
                release=()) -> CFAResult:
    """Fit the ordinal model to prepared sample statistics; fit measures named as lavaan's."""
    from measurekit.stats._numerics.wlsmv import baseline, build_spec, fit_dwls

    moms = sample["moments"]
    stats_ = [mo.stats for mo in moms]
    gammas = [mo.gamma for mo in moms]
    nobs = np.array([mo.n for mo in moms], dtype=float)
    spec = build_spec(m, sample["groups"], sample["ncat"], parameterization, level, id_fac, release, stats_[0])
    res = fit_dwls(spec, stats_, gammas, nobs)
    if res.df < 0:
        raise InputError(f"The model is not identified: it has {spec.n_free} free parameters but only "
                         f"{sum(len(s) for s in stats_)} thresholds and correlations. Add indicators or constraints.")
    N, G = nobs.sum(), len(moms)
    nth = int((sample["ncat"] - 1).sum())
    chisq_b, chisq_b_scaled, df_b = baseline(stats_, gammas, nobs, [nth] * G)
    df = res.df

    def cfi(t, tb):
        den = max(tb - df_b, t - df, 0)
        return 1 - max(t - df, 0) / den if den > 0 else 1.0

    def tli(t, tb):
        return ((tb / df_b) - (t / df)) / ((tb / df_b) - 1) if df > 0 else 1.0

    def rmsea(t):
        return float(np.sqrt(max(t / (N - G) / df - 1 / (N - G), 0)) * np.sqrt(G)) if df > 0 else 0.0  # lavaan: N - G

    p = len(m.observed)
    srmr = float(sum(n * np.sqrt(np.sum(r[nth:] ** 2) / (p * (p + 1) / 2)) for r, n in zip(res.residuals, nobs)) / N)
    warnings, admissible = list(sample.get("merged", [])), True
    estimates = _ordinal_estimates(spec, res)
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
    from scipy import stats as st

    fit = pd.DataFrame([{
        "chisq": res.chisq, "df": df, "pvalue": float(st.chi2.sf(res.chisq, df)) if df else np.nan,
        "chisq_scaled": res.chisq_scaled, "df_scaled": df,
        "pvalue_scaled": float(st.chi2.sf(res.chisq_scaled, df)) if df else np.nan,
        "cfi_scaled": cfi(res.chisq_scaled, chisq_b_scaled), "tli_scaled": tli(res.chisq_scaled, chisq_b_scaled),
        "rmsea_scaled": rmsea(res.chisq_scaled), "cfi": cfi(res.chisq, chisq_b), "tli": tli(res.chisq, chisq_b),
        "rmsea": rmsea(res.chisq), "srmr": srmr, "baseline_chisq": chisq_b, "baseline_chisq_scaled": chisq_b_scaled,
        "n": int(N), "n_free": spec.n_free, "converged": res.converged, "admissible": admissible,
        "estimator": "WLSMV", "parameterization": parameterization, "n_rows": sample["n_rows"],
        "n_dropped": sample["dropped"]}])
    out = CFAResult(fit, estimates, res.converged, admissible, warnings, sample["note"])
    out._spec, out._fit = spec, res
    return out


def _ordinal_estimates(spec, res) -> pd.DataFrame:
    theta, se = res.theta, res.se
    k_of = {}
    for (mat, g, i, j, key, v) in spec.entries:
        k_of[(mat, g, i, j)] = spec.keys[key] if key is not None else None

    def s(mat, g, i, j):
        k = k_of.get((mat, g, i, j))
        return float(se[k]) if k is not None else 0.0

    obs, facs, ti = spec.observed, spec.factors, spec.th_item
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
        for fi in range(len(facs)):
            for fj in range(fi + 1):
                a, b = (fj, fi)
                rows.append((facs[a], "~~", facs[b], gname, P[fi, fj], s("P", g, fi, fj), P[fi, fj] / (sd_f[fi] * sd_f[fj])))
        for i, x in enumerate(obs):
            rows.append((x, "~*~", x, gname, dl[i], s("dl", g, i, 0), 1.0))
        for i, x in enumerate(obs):
            rows.append((x, "~1", "", gname, M["nu"][i], s("nu", g, i, 0), M["nu"][i] / sd_y[i]))
        for fi, f in enumerate(facs):
            rows.append((f, "~1", "", gname, M["al"][fi], s("al", g, fi, 0), M["al"][fi] / sd_f[fi]))
    est = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "group", "est", "se", "std_all"])
    with np.errstate(divide="ignore", invalid="ignore"):
        est["z"] = np.where(est["se"] > 0, est["est"] / est["se"], np.nan)
    from scipy import stats as st

    est["p_val"] = 2 * st.norm.sf(np.abs(est["z"]))
    return est[["lhs", "op", "rhs", "group", "est", "se", "z", "p_val", "std_all"]]


def _cfa_ordinal(df, model, group, ordered, parameterization, equal, release) -> CFAResult:
    from measurekit.stats._numerics.wlsmv import LEVELS

    if parameterization not in ("delta", "theta"):
        raise InputError(ProblemReport([Problem("bad_option", f"parameterization must be 'delta' or 'theta', not "
                                                f"{parameterization!r}.", value=parameterization)]))
    if parameterization == "theta" and group:
        raise InputError(ProblemReport([Problem("bad_option", "parameterization='theta' is supported for one group; "
                                                "use 'delta' (the default) with group=.", value="theta")]))
    equal = tuple(equal)
    bad = [e for e in equal if e not in LEVELS[1:]]
    if bad:
        raise InputError(ProblemReport([Problem("bad_option", f"For ordered items equal= may hold 'thresholds', "
                                                f"'loadings', 'intercepts' (in that order), not {bad}.", value=str(bad))]))
    level = LEVELS[len(equal)] if equal else "configural"
    if equal and tuple(LEVELS[1: len(equal) + 1]) != equal:
        raise InputError(ProblemReport([Problem("bad_option", "For ordered items equality constraints build up in the "
                                                "order thresholds, loadings, intercepts (Wu and Estabrook 2016).",
                                                value=str(equal))]))
    m = parse_model(model) if isinstance(model, str) else model
    _check_identified(m)
    sample = ordinal_sample(df, m, group, ordered)
    return fit_ordinal(m, sample, level, "std.lv" if equal else "marker", parameterization, release)


# --------------------------------------------------------------------------- missing = "ml" (FIML)
def _fiml_objective(theta, spec: _Spec, pats: list, Ntot: float):
    """-2 loglik / N summed over groups and missing-data patterns, and its gradient."""
    from measurekit.stats._numerics.fiml import loglik

    f, grad = 0.0, np.zeros_like(theta)
    for g, pg in enumerate(pats):
        L, P, T, nu, al = _matrices(spec, theta, g)
        ll, G, gmu = loglik(pg, L @ P @ L.T + T, nu + L @ al, grad=True)
        if not np.isfinite(ll):
            return 1e10, np.zeros_like(theta)
        f += -2 * ll / Ntot
        _chain(spec, g, L, P, al, G, gmu, 1 / Ntot, grad)
    return f, grad


def _cfa_fiml(df, model, group, equal, release) -> CFAResult:
    """CFA by full-information ML (lavaan ``missing = "ml"``): every row with at least one answer is used;
    the chi-square compares with the saturated model estimated by EM; standard errors from the observed
    information (lavaan's default with missing = "ml")."""
    from scipy.optimize import minimize

    from measurekit.stats._numerics.fiml import em_saturated, independence_loglik, patterns

    bad = [e for e in equal if e not in EQUAL_OPTIONS]
    if bad:
        raise ValueError(f"equal may contain {EQUAL_OPTIONS}, not {bad}")
    m = parse_model(model) if isinstance(model, str) else model
    _check_identified(m)
    obs = m.observed
    _check_columns(df, obs, group)
    keep = df[obs].notna().any(axis=1)
    if group:
        keep &= df[group].notna()
    data = df.loc[keep, obs + ([group] if group else [])]
    dropped = int((~keep).sum())
    partial = int(data[obs].isna().any(axis=1).sum())
    note = (f"Used {len(data):,} of {len(df):,} rows (full-information ML: {partial:,} rows with some answers missing "
            f"are used for what they answered)" + (f"; {dropped:,} dropped because they answered no item"
                                                   + (f" or have no {group}" if group else "") if dropped else "") + ".")
    groups = [None] if not group else list(pd.unique(data[group]))
    if group and len(groups) < 2:
        raise InputError(ProblemReport([Problem("one_group", f"{group} has {len(groups)} group(s) with data; "
                                                "comparing groups needs at least two.", column=group)]))
    _check_variation(data, obs, group, groups)
    pats, S, M, N, ll1, ll_b = [], [], [], [], 0.0, 0.0
    for g in groups:
        x = (data if g is None else data[data[group] == g])[obs].to_numpy(float)
        pg = patterns(x)
        Sig, mu, ll, _ = em_saturated(pg, len(obs))
        pats.append(pg)
        S.append(Sig)
        M.append(mu)
        N.append(len(x))
        ll1 += ll
        ll_b += independence_loglik(pg, len(obs))
    d = _Data(S, M, np.array(N, dtype=float))
    d.note, d.n_rows, d.dropped = note, len(df), dropped
    warnings = []
    str_groups = [str(g) for g in groups]
    spec = _build(m, str_groups, meanstructure=True, equal=set(equal), release=release)
    p = len(obs)
    df_model = len(groups) * (p * (p + 1) // 2 + p) - spec.n_free
    if df_model < 0:
        raise InputError(f"The model is not identified: it has {spec.n_free} free parameters but only "
                         f"{df_model + spec.n_free} variances, covariances and means. Add indicators or constraints.")
    Ntot = d.N.sum()
    res = minimize(_fiml_objective, _start(spec, d), args=(spec, pats, Ntot), jac=True, method="L-BFGS-B",
                   options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 30})
    theta = res.x
    converged = bool(res.success) or np.max(np.abs(res.jac)) < 1e-5
    if not converged:
        warnings.append("The model did not converge: the numbers below are not trustworthy.")
    loglik = -res.fun * Ntot / 2
    # observed information: Hessian of -loglik = N/2 * Hessian of the objective (central differences of the gradient)
    k, h = len(theta), 1e-5
    H = np.zeros((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h
        H[:, i] = (_fiml_objective(theta + e, spec, pats, Ntot)[1] - _fiml_objective(theta - e, spec, pats, Ntot)[1]) / (2 * h)
    H = (H + H.T) / 2 * Ntot / 2
    try:
        se = np.sqrt(np.clip(np.diag(np.linalg.inv(H)), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(k, np.nan)
    out = _finish(spec, theta, d, data, 2 * (ll1 - loglik), df_model, 2 * (ll1 - ll_b), loglik, converged, warnings,
                  "ML (FIML)", se)
    out.fit["loglik_saturated"] = ll1
    return out
