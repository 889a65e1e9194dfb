"""Measurement invariance across groups: a sequence of ever more constrained models, compared.

Items treated as continuous (ML; lavaan's ``group.equal``): configural, metric (equal loadings: the
items relate to the domain the same way), scalar (+ equal intercepts: the same score means the same
level, so group means can be compared), strict (+ equal residual variances).

Ordered items (``ordered=``; WLSMV): Wu and Estabrook (2016), identified as
``semTools::measEq.syntax(ID.cat = "Wu.Estabrook.2016", ID.fac = "std.lv", parameterization =
"delta")``: configural, thresholds (equal thresholds), loadings (+ equal loadings), intercepts
(+ equal intercepts). Differences use lavaan's ``lavTestLRT`` scaled-and-shifted difference test and
the changes in the scaled ("robust") CFI and RMSEA.

A level "holds" when fit does not get meaningfully worse than the previous level: change in CFI of
at most .01 and change in RMSEA of at most .015 (Chen 2007; Cheung and Rensvold 2002); the chi-square
difference test is reported too but is very sensitive in large samples.

Rule for levels after a failure: a level is only judged when every level before it held. Once a
level does not hold, the later levels are still fitted and their numbers shown, but their verdict
says they were not judged, because adding constraints on top of a failed level compares two models
that are both wrong. Release the items responsible with ``partial()`` first. A level whose model did
not converge is "not judged" (its numbers are left blank), and so are the levels after it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core import thresholds as th
from measurekit.core.result import Result
from measurekit.problems import InputError, Problem, ProblemReport
from measurekit.stats._numerics.threads import single_thread
from measurekit.stats.sem.syntax import MeasurementModel

LEVELS = {"configural": (), "metric": ("loadings",), "scalar": ("loadings", "intercepts"),
          "strict": ("loadings", "intercepts", "residuals")}
ORDINAL_LEVELS = {"configural": (), "thresholds": ("thresholds",), "loadings": ("thresholds", "loadings"),
                  "intercepts": ("thresholds", "loadings", "intercepts")}
MEANING = {"configural": "the same items go with the same domains in every group",
           "metric": "items relate to their domain equally strongly in every group",
           "scalar": "the same answers mean the same level in every group, so group means can be compared",
           "strict": "items are equally precise in every group",
           "thresholds": "the answer categories are used the same way in every group",
           "loadings": "items relate to their domain equally strongly in every group",
           "intercepts": "the same answers mean the same level in every group, so group means can be compared"}
RELEASE_KIND = {"metric": "loadings", "scalar": "intercepts", "strict": "residuals",
                "thresholds": "thresholds", "loadings": "loadings", "intercepts": "intercepts"}
ML_COLUMNS = ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "bic")
ORDINAL_COLUMNS = ("chisq", "df", "chisq_scaled", "df_scaled", "pvalue_scaled", "cfi_scaled", "tli_scaled",
                   "rmsea_scaled", "srmr")


def _compare(rows: list[dict], ordinal: bool = False, diffs: list | None = None) -> pd.DataFrame:
    """Differences between successive rows and a verdict per level.

    ``diffs`` (ordinal): per row after the first, the (scaled statistic, df) of the difference test."""
    from scipy.special import chdtrc

    cfi, rmsea = ("cfi_scaled", "rmsea_scaled") if ordinal else ("cfi", "rmsea")
    table = pd.DataFrame(rows)
    levels = [str(v) for v in table["level"]]
    chisq, df_ = table["chisq"].to_numpy(), table["df"].to_numpy()
    cfis, rmseas = table[cfi].to_numpy(float), table[rmsea].to_numpy(float)
    new = {col: np.full(len(table), np.nan) for col in ("delta_chisq", "delta_df", "p_val", "delta_cfi", "delta_rmsea")}
    conv = table["converged"].to_numpy(bool) if "converged" in table else np.ones(len(table), bool)
    verdicts, failed = [], None
    for i, level in enumerate(levels):
        base = level.split(" ")[0]
        if not conv[i]:
            verdicts.append(f"{level}: not judged: the fit did not converge, so its numbers are not shown "
                            "(a group may be too small for this model).")
            if failed is None:
                failed = f"{base} (the fit did not converge)"
            continue
        if i == 0:
            ok = cfis[0] >= 0.90
            verdicts.append(f"{level}: {'acceptable' if ok else 'poor'} baseline fit "
                            f"(CFI {cfis[0]:.3f}, RMSEA {rmseas[0]:.3f}); checks whether "
                            f"{MEANING.get(base, 'the model holds')}.")
            continue
        if diffs is not None:
            dchi, ddf = diffs[i - 1]
        else:
            dchi, ddf = chisq[i] - chisq[i - 1], df_[i] - df_[i - 1]
        dcfi, drm = cfis[i] - cfis[i - 1], rmseas[i] - rmseas[i - 1]
        # chdtrc is what stats.chi2.sf computes
        for col, v in zip(new, (dchi, ddf, chdtrc(ddf, dchi) if ddf > 0 else np.nan, dcfi, drm)):
            new[col][i] = v
        change = f"change in {'scaled ' if ordinal else ''}CFI {dcfi:+.3f}, in RMSEA {drm:+.3f}"
        if failed is not None and failed.endswith("(the fit did not converge)"):
            verdicts.append(f"{level}: not judged, because the {failed.split(' ')[0]} fit did not converge.")
            continue
        if failed is not None:
            verdicts.append(f"{level}: not judged, because {failed} invariance did not hold; constraints added on "
                            f"top of a failed level compare two wrong models ({change}). Release the items "
                            "responsible with partial() and test again.")
            continue
        holds = dcfi >= -th.DELTA_CFI_MAX and drm <= th.DELTA_RMSEA_MAX
        if not holds:
            failed = base
        verdicts.append(f"{level} invariance {'holds' if holds else 'does not hold'} ({change}): "
                        + (MEANING.get(base, "") if holds else "look for the items responsible with partial() or DIF."))
    for col, v in new.items():
        table[col] = v
    table["verdict"] = verdicts
    return table


@dataclass
class InvarianceResult(Result):
    """Result of :func:`invariance`.

    table: one row per level. Continuous items (ML): chisq, df, cfi, tli, rmsea, srmr, bic, converged
        (False: the optimiser found no optimum, the numbers are left blank and the level is "not judged:
        the fit did not converge"; the levels' chi-squares never decrease as constraints are added,
        see :func:`_nest`). Ordered
        items (WLSMV): chisq, df, chisq_scaled, df_scaled, pvalue_scaled, cfi_scaled, tli_scaled,
        rmsea_scaled, srmr (lavaan's names with "." as "_"). Then the differences from the previous
        level: delta_chisq and delta_df (ML: the likelihood-ratio difference; WLSMV: lavaan's
        ``lavTestLRT`` scaled-and-shifted difference statistic), p_val of that test, delta_cfi and
        delta_rmsea (scaled for WLSMV), and a plain-language verdict (a level after a failed level is
        "not judged", see the module docstring).
    estimator: "ML" or "WLSMV".
    sample: how many rows were used and why others were dropped.
    """

    table: pd.DataFrame
    data: pd.DataFrame | None = field(repr=False, default=None)
    model: str = ""
    group: str = ""
    fits: dict = field(default_factory=dict, repr=False)
    warnings: list[str] = field(default_factory=list)
    estimator: str = "ML"
    sample: str = ""
    ordered: object = field(default=None, repr=False)
    _model: MeasurementModel | None = field(default=None, repr=False, compare=False)
    _sample: object = field(default=None, repr=False, compare=False)   # sem.sample.MLSample or OrdinalSample
    _title = "Measurement invariance"
    _main = "table"

    @property
    def _levels(self) -> dict:
        return ORDINAL_LEVELS if self.estimator == "WLSMV" else LEVELS

    def _fit_level(self, level, release):
        if self.estimator == "WLSMV":
            from measurekit.stats.sem.wlsmv import fit_ordinal

            return fit_ordinal(self._sample, level, "std.lv", "delta", release)
        from measurekit.stats.sem.ml import fit_ml

        warm = self.fits.get(level)
        return fit_ml(self._sample, LEVELS[level], release, warm._solution if warm is not None else None)

    def _row(self, level_name, fit) -> dict:
        if self.estimator != "WLSMV":
            return _ml_row(level_name, fit)
        f = fit.fit.iloc[0]
        return {"level": level_name, **{k: f[k] for k in ORDINAL_COLUMNS}}

    def _diff(self, less, more):
        from measurekit.stats._numerics.wlsmv import scaled_difference

        moms = self._sample.moments
        assert less._solution is not None and more._solution is not None
        return scaled_difference(less._solution.spec, less._solution.fitted, more._solution.spec,
                                 more._solution.fitted, [m.gamma for m in moms],
                                 np.array([m.n for m in moms], dtype=float))

    @single_thread
    def partial(self, release=None, level: str = "scalar") -> pd.DataFrame:
        """Free named constraints at ``level`` to test partial invariance.

        ``release``: list of (kind, item) with kind "intercepts", "loadings" or "residuals" (ML), or
        "thresholds", "loadings", "intercepts" (ordered items), or just item names (the constraint the
        level adds: intercepts at scalar, loadings at metric; for ordered items thresholds at
        "thresholds", loadings at "loadings", intercepts at "intercepts"). Without ``release``, each
        item is released in turn: the table shows, per item, how much fit improves, so the
        non-invariant items stand out (largest chi-square drop; for ordered items the drop in the
        unscaled statistic, with the p-value of the scaled difference test).
        """
        levels = list(self._levels)
        if self.estimator == "WLSMV" and level == "scalar":
            level = "intercepts"
        if level not in levels[1:]:
            raise InputError(ProblemReport([Problem("bad_option", f"level must be one of {levels[1:]}, not {level!r}.",
                                                    value=level)]))
        kind = RELEASE_KIND[level]
        if level not in self.fits:
            self.fits[level] = self._fit_level(level, ())
        base_fit = self.fits[level]
        prev_level = levels[levels.index(level) - 1]
        if prev_level not in self.fits:
            self.fits[prev_level] = self._fit_level(prev_level, ())
        prev_fit = self.fits[prev_level]
        ordinal = self.estimator == "WLSMV"
        cfi = "cfi_scaled" if ordinal else "cfi"
        if release is not None:
            rel = [(r if isinstance(r, tuple) else (kind, r)) for r in release]
            fit = self._fit_level(level, rel)
            rows = [self._row(prev_level, prev_fit),
                    self._row(f"{level} (partial: {', '.join(i for _, i in rel)})", fit)]
            return _compare(rows, ordinal, [self._diff(prev_fit, fit)] if ordinal else None)
        from measurekit.stats._numerics.distributions import chi2_sf

        base, prev = base_fit.fit.iloc[0], prev_fit.fit.iloc[0]
        rows = []
        assert self._model is not None
        for item in self._model.observed:
            fit = self._fit_level(level, [(kind, item)])
            f = fit.fit.iloc[0]
            if ordinal:
                stat, ddf = self._diff(fit, base_fit)
                p = chi2_sf(stat, ddf) if ddf > 0 else np.nan
            else:
                p = chi2_sf(base["chisq"] - f["chisq"], base["df"] - f["df"])
            rows.append({"item": item, "released": kind, "chisq": f["chisq"], "df": f["df"],
                         "chisq_drop": base["chisq"] - f["chisq"], cfi: f[cfi],
                         "delta_cfi_vs_previous": f[cfi] - prev[cfi], "p_val": p})
        return pd.DataFrame(rows).sort_values("chisq_drop", ascending=False).reset_index(drop=True)


def _ml_row(level_name: str, fit) -> dict:
    """A row of the ML table; a fit that did not converge shows no numbers (converged False)."""
    f = fit.fit.iloc[0]
    row = {"level": level_name, **{k: f[k] for k in ML_COLUMNS}, "converged": bool(fit.converged)}
    if not fit.converged:
        row.update({k: np.nan for k in ML_COLUMNS if k != "df"})
    return row


def _nest(sample, levels, fits) -> None:
    """Make the ML levels' fits consistent with their nesting. A level whose constraints include another's
    is a special case of it, so its chi-square cannot be lower at the optimum; when it is (or the less
    constrained fit did not converge), the less constrained model is fitted again starting from the more
    constrained solution (a point of the less constrained model with the same fit, see
    :func:`measurekit.stats.sem.spec.warm_start`), and that fit replaces the first when it is better.
    Walks from the most constrained level down, so the whole sequence ends non-decreasing."""
    from itertools import pairwise

    from measurekit.stats.sem.ml import fit_ml

    for less, more in reversed(list(pairwise(levels))):
        a, b = fits[less], fits[more]
        if not set(LEVELS[less]) <= set(LEVELS[more]) or not b.converged:
            continue
        ca, cb = a.fit["chisq"].iloc[0], b.fit["chisq"].iloc[0]
        if a.converged and ca <= cb + 1e-6 * max(1.0, abs(cb)):
            continue
        refit = fit_ml(sample, LEVELS[less], (), [b._solution, a._solution])
        cr = refit.fit["chisq"].iloc[0]
        if refit.converged and (not a.converged or cr < ca):
            fits[less] = refit


def _check_groups(df: pd.DataFrame, group: str, items: list[str]) -> None:
    if group not in df.columns:
        raise InputError(ProblemReport([Problem("unknown_variable", f"The group {group!r} is not a column of the data.",
                                                column=group)]))
    present = [x for x in items if x in df.columns]
    complete = df[present + [group]].notna().to_numpy().all(axis=1)      # the rows dropna() would keep
    groups = pd.unique(df[group].to_numpy()[complete])
    if len(groups) < 2:
        only = ", ".join(str(g.item() if isinstance(g, np.generic) else g) for g in groups) or "none"
        raise InputError(ProblemReport([Problem(
            "one_group", f"Invariance compares groups, but {group} has {len(groups)} group with complete answers "
            f"({only}). Choose a grouping with at least two groups.", column=group)]))


@single_thread
def invariance(data: pd.DataFrame, model: str, group: str, levels=None, ordered=None,
               merge_empty: bool = True) -> InvarianceResult:
    """Fit the invariance sequence across the groups of ``group``.

    Items treated as continuous (default): ML, levels ("configural", "metric", "scalar", "strict") as
    lavaan's ``group.equal``. ``ordered=True`` (or the list of every item): WLSMV, levels
    ("configural", "thresholds", "loadings", "intercepts") following Wu and Estabrook (2016) as
    ``semTools::measEq.syntax(ID.cat = "Wu.Estabrook.2016", ID.fac = "std.lv", parameterization =
    "delta")`` writes them, compared with ``lavTestLRT``'s scaled difference test. Items need at least
    three categories. An answer that nobody in some group gave is merged with its neighbouring answer
    in every group, and a warning says so (``merge_empty=False``: an InputError instead, as lavaan).
    """
    from measurekit.stats.sem.spec import check_identified
    from measurekit.stats.sem.syntax import parse_model

    m = parse_model(model)
    check_identified(m)
    _check_groups(data, group, m.observed)
    rows, fits, warnings = [], {}, []
    if ordered is None or ordered is False:
        levels = levels or tuple(LEVELS)
        bad = [lv for lv in levels if lv not in LEVELS]
        if bad:
            raise InputError(ProblemReport([Problem("bad_option", f"levels may be {tuple(LEVELS)} for items treated as "
                                                    f"continuous, not {bad}.", value=str(bad))]))
        from measurekit.stats.sem.ml import fit_ml
        from measurekit.stats.sem.sample import ml_sample

        sample = ml_sample(data, m, group)          # complete rows, checks and moments: once for every level
        prev = None
        for level in levels:
            fit = fit_ml(sample, LEVELS[level], (), prev._solution if prev is not None else None)
            fits[level], prev = fit, fit
        _nest(sample, levels, fits)
        for level in levels:
            fit = fits[level]
            warnings += [w for w in fit.warnings if w not in warnings]
            if not fit.converged:
                warnings.append(f"The {level} model did not converge: its fit is not shown and not judged.")
            rows.append(_ml_row(level, fit))
        return InvarianceResult(_compare(rows), data, model, group, fits, warnings, "ML", fit.sample, None, m, sample)
    from measurekit.stats.sem.sample import ordinal_sample
    from measurekit.stats.sem.wlsmv import fit_ordinal

    levels = levels or tuple(ORDINAL_LEVELS)
    bad = [lv for lv in levels if lv not in ORDINAL_LEVELS]
    if bad:
        raise InputError(ProblemReport([Problem("bad_option", f"levels may be {tuple(ORDINAL_LEVELS)} for ordered "
                                                f"items, not {bad}.", value=str(bad))]))
    osample = ordinal_sample(data, m, group, ordered, merge_empty)
    binary = [x for x, k in zip(m.observed, osample.ncat) if k < 3]
    if binary:
        raise InputError(ProblemReport([Problem(
            "bad_option", f"{', '.join(binary)} have only two categories; Wu and Estabrook's threshold step needs "
            "at least three (for binary items threshold invariance cannot be tested). Leave them out.",
            value=", ".join(binary))]))
    diffs = []
    for level in levels:
        fit = fit_ordinal(osample, level, "std.lv", "delta")
        if fits:
            prev = fits[list(fits)[-1]]
            from measurekit.stats._numerics.wlsmv import scaled_difference

            moms = osample.moments
            assert prev._solution is not None and fit._solution is not None
            diffs.append(scaled_difference(prev._solution.spec, prev._solution.fitted, fit._solution.spec,
                                           fit._solution.fitted, [mo.gamma for mo in moms],
                                           np.array([mo.n for mo in moms], dtype=float)))
        fits[level] = fit
        warnings += [w for w in fit.warnings if w not in warnings]
        f = fit.fit.iloc[0]
        rows.append({"level": level, **{k: f[k] for k in ORDINAL_COLUMNS}})
    return InvarianceResult(_compare(rows, True, diffs), data, model, group, fits, warnings, "WLSMV", osample.note,
                            ordered, m, osample)
