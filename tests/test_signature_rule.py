"""The signature rule of the public API (docs/architecture.md, "Signature rule").

Every public call takes the data first, as a positional argument named ``data``; the framework only
as the keyword ``framework=``; the item list only as the keyword ``items=``. The exceptions are listed
here by kind and must be listed in docs/architecture.md too. The checker below is written from the
rule, not from the functions: a function that breaks it is reported (see the tests at the end that
feed it broken functions).
"""
from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import measurekit as mk

ROOT = Path(__file__).resolve().parents[1]

# Calls that genuinely take two data frames: their two positional data arguments, in order.
TWO_DATA = {"agreement": ("parent", "practitioner"), "retest": ("first", "second"),
            "join_board_data": ("board", "other")}
# Readers: their first argument is where to read (a file or a data folder), not data in memory.
READERS = {"load_framework": "path", "check_framework": "path", "read_inventory": "path",
           "check_inventory": "path", "read_dir": "folder", "validate_dir": "folder",
           "read_and_validate": "folder"}
# Calls whose input is a result object of another call.
OF_A_RESULT = {"linkage_weights": "result", "write_information_map": "result"}
# Calls with no data argument at all (a generator; a rating of results already computed).
NO_DATA = {"make_cohort", "cosmin_table"}

# Old names of the data argument: never a positional parameter again.
OLD_DATA_NAMES = {"df", "frame", "responses", "cohort", "ratings", "parent_df", "practitioner_df", "inventory",
                  "dataframe", "x"}
# Other names for the framework or the item list: never a parameter.
OTHER_FRAMEWORK_NAMES = {"scale", "scales", "framework_or_scale", "fw", "spec"}
OTHER_ITEM_NAMES = {"item_list", "item_names", "item_cols", "cols", "variables"}

POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def breaches(name: str, func) -> list[str]:
    """Every way ``func`` (public name ``name``) breaks the signature rule; empty when it keeps it."""
    params = list(inspect.signature(func).parameters.values())
    positional = [p for p in params if p.kind in POSITIONAL]
    found = []
    if name in TWO_DATA:
        want = list(TWO_DATA[name])
        if [p.name for p in positional[:2]] != want:
            found.append(f"{name}: the two data arguments must be positional {want}, "
                         f"not {[p.name for p in positional[:2]]}")
    elif name in READERS or name in OF_A_RESULT:
        want_first = READERS.get(name) or OF_A_RESULT[name]
        if not positional or positional[0].name != want_first:
            found.append(f"{name}: first positional argument must be {want_first!r}")
    elif name in NO_DATA:
        if any(p.name == "data" for p in params):
            found.append(f"{name}: listed as taking no data but has a 'data' parameter")
    else:
        if not positional or positional[0].name != "data":
            first = positional[0].name if positional else None
            found.append(f"{name}: the first positional argument must be 'data', not {first!r}")
    for i, p in enumerate(params):
        if p.name == "framework" and p.kind != inspect.Parameter.KEYWORD_ONLY:
            found.append(f"{name}: 'framework' must be keyword-only")
        if p.name == "items" and p.kind != inspect.Parameter.KEYWORD_ONLY:
            found.append(f"{name}: 'items' must be keyword-only")
        if p.name in OTHER_FRAMEWORK_NAMES:
            found.append(f"{name}: parameter {p.name!r}: the framework is passed as framework=")
        if p.name in OTHER_ITEM_NAMES:
            found.append(f"{name}: parameter {p.name!r}: the item list is passed as items=")
        if p.name in OLD_DATA_NAMES and p.kind in POSITIONAL:
            found.append(f"{name}: positional parameter {p.name!r}: the data argument is called 'data'")
        if p.name == "data" and p.kind in POSITIONAL and i != 0:
            found.append(f"{name}: 'data' must be the first argument")
    return found


def public_callables() -> dict[str, object]:
    out = {name: getattr(mk, name) for name in mk._API}
    for module in ("measurekit.data", "measurekit.design"):
        m = importlib.import_module(module)
        for name in m.__all__:
            obj = getattr(m, name)
            if inspect.isfunction(obj):
                out[name] = obj
    return out


CALLS = public_callables()


def test_the_list_is_not_empty():
    # the rule covers every name of the lazy API plus the stage packages' public functions
    assert set(mk._API) <= set(CALLS)
    assert {"read_and_validate", "check_framework"} <= set(CALLS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_public_call_keeps_the_rule(name):
    assert breaches(name, CALLS[name]) == []


def test_exceptions_are_real_and_documented():
    known = set(CALLS)
    for group in (TWO_DATA, READERS, OF_A_RESULT, NO_DATA):
        assert set(group) <= known, f"an exception names no public call: {set(group) - known}"
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    m = re.search(r"^## Signature rule[^\n]*\n(.*?)(?=^## )", doc, re.S | re.M)
    assert m, "docs/architecture.md has no '## Signature rule' section"
    section = m.group(1)
    for name in [*TWO_DATA, *READERS, *OF_A_RESULT, *NO_DATA]:
        assert f"`{name}" in section, f"exception {name} is not documented in the signature rule section"


# ---- the checker must be able to fail: broken functions, each with one breach


def _df_first(df, *, framework=None):
    return df


def _framework_positional(data, framework=None):
    return data


def _items_positional(data, items=None, *, framework=None):
    return data


def _framework_first(framework, data):
    return data


def _scale_keyword(data, *, scale=None):
    return data


def _data_second(model, data):
    return data


def _good(data, model=None, *, framework=None, items=None, n_boot=0):
    return data


@pytest.mark.parametrize("func, fragment", [
    (_df_first, "must be 'data', not 'df'"),
    (_framework_positional, "'framework' must be keyword-only"),
    (_items_positional, "'items' must be keyword-only"),
    (_framework_first, "'framework' must be keyword-only"),
    (_scale_keyword, "parameter 'scale'"),
    (_data_second, "'data' must be the first argument"),
])
def test_checker_catches_a_breach(func, fragment):
    found = breaches("some_call", func)
    assert any(fragment in f for f in found), found


def test_checker_catches_a_broken_exception():
    def agreement(parent_df, practitioner_df, framework=None):
        return parent_df
    found = breaches("agreement", agreement)
    assert any("two data arguments" in f for f in found)
    assert any("'framework' must be keyword-only" in f for f in found)


def test_checker_passes_a_good_function():
    assert breaches("some_call", _good) == []
