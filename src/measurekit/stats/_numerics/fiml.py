"""Full-information maximum likelihood for CFA with missing values (lavaan's missing = "ml")."""
from __future__ import annotations


def cfa_fiml(df, model, group=None, equal=(), release=()):
    from measurekit.problems import InputError

    raise InputError("missing='ml' is not available yet; rows with missing answers are dropped (missing='listwise').")
