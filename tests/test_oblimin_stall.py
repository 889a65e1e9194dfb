"""The oblimin rotation stops at a fixed point of its line search with the loadings it would give after every
remaining iteration (bit for bit), and says converged only when the gradient is below GPArotation's eps.

The reference below is the plain GPA loop (Bernaards and Jennrich 2005, as GPArotation::GPFoblq) run to its
iteration limit, written here without the early stop."""
from __future__ import annotations

import numpy as np
import pytest

from measurekit.stats._numerics import fa_core


def _plain_gpa(A, eps, max_iter):
    k = A.shape[1]
    T, al = np.eye(k), 1.0
    L = A @ np.linalg.inv(T).T
    Gq, f = fa_core._vgq_oblimin(L)
    G = -(L.T @ Gq @ np.linalg.inv(T)).T
    s = np.inf
    for _ in range(max_iter):
        Gp = G - T @ np.diag(np.sum(T * G, axis=0))
        s = np.sqrt(np.sum(Gp**2))
        if s < eps:
            break
        al *= 2
        for _ in range(11):
            X = T - al * Gp
            Tt = X / np.sqrt(np.sum(X**2, axis=0))
            L = A @ np.linalg.inv(Tt).T
            Gqt, ft = fa_core._vgq_oblimin(L)
            if f - ft > 0.5 * s**2 * al:
                break
            al /= 2
        T, f = Tt, ft
        G = -(L.T @ Gqt @ np.linalg.inv(Tt)).T
    return L, T.T @ T, s


def test_a_stalled_rotation_stops_with_the_values_of_the_full_loop(monkeypatch):
    """Random loadings (most rotations of which stall short of eps): the same loadings and factor correlations as
    the plain loop run to its limit, bit for bit; stopped early only at a fixed point, and then converged exactly
    when the gradient is below STALL_EPS; a rotation that reaches eps is converged as before."""
    calls = []
    inner = fa_core._vgq_oblimin
    monkeypatch.setattr(fa_core, "_vgq_oblimin", lambda L: calls.append(1) or inner(L))
    limit, early, reached = 600, 0, 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        A = rng.normal(size=(12, 3)) * rng.uniform(0.1, 1, size=3)
        calls.clear()
        L_ref, phi_ref, s_ref = _plain_gpa(A, 1e-8, limit)
        full = len(calls)
        calls.clear()
        L, phi, converged = fa_core.oblimin(A, max_iter=limit)
        assert np.array_equal(L, L_ref) and np.array_equal(phi, phi_ref), seed
        if s_ref < 1e-8:
            reached += 1
            assert converged, seed
        elif len(calls) < full:                  # stopped at a fixed point, before the limit
            early += 1
            assert converged == (s_ref < fa_core.STALL_EPS), seed
        else:
            assert not converged, seed
    assert early >= 10 and reached >= 1, (early, reached)
