"""Confirmatory factor analysis, single- and multi-group, with equality constraints: ML for items
treated as continuous, full-information ML with missing answers, WLSMV (DWLS on polychoric
correlations and thresholds) for ordered items.

No Python library fits multi-group models with cross-group equality constraints (semopy fits groups
separately), which measurement invariance needs; this module does, with lavaan's defaults: ML
with ``likelihood = "normal"`` (covariances divided by N), the first loading of each factor
fixed to 1, factor variances and covariances free, a mean structure in multi-group models
(intercepts free, factor means 0; with equal intercepts the factor means of groups after the
first are freed), listwise deletion. The steps (model syntax, sample statistics, parameter table,
estimators, fit measures, estimates) live in :mod:`measurekit.stats.sem`; this module holds the
public call. Checked against lavaan 0.6 (``tests/fixtures/r/lavaan.R``, ``lavaan_wlsmv.R``,
``lavaan_sem.R``).
"""
from __future__ import annotations

import pandas as pd

from measurekit.problems import InputError, Problem, ProblemReport
from measurekit.stats._numerics.threads import single_thread
from measurekit.stats.sem.results import CFAResult
from measurekit.stats.sem.spec import EQUAL_OPTIONS
from measurekit.stats.sem.syntax import MeasurementModel, parse_model

__all__ = ["EQUAL_OPTIONS", "CFAResult", "cfa"]


def _bad_option(message: str, value) -> InputError:
    return InputError(ProblemReport([Problem("bad_option", message, value=value)]))


def _model(model: str | MeasurementModel) -> MeasurementModel:
    from measurekit.stats.sem.spec import check_identified

    m = parse_model(model) if isinstance(model, str) else model
    check_identified(m)
    return m


@single_thread
def cfa(data: pd.DataFrame, model: str, group: str | None = None, equal=(), estimator: str | None = None,
        release=(), ordered=None, parameterization: str = "delta", missing: str = "listwise") -> CFAResult:
    """Fit a CFA model given in lavaan syntax (``lavaan::cfa``).

    Items treated as continuous (default): maximum likelihood, as ``cfa(model, data)``. ``equal`` holds
    any of "loadings", "intercepts", "residuals" (equal across groups, as lavaan's ``group.equal``);
    ``release`` lists ("intercepts" | "loadings" | "residuals", item) pairs freed from those
    constraints (partial invariance).

    ``ordered=True`` (every item) or a list of items: the items are ordinal and the model is fitted as
    ``cfa(model, data, ordered = ..., estimator = "WLSMV")``: thresholds and polychoric correlations,
    DWLS, robust standard errors and the scaled-and-shifted test. ``parameterization`` is "delta"
    (lavaan's default: latent responses have unit variance) or "theta" (unit residual variances;
    single group only). With ``group``, ``equal`` may hold "thresholds", "loadings", "intercepts" (the
    Wu and Estabrook 2016 sequence; see :func:`measurekit.invariance`). Residual covariances
    (``y1 ~~ y5``) are estimated by every route.

    ``missing="ml"`` (continuous items only): full-information maximum likelihood, as lavaan's
    ``missing = "ml"``; every row with at least one answer is used.

    Returns a :class:`CFAResult` (fit measures, parameter estimates with ``std_all``, warnings, a
    sentence on the rows used). Unusable input (unknown or empty columns, constant items, too few rows,
    a model that is not identified or cannot be read) raises ``InputError`` with a catalogued code.
    """
    if ordered is not None and ordered is not False:
        if missing != "listwise":
            raise _bad_option("missing='ml' is for items treated as continuous; WLSMV uses complete rows (lavaan's "
                              "default).", missing)
        if estimator not in (None, "WLSMV"):
            raise _bad_option(f"Ordered items are fitted with estimator='WLSMV', not {estimator!r}.", estimator)
        return _cfa_ordinal(data, model, group, ordered, parameterization, equal, release)
    if estimator not in (None, "ML"):
        raise _bad_option(f"estimator must be 'ML' (continuous items) or 'WLSMV' with ordered=..., not {estimator!r}.",
                          estimator)
    if missing not in ("listwise", "ml"):
        raise _bad_option(f"missing must be 'listwise' or 'ml', not {missing!r}.", missing)
    bad = [e for e in equal if e not in EQUAL_OPTIONS]
    if bad:
        raise _bad_option(f"equal may hold {', '.join(EQUAL_OPTIONS)} for items treated as continuous, not "
                          f"{', '.join(map(str, bad))}.", str(bad))
    m = _model(model)
    if missing == "ml":
        from measurekit.stats.sem.fiml import fit_fiml
        from measurekit.stats.sem.sample import fiml_sample

        return fit_fiml(fiml_sample(data, m, group), equal, release)
    from measurekit.stats.sem.ml import fit_ml
    from measurekit.stats.sem.sample import ml_sample

    return fit_ml(ml_sample(data, m, group), equal, release)


def _cfa_ordinal(df, model, group, ordered, parameterization, equal, release) -> CFAResult:
    from measurekit.stats._numerics.wlsmv import LEVELS
    from measurekit.stats.sem.sample import ordinal_sample
    from measurekit.stats.sem.wlsmv import fit_ordinal

    if parameterization not in ("delta", "theta"):
        raise _bad_option(f"parameterization must be 'delta' or 'theta', not {parameterization!r}.", parameterization)
    if parameterization == "theta" and group:
        raise _bad_option("parameterization='theta' is supported for one group; use 'delta' (the default) with "
                          "group=.", "theta")
    equal = tuple(equal)
    bad = [e for e in equal if e not in LEVELS[1:]]
    if bad:
        raise _bad_option(f"For ordered items equal= may hold 'thresholds', 'loadings', 'intercepts' (in that order), "
                          f"not {bad}.", str(bad))
    level = LEVELS[len(equal)] if equal else "configural"
    if equal and tuple(LEVELS[1: len(equal) + 1]) != equal:
        raise _bad_option("For ordered items equality constraints build up in the order thresholds, loadings, "
                          "intercepts (Wu and Estabrook 2016).", str(equal))
    m = _model(model)
    return fit_ordinal(ordinal_sample(df, m, group, ordered), level, "std.lv" if equal else "marker",
                       parameterization, release)
