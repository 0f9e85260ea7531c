"""A medium holding everything real patient discs hold, through the real API, worker and PACS:
every file is accounted for, every valid object reaches the PACS under the order's patient."""

from __future__ import annotations

from collections import Counter

import pydicom

from devstack import OrthancProcess
from importer.settings import Settings
from tests.integration.media.helpers import analyse, confirm_all_and_process, stored_patient_id
from tests.integration.media.zoo import media_zoo, sample, zip_of
from tests.support.app import DEMO_PATIENT, Journey
from tests.support.orthanc import orthanc_sop_instance_uids

NON_DICOM = {
    "not_dicom",
    "junk",
    "empty",
    "nested_archive",
    "document_unreadable",
    "document_too_large",
}
UNREADABLE = {"unreadable", "truncated", "missing_uid", "encrypted", "unsupported_compression"}


async def test_every_file_of_the_zoo_is_accounted_for_and_every_object_reaches_the_pacs(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    medium = media_zoo()
    session = await journey.start()
    imported = await analyse(journey, session, medium.archive())
    assert imported["status"] == "awaiting_confirmation", imported["error"]

    # every file is an instance of a study or skipped with the expected reason, once
    media = imported["media"]
    skipped = media["skipped"]
    assert Counter(s["path"] for s in skipped).most_common(1)[0][1] == 1
    assert {s["path"]: s["reason"] for s in skipped} == {**medium.skipped, **medium.missing}
    assert all(s["message"] for s in skipped)
    assert media["files"] == medium.files
    assert media["dicom"] == len(medium.instances)
    assert media["files"] == media["dicom"] + len(medium.skipped)
    reasons = Counter(medium.skipped.values())
    assert media["non_dicom"] == sum(n for r, n in reasons.items() if r in NON_DICOM)
    assert media["unreadable"] == sum(n for r, n in reasons.items() if r in UNREADABLE)
    assert media["dicomdir"] is True
    studies = imported["studies"]
    assert {s["study_instance_uid"]: s["instance_count"] for s in studies} == medium.by_study()
    assert all(not s["on_pacs"] for s in studies)

    done = await confirm_all_and_process(journey, session, imported)
    assert done["status"] == "completed", done["error"]
    assert {st["name"]: st["status"] for s in done["studies"] for st in s["stages"]}["store"] == (
        "done"
    )

    # every valid object is in the PACS, under the order's patient
    expected = {sop for sop, _ in medium.instances.values()}
    assert orthanc_sop_instance_uids(pacs.http_url) == expected
    patient_ids = {sop: stored_patient_id(pacs.http_url, sop) for sop in sorted(expected)}
    assert set(patient_ids.values()) == {DEMO_PATIENT["id"]}


async def test_two_different_objects_under_one_uid_are_never_sent(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """pydicom ships MR_small in several encodings under one SOP Instance UID: a medium that
    holds two of them is read, but the study is refused before anything reaches the PACS."""
    session = await journey.start()
    archive = zip_of(
        [
            ("DICOM/MR_LE", sample("MR_small.dcm").read_bytes()),
            ("DICOM/MR_RLE", sample("MR_small_RLE.dcm").read_bytes()),
        ]
    )
    imported = await analyse(journey, session, archive)
    assert imported["status"] == "awaiting_confirmation", imported["error"]
    assert imported["media"]["dicom"] == 2
    assert imported["media"]["skipped"] == []  # not an identical copy: never dropped silently

    failed = await confirm_all_and_process(journey, session, imported)
    assert failed["status"] == "failed"
    verify = next(s for s in failed["studies"][0]["stages"] if s["name"] == "verify")
    assert verify["status"] == "failed"
    assert "DICOM/MR_RLE" in verify["message"]
    assert "shares its SOP Instance UID with DICOM/MR_LE" in verify["message"]
    assert orthanc_sop_instance_uids(pacs.http_url) == set()


async def test_a_byte_identical_copy_is_imported_once(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    session = await journey.start()
    ct = sample("CT_small.dcm").read_bytes()
    imported = await analyse(journey, session, zip_of([("A/IM1", ct), ("B/IM1", ct)]))
    assert imported["media"]["dicom"] == 1
    assert [(s["path"], s["reason"]) for s in imported["media"]["skipped"]] == [
        ("B/IM1", "duplicate_instance")
    ]
    done = await confirm_all_and_process(journey, session, imported)
    assert done["status"] == "completed", done["error"]
    uid = str(pydicom.dcmread(sample("CT_small.dcm")).SOPInstanceUID)
    assert orthanc_sop_instance_uids(pacs.http_url) == {uid}
