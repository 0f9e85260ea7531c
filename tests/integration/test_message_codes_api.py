"""Every refusal the app shows is a stable code with its params: ``{"error": {"code", "params",
"message"}}``, ``code`` a :class:`MessageCode`, ``params`` the facts the app words it with
(limits, counts, statuses, roles), never a value the user sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from importer.messages import MessageCode
from importer.settings import Settings
from tests.support.app import RIS_KEY, Journey, running_api, sql

RIS = {"Authorization": f"Bearer {RIS_KEY}"}


def refusal(response: httpx.Response, status: int, code: MessageCode) -> dict[str, Any]:
    """The error of ``response``, checked to be ``code`` (a MessageCode) with params; its
    params returned."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "params", "message"}
    assert MessageCode(error["code"]) is code
    assert isinstance(error["params"], dict)
    assert all(isinstance(v, str | int) for v in error["params"].values())
    assert isinstance(error["message"], str)
    assert error["message"]
    params: dict[str, Any] = error["params"]
    return params


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[Journey]:
    """The API with small limits: one launch a minute, two open uploads, 1 kB uploads."""
    limited = settings.model_copy(
        update={
            "rate_launches_per_min": 1,
            "max_open_uploads_per_session": 2,
            "max_upload_bytes": 1024,
        }
    )
    async with (
        running_api(limited) as url,
        httpx.AsyncClient(base_url=url, timeout=60) as http,
    ):
        yield Journey(http, limited)


async def test_tokens_and_missing_imports(journey: Journey) -> None:
    wrong = await journey.client.get("/api/v1/imports", headers={"Authorization": "Bearer x"})
    assert refusal(wrong, 401, MessageCode.token_invalid) == {}
    missing = await journey.client.get("/api/v1/session")
    refusal(missing, 401, MessageCode.token_missing)
    ris = await journey.client.post("/api/v1/launches", json={}, headers={"Authorization": "B"})
    refusal(ris, 401, MessageCode.api_key_missing)
    session = await journey.start()
    unknown = await journey.client.get("/api/v1/imports/no-such-id", headers=session.headers)
    refusal(unknown, 404, MessageCode.import_not_found)
    no_log = await journey.client.get("/api/v1/imports/no-such-id/log", headers=session.headers)
    refusal(no_log, 404, MessageCode.import_not_found)


async def test_invalid_input_names_its_fields_never_their_values(journey: Journey) -> None:
    session = await journey.start()
    bad = await journey.client.post(
        "/api/v1/imports",
        json={"size": -1, "zone": "ROSSI^MARIO"},
        headers=session.headers,
    )
    params = refusal(bad, 422, MessageCode.invalid_input)
    assert set(params["fields"].split(", ")) == {"size", "zone"}
    assert "ROSSI" not in str(params)
    confirm = await journey.client.post(
        "/api/v1/imports/x/confirm",
        json={"studies": ["1.2.3"], "seen_patients": {"1.2.3": {"name": 7}}},
        headers=session.headers,
    )
    params = refusal(confirm, 422, MessageCode.invalid_input)
    assert "1.2.3" not in params["fields"]  # a dict's key (a study UID) is not a field's name
    broken = await journey.client.post(
        "/api/v1/launches",
        content=b"{not json",
        headers={**RIS, "Content-Type": "application/json"},
    )
    refusal(broken, 422, MessageCode.invalid_input)


async def test_conflicts_say_the_status_they_met(journey: Journey, settings: Settings) -> None:
    session = await journey.start()
    created = await journey.create_import(session, 10)
    await sql(settings, "UPDATE imports SET status = 'completed' WHERE id = :id", id=created["id"])
    cancel = await journey.client.post(
        f"/api/v1/imports/{created['id']}/cancel", headers=session.headers
    )
    assert refusal(cancel, 409, MessageCode.not_cancellable) == {"status": "completed"}
    retry = await journey.client.post(
        f"/api/v1/imports/{created['id']}/retry", headers=session.headers
    )
    assert refusal(retry, 409, MessageCode.not_retryable) == {"status": "completed"}
    confirm = await journey.confirm(session, created["id"], ["1.2.3"], acknowledge=False)
    assert refusal(confirm, 409, MessageCode.not_awaiting_confirmation) == {"status": "completed"}
    upload = await journey.patch(session, created["upload_url"], 0, b"0123456789")
    assert refusal(upload, 409, MessageCode.upload_closed) == {"status": "completed"}


async def test_an_upload_at_the_wrong_offset_says_where_it_stands(journey: Journey) -> None:
    session = await journey.start()
    created = await journey.create_import(session, 10)
    assert (await journey.patch(session, created["upload_url"], 0, b"0123")).status_code == 204
    wrong = await journey.patch(session, created["upload_url"], 2, b"456789")
    assert refusal(wrong, 409, MessageCode.offset_mismatch) == {"offset": 2, "received": 4}
    too_long = await journey.patch(session, created["upload_url"], 4, b"x" * 7)
    assert refusal(too_long, 413, MessageCode.upload_too_large) == {"max_bytes": 10}


async def test_roles_and_unknown_routes(journey: Journey) -> None:
    session = await journey.start()  # a clinician
    audit = await journey.client.get("/api/v1/audit", headers=session.headers)
    assert refusal(audit, 403, MessageCode.role_required) == {"role": "auditor"}
    nowhere = await journey.client.get("/api/v1/nowhere", headers=session.headers)
    refusal(nowhere, 404, MessageCode.not_found)
    wrong_method = await journey.client.put("/api/v1/imports", headers=session.headers)
    refusal(wrong_method, 405, MessageCode.method_not_allowed)


async def test_limits_are_given_with_the_refusal(strict: Journey) -> None:
    session = await strict.start()
    for _ in range(3):  # a minute that turns between two launches counts afresh
        again = await strict.client.post(
            "/api/v1/launches", json={"user": {"id": "u2", "name": "Two"}}, headers=RIS
        )
        if again.status_code != 201:
            break
    params = refusal(again, 429, MessageCode.rate_limited)
    assert params["limit"] == 1
    assert 1 <= params["retry_after_s"] <= 60
    assert again.headers["Retry-After"] == str(params["retry_after_s"])

    large = await strict.client.post(
        "/api/v1/imports", json={"size": 1025}, headers=session.headers
    )
    assert refusal(large, 422, MessageCode.upload_too_large) == {"max_bytes": 1024}
    for _ in range(2):
        await strict.create_import(session, 10)
    third = await strict.client.post("/api/v1/imports", json={"size": 10}, headers=session.headers)
    assert refusal(third, 409, MessageCode.too_many_uploads) == {"limit": 2}
