"""Item response theory: Samejima's graded response model (GRM) by marginal maximum likelihood.

The model, its estimation and the quantities reported follow R's mirt (Chalmers 2012), so a
psychometrician can read the output as they would ``mirt(data, 1, itemtype = "graded")``:

- item parameters in slope-intercept form (mirt ``coef(mod)``: a1, d1, d2, ...) and IRT form
  (``coef(mod, IRTpars = TRUE)``: a, b1, b2, ...), b_k = -d_k / a, logistic metric (no 1.702);
- marginal maximum likelihood by EM on mirt's default quadrature (61 nodes on [-6, 6]);
- standard errors from the observed information by Oakes' identity (``SE.type = "Oakes"``);
- EAP scores with posterior SDs (``fscores(mod, method = "EAP", full.scores.SE = TRUE)``);
- item information (``iteminfo``), test information (``testinfo``), marginal reliability
  (``marginal_rxx``: the integral of I(theta) / (I(theta) + var(theta)) over the trait density);
- item fit S-X2 of Orlando and Thissen (2000, 2003) (``itemfit(mod, "S_X2")``);
- several groups with anchor items (``multipleGroup`` with ``invariance = c("free_means",
  "free_var", anchors)``), the basis of IRT likelihood-ratio DIF (``mirt::DIF``; lordif, Choi,
  Gibbons and Crane 2011, uses the same GRM for its trait estimates). See ``measurekit.dif``.

Numerics live in ``measurekit.stats._numerics.grm_em``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.problems import ProblemReport

if TYPE_CHECKING:
    from measurekit.stats._numerics.grm_em import GRMFit


@dataclass
class GRMResult(Result):
    """Result of :func:`grm`.

    table (item parameters, mirt ``coef(mod, printSE = TRUE)`` and ``coef(mod, IRTpars = TRUE)``
    side by side), one row per item (per item and group for items freed across groups):
        item; group ("all" for parameters equal across groups, present only with ``groups``);
        n (answers); categories (number of answer categories K); codes (the answer codes, lowest
        first, mapped to categories 0..K-1); a, a_se (slope, mirt's a1, and its standard error);
        d1..d{K-1}, d1_se.. (intercepts of P(Y >= k) = 1 / (1 + exp(-(a theta + d_k))));
        b1..b{K-1}, b1_se.. (thresholds b_k = -d_k / a: the trait level where answering k or above
        has probability 0.5; SEs by the delta method). Items with fewer categories have blanks.
    item_fit: item, s_x2, df, p, rmsea (mirt ``itemfit``: S_X2, df.S_X2, p.S_X2, RMSEA.S_X2),
        n (complete rows used). Small p (e.g. < 0.01 with thousands of rows) = the item's answers at
        each summed score differ from what the model predicts.
    scores: one row per row of the data: theta (EAP estimate, mirt F1), se (posterior SD, SE_F1),
        n_answered; rows with no answer have blanks.
    latent: group, n, mean, sd, mean_se, sd_se (trait distribution; the reference group is fixed to
        mean 0, SD 1).
    loglik, n_par, aic, bic (mirt ``logLik``, ``extract.mirt(mod, "nest")``, AIC, BIC);
    marginal_reliability (mirt ``marginal_rxx``, reference group's density); converged,
    iterations; warnings.
    """

    table: pd.DataFrame
    item_fit: pd.DataFrame
    scores: pd.DataFrame
    latent: pd.DataFrame
    loglik: float
    n_par: int
    aic: float
    bic: float
    n: int
    marginal_reliability: float
    converged: bool
    iterations: int
    groups: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _fit: GRMFit | None = field(default=None, repr=False)
    _items: list = field(default_factory=list, repr=False)
    _title = "Graded response model"

    def information(self, theta=None, group=None) -> pd.DataFrame:
        """Item and test information on a grid of trait values (default -4..4 by 0.1): columns theta,
        one per item, test (sum) and se (1 / sqrt(test information)). Like mirt ``iteminfo`` and
        ``testinfo``. ``group``: for items freed across groups, whose parameters to use."""
        from measurekit.stats._numerics.grm_em import item_information

        th = np.round(np.arange(-4, 4.0001, 0.1), 10) if theta is None else np.asarray(theta, dtype=float)
        g = 0 if group is None else self.groups.index(str(group))
        assert self._fit is not None, "GRMResult without its fitted model (grm() always attaches it)"
        out = {"theta": th}
        for name, L in zip(self._items, self._fit.layouts):
            out[name] = item_information(*L.ad(g), th)
        frame = pd.DataFrame(out)
        frame["test"] = frame[self._items].sum(axis=1)
        frame["se"] = 1 / np.sqrt(frame["test"])
        return frame

    def category_curves(self, item: str, theta=None) -> pd.DataFrame:
        """P(answer = each category) along theta for one item (mirt ``probtrace``)."""
        from measurekit.stats._numerics.grm_em import category_probs

        th = np.round(np.arange(-4, 4.0001, 0.1), 10) if theta is None else np.asarray(theta, dtype=float)
        assert self._fit is not None, "GRMResult without its fitted model (grm() always attaches it)"
        L = self._fit.layouts[self._items.index(item)]
        P = category_probs(*L.ad(0), th)
        row = self.table[self.table["item"] == item].iloc[0]
        labels = str(row["codes"]).split(",")
        return pd.DataFrame({"theta": th, **{f"P({c})": P[k] for k, c in enumerate(labels)}})

    def plot_information(self, items=None, ax=None):
        """Item information curves and the test information (left axis), with the standard error of
        measurement 1 / sqrt(information) (right axis): where the scale measures precisely."""
        import matplotlib.pyplot as plt

        info = self.information()
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        for it in (items or self._items):
            ax.plot(info["theta"], info[it], lw=1, alpha=0.7, label=it)
        ax.plot(info["theta"], info["test"], color="black", lw=2.5, label="test")
        ax.set(xlabel="trait (theta, SD units of the reference group)", ylabel="information",
               title="Item and test information")
        se_ax = ax.twinx()
        se_ax.plot(info["theta"], info["se"], color="grey", ls="--", label="SE")
        se_ax.set_ylabel("standard error (dashed)")
        se_ax.set_ylim(0, min(2.0, float(info["se"].max()) * 1.05))
        ax.legend(fontsize=7, ncol=2, loc="upper left")
        return ax

    def plot_categories(self, item: str, ax=None):
        """Category response curves of one item: the chance of each answer along the trait."""
        import matplotlib.pyplot as plt

        curves = self.category_curves(item)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        for col in curves.columns[1:]:
            ax.plot(curves["theta"], curves[col], label=col)
        ax.set(xlabel="trait (theta)", ylabel="probability", title=f"{item}: chance of each answer", ylim=(0, 1))
        ax.legend(fontsize=8)
        return ax


def item_codes(values):
    """Answer codes of each item (a DataFrame or a rows x items array) mapped to categories 0..K-1 (its
    observed codes, lowest first; -1 missing). Returns (codes array, number of categories per item, codes
    per item)."""
    X = values.to_numpy(dtype=float) if isinstance(values, pd.DataFrame) else np.asarray(values, dtype=float)
    codes = np.full(X.shape, -1, dtype=int)
    cats, labels = [], []
    for j in range(X.shape[1]):
        ok = ~np.isnan(X[:, j])
        levels = np.unique(X[ok, j])
        codes[ok, j] = np.searchsorted(levels, X[ok, j])
        cats.append(len(levels))
        labels.append(levels)
    return codes, np.array(cats), labels


def group_codes(g: pd.Series, reference=None):
    """Group labels -> integer codes with the reference (given, else the largest group) as 0."""
    gs = g.astype(str).where(g.notna())
    counts = gs.value_counts()
    ref = str(reference) if reference is not None else counts.index[0]
    levels = [ref] + [lv for lv in counts.index if lv != ref]
    codes = gs.map({lv: i for i, lv in enumerate(levels)})
    return codes, levels, counts


def _fmt(v) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def grm(data: pd.DataFrame, *, items, groups=None, reference=None, free=(), dont_know=(),
        min_group: int = 50, se: bool = True, item_fit: bool = True, quadpts: int = 61,
        tol: float = 1e-4, max_iter: int = 2000) -> GRMResult:
    """Fit Samejima's graded response model to ordinal items (one trait), as ``mirt::mirt(data, 1,
    itemtype = "graded")``; with ``groups`` a multi-group model as ``mirt::multipleGroup``.

    data: one row per respondent; items: the item columns (at least three), answered with ordered
        numeric codes (any codes: each item's observed codes, lowest first, become its categories;
        blanks and codes in ``dont_know`` are missing and simply not counted, as in mirt).
    groups: a column name or a Series aligned with ``data`` (e.g. home language). Then the trait has
        mean 0 and SD 1 in the ``reference`` group (default the largest) and its own mean and SD in
        the others, identified by the items whose parameters are equal across groups (the anchors:
        every item not in ``free``). Rows without a group are left out. Groups need ``min_group`` rows.
    free: items whose slope and intercepts are estimated separately in each group (no anchors among
        them; at least one item must stay an anchor).
    se: compute standard errors (observed information by Oakes' identity, mirt ``SE.type = "Oakes"``).
    item_fit: compute S-X2 (single group only; rows with a missing answer are left out of it, as mirt
        needs complete data for S-X2).
    quadpts: quadrature nodes on [-6, 6] (mirt's default 61); tol: EM stops when no parameter moves
        more than this (mirt's TOL, 1e-4); a Newton step on the marginal likelihood then refines the
        estimates when ``se`` is on.

    Returns a :class:`GRMResult` (its ``.table`` is the item parameter table; see the class for every
    column). References: Samejima (1969); Bock and Aitkin (1981); Orlando and Thissen (2000);
    Kang and Chen (2008); Chalmers (2012), mirt; Choi, Gibbons and Crane (2011), lordif.
    """
    from measurekit.stats._numerics import grm_em
    from measurekit.stats._numerics.item_data import checked_matrix, named_frame, names

    items, free = names(items) or [], names(free) or []
    if groups is not None and not isinstance(groups, pd.Series):
        groups = str(groups)
    data = named_frame(data, "The data", used=items + ([groups] if isinstance(groups, str) else []))
    report = ProblemReport(title="GRM input")
    for f in free:
        if f not in items:
            report.add("unknown_item", f"Item {f!r} in free= is not among the items.", column=str(f))
    g = None
    if groups is not None:
        g = data[groups] if isinstance(groups, str) and groups in data.columns else (
            groups if isinstance(groups, pd.Series) else None)
        if g is None:
            report.add("unknown_column", f"Group column {groups!r} is not in the data.", column=str(groups))
    elif free:
        report.add("bad_option", "free= needs groups=: items can only be freed across groups.", column="free")
    if len(set(free)) >= len(items) and len(items):
        report.add("bad_option", "At least one item must be an anchor (not in free=) to link the groups.",
                   column="free")
    report.raise_if_errors()
    x, _ = checked_matrix(data, items, min_items=3, what="The graded response model")   # a new array
    if dont_know:
        x[np.isin(x, list(dont_know))] = np.nan
    answered = ~np.isnan(x)
    keep = pd.Series(answered.any(axis=1), index=data.index)
    warnings = []
    levels = ["all"]
    gcode = pd.Series(0, index=data.index)
    if g is not None:
        g = g.reindex(data.index)
        keep &= g.notna()
        gcode, levels, counts = group_codes(g[keep], reference)
        if len(counts) < 2:
            report.add("one_group", "The group column has only one group among respondents.", column=str(groups))
        small = counts[counts < min_group]
        if len(small):
            report.add("small_group", f"Groups with fewer than {min_group} respondents: "
                       + ", ".join(f"{k} ({v})" for k, v in small.items()) + ". Merge them first.", column=str(groups))
        if reference is not None and str(reference) not in counts.index:
            report.add("unknown_reference", f"Reference group {reference!r} is not among the groups.")
    n_drop = int((~keep).sum())
    report.raise_if_errors()
    codes, n_cat, labels = item_codes(x[keep.to_numpy()])
    for j, it in enumerate(items):
        if n_cat[j] < 2:
            report.add("constant_item", f"Item {it} has the same answer for everyone analysed; drop it.", column=it)
        if (codes[:, j] >= 0).sum() < 10:
            report.add("too_few_cases", f"Item {it} has fewer than 10 answers.", column=it)
    report.raise_if_errors()
    if n_drop:
        warnings.append(f"{n_drop} of {len(data)} rows were left out (no answer to any item"
                        + (" or no group" if g is not None else "") + ").")
    gvec = gcode.to_numpy(dtype=int) if g is not None else None
    free_ix = [items.index(f) for f in free]
    fit = grm_em.fit_grm(codes, n_cat, gvec, free_a=free_ix, free_d=free_ix, quadpts=quadpts, tol=tol,
                         max_iter=max_iter)
    if not fit.converged:
        warnings.append(f"EM did not converge in {max_iter} iterations; estimates may be imprecise.")
    cov = None
    if se:
        info, score = grm_em.observed_information(fit)
        grm_em.newton_polish(fit, info, score)    # the information barely moves over one small step
        try:
            cov = np.linalg.inv(info)
            if np.any(np.diag(cov) <= 0):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            cov = None
            warnings.append("The information matrix is not invertible: no standard errors (an item may have "
                            "a category nobody or everybody reaches).")
    fit.cov = cov
    table = _parameter_table(fit, items, n_cat, labels, codes, gvec, levels, cov)
    fit_table = _item_fit_table(fit, codes, items, item_fit and g is None)
    theta_hat, post_sd = grm_em.eap(fit)
    rows = keep.to_numpy()
    theta_col, se_col = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    theta_col[rows], se_col[rows] = theta_hat, post_sd
    scores = pd.DataFrame({"theta": theta_col, "se": se_col, "n_answered": answered.sum(axis=1)},
                          index=data.index)
    latent = _latent_table(fit, levels, gvec, cov)
    n = int(keep.sum())
    rel = _marginal_reliability(fit)
    k = fit.n_par
    return GRMResult(table, fit_table, scores, latent, fit.loglik, k, -2 * fit.loglik + 2 * k,
                     -2 * fit.loglik + k * np.log(n), n, rel, fit.converged, fit.iterations, levels, warnings,
                     fit, items)


def _parameter_table(fit, items, n_cat, labels, codes, gvec, levels, cov):
    rows = []
    pos = 0
    kmax = int(max(n_cat))
    for j, (it, L) in enumerate(zip(items, fit.layouts)):
        block = None if cov is None else cov[pos:pos + L.size, pos:pos + L.size]
        pos += L.size
        free = L.a_free or L.d_free
        for g in (range(L.n_groups) if free else [0]):
            a, d = L.ad(g)
            ix = L.index[g]
            answered = codes[:, j] >= 0
            if free:
                answered &= gvec == g
            row = {"item": it}
            if gvec is not None:
                row["group"] = levels[g] if free else "all"
            row.update({"n": int(answered.sum()), "categories": int(n_cat[j]),
                        "codes": ",".join(_fmt(v) for v in labels[j]), "a": a})
            V = None if block is None else block[np.ix_(ix, ix)]
            row["a_se"] = np.nan if V is None else float(np.sqrt(V[0, 0]))
            for k in range(1, kmax):
                row[f"d{k}"] = d[k - 1] if k < n_cat[j] else np.nan
            for k in range(1, kmax):
                row[f"d{k}_se"] = float(np.sqrt(V[k, k])) if V is not None and k < n_cat[j] else np.nan
            for k in range(1, kmax):
                row[f"b{k}"] = -d[k - 1] / a if k < n_cat[j] else np.nan
            for k in range(1, kmax):
                if V is not None and k < n_cat[j]:
                    dk = d[k - 1]
                    var = V[k, k] / a ** 2 + dk ** 2 * V[0, 0] / a ** 4 - 2 * dk * V[0, k] / a ** 3
                    row[f"b{k}_se"] = float(np.sqrt(max(var, 0.0)))
                else:
                    row[f"b{k}_se"] = np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def _item_fit_table(fit, codes, items, compute):
    from scipy.special import chdtrc

    from measurekit.stats._numerics.grm_em import s_x2

    if not compute:
        x2 = df = np.full(len(items), np.nan)
        n = 0
    else:
        x2, df, n = s_x2(fit, codes)
    with np.errstate(invalid="ignore"):
        p = chdtrc(df, x2)
        rmsea = np.sqrt(np.clip(x2 - df, 0, None) / (df * (n - 1))) if n > 1 else np.full(len(items), np.nan)
    return pd.DataFrame({"item": items, "s_x2": x2, "df": df, "p": p, "rmsea": rmsea, "n": n})


def _latent_table(fit, levels, gvec, cov):
    from measurekit.stats._numerics.grm_em import _latent_free

    rows = []
    n_items = sum(L.size for L in fit.layouts)
    for g, name in enumerate(levels):
        n = int(fit.data.counts.sum()) if gvec is None else int((gvec == g).sum())
        m_se = s_se = np.nan
        if g > 0 and cov is not None and _latent_free(fit):
            i = n_items + 2 * (g - 1)
            m_se, s_se = float(np.sqrt(cov[i, i])), float(np.sqrt(cov[i + 1, i + 1]))
        rows.append({"group": name, "n": n, "mean": float(fit.mean[g]), "sd": float(fit.sd[g]),
                     "mean_se": m_se, "sd_se": s_se})
    return pd.DataFrame(rows)


def _marginal_reliability(fit: GRMFit) -> float:
    """mirt's marginal_rxx: integral of I(theta) / (I(theta) + var) * density, reference group."""
    from measurekit.stats._numerics.grm_em import item_information, prior_weights

    th = np.linspace(-6, 6, 1201)
    by_k: dict[int, list] = {}
    for L in fit.layouts:
        by_k.setdefault(L.n_cat, []).append(L.ad(0))
    if len(by_k) == 1:     # one batch: each item's curve as item by item, added in the same order
        (ads,) = by_k.values()
        info = 0 + item_information(np.array([a for a, _ in ads]), np.array([d for _, d in ads]), th).sum(axis=0)
    else:
        info = sum(item_information(*L.ad(0), th) for L in fit.layouts)
    w = prior_weights(th, fit.mean[0], fit.sd[0])
    var = fit.sd[0] ** 2
    return float(np.sum(info / (info + var) * w))
