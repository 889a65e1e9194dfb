"""Diagonally weighted least squares on thresholds and polychoric correlations (lavaan "WLSMV").

Model for the latent responses y* of group g (Muthen 1984; lavaan's ordered-categorical model):
Sigma* = Lambda Psi Lambda' + Theta, mu* = nu + Lambda alpha. What is fitted are the standardised
statistics: thresholds tau*_jt = delta_j (tau_jt - mu*_j) and correlations rho*_jk = delta_j delta_k
(Lambda Psi Lambda')_jk, where delta_j = 1 / sd(y*_j) is a free or fixed scale parameter ("delta"
parameterisation, Theta then follows as 1 / delta^2 - diag(Lambda Psi Lambda')) or follows from
Theta ("theta" parameterisation, delta_j = 1 / sqrt((Lambda Psi Lambda')_jj + theta_j)).

Estimation minimises F = sum_g (N_g / N) (s_g - sigma_g)' W_g (s_g - sigma_g) with W_g = diag(Gamma_g)^-1
(DWLS); the test statistic is N F. Robust standard errors use the sandwich
(D'WD)^-1 D'W Gamma W D (D'WD)^-1 / N, and the scaled-and-shifted statistic (Asparouhov and Muthen
2010, lavaan's default for WLSMV) uses the traces of U Gamma with U = W - W D (D'WD)^-1 D'W, all
stacked over groups exactly as lavaan does (``lav_test_satorra_bentler``, lavaan >= 0.6-13).
Cross-group equality constraints are shared parameters. Residual covariances (``y1 ~~ y5``) are
off-diagonal entries of Theta ("T"), free in every group: rho*_jk = delta_j delta_k (Lambda Psi Lambda'
+ Theta)_jk, as lavaan's ordered-categorical model has them in both parameterisations.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from measurekit.stats._numerics.threads import single_thread

MATRICES = ("L", "P", "tau", "nu", "al", "dl", "th", "T")


@dataclass
class OrdSpec:
    observed: list[str]
    factors: list[str]
    groups: list[str]
    ncat: np.ndarray
    parameterization: str
    entries: list = field(default_factory=list)     # (matrix, g, i, j, key | None, value)
    keys: dict = field(default_factory=dict)        # key -> parameter index
    start: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    rescov: bool = False                            # any residual covariance (entries of "T")
    residual_covariances: list = field(default_factory=list)   # (a, b) item names as the model writes them

    def add(self, matrix, g, i, j, key, value):
        """A free parameter (key not None; shared by every entry with the same key) or a fixed value."""
        if key is not None and key not in self.keys:
            self.keys[key] = len(self.keys)
            self.start.append(value)
            self.labels.append(key)
        self.entries.append((matrix, g, i, j, key, value))

    @property
    def n_free(self) -> int:
        return len(self.keys)

    @property
    def th_item(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.observed)), self.ncat - 1)

    def compile(self):
        """Index arrays per group and matrix: (i, j, parameter index or -1, fixed value)."""
        self._idx = []
        for g in range(len(self.groups)):
            out = {}
            for name in MATRICES:
                sel = [(i, j, self.keys[k] if k is not None else -1, v)
                       for (m, gg, i, j, k, v) in self.entries if m == name and gg == g]
                a = np.array(sel, dtype=float).reshape(-1, 4)
                out[name] = (a[:, 0].astype(int), a[:, 1].astype(int), a[:, 2].astype(int), a[:, 3])
            self._idx.append(out)
        p = len(self.observed)
        self._pairs = np.triu_indices(p, 1)[::-1]
        self.rescov = any(e[0] == "T" for e in self.entries)
        return self

    def matrices(self, theta, g):
        p, m, nth = len(self.observed), len(self.factors), int((self.ncat - 1).sum())
        shapes = {"L": (p, m), "P": (m, m), "tau": (nth, 1), "nu": (p, 1), "al": (m, 1), "dl": (p, 1), "th": (p, 1),
                  "T": (p, p)}
        out = {}
        for name, (i, j, k, v) in self._idx[g].items():
            M = np.zeros(shapes[name])
            val = np.where(k >= 0, theta[np.maximum(k, 0)], v)
            M[i, j] = val
            if name in ("P", "T"):
                M[j, i] = val
            out[name] = M if name in ("L", "P", "T") else M[:, 0]
        return out

    def implied(self, theta, g, matrices=None):
        M = matrices or self.matrices(theta, g)
        L, P = M["L"], M["P"]
        S = L @ P @ L.T
        if self.rescov:
            S = S + M["T"]                          # off-diagonal only: the diagonal is unchanged
        if self.parameterization == "theta":
            d = 1 / np.sqrt(np.clip(np.diag(S) + M["th"], 1e-12, None))
        else:
            d = M["dl"]
        mu = M["nu"] + L @ M["al"]
        ti = self.th_item
        tau = d[ti] * (M["tau"] - mu[ti])
        i, j = self._pairs
        return np.concatenate([tau, d[i] * d[j] * S[i, j]])

    def jacobian(self, theta, g):
        """Analytic d sigma_g / d theta' (rows: thresholds then correlations; columns: all parameters)."""
        M = self.matrices(theta, g)
        L, P = M["L"], M["P"]
        p, nk = L.shape[0], theta.size
        LP = L @ P
        S = LP @ L.T
        if self.rescov:
            S = S + M["T"]
        dS = np.zeros((nk, p, p))
        dmu = np.zeros((nk, p))
        nth = M["tau"].size
        dtau = np.zeros((nk, nth))
        dd = np.zeros((nk, p))
        ix = self._idx[g]
        i, f, k, _ = ix["L"]
        free = k >= 0
        i, f, k = i[free], f[free], k[free]
        np.add.at(dS, (k, i), LP[:, f].T)
        dS_t = np.zeros((nk, p, p))
        np.add.at(dS_t, (k, i), LP[:, f].T)
        dS += dS_t.transpose(0, 2, 1)
        np.add.at(dmu, (k, i), M["al"][f])
        a, b, k, _ = ix["P"]
        free = k >= 0
        a, b, k = a[free], b[free], k[free]
        outer = np.einsum("ik,jk->kij", L[:, a], L[:, b])
        outer = outer + np.where((a != b)[:, None, None], outer.transpose(0, 2, 1), 0.0)
        np.add.at(dS, k, outer)
        if self.rescov:
            a, b, k, _ = ix["T"]
            free = k >= 0
            a, b, k = a[free], b[free], k[free]
            np.add.at(dS, (k, a, b), 1.0)
            np.add.at(dS, (k, b, a), 1.0)
        t, _, k, _ = ix["tau"]
        free = k >= 0
        np.add.at(dtau, (k[free], t[free]), 1.0)
        i, _, k, _ = ix["nu"]
        free = k >= 0
        np.add.at(dmu, (k[free], i[free]), 1.0)
        f, _, k, _ = ix["al"]
        free = k >= 0
        np.add.at(dmu, k[free], L[:, f[free]].T)
        if self.parameterization == "theta":
            d = 1 / np.sqrt(np.clip(np.diag(S) + M["th"], 1e-12, None))
            dth = np.zeros((nk, p))
            i, _, k, _ = ix["th"]
            free = k >= 0
            np.add.at(dth, (k[free], i[free]), 1.0)
            dd = -0.5 * d ** 3 * (np.einsum("kii->ki", dS) + dth)
        else:
            d = M["dl"]
            i, _, k, _ = ix["dl"]
            free = k >= 0
            np.add.at(dd, (k[free], i[free]), 1.0)
        mu = M["nu"] + L @ M["al"]
        ti = self.th_item
        Jt = dd[:, ti] * (M["tau"] - mu[ti]) + d[ti] * (dtau - dmu[:, ti])
        a, b = self._pairs
        Jr = (dd[:, a] * d[b] + d[a] * dd[:, b]) * S[a, b] + d[a] * d[b] * dS[:, a, b]
        return np.hstack([Jt, Jr]).T

    def jacobian_numeric(self, theta, g, h=1e-6):
        """Central differences (used by the tests to check the analytic Jacobian)."""
        base = self.implied(theta, g)
        J = np.zeros((base.size, theta.size))
        for k in range(theta.size):
            e = np.zeros_like(theta)
            e[k] = h
            J[:, k] = (self.implied(theta + e, g) - self.implied(theta - e, g)) / (2 * h)
        return J


@dataclass
class DWLSFit:
    theta: np.ndarray
    se: np.ndarray
    chisq: float
    df: int
    chisq_scaled: float
    trace_ug: float
    trace_ug2: float
    converged: bool
    residuals: list          # per group s_g - sigma_g
    vcov: np.ndarray


def _gauss_newton(resid, jac, x0, max_iter=100, tol=1e-10):
    """Minimise ||r(x)||^2 by Gauss-Newton with step halving and a Levenberg damping fallback.
    Converged when the largest step is below tol (relative to max(1, |x|)) and the gradient is tiny."""
    from scipy.linalg import cho_factor, cho_solve

    x = np.asarray(x0, dtype=float).copy()
    r = resid(x)
    f = r @ r
    lam = 0.0
    for _ in range(max_iter):
        J = jac(x)
        g = J.T @ r
        A = J.T @ J
        step = None
        for _inner in range(30):
            try:
                M = A + lam * np.diag(np.diag(A) + 1e-12)
                c, low = cho_factor(M)
                step = -cho_solve((c, low), g)
            except np.linalg.LinAlgError:
                lam = max(lam * 10, 1e-6)
                continue
            t = 1.0
            for _half in range(20):
                xn = x + t * step
                rn = resid(xn)
                fn = rn @ rn
                if np.isfinite(fn) and fn <= f + 1e-4 * t * (g @ step):
                    break
                t /= 2
            else:
                lam = max(lam * 10, 1e-6)
                continue
            break
        if step is None:
            return x, False
        done = np.max(np.abs(t * step) / np.maximum(1.0, np.abs(x))) < tol
        x, r, f = xn, rn, fn
        lam = lam / 10 if lam > 1e-9 else 0.0
        if done:
            return x, bool(np.max(np.abs(jac(x).T @ r)) < 1e-6)
    return x, False


@single_thread
def fit_dwls(spec: OrdSpec, stats: list[np.ndarray], gammas: list[np.ndarray], nobs: np.ndarray) -> DWLSFit:
    """Estimate by DWLS, then robust SEs and the scaled-shifted test."""
    from scipy.optimize import least_squares

    N = nobs.sum()
    fg = nobs / N
    # lavaan's statistic is sum_g (N_g - 1) e_g' W_g e_g and its covariance matrix divides by N - G
    w = [(n - 1) / n / np.diag(G) for G, n in zip(gammas, nobs)]
    sw = [np.sqrt(f * wg) for f, wg in zip(fg, w)]

    def resid(th):
        return np.concatenate([s * (st - spec.implied(th, g)) for g, (s, st) in enumerate(zip(sw, stats))])

    def jac(th):
        return np.vstack([-s[:, None] * spec.jacobian(th, g) for g, s in enumerate(sw)])

    x0 = np.array(spec.start, dtype=float)
    theta, converged = _gauss_newton(resid, jac, x0)
    if not converged:                      # fall back on MINPACK's Levenberg-Marquardt from where we are
        res = least_squares(resid, theta, jac=jac, method="lm", xtol=1e-12, ftol=1e-14, gtol=1e-12, max_nfev=2000)
        theta = res.x
        converged = bool(res.success) or (res.grad is not None and np.max(np.abs(res.grad)) < 1e-6)
    r = resid(theta)
    chisq = float(N * r @ r)
    D = np.vstack([spec.jacobian(theta, g) for g in range(len(stats))])
    # inference uses W_g = diag(Gamma_g)^-1 and weights N_g / N (lavaan's WLS.VD and fg)
    Wd = np.concatenate([f / np.diag(G) for f, G in zip(fg, gammas)])
    from scipy.linalg import block_diag

    Gam = block_diag(*[G / f for G, f in zip(gammas, fg)])
    E = D.T @ (Wd[:, None] * D)
    Einv = np.linalg.pinv(E)
    WD = Wd[:, None] * D
    vcov = Einv @ (WD.T @ Gam @ WD) @ Einv / (N - len(stats))
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    U = np.diag(Wd) - WD @ Einv @ WD.T
    UG = U @ Gam
    tr1, tr2 = float(np.trace(UG)), float(np.sum(UG * UG.T))
    df = int(sum(len(s) for s in stats) - spec.n_free)
    if df > 0 and tr2 > 0:
        a = np.sqrt(df / tr2)
        chisq_scaled = a * chisq + (df - a * tr1)
    else:
        chisq_scaled = chisq
    residuals = [st - spec.implied(theta, g) for g, st in enumerate(stats)]
    return DWLSFit(theta, se, chisq, df, float(chisq_scaled), tr1, tr2, converged, residuals, vcov)


def baseline(stats: list[np.ndarray], gammas: list[np.ndarray], nobs: np.ndarray,
             nth: list[int]) -> tuple[float, float, int]:
    """Independence model (thresholds free in every group, correlations 0): chisq, scaled chisq, df.

    With W diagonal, U is W with the threshold block removed, so the traces are closed-form."""
    chisq, tr1, tr2, df = 0.0, 0.0, 0.0, 0
    for s, G, t, n in zip(stats, gammas, nth, nobs):
        w = 1 / np.diag(G)[t:]
        r = s[t:]
        chisq += (n - 1) * np.sum(w * r * r)
        Gc = G[t:, t:]
        tr1 += len(r)
        tr2 += np.sum((w[:, None] * Gc) * (w[:, None] * Gc).T)
        df += len(r)
    a = np.sqrt(df / tr2)
    return float(chisq), float(a * chisq + (df - a * tr1)), df


LEVELS = ("configural", "thresholds", "loadings", "intercepts")


def build_spec(model, groups: list[str], ncat: np.ndarray, parameterization: str = "delta", level: str = "configural",
               id_fac: str = "marker", release=(), start_stats=None) -> OrdSpec:
    """Parameters of the ordinal model, group by group.

    ``level`` follows Wu and Estabrook (2016) as semTools::measEq.syntax(ID.cat = "Wu.Estabrook.2016",
    parameterization = "delta") writes it: "configural" (thresholds free per group, intercepts 0, scales 1),
    "thresholds" (equal thresholds; intercepts and scales free in groups after the first), "loadings"
    (+ equal loadings; with ``id_fac = "std.lv"`` factor variances free after the first group),
    "intercepts" (+ intercepts back to 0 everywhere; factor means free after the first group).
    ``release``: (kind, item) pairs with kind "thresholds", "loadings" or "intercepts" freed from the
    level's equality constraint (partial invariance); an item whose thresholds are released keeps its
    intercept at 0 and scale at 1 in every group (they are not identified otherwise).
    """
    obs, facs = model.observed, list(model.factors)
    p = len(obs)
    lv = LEVELS.index(level)
    release = {(k, x) for k, x in release}
    spec = OrdSpec(obs, facs, groups, np.asarray(ncat), parameterization,
                   residual_covariances=list(model.residual_covariances))
    R = start_stats
    nth = int((spec.ncat - 1).sum())
    # starting loadings (std.lv metric) from the first group's correlations
    lam = np.full(p, 0.7)
    if R is not None:
        lower, upper = np.triu_indices(p, 1)[::-1]
        C = np.eye(p)
        C[lower, upper] = C[upper, lower] = R[nth:]
        for items in model.factors.values():
            idx = [obs.index(x) for x in items]
            if len(idx) > 1:
                # first principal component of the factor's items: signed, so reverse-keyed items start negative
                vals, vecs = np.linalg.eigh(C[np.ix_(idx, idx)])
                v = vecs[:, -1] * np.sqrt(max(vals[-1] - 1, 0.05) / max(len(idx) - 1, 1) * len(idx))
                v = v if v[0] >= 0 else -v
                lam[idx] = np.clip(v, -0.95, 0.95)
                lam[idx] = np.where(np.abs(lam[idx]) < 0.05, 0.05, lam[idx])
    for g in range(len(groups)):
        for fi, f in enumerate(facs):
            items = model.factors[f]
            marker = obs.index(items[0])
            for k, x in enumerate(items):
                i = obs.index(x)
                if (f, x) in model.fixed_loadings:
                    spec.add("L", g, i, fi, None, model.fixed_loadings[(f, x)])
                elif id_fac == "marker" and k == 0 and f not in model.free_first:
                    spec.add("L", g, i, fi, None, 1.0)
                else:
                    shared = lv >= 2 and ("loadings", x) not in release
                    start = lam[i] / lam[marker] if id_fac == "marker" else lam[i]
                    spec.add("L", g, i, fi, ("L", i, fi) if shared else ("L", i, fi, g), start)
        for fi, f in enumerate(facs):
            marker = obs.index(model.factors[f][0])
            if id_fac == "marker":
                spec.add("P", g, fi, fi, ("P", fi, fi, g), lam[marker] ** 2)
            elif g > 0 and lv >= 2:
                spec.add("P", g, fi, fi, ("P", fi, fi, g), 1.0)
            else:
                spec.add("P", g, fi, fi, None, 1.0)
            for fj in range(fi):
                spec.add("P", g, fi, fj, ("P", fi, fj, g), 0.0)
            free_mean = g > 0 and lv >= 3
            spec.add("al", g, fi, 0, ("al", fi, g) if free_mean else None, 0.0)
        t = 0
        for i, x in enumerate(obs):
            eq_thr = lv >= 1 and ("thresholds", x) not in release
            for _ in range(spec.ncat[i] - 1):
                start = start_stats[t] if start_stats is not None else 0.0
                spec.add("tau", g, t, 0, ("tau", t) if eq_thr else ("tau", t, g), start)
                t += 1
            free_nu = g > 0 and eq_thr and (lv < 3 or ("intercepts", x) in release)
            spec.add("nu", g, i, 0, ("nu", i, g) if free_nu else None, 0.0)
            if parameterization == "delta":
                free_dl = g > 0 and eq_thr
                spec.add("dl", g, i, 0, ("dl", i, g) if free_dl else None, 1.0)
            else:
                spec.add("th", g, i, 0, None, 1.0)
        for a, b in model.residual_covariances:       # free in every group, as measEq.syntax leaves them
            i, j = sorted((obs.index(a), obs.index(b)), reverse=True)
            spec.add("T", g, i, j, ("T", i, j, g), 0.0)
    return spec.compile()


@single_thread
def scaled_difference(spec1: OrdSpec, fit1: DWLSFit, spec0: OrdSpec, fit0: DWLSFit, gammas, nobs) -> tuple[float, int]:
    """Scaled-and-shifted chi-square difference of nested models (lavaan::lavTestLRT's default for WLSMV:
    method "satorra.2000", A.method "delta", scaled.shifted = TRUE). ``1`` is the less restricted model.

    The restrictions are found from the models' Jacobians: H = D1^+ D0 and A spans the orthogonal
    complement of H's columns; then U = V D1 P^-1 A'(A P^-1 A')^+ A P^-1 D1' V with P = sum_g f_g D1g' W_g D1g,
    and T = a (T0 - T1) + m - a tr(U Gamma), a = sqrt(m / tr((U Gamma)^2)), Gamma_all = bdiag(f_g Gamma_g).
    Returns (statistic, df difference)."""
    from scipy.linalg import block_diag

    m = fit0.df - fit1.df
    if m <= 0:
        return float(fit0.chisq - fit1.chisq), int(m)
    fg = nobs / nobs.sum()
    G = len(gammas)
    D1 = np.vstack([spec1.jacobian(fit1.theta, g) for g in range(G)])
    D0 = np.vstack([spec0.jacobian(fit0.theta, g) for g in range(G)])
    H = np.linalg.pinv(D1) @ D0
    Q, _ = np.linalg.qr(H, mode="complete")
    rank = np.linalg.matrix_rank(H)
    A = Q[:, rank:].T
    V = np.concatenate([1 / np.diag(Gm) for Gm in gammas])
    Vf = np.concatenate([f / np.diag(Gm) for f, Gm in zip(fg, gammas)])
    P = D1.T @ (Vf[:, None] * D1)
    Pinv = np.linalg.pinv(P)
    APA = A @ Pinv @ A.T
    keep = ~((np.abs(APA.sum(0)) < 1.5e-8) & (np.abs(APA.sum(1)) < 1.5e-8))
    A = A[keep]
    M = Pinv @ A.T @ np.linalg.pinv(A @ Pinv @ A.T) @ A @ Pinv
    VD = V[:, None] * D1
    U = VD @ M @ VD.T
    UG = U @ block_diag(*[f * Gm for f, Gm in zip(fg, gammas)])
    tr1, tr2 = np.trace(UG), np.trace(UG @ UG)
    a = np.sqrt(m / tr2)
    return float((fit0.chisq - fit1.chisq) * a + m - a * tr1), int(m)
