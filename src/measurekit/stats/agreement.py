"""Agreement between two raters of the same person: the parent and the practitioner (``agreement``), or any two
perspectives on the same topic (``pair_agreement``, the per-topic kernel of ``stats.perspectives``).

For each item and each domain score: intraclass correlations (ICC(2,1) absolute agreement
and ICC(3,1) consistency, Shrout and Fleiss 1979, as ``psych::ICC``), quadratic-weighted kappa
(items), and the Bland-Altman mean difference with 95% limits of agreement. Where parents and
practitioners disagree, that is information, not error: it shows what each sees of the child.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.problems import InputError
from measurekit.stats.retest import icc_table, weighted_kappa


def cohen_kappa(a, b, categories, *, weights: str = "quadratic", alpha: float = 0.05) -> dict:
    """Weighted kappa of two ratings over the ordered ``categories``: ``estimate`` (psych::cohen.kappa
    ``weighted.kappa`` with ``w = 1 - (|i - j| / (m - 1)) ** p``, p = 1 linear, 2 quadratic; levels = categories),
    ``se`` (Fleiss, Cohen and Everitt 1969), ``ci_low`` / ``ci_high`` (level 1 - alpha), ``n``."""
    from measurekit.stats._numerics.kappa import contingency, weighted_kappa_table

    return weighted_kappa_table(contingency(a, b, categories), weights, 1 - alpha)


def bland_altman(a, b, *, alpha: float = 0.05) -> dict:
    """Mean difference (a minus b) with its t interval and the 95% limits of agreement with their intervals.

    ``mean_diff``, ``sd_diff``, ``mean_diff_ci_low`` / ``mean_diff_ci_high`` (mean ± t(n-1) sd / sqrt(n)),
    ``loa_low`` / ``loa_high`` (mean ± 1.96 sd, Bland and Altman 1986), and the confidence limits of each limit
    (Bland and Altman 1999, section 3: standard error ``sd * sqrt(1/n + 1.96**2 / (2 (n - 1)))``, ± t(n-1)):
    ``loa_low_ci_low``, ``loa_low_ci_high``, ``loa_high_ci_low``, ``loa_high_ci_high``. Level 1 - alpha for the
    intervals; the limits themselves are always the 95% limits.
    """
    from scipy import stats

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = len(d)
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    t = float(stats.t.ppf(1 - alpha / 2, n - 1))
    se_mean, se_loa = sd / np.sqrt(n), sd * np.sqrt(1 / n + 1.96 ** 2 / (2 * (n - 1)))
    low, high = mean - 1.96 * sd, mean + 1.96 * sd
    return {"mean_diff": mean, "sd_diff": sd, "mean_diff_ci_low": mean - t * se_mean,
            "mean_diff_ci_high": mean + t * se_mean, "loa_low": low, "loa_high": high,
            "loa_low_ci_low": low - t * se_loa, "loa_low_ci_high": low + t * se_loa,
            "loa_high_ci_low": high - t * se_loa, "loa_high_ci_high": high + t * se_loa}


def share_within(a, b, k: float = 2, *, alpha: float = 0.05) -> dict:
    """Pairs whose ratings differ by at most ``k`` points: ``n_within``, ``share_within`` and its Wilson interval
    ``share_within_ci_low`` / ``share_within_ci_high`` (``prop.test(correct = FALSE)``)."""
    from measurekit.stats.intervals import wilson

    d = np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
    hit, n = int((d <= k + 1e-9).sum()), len(d)
    low, high = wilson(hit, n, 1 - alpha)
    return {"n_within": hit, "share_within": hit / n if n else np.nan,
            "share_within_ci_low": float(low), "share_within_ci_high": float(high)}


def pair_agreement(a, b, *, categories=None, k: float = 2, alpha: float = 0.05) -> tuple[dict, pd.DataFrame]:
    """Every agreement statistic of two ratings of the same cases (rows where either is missing dropped).

    Returns ``(row, icc)``: ``row`` holds ``n``, ``mean_first``, ``mean_second``, the six ICCs with their
    intervals (``icc1``, ``icc1_ci_low``, ``icc1_ci_high`` ... ``icc3k``: psych::ICC rows ICC1 ... ICC3k), the
    linear and quadratic weighted kappas with their intervals when ``categories`` are given (``kappa_linear``,
    ``kappa_linear_se``, ``kappa_linear_ci_low`` ...; ``kappa_quadratic`` ...), :func:`bland_altman` and
    :func:`share_within`; ``icc`` is :func:`stats.retest.icc_table` (all six rows with F, df1, df2, p).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok], b[ok]
    tab = icc_table(np.column_stack([a, b]), alpha)
    row: dict = {"n": len(a), "mean_first": float(a.mean()), "mean_second": float(b.mean())}
    for r in tab.itertuples():
        name = str(r.type).lower()
        row |= {name: r.estimate, f"{name}_ci_low": r.ci_low, f"{name}_ci_high": r.ci_high}
    for w in ("linear", "quadratic"):
        kap = (cohen_kappa(a, b, categories, weights=w, alpha=alpha) if categories is not None
               else {"estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan})
        row |= {f"kappa_{w}": kap["estimate"], f"kappa_{w}_se": kap["se"], f"kappa_{w}_ci_low": kap["ci_low"],
                f"kappa_{w}_ci_high": kap["ci_high"]}
    row |= bland_altman(a, b, alpha=alpha) | share_within(a, b, k, alpha=alpha)
    return row, tab


def icc(a: np.ndarray, b: np.ndarray) -> dict:
    """ICC(1,1), ICC(2,1) and ICC(3,1) for two raters (psych::ICC), read from ``stats.retest.icc_table``."""

    est = icc_table(np.column_stack([a, b])).set_index("type")["estimate"]
    return {"icc1": float(est["ICC1"]), "icc2": float(est["ICC2"]), "icc3": float(est["ICC3"])}


@dataclass
class AgreementResult(Result):
    """Result of :func:`agreement`: one row per item and per domain score.

    level ("item" or "scale"), name, n (children rated by both), mean_parent, mean_practitioner,
    icc2 (absolute agreement), icc3 (consistency), kappa_w (quadratic-weighted, items only),
    mean_diff (parent minus practitioner), loa_low / loa_high (95% limits of agreement:
    mean_diff ± 1.96 SD of the differences).
    """

    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    _title = "Parent-practitioner agreement"


def _problem(code: str, message: str, **where) -> InputError:
    from measurekit.problems import Problem, ProblemReport

    return InputError(ProblemReport([Problem(code, message, **where)], title="agreement"))


def agreement(parent: pd.DataFrame, practitioner: pd.DataFrame, *, framework=None, on: str = "child_id",
              items=None) -> AgreementResult:
    """Agreement between parent and practitioner ratings of the same children.

    One of the two-data exceptions to the signature rule (docs/architecture.md): ``parent`` and
    ``practitioner`` are the two frames, first and second. Both hold one row per child (joined on ``on``)
    and the shared item columns (raw codes;
    the don't-know code is treated as missing). ``framework`` is a ``Framework``, a framework folder or the
    shorthand mapping of ``mk.score`` (``{"domain": ["q1", "q2"]}``, or with ``min``/``max``/``codes``/
    ``reverse``/``dont_know``; without codes, the codes seen in either frame are the scale): items are
    reverse keyed and domain scores compared too, and ``items`` (if given) keeps only those items. Without
    a framework, ``items`` names the columns to compare, item by item (codes as seen in the data; no domain
    scores); with neither, the bundled framework's practitioner items are compared.
    """
    from measurekit.stats._numerics.item_data import item_names_of, named_frame, names
    from measurekit.stats.scoring import as_framework, item_values, score

    on, items = str(on), names(items)
    used = [on, *(items or []), *(item_names_of(framework) if isinstance(framework, dict) else [])]
    parent = named_frame(parent, "The parent data", used=used)
    practitioner = named_frame(practitioner, "The practitioner data", used=used)
    for name, frame in (("parent", parent), ("practitioner", practitioner)):
        if on not in frame.columns:
            raise _problem("missing_column", f"The {name} data have no {on!r} column to join on.", column=on)
    for name, frame in (("parent", parent), ("practitioner", practitioner)):
        missing = [i for i in items or () if i not in frame.columns]
        if missing:
            raise _problem("unknown_item", f"items names {', '.join(map(repr, missing))}, not a column of the {name} "
                           "data.", column=", ".join(map(str, missing)))
    by_columns = framework is None and items is not None
    if framework is None and items is None:
        from measurekit.core import paths

        framework = paths.BUNDLED_FRAMEWORK
    both = pd.concat([f.loc[:, ~f.columns.duplicated()] for f in (parent, practitioner)],
                     ignore_index=True)                                 # codes seen, for a mapping without codes
    fw = as_framework({"items": items} if by_columns else framework, both)
    shared = [i.id for i in fw.items
              if "practitioner" in i.respondents and i.id in parent and i.id in practitioner]
    if items is not None:
        shared = [i for i in items if i in shared]
    if not shared:
        raise _problem("no_items", "The parent and practitioner data share no item columns to compare.")
    merged = parent[[on, *shared]].merge(practitioner[[on, *shared]], on=on, suffixes=("_p", "_r"))
    if merged[on].duplicated().any():
        dup = merged.loc[merged[on].duplicated(), on].iloc[0]
        raise _problem("duplicate_id", f"Child {dup!r} appears more than once in the parent or practitioner data; "
                       "keep one rating each.", column=on, value=str(dup))
    vp = item_values(merged.rename(columns={f"{i}_p": i for i in shared}), framework=fw, respondent=None)[shared]
    vr = item_values(merged.rename(columns={f"{i}_r": i for i in shared}), framework=fw, respondent=None)[shared]
    rows, warnings = [], []

    def describe(level, name, a, b, categories=None):
        ok = a.notna() & b.notna()
        a, b = a[ok].to_numpy(), b[ok].to_numpy()
        n = len(a)
        if n < 10:
            warnings.append(f"{name}: only {n} children rated by both; agreement not estimated.")
            return {"level": level, "name": name, "n": n}
        d = a - b
        out = {"level": level, "name": name, "n": n, "mean_parent": a.mean(), "mean_practitioner": b.mean(),
               **{k: v for k, v in icc(a, b).items() if k != "icc1"},
               "kappa_w": weighted_kappa(a, b, categories) if categories is not None else np.nan,
               "mean_diff": d.mean(), "loa_low": d.mean() - 1.96 * d.std(ddof=1),
               "loa_high": d.mean() + 1.96 * d.std(ddof=1)}
        return out

    for it in shared:
        rows.append(describe("item", it, vp[it], vr[it], fw.scale(fw.item(it).scale).codes))
    if not by_columns:
        sp = score(merged.rename(columns={f"{i}_p": i for i in shared}), framework=fw, respondent="practitioner")
        sr = score(merged.rename(columns={f"{i}_r": i for i in shared}), framework=fw, respondent="practitioner")
        for col in [c for c in sp.columns if c.startswith("voice_")]:
            rows.append(describe("scale", col, sp[col], sr[col]))
    return AgreementResult(pd.DataFrame(rows), warnings)
