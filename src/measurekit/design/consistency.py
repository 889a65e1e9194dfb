"""Cross-reference checks of a loaded framework (each with a stable code)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from measurekit.design.models import Domain, Framework, Indicator, Item, Scale
from measurekit.problems import ProblemReport


def check_consistency(fw: Framework) -> ProblemReport:
    report = ProblemReport()
    sections: tuple[tuple[str, Sequence[Scale | Domain | Item | Indicator], str], ...] = (
        ("scales", fw.scales, "scales.yaml"), ("domains", fw.domains, "items.yaml"),
        ("items", fw.items, "items.yaml"), ("indicators", fw.indicators, "indicators.yaml"))
    for kind, seq, file in sections:
        counts = Counter(o.id for o in seq)
        for i, obj in enumerate(seq):
            if counts[obj.id] > 1:
                report.add("duplicate_id", f"The id {obj.id!r} is used more than once in {kind}; ids must be unique.",
                           file=file, column=f"{kind}[{i}].id", value=obj.id)
    scale_ids = {s.id for s in fw.scales}
    domain_ids = {d.id for d in fw.domains}
    for i, item in enumerate(fw.items):
        if item.scale not in scale_ids:
            report.add("unknown_scale",
                       f"Item {item.id} uses scale {item.scale!r}, which scales.yaml does not define.",
                       file="items.yaml", column=f"items[{i}].scale", value=item.scale)
        elif item.reverse and not fw.scale(item.scale).has_middle:
            report.add("reverse_without_middle",
                       f"Item {item.id} is reverse keyed on scale {item.scale!r}, which has no middle point; "
                       "reverse keying needs a symmetric scale with a middle.",
                       file="items.yaml", column=f"items[{i}].reverse", value=item.reverse)
        if item.domain not in domain_ids:
            report.add("unknown_domain",
                       f"Item {item.id} is in domain {item.domain!r}, which items.yaml does not define.",
                       file="items.yaml", column=f"items[{i}].domain", value=item.domain)
        for lang in fw.languages:
            if not item.stem.get(lang):
                report.add("missing_translation", f"Item {item.id} has no stem in declared language {lang!r}.",
                           file="items.yaml", column=f"items[{i}].stem.{lang}", severity="warning")
        for who, own in item.stem_by_respondent.items():     # another respondent's wording: in every language too
            for lang in fw.languages:
                if item.stem.get(lang) and not own.get(lang):
                    report.add("missing_translation", f"Item {item.id} has no wording for {who} in declared language "
                               f"{lang!r}; that form shows the {lang!r} stem instead.", file="items.yaml",
                               column=f"items[{i}].stem_by_respondent.{who}.{lang}", severity="warning")
        for lang in item.stem:
            if lang not in fw.languages:
                report.add("undeclared_language", f"Item {item.id} has a stem in {lang!r}, which framework.yaml does "
                           "not declare in `languages`; it will not appear on forms.",
                           file="items.yaml", column=f"items[{i}].stem.{lang}", severity="warning")
    _translation_checks(fw, report)
    _fielding_checks(fw, report)
    _evidence_checks(fw, report)
    item_ids = {i.id for i in fw.items}
    for i, ind in enumerate(fw.indicators):
        c = ind.compute
        ok = (c.source == "item" and c.field in item_ids) or (
            c.source == "scale" and c.field.removeprefix("voice_") in domain_ids) or c.source == "routine"
        if not ok:
            report.add("indicator_missing_item",
                       f"Indicator {ind.id} computes from {c.source} {c.field!r}, which the framework does not define.",
                       file="indicators.yaml", column=f"indicators[{i}].compute.field", value=c.field)
        if c.statistic in ("proportion_below", "proportion_at_or_above") and c.threshold is None:
            report.add("missing_threshold", f"Indicator {ind.id} uses {c.statistic} but gives no threshold.",
                       file="indicators.yaml", column=f"indicators[{i}].compute.threshold")
    _breakdown_checks(fw, report)
    if fw.coverage_indicator and fw.coverage_indicator not in {ind.id for ind in fw.indicators}:
        report.add("unknown_coverage_indicator",
                   f"coverage_indicator names {fw.coverage_indicator!r}, which indicators.yaml does not define.",
                   file="framework.yaml", column="coverage_indicator", value=fw.coverage_indicator)
    return report


def _need_languages(fw: Framework, report: ProblemReport, labels: dict, file: str, where: str, what: str) -> None:
    """A missing_translation warning for every declared language ``labels`` has no text in."""
    for lang in fw.languages:
        if not labels.get(lang):
            report.add("missing_translation", f"{what} has no text in declared language {lang!r}.",
                       file=file, column=f"{where}.{lang}", severity="warning")


def _translation_checks(fw: Framework, report: ProblemReport) -> None:
    """Every declared language needs scale labels (and domain titles / form text where any are translated)."""
    def need(labels: dict, file: str, where: str, what: str):
        _need_languages(fw, report, labels, file, where, what)

    for s_i, sc in enumerate(fw.scales):
        for o_i, opt in enumerate(sc.options):
            need(opt.label, "scales.yaml", f"scales[{s_i}].options[{o_i}].label", f"Scale {sc.id} option {opt.code}")
        if sc.dont_know is not None:
            need(sc.dont_know.label, "scales.yaml", f"scales[{s_i}].dont_know.label",
                 f"Scale {sc.id} don't-know option")
    for d_i, d in enumerate(fw.domains):
        if d.label:   # translated titles are optional, but once started they should be complete
            need({fw.languages[0]: d.title, **d.label}, "items.yaml", f"domains[{d_i}].label", f"Domain {d.id} title")
    for field in ("title", "intro", "child_id"):
        texts = getattr(fw.form_text, field)
        if texts:
            need(texts, "framework.yaml", f"form_text.{field}", f"Form text {field!r}")
    for lang in fw.translations:
        if lang not in fw.languages:
            report.add("undeclared_language", f"translations lists {lang!r}, which is not in `languages`.",
                       file="framework.yaml", column=f"translations.{lang}", severity="warning")


def _evidence_checks(fw: Framework, report: ProblemReport) -> None:
    """The co-design evidence kept beside the framework is checked with it: the cognitive-interview log
    (``evidence/interviews.csv`` or ``.yaml``) and the content validity ratings (``evidence/content_validity.csv``)."""
    from measurekit.design.evidence import read_framework_evidence

    # the one reader of the evidence folder; the framework keeps what it read, so a run does not read it again
    fw._evidence = read_framework_evidence(fw, report=report)


def _fielding_checks(fw: Framework, report: ProblemReport) -> None:
    """What the fielding exports need: REDCap-valid item names, media files that exist (with distinct file
    names, in declared languages), hints and constraint messages in every language, complete pictorial scales."""
    from measurekit.design.forms import redcap_name_problems

    base = fw.path
    media_names: dict[str, str] = {}

    def check_media(media, where: str, file: str):
        if media is None:
            return
        for kind in ("audio", "image"):
            for lang, rel in getattr(media, kind).items():
                column = f"{where}.media.{kind}.{lang}"
                if lang != "all" and lang not in fw.languages:
                    report.add("undeclared_language", f"{where}: {kind} for {lang!r}, which framework.yaml does not "
                               "declare.", file=file, column=column, severity="warning")
                check_file(rel, file, column)

    def check_file(rel: str, file: str, column: str):
        if base is not None and not (base / rel).is_file():
            report.add("missing_media", f"Media file {rel} is not in the framework folder; form exports that "
                       "use it will stop until it is there.", file=file, column=column, value=rel, severity="warning")
        name = rel.replace("\\", "/").rsplit("/", 1)[-1]
        if media_names.setdefault(name, rel) != rel:
            report.add("media_name_clash", f"{rel} and {media_names[name]} have the same file name; forms refer "
                       "to media by name only.", file=file, column=column, value=name, severity="warning")

    def need(texts: dict, file: str, where: str, what: str):
        _need_languages(fw, report, texts, file, where, what)

    for i, item in enumerate(fw.items):
        broken = redcap_name_problems(item.id)
        if broken:
            report.add("redcap_name", f"Item id {item.id!r} cannot be a REDCap field name: {'; '.join(broken)}.",
                       file="items.yaml", column=f"items[{i}].id", value=item.id, severity="warning",
                       rule="lower case letters, digits and _; starts with a letter; at most 26 characters")
        check_media(item.media, f"items[{i}]", "items.yaml")
        if item.hint:
            need(item.hint, "items.yaml", f"items[{i}].hint", f"Item {item.id} hint")
        if item.constraint:
            need(item.constraint_message, "items.yaml", f"items[{i}].constraint_message",
                 f"Item {item.id} constraint message")
    for s_i, sc in enumerate(fw.scales):
        for o_i, opt in enumerate(sc.options):
            check_media(opt.media, f"scales[{s_i}].options[{o_i}]", "scales.yaml")
        if sc.pictorial is not None:
            missing = [c for c in sc.codes if c not in sc.pictorial.images]
            if missing:
                report.add("pictorial_incomplete", f"Scale {sc.id}'s pictorial version has no picture for "
                           f"code(s) {missing}.", file="scales.yaml", column=f"scales[{s_i}].pictorial.images")
            for code, rel in sc.pictorial.images.items():
                check_file(rel, "scales.yaml", f"scales[{s_i}].pictorial.images.{code}")
    if fw.form_text.child_id_pattern:
        need(fw.form_text.child_id_message, "framework.yaml", "form_text.child_id_message", "Child reference message")


def _breakdown_checks(fw: Framework, report: ProblemReport) -> None:
    """Indicators and breakdown relations name only declared breakdowns (``breakdowns:`` in framework.yaml; none
    declared: only the area breakdown, ``population.area`` or ``neighbourhood``); ids unique; at most one area
    breakdown."""
    declared = {b.id for b in fw.declared_breakdowns}
    known = ", ".join(sorted(declared))
    counts = Counter(b.id for b in fw.breakdowns)
    for i, b in enumerate(fw.breakdowns):
        if counts[b.id] > 1:
            report.add("duplicate_id", f"The breakdown id {b.id!r} is declared more than once; ids must be unique.",
                       file="framework.yaml", column=f"breakdowns[{i}].id", value=b.id)
    areas = [i for i, b in enumerate(fw.breakdowns) if b.area]
    for i in areas[1:]:
        report.add("area_breakdown", f"Breakdown {fw.breakdowns[i].id!r} is marked area: true, but "
                   f"{fw.breakdowns[areas[0]].id!r} already is; a framework has one breakdown by its board areas.",
                   file="framework.yaml", column=f"breakdowns[{i}].area", value=fw.breakdowns[i].id,
                   rule="at most one breakdown with area: true")
    for i, ind in enumerate(fw.indicators):
        for j, name in enumerate(ind.breakdowns):
            if name not in declared:
                report.add("unknown_breakdown", f"Indicator {ind.id} is broken down by {name!r}, which framework.yaml "
                           f"does not declare under `breakdowns:` (declared: {known}).", file="indicators.yaml",
                           column=f"indicators[{i}].breakdowns[{j}]", value=name, rule="a declared breakdown id")
    for i, rel in enumerate(fw.breakdown_relations):
        for key in ("breakdown", "equals_breakdown"):
            name = getattr(rel, key)
            found = fw.breakdown(name)
            if found is None or found.area:
                report.add("unknown_breakdown", f"breakdown_relations[{i}] names {name!r}, which is not a declared "
                           f"breakdown by groups (declared: {known}).", file="framework.yaml",
                           column=f"breakdown_relations[{i}].{key}", value=name,
                           rule="a declared breakdown id, not the area breakdown")
