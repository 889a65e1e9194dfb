"""Added value of voice-informed measures over GLD and routine data, and discordance.

The question is whether, among children with the same routine information (FSM, SEND, EAL,
sex, summer birth, the two-year ASQ-3, GLD), the voice measures say something more about an
outcome. The test is the likelihood-ratio test of nested logistic models. Changes in AUC,
Nagelkerke R-squared, Brier score and net reclassification are reported as estimates with
bootstrap intervals, never as tests: DeLong's test of AUCs is invalid for nested models
(its null distribution is wrong when the new terms add nothing; Demler et al. 2012; Pepe et al. 2013),
so the LR test carries the question "is there any added information?" and the other measures
say "how much".
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.problems import InputError
from measurekit.stats._numerics.design_matrix import check_columns, design_matrix
from measurekit.stats._numerics.logistic import auc, auc_batch, expit, fit_logistic, fit_logistic_batch
from measurekit.stats._numerics.threads import single_thread


def _nagelkerke(ll: float, ll0: float, n: int) -> float:
    cox_snell = 1 - np.exp((2 / n) * (ll0 - ll))
    return float(cox_snell / (1 - np.exp((2 / n) * ll0)))


def _probs(X, coef):
    return expit(X @ coef)


def _nri(p_base, p_full, y, w):
    """Category-free NRI for events (up minus down) and non-events (down minus up)."""
    change = np.sign(p_full - p_base)
    ev = y == 1
    nri_e = np.sum(w[ev] * change[ev]) / np.sum(w[ev])
    nri_ne = -np.sum(w[~ev] * change[~ev]) / np.sum(w[~ev])
    return float(nri_e), float(nri_ne)


def _metrics(Xb, Xf, y, fb, ff, w=None):
    """AUC, Nagelkerke R2, Brier score and NRI of both models (``w``: frequency weights)."""
    w = np.ones(len(y)) if w is None else w
    n = w.sum()
    ybar = np.sum(w * y) / n
    ll0 = float(n * (ybar * np.log(ybar) + (1 - ybar) * np.log(1 - ybar)))
    pb, pf = _probs(Xb, fb.coef), _probs(Xf, ff.coef)
    return {
        "auc": (auc(y, pb, w), auc(y, pf, w)),
        "nagelkerke_r2": (_nagelkerke(fb.loglik, ll0, n), _nagelkerke(ff.loglik, ll0, n)),
        "brier": (float(np.sum(w * (pb - y) ** 2) / n), float(np.sum(w * (pf - y) ** 2) / n)),
        "nri": _nri(pb, pf, y, w),
    }


def _cv_log_loss(X, y, k, rng):
    """Stratified k-fold cross-validated log loss (mean over held-out children)."""
    folds = np.empty(len(y), dtype=int)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        folds[idx] = np.arange(len(idx)) % k
    losses = np.empty(len(y))
    for f in range(k):
        test = folds == f
        fit = fit_logistic(X[~test], y[~test])
        p = np.clip(_probs(X[test], fit.coef), 1e-12, 1 - 1e-12)
        losses[test] = -(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p))
    return float(losses.mean())


@dataclass
class AddedValueResult(Result):
    """Result of :func:`added_value`.

    table: one row per measure with columns ``base`` (routine model), ``full`` (routine + new),
        ``difference`` (full - base), ``ci_low``/``ci_high`` (bootstrap percentile interval of the
        difference), ``df`` and ``p_val`` (LR test row only). Measures: log_likelihood,
        lr_chisq (likelihood-ratio test of the new terms), auc, nagelkerke_r2, brier (lower is
        better), cv_log_loss (k-fold cross-validated, lower is better), nri_events (share of
        children with the outcome whose predicted risk went up minus down), nri_nonevents
        (down minus up among those without), nri_total.
    by_group: the same differences and the LR test within each group of the ``by`` variables
        (no intervals), with a ``note`` where the group is too small.
    dropped: how the children left out (missing data) compare with those analysed.
    """

    table: pd.DataFrame
    by_group: pd.DataFrame
    dropped: pd.DataFrame
    outcome: str = ""
    n: int = 0
    n_events: int = 0
    n_boot: int = 0
    warnings: list[str] = field(default_factory=list)
    _fitted: dict = field(default_factory=dict, repr=False)
    _title = "Added value over routine data"
    _main = "table"

    @property
    def p_val(self) -> float:
        return float(self.table.set_index("measure")["p_val"].loc["lr_chisq"])

    def fitted_risks(self) -> pd.DataFrame:
        """One row per child analysed: ``y`` (the outcome, 0/1), ``p_base`` (predicted risk from the routine
        model) and ``p_full`` (from routine + new), in-sample, as R's ``fitted(glm(...))`` of the two models; what
        the ROC curves and the calibration plot are drawn from. Empty when the result holds no fitted models."""
        f = self._fitted
        if not {"y", "p_base", "p_full"} <= set(f):
            return pd.DataFrame({"y": [], "p_base": [], "p_full": []})
        return pd.DataFrame({"y": f["y"], "p_base": f["p_base"], "p_full": f["p_full"]})

    def plot(self, bins: int = 10):
        """ROC curves and calibration (observed vs predicted by tenths of risk) of both models."""
        import matplotlib.pyplot as plt

        risks = self.fitted_risks()
        y, pb, pf = (risks[c].to_numpy(dtype=float) for c in ("y", "p_base", "p_full"))
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
        for p, label, colour in ((pb, "routine data", "#457b9d"), (pf, "routine + voice", "#e63946")):
            order = np.argsort(-p)
            tpr = np.concatenate([[0], np.cumsum(y[order]) / y.sum()])
            fpr = np.concatenate([[0], np.cumsum(1 - y[order]) / (1 - y).sum()])
            ax1.plot(fpr, tpr, color=colour, label=f"{label} (AUC {auc(y, p):.3f})")
            q = pd.qcut(p, bins, labels=False, duplicates="drop")
            cal = pd.DataFrame({"p": p, "y": y, "q": q}).groupby("q").mean()
            ax2.plot(cal["p"], cal["y"], "o-", color=colour, label=label)
        ax1.plot([0, 1], [0, 1], color="grey", lw=0.5)
        ax1.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC: {self.outcome}")
        ax2.plot([0, 1], [0, 1], color="grey", lw=0.5)
        ax2.set(xlabel="predicted probability", ylabel="observed proportion", title="Calibration")
        ax1.legend(fontsize=8)
        ax2.legend(fontsize=8)
        fig.tight_layout()
        return fig


def _text_numbers(df, columns, warnings):
    """``df`` with each of ``columns`` that holds numbers stored as text (every non-blank value reads as a
    number; not a pandas Categorical) converted to numbers, and a warning naming them; the caller's frame is
    untouched. Such a column would otherwise be dummy coded, one category per distinct number."""
    converted = {}
    for c in columns:
        s = df[c]
        if isinstance(s.dtype, pd.CategoricalDtype) or not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        present = s[s.notna() & (s.astype(str).str.strip() != "")]
        if present.empty or present.map(lambda v: isinstance(v, bool)).any():
            continue
        num = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
        if num.notna().all():
            converted[c] = pd.to_numeric(s.where(s.astype(str).str.strip() != ""), errors="coerce")
    if not converted:
        return df
    warnings.append(f"Column(s) {', '.join(converted)} hold numbers stored as text; they were read as numbers "
                    "(one slope each), not as categories. To treat a column as categories, make it a pandas "
                    "Categorical first (df[col].astype('category')).")
    return df.assign(**converted)


def _prepare(df, outcome, base, new, by, warnings):
    check_columns(df, [outcome], "outcome")
    check_columns(df, list(base) + list(new))
    y_all = pd.to_numeric(df[outcome], errors="coerce")
    if not set(y_all.dropna().unique()) <= {0, 1}:
        bad = y_all.dropna()[~y_all.dropna().isin([0, 1])]
        raise _problem("out_of_range", f"The outcome {outcome!r} must be coded 0/1 (e.g. {bad.iloc[0]!r} is not).",
                       column=outcome, value=str(bad.iloc[0]), rule="0 or 1")
    cols = [outcome, *base, *new]
    df = _text_numbers(df[list(dict.fromkeys([*cols, *[b for b in by if b in df.columns]]))],
                       [*base, *new], warnings)
    df = df.assign(**{outcome: y_all})
    keep = df[cols].notna().all(axis=1)
    data = df[keep]
    # how those dropped differ: the outcome and every numeric group column of ``by`` (text groups have no mean)
    compare = [outcome, *[c for c in dict.fromkeys(by) if c in df.columns and c != outcome
                          and pd.api.types.is_numeric_dtype(df[c])]]
    rows = []
    for c in compare:
        x = pd.to_numeric(df[c], errors="coerce")
        rows.append({"variable": c, "analysed_mean": x[keep].mean(), "dropped_mean": x[~keep].mean()})
    dropped = pd.DataFrame(rows)
    dropped.attrs["n_dropped"] = int((~keep).sum())
    return data, dropped, int((~keep).sum())


def _independent(X: np.ndarray, names: list[str], basis: np.ndarray | None = None, tol: float = 1e-7):
    """Columns of ``X`` that add something to ``basis`` and to the columns kept before them, in order, as R's
    ``glm`` keeps them (its pivoted QR gives an aliased column an NA coefficient): a column whose residual after
    projection on the kept columns is below ``tol`` of its length is constant (given an intercept) or a
    combination of the others. Returns (kept indices, dropped names)."""
    q = np.empty((len(X), 0)) if basis is None else np.linalg.qr(basis)[0]
    keep, dropped = [], []
    for j in range(X.shape[1]):
        col = X[:, j]
        r = col - q @ (q.T @ col)
        r = r - q @ (q.T @ r)                   # twice: Gram-Schmidt loses orthogonality once
        size = np.linalg.norm(col)
        if size == 0 or np.linalg.norm(r) <= tol * size:
            dropped.append(names[j])
        else:
            keep.append(j)
            q = np.column_stack([q, r / np.linalg.norm(r)])
    return keep, dropped


def _design(data, base, new, warnings, label=""):
    """Routine and full design matrices, leaving out (with a warning) columns that are constant or a combination
    of columns before them. Returns (Xb with intercept, Xf, number of new columns kept)."""
    Xb_frame, Xn_frame = design_matrix(data, base)[0], design_matrix(data, new)[0]
    one = np.ones((len(data), 1))
    kb, db = _independent(Xb_frame.to_numpy(), list(Xb_frame.columns), one)
    Xb = np.column_stack([one, Xb_frame.to_numpy()[:, kb]])
    kn, dn = _independent(Xn_frame.to_numpy(), list(Xn_frame.columns), Xb)
    where = f" ({label})" if label else ""
    if db:
        warnings.append(f"Routine predictor column(s) {', '.join(db)}{where} left out: constant, or a combination of "
                        "the others (R's glm gives them an NA coefficient).")
    if dn:
        warnings.append(f"New predictor column(s) {', '.join(dn)}{where} left out: constant, or a combination of the "
                        "routine data or the new columns before them, so they carry no information (R's glm gives "
                        "them an NA coefficient); the LR test counts only the columns kept.")
    return Xb, np.column_stack([Xb, Xn_frame.to_numpy()[:, kn]]), len(kn)


@single_thread
def _bootstrap(Xb, Xf, y, fb, ff, n_boot, rng, warnings) -> np.ndarray:
    """Bootstrap differences (n_boot x 6: AUC, Nagelkerke R2, Brier, NRI events, non-events, total), refits
    warm-started from the full-sample estimates, 200 resamples at a time; an interrupt keeps those done. One BLAS
    thread (see ``fit_logistic_batch``)."""
    from measurekit.core.progress import progress

    boots = []
    n = len(y)
    chunk = 200
    try:
        for start in progress(range(0, n_boot, chunk), total=-(-n_boot // chunk), desc="bootstrap"):
            b = min(chunk, n_boot - start)
            # multinomial resample counts for b resamples at once
            idx = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
            W = np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(float)
            W = W[(W @ y > 0) & (W @ (1 - y) > 0)]
            cb, llb, _ = fit_logistic_batch(Xb, y, W, start=fb.coef, tol=1e-8)
            cf, llf, _ = fit_logistic_batch(Xf, y, W, start=ff.coef, tol=1e-8)
            pb, pf = expit(cb @ Xb.T), expit(cf @ Xf.T)     # a separated resample gives probabilities of 0
            nw = W.sum(axis=1)
            ybar = (W @ y) / nw
            ll0 = nw * (ybar * np.log(ybar) + (1 - ybar) * np.log(1 - ybar))
            r2 = [(1 - np.exp((2 / nw) * (ll0 - ll))) / (1 - np.exp((2 / nw) * ll0)) for ll in (llb, llf)]
            brier = [np.sum(W * (p - y) ** 2, axis=1) / nw for p in (pb, pf)]
            change = np.sign(pf - pb)
            nri_e = (W * change) @ y / (W @ y)
            nri_ne = -((W * change) @ (1 - y)) / (W @ (1 - y))
            aucs = [auc_batch(p, y, W) for p in (pb, pf)]
            boots.extend(np.column_stack([aucs[1] - aucs[0], r2[1] - r2[0], brier[1] - brier[0],
                                          nri_e, nri_ne, nri_e + nri_ne]).tolist())
    except KeyboardInterrupt:
        warnings.append(f"The bootstrap was interrupted after {len(boots)} of {n_boot} resamples; "
                        "intervals use those done.")
    return np.array(boots).reshape(-1, 6)


def _table(fb, ff, lr, df_lr, p_val, point, cv_ll, boots, level) -> pd.DataFrame:
    """The result table (see ``AddedValueResult``) from the fits, point estimates and bootstrap differences."""
    a = (1 - level) / 2

    def ci(k):
        if len(boots) < 20:
            return (np.nan, np.nan)
        return tuple(np.quantile(boots[:, k], [a, 1 - a]))

    nri_e, nri_ne = point["nri"]
    cv_b, cv_f = cv_ll
    rows = [
        {"measure": "log_likelihood", "base": fb.loglik, "full": ff.loglik, "difference": ff.loglik - fb.loglik},
        {"measure": "lr_chisq", "base": np.nan, "full": np.nan, "difference": lr, "df": df_lr, "p_val": p_val},
        {"measure": "auc", "base": point["auc"][0], "full": point["auc"][1],
         "difference": point["auc"][1] - point["auc"][0], "ci": ci(0)},
        {"measure": "nagelkerke_r2", "base": point["nagelkerke_r2"][0], "full": point["nagelkerke_r2"][1],
         "difference": point["nagelkerke_r2"][1] - point["nagelkerke_r2"][0], "ci": ci(1)},
        {"measure": "brier", "base": point["brier"][0], "full": point["brier"][1],
         "difference": point["brier"][1] - point["brier"][0], "ci": ci(2)},
        {"measure": "cv_log_loss", "base": cv_b, "full": cv_f, "difference": cv_f - cv_b},
        {"measure": "nri_events", "difference": nri_e, "ci": ci(3)},
        {"measure": "nri_nonevents", "difference": nri_ne, "ci": ci(4)},
        {"measure": "nri_total", "difference": nri_e + nri_ne, "ci": ci(5)},
    ]
    for r in rows:
        lo_hi = r.pop("ci", (np.nan, np.nan))
        r["ci_low"], r["ci_high"] = lo_hi
    return pd.DataFrame(rows, columns=["measure", "base", "full", "difference", "ci_low", "ci_high", "df", "p_val"])


def _problem(code: str, message: str, **where) -> InputError:
    from measurekit.problems import Problem, ProblemReport

    return InputError(ProblemReport([Problem(code, message, **where)], title="added_value"))


def _check_options(n_boot, cv, level):
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise _problem("bad_option", f"n_boot must be a whole number, 0 or more (0 = no bootstrap), not {n_boot!r}.",
                       column="n_boot", value=repr(n_boot))
    if cv is not None and (isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv == 1 or cv < 0):
        raise _problem("bad_option", f"cv must be the number of cross-validation folds (2 or more), or 0/None for no "
                       f"cross-validation, not {cv!r}.", column="cv", value=repr(cv))
    if not 0 < level < 1:
        raise _problem("bad_option", f"level must be between 0 and 1 (e.g. 0.95), not {level!r}.", column="level",
                       value=repr(level))


@single_thread
def added_value(data: pd.DataFrame, outcome: str | None = None, base=None, new=(), n_boot: int = 1000,
                cv: int | None = 5, random_state=None, by=(), min_group: int = 100,
                level: float = 0.95) -> AddedValueResult:
    """Does adding ``new`` predictors to ``base`` improve the prediction of a binary ``outcome``?

    ``outcome`` (a 0/1 column) and ``base`` (the routine columns, ``[]`` for none) are required: the pipeline
    passes the framework's ``analysis: outcomes`` (``column``, ``covariates`` + ``given``, ``by``); a library
    call without them is refused (``role_required``, naming the parameter). ``by``: group columns the added
    value is also estimated within (default none). ``dropped`` compares those analysed and those left out on the
    outcome and the numeric ``by`` columns.

    Complete cases are analysed (the number dropped and how they differ are reported in
    ``dropped``). Categorical predictors (text columns, e.g. ``send`` or ``sex``) are dummy coded
    against their most common level. A text column whose every non-blank value is a number (numbers stored
    as text, as a CSV read with ``dtype=str`` gives them) is read as numbers, with a warning naming it; to
    treat such a column as categories, make it a pandas Categorical first. Blank text is missing. A design column
    that is constant, or a combination of the columns before it, is left out with a warning and not counted in
    the LR test's df, as R's ``glm`` (NA coefficient) and ``anova(base, full, test = "LRT")`` do; ``InputError``
    (``aliased_predictor``) when no new column is left. ``n_boot`` resamples give percentile intervals for the
    differences (refits warm-started from the full-sample estimates; interrupting returns the
    resamples done so far). ``cv``-fold cross-validation gives the out-of-sample log loss (``cv=0`` or
    ``None``: none, the row is NaN). Runs with one BLAS thread (``threads.single_thread``): its matrices are at
    most a few thousand rows by a dozen columns, and on a busy 2-core machine OpenBLAS threads made the QR of the
    design columns 100+ times slower (the numbers are the same: every CSV of the main job byte-identical).
    """
    from measurekit.stats._numerics.item_data import named_frame, names

    if outcome is None:
        raise _problem("role_required", "Say which 0/1 outcome to predict: pass outcome= (the pipeline passes the "
                       "framework's `analysis: outcomes`).", column="outcome", rule="outcome names a 0/1 column")
    if base is None:
        raise _problem("role_required", "Say which routine columns the voice must add to: pass base= (a list; [] for "
                       "none; the pipeline passes the outcome's declared covariates).", column="base",
                       rule="base lists columns of the data")
    outcome, base, new, by = str(outcome), names(base) or [], names(new) or [], names(by) or []
    if not new:
        raise _problem("no_items", "Name at least one new predictor in `new`.", column="new")
    _check_options(n_boot, cv, level)
    df = named_frame(data, "The data", used=[outcome, *base, *new, *by])
    warnings: list[str] = []
    data, dropped, n_dropped = _prepare(df, outcome, base, new, by, warnings)
    if n_dropped:
        warnings.append(f"{n_dropped} of {len(df)} children were left out because of missing values; "
                        "see `dropped` for how they differ from those analysed.")
    y = data[outcome].to_numpy(dtype=float)
    if y.sum() < 10 or (1 - y).sum() < 10:
        raise _problem("too_few_cases", f"Too few children with (or without) the outcome {outcome!r} to fit a model "
                         f"({int(y.sum())} with, {int((1 - y).sum())} without).")
    Xb, Xf, df_lr = _design(data, base, new, warnings)
    if df_lr == 0:
        raise _problem("aliased_predictor", f"The new predictor(s) {', '.join(map(str, new))} are constant among the "
                       f"{len(y)} children analysed, or a combination of the routine data, so they cannot add "
                       "anything. Check the columns (e.g. a score that is the same for everyone).",
                       column=", ".join(map(str, new)))
    if cv and cv > len(y):
        raise _problem("bad_option", f"cv = {cv} folds is more than the {len(y)} children analysed.", column="cv")
    fb, ff = fit_logistic(Xb, y), fit_logistic(Xf, y)
    for fit, label in ((fb, "routine"), (ff, "routine + new")):
        if fit.separated:
            warnings.append(f"The {label} model shows separation: some predictor (or combination) predicts the "
                            "outcome perfectly for some children, so its coefficients run off to infinity. "
                            "Results are unreliable; look for a predictor that is almost the outcome itself.")
        if not fit.converged:
            warnings.append(f"The {label} model did not converge.")
    from measurekit.stats._numerics.distributions import chi2_sf

    lr = 2 * (ff.loglik - fb.loglik)
    p_val = float(chi2_sf(lr, df_lr))
    point = _metrics(Xb, Xf, y, fb, ff)
    rng = np.random.default_rng(random_state)
    cv_ll = (_cv_log_loss(Xb, y, cv, rng), _cv_log_loss(Xf, y, cv, rng)) if cv else (np.nan, np.nan)
    boots = _bootstrap(Xb, Xf, y, fb, ff, n_boot, rng, warnings)
    table = _table(fb, ff, lr, df_lr, p_val, point, cv_ll, boots, level)
    by_group = _by_group(data, outcome, base, new, [b for b in by if b in data.columns], min_group, warnings)
    return AddedValueResult(table, by_group, dropped, outcome, len(y), int(y.sum()), len(boots), warnings,
                            {"y": y, "p_base": _probs(Xb, fb.coef), "p_full": _probs(Xf, ff.coef)})


def _by_group(data, outcome, base, new, by, min_group, warnings):
    from measurekit.stats._numerics.distributions import chi2_sf

    rows = []
    for var in by:
        for value, sub in data.groupby(var, sort=True):
            y = sub[outcome].to_numpy(dtype=float)
            row = {"variable": var, "group": str(value), "n": len(sub), "n_events": int(y.sum())}
            if len(sub) < min_group or y.sum() < 10 or (1 - y).sum() < 10:
                row["note"] = (f"too small to estimate (n = {len(sub)}, {int(y.sum())} with the outcome; "
                               f"needs {min_group} children and 10 with and without)")
                warnings.append(f"{var} = {value}: {row['note']}.")
                rows.append(row)
                continue
            usable = [c for c in base if c != var and sub[c].nunique() > 1]
            Xb, Xf, k = _design(sub, usable, new, [], f"{var} = {value}")
            if k == 0:
                row["note"] = "the new predictors do not vary within this group"
                rows.append(row)
                continue
            fb, ff = fit_logistic(Xb, y), fit_logistic(Xf, y)
            m = _metrics(Xb, Xf, y, fb, ff)
            lr = 2 * (ff.loglik - fb.loglik)
            row.update({"lr_chisq": lr, "df": k, "p_val": float(chi2_sf(lr, k)),
                        "delta_auc": m["auc"][1] - m["auc"][0],
                        "delta_nagelkerke_r2": m["nagelkerke_r2"][1] - m["nagelkerke_r2"][0],
                        "nri_events": m["nri"][0], "nri_nonevents": m["nri"][1],
                        "note": "separation: unreliable" if (fb.separated or ff.separated) else ""})
            rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class DiscordanceResult(Result):
    """Result of :func:`discordance`, one row per group (and ``all``).

    n, n_gld (children with GLD), gld_with_need (GLD, yet their parent reports a need), its
    rate among children with GLD and Wilson interval, n_no_gld, no_gld_no_need (no GLD, and no
    need reported) with its rate among children without GLD and interval.
    """

    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    _title = "Where GLD and parents' voices disagree"


def discordance(data: pd.DataFrame, gld: str | None = None, voice_flag: str = "voice_need", by: str | None = None,
                level: float = 0.95) -> DiscordanceResult:
    """People with the routine outcome ``gld`` (a 0/1 column, required: ``role_required`` without it) whose own
    answers report needs, and people without it whose answers report none; overall and by the groups of ``by``
    (none by default).

    ``voice_flag`` is a 0/1 column (1 = the answers report a need, e.g. a domain score below 3).
    Rows with either value missing are left out. Rates carry Wilson score intervals.
    """
    from measurekit.stats._numerics.item_data import named_frame
    from measurekit.stats.intervals import wilson

    if gld is None:
        raise _problem("role_required", "Say which 0/1 routine outcome to compare with: pass gld= (the column).",
                       column="gld", rule="gld names a 0/1 column")
    gld, voice_flag, by = str(gld), str(voice_flag), (str(by) if by is not None else None)
    df = named_frame(data, "The data", used=[gld, voice_flag, *([by] if by else [])])
    check_columns(df, [gld, voice_flag], "column")
    cols = [gld, voice_flag] + ([by] if by else [])
    if by:
        check_columns(df, [by], "grouping column")
    flags = {}
    for c in (gld, voice_flag):
        x = pd.to_numeric(df[c].where(df[c].astype(str).str.strip() != ""), errors="coerce")
        bad = df[c][df[c].notna() & ~x.isin([0, 1])]
        bad = bad[bad.astype(str).str.strip() != ""]
        if len(bad):
            raise _problem("out_of_range", f"{c!r} must be coded 0/1 (e.g. {bad.iloc[0]!r} is not).", column=c,
                           value=str(bad.iloc[0]), rule="0 or 1")
        flags[c] = x
    data = df[cols].assign(**flags).dropna()
    groups = [("all", data)] + (list(data.groupby(by, sort=True)) if by else [])
    rows = []
    for name, sub in groups:
        g, v = sub[gld].astype(int), sub[voice_flag].astype(int)
        n_gld, n_no = int((g == 1).sum()), int((g == 0).sum())
        a, b = int(((g == 1) & (v == 1)).sum()), int(((g == 0) & (v == 0)).sum())
        lo1, hi1 = wilson(a, n_gld, level)
        lo2, hi2 = wilson(b, n_no, level)
        rows.append({"group": str(name), "n": len(sub), "n_gld": n_gld, "gld_with_need": a,
                     "rate_gld_with_need": a / n_gld if n_gld else np.nan, "ci_low_gld_with_need": float(lo1),
                     "ci_high_gld_with_need": float(hi1), "n_no_gld": n_no, "no_gld_no_need": b,
                     "rate_no_gld_no_need": b / n_no if n_no else np.nan, "ci_low_no_gld_no_need": float(lo2),
                     "ci_high_no_gld_no_need": float(hi2)})
    return DiscordanceResult(pd.DataFrame(rows))
