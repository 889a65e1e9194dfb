"""Content validity: how relevant and how clear the people an instrument is for judge each item.

A panel (parents, practitioners, community partners...) rates every item for **relevance** and
**clarity** on 1-4 (1 not relevant / not clear ... 4 highly relevant / very clear). The ratings file
has one row per rater and item:

    rater, rater_group, item, relevance, clarity, comment

(``clarity`` and ``comment`` may be blank). :func:`ratings_template` writes the file to fill in
(CSV) and :func:`ratings_xlsform` an XLSForm to collect it on tablets.

The indices follow Polit, Beck and Owen (2007), "Is the CVI an acceptable indicator of content
validity? Appraisal and recommendations", *Research in Nursing & Health* 30, 459-467:

* I-CVI (item-level): the share of raters who gave the item 3 or 4 (``A`` of ``N`` raters);
* S-CVI/Ave: the mean of the I-CVIs over the items; S-CVI/UA: the share of items that *every*
  rater gave 3 or 4 (universal agreement);
* modified kappa ``k* = (I-CVI - pc) / (1 - pc)`` with ``pc = C(N, A) * 0.5**N``, the probability of
  chance agreement that ``A`` of ``N`` raters say "relevant"; adequacy (Cicchetti and Sparrow 1981, as
  Polit et al. table 2): excellent k* > 0.74, good 0.60-0.74, fair 0.40-0.59, poor below 0.40.

Everything is computed by rater group and for all raters together (group ``"all"``).
:func:`record_flags` writes the flagged items into their co-design history with the numbers.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from measurekit.core import thresholds
from measurekit.core.result import Result
from measurekit.problems import InputError, ProblemReport

RATINGS_FILE = "content_validity.csv"     # in a framework's evidence folder
RATING_COLUMNS = ["rater", "rater_group", "item", "relevance", "clarity", "comment"]
RELEVANCE_LABELS = {1: "Not relevant", 2: "Somewhat relevant", 3: "Quite relevant", 4: "Highly relevant"}
CLARITY_LABELS = {1: "Not clear", 2: "Somewhat clear", 3: "Quite clear", 4: "Very clear"}
ALL = "all"


# Frictionless Table Schema of the ratings file.
TABLE_SCHEMA = {"fields": [
    {"name": "rater", "type": "string", "description": "Pseudonymous rater code", "constraints": {"required": True}},
    {"name": "rater_group", "type": "string", "description": "Rater group (parent, practitioner, ...)",
     "constraints": {"required": True}},
    {"name": "item", "type": "string", "description": "Item id, as in items.yaml", "constraints": {"required": True}},
    {"name": "relevance", "type": "integer", "description": "Relevance 1 (not relevant) to 4 (highly relevant)",
     "constraints": {"required": True, "minimum": 1, "maximum": 4}},
    {"name": "clarity", "type": "integer", "description": "Clarity 1 (not clear) to 4 (very clear); blank if not rated",
     "constraints": {"minimum": 1, "maximum": 4}},
    {"name": "comment", "type": "string", "description": "The rater's comment, if any"},
], "missingValues": [""]}


def chance_agreement(n: int, a: int) -> float:
    """``pc = C(N, A) * 0.5**N``: probability that ``a`` of ``n`` raters agree an item is relevant by chance."""
    return math.comb(int(n), int(a)) * 0.5 ** int(n)


def modified_kappa(i_cvi: float, pc: float) -> float:
    """``k* = (I-CVI - pc) / (1 - pc)`` (Polit, Beck and Owen 2007)."""
    return (i_cvi - pc) / (1 - pc)


def adequacy(kappa: float) -> str:
    """Label of a modified kappa: excellent (> 0.74), good (0.60-0.74), fair (0.40-0.59), poor (< 0.40)."""
    if kappa is None or not np.isfinite(kappa):
        return ""
    if kappa > thresholds.KAPPA_EXCELLENT:
        return "excellent"
    if kappa >= thresholds.KAPPA_GOOD:
        return "good"
    if kappa >= thresholds.KAPPA_FAIR:
        return "fair"
    return "poor"


@dataclass
class ContentValidityResult(Result):
    """Result of :func:`content_validity`.

    ``items``: one row per rater group (``"all"`` = every rater) and item, with
      group, item, n_raters (N: raters who rated the item's relevance), n_relevant (A: rated 3 or 4),
      i_cvi (A / N), pc (chance agreement C(N, A) 0.5^N), kappa (modified kappa k*), adequacy
      (excellent / good / fair / poor), n_clarity, n_clear (clarity 3 or 4), clarity_cvi (share clear),
      flagged (True when kappa or clarity_cvi is below the thresholds) and reason.
    ``scale``: one row per group: group, n_items, n_raters, s_cvi_ave (mean I-CVI), s_cvi_ua (share of
      items every rater rated 3 or 4), clarity_ave (mean clarity CVI), n_flagged.
    ``comments``: the raters' comments on flagged items (group, item, rater, relevance, clarity, comment).
    ``flagged``: item ids flagged in any group, in the order they were rated.
    """

    items: pd.DataFrame
    scale: pd.DataFrame
    comments: pd.DataFrame
    flagged: list[str] = field(default_factory=list)
    kappa_min: float = thresholds.KAPPA_GOOD
    clarity_min: float = thresholds.CLARITY_MIN
    warnings: list[str] = field(default_factory=list)
    _title = "Content validity (CVI and modified kappa, Polit, Beck and Owen 2007)"
    _main = "items"

    def item_numbers(self, item: str, group: str = ALL) -> dict:
        """The numbers of one item in one group (as written into its history)."""
        row = self.items[(self.items["item"] == item) & (self.items["group"] == group)]
        if row.empty:
            raise KeyError(f"no ratings of item {item!r} in group {group!r}")
        r = row.iloc[0]
        return {"group": group, "n_raters": int(r["n_raters"]), "i_cvi": round(float(r["i_cvi"]), 3),
                "kappa": round(float(r["kappa"]), 3), "adequacy": r["adequacy"],
                "clarity_cvi": None if pd.isna(r["clarity_cvi"]) else round(float(r["clarity_cvi"]), 3)}


def read_ratings(path) -> pd.DataFrame:
    """Read a ratings file (CSV, or Excel .xlsx) as text; checks happen in :func:`check_ratings`."""
    path = Path(path)
    if not path.exists():
        raise InputError.of("missing_file", f"Ratings file {path} does not exist.", file=str(path))
    if path.suffix.lower() in (".xlsx", ".xls"):
        frame = pd.read_excel(path, dtype=str).fillna("")
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.attrs["file"] = path.name
    return frame


def check_ratings(ratings: pd.DataFrame, framework=None, file: str | None = None) -> ProblemReport:
    """Every problem of a ratings table: missing columns, blank rater/group/item, relevance or clarity not
    1-4, the same rater rating an item twice, items the framework does not define. Rows are numbered as in
    a spreadsheet (header = row 1)."""
    file = file or ratings.attrs.get("file")
    report = ProblemReport(title=f"Content validity ratings{f' {file}' if file else ''}")
    for col in ("rater", "rater_group", "item", "relevance"):
        if col not in ratings.columns:
            report.add("missing_column", f"The ratings need a {col!r} column.", file=file, column=col)
    if not report.ok:
        return report
    text = ratings.astype(object).where(ratings.notna(), "").astype(str).apply(lambda s: s.str.strip())
    for col in ("rater", "rater_group", "item", "relevance"):
        for at in np.flatnonzero(text[col].to_numpy() == ""):
            report.add("missing_value", f"Row {at + 2} has no {col}.", file=file, row=at + 2, column=col)
    for col in ("relevance", "clarity"):
        if col not in text:
            continue
        for pos, value in enumerate(text[col]):
            if value and value not in ("1", "2", "3", "4", "1.0", "2.0", "3.0", "4.0"):
                report.add("out_of_range", f"{col} must be 1, 2, 3 or 4 (row {pos + 2}).", file=file, row=pos + 2,
                           column=col, value=value, rule="one of 1|2|3|4")
    key = text["rater"] + "\x00" + text["item"]
    for at in np.flatnonzero(key.duplicated(keep="first").to_numpy() & (text["rater"] != "").to_numpy()):
        report.add("duplicate_rating", f"Rater {text['rater'].iloc[at]} rates item {text['item'].iloc[at]} "
                   "more than once.", file=file, row=at + 2, column="item", value=text["item"].iloc[at])
    groups = text.groupby("rater")["rater_group"].nunique()
    for rater in groups.index[groups > 1]:
        pos = int(np.flatnonzero(text["rater"].to_numpy() == rater)[0])
        report.add("inconsistent_group", f"Rater {rater} is listed in more than one rater group.", file=file,
                   row=pos + 2, column="rater_group", value=rater)
    if framework is not None:
        known = {i.id for i in framework.items}
        for pos, item in enumerate(text["item"]):
            if item and item not in known:
                report.add("unknown_item", f"Item {item!r} is not in the framework.", file=file, row=pos + 2,
                           column="item", value=item)
    return report


def _group_items(frame: pd.DataFrame, group: str, kappa_min: float, clarity_min: float) -> list[dict]:
    rows = []
    for item, block in frame.groupby("item", sort=False):
        rel = block["relevance"].dropna()
        n, a = int(len(rel)), int((rel >= 3).sum())
        cl = block["clarity"].dropna()
        row: dict[str, Any] = {"group": group, "item": item, "n_raters": n, "n_relevant": a}
        if n:
            i_cvi = a / n
            pc = chance_agreement(n, a)
            kappa = modified_kappa(i_cvi, pc)
            row.update(i_cvi=i_cvi, pc=pc, kappa=kappa, adequacy=adequacy(kappa))
        else:
            row.update(i_cvi=np.nan, pc=np.nan, kappa=np.nan, adequacy="")
        row.update(n_clarity=int(len(cl)), n_clear=int((cl >= 3).sum()),
                   clarity_cvi=float((cl >= 3).mean()) if len(cl) else np.nan)
        reasons = []
        if n and row["kappa"] < kappa_min:
            reasons.append(f"relevance k* {row['kappa']:.2f} ({row['adequacy']}) below {kappa_min:.2f}")
        if len(cl) and row["clarity_cvi"] < clarity_min:
            reasons.append(f"clarity CVI {row['clarity_cvi']:.2f} below {clarity_min:.2f}")
        row.update(flagged=bool(reasons), reason="; ".join(reasons))
        rows.append(row)
    return rows


def content_validity(data, *, framework=None, kappa_min: float = thresholds.KAPPA_GOOD,
                     clarity_min: float = thresholds.CLARITY_MIN,
                     by: str = "rater_group") -> ContentValidityResult:
    """I-CVI, S-CVI/Ave, S-CVI/UA and the modified kappa of every item, by rater group and overall.

    Parameters
    ----------
    data : the ratings: a DataFrame (or path to a CSV/.xlsx) with columns rater, rater_group, item, relevance (1-4) and
        optionally clarity (1-4) and comment. Not modified.
    framework : optional ``Framework`` (or folder); when given, item ids are checked against it.
    kappa_min : an item is flagged in a group when its modified kappa is below this (default 0.60: "fair"
        or "poor" in Polit et al.'s table; with six or more raters this is I-CVI below 0.78).
    clarity_min : an item is flagged when the share of raters who found it clear (3-4) is below this.
    by : column that defines the rater groups.

    Raises ``InputError`` listing every problem of the ratings (see :func:`check_ratings`). The same
    numbers are not in psych; they are checked by hand against Polit et al.'s definitions in the tests.
    """
    if not isinstance(data, pd.DataFrame):
        data = read_ratings(data)
    if framework is not None and not hasattr(framework, "items"):
        from measurekit.design import load_framework

        framework = load_framework(framework)
    check_ratings(data.rename(columns={by: "rater_group"}) if by != "rater_group" else data,
                  framework).raise_if_errors()
    frame = pd.DataFrame({
        "rater": data["rater"].astype(str).str.strip(),
        "rater_group": data[by].astype(str).str.strip(),
        "item": data["item"].astype(str).str.strip(),
        "relevance": pd.to_numeric(data["relevance"], errors="coerce"),
        "clarity": pd.to_numeric(data["clarity"], errors="coerce") if "clarity" in data else np.nan,
        "comment": data["comment"].fillna("").astype(str) if "comment" in data else "",
    })
    # the group names are text (rater_group was made str above)
    groups = [(ALL, frame)] + [(str(g), b) for g, b in frame.groupby("rater_group", sort=True)]
    item_rows, scale_rows, warnings = [], [], []
    for group, block in groups:
        rows = _group_items(block, group, kappa_min, clarity_min)
        item_rows += rows
        wide = block.pivot(index="item", columns="rater", values="relevance")
        complete = wide.notna().all(axis=1)
        if not complete.all():
            warnings.append(f"Group {group}: {int((~complete).sum())} item(s) not rated by every rater; "
                            "S-CVI/UA counts only the raters who rated each item.")
        ua = [(wide.loc[i].dropna() >= 3).all() for i in wide.index]
        scale_rows.append({"group": group, "n_items": len(rows), "n_raters": int(block["rater"].nunique()),
                           "s_cvi_ave": float(np.mean([r["i_cvi"] for r in rows])),
                           "s_cvi_ua": float(np.mean(ua)),
                           "clarity_ave": float(np.nanmean([r["clarity_cvi"] for r in rows]))
                           if block["clarity"].notna().any() else np.nan,
                           "n_flagged": int(sum(r["flagged"] for r in rows))})
        if block["rater"].nunique() < 3:
            warnings.append(f"Group {group}: fewer than 3 raters; Polit et al. suggest at least 3 (ideally 6 or more).")
    items = pd.DataFrame(item_rows)
    any_flag = set(items.loc[items["flagged"], "item"])
    flagged = [i for i in dict.fromkeys(frame["item"]) if i in any_flag]
    flagged_keys = set(zip(items.loc[items["flagged"], "group"], items.loc[items["flagged"], "item"]))
    com = frame[(frame["comment"].str.strip() != "")]
    com = com[np.array([(g, i) in flagged_keys or (ALL, i) in flagged_keys
                        for g, i in zip(com["rater_group"], com["item"])], dtype=bool)]
    comments = com.rename(columns={"rater_group": "group"})[["group", "item", "rater", "relevance", "clarity",
                                                             "comment"]]
    return ContentValidityResult(items=items, scale=pd.DataFrame(scale_rows), comments=comments.reset_index(drop=True),
                                 flagged=flagged, kappa_min=kappa_min, clarity_min=clarity_min, warnings=warnings)


def record_flags(framework, result: ContentValidityResult, *, date: str | None = None,
                 by: str = "content validity panel", save: bool = False):
    """A copy of ``framework`` whose flagged items carry a ``flagged`` history entry with the panel's numbers.

    Each entry: status ``flagged``, the date (default today), ``by``, a plain-English reason naming the
    groups and thresholds, and ``content_validity``: the numbers per group (n_raters, i_cvi, kappa,
    adequacy, clarity_cvi). The framework passed in is not changed; with ``save=True`` the copy is written
    back to its folder through ``design.saving.save_framework`` (atomically).
    """
    from measurekit.design.models import HistoryEntry
    from measurekit.design.saving import save_framework

    fw = framework.model_copy(deep=True)
    date = date or dt.date.today().isoformat()
    groups = list(dict.fromkeys(result.items["group"]))
    for item_id in result.flagged:
        if item_id not in {i.id for i in fw.items}:
            continue
        rows = result.items[(result.items["item"] == item_id)]
        reasons = [f"{g}: {r}" for g, r in zip(rows["group"], rows["reason"]) if r]
        numbers = [result.item_numbers(item_id, g) for g in groups if g in set(rows["group"])]
        fw.item(item_id).history.append(HistoryEntry(
            status="flagged", date=date, by=by,
            reason="Content validity panel flagged the item (" + "; ".join(reasons) + ").",
            content_validity=numbers))
    if save:
        save_framework(fw)
    return fw


def ratings_template(framework, raters: dict[str, str] | None = None, path=None) -> pd.DataFrame:
    """The ratings file to fill in: one row per rater and item, with the item's wording for reference.

    ``raters`` maps rater id -> rater group (default: six placeholder parents and six practitioners).
    With ``path`` the template is written there as CSV (atomically). Columns: the RATING_COLUMNS plus
    ``domain`` and ``wording`` (ignored when the file is read back).
    """
    from measurekit.core import atomic

    raters = raters or {**{f"P{k}": "parent" for k in range(1, 7)}, **{f"X{k}": "practitioner" for k in range(1, 7)}}
    lang = framework.languages[0]
    rows = [{"rater": r, "rater_group": g, "item": it.id, "relevance": "", "clarity": "", "comment": "",
             "domain": it.domain, "wording": it.stem.get(lang, "")}
            for r, g in raters.items() for it in framework.items]
    frame = pd.DataFrame(rows, columns=RATING_COLUMNS + ["domain", "wording"])
    if path is not None:
        atomic.write_csv(path, frame)
    return frame


def ratings_xlsform_sheets(framework, language: str | None = None) -> dict[str, pd.DataFrame]:
    """An XLSForm (survey, choices, settings) to collect one rater's ratings on a phone or tablet.

    For each item: its wording as a note, then relevance and clarity (1-4, select_one) and a comment.
    Field names: ``<item>_relevance``, ``<item>_clarity``, ``<item>_comment``; :func:`ratings_from_xlsform`
    turns submissions back into the long ratings table.
    """
    lang = language or framework.languages[0]
    survey = [{"type": "text", "name": "rater", "label": "Your rater code", "required": "yes"},
              {"type": "select_one rater_group", "name": "rater_group", "label": "You are taking part as",
               "required": "yes"}]
    for it in framework.items:
        survey += [
            {"type": "begin_group", "name": f"g_{it.id}", "label": f"Question {it.id}"},
            {"type": "note", "name": f"{it.id}_wording", "label": it.stem.get(lang, it.stem.get("en", ""))},
            {"type": "select_one relevance", "name": f"{it.id}_relevance",
             "label": "How relevant is this question for families like yours?", "required": "yes"},
            {"type": "select_one clarity", "name": f"{it.id}_clarity", "label": "How clear is the question?"},
            {"type": "text", "name": f"{it.id}_comment", "label": "Anything to change? (optional)"},
            {"type": "end_group", "name": "", "label": ""}]
    choices = ([{"list_name": "relevance", "name": k, "label": f"{k} {v}"} for k, v in RELEVANCE_LABELS.items()]
               + [{"list_name": "clarity", "name": k, "label": f"{k} {v}"} for k, v in CLARITY_LABELS.items()]
               + [{"list_name": "rater_group", "name": g, "label": g.replace("_", " ").capitalize()}
                  for g in ("parent", "practitioner", "community_partner", "other")])
    settings = [{"form_title": "Content validity ratings", "form_id": "content_validity",
                 "version": (framework.version or "1").replace(".", "")}]
    return {"survey": pd.DataFrame(survey), "choices": pd.DataFrame(choices), "settings": pd.DataFrame(settings)}


def write_ratings_xlsform(framework, path, language: str | None = None) -> Path:
    """Write :func:`ratings_xlsform_sheets` as an .xlsx XLSForm (atomically)."""
    from measurekit.core import atomic

    with atomic.atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, frame in ratings_xlsform_sheets(framework, language).items():
                frame.to_excel(xw, sheet_name=name, index=False)
    return Path(path)


def ratings_from_xlsform(submissions: pd.DataFrame) -> pd.DataFrame:
    """Submissions of the ratings XLSForm (one row per rater, wide) -> the long ratings table."""
    rows = []
    items = [c[: -len("_relevance")] for c in submissions.columns if c.endswith("_relevance")]
    for _, sub in submissions.iterrows():
        for it in items:
            rows.append({"rater": sub["rater"], "rater_group": sub["rater_group"], "item": it,
                         "relevance": sub.get(f"{it}_relevance"), "clarity": sub.get(f"{it}_clarity"),
                         "comment": sub.get(f"{it}_comment", "")})
    return pd.DataFrame(rows, columns=RATING_COLUMNS)
