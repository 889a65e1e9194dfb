"""COSMIN evidence from two perspectives rating the same topics (``stats/perspectives.py``): the rows of
:func:`measurekit.stats.cosmin.cosmin_table` that agreement between the perspectives and the routine measures can
fill, and the known-groups comparison (:func:`known_groups`) behind the construct-validity row.

COSMIN (Mokkink et al. 2018, *Qual Life Res* 27:1171-1179; criteria: Prinsen et al. 2018, table 1) rates:

* **Reliability** (inter-rater: the same topic rated by the person and by a professional): **+** ICC >= 0.70, **-**
  below. The ICC is ICC(2,1), two-way random, absolute agreement (psych::ICC "ICC2", the form COSMIN prefers, since
  a systematic difference between raters is error); the quadratic weighted kappa is shown beside it.
* **Measurement error**: **+** smallest detectable change or limits of agreement < minimal important change (MIC);
  **-** otherwise. Here: both Bland-Altman 95% limits of agreement (the mean difference +/- 1.96 SD of the
  differences, so a systematic difference counts) lie strictly within +/- MIC. The MIC is the ``mic`` given to
  ``cosmin_table``, else the framework's agreement margin (``analysis: perspectives: k``: ratings within k points
  count as agreeing, the framework's statement of the smallest difference that matters); **?** without either.
* **Hypotheses testing for construct validity** (known groups): the framework's routine checks (``analysis:
  perspectives: routine:``) say that people whose routine record has a value (e.g. accommodation judged suitable)
  should rate the topic low less often than people whose record says otherwise. **+** when the difference (others
  minus those with the value, in the share rating at or below the threshold) has a 95% Newcombe interval above 0;
  **-** when the difference is 0 or the other way; **?** when it points the expected way but its interval includes
  0 (too few people to judge), or no routine check names the topic (no hypothesis declared).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from measurekit.core import thresholds as th

SUFFICIENT, INSUFFICIENT, INDETERMINATE = "+", "-", "?"
HYPOTHESES = "hypotheses testing for construct validity"
PRINSEN = "Prinsen et al. 2018 (COSMIN), table 1"
CRITERIA = {
    "reliability": ("ICC or weighted kappa >= 0.70 (between perspectives: ICC(2,1), absolute agreement)",
                    PRINSEN + "; Mokkink et al. 2018"),
    "measurement error": ("SDC or limits of agreement < MIC (minimal important change)", PRINSEN),
    HYPOTHESES: ("known groups: people the routine measure calls fine rate the topic low less often than the others "
                 "(95% interval of the difference above 0)", PRINSEN + "; Newcombe 1998"),
}
KNOWN_GROUPS_COLUMNS = ["name", "perspective", "measure", "value", "threshold", "n_in", "low_in", "share_in",
                        "n_out", "low_out", "share_out", "difference", "ci_low", "ci_high", "check"]


def known_groups(data: pd.DataFrame, routine: pd.DataFrame, *, measure: str, perspective_value: str, value=1,
                 threshold: float = 4, id: str = "person_id", round: str | None = None, items=None, framework=None,
                 alpha: float = 0.05, check: str = "", inside: pd.DataFrame | None = None) -> pd.DataFrame:
    """Known-groups comparison of one routine measure: the share rating each topic at or below ``threshold`` from
    ``perspective_value`` among people whose routine ``measure`` is ``value`` (``_in``) and among people whose
    ``measure`` is known and any other value (``_out``), at each person's latest review (long data, as
    :func:`measurekit.stats.perspectives.routine_discordance`, which computes each share).

    Returns one row per topic: name, perspective, measure, value, threshold, n_in / low_in / share_in (people with
    the value: rated, rating at or below the threshold, share), n_out / low_out / share_out (the others),
    difference (share_out - share_in: positive when the routine measure and the ratings agree), ci_low / ci_high
    (Newcombe's method 10 interval of the difference, level 1 - ``alpha``), check (``check``, the declaration's
    title). ``inside``: the table :func:`~measurekit.stats.perspectives.routine_discordance` already gave for the same
    measure, value, perspective and threshold (its ``by == "all"`` rows are the ``_in`` side; not computed again).
    Nothing is modified.
    """
    from measurekit.stats._numerics.series import newcombe_difference
    from measurekit.stats.perspectives import routine_discordance

    kw = dict(measure=measure, perspective_value=perspective_value, threshold=threshold, id=id, round=round,
              items=items, framework=framework, alpha=alpha)
    if inside is None:
        inside = routine_discordance(data, routine, value=value, **kw).table
    col = routine[measure]      # routine_discordance above has checked the column is there
    is_value = (col.astype(str) == str(value)).to_numpy(dtype=bool)
    try:
        number = pd.to_numeric(col, errors="coerce").astype(float)     # a nullable whole-number column: NaN
        is_value |= (number == float(value)).to_numpy(dtype=bool)
    except (TypeError, ValueError):     # a value that is not a number: compared as text only
        pass
    known = col.notna().to_numpy(dtype=bool)
    label = pd.Series(np.where(is_value, "in", "out"), index=routine.index, dtype=object)
    groups = routine.assign(**{measure: label.where(known | is_value)})     # unknown: in neither group
    outside = routine_discordance(data, groups, value="out", **kw).table
    a = inside[inside["by"] == "all"].set_index("name")[["numerator", "denominator"]].astype(int)
    b = outside[outside["by"] == "all"].set_index("name")[["numerator", "denominator"]].astype(int)
    rows = []
    for name in a.index.intersection(b.index):
        k_in, n_in = (int(x) for x in a.loc[name])
        k_out, n_out = (int(x) for x in b.loc[name])
        if n_in and n_out:
            d, lo, hi = (float(x) for x in newcombe_difference(k_out, n_out, k_in, n_in, 1 - alpha))
        else:
            d = lo = hi = np.nan
        rows.append({"name": name, "perspective": perspective_value, "measure": measure, "value": value,
                     "threshold": threshold, "n_in": n_in, "low_in": k_in, "share_in": k_in / n_in if n_in else np.nan,
                     "n_out": n_out, "low_out": k_out, "share_out": k_out / n_out if n_out else np.nan,
                     "difference": d, "ci_low": lo, "ci_high": hi, "check": check})
    return pd.DataFrame(rows, columns=KNOWN_GROUPS_COLUMNS)


def part_table(obj, name: str):
    """``obj.<name>`` (a result's ``.table`` when it is a result), or ``obj[name]`` for a mapping; None if absent."""
    part = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
    return getattr(part, "table", part)


def _k(obj, framework):
    k = obj.get("k") if isinstance(obj, Mapping) else getattr(getattr(obj, "agreement", None), "k", None)
    roles = getattr(getattr(framework, "analysis", None), "perspectives", None)
    return k if k is not None else (roles.k if roles is not None else None)


def perspective_rows(perspectives, *, framework, level: str, name: str, mic=None) -> dict[str, tuple[str, str]]:
    """The COSMIN ratings two perspectives give one indicator: property -> (rating, result text) for reliability,
    measurement error and hypotheses testing, from the agreement row of ``name`` (a topic when ``level`` is "topic",
    a domain when "domain") and the known-groups rows of the topic. ``perspectives``: the main job's
    ``Perspectives`` (``agreement``, ``known_groups``) or a mapping with ``agreement`` (result or table),
    ``known_groups`` (:func:`known_groups` rows) and optionally ``k``. ``mic``: one number or domain/topic -> number.
    A property the results cannot rate is left out (the caller keeps its own rating)."""
    out: dict[str, tuple[str, str]] = {}
    agreement = part_table(perspectives, "agreement")
    row = None
    if agreement is not None and len(agreement) and "icc2" in agreement:
        hit = agreement[(agreement["level"] == level) & (agreement["name"].astype(str) == str(name))]
        row = hit.iloc[0] if len(hit) and pd.notna(hit.iloc[0].get("icc2")) else None
    if row is not None:
        who = f"{str(row['first']).replace('_', ' ')} and {str(row['second']).replace('_', ' ')}"
        kappa = row.get("kappa_quadratic", np.nan)
        text = (f"between {who} (inter-rater): ICC(2,1) {row['icc2']:.2f} (95% CI {row['icc2_ci_low']:.2f} to "
                f"{row['icc2_ci_high']:.2f})" + (f", weighted kappa (quadratic) {kappa:.2f}" if pd.notna(kappa) else "")
                + f", n = {int(row['n'])} pairs")
        out["reliability"] = (SUFFICIENT if row["icc2"] >= th.ICC_MIN else INSUFFICIENT, text)
        m = mic.get(name) if isinstance(mic, Mapping) else mic
        where = f"MIC {m:g}" if m is not None else ""
        if m is None:
            m = _k(perspectives, framework)
            where = (f"MIC taken as the framework's agreement margin k = {m:g} points (analysis: perspectives: k)"
                     if m is not None else "")
        lo, hi = float(row["loa_low"]), float(row["loa_high"])
        text = (f"Bland-Altman 95% limits of agreement {lo:.2f} to {hi:.2f} points (mean difference "
                f"{row['mean_diff']:+.2f})")
        if m is None:
            out["measurement error"] = (INDETERMINATE, text + "; no MIC defined")
        else:
            out["measurement error"] = (SUFFICIENT if max(abs(lo), abs(hi)) < float(m) else INSUFFICIENT,
                                        f"{text}; {where}")
    kg = part_table(perspectives, "known_groups")
    if level == "topic":
        mine = kg[kg["name"].astype(str) == str(name)] if kg is not None and len(kg) else pd.DataFrame()
        if not len(mine):
            out[HYPOTHESES] = (INDETERMINATE, "no hypothesis declared for this topic "
                                              "(analysis: perspectives: routine: in framework.yaml)")
        else:
            ratings, parts = [], []
            for r in mine.to_dict("records"):
                d = r["difference"]
                rating = (INDETERMINATE if pd.isna(d) else SUFFICIENT if r["ci_low"] > 0 else
                          INSUFFICIENT if d <= 0 else INDETERMINATE)
                ratings.append(rating)
                parts.append(f"{r['measure']} = {r['value']}: {r['share_in']:.0%} rate it {r['threshold']:g} or less "
                             f"(n = {r['n_in']}) against {r['share_out']:.0%} of the others (n = {r['n_out']}); "
                             f"difference {d * 100:+.1f} points (95% CI {r['ci_low'] * 100:+.1f} to "
                             f"{r['ci_high'] * 100:+.1f})" if pd.notna(d) else f"{r['measure']}: no comparison group")
            # every declared hypothesis must hold for "+"; any contradicted one gives "-"
            rating = (INSUFFICIENT if INSUFFICIENT in ratings else SUFFICIENT if set(ratings) == {SUFFICIENT}
                      else INDETERMINATE)
            out[HYPOTHESES] = (rating, "; ".join(parts))
    return out
