"""Remembered outside identities (issue 16, point 1), on real PostgreSQL, Redis and Orthanc:
the next medium of an outside patient filed before is compared with the local patient it was
filed under, on every path that files a study, and a name-identical medium for another local
patient is a mismatch that needs the acknowledgement, with that reason shown."""

from __future__ import annotations

import asyncio
import io
import zipfile
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid

from devstack import OrthancProcess, WorklistProcess, free_port
from importer.imports import memory
from importer.settings import Settings
from tests.conftest import REFUSED_SOCKET_WARNINGS
from tests.support.app import (
    DEMO_PATIENT,
    REFERENT_USER,
    Journey,
    Launched,
    live_worker,
    make_zip,
    run_worker,
    sample,
)

OUTSIDE = {
    "PatientID": "EXT-555",
    "PatientName": "ROSSI^MARIO",
    "PatientBirthDate": "19740101",
    "PatientSex": "M",
}
# another patient of the hospital with the same name and birth date (a namesake)
NAMESAKE = {**DEMO_PATIENT, "id": "HOSP-0777"}
REFERENT = REFERENT_USER


def medium(**patient: str) -> bytes:
    """One CT study of a new Study Instance UID, its patient as the outside hospital wrote it."""
    ds = dcmread(sample("CT_small.dcm"))
    for keyword, value in {**OUTSIDE, **patient}.items():
        setattr(ds, keyword, value)
    ds.InstitutionName = "Ospedale Esterno"
    if "IssuerOfPatientID" in ds:
        del ds.IssuerOfPatientID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return make_zip([("DICOM/IM0001", out.getvalue())])


async def analysed(
    journey: Journey, accession: str, patient: dict[str, str], **outside: str
) -> tuple[Launched, dict[str, Any]]:
    session = await journey.start(accession=accession, patient=patient)
    return session, await journey.import_media(session, medium(**outside))


async def filed(
    journey: Journey, settings: Settings, accession: str, patient: dict[str, str]
) -> None:
    """The outside patient's medium filed under ``patient`` (its order ``accession``)."""
    session, imported = await analysed(journey, accession, patient)
    uid = imported["studies"][0]["study_instance_uid"]
    confirmed = await journey.confirm(session, imported["id"], [uid], acknowledge=True)
    assert confirmed.status_code == 202, confirmed.text
    await run_worker(settings)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]


async def test_a_namesake_order_is_a_mismatch_once_the_outside_patient_was_filed_elsewhere(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    # the first medium: filed under HOSP-0042, whose name and birth date it shares
    await filed(journey, settings, "ACC-MEM-1", DEMO_PATIENT)

    # the same outside patient again, for the same local patient: said, and a match
    _, again = await analysed(journey, "ACC-MEM-2", DEMO_PATIENT)
    identity = again["studies"][0]["identity"]
    assert identity["overall"] == "match"
    (before,) = identity["filed_before"]
    assert before["patient"]["id"] == "HOSP-0042"
    assert (before["same"], before["by"]) == (True, "Tech One")
    assert "identity.recalled" in await journey.audit_actions(again["id"])

    # for the namesake HOSP-0777: the names match, but it was filed under another patient
    session, other = await analysed(journey, "ACC-MEM-3", NAMESAKE)
    study = other["studies"][0]
    assert study["identity"]["overall"] == "mismatch"
    assert study["identity"]["fields"] == {"name": "match", "birth_date": "match", "sex": "match"}
    assert "FILED_BEFORE_UNDER_ANOTHER_PATIENT" in study["identity"]["reasons"]
    assert [f["same"] for f in study["identity"]["filed_before"]] == [False]
    assert study["acknowledgement_required"] is True
    uid = study["study_instance_uid"]
    refused = await journey.confirm(session, other["id"], [uid], acknowledge=False)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "identity_not_acknowledged"
    accepted = await journey.confirm(session, other["id"], [uid], acknowledge=True)
    assert accepted.status_code == 202, accepted.text
    logged = await journey.audit_actions(other["id"])
    assert "identity.remembered" in logged

    # both filings are remembered now: the next medium for HOSP-0042 is warned of HOSP-0777
    _, third = await analysed(journey, "ACC-MEM-4", DEMO_PATIENT)
    remembered = third["studies"][0]["identity"]["filed_before"]
    assert {(f["patient"]["id"], f["same"]) for f in remembered} == {
        ("HOSP-0042", True),
        ("HOSP-0777", False),
    }
    assert third["studies"][0]["identity"]["overall"] == "mismatch"


async def test_another_outside_patient_of_the_same_name_is_not_taken_for_it(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    await filed(journey, settings, "ACC-MEM-10", DEMO_PATIENT)
    # another Patient ID at the outside hospital, another birth date: another outside patient
    for outside in ({"PatientID": "EXT-556"}, {"PatientBirthDate": "19740102"}):
        _, imported = await analysed(journey, "ACC-MEM-11", NAMESAKE, **outside)
        assert imported["studies"][0]["identity"].get("filed_before", []) == []


async def test_a_filing_elsewhere_meanwhile_is_shown_before_anything_is_filed(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """The comparison was shown before the outside patient was filed elsewhere: confirming
    files nothing (``identity_changed``), the new comparison is shown, then needs the tick."""
    session, shown = await analysed(journey, "ACC-MEM-20", NAMESAKE, PatientID="EXT-600")
    assert shown["studies"][0]["identity"]["overall"] == "match"  # nothing remembered yet
    await filed_as(journey, settings, "ACC-MEM-21", DEMO_PATIENT, PatientID="EXT-600")

    uid = shown["studies"][0]["study_instance_uid"]
    refused = await journey.confirm(session, shown["id"], [uid], acknowledge=False)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "identity_changed"
    now = await journey.get_import(session, shown["id"])
    assert now["status"] == "awaiting_confirmation"
    assert now["studies"][0]["identity"]["overall"] == "mismatch"
    assert now["studies"][0]["acknowledgement_required"] is True
    # even with the tick given before it was shown: the user must see it first
    again = await journey.confirm(session, shown["id"], [uid], acknowledge=True)
    assert again.status_code == 202, again.text


async def filed_as(
    journey: Journey, settings: Settings, accession: str, patient: dict[str, str], **outside: str
) -> None:
    session, imported = await analysed(journey, accession, patient, **outside)
    uid = imported["studies"][0]["study_instance_uid"]
    confirmed = await journey.confirm(session, imported["id"], [uid], acknowledge=True)
    assert confirmed.status_code == 202, confirmed.text


async def test_two_filings_of_one_outside_patient_at_once_are_one_after_the_other(
    journey: Journey, settings: Settings, pacs: OrthancProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two clerks confirm media of one outside patient for two namesakes at the same moment,
    neither warned (nothing remembered when they were shown): one is filed, the other is told
    what was just remembered and files nothing. Each gate waits a moment after it read what
    is remembered, so that, unheld, both would read nothing and both file."""
    recall = memory.recall

    async def slow_recall(*args: Any, **kwargs: Any) -> Any:
        found = await recall(*args, **kwargs)
        await asyncio.sleep(0.5)
        return found

    monkeypatch.setattr(memory, "recall", slow_recall)
    first, one = await analysed(journey, "ACC-MEM-30", DEMO_PATIENT, PatientID="EXT-700")
    second, two = await analysed(journey, "ACC-MEM-31", NAMESAKE, PatientID="EXT-700")
    answers = await asyncio.gather(
        journey.confirm(
            first, one["id"], [one["studies"][0]["study_instance_uid"]], acknowledge=False
        ),
        journey.confirm(
            second, two["id"], [two["studies"][0]["study_instance_uid"]], acknowledge=False
        ),
    )
    codes = sorted("202" if r.status_code == 202 else r.json()["error"]["code"] for r in answers)
    assert codes == ["202", "identity_changed"]


async def test_referents_list_search_and_remove_what_is_remembered(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    await filed_as(journey, settings, "ACC-MEM-40", DEMO_PATIENT, PatientID="EXT-800")
    referent = await journey.start(accession="ACC-MEM-41", user=REFERENT)
    listed = await journey.client.get(
        "/api/v1/identities", params={"q": "ext-800"}, headers=referent.headers
    )
    assert listed.status_code == 200, listed.text
    (row,) = listed.json()["items"]
    assert row["outside"] == {
        "issuer": "",
        "institution": "Ospedale Esterno",
        "id": "EXT-800",
        "name": "ROSSI^MARIO",
        "birth_date": "19740101",
    }
    assert row["local"]["id"] == "HOSP-0042"
    assert row["filed_by"] == "Tech One"
    # a clerk may not
    clerk = await journey.start(accession="ACC-MEM-42")
    forbidden = await journey.client.get("/api/v1/identities", headers=clerk.headers)
    assert forbidden.status_code == 403
    denied = await journey.client.delete(f"/api/v1/identities/{row['id']}", headers=clerk.headers)
    assert denied.status_code == 403
    removed = await journey.client.delete(
        f"/api/v1/identities/{row['id']}", headers=referent.headers
    )
    assert removed.status_code == 204
    gone = await journey.client.delete(f"/api/v1/identities/{row['id']}", headers=referent.headers)
    assert gone.status_code == 404
    # forgotten: the next medium for a namesake is compared as if never filed
    _, imported = await analysed(journey, "ACC-MEM-43", NAMESAKE, PatientID="EXT-800")
    assert imported["studies"][0]["identity"]["overall"] == "match"
    auditor = await journey.start(user={"id": "aud", "name": "Auditor", "roles": ["auditor"]})
    trail = await journey.client.get(
        "/api/v1/audit", params={"action": "identity.forgotten"}, headers=auditor.headers
    )
    assert any(e["details"]["mapping"] == row["id"] for e in trail.json()["items"])


async def test_a_medium_without_a_patient_id_is_not_remembered(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    await filed_as(journey, settings, "ACC-MEM-50", DEMO_PATIENT, PatientID="")
    _, imported = await analysed(journey, "ACC-MEM-51", NAMESAKE, PatientID="")
    assert imported["studies"][0]["identity"].get("filed_before", []) == []


def fresh(name: str) -> bytes:
    """A pydicom test file with new UIDs, its patient as written (a study no PACS holds yet)."""
    ds = dcmread(sample(name))
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return make_zip([("CT/1", out.getvalue())])


async def test_the_worklist_compares_each_order_with_what_was_filed_before(
    journey: Journey, settings: Settings, worklist_scp: WorklistProcess, pacs: OrthancProcess
) -> None:
    """Worklist mode: the order the worklist finds for the medium's patient (LOCAL-CT1) is not
    the patient it was filed under before: its badge says so, before anything is chosen."""
    session = await journey.start(accession="ACC-MEM-60")
    imported = await journey.import_media(session, fresh("CT_small.dcm"))
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success

    wl = settings.model_copy(update={"worklist_url": worklist_scp.dimse_url})
    clerk = await journey.start(worklist_mode=True)
    medium_import = await journey.import_media(clerk, fresh("CT_small.dcm"))
    study = medium_import["studies"][0]["study_instance_uid"]
    async with live_worker(wl):
        found = await journey.client.get(
            "/api/v1/worklist",
            params={"name": "CompressedSamples", "import_id": medium_import["id"], "study": study},
            headers=clerk.headers,
        )
    assert found.status_code == 200, found.text
    ct = next(c for c in found.json()["items"] if c["accession_number"] == "WL-CT-1")
    assert ct["identity"]["overall"] == "mismatch"
    assert "FILED_BEFORE_UNDER_ANOTHER_PATIENT" in ct["identity"]["reasons"]
    assert [(f["patient"]["id"], f["same"]) for f in ct["identity"]["filed_before"]] == [
        ("HOSP-0042", False)
    ]
    assert "identity.recalled" in await journey.audit_actions(medium_import["id"])


async def test_a_line_recorded_by_another_viewer_does_not_count_as_seen(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """Two sessions show one comparison, without what was filed before. The outside patient is
    filed elsewhere; the second session's confirmation records the new comparison (409). The
    first, whose screen still shows none (it says so), is refused too, tick or not."""
    first, shown = await analysed(journey, "ACC-MEM-70", NAMESAKE, PatientID="EXT-970")
    second = await journey.start(accession="ACC-MEM-70", patient=NAMESAKE)
    await filed_as(journey, settings, "ACC-MEM-71", DEMO_PATIENT, PatientID="EXT-970")
    uid = shown["studies"][0]["study_instance_uid"]
    told = await journey.confirm(second, shown["id"], [uid], acknowledge=True)
    assert told.json()["error"]["code"] == "identity_changed"
    # the first session's screen: nothing filed before was shown
    blind = await journey.client.post(
        f"/api/v1/imports/{shown['id']}/confirm",
        json={"studies": [uid], "acknowledge_identity": True, "seen_filed_before": {uid: []}},
        headers=first.headers,
    )
    assert blind.status_code == 409
    assert blind.json()["error"]["code"] == "identity_changed"
    # once shown (it says what it showed): filed
    seen = await journey.client.post(
        f"/api/v1/imports/{shown['id']}/confirm",
        json={
            "studies": [uid],
            "acknowledge_identity": True,
            "seen_filed_before": {uid: [{"id": "HOSP-0042", "issuer": "HOSPITAL"}]},
        },
        headers=first.headers,
    )
    assert seen.status_code == 202, seen.text


async def test_one_confirmation_filing_an_outside_patient_under_two_patients_shows_it_first(
    journey: Journey, settings: Settings, worklist_scp: WorklistProcess, pacs: OrthancProcess
) -> None:
    """Worklist mode: two studies of one outside patient, their orders of two patients of the
    hospital. Before anything is filed, each study's comparison says the other patient."""
    studies = [fresh("CT_small.dcm"), fresh("CT_small.dcm")]
    medium = make_zip(
        [(f"S{i}/IM1", zipfile.ZipFile(io.BytesIO(z)).read("CT/1")) for i, z in enumerate(studies)]
    )
    wl = settings.model_copy(update={"worklist_url": worklist_scp.dimse_url})
    clerk = await journey.start(worklist_mode=True)
    imported = await journey.import_media(clerk, medium)
    uids = [s["study_instance_uid"] for s in imported["studies"]]
    chosen = {uids[0]: "WL-CT-1", uids[1]: "WL-MR-1"}
    async with live_worker(wl):
        answer = await journey.client.post(
            f"/api/v1/imports/{imported['id']}/confirm",
            json={"studies": uids, "order_for_study": chosen, "acknowledge_identity": True},
            headers=clerk.headers,
        )
    assert answer.status_code == 409  # compared first (identity_not_compared), nothing filed
    shown = await journey.get_import(clerk, imported["id"])
    others = {
        s["study_instance_uid"]: [
            (f["patient"]["id"], f["same"]) for f in s["identity"].get("filed_before", [])
        ]
        for s in shown["studies"]
    }
    assert others == {uids[0]: [("LOCAL-MR1", False)], uids[1]: [("LOCAL-CT1", False)]}


@pytest.mark.filterwarnings(REFUSED_SOCKET_WARNINGS[0])
@pytest.mark.filterwarnings(REFUSED_SOCKET_WARNINGS[1])
@pytest.mark.usefixtures("refused_sockets")
async def test_a_retry_by_another_user_files_nothing_new(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """The import was filed by the clerk who confirmed it; another user's Retry (the PACS was
    down) neither renews who filed it nor is refused by the import's own filing."""
    session, imported = await analysed(journey, "ACC-MEM-80", DEMO_PATIENT, PatientID="EXT-980")
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
    down = settings.model_copy(update={"pacs_url": f"dimse://GONE@127.0.0.1:{free_port()}"})
    await run_worker(down)
    assert (await journey.get_import(session, imported["id"]))["status"] == "failed"
    other = await journey.start(
        accession="ACC-MEM-80", user={"id": "u-tech-2", "name": "Tech Two", "department": "ER"}
    )
    retried = await journey.client.post(
        f"/api/v1/imports/{imported['id']}/retry", headers=other.headers
    )
    assert retried.status_code == 202, retried.text
    referent = await journey.start(accession="ACC-MEM-81", user=REFERENT)
    listed = await journey.client.get(
        "/api/v1/identities", params={"q": "EXT-980"}, headers=referent.headers
    )
    assert [row["filed_by"] for row in listed.json()["items"]] == ["Tech One"]
