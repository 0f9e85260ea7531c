"""Refusals carry the facts the app words them with (``params``), never a value the user
sent."""

from __future__ import annotations

from typing import Any

import pytest

from api.errors import _describe, _fields
from api.security import RateLimited, TooManyStreams
from importer.access.models import UserSession
from importer.access.policy import check_roles
from importer.errors import Forbidden
from importer.messages import MessageCode


def test_invalid_input_names_the_fields_not_the_values() -> None:
    errors: list[dict[str, Any]] = [
        {"loc": ("body", "user", "name"), "msg": "bad", "input": "ROSSI^MARIA"},
        {"loc": ("body", "order_for_study", "1.2.840.10008.1", "[key]"), "msg": "bad"},
        {"loc": ("query", "limit"), "msg": "bad", "input": "9999"},
        {"loc": ("body", "studies", 0), "msg": "bad"},
        {"loc": ("body", "user", "name"), "msg": "again"},
        {"loc": ("header", "Upload-Offset"), "msg": "bad"},
    ]
    assert _fields(errors) == {
        "fields": "user.name, order_for_study.*.*, query.limit, studies.0, header.Upload-Offset"
    }
    assert _fields([]) == {}
    # the English message locates them the same way: a study UID used as a key is not quoted
    message = _describe(errors)
    assert "1.2.840.10008.1" not in message
    assert "order_for_study.*.*: bad" in message


def test_the_fields_named_are_the_first_few() -> None:
    errors = [{"loc": ("body", f"f{i}")} for i in range(9)]
    assert _fields(errors) == {"fields": "f0, f1, f2, f3, f4"}


def test_rate_limits_give_their_limit_and_when_to_try_again() -> None:
    error = RateLimited(limit=30, retry_after_s=12)
    assert (error.code, error.status_code) == (MessageCode.rate_limited, 429)
    assert error.params == {"limit": 30, "retry_after_s": 12}
    assert error.headers == {"Retry-After": "12"}
    streams = TooManyStreams("Too many.", params={"limit": 4})
    assert streams.params == {"limit": 4}


@pytest.mark.parametrize(("wanted", "named"), [(["auditor"], "auditor"), (["a", "b"], "a, b")])
def test_a_missing_role_is_named(wanted: list[str], named: str) -> None:
    with pytest.raises(Forbidden) as refused:
        check_roles(UserSession(roles=["clinician"]), wanted)
    assert (refused.value.code, refused.value.params) == (
        MessageCode.role_required,
        {"role": named},
    )
