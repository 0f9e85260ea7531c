"""Ending a session (``DELETE /session``): its token is refused everywhere at once, as an expired
one, and the end is audited."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from importer.audit.models import AuditEvent
from importer.db import make_engine
from importer.security import hash_token
from importer.settings import Settings
from tests.support.app import Journey, Launched, sql


async def closed_events(settings: Settings) -> list[AuditEvent]:
    engine = make_engine(settings.effective_database_url)
    try:
        async with AsyncSession(engine) as db:
            found = await db.scalars(
                select(AuditEvent).where(AuditEvent.action == "session.closed")
            )
            return list(found.all())
    finally:
        await engine.dispose()


async def session_id_of(settings: Settings, session: Launched) -> str:
    engine = make_engine(settings.effective_database_url)
    try:
        async with engine.connect() as conn:
            row = await conn.execute(
                text("SELECT id FROM sessions WHERE token_hash = :h"),
                {"h": hash_token(session.session_token)},
            )
            return str(row.scalar_one())
    finally:
        await engine.dispose()


async def refusals(client: httpx.AsyncClient, session: Launched, import_id: str) -> set[str]:
    """What every kind of route answers the session's token: its error codes."""
    requests: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/v1/session", None),
        ("GET", "/api/v1/imports", None),
        ("POST", "/api/v1/imports", {"size": 10, "filename": "cd.zip"}),
        ("GET", f"/api/v1/imports/{import_id}", None),
        ("GET", f"/api/v1/imports/{import_id}/events", None),
        ("POST", f"/api/v1/imports/{import_id}/cancel", None),
        ("HEAD", f"/api/v1/uploads/{import_id}", None),
        ("DELETE", "/api/v1/session", None),
    ]
    codes = set()
    for method, path, body in requests:
        headers = {**session.headers, "Tus-Resumable": "1.0.0"}
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (method, path, response.status_code)
        if method != "HEAD":
            codes.add(response.json()["error"]["code"])
    return codes


async def test_an_ended_session_is_refused_everywhere_as_an_expired_one(
    journey: Journey, settings: Settings
) -> None:
    session = await journey.start()
    created = await journey.create_import(session, 10)

    ended = await journey.client.delete("/api/v1/session", headers=session.headers)

    assert ended.status_code == 204, ended.text
    assert ended.content == b""
    assert await refusals(journey.client, session, created["id"]) == {"token_expired"}

    # exactly as a session that ran out of time
    expired = await journey.start()
    await sql(
        settings,
        "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = :id",
        id=await session_id_of(settings, expired),
    )
    assert await refusals(journey.client, expired, created["id"]) == {"token_expired"}


async def test_ending_a_session_is_audited_once(journey: Journey, settings: Settings) -> None:
    session = await journey.start(user={"id": "u-leaver", "name": "Leaver", "roles": ["clinician"]})

    assert (
        await journey.client.delete("/api/v1/session", headers=session.headers)
    ).status_code == 204
    again = await journey.client.delete("/api/v1/session", headers=session.headers)

    assert again.status_code == 401
    assert again.json()["error"]["code"] == "token_expired"
    (event,) = await closed_events(settings)
    assert event.actor_id == "u-leaver"
    assert event.accession_number == "ACC0001"
    assert event.details["session_id"] == await session_id_of(settings, session)


async def test_ending_one_session_leaves_the_others(journey: Journey) -> None:
    leaving = await journey.start()
    staying = await journey.start()

    assert (
        await journey.client.delete("/api/v1/session", headers=leaving.headers)
    ).status_code == 204

    assert (await journey.client.get("/api/v1/session", headers=staying.headers)).status_code == 200
    assert (await journey.client.get("/api/v1/imports", headers=staying.headers)).status_code == 200
