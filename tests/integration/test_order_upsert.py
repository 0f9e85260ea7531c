"""Orders the RIS sends at the same moment: concurrent launches for one new accession number
both succeed, on one order row, recorded once (issue 13, item 11)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select

from importer.access import service
from importer.access.models import Order
from importer.access.schemas import OrderIn
from importer.audit.models import AuditEvent
from importer.audit.service import Actor
from importer.db import make_engine, make_sessionmaker, transaction
from importer.settings import Settings
from tests.integration.test_migrations import config_for
from tests.integration.test_pipeline import db_rows
from tests.support.app import DEMO_PATIENT, RIS_KEY, Journey

RIS = {"Authorization": f"Bearer {RIS_KEY}"}
ROUNDS = 5  # a race is a matter of timing: several new accession numbers, each launched twice


def launch_body(accession: str) -> dict[str, Any]:
    return {
        "user": {"id": "u-tech-1", "name": "Tech One"},
        "order": {
            "accession_number": accession,
            "requested_procedure_id": "RP1",
            "patient": DEMO_PATIENT,
        },
    }


async def test_two_launches_for_a_new_order_at_once_make_one_order_recorded_once(
    journey: Journey, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for n in range(ROUNDS):
        accession = f"RACE-{n}"
        responses = await asyncio.gather(
            *(
                journey.client.post("/api/v1/launches", json=launch_body(accession), headers=RIS)
                for _ in range(2)
            )
        )
        assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
        orders = await db_rows(settings, select(Order).where(Order.accession_number == accession))
        assert len(orders) == 1
        created = await db_rows(
            settings,
            select(AuditEvent).where(
                AuditEvent.accession_number == accession,
                AuditEvent.action.in_(["order.created", "order.updated"]),
            ),
        )
        assert [e.action for e in created] == ["order.created"]
        assert created[0].details["before"] is None
        assert created[0].details["after"]["patient_name"] == DEMO_PATIENT["name"]
        launches = await db_rows(
            settings,
            select(AuditEvent).where(
                AuditEvent.accession_number == accession, AuditEvent.action == "launch.created"
            ),
        )
        assert len(launches) == 2
    for record in caplog.records:  # a lost race used to log the row it could not insert
        assert DEMO_PATIENT["name"] not in record.getMessage(), record.name
        assert DEMO_PATIENT["name"] not in str(record.exc_info), record.name


async def test_on_sqlite_an_order_is_created_once_then_corrected_with_before_and_after(
    tmp_path: Path,
) -> None:
    """The embedded database takes the same upsert (SQLite's own ``ON CONFLICT``)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'importer.sqlite3'}"
    await asyncio.to_thread(command.upgrade, config_for(url), "head")
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    ris = Actor(id="ris:test")

    def order(name: str) -> OrderIn:
        return OrderIn.model_validate(
            {"accession_number": "LITE-1", "patient": {**DEMO_PATIENT, "name": name}}
        )

    async def upsert(name: str) -> None:
        async with transaction(factory) as db:
            await service.upsert_order(db, order(name), ris_client="test", actor=ris)

    try:
        await asyncio.gather(upsert("ROSSI^MARIO"), upsert("ROSSI^MARIO"))
        await upsert("BIANCHI^LUCA")
        await upsert("BIANCHI^LUCA")  # unchanged: nothing to record
        async with factory() as db:
            orders = (await db.execute(select(Order))).scalars().all()
            events = (await db.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars().all()
    finally:
        await engine.dispose()
    assert [o.patient_name for o in orders] == ["BIANCHI^LUCA"]
    assert [e.action for e in events] == ["order.created", "order.updated"]
    assert events[0].details["before"] is None
    assert events[0].details["after"]["patient_name"] == "ROSSI^MARIO"
    assert events[1].details["before"]["patient_name"] == "ROSSI^MARIO"
    assert events[1].details["after"]["patient_name"] == "BIANCHI^LUCA"
    assert events[1].details["patient_changed"] is True
