"""Added value of voice-informed measures over GLD and routine data, and discordance.

``added_value`` compares two nested logistic regressions for a binary outcome (GLD at age 5,
or a later outcome such as ``y1_phonics_pass``): the *base* model (routine predictors) and the
*full* model (base plus the *new*, voice-informed predictors).

* The **test of association** is the nested likelihood-ratio (LR) test, as R's
  ``anova(glm_base, glm_full, test = "LRT")``.
* The **size of the gain** is reported as estimates with bootstrap percentile intervals: change
  in AUC, Nagelkerke R-squared, Brier score, and the category-free net reclassification
  improvement (NRI) for events and non-events separately. These are *not* tested: a DeLong test
  of the AUC difference between nested models is invalid (its null distribution is degenerate,
  so it is badly conservative; Demler, Pencina and D'Agostino 2012, Stat Med 31:2577; Pepe,
  Kerr, Longton and Wang 2013, Stat Med 32:1467). If the LR test finds no association, the
  deltas are noise around zero; if it does, the deltas say how much the new measures add.
* Cross-validated log loss (K folds) guards against reading in-sample gains as real.

``discordance`` counts children with GLD whose parents report needs, and children without GLD
whose parents report no needs, with Wilson intervals.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from measurekit._result import Result
from measurekit.problems import InputError, ProblemReport

_MIN_GROUP_EVENTS = 20


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class AddedValueResult(Result):
    """Result of :func:`added_value`.

    table : one row per statistic (see ``added_value``).
    by_group : the deltas within groups (fsm, eal, neighbourhood by default).
    coefficients : both models' coefficients (as R's ``coef(glm)``) with standard errors.
    missing : complete-case analysis: how the dropped rows differ from the rows used.
    bootstrap : the bootstrap draws of each delta (one row per resample).
    """

    table: pd.DataFrame
    by_group: pd.DataFrame
    coefficients: pd.DataFrame
    missing: pd.DataFrame
    bootstrap: pd.DataFrame
    outcome: str = ""
    n: int = 0
    n_dropped: int = 0
    n_boot_done: int = 0
    separation: bool = False
    warnings: list = dataclasses.field(default_factory=list)
    _curves: dict = dataclasses.field(default_factory=dict, repr=False)
    _title = "Added value of the new measures (nested logistic regressions)"
    _main = "table"

    def notes(self) -> list[str]:
        t = self.table.set_index("statistic")
        lr = t.loc["lr_chisq"]
        auc = t.loc["auc"]
        verdict = ("adds information about" if lr["p_val"] < 0.05 else "shows no clear association with")
        out = [
            f"On {self.n} children with complete data ({self.n_dropped} dropped), the new measures {verdict} "
            f"{self.outcome} beyond the base model (LR chi-square {lr['estimate']:.1f} on {int(lr['df'])} df, "
            f"p = {lr['p_val']:.3g}).",
            f"AUC {auc['base']:.3f} -> {auc['full']:.3f} (change {auc['estimate']:+.3f}, 95% bootstrap interval "
            f"{auc['ci_low']:+.3f} to {auc['ci_high']:+.3f}; {self.n_boot_done} resamples). Changes in AUC, R-squared "
            "and NRI are estimates, not tests: the LR test is the test.",
        ]
        return out + list(self.warnings)

    def plot(self, ax=None):
        """ROC curves and calibration (deciles of predicted risk) of both models. Returns the figure."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
        else:
            axes = np.atleast_1d(ax)
            fig = axes[0].figure
        y = self._curves["y"]
        for name, p, style in (("base", self._curves["p_base"], "--"), ("base + new", self._curves["p_full"], "-")):
            fpr, tpr = _roc(y, p)
            axes[0].plot(fpr, tpr, style, label=f"{name} (AUC {_auc1(y, p):.3f})")
            if len(axes) > 1:
                bins = pd.qcut(p, 10, labels=False, duplicates="drop")
                cal = pd.DataFrame({"p": p, "y": y, "b": bins}).groupby("b").mean()
                axes[1].plot(cal["p"], cal["y"], style + "o", label=name)
        axes[0].plot([0, 1], [0, 1], ":", color="grey")
        axes[0].set(xlabel="1 - specificity", ylabel="sensitivity", title=f"ROC: {self.outcome}")
        axes[0].legend(loc="lower right")
        if len(axes) > 1:
            axes[1].plot([0, 1], [0, 1], ":", color="grey")
            axes[1].set(xlabel="predicted probability (decile mean)", ylabel="observed rate", title="Calibration")
            axes[1].legend(loc="upper left")
        fig.tight_layout()
        return fig


@dataclasses.dataclass
class DiscordanceResult(Result):
    """Result of :func:`discordance`: one row per group plus an ``All`` row.

    Columns: group, n (children with both GLD and a voice flag), n_gld, gld_need (children with
    GLD whose parents report needs), rate_gld_need = gld_need / n_gld with ci_low/ci_high
    (Wilson), n_no_gld, no_gld_no_need (children without GLD whose parents report no needs),
    rate_no_gld_no_need with ci_low_2/ci_high_2, discordant (the two together) and rate_discordant = discordant / n.
    """

    table: pd.DataFrame
    by: str | None = None
    warnings: list = dataclasses.field(default_factory=list)
    _title = "Discordance between GLD and parents' reports of need"

    def notes(self) -> list[str]:
        a = self.table[self.table["group"] == "All"].iloc[0]
        return [
            f"{int(a['gld_need'])} of {int(a['n_gld'])} children with GLD ({a['rate_gld_need']:.0%}) have parents "
            f"reporting needs; {int(a['no_gld_no_need'])} of {int(a['n_no_gld'])} children without GLD "
            f"({a['rate_no_gld_no_need']:.0%}) have parents reporting no needs. These children are where GLD "
            "alone would give a different picture from the family's own account."
        ] + list(self.warnings)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _roc(y, p):
    order = np.argsort(-p, kind="stable")
    ys = y[order]
    tpr = np.concatenate([[0], np.cumsum(ys) / ys.sum()])
    fpr = np.concatenate([[0], np.cumsum(1 - ys) / (1 - ys).sum()])
    return fpr, tpr


def _auc1(y, p):
    from measurekit._logistic import auc

    return auc(y, p)


def _binary(s: pd.Series, name: str, report: ProblemReport) -> pd.Series:
    x = pd.to_numeric(s, errors="coerce") if not pd.api.types.is_bool_dtype(s.dtype) else s.astype(float)
    bad = s.notna() & ~x.isin([0, 1])
    if bad.any():
        report.add("not_binary", f"{name} must be 0/1 (or True/False); found {sorted(map(str, s[bad].unique()))[:5]}.",
                   column=name, value=str(s[bad].iloc[0]))
    return x.astype(float)


def _nagelkerke(ll, ll0, n):
    cs = 1 - np.exp(2 * (ll0 - ll) / n)
    return cs / (1 - np.exp(2 * ll0 / n))


def _check_frame(df, outcome, cols, report):
    missing = [c for c in [outcome, *cols] if c not in df.columns]
    if missing:
        report.add("missing_column", f"Column(s) {missing} are not in the data. Available: {list(df.columns)[:30]}...",
                   column=", ".join(missing))
        return
    for c in cols:
        if df[c].isna().all():
            report.add("all_missing_predictor", f"Predictor {c!r} is missing for every child, so it cannot be used. "
                       "Check the column (was it scored or linked?) or leave it out.", column=c)


# ---------------------------------------------------------------------------
# added value
# ---------------------------------------------------------------------------

def added_value(df: pd.DataFrame, outcome: str, base: Sequence[str], new: Sequence[str], *, n_boot: int = 1000,
                cv: int = 5, random_state=None, by: Sequence[str] | None = None, reference: dict | None = None,
                level: float = 0.95, show_progress: bool | None = None) -> AddedValueResult:
    """How much do the ``new`` predictors add to the ``base`` predictors for a binary ``outcome``?

    Parameters
    ----------
    df : one row per child.
    outcome : 0/1 column (e.g. ``"gld"`` or ``"y1_phonics_pass"``).
    base, new : predictor columns. Numeric columns (scale scores, item codes, 0/1 flags) enter as
        they are; text/categorical columns (``send``, ``sex``, ``home_language``) are dummy-coded
        against a reference level (``reference={"send": "none"}``; default the most frequent
        level, or a Categorical's first category as in R).
    n_boot : bootstrap resamples for the intervals (0 for none). Batched Newton-Raphson with
        multinomial resampling weights, warm-started from the full-sample fit.
    cv : folds for the cross-validated log loss (0 or 1 to skip).
    by : columns for ``by_group`` (default: those of ``fsm``, ``eal``, ``neighbourhood`` in ``df``).
    level : interval level.

    Returns
    -------
    AddedValueResult with ``table`` columns: statistic, base (base model), full (base + new),
    estimate (full - base, or the statistic itself for the LR test and NRI), ci_low, ci_high
    (bootstrap percentile), df, p_val. Statistics:

    - ``log_likelihood``: maximised log-likelihood (R ``logLik(glm)``); estimate = difference.
    - ``lr_chisq``: 2 x difference in log-likelihood, df = number of new design columns (dummies
      counted), p_val from chi-square (R ``anova(base, full, test = "LRT")``). The test.
    - ``auc``: area under the ROC curve (R ``pROC::auc``); estimate = delta AUC.
    - ``nagelkerke_r2``: Nagelkerke's R-squared (Cox-Snell rescaled to max 1).
    - ``brier``: mean squared error of the predicted probability (lower is better).
    - ``cv_log_loss``: K-fold cross-validated mean log loss (lower is better; no interval).
    - ``nri_events``, ``nri_nonevents``, ``nri_total``: category-free (continuous) NRI
      (Pencina et al. 2011): among events P(risk up) - P(risk down); among non-events
      P(down) - P(up); total is their sum (out of 2).

    ``by_group``: the two models fitted on everyone, compared within each group (group, level,
    n, events, auc_base, auc_full, delta_auc with interval, nri_events, nri_nonevents). A group
    with no events or no non-events gives a NaN row and a warning; groups with fewer than 20
    events or non-events get a warning (the interval will be wide).

    Missing data: complete cases over outcome, base and new. ``missing`` shows the number dropped
    and how dropped rows differ (outcome rate, fsm, eal). Survey weights are not supported here
    (the LR test assumes independent, unweighted observations); use coverage weights for
    descriptive estimates (``measurekit.coverage.weighted_estimates``).

    Separation (a predictor that perfectly predicts the outcome) gives a warning and
    ``separation=True``; the estimates stay finite but the coefficients of the separating
    predictors are not meaningful.

    Interrupting the bootstrap (Ctrl-C / stop button) returns the partial bootstrap with a warning.
    """
    from scipy import stats

    from measurekit._logistic import add_intercept, auc, auc_batch, design_matrix, fit_logistic, fit_logistic_batch
    from measurekit._progress import progress

    base, new = list(base), list(new)
    report = ProblemReport(title="added_value input")
    if not isinstance(df, pd.DataFrame):
        raise InputError("added_value needs a pandas DataFrame with one row per child.")
    overlap = set(base) & set(new)
    if overlap:
        report.add("predictor_in_both", f"Predictor(s) {sorted(overlap)} are in both base and new.")
    if not new:
        report.add("no_new_predictors", "Give at least one new predictor.")
    _check_frame(df, outcome, base + new, report)
    report.raise_if_errors()
    yser = _binary(df[outcome], outcome, report)
    report.raise_if_errors()

    warn: list[str] = []
    used = yser.notna() & df[base + new].notna().all(axis=1)
    n_all, n_used = len(df), int(used.sum())
    missing_tab = _missing_table(df, yser, used, outcome)
    if n_used < n_all:
        worst = df.loc[~used, base + new].isna().mean().sort_values(ascending=False)
        warn.append(f"{n_all - n_used} of {n_all} rows dropped for missing data (complete cases); most often missing: "
                    + ", ".join(f"{c} ({v:.0%})" for c, v in worst.head(3).items() if v > 0) + ". See .missing.")
    data = df.loc[used]
    y = yser[used].to_numpy()
    if n_used < 10 or y.sum() == 0 or y.sum() == n_used:
        raise InputError(f"Too few usable rows for {outcome}: {n_used} complete cases with {int(y.sum())} events.")

    Xdf, terms = design_matrix(data, base + new, reference)
    base_cols = [c for t in base for c in terms[t]["columns"]]
    new_cols = [c for t in new for c in terms[t]["columns"]]
    const = [c for c in base_cols + new_cols if Xdf[c].nunique() < 2]
    if const:
        raise InputError(f"Predictor column(s) {const} take a single value among the complete cases, so they carry "
                         "no information; leave them out.")
    Xb = add_intercept(Xdf[base_cols].to_numpy())
    Xf = add_intercept(Xdf[base_cols + new_cols].to_numpy())
    fb, ff = fit_logistic(Xb, y), fit_logistic(Xf, y)
    separation = fb.separated or ff.separated
    if separation:
        big = [c for c, b in zip(["(Intercept)"] + base_cols + new_cols, ff.coef) if abs(b) > 10]
        msg = ("Separation: some predictor(s) predict the outcome (almost) perfectly"
               + (f" (suspect: {big})" if big else "")
               + ". Coefficients are not meaningful and the LR test is unreliable; check the predictor "
               "(is it the outcome in disguise?) or combine sparse categories.")
        warnings.warn(msg, stacklevel=2)
        warn.append(msg)
    for f, name in ((fb, "base"), (ff, "full")):
        if not f.converged and not separation:
            warn.append(f"The {name} model did not fully converge.")

    eta_b, eta_f = Xb @ fb.coef, Xf @ ff.coef
    p_b, p_f = _expit(eta_b), _expit(eta_f)
    ll0 = float(n_used * (y.mean() * np.log(y.mean()) + (1 - y.mean()) * np.log(1 - y.mean())))
    lr = 2 * (ff.loglik - fb.loglik)
    df_lr = len(new_cols)
    p_lr = float(stats.chi2.sf(max(lr, 0.0), df_lr))

    point = {
        "auc": (auc(y, eta_b), auc(y, eta_f)),
        "nagelkerke_r2": (_nagelkerke(fb.loglik, ll0, n_used), _nagelkerke(ff.loglik, ll0, n_used)),
        "brier": (float(np.mean((y - p_b) ** 2)), float(np.mean((y - p_f) ** 2))),
    }
    up, down = eta_f > eta_b, eta_f < eta_b
    ev = y == 1
    nri_e = float(up[ev].mean() - down[ev].mean())
    nri_n = float(down[~ev].mean() - up[~ev].mean())

    # groups for by_group
    if by is None:
        by = [c for c in ("fsm", "eal", "neighbourhood") if c in df.columns]
    gdefs = []
    for col in by:
        if col not in df.columns:
            raise InputError(f"by_group column {col!r} is not in the data.")
        for lv in sorted(data[col].dropna().unique(), key=str):
            gdefs.append((col, lv, (data[col] == lv).to_numpy()))

    # bootstrap
    rng = np.random.default_rng(random_state)
    boot_rows, gboot = [], []
    done = 0
    if n_boot and n_boot > 0:
        chunk = max(1, min(100, n_boot))
        starts = list(range(0, n_boot, chunk))
        gm = np.array([g[2] for g in gdefs]) if gdefs else None
        try:
            for s0 in progress(starts, total=len(starts), desc="bootstrap", show=show_progress):
                m = min(chunk, n_boot - s0)
                W = rng.multinomial(n_used, np.full(n_used, 1.0 / n_used), size=m).astype(float)
                bb, llb, cb = fit_logistic_batch(Xb, y, W, start=fb.coef)
                bf, llf, cf = fit_logistic_batch(Xf, y, W, start=ff.coef)
                eb, ef = bb @ Xb.T, bf @ Xf.T
                pb, pf = _expit(eb), _expit(ef)
                nw = W.sum(axis=1)
                ybar = (W @ y) / nw
                ll0b = nw * (ybar * np.log(ybar) + (1 - ybar) * np.log(1 - ybar))
                a_b, a_f = auc_batch(eb, y, W), auc_batch(ef, y, W)
                wev, wne = W * y, W * (1 - y)
                upb, dnb = (ef > eb), (ef < eb)
                with np.errstate(invalid="ignore", divide="ignore"):
                    nri_eb = ((wev * upb).sum(1) - (wev * dnb).sum(1)) / wev.sum(1)
                    nri_nb = ((wne * dnb).sum(1) - (wne * upb).sum(1)) / wne.sum(1)
                boot_rows.append(pd.DataFrame({
                    "auc": a_f - a_b,
                    "nagelkerke_r2": _nagelkerke(llf, ll0b, nw) - _nagelkerke(llb, ll0b, nw),
                    "brier": ((W * (y - pf) ** 2).sum(1) - (W * (y - pb) ** 2).sum(1)) / nw,
                    "nri_events": nri_eb, "nri_nonevents": nri_nb, "nri_total": nri_eb + nri_nb,
                    "lr_chisq": 2 * (llf - llb), "converged": cb & cf,
                }))
                if gm is not None:
                    order_b = np.argsort(eb, axis=1, kind="stable")
                    order_f = np.argsort(ef, axis=1, kind="stable")
                    ga_b = auc_batch(eb, y, W, order=order_b, groups=gm)
                    ga_f = auc_batch(ef, y, W, order=order_f, groups=gm)
                    ge = (wev[None] * gm[:, None, :])
                    gn = (wne[None] * gm[:, None, :])
                    with np.errstate(invalid="ignore", divide="ignore"):
                        g_nri_e = ((ge * upb).sum(2) - (ge * dnb).sum(2)) / ge.sum(2)
                        g_nri_n = ((gn * dnb).sum(2) - (gn * upb).sum(2)) / gn.sum(2)
                    gboot.append((ga_f - ga_b, g_nri_e, g_nri_n))
                done += m
        except KeyboardInterrupt:
            msg = f"Bootstrap interrupted: intervals use the {done} of {n_boot} resamples that were done."
            warnings.warn(msg, stacklevel=2)
            warn.append(msg)
    boot = pd.concat(boot_rows, ignore_index=True) if boot_rows else pd.DataFrame(
        columns=["auc", "nagelkerke_r2", "brier", "nri_events", "nri_nonevents", "nri_total", "lr_chisq", "converged"])
    if len(boot) and not boot["converged"].all():
        nbad = int((~boot["converged"].astype(bool)).sum())
        warn.append(f"{nbad} bootstrap resample(s) did not converge (often separation in a resample); they are left out.")
    good = boot[boot["converged"].astype(bool)] if len(boot) else boot
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2

    def ci(col):
        if len(good) < 2:
            return (np.nan, np.nan)
        v = good[col].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        return tuple(np.quantile(v, [lo_q, hi_q])) if v.size > 1 else (np.nan, np.nan)

    cvb, cvf = _cv_log_loss(Xb, Xf, y, cv, rng) if cv and cv > 1 else (np.nan, np.nan)
    rows = [
        dict(statistic="log_likelihood", base=fb.loglik, full=ff.loglik, estimate=ff.loglik - fb.loglik),
        dict(statistic="lr_chisq", estimate=lr, df=df_lr, p_val=p_lr),
    ]
    for k, (vb, vf) in point.items():
        lo, hi = ci(k)
        rows.append(dict(statistic=k, base=vb, full=vf, estimate=vf - vb, ci_low=lo, ci_high=hi))
    rows.append(dict(statistic="cv_log_loss", base=cvb, full=cvf, estimate=cvf - cvb))
    for k, v in (("nri_events", nri_e), ("nri_nonevents", nri_n), ("nri_total", nri_e + nri_n)):
        lo, hi = ci(k)
        rows.append(dict(statistic=k, estimate=v, ci_low=lo, ci_high=hi))
    table = pd.DataFrame(rows, columns=["statistic", "base", "full", "estimate", "ci_low", "ci_high", "df", "p_val"])
    table["n"] = n_used

    # by group (point estimates from the full-sample models)
    grows = []
    conv_mask = good.index.to_numpy() if len(boot) else np.array([], dtype=int)
    G_auc = np.concatenate([g[0] for g in gboot], axis=1) if gboot else None
    G_e = np.concatenate([g[1] for g in gboot], axis=1) if gboot else None
    G_n = np.concatenate([g[2] for g in gboot], axis=1) if gboot else None
    for k, (col, lv, mask) in enumerate(gdefs):
        yy = y[mask]
        n_g, e_g = int(mask.sum()), int(yy.sum())
        row = dict(group=col, level=lv, n=n_g, events=e_g)
        if e_g == 0 or e_g == n_g:
            msg = f"Group {col} = {lv}: {'no events' if e_g == 0 else 'no non-events'} of {outcome} among {n_g} children; AUC and NRI are undefined (NaN)."
            warnings.warn(msg, stacklevel=2)
            warn.append(msg)
            grows.append(row)
            continue
        if min(e_g, n_g - e_g) < _MIN_GROUP_EVENTS:
            warn.append(f"Group {col} = {lv} is small ({e_g} events, {n_g - e_g} non-events): its interval is wide and unstable.")
        ab, af = auc(yy, eta_b[mask]), auc(yy, eta_f[mask])
        u, d = up[mask], down[mask]
        row.update(auc_base=ab, auc_full=af, delta_auc=af - ab,
                   nri_events=float(u[yy == 1].mean() - d[yy == 1].mean()),
                   nri_nonevents=float(d[yy == 0].mean() - u[yy == 0].mean()))
        if G_auc is not None and conv_mask.size > 1:
            for name, M in (("delta_auc", G_auc), ("nri_events", G_e), ("nri_nonevents", G_n)):
                v = M[k][conv_mask]
                v = v[np.isfinite(v)]
                if v.size > 1:
                    row[f"{name}_ci_low"], row[f"{name}_ci_high"] = np.quantile(v, [lo_q, hi_q])
        grows.append(row)
    gcols = ["group", "level", "n", "events", "auc_base", "auc_full", "delta_auc", "delta_auc_ci_low", "delta_auc_ci_high",
             "nri_events", "nri_events_ci_low", "nri_events_ci_high", "nri_nonevents", "nri_nonevents_ci_low",
             "nri_nonevents_ci_high"]
    by_group = pd.DataFrame(grows, columns=gcols)

    coef = _coef_table(Xb, Xf, y, fb, ff, base_cols, new_cols, terms)
    return AddedValueResult(table=table, by_group=by_group, coefficients=coef, missing=missing_tab,
                            bootstrap=boot.reset_index(drop=True), outcome=outcome, n=n_used, n_dropped=n_all - n_used,
                            n_boot_done=int(len(good)), separation=bool(separation), warnings=warn,
                            _curves={"y": y, "p_base": p_b, "p_full": p_f})


def _cv_log_loss(Xb, Xf, y, k, rng):
    from measurekit._logistic import fit_logistic

    n = len(y)
    folds = rng.permutation(np.arange(n) % k)
    out = []
    for X in (Xb, Xf):
        losses = np.empty(n)
        for f in range(k):
            test = folds == f
            fit = fit_logistic(X[~test], y[~test])
            eta = X[test] @ fit.coef
            losses[test] = np.logaddexp(0, eta) - y[test] * eta
        out.append(float(losses.mean()))
    return tuple(out)


def _coef_table(Xb, Xf, y, fb, ff, base_cols, new_cols, terms):
    rows = []
    for name, X, fit, cols in (("base", Xb, fb, base_cols), ("full", Xf, ff, base_cols + new_cols)):
        p = _expit(X @ fit.coef)
        H = X.T @ (X * (p * (1 - p))[:, None])
        try:
            se = np.sqrt(np.diag(np.linalg.inv(H)))
        except np.linalg.LinAlgError:
            se = np.full(len(fit.coef), np.nan)
        for term, b, s in zip(["(Intercept)"] + cols, fit.coef, se):
            rows.append(dict(model=name, term=term, estimate=b, se=s, z=b / s))
    out = pd.DataFrame(rows)
    from scipy import stats

    out["p_val"] = 2 * stats.norm.sf(np.abs(out["z"]))
    return out


def _missing_table(df, yser, used, outcome):
    rows = []
    for label, mask in (("used", used), ("dropped", ~used)):
        sub = df[mask]
        row = {"rows": label, "n": int(mask.sum()), f"{outcome}_rate": float(yser[mask].mean()) if mask.any() else np.nan}
        for c in ("fsm", "eal", "summer_born"):
            if c in df.columns:
                row[f"{c}_rate"] = float(pd.to_numeric(sub[c], errors="coerce").mean()) if mask.any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# discordance
# ---------------------------------------------------------------------------

def discordance(df: pd.DataFrame, gld: str = "gld", voice_flag: Any = None, by: str | None = "neighbourhood", *,
                threshold: float | None = None, level: float = 0.95) -> DiscordanceResult:
    """Children with GLD whose parents report needs, and children without GLD whose parents report none.

    Parameters
    ----------
    df : one row per child.
    gld : 0/1 column of the age-5 measure.
    voice_flag : column name (or a Series aligned with ``df``) that is 1 where the parent's answers
        indicate a need. If the column is a score rather than a 0/1 flag, give ``threshold``: a
        need is a score at or below it (low scores = more need).
    by : grouping column (``None`` for the whole cohort only).

    Returns a :class:`DiscordanceResult`; rates have Wilson intervals
    (``measurekit.intervals.wilson``, as R's ``prop.test(correct = FALSE)``). Children missing
    either the GLD or the voice flag (for example, non-respondents) are left out of the counts.
    """
    from measurekit.intervals import wilson

    report = ProblemReport(title="discordance input")
    if gld not in df.columns:
        report.add("missing_column", f"GLD column {gld!r} is not in the data.", column=gld)
    if voice_flag is None:
        report.add("missing_voice_flag", "Give voice_flag: a 0/1 column (1 = the parent reports a need) or a score column with threshold=.")
    if by is not None and by not in df.columns:
        report.add("missing_column", f"Grouping column {by!r} is not in the data.", column=by)
    report.raise_if_errors()
    if isinstance(voice_flag, str):
        if voice_flag not in df.columns:
            raise InputError(f"voice_flag column {voice_flag!r} is not in the data.")
        flag_raw, flag_name = df[voice_flag], voice_flag
    else:
        flag_raw, flag_name = pd.Series(voice_flag, index=df.index), "voice_flag"
    if threshold is not None:
        v = pd.to_numeric(flag_raw, errors="coerce")
        flag = (v <= threshold).astype(float).where(v.notna())
    else:
        flag = _binary(flag_raw, flag_name, report)
        if not report.ok:
            report.add("hint", "If voice_flag is a score, give threshold= (need = score at or below it).", severity="info")
    g = _binary(df[gld], gld, report)
    report.raise_if_errors()
    if flag.isna().all():
        raise InputError(f"{flag_name} is missing for every child.")
    ok = g.notna() & flag.notna()
    groups = [("All", ok)]
    if by is not None:
        for lv in sorted(df.loc[ok, by].dropna().unique(), key=str):
            groups.append((lv, ok & (df[by] == lv)))
    rows = []
    for name, m in groups:
        gg, ff = g[m], flag[m]
        n_gld, n_no = int((gg == 1).sum()), int((gg == 0).sum())
        a, b = int(((gg == 1) & (ff == 1)).sum()), int(((gg == 0) & (ff == 0)).sum())
        rows.append(dict(group=name, n=int(m.sum()), n_gld=n_gld, gld_need=a, n_no_gld=n_no, no_gld_no_need=b,
                         discordant=a + b))
    t = pd.DataFrame(rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        t["rate_gld_need"] = t["gld_need"] / t["n_gld"].where(t["n_gld"] > 0)
        t["ci_low"], t["ci_high"] = wilson(t["gld_need"], t["n_gld"], level)
        t["rate_no_gld_no_need"] = t["no_gld_no_need"] / t["n_no_gld"].where(t["n_no_gld"] > 0)
        t["ci_low_2"], t["ci_high_2"] = wilson(t["no_gld_no_need"], t["n_no_gld"], level)
        t["rate_discordant"] = t["discordant"] / t["n"].where(t["n"] > 0)
    warn = []
    small = t[(t["group"] != "All") & (t["n"] < 30)]
    if len(small):
        warn.append(f"Small groups (n < 30): {list(small['group'])}; their rates are imprecise and may need suppression before publishing.")
    n_miss = int((~ok).sum())
    if n_miss:
        warn.append(f"{n_miss} children without both GLD and a voice flag are left out (e.g. no parent response).")
    t = t[["group", "n", "n_gld", "gld_need", "rate_gld_need", "ci_low", "ci_high", "n_no_gld", "no_gld_no_need",
           "rate_no_gld_no_need", "ci_low_2", "ci_high_2", "discordant", "rate_discordant"]]
    return DiscordanceResult(table=t, by=by, warnings=warn)
