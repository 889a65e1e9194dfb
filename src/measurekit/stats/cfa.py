"""Confirmatory factor analysis by maximum likelihood, single- and multi-group, with equality constraints.

No Python library fits multi-group models with cross-group equality constraints (semopy fits groups
separately), which measurement invariance needs; this module does, with lavaan's defaults: ML
with ``likelihood = "normal"`` (covariances divided by N), the first loading of each factor
fixed to 1, factor variances and covariances free, a mean structure in multi-group models
(intercepts free, factor means 0; with equal intercepts the factor means of groups after the
first are freed), listwise deletion. Items are treated as continuous; WLSMV for ordinal items
is not supported yet. Checked against lavaan 0.6 (``tests/fixtures/r/lavaan.R``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from measurekit.core.result import Result
from measurekit.stats.model_syntax import MeasurementModel, parse_model
from measurekit.problems import InputError, ProblemReport

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


def _index(spec: _Spec, g: int) -> dict:
    """Per group: for each matrix, the (i, j) positions of free parameters and their indices in theta (cached)."""
    cache = spec.__dict__.setdefault("_cache", {})
    if g in cache:
        return cache[g]
    out = {}
    for name in ("L", "P", "T", "nu", "alpha"):
        sel = [(i, j, k) for (m, gg, i, j), k in zip(spec.slots, spec.slot_param) if m == name and gg == g]
        arr = np.array(sel, dtype=int).reshape(-1, 3)
        out[name] = (arr[:, 0], arr[:, 1], arr[:, 2])
    p, m = len(spec.observed), len(spec.factors)
    L0 = np.zeros((p, m))
    for fi, f in enumerate(spec.factors):
        for k, x in enumerate(spec.model.factors[f]):
            i = spec.observed.index(x)
            if (f, x) in spec.model.fixed_loadings:
                L0[i, fi] = spec.model.fixed_loadings[(f, x)]
            elif k == 0 and f not in spec.model.free_first:
                L0[i, fi] = 1.0
    out["L0"] = L0
    cache[g] = out
    return out


def _matrices(spec: _Spec, theta: np.ndarray, g: int):
    p, m = len(spec.observed), len(spec.factors)
    ix = _index(spec, g)
    L = ix["L0"].copy()
    P, T = np.zeros((m, m)), np.zeros((p, p))
    nu, al = np.zeros(p), np.zeros(m)
    i, j, k = ix["L"]
    L[i, j] = theta[k]
    i, j, k = ix["P"]
    P[i, j] = theta[k]
    P[j, i] = theta[k]
    i, j, k = ix["T"]
    T[i, j] = theta[k]
    T[j, i] = theta[k]
    i, _, k = ix["nu"]
    nu[i] = theta[k]
    i, _, k = ix["alpha"]
    al[i] = theta[k]
    return L, P, T, nu, al


@dataclass
class _Data:
    S: list[np.ndarray]
    M: list[np.ndarray]
    N: np.ndarray


def _objective(theta, spec: _Spec, data: _Data):
    """lavaan's 2 * fmin = sum_g (N_g / N) F_g, and its gradient."""
    Ntot = data.N.sum()
    f = 0.0
    grad = np.zeros_like(theta)
    for g in range(len(spec.groups)):
        L, P, T, nu, al = _matrices(spec, theta, g)
        Sigma = L @ P @ L.T + T
        try:
            C = np.linalg.cholesky(Sigma)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        Sinv = np.linalg.inv(Sigma)
        S, M, w = data.S[g], data.M[g], data.N[g] / Ntot
        logdet = 2 * np.sum(np.log(np.diag(C)))
        fg = logdet + np.trace(S @ Sinv) - np.linalg.slogdet(S)[1] - len(S)
        G = Sinv - Sinv @ S @ Sinv
        gmu = np.zeros(len(S))
        if spec.meanstructure:
            mu = nu + L @ al
            d = M - mu
            fg += d @ Sinv @ d
            G = G - Sinv @ np.outer(d, d) @ Sinv
            gmu = -2 * Sinv @ d
        f += w * fg
        dL = 2 * G @ L @ P + (np.outer(gmu, al) if spec.meanstructure else 0)
        dP = L.T @ G @ L
        ix = _index(spec, g)
        i, j, k = ix["L"]
        np.add.at(grad, k, w * dL[i, j])
        i, j, k = ix["P"]
        np.add.at(grad, k, w * np.where(i == j, 1.0, 2.0) * dP[i, j])
        i, j, k = ix["T"]
        np.add.at(grad, k, w * np.where(i == j, 1.0, 2.0) * G[i, j])
        i, _, k = ix["nu"]
        np.add.at(grad, k, w * gmu[i])
        i, _, k = ix["alpha"]
        np.add.at(grad, k, w * (L.T @ gmu)[i])
    return f, grad


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

    fit (one row): chisq, df, pvalue, cfi, tli, rmsea, rmsea_ci_low, rmsea_ci_high (90%), srmr,
        aic, bic, loglik, n, n_free, converged, admissible.
    estimates: lhs, op (=~ loading, ~~ (co)variance, ~1 intercept or mean), rhs, group, est, se,
        z, p_val, std_all (lavaan's fully standardised solution).
    """

    fit: pd.DataFrame
    estimates: pd.DataFrame
    converged: bool = True
    admissible: bool = True
    warnings: list[str] = field(default_factory=list)
    _title = "Confirmatory factor analysis (ML)"
    _main = "estimates"


def _prepare(df, spec_model, group, min_cases):
    report = ProblemReport(title="CFA input")
    obs = spec_model.observed
    for x in obs + ([group] if group else []):
        if x not in df.columns:
            report.add("unknown_variable", f"The model or group uses {x!r}, which is not a column of the data.", column=x)
    report.raise_if_errors()
    for x in obs:
        if not pd.api.types.is_numeric_dtype(df[x]):
            report.add("non_numeric", f"{x} is not numeric; recode it first.", column=x)
    report.raise_if_errors()
    data = df[obs + ([group] if group else [])].dropna()
    groups = [None] if not group else sorted(data[group].unique(), key=str)
    S, M, N = [], [], []
    for g in groups:
        sub = data if g is None else data[data[group] == g]
        x = sub[obs].to_numpy(float)
        if len(x) < len(obs) + 1:
            raise InputError(f"Group {g!r} has {len(x)} complete cases, fewer than the {len(obs) + 1} needed "
                             f"for {len(obs)} variables. Merge groups or drop the grouping.")
        M.append(x.mean(axis=0))
        S.append(np.cov(x, rowvar=False, bias=True))
        N.append(len(x))
    return data, [str(g) for g in groups], _Data(S, M, np.array(N, dtype=float))


def cfa(df: pd.DataFrame, model: str, group: str | None = None, equal=(), estimator: str = "ML",
        release=(), _spec=None) -> CFAResult:
    """Fit a CFA model given in lavaan syntax. ``equal`` holds any of "loadings", "intercepts",
    "residuals" (equal across groups, as lavaan's ``group.equal``); ``release`` lists
    ("intercepts" | "loadings" | "residuals", item) pairs freed from those constraints (partial invariance)."""
    if estimator != "ML":
        raise ValueError("only estimator='ML' is supported (ordinal items are treated as continuous)")
    bad = [e for e in equal if e not in EQUAL_OPTIONS]
    if bad:
        raise ValueError(f"equal may contain {EQUAL_OPTIONS}, not {bad}")
    from scipy.optimize import minimize

    m = parse_model(model) if isinstance(model, str) else model
    data, groups, d = _prepare(df, m, group, 0)
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
    for f, items in m.factors.items():
        if len(items) < 2 and len(m.factors) == 1:
            raise InputError(f"Factor {f} has fewer than two indicators; the model is not identified.")
    if len(m.factors) == 1 and len(next(iter(m.factors.values()))) < 3:
        raise InputError("A single factor needs at least three indicators to be identified.")
    theta0 = _start(spec, d)
    res = minimize(_objective, theta0, args=(spec, d), jac=True, method="L-BFGS-B",
                   options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 30})
    theta = res.x
    fmin = res.fun
    converged = bool(res.success) or np.max(np.abs(res.jac)) < 1e-5
    if not converged:
        warnings.append("The model did not converge: the numbers below are not trustworthy.")
    Ntot = d.N.sum()
    chisq = Ntot * fmin
    # baseline (independence) model: diagonal covariance, free variances and means
    chisq_b = sum(n * (np.sum(np.log(np.diag(S))) - np.linalg.slogdet(S)[1]) for S, n in zip(d.S, d.N))
    df_b = len(groups) * p * (p - 1) // 2
    G = len(groups)
    cfi_den = max(chisq_b - df_b, chisq - df_model, 0)
    cfi = 1 - max(chisq - df_model, 0) / cfi_den if cfi_den > 0 else 1.0
    tli = ((chisq_b / df_b) - (chisq / df_model)) / ((chisq_b / df_b) - 1) if df_model > 0 else 1.0
    rmsea = np.sqrt(max(chisq - df_model, 0) / (df_model * Ntot)) * np.sqrt(G) if df_model > 0 else 0.0
    lo, hi = _rmsea_ci(chisq, df_model, Ntot, G)
    loglik, srmr_g = 0.0, []
    admissible = True
    for g in range(G):
        L, P, T, nu, al = _matrices(spec, theta, g)
        Sigma = L @ P @ L.T + T
        S, M, n = d.S[g], d.M[g], d.N[g]
        Sinv = np.linalg.inv(Sigma)
        mu = nu + L @ al if spec.meanstructure else M
        dm = M - mu
        loglik += -n / 2 * (p * np.log(2 * np.pi) + np.linalg.slogdet(Sigma)[1] + np.trace(S @ Sinv) + dm @ Sinv @ dm)
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
    if any(pd.Series(data[x]).nunique() <= 7 for x in spec.observed):
        warnings.append("Items with 7 or fewer response categories are treated as continuous (ML). "
                        "Estimates of fit can be biased for strongly skewed items.")
    fit = pd.DataFrame([{"chisq": chisq, "df": df_model, "pvalue": float(stats.chi2.sf(chisq, df_model)) if df_model else np.nan,
                         "cfi": cfi, "tli": tli, "rmsea": rmsea, "rmsea_ci_low": lo, "rmsea_ci_high": hi, "srmr": srmr,
                         "aic": aic, "bic": bic, "loglik": loglik, "n": int(Ntot), "n_free": spec.n_free,
                         "converged": converged, "admissible": admissible}])
    estimates = _estimates(spec, theta, d)
    return CFAResult(fit, estimates, converged, admissible, warnings)


def _rmsea_ci(chisq, df, N, G, level=0.90):
    if df <= 0:
        return np.nan, np.nan
    from scipy.optimize import brentq

    def ncp_for(prob):
        f = lambda lam: stats.ncx2.cdf(chisq, df, lam) - prob if lam > 0 else stats.chi2.cdf(chisq, df) - prob
        if f(0) < 0:
            return 0.0
        hi = max(chisq, 1.0)
        while f(hi) > 0:
            hi *= 2
        return brentq(f, 1e-10, hi)

    lam_lo = ncp_for((1 + level) / 2)
    lam_hi = ncp_for((1 - level) / 2)
    return (np.sqrt(lam_lo / (N * df)) * np.sqrt(G), np.sqrt(lam_hi / (N * df)) * np.sqrt(G))


def _estimates(spec: _Spec, theta: np.ndarray, d: _Data) -> pd.DataFrame:
    # standard errors from the expected information, as lavaan (ML, information = "expected"):
    # I = sum_g N_g [ 1/2 D_g' (W (x) W) D_g + Dmu_g' W Dmu_g ], W = Sigma_g^-1, D = d vec(Sigma) / d theta
    k = len(theta)
    info = np.zeros((k, k))
    eps = 1e-6
    for g in range(len(spec.groups)):
        def moments(th):
            L, P, T, nu, al = _matrices(spec, th, g)
            return (L @ P @ L.T + T).ravel(), (nu + L @ al)
        s0, m0 = moments(theta)
        D = np.zeros((s0.size, k))
        Dm = np.zeros((m0.size, k))
        for i in range(k):
            e = np.zeros(k)
            e[i] = eps
            sp, mp = moments(theta + e)
            sm, mm = moments(theta - e)
            D[:, i], Dm[:, i] = (sp - sm) / (2 * eps), (mp - mm) / (2 * eps)
        W = np.linalg.inv(s0.reshape(len(m0), len(m0)))
        info += d.N[g] * (0.5 * D.T @ np.kron(W, W) @ D + (Dm.T @ W @ Dm if spec.meanstructure else 0))
    try:
        se = np.sqrt(np.clip(np.diag(np.linalg.inv(info)), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(k, np.nan)
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
    est = pd.DataFrame(rows, columns=["op", "lhs", "rhs", "group", "est", "se", "std_all"])[
        ["lhs", "op", "rhs", "group", "est", "se", "std_all"]]
    with np.errstate(divide="ignore", invalid="ignore"):
        est["z"] = np.where(est["se"] > 0, est["est"] / est["se"], np.nan)
    est["p_val"] = 2 * stats.norm.sf(np.abs(est["z"]))
    return est[["lhs", "op", "rhs", "group", "est", "se", "z", "p_val", "std_all"]]
