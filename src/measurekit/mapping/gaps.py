"""Where a measurekit framework's voice indicator would bring an unused voice source to a priority.

An information type *carries voice* when it records the views of children, parents or practitioners; it is
*unused* when no path leads from it to a priority. A framework's indicator is a *voice indicator* when it is
computed from a voice domain's score or one of its items (``compute.source`` "scale" or "item"); it carries
the voices of the respondents who answer that domain's items (``Item.respondents``). A priority names the
domains that speak to it (``voice_domains``). A gap is an unused type T, a voice indicator I and a priority
P such that T and I carry the same voice and P names I's domain: measuring that voice with I would bring
to P what T collects and nobody uses.
"""
from __future__ import annotations

import pandas as pd

from measurekit.mapping.inventory import Inventory, Priority

GAP_COLUMNS = ["information", "information_title", "voice", "indicator", "indicator_title", "domain",
               "domain_title", "priority", "priority_title", "how"]


def voice_indicators(framework) -> pd.DataFrame:
    """One row per indicator computed from a voice domain: indicator, indicator_title, domain, domain_title,
    respondents (the voices that answer the domain's items, '; '-joined)."""
    rows = []
    domains = {d.id: d for d in framework.domains}
    for ind in framework.indicators:
        source, field = ind.compute.source, ind.compute.field
        if source == "scale" and field.removeprefix("voice_") in domains:
            dom = field.removeprefix("voice_")
            respondents = sorted({r for it in framework.items if it.domain == dom for r in it.respondents})
        elif source == "item" and any(it.id == field for it in framework.items):
            item = framework.item(field)
            dom, respondents = item.domain, sorted(set(item.respondents))
        else:
            continue
        rows.append({"indicator": ind.id, "indicator_title": ind.title, "domain": dom,
                     "domain_title": domains[dom].title if dom in domains else dom,
                     "respondents": "; ".join(respondents)})
    return pd.DataFrame(rows, columns=["indicator", "indicator_title", "domain", "domain_title", "respondents"])


def framework_gaps(inventory: Inventory, used: set[str], framework=None) -> tuple[pd.DataFrame, list[str]]:
    """(gaps table, warnings). Columns: information and information_title (the unused voice source), voice (the
    voices it shares with the indicator), indicator, indicator_title, domain, domain_title, priority and
    priority_title (blank when no priority names the domain in ``voice_domains``), how (the gap in words)."""
    if framework is None:
        return pd.DataFrame(columns=GAP_COLUMNS), []
    warnings = []
    domain_ids = {d.id for d in framework.domains}
    for p in inventory.priorities:
        for d in p.voice_domains:
            if d not in domain_ids:
                warnings.append(f"Priority {p.id!r} names the voice domain {d!r}, which the framework "
                                f"{framework.name!r} does not have (unknown_voice_domain); it is left out.")
    indicators = voice_indicators(framework)
    rows = []
    for info in inventory.information:
        if info.id in used or not info.carries_voice:
            continue
        for ind in indicators.to_dict("records"):
            shared = [v for v in info.voices if v in ind["respondents"].split("; ")]
            if not shared:
                continue
            targets: list[Priority | None] = [p for p in inventory.priorities if ind["domain"] in p.voice_domains]
            voice_words = " and ".join(f"{v}s'" if v != "child" else "children's" for v in shared)
            for target in targets or [None]:
                to = (f"which would bring {voice_words} views to '{target.title}'" if target is not None else
                      "but no priority names this domain under voice_domains yet")
                rows.append({"information": info.id, "information_title": info.title, "voice": "; ".join(shared),
                             "indicator": ind["indicator"], "indicator_title": ind["indicator_title"],
                             "domain": ind["domain"], "domain_title": ind["domain_title"],
                             "priority": target.id if target else "", "priority_title": target.title if target else "",
                             "how": f"'{info.title}' holds {voice_words} views that reach no priority; the indicator "
                                    f"'{ind['indicator_title']}' measures the same voices ({ind['domain_title']}), "
                                    f"{to}."})
    return pd.DataFrame(rows, columns=GAP_COLUMNS), warnings
