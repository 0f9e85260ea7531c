"""Modality Worklist client (pynetdicom): C-FIND on the RIS worklist, and the patient search.

Synchronous; the worker calls it through ``asyncio.to_thread``. Every call opens its own
association (:func:`importer.dimse.associate`), so one :class:`WorklistClient` may be used from
several threads at once. Patient data is never logged: peers, steps and counts only.

The query building and the ranking are pure and live in :mod:`importer.worklist.query`; this
module speaks DICOM.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date

from pydicom import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import UID
from pynetdicom import build_context
from pynetdicom.association import Association
from pynetdicom.status import MODALITY_WORKLIST_SERVICE_CLASS_STATUS

from importer.dimse import (
    FIND_PENDING,
    STATUS_CANCEL,
    STATUS_SUCCESS,
    AssociationFailed,
    Refusal,
    associate,
    check_ae_title,
    describe_status,
    peer_of,
    release,
)
from importer.settings import DicomNode, Settings, parse_dimse_url
from importer.worklist.errors import WorklistError, WorklistNotConfigured
from importer.worklist.query import (
    Candidate,
    MatchingKeys,
    WorklistItem,
    WorklistQuery,
    normalise_date,
    rank_candidates,
    search_steps,
)

__all__ = [
    "CHARACTER_SET",
    "MODALITY_WORKLIST_FIND",
    "WorklistClient",
    "item_from_identifier",
    "request_identifier",
    "worklist_client",
]

logger = logging.getLogger(__name__)

MODALITY_WORKLIST_FIND = UID("1.2.840.10008.5.1.4.31")
"""Modality Worklist Information Model - FIND (PS3.4 K.6.1.1)."""

# C-FIND failures a worklist may answer (PS3.4 K.4.1.1.4); the others are in importer.dimse
STATUS_OUT_OF_RESOURCES = 0xA700
"""Refused: out of resources."""
STATUS_IDENTIFIER_DOES_NOT_MATCH = 0xA900
"""Failed: identifier does not match SOP class."""

CHARACTER_SET = "ISO_IR 192"
"""Specific Character Set of our requests (their keys are ASCII; UTF-8 answers are welcome)."""


def worklist_client(settings: Settings) -> WorklistClient:
    """The worklist of `settings`; :class:`WorklistNotConfigured` when there is none."""
    url = settings.worklist_url
    if not url:
        raise WorklistNotConfigured()
    if not url.startswith("dimse://"):
        raise WorklistNotConfigured("the worklist must be a dimse:// Modality Worklist SCP")
    return WorklistClient(
        parse_dimse_url(url), calling_ae=settings.calling_ae, timeout=settings.dimse_timeout_s
    )


# --------------------------------------------------------------------------- datasets


def request_identifier(keys: MatchingKeys) -> Dataset:
    """The C-FIND identifier for `keys`: the matching keys plus the return keys we read."""
    ds = Dataset()
    ds.SpecificCharacterSet = CHARACTER_SET
    ds.AccessionNumber = keys.accession_number
    ds.RequestedProcedureID = ""
    ds.RequestedProcedureDescription = ""
    ds.RequestedProcedureCodeSequence = []  # universal sequence matching: return it whole
    ds.PatientName = keys.patient_name
    ds.PatientID = keys.patient_id
    ds.IssuerOfPatientID = ""
    ds.PatientBirthDate = keys.birth_date
    ds.PatientSex = ""
    step = Dataset()
    step.Modality = ""
    step.ScheduledProcedureStepStartDate = keys.scheduled_date
    step.ScheduledProcedureStepStartTime = ""
    step.ScheduledProcedureStepID = ""
    ds.ScheduledProcedureStepSequence = [step]
    return ds


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    if isinstance(value, MultiValue):
        return "\\".join(str(v) for v in value).strip()
    return str(value).strip()


def _first_item(ds: Dataset, keyword: str) -> Dataset:
    items = ds.get(keyword)
    if items:
        first = items[0]
        if isinstance(first, Dataset):
            return first
    return Dataset()


def item_from_identifier(ds: Dataset) -> WorklistItem:
    """A :class:`WorklistItem` from one C-FIND answer (missing attributes become "").

    Text is decoded here (pydicom decodes lazily, with the answer's Specific Character Set):
    call it inside ``try``.
    """
    step = _first_item(ds, "ScheduledProcedureStepSequence")
    code = _first_item(ds, "RequestedProcedureCodeSequence")
    return WorklistItem(
        accession_number=_text(ds, "AccessionNumber"),
        requested_procedure_id=_text(ds, "RequestedProcedureID"),
        requested_procedure_description=_text(ds, "RequestedProcedureDescription"),
        procedure_code=_text(code, "CodeValue") or _text(code, "LongCodeValue"),
        modality=_text(step, "Modality"),
        scheduled_date=_text(step, "ScheduledProcedureStepStartDate"),
        scheduled_time=_text(step, "ScheduledProcedureStepStartTime"),
        patient_name=_text(ds, "PatientName"),
        patient_id=_text(ds, "PatientID"),
        issuer_of_patient_id=_text(ds, "IssuerOfPatientID"),
        patient_birth_date=_text(ds, "PatientBirthDate"),
        patient_sex=_text(ds, "PatientSex"),
        procedure_code_scheme=_text(code, "CodingSchemeDesignator"),
        scheduled_procedure_step_id=_text(step, "ScheduledProcedureStepID"),
    )


# --------------------------------------------------------------------------- client


class WorklistClient:
    """A Modality Worklist SCP reached over DIMSE (pynetdicom)."""

    def __init__(
        self,
        node: DicomNode,
        *,
        calling_ae: str,
        timeout: float = 30.0,
        max_matches: int = 500,
    ) -> None:
        check_ae_title(calling_ae)
        if max_matches < 1:
            raise ValueError("max_matches must be at least 1")
        self.node = node
        self.calling_ae = calling_ae
        self.timeout = timeout
        self.max_matches = max_matches

    def __repr__(self) -> str:
        return (
            f"WorklistClient({self.calling_ae} -> {self._peer}, timeout={self.timeout}, "
            f"max_matches={self.max_matches})"
        )

    @property
    def _peer(self) -> str:
        return peer_of(self.node)

    # -- association ----------------------------------------------------------------------

    def _associate(self) -> Association:
        logger.debug("worklist: associating %s -> %s", self.calling_ae, self._peer)
        try:
            assoc = associate(
                self.node,
                calling_ae=self.calling_ae,
                timeout=self.timeout,
                contexts=[build_context(MODALITY_WORKLIST_FIND)],
                peer_name="the worklist",
            )
        except AssociationFailed as exc:
            code = (
                WorklistError.UNREACHABLE
                if exc.refusal is Refusal.UNREACHABLE
                else WorklistError.FAILED
            )
            raise WorklistError(code, exc.message) from None
        if not assoc.accepted_contexts:
            assoc.release()
            raise WorklistError(
                WorklistError.FAILED,
                f"the worklist {self._peer} does not support Modality Worklist FIND",
            )
        return assoc

    # -- C-FIND ---------------------------------------------------------------------------

    def _find(self, assoc: Association, keys: Dataset) -> list[WorklistItem]:
        items: list[WorklistItem] = []
        undecodable = 0
        cancelled = False
        for status, identifier in assoc.send_c_find(keys, MODALITY_WORKLIST_FIND):
            if "Status" not in status:
                raise WorklistError(
                    WorklistError.FAILED,
                    f"the worklist {self._peer} stopped answering a C-FIND "
                    f"(no response within {self.timeout:.0f} s, or aborted)",
                    params={"seconds": round(self.timeout)},
                )
            code = int(status.Status)
            if code in FIND_PENDING:
                if cancelled or identifier is None:
                    continue
                try:
                    items.append(item_from_identifier(identifier))
                except Exception:  # an answer pydicom cannot decode: skip it, count it
                    undecodable += 1
                    logger.debug("worklist: undecodable C-FIND answer", exc_info=True)
                if len(items) >= self.max_matches and not cancelled:
                    cancelled = True
                    logger.warning(
                        "worklist: more than %d matches, C-CANCEL sent", self.max_matches
                    )
                    assoc.send_c_cancel(1, query_model=MODALITY_WORKLIST_FIND)
            elif code in (STATUS_SUCCESS, STATUS_CANCEL):
                break
            else:
                raise WorklistError(
                    WorklistError.FAILED,
                    f"the worklist {self._peer} failed a C-FIND: "
                    + describe_status(code, MODALITY_WORKLIST_SERVICE_CLASS_STATUS),
                    params={"status": f"0x{code:04X}"},
                )
        if undecodable:
            logger.warning("worklist: %d answers could not be decoded", undecodable)
        return items

    def find(self, keys: Dataset) -> list[WorklistItem]:
        """One Modality Worklist C-FIND with the identifier `keys` (see
        :func:`request_identifier`); at most ``max_matches`` items, in the SCP's order."""
        assoc = self._associate()
        try:
            items = self._find(assoc, keys)
        finally:
            release(assoc)
        logger.info("worklist: C-FIND on %s, %d matches", self._peer, len(items))
        return items

    def find_each(self, identifiers: Sequence[Dataset]) -> list[list[WorklistItem]]:
        """One C-FIND per identifier, all on one association; the matches of each, in order."""
        if not identifiers:
            return []
        assoc = self._associate()
        try:
            found = [self._find(assoc, keys) for keys in identifiers]
        finally:
            release(assoc)
        logger.info(
            "worklist: %d C-FINDs on %s, %d matches",
            len(found),
            self._peer,
            sum(len(items) for items in found),
        )
        return found

    def search(
        self,
        query: WorklistQuery,
        *,
        expected: Mapping[str, str | None] | None = None,
        limit: int = 50,
        today: date | None = None,
    ) -> list[Candidate]:
        """Search the worklist for `query`, relaxing step by step, best candidates first.

        The steps are :func:`~importer.worklist.query.search_steps`'; the first one that
        returns anything ends the search. Candidates are ranked against `expected` (the
        identity read from the media; by default the query's own name, birth date and sex).
        Raises :class:`WorklistError` when the worklist cannot be searched, ValueError for a
        scheduled date that is not a date.
        """
        today = today or date.today()
        steps = search_steps(query, today=today)
        identity = dict(expected) if expected is not None else query.identity()
        scheduled = normalise_date(query.scheduled_date[:8])
        reference_day = (
            date(int(scheduled[:4]), int(scheduled[4:6]), int(scheduled[6:]))
            if scheduled
            else today
        )
        assoc = self._associate()
        try:
            for number, step in enumerate(steps, start=1):
                items: list[WorklistItem] = []
                for keys in step.queries:
                    items.extend(self._find(assoc, request_identifier(keys)))
                logger.info(
                    "worklist: step %d/%d (%s), %d C-FINDs, %d matches",
                    number,
                    len(steps),
                    step.step,
                    len(step.queries),
                    len(items),
                )
                if items:
                    return rank_candidates(
                        items,
                        identity,
                        step=str(step.step),
                        reference_day=reference_day,
                        limit=limit,
                    )
        finally:
            release(assoc)
        return []
