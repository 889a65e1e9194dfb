"""Core factor-analysis numerics: minres and maximum-likelihood extraction, GPA oblimin rotation.

``ml`` follows psych::fa(fm = "ml") (psych's fit.ml, the criterion of R's factanal). ``minres`` follows
psych::fa(fm = "minres"): uniquenesses minimise the sum of squared off-diagonal residuals (L-BFGS-B, bounds
0.005..1), loadings from the eigen decomposition of R with communalities on the diagonal. ``oblimin`` is the
gradient projection algorithm of Bernaards and Jennrich (GPArotation::GPFoblq with the oblimin criterion,
gamma = 0, no normalisation), run to a tighter tolerance than GPArotation's default.
"""
from __future__ import annotations

import numpy as np


def _loadings_from_psi(r: np.ndarray, psi: np.ndarray, nf: int) -> np.ndarray:
    s = r.copy()
    np.fill_diagonal(s, 1 - psi)
    values, vectors = np.linalg.eigh(s)
    order = np.argsort(values)[::-1][:nf]
    values = np.maximum(values[order], 100 * np.finfo(float).eps)
    return vectors[:, order] * np.sqrt(values)


def minres(r: np.ndarray, nf: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Unrotated minres loadings (p x nf), uniquenesses, converged flag."""
    from scipy.optimize import minimize

    p = r.shape[0]
    off = ~np.eye(p, dtype=bool)

    def objective(psi):
        s = r.copy()
        np.fill_diagonal(s, 1 - psi)
        values, vectors = np.linalg.eigh(s)
        order = np.argsort(values)[::-1][:nf]
        lam = np.maximum(values[order], 100 * np.finfo(float).eps)
        L = vectors[:, order] * np.sqrt(lam)
        resid = s - L @ L.T
        f = 0.5 * np.sum(resid[off] ** 2)
        # gradient w.r.t. psi: d f / d psi_i = -sum_j resid_ij * d(model_ij)/... use the ULS result
        # that at fixed eigenvectors the gradient equals the diagonal of the residual of the reduced matrix
        g = -np.diag(resid)
        return f, g

    start = np.clip(1 - (1 - 1 / np.diag(np.linalg.pinv(r))), 0.005, 1.0)
    res = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=[(0.005, 1.0)] * p,
                   options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 2000})
    psi = res.x
    L = _loadings_from_psi(r, psi, nf)
    psi = 1 - np.sum(L**2, axis=1)
    return L, psi, bool(res.success)


def ml(r: np.ndarray, nf: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Unrotated maximum-likelihood loadings (p x nf), uniquenesses, converged flag: psych's fit.ml (the criterion
    of R's factanal). The uniquenesses psi minimise F = -(sum_{k > nf} (log e_k - e_k) - nf + p), e the
    eigenvalues of S* = Psi^-1/2 R Psi^-1/2 (largest first); gradient diag(L L' + Psi - R) / psi^2 with
    L = Psi^1/2 V_nf diag(sqrt(max(e_nf - 1, 0))); L-BFGS-B within [0.005, 1] from psych's start
    (1 - nf / (2p)) / diag(R^-1), to a tighter tolerance than psych's optim defaults."""
    from scipy.optimize import minimize

    p = r.shape[0]
    diag_r = np.diag(r).copy()

    def eig(psi):
        sc = 1 / np.sqrt(psi)
        values, vectors = np.linalg.eigh(r * np.outer(sc, sc))
        return values[::-1], vectors[:, ::-1]

    def loadings(psi, values, vectors):
        return np.sqrt(psi)[:, None] * vectors[:, :nf] * np.sqrt(np.maximum(values[:nf] - 1, 0))

    def objective(psi):
        values, vectors = eig(psi)
        e = values[nf:]
        if np.any(e <= 0):
            return np.inf, np.zeros(p)
        f = -(np.sum(np.log(e) - e) - nf + p)
        L = loadings(psi, values, vectors)
        return f, (np.sum(L**2, axis=1) + psi - diag_r) / psi**2

    try:
        start = (1 - 0.5 * nf / p) / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        start = (1 - 0.5 * nf / p) / np.diag(np.linalg.pinv(r))
    start = np.clip(start, 0.005, 1.0)
    res = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=[(0.005, 1.0)] * p,
                   options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 2000})
    psi = res.x
    L = loadings(psi, *eig(psi))
    return L, psi, bool(res.success)


def _vgq_oblimin(L: np.ndarray):
    k = L.shape[1]
    X = (L**2) @ (1 - np.eye(k))
    return L * X, np.sum(L**2 * X) / 4


# a rotation that cannot move any more (a fixed point of the line search) counts as converged when its gradient is
# below this: GPArotation::oblimin's default eps, the tolerance psych::fa's rotations are run with
STALL_EPS = 1e-5


def oblimin(A: np.ndarray, eps: float = 1e-8, max_iter: int = 5000) -> tuple[np.ndarray, np.ndarray, bool]:
    """GPA oblique rotation with the oblimin (quartimin) criterion. Returns (loadings, Phi, converged).

    Iterates to a gradient below ``eps``; a rotation whose step size has shrunk to nothing first (the gradient at
    the floor of floating-point noise) stops there, converged if the gradient is below ``STALL_EPS``."""
    k = A.shape[1]
    if k < 2:
        return A.copy(), np.eye(k), True
    T = np.eye(k)
    al = 1.0
    L = A @ np.linalg.inv(T).T
    Gq, f = _vgq_oblimin(L)
    G = -(L.T @ Gq @ np.linalg.inv(T)).T
    converged = False
    for _ in range(max_iter):
        Gp = G - T @ np.diag(np.sum(T * G, axis=0))
        s = np.sqrt(np.sum(Gp**2))
        if s < eps:
            converged = True
            break
        al *= 2
        for _ in range(11):
            X = T - al * Gp
            Tt = X / np.sqrt(np.sum(X**2, axis=0))
            L = A @ np.linalg.inv(Tt).T
            Gqt, ft = _vgq_oblimin(L)
            if f - ft > 0.5 * s**2 * al:
                break
            al /= 2
        else:
            if ft == f and np.array_equal(Tt, T):
                # a fixed point short of eps (the gradient at the floor of floating-point noise, the step size
                # shrinking towards 0): every later iteration would give these same values, bit for bit, until
                # max_iter (a 300-child cohort spent 1.1 s of CPU per rotation so). Stop here; converged when the
                # gradient is below GPArotation's own default eps (1e-5), which psych's fa uses
                converged = bool(s < STALL_EPS)
                break
        T, f = Tt, ft
        G = -(L.T @ Gqt @ np.linalg.inv(Tt)).T
    return L, T.T @ T, converged


def sort_and_sign(L: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order factors by variance accounted for (largest first) and make column sums positive, as psych does."""
    signs = np.sign(L.sum(axis=0))
    signs[signs == 0] = 1
    L = L * signs
    phi = phi * np.outer(signs, signs)
    ss = np.diag(phi @ L.T @ L)
    order = np.argsort(-ss, kind="stable")
    return L[:, order], phi[np.ix_(order, order)]
