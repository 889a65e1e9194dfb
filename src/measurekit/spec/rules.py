"""Cross-reference checks of a loaded framework (each with a stable code)."""
from __future__ import annotations

from collections import Counter

from measurekit.problems import ProblemReport
from measurekit.spec.models import Framework


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
