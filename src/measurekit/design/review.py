"""Framework review: a structured self-assessment of an information use project.

Questions and criteria per Practice (eight) and per set of Enablers (two), grouped under the
four Approaches of the Children's Information Project framework (``review_questions.yaml``, shipped
with the package; pass your own file to :func:`load_questions`). Each question is scored 0-3
(not started / emerging / established / embedded) with notes and evidence links.

    q = load_questions()
    r = new_review("School readiness trial", assessor="EY team")
    r["answers"]["codesign_who"] = {"score": 2, "notes": "...", "evidence": ["https://..."]}
    save_review(r, "review.yaml"); r = load_review("review.yaml", q)
    s = summarise(r, q, framework="indicators/<your-framework>")
    plot_review(s)

The widget ``measurekit.design.widgets.review.FrameworkReview`` calls these functions.
"""
from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import pandas as pd

from measurekit.problems import InputError, ProblemReport

LEVELS = (0, 1, 2, 3)
LOW = 1.5          # a Practice the framework claims to serve but scoring below this is highlighted


def load_questions(path=None) -> dict:
    """Questions as a dict with ``levels``, ``approaches``, ``practices``, ``enablers``; checks them."""
    import yaml

    if path is None:
        text = resources.files("measurekit.design").joinpath("review_questions.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    q = yaml.safe_load(text)
    report = ProblemReport(title="Review questions")
    for key in ("levels", "approaches", "practices", "enablers"):
        if key not in q:
            report.add("missing_section", f"The questions file has no {key!r} section.", column=key)
    report.raise_if_errors()
    seen = set()
    for kind in ("practices", "enablers"):
        for area, spec in q[kind].items():
            if kind == "practices" and spec.get("approach") not in q["approaches"]:
                report.add("unknown_approach", f"Practice {area!r} names approach {spec.get('approach')!r}, "
                           "which is not in 'approaches'.", column=f"{kind}.{area}.approach")
            for qu in spec.get("questions", []):
                if qu["id"] in seen:
                    report.add("duplicate_id", f"Question id {qu['id']!r} is used twice.", column=f"{kind}.{area}")
                seen.add(qu["id"])
    report.raise_if_errors()
    return q


def questions_table(questions: dict) -> pd.DataFrame:
    """One row per question: kind (practice/enabler), area, area_title, approach, id, text, criteria."""
    rows = []
    for kind, key in (("practice", "practices"), ("enabler", "enablers")):
        for area, spec in questions[key].items():
            for qu in spec.get("questions", []):
                rows.append({"kind": kind, "area": area, "area_title": spec.get("title", area),
                             "approach": spec.get("approach", ""), "id": qu["id"], "text": qu["text"],
                             "criteria": qu.get("criteria", "")})
    return pd.DataFrame(rows)


def new_review(project: str, assessor: str = "", questions: dict | None = None, date: str | None = None) -> dict:
    """An empty review: every question unscored (``score: None``), no notes, no evidence."""
    questions = questions or load_questions()
    ids = questions_table(questions)["id"]
    return {"project": project, "assessor": assessor, "date": date or dt.date.today().isoformat(),
            "answers": {i: {"score": None, "notes": "", "evidence": []} for i in ids}}


def check_review(review: dict, questions: dict) -> ProblemReport:
    """Problems in a review: unknown question ids, scores outside 0-3, evidence not a list."""
    report = ProblemReport(title="Framework review")
    known = set(questions_table(questions)["id"])
    for qid, ans in (review.get("answers") or {}).items():
        if qid not in known:
            report.add("unknown_question", f"Answer to unknown question {qid!r}.", column=f"answers.{qid}")
            continue
        s = (ans or {}).get("score")
        if s is not None and s not in LEVELS:
            report.add("bad_score", f"Score {s!r} for {qid!r}: use 0, 1, 2, 3 or leave blank.",
                       column=f"answers.{qid}.score", value=s, rule="0-3")
        if not isinstance((ans or {}).get("evidence", []), list):
            report.add("bad_evidence", f"Evidence for {qid!r} must be a list of links or file names.",
                       column=f"answers.{qid}.evidence")
    if not review.get("project"):
        report.add("no_project", "The review has no project name.", column="project", severity="warning")
    return report


def save_review(review: dict, path, questions: dict | None = None) -> Path:
    """Write the review as YAML (atomically) after checking it; returns the path."""
    import yaml

    from measurekit.core.atomic import write_text

    questions = questions or load_questions()
    check_review(review, questions).raise_if_errors()
    text = "# Framework self-assessment written by measurekit.design.review (scores 0-3; blank = not scored)\n"
    text += yaml.safe_dump(review, sort_keys=False, allow_unicode=True)
    return write_text(path, text)


def file_problem(exc: BaseException, path, action: str) -> str:
    """A plain-English sentence for a file error met while saving or loading ``path``."""
    p = Path(str(path))
    if isinstance(exc, IsADirectoryError) or p.is_dir():
        return (f"{p} is a folder, not a file. Give a file name inside it, for example "
                f"{p / 'framework_review.yaml'}.")
    if isinstance(exc, FileNotFoundError):
        if action == "load":
            return f"There is no file {p} yet. Check the name, or score the questions and save first."
        return f"The folder {p.parent} does not exist. Create it first, or choose another folder."
    if isinstance(exc, PermissionError):
        return f"measurekit is not allowed to {action} {p}. Ask for access to the folder, or choose another one."
    if isinstance(exc, InputError):
        return f"{p} cannot be used as a review: " + "; ".join(x.message for x in exc.report.errors[:3])
    if isinstance(exc, UnicodeDecodeError):
        return f"{p} is not a text (YAML) file. Choose the .yaml file measurekit saved."
    return f"Could not {action} {p}: {exc}"


def load_review(path, questions: dict | None = None) -> dict:
    """Read a review YAML; unanswered questions are added as unscored. Raises InputError on bad content."""
    import yaml

    questions = questions or load_questions()
    review = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(review, dict):
        raise InputError.of("unreadable_file", f"{path} is not a framework review (expected a mapping).",
                            file=str(path))
    check_review(review, questions).raise_if_errors()
    answers = review.setdefault("answers", {}) or {}
    review["answers"] = answers
    for qid in questions_table(questions)["id"]:
        a = answers.setdefault(qid, {})
        a.setdefault("score", None)
        a.setdefault("notes", "")
        a.setdefault("evidence", [])
    return review


def framework_claims(framework) -> tuple[list[str], list[str]]:
    """The Approaches and Practices a framework says it serves (``framework.yaml``'s ``approaches``
    and ``practices``). ``framework``: a loaded Framework, a folder or a framework.yaml path."""
    if framework is None:
        return [], []
    if hasattr(framework, "practices"):
        return list(framework.approaches), list(framework.practices)
    p = Path(framework)
    try:
        from measurekit.design import load_framework

        fw = load_framework(p if p.is_dir() else p.parent)
        return list(fw.approaches), list(fw.practices)
    except Exception:       # fall back to the raw YAML (e.g. a framework folder with other problems)
        import yaml

        y = yaml.safe_load((p / "framework.yaml" if p.is_dir() else p).read_text(encoding="utf-8")) or {}
        return list(y.get("approaches") or []), list(y.get("practices") or [])


def level_label(score: float | None, questions: dict | None = None) -> str:
    """The level name of a (mean) score, rounded down: 0 not started ... 3 embedded; '' if unscored."""
    if score is None or pd.isna(score):
        return ""
    levels = (questions or load_questions())["levels"]
    return levels[int(min(3, max(0, score)))]["label"]


def summarise(review: dict, questions: dict | None = None, framework=None, low: float = LOW) -> pd.DataFrame:
    """One row per Practice and Enabler set.

    Columns: kind (practice/enabler), area, title, approach, n_questions, n_scored, score (mean of
    the scored questions, NaN if none), level (label of the rounded-down mean), claimed (the
    framework says it serves this Practice), unscored (claimed, and none of its questions scored
    yet), low (claimed, scored, and below ``low``), evidence (number of evidence links).
    """
    questions = questions or load_questions()
    qt = questions_table(questions)
    answers = review.get("answers", {})
    qt["score"] = [(answers.get(i) or {}).get("score") for i in qt["id"]]
    qt["score"] = pd.to_numeric(qt["score"], errors="coerce")
    qt["n_evidence"] = [len((answers.get(i) or {}).get("evidence") or []) for i in qt["id"]]
    _, practices = framework_claims(framework)
    out = (qt.groupby(["kind", "area"], sort=False)
             .agg(title=("area_title", "first"), approach=("approach", "first"), n_questions=("id", "size"),
                  n_scored=("score", "count"), score=("score", "mean"), evidence=("n_evidence", "sum"))
             .reset_index())
    out["level"] = [level_label(s, questions) for s in out["score"]]
    out["claimed"] = out["area"].isin(practices)
    out["unscored"] = out["claimed"] & (out["n_scored"] == 0)
    out["low"] = out["claimed"] & (out["score"] < low)
    return out[["kind", "area", "title", "approach", "n_questions", "n_scored", "score", "level", "claimed",
                "unscored", "low", "evidence"]]


def summarise_approaches(summary: pd.DataFrame, questions: dict | None = None) -> pd.DataFrame:
    """One row per Approach: approach, title, practices (count), score (mean of its Practices' scores)."""
    questions = questions or load_questions()
    p = summary[summary["kind"] == "practice"]
    rows = []
    for a, title in questions["approaches"].items():
        sub = p[p["approach"] == a]
        rows.append({"approach": a, "title": title, "practices": len(sub), "score": sub["score"].mean()})
    return pd.DataFrame(rows)


def plot_review(summary: pd.DataFrame, ax=None, questions: dict | None = None):
    """Horizontal bars of the 0-3 score of each Practice (grouped by Approach) and Enabler set.
    Practices the framework claims to serve are marked with *, in red when they score low."""
    import matplotlib.pyplot as plt

    questions = questions or load_questions()
    order = list(questions["approaches"]) + [""]
    s = summary.assign(_o=summary["approach"].fillna("").map({a: i for i, a in enumerate(order)}))
    s = s.sort_values(["_o", "kind"], kind="stable").iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.45 * len(s) + 1))
    colours = ["#c0392b" if lo else ("#2e86c1" if k == "practice" else "#7f8c8d")
               for lo, k in zip(s["low"], s["kind"])]
    labels = [("* " if c else "") + t for c, t in zip(s["claimed"], s["title"])]
    ax.barh(range(len(s)), s["score"].fillna(0), color=colours)
    ax.set_yticks(range(len(s)), labels, fontsize=8)
    ax.set_xlim(0, 3)
    ax.set_xticks(LEVELS, [questions["levels"][lv]["label"] for lv in LEVELS], fontsize=8)
    ax.set_title("Framework self-assessment (* = the framework says it serves this Practice; red = scores low)",
                 fontsize=9)
    for y, v in enumerate(s["score"]):
        ax.text(0.03 if pd.isna(v) else v + 0.03, y, "not scored" if pd.isna(v) else f"{v:.1f}", va="center",
                fontsize=7)
    ax.figure.tight_layout()
    return ax
