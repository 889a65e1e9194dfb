"""Deterministic first, probabilistic second: which child each survey response belongs to.

``match_responses(responses, children)`` links each response:

1. on a shared identifier, where the response gives one that is in the records (``child_id``, ``upn``,
   ``nhs_number``: whichever both sides have), exactly;
2. the rest probabilistically on the identifiers families give (``measurekit.data.linkage_probabilistic``):
   linked above the upper threshold, sent to clerical review between the thresholds (or when two candidates are
   close, as twins are), not linked below the lower threshold;
3. clerical decisions from an earlier review (``decisions``: ``response_id``, ``child_id``, ``decision`` =
   accept or reject) are applied last, keyed on those two record keys, so a re-run keeps them.

``by_group`` reports match rates and the share in review by group and flags a group whose rate is lower than the
rest beyond chance; ``quality`` compares links with a known truth (synthetic cohorts); ``adjusted_margins`` adds
the flagged groups to the response-weight margins.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.problems import InputError, Problem, ProblemReport

SHARED_IDS = ("child_id", "upn", "nhs_number")
IDENTIFIERS = ("first_name", "last_name", "date_of_birth", "postcode", "setting")
DECISIONS = ("accept", "reject")


@dataclass
class Matches:
    """What ``match_responses`` decided.

    table: one row per response, in the order given: ``row`` (the response's row in its file, header = row 1),
        ``response_id``, ``child_id`` (the linked child, blank when not linked), ``method`` (``exact <id column>``,
        ``probabilistic``, ``clerical`` or blank), ``status`` (``linked``, ``review`` or ``not linked``),
        ``candidate`` (the best probabilistic candidate, also when not linked), ``match_weight`` and
        ``match_probability`` (of the best candidate; blank for exact links) and ``reason``.
    pairs: every scored candidate pair (``response_key``, ``record_key``, weights, each comparison's level and the
        values compared), for the review queue and the waterfall.
    model: the trained ``LinkageModel`` (None when every response linked exactly or no identifiers were given).
    lower, upper: the thresholds decided at; min_probability, chunks: how ``pairs`` were scored (the pairs of
        probability at least ``min_probability``, which is ``min(lower, 0.01)``).
    """

    table: pd.DataFrame
    pairs: pd.DataFrame
    model: object = field(default=None, repr=False)
    lower: float = 0.5
    upper: float = 0.95
    min_probability: float = 0.01
    chunks: int = 1


def _text(s: pd.Series) -> pd.Series:
    s = s.astype(object)
    return (s.where(s.notna() & (s.astype(str).str.strip() != ""), None)
            .map(lambda v: None if v is None else str(v).strip()))


def check_decisions(decisions: pd.DataFrame | None, where: str = "review decisions") -> pd.DataFrame:
    """Clerical decisions as ``response_id``, ``child_id``, ``decision`` (accept/reject, any case); blank decisions
    are dropped (not yet reviewed). ``InputError`` (code ``review_decision``) lists every row that is not valid."""
    if decisions is None or len(decisions) == 0:
        return pd.DataFrame(columns=["response_id", "child_id", "decision"])
    report = ProblemReport(title=f"Clerical review decisions ({where})")
    missing = [c for c in ("response_id", "child_id", "decision") if c not in decisions]
    for c in missing:
        report.add("review_decision", f"The decisions file has no {c!r} column; keep the columns of the review "
                   "queue and fill in 'decision' with accept or reject.", file=where, column=c, rule="required column")
    if missing:
        raise InputError(report)
    d = decisions.reset_index(drop=True)
    dec = _text(d["decision"]).str.lower()
    for i in np.flatnonzero(dec.notna() & ~dec.isin(DECISIONS)):
        report.add("review_decision", f"Decision {d['decision'].iloc[i]!r} is not accept or reject.", file=where,
                   row=int(i) + 2, column="decision", value=str(d["decision"].iloc[i]), rule="accept|reject|blank")
    for c in ("response_id", "child_id"):
        for i in np.flatnonzero(dec.notna() & _text(d[c]).isna()):
            report.add("review_decision", f"A decision needs the {c} of the pair it is about.", file=where,
                       row=int(i) + 2, column=c, value="", rule="required")
    if len(report):
        raise InputError(report)
    out = pd.DataFrame({"response_id": _text(d["response_id"]), "child_id": _text(d["child_id"]), "decision": dec})
    return out[out["decision"].notna()].drop_duplicates(["response_id", "child_id"], keep="last").reset_index(drop=True)


def match_responses(responses: pd.DataFrame, children: pd.DataFrame, *, lower: float = 0.5, upper: float = 0.95,
                    decisions: pd.DataFrame | None = None, shared_ids=SHARED_IDS, random_state: int | None = 1,
                    model_options: dict | None = None, fitted: Matches | None = None) -> Matches:
    """Link ``responses`` to ``children`` (see the module docstring). Neither frame is changed.

    ``fitted``: the ``Matches`` of an earlier call on the same ``responses``, ``children``, ``shared_ids``,
    ``random_state`` and ``model_options``, to decide again at other thresholds or with other clerical decisions
    without training the model again: its model and scored pairs are reused (the pairs are scored again, by the
    same model, only when the new ``lower`` needs pairs of a lower probability than it kept). The links are those
    a fresh call with the same arguments makes, as the model does not depend on the thresholds or the decisions.
    The caller keeps the inputs the same (``LinkageResult.relink`` does); the numbers of responses and records
    are checked.
    """
    report = ProblemReport(title="Linkage options")
    if not (0 < lower <= upper < 1):
        report.add("bad_option", f"The thresholds must satisfy 0 < lower <= upper < 1 (match probabilities); got "
                   f"lower={lower}, upper={upper}.", column="lower/upper", value=f"{lower}/{upper}",
                   rule="0 < lower <= upper < 1")
    if "response_id" not in responses:
        report.add("missing_column", "The survey responses need a response_id column (one per response).",
                   column="response_id", rule="required column")
    elif responses["response_id"].duplicated().any():
        dup = responses["response_id"][responses["response_id"].duplicated()].iloc[0]
        report.add("duplicate_id", "Each survey response needs its own response_id; clerical decisions are kept "
                   "by it.", column="response_id", value=str(dup), rule="unique")
    present = [c for c in IDENTIFIERS if c in responses and c in children]
    ids = [c for c in shared_ids if c in responses and c in children]
    if not present and not ids:
        report.add("no_identifiers", "Neither a shared identifier (" + ", ".join(shared_ids) + ") nor identifiers "
                   "to link on (" + ", ".join(IDENTIFIERS) + ") are in both the responses and the children file.",
                   rule="at least one identifier in both files")
    if len(report):
        raise InputError(report)
    decisions = check_decisions(decisions)
    n = len(responses)
    resp_id = responses["response_id"].astype(str).reset_index(drop=True)
    child = np.full(n, None, dtype=object)
    method = np.full(n, None, dtype=object)
    reason = np.full(n, None, dtype=object)
    for col in ids:
        given = _text(responses[col].reset_index(drop=True))
        known = set(_text(children[col]).dropna().unique())
        hit = given.notna() & given.isin(known) & pd.isna(child)
        if col != "child_id":
            lookup = pd.Series(children["child_id"].to_numpy(), index=_text(children[col]).to_numpy())
            lookup = lookup[~lookup.index.duplicated()]
            child[hit.to_numpy()] = lookup.reindex(given[hit]).to_numpy()
        else:
            child[hit.to_numpy()] = given[hit].to_numpy()
        method[hit.to_numpy()] = f"exact {col}"
        miss = given.notna() & ~given.isin(known) & pd.isna(child)
        reason[miss.to_numpy()] = f"{col} given is not in the records"
    table = pd.DataFrame({"row": np.arange(2, n + 2), "response_id": resp_id, "child_id": child, "method": method,
                          "status": np.where(pd.isna(child), "not linked", "linked"), "candidate": None,
                          "match_weight": np.nan, "match_probability": np.nan, "reason": reason})
    table.loc[table["method"].notna(), "reason"] = "shared identifier"
    rest = table["child_id"].isna().to_numpy()
    pairs, model = pd.DataFrame(), None
    options = dict(model_options or {})
    chunks = int(options.pop("chunks", 1))
    floor = min(lower, 0.01)
    if rest.any() and present:
        from measurekit.data.linkage_probabilistic import LinkageModel, decide, fit_model

        if fitted is not None and isinstance(fitted.model, LinkageModel):
            model = fitted.model
            if (model.n_responses, model.n_records) != (int(rest.sum()), len(children)):
                raise InputError(ProblemReport([Problem(
                    "bad_option", "fitted= holds the model of other responses or records than these; link these "
                    "without fitted=.", column="fitted", value=f"{model.n_responses} responses, "
                    f"{model.n_records} records", rule="the responses and records the model was trained on")],
                    title="Linkage options"))
            same = fitted.min_probability == floor and fitted.chunks == chunks
            pairs = fitted.pairs if same else model.predict(min_probability=floor, chunks=chunks)
        else:
            model = fit_model(responses.reset_index(drop=True)[rest], children, random_state=random_state,
                              **options)
            pairs = model.predict(min_probability=floor, chunks=chunks)
        best = decide(pairs, lower, upper).set_index("response_key")
        idx = np.flatnonzero(rest)
        keys = resp_id.iloc[idx]
        b = best.reindex(keys.to_numpy())
        found = b["record_key"].notna().to_numpy()
        table.loc[idx, "candidate"] = b["record_key"].to_numpy()
        table.loc[idx, "match_weight"] = b["match_weight"].to_numpy()
        table.loc[idx, "match_probability"] = b["match_probability"].to_numpy()
        status = np.where(found, b["status"].fillna("not linked").to_numpy(), "not linked")
        table.loc[idx, "status"] = status
        linked = status == "linked"
        table.loc[idx[linked], "child_id"] = b["record_key"].to_numpy()[linked]
        table.loc[idx[linked], "method"] = "probabilistic"
        why = np.where(found, b["reason"].fillna("").to_numpy(), "no candidate shares enough identifiers")
        old = table.loc[idx, "reason"].to_numpy()
        table.loc[idx, "reason"] = [w if o is None or pd.isna(o) else f"{o}; {w}" for o, w in zip(old, why)]
    elif rest.any():
        table.loc[rest, "reason"] = table.loc[rest, "reason"].fillna("no identifiers to link on")
    if len(decisions):
        _apply_decisions(table, decisions, set(children["child_id"].astype(str).unique()))
    return Matches(table, pairs, model, lower, upper, floor, chunks)


def _apply_decisions(table: pd.DataFrame, decisions: pd.DataFrame, known: set) -> None:
    """Accepted pairs link (method ``clerical``); a rejected pair is unlinked (status ``not linked``)."""
    pos = {r: i for i, r in enumerate(table["response_id"])}
    for d in decisions.to_dict("records"):
        i = pos.get(d["response_id"])
        if i is None or d["child_id"] not in known:
            continue                                    # the pair is no longer in the data: nothing to apply
        if d["decision"] == "accept":
            table.loc[i, ["child_id", "method", "status"]] = [d["child_id"], "clerical", "linked"]
            table.loc[i, "reason"] = "accepted in clerical review"
        elif table.loc[i, "child_id"] == d["child_id"] or table.loc[i, "candidate"] == d["child_id"]:
            table.loc[i, ["child_id", "method", "status"]] = [None, None, "not linked"]
            table.loc[i, "reason"] = "rejected in clerical review"


def _labels(values) -> pd.Series:
    """Group labels as text; whole numbers stored as floats (1.0, from a column with blanks) read as 1."""
    s = pd.Series(values, dtype=object)
    return s.map(lambda v: None if v is None or (not isinstance(v, str) and pd.isna(v)) else
                 (str(int(v)) if isinstance(v, float) and float(v).is_integer() else str(v)))


def _z_lower(k1, n1, k2, n2) -> float:
    """One-sided p-value that proportion k1/n1 is lower than k2/n2 (two-proportion z-test, pooled): the normal
    distribution function by ``scipy.special.ndtr``, which ``scipy.stats.norm.cdf`` calls (the same number, without
    importing ``scipy.stats``: about a third of a CPU second, see ``stats/_numerics/distributions.py``)."""
    from scipy.special import ndtr

    if n1 == 0 or n2 == 0:
        return float("nan")
    p = (k1 + k2) / (n1 + n2)
    se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    return float(ndtr((k1 / n1 - k2 / n2) / se))


def by_group(table: pd.DataFrame, responses: pd.DataFrame, children: pd.DataFrame, by=(), alpha: float = 0.05
             ) -> pd.DataFrame:
    """Match rates by group, for data without a known truth.

    A response's group comes from the response itself when the column is there (``form_language``), else from
    the record of its linked child or, when it did not link, of its best candidate (responses with no candidate
    have no group for record-side variables). Columns: ``variable``, ``group``, ``n_responses``, ``n_linked``,
    ``n_review``, ``rate`` (linked share), ``review_share``, ``rest_rate`` (the rate of every other group
    together), ``difference`` (points), ``p_val`` (one-sided two-proportion z-test that the group's rate is lower
    than the rest's) and ``flag`` (True when ``p_val`` is below ``alpha`` divided by the number of groups of the
    variable: Bonferroni).
    """
    t = table.reset_index(drop=True)
    rec = t["child_id"].where(t["child_id"].notna(), t["candidate"])
    kids = children.drop_duplicates("child_id").set_index(children.drop_duplicates("child_id")["child_id"].astype(str))
    rows = []
    for var in by:
        if var in responses:
            g = _labels(responses[var].to_numpy())
        elif var in children:
            g = _labels(kids[var].reindex(rec.astype(str)).to_numpy())
            g[rec.isna().to_numpy()] = None
        else:
            continue
        ok = g.notna().to_numpy()
        linked = (t["status"] == "linked").to_numpy()
        review = (t["status"] == "review").to_numpy()
        groups = pd.unique(g[ok].astype(str))
        for grp in sorted(groups):
            m = ok & (g.astype(str) == grp).to_numpy()
            n1, k1 = int(m.sum()), int((linked & m).sum())
            n2, k2 = int((ok & ~m).sum()), int((linked & ok & ~m).sum())
            p = _z_lower(k1, n1, k2, n2)
            rows.append({"variable": var, "group": grp, "n_responses": n1, "n_linked": k1,
                         "n_review": int((review & m).sum()), "rate": k1 / n1 if n1 else np.nan,
                         "review_share": (review & m).sum() / n1 if n1 else np.nan,
                         "rest_rate": k2 / n2 if n2 else np.nan,
                         "difference": 100 * (k1 / n1 - k2 / n2) if n1 and n2 else np.nan,
                         "p_val": p, "flag": bool(p < alpha / max(len(groups), 1)) if np.isfinite(p) else False})
    cols = ["variable", "group", "n_responses", "n_linked", "n_review", "rate", "review_share", "rest_rate",
            "difference", "p_val", "flag"]
    return pd.DataFrame(rows, columns=cols)


def quality(table: pd.DataFrame, truth: dict, children: pd.DataFrame, by=()) -> pd.DataFrame:
    """Precision and recall of the links against the true links (synthetic cohorts: ``ground_truth["linkage"]
    ["true_child"]``, response_id -> child_id or None), overall and by group of the true child.

    Columns: ``variable`` (``all`` for the overall row), ``group``, ``n_true`` (responses whose child is in the
    records), ``n_linked`` (links made to children of the group), ``correct``, ``precision`` = correct /
    n_linked, ``recall`` = correct / n_true, ``review`` (true responses left in review) and ``false_links``.
    """
    t = table.reset_index(drop=True)
    true = t["response_id"].map(lambda r: truth.get(r))
    linked = t["child_id"].notna() & (t["status"] == "linked")
    correct = linked & (t["child_id"] == true)
    kids = children.drop_duplicates("child_id").set_index(children.drop_duplicates("child_id")["child_id"].astype(str))
    rows = []

    def row(var, grp, true_m, link_m):
        n_true, n_link = int(true_m.sum()), int(link_m.sum())
        ok = int((correct & true_m).sum())
        rows.append({"variable": var, "group": grp, "n_true": n_true, "n_linked": n_link, "correct": ok,
                     "precision": ok / n_link if n_link else np.nan, "recall": ok / n_true if n_true else np.nan,
                     "review": int(((t["status"] == "review") & true_m).sum()),
                     "false_links": n_link - int((correct & link_m).sum())})

    has_true = true.notna()
    row("all", "all", has_true, linked)
    for var in by:
        if var not in children:
            continue
        g_true = _labels(kids[var].reindex(true.fillna("").astype(str)).to_numpy())
        g_link = _labels(kids[var].reindex(t["child_id"].fillna("").astype(str)).to_numpy())
        for grp in sorted(pd.unique(pd.concat([g_true, g_link]).dropna().astype(str))):
            row(var, grp, has_true & (g_true.astype(str) == grp), linked & (g_link.astype(str) == grp))
    return pd.DataFrame(rows)


def adjusted_margins(groups: pd.DataFrame, base=("neighbourhood", "eal", "fsm"), available=None) -> list[str]:
    """The response-weight margins (``measurekit.stats.coverage.response_weights(by=...)``) with every variable
    in which ``by_group`` flagged a group added: raking to those margins gives the families whose responses link
    less often their cohort share back, so the link rate enters the weights. ``available``: the columns the
    cohort frame has (flagged variables it lacks, such as the response-side ``form_language``, are left out)."""
    out = list(base)
    if groups is not None and len(groups):
        for var in groups.loc[groups["flag"], "variable"].unique():
            if var not in out and (available is None or var in available):
                out.append(str(var))
    return out
