"""Framework specifications: models, loading with every problem reported, checks."""
from __future__ import annotations

from measurekit.spec.load import SpecError, load_framework
from measurekit.spec.models import Compute, Disclosure, Domain, Framework, Indicator, Item, Option, Scale

__all__ = ["Compute", "Disclosure", "Domain", "Framework", "Indicator", "Item", "Option", "Scale",
           "SpecError", "load_framework", "main_check_spec"]


def main_check_spec(args) -> int:
    fw = load_framework(args.framework)
    print(f"{args.framework}: {len(fw.items)} items in {len(fw.domains)} domains, "
          f"{len(fw.indicators)} indicators, languages {', '.join(fw.languages)}: no specification problems.")
    return 0
