"""Step 1 of a fit: the model, read from lavaan's model syntax (as ``lavaan::lavParseModelString``
reads the parts a measurement model uses).

Read:
- ``f =~ x1 + x2 + x3``: loadings. The first is fixed to 1 (the marker) unless written ``NA*x1``;
  ``0.5*x2`` fixes a loading to 0.5. A factor may be continued on later lines (``f =~ x4``).
- ``a ~~ b``: a residual covariance between two items (free), or a covariance between two factors
  (free by default anyway). Several right-hand sides are read as lavaan reads them:
  ``y2 ~~ y4 + y6`` is ``y2 ~~ y4`` and ``y2 ~~ y6``. ``x ~~ x`` (a variance) is free by default.
- ``#`` and ``!`` start a comment; ``;`` separates statements on one line; a statement continues
  on the next line when its line ends with ``+`` or an operator, or the next line starts with ``+``.

Everything else lavaan's syntax can say (regressions ``~``, intercepts ``~1``, labels and equality
constraints, fixed or started covariances, second-order factors, defined parameters) is refused with an
``InputError`` (code ``model_syntax``) that names the statement, never ignored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from measurekit.problems import InputError, Problem, ProblemReport

_NAME = r"[A-Za-z_.][A-Za-z0-9_.]*"
_TERM = re.compile(rf"^(?:(?P<mod>NA|[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*\*\s*)?(?P<name>{_NAME})$")
_OPERATORS = ("=~", "~~", "~1", "~", ":=", "==", "<", ">", "|", "%")


@dataclass
class MeasurementModel:
    """A measurement model: factors with their indicators, fixed loadings, residual covariances.

    ``observed`` lists the items in order of first appearance (lavaan's ``lavNames(fit, "ov")``)."""
    factors: dict[str, list[str]]                          # factor -> indicators, in order
    fixed_loadings: dict[tuple[str, str], float] = field(default_factory=dict)
    free_first: set[str] = field(default_factory=set)      # factors whose first loading is free (NA*)
    residual_covariances: list[tuple[str, str]] = field(default_factory=list)

    @property
    def observed(self) -> list[str]:
        seen: dict[str, None] = {}
        for items in self.factors.values():
            for x in items:
                seen.setdefault(x, None)
        return list(seen)


def _error(message: str, statement: str | None = None) -> InputError:
    return InputError(ProblemReport([Problem("model_syntax", message, value=statement)], title="Model syntax"))


def _statements(text: str) -> list[str]:
    """Statements without comments; lines continued as lavaan continues them."""
    lines: list[str] = []
    for raw in str(text).splitlines():
        line = re.split(r"[#!]", raw, maxsplit=1)[0]
        lines.extend(part.strip() for part in line.split(";"))
    out: list[str] = []
    for line in filter(None, lines):
        if out and (line.startswith("+") or out[-1].endswith(("+", "=~", "~~"))):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def _terms(rhs: str, statement: str) -> list[tuple[str | None, str]]:
    terms = []
    for term in (t.strip() for t in rhs.split("+")):
        m = _TERM.match(term)
        if not m:
            raise _error(f"Cannot read {term!r} in {statement!r}; write e.g. 'f =~ x1 + x2 + x3' or 'x1 ~~ x2 + x3' "
                         "(labels and other modifiers are not supported).", statement)
        terms.append((m["mod"], m["name"]))
    return terms


def parse_model(text: str) -> MeasurementModel:
    """Read lavaan model syntax into a :class:`MeasurementModel` (see the module docstring)."""
    factors: dict[str, list[str]] = {}
    fixed: dict[tuple[str, str], float] = {}
    free_first: set[str] = set()
    covs: list[tuple[str, str, str]] = []
    for st in _statements(text):
        op = next((o for o in _OPERATORS if o in st), None)
        if op == "=~":
            lhs, rhs = (p.strip() for p in st.split("=~", 1))
            if not re.fullmatch(_NAME, lhs):
                raise _error(f"Cannot read the factor name in {st!r}.", st)
            items = factors.setdefault(lhs, [])
            for mod, name in _terms(rhs, st):
                if name in items:
                    raise _error(f"{name} is named twice as an indicator of {lhs} ({st!r}).", st)
                if mod == "NA" and not items:
                    free_first.add(lhs)
                elif mod == "NA":
                    pass                                    # NA* on a later indicator: free, as it is anyway
                elif mod is not None:
                    fixed[(lhs, name)] = float(mod)
                items.append(name)
        elif op == "~~":
            lhs, rhs = (p.strip() for p in st.split("~~", 1))
            lefts = _terms(lhs, st)
            for mod, _name in lefts + _terms(rhs, st):
                if mod is not None:
                    raise _error(f"Fixed or started (co)variances ({st!r}) are not supported; write 'a ~~ b' for a "
                                 "free covariance.", st)
            covs.extend((a, b, st) for _, a in lefts for _, b in _terms(rhs, st))
        elif op is None:
            raise _error(f"Cannot read {st!r}: a statement needs '=~' (loadings) or '~~' (covariances).", st)
        else:
            raise _error(f"Cannot read {st!r}: only '=~' (loadings) and '~~' (covariances) are supported, "
                         f"not {op!r}.", st)
    if not factors:
        raise _error("The model defines no factor; write e.g. 'f =~ x1 + x2 + x3'.")
    model = MeasurementModel(factors, fixed, free_first, [])
    observed = set(model.observed)
    for f in factors:
        if f in observed:
            raise _error(f"{f} is a factor and also an indicator (a second-order factor); only first-order "
                         "measurement models are supported.", f)
    seen: set[frozenset] = set()
    for a, b, st in covs:
        if a == b:
            if a not in observed and a not in factors:
                raise _error(f"{a} in {st!r} is neither an item nor a factor of the model.", st)
            continue                                     # variances are free by default
        if a in factors and b in factors:
            continue                                     # factor covariances are free by default
        for x in (a, b):
            if x in factors:
                raise _error(f"{st!r} relates the factor {x} to an item; only item-item (residual) and "
                             "factor-factor covariances are supported.", st)
            if x not in observed:
                raise _error(f"{x} in {st!r} is not an indicator of any factor; name it in a '=~' line first.", st)
        if frozenset((a, b)) in seen:
            raise _error(f"The residual covariance {a} ~~ {b} is given twice.", st)
        seen.add(frozenset((a, b)))
        model.residual_covariances.append((a, b))
    return model
