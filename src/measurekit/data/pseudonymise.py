"""Keyed pseudonymisation of child identifiers (HMAC-SHA256).

The key comes from the environment variable ``MEASUREKIT_KEY`` or a key file; it is never
written to any output. The same key gives the same pseudonym, so files pseudonymised
separately still link; without the key the original identifiers cannot be recovered.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pandas as pd

from measurekit.problems import InputError


def load_key(key_file: str | os.PathLike | None = None) -> bytes:
    if key_file is not None:
        key = Path(key_file).read_bytes().strip()
    else:
        key = os.environ.get("MEASUREKIT_KEY", "").encode()
    if len(key) < 16:
        raise InputError("Pseudonymisation needs a secret key of at least 16 characters: set MEASUREKIT_KEY "
                         "or pass a key file. Keep the key outside the project folder and never share it.")
    return key


def pseudonym(value: str, key: bytes, prefix: str = "P") -> str:
    """The keyed pseudonym of one identifier: ``P`` + the first 16 hex digits of HMAC-SHA256."""
    return prefix + hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def pseudonymise_column(series: pd.Series, key: bytes) -> pd.Series:
    return series.map(lambda v: v if v is None or v == "" or pd.isna(v) else pseudonym(v, key))
