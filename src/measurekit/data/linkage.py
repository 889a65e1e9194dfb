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

# Dropped from the linked file once it is pseudonymised (data minimisation, UK GDPR Art. 5(1)(c)): direct
# identifiers, full dates and fine geography. Analysis keeps age in months at assessment, month of completion,
# neighbourhood and the published breakdowns (sex, fsm, eal, send, home language).
MINIMISED_AWAY = ("date_of_birth", "completed_on", "small_area", "small_area_name", "ethnicity_group", "upn",
                  "response_id", "name", "first_name", "last_name", "surname", "postcode", "address")


def _eyfsp_date(dob: pd.Series) -> pd.Series:
    """30 June of the reception year: the school year (September to August) in which the child turns five."""
    year = dob.dt.year + 5 + (dob.dt.month >= 9).astype(int)
    return pd.to_datetime(year.astype("Int64").astype(str) + "-06-30", errors="coerce")


def minimise(frame: pd.DataFrame, keep=()) -> pd.DataFrame:
    """The analysis frame without direct identifiers or full dates (applied by ``link`` when it pseudonymises).

    Adds ``age_months_at_assessment`` (whole months from ``date_of_birth`` to 30 June of the reception year, when
    the EYFSP is completed) and ``completion_month`` (``YYYY-MM`` of ``completed_on``), then drops the columns in
    ``MINIMISED_AWAY`` and any other ``*_id`` column except the pseudonymised ``child_id``; ``keep`` names columns
    to keep all the same (record why in the DPIA).
    """
    out = frame.copy()
    if "date_of_birth" in out:
        dob = pd.to_datetime(out["date_of_birth"], errors="coerce")
        at = _eyfsp_date(dob)
        months = (at.dt.year - dob.dt.year) * 12 + (at.dt.month - dob.dt.month) - (dob.dt.day > at.dt.day).astype(int)
        out.insert(out.columns.get_loc("date_of_birth"), "age_months_at_assessment", months.astype("Int64"))
    if "completed_on" in out:
        done = pd.to_datetime(out["completed_on"], errors="coerce")
        out.insert(out.columns.get_loc("completed_on"), "completion_month", done.dt.strftime("%Y-%m"))
    drop = [c for c in out.columns if c not in keep and (c in MINIMISED_AWAY or (str(c).endswith("_id") and c != "child_id"))]
    return out.drop(columns=drop)


@dataclass
class LinkageResult(Result):
    """Linkage of survey responses to routine records.

    summary: one row per measure (``measure``, ``count``, ``percent``): children in the cohort,
        responses, responses linked, responses not linked (unknown child_id), children with a
        linked response, children without one, children with more than one response.
    comparison: by ``variable`` and ``group``: ``n_cohort``, ``n_linked``, ``rate`` (share of the
        group with a linked response) and ``difference`` (rate minus the overall rate, in points).
    unmatched_responses: responses whose child_id is not in the children file: ``row`` (the row of the response
        in voice_parent, header = row 1, as a spreadsheet shows it) and ``child_id`` (pseudonymised when ``link``
        was given a key). The response id itself is never copied out.
    duplicates: children with more than one response (``child_id``, ``n_responses``).
    linked: the analysis frame, one row per child (see ``Cohort.analysis_frame``); pseudonymised and minimised
        (see ``minimise``: no full dates, no raw ids) when ``link`` was given a key.
    """

    summary: pd.DataFrame
    comparison: pd.DataFrame
    unmatched_responses: pd.DataFrame
    duplicates: pd.DataFrame
    linked: pd.DataFrame = field(repr=False)
    warnings: list[str] = field(default_factory=list)
    _title = "Linkage of survey responses to routine records"
    _main = "summary"


def link(cohort: Cohort, by=COMPARE_BY, key: bytes | None = None, keep=()) -> LinkageResult:
    """Link ``voice_parent`` to ``children`` and report. With ``key``, child ids are pseudonymised first
    (keyed HMAC-SHA256; see ``measurekit.data.pseudonymise``) and the linked frame is minimised (``minimise``;
    ``keep`` names columns to keep all the same)."""
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
    if key is not None:
        frame = minimise(frame, keep)
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
    rows = pd.Series(range(2, len(voice) + 2), index=voice.index)
    unmatched = pd.DataFrame({"row": rows[~in_cohort].to_numpy(),
                              "child_id": voice.loc[~in_cohort, "child_id"].to_numpy()})
    dups = counts[counts > 1].rename_axis("child_id").reset_index(name="n_responses")
    return LinkageResult(summary, comparison, unmatched, dups, frame, warnings)
