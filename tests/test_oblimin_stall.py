"""The oblimin rotation stops at a fixed point of its line search with the loadings it would give after every
remaining iteration (bit for bit), and says converged only when the gradient is below GPArotation's eps.

The reference is the same rotation with the fixed-point test switched off (it then runs to its iteration limit)."""
from __future__ import annotations

import numpy as np

from measurekit.stats._numerics import fa_core


def _gradient_norm(A, L):
    """The projected gradient's norm at the rotation that gives ``L`` (GPArotation's convergence measure): T from
    L = A inv(T)', then G = -(L' dQ/dL inv(T))' and Gp = G - T diag(T'G)."""
    T = np.linalg.inv((np.linalg.pinv(A) @ L).T)
    Gq, _ = fa_core._vgq_oblimin(L)
    G = -(L.T @ Gq @ np.linalg.inv(T)).T
    return float(np.sqrt(np.sum((G - T @ np.diag(np.sum(T * G, axis=0))) ** 2)))


def test_a_stalled_rotation_stops_with_the_values_of_the_full_loop(monkeypatch):
    """Random loadings (most rotations of which stall short of eps): the same loadings and factor correlations as
    the loop run to its limit, bit for bit; stopped early only at a fixed point, and then converged exactly when
    the gradient is below STALL_EPS; a rotation that reaches eps is converged as before."""
    calls = []
    inner = fa_core._vgq_oblimin
    monkeypatch.setattr(fa_core, "_vgq_oblimin", lambda L: calls.append(1) or inner(L))
    same = np.array_equal
    limit, early, reached = 600, 0, 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        A = rng.normal(size=(12, 3)) * rng.uniform(0.1, 1, size=3)
        calls.clear()
        with monkeypatch.context() as m:             # no fixed point is ever seen: the loop runs to its limit
            m.setattr(fa_core.np, "array_equal", lambda a, b: False)
            L_ref, phi_ref, conv_ref = fa_core.oblimin(A, max_iter=limit)
        full = len(calls)
        calls.clear()
        L, phi, converged = fa_core.oblimin(A, max_iter=limit)
        used = len(calls)
        assert same(L, L_ref) and same(phi, phi_ref), seed
        s = _gradient_norm(A, L)
        if conv_ref:                                 # reached eps: as before
            reached += 1
            assert converged and used == full and s < 1e-7, seed
        elif used < full:                            # stopped at a fixed point, before the limit
            early += 1
            assert converged == (s < fa_core.STALL_EPS), (seed, s)
        else:
            assert not converged, seed
    assert early >= 10 and reached >= 1, (early, reached)
