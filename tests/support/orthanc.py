"""A small typed client for Orthanc's REST API, for tests: what did the PACS receive?"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import httpx

TIMEOUT_S = 10.0


def _get(http_url: str, path: str) -> Any:
    response = httpx.get(f"{http_url}{path}", timeout=TIMEOUT_S)
    response.raise_for_status()
    return response.json()


def orthanc_instances(http_url: str) -> list[str]:
    """Orthanc ids of every stored instance."""
    return cast(list[str], _get(http_url, "/instances"))


def orthanc_studies(http_url: str) -> list[str]:
    """Orthanc ids of every stored study."""
    return cast(list[str], _get(http_url, "/studies"))


def orthanc_instance_tags(http_url: str, instance_id: str) -> dict[str, Any]:
    """The instance's tags by keyword (``/instances/{id}/simplified-tags``)."""
    return cast(dict[str, Any], _get(http_url, f"/instances/{instance_id}/simplified-tags"))


def orthanc_study(http_url: str, study_id: str) -> dict[str, Any]:
    """A study resource: ``MainDicomTags``, ``PatientMainDicomTags``, ``Series``..."""
    return cast(dict[str, Any], _get(http_url, f"/studies/{study_id}"))


def orthanc_sop_instance_uids(http_url: str) -> set[str]:
    """The SOP Instance UIDs Orthanc holds."""
    expanded = cast(list[dict[str, Any]], _get(http_url, "/instances?expand"))
    return {str(item["MainDicomTags"]["SOPInstanceUID"]) for item in expanded}


def orthanc_lookup(http_url: str, uid: str) -> list[dict[str, str]]:
    """Resources whose DICOM UID (patient/study/series/SOP) is ``uid`` (``/tools/lookup``)."""
    response = httpx.post(f"{http_url}/tools/lookup", content=uid, timeout=TIMEOUT_S)
    response.raise_for_status()
    return cast(list[dict[str, str]], response.json())


def orthanc_upload(http_url: str, source: Path | bytes) -> dict[str, Any]:
    """Store one DICOM file (a path, or bytes built in memory) through REST
    (``POST /instances``), e.g. to pre-seed a study. Returns Orthanc's answer
    (``ID``, ``ParentStudy``, ``Status``...)."""
    response = httpx.post(
        f"{http_url}/instances",
        content=source.read_bytes() if isinstance(source, Path) else source,
        headers={"Content-Type": "application/dicom"},
        timeout=TIMEOUT_S,
    )
    response.raise_for_status()
    return cast(dict[str, Any], response.json())


def orthanc_delete_all(http_url: str) -> None:
    """Delete every patient (and so every study and instance) Orthanc holds."""
    for patient in cast(list[str], _get(http_url, "/patients")):
        httpx.delete(f"{http_url}/patients/{patient}", timeout=TIMEOUT_S).raise_for_status()


def orthanc_instance_id(http_url: str, sop_instance_uid: str) -> str | None:
    """Orthanc's id of the instance with ``sop_instance_uid``, or None when it holds none."""
    for resource in orthanc_lookup(http_url, sop_instance_uid):
        if resource.get("Type") == "Instance":
            return resource["ID"]
    return None


def orthanc_instance_file(http_url: str, sop_instance_uid: str) -> bytes:
    """The DICOM file Orthanc stored for ``sop_instance_uid`` (``/instances/{id}/file``)."""
    instance_id = orthanc_instance_id(http_url, sop_instance_uid)
    if instance_id is None:
        raise LookupError(f"Orthanc holds no instance {sop_instance_uid}")
    response = httpx.get(f"{http_url}/instances/{instance_id}/file", timeout=TIMEOUT_S)
    response.raise_for_status()
    return response.content


def orthanc_instance_count(http_url: str) -> int:
    """How many instances Orthanc holds (``/statistics``)."""
    return int(cast(dict[str, Any], _get(http_url, "/statistics"))["CountInstances"])
