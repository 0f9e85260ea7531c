"""The RIS hears the whole life of an import, signed and in order, from the worker's outbox:
started, confirmed, each study stored, finished; a RIS that is down gets everything later, in
order, and the import does not wait for it; a cancelled import is told as such; no payload
ever names a patient."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydicom import dcmread
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from importer.db import make_engine, make_sessionmaker, transaction, utcnow
from importer.imports import ris_outbox
from importer.imports.ris_outbox import RisCallback
from importer.ris import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from importer.settings import Settings
from tests.support.app import (
    CALLBACK_SECRET,
    DEMO_PATIENT,
    Journey,
    live_worker,
    make_zip,
    run_worker,
    sample,
    serving,
    sql,
)

WAIT_S = 90  # a bound for a wait on an event, never an assertion on time


@dataclass
class Ris:
    """A RIS's hook: answers ``down`` (a status) while it is down, records every post."""

    down: int | None = None
    refuse: set[str] = field(default_factory=set)
    """Events it refuses for good (400)."""
    posts: list[dict[str, Any]] = field(default_factory=list)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the delivery run that posted ``import.finished`` has recorded it and ended."""

    async def hook(self, request: Request) -> JSONResponse:
        body = await request.body()
        payload = json.loads(body)
        answer = 200
        if self.down is not None:
            answer = self.down
        elif payload["event"] in self.refuse:
            answer = 400
        self.posts.append(
            {
                "raw": body.decode(),
                "payload": payload,
                "signed": verify(
                    body,
                    secret=CALLBACK_SECRET,
                    timestamp=request.headers[TIMESTAMP_HEADER],
                    signature=request.headers[SIGNATURE_HEADER],
                ),
                "event_id": int(request.headers[EVENT_ID_HEADER]),
                "answer": answer,
            }
        )
        self.reached.set()
        if answer == 200 and payload["event"] == "import.finished":
            self.finished.set()
        return JSONResponse({"ok": answer == 200}, status_code=answer)

    def taken(self) -> list[dict[str, Any]]:
        """What the RIS accepted, in the order it got it."""
        return [p["payload"] for p in self.posts if p["answer"] == 200]


@contextlib.asynccontextmanager
async def ris_hook(ris: Ris) -> AsyncIterator[str]:
    async with serving(Starlette(routes=[Route("/hook", ris.hook, methods=["POST"])])) as url:
        yield f"{url}/hook"


@contextlib.asynccontextmanager
async def delivering_worker(settings: Settings, ris: Ris) -> AsyncIterator[None]:
    """The real worker with its callbacks cron only (the reconciler left out), in the
    background, on a queue of its own (the import's jobs are left to the burst workers)."""

    async def after_job_end(ctx: dict[str, Any]) -> None:
        # a tick that found another delivery running ends at once: only the end of the one
        # that posted (and recorded) settles it
        if ris.finished.is_set() and not ctx["callbacks"].busy:
            ris.settled.set()

    own_queue = settings.model_copy(update={"queue_name": f"{settings.queue_name}:cb"})
    async with live_worker(own_queue, crons=["cron:callbacks_job"], after_job_end=after_job_end):
        yield


async def outbox(settings: Settings, import_id: str) -> list[RisCallback]:
    engine = make_engine(settings.effective_database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            rows = await db.execute(
                select(RisCallback)
                .where(RisCallback.import_id == import_id)
                .order_by(RisCallback.id)
            )
            return list(rows.scalars().all())
    finally:
        await engine.dispose()


def no_patient_name(ris: Ris) -> None:
    medium = str(dcmread(sample("CT_small.dcm")).PatientName)
    for post in ris.posts:
        for name in (DEMO_PATIENT["name"], medium, *DEMO_PATIENT["name"].split("^")):
            assert name not in post["raw"]


async def test_a_ris_down_at_first_hears_the_whole_life_later_in_order(
    journey: Journey, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    ris = Ris(down=503)
    async with ris_hook(ris) as hook:
        session = await journey.start(callback_url=hook)
        imported = await journey.import_media(
            session, make_zip([("IMG1", sample("CT_small.dcm").read_bytes())])
        )
        uid = imported["studies"][0]["study_instance_uid"]
        assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
        async with delivering_worker(settings, ris):
            await asyncio.wait_for(ris.reached.wait(), WAIT_S)  # the first post: refused
            # the RIS is down while the import runs: the import does not wait for it
            await run_worker(settings)
            done = await journey.get_import(session, imported["id"])
            assert done["status"] == "completed"
            notify = next(s for s in done["studies"][0]["stages"] if s["name"] == "notify")
            assert (notify["status"], notify["code"]) == ("done", "ris_notify_queued")
            assert ris.taken() == []
            # the RIS answers again: it gets everything, in order, from the worker's cron
            ris.down = None
            await asyncio.wait_for(ris.settled.wait(), WAIT_S)

    refused = [p for p in ris.posts if p["answer"] != 200]
    assert refused, "the RIS was down at first"
    # while the first callback was refused, the later ones waited their turn
    assert {p["payload"]["event"] for p in refused} == {"import.started"}
    ids = {
        "import_id": imported["id"],
        "support_id": imported["support_id"],
        "accession_number": "ACC0001",
        "patient_id": DEMO_PATIENT["id"],
    }
    taken = ris.taken()
    assert [(p["event"], p.get("step"), p["status"]) for p in taken] == [
        ("import.started", None, "created"),
        ("import.progress", "confirmed", "processing"),
        ("import.progress", "study_stored", "processing"),
        ("study.stored", None, "stored"),
        ("import.finished", None, "completed"),
    ]
    assert all({k: p[k] for k in ids} == ids for p in taken)
    counts = ("studies", "studies_done", "instances", "instances_stored")
    assert [tuple(p[k] for k in counts) for p in taken[1:3]] == [(1, 0, 1, 0), (1, 1, 1, 1)]
    assert tuple(taken[4][k] for k in counts) == (1, 1, 1, 1)
    assert taken[4]["error"] is None
    assert taken[3] == {
        "event": "study.stored",
        **ids,
        "study_instance_uid": uid,
        "instances": 1,
        "instances_stored": 1,
        "status": "stored",
    }
    assert all(p["signed"] for p in ris.posts)
    accepted = [p["event_id"] for p in ris.posts if p["answer"] == 200]
    assert accepted == sorted(accepted)
    no_patient_name(ris)
    # the worker said why, in codes, never with the patient or the address
    said = [r for r in caplog.records if r.name == "importer.imports.ris_outbox"]
    assert said
    for record in said:
        assert record.getMessage() == (
            "RIS callback not delivered (ris_rejected, posted again later)"
        )
        assert (record.event, record.code) == ("import.started", "ris_rejected")  # type: ignore[attr-defined]
    assert DEMO_PATIENT["name"] not in caplog.text
    rows = await outbox(settings, imported["id"])
    assert [r.event for r in rows] == [p["event"] for p in taken]
    assert all(r.delivered_at is not None and r.next_attempt_at is None for r in rows)
    assert rows[0].attempts > 1
    assert rows[0].last_error is None


async def test_a_cancelled_import_is_told_cancelled_after_a_refused_event(
    journey: Journey, settings: Settings
) -> None:
    """A RIS that refuses an event for good (400) does not hold the next ones back."""
    ris = Ris(refuse={"import.started"})
    async with ris_hook(ris) as hook:
        session = await journey.start(callback_url=hook)
        created = await journey.create_import(session, 1000)
        cancelled = await journey.client.post(
            f"/api/v1/imports/{created['id']}/cancel", headers=session.headers
        )
        assert cancelled.status_code == 202, cancelled.text
        async with delivering_worker(settings, ris):
            await asyncio.wait_for(ris.settled.wait(), WAIT_S)
    assert [(p["payload"]["event"], p["answer"]) for p in ris.posts] == [
        ("import.started", 400),
        ("import.finished", 200),
    ]
    finished = ris.taken()[0]
    assert finished["status"] == "cancelled"
    assert finished["import_id"] == created["id"]
    assert (finished["studies"], finished["studies_done"]) == (0, 0)
    assert all(p["signed"] for p in ris.posts)
    no_patient_name(ris)
    started, ended = await outbox(settings, created["id"])
    assert (started.last_error, started.delivered_at, started.next_attempt_at) == (
        "ris_rejected",
        None,
        None,
    )
    assert ended.delivered_at is not None


async def test_an_import_without_a_callback_writes_no_callback(
    journey: Journey, settings: Settings
) -> None:
    session = await journey.start()
    imported = await journey.import_media(
        session, make_zip([("IMG1", sample("CT_small.dcm").read_bytes())])
    )
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
    await run_worker(settings)
    assert (await journey.get_import(session, imported["id"]))["status"] == "completed"
    assert await outbox(settings, imported["id"]) == []


async def deliver_now(settings: Settings) -> None:
    """One run of the worker's delivery (what its cron does every few seconds)."""
    engine = make_engine(settings.effective_database_url)
    try:
        async with httpx.AsyncClient() as http:
            await ris_outbox.deliver(make_sessionmaker(engine), http, settings)
    finally:
        await engine.dispose()


async def test_a_failed_and_an_expired_import_are_told_how_they_ended(
    journey: Journey, settings: Settings
) -> None:
    ris = Ris()
    async with ris_hook(ris) as hook:
        session = await journey.start(callback_url=hook)
        broken = await journey.import_media(session, b"This is not a ZIP archive at all." * 10)
        assert broken["status"] == "failed"
        waiting = await journey.import_media(
            session, make_zip([("IMG1", sample("CT_small.dcm").read_bytes())])
        )
        await sql(
            settings,
            "UPDATE imports SET updated_at = :at WHERE id = :id",
            at=utcnow() - timedelta(seconds=settings.confirmation_timeout_s + 1),
            id=waiting["id"],
        )
        await run_worker(settings, reconcile=True)
        await deliver_now(settings)
    told = {
        (p["import_id"], p["event"]): p
        for p in ris.taken()
        if p["event"] in ("import.started", "import.finished")
    }
    failed = told[broken["id"], "import.finished"]
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "archive_invalid", "params": {}}
    expired = told[waiting["id"], "import.finished"]
    assert (expired["status"], expired["error"]) == ("expired", None)
    assert (told[waiting["id"], "import.started"]["status"]) == "created"
    # each import's events in their order, whatever the other's
    for import_id in (broken["id"], waiting["id"]):
        events = [p["event"] for p in ris.taken() if p["import_id"] == import_id]
        assert events == ["import.started", "import.finished"]
    assert all(p["signed"] for p in ris.posts)
    no_patient_name(ris)
