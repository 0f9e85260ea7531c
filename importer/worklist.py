"""Modality Worklist client (pynetdicom): C-FIND on the RIS worklist, and the patient search.

Synchronous; the API calls it through ``asyncio.to_thread``. Every call opens its own
association, so one :class:`WorklistClient` may be used from several threads at once. Patient
data is never logged: peers, steps and counts only.

The query building and the ranking are pure and live in
:mod:`importer.identity.worklist_query`; this module speaks DICOM.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from pydicom import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import UID
from pynetdicom import AE, build_context, evt
from pynetdicom.association import Association
from pynetdicom.status import MODALITY_WORKLIST_SERVICE_CLASS_STATUS, code_to_category

from importer.errors import ImporterError
from importer.identity.worklist_query import (
    Candidate,
    MatchingKeys,
    SearchStep,
    Step,
    WorklistItem,
    WorklistQuery,
    normalise_date,
    rank_candidates,
    search_steps,
)
from importer.pacs.dimse import set_nodelay
from importer.settings import DicomNode, Settings, parse_dimse_url

__all__ = [
    "MODALITY_WORKLIST_FIND",
    "Candidate",
    "MatchingKeys",
    "SearchStep",
    "Step",
    "WorklistClient",
    "WorklistError",
    "WorklistItem",
    "WorklistNotConfigured",
    "WorklistQuery",
    "item_from_identifier",
    "request_identifier",
    "worklist_client",
]

logger = logging.getLogger(__name__)

MODALITY_WORKLIST_FIND = UID("1.2.840.10008.5.1.4.31")
"""Modality Worklist Information Model - FIND (PS3.4 K.6.1.1)."""

# C-FIND statuses (PS3.4 K.4.1.1.4, C.4.1.1.4)
STATUS_SUCCESS = 0x0000
"""Matching is complete: no final identifier."""
STATUS_PENDING = 0xFF00
"""A match is returned, all optional keys supported."""
STATUS_PENDING_WARNING = 0xFF01
"""A match is returned, some optional keys were not supported."""
STATUS_CANCEL = 0xFE00
"""Matching terminated after our C-CANCEL."""
STATUS_OUT_OF_RESOURCES = 0xA700
"""Refused: out of resources."""
STATUS_IDENTIFIER_DOES_NOT_MATCH = 0xA900
"""Failed: identifier does not match SOP class."""
FIND_PENDING = frozenset({STATUS_PENDING, STATUS_PENDING_WARNING})

CHARACTER_SET = "ISO_IR 192"
"""Specific Character Set of our requests (their keys are ASCII; UTF-8 answers are welcome)."""


class WorklistError(ImporterError):
    """The worklist could not be searched. ``code`` is one of the codes below."""

    status_code: ClassVar[int] = 502
    code = "worklist_failed"

    UNREACHABLE: ClassVar[str] = "worklist_unreachable"
    """No connection (refused, timed out, unknown host)."""
    FAILED: ClassVar[str] = "worklist_failed"
    """Connected, but the association was rejected or aborted, or the C-FIND failed."""
    NOT_CONFIGURED: ClassVar[str] = "worklist_not_configured"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


class WorklistNotConfigured(WorklistError):
    """No worklist is configured (``IMPORTER_WORKLIST_URL``): worklist mode is unavailable."""

    status_code: ClassVar[int] = 503
    code = WorklistError.NOT_CONFIGURED

    def __init__(self, message: str = "no worklist is configured") -> None:
        super().__init__(WorklistError.NOT_CONFIGURED, message)


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


def _describe(code: int) -> str:
    category = code_to_category(code)
    description = MODALITY_WORKLIST_SERVICE_CLASS_STATUS.get(code, (category, ""))[1]
    return f"{category} 0x{code:04X}" + (f": {description}" if description else "")


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
        if not calling_ae or len(calling_ae) > 16:
            raise ValueError("the calling AE title must be 1 to 16 characters")
        if max_matches < 1:
            raise ValueError("max_matches must be at least 1")
        self.node = node
        self.calling_ae = calling_ae
        self.timeout = timeout
        self.max_matches = max_matches

    def __repr__(self) -> str:
        return (
            f"WorklistClient({self.calling_ae} -> {self.node.ae_title}@{self.node.host}:"
            f"{self.node.port}, timeout={self.timeout}, max_matches={self.max_matches})"
        )

    @property
    def _peer(self) -> str:
        return f"{self.node.ae_title}@{self.node.host}:{self.node.port}"

    # -- association ----------------------------------------------------------------------

    def _associate(self) -> Association:
        ae = AE(ae_title=self.calling_ae)
        ae.acse_timeout = self.timeout
        ae.dimse_timeout = self.timeout
        ae.network_timeout = self.timeout
        ae.connection_timeout = self.timeout
        logger.debug("worklist: associating %s -> %s", self.calling_ae, self._peer)
        connected = False

        def on_connection_open(event: Any) -> None:
            # Fires right after connect(), before the A-ASSOCIATE-RQ is sent.
            nonlocal connected
            connected = True
            set_nodelay(event.assoc)

        assoc: Association = ae.associate(
            self.node.host,
            self.node.port,
            contexts=[build_context(MODALITY_WORKLIST_FIND)],
            ae_title=self.node.ae_title,
            evt_handlers=[(evt.EVT_CONN_OPEN, on_connection_open)],
        )
        if assoc.is_established:
            set_nodelay(assoc)
            if not assoc.accepted_contexts:
                assoc.release()
                raise WorklistError(
                    WorklistError.FAILED,
                    f"the worklist {self._peer} does not support Modality Worklist FIND",
                )
            return assoc
        if assoc.is_rejected:
            primitive = assoc.acceptor.primitive
            reason = getattr(primitive, "reason_str", "") if primitive is not None else ""
            raise WorklistError(
                WorklistError.FAILED,
                f"the worklist {self._peer} rejected the association from {self.calling_ae}"
                + (f": {reason}" if reason else ""),
            )
        if connected:
            raise WorklistError(
                WorklistError.FAILED, f"the worklist {self._peer} aborted the association request"
            )
        raise WorklistError(
            WorklistError.UNREACHABLE,
            f"cannot connect to the worklist {self._peer} (connection refused or timed out)",
        )

    @staticmethod
    def _release(assoc: Association) -> None:
        if assoc.is_established:
            assoc.release()

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
                    f"the worklist {self._peer} failed a C-FIND: {_describe(code)}",
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
            self._release(assoc)
        logger.info("worklist: C-FIND on %s, %d matches", self._peer, len(items))
        return items

    def search(
        self,
        query: WorklistQuery,
        *,
        expected: Mapping[str, str | None] | None = None,
        limit: int = 50,
        today: date | None = None,
    ) -> list[Candidate]:
        """Search the worklist for `query`, relaxing step by step, best candidates first.

        The steps are :func:`~importer.identity.worklist_query.search_steps`'; the first one
        that returns anything ends the search. Candidates are ranked against `expected` (the
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
            self._release(assoc)
        return []
