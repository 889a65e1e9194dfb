"""Samejima's graded response model by marginal maximum likelihood (EM), single or multiple groups.

Model (mirt's ``itemtype = "graded"``, slope-intercept form): for item j with categories 0..K-1,
P(Y >= k | theta) = expit(a * theta + d_k), k = 1..K-1, with d_1 > d_2 > ... (IRT form: b_k = -d_k / a).
Category probabilities are differences of adjacent cumulative curves, computed on the log scale as
log expit(x_k) + log expit(-x_{k+1}) + log(1 - exp(x_{k+1} - x_k)) so that extreme categories keep
their precision.

Latent trait: N(0, 1) in the reference group (group 0); other groups have their own mean and SD,
identified by the items whose parameters are equal across groups (the anchors), as
``mirt::multipleGroup(invariance = c("free_means", "free_var", <anchor items>))``.

Integration: fixed rectangular quadrature on ``quadpts`` equally spaced nodes over ``theta_lim``
(mirt's defaults for one factor: 61 nodes on [-6, 6]), prior weights the normal density at the
nodes, normalised. EM (Bock and Aitkin 1981): the E-step gives expected counts r[j, g, k, q] of
answering k at node q; the M-step fits each item by Fisher scoring on those counts and each
non-reference group's mean and SD by the weighted moments of its posterior node counts.
Identical answer patterns (within a group) are pooled, so short scales cost little.

Standard errors: observed information as the numerical derivative (central differences) of the
exact marginal score (Fisher's identity: expected complete-data score under the posterior), which is
Oakes' (1999) identity, as ``mirt(..., SE.type = "Oakes")``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit, log_expit


def nodes(quadpts: int = 61, theta_lim: tuple[float, float] = (-6.0, 6.0)) -> np.ndarray:
    return np.linspace(theta_lim[0], theta_lim[1], quadpts)


def prior_weights(theta: np.ndarray, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
    w = np.exp(-0.5 * ((theta - mean) / sd) ** 2)
    return w / w.sum()


def log_category_probs(a, d, theta) -> np.ndarray:
    """log P(Y = k | theta), k = 0..K-1. Scalar ``a`` and ``d`` (K-1,): array (K, Q); or a batch of
    items with the same K, ``a`` (B,) and ``d`` (B, K-1): array (B, K, Q)."""
    a = np.asarray(a, dtype=float)
    d = np.asarray(d, dtype=float)
    x = a[..., None, None] * np.asarray(theta)[None, :] + d[..., :, None]   # (..., K-1, Q)
    inf = np.full(x.shape[:-2] + (1, x.shape[-1]), np.inf)
    upper = np.concatenate([inf, x], axis=-2)                               # x_k, x_0 = +inf
    lower = np.concatenate([x, -inf], axis=-2)                              # x_{k+1}, x_K = -inf
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.where(np.isinf(upper) | np.isinf(lower), -np.inf, lower - upper)
        return log_expit(upper) + log_expit(-lower) + np.log(-np.expm1(gap))


def category_probs(a, d, theta) -> np.ndarray:
    return np.exp(log_category_probs(a, d, theta))


def category_derivs(a, d, theta, logP=None):
    """P (B, K, Q) and dP (B, K, K, Q): derivatives of P_k with respect to (a, d_1..d_{K-1}) for a
    batch of items with the same number of categories (``a`` (B,), ``d`` (B, K-1)). ``logP``: the
    :func:`log_category_probs` of these same ``a``, ``d`` and ``theta`` when already computed."""
    a = np.atleast_1d(np.asarray(a, dtype=float))
    d = np.atleast_2d(np.asarray(d, dtype=float))
    B, K, Q = len(a), d.shape[1] + 1, len(theta)
    if logP is None:
        logP = log_category_probs(a, d, theta)
    s = expit(a[:, None, None] * theta[None, None, :] + d[:, :, None])
    z = np.zeros((B, 1, Q))
    w = np.concatenate([z, s * (1 - s), z], axis=1)                        # (B, K+1, Q), w_0 = w_K = 0
    dP = np.zeros((B, K, K, Q))
    dP[:, :, 0, :] = (w[:, :-1] - w[:, 1:]) * theta
    idx = np.arange(1, K)
    dP[:, idx, idx, :] = w[:, idx]
    dP[:, idx - 1, idx, :] = -w[:, idx]
    return logP, dP


def pair_terms(a, d, r, theta, need_info: bool = True, logP=None):
    """For a batch of (item, group) pairs with the same K: the expected complete-data
    log-likelihood sum r log P, its gradient (B, K) in (a, d) and the Fisher information (B, K, K).
    ``logP``: :func:`log_category_probs` of these ``a``, ``d`` and ``theta`` when already computed."""
    if not need_info:       # the same logP as category_derivs gives, without the derivatives
        if logP is None:
            logP = log_category_probs(np.atleast_1d(np.asarray(a, dtype=float)),
                                      np.atleast_2d(np.asarray(d, dtype=float)), theta)
        return np.sum(r * np.maximum(logP, -700.0), axis=(1, 2)), None, None
    logP, dP = category_derivs(a, d, theta, logP)
    logP = np.maximum(logP, -700.0)
    q = np.sum(r * logP, axis=(1, 2))
    P = np.exp(logP)
    grad = np.einsum("bkq,bkpq->bp", r / P, dP)
    n = r.sum(axis=1)
    dPP = dP / P[:, :, None, :]
    path = _INFO_PATHS.get(dP.shape)
    if path is None:     # the contraction order einsum's optimizer picks, found once per shape (same result)
        path = _INFO_PATHS[dP.shape] = np.einsum_path("bq,bkpq,bkrq->bpr", n, dPP, dP, optimize=True)[0]
    info = np.einsum("bq,bkpq,bkrq->bpr", n, dPP, dP, optimize=path)
    return q, grad, info


_INFO_PATHS: dict[tuple, list] = {}


def item_information(a, d, theta: np.ndarray) -> np.ndarray:
    """Fisher information of one graded item at theta: sum_k (dP_k/dtheta)^2 / P_k (Samejima 1969): (Q,) for
    scalar ``a`` and ``d`` (K-1,); for a batch of items with the same K, ``a`` (B,) and ``d`` (B, K-1): (B, Q)."""
    theta = np.asarray(theta, dtype=float)
    a = np.asarray(a, dtype=float)
    d = np.asarray(d, dtype=float)
    P = category_probs(a, d, theta)
    ax = a[..., None, None]
    s = expit(ax * theta + d[..., :, None])
    z = np.zeros(s.shape[:-2] + (1, len(theta)))
    w = np.concatenate([z, s * (1 - s), z], axis=-2)
    dtheta = ax * (w[..., :-1, :] - w[..., 1:, :])
    return np.sum(dtheta ** 2 / np.maximum(P, 1e-300), axis=-2)


@dataclass
class ItemLayout:
    """Where one item's parameters sit: ``index[g]`` gives the positions of (a, d_1..d_{K-1}) for
    group g in the item's own parameter vector ``values``."""

    n_cat: int
    a_free: bool
    d_free: bool
    n_groups: int
    values: np.ndarray = field(default_factory=lambda: np.empty(0))    # set by set_start (or assigned)
    index: list = field(default_factory=list)

    def __post_init__(self):
        G, K = self.n_groups, self.n_cat
        na = G if self.a_free else 1
        nd = G if self.d_free else 1
        self.index = [np.concatenate([[g if self.a_free else 0],
                                      na + (g if self.d_free else 0) * (K - 1) + np.arange(K - 1)])
                      for g in range(G)]
        self.size = na + nd * (K - 1)

    def ad(self, g: int) -> tuple[float, np.ndarray]:
        v = self.values[self.index[g]]
        return v[0], v[1:]

    def set_start(self, a: float, d: np.ndarray):
        v = np.empty(self.size)
        for g in range(self.n_groups):
            v[self.index[g]] = np.concatenate([[a], d])
        self.values = v

    def ordered(self, values: np.ndarray) -> bool:
        return all(np.all(np.diff(values[ix[1:]]) < 0) for ix in self.index)


@dataclass
class GRMFit:
    """A fitted model. ``layouts``: per item; ``mean`` / ``sd``: latent mean and SD per group;
    ``loglik``: marginal log-likelihood; ``cov``: covariance of the free parameters (None unless
    computed) in the order of :func:`pack`; ``patterns``: pooled answer patterns used."""

    layouts: list[ItemLayout]
    mean: np.ndarray
    sd: np.ndarray
    loglik: float
    iterations: int
    converged: bool
    theta: np.ndarray
    data: "PatternData"
    cov: np.ndarray | None = None

    @property
    def n_par(self) -> int:
        return sum(L.size for L in self.layouts) + 2 * (len(self.mean) - 1)


@dataclass
class PatternData:
    """Answer codes 0..K-1 (-1 missing) pooled into unique (group, pattern) rows with counts."""

    patterns: np.ndarray        # (U, J) int
    group: np.ndarray           # (U,) int
    counts: np.ndarray          # (U,) float
    inverse: np.ndarray         # (n,) row of each person
    n_cat: np.ndarray           # (J,)
    offsets: np.ndarray         # (J,) start of each item's block in the one-hot columns
    onehot: np.ndarray          # (U, sum K) float

    @classmethod
    def build(cls, codes: np.ndarray, group: np.ndarray, n_cat) -> "PatternData":
        codes = np.asarray(codes, dtype=int)
        group = np.asarray(group, dtype=int)
        both = np.column_stack([group, codes])
        uniq, inverse, counts = _unique_rows(both)
        n_cat = np.asarray(n_cat, dtype=int)
        offsets = np.concatenate([[0], np.cumsum(n_cat)[:-1]])
        pats = uniq[:, 1:]
        onehot = np.zeros((len(uniq), int(n_cat.sum())))
        rows, cols = np.nonzero(pats >= 0)
        onehot[rows, offsets[cols] + pats[rows, cols]] = 1.0
        return cls(pats, uniq[:, 0], counts.astype(float), inverse.ravel(), n_cat, offsets, onehot)

    def __post_init__(self):
        from scipy import sparse

        G = int(self.group.max()) + 1 if len(self.group) else 1
        self.rows = [np.nonzero(self.group == g)[0] for g in range(G)]
        self.sparse = [sparse.csr_matrix(self.onehot[r]) for r in self.rows]
        # the transposes the E-step multiplies by, made once (rows in the same order: the same sums)
        self.sparse_t = [X.T.tocsr() for X in self.sparse]


def _unique_rows(rows: np.ndarray):
    """``np.unique(rows, axis=0, return_inverse=True, return_counts=True)`` for small non-negative-ish integer
    codes (here >= -1): each row is read as one number in a mixed radix, whose order is the rows' lexicographic
    order, so the same rows come back in the same order, with a 1-D sort instead of a sort of row records."""
    lo = int(rows.min()) if rows.size else 0
    shifted = rows.astype(np.int64) - lo
    width = int(shifted.max()) + 1 if rows.size else 1
    if rows.ndim != 2 or rows.shape[1] == 0 or width ** rows.shape[1] >= 2 ** 62:
        uniq, inverse, counts = np.unique(rows, axis=0, return_inverse=True, return_counts=True)
        return uniq, inverse.reshape(-1), counts
    weights = width ** np.arange(rows.shape[1] - 1, -1, -1, dtype=np.int64)
    keys, first, inverse, counts = np.unique(shifted @ weights, return_index=True, return_inverse=True,
                                             return_counts=True)
    return rows[first], inverse.reshape(-1), counts


def _stacked_logp(layouts, g, theta):
    """log P(Y_j = k | theta) of every item stacked (sum K, Q), items with the same number of categories in
    one batch (elementwise: the same numbers as item by item)."""
    by_k: dict[int, list[int]] = {}
    for j, L in enumerate(layouts):
        by_k.setdefault(L.n_cat, []).append(j)
    if len(by_k) == 1:
        A = np.empty(len(layouts))
        D = np.empty((len(layouts), layouts[0].n_cat - 1))
        for j, L in enumerate(layouts):
            A[j], D[j] = L.ad(g)
        return log_category_probs(A, D, theta).reshape(-1, len(theta))
    out = np.empty((sum(L.n_cat for L in layouts), len(theta)))
    starts = np.concatenate([[0], np.cumsum([L.n_cat for L in layouts])])
    for K, js in by_k.items():
        A = np.empty(len(js))
        D = np.empty((len(js), K - 1))
        for i, j in enumerate(js):
            A[i], D[i] = layouts[j].ad(g)
        block = log_category_probs(A, D, theta)
        for i, j in enumerate(js):
            out[starts[j]:starts[j + 1]] = block[i]
    return out


def estep(layouts, mean, sd, data: PatternData, theta, keep_post: bool = False):
    """Marginal log-likelihood, expected counts per group (G, sum K, Q), posterior node counts (G, Q)
    and the posterior of each pattern (U, Q)."""
    G = len(mean)
    R = np.zeros((G, data.onehot.shape[1], len(theta)))
    N = np.zeros((G, len(theta)))
    post = np.zeros((len(data.counts), len(theta))) if keep_post else None
    ll = 0.0
    for g in range(G):
        rows = data.rows[g]
        if len(rows) == 0:
            continue
        X = data.sparse[g]
        logl = X @ _stacked_logp(layouts, g, theta) + np.log(prior_weights(theta, mean[g], sd[g]))[None, :]
        m = logl.max(axis=1, keepdims=True)
        p = np.exp(logl - m)
        s = p.sum(axis=1, keepdims=True)
        p /= s
        c = data.counts[rows]
        ll += float(np.sum(c * (np.log(s[:, 0]) + m[:, 0])))
        if post is not None:
            post[rows] = p
        pc = p * c[:, None]
        R[g] = data.sparse_t[g] @ pc
        N[g] = pc.sum(axis=0)
    return ll, R, N, post


def _pairs(layouts, data):
    """(item, group) pairs whose counts enter the M-step: one pooled pair (group None) for an item
    equal across groups, one pair per group otherwise."""
    out = []
    for j, L in enumerate(layouts):
        if L.a_free or L.d_free:
            out += [(j, g) for g in range(L.n_groups)]
        else:
            out.append((j, None))
    return out


def item_terms(layouts, values, R, data, theta, need_info: bool = True):
    """Per item: expected complete-data log-likelihood, its gradient and Fisher information in the
    item's own parameter vector (``values[j]``), evaluated in batches of items with equal K."""
    if len(data.rows) == 1 and len({L.n_cat for L in layouts}) == 1:
        # one group, items with the same number of categories: one batch, each item's own terms as they are
        K, Q = layouts[0].n_cat, len(theta)
        A = np.empty(len(layouts))
        D = np.empty((len(layouts), K - 1))
        for j, v in enumerate(values):
            A[j], D[j] = v[0], v[1:]
        Rk = R[0][data.offsets[:, None] + np.arange(K)]                    # (J, K, Q)
        qs, gr, inf = pair_terms(A, D, Rk.reshape(len(layouts), K, Q), theta, need_info)
        if not need_info:
            return list(qs), None, None
        return list(qs), list(gr), list(inf)
    pairs = _pairs(layouts, data)
    q = [0.0] * len(layouts)
    grads = [np.zeros(L.size) for L in layouts]
    infos = [np.zeros((L.size, L.size)) for L in layouts]
    by_k: dict[int, list] = {}
    for j, g in pairs:
        by_k.setdefault(layouts[j].n_cat, []).append((j, g))
    for K, group in by_k.items():
        A = np.empty(len(group))
        D = np.empty((len(group), K - 1))
        Rk = np.empty((len(group), K, len(theta)))
        for i, (j, g) in enumerate(group):
            ix = layouts[j].index[g or 0]
            A[i], D[i] = values[j][ix[0]], values[j][ix[1:]]
            o = data.offsets[j]
            Rk[i] = R[:, o:o + K].sum(axis=0) if g is None else R[g, o:o + K]
        qs, gr, inf = pair_terms(A, D, Rk, theta, need_info)
        for i, (j, g) in enumerate(group):
            q[j] += qs[i]
            if need_info:
                ix = layouts[j].index[g or 0]
                grads[j][ix] += gr[i]
                infos[j][np.ix_(ix, ix)] += inf[i]
    return q, grads, infos


def _scoring_steps(layouts, grads, infos) -> list[np.ndarray]:
    """Each item's Fisher-scoring step info^-1 grad (a tiny ridge keeps it defined; a singular item does not
    move). Items with the same number of parameters are solved in one batched call (LAPACK's gesv on each
    matrix, as one call per item would)."""
    steps: list[np.ndarray] = [np.empty(0)] * len(layouts)
    by_size: dict[int, list[int]] = {}
    for j, L in enumerate(layouts):
        by_size.setdefault(L.size, []).append(j)
    for size, js in by_size.items():
        A = np.stack([infos[j] for j in js]) + 1e-10 * np.eye(size)
        b = np.stack([grads[j] for j in js])[..., None]
        try:
            solved = np.linalg.solve(A, b)[..., 0]
        except np.linalg.LinAlgError:            # one singular item: solve one by one
            for j in js:
                try:
                    steps[j] = np.linalg.solve(infos[j] + 1e-10 * np.eye(size), grads[j])
                except np.linalg.LinAlgError:
                    steps[j] = np.zeros(size)
            continue
        for i, j in enumerate(js):
            steps[j] = solved[i]
    return steps


def mstep(layouts, R, data, theta):
    """One Fisher-scoring step per item on the expected counts, halved until the expected
    log-likelihood does not fall and the intercepts stay ordered."""
    values = [L.values for L in layouts]
    q, grads, infos = item_terms(layouts, values, R, data, theta)
    steps = _scoring_steps(layouts, grads, infos)
    t = np.ones(len(layouts))
    pending = np.ones(len(layouts), dtype=bool)
    cand = list(values)
    for _ in range(30):
        cand = [v + ti * st if p else v for v, ti, st, p in zip(values, t, steps, pending)]
        qc = item_terms(layouts, cand, R, data, theta, need_info=False)[0]
        bad = np.array([p and (not L.ordered(c) or not np.isfinite(qn) or qn < qo - 1e-9)
                        for p, L, c, qn, qo in zip(pending, layouts, cand, qc, q)])
        if not bad.any():
            break
        pending &= bad
        t[bad] /= 2
        if t[bad].min() < 1e-6:
            for j in np.nonzero(bad)[0]:
                cand[j] = values[j]
            break
    for L, c in zip(layouts, cand):
        L.values = c


def start_values(codes: np.ndarray, n_cat) -> list[tuple[float, np.ndarray]]:
    """Slopes from item-rest correlations (as normal-ogive loadings, converted to the logistic
    metric), intercepts from the cumulative proportions, widened for the slope."""
    codes = np.asarray(codes, dtype=float)
    x = np.where(codes >= 0, codes, np.nan)
    z = (x - np.nanmean(x, axis=0)) / np.nanstd(x, axis=0)
    total = np.nansum(z, axis=1)
    out = []
    for j, K in enumerate(n_cat):
        ok = ~np.isnan(x[:, j])
        rest = total[ok] - z[ok, j]
        r = np.corrcoef(x[ok, j], rest)[0, 1] if ok.sum() > 2 else 0.5
        lam = float(np.clip(1.2 * r, 0.2, 0.9)) if np.isfinite(r) else 0.5
        a = 1.702 * lam / np.sqrt(1 - lam ** 2)
        cum = np.array([(x[ok, j] >= k).mean() for k in range(1, K)])
        cum = np.clip(cum, 1e-3, 1 - 1e-3)
        d = np.log(cum / (1 - cum)) * np.sqrt(1 + np.pi * a ** 2 / 8)
        d = d - np.arange(len(d)) * 1e-3                                     # strictly decreasing
        out.append((a, d))
    return out


def fit_grm(codes: np.ndarray, n_cat, group=None, free_a=(), free_d=(), quadpts: int = 61,
            theta_lim=(-6.0, 6.0), tol: float = 1e-5, max_iter: int = 2000, start=None,
            latent_start=None) -> GRMFit:
    """EM fit. ``codes``: (n, J) ints 0..K_j-1, -1 missing (every row answers at least one item);
    ``group``: (n,) ints 0..G-1 (0 = reference) or None; ``free_a`` / ``free_d``: item positions
    whose slope / intercepts differ across groups (the others are anchors). ``start``: optional list
    of (a, d) per item; ``latent_start``: optional (mean, sd) arrays per group."""
    codes = np.asarray(codes, dtype=int)
    n, J = codes.shape
    group = np.zeros(n, dtype=int) if group is None else np.asarray(group, dtype=int)
    G = int(group.max()) + 1
    theta = nodes(quadpts, theta_lim)
    data = PatternData.build(codes, group, n_cat)
    starts = start if start is not None else start_values(codes, n_cat)
    layouts = []
    for j in range(J):
        L = ItemLayout(int(n_cat[j]), j in set(free_a), j in set(free_d), G)
        L.set_start(*starts[j])
        layouts.append(L)
    mean = np.zeros(G)
    sd = np.ones(G)
    if latent_start is not None:
        mean[1:], sd[1:] = latent_start[0][1:], latent_start[1][1:]
    anchored = G > 1 and any(not (L.a_free and L.d_free) for L in layouts)
    it, converged = _em(layouts, mean, sd, data, theta, anchored, tol, max_iter)
    if anchored:
        # a group's trait distribution must lie inside the nodes (6 SD each side), else the prior is
        # truncated there: widen the range at the same spacing and continue from these estimates
        step = theta[1] - theta[0]
        lo, hi = min(theta[0], np.min(mean - 6 * sd)), max(theta[-1], np.max(mean + 6 * sd))
        if lo < theta[0] or hi > theta[-1]:
            theta = np.arange(np.floor(lo / step) * step, hi + step, step)
            more, converged = _em(layouts, mean, sd, data, theta, anchored, tol, max_iter)
            it += more
    ll = estep(layouts, mean, sd, data, theta)[0]
    return GRMFit(layouts, mean, sd, ll, it, converged, theta, data)


def _em(layouts, mean, sd, data, theta, anchored, tol, max_iter):
    """EM cycles in place on ``layouts``, ``mean`` and ``sd``; returns (iterations, converged)."""
    if len(data.rows) == 1:
        return _em_one_group(layouts, mean, sd, data, theta, tol, max_iter)
    return _em_general(layouts, mean, sd, data, theta, anchored, tol, max_iter)


def _em_general(layouts, mean, sd, data, theta, anchored, tol, max_iter):
    """:func:`_em` for any groups and numbers of categories, item by item through :func:`mstep`."""
    ll_old = -np.inf
    it = 0
    for it in range(1, max_iter + 1):
        ll, R, N, _ = estep(layouts, mean, sd, data, theta)
        before = np.concatenate([L.values for L in layouts] + [mean, sd])
        mstep(layouts, R, data, theta)
        if anchored:
            for g in range(1, len(mean)):
                tot = N[g].sum()
                if tot > 0:
                    mean[g] = float(N[g] @ theta / tot)
                    sd[g] = float(np.sqrt(N[g] @ (theta - mean[g]) ** 2 / tot))
        after = np.concatenate([L.values for L in layouts] + [mean, sd])
        if np.max(np.abs(after - before)) < tol and abs(ll - ll_old) < 1e-7 * max(1.0, abs(ll)):
            return it, True
        ll_old = ll
    return it, False


def _em_one_group(layouts, mean, sd, data, theta, tol, max_iter):
    """:func:`_em` for one group (any numbers of categories), with the parameters of the items that have the
    same number of categories K held as one (items, K) array (slope, then intercepts) instead of a list of
    vectors: the batches :func:`estep`, :func:`item_terms` and :func:`_scoring_steps` form.

    It makes the same floating-point operations on the same arrays as the general path (:func:`estep`,
    :func:`mstep` through :func:`item_terms` and :func:`_scoring_steps`), so it gives the same estimates
    bit for bit, with less work per cycle: the log category probabilities of the parameters the line search
    accepts are the ones the next E-step and the next M-step's derivatives need, so they are computed once
    instead of three times, and the line search's checks (ordered intercepts, no fall of the expected
    log-likelihood) are array operations instead of a loop over items."""
    J, Q = len(layouts), len(theta)
    by_k: dict[int, list[int]] = {}
    for j, L in enumerate(layouts):
        by_k.setdefault(L.n_cat, []).append(j)
    batches = [(K, np.array(js)) for K, js in by_k.items()]
    # each batch's rows of the stacked (sum K, Q) arrays, in the batch's item order
    rows = [(data.offsets[js][:, None] + np.arange(K)).ravel() for K, js in batches]
    V = [np.stack([layouts[j].values for j in js]) for _, js in batches]      # per batch (items, K)
    X, Xt, c = data.sparse[0], data.sparse_t[0], data.counts[data.rows[0]]
    log_prior = np.log(prior_weights(theta, mean[0], sd[0]))[None, :]
    eyes = [1e-10 * np.eye(K) for K, _ in batches]
    n_rows = int(data.onehot.shape[1])

    def logp(v):
        return log_category_probs(v[:, 0].copy(), v[:, 1:].copy(), theta)

    logP = [logp(v) for v in V]                                            # per batch (items, K, Q)
    stacked = np.empty((n_rows, Q))
    ll_old = -np.inf
    it = 0
    for it in range(1, max_iter + 1):
        # E-step (estep, one group)
        for r, lp in zip(rows, logP):
            stacked[r] = lp.reshape(-1, Q)
        logl = X @ stacked + log_prior
        m = logl.max(axis=1, keepdims=True)
        p = np.exp(logl - m)
        s = p.sum(axis=1, keepdims=True)
        p /= s
        ll = 0.0 + float(np.sum(c * (np.log(s[:, 0]) + m[:, 0])))
        R0 = Xt @ (p * c[:, None])
        Rk = [R0[r].reshape(len(js), K, Q) for r, (K, js) in zip(rows, batches)]
        # M-step (mstep): one Fisher-scoring step per item, halved until it is acceptable
        q, steps = np.empty(J), []
        for b, (_, js) in enumerate(batches):
            qb, grad, info = pair_terms(V[b][:, 0].copy(), V[b][:, 1:].copy(), Rk[b], theta, True, logP[b])
            q[js] = qb
            try:
                steps.append(np.linalg.solve(info + eyes[b], grad[..., None])[..., 0])
            except np.linalg.LinAlgError:            # one singular item: solved one by one, as _scoring_steps
                steps.append(np.stack(_scoring_steps([layouts[j] for j in js], list(grad), list(info))))
        t = np.ones(J)
        pending = np.ones(J, dtype=bool)
        cand, cand_logP = V, logP
        qc, ordered = np.empty(J), np.empty(J, dtype=bool)
        for _ in range(30):
            cand = [np.where(pending[js][:, None], v + t[js][:, None] * st, v)
                    for (_, js), v, st in zip(batches, V, steps)]
            cand_logP = [logp(v) for v in cand]
            for (_, js), v, lp, rk in zip(batches, cand, cand_logP, Rk):
                qc[js] = np.sum(rk * np.maximum(lp, -700.0), axis=(1, 2))
                ordered[js] = np.all(np.diff(v[:, 1:], axis=1) < 0, axis=1)
            bad = pending & (~ordered | ~np.isfinite(qc) | (qc < q - 1e-9))
            if not bad.any():
                break
            pending &= bad
            t[bad] /= 2
            if t[bad].min() < 1e-6:
                cand = [np.where(bad[js][:, None], v, cv) for (_, js), v, cv in zip(batches, V, cand)]
                cand_logP = [logp(v) for v in cand]
                break
        moved = max(float(np.max(np.abs(cv - v))) for cv, v in zip(cand, V))
        V, logP = cand, cand_logP
        if moved < tol and abs(ll - ll_old) < 1e-7 * max(1.0, abs(ll)):
            _store(layouts, batches, V)
            return it, True
        ll_old = ll
    _store(layouts, batches, V)
    return it, False


def _store(layouts, batches, V) -> None:
    for (_, js), v in zip(batches, V):
        for j, row in zip(js, v):
            layouts[j].values = row.copy()


def pack(fit: GRMFit) -> np.ndarray:
    """Free parameters in one vector: each item's values, then (mean, sd) of groups 1..G-1 when
    the latent distributions are estimated."""
    parts = [L.values for L in fit.layouts]
    if _latent_free(fit):
        parts += [np.column_stack([fit.mean[1:], fit.sd[1:]]).ravel()]
    return np.concatenate(parts)


def _latent_free(fit: GRMFit) -> bool:
    return len(fit.mean) > 1 and any(not (L.a_free and L.d_free) for L in fit.layouts)


def _unpack(fit: GRMFit, vec):
    pos = 0
    layouts = []
    for L in fit.layouts:
        M = ItemLayout(L.n_cat, L.a_free, L.d_free, L.n_groups)
        M.values = np.array(vec[pos:pos + L.size])
        pos += L.size
        layouts.append(M)
    mean, sd = fit.mean.copy(), fit.sd.copy()
    if _latent_free(fit):
        ms = np.asarray(vec[pos:]).reshape(-1, 2)
        mean[1:], sd[1:] = ms[:, 0], ms[:, 1]
    return layouts, mean, sd


def marginal_score(fit: GRMFit, vec) -> np.ndarray:
    """Gradient of the marginal log-likelihood at ``vec`` (Fisher's identity: the complete-data
    score averaged over each person's posterior)."""
    layouts, mean, sd = _unpack(fit, vec)
    _, R, N, _ = estep(layouts, mean, sd, fit.data, fit.theta)
    parts = item_terms(layouts, [L.values for L in layouts], R, fit.data, fit.theta)[1]
    if _latent_free(fit):
        th = fit.theta
        for g in range(1, len(mean)):
            w = prior_weights(th, mean[g], sd[g])
            zm = (th - mean[g]) / sd[g] ** 2
            zs = -1 / sd[g] + (th - mean[g]) ** 2 / sd[g] ** 3
            tot = N[g].sum()
            parts.append(np.array([N[g] @ zm - tot * (w @ zm), N[g] @ zs - tot * (w @ zs)]))
    return np.concatenate(parts)


def observed_information(fit: GRMFit, h: float = 1e-5):
    """Minus the Hessian of the marginal log-likelihood (forward differences of the exact score,
    symmetrised) and the score itself at the estimates."""
    vec = pack(fit)
    P = len(vec)
    s0 = marginal_score(fit, vec)
    H = np.empty((P, P))
    for i in range(P):
        e = np.zeros(P)
        step = h * max(1.0, abs(vec[i]))
        e[i] = step
        H[:, i] = (marginal_score(fit, vec + e) - s0) / step
    return -(H + H.T) / 2, s0


def loglik_at(fit: GRMFit, vec) -> float:
    layouts, mean, sd = _unpack(fit, vec)
    return estep(layouts, mean, sd, fit.data, fit.theta)[0]


def eap(fit: GRMFit):
    """EAP trait estimate and posterior SD of each person (order of the rows given to fit_grm)."""
    _, _, _, post = estep(fit.layouts, fit.mean, fit.sd, fit.data, fit.theta, keep_post=True)
    m = post @ fit.theta
    v = post @ fit.theta ** 2 - m ** 2
    return m[fit.data.inverse], np.sqrt(np.clip(v, 0, None))[fit.data.inverse]


def summed_score_dist(probs: list[np.ndarray]) -> np.ndarray:
    """Lord-Wingersky recursion: P(sum score = s | theta) from items' category probabilities (K_j, Q)."""
    Q = probs[0].shape[1] if probs else 1
    f = np.ones((1, Q))
    for P in probs:
        K = P.shape[0]
        new = np.zeros((f.shape[0] + K - 1, Q))
        for k in range(K):
            new[k:k + f.shape[0]] += f * P[k]
        f = new
    return f


def newton_polish(fit: GRMFit, info: np.ndarray, score: np.ndarray) -> bool:
    """One Newton step on the marginal log-likelihood from the EM estimates, kept only when it
    raises the log-likelihood and keeps every item's intercepts ordered."""
    vec = pack(fit)
    try:
        new = vec + np.linalg.solve(info, score)
    except np.linalg.LinAlgError:
        return False
    layouts, mean, sd = _unpack(fit, new)
    if not all(L.ordered(L.values) for L in layouts) or np.any(sd <= 0):
        return False
    ll = estep(layouts, mean, sd, fit.data, fit.theta)[0]
    if not np.isfinite(ll) or ll < fit.loglik:
        return False
    fit.layouts, fit.mean, fit.sd, fit.loglik = layouts, mean, sd, ll
    return True


def _collapse_row(o: np.ndarray, e: np.ndarray, mincell: float):
    """Merge the smallest expected cell of one score group into its smaller neighbour until every
    expected cell reaches ``mincell`` or two cells remain (mirt's collapseCells, within a row)."""
    obs, exp = list(o), list(e)
    while len(exp) > 2 and min(exp) < mincell:
        m = min(exp)
        i = max(k for k, v in enumerate(exp) if v == m)
        if i == 0:
            j = 1
        elif i == len(exp) - 1:
            j = i - 1
        else:
            j = i - 1 if exp[i - 1] <= exp[i + 1] else i + 1
        exp[j] += exp[i]
        obs[j] += obs[i]
        del exp[i], obs[i]
    return np.array(obs), np.array(exp)


def s_x2(fit: GRMFit, codes: np.ndarray, mincell: float = 1.0):
    """Orlando and Thissen's S-X2 item fit for each item, on complete rows of ``codes`` (single group).

    Observed counts O[s, k] of answer k among people with summed score s, against expected counts
    N_s * E[k | s], where E[k | s] = integral P_jk(theta) f_{-j}(s - k | theta) phi(theta) /
    integral f(s | theta) phi(theta), with the summed-score distributions f by the Lord-Wingersky
    recursion (Kang and Chen 2008 for polytomous items). The lowest and highest summed scores are
    left out, score groups with one person are merged with the next (as mirt), and within each score
    group sparse expected cells are merged with a neighbour (``mincell``, mirt's default 1).
    df = sum over score groups of (cells - 1) minus the item's free parameters.
    Returns arrays (statistic, df, n rows used)."""
    codes = np.asarray(codes, dtype=int)
    rows = (codes >= 0).all(axis=1)
    X = codes[rows]
    J = X.shape[1]
    th = fit.theta
    w = prior_weights(th, fit.mean[0], fit.sd[0])
    probs = [category_probs(*L.ad(0), th) for L in fit.layouts]
    full = summed_score_dist(probs)                     # (S+1, Q)
    denom = full @ w
    total = X.sum(axis=1)
    S = full.shape[0] - 1
    stat = np.full(J, np.nan)
    dfs = np.full(J, np.nan)
    for j in range(J):
        K = probs[j].shape[0]
        rest = summed_score_dist([p for i, p in enumerate(probs) if i != j])
        E = np.zeros((S + 1, K))
        for k in range(K):
            E[k:k + rest.shape[0], k] = (rest * probs[j][k]) @ w
        E = E / denom[:, None]
        Obs = np.zeros((S + 1, K))
        np.add.at(Obs, (total, X[:, j]), 1.0)
        Ns = Obs.sum(axis=1)
        keep = np.arange(1, S)                          # drop the extreme summed scores
        Obs, E, Ns = Obs[keep], E[keep] * Ns[keep, None], Ns[keep]
        Obs, E = Obs[Ns > 0], E[Ns > 0]
        # a score group with a single person joins the next one (the last joins the previous)
        i = 0
        while i < len(Obs) and len(Obs) > 1:
            if Obs[i].sum() == 1:
                t = i + 1 if i + 1 < len(Obs) else i - 1
                Obs[t] += Obs[i]
                E[t] += E[i]
                Obs, E = np.delete(Obs, i, 0), np.delete(E, i, 0)
                continue
            i += 1
        x2 = 0.0
        cells = 0
        for o_row, e_row in zip(Obs, E):
            o_c, e_c = _collapse_row(o_row, e_row, mincell)
            ok = e_c > 0
            x2 += float(np.sum((o_c[ok] - e_c[ok]) ** 2 / e_c[ok]))
            cells += int(ok.sum()) - 1
        df = cells - K                                  # K free parameters: a and K-1 intercepts
        if df > 0:
            stat[j], dfs[j] = x2, df
    return stat, dfs, int(rows.sum())
