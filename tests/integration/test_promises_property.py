"""Both promises over interleavings of what the RIS, the user and the worker do.

Hypothesis draws sequences of steps — the RIS re-sends the order with one patient or another,
the user confirms (acknowledging or not), retries, cancels, sends the next piece of the upload,
the worker runs against a PACS that answers or one that is down — and runs them through the real
API, worker, PostgreSQL, Redis and Orthanc. Whatever the order of the steps:

1. no instance reaches the PACS coerced to a patient other than one the user saw compared and
   accepted (the patient the import showed as compared when a confirmation was accepted);
2. no import is ``completed`` with an instance of a selected study missing from the PACS;
3. a cancelled import leaves nothing on the spool and nothing on the PACS.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydicom import dcmread
from pydicom.uid import generate_uid

from devstack import OrthancProcess, free_port
from importer.settings import Settings
from tests.support.app import Journey, make_zip, run_worker, sample

ROSSI = {"id": "HOSP-1", "issuer": "HOSPITAL", "name": "ROSSI^MARIO", "birth_date": "19740101",
         "sex": "M"}  # fmt: skip
BIANCHI = {"id": "HOSP-2", "issuer": "HOSPITAL", "name": "BIANCHI^LUCA", "birth_date": "19800505",
           "sex": "M"}  # fmt: skip
STEPS = ["ris_rossi", "ris_bianchi", "confirm", "confirm_ack", "retry", "cancel", "patch",
         "work", "work_pacs_down"]  # fmt: skip


def medium(study: str) -> tuple[bytes, set[str]]:
    files, uids = [], set()
    for n in range(2):
        ds = dcmread(sample("CT_small.dcm"))
        ds.StudyInstanceUID = study
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.PatientName, ds.PatientID = "Rossi^Mario", "EXT-1"
        ds.PatientBirthDate, ds.PatientSex = "19740101", "M"
        out = io.BytesIO()
        ds.save_as(out, enforce_file_format=True)
        files.append((f"DICOM/IM{n}", out.getvalue()))
        uids.add(str(ds.SOPInstanceUID))
    return make_zip(files), uids


def on_pacs(pacs: OrthancProcess, study: str) -> list[dict[str, str]]:
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        found = http.post(
            "/tools/find", json={"Level": "Instance", "Query": {"StudyInstanceUID": study}}
        ).json()
        return [http.get(f"/instances/{i}/simplified-tags").json() for i in found]


# pynetdicom 3.0.4 leaves the socket of a refused connection for the garbage collector
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)
@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.sampled_from(STEPS), min_size=3, max_size=9))
# the RIS corrects the order between the analysis and the confirmation
@example(steps=["ris_bianchi", "confirm", "work"])
# ... or between the confirmation and the store
@example(steps=["confirm", "ris_bianchi", "work"])
# a store that fails, the order changed, a retry
@example(steps=["confirm", "work_pacs_down", "ris_bianchi", "retry", "confirm_ack", "work"])
async def test_no_wrong_patient_and_no_lost_image_whatever_the_interleaving(
    journey: Journey, settings: Settings, pacs: OrthancProcess, steps: list[str]
) -> None:
    accession = f"P{generate_uid()[-12:]}"
    study = generate_uid()
    archive, sops = medium(study)
    session = await journey.start(accession=accession, patient=ROSSI)
    created = await journey.create_import(session, len(archive))
    import_id, url = created["id"], created["upload_url"]
    half = len(archive) // 2
    down = settings.model_copy(
        update={"pacs_url": f"dimse://GONE@127.0.0.1:{free_port()}", "stage_attempts": 1}
    )

    ris_patient = ROSSI  # what the RIS says the order's patient is now
    analysed_with: dict[str, str] | None = None  # the order's patient when the analysis ran
    accepted: set[tuple[str, str]] = set()  # the patients the user saw compared and accepted

    async def status() -> str:
        return str((await journey.get_import(session, import_id))["status"])

    async def step(name: str) -> None:
        nonlocal ris_patient, analysed_with
        if name.startswith("ris_"):
            # the RIS re-sends the order (a new launch for the same accession)
            ris_patient = ROSSI if name == "ris_rossi" else BIANCHI
            await journey.launch(accession=accession, patient=ris_patient)
        elif name.startswith("confirm"):
            shown = (await journey.get_import(session, import_id))["studies"]
            seen = (shown[0].get("compared_with") if shown else None) or analysed_with
            response = await journey.confirm(
                session, import_id, [study], acknowledge=name == "confirm_ack"
            )
            assert response.status_code in (202, 409, 422), response.text
            if response.status_code == 202 and seen is not None:
                accepted.add((seen["name"], seen["id"]))
        elif name in ("retry", "cancel"):
            response = await journey.client.post(
                f"/api/v1/imports/{import_id}/{name}", headers=session.headers
            )
            assert response.status_code in (202, 409), response.text
        elif name == "patch":
            # a client that retries its last PATCH late (after a cancel, a confirmation...)
            response = await journey.patch(session, url, half, archive[half:])
            assert response.status_code in (204, 409), response.text
        elif name == "work" or (name == "work_pacs_down" and await status() == "processing"):
            before = await status()
            await run_worker(settings if name == "work" else down)
            if before == "queued" and await status() == "awaiting_confirmation":
                analysed_with = ris_patient

    await journey.upload_from(session, url, archive[:half], 0)
    await step("patch")  # the upload completes
    await step("work")  # analysed against the order's patient of the moment
    for name in [*steps, "work"]:
        await step(name)

    final: dict[str, Any] = await journey.get_import(session, import_id)
    stored = on_pacs(pacs, study)
    # 1. the right patient, always
    assert {(i["PatientName"], i["PatientID"]) for i in stored} <= accepted
    # 2. completed means everything is there
    if final["status"] == "completed":
        assert {i["SOPInstanceUID"] for i in stored} == sops
    # 3. a cancelled import leaves nothing behind
    if final["status"] == "cancelled":
        assert stored == []
        assert not (settings.effective_spool_dir / "imports" / import_id).exists()
