"""PACS-side patient merge (the optional ``merge`` stage).

After a study is filed under the local patient, the PACS may still hold earlier studies of the
same person under the outside Patient ID written on the medium (an earlier import without
reconciliation, a referral sent directly). A merger moves those under the local patient, keeping
every UID. It never moves a local patient's study:

- Patient IDs are unique only within their issuer: without an issuer on the medium nothing is
  merged; nor when the issuer is one of the hospital's own (``IMPORTER_LOCAL_ISSUERS``, and the
  order's own issuer), whose IDs name local patients;
- only studies under the medium's Patient ID *and* issuer are candidates, and each is moved
  only when its patient on the PACS compares ``match`` or ``format_different`` with the local
  patient (:mod:`importer.identity.gate`): the same outside ID given to another person is left
  alone.

The pipeline decides before calling whether a merge may happen at all (no merge after an
acknowledged identity mismatch) and records each moved study in the audit trail.

One implementation: Orthanc's REST API (``IMPORTER_MERGE_URL=orthanc+http://host:port``).
A move is idempotent: a merge interrupted half-way finishes on the next attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from importer.errors import Failure
from importer.identity.gate import ACCEPTED, Person, compare, overall

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PatientRef:
    id: str
    issuer: str


LocalPatient = Person
"""The local patient a study is filed under (the order's, or the target frozen at confirmation)."""


@dataclass(frozen=True, slots=True)
class MovedStudy:
    """One study moved under the local patient (its UIDs kept)."""

    study_instance_uid: str
    pacs_study: str  # the PACS's own id of the study before the move (Orthanc: its resource id)
    instances: int


@dataclass(frozen=True, slots=True)
class MergeResult:
    moved: tuple[MovedStudy, ...]
    message: str
    left_alone: int = 0  # studies under the same ID and issuer whose patient did not compare
    refused: bool = False  # nothing may be merged for this patient at all (:func:`refusal`)

    @property
    def studies_moved(self) -> int:
        return len(self.moved)


class MergeError(Failure):
    """The PACS-side merge did not go through (``merge_failed``); tried again later."""

    retryable = True

    def __init__(
        self,
        code: str,
        message: str,
        *,
        moved: Iterable[MovedStudy] = (),
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, message, params=params)
        self.moved = tuple(moved)  # what was moved before the error (audited all the same)


class PatientMerger(Protocol):
    def merge(self, *, foreign: PatientRef, local: LocalPatient) -> MergeResult: ...


def _fold(issuer: str) -> str:
    return issuer.strip().upper()


def refusal(
    foreign: PatientRef, local: LocalPatient, local_issuers: Iterable[str]
) -> MergeResult | None:
    """Why nothing may be merged for ``foreign`` at all, or None."""
    if not foreign.issuer.strip():
        return MergeResult(
            (),
            "The medium gives no issuer for its Patient ID: nothing merged (a Patient ID "
            "alone may belong to another person at another hospital).",
            refused=True,
        )
    if (foreign.id, foreign.issuer) == (local.id, local.issuer):
        return MergeResult((), "The medium already uses the local Patient ID.")
    local_set = {_fold(i) for i in local_issuers if i.strip()} | {_fold(local.issuer)}
    if _fold(foreign.issuer) in local_set - {""}:
        return MergeResult(
            (),
            "The medium's Patient ID is issued by this hospital: a local patient's studies are "
            "never merged.",
            refused=True,
        )
    return None


class OrthancMerger:
    """Moves an Orthanc patient's studies under another patient with ``/modify`` (UIDs kept)."""

    def __init__(
        self, base_url: str, *, local_issuers: Iterable[str] = (), timeout: float = 60.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.local_issuers = tuple(local_issuers)
        self.timeout = timeout

    def merge(self, *, foreign: PatientRef, local: LocalPatient) -> MergeResult:
        refused = refusal(foreign, local, self.local_issuers)
        if refused is not None:
            return refused
        expected = local
        moved: list[MovedStudy] = []
        left_alone = 0
        try:
            with httpx.Client(base_url=self.base_url, timeout=self.timeout) as http:
                found = http.post(
                    "/tools/find",
                    json={"Level": "Patient", "Query": {"PatientID": foreign.id}, "Expand": True},
                )
                found.raise_for_status()
                for patient in found.json():
                    tags = patient.get("MainDicomTags", {})
                    if tags.get("PatientID") != foreign.id:
                        continue
                    for study in patient.get("Studies", []):
                        first = self._first_instance_tags(http, study)
                        if first is None or str(first.get("IssuerOfPatientID", "")) != (
                            foreign.issuer
                        ):
                            continue
                        if overall(compare(expected, _person_of(first))) not in ACCEPTED:
                            left_alone += 1
                            continue
                        count = self._move(http, study, local)
                        moved.append(
                            MovedStudy(
                                study_instance_uid=str(first.get("StudyInstanceUID", "")),
                                pacs_study=study,
                                instances=count,
                            )
                        )
        except httpx.HTTPError as exc:
            log.warning("the PACS merge stopped (%s)", type(exc).__name__)
            raise MergeError(
                "merge_failed",
                f"The PACS merge did not go through ({len(moved)} earlier study(ies) moved "
                "before it stopped).",
                moved=moved,
                params=_failure_params(exc, len(moved)),
            ) from exc
        others = (
            f" {left_alone} study(ies) under the same Patient ID belong to another person "
            "and were left alone."
            if left_alone
            else ""
        )
        if not moved:
            return MergeResult(
                (), "No earlier study of the medium's patient on the PACS." + others, left_alone
            )
        return MergeResult(
            tuple(moved),
            f"{len(moved)} earlier study(ies) of the medium's patient moved to the local "
            "patient." + others,
            left_alone,
        )

    @staticmethod
    def _first_instance_tags(http: httpx.Client, study: str) -> dict[str, Any] | None:
        instances = http.get(f"/studies/{study}/instances")
        instances.raise_for_status()
        listed = instances.json()
        if not listed:
            return None
        tags = http.get(f"/instances/{listed[0]['ID']}/simplified-tags")
        tags.raise_for_status()
        found: dict[str, Any] = tags.json()
        return found

    @staticmethod
    def _move(http: httpx.Client, study: str, local: LocalPatient) -> int:
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
        listed = instances.json()
        for instance in listed:
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
        return len(listed)


def _failure_params(exc: httpx.HTTPError, moved: int) -> dict[str, Any]:
    """The facts of a merge that stopped: what it moved first, and the PACS's HTTP status
    when it answered one."""
    params: dict[str, Any] = {"count": moved}
    if isinstance(exc, httpx.HTTPStatusError):
        params["http_status"] = exc.response.status_code
    return params


def _person_of(tags: dict[str, Any]) -> Person:
    return Person(
        name=str(tags.get("PatientName", "") or ""),
        id=str(tags.get("PatientID", "") or ""),
        issuer=str(tags.get("IssuerOfPatientID", "") or ""),
        birth_date=str(tags.get("PatientBirthDate", "") or ""),
        sex=str(tags.get("PatientSex", "") or ""),
    )


def make_merger(url: str, *, local_issuers: Iterable[str] = ()) -> PatientMerger:
    if url.startswith("orthanc+"):
        return OrthancMerger(url.removeprefix("orthanc+"), local_issuers=local_issuers)
    raise ValueError("IMPORTER_MERGE_URL must be orthanc+http(s)://host:port")
