"""Fielding exports of a framework's items: XLSForm (ODK / KoboToolbox), REDCap data dictionary, paper form.

Every export reads the same specification, so wording, codes and translations stay identical
across modes. Files are written atomically.

For families who read little, the XLSForm carries per-language audio and picture prompts on items and
choices (``media::audio::<language>``, ``media::image::<language>``; the files named in the framework are
copied into ``<form>-media/`` beside the form, the folder ODK Collect reads; upload them with the form to
ODK Central or KoboToolbox), hints, constraints with their messages, choice filters and, with
``pictorial=True``, the pictorial (faces) version of a scale. The paper form prints hints, item pictures
and the pictorial scale. REDCap field names are checked against REDCap's rules (:func:`redcap_name_problems`).
"""
from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import pandas as pd

from measurekit.core import atomic

LANGUAGE_NAMES = {"en": "English", "ur": "Urdu", "bn": "Bengali", "pa": "Punjabi", "pl": "Polish", "ar": "Arabic",
                  "ro": "Romanian", "so": "Somali", "ku": "Kurdish", "fa": "Farsi"}
RTL = {"ur", "ar", "fa", "ps", "he"}
REDCAP_COLUMNS = ["Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
                  "Choices, Calculations, OR Slider Labels", "Field Note",
                  "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
                  "Identifier?", "Branching Logic (Show field only if...)",
                  "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
                  "Matrix Ranking?", "Field Annotation"]

# Used when framework.yaml has no `form_text` for a language (the framework's own text always wins).
_DEFAULT_TEXT = {"title": {"en": "Your child, your family, your views"},
                 "intro": {"en": "Your answers help us understand what families need. "
                                 "There are no right or wrong answers."},
                 "child_id": {"en": "Child reference (from your letter)"}}


def form_text(fw, field: str, language: str) -> str:
    """Text around the questions (``title``, ``intro``, ``child_id``) in one language, falling back to the
    framework's source language and then to English defaults."""
    texts = {**_DEFAULT_TEXT[field], **getattr(getattr(fw, "form_text", None), field, {})}
    if field == "title" and not getattr(fw.form_text, "title", None):
        texts = {"en": fw.title or fw.name}
    return texts.get(language) or texts.get(fw.languages[0]) or texts.get("en", "")


def form_title(fw, language: str, respondent: str) -> str:
    """The form's title in one language; when the framework's items name several respondents, followed by the
    respondent it is for (its id in words, e.g. ``young_person`` -> "young person"), so the forms differ."""
    title = form_text(fw, "title", language)
    return f"{title} ({respondent.replace('_', ' ')})" if len(fw.respondents()) > 1 else title


REDCAP_NAME_MAX = 26
_REDCAP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def redcap_name_problems(name: str) -> list[str]:
    """The REDCap field-name rules a name breaks (empty when it is fine): lower case; only letters, digits and
    underscores; starting with a letter; at most 26 characters (REDCap's recommended limit)."""
    broken = []
    if name != name.lower():
        broken.append("lower case only")
    if not re.fullmatch(r"[A-Za-z0-9_]*", name):
        broken.append("letters, digits and underscores only")
    if not name[:1].isalpha():
        broken.append("must start with a letter")
    if len(name) > REDCAP_NAME_MAX:
        broken.append(f"at most {REDCAP_NAME_MAX} characters (has {len(name)})")
    return broken


def form_respondent(fw, respondent: str | None) -> str:
    """The respondent a form is for: ``respondent`` when the framework's items name it; ``None`` means the
    first respondent the framework's items name (its main perspective). Raises ``InputError``
    (``unknown_respondent``) naming the ``respondent`` parameter when no item names it."""
    from measurekit.problems import InputError

    declared = fw.respondents()
    if respondent is None and declared:
        return declared[0]
    if respondent is not None and respondent in declared:
        return respondent
    detail = ("the framework's items name no respondent" if respondent is None
              else f"no item of the framework is answered by {respondent!r}")
    raise InputError.of("unknown_respondent", f"{detail}; the framework declares: {', '.join(declared) or '(none)'} "
                        "(respondent= in Python, --respondent on the command line).",
                        column="respondent", value="" if respondent is None else str(respondent),
                        rule="one of the respondents the framework's items name")


def form_respondents(fw, respondent: str | None = None) -> list[str]:
    """The respondents to write forms for: the one named, else every respondent the framework declares."""
    return [form_respondent(fw, respondent)] if respondent is not None else fw.respondents()


def placed_items(fw, domain_id: str, respondent: str) -> list:
    """The items a form shows under one domain: those whose first domain it is (an item in several domains,
    ``Item.all_domains``, is asked once, in the group of its first domain)."""
    return [it for it in fw.items_in(domain_id, respondent) if it.all_domains[0] == domain_id]


def choice_list(fw, item, pictorial: bool = False) -> str:
    """The XLSForm choice list an item uses: its scale, or ``<scale>_nodk`` when the item does not offer "don't
    know"; with ``pictorial`` and a scale that has a pictorial version, ``<scale>_faces`` (``_faces_nodk``)."""
    sc = fw.scale(item.scale)
    name = f"{sc.id}_faces" if (pictorial and sc.pictorial is not None) else sc.id
    return f"{name}_nodk" if (sc.dont_know is not None and item.dont_know == "not_offered") else name


def item_options(fw, item) -> list:
    """Response options shown for an item: the scale's options, plus "don't know" unless the item leaves it out."""
    sc = fw.scale(item.scale)
    return list(sc.options) + ([sc.dont_know] if sc.dont_know is not None and item.dont_know != "not_offered" else [])


def _lang_col(prefix: str, code: str) -> str:
    return f"{prefix}::{LANGUAGE_NAMES.get(code, code)} ({code})"


def _media_name(path: str) -> str:
    return Path(path).name


def media_files(fw, pictorial: bool = False, respondent: str | None = None) -> dict[str, Path]:
    """Media files the form uses: file name on the form -> file in the framework folder.

    Raises ``InputError`` (``missing_media``, ``media_name_clash``) when a file is missing or two different
    files share a name (forms refer to media by file name only). ``respondent=None``: every respondent's items."""
    from measurekit.problems import ProblemReport

    base = Path(fw.path) if fw.path is not None else Path(".")
    refs: list[tuple[str, str]] = []            # (where, relative path)
    for it in fw.items:
        if respondent is not None and respondent not in it.respondents:
            continue
        if it.media is not None:
            refs += [(f"item {it.id}", f) for f in (*it.media.audio.values(), *it.media.image.values())]
    for sc in fw.scales:
        for o in sc.options + ([sc.dont_know] if sc.dont_know else []):
            if o.media is not None:
                refs += [(f"scale {sc.id} option {o.code}", f)
                         for f in (*o.media.audio.values(), *o.media.image.values())]
        if pictorial and sc.pictorial is not None:
            refs += [(f"scale {sc.id} pictorial {c}", f) for c, f in sc.pictorial.images.items()]
    report = ProblemReport(title="Form media")
    files: dict[str, Path] = {}
    for where, rel in refs:
        src = base / rel
        name = _media_name(rel)
        if not src.resolve().is_relative_to(base.resolve()):     # never copy a file from outside the framework
            report.add("missing_media", f"{where} names media file {rel}, which is outside the framework folder; "
                       "keep media files inside it (e.g. in media/).", value=rel)
        elif not src.is_file():
            report.add("missing_media", f"{where} names media file {rel}, which is not in the framework folder.",
                       value=rel)
        elif name in files and files[name].resolve() != src.resolve():
            report.add("media_name_clash", f"{where}: {rel} and {files[name]} have the same file name; forms "
                       "refer to media by name only, so rename one.", value=name)
        else:
            files[name] = src
    report.raise_if_errors()
    return files


def xlsform_sheets(fw, respondent: str | None = None, pictorial: bool = False) -> dict[str, pd.DataFrame]:
    """The survey, choices and settings sheets of an XLSForm (as DataFrames) for one respondent (``None``: the
    first the framework's items name, see :func:`form_respondent`).

    Each item is asked once, in the group of its first domain. A rating scale declared by its ``range`` (e.g.
    0-10 with two anchors) is a ``select_one`` of its numbers, the anchors labelling the two ends, shown
    side by side (appearance ``likert``).

    Per language: ``label::``, ``hint::``, ``constraint_message::``, ``media::image::`` and ``media::audio::``
    columns (media by file name; :func:`write_xlsform` copies the files). Items carry ``required``,
    ``relevant``, ``constraint``, ``choice_filter`` and, when shown with a pictorial scale, its
    ``appearance``. ``completed_on`` records the date (ODK ``today``) as in the voice data.
    """
    respondent = form_respondent(fw, respondent)
    langs = fw.languages
    survey = []

    def per_language(prefix, texts, r):
        if texts:
            for lang in langs:
                r[_lang_col(prefix, lang)] = texts.get(lang, texts.get("en", ""))

    def media(prefix_kind, m, r):
        if m is None:
            return
        for lang in langs:
            f = m.file(prefix_kind, lang)
            if f:
                r[_lang_col(f"media::{prefix_kind}", lang)] = _media_name(f)

    def row(type_, name, labels, **extra):
        r = {"type": type_, "name": name}
        for lang in langs:
            r[_lang_col("label", lang)] = labels.get(lang, labels.get("en", ""))
        r.update(extra)
        survey.append(r)
        return r

    row("note", "intro", {lang: form_text(fw, "intro", lang) for lang in langs})
    child = row("text", "child_id", {lang: form_text(fw, "child_id", lang) for lang in langs}, required="yes")
    if fw.form_text.child_id_pattern:
        child["constraint"] = f"regex(., '{fw.form_text.child_id_pattern}')"
        per_language("constraint_message", fw.form_text.child_id_message, child)
    survey.append({"type": "today", "name": "completed_on"})
    for d in fw.domains:
        items = placed_items(fw, d.id, respondent)
        if not items:
            continue
        row("begin_group", f"grp_{d.id}", {lang: d.title_in(lang) for lang in langs}, appearance="field-list")
        for it in items:
            sc = fw.scale(it.scale)
            r = row(f"select_one {choice_list(fw, it, pictorial)}", it.id, it.stem_for(respondent),
                    required="yes" if it.required else "", relevant=it.relevant or "",
                    constraint=it.constraint or "", choice_filter=it.choice_filter or "",
                    appearance=sc.pictorial.appearance if (pictorial and sc.pictorial is not None)
                    else ("likert" if sc.numeric else ""))
            per_language("hint", it.hint_for(respondent), r)
            if it.constraint:
                per_language("constraint_message", it.constraint_message, r)
            media("image", it.media, r)
            media("audio", it.media, r)
        row("end_group", "", {})
    survey_df = pd.DataFrame(survey).fillna("")
    choices = []
    used = {choice_list(fw, it, pictorial) for it in fw.items if respondent in it.respondents}
    for sc in fw.scales:   # every scale's list (forms may add items later), plus "no don't know" lists in use
        lists = [(sc.id, list(sc.options) + ([sc.dont_know] if sc.dont_know else []), None)]
        if f"{sc.id}_nodk" in used:
            lists.append((f"{sc.id}_nodk", list(sc.options), None))
        if pictorial and sc.pictorial is not None:
            lists.append((f"{sc.id}_faces", list(sc.options) + ([sc.dont_know] if sc.dont_know else []), sc.pictorial))
            if f"{sc.id}_faces_nodk" in used:
                lists.append((f"{sc.id}_faces_nodk", list(sc.options), sc.pictorial))
        for list_name, options, picture in lists:
            for o in options:
                c = {"list_name": list_name, "name": o.code}
                for lang in langs:
                    c[_lang_col("label", lang)] = o.label.get(lang, o.label.get("en", ""))
                media("image", o.media, c)
                media("audio", o.media, c)
                if picture is not None and o.code in picture.images:
                    for lang in langs:
                        c[_lang_col("media::image", lang)] = _media_name(picture.images[o.code])
                choices.append(c)
    several = len(fw.respondents()) > 1       # one form per respondent: each its own id and title
    settings = pd.DataFrame([{"form_title": form_title(fw, langs[0], respondent),
                              "form_id": (fw.name or "voice").replace("-", "_") + (f"_{respondent}" if several else ""),
                              "version": (fw.version or "1").replace(".", ""),
                              "default_language": f"{LANGUAGE_NAMES.get(langs[0], langs[0])} ({langs[0]})"}])
    return {"survey": survey_df, "choices": pd.DataFrame(choices).fillna(""), "settings": settings}


def write_xlsform(fw, path, respondent: str | None = None, pictorial: bool = False, *, root=None) -> Path:
    """Write the XLSForm (atomically) and copy its media files into ``<form name>-media/`` beside it."""
    respondent = form_respondent(fw, respondent)
    files = media_files(fw, pictorial, respondent)
    sheets = xlsform_sheets(fw, respondent, pictorial)
    path = Path(path)
    with atomic.atomic_path(path, root) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, frame in sheets.items():
                frame.to_excel(xw, sheet_name=name, index=False)
            atomic.protect_workbook(xw.book)     # no cell of the form is ever a live formula
    for name, src in files.items():
        with atomic.atomic_path(path.parent / f"{path.stem}-media" / name, root) as tmp:
            shutil.copyfile(src, tmp)
    return path


def redcap_branching(relevant: str | None) -> str:
    """An XLSForm relevance expression in REDCap branching-logic syntax (``${hl1} != '9'`` -> ``[hl1] <> '9'``).

    Covers comparisons, ``and``/``or``/``not`` and parentheses, which is what item-level skip rules use; other
    XLSForm functions are left as written for a person to translate (REDCap will reject them on upload).
    """
    if not relevant:
        return ""
    out = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", r"[\1]", relevant)
    return out.replace("!=", "<>")


def redcap_dictionary(fw, respondent: str | None = None, form_name: str = "voice_survey") -> pd.DataFrame:
    """REDCap data dictionary (the standard 18 columns) for one respondent (``None``: the first the items name);
    labels in the framework's first language. Each item is asked once, under its first domain; the field
    annotation names all its domains (``domain=a,b``).

    Other languages can be added with REDCap's Multi-Language Management from the XLSForm labels. Hints
    become field notes; ``completed_on`` is a date field (validation ``date_ymd``, ``@TODAY``). Raises
    ``InputError`` (``redcap_name``) when an item id breaks REDCap's name rules.
    """
    from measurekit.problems import ProblemReport

    respondent = form_respondent(fw, respondent)
    lang = fw.languages[0]
    report = ProblemReport(title="REDCap field names")
    for name in [form_name] + [it.id for it in fw.items if respondent in it.respondents]:
        broken = redcap_name_problems(name)
        if broken:
            report.add("redcap_name", f"{name!r} cannot be a REDCap name: {'; '.join(broken)}.", value=name,
                       rule="lower case letters, digits, _; starts with a letter; at most 26 characters")
    report.raise_if_errors()
    child_note = fw.form_text.child_id_message.get(lang, "") if fw.form_text.child_id_pattern else ""
    rows = [{"Variable / Field Name": "record_id", "Form Name": form_name, "Field Type": "text",
             "Field Label": "Record ID"},
            {"Variable / Field Name": "child_id", "Form Name": form_name, "Field Type": "text",
             "Field Label": form_text(fw, "child_id", lang), "Field Note": child_note, "Identifier?": "y",
             "Required Field?": "y",
             "Field Annotation": f"pattern={fw.form_text.child_id_pattern}" if fw.form_text.child_id_pattern else ""},
            {"Variable / Field Name": "completed_on", "Form Name": form_name, "Field Type": "text",
             "Field Label": "Date completed", "Text Validation Type OR Show Slider Number": "date_ymd",
             "Field Annotation": "@TODAY @HIDDEN-SURVEY"}]
    for d in fw.domains:
        first = True
        for it in placed_items(fw, d.id, respondent):
            options = item_options(fw, it)
            stem, hint = it.stem_for(respondent), it.hint_for(respondent)
            notes = [f"domain={','.join(it.all_domains)}", f"reverse={'yes' if it.reverse else 'no'}"]
            if it.constraint:
                notes.append(f"XLSForm constraint not carried over: {it.constraint}")
            if it.choice_filter:
                notes.append(f"XLSForm choice filter not carried over: {it.choice_filter}")
            rows.append({"Variable / Field Name": it.id, "Form Name": form_name,
                         "Section Header": d.title_in(lang) if first else "", "Field Type": "radio",
                         "Field Label": stem.get(lang, stem.get("en", "")),
                         "Choices, Calculations, OR Slider Labels": " | ".join(
                             f"{o.code}, {o.label.get(lang, o.label.get('en', ''))}" for o in options),
                         "Field Note": hint.get(lang, ""),
                         "Required Field?": "y" if it.required else "",
                         "Branching Logic (Show field only if...)": redcap_branching(it.relevant),
                         "Field Annotation": "; ".join(notes)})
            first = False
    return pd.DataFrame(rows, columns=REDCAP_COLUMNS).astype(object).fillna("")


def _data_uri(path: Path) -> str:
    kind = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
            ".svg": "image/svg+xml"}.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _image_uri(fw, rel: str | None) -> str:
    """A picture of the framework folder as a data URI ('' when there is none)."""
    if not rel or fw.path is None or not (Path(fw.path) / rel).is_file():
        return ""
    return _data_uri(Path(fw.path) / rel)


# fonts named on the paper form, by script: system fonts first, Noto fonts (Debian: fonts-noto-core) for the rest
PAPER_FONTS = {"ur": "'Noto Nastaliq Urdu','Noto Naskh Arabic'", "ar": "'Noto Naskh Arabic'",
               "fa": "'Noto Naskh Arabic'", "bn": "'Noto Sans Bengali'", "pa": "'Noto Sans Gurmukhi'",
               "hi": "'Noto Sans Devanagari'"}


def _template(name: str):
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("measurekit.design", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template(name)


def paper_form_html(fw, language: str, respondent: str | None = None, pictorial: bool = False) -> str:
    """A printable, self-contained HTML form in one language (right to left where the script needs it) for one
    respondent (``None``: the first the items name), from the template ``design/templates/paper_form.html.j2``
    (autoescaped). Each item is printed once, under its first domain; a 0-10 rating prints 11 boxes headed by
    the numbers, the two anchors' words over the ends.

    Items of a domain that share the same response options are printed as one grid; a change of scale
    (or of "don't know" handling) starts a new grid, so every row's boxes match its column labels.
    A translation whose status is still ``draft`` is marked as such in the footer. Hints are printed under
    the question and item pictures beside it; with ``pictorial=True`` the column heads of a scale that has a
    pictorial version show its pictures (e.g. faces) above the words. Pictures are embedded in the page.
    """
    if language not in fw.languages:
        from measurekit.problems import InputError, Problem, ProblemReport

        raise InputError(ProblemReport([Problem(
            "out_of_range", f"{language!r} is not a declared language of the framework ({', '.join(fw.languages)})",
            column="language", value=str(language), rule="one of the framework's languages")]))

    respondent = form_respondent(fw, respondent)

    def label(texts: dict) -> str:
        return texts.get(language) or texts.get(fw.languages[0], "")

    domains = []
    for d in fw.domains:
        items = placed_items(fw, d.id, respondent)
        if not items:
            continue
        groups: list[tuple[list, list]] = []
        for it in items:
            options = item_options(fw, it)
            key = [(o.code, label(o.label)) for o in options]
            if groups and [(o.code, label(o.label)) for o in groups[-1][0]] == key:
                groups[-1][1].append(it)
            else:
                groups.append((options, [it]))
        grids = []
        for options, group in groups:
            faces = fw.scale(group[0].scale).pictorial if pictorial else None
            grids.append({
                "options": [{"label": label(o.label),
                             "image": _image_uri(fw, faces.images.get(o.code) if faces else None)} for o in options],
                "rows": [{"stem": label(it.stem_for(respondent)),
                           "hint": label(it.hint_for(respondent)) if it.hint_for(respondent) else "",
                           "image": _image_uri(fw, it.media.file("image", language) if it.media else None)}
                          for it in group]})
        domains.append({"title": d.title_in(language), "grids": grids})
    notes = []
    status = getattr(fw.translations.get(language), "status", None)
    if status == "draft":
        notes.append("Draft translation for review; not yet checked by people who read this language.")
    if getattr(fw, "illustrative", False):
        notes.append("Illustrative example form; not an official instrument.")
    fonts = ",".join(f for f in ("'Noto Sans'", PAPER_FONTS.get(language.split("-")[0], "")) if f)
    return _template("paper_form.html.j2").render(
        language=language, direction="rtl" if language in RTL else "ltr", title=form_title(fw, language, respondent),
        intro=form_text(fw, "intro", language), child_id=form_text(fw, "child_id", language), domains=domains,
        notes=notes, fonts=fonts)


def export_form(framework, fmt: str, out, pictorial: bool = False, respondent: str | None = None) -> list[Path]:
    """Write the form(s): ``xlsform`` -> .xlsx (and its media folder), ``redcap`` -> .csv, ``html`` -> one page
    per language. ``pictorial`` uses the pictorial version of scales that have one.

    ``out`` a file (.xlsx, .csv): one form, for ``respondent`` (``None``: the first respondent the framework's
    items name). ``out`` a folder: a form for ``respondent``, or for every respondent the items name when it is
    ``None``; with one respondent the files are named after the framework (``<name>.xlsx``, ``<name>_redcap.csv``,
    ``form_<lang>.html``), with several each name ends in its respondent (``<name>_<respondent>.xlsx``,
    ``<name>_redcap_<respondent>.csv``, ``form_<respondent>_<lang>.html``)."""
    from measurekit.design import Framework, load_framework
    from measurekit.problems import InputError

    fw = framework if isinstance(framework, Framework) else load_framework(framework)
    if fmt not in ("xlsform", "redcap", "html"):
        raise InputError.of("out_of_range", f"format {fmt!r} is not one of xlsform, redcap, html", column="format",
                            value=str(fmt), rule="xlsform, redcap or html")
    out = Path(out)
    root = out.parent if out.suffix else out     # every file is refused if it would land outside this folder
    single_file = out.suffix != "" and fmt != "html"
    who = [form_respondent(fw, respondent)] if single_file else form_respondents(fw, respondent)
    several = len(fw.respondents()) > 1 and not single_file

    def named(default: str, ext: str, r: str) -> Path:
        if single_file:
            return out
        path = out / f"{default}{ext}"
        return path.with_name(f"{path.stem}_{r}{path.suffix}") if several else path

    written: list[Path] = []
    for r in who:
        if fmt == "xlsform":
            written.append(write_xlsform(fw, named(fw.name, ".xlsx", r), r, pictorial=pictorial, root=root))
        elif fmt == "redcap":
            written.append(atomic.write_csv(named(f"{fw.name}_redcap", ".csv", r), redcap_dictionary(fw, r),
                                            root=root))
        else:
            stem = f"form_{r}_" if several else "form_"
            written += [atomic.write_text(out / f"{stem}{lang}.html",
                                          paper_form_html(fw, lang, r, pictorial=pictorial), root=root)
                        for lang in fw.languages]
    return written
