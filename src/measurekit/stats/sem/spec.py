"""Step 3 of a fit (continuous items): the parameter table of the model (lavaan's ``lavaanify``):
which entries of the model matrices are free, which are shared across groups (equality
constraints), and the linear maps from the free parameters to the matrices of every group.

Matrices per group (LISREL all-y notation, as lavaan's): L (p x m loadings), P (m x m factor
covariances), T (p x p residual covariances), nu (p intercepts), alpha (m factor means). Defaults as
lavaan's ``cfa()``: the first loading of each factor fixed to 1, factor variances and covariances
free, residual variances free, residual covariances free where the model names them; with a mean
structure, intercepts free and factor means 0 (freed in groups after the first when the intercepts
are equal).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

import numpy as np

from measurekit.stats.sem.syntax import MeasurementModel

EQUAL_OPTIONS = ("loadings", "intercepts", "residuals")


@dataclass
class Maps:
    """theta -> model matrices of every group, as dense linear maps.

    For each matrix X in L, P, T, nu, alpha: ``dX`` (G x k x shape) is dX_g / dtheta_k, so
    X = theta . dX (+ the fixed loadings ``L0`` for L). A symmetric entry maps to both (i, j) and (j, i),
    which makes a gradient with respect to X (entries treated as independent) into one with respect to
    theta by the same contraction, and gives the derivatives of Sigma and mu for the information in a
    few batched products (no per-parameter loops)."""
    dL: np.ndarray
    dP: np.ndarray
    dT: np.ndarray
    dnu: np.ndarray
    dal: np.ndarray
    L0: np.ndarray


@dataclass
class Spec:
    """The parameter table: ``slots`` lists (matrix, group, i, j) of every free entry and ``slot_param``
    the index into theta it takes (entries constrained equal share one)."""
    model: MeasurementModel
    observed: list[str]
    factors: list[str]
    groups: list[str]
    meanstructure: bool
    slots: list[tuple]
    slot_param: np.ndarray
    n_free: int
    maps: Maps = field(init=False, repr=False)

    def __post_init__(self):
        self.maps = _maps(self)
        # each matrix entry is one parameter (or none): where theta goes in the stacked matrices, so that
        # theta . dX is a scatter (the same numbers: every other term of that sum is 0 * theta)
        self._scatter = []
        for dX in (self.maps.dL, self.maps.dP, self.maps.dT, self.maps.dnu, self.maps.dal):
            G, k = dX.shape[:2]
            g, kk, pos = np.nonzero(dX.reshape(G, k, -1))
            shape = (G,) + dX.shape[2:]
            self._scatter.append((g * int(np.prod(dX.shape[2:], dtype=int)) + pos, kk, shape))

    def all_matrices(self, theta: np.ndarray):
        """L, P, T, nu, alpha of every group, stacked (G x ...): theta . dX (+ the fixed loadings for L)."""
        out = []
        for target, kk, shape in self._scatter:
            x = np.zeros(shape)
            x.reshape(-1)[target] = theta[kk]
            out.append(x)
        out[0] += self.maps.L0
        return tuple(out)

    def matrices(self, theta: np.ndarray, g: int):
        return tuple(x[g] for x in self.all_matrices(theta))

    def n_moments(self) -> int:
        """Sample statistics the model is fitted to: variances, covariances (and means) of every group."""
        p = len(self.observed)
        return len(self.groups) * (p * (p + 1) // 2 + (p if self.meanstructure else 0))


def build(model: MeasurementModel, groups: list[str], meanstructure: bool, equal, release) -> Spec:
    """The parameter table for ``groups`` with ``equal`` (subset of :data:`EQUAL_OPTIONS`, lavaan's
    ``group.equal``) and ``release`` ((kind, item) pairs freed from them, ``group.partial``)."""
    obs, facs = model.observed, list(model.factors)
    slots: list[tuple] = []
    keys: list[int] = []
    index: dict[tuple, int] = {}

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
    return Spec(model, obs, facs, groups, meanstructure, slots, np.array(keys), len(index))


def _maps(spec: Spec) -> Maps:
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
    return Maps(dL, dP, dT, dnu, dal, L0)


def start(spec: Spec, S: list[np.ndarray], M: list[np.ndarray], triads: bool = True) -> np.ndarray:
    """Start values: factor variances half the marker's variance, residual variances half the item's,
    covariances 0, intercepts the item means (lavaan's "simple" start), and loadings from triads: in a
    factor with a marker fixed to 1 and at least three items, loading_i = median over the factor's other
    items o of S_io / S_marker,o (a one-factor model implies that ratio exactly). ``triads=False``, or a
    factor without a fixed marker: the covariance with the marker over its variance. The optimum does
    not depend on the start; triads save about a third of the iterations."""
    theta = np.zeros(spec.n_free)
    for (matrix, g, i, j), k in zip(spec.slots, spec.slot_param):
        Sg, Mg = S[g], M[g]
        if matrix == "L":
            f = spec.factors[j]
            marker = spec.observed.index(spec.model.factors[f][0])
            theta[k] = Sg[i, marker] / Sg[marker, marker] if Sg[marker, marker] > 0 else 0.5
        elif matrix == "P":
            theta[k] = 0.05 if i == j else 0.0
        elif matrix == "T":
            theta[k] = Sg[i, i] / 2 if i == j else 0.0
        elif matrix == "nu":
            theta[k] = Mg[i]
    for (matrix, g, i, j), k in zip(spec.slots, spec.slot_param):
        if matrix == "P" and i == j:
            marker = spec.observed.index(spec.model.factors[spec.factors[i]][0])
            theta[k] = S[g][marker, marker] / 2
    if triads:
        m = spec.model
        for (matrix, g, i, j), k in zip(spec.slots, spec.slot_param):
            f = spec.factors[j] if matrix == "L" else None
            if f is None or f in m.free_first or len(m.factors[f]) < 3 or any((f, x) in m.fixed_loadings
                                                                               for x in m.factors[f]):
                continue
            marker = spec.observed.index(m.factors[f][0])
            others = [spec.observed.index(x) for x in m.factors[f][1:]]
            ratios = [float(S[g][i, o] / S[g][marker, o]) for o in others if o != i and abs(S[g][marker, o]) > 1e-8]
            if ratios and np.isfinite(median(ratios)):
                theta[k] = median(ratios)
    return theta


def warm_start(spec: Spec, theta0: np.ndarray, prev_spec: Spec, prev_theta: np.ndarray) -> np.ndarray:
    """Start values from a fit of the same model and groups under other equality constraints: each
    parameter takes the mean of the previous fit's values of the matrix entries it stands for (an entry
    the previous model fixed counts with its fixed value: a factor mean held at 0 starts at 0).

    From a less constrained fit (the previous level of an invariance sequence) this averages the
    group-specific estimates the new constraint makes equal; the optimum does not depend on the start,
    and the fit needs a third of the iterations. From a more constrained fit (the next level) the start
    is that solution itself, a point of this model with the same fit: free factor means this model does
    not have (intercepts free, factor means 0) are moved into the intercepts, nu_g + L_g alpha_g, so the
    model-implied means are unchanged. A descent from there cannot end above the constrained fit."""
    if (prev_spec.groups, prev_spec.observed, prev_spec.factors, prev_spec.meanstructure) != (
            spec.groups, spec.observed, spec.factors, spec.meanstructure):
        return theta0
    L, P, T, nu, al = prev_spec.all_matrices(prev_theta)
    if spec.meanstructure:
        free_means = {g for matrix, g, _i, _j in spec.slots if matrix == "alpha"}
        for g in range(len(spec.groups)):
            if g not in free_means:
                nu[g] = nu[g] + L[g] @ al[g]
                al[g] = 0.0
    values = {"L": L, "P": P, "T": T, "nu": nu[:, :, None], "alpha": al[:, :, None]}
    total, count = np.zeros_like(theta0), np.zeros_like(theta0)
    for (matrix, g, i, j), k in zip(spec.slots, spec.slot_param):
        total[k] += values[matrix][g, i, j]
        count[k] += 1
    return np.where(count > 0, total / np.maximum(count, 1), theta0)


def improper(spec: Spec, theta: np.ndarray) -> bool:
    """An improper solution (a Heywood case): a negative residual variance, or a factor covariance matrix
    that is not positive semi-definite, in some group."""
    _L, P, T, _nu, _al = spec.all_matrices(theta)
    return bool(np.any(np.diagonal(T, axis1=1, axis2=2) < 0) or np.any(np.linalg.eigvalsh(P) < -1e-10))


def not_identified(message: str):
    from measurekit.problems import InputError, Problem, ProblemReport

    return InputError(ProblemReport([Problem("not_identified", message)], title="CFA model"))


def check_identified(m: MeasurementModel) -> None:
    """The rules of thumb lavaan leaves to the user: two indicators per factor when there are several
    factors, three for a single factor (the count of free parameters is checked after the build)."""
    for f, items in m.factors.items():
        if len(items) < 2 and len(m.factors) == 1:
            raise not_identified(f"Factor {f} has fewer than two indicators; the model is not identified.")
    if len(m.factors) == 1 and len(next(iter(m.factors.values()))) < 3:
        raise not_identified("The model is not identified: a single factor needs at least three indicators.")
