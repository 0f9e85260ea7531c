"""Several RIS clients, each with its named key, on one service: none sees or overwrites
another's orders, users or imports (issue 13, item 10). A key without a name belongs to the
client ``default``, so rotating the key of a single RIS keeps its orders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from pydantic import SecretStr
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from importer.access.models import Order
from importer.audit.models import AuditEvent
from importer.security import hash_token
from importer.settings import Settings
from tests.integration.test_migrations import config_for
from tests.integration.test_pipeline import db_rows
from tests.support.app import DEMO_PATIENT, Launched, running_api

KEY_A, KEY_B = "key-of-ris-a", "key-of-ris-b"
OLD_KEY, NEW_KEY = "the-old-key", "the-new-key"
OTHER_PATIENT = {**DEMO_PATIENT, "id": "B-0007", "name": "BIANCHI^LUCA", "birth_date": "19800303"}


def ris(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Two named RIS clients (one key as configured, one as its hash), and a single RIS that
    rotates its unnamed key (the old one, and the new one as its hash)."""
    keys = ",".join(
        [
            f"risa={KEY_A}",
            f"risb=sha256:{hash_token(KEY_B)}",
            OLD_KEY,
            f"sha256:{hash_token(NEW_KEY)}",
        ]
    )
    named = settings.model_copy(update={"ris_api_keys": SecretStr(keys)})
    async with running_api(named) as url, httpx.AsyncClient(base_url=url, timeout=60) as http:
        yield http


def order(accession: str, patient: dict[str, str] = DEMO_PATIENT) -> dict[str, Any]:
    return {"accession_number": accession, "requested_procedure_id": "RP1", "patient": patient}


async def start(
    http: httpx.AsyncClient,
    key: str,
    *,
    accession: str | None = None,
    user: str = "alice",
    roles: tuple[str, ...] = ("clinician",),
) -> Launched:
    """A launch by the RIS holding ``key`` (worklist mode without ``accession``), opened."""
    body: dict[str, Any] = {"user": {"id": user, "name": user.title(), "roles": list(roles)}}
    if accession is not None:
        body["order"] = order(accession)
    launched = await http.post("/api/v1/launches", json=body, headers=ris(key))
    assert launched.status_code == 201, launched.text
    opened = await http.post("/api/v1/sessions", json={"launch_token": launched.json()["token"]})
    assert opened.status_code == 201, opened.text
    return Launched(session_token=opened.json()["session_token"], context=opened.json())


async def new_import(http: httpx.AsyncClient, session: Launched, zone: str = "pacs") -> str:
    created = await http.post(
        "/api/v1/imports", json={"zone": zone, "size": 10}, headers=session.headers
    )
    assert created.status_code == 201, created.text
    import_id: str = created.json()["id"]
    return import_id


async def imports_of_order(http: httpx.AsyncClient, key: str, accession: str) -> list[str]:
    listed = await http.get(f"/api/v1/orders/{accession}/imports", headers=ris(key))
    assert listed.status_code == 200, listed.text
    return [item["id"] for item in listed.json()["items"]]


async def test_b_putting_a_s_accession_makes_b_s_own_order_and_leaves_a_s_alone(
    api: httpx.AsyncClient,
) -> None:
    a_session = await start(api, KEY_A, accession="ACC-123")
    put = await api.put(
        "/api/v1/orders/ACC-123", json=order("ACC-123", OTHER_PATIENT), headers=ris(KEY_B)
    )
    assert put.status_code == 200, put.text
    assert put.json()["patient"]["name"] == "BIANCHI^LUCA"
    # A's user still works on A's order, with A's patient
    seen = await api.get("/api/v1/session", headers=a_session.headers)
    assert seen.json()["order"]["patient"]["name"] == DEMO_PATIENT["name"]
    # and A's order, sent again unchanged, is not changed: B's PUT touched another order
    again = await api.put("/api/v1/orders/ACC-123", json=order("ACC-123"), headers=ris(KEY_A))
    assert again.json()["patient"]["name"] == DEMO_PATIENT["name"]
    b_session = await start(api, KEY_B, accession="ACC-123", user="bob")
    b_seen = await api.get("/api/v1/session", headers=b_session.headers)
    assert b_seen.json()["order"]["patient"]["name"] == DEMO_PATIENT["name"]  # B's launch: B's


async def test_b_reads_none_of_a_s_imports_of_the_same_accession(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    a_import = await new_import(api, await start(api, KEY_A, accession="ACC-123"))
    assert await imports_of_order(api, KEY_A, "ACC-123") == [a_import]
    assert await imports_of_order(api, KEY_B, "ACC-123") == []
    # once B has an order of that number, B reads its own imports only
    b_import = await new_import(api, await start(api, KEY_B, accession="ACC-123", user="bob"))
    assert await imports_of_order(api, KEY_B, "ACC-123") == [b_import]
    assert await imports_of_order(api, KEY_A, "ACC-123") == [a_import]
    # the audit trail names the RIS client that sent each order
    created = await db_rows(
        settings, select(AuditEvent).where(AuditEvent.action == "order.created")
    )
    assert sorted(e.actor_id for e in created) == ["ris:risa", "ris:risb"]


async def test_b_s_alice_is_not_a_s_alice(api: httpx.AsyncClient) -> None:
    a_alice = await start(api, KEY_A)  # worklist mode: a session sees its user's own imports
    a_import = await new_import(api, a_alice)
    b_alice = await start(api, KEY_B)
    listed = await api.get("/api/v1/imports", headers=b_alice.headers)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == []
    read = await api.get(f"/api/v1/imports/{a_import}", headers=b_alice.headers)
    assert read.status_code == 404
    assert read.json()["error"]["code"] == "import_not_found"
    cancel = await api.post(f"/api/v1/imports/{a_import}/cancel", headers=b_alice.headers)
    assert cancel.status_code == 404
    # A's alice still sees hers
    own = await api.get("/api/v1/imports", headers=a_alice.headers)
    assert [item["id"] for item in own.json()["items"]] == [a_import]


async def test_the_audit_trail_tells_b_s_alice_from_a_s(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    for key in (KEY_A, KEY_B):
        await new_import(api, await start(api, key))
    events = await db_rows(
        settings,
        select(AuditEvent).where(AuditEvent.action.in_(["session.opened", "import.created"])),
    )
    told = sorted((e.action, e.actor_id, e.details.get("ris_client")) for e in events)
    assert told == [
        ("import.created", "alice", "risa"),
        ("import.created", "alice", "risb"),
        ("session.opened", "alice", "risa"),
        ("session.opened", "alice", "risb"),
    ]


async def test_b_s_referent_neither_sees_a_s_temporary_zone_nor_promotes_to_a_s_order(
    api: httpx.AsyncClient,
) -> None:
    referent = ("temporary_zone",)
    await start(api, KEY_A, accession="ACC-123")  # A's order
    a_ref = await start(api, KEY_A, user="ref", roles=referent)
    a_kept = await new_import(api, a_ref, zone="temporary")
    b_ref = await start(api, KEY_B, user="ref", roles=referent)
    b_kept = await new_import(api, b_ref, zone="temporary")
    a_zone = await api.get("/api/v1/temporary", headers=a_ref.headers)
    b_zone = await api.get("/api/v1/temporary", headers=b_ref.headers)
    assert [item["id"] for item in a_zone.json()["items"]] == [a_kept]
    assert [item["id"] for item in b_zone.json()["items"]] == [b_kept]
    # no worklist here: a promotion names an order B's RIS sent, and A's is not one
    promoted = await api.post(
        f"/api/v1/imports/{b_kept}/promote",
        json={"accession_number": "ACC-123"},
        headers=b_ref.headers,
    )
    assert promoted.status_code == 409
    assert promoted.json()["error"]["code"] == "order_not_found"


async def test_an_unnamed_key_and_its_rotated_successor_share_their_orders(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    old_import = await new_import(api, await start(api, OLD_KEY, accession="ROT-1"))
    # the RIS moves to the new key: same orders, same imports
    assert await imports_of_order(api, NEW_KEY, "ROT-1") == [old_import]
    put = await api.put(
        "/api/v1/orders/ROT-1", json=order("ROT-1", OTHER_PATIENT), headers=ris(NEW_KEY)
    )
    assert put.status_code == 200, put.text
    assert await imports_of_order(api, NEW_KEY, "ROT-1") == [old_import]
    # a named client is another RIS: it sees none of them
    assert await imports_of_order(api, KEY_A, "ROT-1") == []
    changes = await db_rows(
        settings,
        select(AuditEvent)
        .where(AuditEvent.accession_number == "ROT-1", AuditEvent.action.like("order.%"))
        .order_by(AuditEvent.id),
    )
    assert [(e.action, e.actor_id) for e in changes] == [
        ("order.created", "ris:default"),
        ("order.updated", "ris:default"),  # the same order, corrected with the new key
    ]


async def test_orders_made_before_named_keys_stay_with_the_unnamed_key(
    settings: Settings, tmp_path: Path
) -> None:
    """Upgrading the database (here the embedded SQLite): the orders already there belong to
    the client ``default``, so the RIS keeps them with its unnamed key; a named client that
    sends the same accession number gets an order of its own."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'importer.sqlite3'}"
    await asyncio.to_thread(command.upgrade, config_for(url), "0006")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO orders (id, accession_number, requested_procedure_id, order_id,"
                    " procedure_code, procedure_code_scheme, scheduled_procedure_step_id,"
                    " procedure_description, modality, patient_id, patient_issuer, patient_name,"
                    " patient_birth_date, patient_sex, created_at, updated_at) VALUES"
                    " ('old-order', 'OLD-1', '', '', '', '', '', '', '', 'HOSP-0042', 'HOSPITAL',"
                    " 'ROSSI^MARIO', '19740101', 'M', '2026-01-01 00:00:00',"
                    " '2026-01-01 00:00:00')"
                )
            )
    finally:
        await engine.dispose()
    await asyncio.to_thread(command.upgrade, config_for(url), "head")
    keys = f"{OLD_KEY},risa={KEY_A}"
    embedded = settings.model_copy(update={"database_url": url, "ris_api_keys": SecretStr(keys)})
    async with running_api(embedded) as base, httpx.AsyncClient(base_url=base) as http:
        for key in (OLD_KEY, KEY_A):
            sent = await http.put("/api/v1/orders/OLD-1", json=order("OLD-1"), headers=ris(key))
            assert sent.status_code == 200, sent.text
    rows = await db_rows(embedded, select(Order).order_by(Order.ris_client))
    assert [(o.id == "old-order", o.ris_client) for o in rows] == [
        (True, "default"),
        (False, "risa"),
    ]
    # the unnamed key corrected its old order (before and after); A's order is a new one
    changes = await db_rows(
        embedded,
        select(AuditEvent).where(AuditEvent.action.like("order.%")).order_by(AuditEvent.id),
    )
    assert [(e.action, e.actor_id) for e in changes] == [
        ("order.updated", "ris:default"),
        ("order.created", "ris:risa"),
    ]
    assert changes[0].details["before"]["patient_name"] == "ROSSI^MARIO"
