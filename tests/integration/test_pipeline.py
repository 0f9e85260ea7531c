"""The worker's promises: bad media end clearly, jobs survive a lost queue, nothing is sent twice,
a PACS outage fails clearly with the files kept, the RIS is told, every step is audited."""

from __future__ import annotations

import io
import json
import os
from datetime import timedelta
from typing import Any

import httpx
import pytest
from arq.connections import RedisSettings, create_pool
from pydantic import SecretStr
from pydicom import dcmread
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from devstack import OrthancProcess, free_port
from importer.audit.models import AuditEvent
from importer.db import make_engine, make_sessionmaker, utcnow
from importer.imports import ris_outbox
from importer.imports.models import Import, Instance
from importer.jobs import PROCESS, deserialize, serialize
from importer.ris import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from importer.settings import Settings
from tests.support.app import (
    DEMO_PATIENT,
    Journey,
    Launched,
    make_zip,
    run_worker,
    sample,
    serving,
)
from worker.enqueue import enqueue


def orthanc_sop_uids(pacs: OrthancProcess) -> set[str]:
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        return {
            http.get(f"/instances/{i}/simplified-tags").json()["SOPInstanceUID"]
            for i in http.get("/instances").json()
        }


async def db_rows(settings: Settings, statement: Any) -> list[Any]:
    engine = make_engine(settings.effective_database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            return list((await db.execute(statement)).scalars().all())
    finally:
        await engine.dispose()


async def db_execute(settings: Settings, statement: Any) -> None:
    engine = make_engine(settings.effective_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(statement)
    finally:
        await engine.dispose()


async def confirmed_while_the_pacs_is_down(
    journey: Journey, settings: Settings, files: list[tuple[str, bytes]]
) -> tuple[Launched, dict[str, Any]]:
    """A medium imported and every study confirmed, processed while the PACS is down: the
    import failed at the store, every file verified and kept."""
    session = await journey.start()
    imported = await journey.import_media(session, make_zip(files))
    uids = [s["study_instance_uid"] for s in imported["studies"]]
    assert (await journey.confirm(session, imported["id"], uids, acknowledge=True)).status_code
    down = settings.model_copy(update={"pacs_url": f"dimse://GONE@127.0.0.1:{free_port()}"})
    await run_worker(down)
    return session, await journey.get_import(session, imported["id"])


async def retried(journey: Journey, session: Launched, import_id: str, settings: Settings) -> None:
    """The user's Retry, accepted, and the worker's run of it."""
    answer = await journey.client.post(
        f"/api/v1/imports/{import_id}/retry", headers=session.headers
    )
    assert answer.status_code == 202
    await run_worker(settings)


async def test_not_a_zip_fails_with_archive_invalid(journey: Journey) -> None:
    session = await journey.start()
    imported = await journey.import_media(session, b"This is not a ZIP archive at all." * 10)
    assert imported["status"] == "failed"
    assert imported["badge"] == "danger"
    assert imported["error"]["code"] == "archive_invalid"
    assert imported["retryable"] is False  # the app offers no Retry: the medium is the problem
    assert imported["studies"] == []
    retry = await journey.client.post(
        f"/api/v1/imports/{imported['id']}/retry", headers=session.headers
    )
    assert retry.status_code == 409
    assert retry.json()["error"]["code"] == "not_retryable"


async def test_medium_without_dicom_fails_with_no_dicom_and_lists_every_file(
    journey: Journey,
) -> None:
    session = await journey.start()
    imported = await journey.import_media(
        session,
        make_zip(
            [
                ("AUTORUN.INF", b"[autorun]\r\nopen=viewer.exe\r\n"),
                ("VIEWER/viewer.exe", b"MZ\x90\x00" + b"\x00" * 200),
                ("README.pdf", b"%PDF-1.4\n%%EOF\n"),
            ]
        ),
    )
    assert imported["status"] == "failed"
    assert imported["error"]["code"] == "no_dicom"
    assert imported["media"]["files"] == 3
    assert sorted(s["path"] for s in imported["media"]["skipped"]) == [
        "AUTORUN.INF",
        "README.pdf",
        "VIEWER/viewer.exe",
    ]
    assert all(s["message"] for s in imported["media"]["skipped"])


async def test_a_lost_queue_loses_no_import(journey: Journey, settings: Settings) -> None:
    """Redis forgot the job (restart, flush): the reconciler hands the import back."""
    session = await journey.start()
    archive = make_zip([("IMG1", sample("CT_small.dcm").read_bytes())])
    created = await journey.create_import(session, len(archive))
    await journey.upload(session, created["upload_url"], archive)
    redis = await create_pool(
        RedisSettings.from_dsn(settings.redis_url),
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
    try:
        await redis.delete(settings.queue_name, f"arq:job:analyse_import:{created['id']}")
    finally:
        await redis.aclose()
    await run_worker(settings)  # nothing queued: nothing happens
    assert (await journey.get_import(session, created["id"]))["status"] == "queued"

    # past the grace period, the reconciler (a cron of the worker) finds it
    await db_execute(
        settings,
        update(Import)
        .where(Import.id == created["id"])
        .values(updated_at=utcnow() - timedelta(minutes=5)),
    )
    await run_worker(settings, reconcile=True)
    await run_worker(settings)
    assert (await journey.get_import(session, created["id"]))["status"] == "awaiting_confirmation"


async def test_unconfirmed_imports_expire_and_lose_their_files(
    journey: Journey, settings: Settings
) -> None:
    session = await journey.start()
    imported = await journey.import_media(
        session, make_zip([("IMG1", sample("CT_small.dcm").read_bytes())])
    )
    spool = settings.effective_spool_dir / "imports" / imported["id"]
    assert spool.exists()
    await db_execute(
        settings,
        update(Import)
        .where(Import.id == imported["id"])
        .values(updated_at=utcnow() - timedelta(seconds=settings.confirmation_timeout_s + 1)),
    )
    await run_worker(settings, reconcile=True)
    expired = await journey.get_import(session, imported["id"])
    assert expired["status"] == "expired"
    assert not spool.exists()


async def test_instances_already_sent_are_not_sent_again(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """A worker that died mid-store resumes: what was recorded as sent is skipped."""
    session = await journey.start()
    names = ["CT_small.dcm", "MR_small.dcm"]
    imported = await journey.import_media(
        session, make_zip([(f"IMG{i}", sample(n).read_bytes()) for i, n in enumerate(names)])
    )
    ct_uid = str(dcmread(sample("CT_small.dcm")).SOPInstanceUID)
    await db_execute(
        settings,
        update(Instance)
        .where(Instance.import_id == imported["id"], Instance.sop_instance_uid == ct_uid)
        .values(sent_state="sent", dimse_status=0, sent_at=utcnow()),
    )
    uids = [s["study_instance_uid"] for s in imported["studies"]]
    assert (await journey.confirm(session, imported["id"], uids, acknowledge=True)).status_code
    await run_worker(settings)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    # the CT was marked sent before the run: the PACS never got it from this run
    assert orthanc_sop_uids(pacs) == {str(dcmread(sample("MR_small.dcm")).SOPInstanceUID)}

    # and a second run of the whole job changes nothing
    sent_at = {i.id: i.sent_at for i in await db_rows(settings, select(Instance))}
    redis = await create_pool(
        RedisSettings.from_dsn(settings.redis_url),
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
    try:
        assert await enqueue(redis, PROCESS, imported["id"], queue_name=settings.queue_name)
    finally:
        await redis.aclose()
    await run_worker(settings)
    assert {i.id: i.sent_at for i in await db_rows(settings, select(Instance))} == sent_at
    completions = await db_rows(
        settings, select(AuditEvent).where(AuditEvent.action == "import.completed")
    )
    assert len(completions) == 1


# pynetdicom 3.0.4 leaves the socket of a refused connection for the garbage collector
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)
async def test_pacs_down_fails_clearly_after_retries_and_keeps_the_files(
    journey: Journey, settings: Settings
) -> None:
    session, failed = await confirmed_while_the_pacs_is_down(
        journey, settings, [("IMG1", sample("CT_small.dcm").read_bytes())]
    )
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "pacs_unreachable"
    assert failed["retryable"] is True  # the app offers Retry: the PACS may be back
    assert "store" in failed["error"]["message"]
    stages = {s["name"]: s for s in failed["studies"][0]["stages"]}
    assert stages["verify"]["status"] == "done"
    assert stages["store"]["status"] == "failed"
    assert stages["store"]["attempts_left"] == 0
    assert stages["store"]["code"] == "pacs_unreachable"  # the error's code, for the app to word
    assert failed["error"]["params"]["stage"] == "store"
    assert stages["finish"]["status"] == "pending"
    assert (settings.effective_spool_dir / "imports" / failed["id"]).exists()

    # the PACS is back: a retry completes it, the failed stage gets its attempts back
    retried = await journey.client.post(
        f"/api/v1/imports/{failed['id']}/retry", headers=session.headers
    )
    assert retried.status_code == 202
    assert retried.json()["status"] == "processing"
    await run_worker(settings)
    done = await journey.get_import(session, failed["id"])
    assert done["status"] == "completed", done["error"]
    assert done["error"] is None
    assert done["retryable"] is False
    store = next(s for s in done["studies"][0]["stages"] if s["name"] == "store")
    assert (store["status"], store["attempts_left"]) == ("done", settings.stage_attempts)
    again = await journey.client.post(
        f"/api/v1/imports/{failed['id']}/retry", headers=session.headers
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_retryable"


# pynetdicom 3.0.4 leaves the socket of a refused connection for the garbage collector
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)
async def test_a_file_changed_on_the_spool_after_verify_is_never_sent_by_a_later_store(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """The PACS is down when the study is confirmed and verified; meanwhile a file on the spool
    gets another patient's name (size and modification time kept), and another is replaced by
    a copy. The retried store, an hour later in real life, sends neither, and says why."""
    ct = dcmread(sample("CT_small.dcm"))
    ct.SOPInstanceUID = f"{ct.SOPInstanceUID}.2"
    second = io.BytesIO()
    ct.save_as(second, enforce_file_format=True)
    session, imported = await confirmed_while_the_pacs_is_down(
        journey,
        settings,
        [
            ("CT/IMG1", sample("CT_small.dcm").read_bytes()),
            ("CT/IMG2", second.getvalue()),
            # deflated: not stamped by the analysis, read again and stamped by verify
            ("SC/IMG1", sample("image_dfl.dcm").read_bytes()),
        ],
    )
    assert all(
        {s["name"]: s["status"] for s in study["stages"]}["verify"] == "done"
        for study in imported["studies"]
    )

    spool = settings.effective_spool_dir / "imports" / imported["id"]
    rows = {
        row.display_path: spool / row.path
        for row in await db_rows(
            settings, select(Instance).where(Instance.import_id == imported["id"])
        )
    }
    rewritten, replaced = rows["CT/IMG2"], rows["SC/IMG1"]
    status = rewritten.stat()
    data = rewritten.read_bytes()
    with rewritten.open("r+b") as fp:
        fp.seek(data.index(b"CompressedSamples^CT1"))
        fp.write(b"CompressedSamples^XX9")
    os.utime(rewritten, ns=(status.st_atime_ns, status.st_mtime_ns))
    copy = replaced.with_name("copy")
    copy.write_bytes(replaced.read_bytes())
    copy.replace(replaced)

    await retried(journey, session, imported["id"], settings)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "failed"
    assert done["retryable"] is False  # the same files would fail the same way
    stores = {
        study["study_instance_uid"]: next(s for s in study["stages"] if s["name"] == "store")
        for study in done["studies"]
    }
    assert {s["code"] for s in stores.values()} == {"file_changed"}
    assert {s["params"]["count"] for s in stores.values()} == {1}
    # only the unchanged CT reached the PACS; nothing of the rewritten patient did
    assert orthanc_sop_uids(pacs) == {str(dcmread(sample("CT_small.dcm")).SOPInstanceUID)}
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        assert (
            http.post(
                "/tools/find", json={"Level": "Patient", "Query": {"PatientName": "*XX9*"}}
            ).json()
            == []
        )
    assert rewritten.exists()  # the files are kept for a person to look at
    assert replaced.exists()


@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)
async def test_a_file_the_spool_lost_after_verify_is_a_storage_fault_worth_a_retry(
    journey: Journey, settings: Settings
) -> None:
    """Not "the PACS refused 1 image", nor a failure no retry may mend: the server's storage
    could not give the file; once it is back, Retry sends it."""
    session, imported = await confirmed_while_the_pacs_is_down(
        journey, settings, [("IMG1", sample("CT_small.dcm").read_bytes())]
    )
    (row,) = await db_rows(settings, select(Instance).where(Instance.import_id == imported["id"]))
    folder = (settings.effective_spool_dir / "imports" / imported["id"] / row.path).parent
    hidden = folder.with_name("away")
    folder.rename(hidden)  # a storage that lost it, for now (the file itself untouched)

    await retried(journey, session, imported["id"], settings)
    failed = await journey.get_import(session, imported["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "spool_unreadable"
    assert failed["retryable"] is True

    hidden.rename(folder)  # the storage mended: the same file, with the stamp vouched for
    await retried(journey, session, imported["id"], settings)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]


@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)
async def test_a_store_of_files_verified_before_stamps_verifies_and_stamps_them_first(
    journey: Journey, settings: Settings
) -> None:
    """An import verified by a release that recorded no stamps, its store retried after the
    upgrade: its files are checked again, and sent only as they were then."""
    session, imported = await confirmed_while_the_pacs_is_down(
        journey, settings, [("IMG1", sample("CT_small.dcm").read_bytes())]
    )
    await db_execute(
        settings,
        update(Instance).where(Instance.import_id == imported["id"]).values(file_stamp=None),
    )
    await retried(journey, session, imported["id"], settings)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    (row,) = await db_rows(settings, select(Instance).where(Instance.import_id == imported["id"]))
    assert row.file_stamp is not None


async def test_the_ris_is_told_when_a_study_is_stored(journey: Journey, settings: Settings) -> None:
    """``study.stored`` as integrators have had it, posted signed from the outbox (its place
    among the other callbacks, and a RIS that is down: test_ris_lifecycle_callbacks)."""
    received: list[dict[str, Any]] = []

    async def hook(request: Request) -> JSONResponse:
        body = await request.body()
        signed = verify(
            body,
            secret="callback-secret",
            timestamp=request.headers[TIMESTAMP_HEADER],
            signature=request.headers[SIGNATURE_HEADER],
        )
        received.append({"signed": signed, **json.loads(body)})
        return JSONResponse({"ok": True})

    hook_app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    signing = settings.model_copy(update={"callback_secret": SecretStr("callback-secret")})
    async with serving(hook_app) as hook_url:
        session = await journey.start(callback_url=f"{hook_url}/hook")
        imported = await journey.import_media(
            session, make_zip([("IMG1", sample("CT_small.dcm").read_bytes())])
        )
        uid = imported["studies"][0]["study_instance_uid"]
        assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
        await run_worker(signing)
        engine = make_engine(settings.effective_database_url)
        async with httpx.AsyncClient() as http:
            await ris_outbox.deliver(make_sessionmaker(engine), http, signing)
        await engine.dispose()
    done = await journey.get_import(session, imported["id"])
    notify = next(s for s in done["studies"][0]["stages"] if s["name"] == "notify")
    assert notify["status"] == "done"
    expected = {
        "signed": True,
        "event": "study.stored",
        "import_id": imported["id"],
        "support_id": imported["support_id"],
        "accession_number": "ACC0001",
        "patient_id": DEMO_PATIENT["id"],
        "study_instance_uid": uid,
        "instances": 1,
        "instances_stored": 1,
        "status": "stored",
    }
    assert [r for r in received if r["event"] == "study.stored"] == [expected]


async def test_the_audit_trail_tells_the_whole_story(journey: Journey, settings: Settings) -> None:
    session = await journey.start(
        user={"id": "u-77", "name": "Anna Bianchi", "department": "Radiologia"}
    )
    imported = await journey.import_media(
        session, make_zip([("IMG1", sample("CT_small.dcm").read_bytes())])
    )
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
    await run_worker(settings)

    events = await db_rows(settings, select(AuditEvent).order_by(AuditEvent.id))
    actions = [e.action for e in events]
    assert actions[:3] == ["order.created", "launch.created", "session.opened"]
    for action in ["import.created", "upload.completed", "import.analysed", "import.confirmed",
                   "stage.verify", "stage.store", "stage.finish", "import.completed"]:  # fmt: skip
        assert action in actions
    confirmed = next(e for e in events if e.action == "import.confirmed")
    assert confirmed.actor_id == "u-77"
    assert confirmed.actor_name == "Anna Bianchi"
    assert confirmed.department == "Radiologia"
    assert confirmed.accession_number == "ACC0001"
    assert confirmed.patient_id == DEMO_PATIENT["id"]
    assert confirmed.study_instance_uid == uid
    assert confirmed.details["acknowledged_identity"] is True
    assert confirmed.details["identity"]["overall"] == "mismatch"
    assert confirmed.details["medium_patient"]["id"] == "1CT1"
    assert confirmed.details["institution"] == "JFK IMAGING CENTER"
    assert (confirmed.details["series"], confirmed.details["instances"]) == (1, 1)
    assert all(e.at is not None for e in events)


async def test_metrics_tell_what_happened(journey: Journey, settings: Settings) -> None:
    session = await journey.start()
    imported = await journey.import_media(
        session, make_zip([("IMG1", sample("CT_small.dcm").read_bytes())])
    )
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
    await run_worker(settings)
    scraped = await journey.client.get("/metrics")
    assert scraped.status_code == 200
    text = scraped.text
    assert 'importer_imports{status="completed",zone="pacs"} 1.0' in text
    assert "importer_queue_depth 0.0" in text
    assert "importer_upload_bytes_total" in text
    # the worker ran in this process: its counters are here too
    assert 'importer_instances_stored_total{destination="pacs"}' in text
    assert 'importer_stage_duration_seconds_count{outcome="done",stage="store"}' in text
