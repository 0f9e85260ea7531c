"""The whole disc (issue 16, point 3), on real PostgreSQL, Redis and Orthanc: the medium's PDF
report and JPEG photo are listed with a preview, filed with the study the user chose, and read
back from the PACS as valid DICOM objects (an Encapsulated PDF, a Secondary Capture image) of
that study, under the order's patient and accession number; what the user did not tick is not
filed; a document that changed after the analysis is never sent; a study the PACS holds
already is sent for its new documents only."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from sqlalchemy import select, update

from devstack import OrthancProcess, free_port
from importer.imports.models import Document, Instance, Stage
from importer.settings import Settings
from importer.spool import Spool
from tests.integration.test_identity_gate import ris_corrects
from tests.integration.test_pipeline import db_execute, db_rows
from tests.support.app import DEMO_PATIENT, Journey, Launched, make_zip, run_worker, sample

PDF_NAME = "REPORT/Compte rendu é.pdf"
JPEG_NAME = "PHOTOS/page 1.jpg"


def a_page(text: str, size: tuple[int, int] = (620, 877)) -> Image.Image:
    page = Image.new("RGB", size, "white")
    ImageDraw.Draw(page).text((40, 40), text, fill="black")
    return page


def pdf_bytes() -> bytes:
    out = io.BytesIO()
    a_page("Outside hospital - CT report").save(out, format="PDF")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    a_page("Scanned letter", (400, 300)).save(out, format="JPEG", quality=90)
    return out.getvalue()


def ct() -> bytes:
    ds = dcmread(sample("CT_small.dcm"))
    ds.PatientID, ds.PatientName = "EXT-7", DEMO_PATIENT["name"]
    ds.PatientBirthDate, ds.PatientSex = DEMO_PATIENT["birth_date"], DEMO_PATIENT["sex"]
    ds.AccessionNumber = "EXT-ACC"
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def disc() -> bytes:
    """A patient's disc: one CT, the report, a photo, a damaged PDF and a text file."""
    return make_zip(
        [
            ("DICOM/IM0001", ct()),
            (PDF_NAME, pdf_bytes()),
            (JPEG_NAME, jpeg_bytes()),
            ("REPORT/old.pdf", b"%PDF-1.4\nnot really a PDF"),
            ("README.TXT", b"Open the viewer on the disc.\n"),
        ]
    )


def on_pacs(pacs: OrthancProcess) -> list[Dataset]:
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        return [
            dcmread(io.BytesIO(http.get(f"/instances/{i}/file").content))
            for i in http.get("/instances").json()
        ]


async def confirm(
    journey: Journey, session: Launched, imported: dict[str, Any], documents: dict[str, str]
) -> httpx.Response:
    uid = imported["studies"][0]["study_instance_uid"]
    return await journey.client.post(
        f"/api/v1/imports/{imported['id']}/confirm",
        json={"studies": [uid], "acknowledge_identity": False, "documents": documents},
        headers=session.headers,
    )


def dciodvfy_errors(path: Path) -> list[str]:
    checked = subprocess.run(
        ["/usr/bin/dciodvfy", str(path)], capture_output=True, text=True, check=False
    )
    return [line for line in checked.stderr.splitlines() if line.startswith("Error")]


async def test_a_pdf_and_a_jpeg_are_filed_with_the_study_and_read_back_as_valid_objects(
    journey: Journey, settings: Settings, pacs: OrthancProcess, tmp_path: Path
) -> None:
    session = await journey.start()
    imported = await journey.import_media(session, disc())
    assert imported["status"] == "awaiting_confirmation", imported["error"]
    documents = {d["path"]: d for d in imported["documents"]}
    assert set(documents) == {PDF_NAME, JPEG_NAME}
    pdf, jpeg = documents[PDF_NAME], documents[JPEG_NAME]
    assert (pdf["kind"], pdf["pages"], pdf["outcome"]) == ("pdf", 1, "not_selected")
    assert (jpeg["kind"], jpeg["width"], jpeg["height"]) == ("jpeg", 400, 300)
    # Orthanc takes both objects: known before confirming, as for the medium's own
    assert (pdf["pacs_accepts"], jpeg["pacs_accepts"]) == (True, True)
    skipped = {s["path"]: s["reason"] for s in imported["media"]["skipped"]}
    assert skipped == {"REPORT/old.pdf": "document_unreadable", "README.TXT": "not_dicom"}
    for doc in (pdf, jpeg):  # the confirmation's preview: a PNG of the first page
        preview = await journey.client.get(
            f"/api/v1/imports/{imported['id']}/documents/{doc['id']}/preview",
            headers=session.headers,
        )
        assert preview.status_code == 200
        assert Image.open(io.BytesIO(preview.content)).format == "PNG"

    uid = imported["studies"][0]["study_instance_uid"]
    answer = await confirm(journey, session, imported, {pdf["id"]: uid, jpeg["id"]: uid})
    assert answer.status_code == 202, answer.text
    await run_worker(settings)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    assert {d["outcome"] for d in done["documents"]} == {"stored"}
    (study,) = done["studies"]
    assert (study["series_count"], study["instance_count"]) == (3, 3)
    verify = next(s for s in study["stages"] if s["name"] == "verify")
    assert (verify["code"], verify["params"]) == ("documents_wrapped", {"count": 3, "documents": 2})
    log = await journey.client.get(f"/api/v1/imports/{imported['id']}/log", headers=session.headers)
    told = {e["action"]: e["details"] for e in log.json()["items"]}
    assert told["import.analysed"]["documents"] == 2  # found
    assert told["import.confirmed"]["documents"] == 2  # filed with the study

    stored = {str(ds.SOPClassUID.name): ds for ds in on_pacs(pacs)}
    assert set(stored) == {
        "CT Image Storage",
        "Encapsulated PDF Storage",
        "Secondary Capture Image Storage",
    }
    ct_ds = stored["CT Image Storage"]
    for name, ds in stored.items():
        # one study, under the order's patient and accession; the medium's kept
        assert ds.StudyInstanceUID == uid, name
        assert (ds.PatientID, ds.AccessionNumber) == (DEMO_PATIENT["id"], "ACC0001"), name
        assert ds.OriginalAttributesSequence[0].ModifiedAttributesSequence[0].PatientID == "EXT-7"
        path = tmp_path / f"{ds.SOPInstanceUID}.dcm"
        ds.save_as(path, enforce_file_format=True)
        assert dciodvfy_errors(path) == [], name
    report, photo = stored["Encapsulated PDF Storage"], stored["Secondary Capture Image Storage"]
    assert {report.SeriesInstanceUID, photo.SeriesInstanceUID}.isdisjoint({ct_ds.SeriesInstanceUID})
    assert report.SeriesDescription == report.DocumentTitle == "Compte rendu é.pdf"
    assert report.MIMETypeOfEncapsulatedDocument == "application/pdf"
    original = pdf_bytes()
    length = report.EncapsulatedDocumentLength
    assert bytes(report.EncapsulatedDocument)[:length].startswith(b"%PDF-")
    assert length == pdf["size"] == len(original)
    assert photo.SeriesDescription == "page 1.jpg"
    assert (photo.Rows, photo.Columns, photo.PhotometricInterpretation) == (300, 400, "RGB")
    assert photo.LossyImageCompression == "01"
    assert photo.pixel_array.shape == (300, 400, 3)


async def test_a_document_not_ticked_is_not_filed_and_bad_choices_are_refused(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    session = await journey.start()
    imported = await journey.import_media(session, disc())
    pdf = next(d for d in imported["documents"] if d["kind"] == "pdf")
    uid = imported["studies"][0]["study_instance_uid"]
    unknown = await confirm(journey, session, imported, {"0000-0000": uid})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_document"
    elsewhere = await confirm(journey, session, imported, {pdf["id"]: "1.2.3.4"})
    assert elsewhere.status_code == 422
    assert elsewhere.json()["error"]["code"] == "document_study_not_selected"

    answer = await confirm(journey, session, imported, {pdf["id"]: uid})
    assert answer.status_code == 202, answer.text
    await run_worker(settings)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    outcomes = {d["kind"]: d["outcome"] for d in done["documents"]}
    assert outcomes == {"pdf": "stored", "jpeg": "not_selected"}
    classes = sorted(str(ds.SOPClassUID.name) for ds in on_pacs(pacs))
    assert classes == ["CT Image Storage", "Encapsulated PDF Storage"]


async def test_a_document_changed_after_the_analysis_is_never_sent(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """What the user saw previewed is what is filed, or nothing of the study is."""
    session = await journey.start()
    imported = await journey.import_media(session, disc())
    jpeg = next(d for d in imported["documents"] if d["kind"] == "jpeg")
    uid = imported["studies"][0]["study_instance_uid"]
    (path,) = await db_rows(settings, select(Document.path).where(Document.id == jpeg["id"]))
    source = Spool(settings.spool_dir).import_dir(imported["id"]) / path
    answer = await confirm(journey, session, imported, {jpeg["id"]: uid})
    assert answer.status_code == 202, answer.text
    await asyncio.to_thread(source.write_bytes, jpeg_bytes()[:-10] + b"\xff\xd9" * 5)
    os.utime(source)
    await run_worker(settings)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "failed"
    verify = next(s for s in done["studies"][0]["stages"] if s["name"] == "verify")
    assert (verify["status"], verify["code"]) == ("failed", "document_changed")
    assert on_pacs(pacs) == []
    assert done["documents"][0]["outcome"] in ("failed", "not_selected")


async def test_a_study_the_pacs_holds_is_sent_for_its_new_documents_only(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """The same disc brought back for its report: the images are there already, only the
    report is sent."""
    medium = disc()
    first = await journey.start(accession="ACC0001")
    imported = await journey.import_media(first, medium)
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await confirm(journey, first, imported, {})).status_code == 202
    await run_worker(settings)
    assert len(on_pacs(pacs)) == 1

    again = await journey.start(accession="ACC0001")
    second = await journey.import_media(again, medium)
    (study,) = second["studies"]
    assert (study["on_pacs"], study["selected"]) == (True, False)
    pdf = next(d for d in second["documents"] if d["kind"] == "pdf")
    answer = await confirm(journey, again, second, {pdf["id"]: uid})
    assert answer.status_code == 202, answer.text
    await run_worker(settings)
    done = await journey.get_import(again, second["id"])
    assert done["status"] == "completed", done["error"]
    states = await db_rows(
        settings, select(Instance.sent_state).where(Instance.import_id == second["id"])
    )
    assert sorted(states) == ["on_pacs", "sent"]
    classes = sorted(str(ds.SOPClassUID.name) for ds in on_pacs(pacs))
    assert classes == ["CT Image Storage", "Encapsulated PDF Storage"]


@pytest.mark.parametrize("kind", ["png"])
async def test_a_png_with_transparency_is_filed_over_white(
    journey: Journey, settings: Settings, pacs: OrthancProcess, kind: str
) -> None:
    scan = Image.new("RGBA", (64, 32), (0, 0, 0, 0))
    ImageDraw.Draw(scan).rectangle((0, 0, 31, 31), fill=(200, 0, 0, 255))
    out = io.BytesIO()
    scan.save(out, format="PNG")
    session = await journey.start()
    imported = await journey.import_media(
        session, make_zip([("DICOM/IM0001", ct()), (f"scan.{kind}", out.getvalue())])
    )
    (doc,) = imported["documents"]
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await confirm(journey, session, imported, {doc["id"]: uid})).status_code == 202
    await run_worker(settings)
    photo = next(ds for ds in on_pacs(pacs) if ds.Modality == "OT")
    pixels = photo.pixel_array
    assert tuple(pixels[0, 0]) == (200, 0, 0)
    assert tuple(pixels[0, 63]) == (255, 255, 255)  # transparent: white, as a page is


async def test_a_refused_confirmation_files_no_document(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """The gate refuses (a patient not acknowledged): the documents stay unfiled and a study the
    PACS holds stays wholly there, whatever the refused request asked."""
    medium = disc()
    first = await journey.start(accession="ACC0001")
    imported = await journey.import_media(first, medium)
    assert (await confirm(journey, first, imported, {})).status_code == 202
    await run_worker(settings)

    # the same Patient ID (the PACS holds the study under it), a name that does not match
    other = {**DEMO_PATIENT, "name": "BIANCHI^LUCIA"}
    again = await journey.start(accession="ACC0002", patient=other)
    second = await journey.import_media(again, medium)
    uid = second["studies"][0]["study_instance_uid"]
    pdf = next(d for d in second["documents"] if d["kind"] == "pdf")
    assert second["studies"][0]["on_pacs"] is True
    refused = await confirm(journey, again, second, {pdf["id"]: uid})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "identity_not_acknowledged"
    after = await journey.get_import(again, second["id"])
    assert after["status"] == "awaiting_confirmation"
    assert {d["outcome"] for d in after["documents"]} == {"not_selected"}
    assert after["studies"][0]["on_pacs"] is True


# pynetdicom leaves the socket of a refused connection to the garbage collector
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_confirmation_reopened_files_only_the_documents_chosen_again(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """Wrapped, then the PACS away before anything was sent, then the RIS corrected the order:
    the import goes back to confirmation with its documents unfiled and unwrapped, and what the
    user chooses the second time is what is filed (the report left out is never sent)."""
    session = await journey.start(accession="ACC-DOC-R")
    imported = await journey.import_media(session, disc())
    uid = imported["studies"][0]["study_instance_uid"]
    ids = {d["kind"]: d["id"] for d in imported["documents"]}
    answer = await confirm(journey, session, imported, {ids["pdf"]: uid, ids["jpeg"]: uid})
    assert answer.status_code == 202, answer.text
    unreachable = settings.model_copy(
        update={"pacs_url": f"dimse://GONE@127.0.0.1:{free_port()}", "stage_attempts": 1}
    )
    await run_worker(unreachable)
    failed = await journey.get_import(session, imported["id"])
    assert failed["status"] == "failed"
    assert failed["studies"][0]["instance_count"] == 3  # both wrapped before the store failed

    await ris_corrects(journey, "ACC-DOC-R", {**DEMO_PATIENT, "name": "BIANCHI^LUCA"})
    # as if it had failed before the store began: it goes back to the comparison
    await db_execute(settings, update(Stage).values(started_at=None).where(Stage.name == "store"))
    retried = await journey.client.post(
        f"/api/v1/imports/{imported['id']}/retry", headers=session.headers
    )
    assert retried.json()["error"]["code"] == "order_changed"
    back = await journey.get_import(session, imported["id"])
    assert back["status"] == "awaiting_confirmation"
    assert {d["outcome"] for d in back["documents"]} == {"not_selected"}
    (study,) = back["studies"]
    assert (study["instance_count"], study["series_count"]) == (1, 1)
    left = await db_rows(
        settings, select(Instance.sop_class_uid).where(Instance.import_id == imported["id"])
    )
    assert len(left) == 1

    answer = await journey.client.post(
        f"/api/v1/imports/{imported['id']}/confirm",
        json={
            "studies": [uid],
            "acknowledge_identity": True,
            "documents": {ids["jpeg"]: uid},
        },
        headers=session.headers,
    )
    assert answer.status_code == 202, answer.text
    await run_worker(settings)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    classes = sorted(str(ds.SOPClassUID.name) for ds in on_pacs(pacs))
    assert classes == ["CT Image Storage", "Secondary Capture Image Storage"]
