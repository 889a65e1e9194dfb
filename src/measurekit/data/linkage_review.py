"""The clerical review queue: pairs a person should look at, and their decisions kept for re-runs.

``review_queue(matches)`` lists, for every response in review, its best candidate (and the next one when two are
close, as with twins) with the identifiers side by side and a blank ``decision`` column. The queue holds names,
dates of birth and postcodes: it belongs in the internal folder only (``measurekit link`` writes it beside the
linked file and refuses a folder called ``shareable``). Fill ``decision`` with ``accept`` or ``reject`` in a
spreadsheet (or with ``review_widget`` in a notebook) and pass the file back (``measurekit link --decisions``);
decisions are keyed on ``response_id`` and ``child_id``, so they apply again on every re-run while the pair
exists, and a response whose best candidate changed comes back to the queue.
"""
from __future__ import annotations

import pandas as pd

QUEUE_COLUMNS = ["response_id", "child_id", "candidate_rank", "match_weight", "match_probability", "reason",
                 "first_name_response", "first_name_record", "last_name_response", "last_name_record",
                 "dob_response", "dob_record", "postcode_response", "postcode_record", "setting_response",
                 "setting_record", "decision"]


def review_queue(matches) -> pd.DataFrame:
    """One row per candidate pair to review: ``response_id``, ``child_id`` (the candidate), ``candidate_rank`` (1
    best, 2 next), ``match_weight``, ``match_probability``, ``reason``, the compared values of both sides
    (normalised as the model saw them: ``<identifier>_response``, ``<identifier>_record``) and ``decision``
    (blank: accept or reject)."""
    t = matches.table
    todo = t[t["status"] == "review"]
    pairs = matches.pairs
    if todo.empty or pairs is None or pairs.empty:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    p = pairs[pairs["response_key"].isin(set(todo["response_id"]))]
    p = p[p["match_probability"] >= matches.lower]
    p = p.sort_values(["response_key", "match_weight"], ascending=[True, False])
    p = p.assign(candidate_rank=p.groupby("response_key").cumcount() + 1)
    p = p[p["candidate_rank"] <= 2]
    reasons = dict(zip(todo["response_id"], todo["reason"]))
    out = pd.DataFrame({"response_id": p["response_key"], "child_id": p["record_key"],
                        "candidate_rank": p["candidate_rank"], "match_weight": p["match_weight"].round(2),
                        "match_probability": p["match_probability"].round(4),
                        "reason": p["response_key"].map(reasons)})
    for c in ("first_name", "last_name", "dob", "postcode", "setting"):
        out[f"{c}_response"] = p.get(f"{c}_resp")
        out[f"{c}_record"] = p.get(f"{c}_rec")
    out["decision"] = ""
    return out[QUEUE_COLUMNS].reset_index(drop=True)


def read_decisions(path) -> pd.DataFrame:
    """A filled-in review queue (or any CSV with ``response_id``, ``child_id``, ``decision``), checked: see
    ``measurekit.data.linkage_match.check_decisions`` (``InputError`` with code ``review_decision`` lists every
    row that is not valid; ``unreadable_file`` when the file cannot be read)."""
    from pathlib import Path

    from measurekit.data.linkage_match import check_decisions
    from measurekit.problems import InputError, Problem, ProblemReport

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(ProblemReport([Problem("unreadable_file", f"The review decisions file {str(path)!r} cannot "
                                                f"be read ({type(exc).__name__}).", file=str(path))],
                                       title="Clerical review decisions")) from None
    return check_decisions(frame, Path(path).name)


def review_widget(queue: pd.DataFrame):
    """A small notebook widget: one pair at a time with Accept, Reject and Skip buttons. Returns the widget; its
    ``decisions`` attribute is the queue with the ``decision`` column filled as you click (save it with
    ``measurekit.core.atomic.write_csv`` into the internal folder and pass it to ``link(decisions=...)``)."""
    import ipywidgets as w

    frame = queue.copy().reset_index(drop=True)
    frame["decision"] = frame["decision"].fillna("")
    state = {"i": 0}
    body = w.HTML()
    buttons = [w.Button(description=d) for d in ("Accept", "Reject", "Skip")]
    box = w.VBox([body, w.HBox(buttons)])

    def show():
        if state["i"] >= len(frame):
            body.value = f"<p>All {len(frame)} pairs seen.</p>"
            return
        r = frame.iloc[state["i"]]
        cells = "".join(f"<tr><th>{c}</th><td>{r[f'{c}_response']}</td><td>{r[f'{c}_record']}</td></tr>"
                        for c in ("first_name", "last_name", "dob", "postcode", "setting"))
        body.value = (f"<p>Pair {state['i'] + 1} of {len(frame)}: response {r['response_id']} and record "
                      f"{r['child_id']} (match weight {r['match_weight']}, {r['reason']})</p>"
                      f"<table><tr><th></th><th>response</th><th>record</th></tr>{cells}</table>")

    def click(b):
        if state["i"] < len(frame) and b.description != "Skip":
            frame.loc[state["i"], "decision"] = b.description.lower()
        state["i"] += 1
        show()

    for b in buttons:
        b.on_click(click)
    show()
    box.decisions = frame
    return box
