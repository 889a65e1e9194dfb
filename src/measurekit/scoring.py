"""Scale scores per child, following the framework's reverse keys and missing-data rule.

The score of a domain is the mean of the answered items after reverse keying
(``scale.min + scale.max - x``), with the scale's "don't know" code treated as not answered,
and missing (NaN) when fewer than the domain's ``min_answered`` items were answered.
This is the definition used everywhere in measurekit (indicators, added value, ground truth).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from measurekit.problems import InputError, ProblemReport


def item_values(df: pd.DataFrame, framework, respondent: str | None = "parent") -> pd.DataFrame:
    """Item codes as floats, reverse-keyed, with don't-know and out-of-scale codes set to NaN.

    Columns: one per item of the framework that is present in ``df`` (reverse-keyed items are
    already flipped, so higher always means "more of" the domain's title).
    """
    out = {}
    for item in framework.items:
        if respondent is not None and respondent not in item.respondents:
            continue
        if item.id not in df.columns:
            continue
        scale = framework.scale(item.scale)
        x = pd.to_numeric(df[item.id], errors="coerce").astype(float)
        x = x.where(x.isin(scale.codes))
        if item.reverse:
            x = scale.min + scale.max - x
        out[item.id] = x
    return pd.DataFrame(out, index=df.index)


def score(df: pd.DataFrame, framework_or_scale, respondent: str | None = "parent") -> pd.DataFrame:
    """Score every domain of a framework for every row of ``df``.

    Parameters
    ----------
    df : one row per respondent, one column per item id (raw codes, don't-know code allowed).
    framework_or_scale : a ``measurekit.spec.Framework`` (or a path to a framework folder).
    respondent : score the items meant for this respondent ("parent" or "practitioner").

    Returns
    -------
    DataFrame indexed like ``df`` with, per domain, ``voice_<domain>`` (mean of answered items
    after reverse keying; NaN when fewer than ``min_answered`` items were answered) and
    ``n_answered_<domain>`` (how many of the domain's items were answered).
    """
    from measurekit.spec import Framework, load_framework

    fw = framework_or_scale
    if not isinstance(fw, Framework):
        fw = load_framework(fw)
    values = item_values(df, fw, respondent)
    report = ProblemReport(title="Scoring")
    out = {}
    for domain in fw.domains:
        items = [i.id for i in fw.items_in(domain.id, respondent)]
        if not items:
            continue
        missing = [i for i in items if i not in df.columns]
        if missing:
            report.add("missing_item_column", f"Domain {domain.id} needs item columns {missing}, which the data do not have.",
                       column=", ".join(missing))
            continue
        block = values[items]
        n = block.notna().sum(axis=1)
        mean = block.mean(axis=1)
        out[domain.score_column] = mean.where(n >= domain.min_answered, np.nan)
        out[f"n_answered_{domain.id}"] = n.astype(int)
    report.raise_if_errors()
    return pd.DataFrame(out, index=df.index)
