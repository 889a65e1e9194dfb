"""Keyed pseudonymisation of child identifiers (HMAC-SHA256).

The key comes from the environment variable ``MEASUREKIT_KEY`` or a key file; it is never
written to any output. The same key gives the same pseudonym, so files pseudonymised
separately still link; without the key the original identifiers cannot be recovered.
"""
from __future__ import annotations

import hashlib
import hmac
import os

import pandas as pd

from measurekit.problems import InputError, Problem, ProblemReport

MAX_KEY_BYTES = 4096


def load_key(key_file: str | os.PathLike | None = None) -> bytes:
    """The secret key: the bytes of ``key_file`` (surrounding whitespace removed), else ``MEASUREKIT_KEY``.
    ``InputError`` (code ``key_file``) when the file cannot be read, or the key is shorter than 16 characters."""
    if key_file is not None:
        try:
            with open(key_file, "rb") as fh:        # bounded: a key file is short (never read /dev/zero whole)
                key = fh.read(MAX_KEY_BYTES).strip()
        except OSError as exc:
            raise InputError(ProblemReport([Problem(
                "key_file", f"The key file {str(key_file)!r} cannot be read ({exc.strerror or type(exc).__name__}). "
                "Give the path of the file that holds your pseudonymisation key, or set MEASUREKIT_KEY.",
                value=str(key_file))], title="Pseudonymisation key")) from None
    else:
        key = os.environ.get("MEASUREKIT_KEY", "").encode()
    if len(key) < 16:
        raise InputError(ProblemReport([Problem(
            "key_file", "Pseudonymisation needs a secret key of at least 16 characters: set MEASUREKIT_KEY or pass a "
            "key file. Keep the key outside the project folder and never share it.")], title="Pseudonymisation key"))
    return key


def pseudonym(value: str, key: bytes, prefix: str = "P") -> str:
    """The keyed pseudonym of one identifier: ``P`` + the first 16 hex digits of HMAC-SHA256."""
    return prefix + hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def pseudonymise_column(series: pd.Series, key: bytes) -> pd.Series:
    return series.map(lambda v: v if v is None or v == "" or pd.isna(v) else pseudonym(v, key))
