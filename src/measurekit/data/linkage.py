"""Link parent survey responses to children's routine records on ``child_id``.

The linkage report shows what linked and what did not, and whether the children whose
parents did not respond (or whose responses did not link) differ from the rest, so that
bias is visible before anyone looks at the results.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from measurekit.core.result import Result
from measurekit.data.cohort import Cohort

COMPARE_BY = ("neighbourhood", "eal", "fsm", "send", "home_language")


@dataclass
class LinkageResult(Result):
    """Linkage of survey responses to routine records.

    summary: one row per measure (``measure``, ``count``, ``percent``): children in the cohort,
        responses, responses linked, responses not linked (unknown child_id), children with a
        linked response, children without one, children with more than one response.
    comparison: by ``variable`` and ``group``: ``n_cohort``, ``n_linked``, ``rate`` (share of the
        group with a linked response) and ``difference`` (rate minus the overall rate, in points).
    unmatched_responses: responses whose child_id is not in the children file (``response_id``, ``child_id``).
    duplicates: children with more than one response (``child_id``, ``n_responses``).
    linked: the analysis frame, one row per child (see ``Cohort.analysis_frame``).
    """

    summary: pd.DataFrame
    comparison: pd.DataFrame
    unmatched_responses: pd.DataFrame
    duplicates: pd.DataFrame
    linked: pd.DataFrame = field(repr=False)
    warnings: list[str] = field(default_factory=list)
    _title = "Linkage of survey responses to routine records"
    _main = "summary"


def link(cohort: Cohort, by=COMPARE_BY, key: bytes | None = None) -> LinkageResult:
    """Link ``voice_parent`` to ``children`` and report. With ``key``, child ids are pseudonymised first
    (keyed HMAC-SHA256; see ``measurekit.data.pseudonymise``)."""
    if key is not None:
        from measurekit.data.pseudonymise import pseudonymise_column

        tables = {}
        for name, t in cohort.tables.items():
            t = t.copy()
            if "child_id" in t:
                t["child_id"] = pseudonymise_column(t["child_id"].astype(object), key)
            tables[name] = t
        cohort = Cohort(tables, cohort.ground_truth, cohort.framework)
    children = cohort.tables["children"]
    voice = cohort.tables.get("voice_parent", pd.DataFrame(columns=["response_id", "child_id"]))
    known = set(children["child_id"])
    in_cohort = voice["child_id"].isin(known)
    counts = voice.loc[in_cohort, "child_id"].value_counts()
    n_children, n_resp = len(children), len(voice)
    n_linked_children = int(children["child_id"].isin(set(voice["child_id"])).sum())
    rows = [
        ("children in the cohort", n_children, 100.0),
        ("survey responses", n_resp, 100.0),
        ("responses linked to a child", int(in_cohort.sum()), 100 * in_cohort.mean() if n_resp else 0.0),
        ("responses not linked (unknown child_id)", int((~in_cohort).sum()), 100 * (~in_cohort).mean() if n_resp else 0.0),
        ("children with a linked response", n_linked_children, 100 * n_linked_children / n_children),
        ("children without a response", n_children - n_linked_children, 100 * (n_children - n_linked_children) / n_children),
        ("children with more than one response", int((counts > 1).sum()), 100 * (counts > 1).sum() / n_children),
    ]
    summary = pd.DataFrame(rows, columns=["measure", "count", "percent"])
    frame = cohort.analysis_frame()
    overall = frame["responded"].mean()
    comp = []
    for var in by:
        if var not in frame:
            continue
        g = frame.groupby(var, dropna=False)["responded"].agg(["size", "sum"])
        for group, row in g.iterrows():
            rate = row["sum"] / row["size"]
            comp.append({"variable": var, "group": str(group), "n_cohort": int(row["size"]),
                         "n_linked": int(row["sum"]), "rate": rate, "difference": 100 * (rate - overall)})
    comparison = pd.DataFrame(comp, columns=["variable", "group", "n_cohort", "n_linked", "rate", "difference"])
    warnings = []
    if (~in_cohort).any():
        warnings.append(f"{int((~in_cohort).sum())} responses have a child_id that is not in the children file.")
    if (counts > 1).any():
        warnings.append(f"{int((counts > 1).sum())} children have more than one response; the latest is used.")
    big_gaps = comparison[comparison["difference"].abs() >= 10]
    if len(big_gaps):
        groups = ", ".join(f"{r.variable}={r.group} ({r.rate:.0%})" for r in big_gaps.itertuples())
        warnings.append(f"Response rates differ by 10 points or more from the overall {overall:.0%} in: {groups}. "
                        "Unweighted results will under-represent these groups.")
    unmatched = voice.loc[~in_cohort, [c for c in ("response_id", "child_id") if c in voice]].reset_index(drop=True)
    dups = counts[counts > 1].rename_axis("child_id").reset_index(name="n_responses")
    return LinkageResult(summary, comparison, unmatched, dups, frame, warnings)
