"""Tokens: random, shown once, stored as SHA-256 hashes; constant-time key checks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


HASHED_PREFIX = "sha256:"


def key_matches(given: str, accepted: Iterable[str]) -> bool:
    """True when ``given`` is one of ``accepted``: a key written as ``sha256:<hex>`` is
    compared by its hash (so the configuration need not hold the key itself), any other as
    the key. Every entry is compared, in constant time."""
    given_hash = hash_token(given)
    found = False
    for key in accepted:
        expected = key[len(HASHED_PREFIX) :].lower() if key.startswith(HASHED_PREFIX) else None
        found |= hmac.compare_digest(given_hash, expected or hash_token(key))
    return found
