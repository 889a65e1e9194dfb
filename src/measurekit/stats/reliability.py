"""Internal consistency: Cronbach's alpha and its family, as R's ``psych::alpha`` reports them.

Checked against psych 2.2.9 (``tests/fixtures/r/alpha.R``) on the bfi data and Holzinger and
Swineford (1939): the total, if-dropped and item tables agree to 1e-6.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.problems import InputError, Problem, ProblemReport
from measurekit.stats._numerics.item_data import bad_option, numeric_items, plain_values
from measurekit.stats._numerics.item_data import names as _names
from measurekit.stats._numerics.matrix import cov_to_cor, pairwise_cov, smc


def _alpha_stats(C: np.ndarray, R: np.ndarray) -> dict:
    """psych's alpha.1: statistics of one set of items from its covariance and correlation matrices."""
    n = C.shape[0]
    sumC, trC = C.sum(), np.trace(C)
    raw = (1 - trC / sumC) * (n / (n - 1))
    sumR = R.sum()
    std = (1 - n / sumR) * (n / (n - 1))
    g6 = 1 - (n - smc(R).sum()) / sumR
    av_r = (sumR - n) / (n * (n - 1))
    lower = R[np.tril_indices(n, -1)]
    var_r = float(np.var(lower, ddof=1)) if lower.size > 1 else 0.0
    med_r = float(np.median(lower))
    sn = n * av_r / (1 - av_r)
    CC = C @ C
    Q = (2 * n**2 / ((n - 1) ** 2 * sumC**3)) * (sumC * (np.trace(CC) + trC**2) - 2 * (trC * CC.sum()))
    return {"raw_alpha": raw, "std_alpha": std, "g6_smc": g6, "average_r": av_r, "s_n": sn, "Q": Q,
            "var_r": var_r, "med_r": med_r}


def _frequencies(a: np.ndarray, columns, max_categories: int = 10) -> pd.DataFrame:
    """psych's response.freq: share of answers in each category per item, and ``miss`` (share missing)."""
    nrow, k = a.shape
    empty = pd.DataFrame(index=pd.Index(columns, name="item"))
    if nrow == 0 or np.isnan(a).all():
        return empty
    lo, hi = np.nanmin(a), np.nanmax(a)
    counts = None
    if hi - lo < 1000:
        # whole-number codes: one bincount over (item, code) cells; missing goes to an extra bin per item
        width = int(hi - lo) + 1
        b = a - lo
        b[np.isnan(b)] = width
        ib = b.astype(np.int64)
        if np.array_equal(ib, b):
            ib += np.arange(k, dtype=np.int64) * (width + 1)
            allc = np.bincount(ib.ravel(), minlength=k * (width + 1)).reshape(k, width + 1)
            counts = allc[:, :width]
            used = counts.sum(axis=0) > 0
            values = (np.arange(width) + lo)[used]
            counts = counts[:, used]
    if counts is None:
        present = ~np.isnan(a)
        values = np.unique(a[present])
        if len(values) > max_categories:
            return empty
        counts = np.stack([(a[:, j][:, None] == values).sum(axis=0) for j in range(k)])
    if len(values) > max_categories:
        return empty
    n = counts.sum(axis=1)
    props = counts / np.maximum(n, 1)[:, None]
    labels = [str(int(v)) if float(v).is_integer() else str(v) for v in values] + ["miss"]
    table = np.column_stack([props, 1 - n / nrow])
    return pd.DataFrame(table, index=pd.Index(columns, name="item"), columns=labels)


# Above this many respondents the bootstrap and parallel analysis draw their sufficient statistics directly
# (pattern counts from a multinomial, correlation matrices from a Wishart) instead of resampling rows: the same
# distribution at a cost that does not grow with n. Below it the draws are the row resamples of earlier versions,
# so results on a council's cohort are unchanged for a given random_state.
LARGE_N = 50_000


def _patterns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct answer patterns of ``x`` (rows, NaN kept) and each respondent's pattern number."""
    m = np.isnan(x)
    sentinel = float(np.nanmin(x)) - 1.0 if (~m).any() else 0.0   # below every answer: no collision
    key = np.where(m, sentinel, x) - sentinel                      # 0 = missing, answers >= 1
    width = float(key.max()) + 1 if key.size else 1.0
    if key.size and np.array_equal(key, np.round(key)) and width ** x.shape[1] < 2 ** 62:
        # whole-number codes: one integer per row (mixed radix), a 1-D sort instead of a row sort
        weights = (int(width) ** np.arange(x.shape[1] - 1, -1, -1)).astype(np.int64)
        codes, inverse = np.unique(key.astype(np.int64) @ weights, return_inverse=True)
        digits = (codes[:, None] // weights[None, :]) % int(width)
        uniq = digits.astype(float) + sentinel
        uniq[digits == 0] = np.nan
        return uniq, inverse.reshape(-1)
    uniq, inverse = np.unique(np.where(m, sentinel, x), axis=0, return_inverse=True)
    uniq[uniq == sentinel] = np.nan
    return uniq, inverse.reshape(-1)


def _boot_alpha(x: np.ndarray, n_boot: int, rng: np.random.Generator, chunk: int = 250) -> np.ndarray:
    """Raw alpha in ``n_boot`` bootstrap resamples, vectorised with multinomial count weights.

    The resampled covariances need only per-pattern sums, so respondents with the same answer pattern are
    counted together (ordinal items: a few thousand patterns however many respondents). Up to ``LARGE_N``
    respondents the row indices are drawn as before (``chunk`` resamples at a time, fewer when n is large,
    to bound memory); above it each resample's pattern counts are drawn from their multinomial directly.
    """
    n, k = x.shape
    uniq, inverse = _patterns(x)
    freq = np.bincount(inverse, minlength=len(uniq))
    m = ~np.isnan(uniq)
    x0 = np.where(m, uniq, 0.0)
    mf = m.astype(float)
    grid_j, grid_k = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    jj, kk = grid_j.ravel(), grid_k.ravel()
    P = x0[:, jj] * mf[:, kk]         # x_j where both present (x0 is 0 where x_j missing)
    SS = x0[:, jj] * x0[:, kk]
    N = mf[:, jj] * mf[:, kk]
    n_pat = len(uniq)
    out = np.empty(n_boot)
    done = 0
    large = n > LARGE_N
    chunk = max(1, min(chunk, 5_000_000 // max(n, 1))) if not large else chunk
    from measurekit.core.progress import progress

    for start in progress(range(0, n_boot, chunk), total=-(-n_boot // chunk), desc="bootstrap"):
        b = min(chunk, n_boot - start)
        if large:
            W = rng.multinomial(n, freq / n, size=b).astype(float)
        else:
            # resample rows (multinomial counts): draw row indices, count their patterns per resample
            idx = rng.integers(0, n, size=(b, n), dtype=np.int64)
            pat = inverse[idx] + (np.arange(b, dtype=np.int64) * n_pat)[:, None]
            W = np.bincount(pat.ravel(), minlength=b * n_pat).reshape(b, n_pat).astype(float)
        s = (W @ P).reshape(b, k, k)
        ss = (W @ SS).reshape(b, k, k)
        nn = (W @ N).reshape(b, k, k)
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = (ss - s * np.transpose(s, (0, 2, 1)) / nn) / (nn - 1)
        tr = np.trace(cov, axis1=1, axis2=2)
        tot = cov.sum(axis=(1, 2))
        out[start:start + b] = (1 - tr / tot) * (k / (k - 1))
        done += b
    return out[:done]


def _bootstrap_interval(x: np.ndarray, n_boot: int, random_state, level: float, warnings: list) -> dict | None:
    """Percentile interval of raw alpha over ``n_boot`` resamples (None when interrupted)."""
    p = 1 - level
    rng = np.random.default_rng(random_state)
    try:
        boots = _boot_alpha(x, int(n_boot), rng)
    except KeyboardInterrupt:
        boots = np.array([])
        warnings.append("The bootstrap was interrupted; no bootstrap interval.")
    if not boots.size:
        return None
    return {"method": "bootstrap", "ci_low": float(np.nanquantile(boots, p / 2)),
            "ci_high": float(np.nanquantile(boots, 1 - p / 2)), "level": level, "n_boot": int(boots.size)}


def _feldt(raw_alpha: float, nsub: int, k: int, level: float) -> dict:
    """Feldt interval (F distribution, psych's alpha.ci). The quantiles come from ``scipy.special`` (what
    ``scipy.stats.f.ppf`` calls, the same numbers) without the distribution objects' argument handling or the
    import of ``scipy.stats``."""
    from scipy import special

    fd = (nsub - 1, (nsub - 1) * (k - 1))
    p = 1 - level
    return {"method": "feldt", "ci_low": 1 - (1 - raw_alpha) * special.fdtri(*fd, 1 - p / 2),
            "ci_high": 1 - (1 - raw_alpha) * special.fdtri(*fd, p / 2), "level": level}


def _duhachek(raw_alpha: float, ase: float, level: float) -> dict:
    """Duhachek interval: raw_alpha +/- z ase (z from ``scipy.special.ndtri``, as ``scipy.stats.norm.ppf``)."""
    from scipy import special

    z = special.ndtri(1 - (1 - level) / 2)
    return {"method": "duhachek", "ci_low": raw_alpha - z * ase, "ci_high": raw_alpha + z * ase, "level": level}


class _Parts:
    """What the tables of an :class:`AlphaResult` are computed from, kept until they are first asked for."""

    __slots__ = ("x", "x_given", "columns", "C", "R", "sd", "level", "intervals", "early", "ordinal")

    def __init__(self, x, x_given, columns, C, R, sd, level, intervals, early, ordinal):
        self.x, self.x_given, self.columns, self.C, self.R, self.sd = x, x_given, columns, C, R, sd
        self.level, self.intervals, self.early, self.ordinal = level, intervals, early, ordinal


@dataclass(eq=False, repr=False)
class AlphaResult(Result):
    """Result of :func:`alpha`; the tables of ``psych::alpha`` (psych 2.2.9), R's names in brackets.

    Computed by the call (the headline): raw_alpha [raw_alpha] (Cronbach's alpha from covariances),
    std_alpha [std.alpha] (from correlations), ci_low and ci_high (the interval of raw alpha that
    ci_method names: feldt, duhachek or bootstrap), n (respondents) and n_items. The tables below are
    computed from the same covariance and correlation matrices the first time they are read (attributes
    of the result, as before: the same columns and numbers whenever they are read):

    total (one row, psych ``$total``): raw_alpha, std_alpha, g6_smc [G6(smc)] (Guttman's lambda 6 from
        squared multiple correlations), average_r [average_r] (mean inter-item r), s_n [S/N]
        (signal/noise = k r / (1 - r)), ase [ase] (asymptotic standard error of raw alpha, Duhachek),
        mean and sd [mean, sd] (of the respondents' mean item score, psych's cumulative = FALSE),
        median_r [median_r], ci_low, ci_high and ci_method (the interval chosen from ``intervals``),
        n (respondents) and n_items.
    if_dropped (one row per item, psych ``$alpha.drop``): raw_alpha, std_alpha, g6_smc, average_r,
        s_n, alpha_se [alpha se], var_r [var.r] (variance of the inter-item correlations), med_r
        [med.r] -- each computed without that item.
    items (one row per item, psych ``$item.stats``): n [n] (answers), raw_r [raw.r] (item with the
        mean score), std_r [std.r] (item with the standardised total), r_cor [r.cor] (corrected for
        overlap and reliability, SMCs on the diagonal), r_drop [r.drop] (item with the total of the
        other items), mean, sd.
    frequencies (psych ``$response.freq``): proportion of answers in each response category per item
        (as given, before any reversing), and ``miss`` (share missing); empty with more than 10 values.
    intervals: one row per method: feldt (psych ``$feldt``), duhachek (raw_alpha ± z·ase, as psych
        prints) and bootstrap (percentile, when n_boot > 0); columns method, ci_low, ci_high, level
        (and n_boot, the resamples used, on the bootstrap row).
    reversed: the items reversed. warnings: plain-English notes (listwise deletion, an interrupted
        bootstrap, items that correlate weakly with the rest (r_drop < 0.2), ordinal alpha).
    """

    raw_alpha: float
    std_alpha: float
    ci_low: float
    ci_high: float
    ci_method: str
    n: int
    n_items: int
    reversed: list[str]
    _parts: _Parts
    _title = "Cronbach's alpha (as psych::alpha)"
    _main = "total"

    def _fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in
                ("total", "if_dropped", "items", "frequencies", "intervals", "reversed", "warnings")}

    def __repr__(self) -> str:
        return (f"<AlphaResult: raw_alpha {self.raw_alpha:.4f} ({self.ci_method} {self.ci_low:.4f} to "
                f"{self.ci_high:.4f}), {self.n_items} items, n {self.n}>")

    @functools.cached_property
    def _stats(self) -> dict:
        """psych's alpha.1 of the whole set (every column of ``total`` but the interval and the scores)."""
        p = self._parts
        tot = _alpha_stats(p.C, p.R)
        tot["ase"] = np.sqrt(tot["Q"] / self.n)
        return tot

    @functools.cached_property
    def _scores(self) -> np.ndarray:
        """Each respondent's mean of the items answered (psych: rowMeans), NaN for none."""
        x = self._parts.x
        present = ~np.isnan(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(present, x, 0.0).sum(axis=1) / present.sum(axis=1)

    @functools.cached_property
    def total(self) -> pd.DataFrame:
        tot = self._stats
        scores = self._scores
        valid_scores = scores[~np.isnan(scores)]
        return pd.DataFrame([{
            "raw_alpha": tot["raw_alpha"], "std_alpha": tot["std_alpha"], "g6_smc": tot["g6_smc"],
            "average_r": tot["average_r"], "s_n": tot["s_n"], "ase": tot["ase"],
            "mean": float(valid_scores.mean()), "sd": float(valid_scores.std(ddof=1)), "median_r": tot["med_r"],
            "ci_low": float(self.ci_low), "ci_high": float(self.ci_high), "ci_method": self.ci_method,
            "n": self.n, "n_items": self.n_items,
        }])

    @functools.cached_property
    def intervals(self) -> pd.DataFrame:
        rows = {r["method"]: r for r in self._parts.intervals}
        if "duhachek" not in rows:
            rows["duhachek"] = _duhachek(self.raw_alpha, self._stats["ase"], self._parts.level)
        order = ("feldt", "duhachek", "bootstrap")
        return pd.DataFrame([rows[m] for m in order if m in rows])

    @functools.cached_property
    def if_dropped(self) -> pd.DataFrame:
        p = self._parts
        C, R, k, nsub = p.C, p.R, self.n_items, self.n
        rows = []
        for i in range(k):
            keep = [j for j in range(k) if j != i]
            if k > 2:
                s = _alpha_stats(C[np.ix_(keep, keep)], R[np.ix_(keep, keep)])
                rows.append({"raw_alpha": s["raw_alpha"], "std_alpha": s["std_alpha"], "g6_smc": s["g6_smc"],
                             "average_r": s["average_r"], "s_n": s["s_n"], "alpha_se": np.sqrt(s["Q"] / nsub),
                             "var_r": s["var_r"], "med_r": s["med_r"]})
            else:  # psych's special case for two items
                o = keep[0]
                r12 = R[0, 1]
                rows.append({"raw_alpha": C[0, 1] / C[o, o], "std_alpha": r12, "g6_smc": smc(R)[0],
                             "average_r": r12, "s_n": r12 / (1 - r12), "alpha_se": np.nan, "var_r": 0.0,
                             "med_r": r12})
        return pd.DataFrame(rows, index=pd.Index(p.columns, name="item"))

    @functools.cached_property
    def items(self) -> pd.DataFrame:
        p = self._parts
        C, R, x, k = p.C, p.R, p.x, self.n_items
        Vt = R.sum()
        std_r = R.sum(axis=0) / np.sqrt(Vt)
        RC = R.copy()
        np.fill_diagonal(RC, smc(R))
        with np.errstate(invalid="ignore"):
            r_cor = RC.sum(axis=0) / np.sqrt(RC.sum())
        r_drop = np.array([(C[:, i].sum() - C[i, i]) / np.sqrt(C[i, i] * np.delete(np.delete(C, i, 0), i, 1).sum())
                           for i in range(k)])
        # raw_r: Pearson r of each item with the mean score, over respondents answering the item
        present = ~np.isnan(x)
        x0 = np.where(present, x, 0.0)
        mf = present.astype(float)
        scores = self._scores
        s0 = np.where(present.sum(axis=1) > 0, scores, 0.0)
        n_i = mf.sum(axis=0)
        sx, sy = x0.sum(axis=0), mf.T @ s0
        sxx, syy, sxy = (x0 * x0).sum(axis=0), mf.T @ (s0 * s0), x0.T @ s0
        raw_r = (sxy - sx * sy / n_i) / np.sqrt((sxx - sx**2 / n_i) * (syy - sy**2 / n_i))
        return pd.DataFrame({
            "n": present.sum(axis=0), "raw_r": raw_r, "std_r": std_r, "r_cor": r_cor, "r_drop": r_drop,
            "mean": sx / n_i, "sd": p.sd,
        }, index=pd.Index(p.columns, name="item"))

    @functools.cached_property
    def frequencies(self) -> pd.DataFrame:
        return _frequencies(self._parts.x_given, pd.Index(self._parts.columns))

    @functools.cached_property
    def warnings(self) -> list[str]:
        out = list(self._parts.early)
        weak = self.items.index[self.items["r_drop"] < 0.2].tolist()
        if weak:
            out.append(f"Items {', '.join(weak)} correlate weakly with the rest of the scale (r_drop < 0.2): "
                       "check their wording, whether they need reversing, or whether they belong to this scale.")
        if self._parts.ordinal:
            out.append("Ordinal alpha: computed from polychoric correlations, so raw and standardised alpha are "
                       "equal and refer to the latent continuous responses, not the observed scores.")
        return out


def alpha(data: pd.DataFrame, *, items=None, reverse=None, ci: float = 0.95, n_boot: int = 0,
          random_state=None, missing: str = "pairwise", ordinal: bool = False,
          ci_method: str | None = None) -> AlphaResult:
    """Cronbach's alpha with the statistics of ``psych::alpha`` (psych 2.2.9 defaults).

    Parameters
    ----------
    data : one row per respondent.
    items : item columns (default: every column).
    reverse : names of items to reverse before scoring; flipped as psych does:
        (minimum + maximum over the whole item set) - x.
    ci : confidence level of the interval for raw alpha.
    n_boot : bootstrap resamples (percentile interval); 0 for analytic intervals only.
    random_state : seed for the bootstrap.
    missing : "pairwise" (psych's default: each covariance from the rows answering both items)
        or "listwise" (only respondents who answered every item).
    ordinal : compute alpha from the polychoric correlation matrix (ordinal alpha,
        Zumbo et al. 2007) instead of Pearson covariances; reported in ``total`` as raw and std alpha.
    ci_method : which interval goes in ``total``: "feldt" (F distribution, psych's alpha.ci),
        "duhachek" (alpha ± z * ase) or "bootstrap". Default: bootstrap when n_boot > 0, else feldt.

    Matches ``psych::alpha(x, keys = reverse)``; the Feldt and Duhachek intervals match the
    ones psych prints. The call computes the headline (raw and standardised alpha, the chosen interval);
    the tables (``total``, ``if_dropped``, ``items``, ``frequencies``, ``intervals``) and the warnings
    about weak items are computed when first read (see :class:`AlphaResult`).
    """
    if ordinal and n_boot > 0:
        raise bad_option("n_boot", "The bootstrap interval is for Pearson alpha; with ordinal=True use n_boot=0 "
                         "(the Feldt and Duhachek intervals are in .intervals).")
    plain = plain_values(data, items)

    def full_checks():
        """On the direct read, every check the full reading makes, so problems are reported as it reports them."""
        if plain is not None:
            numeric_items(data, items, min_items=2, what="Alpha")

    if plain is None:
        frame = numeric_items(data, items, min_items=2, what="Alpha")
        x, columns = np.array(frame.to_numpy(dtype=float), order="F"), list(frame.columns)
    else:
        x, columns = plain
        if x.shape[1] < 2:
            full_checks()
    early: list[str] = []
    reverse = _names(reverse) or []
    unknown = [r for r in reverse if r not in columns]
    if unknown:
        full_checks()
        raise InputError.of("unknown_reverse", f"reverse names items that are not in the scale: {', '.join(unknown)}",
                            column=", ".join(unknown))
    if missing == "listwise":
        before = len(x)
        x = np.asfortranarray(x[~np.isnan(x).any(axis=1)])
        if len(x) < before:
            early.append(f"Listwise deletion dropped {before - len(x)} of {before} respondents "
                         "with a missing answer.")
    elif missing != "pairwise":
        full_checks()
        raise bad_option("missing", "missing must be 'pairwise' or 'listwise'.")
    x_given = x  # frequencies are of the answers as given (psych), before reversing
    if reverse and np.isfinite(x).any():   # nothing answered (e.g. after listwise deletion): too_few_cases below
        x = x.copy(order="F")
        lo, hi = np.nanmin(x), np.nanmax(x)
        cols = [columns.index(r) for r in dict.fromkeys(reverse)]
        x[:, cols] = lo + hi - x[:, cols]
    nsub, k = x.shape
    C, _ = pairwise_cov(x)
    item_sd = np.sqrt(np.diag(C))  # observed SDs (also reported for ordinal alpha)
    if not (np.isfinite(C).all() and (item_sd > 0).all()):
        full_checks()              # an empty or constant item: reported as the full reading reports it
    if ordinal:
        from measurekit.stats.factor import polychoric

        # polychoric of the reverse-keyed answers, so reversed items correlate positively
        R = polychoric(pd.DataFrame(x, columns=columns)).correlation.to_numpy()
        C = R.copy()
    else:
        R = cov_to_cor(C)
    if not np.isfinite(C).all():
        full_checks()
        raise InputError(ProblemReport([Problem("too_few_cases", "Some pairs of items were never answered together "
                                                "(or by one respondent only), so their covariance is unknown.",
                                                rule="at least 2 respondents per pair of items")], title="Alpha"))
    positive = np.diag(C) > 0
    if not positive.all() or nsub < 2:
        full_checks()
        flat = [columns[int(j)] for j in np.flatnonzero(~positive)]
        report = ProblemReport(title="Alpha")
        for it in flat:
            report.add("constant_item", f"Item {it} has the same answer from every respondent analysed"
                       + (" after listwise deletion" if missing == "listwise" else "") + "; leave it out.", column=it)
        if nsub < 2:
            report.add("too_few_cases", f"Alpha needs at least 2 respondents; {nsub} are analysed.", value=nsub)
        raise InputError(report)
    # the headline: psych's alpha.1 for raw and standardised alpha (the same expressions as _alpha_stats)
    raw = (1 - np.trace(C) / C.sum()) * (k / (k - 1))
    std = (1 - k / R.sum()) * (k / (k - 1))
    rows = [_feldt(raw, nsub, k, ci)]
    if ci_method == "duhachek":
        rows.append(_duhachek(raw, np.sqrt(_alpha_stats(C, R)["Q"] / nsub), ci))
    if n_boot > 0:
        boot = _bootstrap_interval(x, n_boot, random_state, ci, early)
        if boot is not None:
            rows.append(boot)
    available = {"feldt", "duhachek"} | {r["method"] for r in rows}
    method = ci_method or ("bootstrap" if "bootstrap" in available else "feldt")
    if method not in available:
        raise bad_option("ci_method", f"ci_method {method!r} is not available (n_boot={n_boot}): use 'feldt', "
                          "'duhachek', or 'bootstrap' with n_boot > 0.")
    chosen = next(r for r in rows if r["method"] == method)
    parts = _Parts(x, x_given, columns, C, R, item_sd, ci, rows, early, ordinal)
    return AlphaResult(float(raw), float(std), float(chosen["ci_low"]), float(chosen["ci_high"]), method, nsub, k,
                       reverse, parts)


def reliability_by_domain(data: pd.DataFrame, *, framework, n_boot: int = 500, random_state=None,
                          respondent: str | None = None) -> pd.DataFrame:
    """Alpha of every domain of a framework, one row per domain.

    ``data`` holds the raw item codes (one row per respondent); items are reverse-keyed and
    don't-know codes dropped as in ``mk.score``. Columns: ``domain`` (id), ``title``, ``items``
    (how many), ``n`` (respondents who answered at least one item), ``raw_alpha`` with its bootstrap
    ``ci_low``/``ci_high`` (psych::alpha's raw_alpha with n.iter bootstraps), ``average_r``,
    ``weakest_item`` (lowest r.drop) and ``weakest_r_drop``. ``respondent``: whose items (by default the
    framework's main respondent, ``Framework.main_respondent``).
    """
    from measurekit.stats.scoring import item_values

    respondent = respondent or framework.main_respondent()

    values = item_values(data, framework=framework, respondent=respondent)
    rows = []
    for domain, items in framework.domain_items(respondent).items():
        items = [i for i in items if i in values]
        a = alpha(values, items=items, n_boot=n_boot, random_state=random_state)
        t = a.total.iloc[0]
        rows.append({"domain": domain, "title": framework.domain(domain).title, "items": len(items),
                     "n": int(values[items].notna().any(axis=1).sum()),
                     "raw_alpha": t["raw_alpha"], "ci_low": t["ci_low"], "ci_high": t["ci_high"],
                     "average_r": t["average_r"], "weakest_item": a.items["r_drop"].idxmin(),
                     "weakest_r_drop": a.items["r_drop"].min()})
    return pd.DataFrame(rows)
