"""Fielding exports of a framework's items: XLSForm (ODK / KoboToolbox), REDCap data dictionary, paper form.

Every export reads the same specification, so wording, codes and translations stay identical
across modes. Files are written atomically.
"""
from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from measurekit import _io

LANGUAGE_NAMES = {"en": "English", "ur": "Urdu", "bn": "Bengali", "pa": "Punjabi", "pl": "Polish", "ar": "Arabic",
                  "ro": "Romanian", "so": "Somali", "ku": "Kurdish", "fa": "Farsi"}
RTL = {"ur", "ar", "fa", "ps", "he"}
REDCAP_COLUMNS = ["Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
                  "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
                  "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
                  "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
                  "Matrix Ranking?", "Field Annotation"]

_INTRO = {"en": "Your answers help us understand what families need. There are no right or wrong answers.",
          "ur": "آپ کے جوابات ہمیں یہ سمجھنے میں مدد دیتے ہیں کہ خاندانوں کو کیا ضرورت ہے۔ کوئی جواب صحیح یا غلط نہیں ہے۔",
          "pl": "Twoje odpowiedzi pomagają nam zrozumieć potrzeby rodzin. Nie ma dobrych ani złych odpowiedzi."}
_CHILD = {"en": "Child reference (from your letter)", "ur": "بچے کا حوالہ (آپ کے خط سے)", "pl": "Numer dziecka (z listu)"}


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

    row("note", "intro", _INTRO)
    row("text", "child_id", _CHILD, required="yes")
    for d in fw.domains:
        items = fw.items_in(d.id, respondent)
        if not items:
            continue
        row("begin_group", f"grp_{d.id}", {lang: d.title for lang in langs}, appearance="field-list")
        for it in items:
            row(f"select_one {it.scale}", it.id, it.stem, required="yes" if it.required else "",
                relevant=it.relevant or "")
        row("end_group", "", {})
    survey_df = pd.DataFrame(survey).fillna("")
    choices = []
    for sc in fw.scales:
        options = list(sc.options) + ([sc.dont_know] if sc.dont_know else [])
        for o in options:
            c = {"list_name": sc.id, "name": o.code}
            for lang in langs:
                c[_lang_col("label", lang)] = o.label.get(lang, o.label.get("en", ""))
            choices.append(c)
    settings = pd.DataFrame([{"form_title": fw.title or fw.name, "form_id": (fw.name or "voice").replace("-", "_"),
                              "version": (fw.version or "1").replace(".", ""),
                              "default_language": f"{LANGUAGE_NAMES.get(langs[0], langs[0])} ({langs[0]})"}])
    return {"survey": survey_df, "choices": pd.DataFrame(choices), "settings": settings}


def write_xlsform(fw, path, respondent: str = "parent") -> Path:
    sheets = xlsform_sheets(fw, respondent)
    with _io.atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, frame in sheets.items():
                frame.to_excel(xw, sheet_name=name, index=False)
    return Path(path)


def redcap_dictionary(fw, respondent: str = "parent", form_name: str = "voice_survey") -> pd.DataFrame:
    """REDCap data dictionary (the standard 18 columns); labels in the framework's first language.

    Other languages can be added with REDCap's Multi-Language Management from the XLSForm labels.
    """
    lang = fw.languages[0]
    rows = [{"Variable / Field Name": "record_id", "Form Name": form_name, "Field Type": "text",
             "Field Label": "Record ID"},
            {"Variable / Field Name": "child_id", "Form Name": form_name, "Field Type": "text",
             "Field Label": _CHILD.get(lang, _CHILD["en"]), "Identifier?": "y", "Required Field?": "y"}]
    for d in fw.domains:
        first = True
        for it in fw.items_in(d.id, respondent):
            sc = fw.scale(it.scale)
            options = list(sc.options) + ([sc.dont_know] if sc.dont_know else [])
            rows.append({"Variable / Field Name": it.id, "Form Name": form_name,
                         "Section Header": d.title if first else "", "Field Type": "radio",
                         "Field Label": it.stem.get(lang, it.stem.get("en", "")),
                         "Choices, Calculations, OR Slider Labels": " | ".join(
                             f"{o.code}, {o.label.get(lang, o.label.get('en', ''))}" for o in options),
                         "Required Field?": "y" if it.required else "",
                         "Field Annotation": f"domain={d.id}; reverse={'yes' if it.reverse else 'no'}"})
            first = False
    return pd.DataFrame(rows, columns=REDCAP_COLUMNS).astype(object).fillna("")


def paper_form_html(fw, language: str, respondent: str = "parent") -> str:
    """A printable, self-contained HTML form in one language (right to left where the script needs it)."""
    direction = "rtl" if language in RTL else "ltr"
    sc_cache = {}
    parts = [f"<!DOCTYPE html><html lang='{language}' dir='{direction}'><head><meta charset='utf-8'>",
             f"<title>{html.escape(fw.title or fw.name)}</title><style>",
             "body{font-family:'Noto Sans','Noto Nastaliq Urdu',Arial,sans-serif;margin:2rem;font-size:13pt}"
             "table{border-collapse:collapse;width:100%;margin-bottom:1.2rem}td,th{border:1px solid #999;padding:.4rem;"
             "vertical-align:middle}th{background:#eee;font-size:10pt}td.box{text-align:center;width:4.5rem}"
             ".box span{display:inline-block;width:1.1rem;height:1.1rem;border:1.5px solid #333}"
             "h2{font-size:14pt;margin-top:1.5rem}@media print{body{margin:1cm}}</style></head><body>",
             f"<h1>{html.escape(fw.title or fw.name)}</h1>",
             f"<p>{html.escape(_INTRO.get(language, _INTRO['en']))}</p>",
             f"<p>{html.escape(_CHILD.get(language, _CHILD['en']))}: ____________________</p>"]
    for d in fw.domains:
        items = fw.items_in(d.id, respondent)
        if not items:
            continue
        parts.append(f"<h2>{html.escape(d.title)}</h2>")
        sc = fw.scale(items[0].scale)
        options = list(sc.options) + ([sc.dont_know] if sc.dont_know else [])
        head = "".join(f"<th>{html.escape(o.label.get(language, o.label.get('en', '')))}</th>" for o in options)
        parts.append(f"<table><tr><th></th>{head}</tr>")
        for it in items:
            boxes = "<td class='box'><span></span></td>" * len(options)
            parts.append(f"<tr><td>{html.escape(it.stem.get(language, it.stem.get('en', '')))}</td>{boxes}</tr>")
        parts.append("</table>")
        sc_cache[d.id] = sc
    if getattr(fw, "illustrative", False):
        parts.append("<p style='font-size:9pt;color:#666'>Illustrative example form; not an official instrument.</p>")
    parts.append("</body></html>")
    return "".join(parts)


def export_form(framework, fmt: str, out) -> list[Path]:
    """Write the form(s): ``xlsform`` -> one .xlsx, ``redcap`` -> one .csv, ``html`` -> a folder with one page per language."""
    from measurekit.spec import Framework, load_framework

    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    out = Path(out)
    if fmt == "xlsform":
        return [write_xlsform(fw, out if out.suffix else out / f"{fw.name}.xlsx")]
    if fmt == "redcap":
        return [_io.write_csv(out if out.suffix else out / f"{fw.name}_redcap.csv", redcap_dictionary(fw))]
    if fmt == "html":
        return [_io.write_text(out / f"form_{lang}.html", paper_form_html(fw, lang)) for lang in fw.languages]
    raise ValueError("format must be xlsform, redcap or html")


def main_export_form(args) -> int:
    paths = export_form(args.framework, args.format, args.out)
    for p in paths:
        print(f"Wrote {p}")
    return 0
