"""Progress bars for long loops (bootstrap, simulation): a text bar in terminals and notebooks.

In a notebook the bar is plain text on stderr, not an ipywidget: a widget bar that closes itself
when done leaves "Error displaying widget: model not found" in the saved notebook when it is
opened again; a text bar saves as ordinary output.

Interrupting (Ctrl-C, or the notebook's stop button) raises ``KeyboardInterrupt`` as usual;
callers that can return a partial answer catch it and say how many iterations were done.
"""
from __future__ import annotations

import os
import sys
from typing import Iterable, TypeVar

T = TypeVar("T")


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "", show: bool | None = None) -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar when ``show`` (default: an interactive session, not CI/tests)."""
    if show is None:
        show = _interactive()
    if not show:
        return iterable
    from tqdm.std import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr, dynamic_ncols=True)


def _interactive() -> bool:
    if os.environ.get("MEASUREKIT_NO_PROGRESS") or os.environ.get("CI") or "PYTEST_CURRENT_TEST" in os.environ:
        return False
    if "ipykernel" in sys.modules:
        return True
    return sys.stderr.isatty()
