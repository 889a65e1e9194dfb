"""Stage 1 of the flow: co-design. Framework specifications (models, YAML loading with every
problem reported, saving), voice evidence and traceability, wording checks, forms for fielding
(XLSForm, REDCap, paper), the framework review and the notebook widgets."""
from __future__ import annotations

from measurekit.design.loading import SpecError, check_framework, load_framework
from measurekit.design.models import Compute, Disclosure, Domain, Framework, Indicator, Item, Option, Scale

__all__ = ["Compute", "Disclosure", "Domain", "Framework", "Indicator", "Item", "Option", "Scale",
           "SpecError", "check_framework", "load_framework"]

