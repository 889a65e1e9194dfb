"""Fielding exports of a framework's items: XLSForm (ODK / KoboToolbox), REDCap data dictionary, paper form.

Every export reads the same specification, so wording, codes and translations stay identical
across modes. Files are written atomically.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from measurekit.core import atomic

LANGUAGE_NAMES = {"en": "English", "ur": "Urdu", "bn": "Bengali", "pa": "Punjabi", "pl": "Polish", "ar": "Arabic",
                  "ro": "Romanian", "so": "Somali", "ku": "Kurdish", "fa": "Farsi"}
RTL = {"ur", "ar", "fa", "ps", "he"}
REDCAP_COLUMNS = ["Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
                  "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
                  "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
                  "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
                  "Matrix Ranking?", "Field Annotation"]

# Used when framework.yaml has no `form_text` for a language (the framework's own text always wins).
_DEFAULT_TEXT = {"title": {"en": "Your child, your family, your views"},
                 "intro": {"en": "Your answers help us understand what families need. There are no right or wrong answers."},
                 "child_id": {"en": "Child reference (from your letter)"}}


def form_text(fw, field: str, language: str) -> str:
    """Text around the questions (``title``, ``intro``, ``child_id``) in one language, falling back to the
    framework's source language and then to English defaults."""
    texts = {**_DEFAULT_TEXT[field], **getattr(getattr(fw, "form_text", None), field, {})}
    if field == "title" and not getattr(fw.form_text, "title", None):
        texts = {"en": fw.title or fw.name}
    return texts.get(language) or texts.get(fw.languages[0]) or texts.get("en", "")


def choice_list(fw, item) -> str:
    """The XLSForm choice list an item uses: its scale, or ``<scale>_nodk`` when the item does not offer "don't know"."""
    sc = fw.scale(item.scale)
    return f"{sc.id}_nodk" if (sc.dont_know is not None and item.dont_know == "not_offered") else sc.id


def item_options(fw, item) -> list:
    """Response options shown for an item: the scale's options, plus "don't know" unless the item leaves it out."""
    sc = fw.scale(item.scale)
    return list(sc.options) + ([sc.dont_know] if sc.dont_know is not None and item.dont_know != "not_offered" else [])


def _lang_col(prefix: str, code: str) -> str:
    return f"{prefix}::{LANGUAGE_NAMES.get(code, code)} ({code})"


def xlsform_sheets(fw, respondent: str = "parent") -> dict[str, pd.DataFrame]:
    """The survey, choices and settings sheets of an XLSForm (as DataFrames)."""
    langs = fw.languages
    survey = []

    def row(type_, name, labels, **extra):
        r = {"type": type_, "name": name}
        for lang in langs:
            r[_lang_col("label", lang)] = labels.get(lang, labels.get("en", ""))
        r.update(extra)
        survey.append(r)

    row("note", "intro", {lang: form_text(fw, "intro", lang) for lang in langs})
    row("text", "child_id", {lang: form_text(fw, "child_id", lang) for lang in langs}, required="yes")
    for d in fw.domains:
        items = fw.items_in(d.id, respondent)
        if not items:
            continue
        row("begin_group", f"grp_{d.id}", {lang: d.title_in(lang) for lang in langs}, appearance="field-list")
        for it in items:
            row(f"select_one {choice_list(fw, it)}", it.id, it.stem, required="yes" if it.required else "",
                relevant=it.relevant or "")
        row("end_group", "", {})
    survey_df = pd.DataFrame(survey).fillna("")
    choices = []
    used = {choice_list(fw, it): it for it in fw.items if respondent is None or respondent in it.respondents}
    for sc in fw.scales:   # every scale's list (forms may add items later), plus "no don't know" lists in use
        lists = [(sc.id, list(sc.options) + ([sc.dont_know] if sc.dont_know else []))]
        if f"{sc.id}_nodk" in used:
            lists.append((f"{sc.id}_nodk", list(sc.options)))
        for list_name, options in lists:
            for o in options:
                c = {"list_name": list_name, "name": o.code}
                for lang in langs:
                    c[_lang_col("label", lang)] = o.label.get(lang, o.label.get("en", ""))
                choices.append(c)
    settings = pd.DataFrame([{"form_title": form_text(fw, "title", langs[0]), "form_id": (fw.name or "voice").replace("-", "_"),
                              "version": (fw.version or "1").replace(".", ""),
                              "default_language": f"{LANGUAGE_NAMES.get(langs[0], langs[0])} ({langs[0]})"}])
    return {"survey": survey_df, "choices": pd.DataFrame(choices), "settings": settings}


def write_xlsform(fw, path, respondent: str = "parent", *, root=None) -> Path:
    sheets = xlsform_sheets(fw, respondent)
    with atomic.atomic_path(path, root) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, frame in sheets.items():
                frame.to_excel(xw, sheet_name=name, index=False)
            atomic.protect_workbook(xw.book)     # no cell of the form is ever a live formula
    return Path(path)


def redcap_branching(relevant: str | None) -> str:
    """An XLSForm relevance expression in REDCap branching-logic syntax (``${hl1} != '9'`` -> ``[hl1] <> '9'``).

    Covers comparisons, ``and``/``or``/``not`` and parentheses, which is what item-level skip rules use; other
    XLSForm functions are left as written for a person to translate (REDCap will reject them on upload).
    """
    if not relevant:
        return ""
    out = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", r"[\1]", relevant)
    return out.replace("!=", "<>")


def redcap_dictionary(fw, respondent: str = "parent", form_name: str = "voice_survey") -> pd.DataFrame:
    """REDCap data dictionary (the standard 18 columns); labels in the framework's first language.

    Other languages can be added with REDCap's Multi-Language Management from the XLSForm labels.
    """
    lang = fw.languages[0]
    rows = [{"Variable / Field Name": "record_id", "Form Name": form_name, "Field Type": "text",
             "Field Label": "Record ID"},
            {"Variable / Field Name": "child_id", "Form Name": form_name, "Field Type": "text",
             "Field Label": form_text(fw, "child_id", lang), "Identifier?": "y", "Required Field?": "y"}]
    for d in fw.domains:
        first = True
        for it in fw.items_in(d.id, respondent):
            options = item_options(fw, it)
            rows.append({"Variable / Field Name": it.id, "Form Name": form_name,
                         "Section Header": d.title_in(lang) if first else "", "Field Type": "radio",
                         "Field Label": it.stem.get(lang, it.stem.get("en", "")),
                         "Choices, Calculations, OR Slider Labels": " | ".join(
                             f"{o.code}, {o.label.get(lang, o.label.get('en', ''))}" for o in options),
                         "Required Field?": "y" if it.required else "",
                         "Branching Logic (Show field only if...)": redcap_branching(it.relevant),
                         "Field Annotation": f"domain={d.id}; reverse={'yes' if it.reverse else 'no'}"})
            first = False
    return pd.DataFrame(rows, columns=REDCAP_COLUMNS).astype(object).fillna("")


def paper_form_html(fw, language: str, respondent: str = "parent") -> str:
    """A printable, self-contained HTML form in one language (right to left where the script needs it).

    Items of a domain that share the same response options are printed as one grid; a change of scale
    (or of "don't know" handling) starts a new grid, so every row's boxes match its column labels.
    A translation whose status is still ``draft`` is marked as such in the footer.
    """
    if language not in fw.languages:
        raise ValueError(f"{language!r} is not a declared language of the framework ({', '.join(fw.languages)})")
    direction = "rtl" if language in RTL else "ltr"

    def label(texts: dict) -> str:
        return html.escape(texts.get(language) or texts.get(fw.languages[0], ""))

    title = html.escape(form_text(fw, "title", language))
    parts = [f"<!DOCTYPE html><html lang='{language}' dir='{direction}'><head><meta charset='utf-8'>",
             f"<title>{title}</title><style>",
             "body{font-family:'Noto Sans','Noto Sans Bengali','Noto Sans Gurmukhi','Noto Naskh Arabic',"
             "'Noto Nastaliq Urdu',Arial,sans-serif;margin:2rem;font-size:13pt;line-height:1.5}"
             "table{border-collapse:collapse;width:100%;margin-bottom:1.2rem;page-break-inside:avoid}"
             "td,th{border:1px solid #999;padding:.4rem;vertical-align:middle}th{background:#eee;font-size:10pt}"
             "td.box{text-align:center;width:4.5rem}"
             ".box span{display:inline-block;width:1.1rem;height:1.1rem;border:1.5px solid #333}"
             "h2{font-size:14pt;margin-top:1.5rem}footer{font-size:9pt;color:#555;margin-top:2rem}"
             "@media print{body{margin:1cm}}</style></head><body>",
             f"<h1>{title}</h1>",
             f"<p>{html.escape(form_text(fw, 'intro', language))}</p>",
             f"<p>{html.escape(form_text(fw, 'child_id', language))}: ____________________</p>"]
    for d in fw.domains:
        items = fw.items_in(d.id, respondent)
        if not items:
            continue
        parts.append(f"<h2>{html.escape(d.title_in(language))}</h2>")
        groups: list[tuple[list, list]] = []
        for it in items:
            options = item_options(fw, it)
            key = [(o.code, label(o.label)) for o in options]
            if groups and [(o.code, label(o.label)) for o in groups[-1][0]] == key:
                groups[-1][1].append(it)
            else:
                groups.append((options, [it]))
        for options, group in groups:
            head = "".join(f"<th>{label(o.label)}</th>" for o in options)
            parts.append(f"<table><tr><th></th>{head}</tr>")
            for it in group:
                boxes = "<td class='box'><span></span></td>" * len(options)
                parts.append(f"<tr><td>{label(it.stem)}</td>{boxes}</tr>")
            parts.append("</table>")
    notes = []
    status = getattr(fw.translations.get(language), "status", None)
    if status == "draft":
        notes.append("Draft translation for review; not yet checked with families who read this language.")
    if getattr(fw, "illustrative", False):
        notes.append("Illustrative example form; not an official instrument.")
    if notes:
        parts.append("<footer>" + "<br>".join(html.escape(n) for n in notes) + "</footer>")
    parts.append("</body></html>")
    return "".join(parts)


def export_form(framework, fmt: str, out) -> list[Path]:
    """Write the form(s): ``xlsform`` -> one .xlsx, ``redcap`` -> one .csv, ``html`` -> a folder with one page per language."""
    from measurekit.design import Framework, load_framework

    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    out = Path(out)
    root = out.parent if out.suffix else out     # every file is refused if it would land outside this folder
    if fmt == "xlsform":
        return [write_xlsform(fw, out if out.suffix else out / f"{fw.name}.xlsx", root=root)]
    if fmt == "redcap":
        return [atomic.write_csv(out if out.suffix else out / f"{fw.name}_redcap.csv", redcap_dictionary(fw), root=root)]
    if fmt == "html":
        return [atomic.write_text(out / f"form_{lang}.html", paper_form_html(fw, lang), root=root)
                for lang in fw.languages]
    raise ValueError("format must be xlsform, redcap or html")

