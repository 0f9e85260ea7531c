"""Take instances back from the PACS: the adapters an undo (:mod:`importer.imports.undo`) asks,
chosen by ``IMPORTER_REJECT_URL``. Each is asked for exactly the instances an import stored,
one study at a time, and answers for each whether the PACS holds it no longer.

- ``orthanc+http(s)://host:port``: Orthanc's REST API deletes each instance by its Orthanc id,
  which Orthanc derives from the Patient ID and the three UIDs the instance was stored with: a
  copy of the same SOP instance under another patient (stored by someone else) has another id
  and is never touched.
- ``kos``: an IHE IOCM rejection note (:mod:`importer.pacs.rejection`) sent to the PACS over
  DIMSE; the PACS hides the instances it references. Taken as done for the instances the PACS
  no longer lists afterwards (C-FIND): one without IOCM keeps them, and the undo fails
  (``pacs_unsupported``).
- ``dicomweb+http(s)://host/path``: the PACS's DICOMweb reject endpoint for each instance
  (``POST …/studies/{study}/series/{series}/instances/{instance}/reject/{code}^{scheme}``, as
  dcm4chee-arc has it).

An instance the PACS no longer holds (deleted by hand, or by an earlier try) is taken back
already; with Orthanc, one found under another id (moved to another patient since) is not ours
to delete, and fails the undo. Adapters never log patient data.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

import httpx

from importer.pacs.base import PacsClient, PacsError, StoreItem
from importer.pacs.rejection import (
    REASONS,
    NoteStudy,
    RejectedInstance,
    UndoReason,
    rejection_note,
)

log = logging.getLogger(__name__)

TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class RejectResult:
    """What became of one study's instances: ``taken`` the SOP Instance UIDs the PACS holds no
    longer (``absent``: of those, the ones it did not hold when asked), ``failed`` the others
    with a ``pacs_*`` code."""

    taken: frozenset[str]
    absent: frozenset[str] = frozenset()
    failed: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Tally:
    """The PACS's answers, one instance after the other, as an HTTP adapter gets them."""

    taken: set[str] = field(default_factory=set)
    absent: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)

    def answer(
        self, uid: str, response: httpx.Response, *, elsewhere: Callable[[], bool] | None = None
    ) -> None:
        """A 2xx: taken back; a 404: not there any more, unless ``elsewhere`` finds it under
        another name; anything else: refused."""
        if response.status_code == 404:
            if elsewhere is not None and elsewhere():
                self.failed[uid] = PacsError.FAILED
            else:
                self.absent.add(uid)
        elif response.is_success:
            self.taken.add(uid)
        else:
            self.failed[uid] = PacsError.REJECTED

    def result(self) -> RejectResult:
        return RejectResult(
            frozenset(self.taken | self.absent), frozenset(self.absent), self.failed
        )


class Rejector(Protocol):
    def reject(
        self, study: NoteStudy, instances: Sequence[RejectedInstance], reason: UndoReason
    ) -> RejectResult:
        """Ask the PACS to take back ``instances`` of ``study`` (stored as ``study`` says).
        Raises :class:`PacsError` when the PACS cannot be asked at all."""
        ...


def orthanc_id(patient_id: str, *uids: str) -> str:
    """Orthanc's id of a resource: the SHA-1 of the Patient ID and the UIDs down to it, joined
    by ``|``, in five groups of eight hex digits (the Orthanc Book, "Orthanc identifiers")."""
    digest = hashlib.sha1("|".join((patient_id, *uids)).encode()).hexdigest()  # noqa: S324
    return "-".join(digest[i : i + 8] for i in range(0, 40, 8))


def _unreachable(exc: httpx.HTTPError) -> PacsError:
    code = PacsError.TIMEOUT if isinstance(exc, httpx.TimeoutException) else PacsError.UNREACHABLE
    return PacsError(
        code, f"The PACS could not be asked to take images back ({type(exc).__name__})."
    )


class OrthancRejector:
    def __init__(self, base_url: str, *, timeout: float = TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def reject(
        self, study: NoteStudy, instances: Sequence[RejectedInstance], reason: UndoReason
    ) -> RejectResult:
        tally = _Tally()
        try:
            with httpx.Client(base_url=self.base_url, timeout=self.timeout) as http:
                # an Orthanc that answers (not a wrong URL whose every path is 404)
                system = http.get("/system")
                if not system.is_success or "Version" not in system.json():
                    raise PacsError(
                        PacsError.FAILED, "IMPORTER_REJECT_URL does not answer as Orthanc."
                    )

                def elsewhere(uid: str) -> bool:
                    """A copy under another id (moved to another patient since): not ours."""
                    found = http.post("/tools/lookup", content=uid)
                    found.raise_for_status()
                    return any(r.get("Type") == "Instance" for r in found.json())

                for inst in instances:
                    ident = orthanc_id(
                        study.patient_id,
                        study.study_instance_uid,
                        inst.series_instance_uid,
                        inst.sop_instance_uid,
                    )
                    uid = inst.sop_instance_uid
                    answer = http.delete(f"/instances/{ident}")
                    tally.answer(uid, answer, elsewhere=partial(elsewhere, uid))
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from exc
        except ValueError as exc:  # an answer that is not Orthanc's JSON
            raise PacsError(PacsError.FAILED, "The PACS answered as no Orthanc does.") from exc
        return tally.result()


class DicomWebRejector:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.transport = transport  # tests: a PACS we cannot run here

    def reject(
        self, study: NoteStudy, instances: Sequence[RejectedInstance], reason: UndoReason
    ) -> RejectResult:
        code = REASONS[reason]
        tally = _Tally()
        try:
            with httpx.Client(
                base_url=self.base_url, timeout=self.timeout, transport=self.transport
            ) as http:
                for inst in instances:
                    path = (
                        f"/studies/{study.study_instance_uid}/series/{inst.series_instance_uid}"
                        f"/instances/{inst.sop_instance_uid}/reject/{code.value}^{code.scheme}"
                    )
                    tally.answer(inst.sop_instance_uid, http.post(path))
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from exc
        return tally.result()


class KosRejector:
    def __init__(self, pacs: Callable[[], PacsClient], *, manufacturer: str) -> None:
        self.pacs = pacs
        self.manufacturer = manufacturer

    def reject(
        self, study: NoteStudy, instances: Sequence[RejectedInstance], reason: UndoReason
    ) -> RejectResult:
        note = rejection_note(study, instances, reason, manufacturer=self.manufacturer)
        item = StoreItem(
            key="rejection-note",
            sop_class_uid=str(note.SOPClassUID),
            sop_instance_uid=str(note.SOPInstanceUID),
            transfer_syntax_uid=str(note.file_meta.TransferSyntaxUID),
            load=lambda: note,
        )
        client = self.pacs()
        outcomes = list(client.store([item]))
        uids = [i.sop_instance_uid for i in instances]
        if not (outcomes and outcomes[0].ok):
            log.warning(
                "the PACS refused the rejection note (status %s)",
                outcomes[0].status if outcomes else "none",
            )
            return RejectResult(frozenset(), failed=dict.fromkeys(uids, PacsError.REJECTED))
        # the note stored says nothing of what the PACS did with it: a PACS without IOCM keeps
        # the instances and lists them still (pacs_unsupported: taken back by nobody)
        still = client.find_instances(study.study_instance_uid) & set(uids)
        return RejectResult(
            frozenset(set(uids) - still), failed=dict.fromkeys(still, PacsError.UNSUPPORTED)
        )


def rejector_for(
    url: str | None, pacs: Callable[[], PacsClient], *, manufacturer: str
) -> Rejector | None:
    """The adapter ``IMPORTER_REJECT_URL`` names (``None``: none is set)."""
    if not url:
        return None
    if url == "kos":
        return KosRejector(pacs, manufacturer=manufacturer)
    if url.startswith("orthanc+"):
        return OrthancRejector(url.removeprefix("orthanc+"))
    if url.startswith("dicomweb+"):
        return DicomWebRejector(url.removeprefix("dicomweb+"))
    raise ValueError("IMPORTER_REJECT_URL: expected orthanc+http(s)://, kos or dicomweb+http(s)://")
