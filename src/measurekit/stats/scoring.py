"""Scale scores per child, following the framework's reverse keys and missing-data rule.

The score of a domain is the mean of the answered items after reverse keying
(``scale.min + scale.max - x``), with the scale's "don't know" code (and any code that is not
one of the scale's codes) treated as not answered, and missing (NaN) when fewer than the
domain's ``min_answered`` items were answered. This is the definition used everywhere in
measurekit (indicators, added value, ground truth, board pack).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from measurekit.design.models import MAIN_RESPONDENT
from measurekit.problems import ProblemReport


def item_values(data: pd.DataFrame, *, framework, respondent: str | None = MAIN_RESPONDENT) -> pd.DataFrame:
    """Item codes as floats, reverse-keyed, with don't-know and out-of-scale codes set to NaN.

    ``respondent``: the items meant for this respondent (None: every item; by default the framework's main
    respondent, ``Framework.main_respondent``: its first voice table's).

    Columns: one per item of the framework that is present in ``data`` (reverse-keyed items are
    already flipped, so higher always means "more of" the domain's title). Raises ``InputError``
    (code ``non_numeric``, naming the column) when an item column holds text that is not a number.
    """
    from measurekit.stats._numerics.item_data import named_frame

    data = named_frame(data, used=[i.id for i in framework.items])
    if respondent == MAIN_RESPONDENT:
        respondent = framework.main_respondent()
    out = {}
    report = ProblemReport(title="Item codes")
    for item in framework.items:
        if respondent is not None and respondent not in item.respondents:
            continue
        if item.id not in data.columns:
            continue
        scale = framework.scale(item.scale)
        col = data[item.id]
        if col.dtype.kind in "fiub":               # numbers (nullable ones too): nothing can fail to convert
            x = col.to_numpy(dtype=float, na_value=np.nan)
        else:
            num = pd.to_numeric(col, errors="coerce").astype(float)
            bad = col[num.isna() & col.notna()]    # text only where the number failed
            bad = bad[bad.astype(str).str.strip() != ""]
            if len(bad):
                report.add("non_numeric", f"Item {item.id} has codes that are not numbers (e.g. {bad.iloc[0]!r}); "
                           "recode them to the scale's numeric codes first.", column=item.id, value=str(bad.iloc[0]))
                continue
            x = num.to_numpy()
        x = np.where(np.isin(x, scale.codes), x, np.nan)
        if item.reverse:
            x = scale.min + scale.max - x
        out[item.id] = x
    report.raise_if_errors()
    return pd.DataFrame(out, index=data.index)


def framework_from_mapping(spec: Mapping, df: pd.DataFrame | None = None):
    """A minimal in-memory ``Framework`` from a plain mapping (for data without a framework folder).

    ``spec`` maps each domain id to either a list of item columns, or a dict with ``items`` (required),
    ``reverse`` (item names to reverse key), ``codes`` (the substantive codes, e.g. ``[1, 2, 3, 4, 5]``;
    or ``min`` and ``max`` for the whole numbers between them), ``dont_know`` (a code treated as
    not answered) and ``min_answered`` (default 1). Without ``codes``/``min``/``max`` the codes are
    the whole set of values seen in ``df`` over the domain's items, so reverse keying uses the
    observed minimum and maximum, as psych does.
    """
    from measurekit.design.models import Domain, Framework, Item, Option, Scale
    from measurekit.stats._numerics.item_data import item_names_of, named_frame, names

    if df is not None:
        df = named_frame(df, used=item_names_of(spec))
    report = ProblemReport(title="Scoring specification")
    scales, domains, items = [], [], []
    for domain_id, d in spec.items():
        d = {"items": list(d)} if not isinstance(d, Mapping) else dict(d)
        unknown_keys = set(d) - {"items", "reverse", "codes", "min", "max", "dont_know", "min_answered"}
        if unknown_keys:
            report.add("unknown_key", f"Domain {domain_id}: unknown keys {sorted(unknown_keys)}.")
        ids = names(d.get("items") or [])
        if not ids:
            report.add("no_items", f"Domain {domain_id} lists no items.")
            continue
        reverse = names(d.get("reverse") or [])
        stray = [r for r in reverse if r not in ids]
        if stray:
            report.add("unknown_reverse", f"Domain {domain_id}: reverse names items not in the domain: {stray}.")
        if "codes" in d:
            codes = sorted(int(c) for c in d["codes"])
        elif "min" in d and "max" in d:
            codes = list(range(int(d["min"]), int(d["max"]) + 1))
        elif df is not None and all(i in df.columns for i in ids):
            vals = pd.to_numeric(pd.Series(df[ids].to_numpy().ravel()), errors="coerce").dropna()
            if "dont_know" in d:
                vals = vals[vals != d["dont_know"]]
            codes = sorted(vals.unique().tolist())
            if not codes:
                report.add("all_missing", f"Domain {domain_id}: its items have no answers.", column=", ".join(ids))
                continue
            fractional = [c for c in codes if not float(c).is_integer()]
            if fractional:
                report.add("not_item_codes", f"Domain {domain_id}: its items hold values that are not whole-number "
                           f"answer codes (e.g. {fractional[0]!r}), so they cannot be scored as items.",
                           column=", ".join(ids), value=fractional[0], rule="whole-number codes")
                continue
            codes = [int(c) for c in codes]
        else:
            codes = []  # missing columns are reported by score()
        dk = d.get("dont_know")
        scales.append(Scale(id=f"scale_{domain_id}", options=[Option(code=c, label={"en": str(c)}) for c in codes],
                            dont_know=None if dk is None else Option(code=int(dk), label={"en": "Don't know"})))
        domains.append(Domain(id=str(domain_id), min_answered=int(d.get("min_answered", 1))))
        items += [Item(id=i, domain=str(domain_id), scale=f"scale_{domain_id}", reverse=i in reverse,
                       respondents=["parent", "practitioner"], stem={"en": i}) for i in ids]
    report.raise_if_errors()
    return Framework(scales=scales, domains=domains, items=items)


def as_framework(obj, df: pd.DataFrame | None = None):
    """A ``Framework`` from a Framework, a framework folder path, or a plain mapping
    (:func:`framework_from_mapping`)."""
    from measurekit.design import Framework, load_framework

    if isinstance(obj, Framework):
        return obj
    if isinstance(obj, Mapping):
        return framework_from_mapping(obj, df)
    return load_framework(obj)


def score(data: pd.DataFrame, *, framework, respondent: str | None = MAIN_RESPONDENT) -> pd.DataFrame:
    """Score every domain of a framework for every row of ``data``.

    Parameters
    ----------
    data : one row per respondent, one column per item id (raw codes, don't-know code allowed).
    framework : a ``measurekit.design.Framework``, a path to a framework folder, or a plain
        mapping of domain id -> item list or dict (see :func:`framework_from_mapping`), e.g.
        ``{"wellbeing": {"items": ["w1", "w2", "w3"], "reverse": ["w2"], "min": 1, "max": 5,
        "dont_know": 9, "min_answered": 2}}``.
    respondent : score the items meant for this respondent (by default the framework's main respondent, the
        respondent of its first voice table: "parent" for the school-readiness framework; ignored for a mapping).

    Returns
    -------
    DataFrame indexed like ``data`` with, per domain (in the framework's order):

    - ``voice_<domain>``: mean of the answered items after reverse keying (``min + max - x`` with the
      scale's min and max); the don't-know code and codes outside the scale count as not answered;
      NaN when fewer than the domain's ``min_answered`` items were answered.
    - ``n_answered_<domain>``: how many of the domain's items were answered (integer).

    Raises ``InputError`` when an item column is missing or holds non-numeric codes.
    There is no R equivalent with the don't-know and minimum-answered rule; without them it is
    ``psych::scoreItems(keys, x, totals = FALSE, impute = "none")``'s mean score.
    """
    from measurekit.stats._numerics.item_data import named_frame

    if isinstance(framework, Mapping):
        respondent = "parent"
    fw = as_framework(framework, data)
    if respondent == MAIN_RESPONDENT:
        respondent = fw.main_respondent()
    data = named_frame(data, used=[i.id for i in fw.items])
    report = ProblemReport(title="Scoring")
    for domain in fw.domains:
        missing = [i.id for i in fw.items_in(domain.id, respondent) if i.id not in data.columns]
        if missing:
            report.add("missing_item_column",
                       f"Domain {domain.id} needs item columns {missing}, which the data do not have.",
                       column=", ".join(missing))
    report.raise_if_errors()
    values = item_values(data, framework=fw, respondent=respondent)
    out = {}
    for domain in fw.domains:
        items = [i.id for i in fw.items_in(domain.id, respondent)]
        if not items:
            continue
        block = values[items]
        n = block.notna().sum(axis=1)
        mean = block.mean(axis=1)
        out[domain.score_column] = mean.where(n >= domain.min_answered, np.nan)
        out[f"n_answered_{domain.id}"] = n.astype(int)
    return pd.DataFrame(out, index=data.index)
