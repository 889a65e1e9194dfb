"""Starting a framework of one's own: ``measurekit new-framework DIR`` writes a minimal, valid, commented framework
for a council to edit (docs/framework.md).

The files come from the package data folder ``design/templates/new_framework/`` (framework.yaml, scales.yaml,
items.yaml, indicators.yaml, synthetic.yaml): one population table with an area lookup, one routine table, one voice
table with review rounds, one scale, two domains of two items each, two indicators (a routine proportion and a voice
score), one group breakdown besides the area breakdown, analysis roles, and a synthesis profile so that
``measurekit synth`` works on the new folder at once.

Placeholders, decided here and documented in docs/framework.md:

- The council's codes. Unless ``--old-la-code``, ``--la-code`` and ``--region-code`` are given, the area codes are
  written as ``PLACEHOLDER_CODES``: of the right shape (so the framework loads, and synth, validate and run can be
  tried at once) but numbers no council or region has. ``placeholder_problems`` reports each one as an error
  (code ``placeholder_code``), so ``measurekit check-spec`` fails until real codes are written; so do a council
  name or region name still reading ``TODO``.
- Other text to write (purpose, owner, governance, provenance notes ...) starts with ``TODO``; check-spec lists each
  as a warning (code ``placeholder_text``), which does not stop it passing.

``write_new_framework`` refuses a folder that exists and is not empty (code ``folder_not_empty``) and writes the
whole folder at once: the files are made in a temporary folder beside it, which is renamed into place only when
complete, so an interrupted run leaves nothing behind.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from measurekit.problems import InputError, ProblemReport

TEMPLATE_FILES = ("framework.yaml", "scales.yaml", "items.yaml", "indicators.yaml", "synthetic.yaml")
PLACEHOLDER_CODES = {"old_la_code": "000", "new_la_code": "E06000000", "region_code": "E12000000"}
"""Area codes written when none are given: the GSS pattern of their kind, numbers no council or region has."""
TODO = "TODO"
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_SPEC_FILES = ("framework.yaml", "scales.yaml", "items.yaml", "indicators.yaml")


def template_folder() -> Path:
    """The package data folder holding the template files."""
    return Path(__file__).resolve().parent / "templates" / "new_framework"


def _name_from(folder: Path) -> str:
    """A framework name from the folder's name: lower case, runs of other characters made '-'."""
    text = re.sub(r"[^a-z0-9_.-]+", "-", folder.name.lower()).strip("-._")[:64]
    return text or "my-framework"


def _plural(word: str) -> str:
    """An English plural good enough for area words (locality -> localities, parish -> parishes, ward -> wards)."""
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def _yaml_text(value: str) -> str:
    """``value`` as a YAML scalar that reads back as that exact text (a JSON string is a YAML double-quoted one)."""
    return json.dumps(str(value), ensure_ascii=False)


def _bad_option(option: str, value, message: str) -> InputError:
    return InputError.of("bad_option", message, title="new-framework", column=option, value=str(value))


def _check_options(name: str, codes: dict[str, str | None], id_prefix: str) -> None:
    from measurekit.core import gss

    if not _SAFE.fullmatch(name):
        raise _bad_option("--name", name, f"{name!r} cannot be a framework name: use letters, digits, '-', '_' or "
                          "'.', starting with a letter or digit, at most 64 characters.")
    if not re.fullmatch(r"[A-Z]{1,4}", id_prefix):
        raise _bad_option("--id-prefix", id_prefix, f"{id_prefix!r} cannot start a reference: use one to four capital "
                          "letters, e.g. FH.")
    checks = {"old_la_code": ("--old-la-code", gss.old_la_problem),
              "new_la_code": ("--la-code", lambda c: gss.gss_problem(c, "la")),
              "region_code": ("--region-code", lambda c: gss.gss_problem(c, "region"))}
    for key, value in codes.items():
        if value is None:
            continue
        option, check = checks[key]
        problem = check(value)
        if problem:
            raise InputError.of("gss_code", problem, title="new-framework", column=option, value=value,
                                rule="GSS code of its kind (core/gss.py)")
        if value == PLACEHOLDER_CODES[key]:
            raise InputError.of("placeholder_code", f"{value} is the placeholder new-framework writes, not a real "
                                "code: give your council's code.", title="new-framework", column=option, value=value)


def render(*, name: str, title: str | None = None, la_name: str | None = None, area_word: str = "area",
           area_words: str | None = None, old_la_code: str | None = None, la_code: str | None = None,
           region_code: str | None = None, region_name: str | None = None, id_prefix: str = "FH",
           today: dt.date | None = None) -> dict[str, str]:
    """The template files' text (file name -> text) with the given words and codes filled in; anything not given
    keeps its placeholder (see the module docstring). Checks every option first (``InputError``: ``bad_option``,
    ``gss_code``, ``placeholder_code``)."""
    codes = {"old_la_code": old_la_code, "new_la_code": la_code, "region_code": region_code}
    _check_options(name, codes, id_prefix)
    area_word = (area_word or "area").strip() or "area"
    values = {
        "__NAME__": name,
        "__TITLE__": _yaml_text(title or f"TODO: a title for {name}"),
        "__LA_NAME__": _yaml_text(la_name or "TODO: your council's name"),
        "__REGION_NAME__": _yaml_text(region_name or "TODO: your region's name"),
        "__OLD_LA_CODE__": _yaml_text(old_la_code or PLACEHOLDER_CODES["old_la_code"]),
        "__NEW_LA_CODE__": _yaml_text(la_code or PLACEHOLDER_CODES["new_la_code"]),
        "__REGION_CODE__": _yaml_text(region_code or PLACEHOLDER_CODES["region_code"]),
        "__AREA_WORD_TITLE__": area_word[:1].upper() + area_word[1:],
        "__AREA_WORDS__": _yaml_text(area_words or _plural(area_word)),
        "__AREA_WORD__": _yaml_text(area_word),
        "__PREFIX__": id_prefix,
        "__TODAY__": (today or dt.date.today()).isoformat(),
    }
    for option, text in (("--title", title), ("--la-name", la_name), ("--area-word", area_word),
                         ("--area-word-plural", area_words), ("--region-name", region_name)):
        if text is not None and (len(text) > 200 or any(ch in text for ch in "\r\n\t")):
            raise _bad_option(option, text[:200], f"{option} must be one line of at most 200 characters.")
    if not re.fullmatch(r"[A-Za-z][A-Za-z -]{0,39}", area_word):
        raise _bad_option("--area-word", area_word, f"{area_word!r} cannot be the word for areas: use letters, spaces "
                          "or '-', e.g. locality, neighbourhood, ward.")
    out = {}
    for file in TEMPLATE_FILES:
        text = (template_folder() / file).read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace(key, value)
        out[file] = text
    return out


def write_new_framework(folder, *, name: str | None = None, **options) -> Path:
    """Write a new framework into ``folder`` (which must not exist or be empty) and return it.

    ``options`` are those of ``render`` (``title``, ``la_name``, ``area_word``, ``area_words``, ``old_la_code``,
    ``la_code``, ``region_code``, ``region_name``, ``id_prefix``); ``name`` defaults to the folder's name made safe.
    Refused with ``InputError`` code ``folder_not_empty`` (a folder holding anything, hidden files too),
    ``output_overlaps_input`` (inside measurekit's own bundled frameworks or data) or ``unwritable_output`` (a file
    of that name, or a parent that cannot be written). Nothing is written unless the
    whole framework is."""
    from measurekit.core.paths import check_output

    folder = Path(folder)
    # never inside (or around) measurekit's own bundled frameworks and data: output_overlaps_input
    check_output(folder, folder=False, command="new-framework")
    if folder.exists() and not folder.is_dir():
        raise InputError.of("unwritable_output", f"{str(folder)!r} is a file, not a folder. Give a new folder for "
                            "the framework.", title="new-framework", value=str(folder))
    if folder.is_dir() and any(folder.iterdir()):
        n = sum(1 for _ in folder.iterdir())
        raise InputError.of("folder_not_empty", f"Refused: {str(folder)!r} already holds {n} entr"
                            f"{'y' if n == 1 else 'ies'}; new-framework writes only into a new or empty folder, so "
                            "it never overwrites a framework you have edited. Nothing was written.",
                            title="new-framework", value=str(folder), rule="a new or empty folder")
    files = render(name=name or _name_from(folder.resolve()), **options)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent))
    except OSError as exc:
        raise InputError.of("unwritable_output", f"Cannot write in {str(folder.parent)!r} ({exc.strerror or exc}). "
                            "Choose a folder you may write to.", title="new-framework", value=str(folder)) from None
    try:
        for file, text in files.items():
            with open(tmp / file, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)        # mkdtemp's private 0700 would lock colleagues out of a shared drive
        if folder.is_dir():
            folder.rmdir()                   # empty (checked above); fails, and nothing is lost, if no longer so
        os.replace(tmp, folder)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise InputError.of("unwritable_output", f"Cannot write the framework to {str(folder)!r} "
                            f"({exc.strerror or exc}). Nothing was written.", title="new-framework",
                            value=str(folder)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _walk(node, path: str):
    """(dotted path, text) of every text value in a YAML document."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def placeholder_problems(path) -> ProblemReport:
    """What is still a placeholder in the framework folder ``path``: an error ``placeholder_code`` for each area
    code still ``PLACEHOLDER_CODES`` and each ``area`` text still reading TODO (they are published); a warning
    ``placeholder_text`` for every other text starting with TODO. Files that cannot be read are left to
    ``check_framework``, which reports them."""
    import yaml

    report = ProblemReport(title=f"Placeholders in {path}")
    for file in _SPEC_FILES:
        p = Path(path) / file
        try:
            doc = yaml.safe_load(p.read_text(encoding="utf-8")) if p.is_file() else None
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        for where, text in _walk(doc, ""):
            key = where.rsplit(".", 1)[-1]
            in_area = file == "framework.yaml" and where.startswith("area.")
            if in_area and PLACEHOLDER_CODES.get(key) == text.strip():
                report.add("placeholder_code", f"{key} is still the placeholder {text!r} that new-framework wrote; "
                           "published open-data files would carry it. Write your council's real code.",
                           file=file, column=where, value=text, rule="a real code, not a placeholder")
            elif text.strip().upper().startswith(TODO):
                report.add("placeholder_code" if in_area else "placeholder_text",
                           f"{where} still reads TODO text: write it for your framework.", file=file,
                           column=where, value=text[:200], rule="no TODO left",
                           severity="error" if in_area else "warning")
    return report
