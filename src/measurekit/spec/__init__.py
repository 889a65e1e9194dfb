"""Framework specifications: models, loading with every problem reported, checks."""
from __future__ import annotations

from measurekit.spec.load import SpecError, check_framework, load_framework
from measurekit.spec.models import Compute, Disclosure, Domain, Framework, Indicator, Item, Option, Scale

__all__ = ["Compute", "Disclosure", "Domain", "Framework", "Indicator", "Item", "Option", "Scale",
           "SpecError", "check_framework", "load_framework", "main_check_spec"]


def main_check_spec(args) -> int:
    from measurekit.spec.checks import CheckConfig, check_items
    from measurekit.spec.evidence import load_evidence
    from measurekit.spec.trace import traceability

    report = check_framework(args.framework)
    print(report.to_text(limit=100))
    if not report.ok:
        return 1
    fw = load_framework(args.framework)
    print(f"{len(fw.items)} items in {len(fw.domains)} domains, {len(fw.indicators)} indicators, "
          f"languages {', '.join(fw.languages)}.")
    findings = check_items(fw, CheckConfig(reading_age=args.reading_age))
    print(f"\nItem-writing checks: {len(findings)} finding(s)")
    for f in findings.itertuples():
        print(f"  [{f.severity}] {f.item} ({f.language}) {f.code}: {f.message} Try: {f.suggestion}")
    if (fw.path / "evidence" / "quotes.csv").exists():
        trace = traceability(fw, load_evidence(fw))
        uncovered = trace["themes"][~trace["themes"]["covered"]]
        no_evidence = trace["items"][~trace["items"]["has_evidence"]]
        print(f"\nTraceability: {len(uncovered)} theme(s) no item covers"
              + (": " + ", ".join(uncovered["name"]) if len(uncovered) else "")
              + f"; {len(no_evidence)} item(s) without voice evidence"
              + (": " + ", ".join(no_evidence["item"]) if len(no_evidence) else "") + ".")
    return 0
