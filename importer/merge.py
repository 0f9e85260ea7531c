"""PACS-side patient merge (the optional ``merge`` stage).

After a study is filed under the local patient, the PACS may still hold earlier studies of the
same person under the outside Patient ID written on the medium (an earlier import without
reconciliation, a referral sent directly). A merger moves those under the local patient, keeping
every UID. Patient IDs are unique only within their issuer: without an issuer on the medium
nothing is merged.

One implementation: Orthanc's REST API (``IMPORTER_MERGE_URL=orthanc+http://host:port``).
A move is idempotent: a merge interrupted half-way finishes on the next attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx


@dataclass(frozen=True, slots=True)
class PatientRef:
    id: str
    issuer: str


@dataclass(frozen=True, slots=True)
class LocalPatient:
    id: str
    issuer: str
    name: str
    birth_date: str
    sex: str


@dataclass(frozen=True, slots=True)
class MergeResult:
    studies_moved: int
    message: str


class MergeError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PatientMerger(Protocol):
    def merge(self, *, foreign: PatientRef, local: LocalPatient) -> MergeResult: ...


class OrthancMerger:
    """Moves an Orthanc patient's studies under another patient with ``/modify`` (UIDs kept)."""

    def __init__(self, base_url: str, *, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def merge(self, *, foreign: PatientRef, local: LocalPatient) -> MergeResult:
        if not foreign.issuer:
            return MergeResult(
                0,
                "The medium gives no issuer for its Patient ID: nothing merged (a Patient ID "
                "alone may belong to another person at another hospital).",
            )
        if (foreign.id, foreign.issuer) == (local.id, local.issuer):
            return MergeResult(0, "The medium already uses the local Patient ID.")
        try:
            with httpx.Client(base_url=self.base_url, timeout=self.timeout) as http:
                found = http.post(
                    "/tools/find",
                    json={"Level": "Patient", "Query": {"PatientID": foreign.id}, "Expand": True},
                )
                found.raise_for_status()
                moved = 0
                for patient in found.json():
                    tags = patient.get("MainDicomTags", {})
                    if tags.get("PatientID") != foreign.id:
                        continue
                    for study in patient.get("Studies", []):
                        if self._issuer_of(http, study) != foreign.issuer:
                            continue
                        self._move(http, study, local)
                        moved += 1
        except httpx.HTTPError as exc:
            raise MergeError(
                "merge_failed", f"The PACS merge did not go through ({type(exc).__name__})."
            ) from exc
        if not moved:
            return MergeResult(0, "No earlier study of the medium's patient on the PACS.")
        return MergeResult(
            moved, f"{moved} earlier study(ies) of the medium's patient moved to the local patient."
        )

    @staticmethod
    def _issuer_of(http: httpx.Client, study: str) -> str:
        instances = http.get(f"/studies/{study}/instances")
        instances.raise_for_status()
        first = instances.json()[0]["ID"]
        tags = http.get(f"/instances/{first}/simplified-tags")
        tags.raise_for_status()
        return str(tags.json().get("IssuerOfPatientID", ""))

    @staticmethod
    def _move(http: httpx.Client, study: str, local: LocalPatient) -> None:
        """Orthanc 1.10 cannot give a study another PatientID: each instance is rewritten
        (UIDs kept), stored again, and only then the original deleted."""
        replace = {
            "PatientID": local.id,
            "PatientName": local.name,
            "PatientBirthDate": local.birth_date,
            "PatientSex": local.sex,
            "IssuerOfPatientID": local.issuer,
        }
        instances = http.get(f"/studies/{study}/instances")
        instances.raise_for_status()
        for instance in instances.json():
            modified = http.post(
                f"/instances/{instance['ID']}/modify",
                json={
                    "Replace": replace,
                    "Keep": ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"],
                    "Force": True,
                },
            )
            modified.raise_for_status()
            stored = http.post(
                "/instances",
                content=modified.content,
                headers={"Content-Type": "application/dicom"},
            )
            stored.raise_for_status()
            http.delete(f"/instances/{instance['ID']}").raise_for_status()


def make_merger(url: str) -> PatientMerger:
    if url.startswith("orthanc+"):
        return OrthancMerger(url.removeprefix("orthanc+"))
    raise ValueError("IMPORTER_MERGE_URL must be orthanc+http(s)://host:port")
