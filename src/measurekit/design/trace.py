"""Traceability: from each theme of the voice evidence to the items and indicators it shaped."""
from __future__ import annotations

import pandas as pd

from measurekit.design.evidence import Evidence
from measurekit.design.models import VOICE_GROUPS, Framework


def _indicators_using(fw: Framework, item) -> list[str]:
    out = []
    for ind in fw.indicators:
        c = ind.compute
        if (c.source == "item" and c.field == item.id) or (c.source == "scale" and c.field == f"voice_{item.domain}"):
            out.append(ind.id)
    return out


def traceability(fw: Framework, evidence: Evidence) -> dict[str, pd.DataFrame]:
    """Three tables:

    themes: one row per theme: code, name, n_quotes, items (ids), indicators (ids), covered (bool).
        A theme no item covers is something families raised that the instrument does not ask about.
    items: one row per item: item, domain, status, themes, n_quotes, indicators, has_evidence, and
        one count column per voice group (how many of the item's quotes came from that group): the
        framework's groups (seldom_heard_outreach, parent_panel, practitioners, children,
        community_partners) and any other group named in quotes.csv.
    problems: columns item, code, value. Codes: unknown_quote / unknown_theme (an item cites a quote id
        or theme code the evidence does not have), quote_unknown_theme (a quote is coded with a theme
        the codebook does not define; item is empty and value is ``quote id: theme``).
    """
    quotes = evidence.quotes.set_index("id")
    theme_names = dict(zip(evidence.themes["code"], evidence.themes["name"]))
    item_rows, problems = [], []
    for qid, ts in zip(evidence.quotes["id"], evidence.quotes["themes"]):
        for t in ts:
            if t not in theme_names:
                problems.append({"item": "", "code": "quote_unknown_theme", "value": f"{qid}: {t}"})
    groups = list(VOICE_GROUPS) + sorted(set(evidence.quotes["voice_group"]) - set(VOICE_GROUPS) - {""})
    for it in fw.items:
        qids = it.provenance.quotes
        unknown_q = [q for q in qids if q not in quotes.index]
        unknown_t = [t for t in it.provenance.themes if t not in theme_names]
        for q in unknown_q:
            problems.append({"item": it.id, "code": "unknown_quote", "value": q})
        for t in unknown_t:
            problems.append({"item": it.id, "code": "unknown_theme", "value": t})
        known = quotes.loc[[q for q in qids if q in quotes.index]]
        row = {"item": it.id, "domain": it.domain, "status": it.status, "themes": ", ".join(it.provenance.themes),
               "n_quotes": len(known), "indicators": ", ".join(_indicators_using(fw, it)),
               "has_evidence": bool(len(known) or it.provenance.themes)}
        for g in groups:
            row[g] = int((known["voice_group"] == g).sum()) if len(known) else 0
        item_rows.append(row)
    items = pd.DataFrame(item_rows)
    theme_rows = []
    for code, name in theme_names.items():
        its = [it for it in fw.items if code in it.provenance.themes]
        n_quotes = int(evidence.quotes["themes"].map(lambda ts, code=code: code in ts).sum())
        inds = sorted({i for it in its for i in _indicators_using(fw, it)})
        theme_rows.append({"code": code, "name": name, "n_quotes": n_quotes, "items": ", ".join(i.id for i in its),
                           "indicators": ", ".join(inds), "covered": bool(its)})
    return {"themes": pd.DataFrame(theme_rows), "items": items,
            "problems": pd.DataFrame(problems, columns=["item", "code", "value"])}
