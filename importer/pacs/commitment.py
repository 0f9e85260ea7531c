"""DICOM Storage Commitment Push Model (PS3.4 Annex J), the SCU side.

We send an N-ACTION (Request Storage Commitment) listing the instances; the PACS answers later
with an N-EVENT-REPORT, either on the same association (if still open) or, like Orthanc, on an
association it opens to us: to receive those, a small SCP listens on our own port, known to
the PACS as our AE. One listener per port and process serves every waiting request, matched by
Transaction UID.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydicom import Dataset
from pydicom.uid import UID, generate_uid
from pynetdicom import AE, evt

from importer.pacs.base import FAILURE_NOT_REPORTED, CommitResult, PacsError

logger = logging.getLogger(__name__)

STORAGE_COMMITMENT_PUSH = UID("1.2.840.10008.1.20.1")
"""Storage Commitment Push Model SOP Class."""
STORAGE_COMMITMENT_INSTANCE = UID("1.2.840.10008.1.20.1.1")
"""Its well-known SOP Instance."""
ACTION_REQUEST_COMMITMENT = 1
"""N-ACTION Action Type ID: Request Storage Commitment."""
EVENT_ALL_COMMITTED = 1
"""N-EVENT-REPORT Event Type ID: Storage Commitment Request Successful."""
EVENT_SOME_FAILED = 2
"""N-EVENT-REPORT Event Type ID: Storage Commitment Request Complete - Failures Exist."""
STATUS_SUCCESS = 0x0000
STATUS_PROCESSING_FAILURE = 0x0110

MAX_REFS_PER_REQUEST = 5000
"""Instances per N-ACTION: larger requests are split into several transactions."""


def build_request(transaction_uid: str, refs: Sequence[tuple[str, str]]) -> Dataset:
    """The N-ACTION Action Information: Transaction UID and Referenced SOP Sequence."""
    info = Dataset()
    info.TransactionUID = transaction_uid
    items = []
    for sop_class, sop_instance in refs:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_instance
        items.append(item)
    info.ReferencedSOPSequence = items
    return info


@dataclass(frozen=True, slots=True)
class Report:
    """One N-EVENT-REPORT, parsed."""

    transaction_uid: str
    committed: frozenset[str]
    failed: Mapping[str, int]


def parse_report(info: Dataset) -> Report:
    """The committed and failed SOP Instance UIDs of an N-EVENT-REPORT's Event Information
    (Referenced SOP Sequence, Failed SOP Sequence with Failure Reason)."""
    committed = frozenset(
        str(item.get("ReferencedSOPInstanceUID", ""))
        for item in info.get("ReferencedSOPSequence", []) or []
        if item.get("ReferencedSOPInstanceUID")
    )
    failed: dict[str, int] = {}
    for item in info.get("FailedSOPSequence", []) or []:
        uid = str(item.get("ReferencedSOPInstanceUID", ""))
        if uid:
            reason = item.get("FailureReason")
            failed[uid] = int(reason) if reason is not None else STATUS_PROCESSING_FAILURE
    return Report(str(info.get("TransactionUID", "")), committed, failed)


def combine(
    transactions: Mapping[str, Sequence[tuple[str, str]]], reports: Iterable[Report]
) -> CommitResult:
    """Put the reports of ``transactions`` together: an instance is committed when a report
    says so and none says it failed; an instance no report mentions failed
    (``FAILURE_NOT_REPORTED``)."""
    committed: set[str] = set()
    failed: dict[str, int] = {}
    for report in reports:
        committed |= report.committed
        failed.update(report.failed)
    wanted = {uid for refs in transactions.values() for _, uid in refs}
    committed = (committed & wanted) - set(failed)
    result_failed = {uid: reason for uid, reason in failed.items() if uid in wanted}
    for uid in wanted - committed - set(result_failed):
        result_failed[uid] = FAILURE_NOT_REPORTED
    return CommitResult(
        transaction_uids=tuple(transactions),
        committed=frozenset(committed),
        failed=result_failed,
    )


@dataclass(slots=True)
class _Waiter:
    pending: set[str]
    reports: list[Report] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


class ReportInbox:
    """Where N-EVENT-REPORTs are delivered, by Transaction UID (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, _Waiter] = {}

    def expect(self, transaction_uids: Iterable[str]) -> _Waiter:
        waiter = _Waiter(pending=set(transaction_uids))
        with self._lock:
            for uid in waiter.pending:
                self._waiters[uid] = waiter
        return waiter

    def forget(self, waiter: _Waiter) -> None:
        with self._lock:
            for uid in [uid for uid, w in self._waiters.items() if w is waiter]:
                del self._waiters[uid]

    def deliver(self, info: Dataset | None) -> bool:
        """Hand a report to whoever waits for its transaction; False when nobody does."""
        if info is None:
            return False
        report = parse_report(info)
        with self._lock:
            waiter = self._waiters.pop(report.transaction_uid, None)
            if waiter is None:
                return False
            waiter.reports.append(report)
            waiter.pending.discard(report.transaction_uid)
            if not waiter.pending:
                waiter.done.set()
        return True

    def on_event_report(self, event: Any) -> tuple[int, Dataset | None]:
        """pynetdicom ``EVT_N_EVENT_REPORT`` handler: never raises, answers a DIMSE status."""
        try:
            request = event.request
            if str(request.AffectedSOPClassUID) != STORAGE_COMMITMENT_PUSH:
                return STATUS_PROCESSING_FAILURE, None
            info = event.event_information
            known = self.deliver(info)
            logger.info(
                "storage commitment report (event type %s) %s",
                request.EventTypeID,
                "received" if known else "for no waiting request, acknowledged",
            )
        except Exception:
            logger.exception("could not read a storage commitment report")
            return STATUS_PROCESSING_FAILURE, None
        return STATUS_SUCCESS, None


class _Listener:
    """A pynetdicom SCP for N-EVENT-REPORTs on one port, shared by the commits of a process."""

    def __init__(self, ae_title: str, host: str, port: int, inbox: ReportInbox) -> None:
        ae = AE(ae_title=ae_title)
        ae.add_supported_context(STORAGE_COMMITMENT_PUSH, scu_role=True, scp_role=True)
        self.users = 0
        try:
            server = ae.start_server(
                (host, port),
                block=False,
                evt_handlers=[(evt.EVT_N_EVENT_REPORT, inbox.on_event_report)],
            )
        except OSError as exc:
            # the error's name to the log only: the message says what happened in our words
            logger.warning(
                "storage commitment SCP cannot listen on %s:%d (%s)",
                host,
                port,
                errno.errorcode.get(exc.errno or 0, type(exc).__name__),
            )
            raise PacsError(
                PacsError.UNREACHABLE,
                f"cannot listen for storage commitment reports on {host}:{port}",
            ) from None
        assert server is not None  # non-blocking: the server is returned
        self.server = server
        logger.info("storage commitment SCP %s listening on %s:%d", ae_title, host, port)

    def shutdown(self) -> None:
        self.server.shutdown()


class CommitmentListeners:
    """The process's report listeners, started on first use and stopped when nobody waits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[tuple[str, int], _Listener] = {}
        self.inbox = ReportInbox()

    def acquire(self, ae_title: str, host: str, port: int) -> None:
        with self._lock:
            listener = self._listeners.get((host, port))
            if listener is None:
                listener = _Listener(ae_title, host, port, self.inbox)
                self._listeners[(host, port)] = listener
            listener.users += 1

    def release(self, host: str, port: int) -> None:
        with self._lock:
            listener = self._listeners.get((host, port))
            if listener is None:
                return
            listener.users -= 1
            if listener.users <= 0:
                del self._listeners[(host, port)]
                listener.shutdown()


LISTENERS = CommitmentListeners()
"""Shared by every :class:`~importer.pacs.dimse.DimsePacs` of the process."""


def new_transactions(
    refs: Sequence[tuple[str, str]], per_request: int = MAX_REFS_PER_REQUEST
) -> dict[str, list[tuple[str, str]]]:
    """``refs`` without duplicates, split into transactions of at most ``per_request``,
    each under a new Transaction UID."""
    unique = list(dict.fromkeys((str(c), str(i)) for c, i in refs if c and i))
    return {
        generate_uid(): unique[start : start + per_request]
        for start in range(0, len(unique), per_request)
    }
