"""Agreement between two raters of the same child: the parent and the practitioner.

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


def agreement(parent_df: pd.DataFrame, practitioner_df: pd.DataFrame, framework=None, on: str = "child_id",
              items=None) -> AgreementResult:
    """Agreement between parent and practitioner ratings of the same children.

    Both frames hold one row per child (joined on ``on``) and the shared item columns (raw codes;
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
    parent_df = named_frame(parent_df, "The parent data", used=used)
    practitioner_df = named_frame(practitioner_df, "The practitioner data", used=used)
    for name, frame in (("parent", parent_df), ("practitioner", practitioner_df)):
        if on not in frame.columns:
            raise _problem("missing_column", f"The {name} data have no {on!r} column to join on.", column=on)
    for name, frame in (("parent", parent_df), ("practitioner", practitioner_df)):
        missing = [i for i in items or () if i not in frame.columns]
        if missing:
            raise _problem("unknown_item", f"items names {', '.join(map(repr, missing))}, not a column of the {name} "
                           "data.", column=", ".join(map(str, missing)))
    by_columns = framework is None and items is not None
    if framework is None and items is None:
        from measurekit.core import paths

        framework = paths.BUNDLED_FRAMEWORK
    both = pd.concat([f.loc[:, ~f.columns.duplicated()] for f in (parent_df, practitioner_df)],
                     ignore_index=True)                                 # codes seen, for a mapping without codes
    fw = as_framework({"items": items} if by_columns else framework, both)
    shared = [i.id for i in fw.items
              if "practitioner" in i.respondents and i.id in parent_df and i.id in practitioner_df]
    if items is not None:
        shared = [i for i in items if i in shared]
    if not shared:
        raise _problem("no_items", "The parent and practitioner data share no item columns to compare.")
    merged = parent_df[[on, *shared]].merge(practitioner_df[[on, *shared]], on=on, suffixes=("_p", "_r"))
    if merged[on].duplicated().any():
        dup = merged.loc[merged[on].duplicated(), on].iloc[0]
        raise _problem("duplicate_id", f"Child {dup!r} appears more than once in the parent or practitioner data; "
                       "keep one rating each.", column=on, value=str(dup))
    vp = item_values(merged.rename(columns={f"{i}_p": i for i in shared}), fw, respondent=None)[shared]
    vr = item_values(merged.rename(columns={f"{i}_r": i for i in shared}), fw, respondent=None)[shared]
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
        sp = score(merged.rename(columns={f"{i}_p": i for i in shared}), fw, respondent="practitioner")
        sr = score(merged.rename(columns={f"{i}_r": i for i in shared}), fw, respondent="practitioner")
        for col in [c for c in sp.columns if c.startswith("voice_")]:
            rows.append(describe("scale", col, sp[col], sr[col]))
    return AgreementResult(pd.DataFrame(rows), warnings)
