"""Structure of a set of items: polychoric correlations, parallel analysis, EFA and omega.

Defaults follow R's psych 2.2.9 (``polychoric``, ``fa.parallel``, ``fa``, ``omega``); the
numbers are checked against stored psych outputs (``tests/fixtures/r/factor.R``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.problems import InputError, Problem, ProblemReport
from measurekit.stats._numerics.item_data import bad_option, checked_matrix, numeric_items
from measurekit.stats._numerics.threads import single_thread


def smooth_correlation(r: np.ndarray, eig_tol: float = 1e-12) -> tuple[np.ndarray, bool]:
    """psych::cor.smooth: if not positive definite, floor the eigenvalues, rescale, back to a correlation matrix."""
    values, vectors = np.linalg.eigh(r)
    if values.min() >= np.finfo(float).eps:
        return r, False
    values = np.where(values < eig_tol, 100 * eig_tol, values)
    values = values * r.shape[0] / values.sum()
    x = (vectors * values) @ vectors.T
    d = np.sqrt(np.diag(x))
    return x / np.outer(d, d), True


# --------------------------------------------------------------------------- polychoric
@dataclass
class PolychoricResult(Result):
    """Polychoric correlations (psych::polychoric, global thresholds, two-step estimation).

    correlation: items x items matrix of polychoric correlations (smoothed if it was not positive definite).
    thresholds: items x cut points; the normal-scale thresholds between successive categories,
        from each item's own answers (psych's ``tau``).
    n: items x items number of respondents answering both items.
    smoothed: True when the matrix was not positive definite and was smoothed as psych::cor.smooth does.
    """

    correlation: pd.DataFrame
    thresholds: pd.DataFrame
    n: pd.DataFrame
    smoothed: bool = False
    warnings: list[str] = field(default_factory=list)
    _title = "Polychoric correlations"
    _main = "correlation"


@single_thread
def polychoric(data: pd.DataFrame, *, items=None, max_categories: int = 8, smooth: bool = True) -> PolychoricResult:
    """Polychoric correlations of ordinal items, matching ``psych::polychoric`` defaults.

    Thresholds come from each item's marginal proportions (``global = TRUE``); each correlation
    maximises the likelihood of its two-way table given those thresholds (pairwise deletion;
    psych's Brent search is replaced by Fisher scoring with analytic derivatives, vectorised over all
    pairs at once, to 1e-10). A matrix that is not positive definite is smoothed (``psych::cor.smooth``)
    and reported. Codes must be whole numbers with at most ``max_categories`` distinct values.
    """
    from scipy.special import ndtri

    # the item values read directly when the frame is plain (item_data.checked_matrix: every check still made)
    x, names = checked_matrix(data, items, min_items=2, what="A polychoric correlation")
    finite = x[~np.isnan(x)]
    if not np.all(finite == np.round(finite)):
        raise InputError.of("not_item_codes",
                            "Polychoric correlations need whole-number response codes (1, 2, 3, ...).")
    lo, hi = finite.min(), finite.max()
    ncat = int(hi - lo) + 1
    if ncat > max_categories:
        raise InputError.of("not_item_codes", f"The items have {ncat} possible values; polychoric correlations are "
                            f"meant for ordinal items with at most {max_categories} categories.")
    warnings = []
    codes = np.where(np.isnan(x), -1, x - lo).astype(int)
    nvar = x.shape[1]
    present = codes >= 0
    counts = np.stack([np.bincount(codes[present[:, j], j], minlength=ncat) for j in range(nvar)])
    props = counts / counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        tau = ndtri(np.cumsum(props, axis=1)[:, :-1])          # (nvar, ncat - 1)
    top = counts.max(axis=0)
    if (counts[:, 0] == 0).any() or (counts[:, -1] == 0).any():
        warnings.append("Some items do not use every response category; their thresholds at the ends are infinite.")
    ii, jj = np.triu_indices(nvar, 1)
    both = present[:, ii] & present[:, jj]
    # every pair's two-way table in one bincount; rows missing either item go to a discarded last bin
    cells = ncat * ncat
    flat = np.where(both, codes[:, ii] * ncat + codes[:, jj] + np.arange(len(ii)) * cells, len(ii) * cells)
    tabs = np.bincount(flat.ravel(), minlength=len(ii) * cells + 1)[:-1].reshape(len(ii), ncat, ncat).astype(float)
    npair = tabs.sum(axis=(1, 2))
    tabs = tabs / np.maximum(npair, 1)[:, None, None]
    inf = np.full((nvar, 1), np.inf)
    cuts = np.hstack([-inf, tau, inf])
    H, K = cuts[ii], cuts[jj]
    # maximum likelihood rho of every pair at once: Fisher scoring with the analytic score and information
    from measurekit.stats._numerics.matrix import pairwise_cor
    from measurekit.stats._numerics.polychoric import polychoric_pairs

    start = np.nan_to_num(pairwise_cor(x)[ii, jj])        # Pearson start: Fisher scoring then needs ~4 steps
    rho, converged = polychoric_pairs(tabs, H, K, start)
    if not converged:
        warnings.append("A polychoric correlation did not converge in 100 Fisher-scoring steps.")
    rho[npair == 0] = np.nan
    r = np.eye(nvar)
    r[ii, jj] = rho
    r[jj, ii] = rho
    smoothed = False
    if np.isnan(r).any():
        warnings.append("Some pairs of items were never answered together; their correlation is missing and "
                        "the matrix was not smoothed.")
    elif smooth:
        r, smoothed = smooth_correlation(r)
        if smoothed:
            warnings.append("The polychoric matrix was not positive definite, so it was smoothed as psych::cor.smooth "
                            "does (small eigenvalues raised, then rescaled). Results based on it are approximate.")
    nmat = present.T.astype(float) @ present.astype(float)
    del top
    return PolychoricResult(
        correlation=pd.DataFrame(r, index=names, columns=names),
        thresholds=pd.DataFrame(tau, index=pd.Index(names, name="item"), columns=[str(k) for k in range(1, ncat)]),
        n=pd.DataFrame(nmat.astype(int), index=names, columns=names),
        smoothed=smoothed, warnings=warnings)


# --------------------------------------------------------------------------- correlation input
def _correlation(data: pd.DataFrame, cor: str) -> tuple[np.ndarray, list[str], list[str]]:
    warnings = []
    if cor == "poly":
        pc = polychoric(data)
        warnings += pc.warnings
        return pc.correlation.to_numpy(), warnings, list(data.columns)
    if cor != "pearson":
        raise bad_option("cor", "cor must be 'pearson' or 'poly'.", cor)
    r, warnings = _pearson(data.to_numpy())
    return r, warnings, list(data.columns)


def _pearson(x: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Pairwise Pearson correlations of the item matrix, smoothed as psych::cor.smooth when not positive definite."""
    from measurekit.stats._numerics.matrix import pairwise_cor

    warnings = []
    r = pairwise_cor(x)
    if not np.all(np.isfinite(r)):
        raise InputError.of("never_together", "Some pairs of items were never answered together, so their "
                            "correlation is unknown.")
    r, smoothed = smooth_correlation(r)
    if smoothed:
        warnings.append("The correlation matrix was not positive definite and was smoothed (psych::cor.smooth).")
    return r, warnings


def kmo(r: np.ndarray) -> tuple[float, np.ndarray]:
    """Kaiser-Meyer-Olkin measure of sampling adequacy (overall, per item), as psych::KMO."""
    inv = np.linalg.pinv(r)
    d = np.sqrt(np.diag(inv))
    partial = -inv / np.outer(d, d)
    off = ~np.eye(len(r), dtype=bool)
    r2, p2 = np.where(off, r**2, 0), np.where(off, partial**2, 0)
    per_item = r2.sum(axis=0) / (r2.sum(axis=0) + p2.sum(axis=0))
    return float(r2.sum() / (r2.sum() + p2.sum())), per_item


def bartlett(r: np.ndarray, n: int) -> dict:
    """Bartlett's test that the correlation matrix is an identity matrix (psych::cortest.bartlett)."""
    from scipy.special import chdtrc  # what scipy.stats.chi2.sf computes, without its per-call overhead

    p = r.shape[0]
    sign, logdet = np.linalg.slogdet(r)
    chisq = -(n - 1 - (2 * p + 5) / 6) * logdet
    df = p * (p - 1) / 2
    return {"chisq": float(chisq), "df": int(df), "p_val": float(chdtrc(df, chisq))}


# --------------------------------------------------------------------------- EFA
@dataclass(eq=False)
class EFAResult(Result):
    """Exploratory factor analysis (psych::fa with fm = "minres" or "ml", rotate = "oblimin" or "none").

    loadings: items x factors (pattern loadings after rotation; factors ordered by variance
        explained, signs so that each factor's loadings sum positive).
    communalities: per item ``h2`` (variance explained by the factors) and ``u2`` = 1 - h2.
    factor_correlations: factors x factors (Phi; identity for an orthogonal rotation).
    variance: per factor ``ss_loadings`` and ``proportion`` of total variance.
    adequacy: KMO overall and per item (psych::KMO) and Bartlett's test (chisq, df, p_val).
    n (respondents with an answer), converged, warnings.

    The tables are built from the fitted matrices when first read (the call computes the numbers; the
    same tables whenever they are read).
    """

    n: int
    converged: bool
    warnings: list[str]
    _fitted: dict = field(repr=False)
    _title = "Exploratory factor analysis"
    _main = "loadings"

    def _fields(self) -> dict:
        return {name: getattr(self, name) for name in ("loadings", "communalities", "factor_correlations",
                                                       "variance", "adequacy", "n", "converged", "warnings")}

    def __repr__(self) -> str:
        return f"<EFAResult: {len(self._fitted['names'])} items, {len(self._fitted['cols'])} factors, n {self.n}>"

    @functools.cached_property
    def loadings(self) -> pd.DataFrame:
        f = self._fitted
        return pd.DataFrame(f["L"], index=pd.Index(f["names"], name="item"), columns=f["cols"])

    @functools.cached_property
    def communalities(self) -> pd.DataFrame:
        f = self._fitted
        return pd.DataFrame({"h2": f["h2"], "u2": 1 - f["h2"]}, index=pd.Index(f["names"], name="item"))

    @functools.cached_property
    def factor_correlations(self) -> pd.DataFrame:
        f = self._fitted
        return pd.DataFrame(f["phi"], index=f["cols"], columns=f["cols"])

    @functools.cached_property
    def variance(self) -> pd.DataFrame:
        f = self._fitted
        return pd.DataFrame({"ss_loadings": f["ss"], "proportion": f["ss"] / len(f["names"])},
                            index=pd.Index(f["cols"], name="factor"))

    @functools.cached_property
    def adequacy(self) -> pd.DataFrame:
        f = self._fitted
        bt = f["bartlett"]
        return pd.DataFrame({"measure": ["KMO overall", *[f"KMO {n}" for n in f["names"]], "Bartlett chisq",
                                         "Bartlett df", "Bartlett p_val"],
                             "value": [f["kmo"], *f["kmo_items"], bt["chisq"], bt["df"], bt["p_val"]]})

    def plot(self, ax=None, cut: float = 0.3):
        """Heat map of the loadings (values below ``cut`` shown faint)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(1.2 * self.loadings.shape[1] + 2, 0.35 * len(self.loadings) + 1))
        values = self.loadings.to_numpy()
        ax.imshow(values, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
        for (i, j), v in np.ndenumerate(values):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, alpha=1.0 if abs(v) >= cut else 0.35)
        ax.set_xticks(range(values.shape[1]), self.loadings.columns)
        ax.set_yticks(range(values.shape[0]), self.loadings.index)
        ax.set_title("Factor loadings")
        return ax


@single_thread
def efa(data: pd.DataFrame, n_factors: int, method: str = "minres", rotation: str = "oblimin", *,
        items=None, cor: str = "pearson") -> EFAResult:
    """Exploratory factor analysis, like ``psych::fa(x, nfactors, fm = "minres", rotate = "oblimin")``.

    ``method``: "minres" (psych's default: least squares on the off-diagonal residuals) or "ml" (maximum
    likelihood, ``psych::fa(fm = "ml")``, the criterion of R's ``factanal``; agrees with psych to 2e-5).

    ``cor="poly"`` factors the polychoric matrix instead of Pearson correlations (as
    ``psych::fa(cor = "poly")``). Rotation: "oblimin" (oblique, factors may correlate) or "none".
    Loadings agree with psych to about 2e-3 (psych stops its optimiser earlier than we do).
    Runs with one BLAS thread (``threads.single_thread``): on a busy 2-core machine each L-BFGS-B step of the
    minres fit waited on OpenBLAS threads (8 ms a step for a 16 x 16 matrix); the loadings are the same.
    """
    if method not in ("minres", "ml"):
        raise bad_option("method", "method must be 'minres' or 'ml'.", method)
    if rotation not in ("oblimin", "none"):
        raise bad_option("rotation", "rotation must be 'oblimin' or 'none'.", rotation)
    from measurekit.stats._numerics.fa_core import minres, ml, oblimin, sort_and_sign
    from measurekit.stats._numerics.item_data import checked_matrix

    if cor == "pearson":       # the items as a float matrix (the checks of numeric_items, without its frame)
        x, names = checked_matrix(data, items, min_items=3, what="Factor analysis")
        n_items = x.shape[1]
    else:
        frame = numeric_items(data, items, min_items=3, what="Factor analysis")
        n_items = frame.shape[1]
    if not 1 <= n_factors < n_items:
        raise bad_option("n_factors", f"n_factors must be between 1 and {n_items - 1} for {n_items} items.",
                         n_factors)
    if cor == "pearson":
        r, warnings = _pearson(x)
        n_obs = int((~np.isnan(x)).any(axis=1).sum())
    else:
        r, warnings, names = _correlation(frame, cor)
        n_obs = int(frame.notna().any(axis=1).sum())
    L, psi, ok = (ml if method == "ml" else minres)(r, n_factors)
    phi = np.eye(n_factors)
    converged = ok
    if rotation == "oblimin" and n_factors > 1:
        L, phi, rot_ok = oblimin(L)
        converged = converged and rot_ok
    L, phi = sort_and_sign(L, phi)
    if not converged:
        warnings.append("The factor solution did not fully converge; treat the loadings with caution.")
    if np.any(1 - np.sum((L @ phi) * L, axis=1) < 0):
        warnings.append("Some communalities exceed 1 (a Heywood case): too many factors or too few items per factor.")
    cols = [f"F{k + 1}" for k in range(n_factors)]
    h2 = np.sum((L @ phi) * L, axis=1)
    overall, per_item = kmo(r)
    bt = bartlett(r, n_obs)
    if overall < 0.6:
        warnings.append(f"KMO is {overall:.2f}: the items share little common variance; "
                        "factor analysis may not be useful.")
    ss = np.diag(phi @ L.T @ L)
    return EFAResult(n=n_obs, converged=converged, warnings=warnings,
                     _fitted={"L": L, "phi": phi, "h2": h2, "ss": ss, "names": names, "cols": cols, "kmo": overall,
                              "kmo_items": per_item, "bartlett": bt})


# --------------------------------------------------------------------------- parallel analysis
@dataclass
class ParallelResult(Result):
    """Parallel analysis (psych::fa.parallel, fa = "both").

    eigenvalues: one row per position: ``pc_observed`` (eigenvalues of the correlation matrix),
        ``pc_simulated`` (95th percentile over random normal data of the same size),
        ``fa_observed`` (eigenvalues of the reduced matrix of a one-factor minres solution, as
        psych), ``fa_simulated``; plus the simulated means.
    n_factors / n_components: the suggested numbers (observed above the simulated 95th percentile).
    """

    eigenvalues: pd.DataFrame
    n_factors: int
    n_components: int
    n_iter: int
    warnings: list[str] = field(default_factory=list)
    _title = "Parallel analysis"
    _main = "eigenvalues"

    def plot(self, ax=None):
        """Scree plot of observed eigenvalues against the simulated ones."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        e = self.eigenvalues
        x = np.arange(1, len(e) + 1)
        ax.plot(x, e["pc_observed"], "o-", color="#1d3557", label="components (your data)")
        ax.plot(x, e["fa_observed"], "^-", color="#457b9d", label="factors (your data)")
        ax.plot(x, e["pc_simulated"], "--", color="#e63946", label="components (random data, 95th pct)")
        ax.plot(x, e["fa_simulated"], ":", color="#e63946", label="factors (random data, 95th pct)")
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xlabel("factor / component number")
        ax.set_ylabel("eigenvalue")
        ax.set_title(f"Parallel analysis suggests {self.n_factors} factor(s)")
        ax.legend(fontsize=8)
        return ax


def _fa_values(r: np.ndarray) -> np.ndarray:
    from measurekit.stats._numerics.fa_core import minres

    L, psi, _ = minres(r, 1)
    s = r.copy()
    np.fill_diagonal(s, 1 - psi)
    return np.sort(np.linalg.eigvalsh(s))[::-1]


def _random_correlations(rng: np.random.Generator, n_obs: int, p: int, n_iter: int) -> np.ndarray:
    """``n_iter`` correlation matrices (n_iter x p x p) of ``n_obs`` independent standard normal rows of
    ``p`` variables, each drawn from the distribution of its scatter matrix, W_p(n_obs - 1, I), by
    Bartlett's decomposition (W = A A', A lower triangular with A_ii = sqrt(chi2(n_obs - 1 - i)) and
    standard normal entries below the diagonal), then scaled to a correlation matrix: the same
    distribution as correlating n_obs x p normal draws, at a cost of p^2 numbers instead of n_obs * p.

    Earlier versions did this only above 50,000 rows (where the draws are unchanged) and below drew the
    rows themselves (7 of the 40 ms of a 3,000 x 16 parallel analysis); so below 50,000 rows the same
    random_state now gives other, equally distributed, simulated matrices.
    """
    out = np.empty((n_iter, p, p))
    for i in range(n_iter):
        a = np.tril(rng.standard_normal((p, p)), -1)
        a[np.diag_indices(p)] = np.sqrt(rng.chisquare(n_obs - 1 - np.arange(p)))
        out[i] = a @ a.T
    d = np.sqrt(np.diagonal(out, axis1=1, axis2=2))
    out /= d[:, :, None] * d[:, None, :]
    np.clip(out, -1, 1, out=out)
    return out


def _raise_singular(err, flag):
    raise np.linalg.LinAlgError("Singular matrix")


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.linalg.solve(a, b)`` for stacks of float64 matrices (k x p x p) and right-hand sides (k x p x 1): the
    same LAPACK gufunc under the same floating-point error rule (a singular matrix raises LinAlgError), called
    directly, without the wrapper's type and shape checks, which cost a third of the call on 16 x 16 matrices
    (the principal-axis steps of parallel analysis make a few hundred of these calls)."""
    if _GESV is None:
        return np.linalg.solve(a, b)
    with np.errstate(call=_raise_singular, invalid="call", over="ignore", divide="ignore", under="ignore"):
        return _GESV(a, b, signature="dd->d")


def _gesv():
    """numpy's own gufunc behind np.linalg.solve (numpy 1.x and 2.x); None in another numpy layout, where
    :func:`_solve` uses the public call."""
    try:
        from numpy.linalg import _umath_linalg
        return _umath_linalg.solve
    except (ImportError, AttributeError):  # pragma: no cover
        return None


_GESV = _gesv()


def _rayleigh_step(s: np.ndarray, v: np.ndarray, eye: np.ndarray) -> np.ndarray:
    """One Rayleigh-quotient-iteration step for each symmetric matrix of ``s`` (k x p x p) from vectors
    ``v`` (k x p) near its top eigenvector: solve (S - (q - 1e-11) I) y = v, q the Rayleigh quotient.
    q never exceeds the largest eigenvalue, so the shift stays below it: the system is not singular
    at an exact eigenvalue and y keeps v's orientation. Returns unit vectors."""
    q = (np.matmul(s, v[:, :, None])[:, :, 0] * v).sum(axis=1) / (v * v).sum(axis=1)
    y = _solve(s - (q - 1e-11)[:, None, None] * eye, v[:, :, None])[:, :, 0]
    return y / np.sqrt((y * y).sum(axis=1))[:, None]


def _fa_values_batch(rs: np.ndarray, iters: int = 200) -> np.ndarray:
    """Reduced-matrix eigenvalues of a one-factor solution for each matrix of a stack (m x p x p), by
    iterated principal axes (a fixed point of the same least-squares criterion as minres; used for the
    simulated matrices of parallel analysis): communalities start at the squared multiple correlations,
    then h2 <- largest eigenvalue x its eigenvector squared (clipped to [0, 0.995]) until no
    communality moves by 1e-8, at most ``iters`` times. Each matrix follows exactly its own iteration;
    all are advanced together.

    The largest eigenpair comes from Rayleigh-quotient steps (one, rarely two) started from the
    previous two eigenvectors extrapolated, not from a full ``eigh`` (a 16 x 16 ``eigh`` costs ten
    times a solve). Each is vouched for: residual |S v - lam v| below 1e-13 (so lam is an eigenvalue)
    and lam above a bound on the second eigenvalue (the second eigenvalue of the last full ``eigh``
    plus the diagonal changes since: by Weyl's inequality no eigenvalue moves more than the largest
    change), so lam is the largest. A matrix failing either check takes a full ``eigh`` at that step.
    Results agree with an ``eigh`` at every step to about 1e-13."""
    m, p, _ = rs.shape
    diag, eye = np.arange(p), np.eye(p)
    h2 = 1 - 1 / np.diagonal(np.linalg.pinv(rs), axis1=1, axis2=2)          # p >= 3 (parallel_analysis)
    active, sa, h2a = np.arange(m), rs.copy(), h2.copy()
    vec = prev = second = None
    for _ in range(iters):
        sa[:, diag, diag] = h2a
        if vec is None:
            values, vectors = np.linalg.eigh(sa)
            lam, v, second = values[:, -1], vectors[:, :, -1], values[:, -2] + 1e-12
        else:
            assert second is not None                      # set together with vec by the first eigh
            try:
                v = _rayleigh_step(sa, vec if prev is None else 2 * vec - prev, eye)
                w = np.matmul(sa, v[:, :, None])[:, :, 0]
                lam = (w * v).sum(axis=1)
                if not np.abs(w - lam[:, None] * v).max() < 1e-13:
                    v = _rayleigh_step(sa, v, eye)
                    w = np.matmul(sa, v[:, :, None])[:, :, 0]
                    lam = (w * v).sum(axis=1)
                    lam = np.where(np.abs(w - lam[:, None] * v).max(axis=1) < 1e-13, lam, -np.inf)
            except np.linalg.LinAlgError:          # an exactly singular shift: eigh for all
                v, lam = vec, np.full(len(active), -np.inf)
            if not (lam > second).all():
                bad = ~(lam > second)
                values, vectors = np.linalg.eigh(sa[bad])
                vb = vectors[:, :, -1]
                v, second = v.copy(), second.copy()
                v[bad] = vb * np.where((vb * vec[bad]).sum(axis=1) < 0, -1.0, 1.0)[:, None]
                lam[bad], second[bad] = values[:, -1], values[:, -2] + 1e-12
        new = np.clip(v * v * lam[:, None], 0, 0.995)        # lam >= trace / p >= 0
        moved = np.abs(new - h2a).max(axis=1)
        second = second + moved
        prev, vec, h2a = vec, v, new
        keep = ~(moved < 1e-8)
        if not keep.all():
            h2[active] = h2a
            if not keep.any():
                break
            active, sa, h2a, vec, second = active[keep], sa[keep], h2a[keep], vec[keep], second[keep]
            prev = None if prev is None else prev[keep]
    else:
        h2[active] = h2a
    s = rs.copy()
    s[:, diag, diag] = h2
    return np.sort(np.linalg.eigvalsh(s), axis=1)[:, ::-1]


@single_thread
def parallel_analysis(data: pd.DataFrame, n_iter: int = 20, random_state=None, *, items=None, quantile: float = 0.95,
                      cor: str = "pearson") -> ParallelResult:
    """Horn's parallel analysis as ``psych::fa.parallel(x, fa = "both")``.

    Observed eigenvalues (components and one-factor minres factors) are compared with the
    ``quantile`` (default 95th percentile) of those from ``n_iter`` random normal data sets of the
    same size; the suggested number is how many observed eigenvalues exceed it before the first
    that does not. The observed correlations are one pass over the data; each simulated correlation
    matrix is drawn from its Wishart distribution (p x p draws, not n x p), so national cohorts take as
    long as a council's.
    """
    x, names = checked_matrix(data, items, min_items=3, what="Parallel analysis")
    n_obs = int((~np.isnan(x)).any(axis=1).sum())
    p = x.shape[1]
    if n_obs <= p:
        raise InputError(ProblemReport([Problem(
            "too_few_cases", f"Parallel analysis compares the data with random data of the same size, which needs "
            f"more respondents than items: {n_obs} respondents answered, for {p} items.", value=n_obs,
            rule=f"more than {p} respondents")], title="Parallel analysis"))
    if cor == "poly":
        r, warnings, _ = _correlation(pd.DataFrame(x, columns=names), cor)
    elif cor == "pearson":
        r, warnings = _pearson(x)
    else:
        raise bad_option("cor", "cor must be 'pearson' or 'poly'.", cor)
    pc_obs = np.sort(np.linalg.eigvalsh(r))[::-1]
    fa_obs = _fa_values(r)
    rng = np.random.default_rng(random_state)
    sims = _random_correlations(rng, n_obs, p, n_iter)
    pcs = np.sort(np.linalg.eigvalsh(sims), axis=1)[:, ::-1]
    fas = _fa_values_batch(sims)
    pc_q, fa_q = np.quantile(pcs, quantile, axis=0), np.quantile(fas, quantile, axis=0)

    def first_not_above(obs, ref):
        below = np.flatnonzero(~(obs > ref))
        return int(below[0]) if below.size else len(obs)

    table = pd.DataFrame({"pc_observed": pc_obs, "pc_simulated": pc_q, "pc_simulated_mean": pcs.mean(axis=0),
                          "fa_observed": fa_obs, "fa_simulated": fa_q, "fa_simulated_mean": fas.mean(axis=0)},
                         index=pd.Index(range(1, p + 1), name="number"))
    return ParallelResult(table, first_not_above(fa_obs, fa_q), first_not_above(pc_obs, pc_q), n_iter, warnings)


# --------------------------------------------------------------------------- omega
@dataclass
class OmegaResult(Result):
    """McDonald's omega via a Schmid-Leiman transformation (psych::omega).

    summary (one row): omega_h (share of total-score variance due to the general factor),
        omega_total (share due to all common factors), alpha, n_factors.
    loadings: Schmid-Leiman loadings: ``g``, one column per group factor (``F1*`` ...), ``h2``,
        ``u2`` and ``p2`` (share of the item's common variance due to g).
    reversed: items reversed because their general-factor loading was negative (psych's flip).
    """

    summary: pd.DataFrame
    loadings: pd.DataFrame
    reversed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _title = "Omega (Schmid-Leiman)"
    _main = "summary"

    @property
    def omega_h(self) -> float:
        return float(self.summary["omega_h"].iloc[0])

    @property
    def omega_total(self) -> float:
        return float(self.summary["omega_total"].iloc[0])


def omega(data: pd.DataFrame, n_factors: int = 3, *, items=None, cor: str = "pearson") -> OmegaResult:
    """Omega hierarchical and total, as ``psych::omega(x, nfactors)`` (minres, oblimin, Schmid-Leiman).

    Group factors: minres with ``n_factors`` and an oblimin rotation; the general factor: a
    one-factor minres solution of the factor correlations (with two group factors psych's
    "equal" option: both load sqrt(r)). Items whose general loading is negative are reversed
    (psych's ``flip = TRUE``). Agrees with psych to 1e-2 on omega_h and omega_total.
    """
    from measurekit.stats._numerics.fa_core import minres, oblimin, sort_and_sign

    data = numeric_items(data, items, min_items=3, what="Omega")
    if not 2 <= n_factors < data.shape[1]:
        raise InputError.of("too_few_items",
                            f"Omega needs 2 to {data.shape[1] - 1} group factors for {data.shape[1]} items.")
    r, warnings, names = _correlation(data, cor)
    L, _, _ = minres(r, n_factors)
    L, phi, _ = oblimin(L)
    L, phi = sort_and_sign(L, phi)
    if n_factors > 2:
        g_of_factors, _, _ = minres(phi, 1)
        gload = g_of_factors[:, 0]
        if gload.sum() < 0:
            gload = -gload
    else:
        c = phi[0, 1]
        gload = np.array([np.sqrt(abs(c)), np.sign(c) * np.sqrt(abs(c))])
        warnings.append("With two group factors the general factor is not identified; loadings on g were set equal "
                        "(psych's option 'equal'). Prefer three or more group factors.")
    g = L @ gload
    groups = L * np.sqrt(np.clip(1 - gload**2, 0, None))
    key = np.where(g < 0, -1.0, 1.0)
    reversed_items = [n for n, k in zip(names, key) if k < 0]
    m = r * np.outer(key, key)
    g, groups = g * key, groups * key[:, None]
    h2 = g**2 + np.sum(groups**2, axis=1)
    u2 = 1 - h2
    vt = m.sum()
    omega_h = g.sum() ** 2 / vt
    omega_t = (vt - u2.sum()) / vt
    nvar = len(names)
    alpha_std = ((vt - np.trace(m)) / vt) * (nvar / (nvar - 1))
    sl = pd.DataFrame(np.column_stack([g, groups, h2, u2, g**2 / h2]), index=pd.Index(names, name="item"),
                      columns=["g", *[f"F{k + 1}*" for k in range(n_factors)], "h2", "u2", "p2"])
    if reversed_items:
        warnings.append(f"Items {', '.join(reversed_items)} load negatively on the general factor and were reversed.")
    summary = pd.DataFrame([{"omega_h": omega_h, "omega_total": omega_t, "alpha": alpha_std, "n_factors": n_factors}])
    return OmegaResult(summary, sl, reversed_items, warnings)
