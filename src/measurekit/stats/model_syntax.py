"""A small parser for lavaan-style measurement model syntax.

Supported: ``f =~ x1 + x2 + x3`` (factor loadings; the first is fixed to 1 unless written ``NA*x1``;
``0.5*x2`` fixes a loading), ``a ~~ b`` (a residual covariance between two observed variables, or a
covariance between factors, which are free by default anyway), ``x ~~ x`` (variances: free by
default), comments with ``#``, several statements per line separated by ``;``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from measurekit.problems import InputError


@dataclass
class MeasurementModel:
    factors: dict[str, list[str]]                          # factor -> indicators, in order
    fixed_loadings: dict[tuple[str, str], float] = field(default_factory=dict)
    free_first: set[str] = field(default_factory=set)      # factors whose first loading is free (NA*)
    residual_covariances: list[tuple[str, str]] = field(default_factory=list)

    @property
    def observed(self) -> list[str]:
        seen = []
        for items in self.factors.values():
            for x in items:
                if x not in seen:
                    seen.append(x)
        return seen


_TERM = re.compile(r"^(?:(?P<mod>NA|[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*\*\s*)?(?P<name>[A-Za-z_.][A-Za-z0-9_.]*)$")


def parse_model(text: str) -> MeasurementModel:
    factors: dict[str, list[str]] = {}
    fixed, free_first, covs = {}, set(), []
    statements = [s.strip() for line in text.splitlines() for s in line.split("#")[0].split(";")]
    for st in filter(None, statements):
        if "=~" in st:
            lhs, rhs = (p.strip() for p in st.split("=~", 1))
            if not re.match(r"^[A-Za-z_.][A-Za-z0-9_.]*$", lhs):
                raise InputError(f"Cannot read the factor name in {st!r}.")
            items = factors.setdefault(lhs, [])
            for k, term in enumerate(t.strip() for t in rhs.split("+")):
                m = _TERM.match(term)
                if not m:
                    raise InputError(f"Cannot read {term!r} in {st!r}; write e.g. 'f =~ x1 + x2 + x3'.")
                name, mod = m["name"], m["mod"]
                items.append(name)
                if mod == "NA" and k == 0:
                    free_first.add(lhs)
                elif mod is not None and mod != "NA":
                    fixed[(lhs, name)] = float(mod)
        elif "~~" in st:
            a, b = (p.strip() for p in st.split("~~", 1))
            if a != b:
                covs.append((a, b))
        else:
            raise InputError(f"Cannot read {st!r}: only '=~' (loadings) and '~~' (covariances) are supported.")
    if not factors:
        raise InputError("The model defines no factor; write e.g. 'f =~ x1 + x2 + x3'.")
    model = MeasurementModel(factors, fixed, free_first, [])
    for a, b in covs:
        if a in factors and b in factors:
            continue                                     # factor covariances are free by default
        model.residual_covariances.append((a, b))
    return model
