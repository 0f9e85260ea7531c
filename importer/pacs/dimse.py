"""DIMSE adapter (pynetdicom): C-ECHO, study-level C-FIND and C-STORE over reused associations.

Synchronous; the pipeline calls it through ``asyncio.to_thread``. One :class:`DimsePacs` may
be used from several threads at once: every call opens its own association(s).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator, Sequence
from typing import Any

from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)
from pynetdicom import AE, build_context, evt
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext
from pynetdicom.status import STORAGE_SERVICE_CLASS_STATUS, code_to_category

from importer.pacs.base import (
    STATUS_ABORTED,
    STATUS_INVALID_DATASET,
    STATUS_LOAD_FAILED,
    STATUS_NO_CONTEXT,
    PacsError,
    StoreItem,
    StoreOutcome,
    StudyOnPacs,
)
from importer.settings import DicomNode

logger = logging.getLogger(__name__)

# DIMSE statuses (PS3.7 Annex C, PS3.4 C.4.1.1.4 and B.2.3)
STATUS_SUCCESS = 0x0000
STATUS_PENDING = 0xFF00
"""C-FIND: a match is returned, all optional keys supported."""
STATUS_PENDING_WARNING = 0xFF01
"""C-FIND: a match is returned, some optional keys were not supported."""
FIND_PENDING = frozenset({STATUS_PENDING, STATUS_PENDING_WARNING})
STATUS_WARNING_COERCION = 0xB000
"""C-STORE warning: coercion of data elements."""
STATUS_WARNING_ELEMENTS_DISCARDED = 0xB006
"""C-STORE warning: elements discarded."""
STATUS_WARNING_SOP_CLASS_MISMATCH = 0xB007
"""C-STORE warning: data set does not match SOP class."""

# SOP classes (PS3.4), spelled out: pynetdicom.sop_class builds its names at run time.
VERIFICATION = UID("1.2.840.10008.1.1")
STUDY_ROOT_FIND = UID("1.2.840.10008.5.1.4.1.2.2.1")
"""Study Root Query/Retrieve Information Model - FIND."""

MAX_CONTEXTS = 128
"""Presentation contexts one association may propose (PS3.8 9.3.2.2: odd ids 1..255)."""

_NATIVE_ALTERNATIVES = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
_CATEGORY_OK = frozenset({"Success", "Warning"})


def _is_little_endian_native(transfer_syntax: str) -> bool:
    """True for the uncompressed little endian syntaxes (implicit, explicit, deflated):
    pynetdicom converts between them when sending, so they are interchangeable."""
    uid = UID(transfer_syntax)
    return uid.is_transfer_syntax and not uid.is_compressed and uid.is_little_endian


def proposed_syntaxes(transfer_syntax: str) -> list[str]:
    """Transfer syntaxes proposed for data in ``transfer_syntax``: the original first, then,
    for uncompressed little endian data, Explicit and Implicit VR Little Endian as
    alternatives. Compressed and big endian data are proposed as they are: converting them
    needs decoding (pynetdicom would not byte-swap pixel data)."""
    if not transfer_syntax:
        return list(_NATIVE_ALTERNATIVES)
    if not _is_little_endian_native(transfer_syntax):
        return [transfer_syntax]
    return list(dict.fromkeys([transfer_syntax, *_NATIVE_ALTERNATIVES]))


def _pair(item: StoreItem) -> tuple[str, str]:
    return item.sop_class_uid, item.transfer_syntax_uid


def plan_associations(
    items: Sequence[StoreItem], max_contexts: int = MAX_CONTEXTS
) -> list[tuple[list[PresentationContext], list[StoreItem]]]:
    """Group ``items`` into as few associations as the context limit allows, keeping order
    within each group: one presentation context per distinct (SOP class, transfer syntax)."""
    pairs = list(dict.fromkeys(_pair(item) for item in items))
    plans: list[tuple[list[PresentationContext], list[StoreItem]]] = []
    for start in range(0, len(pairs), max_contexts):
        chunk = pairs[start : start + max_contexts]
        wanted = set(chunk)
        contexts = [build_context(sop, proposed_syntaxes(ts)) for sop, ts in chunk]
        plans.append((contexts, [item for item in items if _pair(item) in wanted]))
    return plans


def _accepts(assoc: Association, sop_class: str, transfer_syntax: str) -> bool:
    """Whether ``assoc`` has an accepted context pynetdicom will use for the pair: the same
    transfer syntax, or another uncompressed little endian one for uncompressed little endian
    data (as ``Association._get_valid_context`` decides)."""
    convertible = not transfer_syntax or _is_little_endian_native(transfer_syntax)
    for cx in assoc.accepted_contexts:
        if cx.abstract_syntax != sop_class:
            continue
        accepted = cx.transfer_syntax[0]
        if accepted == transfer_syntax or (convertible and _is_little_endian_native(accepted)):
            return True
    return False


def _set_nodelay(assoc: Association) -> None:
    """Turn Nagle's algorithm off on the association's TCP socket (about 45 ms per instance
    otherwise: each C-STORE ends with a small PDV that waits for the peer's delayed ACK)."""
    dul_socket = getattr(assoc.dul, "socket", None)
    sock = getattr(dul_socket, "socket", None)
    if isinstance(sock, socket.socket):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:  # closed meanwhile: the association will fail by itself
            logger.debug("could not set TCP_NODELAY: %s", exc)


def _ensure_transfer_syntax(ds: Dataset, fallback: str) -> None:
    """Make sure ``ds.file_meta.TransferSyntaxUID`` is set, as pynetdicom needs it to pick the
    presentation context: from the item, else from how the dataset was encoded when read."""
    if not isinstance(getattr(ds, "file_meta", None), Dataset):
        ds.file_meta = FileMetaDataset()
    if ds.file_meta.get("TransferSyntaxUID"):
        return
    if fallback:
        ds.file_meta.TransferSyntaxUID = UID(fallback)
        return
    implicit, little = ds.original_encoding
    if little is False:
        ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    elif implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    else:  # read that way, or built in memory
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian


def _store_outcome(key: str, status: Dataset) -> StoreOutcome:
    code = int(status.Status)
    category = code_to_category(code)
    description = STORAGE_SERVICE_CLASS_STATUS.get(code, (category, ""))[1]
    message = f"{category} 0x{code:04X}" + (f": {description}" if description else "")
    comment = status.get("ErrorComment")
    if comment:
        message += f" ({comment})"
    return StoreOutcome(
        key=key,
        status=code,
        ok=category in _CATEGORY_OK,
        warning=category == "Warning",
        message=message,
    )


def _not_sent(key: str, status: int, message: str) -> StoreOutcome:
    return StoreOutcome(key=key, status=status, ok=False, warning=False, message=message)


class _Lost(Exception):
    """The association ended while an instance was being sent."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class DimsePacs:
    """A PACS reached over DIMSE (pynetdicom)."""

    def __init__(
        self,
        node: DicomNode,
        *,
        calling_ae: str,
        timeout: float = 30.0,
        max_pdu: int = 0,
    ) -> None:
        if not calling_ae or len(calling_ae) > 16:
            raise ValueError("the calling AE title must be 1 to 16 characters")
        self.node = node
        self.calling_ae = calling_ae
        self.timeout = timeout
        self.max_pdu = max_pdu

    def __repr__(self) -> str:
        return (
            f"DimsePacs({self.calling_ae} -> {self.node.ae_title}@{self.node.host}:"
            f"{self.node.port}, timeout={self.timeout}, max_pdu={self.max_pdu})"
        )

    # -- associations ---------------------------------------------------------------------

    def _associate(self, contexts: list[PresentationContext], purpose: str) -> Association:
        ae = AE(ae_title=self.calling_ae)
        ae.acse_timeout = self.timeout
        ae.dimse_timeout = self.timeout
        ae.network_timeout = self.timeout
        ae.connection_timeout = self.timeout
        peer = f"{self.node.ae_title}@{self.node.host}:{self.node.port}"
        logger.info(
            "%s: associating %s -> %s (%d presentation contexts, max PDU %s, timeout %.0f s)",
            purpose,
            self.calling_ae,
            peer,
            len(contexts),
            self.max_pdu or "unlimited",
            self.timeout,
        )
        connected = False

        def on_connection_open(event: Any) -> None:
            # Fires right after connect(), before the A-ASSOCIATE-RQ is sent.
            nonlocal connected
            connected = True
            _set_nodelay(event.assoc)

        assoc: Association = ae.associate(
            self.node.host,
            self.node.port,
            contexts=contexts,
            ae_title=self.node.ae_title,
            max_pdu=self.max_pdu,
            evt_handlers=[(evt.EVT_CONN_OPEN, on_connection_open)],
        )
        if assoc.is_established:
            _set_nodelay(assoc)  # in case the connection event was missed
            logger.info(
                "%s: association with %s accepted, %d of %d contexts, peer max PDU %s",
                purpose,
                peer,
                len(assoc.accepted_contexts),
                len(contexts),
                assoc.acceptor.maximum_length or "unlimited",
            )
            return assoc
        if assoc.is_rejected:
            primitive = assoc.acceptor.primitive
            reason = getattr(primitive, "reason_str", "") if primitive is not None else ""
            raise PacsError(
                PacsError.REJECTED,
                f"the PACS {peer} rejected the association from {self.calling_ae}"
                + (f": {reason}" if reason else ""),
            )
        if connected:
            raise PacsError(PacsError.ABORTED, f"the PACS {peer} aborted the association request")
        raise PacsError(
            PacsError.UNREACHABLE,
            f"cannot connect to the PACS {peer} (connection refused or timed out)",
        )

    @staticmethod
    def _release(assoc: Association) -> None:
        if assoc.is_established:
            assoc.release()

    # -- verification ---------------------------------------------------------------------

    def echo(self) -> None:
        assoc = self._associate([build_context(VERIFICATION)], "C-ECHO")
        try:
            status = assoc.send_c_echo()
        finally:
            self._release(assoc)
        if "Status" not in status:
            raise PacsError(PacsError.TIMEOUT, "no C-ECHO response from the PACS")
        if int(status.Status) != STATUS_SUCCESS:
            raise PacsError(
                PacsError.FAILED, f"the PACS answered C-ECHO with status 0x{status.Status:04X}"
            )

    # -- query ----------------------------------------------------------------------------

    def find_studies(self, study_uids: Sequence[str]) -> dict[str, StudyOnPacs]:
        uids = [uid for uid in dict.fromkeys(study_uids) if uid]
        # A UID holding matching characters would match other studies: never ask for it.
        queryable = [uid for uid in uids if not any(ch in uid for ch in "*?\\")]
        if len(queryable) != len(uids):
            skipped = len(uids) - len(queryable)
            logger.debug("skipping %d study UIDs with wildcard characters", skipped)
        if not queryable:
            return {}
        found: dict[str, StudyOnPacs] = {}
        assoc = self._associate([build_context(STUDY_ROOT_FIND)], "C-FIND")
        try:
            for uid in queryable:
                study = self._find_study(assoc, uid)
                if study is not None:
                    found[uid] = study
        finally:
            self._release(assoc)
        logger.info("C-FIND: %d of %d studies already on the PACS", len(found), len(queryable))
        return found

    def _find_study(self, assoc: Association, uid: str) -> StudyOnPacs | None:
        query = Dataset()
        query.QueryRetrieveLevel = "STUDY"
        query.StudyInstanceUID = uid
        query.PatientID = ""
        query.NumberOfStudyRelatedInstances = ""
        logger.debug("C-FIND study %s", uid)
        match: StudyOnPacs | None = None
        responses = assoc.send_c_find(query, STUDY_ROOT_FIND)
        for status, identifier in responses:
            if "Status" not in status:
                raise PacsError(PacsError.TIMEOUT, "the PACS stopped answering a C-FIND")
            code = int(status.Status)
            if code in FIND_PENDING:
                if match is None and identifier is not None:
                    match = StudyOnPacs(
                        study_instance_uid=uid,
                        patient_id=str(identifier.get("PatientID", "") or ""),
                        instance_count=_int_or_none(
                            identifier.get("NumberOfStudyRelatedInstances")
                        ),
                    )
            elif code == STATUS_SUCCESS:
                break
            else:
                raise PacsError(PacsError.FAILED, f"the PACS failed a C-FIND with 0x{code:04X}")
        return match

    # -- storage --------------------------------------------------------------------------

    def store(self, items: Sequence[StoreItem]) -> Iterator[StoreOutcome]:
        for item in items:
            if not item.sop_class_uid:
                yield _not_sent(item.key, STATUS_INVALID_DATASET, "the instance has no SOP Class")
        sendable = [item for item in items if item.sop_class_uid]
        for contexts, batch in plan_associations(sendable):
            yield from self._store_batch(contexts, batch)

    def _store_batch(
        self, contexts: list[PresentationContext], items: list[StoreItem]
    ) -> Iterator[StoreOutcome]:
        assoc = self._associate(contexts, "C-STORE")
        reassociated = False
        started = time.monotonic()
        sent = 0
        try:
            index = 0
            while index < len(items):
                item = items[index]
                try:
                    if not assoc.is_established:
                        raise _Lost(PacsError.ABORTED, "the PACS closed the association")
                    outcome = self._store_one(assoc, item)
                except _Lost as lost:
                    self._release(assoc)
                    if reassociated:
                        yield _not_sent(item.key, STATUS_ABORTED, lost.message)
                        raise PacsError(lost.code, f"{lost.message}, twice") from None
                    logger.warning("C-STORE: %s; associating again", lost.message)
                    reassociated = True
                    assoc = self._associate(contexts, "C-STORE")
                    continue  # send the same item again
                sent += outcome.ok
                yield outcome
                index += 1
        finally:
            self._release(assoc)
        logger.info(
            "C-STORE: %d of %d instances stored in %.1f s",
            sent,
            len(items),
            time.monotonic() - started,
        )

    def _store_one(self, assoc: Association, item: StoreItem) -> StoreOutcome:
        if not _accepts(assoc, item.sop_class_uid, item.transfer_syntax_uid):
            return _not_sent(
                item.key,
                STATUS_NO_CONTEXT,
                f"the PACS accepted no presentation context for SOP class {item.sop_class_uid} "
                f"in transfer syntax {item.transfer_syntax_uid or 'unknown'}",
            )
        try:
            ds = item.load()
        except Exception as exc:
            logger.debug("loading instance %s failed", item.key, exc_info=True)
            return _not_sent(
                item.key, STATUS_LOAD_FAILED, f"cannot read the instance: {type(exc).__name__}"
            )
        _ensure_transfer_syntax(ds, item.transfer_syntax_uid)
        actual = str(ds.file_meta.TransferSyntaxUID)
        if actual != item.transfer_syntax_uid and not _accepts(assoc, item.sop_class_uid, actual):
            return _not_sent(
                item.key,
                STATUS_NO_CONTEXT,
                f"the dataset is in transfer syntax {actual}, not {item.transfer_syntax_uid}, "
                "and the PACS accepted no presentation context for it",
            )
        try:
            logger.debug("C-STORE %s (%s)", item.key, item.sop_instance_uid)
            started = time.monotonic()
            status = assoc.send_c_store(ds)
        except ValueError as exc:
            # pynetdicom: no usable context for the dataset's own syntax, or encoding failed
            text = str(exc)
            code = STATUS_NO_CONTEXT if "presentation context" in text else STATUS_INVALID_DATASET
            return _not_sent(item.key, code, text)
        except AttributeError as exc:  # no SOP Class/Instance UID, inconsistent encoding
            return _not_sent(item.key, STATUS_INVALID_DATASET, str(exc))
        except RuntimeError as exc:  # the association ended before the request
            raise _Lost(PacsError.ABORTED, f"association lost: {exc}") from None
        if "Status" not in status:
            if time.monotonic() - started >= self.timeout:
                raise _Lost(PacsError.TIMEOUT, f"no C-STORE response within {self.timeout:.0f} s")
            raise _Lost(PacsError.ABORTED, "the association was aborted during a C-STORE")
        outcome = _store_outcome(item.key, status)
        if not outcome.ok or outcome.warning:
            logger.debug("C-STORE %s: %s", item.key, outcome.message)
        return outcome


def _int_or_none(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None
