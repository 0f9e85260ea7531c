"""What the app is given to word an import's progress and end: each stage of a completed import
has a message code with its counts, and a damaged medium ends with a code, its params and an
English message in our words (never a library's error text, never an entry's name)."""

from __future__ import annotations

import io
import zipfile

from pydicom import dcmread
from pydicom.uid import generate_uid

from importer.messages import MessageCode
from tests.support.app import Journey, make_zip, run_worker, sample


def one_study(instances: int) -> bytes:
    """A medium of one study with ``instances`` instances (copies of one image, new UIDs)."""
    ds = dcmread(sample("CT_small.dcm"))
    ds.StudyInstanceUID = generate_uid()
    files = []
    for number in range(instances):
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        out = io.BytesIO()
        ds.save_as(out, enforce_file_format=True)
        files.append((f"DICOM/IM{number}", out.getvalue()))
    return make_zip(files)


async def test_each_stage_of_a_completed_import_has_a_code_with_its_counts(
    journey: Journey,
) -> None:
    session = await journey.start()
    imported = await journey.import_media(session, one_study(3))
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
    await run_worker(journey.settings)

    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    stages = {s["name"]: s for s in done["studies"][0]["stages"]}
    assert all(s["code"] in set(MessageCode) for s in stages.values()), stages
    assert (stages["verify"]["code"], stages["verify"]["params"]) == (
        "instances_verified",
        {"count": 3},
    )
    assert stages["store"]["code"] == "instances_stored"
    assert stages["store"]["params"] == {"count": 3, "total": 3, "already": 0, "warnings": 0}
    # what was not needed says why, as a code the app words
    assert stages["commit"]["code"] == "commit_not_configured"
    assert stages["merge"]["code"] == "merge_not_configured"
    assert stages["notify"]["code"] == "notify_no_callback"
    assert stages["finish"]["code"] == "study_imported"
    assert all(s["message"] for s in stages.values())  # the English stays, for integrators


def damaged_zip() -> bytes:
    """A ZIP whose one entry's bytes were damaged after its first kilobyte (its CRC fails)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("ROSSI_MARIO/IM1", sample("CT_small.dcm").read_bytes())
    data = bytearray(buffer.getvalue())
    data[20_000] ^= 0xFF
    return bytes(data)


async def test_a_damaged_or_foreign_archive_ends_archive_invalid_in_our_words(
    journey: Journey,
) -> None:
    session = await journey.start()
    for archive in (b"This is not a ZIP archive at all." * 10, damaged_zip()):
        imported = await journey.import_media(session, archive)
        assert imported["status"] == "failed"
        error = imported["error"]
        assert error["code"] == "archive_invalid"
        assert isinstance(error["params"], dict)
        message = error["message"]
        assert message
        for quoted in ("zip file", "BadZipFile", "CRC", "Errno", "ROSSI", "IM1"):
            assert quoted.casefold() not in message.casefold(), message
