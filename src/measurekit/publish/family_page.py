"""A page for families per neighbourhood: "what you told us and what happens next".

Feeding back to the families who gave their voice is part of the framework this serves. The page
has no statistics jargon: shares are said as "about 3 in 10 families", a comparison with the
borough is only made when the board table's 95% funnel limits support it ("about the same"
otherwise), and sentences are short (the English text is checked with
:mod:`measurekit.design.readability`; the tests hold it at a reading age of 9 or below).

Languages: the page is in English (``lang="en"``) with a block per other framework language
(``lang`` and, for Arabic-script languages, ``dir="rtl"`` on the block). A block uses the
framework's own translated text (form title, domain labels) and this module's short phrases,
which the framework can override with ``form_text.family_<key>`` entries. Drafts are included only
for illustrative frameworks and are marked as drafts; otherwise only translations reviewed by the
community (status ``community_reviewed`` or later) reach families.

Files: ``families/<code>.html`` beside ``briefing/`` in the board pack, named from the codes.
"""
from __future__ import annotations

import datetime as _dt
import html
from pathlib import Path

import pandas as pd

from measurekit.core import labels
from measurekit.publish.html import CSS

RTL_LANGUAGES = {"ar", "ur", "fa", "he", "ps", "sd", "yi", "ug", "ckb"}
LANGUAGE_NAMES = {"en": "English", "ur": "اردو", "bn": "বাংলা", "pa": "ਪੰਜਾਬੀ", "pl": "Polski", "ar": "العربية",
                  "ro": "Română", "so": "Soomaali", "tr": "Türkçe", "fa": "فارسی", "pt": "Português"}
REVIEWED = ("source", "community_reviewed", "cognitively_tested", "approved")

# Short phrases for the translated blocks. ILLUSTRATIVE drafts, not made by a qualified translator:
# review them with community translators like every other translation in the framework.
TEXT = {
    "thanks": {
        "en": "Thank you for telling us about your child and your family.",
        "ur": "اپنے بچے اور اپنے خاندان کے بارے میں ہمیں بتانے کا شکریہ۔",
        "bn": "আপনার সন্তান ও পরিবারের কথা আমাদের জানানোর জন্য ধন্যবাদ।",
        "pa": "ਆਪਣੇ ਬੱਚੇ ਅਤੇ ਪਰਿਵਾਰ ਬਾਰੇ ਸਾਨੂੰ ਦੱਸਣ ਲਈ ਧੰਨਵਾਦ।",
        "pl": "Dziękujemy, że opowiedzieli nam Państwo o swoim dziecku i rodzinie.",
        "ar": "شكرًا لأنك أخبرتنا عن طفلك وعائلتك.",
        "ro": "Vă mulțumim că ne-ați spus despre copilul și familia dumneavoastră.",
    },
    "told": {
        "en": "What you told us", "ur": "آپ نے ہمیں کیا بتایا", "bn": "আপনি আমাদের যা বলেছেন",
        "pa": "ਤੁਸੀਂ ਸਾਨੂੰ ਕੀ ਦੱਸਿਆ", "pl": "Co nam Państwo powiedzieli", "ar": "ما أخبرتنا به", "ro": "Ce ne-ați spus",
    },
    "need": {
        "en": "About {k} in 10 families told us they need more help with this.",
        "ur": "ہر 10 میں سے تقریباً {k} خاندانوں نے کہا کہ انہیں اس میں مزید مدد چاہیے۔",
        "bn": "প্রতি 10টি পরিবারের মধ্যে প্রায় {k}টি বলেছে যে এ বিষয়ে তাদের আরও সাহায্য দরকার।",
        "pa": "ਹਰ 10 ਵਿੱਚੋਂ ਲਗਭਗ {k} ਪਰਿਵਾਰਾਂ ਨੇ ਕਿਹਾ ਕਿ ਉਨ੍ਹਾਂ ਨੂੰ ਇਸ ਵਿੱਚ ਹੋਰ ਮਦਦ ਚਾਹੀਦੀ ਹੈ।",
        "pl": "Około {k} na 10 rodzin powiedziało, że potrzebuje w tym więcej pomocy.",
        "ar": "قالت نحو {k} من كل 10 عائلات إنها تحتاج إلى مساعدة أكبر في هذا.",
        "ro": "Aproximativ {k} din 10 familii au spus că au nevoie de mai mult ajutor aici.",
    },
    "score": {
        "en": "On a scale of {lo} to {hi}, families gave this {v} on the whole.",
        "ur": "{lo} سے {hi} کے پیمانے پر خاندانوں نے اسے اوسطاً {v} دیا۔",
        "bn": "{lo} থেকে {hi}-এর মাপে পরিবারগুলো গড়ে এটিকে {v} দিয়েছে।",
        "pa": "{lo} ਤੋਂ {hi} ਦੇ ਪੈਮਾਨੇ 'ਤੇ ਪਰਿਵਾਰਾਂ ਨੇ ਔਸਤਨ ਇਸ ਨੂੰ {v} ਦਿੱਤਾ।",
        "pl": "W skali od {lo} do {hi} rodziny oceniły to średnio na {v}.",
        "ar": "على مقياس من {lo} إلى {hi}، أعطت العائلات هذا {v} في المتوسط.",
        "ro": "Pe o scară de la {lo} la {hi}, familiile au dat în medie {v}.",
    },
    "next": {
        "en": "We will share this with the people who plan help for families in your area.",
        "ur": "ہم یہ باتیں ان لوگوں کو بتائیں گے جو آپ کے علاقے میں خاندانوں کی مدد کا منصوبہ بناتے ہیں۔",
        "bn": "যাঁরা আপনার এলাকায় পরিবারের জন্য সাহায্যের পরিকল্পনা করেন, আমরা তাঁদের এটি জানাব।",
        "pa": "ਅਸੀਂ ਇਹ ਉਨ੍ਹਾਂ ਲੋਕਾਂ ਨਾਲ ਸਾਂਝਾ ਕਰਾਂਗੇ ਜੋ ਤੁਹਾਡੇ ਇਲਾਕੇ ਵਿੱਚ ਪਰਿਵਾਰਾਂ ਲਈ ਮਦਦ ਦੀ ਯੋਜਨਾ ਬਣਾਉਂਦੇ ਹਨ।",
        "pl": "Przekażemy to osobom, które planują pomoc dla rodzin w Państwa okolicy.",
        "ar": "سنشارك هذا مع الأشخاص الذين يخططون لمساعدة العائلات في منطقتك.",
        "ro": "Vom împărtăși acest lucru cu oamenii care plănuiesc ajutorul pentru familii din zona dumneavoastră.",
    },
    "private": {
        "en": "We never show your name or your child's name.",
        "ur": "ہم کبھی آپ کا یا آپ کے بچے کا نام نہیں دکھاتے۔",
        "bn": "আমরা কখনও আপনার বা আপনার সন্তানের নাম দেখাই না।",
        "pa": "ਅਸੀਂ ਕਦੇ ਵੀ ਤੁਹਾਡਾ ਜਾਂ ਤੁਹਾਡੇ ਬੱਚੇ ਦਾ ਨਾਮ ਨਹੀਂ ਦਿਖਾਉਂਦੇ।",
        "pl": "Nigdy nie pokazujemy Państwa imienia ani imienia dziecka.",
        "ar": "لا نعرض أبدًا اسمك أو اسم طفلك.",
        "ro": "Nu arătăm niciodată numele dumneavoastră sau al copilului.",
    },
}


def phrase(fw, key: str, lang: str) -> str:
    """The framework's ``form_text.family_<key>`` in ``lang`` when it has one, else this module's draft ('' if none)."""
    own = getattr(getattr(fw, "form_text", None), f"family_{key}", None)
    if isinstance(own, dict) and own.get(lang):
        return own[lang]
    return TEXT.get(key, {}).get(lang, "")


def is_rtl(fw, lang: str) -> bool:
    t = getattr(fw, "translations", {}).get(lang)
    return lang.split("-")[0] in RTL_LANGUAGES or bool(t and "right to left" in (t.script or "").lower())


def _languages(fw) -> list[tuple[str, bool]]:
    """(language, is_draft) for the translated blocks, in the framework's order."""
    out = []
    for lang in getattr(fw, "languages", []):
        if lang == "en" or not TEXT["thanks"].get(lang) and not phrase(fw, "thanks", lang):
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
    if c.source != "scale":
        return None
    try:
        d = fw.domain(c.field.removeprefix("voice_"))
    except Exception:   # noqa: BLE001 - an indicator on a field that is not a domain: no family wording for it
        return None
    return d, d.title


def _compare(sig: str, statistic: str) -> str:
    if sig not in ("higher", "lower"):
        return "This is about the same as across the whole borough." if sig else ""
    if statistic.startswith("proportion"):
        return f"This is {'more' if sig == 'higher' else 'fewer'} than across the whole borough."
    return f"This is {'higher' if sig == 'higher' else 'lower'} than across the whole borough."


def english_sentences(fw, table: pd.DataFrame, code: str, own: pd.DataFrame | None = None) -> dict[str, list]:
    """The page's own English text (not quotes), by part: intro, told (list of (domain, topic, sentences, k,
    indicator)), heard, next; and ``scores``: indicator id -> (scale low, scale high, mean) for the mean scores told.
    ``own``: the neighbourhood's rows (``briefing.own_rows``) when already split from the table."""
    from measurekit.publish.briefing import _scale_range, own_rows

    rows = own_rows(table, code) if own is None else own
    everyone = rows[rows["breakdown"] == "all"].set_index("indicator_id")
    name = str(rows["geography_name"].iloc[0])
    intro = [TEXT["thanks"]["en"]]
    if "parent_voice_coverage" in everyone.index:
        cov = everyone.loc["parent_voice_coverage"]
        if pd.notna(cov["numerator"]) and pd.notna(cov["value"]):
            n = int(round(float(cov["numerator"]), -1))
            intro.append(f"About {n:,} families in {name} answered.")
            intro.append(f"That is about {_k_text(_in_ten(cov['value'])).lower()} in 10 families.")
    told, scores = [], {}
    for ind in fw.indicators:
        topic = _topic(fw, ind)
        if topic is None or ind.id not in everyone.index or pd.isna(everyone.loc[ind.id, "value"]):
            continue
        r = everyone.loc[ind.id]
        d, title = topic
        if ind.value_type == "proportion" and ind.compute.statistic == "proportion_below":
            k = _in_ten(r["value"])
            said = [TEXT["need"]["en"].format(k=k) if k else
                    "Fewer than 1 in 10 families told us they need more help with this."]
        elif ind.value_type == "mean":
            lo, hi = _scale_range(fw, ind, rows[rows["indicator_id"] == ind.id])
            k = None
            scores[ind.id] = (lo, hi, float(r["value"]))
            said = [TEXT["score"]["en"].format(lo=f"{lo:g}", hi=f"{hi:g}", v=f"{r['value']:.1f}")]
        else:
            continue
        comp = _compare(r["significance_95"], ind.compute.statistic)
        if comp:
            said.append(comp)
        told.append((d, title, said, k, ind))
    heard = []
    cov = rows[(rows["indicator_id"] == "parent_voice_coverage") & rows["breakdown"].isin(["fsm", "eal", "send"])]
    overall = everyone["value"].get("parent_voice_coverage") if "parent_voice_coverage" in everyone.index else None
    if overall is not None and pd.notna(overall):
        few = [labels.category(r.breakdown, r.breakdown_value, plain=True) for r in cov.itertuples()
               if pd.notna(r.value) and r.value < overall - 5 and r.breakdown_value not in ("0", "none")]
        if few:
            heard = [f"{f[:1].upper()}{f[1:]}." for f in few]
    nxt = [TEXT["next"]["en"], "They will use it to plan help like play groups and books for your child.",
           "We will ask you again next year. Then you can see what has changed.", TEXT["private"]["en"]]
    return {"name": name, "intro": intro, "told": told, "heard": heard, "next": nxt, "scores": scores}


def english_text(fw, table: pd.DataFrame, code: str) -> str:
    """All the English sentences the page writes itself (for the reading-age check)."""
    s = english_sentences(fw, table, code)
    heard = ["We did not hear enough from these groups."] + s["heard"] + ["We want to hear from you next time."] \
        if s["heard"] else []
    parts = s["intro"] + [t for item in s["told"] for t in [item[1] + "."] + item[2]] + heard + s["next"]
    return " ".join(parts)


def _dots(k: int | None, lang: str = "en") -> str:
    if k is None:
        return ""
    k = max(0, min(10, k))
    label = f"{k} in 10" if lang == "en" else f"{k} / 10"
    return (f"<p class='dots' role='img' aria-label='{html.escape(label)}'>"
            + "<span class='on'>●</span>" * k + "<span class='off'>○</span>" * (10 - k) + "</p>")


FAMILY_CSS = """
.dots{font-size:1.35rem;letter-spacing:.12rem;margin:.1rem 0;line-height:1}
.dots .on{color:#1d4f91}.dots .off{color:#767676}
.lang{border:1px solid #c8d1dc;border-radius:6px;padding:.4rem .8rem;margin:.6rem 0;break-inside:avoid}
.lang h2{margin:.2rem 0}
.family p,.family li{font-size:1.05rem}
blockquote{margin:.4rem 0 .4rem 1rem;font-style:italic}
"""


def family_page(fw, table: pd.DataFrame, code: str, evidence=None, made_on: str | None = None,
                own: pd.DataFrame | None = None) -> str:
    """The HTML page for families of one neighbourhood (by code); ``own`` as in :func:`english_sentences`."""
    e = html.escape
    s = english_sentences(fw, table, code, own)
    name = s["name"]
    made_on = made_on or _dt.date.today().strftime("%d %B %Y")
    parts = [f"<header><h1>{e(name)}: what you told us and what happens next</h1>"
             f"<div>{e(fw.title or fw.name)}</div></header><main class='family'>"]
    if fw.illustrative:
        parts.append("<p class='note'>This is an example made with made-up families. It is not about real people.</p>")
    parts.append("<p>" + " ".join(e(t) for t in s["intro"]) + "</p>")
    parts.append("<h2>What you told us</h2>")
    for d, title, said, k, ind in s["told"]:
        parts.append(f"<div class='keep'><h3>{e(title)}</h3>{_dots(k)}<p>{' '.join(e(t) for t in said)}</p></div>")
    quotes = evidence.consented_quotes() if evidence is not None else pd.DataFrame()
    if len(quotes):
        parts.append("<h2>In your words</h2>")
        parts += [f"<blockquote>&ldquo;{e(q.text)}&rdquo;</blockquote>" for q in quotes.head(2).itertuples()]
        parts.append("<p class='muted'>Families said we could share these words.</p>")
    if s["heard"]:
        parts.append("<h2>Who we need to hear from</h2><p>We did not hear enough from these groups.</p><ul>"
                     + "".join(f"<li>{e(t)}</li>" for t in s["heard"]) + "</ul><p>We want to hear from you next time.</p>")
    parts.append("<h2>What happens next</h2><ul>" + "".join(f"<li>{e(t)}</li>" for t in s["next"]) + "</ul>")
    for lang, draft in _languages(fw):
        dir_ = " dir='rtl'" if is_rtl(fw, lang) else ""
        block = [f"<section class='lang' lang='{e(lang)}'{dir_}>",
                 f"<h2>{e(LANGUAGE_NAMES.get(lang, lang))}</h2>"]
        title = getattr(fw.form_text, "title", {}).get(lang)
        if title:
            block.append(f"<p><b>{e(title)}</b></p>")
        block.append(f"<p>{e(phrase(fw, 'thanks', lang))}</p><h3>{e(phrase(fw, 'told', lang))}</h3><ul>")
        for d, _title, said, k, ind in s["told"]:
            label = d.label.get(lang) or d.title
            if k is not None:
                text = phrase(fw, "need", lang).format(k=k)
            else:
                lo, hi, v = s["scores"][ind.id]
                text = phrase(fw, "score", lang).format(lo=f"{lo:g}", hi=f"{hi:g}", v=f"{v:.1f}")
            block.append(f"<li><b>{e(label)}</b>: {e(text)}</li>")
        block.append(f"</ul><p>{e(phrase(fw, 'next', lang))} {e(phrase(fw, 'private', lang))}</p>")
        if draft:
            block.append("<p class='muted' lang='en' dir='ltr'>Draft translation: not yet checked with families "
                         "who read this language.</p>")
        block.append("</section>")
        parts.append("".join(block))
    parts.append(f"<p class='muted'>Made by {e(fw.owner or 'the council')} on {e(made_on)}.</p></main>")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>{e(name)}: what you told us</title>"
            f"<style>{CSS}{FAMILY_CSS}</style></head><body>{''.join(parts)}</body></html>")


def write_family_pages(fw, table: pd.DataFrame, folder: Path, evidence=None) -> dict[str, Path]:
    """One page per neighbourhood in ``folder`` (named from the codes, as the briefings). Returns code -> path."""
    from measurekit.publish.briefing import write_neighbourhood_pages

    return write_neighbourhood_pages(table, folder, lambda code, own: family_page(fw, table, code, evidence, own=own),
                                     "Family pages")
