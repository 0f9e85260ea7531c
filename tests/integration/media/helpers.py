"""Steps the media tests share: upload a medium through the real API and let the worker run."""

from __future__ import annotations

from typing import Any

from tests.support.app import Journey, Launched, run_worker
from tests.support.orthanc import orthanc_instance_tags, orthanc_lookup

CHUNK = 1024 * 1024


async def upload(journey: Journey, session: Launched, archive: bytes) -> str:
    """Create an import and upload ``archive`` (tus, 1 MiB PATCHes); return its id."""
    created = await journey.create_import(session, len(archive))
    await journey.upload(session, created["upload_url"], archive, chunk=CHUNK)
    import_id: str = created["id"]
    return import_id


async def analyse(journey: Journey, session: Launched, archive: bytes) -> dict[str, Any]:
    """Upload ``archive`` and run the analysis; return the import as the browser sees it."""
    import_id = await upload(journey, session, archive)
    await run_worker(journey.settings)
    return await journey.get_import(session, import_id)


async def confirm_all_and_process(
    journey: Journey, session: Launched, imported: dict[str, Any]
) -> dict[str, Any]:
    """Confirm every study of the import (identity acknowledged), run the worker to the end."""
    uids = [s["study_instance_uid"] for s in imported["studies"]]
    response = await journey.confirm(session, imported["id"], uids, acknowledge=True)
    assert response.status_code == 202, response.text
    await run_worker(journey.settings)
    return await journey.get_import(session, imported["id"])


def stored_patient_id(http_url: str, sop_instance_uid: str) -> str | None:
    """The Patient ID the PACS holds for an instance, or None when it holds no such instance."""
    for resource in orthanc_lookup(http_url, sop_instance_uid):
        if resource.get("Type") == "Instance":
            return str(orthanc_instance_tags(http_url, resource["ID"]).get("PatientID"))
    return None
