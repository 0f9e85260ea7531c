"""Tokens: random, shown once, stored as SHA-256 hashes; constant-time key checks."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


HASHED_PREFIX = "sha256:"


DEFAULT_RIS_CLIENT = "default"
"""The client of a key configured without a name (``key`` or ``sha256:<hex>``): rotating the
key of a single RIS keeps its orders."""

_CLIENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


@dataclass(frozen=True, slots=True)
class RisKey:
    """One entry of ``IMPORTER_RIS_API_KEYS``: the client it belongs to and the SHA-256 (hex)
    of its key."""

    client: str
    key_hash: str


def split_ris_key(entry: str) -> tuple[str, str]:
    """``name=key`` → ``(name, key)``; ``key`` → ``(DEFAULT_RIS_CLIENT, key)``. A name is 1–32
    letters, digits, ``_``, ``.`` or ``-``; an entry whose text before the first ``=`` is no
    such name, or with nothing after it, is a key of its own (so a base64 key padded with
    ``=`` stays one key)."""
    entry = entry.strip()
    name, sep, rest = entry.partition("=")
    name, rest = name.strip(), rest.strip()
    if sep and rest and not rest.startswith("=") and _CLIENT_NAME.fullmatch(name):
        return name, rest
    return DEFAULT_RIS_CLIENT, entry


def parse_ris_key(entry: str) -> RisKey:
    """An entry of ``IMPORTER_RIS_API_KEYS`` (:func:`split_ris_key`), the key given as itself
    or as ``sha256:<hex>`` of it."""
    client, key = split_ris_key(entry)
    if key.startswith(HASHED_PREFIX):
        return RisKey(client=client, key_hash=key[len(HASHED_PREFIX) :].strip().lower())
    return RisKey(client=client, key_hash=hash_token(key))


def identify_ris(given: str, entries: Sequence[str]) -> str | None:
    """The client whose configured key is ``given`` (None: no key matches). Every entry is
    compared, in constant time; the first match names the client."""
    given_hash = hash_token(given)
    found: str | None = None
    for entry in entries:
        key = parse_ris_key(entry)
        if hmac.compare_digest(given_hash.encode(), key.key_hash.encode()) and found is None:
            found = key.client
    return found
