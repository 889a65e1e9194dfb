"""Safe file output: every file or folder appears complete or not at all, only where it was asked for,
and holds no text a spreadsheet would run as a formula.

Inputs are never opened for writing anywhere in measurekit; outputs go through these helpers.

- ``root=``: the writers take the output folder as ``root`` and refuse (``InputError`` code
  ``unsafe_path``) a path that resolves outside it, e.g. a name built from an id such as ``../../x``.
- CSV/formula injection (OWASP): text cells beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage
  return are neutralised in every CSV (a leading single quote) and every workbook (Excel's own quote
  prefix, the cell stored as text) that ``write_csv`` and ``save_workbook`` write. Numbers, and text that
  is just a number such as ``"-1.5"``, are left as they are.
- ``atomic_directory`` takes a lock against two runs into one folder, removes partial folders left by
  killed runs and turns unwritable folders into an ``InputError`` (code ``unwritable_output``).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Iterator

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")


def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (used to prove inputs are unchanged)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree_sha256(root: str | os.PathLike, skip_dirs: tuple[str, ...] = ()) -> str:
    """Hex SHA-256 of every regular file under ``root`` (folders named in ``skip_dirs`` left out): each file's path
    relative to ``root`` and its bytes, in sorted order, so a renamed, added, removed or edited file changes it.
    Raises ``OSError`` if a file cannot be read."""
    root = Path(root)
    h = hashlib.sha256()
    files: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in skip_dirs)
        files.extend(Path(folder) / n for n in names)
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix().encode()
        data = path.read_bytes()
        h.update(len(rel).to_bytes(8, "little") + rel + len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def _mode_for(path: Path) -> int:
    """Permissions for a file about to replace ``path``: those of the file it replaces, else what the
    umask gives a new file (mkstemp's private 0600 would lock colleagues on a shared drive out)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# ----------------------------------------------------------------------------------------- paths
def _problem(code: str, message: str, **where):
    from measurekit.problems import InputError, Problem, ProblemReport

    return InputError(ProblemReport([Problem(code, message, **where)], title="Output"))


def inside(root: str | os.PathLike, path: str | os.PathLike) -> Path:
    """``path`` resolved (symlinks and ``..`` followed); ``InputError`` (``unsafe_path``) if the result is not
    inside ``root``, e.g. because a name built from an id or title held ``..`` or a slash."""
    root_r = Path(root).resolve()
    resolved = Path(path).resolve()
    if resolved != root_r and root_r not in resolved.parents:
        raise _problem("unsafe_path", f"Refused to write {str(path)!r}: it would land outside the output folder "
                       f"{str(root_r)!r}. A name used for a file (an id, a framework name) must not contain "
                       "'..', slashes or a drive.", value=str(path))
    return resolved


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, root: str | os.PathLike | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.
    With ``root``, refuse a ``path`` outside that folder (see ``inside``).

    >>> with atomic_path("out.csv") as tmp:
    ...     df.to_csv(tmp, index=False)
    """
    path = inside(root, path) if root is not None else Path(path)
    _mkdir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _unwritable(path.parent, exc) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, _mode_for(path))
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8", *,
               root: str | os.PathLike | None = None) -> Path:
    """Write text atomically (newline='\\n' on every platform)."""
    with atomic_path(path, root) as tmp:
        with open(tmp, "w", encoding=encoding, newline="\n") as fh:
            fh.write(text)
    return Path(path)


def write_bytes(path: str | os.PathLike, data: bytes, *, root: str | os.PathLike | None = None) -> Path:
    with atomic_path(path, root) as tmp:
        tmp.write_bytes(data)
    return Path(path)


# ------------------------------------------------------------------------------ formula injection
def is_formula_like(value) -> bool:
    """True for text a spreadsheet could read as a formula: it starts with ``= + - @``, tab or carriage
    return and is not simply a number (``"-1.5"``, ``"+44"`` stay numbers)."""
    return (isinstance(value, str) and value[:1] in FORMULA_START and value not in ("-", "+")
            and not _NUMBER.fullmatch(value))


def neutralise(value):
    """OWASP CSV-injection defence for one cell: a leading single quote before formula-like text."""
    return "'" + value if is_formula_like(value) else value


def _csv_cell(value):
    """``neutralise``, and carriage returns made line feeds: the CSV writer quotes a field holding ``\\n`` but not one
    holding a lone ``\\r``, which a spreadsheet then reads as the start of a new row (whose first cell could be a
    formula)."""
    value = neutralise(value)
    if isinstance(value, str) and "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def _needs(value) -> bool:
    return is_formula_like(value) or (isinstance(value, str) and "\r" in value)


def neutralise_frame(frame):
    """A copy of ``frame`` ready for CSV: every formula-like text cell and column name neutralised (``neutralise``)
    and carriage returns inside text made line feeds; numeric and date columns are untouched (the same object is
    returned when nothing needed changing)."""
    import pandas as pd

    changed = {}
    for i, (_name, col) in enumerate(frame.items()):
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
            continue
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        mask = col.map(_needs).astype(bool)
        if mask.any():
            changed[i] = col.where(~mask, col.map(_csv_cell))
    renamed = [_csv_cell(c) for c in frame.columns]
    if not changed and renamed == list(frame.columns):
        return frame
    out = frame.copy()
    for i, col in changed.items():
        out.isetitem(i, col)
    out.columns = renamed
    return out


def write_csv(path: str | os.PathLike, frame, *, root: str | os.PathLike | None = None, **kwargs) -> Path:
    """Write a DataFrame as UTF-8 CSV with '\\n' line ends, atomically, formula-like text neutralised
    (see ``neutralise_frame``). Index off by default."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    frame = neutralise_frame(frame)
    if kwargs["index"]:
        frame = frame.set_axis(frame.index.map(_csv_cell), axis=0)
    with atomic_path(path, root) as tmp:
        frame.to_csv(tmp, **kwargs)
    return Path(path)


def protect_workbook(wb) -> int:
    """Store every formula-like text cell of an openpyxl workbook as text with Excel's quote prefix (what
    Excel does when a user types a leading apostrophe): the text is kept, nothing is evaluated. Returns the
    number of cells changed."""
    n = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if is_formula_like(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    n += 1
    return n


def save_workbook(wb, path: str | os.PathLike, *, root: str | os.PathLike | None = None) -> Path:
    """Save an openpyxl workbook atomically after ``protect_workbook``."""
    protect_workbook(wb)
    with atomic_path(path, root) as tmp:
        wb.save(tmp)
    return Path(path)


# ---------------------------------------------------------------------------------- run folders
def _unwritable(folder: Path, exc: OSError):
    return _problem("unwritable_output", f"Cannot write in {str(folder)!r} ({exc.strerror or exc}). Choose an "
                    "output folder you may write to, or ask for write access.", value=str(folder))


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise _problem("unwritable_output", f"Cannot use {str(folder)!r} as a folder: a file of that name "
                       "exists. Choose another output folder.", value=str(folder)) from None
    except OSError as exc:
        raise _unwritable(folder, exc) from None


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``.<name>.lock`` beside ``path``, held for the block (released by the system if the
    process is killed) and removed afterwards. A lock file removed by its owner between our open and our lock
    is detected (its inode changed) and the lock taken again."""
    lock = path.with_name(f".{path.name}.lock")
    try:
        import fcntl
    except ImportError:                # Windows: no advisory locks; runs are not protected from each other
        yield
        return
    while True:
        try:
            fh = open(lock, "a+")
        except OSError as exc:
            raise _unwritable(path.parent, exc) from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise _problem("output_locked", f"Another measurekit run is writing to {str(path)!r} (lock file "
                           f"{lock.name}). Wait for it to finish, or choose another output folder.",
                           value=str(path)) from None
        try:
            same = os.fstat(fh.fileno()).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        fh.close()
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()
        fh.close()


def _remove_stale(path: Path) -> None:
    """Partial and old folders of ``path`` left by runs that were killed (only called under the lock)."""
    for stale in list(path.parent.glob(f".{glob_escape(path.name)}.*.partial")) + \
            list(path.parent.glob(f".{glob_escape(path.name)}.old-*")):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)


def glob_escape(name: str) -> str:
    return re.sub(r"([\[\]*?])", r"[\1]", name)


def _refuse_foreign(path: Path) -> None:
    """``output_not_ours`` for an existing folder that is not empty and that measurekit did not make (no marker
    file): replacing it would delete someone's files, for example a data folder given as the output. The
    commands check more before this (``paths.check_output``); this is the last line for library callers."""
    from measurekit.core.paths import made_by

    if not path.is_dir() or made_by(path) is not None:
        return
    try:
        entries = sum(1 for _ in zip(range(1000), path.iterdir()))
    except OSError:
        return
    if entries:
        raise _problem("output_not_ours", f"Refused: the output folder {str(path)!r} already exists, holds files "
                       "and was not made by measurekit; the output would replace all of it. Nothing was written. "
                       "Choose a new or empty folder, or move that folder's contents away yourself first.",
                       value=str(path))


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, command: str = "output") -> Iterator[Path]:
    """Build a whole folder under a temporary name; swap it into place only when complete.

    The finished folder holds a marker file (``paths.MARKER``, naming ``command``) so a later run may replace it
    while a folder measurekit did not make is refused (``paths.check_output``).

    If the block raises, the temporary folder is removed and any earlier ``path`` is left
    exactly as it was. On success an earlier ``path`` is replaced. A lock file (``.<name>.lock``
    beside the folder) stops a second run into the same folder (``InputError`` code ``output_locked``);
    partial folders left by killed runs are removed; an output parent that cannot be written gives
    ``InputError`` code ``unwritable_output``. An existing folder that is not empty and holds no marker (one
    measurekit did not make) is refused before anything is written (code ``output_not_ours``).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise _problem("unwritable_output", f"{str(path)!r} is a file, not a folder. Choose another output "
                       "folder.", value=str(path))
    _refuse_foreign(path)
    _mkdir(path.parent)
    with _lock(path):
        _remove_stale(path)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
        except OSError as exc:
            raise _unwritable(path.parent, exc) from None
        try:
            yield tmp
            from measurekit.core.paths import MARKER, marker_text

            (tmp / MARKER).write_text(marker_text(command), encoding="utf-8")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        old = None
        try:
            if path.exists():
                old = path.with_name(f".{path.name}.old-{os.getpid()}")
                if old.exists():
                    shutil.rmtree(old)
                os.replace(path, old)
            os.replace(tmp, path)
        except OSError as exc:
            if old is not None and old.exists() and not path.exists():
                os.replace(old, path)
            shutil.rmtree(tmp, ignore_errors=True)
            raise _unwritable(path.parent, exc) from None
        except BaseException:
            if old is not None and old.exists() and not path.exists():
                os.replace(old, path)
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
