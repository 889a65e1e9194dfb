"""Measurement invariance across groups: configural, metric, scalar and strict models compared.

Each level adds equality constraints across groups: metric (equal loadings: the items relate to
the domain the same way), scalar (+ equal intercepts: the same score means the same level, so
group means can be compared), strict (+ equal residual variances). A level "holds" when fit does
not get meaningfully worse than the previous level: change in CFI of at most .01 and change in
RMSEA of at most .015 (Chen 2007; Cheung and Rensvold 2002); the chi-square difference test is
reported too but is very sensitive in large samples.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from measurekit.core.result import Result
from measurekit.stats.cfa import cfa

LEVELS = {"configural": (), "metric": ("loadings",), "scalar": ("loadings", "intercepts"),
          "strict": ("loadings", "intercepts", "residuals")}
MEANING = {"configural": "the same items go with the same domains in every group",
           "metric": "items relate to their domain equally strongly in every group",
           "scalar": "the same answers mean the same level in every group, so group means can be compared",
           "strict": "items are equally precise in every group"}


def _compare(rows: list[dict], fits: list) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    for col in ("delta_chisq", "delta_df", "p_val", "delta_cfi", "delta_rmsea"):
        table[col] = np.nan
    verdicts = []
    for i in range(len(table)):
        if i == 0:
            ok = table.at[0, "cfi"] >= 0.90
            verdicts.append(f"{table.at[0, 'level']}: {'acceptable' if ok else 'poor'} baseline fit "
                            f"(CFI {table.at[0, 'cfi']:.3f}, RMSEA {table.at[0, 'rmsea']:.3f}); checks whether "
                            f"{MEANING.get(table.at[0, 'level'], 'the model holds')}.")
            continue
        dchi = table.at[i, "chisq"] - table.at[i - 1, "chisq"]
        ddf = table.at[i, "df"] - table.at[i - 1, "df"]
        dcfi = table.at[i, "cfi"] - table.at[i - 1, "cfi"]
        drm = table.at[i, "rmsea"] - table.at[i - 1, "rmsea"]
        table.loc[i, ["delta_chisq", "delta_df", "p_val", "delta_cfi", "delta_rmsea"]] = [
            dchi, ddf, stats.chi2.sf(dchi, ddf) if ddf > 0 else np.nan, dcfi, drm]
        holds = dcfi >= -0.01 and drm <= 0.015
        verdicts.append(f"{table.at[i, 'level']} invariance {'holds' if holds else 'does not hold'} "
                        f"(change in CFI {dcfi:+.3f}, in RMSEA {drm:+.3f}): "
                        + (MEANING.get(str(table.at[i, 'level']).split(' ')[0], "") if holds else
                           "look for the items responsible with partial() or DIF."))
    table["verdict"] = verdicts
    return table


@dataclass
class InvarianceResult(Result):
    """Result of :func:`invariance`.

    table: one row per level: chisq, df, cfi, tli, rmsea, srmr, bic, then differences from the
        previous level (delta_chisq, delta_df, p_val of the chi-square difference test, delta_cfi,
        delta_rmsea) and a plain-language verdict.
    """

    table: pd.DataFrame
    data: pd.DataFrame = field(repr=False, default=None)
    model: str = ""
    group: str = ""
    fits: dict = field(default_factory=dict, repr=False)
    warnings: list[str] = field(default_factory=list)
    _title = "Measurement invariance"
    _main = "table"

    def partial(self, release=None, level: str = "scalar") -> pd.DataFrame:
        """Free named constraints at ``level`` to test partial invariance.

        ``release``: list of (kind, item) with kind "intercepts", "loadings" or "residuals", or just
        item names (their intercepts at the scalar level, loadings at metric). Without ``release``,
        each item is released in turn: the table shows, per item, how much fit improves, so the
        non-invariant items stand out (largest chi-square drop).
        """
        kind = {"metric": "loadings", "scalar": "intercepts", "strict": "residuals"}[level]
        base = self.fits[level].fit.iloc[0]
        prev_level = list(LEVELS)[list(LEVELS).index(level) - 1]
        prev = self.fits[prev_level].fit.iloc[0]
        if release is not None:
            rel = [(r if isinstance(r, tuple) else (kind, r)) for r in release]
            f = cfa(self.data, self.model, self.group, equal=LEVELS[level], release=rel).fit.iloc[0]
            rows = [{"level": f"{level} (partial: {', '.join(i for _, i in rel)})",
                     **{k: f[k] for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "bic")}}]
            return _compare([{"level": prev_level, **{k: prev[k] for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "bic")}}] + rows, [])
        from measurekit.stats.model_syntax import parse_model

        rows = []
        for item in parse_model(self.model).observed:
            f = cfa(self.data, self.model, self.group, equal=LEVELS[level], release=[(kind, item)]).fit.iloc[0]
            rows.append({"item": item, "released": kind, "chisq": f["chisq"], "df": f["df"],
                         "chisq_drop": base["chisq"] - f["chisq"], "cfi": f["cfi"], "delta_cfi_vs_previous": f["cfi"] - prev["cfi"],
                         "p_val": stats.chi2.sf(base["chisq"] - f["chisq"], base["df"] - f["df"])})
        return pd.DataFrame(rows).sort_values("chisq_drop", ascending=False).reset_index(drop=True)


def invariance(df: pd.DataFrame, model: str, group: str, levels=("configural", "metric", "scalar", "strict")) -> InvarianceResult:
    """Fit the invariance sequence across the groups of ``group`` (lavaan's group.equal), ML, items continuous."""
    rows, fits, warnings = [], {}, []
    for level in levels:
        fit = cfa(df, model, group=group, equal=LEVELS[level])
        fits[level] = fit
        for w in fit.warnings:
            if w not in warnings:
                warnings.append(w)
        f = fit.fit.iloc[0]
        rows.append({"level": level, **{k: f[k] for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "bic")}})
    return InvarianceResult(_compare(rows, []), df, model, group, fits, warnings)
