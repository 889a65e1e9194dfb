"""measurekit: voice-informed indicators for children and families.

The public calls are reached as ``measurekit.<name>`` (``import measurekit as mk``).
Each lives in a small module and is imported only when first used, so that
``import measurekit`` stays fast (heavy libraries load inside the functions that need them).
"""
from __future__ import annotations

import importlib
import sys
import types

__version__ = "0.1.0"

# public name -> module that defines it
_API = {
    "cfa": "measurekit.cfa",
    "invariance": "measurekit.invariance",
    "board_table": "measurekit.aggregate",
    "join_board_data": "measurekit.aggregate",
    "dif": "measurekit.ordinal_dif",
    "added_value": "measurekit.value",
    "discordance": "measurekit.value",
    "coverage": "measurekit.coverage",
    "response_weights": "measurekit.coverage",
    "weighted_estimates": "measurekit.coverage",
    "item_analysis": "measurekit.item_stats",
    "agreement": "measurekit.rater_agreement",
    "omega": "measurekit.factor",
    "polychoric": "measurekit.factor",
    "parallel_analysis": "measurekit.factor",
    "efa": "measurekit.factor",
    "alpha": "measurekit.reliability",
    "score": "measurekit.scoring",
    "load_framework": "measurekit.spec",
    "read_dir": "measurekit.data",
    "validate_dir": "measurekit.data",
    "link": "measurekit.data",
    "make_cohort": "measurekit.synthetic",
}

__all__ = sorted(_API) + ["__version__"]


class _Package(types.ModuleType):
    """Keep public functions reachable when a submodule has the same name (measurekit.cfa holds
    mk.cfa): the import system would otherwise replace the function with the module on the package."""

    def __setattr__(self, name, value):
        if name in _API and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'measurekit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
