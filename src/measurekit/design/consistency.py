"""Cross-reference checks of a loaded framework (each with a stable code)."""
from __future__ import annotations

from collections import Counter

from measurekit.problems import ProblemReport
from measurekit.design.models import Framework


def check_consistency(fw: Framework) -> ProblemReport:
    report = ProblemReport()
    for kind, seq, file in (("scales", fw.scales, "scales.yaml"), ("domains", fw.domains, "items.yaml"),
                            ("items", fw.items, "items.yaml"), ("indicators", fw.indicators, "indicators.yaml")):
        counts = Counter(o.id for o in seq)
        for i, obj in enumerate(seq):
            if counts[obj.id] > 1:
                report.add("duplicate_id", f"The id {obj.id!r} is used more than once in {kind}; ids must be unique.",
                           file=file, column=f"{kind}[{i}].id", value=obj.id)
    scale_ids = {s.id for s in fw.scales}
    domain_ids = {d.id for d in fw.domains}
    for i, item in enumerate(fw.items):
        if item.scale not in scale_ids:
            report.add("unknown_scale", f"Item {item.id} uses scale {item.scale!r}, which scales.yaml does not define.",
                       file="items.yaml", column=f"items[{i}].scale", value=item.scale)
        elif item.reverse and not fw.scale(item.scale).has_middle:
            report.add("reverse_without_middle",
                       f"Item {item.id} is reverse keyed on scale {item.scale!r}, which has no middle point; "
                       "reverse keying needs a symmetric scale with a middle.",
                       file="items.yaml", column=f"items[{i}].reverse", value=item.reverse)
        if item.domain not in domain_ids:
            report.add("unknown_domain", f"Item {item.id} is in domain {item.domain!r}, which items.yaml does not define.",
                       file="items.yaml", column=f"items[{i}].domain", value=item.domain)
        for lang in fw.languages:
            if not item.stem.get(lang):
                report.add("missing_translation", f"Item {item.id} has no stem in declared language {lang!r}.",
                           file="items.yaml", column=f"items[{i}].stem.{lang}", severity="warning")
        for lang in item.stem:
            if lang not in fw.languages:
                report.add("undeclared_language", f"Item {item.id} has a stem in {lang!r}, which framework.yaml does not "
                           "declare in `languages`; it will not appear on forms.",
                           file="items.yaml", column=f"items[{i}].stem.{lang}", severity="warning")
    _translation_checks(fw, report)
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
    return report


def _translation_checks(fw: Framework, report: ProblemReport) -> None:
    """Every declared language needs scale labels (and domain titles / form text where any are translated)."""
    def need(labels: dict, file: str, where: str, what: str):
        for lang in fw.languages:
            if not labels.get(lang):
                report.add("missing_translation", f"{what} has no text in declared language {lang!r}.",
                           file=file, column=f"{where}.{lang}", severity="warning")

    for s_i, sc in enumerate(fw.scales):
        for o_i, opt in enumerate(sc.options):
            need(opt.label, "scales.yaml", f"scales[{s_i}].options[{o_i}].label", f"Scale {sc.id} option {opt.code}")
        if sc.dont_know is not None:
            need(sc.dont_know.label, "scales.yaml", f"scales[{s_i}].dont_know.label", f"Scale {sc.id} don't-know option")
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
    if fw.path is None:
        return
    from measurekit.design.content_validity import RATINGS_FILE, check_ratings, read_ratings
    from measurekit.design.interviews import check_interviews, find_log, read_interviews
    from measurekit.problems import InputError

    log = find_log(fw.path)
    if log is not None:
        name = log.relative_to(fw.path).as_posix()
        try:
            report.extend(check_interviews(read_interviews(log), fw, file=name))
        except InputError as exc:
            report.extend(exc.report)
    ratings = fw.path / "evidence" / RATINGS_FILE
    if ratings.exists():
        report.extend(check_ratings(read_ratings(ratings), fw, file=f"evidence/{RATINGS_FILE}"))
