"""COSMIN-style evidence: a rated table of measurement properties per indicator and an evidence card per item.

:func:`cosmin_table` is a pure function of result objects that were already computed (it fits nothing and
reads no file), so the main job, a notebook and the spec sheets can all call it with whatever was run.
Each measurement property is rated **+** (sufficient), **-** (insufficient) or **?** (indeterminate: not
run, or not enough information) by the published criteria:

* Content validity (relevance, comprehensibility): COSMIN's content validity methodology (Terwee et al.
  2018, *Qual Life Res* 27:1159-1170) asks for relevance and comprehensibility judged by the target group
  and professionals. Its numbers here are the content validity index (Polit, Beck and Owen 2007): **+** when
  S-CVI/Ave >= 0.90 and every item's I-CVI >= 0.78 with clarity CVI >= 0.78 (Polit and Beck 2006); **-**
  otherwise.
* Structural validity: **+** CFI or TLI > 0.95, or RMSEA < 0.06, or SRMR < 0.08 (Prinsen et al. 2018,
  *Qual Life Res* 27:1147-1157, table 1; after Hu and Bentler 1999); **-** otherwise.
* Internal consistency: **+** at least low evidence of sufficient structural validity and Cronbach's alpha
  >= 0.70 for the (sub)scale; **-** alpha < 0.70 with sufficient structural validity; **?** when structural
  validity is not sufficient (Prinsen et al. 2018; Terwee et al. 2007, *J Clin Epidemiol* 60:34-42).
* Cross-cultural validity / measurement invariance: **+** no important differences between groups in
  multi-group factor analysis (each level up to scalar holds: change in CFI <= 0.01 and RMSEA <= 0.015,
  Chen 2007) and no important DIF (McFadden pseudo R-squared change < 0.02); **-** otherwise (Prinsen 2018).
* Reliability: **+** ICC or weighted kappa >= 0.70; **-** below (Prinsen et al. 2018; Terwee et al. 2007).
* Measurement error: **+** smallest detectable change < minimal important change (MIC); **-** SDC >= MIC;
  **?** when no MIC is defined (Prinsen et al. 2018).
* With two perspectives rating the same topics (``perspectives=``, :mod:`measurekit.stats.cosmin_perspectives`):
  reliability between the perspectives (ICC(2,1) >= 0.70) where there is no test-retest, measurement error (limits
  of agreement against the MIC or the framework's agreement margin) and a row for hypotheses testing for construct
  validity (known groups from the framework's routine checks).
* Criterion validity / added value: COSMIN's criterion validity needs a gold standard (correlation or AUC
  >= 0.70), which voice measures do not have. The row reports the added value over routine data instead,
  with measurekit's own rule (not a COSMIN criterion): **+** when the likelihood-ratio test of the voice
  terms has p < 0.05 and the bootstrap interval of the AUC gain excludes 0; **-** when p >= 0.05.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from measurekit.core import thresholds as th
from measurekit.core.result import Result

SUFFICIENT, INSUFFICIENT, INDETERMINATE = "+", "-", "?"
PRINSEN = "Prinsen et al. 2018 (COSMIN), table 1"
PROPERTIES = ["content validity", "structural validity", "internal consistency", "cross-cultural validity",
              "reliability", "measurement error", "criterion validity / added value"]
CRITERIA = {
    "content validity": ("S-CVI/Ave >= 0.90 and every item I-CVI >= 0.78 and clarity >= 0.78",
                         "Terwee et al. 2018 (COSMIN content validity); Polit, Beck and Owen 2007"),
    "structural validity": ("CFI or TLI > 0.95, or RMSEA < 0.06, or SRMR < 0.08", PRINSEN),
    "internal consistency": ("alpha >= 0.70, given sufficient structural validity", PRINSEN),
    "cross-cultural validity": ("invariance up to scalar (delta CFI <= 0.01, delta RMSEA <= 0.015) and no item "
                                "with McFadden R2 change >= 0.02", PRINSEN + "; Chen 2007"),
    "reliability": ("ICC or weighted kappa >= 0.70", PRINSEN + "; Terwee et al. 2007"),
    "measurement error": ("SDC < MIC (minimal important change)", PRINSEN),
    "criterion validity / added value": ("LR test p < 0.05 and AUC-gain interval above 0 (measurekit rule; COSMIN's "
                                         "criterion validity needs a gold standard)", "Pepe et al. 2013; not COSMIN"),
}


@dataclass
class CosminResult(Result):
    """Result of :func:`cosmin_table`.

    ``table``: one row per indicator and measurement property: indicator, domain, property, result (the numbers
      behind the rating), rating (+ sufficient, - insufficient, ? indeterminate), criterion (the rule applied)
      and source (the citation).
    ``items``: the evidence card of every item, one row per item and domain it counts in: item, domain, status
      (co-design history), i_cvi, kappa (modified kappa), clarity_cvi, interviews, interview_problems, loading
      (CFA standardised), r_drop (item-rest correlation in that domain), dif_r2 (largest McFadden R2 change over
      the grouping variables), dif_flag, icc2, kappa_w, sem, sdc (test-retest; without a retest, icc2 and kappa_w
      (quadratic) between two perspectives of the topic when ``perspectives`` is given, sem and sdc blank), and a
      rating per property (content, cross_cultural, reliability).
    """

    table: pd.DataFrame
    items: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    _title = "COSMIN-style evidence: measurement properties rated + / - / ?"

    def for_indicator(self, indicator: str) -> pd.DataFrame:
        return self.table[self.table["indicator"] == indicator].reset_index(drop=True)

    def card(self, item: str) -> dict:
        """The evidence card of one item as a plain dict."""
        row = self.items[self.items["item"] == item]
        if row.empty:
            raise KeyError(f"no item {item!r}")
        return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.iloc[0].items()}

    def to_markdown(self, indicator: str) -> str:
        """The indicator's rows as a Markdown table (for spec sheets)."""
        rows = self.for_indicator(indicator)
        lines = ["| Measurement property | Result | Rating | Criterion (source) |", "|---|---|---|---|"]
        for r in rows.to_dict("records"):
            lines.append(f"| {r['property']} | {str(r['result']).replace('|', '/')} | {r['rating']} | "
                         f"{r['criterion'].replace('|', '/')} ({r['source']}) |")
        return "\n".join(lines)


def _rate(ok, known=True):
    if not known or ok is None:
        return INDETERMINATE
    return SUFFICIENT if ok else INSUFFICIENT


def _by_domain(obj, domain):
    if isinstance(obj, Mapping):
        return obj.get(domain)
    return obj


def _fit_values(cfa=None, invariance=None):
    """CFI, TLI, RMSEA, SRMR from a CFA (scaled values for WLSMV), or the configural model of an invariance test."""
    if cfa is not None:
        f = cfa.fit.iloc[0]
        where = "CFA"
    elif invariance:
        first = next(iter(invariance.values())) if isinstance(invariance, Mapping) else invariance
        f = first.table.iloc[0]
        where = (f"configural model of invariance by {first.group}" if getattr(first, "group", "")
                 else "configural model")
    else:
        return None, ""
    out = {}
    for k in ("cfi", "tli", "rmsea", "srmr"):
        v = f.get(f"{k}_scaled", np.nan) if k != "srmr" else np.nan
        out[k] = float(v) if pd.notna(v) else (float(f[k]) if k in f and pd.notna(f[k]) else np.nan)
    return out, where


def _structural(cfa, invariance):
    fit, where = _fit_values(cfa, invariance)
    if fit is None:
        return INDETERMINATE, "no CFA run"
    ok = ((fit["cfi"] > th.CFI_MIN) or (fit["tli"] > th.TLI_MIN) or (fit["rmsea"] < th.RMSEA_MAX)
          or (fit["srmr"] < th.SRMR_MAX))
    known = any(np.isfinite(v) for v in fit.values())
    text = ", ".join(f"{k.upper()} {v:.3f}" for k, v in fit.items() if np.isfinite(v)) + f" ({where})"
    return _rate(bool(ok), known), text


def _alpha_value(reliability, domain):
    """(alpha, ci_low, ci_high) from reliability_by_domain's frame or an AlphaResult (or a dict of them)."""
    if reliability is None:
        return None
    if isinstance(reliability, pd.DataFrame):
        rows = reliability[reliability["domain"] == domain]
        if rows.empty:
            return None
        r = rows.iloc[0]
        return float(r["raw_alpha"]), r.get("ci_low", np.nan), r.get("ci_high", np.nan)
    res = _by_domain(reliability, domain)
    if res is None:
        return None
    t = res.total.iloc[0]
    return float(t["raw_alpha"]), t.get("ci_low", np.nan), t.get("ci_high", np.nan)


def _omega_text(omega, domain):
    res = _by_domain(omega, domain)
    if res is None:
        return ""
    s = res.summary.iloc[0]
    return f"; omega total {s['omega_total']:.2f}, omega h {s['omega_h']:.2f}" + (
        " (whole instrument)" if not isinstance(omega, Mapping) else "")


def _invariance_levels(invariance):
    """[(group, level, holds)] for the levels after configural, up to scalar."""
    out = []
    if not invariance:
        return out
    results = invariance.items() if isinstance(invariance, Mapping) else [(invariance.group, invariance)]
    for group, res in results:
        for _, row in res.table.iloc[1:].iterrows():
            level = str(row["level"])
            verdict = str(row.get("verdict", ""))
            if "not judged" in verdict:
                holds = None
            else:
                holds = "invariance holds" in verdict
            out.append((group, level, holds))
            if level.split(" ")[0] in ("scalar", "intercepts"):
                break
    return out


def _dif_tables(dif):
    if dif is None:
        return []
    if isinstance(dif, Mapping):
        return [(g, r.table) for g, r in dif.items() if r is not None]
    return [(", ".join(map(str, getattr(dif, "groups", []) or [])) or "group", dif.table)]


def _cross_cultural(invariance, dif, items):
    levels = _invariance_levels(invariance)
    difs = _dif_tables(dif)
    if not levels and not difs:
        return INDETERMINATE, "no invariance or DIF analysis run"
    parts, ok, known = [], True, True
    for group, level, holds in levels:
        verdict = "holds" if holds else ("not judged" if holds is None else "does not hold")
        parts.append(f"{level} by {group}: {verdict}")
        if holds is None:
            known = False
        elif not holds:
            ok = False
    for group, t in difs:
        t = t[t["item"].isin(items)]
        if len(t):
            big = t.loc[t["r2_13"] >= th.DIF_R2_CHANGE, "item"].tolist()
            small = [i for i in t.loc[t["flag"].astype(bool), "item"] if i not in big] if "flag" in t else []
            parts.append(f"DIF by {group}: largest R2 change {t['r2_13'].max():.3f}"
                         + (f" (important: {', '.join(big)})" if big else "")
                         + (f" (significant but small: {', '.join(small)})" if small else ""))
            ok = ok and not big
    return _rate(ok, known or not ok), "; ".join(parts)


def _retest_row(retest, domain):
    if retest is None:
        return None
    t = retest.table
    rows = t[(t["level"] == "scale") & (t["name"] == f"voice_{domain}")]
    return None if rows.empty or "icc2" not in rows or pd.isna(rows.iloc[0].get("icc2")) else rows.iloc[0]


def _added_value_row(added_value):
    if added_value is None:
        return INDETERMINATE, "no added-value analysis run"
    res = next(iter(added_value.values())) if isinstance(added_value, Mapping) else added_value
    if res is None:
        return INDETERMINATE, "no added-value analysis run"
    t = res.table.set_index("measure")
    p = float(t.loc["lr_chisq", "p_val"])
    auc = t.loc["auc"]
    excludes_zero = pd.notna(auc.get("ci_low")) and auc["ci_low"] > 0
    text = (f"{res.outcome}: LR test p = {p:.2g}; AUC {auc['base']:.3f} -> {auc['full']:.3f} "
            f"(gain {auc['difference']:.3f}" + (f", 95% CI {auc['ci_low']:.3f} to {auc['ci_high']:.3f})"
                                                  if pd.notna(auc.get("ci_low")) else ")"))
    if p >= 0.05:
        return INSUFFICIENT, text
    return (SUFFICIENT if excludes_zero else INDETERMINATE), text


def _content_rows(content_validity, items):
    if content_validity is None:
        return INDETERMINATE, "no content validity panel"
    t = content_validity.items
    t = t[(t["group"] == "all") & t["item"].isin(items)]
    if t.empty:
        return INDETERMINATE, "panel did not rate these items"
    s_ave = float(t["i_cvi"].mean())
    low = t.loc[(t["i_cvi"] < 0.78) | (t["clarity_cvi"].fillna(1) < 0.78), "item"].tolist()
    flagged = [i for i in content_validity.flagged if i in items]
    text = (f"S-CVI/Ave {s_ave:.2f}; I-CVI {t['i_cvi'].min():.2f}-{t['i_cvi'].max():.2f}; "
            f"clarity {t['clarity_cvi'].min():.2f}-{t['clarity_cvi'].max():.2f}"
            + (f"; flagged: {', '.join(flagged)}" if flagged else ""))
    return _rate(s_ave >= 0.90 and not low), text


def _rated(framework, respondent):
    """(indicator, domain, its items) for every indicator computed from a scale (``voice_<domain>``: that
    domain's items) or an item (one entry per domain of the item, ``Item.all_domains``: its internal
    consistency, retest and MIC are those of each domain it counts in)."""
    for ind in framework.indicators:
        c = ind.compute
        if c.source == "scale":
            domain = c.field.removeprefix("voice_")
            yield ind, domain, [i.id for i in framework.items_in(domain, respondent)]
        elif c.source == "item":
            for domain in framework.item(c.field).all_domains:
                yield ind, domain, [c.field]


def cosmin_table(*, framework, content_validity=None, cfa=None, reliability=None, omega=None, invariance=None,
                 dif=None, retest=None, added_value=None, mic: Mapping | float | None = None,
                 interviews=None, item_analysis=None, perspectives=None) -> CosminResult:
    """Rate every measurement property of every voice indicator from results already computed.

    Parameters (all optional; a property without its result is rated ``?``)
    ----------
    framework : the ``Framework``; indicators computed from a scale (``voice_<domain>``) or an item get rows (an
        item in several domains: rows for each domain, ``Item.all_domains``). The scale's items are those of the
        first respondent the framework's items name.
    content_validity : :func:`measurekit.content_validity` result.
    cfa : :func:`measurekit.cfa` result of the instrument's model; without it the configural model of
        ``invariance`` is used for structural validity.
    reliability : ``stats.reliability.reliability_by_domain`` frame, or a dict domain -> ``mk.alpha`` result.
    omega : ``mk.omega`` result (whole instrument) or a dict domain -> result (shown beside alpha).
    invariance : ``mk.invariance`` result or a dict grouping column -> result.
    dif : ``mk.dif`` result or a dict grouping column -> result.
    retest : :func:`measurekit.retest` result (scale rows ``voice_<domain>``, item rows).
    added_value : ``mk.added_value`` result or a dict outcome -> result.
    mic : minimal important change on the score scale (one number, or a dict domain -> number).
    interviews : a cognitive-interview log (``design.interviews``), for the item cards.
    item_analysis : :func:`measurekit.item_analysis` result: its ``r_drop`` (item-rest correlation) fills the
        item cards; where ``reliability`` is a dict of ``mk.alpha`` results, alpha's ``r_drop`` is used instead.
    perspectives : two perspectives of the same topics: the main job's ``Perspectives`` or a mapping with
        ``agreement`` (:func:`measurekit.stats.perspectives.perspective_agreement` result or table),
        ``known_groups`` (:func:`measurekit.stats.cosmin_perspectives.known_groups` rows) and optionally ``k``.
        It rates reliability and measurement error where there is no retest, and adds the property "hypotheses
        testing for construct validity" (see :mod:`measurekit.stats.cosmin_perspectives`).

    Nothing is modified, fitted or read; the same inputs give the same table.
    """
    rows: list[dict] = []
    warnings: list[str] = []
    structural = _structural(cfa, invariance)
    added = _added_value_row(added_value)
    respondent = framework.respondents()[0] if framework.respondents() else None
    properties = list(PROPERTIES)
    if perspectives is not None:
        from measurekit.stats import cosmin_perspectives as cp

        properties.insert(properties.index("measurement error") + 1, cp.HYPOTHESES)
    for ind, domain, items in _rated(framework, respondent):
        criteria = dict(CRITERIA)
        out = {"content validity": _content_rows(content_validity, items), "structural validity": structural}
        a = _alpha_value(reliability, domain)
        if a is None:
            out["internal consistency"] = (INDETERMINATE, "alpha not computed")
        else:
            ci = f" (95% CI {a[1]:.2f}-{a[2]:.2f})" if pd.notna(a[1]) else ""
            text = f"alpha {a[0]:.2f}{ci}{_omega_text(omega, domain)}"
            if structural[0] != SUFFICIENT:
                why = "not assessed" if structural[0] == INDETERMINATE else "not sufficient"
                out["internal consistency"] = (INDETERMINATE, text + f"; structural validity {why}")
            else:
                out["internal consistency"] = (_rate(a[0] >= th.ALPHA_MIN), text)
        out["cross-cultural validity"] = _cross_cultural(invariance, dif, items)
        r = _retest_row(retest, domain)
        if r is None:
            out["reliability"] = (INDETERMINATE, "no test-retest data")
            out["measurement error"] = (INDETERMINATE, "no test-retest data")
        else:
            out["reliability"] = (_rate(r["icc2"] >= th.ICC_MIN),
                                  f"ICC(2,1) {r['icc2']:.2f} (95% CI {r['icc2_ci_low']:.2f}-"
                                  f"{r['icc2_ci_high']:.2f}), n = {int(r['n'])}")
            m = mic.get(domain) if isinstance(mic, Mapping) else mic
            text = f"SEM {r['sem']:.2f}, SDC {r['sdc']:.2f} (score points)"
            out["measurement error"] = ((INDETERMINATE, text + "; no MIC defined") if m is None
                                        else (_rate(r["sdc"] < m), text + f"; MIC {m:g}"))
        out["criterion validity / added value"] = added
        if perspectives is not None:
            level, name = ("topic", ind.compute.field) if ind.compute.source == "item" else ("domain", domain)
            two = cp.perspective_rows(perspectives, framework=framework, level=level, name=name,
                                      mic=mic.get(domain) if isinstance(mic, Mapping) else mic)
            for prop, rated in two.items():
                if prop == cp.HYPOTHESES or out[prop][1] == "no test-retest data":   # retest, when run, stands
                    out[prop] = rated
                    criteria[prop] = cp.CRITERIA[prop]
            out.setdefault(cp.HYPOTHESES, (INDETERMINATE, "no hypothesis declared for a domain score"))
            criteria.setdefault(cp.HYPOTHESES, cp.CRITERIA[cp.HYPOTHESES])
        for prop in properties:
            rating, result = out[prop]
            criterion, source = criteria[prop]
            rows.append({"indicator": ind.id, "domain": domain, "property": prop, "result": result, "rating": rating,
                         "criterion": criterion, "source": source})
    table = pd.DataFrame(rows, columns=["indicator", "domain", "property", "result", "rating", "criterion", "source"])
    return CosminResult(table=table, items=_item_cards(framework, content_validity, cfa, reliability, dif, retest,
                                                       interviews, item_analysis, perspectives), warnings=warnings)


def _item_cards(fw, content_validity, cfa, reliability, dif, retest, interviews, item_analysis,
                perspectives=None) -> pd.DataFrame:
    cards = []
    cv = (content_validity.items[content_validity.items["group"] == "all"].set_index("item") if content_validity
          else None)
    loadings = {}
    if cfa is not None:
        est = cfa.estimates
        loadings = est[est["op"] == "=~"].set_index("rhs")["std_all"].to_dict()
    r_drop: dict[tuple[str, str], float] = {}        # (item, domain) -> item-rest correlation in that domain
    if item_analysis is not None:
        t = item_analysis.items
        r_drop.update({(str(i), str(d)): v for i, d, v in zip(t.index, t["domain"], t["r_drop"]) if pd.notna(v)})
    if isinstance(reliability, Mapping):
        for domain, res in reliability.items():
            if res is not None:
                r_drop.update({(str(i), str(domain)): v for i, v in res.items["r_drop"].to_dict().items()})
    dif_r2: dict[str, float] = {}
    dif_flag: dict[str, bool] = {}
    for _, t in _dif_tables(dif):
        for r in t.to_dict("records"):
            dif_r2[r["item"]] = max(dif_r2.get(r["item"], 0.0), float(r["r2_13"]))
            dif_flag[r["item"]] = bool(dif_flag.get(r["item"], False) or r["flag"])
    rt = retest.table[retest.table["level"] == "item"].set_index("name") if retest is not None else None
    between = None      # two perspectives of the same topics: their agreement per topic, where there is no retest
    if perspectives is not None:
        from measurekit.stats.cosmin_perspectives import part_table

        agreement = part_table(perspectives, "agreement")
        if agreement is not None and len(agreement) and "icc2" in agreement:
            between = agreement[agreement["level"] == "topic"].set_index("name")
    log = None
    if interviews is not None:
        from measurekit.design.interviews import summarise

        log = summarise(interviews).set_index("item")
    for it, domain in [(item, d) for item in fw.items for d in item.all_domains]:   # a card per item and domain
        card = {"item": it.id, "domain": domain, "status": it.status}
        if cv is not None and it.id in cv.index:
            r = cv.loc[it.id]
            card.update(i_cvi=r["i_cvi"], kappa=r["kappa"], clarity_cvi=r["clarity_cvi"],
                        content=_rate(bool(r["i_cvi"] >= 0.78
                                           and (pd.isna(r["clarity_cvi"]) or r["clarity_cvi"] >= 0.78))))
        else:
            card.update(i_cvi=np.nan, kappa=np.nan, clarity_cvi=np.nan, content=INDETERMINATE)
        if log is not None and it.id in log.index:
            card.update(interviews=int(log.loc[it.id, "n_interviews"]), interview_problems=log.loc[it.id, "problems"])
        else:
            card.update(interviews=0, interview_problems="")
        card.update(loading=loadings.get(it.id, np.nan), r_drop=r_drop.get((it.id, domain), np.nan),
                    dif_r2=dif_r2.get(it.id, np.nan), dif_flag=dif_flag.get(it.id, False),
                    cross_cultural=_rate(dif_r2[it.id] < th.DIF_R2_CHANGE) if it.id in dif_r2 else INDETERMINATE)
        if rt is not None and it.id in rt.index and pd.notna(rt.loc[it.id].get("icc2")):
            r = rt.loc[it.id]
            card.update(icc2=r["icc2"], kappa_w=r["kappa_w"], sem=r["sem"], sdc=r["sdc"],
                        reliability=_rate(max(r["icc2"], r["kappa_w"]) >= th.ICC_MIN))
        elif between is not None and it.id in between.index and pd.notna(between.loc[it.id].get("icc2")):
            r = between.loc[it.id]      # between the perspectives (inter-rater): ICC(2,1), quadratic weighted kappa
            card.update(icc2=r["icc2"], kappa_w=r.get("kappa_quadratic", np.nan), sem=np.nan, sdc=np.nan,
                        reliability=_rate(bool(r["icc2"] >= th.ICC_MIN)))
        else:
            card.update(icc2=np.nan, kappa_w=np.nan, sem=np.nan, sdc=np.nan, reliability=INDETERMINATE)
        cards.append(card)
    return pd.DataFrame(cards)
