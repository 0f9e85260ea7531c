"""The spool's free space through the real API and worker: an archive the spool has no room
for is refused before anything is unpacked (``spool_full``), the upload is kept, and a retry
once space is freed analyses the medium."""

from __future__ import annotations

from pathlib import Path

from importer.settings import Settings
from tests.integration.media.helpers import upload
from tests.integration.media.hostile import SpoolWatch, tree
from tests.integration.media.zoo import sample, zip_of
from tests.support.app import Journey, run_worker


async def test_no_room_on_the_spool_fails_before_unpacking_and_a_retry_works(
    journey: Journey, settings: Settings, tmp_path: Path
) -> None:
    archive = zip_of(
        [
            ("DICOM/IM0001", sample("CT_small.dcm").read_bytes()),
            ("DICOM/IM0002", sample("MR_small.dcm").read_bytes()),
        ]
    )
    session = await journey.start()
    import_id = await upload(journey, session, archive)
    import_dir = settings.effective_spool_dir / "imports" / import_id
    # a margin no disk here can keep: the spool lacks room whatever it holds
    no_room = settings.model_copy(update={"spool_free_margin_bytes": 1 << 60})

    with SpoolWatch(import_dir / "media") as unpacked:
        await run_worker(no_room)

    failed = await journey.get_import(session, import_id)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "spool_full", failed["error"]
    assert "space" in failed["error"]["message"]
    assert "IM0001" not in failed["error"]["message"]
    assert failed["studies"] == []
    assert unpacked.peak == 0, "nothing was unpacked"
    assert tree(import_dir) == {"upload.zip": len(archive)}, "the upload is kept"

    retried = await journey.client.post(
        f"/api/v1/imports/{import_id}/retry", headers=session.headers
    )
    assert retried.status_code == 202, retried.text
    await run_worker(settings)

    again = await journey.get_import(session, import_id)
    assert again["status"] == "awaiting_confirmation", again.get("error")
    assert again["studies"]
