"""The ``measurekit`` command line run in the test process: ``run_cli("check-spec", folder)`` is
``python -m measurekit check-spec folder`` without a new interpreter.

A ``python -m measurekit`` started by a test imports pandas, scipy and measurekit again, about a second of CPU
before the command does anything; the pytest worker has them imported already (issue 30: about 50 of the 130 CPU
seconds the suite's commands took). ``run_cli`` calls ``measurekit.cli.main`` instead and returns what
``subprocess.run(..., capture_output=True, text=True)`` would: ``returncode``, ``stdout``, ``stderr``.

What a new interpreter gave for free and this module does by hand:

- the exit code: ``main``'s return value; ``SystemExit`` (argparse's errors, ``--help``, ``--version``) becomes
  its code as the interpreter would make it (None -> 0, a text -> printed to stderr and 1); any other exception
  becomes 1 with the formatted traceback in ``stderr``, so ``"Traceback" not in r.stderr`` still catches a crash;
- the output: ``sys.stdout`` and ``sys.stderr`` are captured (``contextlib.redirect_stdout``/``redirect_stderr``
  into text buffers); Python warnings are written to the captured stderr, where the interpreter would print them,
  under the interpreter's default warning filters, not pytest's;
- the working folder (``cwd``) and the environment (``env``: a value sets a variable, ``None`` removes it) for
  the call only, restored afterwards whatever happened;
- nothing left behind for a later test: the working folder, every environment variable (not only those in
  ``env``: the command may set its own), the warning filters and ``warnings.showwarning``, the level, handlers,
  filters, ``propagate`` and ``disabled`` of every logger that existed before the call (the root and
  ``measurekit`` ones among them; the probabilistic linkage quietens splink's loggers), ``logging.disable``,
  numpy's floating-point error settings, the global random states of ``random`` and ``numpy.random`` (the
  probabilistic linkage's libraries draw from the first), and the SIGALRM handler and timer the timeout uses.
  A logger first made during the call (by a first import) keeps what the call gave it: after the first
  probabilistic link in a process, splink's two loggers stay at ERROR, as every later link sets them anyway.
- ``timeout`` (seconds): a SIGALRM timer in the main thread; the call is interrupted and
  ``subprocess.TimeoutExpired`` raised, as ``subprocess.run`` raises it (a blocking ``open`` of a named pipe is
  interrupted too). Outside the main thread there is no timer and ``timeout`` is ignored.

What it cannot do, and where the tests keep a new interpreter instead (say so at the call): survive a crash of
the interpreter itself (a C library's segfault kills the test process: libyaml on very deep nesting), see the
installed ``measurekit`` entry point, or see a fresh interpreter's imports and start-up (what ``import measurekit``
sets, which modules it pulls in). Output written by C code to file descriptors 1 and 2 is not captured.

Measured (5 Dec, issue 30; -n 0, MEASUREKIT_TEST_CPU, three runs each on a shared 2-core machine, load 2.5-6):
the 14 modules that moved to it took 144 CPU s before and 107 after (mean), 250 tests.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import subprocess
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass, field

__all__ = ["CliResult", "run_cli"]


@dataclass
class CliResult:
    """What ``subprocess.run(["python", "-m", "measurekit", *args], capture_output=True, text=True)`` returns:
    ``args`` (the command's arguments, as text), ``returncode``, ``stdout``, ``stderr``."""

    args: list[str]
    returncode: int
    stdout: str = ""
    stderr: str = field(default="", repr=False)

    def check_returncode(self) -> None:
        if self.returncode:
            raise subprocess.CalledProcessError(self.returncode, self.args, self.stdout, self.stderr)


class _Timeout(BaseException):
    """Raised by the SIGALRM handler; a BaseException so that no ``except Exception`` in the product swallows it."""


def run_cli(*args, cwd=None, env: dict | None = None, timeout: float | None = None) -> CliResult:
    """Run ``measurekit ARGS`` in this process (``measurekit.cli.main``); see the module notes.

    ``args`` are turned into text (paths and numbers may be given as they are). ``cwd``: the working folder of
    the call. ``env``: variables set (text value) or removed (``None``) for the call. ``timeout``: seconds, then
    ``subprocess.TimeoutExpired`` (main thread only)."""
    from measurekit.cli import main

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    saved = _State.take()
    code = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        for key, value in (env or {}).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = str(value)
        with warnings.catch_warnings(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            _interpreter_warning_filters()
            warnings.showwarning = _show_on_stderr
            try:
                with _alarm(timeout):
                    code = _exit_code(main(argv))
            except _Timeout:
                raise subprocess.TimeoutExpired(["measurekit", *argv], timeout, out.getvalue(), err.getvalue()) \
                    from None
            except SystemExit as exc:
                code = _exit_code(exc.code)
            except BaseException:  # noqa: BLE001 - the interpreter would print it and exit with 1
                err.write(traceback.format_exc())
                code = 1
    finally:
        saved.restore()
    return CliResult(argv, code, out.getvalue(), err.getvalue())


def _exit_code(value) -> int:
    """The exit status the interpreter makes of ``sys.exit(value)``: None -> 0, an int, else printed and 1."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        print(value, file=sys.stderr)
        return 1
    return value


def _show_on_stderr(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` as the interpreter has it: the formatted warning on (the captured) sys.stderr."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _interpreter_warning_filters() -> None:
    """The filters of a new interpreter started without -W or PYTHONWARNINGS (the warnings module's defaults),
    in place of pytest's (which record every DeprecationWarning). ``filterwarnings`` puts each at the front, so
    they are added last first."""
    warnings.resetwarnings()
    warnings.simplefilter("ignore", ResourceWarning)
    warnings.simplefilter("ignore", ImportWarning)
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")


@contextlib.contextmanager
def _alarm(seconds: float | None):
    """Raise ``_Timeout`` in the main thread after ``seconds`` (SIGALRM); the earlier handler and timer are put
    back afterwards (an outer timer keeps running, less the time this call took)."""
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def fire(signum, frame):
        raise _Timeout()

    import time

    before = signal.signal(signal.SIGALRM, fire)
    outer, _ = signal.getitimer(signal.ITIMER_REAL)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if before is None else before)   # None: set outside Python
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))


@dataclass
class _State:
    """The process state a command could change and a later test could see; ``take`` then ``restore``."""

    cwd: str
    environ: dict
    loggers: dict
    disable: int
    numpy_err: dict | None
    numpy_random: tuple | None
    python_random: tuple

    @classmethod
    def take(cls) -> "_State":
        loggers = {None: _logger_state(logging.getLogger())}
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger):
                loggers[name] = _logger_state(logger)
        np = sys.modules.get("numpy")
        import random

        return cls(os.getcwd(), dict(os.environ), loggers, logging.root.manager.disable,
                   np.geterr() if np is not None else None, np.random.get_state() if np is not None else None,
                   random.getstate())

    def restore(self) -> None:
        os.chdir(self.cwd)
        for key in set(os.environ) - set(self.environ):
            del os.environ[key]
        for key, value in self.environ.items():
            if os.environ.get(key) != value:
                os.environ[key] = value
        for name, (level, handlers, filters, propagate, disabled) in self.loggers.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.filters[:] = filters
            logger.propagate, logger.disabled = propagate, disabled
        logging.disable(self.disable)
        np = sys.modules.get("numpy")
        if np is not None and self.numpy_err is not None:
            np.seterr(**self.numpy_err)
            np.random.set_state(self.numpy_random)
        import random

        random.setstate(self.python_random)


def _logger_state(logger: logging.Logger) -> tuple:
    return logger.level, list(logger.handlers), list(logger.filters), logger.propagate, logger.disabled
