"""measurekit: voice-informed indicators for children and families.

The public calls are reached as ``measurekit.<name>`` (``import measurekit as mk``).
Each lives in a small module and is imported only when first used, so that
``import measurekit`` stays fast (heavy libraries load inside the functions that need them).
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

from measurekit.core.paths import keep_matplotlib_out_of_home as _mpl_home  # noqa: E402

_mpl_home()     # matplotlib's font cache goes to a private temporary folder, never under $HOME

# public name -> module that defines it
_API = {
    "cfa": "measurekit.stats.cfa",
    "invariance": "measurekit.stats.invariance",
    "board_table": "measurekit.publish.board_table",
    "join_board_data": "measurekit.publish.board_table",
    "dif": "measurekit.stats.dif",
    "grm": "measurekit.stats.irt",
    "added_value": "measurekit.stats.added_value",
    "discordance": "measurekit.stats.added_value",
    "coverage": "measurekit.stats.coverage",
    "response_weights": "measurekit.stats.coverage",
    "linkage_weights": "measurekit.stats.coverage",
    "weighted_estimates": "measurekit.stats.coverage",
    "item_analysis": "measurekit.stats.items",
    "agreement": "measurekit.stats.agreement",
    "omega": "measurekit.stats.factor",
    "polychoric": "measurekit.stats.factor",
    "parallel_analysis": "measurekit.stats.factor",
    "efa": "measurekit.stats.factor",
    "alpha": "measurekit.stats.reliability",
    "score": "measurekit.stats.scoring",
    "item_values": "measurekit.stats.scoring",
    "reliability_by_domain": "measurekit.stats.reliability",
    "load_framework": "measurekit.design",
    "read_dir": "measurekit.data",
    "validate_dir": "measurekit.data",
    "link": "measurekit.data",
    "make_cohort": "measurekit.synth.cohort",
    "content_validity": "measurekit.design.content_validity",
    "retest": "measurekit.stats.retest",
    "cosmin_table": "measurekit.stats.cosmin",
    "stack_perspectives": "measurekit.stats.perspectives",
    "perspective_agreement": "measurekit.stats.perspectives",
    "perspective_divergence": "measurekit.stats.perspectives",
    "perspective_missingness": "measurekit.stats.perspectives",
    "review_change": "measurekit.stats.perspectives",
    "routine_discordance": "measurekit.stats.perspectives",
    "trend_markers": "measurekit.stats.trend",
    "change_from_previous": "measurekit.stats.trend",
    "target_progress": "measurekit.stats.target",
    "sii": "measurekit.stats.inequality",
    "group_gap": "measurekit.stats.inequality",
    "funnel": "measurekit.stats.funnel",
    "over_time": "measurekit.stats.over_time",
    "read_inventory": "measurekit.mapping.reading",
    "check_inventory": "measurekit.mapping.reading",
    "information_map": "measurekit.mapping.analysis",
    "write_information_map": "measurekit.mapping.writing",
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'measurekit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
