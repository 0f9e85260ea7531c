"""Tokens are random and stored hashed; keys compare exactly."""

from __future__ import annotations

import httpx
import pytest

from importer.access.policy import CallbackRefused, check_callback_url
from importer.ris import SIGNATURE_HEADER, RisError, post_callback
from importer.security import (
    DEFAULT_RIS_CLIENT,
    RisKey,
    hash_token,
    identify_ris,
    new_token,
    parse_ris_key,
)


def test_tokens_are_random_and_long() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) >= 40 for t in tokens)


def test_hash_is_stable_and_hides_the_token() -> None:
    token = new_token()
    assert hash_token(token) == hash_token(token)
    assert token not in hash_token(token)
    assert len(hash_token(token)) == 64


# --- RIS clients: named keys --------------------------------------------------------------------

KEY_B_HASH = "sha256:" + hash_token("key-b")


@pytest.mark.parametrize(
    ("given", "configured", "client"),
    [
        ("the-ris-key", ["the-ris-key"], "default"),  # a key without a name: the default client
        ("the-ris-key", ["sha256:" + hash_token("the-ris-key")], "default"),
        ("new-key", ["old-key", "sha256:" + hash_token("new-key")], "default"),  # rotation
        ("key-a", ["risa=key-a", "risb=" + KEY_B_HASH], "risa"),
        ("key-b", ["risa=key-a", "risb=" + KEY_B_HASH], "risb"),
        (
            "key-b",
            ["risa=key-a", "risb=" + KEY_B_HASH.upper().replace("SHA256:", "sha256:")],
            "risb",
        ),
        ("key-b", [" risb = key-b "], "risb"),  # spaces around the parts are not part of them
        ("a=b", ["risa=a=b"], "risa"),  # a named key may hold "=" itself
        ("padded==", ["padded=="], "default"),  # base64 padding: one key, not a name
        ("x=", ["x="], "default"),
        ("key-a", ["default=key-a"], "default"),  # the default client may be named too
    ],
)
def test_a_key_names_its_ris_client(given: str, configured: list[str], client: str) -> None:
    assert identify_ris(given, configured) == client


@pytest.mark.parametrize(
    ("given", "configured"),
    [
        ("risa=key-a", ["risa=key-a"]),  # the entry is not the key
        ("risa", ["risa=key-a"]),
        ("key-c", ["risa=key-a", "risb=" + KEY_B_HASH]),
        (KEY_B_HASH, ["risb=" + KEY_B_HASH]),  # the hash itself is not a key
        ("anything", []),
        ("", ["=", "risa="]),
        ("ключ", ["sha256:не-hex"]),  # no error on odd characters: just no match
    ],
)
def test_a_key_not_configured_is_no_client(given: str, configured: list[str]) -> None:
    assert identify_ris(given, configured) is None


def test_a_named_key_entry_parses_to_client_and_hash() -> None:
    assert parse_ris_key("risa=key-a") == RisKey(client="risa", key_hash=hash_token("key-a"))
    assert parse_ris_key("key-a") == RisKey(client=DEFAULT_RIS_CLIENT, key_hash=hash_token("key-a"))


# --- RIS callbacks: where the worker may post ---------------------------------------------------

ALLOWED = ["ris.example.org", "RIS2.example.org", "127.0.0.1", "hooks.example.org:8443", "[::1]"]


@pytest.mark.parametrize(
    "url",
    [
        "https://ris.example.org/hooks/media-import",
        "https://RIS.Example.Org/hooks",  # hosts compare case-insensitively
        "https://ris2.example.org/hooks",
        "https://ris.example.org:9443/hooks",  # a bare host allows any port
        "https://ris.example.org./hooks",  # the root dot is no other host
        "https://hooks.example.org:8443/hooks",
        "https://127.0.0.1:5000/hook",
        "https://[::1]:5000/hook",
    ],
)
def test_an_allowed_callback_passes(url: str) -> None:
    check_callback_url(url, signed=True, hosts=ALLOWED, allow_http=False)


@pytest.mark.parametrize(
    ("url", "signed", "allow_http", "code"),
    [
        ("https://ris.example.org/hooks", False, False, "callback_unsigned"),
        ("http://ris.example.org/hooks", True, False, "callback_insecure"),
        ("https://evil.example.org/hooks", True, False, "callback_host_not_allowed"),
        ("https://ris.example.org.evil.example/hooks", True, False, "callback_host_not_allowed"),
        ("https://sub.ris.example.org/hooks", True, False, "callback_host_not_allowed"),
        ("https://example.org/hooks", True, False, "callback_host_not_allowed"),
        ("https://hooks.example.org/hooks", True, False, "callback_host_not_allowed"),  # 443
        ("https://hooks.example.org:9443/hooks", True, False, "callback_host_not_allowed"),
        ("https://user:pw@ris.example.org/hooks", True, False, "callback_userinfo"),
        ("https://ris.example.org@evil.example.org/hooks", True, False, "callback_userinfo"),
        ("https://ris.example.org:99999/hooks", True, False, "callback_invalid"),
        ("ftp://ris.example.org/hooks", True, True, "callback_invalid"),
    ],
)
def test_a_callback_not_allowed_is_refused_with_its_code(
    url: str, signed: bool, allow_http: bool, code: str
) -> None:
    with pytest.raises(CallbackRefused) as refused:
        check_callback_url(url, signed=signed, hosts=ALLOWED, allow_http=allow_http)
    assert refused.value.code == code
    assert refused.value.status_code == 422
    assert "example" not in refused.value.message  # the message never repeats the address


def test_http_callbacks_pass_only_when_allowed() -> None:
    check_callback_url("http://127.0.0.1:8000/hook", signed=True, hosts=ALLOWED, allow_http=True)


def test_no_host_allowed_means_no_callback() -> None:
    with pytest.raises(CallbackRefused) as refused:
        check_callback_url("https://ris.example.org/", signed=True, hosts=[], allow_http=False)
    assert refused.value.code == "callback_host_not_allowed"


async def test_a_callback_is_never_posted_unsigned() -> None:
    posted: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        with pytest.raises(RisError) as refused:
            await post_callback(http, "https://ris.example.org/hooks", {"event": "x"}, secret="")
        assert refused.value.code == "callback_unsigned"
        assert refused.value.retryable is False
        assert posted == []
        await post_callback(http, "https://ris.example.org/hooks", {"event": "x"}, secret="s")
    assert len(posted) == 1
    assert posted[0].headers[SIGNATURE_HEADER].startswith("sha256=")
