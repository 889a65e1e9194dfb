"""Step 4 of a fit, items treated as continuous: maximum likelihood (lavaan ``estimator = "ML"``,
``likelihood = "normal"``: covariances divided by N; ``information = "expected"`` for the standard
errors).

The objective is lavaan's 2 * fmin = sum_g (N_g / N) F_g with F_g = log|Sigma| + tr(S Sigma^-1) -
log|S| - p (+ the mean part with a mean structure); it is infinite where a group's Sigma is not
positive definite (no normal likelihood there). It is minimised by Fisher scoring while far from the
solution and Newton steps with the analytic observed information near it (quadratic convergence),
every step accepted only when it lowers the objective (Armijo, step halving). :func:`minimise` tries
the starts it is given in turn (a warm start from a neighbouring model, then lavaan-style cold
starts) and falls back on L-BFGS-B from the best point reached; a fit is "converged" only at a point
where the objective is finite and its gradient vanishes, never at a point the steps could not leave.
The information matrices are written once, for a batch of "blocks" (the groups here; the
missing-data patterns of :mod:`measurekit.stats.sem.fiml`).
"""
from __future__ import annotations

import numpy as np

from measurekit.stats.sem.sample import Moments
from measurekit.stats.sem.spec import Spec


def objective(theta: np.ndarray, spec: Spec, d: Moments):
    """lavaan's 2 * fmin = sum_g (N_g / N) F_g, and its gradient (all groups in one batch); ``inf`` (and
    a zero gradient, which means nothing there) where a group's Sigma is not positive definite."""
    L, P, T, nu, al = spec.all_matrices(theta)
    S, M, logdet_s = d.stacked()
    Sigma = L @ P @ L.transpose(0, 2, 1) + T
    try:
        C = np.linalg.cholesky(Sigma)
    except np.linalg.LinAlgError:
        return np.inf, np.zeros_like(theta)
    Sinv = np.linalg.inv(Sigma)
    w = d.N / d.N.sum()
    p = S.shape[1]
    fg = 2 * np.log(np.diagonal(C, axis1=1, axis2=2)).sum(axis=1) + (S * Sinv).sum(axis=(1, 2)) - logdet_s - p
    G = Sinv - Sinv @ S @ Sinv
    gmu = np.zeros(M.shape)
    if spec.meanstructure:
        dev = M - nu - (L @ al[:, :, None])[:, :, 0]
        sd = (Sinv @ dev[:, :, None])[:, :, 0]
        fg += (dev * sd).sum(axis=1)
        G -= sd[:, :, None] * sd[:, None, :]
        gmu = -2 * sd
    grad = np.zeros_like(theta)
    chain(spec, None, L, P, al, G * w[:, None, None], gmu * w[:, None], 1.0, grad)
    return float(w @ fg), grad


def chain(spec: Spec, g, L, P, al, G, gmu, w, grad) -> None:
    """Add w * dF/dtheta to grad, given dF/dSigma = G (symmetric) and dF/dmu = gmu of group g
    (``g=None``: every group at once, the arguments stacked)."""
    mp = spec.maps
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


def derivatives(L, P, al, dL, dP, dT, dnu, dal):
    """Analytic d Sigma_b / d theta_k (b x k x p x p) and d mu_b / d theta_k (b x k x p) of a batch."""
    X = dL @ (L @ P).transpose(0, 2, 1)[:, None]           # dL P L'
    Lb = L[:, None]
    D = X + X.transpose(0, 1, 3, 2) + Lb @ dP @ Lb.transpose(0, 1, 3, 2) + dT
    Dm = dnu + (dL @ al[:, None, :, None])[..., 0] + (Lb @ dal[..., None])[..., 0]
    return D, Dm


def information_blocks(L, P, T, nu, al, dL, dP, dT, dnu, dal, S, M, N, meanstructure: bool,
                       observed: bool = False) -> np.ndarray:
    """Information of a batch of blocks b (groups, or missing-data patterns on their observed items):
    every argument is stacked over b; ``dX`` (b x k x shape) are the derivatives of the matrices with
    respect to the parameters, S, M and N the blocks' covariance (divided by N), mean and size.

    Expected information (ML, information = "expected"):
    I = sum_b N_b [ 1/2 D_b' (W (x) W) D_b + Dmu_b' W Dmu_b ], W = Sigma_b^-1, D = d vec(Sigma) / d theta'.
    D'(W kron W)D without the kronecker product: entry (c, e) = tr(W D_c W D_e), D_c as p x p matrices.

    ``observed=True``: the observed information (the Hessian of -loglik), analytic: per block, with
    d = M - mu, A = W - W (S + d d') W and Sigma_ce, mu_ce the second derivatives,
    H_ce = -tr(W D_e W D_c) + 2 tr(W D_e W (S + d d') W D_c) + 2 d'W D_c W Dmu_e + 2 d'W D_e W Dmu_c
    + 2 Dmu_e' W Dmu_c + tr(A Sigma_ce) - 2 d'W mu_ce. It equals the expected one when the model
    reproduces S and M exactly; Newton steps with it converge quadratically where Fisher scoring's
    are only linear."""
    W = np.linalg.inv(L @ P @ L.transpose(0, 2, 1) + T)
    D, Dm = derivatives(L, P, al, dL, dP, dT, dnu, dal)
    B_, k, p = D.shape[0], D.shape[1], D.shape[2]
    WD = W[:, None] @ D

    def trace_pairs(X, Y):          # [c, e] = tr(X_c Y_e) for stacks X, Y (b x k x p x p)
        return X.reshape(B_, k, p * p) @ Y.transpose(0, 1, 3, 2).reshape(B_, k, p * p).transpose(0, 2, 1)

    sym = trace_pairs(WD, WD)
    mm = Dm @ W @ Dm.transpose(0, 2, 1) if meanstructure else 0.0
    if not observed:
        return np.einsum("g,gkl->kl", N, 0.5 * sym + mm)
    Sd = S.copy()
    dev = np.zeros(M.shape)
    if meanstructure:
        dev = M - nu - (L @ al[:, :, None])[:, :, 0]
        Sd += dev[:, :, None] * dev[:, None, :]
    B = W @ Sd
    A = W - B @ W
    Wd = (W @ dev[:, :, None])[:, :, 0]
    H = -sym + 2 * trace_pairs(B[:, None] @ WD, WD)

    def flat(X):
        return X.reshape(B_, k, -1)

    dLf = flat(dL)
    H += 2 * dLf @ flat(A[:, None] @ dL @ P[:, None]).transpose(0, 2, 1)           # L-L part of tr(A Sigma_ce)
    lp = dLf @ flat((A @ L)[:, None] @ dP).transpose(0, 2, 1)                     # L-P part
    H += 2 * (lp + lp.transpose(0, 2, 1))
    if meanstructure:
        v = (WD @ Wd[:, None, :, None])[..., 0] @ Dm.transpose(0, 2, 1)              # d'W D_c W Dmu_e
        q = (dL.transpose(0, 1, 3, 2) @ Wd[:, None, :, None])[..., 0] @ dal.transpose(0, 2, 1)  # d'W mu_ce
        H += 2 * (v + v.transpose(0, 2, 1)) + 2 * mm - 2 * (q + q.transpose(0, 2, 1))
    return np.einsum("g,gkl->kl", N, 0.5 * H)


def information(spec: Spec, theta: np.ndarray, d: Moments, observed: bool = False) -> np.ndarray:
    """Expected (or observed) information of the ML fit, every group a block."""
    mp = spec.maps
    S, M, _ = d.stacked()
    L, P, T, nu, al = spec.all_matrices(theta)
    return information_blocks(L, P, T, nu, al, mp.dL, mp.dP, mp.dT, mp.dnu, mp.dal, S, M, d.N, spec.meanstructure,
                              observed)


def standard_errors(info: np.ndarray) -> np.ndarray:
    try:
        return np.sqrt(np.clip(np.diag(np.linalg.inv(info)), 0, None))
    except np.linalg.LinAlgError:
        return np.full(len(info), np.nan)


def newton(f, info, theta: np.ndarray, n_total: float, max_iter: int = 200, tol: float = 1e-9):
    """Minimise f (returning value and gradient): Fisher scoring (``info(theta, False)``, the expected
    information) while far from the solution, then Newton steps with the observed information
    (``info(theta, True)``) once the steps are below 0.01 and it is positive definite (quadratic
    convergence: the last step below ``tol`` leaves an error of order tol^2; Fisher scoring alone
    converges linearly). The Hessian of f is 2 I / N.

    Each step is halved until it lowers f by Armijo's rule (a step whose model-implied covariance is not
    positive definite has f = inf and is halved too); only a step already below 1e-6 may be taken when
    f changes by no more than its rounding error, which Armijo's test cannot resolve. A start where f
    is not finite, a step that no halving makes acceptable, or five steps in a row cut below 1/1000
    (the search creeping towards a boundary, e.g. a factor variance going to 0) end the search without
    convergence: the point reached is never reported as an optimum. Returns (theta, f, gradient,
    converged)."""
    fv, g = f(theta)
    if not np.isfinite(fv):
        return theta, fv, g, False
    near, short = False, 0
    for _ in range(max_iter):
        H = None
        if near:
            H = 2 * info(theta, True) / n_total
            try:
                np.linalg.cholesky(H)
            except np.linalg.LinAlgError:
                H = None
        if H is None:
            H = 2 * info(theta, False) / n_total          # expected Hessian of the objective
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            return theta, fv, g, False
        if not np.all(np.isfinite(step)):
            return theta, fv, g, False
        slope = float(g @ step)
        t, tiny = 1.0, np.max(np.abs(step)) < 1e-6
        noise = 1e-13 * max(1.0, abs(fv))
        for _half in range(30):
            fn, gn = f(theta + t * step)
            if np.isfinite(fn) and (fn <= fv + 1e-4 * t * slope or (tiny and fn <= fv + noise)):
                break
            t /= 2
        else:
            return theta, fv, g, False
        theta, fv, g = theta + t * step, fn, gn
        size = np.max(np.abs(t * step))
        if size < tol:
            return theta, fv, g, bool(np.max(np.abs(g)) < 1e-7)
        near = size < 1e-2
        short = short + 1 if t < 1e-3 else 0
        if short >= 5:        # steps cut a thousandfold, again and again: heading for a boundary, not an optimum
            return theta, fv, g, False
    return theta, fv, g, False


def lbfgs(f, theta0: np.ndarray):
    """The fall-back: L-BFGS-B from ``theta0`` (a point where f is finite). Where f is infinite the
    search sees a large value, so it backs off. Returns (theta, f, converged): converged only at a
    point where f is finite and the gradient is below 1e-5."""
    from scipy.optimize import minimize

    def bounded(t):
        fv, g = f(t)
        return (fv, g) if np.isfinite(fv) else (1e10, np.zeros_like(t))

    res = minimize(bounded, theta0, jac=True, method="L-BFGS-B",
                   options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 30})
    fv, g = f(res.x)
    return res.x, fv, bool(np.isfinite(fv) and np.max(np.abs(g)) < 1e-5)


def minimise(f, info, starts, n_total: float, improper=None):
    """:func:`newton` from each start in turn (arrays, or callables computed only when reached) until one
    converges to a proper solution (``improper(theta)`` false: no negative residual variance, a positive
    definite factor covariance matrix). An improper optimum may be one of several local optima (a
    small group with a Heywood case), so the other starts are tried too, and then L-BFGS-B (a
    quasi-Newton search like lavaan's nlminb, which takes other paths): from the last start (lavaan's
    simple start), then the others, then the lowest point reached, until one search converges; its
    end point is polished by Newton steps. The lowest converged point wins. Returns (theta, f,
    converged); when nothing converged, the lowest point found (f = inf when no start was feasible)
    and ``converged=False``."""
    found: list[tuple[float, np.ndarray]] = []
    best: tuple[float, np.ndarray] | None = None
    feasible = []
    theta0 = np.zeros(0)
    for start in starts:
        theta0 = start() if callable(start) else start
        theta, fv, _g, ok = newton(f, info, theta0, n_total)
        if not np.isfinite(fv):
            continue
        feasible.append(theta0)
        if ok:
            found.append((fv, theta))
            if improper is None or not improper(theta):
                fv, theta = min(found, key=lambda x: x[0])
                return theta, fv, True
        elif best is None or fv < best[0]:
            best = (fv, theta)
    # L-BFGS-B from lavaan's simple start first (the last start), then the others and the lowest point reached,
    # until one search converges
    for theta0 in feasible[::-1] + ([best[1]] if best is not None else []):
        theta, fv, ok = lbfgs(f, theta0)
        if not np.isfinite(fv):
            continue
        polished, fp, _g, ok2 = newton(f, info, theta, n_total, max_iter=30)
        if ok2 and fp <= fv + 1e-10 * max(1.0, abs(fv)):
            found.append((fp, polished))
            break
        if ok:
            found.append((fv, theta))
            break
        if best is None or fv < best[0]:
            best = (fv, theta)
    if found:
        fv, theta = min(found, key=lambda x: x[0])
        return theta, fv, True
    if best is None:
        return theta0, np.inf, False
    return best[1], best[0], False


def fisher_scoring(spec: Spec, theta: np.ndarray, d: Moments, max_iter: int = 200, tol: float = 1e-9):
    """:func:`newton` on the ML objective of ``spec`` and ``d``."""
    return newton(lambda t: objective(t, spec, d), lambda t, obs: information(spec, t, d, obs), theta,
                  d.N.sum(), max_iter, tol)


def fit(spec: Spec, d: Moments, starts):
    """Estimates, F at the optimum and whether it converged: :func:`minimise` on the ML objective from
    ``starts`` (tried in turn)."""
    from measurekit.stats.sem.spec import improper

    return minimise(lambda t: objective(t, spec, d), lambda t, obs: information(spec, t, d, obs), starts,
                    d.N.sum(), lambda t: improper(spec, t))


def loglik(spec: Spec, theta: np.ndarray, d: Moments) -> float:
    """The normal log-likelihood of the model (lavaan "logl")."""
    p = len(spec.observed)
    out = 0.0
    for g in range(len(spec.groups)):
        L, P, T, nu, al = spec.matrices(theta, g)
        Sigma = L @ P @ L.T + T
        S, M, n = d.S[g], d.M[g], d.N[g]
        Sinv = np.linalg.inv(Sigma)
        dm = M - (nu + L @ al if spec.meanstructure else M)
        out += -n / 2 * (p * np.log(2 * np.pi) + np.linalg.slogdet(Sigma)[1] + np.trace(S @ Sinv) + dm @ Sinv @ dm)
    return out


def fit_ml(sample, equal=(), release=(), warm=None):
    """An ML fit of ``sample.model`` to :class:`~measurekit.stats.sem.sample.MLSample` ``sample``;
    ``warm``: a :class:`~measurekit.stats.sem.results.Solution` (or a list of them) of the same model
    under other equality constraints to start from (the previous level of an invariance sequence, or
    the next, more constrained one, whose solution is a point of this model with the same fit).
    Starts are tried in turn: the warm ones, the triad start, lavaan's simple start (see
    :func:`minimise`)."""
    from measurekit.stats.sem.results import finish
    from measurekit.stats.sem.spec import build, not_identified, start, warm_start

    d, m = sample.moments, sample.model
    grouped = sample.group is not None
    warnings = []
    if grouped and d.N.min() < 100:
        warnings.append(f"The smallest group has {int(d.N.min())} cases: estimates will be imprecise (aim for 100+).")
    spec = build(m, sample.groups, meanstructure=grouped, equal=set(equal), release=release)
    moments = spec.n_moments()
    df_model = moments - spec.n_free
    if df_model < 0:
        raise not_identified(f"The model is not identified: it has {spec.n_free} free parameters but only {moments} "
                             "variances, covariances and means to estimate them from. Add indicators or constraints.")
    theta0 = start(spec, d.S, d.M)
    warm = [] if warm is None else [warm] if not isinstance(warm, (list, tuple)) else list(warm)
    starts = [warm_start(spec, theta0, w.spec, w.theta) for w in warm]
    theta, fmin, converged = fit(spec, d, [*starts, theta0, lambda: start(spec, d.S, d.M, triads=False)])
    if not converged:
        warnings.append("The model did not converge: the numbers below are not trustworthy.")
    chisq = d.N.sum() * fmin
    # baseline (independence) model: diagonal covariance, free variances and means
    chisq_b = float(np.sum(d.N * (np.log(np.diagonal(d.S_all, axis1=1, axis2=2)).sum(axis=1) - d.logdet_S)))
    se = standard_errors(information(spec, theta, d))
    return finish(spec, theta, d, sample.selection, chisq, df_model, chisq_b, loglik(spec, theta, d), converged,
                  warnings, "ML", se, sample.few_categories)
