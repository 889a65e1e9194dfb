"""Whose voices were heard: response coverage, representativeness, and weights.

``coverage`` compares who responded with the whole cohort, group by group, and summarises
representativeness with the R-indicator (Schouten, Cobben and Bethlehem 2009): 1 minus twice
the standard deviation of estimated response propensities (1 = everyone equally likely to
respond). ``response_weights`` rakes respondents to the cohort's margins so estimates speak
for the whole cohort; ``weighted_estimates`` gives neighbourhood means with design-effect-
adjusted intervals. Weighting only corrects for the characteristics used in it: families who
differ from others *within* those groups remain unheard.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from measurekit.core import thresholds as th
from measurekit.core.result import Result
from measurekit.problems import InputError, ProblemReport
from measurekit.stats._numerics.design_matrix import check_columns, design_matrix
from measurekit.stats._numerics.item_data import (
    bad_option,
    named_frame,
    names,
    numeric_items,
)


def required_role(value, parameter: str, what: str):
    """``value`` unless it is None or empty; else ``InputError`` (``role_required``) naming ``parameter``: the
    columns of an analysis come from the caller or the framework's ``analysis:`` roles, never from a default."""
    if value is None or (not isinstance(value, str) and len(names(value) or []) == 0):
        raise InputError.of("role_required", f"Say {what}: pass {parameter}= (the pipeline passes the framework's "
                            "declared `analysis:` roles).", column=parameter, value="",
                            rule=f"{parameter} names column(s) of the data")
    return value


def _responded(responses, cohort: pd.DataFrame, id_col: str | None) -> pd.Series:
    """A 0/1 Series over the cohort: 1 where the person has a response."""
    if isinstance(responses, str):
        check_columns(cohort, [responses], "response flag")
        return pd.to_numeric(cohort[responses], errors="coerce").fillna(0).astype(int)
    id_col = str(required_role(id_col, "id_col", "which column identifies a person in the cohort and the responses"))
    if isinstance(responses, pd.DataFrame):
        responses = named_frame(responses, "The responses", used=[id_col])
        check_columns(responses, [id_col], "identifier")
        ids = responses[id_col]
    else:
        ids = pd.Series(responses)
    check_columns(cohort, [id_col], "identifier")
    return cohort[id_col].isin(set(ids)).astype(int)


def _checked_groups(cohort: pd.DataFrame, by, what: str) -> tuple[pd.DataFrame, list[str]]:
    """The cohort with text column names and the grouping columns, checked: present, not all blank, and
    no blank group (``missing_group``: a child without a group can be neither compared nor weighted)."""
    by = names(by) or []
    cohort = named_frame(cohort, "The cohort", used=by)
    check_columns(cohort, by, what)
    report = ProblemReport(title="Groups")
    for var in by:
        blank = cohort[var].isna().to_numpy()
        if blank.any():
            rows = np.flatnonzero(blank)
            report.add("missing_group", f"{int(blank.sum())} of {len(cohort)} children have no value of the {what} "
                       f"{var!r} (first at row {int(rows[0]) + 2}).", column=var, row=int(rows[0]) + 2,
                       rule="every child in a group")
    report.raise_if_errors()
    return cohort, by


@dataclass
class CoverageResult(Result):
    """Result of :func:`coverage`.

    table: per ``variable`` and ``group``: n_cohort, n_responded, response_rate,
        share_of_cohort, share_of_respondents, representation (share of respondents / share of
        cohort: below 1 = under-represented) and difference (rate minus overall, in points).
    summary: overall response rate, R-indicator and its interpretation, the coefficient of
        variation of the propensities, and the groups most under-represented ("who is missing").
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    propensity: pd.Series | None = field(repr=False, default=None)
    warnings: list[str] = field(default_factory=list)
    _title = "Whose voices were heard"
    _main = "table"

    @property
    def r_indicator(self) -> float:
        return float(self.summary.set_index("measure")["value"].loc["r_indicator"])

    def plot(self):
        import matplotlib.pyplot as plt

        t = self.table
        fig, ax = plt.subplots(figsize=(7, 0.28 * len(t) + 1))
        labels = [f"{r.variable}: {r.group}" for r in t.itertuples()]
        ax.barh(labels, t["representation"], color=np.where(t["representation"] < 0.9, "#e63946", "#457b9d"))
        ax.axvline(1, color="black", lw=1)
        ax.set_xlabel("share of respondents / share of cohort (1 = fair share)")
        ax.invert_yaxis()
        ax.set_title("Who is over- and under-represented")
        return fig


def coverage(data: pd.DataFrame, *, responded, by=None, id_col: str | None = None) -> CoverageResult:
    """Response coverage of the cohort ``data`` (one row per person) by the groups in ``by`` (required: the
    framework's ``analysis: coverage_by``, or columns the caller names; ``role_required`` when not given).

    ``responded`` says who responded: the survey frame (with ``id_col``, then required), a list of ids (of
    ``id_col``), or the name of a 0/1 column of ``data`` (e.g. "responded").
    """
    from measurekit.stats._numerics.logistic import add_intercept, expit, fit_logistic

    by = required_role(by, "by", "which groups to compare coverage by")
    data, by = _checked_groups(data, by, "grouping column")
    r = _responded(responded, data, id_col)
    overall = r.mean()
    rows = []
    n_resp = r.sum()
    for var in by:
        g = data[var].astype(str)
        agg = pd.DataFrame({"g": g, "r": r}).groupby("g")["r"].agg(["size", "sum"])
        for group, row in agg.iterrows():
            rate = row["sum"] / row["size"]
            share_c, share_r = row["size"] / len(data), (row["sum"] / n_resp if n_resp else np.nan)
            rows.append({"variable": var, "group": group, "n_cohort": int(row["size"]), "n_responded": int(row["sum"]),
                         "response_rate": rate, "share_of_cohort": share_c, "share_of_respondents": share_r,
                         "representation": share_r / share_c, "difference": 100 * (rate - overall)})
    table = pd.DataFrame(rows)
    X = design_matrix(data, by)[0].to_numpy()
    fit = fit_logistic(add_intercept(X), r.to_numpy(dtype=float))
    prop = pd.Series(expit(add_intercept(X) @ fit.coef), index=data.index, name="propensity")
    r_ind = 1 - 2 * prop.std(ddof=1)
    missing = table[(table["representation"] < th.REPRESENTATION_MIN)
                    & (table["n_cohort"] >= th.REPRESENTATION_MIN_GROUP)].sort_values("representation")
    who = "; ".join(f"{m.variable} = {m.group} ({m.response_rate:.0%} responded)" for m in missing.head(6).itertuples())
    summary = pd.DataFrame([
        {"measure": "cohort", "value": len(data)},
        {"measure": "responded", "value": int(n_resp)},
        {"measure": "response_rate", "value": overall},
        {"measure": "r_indicator", "value": r_ind},
        {"measure": "propensity_cv", "value": prop.std(ddof=1) / prop.mean()},
        {"measure": "who_is_missing", "value": who or "no group is under-represented by more than 15%"},
    ])
    warnings = []
    if r_ind < 0.8:
        warnings.append(f"R-indicator {r_ind:.2f}: response differs a lot between groups, so unweighted results "
                        "mostly speak for the groups who responded. Use response weights and say who is missing.")
    return CoverageResult(table, summary, prop, warnings)


@dataclass
class WeightsResult(Result):
    """Result of :func:`response_weights`.

    weights: one weight per respondent (index as the respondents' rows of the cohort), summing to
        the cohort size; trimmed to ``trim`` times the mean and re-raked.
    summary: n, sum of weights, min, max, Kish effective sample size (n_eff) and design effect.
    margins: for each variable and group, the cohort share and the weighted respondent share.
    """

    weights: pd.Series
    summary: pd.DataFrame
    margins: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    _title = "Response weights (raking)"
    _main = "weights"

    @property
    def n_eff(self) -> float:
        return float(self.summary.set_index("measure")["value"].loc["n_eff"])


def response_weights(data: pd.DataFrame, *, responded, by=None, method: str = "raking",
                     trim: float = 5.0, id_col: str | None = None, max_iter: int = 200,
                     tol: float = 1e-8) -> WeightsResult:
    """Weights for respondents so that weighted totals match the cohort on each ``by`` margin.

    Raking (iterative proportional fitting) to the one-way margins; weights above ``trim`` times
    the mean are cut back and the raking repeated, so no family counts for more than ``trim``
    average families. Groups with no respondents cannot be weighted and are reported.
    ``data`` is the cohort (one row per person); ``responded`` says who responded, as in :func:`coverage`.
    ``by`` (required: the framework's ``analysis: weighting_by`` or the caller's columns) names the margins.
    """
    from measurekit.stats.intervals import kish_effective_n

    if method != "raking":
        raise bad_option("method", "Only method='raking' is supported.", method)
    by = required_role(by, "by", "which margins to weight to")
    data, by = _checked_groups(data, by, "weighting variable")
    r = _responded(responded, data, id_col).astype(bool)
    resp = data.loc[r, by]                 # only the weighting columns: a national cohort has 70 more
    if len(resp) == 0:
        raise InputError.of("too_few_cases", "No respondents to weight.")
    warnings = []
    targets = {}
    for var in by:
        cohort_counts = data[var].astype(str).value_counts()
        resp_groups = set(resp[var].astype(str).unique())
        empty = [g for g in cohort_counts.index if g not in resp_groups]
        if empty:
            warnings.append(f"{var}: nobody responded in group(s) {', '.join(empty)}; they cannot be represented by "
                            "weighting and the other groups are raked to the remaining total.")
        targets[var] = cohort_counts[[g for g in cohort_counts.index if g in resp_groups]]
    w = np.full(len(resp), len(data) / len(resp))
    codes, target = {}, {}   # each respondent's group as an integer, and each group's cohort count
    for var in by:
        codes[var], labels = pd.factorize(resp[var].astype(str).to_numpy())
        target[var] = targets[var].reindex(labels).to_numpy(dtype=float)
    for _round in range(5):
        for _ in range(max_iter):
            biggest = 0.0
            for var in by:
                current = np.bincount(codes[var], weights=w, minlength=len(target[var]))
                factor = (target[var] / current)[codes[var]]
                w = w * factor
                biggest = max(biggest, np.max(np.abs(factor - 1)))
            if biggest < tol:
                break
        cap = trim * w.mean()
        if w.max() <= cap * (1 + 1e-9):
            break
        w = np.minimum(w, cap)
    weights = pd.Series(w, index=resp.index, name="weight")
    n_eff = kish_effective_n(w)
    summary = pd.DataFrame([{"measure": "n", "value": len(w)}, {"measure": "sum_weights", "value": w.sum()},
                            {"measure": "min", "value": w.min()}, {"measure": "max", "value": w.max()},
                            {"measure": "n_eff", "value": n_eff},
                            {"measure": "design_effect", "value": len(w) / n_eff}])
    rows = []
    for var in by:
        cs = data[var].astype(str).value_counts(normalize=True)
        ws = weights.groupby(resp[var].astype(str).to_numpy()).sum() / weights.sum()
        us = resp[var].astype(str).value_counts(normalize=True)
        for g in cs.index:
            rows.append({"variable": var, "group": g, "cohort_share": cs[g], "respondent_share": us.get(g, 0.0),
                         "weighted_share": ws.get(g, 0.0)})
    return WeightsResult(weights, summary, pd.DataFrame(rows), warnings)


def weighted_estimates(data: pd.DataFrame, value: str, weights: pd.Series | None = None, by: str | None = None,
                       level: float = 0.95) -> pd.DataFrame:
    """Mean of ``value`` by group of the column ``by`` (required, e.g. the framework's area column),
    unweighted (t interval) and weighted (design-effect-adjusted t interval).

    Columns: group, n, mean, ci_low, ci_high (unweighted); weighted_mean, weighted_ci_low,
    weighted_ci_high, n_eff (Kish effective sample size of the weights in the group).
    """
    from measurekit.stats.intervals import t_interval, weighted_mean_interval

    value, by = str(value), str(required_role(by, "by", "which column groups the estimates"))
    data = named_frame(data, "The data", used=[value, by])
    check_columns(data, [value, by], "column")
    values = numeric_items(data, [value], min_items=1, what="A weighted estimate", allow_constant=True)[value]
    rows = []
    w_all = weights.reindex(data.index) if weights is not None else None
    # keyed by the values of the `by` column (sortable scalars; the stubs say only Hashable)
    positions: dict[Any, pd.Index | np.ndarray | list[int]] = data.groupby(by, sort=True).indices
    for group, pos in sorted(positions.items(), key=lambda kv: kv[0]):
        x = values.iloc[pos]
        ok = x.notna()
        m, s, n = x[ok].mean(), x[ok].std(ddof=1), int(ok.sum())
        lo, hi = t_interval(m, s, n, level)
        row = {"group": group, "n": n, "mean": m, "ci_low": float(lo), "ci_high": float(hi)}
        if w_all is not None:
            wm, wlo, whi, neff = weighted_mean_interval(x[ok], w_all.iloc[pos][ok.to_numpy()], level)
            row.update({"weighted_mean": wm, "weighted_ci_low": wlo, "weighted_ci_high": whi, "n_eff": neff})
        rows.append(row)
    return pd.DataFrame(rows)


def linkage_weights(result, base=None, **options):
    """Response weights for a ``LinkageResult`` of ``link(responses=...)``: :func:`response_weights` (raking to the
    cohort's margins) of the people with a linked response, with ``adjusted_margins`` (the ``base`` margins,
    required, e.g. the framework's ``analysis: weighting_by``, plus
    every variable in which a group links less often beyond chance). Returns the ``WeightsResult``; its
    ``margins`` table shows each group's cohort share and weighted share. ``options`` go to
    ``response_weights`` (``trim``...)."""
    from measurekit.data.linkage_match import adjusted_margins

    base = names(required_role(base, "base", "which margins to weight to")) or []
    frame = result.linked
    margins = adjusted_margins(result.by_group, base=[b for b in base if b in frame], available=set(frame.columns))
    return response_weights(frame, responded="responded", by=margins, **options)   # its 0/1 flag: no id needed
