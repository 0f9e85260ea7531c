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


def key_matches(given: str, accepted: Iterable[str]) -> bool:
    """True when ``given`` equals one of ``accepted``; compares every key in constant time."""
    given_hash = hash_token(given)
    found = False
    for key in accepted:
        found |= hmac.compare_digest(given_hash, hash_token(key))
    return found
