"""Internal consistency: Cronbach's alpha and its family, as R's ``psych::alpha`` reports them.

Checked against psych 2.2.9 (``tests/fixtures/r/alpha.R``) on the bfi data and Holzinger and
Swineford (1939): the total, if-dropped and item tables agree to 1e-6.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.problems import InputError, Problem, ProblemReport
from measurekit.stats._numerics.item_data import bad_option, numeric_items
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


@dataclass
class AlphaResult(Result):
    """Result of :func:`alpha`; the tables of ``psych::alpha`` (psych 2.2.9), R's names in brackets.

    total (one row, psych ``$total``): raw_alpha [raw_alpha] (Cronbach's alpha from covariances),
        std_alpha [std.alpha] (from correlations), g6_smc [G6(smc)] (Guttman's lambda 6 from squared
        multiple correlations), average_r [average_r] (mean inter-item r), s_n [S/N] (signal/noise =
        k r / (1 - r)), ase [ase] (asymptotic standard error of raw alpha, Duhachek), mean and sd
        [mean, sd] (of the respondents' mean item score, psych's cumulative = FALSE), median_r
        [median_r], ci_low, ci_high and ci_method (the interval chosen from ``intervals``), n
        (respondents) and n_items.
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
        prints) and bootstrap (percentile, when n_boot > 0); columns method, ci_low, ci_high, level.
    """

    total: pd.DataFrame
    if_dropped: pd.DataFrame
    items: pd.DataFrame
    frequencies: pd.DataFrame
    intervals: pd.DataFrame
    reversed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _title = "Cronbach's alpha (as psych::alpha)"
    _main = "total"

    @property
    def raw_alpha(self) -> float:
        return float(self.total["raw_alpha"].iloc[0])


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


def _intervals(raw_alpha: float, ase: float, nsub: int, k: int, level: float) -> list[dict]:
    """Feldt (F distribution, psych's alpha.ci) and Duhachek (raw_alpha +/- z ase) intervals. The quantiles come
    from ``scipy.special`` (what ``scipy.stats.f.ppf`` and ``norm.ppf`` call, the same numbers) without the
    distribution objects' argument handling or the import of ``scipy.stats``."""
    from scipy import special

    fd = (nsub - 1, (nsub - 1) * (k - 1))
    p = 1 - level
    feldt = (1 - (1 - raw_alpha) * special.fdtri(*fd, 1 - p / 2), 1 - (1 - raw_alpha) * special.fdtri(*fd, p / 2))
    z = special.ndtri(1 - p / 2)
    duh = (raw_alpha - z * ase, raw_alpha + z * ase)
    return [{"method": "feldt", "ci_low": feldt[0], "ci_high": feldt[1], "level": level},
            {"method": "duhachek", "ci_low": duh[0], "ci_high": duh[1], "level": level}]


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
    ones psych prints.
    """
    if ordinal and n_boot > 0:
        raise bad_option("n_boot", "The bootstrap interval is for Pearson alpha; with ordinal=True use n_boot=0 "
                         "(the Feldt and Duhachek intervals are in .intervals).")
    data = numeric_items(data, items, min_items=2, what="Alpha")
    warnings = []
    reverse = _names(reverse) or []
    unknown = [r for r in reverse if r not in data.columns]
    if unknown:
        raise InputError.of("unknown_reverse", f"reverse names items that are not in the scale: {', '.join(unknown)}",
                            column=", ".join(unknown))
    if missing == "listwise":
        before = len(data)
        data = data.dropna()
        if len(data) < before:
            warnings.append(f"Listwise deletion dropped {before - len(data)} of {before} respondents "
                            "with a missing answer.")
    elif missing != "pairwise":
        raise bad_option("missing", "missing must be 'pairwise' or 'listwise'.")
    x = data.to_numpy(dtype=float, copy=True)
    frequencies = _frequencies(x, data.columns)  # as psych: of the answers as given, before reversing
    if reverse:
        lo, hi = np.nanmin(x), np.nanmax(x)
        cols = data.columns.get_indexer(pd.Index(reverse))     # unique columns, all present (checked above)
        x[:, cols] = lo + hi - x[:, cols]
    nsub, k = x.shape
    present = ~np.isnan(x)
    x0 = np.where(present, x, 0.0)
    n_answered = present.sum(axis=1)
    C, _ = pairwise_cov(x)
    item_sd = np.sqrt(np.diag(C))  # observed SDs (also reported for ordinal alpha)
    if ordinal:
        from measurekit.stats.factor import polychoric

        # polychoric of the reverse-keyed answers, so reversed items correlate positively
        keyed = pd.DataFrame(x, index=data.index, columns=data.columns)
        R = polychoric(keyed).correlation.to_numpy()
        C = R.copy()
    else:
        R = cov_to_cor(C)
    if not np.all(np.isfinite(C)):
        raise InputError(ProblemReport([Problem("too_few_cases", "Some pairs of items were never answered together "
                                                "(or by one respondent only), so their covariance is unknown.",
                                                rule="at least 2 respondents per pair of items")], title="Alpha"))
    flat = [str(data.columns[int(j)]) for j in np.flatnonzero(~(np.diag(C) > 0))]
    if flat or nsub < 2:
        report = ProblemReport(title="Alpha")
        for it in flat:
            report.add("constant_item", f"Item {it} has the same answer from every respondent analysed"
                       + (" after listwise deletion" if missing == "listwise" else "") + "; leave it out.", column=it)
        if nsub < 2:
            report.add("too_few_cases", f"Alpha needs at least 2 respondents; {nsub} are analysed.", value=nsub)
        raise InputError(report)
    tot = _alpha_stats(C, R)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = x0.sum(axis=1) / n_answered  # each respondent's mean of answered items (psych: rowMeans)
    ase = np.sqrt(tot["Q"] / nsub)
    level = ci
    interval_rows = _intervals(tot["raw_alpha"], ase, nsub, k, level)
    if n_boot > 0:
        boot = _bootstrap_interval(x, n_boot, random_state, level, warnings)
        if boot is not None:
            interval_rows.append(boot)
    by_method = {row["method"]: row for row in interval_rows}
    method = ci_method or ("bootstrap" if "bootstrap" in by_method else "feldt")
    if method not in by_method:
        raise bad_option("ci_method", f"ci_method {method!r} is not available (n_boot={n_boot}): use 'feldt', "
                          "'duhachek', or 'bootstrap' with n_boot > 0.")
    chosen = by_method[method]
    intervals = pd.DataFrame(interval_rows)
    valid_scores = scores[~np.isnan(scores)]
    total = pd.DataFrame([{
        "raw_alpha": tot["raw_alpha"], "std_alpha": tot["std_alpha"], "g6_smc": tot["g6_smc"],
        "average_r": tot["average_r"], "s_n": tot["s_n"], "ase": ase,
        "mean": float(valid_scores.mean()), "sd": float(valid_scores.std(ddof=1)), "median_r": tot["med_r"],
        "ci_low": float(chosen["ci_low"]), "ci_high": float(chosen["ci_high"]), "ci_method": method,
        "n": nsub, "n_items": k,
    }])
    names = list(data.columns)
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
                         "average_r": r12, "s_n": r12 / (1 - r12), "alpha_se": np.nan, "var_r": 0.0, "med_r": r12})
    if_dropped = pd.DataFrame(rows, index=pd.Index(names, name="item"))
    Vt = R.sum()
    std_r = R.sum(axis=0) / np.sqrt(Vt)
    RC = R.copy()
    np.fill_diagonal(RC, smc(R))
    with np.errstate(invalid="ignore"):
        r_cor = RC.sum(axis=0) / np.sqrt(RC.sum())
    r_drop = np.array([(C[:, i].sum() - C[i, i]) / np.sqrt(C[i, i] * np.delete(np.delete(C, i, 0), i, 1).sum())
                       for i in range(k)])
    # raw_r: Pearson r of each item with the mean score, over respondents answering the item
    mf = present.astype(float)
    s0 = np.where(n_answered > 0, scores, 0.0)
    n_i = mf.sum(axis=0)
    sx, sy = x0.sum(axis=0), mf.T @ s0
    sxx, syy, sxy = (x0 * x0).sum(axis=0), mf.T @ (s0 * s0), x0.T @ s0
    raw_r = (sxy - sx * sy / n_i) / np.sqrt((sxx - sx**2 / n_i) * (syy - sy**2 / n_i))
    items_table = pd.DataFrame({
        "n": present.sum(axis=0), "raw_r": raw_r, "std_r": std_r, "r_cor": r_cor, "r_drop": r_drop,
        "mean": sx / n_i, "sd": item_sd,
    }, index=pd.Index(names, name="item"))
    weak = items_table.index[items_table["r_drop"] < 0.2].tolist()
    if weak:
        warnings.append(f"Items {', '.join(weak)} correlate weakly with the rest of the scale (r_drop < 0.2): "
                        "check their wording, whether they need reversing, or whether they belong to this scale.")
    if ordinal:
        warnings.append("Ordinal alpha: computed from polychoric correlations, so raw and standardised alpha are equal "
                        "and refer to the latent continuous responses, not the observed scores.")
    return AlphaResult(total, if_dropped, items_table, frequencies, intervals, reverse, warnings)


def reliability_by_domain(data: pd.DataFrame, *, framework, n_boot: int = 500, random_state=None,
                          respondent: str = "parent") -> pd.DataFrame:
    """Alpha of every domain of a framework, one row per domain.

    ``data`` holds the raw item codes (one row per respondent); items are reverse-keyed and
    don't-know codes dropped as in ``mk.score``. Columns: ``domain`` (id), ``title``, ``items``
    (how many), ``n`` (respondents who answered at least one item), ``raw_alpha`` with its bootstrap
    ``ci_low``/``ci_high`` (psych::alpha's raw_alpha with n.iter bootstraps), ``average_r``,
    ``weakest_item`` (lowest r.drop) and ``weakest_r_drop``.
    """
    from measurekit.stats.scoring import item_values

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
