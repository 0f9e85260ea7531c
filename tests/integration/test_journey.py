"""The whole journey a RIS and a browser make, on real PostgreSQL, Redis and Orthanc."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from pydicom import dcmread

from devstack import OrthancProcess
from importer.settings import Settings
from tests.support.app import DEMO_PATIENT, Journey, make_zip, run_worker, sample, sse_events

MEDIUM = ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtplan.dcm", "reportsi.dcm"]


def medium() -> bytes:
    files = [(f"DICOM/IMG{i:04d}", sample(name).read_bytes()) for i, name in enumerate(MEDIUM)]
    files.append(("README.TXT", b"Viewer instructions. Not an image.\r\n"))
    return make_zip(files)


def sop_uids(names: list[str]) -> set[str]:
    return {str(dcmread(sample(n), force=True).SOPInstanceUID) for n in names}


def orthanc_instances(pacs: OrthancProcess) -> list[dict[str, str]]:
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        ids = http.get("/instances").json()
        return [http.get(f"/instances/{i}/simplified-tags").json() for i in ids]


async def test_order_imported_end_to_end(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    session = await journey.start()
    archive = medium()
    created = await journey.create_import(session, len(archive))
    assert created["status"] == "created"
    url = created["upload_url"]

    # tus: a first chunk, then a broken-off transfer the browser resumes after a HEAD
    first = await journey.patch(session, url, 0, archive[:10_000])
    assert first.status_code == 204
    assert first.headers["Upload-Offset"] == "10000"
    head = await journey.client.head(url, headers={**session.headers, "Tus-Resumable": "1.0.0"})
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == "10000"
    assert head.headers["Upload-Length"] == str(len(archive))
    wrong = await journey.patch(session, url, 5_000, archive[5_000:6_000])
    assert wrong.status_code == 409
    assert wrong.json()["error"]["code"] == "offset_mismatch"
    await journey.upload_from(session, url, archive, int(head.headers["Upload-Offset"]))

    queued = await journey.get_import(session, created["id"])
    assert queued["status"] == "queued"
    assert queued["upload"] == {"size": len(archive), "received": len(archive)}

    await run_worker(settings)
    analysed = await journey.get_import(session, created["id"])
    assert analysed["status"] == "awaiting_confirmation", analysed["error"]
    assert analysed["media"]["files"] == len(MEDIUM) + 1
    assert analysed["media"]["dicom"] == len(MEDIUM)
    assert [s["path"] for s in analysed["media"]["skipped"]] == ["README.TXT"]
    studies = analysed["studies"]
    assert sum(s["instance_count"] for s in studies) == len(MEDIUM)
    assert all(not s["on_pacs"] for s in studies)
    # none of these test patients is Mario Rossi: every study needs the user's acknowledgment
    assert {s["identity"]["overall"] for s in studies} == {"mismatch"}

    uids = [s["study_instance_uid"] for s in studies]
    refused = await journey.confirm(session, created["id"], uids, acknowledge=False)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "identity_not_acknowledged"
    accepted = await journey.confirm(session, created["id"], uids, acknowledge=True)
    assert accepted.status_code == 202

    await run_worker(settings)
    done = await journey.get_import(session, created["id"])
    assert done["status"] == "completed", done["error"]
    assert done["badge"] == "success"
    for study in done["studies"]:
        stages = {s["name"]: s["status"] for s in study["stages"]}
        assert stages == {
            "verify": "done",
            "store": "done",
            "commit": "skipped",
            "merge": "skipped",
            "notify": "skipped",
            "finish": "done",
        }

    stored = orthanc_instances(pacs)
    assert {i["SOPInstanceUID"] for i in stored} == sop_uids(MEDIUM)
    assert {i["PatientID"] for i in stored} == {DEMO_PATIENT["id"]}
    assert {i["PatientName"] for i in stored} == {DEMO_PATIENT["name"]}
    assert {i["AccessionNumber"] for i in stored} == {"ACC0001"}
    # the spool is cleaned once the import is done
    assert not settings.effective_spool_dir.joinpath("imports", created["id"]).exists()

    # the RIS reads the order's imports
    ris = await journey.client.get(
        "/api/v1/orders/ACC0001/imports", headers={"Authorization": "Bearer test-ris-key"}
    )
    assert ris.status_code == 200
    assert [i["status"] for i in ris.json()["items"]] == ["completed"]


async def test_cancel_deletes_the_spool(journey: Journey, settings: Settings) -> None:
    session = await journey.start()
    imported = await journey.import_media(session, medium())
    assert imported["status"] == "awaiting_confirmation"
    spool: Path = settings.effective_spool_dir / "imports" / imported["id"]
    assert spool.exists()
    response = await journey.client.post(
        f"/api/v1/imports/{imported['id']}/cancel", headers=session.headers
    )
    assert response.status_code == 202
    assert not spool.exists()
    cancelled = await journey.get_import(session, imported["id"])
    assert cancelled["status"] == "cancelled"
    again = await journey.confirm(
        session, imported["id"], [imported["studies"][0]["study_instance_uid"]], acknowledge=True
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_awaiting_confirmation"


async def test_a_reimported_study_is_recognised_and_not_sent(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    first = await journey.start()
    done = await journey.import_media(
        first, make_zip([("A/CT", sample("CT_small.dcm").read_bytes())])
    )
    uid = done["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(first, done["id"], [uid], acknowledge=True)).is_success
    await run_worker(settings)
    assert (await journey.get_import(first, done["id"]))["status"] == "completed"

    # the same CD comes back, with one more study on it
    again = await journey.start()
    imported = await journey.import_media(
        again,
        make_zip(
            [
                ("A/CT", sample("CT_small.dcm").read_bytes()),
                ("B/MR", sample("MR_small.dcm").read_bytes()),
            ]
        ),
    )
    flags = {
        s["study_instance_uid"]: (s["on_pacs"], s["pacs_conflict"]) for s in imported["studies"]
    }
    assert flags[uid] == (True, False)
    assert sum(on for on, _ in flags.values()) == 1
    ct = next(s for s in imported["studies"] if s["on_pacs"])
    assert ct["selected"] is False
    assert ct["instances_on_pacs"] == 1

    # the Italian procedure: "already on the PACS ... even if you confirm, it will be ignored
    # and not re-imported": confirming it with the others is accepted, and it is not sent
    every = [s["study_instance_uid"] for s in imported["studies"]]
    assert (await journey.confirm(again, imported["id"], every, acknowledge=True)).is_success
    await run_worker(settings)
    finished = await journey.get_import(again, imported["id"])
    assert finished["status"] == "completed", finished["error"]
    assert [s["stages"] for s in finished["studies"] if s["on_pacs"]] == [[]]
    assert {s["study_instance_uid"]: s["outcome"] for s in finished["studies"]} == {
        s["study_instance_uid"]: "already_present" if s["on_pacs"] else "done"
        for s in finished["studies"]
    }
    assert sorted(i["SOPInstanceUID"] for i in orthanc_instances(pacs)) == sorted(
        sop_uids(["CT_small.dcm", "MR_small.dcm"])
    )


async def test_a_study_on_the_pacs_under_another_patient_cannot_be_confirmed(
    journey: Journey, pacs: OrthancProcess
) -> None:
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        http.post("/instances", content=sample("CT_small.dcm").read_bytes()).raise_for_status()
    session = await journey.start()
    imported = await journey.import_media(
        session, make_zip([("A/CT", sample("CT_small.dcm").read_bytes())])
    )
    study = imported["studies"][0]
    assert (study["on_pacs"], study["pacs_conflict"], study["selected"]) == (True, True, False)
    refused = await journey.confirm(
        session, imported["id"], [study["study_instance_uid"]], acknowledge=True
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "study_conflict"
    assert [i["PatientID"] for i in orthanc_instances(pacs)] == ["1CT1"]


async def test_events_stream_snapshot_then_changes(journey: Journey, settings: Settings) -> None:
    session = await journey.start()
    imported = await journey.import_media(
        session, make_zip([("IMG1", sample("CT_small.dcm").read_bytes())])
    )
    url = f"/api/v1/imports/{imported['id']}/events"
    chunks: list[str] = []
    connected = asyncio.Event()

    async def listen() -> None:
        async with journey.client.stream("GET", url, headers=session.headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            async for text in response.aiter_text():
                chunks.append(text)
                connected.set()

    listener = asyncio.create_task(listen())
    await asyncio.wait_for(connected.wait(), timeout=10)
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).status_code
    await run_worker(settings)
    await asyncio.wait_for(listener, timeout=30)

    events = sse_events("".join(chunks))
    names = [name for name, _ in events]
    assert names[0] == "snapshot"
    assert events[0][1]["status"] == "awaiting_confirmation"
    stage_changes = [(d["name"], d["status"]) for n, d in events if n == "stage"]
    assert ("verify", "running") in stage_changes
    assert ("store", "done") in stage_changes
    assert ("finish", "done") in stage_changes
    assert any(n == "progress" for n in names)
    assert names[-1] == "snapshot"
    assert events[-1][1]["status"] == "completed"
