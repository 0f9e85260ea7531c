"""An import is completed, and its files leave the spool, only when every instance of every
selected study is recorded as sent or already on the PACS.

A C-STORE worker thread meeting an unexpected error, an outcome lost on its way to the
database, a store stage that claimed to be done: each ends the import failed and retryable,
its files kept, and a retry completes it. On the real PostgreSQL, Redis and Orthanc; the faults
are injected into the (in-process) worker's DIMSE sender."""

from __future__ import annotations

import io
from collections.abc import Generator, Sequence
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid
from sqlalchemy import select, update

from devstack import OrthancProcess
from importer.imports.models import Instance, Stage, Study
from importer.pacs import DimsePacs, StoreItem, StoreOutcome
from importer.pacs.dimse import StoreEngine
from importer.settings import Settings
from tests.integration.test_pipeline import db_execute, db_rows, orthanc_sop_uids
from tests.support.app import Journey, Launched, make_zip, run_worker, sample

COUNT = 4


def four_instances() -> tuple[bytes, list[str]]:
    """One study, one series, four instances; their SOP Instance UIDs in the order of their
    paths on the medium (the order they are sent in)."""
    base = dcmread(sample("CT_small.dcm"))
    base.StudyInstanceUID = generate_uid()
    base.SeriesInstanceUID = generate_uid()
    files, uids = [], []
    for i in range(COUNT):
        base.SOPInstanceUID = generate_uid()
        base.file_meta.MediaStorageSOPInstanceUID = base.SOPInstanceUID
        base.InstanceNumber = i + 1
        out = io.BytesIO()
        base.save_as(out, enforce_file_format=True)
        files.append((f"DICOM/IM{i:04d}", out.getvalue()))
        uids.append(str(base.SOPInstanceUID))
    return make_zip(files), uids


async def confirmed(journey: Journey) -> tuple[Launched, dict[str, Any], list[str]]:
    session = await journey.start()
    archive, uids = four_instances()
    imported = await journey.import_media(session, archive)
    study = imported["studies"][0]["study_instance_uid"]
    response = await journey.confirm(session, imported["id"], [study], acknowledge=True)
    assert response.status_code == 202, response.text
    return session, imported, uids


def spool_files(settings: Settings, import_id: str) -> int:
    files = settings.effective_spool_dir / "imports" / import_id / "media" / "f"
    return sum(1 for _ in files.iterdir()) if files.is_dir() else 0


def stages_of(imported: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in imported["studies"][0]["stages"]}


async def sent_states(settings: Settings, import_id: str) -> dict[str, str]:
    rows = await db_rows(settings, select(Instance).where(Instance.import_id == import_id))
    return {r.sop_instance_uid: r.sent_state for r in rows}


async def retry_completes(
    journey: Journey, session: Launched, settings: Settings, import_id: str
) -> dict[str, Any]:
    retried = await journey.client.post(
        f"/api/v1/imports/{import_id}/retry", headers=session.headers
    )
    assert retried.status_code == 202, retried.text
    await run_worker(settings)
    done = await journey.get_import(session, import_id)
    assert done["status"] == "completed", done["error"]
    return done


@pytest.mark.parametrize("parallel", [1, 2, 3])
async def test_a_store_worker_meeting_an_unexpected_error_fails_the_store(
    journey: Journey,
    settings: Settings,
    pacs: OrthancProcess,
    monkeypatch: pytest.MonkeyPatch,
    parallel: int,
) -> None:
    """One instance's C-STORE raises (a bug) every time: whatever the number of associations,
    the store fails (retryable), nothing is lost from the spool, and the PACS holds the
    others; once the bug is gone a retry sends it and the import completes."""
    session, imported, uids = await confirmed(journey)
    faulty = uids[-1]  # the last one sent: with one association nothing is left after it
    store_one = StoreEngine._store_one

    def failing(self: StoreEngine, assoc: Any, item: StoreItem, message_id: int) -> StoreOutcome:
        if item.sop_instance_uid == faulty:
            raise RuntimeError("an unexpected bug in the sender")
        return store_one(self, assoc, item, message_id)

    monkeypatch.setattr(StoreEngine, "_store_one", failing)
    sending = settings.model_copy(update={"store_parallel": parallel})
    await run_worker(sending)

    failed = await journey.get_import(session, imported["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "pacs_failed", failed["error"]
    stages = stages_of(failed)
    assert stages["store"]["status"] == "failed"
    assert stages["finish"]["status"] == "pending"
    assert orthanc_sop_uids(pacs) == set(uids[:-1])
    assert (await sent_states(settings, imported["id"]))[faulty] != "sent"
    assert spool_files(settings, imported["id"]) == COUNT  # the files stay for the retry

    monkeypatch.setattr(StoreEngine, "_store_one", store_one)
    await retry_completes(journey, session, sending, imported["id"])
    assert orthanc_sop_uids(pacs) == set(uids)
    assert not (settings.effective_spool_dir / "imports" / imported["id"]).exists()


async def test_an_outcome_lost_on_its_way_fails_the_store_stage(
    journey: Journey, settings: Settings, pacs: OrthancProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender says nothing of one instance (no outcome, no error): the store stage
    counts the study's instances in the database as its last check, and fails."""
    session, imported, uids = await confirmed(journey)
    lost = uids[1]
    store = DimsePacs.store

    def lossy(self: DimsePacs, items: Sequence[StoreItem]) -> Generator[StoreOutcome, None, None]:
        keys = {item.key for item in items if item.sop_instance_uid == lost}
        for outcome in store(self, items):
            if outcome.key not in keys:
                yield outcome

    monkeypatch.setattr(DimsePacs, "store", lossy)
    await run_worker(settings)

    failed = await journey.get_import(session, imported["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "instances_missing", failed["error"]
    stages = stages_of(failed)
    assert stages["store"]["status"] == "failed"
    assert "1 of 4" in stages["store"]["message"]
    assert stages["finish"]["status"] == "pending"
    assert (await sent_states(settings, imported["id"]))[lost] == "pending"
    assert spool_files(settings, imported["id"]) == COUNT

    monkeypatch.setattr(DimsePacs, "store", store)
    await retry_completes(journey, session, settings, imported["id"])
    assert orthanc_sop_uids(pacs) == set(uids)
    assert set((await sent_states(settings, imported["id"])).values()) == {"sent"}


async def test_an_import_short_of_instances_is_not_completed(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """Every stage says done but the instances are not recorded as sent (a store stage that
    claimed too much): the import is not completed, its files are kept, the store stage is to
    be done again, and a retry sends the instances and completes it."""
    session, imported, uids = await confirmed(journey)
    study_ids = select(Study.id).where(Study.import_id == imported["id"])
    await db_execute(
        settings,
        update(Stage)
        .where(Stage.study_id.in_(study_ids), Stage.name.in_(["verify", "store"]))
        .values(status="done", message="4 of 4 instance(s) stored."),
    )
    await run_worker(settings)

    failed = await journey.get_import(session, imported["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "instances_missing", failed["error"]
    assert "4 instance(s)" in failed["error"]["message"]
    stages = stages_of(failed)
    assert stages["store"]["status"] == "failed"
    # what came after the store is done again once everything is sent
    assert [stages[n]["status"] for n in ("commit", "merge", "notify", "finish")] == ["pending"] * 4
    assert orthanc_sop_uids(pacs) == set()
    assert spool_files(settings, imported["id"]) == COUNT

    done = await retry_completes(journey, session, settings, imported["id"])
    assert stages_of(done)["store"]["status"] == "done"
    assert orthanc_sop_uids(pacs) == set(uids)
