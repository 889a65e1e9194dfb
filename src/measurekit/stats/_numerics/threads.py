"""Run small-matrix numerical work with one BLAS thread."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

_state = threading.local()
# the threadpoolctl controller, made once (finding the BLAS libraries costs ~3 ms)
_controller: list[ThreadpoolController] = []


def _get_controller():
    if not _controller:
        import scipy.linalg  # noqa: F401  - load scipy's own OpenBLAS first, so the controller sees it too
        from threadpoolctl import ThreadpoolController

        _controller.append(ThreadpoolController())
    return _controller[0]


def single_thread(func):
    """Run with one BLAS thread: these matrices are small (at most a few hundred rows), and on a busy
    machine OpenBLAS threads fighting over cores made an SVD of 126 x 78 fifty times slower (and a
    16 x 16 minres ten times slower). The library scan is done once per process, and a call made from
    inside another single-threaded call does not limit again."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if getattr(_state, "depth", 0):
            return func(*args, **kwargs)
        try:
            controller = _get_controller()
        except ImportError:                                   # pragma: no cover - a runtime dependency
            return func(*args, **kwargs)
        _state.depth = 1
        try:
            with controller.limit(limits=1, user_api="blas"):
                return func(*args, **kwargs)
        finally:
            _state.depth = 0
    return wrapper
