"""Progress bars for long loops (bootstrap, simulation): a text bar in terminals and notebooks.

In a notebook the bar is plain text on stderr, not an ipywidget: a widget bar that closes itself
when done leaves "Error displaying widget: model not found" in the saved notebook when it is
opened again; a text bar saves as ordinary output.

A bar never leaves an empty box behind in a notebook: it appears only for a loop that runs longer
than ``NOTEBOOK_DELAY`` seconds (a quick loop writes nothing at all), and when it finishes its last
line stays (``100% ... n/n``) instead of being erased, which in a notebook would leave a blank
stderr box. It redraws at most once a second there, so a saved notebook keeps a few lines, not
thousands. In a terminal the finished bar is erased as usual.

Interrupting (Ctrl-C, or the notebook's stop button) raises ``KeyboardInterrupt`` as usual;
callers that can return a partial answer catch it and say how many iterations were done.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")
NOTEBOOK_DELAY = 1.0        # seconds a loop runs in a notebook before its bar appears


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "", show: bool | None = None) -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar when ``show`` (default: an interactive session, not CI/tests)."""
    if show is None:
        show = _interactive()
    if not show:
        return iterable
    from tqdm.std import tqdm

    if _in_notebook():
        return tqdm(iterable, total=total, desc=desc, leave=True, file=_Flushed(sys.stderr), delay=NOTEBOOK_DELAY,
                    mininterval=1.0, ncols=90)
    return tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr, dynamic_ncols=True)


class _Flushed:
    """A stream that flushes every write, so the bar's closing newline reaches the notebook before any later
    printed output (otherwise it arrives after it, as a box of its own with nothing in it)."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        n = self.stream.write(text)
        self.stream.flush()
        return n

    def flush(self) -> None:
        self.stream.flush()


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


def _interactive() -> bool:
    if os.environ.get("MEASUREKIT_NO_PROGRESS") or os.environ.get("CI") or "PYTEST_CURRENT_TEST" in os.environ:
        return False
    if _in_notebook():
        return True
    return sys.stderr.isatty()
