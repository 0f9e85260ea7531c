"""The RIS callbacks' pure parts: which change tells what, the payloads (never a patient's
name), the counts, the back-off and when a callback is given up; and that a change of status
writes its callback in the import's own session, or nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from importer.access.models import Order
from importer.db import make_engine, make_sessionmaker, transaction
from importer.imports.models import Import, Stage, Study
from importer.imports.ris_outbox import (
    EVENTS,
    FINISHED,
    GIVEN_UP,
    PROGRESS,
    STARTED,
    STORED,
    UNDONE,
    RisCallback,
    backoff_s,
    counts,
    deliver,
    enqueue,
    finished_payload,
    next_step,
    on_created,
    on_study_stored,
    pending,
    progress_payload,
    started_payload,
    stored_payload,
    transition_event,
)
from importer.imports.states import ImportStatus, StageName, StageStatus, set_status
from importer.models import Base
from importer.ris import RisError
from importer.settings import Settings

AT = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
PATIENT_NAME = "ROSSI^MARIO"
MEDIUM_NAME = "BIANCHI^LUIGI"


def a_study(n: int, *, instances: int, done: bool = False, selected: bool = True) -> Study:
    status = StageStatus.done if done else StageStatus.pending
    return Study(
        id=f"study-{n}",
        study_instance_uid=f"1.2.3.{n}",
        patient_name=MEDIUM_NAME,
        patient_id="MEDIUM-ID",
        selected=selected,
        on_pacs=False,
        instance_count=instances,
        stages=[
            Stage(name=name.value, position=i, status=status, attempts_left=3)
            for i, name in enumerate(StageName)
        ],
    )


def an_import(*studies: Study, status: str = ImportStatus.processing) -> Import:
    return Import(
        id="imp-1",
        support_id="MI-TEST0001",
        zone="pacs",
        status=status,
        callback_url="https://ris.example/hook",
        order=Order(
            accession_number="A2026000123", patient_id="P000123", patient_name=PATIENT_NAME
        ),
        studies=list(studies),
        upload_size=1,
        created_at=AT,
        updated_at=AT,
    )


@pytest.mark.parametrize(
    ("previous", "status", "told"),
    [
        ("created", "queued", None),
        ("queued", "analyzing", None),
        ("analyzing", "awaiting_confirmation", None),
        ("awaiting_confirmation", "processing", (PROGRESS, "confirmed")),
        ("processing", "completed", (FINISHED, None)),
        ("processing", "failed", (FINISHED, None)),
        ("analyzing", "failed", (FINISHED, None)),
        ("awaiting_confirmation", "cancelled", (FINISHED, None)),
        ("created", "expired", (FINISHED, None)),
        ("awaiting_confirmation", "purged", (FINISHED, None)),  # a temporary import purged
        ("completed", "purged", None),  # it ended already: told once
        ("failed", "processing", (PROGRESS, "retried")),
        ("failed", "queued", (PROGRESS, "retried")),
        ("failed", "awaiting_confirmation", (PROGRESS, "retried")),
        ("completed", "processing", (PROGRESS, "promoted")),
        ("processing", "processing", None),
    ],
)
def test_which_change_tells_what(
    previous: str, status: str, told: tuple[str, str | None] | None
) -> None:
    assert transition_event(previous, status) == told


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [(0, 5.0), (1, 5.0), (2, 10.0), (3, 20.0), (6, 160.0), (7, 300.0), (40, 300.0)],
)
def test_back_off_doubles_up_to_five_minutes(attempts: int, delay: float) -> None:
    assert backoff_s(attempts) == delay


def test_a_callback_is_posted_again_until_it_is_given_up() -> None:
    created = AT
    down = RisError("ris_unreachable", "Not reached.", retryable=True)
    refused = RisError("ris_rejected", "HTTP 400.", retryable=False)
    later = AT + timedelta(minutes=1)
    assert next_step(1, created_at=created, now=later, error=None, give_up_s=3600) == (None, None)
    assert next_step(2, created_at=created, now=later, error=down, give_up_s=3600) == (
        later + timedelta(seconds=10),
        "ris_unreachable",
    )
    assert next_step(1, created_at=created, now=later, error=refused, give_up_s=3600) == (
        None,
        "ris_rejected",
    )
    much_later = AT + timedelta(hours=2)
    assert next_step(30, created_at=created, now=much_later, error=down, give_up_s=3600) == (
        None,
        GIVEN_UP,
    )


def test_counts_are_of_the_studies_filed_and_their_instances() -> None:
    studies = [
        a_study(1, instances=10, done=True),
        a_study(2, instances=5),
        a_study(3, instances=7, selected=False),  # not filed
    ]
    assert counts(studies) == {
        "studies": 2,
        "studies_done": 1,
        "instances": 15,
        "instances_stored": 10,
    }
    # the study whose notify stage is running counts as done
    assert counts(studies, done_now="study-2") == {
        "studies": 2,
        "studies_done": 2,
        "instances": 15,
        "instances_stored": 15,
    }


def test_payloads_name_the_order_never_a_patient() -> None:
    first, second = a_study(1, instances=10, done=True), a_study(2, instances=5)
    imp = an_import(first, second)
    ids = {
        "import_id": "imp-1",
        "support_id": "MI-TEST0001",
        "accession_number": "A2026000123",
        "patient_id": "P000123",
    }
    started = started_payload(an_import(status=ImportStatus.created), at=AT)
    assert started == {
        "event": STARTED,
        **ids,
        "zone": "pacs",
        "status": "created",
        "at": "2026-12-04T10:00:00Z",
    }
    progress = progress_payload(imp, step="study_stored", at=AT, study=second)
    assert progress == {
        "event": PROGRESS,
        **ids,
        "zone": "pacs",
        "status": "processing",
        "step": "study_stored",
        "study_instance_uid": "1.2.3.2",
        "studies": 2,
        "studies_done": 2,
        "instances": 15,
        "instances_stored": 15,
        "at": "2026-12-04T10:00:00Z",
    }
    imp.status = ImportStatus.failed
    imp.error_code = "pacs_unreachable"
    imp.error_params = {"stage": "store"}
    imp.error_message = f"Study of {PATIENT_NAME} not stored."  # never posted
    finished = finished_payload(imp, at=AT)
    assert finished["status"] == "failed"
    assert finished["error"] == {"code": "pacs_unreachable", "params": {"stage": "store"}}
    assert (finished["studies"], finished["studies_done"]) == (2, 1)
    stored = stored_payload(imp, second, imp.order, instances_stored=5)
    assert stored == {
        "event": STORED,
        **ids,
        "study_instance_uid": "1.2.3.2",
        "instances": 5,
        "instances_stored": 5,
        "status": "stored",
    }
    for payload in (started, progress, finished, stored):
        text = json.dumps(payload)
        assert PATIENT_NAME not in text
        assert "ROSSI" not in text
        assert "BIANCHI" not in text
        assert "MEDIUM-ID" not in text


def test_a_finished_import_that_did_not_fail_has_no_error() -> None:
    imp = an_import(a_study(1, instances=3, done=True), status=ImportStatus.completed)
    imp.error_code = "order_changed"  # an error kept from before: not the end's
    assert finished_payload(imp, at=AT)["error"] is None


def test_a_change_of_status_writes_its_callback_in_the_import_session() -> None:
    session = Session()
    imp = an_import(a_study(1, instances=3), status=ImportStatus.awaiting_confirmation)
    session.add(imp)
    set_status(imp, ImportStatus.processing)
    set_status(imp, ImportStatus.failed, error_code="pacs_unreachable", message="Down.")
    rows = [o for o in session.new if isinstance(o, RisCallback)]
    assert {(r.event, r.payload.get("step")) for r in rows} == {
        (PROGRESS, "confirmed"),
        (FINISHED, None),
    }
    finished = next(r for r in rows if r.event == FINISHED)
    assert finished.payload["error"]["code"] == "pacs_unreachable"
    assert all(r.next_attempt_at is not None and r.import_id == "imp-1" for r in rows)


def test_no_callback_url_or_no_session_writes_nothing() -> None:
    session = Session()
    without_url = an_import(a_study(1, instances=3), status=ImportStatus.awaiting_confirmation)
    without_url.callback_url = None
    session.add(without_url)
    set_status(without_url, ImportStatus.processing)
    on_created(without_url)
    on_study_stored(without_url, without_url.studies[0], instances_stored=3)
    assert not [o for o in session.new if isinstance(o, RisCallback)]
    detached = an_import(a_study(1, instances=3), status=ImportStatus.awaiting_confirmation)
    set_status(detached, ImportStatus.processing)  # in no session: nothing, and no error
    assert detached.status == ImportStatus.processing


def test_a_stored_study_tells_the_progress_then_the_study() -> None:
    session = Session()
    study = a_study(1, instances=3)
    imp = an_import(study)
    session.add(imp)
    on_study_stored(imp, study, instances_stored=3)
    rows = [o for o in session.new if isinstance(o, RisCallback)]
    # the unit of work inserts them in the order they were added
    assert {r.event for r in rows} == {PROGRESS, STORED}


def test_callback_events_are_configurable_and_checked() -> None:
    assert (
        tuple(Settings().callback_events)
        == EVENTS
        == (
            STARTED,
            PROGRESS,
            STORED,
            FINISHED,
            UNDONE,
        )
    )
    assert Settings(callback_events="study.stored").callback_events == ["study.stored"]
    with pytest.raises(ValidationError, match="unknown callback events"):
        Settings(callback_events="study.stored,import.exploded")


# --- the delivery, on the embedded database and a RIS that answers as told -------------------


async def test_delivery_keeps_each_import_in_order_and_lets_nothing_hold_others_back(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessionmaker = make_sessionmaker(engine)
    async with transaction(sessionmaker) as db:
        for import_id, url in (
            ("down", "http://127.0.0.1/down"),
            ("refusing", "http://127.0.0.1/refusing"),
            ("elsewhere", "http://elsewhere.example/hook"),  # no longer an allowed host
        ):
            imp = Import(
                id=import_id, support_id=import_id, upload_size=1, created_by="u", studies=[]
            )
            imp.callback_url = url
            db.add(imp)
            await db.flush()
            for event in (STARTED, PROGRESS, FINISHED):
                enqueue(imp, event, {"event": event, "import_id": import_id})
    posted: list[tuple[str, str]] = []

    def ris(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        posted.append((body["import_id"], body["event"]))
        if body["import_id"] == "down":
            return httpx.Response(503)
        if body["event"] == STARTED:
            return httpx.Response(400)  # refused for good: the next one goes
        return httpx.Response(204)

    settings = Settings(
        callback_secret=SecretStr("s"),
        callback_hosts=["127.0.0.1"],
        callback_allow_http=True,
        callback_events=[STARTED, FINISHED],  # progress turned off
    )
    try:
        async with httpx.AsyncClient(transport=httpx.MockTransport(ris)) as http:
            out = await deliver(sessionmaker, http, settings)
        # the RIS that is down got its first event once, and nothing after it; the refused
        # event did not hold back the next; the event turned off and the address no longer
        # allowed were never posted
        assert posted == [("down", STARTED), ("refusing", STARTED), ("refusing", FINISHED)]
        assert (out.sent, out.retried) == (1, 1)
        async with transaction(sessionmaker) as db:
            rows = {
                (r.import_id, r.event): r
                for r in (await db.execute(select(RisCallback))).scalars().all()
            }
            waiting = await pending(db, "down")
        assert [(r.event, r.attempts, r.last_error) for r in waiting] == [
            (STARTED, 1, "ris_rejected"),
            (PROGRESS, 0, None),
            (FINISHED, 0, None),
        ]
        assert rows["refusing", STARTED].last_error == "ris_rejected"
        assert rows["refusing", PROGRESS].last_error == "callback_event_off"
        assert rows["refusing", FINISHED].delivered_at is not None
        for event in (STARTED, PROGRESS, FINISHED):
            over = rows["elsewhere", event]
            assert over.next_attempt_at is None
            assert over.delivered_at is None
        assert rows["elsewhere", STARTED].last_error == "callback_host_not_allowed"
        assert not [p for p in posted if p[0] == "elsewhere"]
    finally:
        await engine.dispose()
