"""Tokens are random and stored hashed; keys compare exactly."""

from __future__ import annotations

from importer.security import hash_token, key_matches, new_token


def test_tokens_are_random_and_long() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) >= 40 for t in tokens)


def test_hash_is_stable_and_hides_the_token() -> None:
    token = new_token()
    assert hash_token(token) == hash_token(token)
    assert token not in hash_token(token)
    assert len(hash_token(token)) == 64


def test_key_matches() -> None:
    assert key_matches("k2", ["k1", "k2"])
    assert not key_matches("k3", ["k1", "k2"])
    assert not key_matches("k", ["k1"])
    assert not key_matches("anything", [])


def test_hashed_keys_in_the_configuration() -> None:
    stored = "sha256:" + hash_token("the-ris-key")
    assert key_matches("the-ris-key", ["old-key", stored])
    assert not key_matches(stored, [stored])  # the hash itself is not a key
    assert not key_matches("other", [stored])
