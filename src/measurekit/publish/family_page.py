"""A page for families per area: "what you told us and what happens next".

Feeding back to the families who gave their voice is part of the framework this serves. The page
has no statistics jargon: shares are said as "about 3 in 10 families", a comparison with the
local authority (in the framework's word for it) is only made when the board table's 95% limits support
it ("about the same" otherwise), and sentences are short (the English text is checked with
:mod:`measurekit.design.readability`; the tests hold it at a reading age of 9 or below).

Languages: the page is in English (``lang="en"``) with a block per other framework language
(``lang`` and, for Arabic-script languages, ``dir="rtl"`` on the block). A block uses only the
framework's own translated text (form title, domain labels, and the page's phrases in
``form_text.family`` by key and language); this module's phrases are English defaults (:data:`TEXT` for
the data contract's families, :func:`neutral_text` in a framework's own people word) and a language the
framework gives no ``thanks`` phrase for gets no block. Drafts are included only
for illustrative frameworks and are marked as drafts; otherwise only translations reviewed by the
community (status ``community_reviewed`` or later) reach families.

A menu at the top links to each language's section; quotes say who said them and where; the page names
Noto fonts covering every script of its languages. Rendered from ``templates/family.html.j2`` (autoescaped)
as a function of the board table alone.

Files: ``families/<code>.html`` beside ``briefing/`` in the board pack, named from the codes.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd

from measurekit.core import labels

RTL_LANGUAGES = {"ar", "ur", "fa", "he", "ps", "sd", "yi", "ug", "ckb"}
LANGUAGE_NAMES = {"en": "English", "ur": "اردو", "bn": "বাংলা", "pa": "ਪੰਜਾਬੀ", "pl": "Polski", "ar": "العربية",
                  "ro": "Română", "so": "Soomaali", "tr": "Türkçe", "fa": "فارسی", "pt": "Português"}
REVIEWED = ("source", "community_reviewed", "cognitively_tested", "approved")

# The page's own phrases for a framework on the data contract (children, answered for by their families) that does
# not declare them (``form_text.family`` in framework.yaml): English only. Other languages come from the framework
# (its declared translations), never from here.
TEXT = {
    "thanks": {"en": "Thank you for telling us about your child and your family."},
    "told": {"en": "What you told us"},
    "need": {"en": "About {k} in 10 families told us they need more help with this."},
    "score": {"en": "On a scale of {lo} to {hi}, families gave this {v} on the whole."},
    "next": {"en": "We will share this with the people who plan help for families in your area."},
    "answered": {"en": "About {n} families in {name} answered."},
    "in_ten": {"en": "That is about {k} in 10 families."},
    "need_none": {"en": "Fewer than 1 in 10 families told us they need more help with this."},
    "plan": {"en": "They will use it to plan help like play groups and books for your child."},
    "again": {"en": "We will ask you again next year. Then you can see what has changed."},
    "made_up": {"en": "This is an example made with made-up families. It is not about real people."},
    "private": {"en": "We never show your name or your child's name."},
}


def neutral_text(fw) -> dict[str, dict[str, str]]:
    """The page's default phrases for a framework of its own people (not the data contract's children and
    families): English only, in the framework's word for its people (``population.people``), naming no service.
    Any other language comes only from the framework (``form_text.family``)."""
    people = labels.people_words(fw).people
    return {
        "thanks": {"en": "Thank you for telling us what you think."},
        "told": {"en": "What you told us"},
        "need": {"en": f"About {{k}} in 10 {people} told us they need more help with this."},
        "score": {"en": f"On a scale of {{lo}} to {{hi}}, {people} gave this {{v}} on the whole."},
        "next": {"en": "We will share this with the people who plan help in your area."},
        "answered": {"en": f"About {{n}} {people} in {{name}} answered."},
        "in_ten": {"en": f"That is about {{k}} in 10 {people}."},
        "need_none": {"en": f"Fewer than 1 in 10 {people} told us they need more help with this."},
        "plan": {"en": "They will use it to plan help."},
        "again": {"en": "We will ask you again. Then you can see what has changed."},
        "made_up": {"en": f"This is an example made with made-up {people}. It is not about real people."},
        "private": {"en": "We never show your name."},
    }


def phrase(fw, key: str, lang: str) -> str:
    """The framework's ``form_text.family_<key>`` in ``lang`` when it has one, else this module's draft ('' if none):
    :data:`TEXT` for a framework on the data contract (children and their families), :func:`neutral_text` (English
    only) for any other."""
    form = getattr(fw, "form_text", None)
    own = getattr(form, f"family_{key}", None)
    if isinstance(own, dict) and own.get(lang):
        return own[lang]
    own = (getattr(form, "family", None) or {}).get(key)   # form_text.family: {key: {lang: text}}
    if isinstance(own, dict) and own.get(lang):
        return own[lang]
    defaults = TEXT if labels.contract_words(fw) else neutral_text(fw)
    return defaults.get(key, {}).get(lang, "")


def is_rtl(fw, lang: str) -> bool:
    t = getattr(fw, "translations", {}).get(lang)
    return lang.split("-")[0] in RTL_LANGUAGES or bool(t and "right to left" in (t.script or "").lower())


def _languages(fw) -> list[tuple[str, bool]]:
    """(language, is_draft) for the translated blocks, in the framework's order."""
    out = []
    for lang in getattr(fw, "languages", []):
        if lang == "en" or not phrase(fw, "thanks", lang):
            continue
        t = fw.translations.get(lang)
        status = t.status if t else "draft"
        if status in REVIEWED:
            out.append((lang, False))
        elif fw.illustrative:
            out.append((lang, True))
    return out


def _in_ten(value: float) -> int:
    return int(round(float(value) / 10))


def _k_text(k: int) -> str:
    return "Fewer than 1" if k == 0 else str(k)


def _topic(fw, ind):
    """(domain, English topic) for a voice indicator; None when the indicator is not a voice scale."""
    c = ind.compute
    if c.source == "item" and c.table is None and c.among is None:
        # a topic rated on its own (one item): its short name in each language (Item.topic)
        try:
            item = fw.item(c.field)
        except Exception:   # noqa: BLE001 - not an item of the framework: no family wording for it
            return None
        return SimpleNamespace(id=item.id, title=item.topic("en"),
                               label={lang: item.topic(lang) for lang in item.stem}), item.topic("en")
    if c.source != "scale":
        return None
    try:
        d = fw.domain(c.field.removeprefix("voice_"))
    except Exception:   # noqa: BLE001 - an indicator on a field that is not a domain: no family wording for it
        return None
    return d, d.title


def _compare(sig: str, statistic: str, la: str) -> str:
    if sig not in ("higher", "lower"):
        return f"This is about the same as across the whole {la}." if sig else ""
    if statistic.startswith("proportion"):
        return f"This is {'more' if sig == 'higher' else 'fewer'} than across the whole {la}."
    return f"This is {'higher' if sig == 'higher' else 'lower'} than across the whole {la}."


def english_sentences(board, code: str, own: pd.DataFrame | None = None) -> dict[str, Any]:
    """The page's own English text (not quotes), by part: intro, told (list of (domain, topic, sentences, k,
    indicator)), heard, next; and ``scores``: indicator id -> (scale low, scale high, mean) for the mean scores told.
    ``own``: the area's rows (``BoardTable.area_rows``) when already split from the table. Published values only."""
    from measurekit.publish.briefing import _scale_range

    fw, words = board.framework, board.words
    rows = board.area_rows(code) if own is None else own
    everyone = rows[rows["breakdown"] == "all"].set_index("indicator_id")
    name = str(rows["geography_name"].iloc[0])
    intro = [phrase(fw, "thanks", "en")]
    cov_ind = board.coverage_indicator
    cov_id = cov_ind.id if cov_ind is not None else None
    if cov_id in everyone.index:
        cov = everyone.loc[cov_id]
        if pd.notna(cov["numerator"]) and pd.notna(cov["value"]):
            n = int(round(float(cov["numerator"]), -1))
            intro.append(phrase(fw, "answered", "en").format(n=f"{n:,}", name=name))
            intro.append(phrase(fw, "in_ten", "en").format(k=_k_text(_in_ten(cov['value'])).lower()))
    told, scores = [], {}
    for ind in board.indicators.values():
        topic = _topic(fw, ind)
        if topic is None or ind.id not in everyone.index or pd.isna(everyone.loc[ind.id, "value"]):
            continue
        r = everyone.loc[ind.id]
        d, title = topic
        if ind.value_type == "proportion" and ind.compute.statistic == "proportion_below":
            k = _in_ten(r["value"])
            said = [phrase(fw, "need", "en").format(k=k) if k else phrase(fw, "need_none", "en")]
        elif ind.value_type == "mean":
            lo, hi = _scale_range(fw, ind, rows[rows["indicator_id"] == ind.id])
            k = None
            scores[ind.id] = (lo, hi, float(r["value"]))
            said = [phrase(fw, "score", "en").format(lo=f"{lo:g}", hi=f"{hi:g}", v=f"{r['value']:.1f}")]
        elif ind.value_type == "proportion" and ind.compute.statistic == "proportion_at_or_above" and \
                phrase(fw, "rated", "en"):
            k = _in_ten(r["value"])
            said = [phrase(fw, "rated", "en").format(k=_k_text(k), t=f"{ind.compute.threshold:g}",
                                                     hi=f"{_scale_top(fw, ind):g}")]
        else:
            continue
        comp = _compare(r["significance_95"], ind.compute.statistic, words.la)
        if comp:
            said.append(comp)
        told.append((d, title, said, k, ind))
    heard = []
    if cov_id is not None:
        # the groups the framework gives words for families (``plain`` in its declared breakdowns)
        named = {(b.id, v.value) for b in getattr(fw, "group_breakdowns", []) for v in b.values if v.plain}
        cov = rows[(rows["indicator_id"] == cov_id) & rows["breakdown"].isin({b for b, _ in named})]
        overall = everyone["value"].get(cov_id) if cov_id in everyone.index else None
        if overall is not None and pd.notna(overall):
            few = [labels.category(r.breakdown, r.breakdown_value, plain=True, framework=fw) for r in
                   cov[["breakdown", "breakdown_value", "value"]].itertuples()
                   if pd.notna(r.value) and r.value < overall - 5 and (r.breakdown, str(r.breakdown_value)) in named]
            if few:
                heard = [f"{f[:1].upper()}{f[1:]}." for f in few]
    nxt = [phrase(fw, "next", "en"), phrase(fw, "plan", "en"), phrase(fw, "again", "en"), phrase(fw, "private", "en")]
    return {"name": name, "intro": intro, "told": told, "heard": heard, "next": nxt, "scores": scores}


def english_text(board, code: str) -> str:
    """All the English sentences the page writes itself (for the reading-age check)."""
    s = english_sentences(board, code)
    heard = ["We did not hear enough from these groups."] + s["heard"] + ["We want to hear from you next time."] \
        if s["heard"] else []
    parts = s["intro"] + [t for item in s["told"] for t in [item[1] + "."] + item[2]] + heard + s["next"]
    return " ".join(parts)


def _scale_top(fw, ind) -> float:
    """The highest rating of an item indicator's scale (10 for a 0-10 rating)."""
    try:
        return float(fw.scale(fw.item(ind.compute.field).scale).max)
    except Exception:   # noqa: BLE001 - no scale to read: the threshold's own words stand alone
        return float("nan")


def _topic_quotes(board) -> dict[str, list[dict]]:
    """Item id -> consented quotes about that topic (quotes.csv's optional ``topic`` column: an item id), at most two
    each, to show beside the topic's numbers as plain text (never only on mouse-over)."""
    ev = board.evidence
    quotes = ev.consented_quotes() if ev is not None else pd.DataFrame()
    if not len(quotes) or "topic" not in quotes:
        return {}
    out: dict[str, list[dict]] = {}
    for q in quotes.itertuples():
        topic = str(getattr(q, "topic", "") or "").strip()
        if topic and len(out.setdefault(topic, [])) < 2:
            out[topic].append({"text": q.text, "source": ", ".join(
                t for t in (labels.breakdown(str(q.voice_group)).capitalize(), str(q.setting or "").strip()) if t)})
    return out


def _dots(k: int | None) -> dict | None:
    """The ten dots of "about k in 10" (k filled), for the template; None for a mean score."""
    if k is None:
        return None
    k = max(0, min(10, k))
    return {"label": f"{k} in 10", "on": k, "off": 10 - k}


FAMILY_CSS = """
.dots{font-size:1.35rem;letter-spacing:.12rem;margin:.1rem 0;line-height:1}
.dots .on{color:#1d4f91}.dots .off{color:#767676}
.lang{border:1px solid #c8d1dc;border-radius:6px;padding:.4rem .8rem;margin:.6rem 0;break-inside:avoid}
.lang h2{margin:.2rem 0}
.family p,.family li{font-size:1.05rem}
nav.languages ul{list-style:none;padding:0;margin:.4rem 0;display:flex;flex-wrap:wrap;gap:.4rem 1rem}
nav.languages a{display:inline-block;min-height:24px;line-height:24px;font-size:1.05rem}
blockquote{margin:.4rem 0 .4rem 1rem;font-style:italic}
blockquote footer{font-style:normal;font-size:.85rem;color:#595959}
"""


def family_page(board, code: str, made_on: str | None = None, own: pd.DataFrame | None = None) -> str:
    """The HTML page for families of one area (by code) of a board table (template ``family.html.j2``);
    ``own`` as in :func:`english_sentences`.

    At the top, a menu of the page's languages links to each language's section (readers need not scroll past
    English); quotes say who said them and where, and that they come from families across the local authority;
    the page names Noto fonts that cover the script of every language it holds (:func:`html.font_css`).
    """
    from measurekit.publish import html as pagekit
    from measurekit.publish.briefing import page_quotes

    fw = board.framework
    s = english_sentences(board, code, own)
    name = s["name"]
    made_on = made_on or _dt.date.today().strftime("%d %B %Y")
    beside = _topic_quotes(board)
    told = [{"title": title, "dots": _dots(k), "said": " ".join(said),
             "quotes": beside.get(str(getattr(d, "id", "")), [])}
            for d, title, said, k, ind in s["told"]]
    blocks = []
    for lang, draft in _languages(fw):
        items = []
        for d, _title, _said, k, ind in s["told"]:
            label = d.label.get(lang) or d.title
            if k is not None and ind.compute.statistic == "proportion_at_or_above":
                text = phrase(fw, "rated", lang).format(k=_k_text(k), t=f"{ind.compute.threshold:g}",
                                                        hi=f"{_scale_top(fw, ind):g}")
                if not text:
                    continue
            elif k is not None:
                text = phrase(fw, "need", lang).format(k=k)
            else:
                lo, hi, v = s["scores"][ind.id]
                text = phrase(fw, "score", lang).format(lo=f"{lo:g}", hi=f"{hi:g}", v=f"{v:.1f}")
            items.append({"label": label, "text": text})
        blocks.append({"lang": lang, "anchor": f"lang-{lang}", "rtl": is_rtl(fw, lang),
                       "name": LANGUAGE_NAMES.get(lang, lang), "title": getattr(fw.form_text, "title", {}).get(lang),
                       "thanks": phrase(fw, "thanks", lang), "told": phrase(fw, "told", lang), "lines": items,
                       "next": f"{phrase(fw, 'next', lang)} {phrase(fw, 'private', lang)}", "draft": draft})
    codes = board.area_codes()
    k = codes.index(str(code)) if str(code) in codes else 0
    quotes, quotes_note = page_quotes(board, code, k, own)
    shown = {q["text"] for t in told for q in t["quotes"]}
    if shown:   # a quote already beside its topic's numbers is not repeated below
        quotes = [q for q in quotes if q["text"] not in shown]
    menu = ([{"anchor": "lang-en", "name": LANGUAGE_NAMES["en"], "lang": "en"}]
            + [{"anchor": b["anchor"], "name": b["name"], "lang": b["lang"]} for b in blocks]) if blocks else []
    languages = ["en"] + [b["lang"] for b in blocks]
    return pagekit.render(
        "family.html.j2", title=f"{name}: what you told us", lang="en",
        extra_css=FAMILY_CSS + pagekit.font_css(languages), name=name, framework_title=fw.title or fw.name,
        illustrative=fw.illustrative, made_up=phrase(fw, "made_up", "en"), intro=" ".join(s["intro"]), told=told,
        quotes=quotes[:2],
        quotes_note=quotes_note, heard=s["heard"], next=s["next"], blocks=blocks, menu=menu,
        owner=fw.owner or "the council", made_on=made_on,
        draft_note="Draft translation: not yet checked with families who read this language."
        if labels.contract_words(fw) else "Draft translation: not yet checked by people who read this language.")


def write_family_pages(board, folder: Path) -> dict[str, Path]:
    """One page per area of a board table in ``folder`` (named from the codes, as the briefings).
    Returns code -> path."""
    from measurekit.publish.briefing import write_area_pages

    return write_area_pages(board, folder, lambda code, own: family_page(board, code, own=own), "Family pages")
