"""Two perspectives rating the same topics at repeated reviews: agreement, divergence, missingness, change,
and discordance with a routine yes/no measure.

The design: each person, at each review, has each topic rated (say 0-10) twice, once from each of two
perspectives (the person and a worker, a parent and a practitioner...). Topics may count in several outcome
domains. Nothing here knows any framework: topics, perspectives, rounds and groups are values the caller names.

The data are **long**: one row per person, review, perspective and topic, with columns (names are keywords)

- ``id`` (default ``"person_id"``): the person;
- ``round`` (default None: one review per person): the review; its values sort in time order (numbers, dates, or
  text such as ``"2025-03"``);
- ``perspective`` (default ``"perspective"``): who rated; ``perspectives=(first, second)`` names the two values
  to compare, and every difference is **first minus second**;
- ``topic`` (default ``"topic"``) and ``rating`` (default ``"rating"``, numeric, within ``scale``; blank = not
  rated). A rating that is absent (no row) and a blank rating both count as missing.

``items=`` keeps only those topics. ``rating_range=(lowest, highest)`` is the rating range (default 0-10). With
``framework=`` (a ``Framework``, its folder, or the mapping ``mk.score`` takes) the scale, the don't-know code (read
as not rated) and the domains come from the framework unless given; a framework domain whose items are not all
rated is left out with a note in ``warnings``.

Per-perspective wide tables (one row per person and review, one column per topic) become this shape with
:func:`stack_perspectives`. Group columns (``by=``: area, gender, age band...) are columns of the data, one
value per person and review.

Domain scores: ``domains={"domain": [topic, ...]}`` (a topic may be listed under several domains and then counts in
each). A domain's score for one person, review and perspective is the mean of its topics' ratings, and is missing
unless every topic of the domain is rated (``min_topics`` lowers that to a number of topics). Domain rows carry
``level = "domain"``; topic rows ``level = "topic"``.

Which review: agreement, divergence and discordance use one review per person (``review="latest"``, the default;
``"first"``, a round value, or ``"all"`` to count every person-review as a separate case, which treats repeated
reviews of one person as independent); missingness counts every expected rating of every review; change pairs the
reviews of each person.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core.result import Result
from measurekit.problems import InputError, ProblemReport

_TITLE = "Two-perspective ratings"
_MAX_LISTED = 20          # problems listed per check before the report says "and N more"


# ----------------------------------------------------------------------------------------------------------------
# reading the data once

@dataclass
class _Design:
    data: pd.DataFrame        # id, round, topic, + one column per perspective (ratings, NaN = missing), + by columns
    id: str
    round: str | None
    first: str
    second: str
    topics: list[str]
    by: list[str]
    domains: dict[str, list[str]]
    warnings: list[str] = field(default_factory=list)
    scale: tuple = (0, 10)


def _row(i) -> int:
    return int(i) + 2          # spreadsheet row: header is row 1


def _as_list(x) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return [str(v) for v in x]


def _read(data, *, id, round, perspective, topic, rating, perspectives, by=None, topics=None, domains=None,
          framework=None, scale=None, need_two=True, what=_TITLE) -> _Design:
    """Check the long data (every problem, with row, column, value and rule) and pivot it to one row per person,
    review and topic with one rating column per perspective."""
    from measurekit.stats._numerics.item_data import named_frame

    by = _as_list(by)
    cols = [c for c in (id, round, perspective, topic, rating) if c is not None]
    data = named_frame(data, "The ratings", used=cols + by)
    report = ProblemReport(title=what)
    for c in cols + by:
        if c not in data.columns:
            report.add("missing_column", f"The ratings have no {c!r} column.", column=c,
                       rule="columns: " + ", ".join(cols + by))
    report.raise_if_errors()
    if perspectives is None:
        report.add("perspectives_required", "Name the two perspectives to compare: perspectives=(first, second), "
                   f"values of the {perspective!r} column (differences are first minus second).", column=perspective)
        report.raise_if_errors()
    pair = _as_list(perspectives)
    if len(pair) != (2 if need_two else len(pair)) or len(set(pair)) != len(pair) or not pair:
        report.add("perspectives_required", "perspectives= must name two different values of the "
                   f"{perspective!r} column, first and second.", column=perspective, value=repr(perspectives),
                   rule="two different values")
        report.raise_if_errors()
    seen = set(data[perspective].dropna().astype(str).unique())
    for p in pair:
        if p not in seen:
            report.add("unknown_perspective", f"No rating has {perspective} = {p!r}; the column holds "
                       f"{', '.join(sorted(seen)[:10]) or 'nothing'}.", column=perspective, value=p,
                       rule="one of the column's values")
    report.raise_if_errors()
    inner = {"id", "round", "topic", "level", "diff"}    # names used inside; a clash would mix two columns up
    for name, what_ in [*((b, "by") for b in by), *((p, "perspectives") for p in pair)]:
        if name in inner - {c for c, k in zip(("id", "round", "topic"), (id, round, topic)) if k == c} or \
                (what_ == "perspectives" and name in by):
            report.add("bad_option", f"{what_} names {name!r}, a name the analysis uses for another column; rename "
                       "it in the data first.", column=what_, value=name, rule="not " + ", ".join(sorted(inner)))
    report.raise_if_errors()
    frame = data[cols + by].reset_index(drop=True)     # a copy: the caller's frame is never modified; index = position
    frame[perspective] = frame[perspective].astype("string")
    frame = frame[frame[perspective].isin(pair)]
    for c in (id, topic, *([round] if round else [])):
        blank = frame[c].isna()
        for i in np.flatnonzero(blank.to_numpy())[:_MAX_LISTED]:
            report.add("missing_value", f"A rating row has no {c}.", row=_row(frame.index[i]), column=c,
                       rule="required")
    notes: list[str] = []
    dont_know: set = set()
    if framework is not None:
        known0 = set(frame[topic].dropna().astype(str).unique())
        scale, dont_know, domains, notes = _from_framework(framework, known0, domains, scale, topic)
    if scale is None:
        scale = (0, 10)
    values = pd.to_numeric(frame[rating], errors="coerce")
    bad = values.isna() & frame[rating].notna() & (frame[rating].astype("string").str.strip() != "")
    values = values.mask(values.isin(list(dont_know)))          # the framework's don't-know code: not rated
    for i in np.flatnonzero(bad.to_numpy())[:_MAX_LISTED]:
        report.add("wrong_type", f"The rating {str(frame[rating].iloc[i])!r} is not a number.",
                   row=_row(frame.index[i]),
                   column=rating, value=str(frame[rating].iloc[i]), rule="number")
    lo, hi = scale
    out = values.notna() & ((values < lo) | (values > hi))
    for i in np.flatnonzero(out.to_numpy())[:_MAX_LISTED]:
        report.add("out_of_range", f"The rating {values.iloc[i]:g} is outside the scale {lo:g}-{hi:g}.",
                   row=_row(frame.index[i]), column=rating, value=f"{values.iloc[i]:g}", rule=f"{lo:g} to {hi:g}")
    report.raise_if_errors()
    frame[rating] = values
    frame[id] = frame[id].astype(str)
    frame[topic] = frame[topic].astype(str)
    key = [id, *([round] if round else []), topic, perspective]
    rated = frame[frame[rating].notna()]
    for i in rated.index[rated.duplicated(key)][:_MAX_LISTED]:
        r = frame.loc[i]
        report.add("duplicate_rating", f"{r[id]} has a second {r[perspective]} rating of {r[topic]!r}"
                   + (f" at review {r[round]}" if round else "") + "; keep one rating each.",
                   row=_row(i), column=rating, value=f"{r[rating]:g}", rule="one rating per " + ", ".join(key))
    unit = [id, *([round] if round else [])]
    for b in by:
        n = frame.groupby(unit, dropna=False)[b].nunique()
        for u in n.index[n > 1][:_MAX_LISTED]:
            report.add("group_varies", f"{b} takes more than one value for {u}; a group must be one value per "
                       "person and review.", column=b, value=str(u), rule="one value per " + ", ".join(unit))
    known = sorted(frame[topic].unique())
    wanted = _as_list(topics) if topics is not None else known
    for t in wanted:
        if t not in known:
            report.add("unknown_item", f"No rating names the topic {t!r}.", column=topic, value=t,
                       rule="one of the topics rated")
    doms: dict[str, list[str]] = {}
    for d, ts in (domains or {}).items():
        ts = _as_list(ts)
        for t in ts:
            if t not in known:
                report.add("unknown_item", f"Domain {d!r} names the topic {t!r}, which no rating names.",
                           column="domains", value=t, rule="topics of the ratings")
        doms[str(d)] = ts
    report.raise_if_errors()
    frame = frame[frame[topic].isin(wanted)].dropna(subset=[rating]).drop_duplicates(key)
    wide = frame.pivot(index=[*unit, topic], columns=perspective, values=rating)
    for p in pair:
        if p not in wide.columns:
            wide[p] = np.nan
    wide = wide[pair].reset_index()
    wide.columns = [str(c) for c in wide.columns]
    # every expected rating: each person-review seen (with any rating row, rated or blank) x each topic
    units = data[unit].dropna(subset=[id]).astype({id: str}).drop_duplicates()
    if by:
        groups = data[unit + by].dropna(subset=[id]).astype({id: str}).drop_duplicates(unit)
        units = units.merge(groups, on=unit, how="left")
    grid = units.merge(pd.DataFrame({topic: wanted}), how="cross")
    wide = grid.merge(wide, on=[*unit, topic], how="left")
    wide = wide.rename(columns={topic: "topic"})
    if round is None:
        wide["round"] = 0
        round_col = None
    else:
        round_col = round
        wide = wide.rename(columns={round: "round"})
    wide = wide.rename(columns={id: "id"})
    return _Design(wide, id, round_col, pair[0], pair[-1], wanted, by, doms, notes, tuple(scale))


def _from_framework(framework, known: set, domains, scale, topic: str):
    """Defaults a framework supplies: the scale (lowest and highest code of the rated items' scales), the
    don't-know codes (read as not rated) and, unless ``domains`` is given, its item -> domain mapping (a domain
    whose items are not all rated is left out, with a note)."""
    from measurekit.stats.scoring import as_framework

    fw = as_framework(framework)
    rated = [i for i in fw.items if i.id in known]
    if not rated:
        raise InputError.of("no_items", f"No {topic} of the ratings is an item of the framework.", column=topic,
                            value=", ".join(sorted(known)[:5]), rule="item ids of the framework", title=_TITLE)
    scales = {i.scale: fw.scale(i.scale) for i in rated}
    if scale is None:
        scale = (min(sc.min for sc in scales.values()), max(sc.max for sc in scales.values()))
    dont_know = {sc.dont_know.code for sc in scales.values() if sc.dont_know is not None}
    notes: list[str] = []
    if domains is None:
        domains = {}
        for d, ids in fw.domain_items(respondent=None).items():
            absent = [i for i in ids if i not in known]
            if absent:
                notes.append(f"Domain {d} not scored: its items {', '.join(absent)} have no ratings.")
            else:
                domains[d] = ids
    return scale, dont_know, domains, notes


def _options(**given) -> None:
    """Refuse option values the statistics cannot use (``bad_option``): alpha in (0, 1), k and min_diff >= 0,
    min_pairs >= 3, min_topics >= 1, numeric threshold."""
    report = ProblemReport(title=_TITLE)
    rules = {"alpha": (lambda v: 0 < v < 1, "0 < alpha < 1"), "k": (lambda v: v >= 0, "k >= 0"),
             "min_diff": (lambda v: v >= 0, "min_diff >= 0"), "min_pairs": (lambda v: v >= 3, "min_pairs >= 3"),
             "min_topics": (lambda v: v >= 1, "min_topics >= 1"), "threshold": (lambda v: True, "a number")}
    for name, value in given.items():
        if value is None and name == "min_topics":
            continue
        ok, rule = rules[name]
        try:
            good = bool(ok(float(value)))
        except (TypeError, ValueError):
            good = False
        if not good:
            report.add("bad_option", f"{name}={value!r} cannot be used ({rule}).", column=name, value=repr(value),
                       rule=rule)
    report.raise_if_errors()


def _with_domains(design: _Design, min_topics=None, perspectives=None) -> pd.DataFrame:
    """The design's topic rows (``level`` "topic") plus one row per person, review and domain (``level`` "domain",
    ``topic`` = the domain) holding the mean of the domain's topics for each perspective."""
    d = design.data.assign(level="topic")
    if not design.domains:
        return d
    cols = perspectives or [design.first, design.second]
    keys = ["id", "round", *design.by]
    parts = [d]
    for dom, ts in design.domains.items():
        sub = d[d["topic"].isin(ts)]
        need = len(set(ts)) if min_topics is None else int(min_topics)
        g = sub.groupby(keys, dropna=False, sort=False)
        means = g[cols].mean()
        counts = g[cols].count()
        means = means.where(counts >= need).reset_index()
        parts.append(means.assign(topic=dom, level="domain"))
    return pd.concat(parts, ignore_index=True)


def _pick_review(frame: pd.DataFrame, review) -> pd.DataFrame:
    """One review per person (``"latest"``/``"first"``: of the reviews with any rating row), a named round, or all."""
    if review == "all":
        return frame
    if review in ("latest", "first"):
        order = frame[["id", "round"]].drop_duplicates().sort_values(["id", "round"])
        pick = order.groupby("id").tail(1) if review == "latest" else order.groupby("id").head(1)
        return frame.merge(pick, on=["id", "round"])
    rounds = frame["round"].astype(str)
    if not (rounds == str(review)).any():
        raise InputError.of("bad_option", f"review={review!r} is not 'latest', 'first', 'all' or a review in the "
                            "data.", column="review", value=repr(review), rule="latest | first | all | a review",
                            title=_TITLE)
    return frame[rounds == str(review)]


def _categories(scale, values) -> list | None:
    lo, hi = scale
    v = values[~np.isnan(values)]
    if float(lo).is_integer() and float(hi).is_integer() and np.all(np.mod(v, 1) == 0):
        return list(range(int(lo), int(hi) + 1))
    return None


# ----------------------------------------------------------------------------------------------------------------
# reshaping

def stack_perspectives(data: Mapping[str, pd.DataFrame], *, items, id: str = "person_id", round: str | None = None,
                       perspective: str = "perspective", topic: str = "topic", rating: str = "rating",
                       keep=None) -> pd.DataFrame:
    """Long ratings from one wide table per perspective.

    ``data`` maps each perspective value (e.g. the two respondents' names) to its table: one row per person (and
    review, column ``round``), one column per topic in ``items``. ``keep`` names further columns to carry along
    (groups such as an area). Returns columns ``id``, ``round`` (when given), ``keep``..., ``perspective``, ``topic``,
    ``rating``: one row per table row and topic (a blank rating stays as a row with a blank rating).
    """
    from measurekit.stats._numerics.item_data import named_frame, names

    items, keep = names(items) or [], _as_list(keep)
    if not isinstance(data, Mapping) or not data:
        raise InputError.of("invalid_input", "data must map each perspective to its table of ratings.",
                            value=type(data).__name__, rule="{perspective: DataFrame}", title=_TITLE)
    parts, report = [], ProblemReport(title=_TITLE)
    unit = [id, *([round] if round else []), *keep]
    for name, frame in data.items():
        frame = named_frame(frame, f"The {name} ratings", used=unit + items)
        for c in unit + items:
            if c not in frame.columns:
                report.add("missing_column", f"The {name} ratings have no {c!r} column.", column=c,
                           rule="columns: " + ", ".join(unit + items))
        if report.errors:
            continue
        long = frame[unit + items].melt(id_vars=unit, value_vars=items, var_name=topic, value_name=rating)
        parts.append(long.assign(**{perspective: str(name)}))
    report.raise_if_errors()
    out = pd.concat(parts, ignore_index=True)
    return out[[*unit, perspective, topic, rating]]


def _common(kw):
    return {k: kw[k] for k in ("id", "round", "perspective", "topic", "rating")}


# ----------------------------------------------------------------------------------------------------------------
# 1. agreement per topic and domain

@dataclass
class PerspectiveAgreementResult(Result):
    """Result of :func:`perspective_agreement`.

    ``table``: one row per topic (``level`` "topic") and per domain (``level`` "domain"), cases rated from both
    perspectives at the chosen review:
      name; first / second (the perspectives; differences are first minus second); n (pairs); mean_first,
      mean_second; icc1 ... icc3k with _ci_low / _ci_high (psych::ICC(cbind(first, second), lmer = FALSE) rows
      ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k and their bounds); kappa_linear / kappa_quadratic with _se, _ci_low,
      _ci_high (psych::cohen.kappa weighted.kappa with levels = the scale's points and w = 1 - (|i-j|/(m-1))^p;
      standard error Fleiss, Cohen and Everitt 1969; topics only); mean_diff, sd_diff, mean_diff_ci_low/high (t);
      loa_low / loa_high (Bland-Altman 95% limits, mean ± 1.96 sd) with loa_*_ci_low/high (Bland and Altman 1999);
      n_within, share_within, share_within_ci_low/high (pairs within k points; Wilson, prop.test(correct = FALSE)).
    ``icc``: every row of psych::ICC per topic and domain: level, name, type, estimate, F, df1, df2, p_val, ci_low,
    ci_high, n.
    """

    table: pd.DataFrame
    icc: pd.DataFrame
    k: float = 2
    review: str = "latest"
    warnings: list[str] = field(default_factory=list)
    _title = "Agreement between two perspectives"


def perspective_agreement(data: pd.DataFrame, *, perspectives, id: str = "person_id", round: str | None = None,
                          perspective: str = "perspective", topic: str = "topic", rating: str = "rating",
                          items=None, domains=None, min_topics=None, review="latest", k: float = 2,
                          framework=None, rating_range=None, alpha: float = 0.05, min_pairs: int = 10
                          ) -> PerspectiveAgreementResult:
    """Agreement between two perspectives, per topic and per domain (long data: see the module docstring).

    ``k``: the share of pairs within ``k`` points (default 2). ``rating_range``: the lowest and highest rating (the
    kappa categories are its whole points). ``min_pairs``: a topic or domain with fewer pairs gets a row with ``n`` only
    and a warning. Returns :class:`PerspectiveAgreementResult`; ICCs match psych::ICC to 1e-6 (stored fixture).
    """
    _options(alpha=alpha, k=k, min_pairs=min_pairs, min_topics=min_topics)
    from measurekit.stats.agreement import pair_agreement

    design = _read(data, **_common(locals()), perspectives=perspectives, topics=items, framework=framework,
                   domains=domains, scale=rating_range)
    frame = _pick_review(_with_domains(design, min_topics), review)
    rows, iccs, warnings = [], [], []
    for (level, name), g in frame.groupby(["level", "topic"], sort=False):
        a, b = g[design.first].to_numpy(float), g[design.second].to_numpy(float)
        ok = ~(np.isnan(a) | np.isnan(b))
        head = {"level": level, "name": name, "first": design.first, "second": design.second}
        if ok.sum() < max(min_pairs, 3):
            warnings.append(f"{name}: only {int(ok.sum())} pairs rated from both perspectives; not estimated.")
            rows.append(head | {"n": int(ok.sum())})
            continue
        cats = _categories(design.scale, np.r_[a[ok], b[ok]]) if level == "topic" else None
        row, tab = pair_agreement(a[ok], b[ok], categories=cats, k=k, alpha=alpha)
        rows.append(head | row)
        iccs.append(tab.assign(level=str(level), name=str(name)))
    icc = pd.concat(iccs, ignore_index=True) if iccs else pd.DataFrame()
    if len(icc):
        icc = icc[["level", "name", *[c for c in icc.columns if c not in ("level", "name")]]]
    return PerspectiveAgreementResult(pd.DataFrame(rows), icc, k, str(review), design.warnings + warnings)


# ----------------------------------------------------------------------------------------------------------------
# 2. divergence by group

@dataclass
class DivergenceResult(Result):
    """Result of :func:`perspective_divergence`.

    ``table``: one row per topic (and domain) and group: level, name, by (the grouping column, ``"all"`` for the
    overall row), group, n (pairs), mean_diff (first minus second), sd_diff, ci_low / ci_high (t interval of the
    mean difference, as t.test), n_within, share_within (pairs within k points), share_ci_low / share_ci_high
    (Wilson).
    ``tests``: one row per topic, grouping column and test: test ``"welch_anova"`` (do mean differences differ
    between groups? R ``oneway.test(diff ~ group, var.equal = FALSE)``: statistic F, df1, df2) and
    ``"chisq_within"`` (does the share within k points differ? R ``chisq.test(table(group, within),
    correct = FALSE)``: statistic X-squared, df1), p_val, and p_holm (Holm-adjusted over the rows of that test).
    ``flagged``: one row per topic and domain over everyone: n, mean_diff, ci_low, ci_high, t, p_val (paired t
    test, R ``t.test(first, second, paired = TRUE)``), p_holm (Holm over topics), diverges (p_holm < alpha and
    |mean_diff| >= min_diff).
    """

    table: pd.DataFrame
    tests: pd.DataFrame
    flagged: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    _title = "Divergence between two perspectives"


def _holm(p: pd.Series) -> pd.Series:
    p = p.astype(float)
    ok = p.notna()
    out = pd.Series(np.nan, index=p.index)
    if ok.any():
        v = p[ok].to_numpy()
        order = np.argsort(v)
        m = len(v)
        adj = np.maximum.accumulate((m - np.arange(m)) * v[order])
        res = np.empty(m)
        res[order] = np.minimum(adj, 1.0)
        out[ok] = res
    return out


def _welch_anova(groups: list[np.ndarray]) -> tuple[float, float, float, float]:
    """Welch's one-way ANOVA (R oneway.test(var.equal = FALSE)): F, df1, df2, p."""
    from scipy import stats

    groups = [g for g in groups if len(g) >= 2]
    kk = len(groups)
    if kk < 2:
        return (np.nan,) * 4
    n = np.array([len(g) for g in groups], float)
    m = np.array([g.mean() for g in groups])
    v = np.array([g.var(ddof=1) for g in groups])
    if np.any(v <= 0):
        return (np.nan,) * 4
    w = n / v
    mw = (w * m).sum() / w.sum()
    tmp = ((1 - w / w.sum()) ** 2 / (n - 1)).sum() / (kk ** 2 - 1)
    f = ((w * (m - mw) ** 2).sum() / (kk - 1)) / (1 + 2 * (kk - 2) * tmp)
    df2 = 1 / (3 * tmp)
    return float(f), float(kk - 1), float(df2), float(stats.f.sf(f, kk - 1, df2))


def _chisq(counts: pd.DataFrame) -> tuple[float, float, float]:
    """Pearson chi-square test of independence without continuity correction: X-squared, df, p."""
    from scipy import stats

    t = counts.loc[counts.sum(axis=1) > 0, counts.sum(axis=0) > 0].to_numpy(float)
    if t.shape[0] < 2 or t.shape[1] < 2:
        return (np.nan,) * 3
    x2, p, dof, _ = stats.chi2_contingency(t, correction=False)
    return float(x2), float(dof), float(p)


def _describe_diff(d: np.ndarray, k: float, alpha: float) -> dict:
    from measurekit.stats.intervals import t_interval, wilson

    n = len(d)
    mean = float(d.mean()) if n else np.nan
    sd = float(d.std(ddof=1)) if n > 1 else np.nan
    low, high = t_interval(mean, sd, n, 1 - alpha)
    within = int((np.abs(d) <= k + 1e-9).sum())
    wl, wh = wilson(within, n, 1 - alpha)
    return {"n": n, "mean_diff": mean, "sd_diff": sd, "ci_low": float(low), "ci_high": float(high),
            "n_within": within, "share_within": within / n if n else np.nan, "share_ci_low": float(wl),
            "share_ci_high": float(wh)}


def perspective_divergence(data: pd.DataFrame, *, perspectives, by=None, id: str = "person_id",
                           round: str | None = None, perspective: str = "perspective", topic: str = "topic",
                           rating: str = "rating", items=None, domains=None, min_topics=None, review="latest",
                           k: float = 2, framework=None, rating_range=None, alpha: float = 0.05, min_diff: float = 1.0
                           ) -> DivergenceResult:
    """Where the two perspectives diverge: mean difference (first minus second) and share within ``k`` points, per
    topic (and domain), overall and per group of each ``by`` column, with tests of difference between groups and
    the topics that diverge overall (``flagged``). Long data: see the module docstring. Returns
    :class:`DivergenceResult`.
    """
    _options(alpha=alpha, k=k, min_diff=min_diff, min_topics=min_topics)
    from scipy import stats

    by = _as_list(by)
    design = _read(data, **_common(locals()), perspectives=perspectives, by=by, topics=items, framework=framework,
                   domains=domains, scale=rating_range)
    frame = _pick_review(_with_domains(design, min_topics), review)
    frame = frame.assign(diff=frame[design.first] - frame[design.second]).dropna(subset=["diff"])
    rows: list[dict] = []
    tests: list[dict] = []
    flags: list[dict] = []
    warnings: list[str] = []
    for (level, name), g in frame.groupby(["level", "topic"], sort=False):
        d = g["diff"].to_numpy(float)
        rows.append({"level": level, "name": name, "by": "all", "group": "all"} | _describe_diff(d, k, alpha))
        if len(d) >= 2 and d.std(ddof=1) > 0:
            t, p = stats.ttest_1samp(d, 0.0)
        else:
            t, p = np.nan, np.nan
        flags.append({"level": level, "name": name, "n": len(d), "mean_diff": rows[-1]["mean_diff"],
                      "ci_low": rows[-1]["ci_low"], "ci_high": rows[-1]["ci_high"], "t": float(t), "p_val": float(p)})
        for b in by:
            parts = []
            for grp, gg in g.groupby(b, dropna=False, sort=True):
                dd = gg["diff"].to_numpy(float)
                rows.append({"level": level, "name": name, "by": b, "group": grp} | _describe_diff(dd, k, alpha))
                parts.append(dd)
            f, df1, df2, p = _welch_anova(parts)
            tests.append({"level": level, "name": name, "by": b, "test": "welch_anova", "statistic": f, "df1": df1,
                          "df2": df2, "p_val": p})
            within = pd.crosstab(g[b], np.abs(g["diff"]) <= k + 1e-9)
            x2, dof, p = _chisq(within)
            tests.append({"level": level, "name": name, "by": b, "test": "chisq_within", "statistic": x2,
                          "df1": dof, "df2": np.nan, "p_val": p})
    tests_df = pd.DataFrame(tests, columns=["level", "name", "by", "test", "statistic", "df1", "df2", "p_val"])
    if len(tests_df):
        tests_df["p_holm"] = tests_df.groupby("test", group_keys=False)["p_val"].apply(_holm)
    else:
        tests_df["p_holm"] = pd.Series(dtype=float)
    flagged = pd.DataFrame(flags)
    if len(flagged):
        flagged["p_holm"] = _holm(flagged["p_val"])
        flagged["diverges"] = (flagged["p_holm"] < alpha) & (flagged["mean_diff"].abs() >= min_diff)
    return DivergenceResult(pd.DataFrame(rows), tests_df, flagged, design.warnings + warnings)


# ----------------------------------------------------------------------------------------------------------------
# 3. missingness by perspective

@dataclass
class MissingnessResult(Result):
    """Result of :func:`perspective_missingness`. Expected ratings: every topic, from each perspective, at every
    review of every person in the data (or in ``expected``).

    ``table``: one row per topic (plus ``"all topics"``: every expected rating pooled; ``"whole review"``: a review
    counts as missing from a perspective when that perspective rated none of its topics) x perspective x group:
    name, perspective, by (``"all"``
    for the overall rows), group, n_expected, n_missing, share_missing, ci_low / ci_high (Wilson).
    ``patterns``: one row per topic x group x pattern: pattern (``"both"``, ``"first only"``, ``"second only"``,
    ``"neither"``; first_present / second_present say which), first, second (the perspectives), n (pattern
    count), n_expected, share, ci_low / ci_high (Wilson).
    ``tests``: per perspective, topic and grouping column: X-squared of missing vs present by group
    (``chisq.test(correct = FALSE)``), df, p_val.
    """

    table: pd.DataFrame
    patterns: pd.DataFrame
    tests: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    _title = "Missing ratings by perspective"


def perspective_missingness(data: pd.DataFrame, *, perspectives, by=None, id: str = "person_id",
                            round: str | None = None, perspective: str = "perspective", topic: str = "topic",
                            rating: str = "rating", items=None, expected: pd.DataFrame | None = None,
                            framework=None, rating_range=None, alpha: float = 0.05) -> MissingnessResult:
    """How many expected ratings are missing, from each perspective, per topic and group, and in which pattern.

    ``expected`` (optional): the reviews that should have been rated, one row per person (and ``round``), with the
    ``by`` columns; without it, every person-review with any row in ``data`` is expected, rated or not (a review
    with no row at all is then invisible: pass ``expected`` to count it). Long data: see the module docstring.
    """
    _options(alpha=alpha)
    from measurekit.stats.intervals import wilson

    by = _as_list(by)
    design = _read(data, **_common(locals()), perspectives=perspectives, by=by, topics=items, framework=framework,
                   domains={}, scale=rating_range)
    frame = design.data
    if expected is not None:
        from measurekit.stats._numerics.item_data import named_frame

        unit = [id, *([round] if round else [])]
        expected = named_frame(expected, "The expected reviews", used=unit + by)
        miss = [c for c in unit + by if c not in expected.columns]
        if miss:
            raise InputError.of("missing_column", f"The expected reviews have no {miss[0]!r} column.",
                                column=miss[0], rule="columns: " + ", ".join(unit + by), title=_TITLE)
        exp = expected[unit + by].drop_duplicates(unit).rename(columns={id: "id", **({round: "round"} if round
                                                                                      else {})})
        exp["id"] = exp["id"].astype(str)
        if not round:
            exp["round"] = 0
        grid = exp.merge(pd.DataFrame({"topic": design.topics}), how="cross")
        ratings = frame[["id", "round", "topic", design.first, design.second]]
        if round:
            grid["round"] = grid["round"].astype(ratings["round"].dtype, errors="ignore")
        frame = grid.merge(ratings, on=["id", "round", "topic"], how="left")
    first, second = design.first, design.second
    pf, ps = frame[first].notna(), frame[second].notna()
    frame = frame.assign(_m1=~pf, _m2=~ps, _pattern=np.select([pf & ps, pf & ~ps, ~pf & ps],
                                                             ["both", "first only", "second only"], "neither"))
    rows: list[dict] = []
    pats: list[dict] = []
    tests: list[dict] = []
    pooled = frame.assign(topic="all topics")
    # a whole review: a perspective is missing when it rated none of the topics at that review
    keys = ["id", "round", *[b for b in by if b in frame.columns]]
    whole = frame.groupby(keys, dropna=False, sort=False).agg(_p1=(first, "count"), _p2=(second, "count"))
    whole = whole.reset_index()
    w1, w2 = whole["_p1"] > 0, whole["_p2"] > 0
    whole = whole.assign(topic="whole review", _m1=~w1, _m2=~w2,
                         _pattern=np.select([w1 & w2, w1 & ~w2, ~w1 & w2], ["both", "first only", "second only"],
                                            "neither"))
    for name, g in pd.concat([frame, pooled, whole], ignore_index=True).groupby("topic", sort=False):
        for b in ["all", *by]:
            groups = [("all", g)] if b == "all" else list(g.groupby(b, dropna=False, sort=True))
            for persp, col in ((first, "_m1"), (second, "_m2")):
                counts = []
                for grp, gg in groups:
                    n, m = len(gg), int(gg[col].sum())
                    lo, hi = wilson(m, n, 1 - alpha)
                    rows.append({"name": name, "perspective": persp, "by": b, "group": grp, "n_expected": n,
                                 "n_missing": m, "share_missing": m / n if n else np.nan, "ci_low": float(lo),
                                 "ci_high": float(hi)})
                    counts.append([m, n - m])
                if b != "all":
                    x2, dof, p = _chisq(pd.DataFrame(counts))
                    tests.append({"name": name, "perspective": persp, "by": b, "statistic": x2, "df": dof,
                                  "p_val": p})
            for grp, gg in groups:
                n = len(gg)
                for pat, fp, sp in (("both", True, True), ("first only", True, False),
                                    ("second only", False, True), ("neither", False, False)):
                    c = int((gg["_pattern"] == pat).sum())
                    lo, hi = wilson(c, n, 1 - alpha)
                    pats.append({"name": name, "by": b, "group": grp, "pattern": pat, "first": first,
                                 "second": second, "first_present": fp, "second_present": sp, "n": c,
                                 "n_expected": n, "share": c / n if n else np.nan, "ci_low": float(lo),
                                 "ci_high": float(hi)})
    return MissingnessResult(pd.DataFrame(rows), pd.DataFrame(pats),
                             pd.DataFrame(tests, columns=["name", "perspective", "by", "statistic", "df", "p_val"]),
                             design.warnings)


# ----------------------------------------------------------------------------------------------------------------
# 4. change between reviews

@dataclass
class ChangeResult(Result):
    """Result of :func:`review_change`.

    ``table``: one row per topic (and domain) and perspective: level, name, perspective, compare
    (``"consecutive"`` or ``"first_latest"``), n_people (people with at least one rating of it), n_single (people
    with only one rated review: counted here, no change computed), n_pairs (pairs of reviews compared), mean_change
    (later minus earlier), sd_change, ci_low / ci_high (t interval; with ``"consecutive"`` a person with several
    pairs counts several times), n_improved / share_improved (change >= k; with ``higher_is_better=False``,
    <= -k) and n_worse / share_worse with their Wilson intervals (improved_ci_low ... worse_ci_high).
    ``changes``: the pairs themselves: level, name, perspective, id, from_round, to_round, before, after, change.
    """

    table: pd.DataFrame
    changes: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    _title = "Change between reviews"


def review_change(data: pd.DataFrame, *, round: str, perspectives=None, id: str = "person_id",
                  perspective: str = "perspective", topic: str = "topic", rating: str = "rating", items=None,
                  domains=None, min_topics=None, compare: str = "consecutive", k: float = 2,
                  higher_is_better: bool = True, framework=None, rating_range=None,
                  alpha: float = 0.05) -> ChangeResult:
    """Paired change of each topic's (and domain's) rating between reviews of the same person, per perspective.

    ``compare="consecutive"``: each rated review against the person's previous rated review of that topic;
    ``"first_latest"``: the first against the latest rated review. ``perspectives``: the perspective values to
    analyse (default: every value in the data). Long data: see the module docstring; ``round`` is required.
    """
    _options(alpha=alpha, k=k, min_topics=min_topics)
    from measurekit.stats.intervals import t_interval, wilson

    if compare not in ("consecutive", "first_latest"):
        raise InputError.of("bad_option", f"compare must be 'consecutive' or 'first_latest', not {compare!r}.",
                            column="compare", value=repr(compare), rule="consecutive | first_latest",
                            title=_TITLE)
    if perspectives is None:
        from measurekit.stats._numerics.item_data import named_frame

        frame0 = named_frame(data, "The ratings")
        if perspective in frame0.columns:
            perspectives = sorted(frame0[perspective].dropna().astype(str).unique())
    design = _read(data, **_common(locals()), perspectives=perspectives, topics=items, framework=framework,
                   domains=domains, scale=rating_range, need_two=False)
    pers = _as_list(perspectives)
    frame = _with_domains(design, min_topics, perspectives=pers)
    rows, changes = [], []
    for (level, name), g in frame.groupby(["level", "topic"], sort=False):
        for p in pers:
            r = g[["id", "round", p]].dropna().sort_values(["id", "round"])
            counts = r.groupby("id").size()
            if compare == "consecutive":
                prev = r.groupby("id").shift(1)
                pairs = pd.DataFrame({"id": r["id"], "from_round": prev["round"], "to_round": r["round"],
                                      "before": prev[p], "after": r[p]}).dropna(subset=["before"])
            else:
                first, last = r.groupby("id").head(1).set_index("id"), r.groupby("id").tail(1).set_index("id")
                keep = counts.index[counts > 1]
                pairs = pd.DataFrame({"id": keep, "from_round": first.loc[keep, "round"].to_numpy(),
                                      "to_round": last.loc[keep, "round"].to_numpy(),
                                      "before": first.loc[keep, p].to_numpy(), "after": last.loc[keep, p].to_numpy()})
            ch = (pairs["after"] - pairs["before"]).to_numpy(float)
            changes.append(pairs.assign(change=ch, level=str(level), name=str(name), perspective=p))
            n = len(ch)
            mean = float(ch.mean()) if n else np.nan
            sd = float(ch.std(ddof=1)) if n > 1 else np.nan
            lo, hi = t_interval(mean, sd, n, 1 - alpha)
            good = ch >= k - 1e-9 if higher_is_better else ch <= -k + 1e-9
            bad = ch <= -k + 1e-9 if higher_is_better else ch >= k - 1e-9
            il, ih = wilson(int(good.sum()), n, 1 - alpha)
            wl, wh = wilson(int(bad.sum()), n, 1 - alpha)
            rows.append({"level": level, "name": name, "perspective": p, "compare": compare,
                         "n_people": int(len(counts)), "n_single": int((counts == 1).sum()), "n_pairs": n,
                         "mean_change": mean, "sd_change": sd, "ci_low": float(lo), "ci_high": float(hi),
                         "n_improved": int(good.sum()), "share_improved": good.mean() if n else np.nan,
                         "improved_ci_low": float(il), "improved_ci_high": float(ih),
                         "n_worse": int(bad.sum()), "share_worse": bad.mean() if n else np.nan,
                         "worse_ci_low": float(wl), "worse_ci_high": float(wh)})
    cols = ["level", "name", "perspective", "id", "from_round", "to_round", "before", "after", "change"]
    ch_df = pd.concat(changes, ignore_index=True)[cols] if changes else pd.DataFrame(columns=cols)
    return ChangeResult(pd.DataFrame(rows), ch_df, design.warnings)


# ----------------------------------------------------------------------------------------------------------------
# 5. discordance with a routine yes/no measure

@dataclass
class DiscordanceResult(Result):
    """Result of :func:`routine_discordance`.

    ``table``: one row per topic x group (``by`` ``"all"`` for everyone): name, perspective, measure, value (the
    routine value conditioned on), threshold, by, group, n_measure (people whose routine record has that value),
    n_unrated (of them, no rating of the topic at the chosen review: counted, not in the share), denominator
    (n_measure - n_unrated), numerator (of them, rating <= threshold), share (numerator / denominator), ci_low /
    ci_high (Wilson). Numerator and denominator are the counts disclosure control needs.
    """

    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    _title = "Ratings that disagree with a routine measure"


def routine_discordance(data: pd.DataFrame, routine: pd.DataFrame, *, measure: str, perspective_value: str,
                        value=1, threshold: float = 4, by=None, id: str = "person_id", round: str | None = None,
                        perspective: str = "perspective", topic: str = "topic", rating: str = "rating",
                        items=None, review="latest", framework=None, rating_range=None, alpha: float = 0.05
                        ) -> DiscordanceResult:
    """Among people whose routine record has ``measure == value`` (e.g. a routine yes/no flag = 1), the share
    rating a topic ``<= threshold`` from the perspective ``perspective_value``, per topic and group.

    ``routine``: one row per person (column ``id``; with ``round`` too, the record of the same review is used),
    holding ``measure`` and any ``by`` columns not in ``data``. Long data: see the module docstring.
    """
    _options(alpha=alpha, threshold=threshold)
    from measurekit.stats._numerics.item_data import named_frame
    from measurekit.stats.intervals import wilson

    by = _as_list(by)
    routine = named_frame(routine, "The routine data", used=[id, measure])
    join = [id, *([round] if round and round in routine.columns else [])]
    report = ProblemReport(title=_TITLE)
    for c in [*join, measure]:
        if c not in routine.columns:
            report.add("missing_column", f"The routine data have no {c!r} column.", column=c,
                       rule="columns: " + ", ".join([*join, measure]))
    report.raise_if_errors()
    from_routine = [b for b in by if b in routine.columns and b not in data.columns]
    dup = routine.duplicated(join, keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError.of("duplicate_id", f"{routine[id].iloc[i]} has more than one routine record"
                            + (" for one review." if len(join) > 1 else "; keep one per person."),
                            row=_row(i), column=id, value=str(routine[id].iloc[i]),
                            rule="one row per " + ", ".join(join), title=_TITLE)
    design = _read(data, **_common(locals()), perspectives=[perspective_value],
                   by=[b for b in by if b not in from_routine], topics=items, framework=framework, domains={},
                   scale=rating_range, need_two=False)
    frame = _pick_review(design.data, review)
    rec = routine[[*join, measure, *from_routine]].rename(columns={id: "id", **({round: "round"}
                                                                                if len(join) > 1 else {})})
    rec = rec.assign(id=rec["id"].astype(str))
    keys = ["id", "round"] if len(join) > 1 else ["id"]
    if len(join) > 1:
        rec["round"] = rec["round"].astype(frame["round"].dtype, errors="ignore")
    merged = frame.merge(rec, on=keys, how="inner")
    hit = merged[measure].astype(str) == str(value)
    try:
        hit = hit | (pd.to_numeric(merged[measure], errors="coerce") == float(value))
    except (TypeError, ValueError):
        pass
    merged = merged[hit]
    rows = []
    for name, g in merged.groupby("topic", sort=False):
        for b in ["all", *by]:
            groups = [("all", g)] if b == "all" else list(g.groupby(b, dropna=False, sort=True))
            for grp, gg in groups:
                r = gg[perspective_value]
                n_measure, unrated = len(gg), int(r.isna().sum())
                den = n_measure - unrated
                num = int((r <= threshold + 1e-9).sum())
                lo, hi = wilson(num, den, 1 - alpha)
                rows.append({"name": name, "perspective": perspective_value, "measure": measure, "value": value,
                             "threshold": threshold, "by": b, "group": grp, "n_measure": n_measure,
                             "n_unrated": unrated, "denominator": den, "numerator": num,
                             "share": num / den if den else np.nan, "ci_low": float(lo), "ci_high": float(hi)})
    columns = ["name", "perspective", "measure", "value", "threshold", "by", "group", "n_measure", "n_unrated",
               "denominator", "numerator", "share", "ci_low", "ci_high"]
    warnings: list[str] = [] if rows else [f"No routine record has {measure} = {value!r} at the reviews used; "
                                           "nothing to show."]
    return DiscordanceResult(pd.DataFrame(rows, columns=columns), design.warnings + warnings)
