"""Which framework a command or library call uses: decided here, in one place, always explicitly.

A framework is named by its folder, or by the name of a framework shipped with measurekit (the folder name under
``indicators/`` of the repository; ``measurekit check-spec --help`` lists them). The shipped demo framework is used
without being named only with the shipped demo data (``measurekit run`` with no ``--data``): a council's data folder
without a framework is an error that names the option, never a silent check against another council's items.
"""
from __future__ import annotations

from pathlib import Path

from measurekit.problems import InputError, Problem, ProblemReport


def _refuse(code: str, message: str, value: str = "") -> InputError:
    return InputError(ProblemReport([Problem(code, message, column="framework", value=value)]))


def framework_path(framework=None, *, data=None, option: str = "--framework") -> Path:
    """The folder of the framework to use.

    ``framework``: a folder, or the name of a shipped framework; None only with the shipped demo data (``data``
    None or the shipped cohort's folder), which then uses the framework it was made for. ``option`` is how the
    caller's users name it in error messages (``--framework`` on the command line, ``framework=`` in Python).
    """
    from measurekit.core import paths

    shipped = paths.bundled_frameworks()
    if framework is None:
        if data is None or _same_folder(data, paths.bundled_data()):
            return paths.demo_framework()
        raise _refuse("framework_required",
                      f"Say which framework the data in {data} were collected with: {option} FOLDER (the folder with "
                      f"framework.yaml and items.yaml). Without it the voice columns would be checked against another "
                      f"council's items. Frameworks shipped with measurekit: {', '.join(shipped) or 'none'}.")
    path = Path(framework)
    if path.is_dir():
        return path
    if str(framework) in shipped:
        return shipped[str(framework)]
    raise _refuse("framework_not_found",
                  f"{option} {framework}: no such folder, and no framework of that name is shipped with measurekit "
                  f"({', '.join(shipped) or 'none'}).", value=str(framework))


def choose_framework(framework=None, *, data=None, option: str = "framework="):
    """The loaded :class:`~measurekit.design.models.Framework` to use (see :func:`framework_path`).

    A Framework passed in is returned as it is."""
    from measurekit.design.loading import load_framework
    from measurekit.design.models import Framework

    if isinstance(framework, Framework):
        return framework
    return load_framework(framework_path(framework, data=data, option=option))


def _same_folder(a, b) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False
