"""Test-retest reliability and measurement error: the same people answering twice.

For each item and each scale score: the intraclass correlations ICC(2,1) (two-way random effects,
absolute agreement: a systematic shift between occasions counts as error) and ICC(3,1) (two-way
mixed, consistency), with the F-based confidence intervals of Shrout and Fleiss (1979) and McGraw
and Wong (1996) exactly as ``psych::ICC(x, lmer = FALSE)`` reports them; the standard error of
measurement ``SEM = SD * sqrt(1 - ICC(2,1))``; the smallest detectable change
``SDC = 1.96 * sqrt(2) * SEM`` (de Vet et al. 2006); and, for items, the quadratic-weighted kappa
(``weighted_kappa`` below). COSMIN's criterion for sufficient reliability is
ICC >= 0.70 (Prinsen et al. 2018).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.problems import InputError, Problem, ProblemReport
from measurekit.stats._numerics.item_data import numeric_items
from measurekit.stats._numerics.kappa import contingency, weighted_kappa_table

ICC_TYPES = ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]


def weighted_kappa(a: np.ndarray, b: np.ndarray, categories, weights: str = "quadratic") -> float:
    """Cohen's kappa with quadratic (default) or linear weights (as sklearn's cohen_kappa_score(weights=...) and
    psych::cohen.kappa's weighted.kappa); the kernel is ``stats._numerics.kappa``."""
    return weighted_kappa_table(contingency(a, b, categories), weights)["estimate"]


def icc_table(x, alpha: float = 0.05) -> pd.DataFrame:
    """The six intraclass correlations of an n x k matrix (rows = people, columns = occasions or raters).

    Matches ``psych::ICC(x, lmer = FALSE)$results`` row for row: ``type`` (ICC1, ICC2, ICC3, ICC1k,
    ICC2k, ICC3k), ``estimate`` (psych ``ICC``), ``F``, ``df1``, ``df2``, ``p_val`` (psych ``p``),
    ``ci_low`` / ``ci_high`` (psych ``lower bound`` / ``upper bound``, level 1 - alpha). Rows with a
    missing value are dropped first (psych stops instead).
    """
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x).any(axis=1)]
    n, k = x.shape
    if n < 2 or k < 2:
        raise InputError.of("too_few_cases", "An intraclass correlation needs at least 2 people with at least "
                            "2 ratings each.")
    with np.errstate(divide="ignore", invalid="ignore"):   # perfect agreement: MSE = 0, ICC = 1, no interval
        return _icc_table(x, n, k, alpha)


def _icc_table(x, n, k, alpha):
    from measurekit.stats._numerics.distributions import f_ppf, f_sf

    grand = x.mean()
    ss_rows = k * np.sum((x.mean(axis=1) - grand) ** 2)
    ss_cols = n * np.sum((x.mean(axis=0) - grand) ** 2)
    ss_err = np.sum((x - grand) ** 2) - ss_rows - ss_cols
    msb, msj = ss_rows / (n - 1), ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    msw = (ss_cols + ss_err) / (n * (k - 1))
    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    est = [icc1, icc2, icc3, (msb - msw) / msb, (msb - mse) / (msb + (msj - mse) / n), (msb - mse) / msb]
    f11, df11n, df11d = msb / msw, n - 1, n * (k - 1)
    f21, df21n, df21d = msb / mse, n - 1, (n - 1) * (k - 1)
    p11, p21 = f_sf(f11, df11n, df11d), f_sf(f21, df21n, df21d)
    q = 1 - alpha / 2
    f1l, f1u = f11 / f_ppf(q, df11n, df11d), f11 * f_ppf(q, df11d, df11n)
    f3l, f3u = f21 / f_ppf(q, df21n, df21d), f21 * f_ppf(q, df21d, df21n)
    # ICC(2,1): McGraw and Wong's approximate degrees of freedom (psych's v)
    fj = msj / mse
    vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k ** 2 * icc2 ** 2 * fj ** 2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    f2u, f2l = f_ppf(q, n - 1, v), f_ppf(q, v, n - 1)
    l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
    u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
    low = [(f1l - 1) / (f1l + k - 1), l2, (f3l - 1) / (f3l + k - 1),
           1 - 1 / f1l, l2 * k / (1 + l2 * (k - 1)), 1 - 1 / f3l]
    high = [(f1u - 1) / (f1u + k - 1), u2, (f3u - 1) / (f3u + k - 1),
            1 - 1 / f1u, u2 * k / (1 + u2 * (k - 1)), 1 - 1 / f3u]
    return pd.DataFrame({"type": ICC_TYPES, "estimate": est, "F": [f11, f21, f21] * 2,
                         "df1": [df11n, df21n, df21n] * 2, "df2": [df11d, df21d, df21d] * 2,
                         "p_val": [p11, p21, p21] * 2, "ci_low": low, "ci_high": high, "n": n})


def measurement_error(first, second, icc: float) -> dict:
    """SD (pooled over the two occasions), SEM = SD * sqrt(1 - icc) and SDC = 1.96 * sqrt(2) * SEM."""
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    sd = float(np.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2))
    sem = sd * np.sqrt(max(1.0 - icc, 0.0))
    return {"sd": sd, "sem": sem, "sdc": 1.96 * np.sqrt(2) * sem}


@dataclass
class RetestResult(Result):
    """Result of :func:`retest`.

    ``table``: one row per item and per scale score with
      level ("item" or "scale"), name, n (people answering both times), mean_first, mean_second,
      mean_diff (second minus first), sd (pooled SD of the two occasions), icc2 / icc2_ci_low /
      icc2_ci_high (ICC(2,1), psych "ICC2", absolute agreement, with its F-based interval), icc3 /
      icc3_ci_low / icc3_ci_high (ICC(3,1), psych "ICC3", consistency), sem (SD x sqrt(1 - ICC(2,1))),
      sdc (smallest detectable change, 1.96 x sqrt(2) x SEM, in the units of the item or score) and
      kappa_w (quadratic-weighted kappa, items only; = sklearn cohen_kappa_score(weights="quadratic")).
    ``icc``: every row of psych::ICC for each item and score (name plus :func:`icc_table`'s columns).
    """

    table: pd.DataFrame
    icc: pd.DataFrame
    n_pairs: int = 0
    alpha: float = 0.05
    warnings: list[str] = field(default_factory=list)
    _title = "Test-retest reliability and measurement error"


def _frameworks(first, second, items, framework):
    """The framework that scores the coded items (reverse keys, don't-know codes), the item list and the
    plain score columns (without a framework: columns whose values are not whole numbers, analysed as
    they are, with no kappa and no scale score)."""
    from measurekit.design.models import Framework
    from measurekit.stats._numerics.item_data import names
    from measurekit.stats.scoring import as_framework

    if framework is None and isinstance(items, Mapping):
        fw = as_framework(items, pd.concat([first, second], ignore_index=True))
        return fw, [i.id for i in fw.items], []
    if framework is None:
        if items is None:
            raise InputError(ProblemReport([_no_items()]))
        items = names(items)
        if not all(i in first and i in second for i in items):
            return None, items, []                      # unknown items are reported by the caller
        both = pd.concat([first[items], second[items]], ignore_index=True)
        values = numeric_items(both, items, min_items=1, what="Test-retest")   # non-numeric codes: InputError
        scores = [i for i in items if not np.all(np.mod(values[i].dropna().to_numpy(), 1) == 0)]
        coded = [i for i in items if i not in scores]
        return (as_framework({"total": coded}, both) if coded else None), items, scores
    fw = as_framework(framework)
    if items is None:
        items = [i.id for i in fw.items if i.id in first.columns and i.id in second.columns]
    items = names(items)
    keep = [i for i in fw.items if i.id in items]
    domains = [d for d in fw.domains if any(i.domain == d.id for i in keep)]
    sub = Framework(scales=fw.scales, domains=domains, items=keep, languages=fw.languages)
    return sub, items, []


def _no_items():
    return Problem("no_items", "Name the items to compare (items=[...]) or give a framework.")


def retest(first: pd.DataFrame, second: pd.DataFrame, *, items=None, id: str = "child_id", framework=None,
           alpha: float = 0.05) -> RetestResult:
    """Test-retest reliability of items and scale scores from two administrations to the same people.

    Parameters
    ----------
    first, second : one row per person (joined on ``id``), one column per item (raw codes). Not modified.
        (A two-data exception to the signature rule of docs/architecture.md.)
    items : the item columns; a list (scored together as one scale called ``total``) or a mapping
        scale -> items (as :func:`measurekit.score`). Without a framework, a listed column whose values
        are not whole numbers is a plain score: it gets a row of level "scale" under its own name (ICC,
        SEM, SDC; no kappa) and is not part of ``total``. Default with a framework: every framework item in
        both frames, scored by the framework's domains.
    id : the column that identifies a person in both frames.
    framework : ``Framework`` or folder: reverse keys, the don't-know code (treated as not answered) and
        the scale codes (the kappa categories) come from it.
    alpha : 1 - confidence level of the ICC intervals.

    Returns :class:`RetestResult`; its numbers agree with ``psych::ICC(cbind(first, second), lmer = FALSE)``
    (checked to 1e-6 against stored R output).
    """
    from measurekit.stats._numerics.item_data import item_names_of, named_frame
    from measurekit.stats.scoring import item_values, score

    id = str(id)
    used = [id, *item_names_of(items)]
    first = named_frame(first, "The first data", used=used)
    second = named_frame(second, "The second data", used=used)
    report = ProblemReport(title="Test-retest data")
    for name, frame in (("first", first), ("second", second)):
        if id not in frame.columns:
            report.add("missing_column", f"The {name} data have no {id!r} column to join on.", column=id)
        elif frame[id].duplicated().any():
            dup = frame.loc[frame[id].duplicated(), id].iloc[0]
            report.add("duplicate_id", f"{dup} appears more than once in the {name} data; keep one answer each.",
                       column=id, value=dup, row=int(np.flatnonzero(frame[id].duplicated().to_numpy())[0]) + 2)
    report.raise_if_errors()
    fw, items, scores = _frameworks(first, second, items, framework)
    for name, frame in (("first", first), ("second", second)):
        for it in items:
            if it not in frame.columns:
                report.add("unknown_item", f"Item {it} is not a column of the {name} data.", column=it)
    if not items:
        report.problems.append(_no_items())
    report.raise_if_errors()
    merged = first[[id, *items]].merge(second[[id, *items]], on=id, suffixes=("_1", "_2"))
    if len(merged) < 2:
        raise InputError(ProblemReport([Problem("too_few_cases", f"Only {len(merged)} people are in both the first "
                                                "and the second data.")]))
    t1 = merged.rename(columns={f"{i}_1": i for i in items})
    t2 = merged.rename(columns={f"{i}_2": i for i in items})
    coded = [i for i in items if i not in scores]
    v1 = pd.concat([item_values(t1, framework=fw, respondent=None)[coded] if fw is not None
                    else pd.DataFrame(index=t1.index), numeric_items(t1, scores, min_items=0)], axis=1)
    v2 = pd.concat([item_values(t2, framework=fw, respondent=None)[coded] if fw is not None
                    else pd.DataFrame(index=t2.index), numeric_items(t2, scores, min_items=0)], axis=1)
    rows, iccs, warnings = [], [], []

    def describe(level, name, a, b, categories=None):
        ok = a.notna() & b.notna()
        a, b = a[ok].to_numpy(float), b[ok].to_numpy(float)
        if len(a) < 10:
            warnings.append(f"{name}: only {len(a)} people answered both times; not estimated.")
            return {"level": level, "name": name, "n": len(a)}
        tab = icc_table(np.column_stack([a, b]), alpha).set_index("type")
        iccs.append(tab.reset_index().assign(name=name))
        i2, i3 = tab.loc["ICC2"], tab.loc["ICC3"]
        me = measurement_error(a, b, i2["estimate"])
        return {"level": level, "name": name, "n": len(a), "mean_first": a.mean(), "mean_second": b.mean(),
                "mean_diff": (b - a).mean(), "sd": me["sd"],
                "icc2": i2["estimate"], "icc2_ci_low": i2["ci_low"], "icc2_ci_high": i2["ci_high"],
                "icc3": i3["estimate"], "icc3_ci_low": i3["ci_low"], "icc3_ci_high": i3["ci_high"],
                "sem": me["sem"], "sdc": me["sdc"],
                "kappa_w": weighted_kappa(a, b, categories) if categories is not None else np.nan}

    for it in coded:
        rows.append(describe("item", it, v1[it], v2[it], fw.scale(fw.item(it).scale).codes))
    for it in scores:          # a plain score (not whole-number codes): no kappa, not part of a scale score
        rows.append(describe("scale", it, v1[it], v2[it]))
    if fw is not None:
        s1, s2 = score(t1, framework=fw, respondent=None), score(t2, framework=fw, respondent=None)
        for col in [c for c in s1.columns if c.startswith("voice_")]:
            rows.append(describe("scale", col, s1[col], s2[col]))
    icc = pd.concat(iccs, ignore_index=True) if iccs else pd.DataFrame()
    if len(icc):
        icc = icc[["name", *[c for c in icc.columns if c != "name"]]]
    return RetestResult(table=pd.DataFrame(rows), icc=icc, n_pairs=len(merged), alpha=alpha, warnings=warnings)
