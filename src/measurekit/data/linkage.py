"""Link parent survey responses to children's routine records.

On ``child_id`` when the responses carry it (``voice_parent``); without a shared identifier, ``link(cohort,
responses=...)`` links deterministically on any shared identifier first and probabilistically on the names,
date of birth, postcode and setting families give for the rest (``measurekit.data.linkage_match``), with a
clerical review queue between two thresholds. The linkage report shows what linked and what did not, and
whether the children whose parents did not respond (or whose responses did not link) differ from the rest, so
that bias is visible before anyone looks at the results.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from measurekit.core import thresholds as th
from measurekit.core.result import Result
from measurekit.data.cohort import Cohort

COMPARE_BY = ("neighbourhood", "eal", "fsm", "send", "home_language")

# Dropped from the linked file once it is pseudonymised (data minimisation, UK GDPR Art. 5(1)(c)): direct
# identifiers, full dates and fine geography. Analysis keeps age in months at assessment, month of completion,
# neighbourhood and the published breakdowns (sex, fsm, eal, send, home language).
# Never in the linked analysis file, key or no key: identifiers are for linking only.
IDENTIFIERS_AWAY = ("first_name", "last_name", "forename", "surname", "name", "postcode", "address", "nhs_number")

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
        months = ((at.dt.year - dob.dt.year) * 12 + (at.dt.month - dob.dt.month)
                  - (dob.dt.day > at.dt.day).astype(int))
        pos = out.columns.get_loc("date_of_birth")
        assert isinstance(pos, int), "date_of_birth is one column"
        out.insert(pos, "age_months_at_assessment", months.astype("Int64"))
    if "completed_on" in out:
        done = pd.to_datetime(out["completed_on"], errors="coerce")
        pos = out.columns.get_loc("completed_on")
        assert isinstance(pos, int), "completed_on is one column"
        out.insert(pos, "completion_month", done.dt.strftime("%Y-%m"))
    drop = [c for c in out.columns
            if c not in keep and (c in MINIMISED_AWAY or (str(c).endswith("_id") and c != "child_id"))]
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
        (see ``minimise``: no full dates, no raw ids) when ``link`` was given a key. Names, postcodes and
        addresses are never in it (``IDENTIFIERS_AWAY``).

    Only when ``link`` was given ``responses`` (linkage without a shared identifier; internal, never to share):
    matches: one row per response (``measurekit.data.linkage_match.Matches.table``): how it linked or why not.
    review: the clerical review queue (``measurekit.data.linkage_review.review_queue``), names side by side.
    by_group: match rates and share in review by group, with a flag where a group links less often than the
        rest beyond chance (``linkage_match.by_group``).
    parameters: the model's m and u probabilities and match weights per comparison level.
    waterfall: how the match weight of each pair in review adds up (``LinkageModel.waterfall``).
    pairs, model: every scored candidate pair and the trained model, to explain any pair:
        ``result.model.waterfall(result.pairs[result.pairs["response_key"] == "S000123"])``.

    ``relink(lower=, upper=, decisions=)`` decides again from the same trained model and scored pairs: to compare
    thresholds, or to apply clerical decisions, without training the model again.
    """

    summary: pd.DataFrame
    comparison: pd.DataFrame
    unmatched_responses: pd.DataFrame
    duplicates: pd.DataFrame
    linked: pd.DataFrame = field(repr=False)
    warnings: list[str] = field(default_factory=list)
    matches: pd.DataFrame | None = field(default=None, repr=False)
    review: pd.DataFrame | None = field(default=None, repr=False)
    by_group: pd.DataFrame | None = None
    parameters: pd.DataFrame | None = field(default=None, repr=False)
    waterfall: pd.DataFrame | None = field(default=None, repr=False)
    pairs: pd.DataFrame | None = field(default=None, repr=False)
    model: object = field(default=None, repr=False)
    # what relink needs: the inputs of link(responses=...) (the key among them: never shown) and the Matches
    _inputs: dict | None = field(default=None, repr=False)
    _title = "Linkage of survey responses to routine records"
    _main = "summary"

    def relink(self, *, lower: float | None = None, upper: float | None = None,
               decisions: pd.DataFrame | None = None) -> LinkageResult:
        """The linkage at other thresholds or with clerical decisions, from this result's trained model and
        scored pairs: the same result as ``link`` with the same data and options and these ``lower``, ``upper``
        and ``decisions`` (the model is trained on the data alone, never on the thresholds or decisions), in a
        fraction of the time. ``lower``/``upper``: None keeps this result's; ``decisions`` as in ``link`` (None:
        no decisions, whatever this result was given). This result is not changed. Only for a result of
        ``link(..., responses=...)``, where a model decides.

        Analyst's use: train once, then compare thresholds (``result.relink(upper=0.999).review``) or apply the
        review queue's decisions (``result.relink(decisions=reviewed)``).
        """
        if self._inputs is None:
            from measurekit.problems import InputError, Problem, ProblemReport

            raise InputError(ProblemReport([Problem(
                "bad_option", "relink() decides again from a trained model: only a result of link(..., "
                "responses=...) has one. Call link() again instead.", column="relink", rule="link(responses=...)")],
                title="Linkage options"))
        i = self._inputs
        m = i["matches"]
        return _link_responses(i["cohort"], i["responses"], i["by"], i["key"], i["keep"],
                               m.lower if lower is None else lower, m.upper if upper is None else upper,
                               decisions, i["random_state"], i["model_options"], fitted=m)


def population_names(data: Cohort) -> dict:
    """Where the people are in a Cohort: its population table, id column, first voice table, area column and the
    words for one person and many, from the framework's ``population`` declaration (a Cohort without one: the
    data contract's ``children``, ``child_id``, ``voice_parent``, ``neighbourhood``). ``declared``: True when a
    framework other than the data contract's default layout declared them; ``coverage_by``: its coverage groups."""
    from measurekit.data.cohort import _layout

    fw = data.framework
    lay = _layout(fw, data.tables)
    pop = getattr(fw, "population", None) if getattr(fw, "tables", None) else None
    default = lay.table == "children" and lay.id == "child_id"
    analysis = getattr(fw, "analysis", None)
    return {"table": lay.table, "id": lay.id, "voice": lay.voice,
            "area": pop.area if pop is not None else "neighbourhood",
            "person": pop.person if pop is not None and not default else "child",
            "people": pop.people if pop is not None and not default else "children",
            "declared": not default,
            "coverage_by": tuple(analysis.coverage_by) if analysis is not None else ()}


def link(data: Cohort, by=COMPARE_BY, key: bytes | None = None, keep=(), *, responses: pd.DataFrame | None = None,
         lower: float = 0.5, upper: float = 0.95, decisions: pd.DataFrame | None = None, random_state: int | None = 1,
         model_options: dict | None = None) -> LinkageResult:
    """Link ``voice_parent`` to ``children`` of the Cohort ``data`` and report. With ``key``, child ids are
    pseudonymised first
    (keyed HMAC-SHA256; see ``measurekit.data.pseudonymise``) and the linked frame is minimised (``minimise``;
    ``keep`` names columns to keep all the same).

    ``responses``: survey responses without a reliable ``child_id`` but with the identifiers families give
    (``first_name``, ``last_name``, ``date_of_birth``, ``postcode``, ``setting``; ``child_id``, ``upn`` or
    ``nhs_number`` where given). They are linked to ``children`` (which then holds the legal identifiers) exactly
    on a shared identifier first, probabilistically for the rest: a best candidate with match probability of at
    least ``upper`` links, one between ``lower`` and ``upper`` goes to the clerical review queue, below ``lower``
    it does not link. ``decisions`` (``response_id``, ``child_id``, ``decision`` = accept/reject) from an earlier
    review are applied. The linked responses then take the place of ``voice_parent``; identifiers never reach the
    linked frame. The model is trained on the data each run (``random_state`` fixes its random pairs);
    ``LinkageResult.relink`` decides again at other thresholds or with decisions without training it again.
    """
    if responses is not None:
        return _link_responses(data, responses, by, key, keep, lower, upper, decisions, random_state, model_options)
    if key is not None:
        from measurekit.data.pseudonymise import pseudonymise_column

        tables = {}
        for name, t in data.tables.items():
            t = t.copy()
            if "child_id" in t:
                t["child_id"] = pseudonymise_column(t["child_id"].astype(object), key)
            tables[name] = t
        data = Cohort(tables, data.ground_truth, data.framework)
    names = population_names(data)
    pid, people, person = names["id"], names["people"], names["person"]
    children = data.tables[names["table"]]
    voice = data.tables.get(names["voice"] or "", pd.DataFrame(columns=["response_id", pid]))
    if by is COMPARE_BY and names["declared"]:   # a framework of its own: its area and its coverage groups
        by = tuple(dict.fromkeys([names["area"], *names["coverage_by"]]))
    known = set(children[pid])
    in_cohort = voice[pid].isin(known)
    counts = voice.loc[in_cohort, pid].value_counts()
    n_children, n_resp = len(children), len(voice)
    n_linked_children = int(children[pid].isin(set(voice[pid])).sum())
    rows = [
        (f"{people} in the cohort", n_children, 100.0),
        ("survey responses", n_resp, 100.0),
        (f"responses linked to a {person}", int(in_cohort.sum()), 100 * in_cohort.mean() if n_resp else 0.0),
        (f"responses not linked (unknown {pid})", int((~in_cohort).sum()),
         100 * (~in_cohort).mean() if n_resp else 0.0),
        (f"{people} with a linked response", n_linked_children, 100 * n_linked_children / n_children),
        (f"{people} without a response", n_children - n_linked_children,
         100 * (n_children - n_linked_children) / n_children),
        (f"{people} with more than one response", int((counts > 1).sum()), 100 * (counts > 1).sum() / n_children),
    ]
    summary = pd.DataFrame(rows, columns=["measure", "count", "percent"])
    frame = data.analysis_frame()
    frame = frame.drop(columns=[c for c in IDENTIFIERS_AWAY if c in frame and c not in keep])
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
        warnings.append(f"{int((~in_cohort).sum())} responses have a {pid} that is not in the {names['table']} "
                        "file.")
    if (counts > 1).any():
        warnings.append(f"{int((counts > 1).sum())} {people} have more than one response; the latest is used.")
    big_gaps = comparison[comparison["difference"].abs() >= th.LINKAGE_GAP_POINTS]
    if len(big_gaps):
        groups = ", ".join(f"{r.variable}={r.group} ({r.rate:.0%})" for r in big_gaps.itertuples())
        warnings.append(f"Response rates differ by 10 points or more from the overall {overall:.0%} in: {groups}. "
                        "Unweighted results will under-represent these groups.")
    row_numbers = pd.Series(range(2, len(voice) + 2), index=voice.index)
    unmatched = pd.DataFrame({"row": row_numbers[~in_cohort].to_numpy(),
                              pid: voice.loc[~in_cohort, pid].to_numpy()})
    dups = counts[counts > 1].rename_axis(pid).reset_index(name="n_responses")
    return LinkageResult(summary, comparison, unmatched, dups, frame, warnings)


def _link_responses(cohort, responses, by, key, keep, lower, upper, decisions, random_state, model_options,
                    fitted=None):
    """``link`` for responses without a shared identifier (see ``link``); ``fitted``: the ``Matches`` of an
    earlier call with the same inputs, whose model and pairs are reused (``LinkageResult.relink``)."""
    from measurekit.data.linkage_match import by_group, match_responses
    from measurekit.data.linkage_review import review_queue

    missing = [c for c in ("response_id", "form_language", "completed_on") if c not in responses]
    if missing:
        from measurekit.problems import InputError, Problem, ProblemReport

        raise InputError(ProblemReport([Problem(
            "missing_column", f"The survey responses have no {c!r} column; it is needed as in voice_parent.",
            column=c, rule="required column") for c in missing], title="Survey responses"))
    inputs = {"cohort": cohort, "responses": responses.copy(), "by": by, "key": key, "keep": keep,
              "random_state": random_state, "model_options": model_options}
    responses = responses.copy()
    if key is not None:
        from measurekit.data.pseudonymise import pseudonymise_column

        if "child_id" in responses:
            responses["child_id"] = pseudonymise_column(responses["child_id"].astype(object), key)
    children = cohort.tables["children"]
    if key is not None:
        from measurekit.data.pseudonymise import pseudonymise_column

        children = children.copy()
        children["child_id"] = pseudonymise_column(children["child_id"].astype(object), key)
    m = match_responses(responses, children, lower=lower, upper=upper, decisions=decisions,
                        random_state=random_state, model_options=model_options, fitted=fitted)
    drop = [c for c in ("first_name", "last_name", "date_of_birth", "postcode", "setting", "upn", "nhs_number",
                        "name", "address") if c in responses]
    voice = responses.drop(columns=drop).reset_index(drop=True)
    voice["child_id"] = m.table["child_id"].to_numpy()
    tables = dict(cohort.tables)
    tables["voice_parent"] = voice
    tables.pop("survey_responses", None)
    if key is not None:
        from measurekit.data.pseudonymise import pseudonymise_column

        for name, t in tables.items():
            if name != "voice_parent" and "child_id" in t:
                t = t.copy()
                t["child_id"] = pseudonymise_column(t["child_id"].astype(object), key)
                tables[name] = t
    result = link(Cohort(tables, cohort.ground_truth, cohort.framework), by=by, key=None, keep=keep)
    if key is not None:
        result.linked = minimise(result.linked, keep)
    result.warnings = [w for w in result.warnings if "have a child_id that is not in the children file" not in w]
    t = m.table
    counts = [("responses linked on a shared identifier", int(t["method"].fillna("").str.startswith("exact").sum())),
              ("responses linked probabilistically", int((t["method"] == "probabilistic").sum())),
              ("responses linked by clerical review", int((t["method"] == "clerical").sum())),
              ("responses in the review queue", int((t["status"] == "review").sum())),
              ("responses not linked", int((t["status"] == "not linked").sum()))]
    n = max(len(t), 1)
    extra = pd.DataFrame([(k, v, 100 * v / n) for k, v in counts], columns=["measure", "count", "percent"])
    result.summary = pd.concat([result.summary, extra], ignore_index=True)
    result.summary.loc[result.summary["measure"] == "responses not linked (unknown child_id)", "measure"] = \
        "responses not linked (review or no match)"
    result.matches = t
    result._inputs = {**inputs, "matches": m}
    result.review = review_queue(m)
    result.by_group = by_group(t, responses, children, by=("form_language",) + tuple(
        v for v in ("home_language", "ethnicity_group", "fsm", "eal", "neighbourhood") if v in children))
    if m.model is not None:
        result.pairs, result.model = m.pairs, m.model
        result.parameters = m.model.parameters
        in_review = (m.pairs[m.pairs["response_key"].isin(set(result.review["response_id"]))] if len(m.pairs)
                     else m.pairs)
        result.waterfall = m.model.waterfall(in_review.sort_values("match_weight", ascending=False), limit=200) \
            if len(in_review) else None
    if m.model is not None:
        result.warnings.extend(m.model.notes)
    flagged = result.by_group[result.by_group["flag"]]
    if len(flagged):
        groups = ", ".join(f"{r.variable}={r.group} ({r.rate:.0%} vs {r.rest_rate:.0%})" for r in flagged.itertuples())
        result.warnings.append(f"Responses link less often than the rest, beyond chance, in: {groups}. Their "
                               "voices are under-counted; weight responses with these variables among the margins "
                               "(measurekit.data.linkage_match.adjusted_margins) and say so.")
    if (t["status"] == "review").any():
        result.warnings.append(f"{int((t['status'] == 'review').sum())} responses wait in the clerical review "
                               "queue; they are not linked until accepted.")
    return result
