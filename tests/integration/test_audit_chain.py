"""The audit trail is append-only in PostgreSQL and hash-chained, so tampering shows."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from importer.db import make_engine
from importer.settings import Settings
from tests.support.app import Journey, make_zip, run_worker, sample

AUDITOR = {"id": "aud-1", "name": "Auditor", "roles": ["auditor"]}


async def sql(settings: Settings, statement: str) -> None:
    engine = make_engine(settings.effective_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def test_tampering_is_refused_or_shows(journey: Journey, settings: Settings) -> None:
    session = await journey.start()
    imported = await journey.import_media(
        session, make_zip([("IM1", sample("CT_small.dcm").read_bytes())])
    )
    assert imported["status"] == "awaiting_confirmation"
    auditor = await journey.start(worklist_mode=True, user=AUDITOR)

    before = await journey.client.get("/api/v1/audit/verify", headers=auditor.headers)
    assert before.json()["unsealed"] > 0  # written, not sealed yet
    await run_worker(settings, reconcile=True)  # the worker's cron seals the chain
    sealed = await journey.client.get("/api/v1/audit/verify", headers=auditor.headers)
    assert sealed.status_code == 200
    report = sealed.json()
    assert report["unsealed"] == 0
    assert report["sealed"] >= 5
    assert report["broken_at"] is None

    # the application cannot change or delete an event
    with pytest.raises(DBAPIError, match="append-only"):
        await sql(settings, "UPDATE audit_events SET actor_name = 'someone else' WHERE seq = 3")
    with pytest.raises(DBAPIError, match="append-only"):
        await sql(settings, "DELETE FROM audit_events WHERE seq = 3")

    # someone with the power to disable the guard edits an event: the chain shows it
    await sql(settings, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    try:
        await sql(settings, "UPDATE audit_events SET patient_id = 'OTHER' WHERE seq = 3")
    finally:
        await sql(settings, "ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    tampered = await journey.client.get("/api/v1/audit/verify", headers=auditor.headers)
    assert tampered.json()["broken_at"] == 3
