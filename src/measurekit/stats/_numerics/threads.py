"""Run small-matrix numerical work with one BLAS thread."""
from __future__ import annotations


def single_thread(func):
    """Run with one BLAS thread: these matrices are small (at most a few hundred rows), and on a busy
    machine OpenBLAS threads fighting over cores made an SVD of 126 x 78 fifty times slower."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:                                   # pragma: no cover - scikit-learn brings it
            return func(*args, **kwargs)
        with threadpool_limits(limits=1, user_api="blas"):
            return func(*args, **kwargs)
    return wrapper
