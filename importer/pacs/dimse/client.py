"""The DIMSE PACS adapter (pynetdicom): C-ECHO, C-FIND (studies, instances), C-STORE over
several reused associations in parallel, and storage commitment.

Synchronous; the pipeline calls it through ``asyncio.to_thread``. One :class:`DimsePacs` may
be used from several threads at once: every call opens its own association(s), through the
one association routine of :mod:`importer.dimse`. The queries are in :mod:`.queries`, the
C-STORE engine in :mod:`.store`, the presentation-context plan in :mod:`.contexts`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Sequence
from typing import Any

from pydicom.uid import UID
from pynetdicom import build_context, evt
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext

from importer.dimse import (
    STATUS_SUCCESS,
    AssociationFailed,
    Refusal,
    associate,
    check_ae_title,
    peer_of,
    release,
)
from importer.pacs import commitment
from importer.pacs.base import CommitResult, PacsError, StoreItem, StoreOutcome, StudyOnPacs
from importer.pacs.dimse import queries
from importer.pacs.dimse.contexts import accepted_pairs, context_groups
from importer.pacs.dimse.store import StoreEngine
from importer.settings import DicomNode

__all__ = ["VERIFICATION", "DimsePacs"]

logger = logging.getLogger(__name__)

# SOP classes (PS3.4), spelled out: pynetdicom.sop_class builds its names at run time.
VERIFICATION = UID("1.2.840.10008.1.1")

_REFUSAL_CODES = {
    Refusal.UNREACHABLE: PacsError.UNREACHABLE,
    Refusal.REJECTED: PacsError.REJECTED,
    Refusal.ABORTED: PacsError.ABORTED,
    Refusal.NO_CONTEXT: PacsError.NO_CONTEXT,
}


class DimsePacs:
    """A PACS reached over DIMSE (pynetdicom).

    ``parallel`` is how many associations :meth:`store` uses at once (each in a thread of its
    own); ``max_pdu`` the largest PDU we accept (0: unlimited; what we send is bounded by the
    PACS's own maximum). ``commitment_port`` is where :meth:`commit` listens for storage
    commitment reports sent on an association of the PACS's own (the PACS must know our AE
    title at ``commitment_host``:port); without it, only reports sent on the requesting
    association are received.
    """

    def __init__(
        self,
        node: DicomNode,
        *,
        calling_ae: str,
        timeout: float = 30.0,
        max_pdu: int = 0,
        parallel: int = 2,
        commitment_port: int | None = None,
        commitment_host: str = "0.0.0.0",  # noqa: S104 - the PACS connects back to us
    ) -> None:
        check_ae_title(calling_ae)
        if parallel < 1:
            raise ValueError("parallel must be at least 1")
        self.node = node
        self.calling_ae = calling_ae
        self.timeout = timeout
        self.max_pdu = max_pdu
        self.parallel = parallel
        self.commitment_port = commitment_port
        self.commitment_host = commitment_host

    def __repr__(self) -> str:
        return (
            f"DimsePacs({self.calling_ae} -> {peer_of(self.node)}, timeout={self.timeout}, "
            f"max_pdu={self.max_pdu}, parallel={self.parallel}, "
            f"commitment_port={self.commitment_port})"
        )

    # -- associations ---------------------------------------------------------------------

    def _associate(
        self,
        contexts: list[PresentationContext],
        purpose: str,
        evt_handlers: list[tuple[Any, Any]] | None = None,
    ) -> Association:
        peer = peer_of(self.node)
        logger.info(
            "%s: associating %s -> %s (%d presentation contexts, max PDU %s, timeout %.0f s)",
            purpose,
            self.calling_ae,
            peer,
            len(contexts),
            self.max_pdu or "unlimited",
            self.timeout,
        )
        try:
            assoc = associate(
                self.node,
                calling_ae=self.calling_ae,
                timeout=self.timeout,
                contexts=contexts,
                peer_name="the PACS",
                max_pdu=self.max_pdu,
                evt_handlers=evt_handlers or (),
            )
        except AssociationFailed as exc:
            raise PacsError(_REFUSAL_CODES[exc.refusal], exc.message) from None
        logger.info(
            "%s: association with %s accepted, %d of %d contexts, peer max PDU %s",
            purpose,
            peer,
            len(assoc.accepted_contexts),
            len(contexts),
            assoc.acceptor.maximum_length or "unlimited",
        )
        return assoc

    # -- verification ---------------------------------------------------------------------

    def echo(self) -> None:
        assoc = self._associate([build_context(VERIFICATION)], "C-ECHO")
        try:
            status = assoc.send_c_echo()
        finally:
            release(assoc)
        if "Status" not in status:
            raise PacsError(PacsError.TIMEOUT, "no C-ECHO response from the PACS")
        if int(status.Status) != STATUS_SUCCESS:
            raise PacsError(
                PacsError.FAILED,
                f"the PACS answered C-ECHO with status 0x{status.Status:04X}",
                params={"status": f"0x{status.Status:04X}"},
            )

    # -- query ----------------------------------------------------------------------------

    def find_studies(self, study_uids: Sequence[str]) -> dict[str, StudyOnPacs]:
        queryable = queries.queryable(study_uids)
        if not queryable:
            return {}
        assoc = self._associate([build_context(queries.STUDY_ROOT_FIND)], "C-FIND")
        try:
            found = queries.find_studies(assoc, queryable)
        finally:
            release(assoc)
        logger.info("C-FIND: %d of %d studies already on the PACS", len(found), len(queryable))
        return found

    def find_instances(self, study_uid: str) -> set[str]:
        """The SOP Instance UIDs the PACS holds for ``study_uid``, on one association
        (:func:`.queries.find_instances`)."""
        if not queries.queryable([study_uid]):
            return set()
        assoc = self._associate([build_context(queries.STUDY_ROOT_FIND)], "C-FIND")
        try:
            return queries.find_instances(assoc, study_uid)
        finally:
            release(assoc)

    # -- storage --------------------------------------------------------------------------

    def accepted_syntaxes(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]] | None:
        """The pairs the PACS accepts, on the associations :meth:`store` would propose for
        ``pairs`` (:func:`.contexts.context_groups`), each released at once."""
        accepted: set[tuple[str, str]] = set()
        for contexts, _classes in context_groups(pairs):
            try:
                assoc = self._associate(contexts, "transfer syntaxes")
            except PacsError as exc:
                if exc.code == PacsError.NO_CONTEXT:
                    continue  # none of these: nothing of them is accepted
                raise
            try:
                accepted.update(accepted_pairs(assoc))
            finally:
                release(assoc)
        return accepted

    def store(self, items: Sequence[StoreItem]) -> Generator[StoreOutcome, None, None]:
        engine = StoreEngine(self._associate, timeout=self.timeout, parallel=self.parallel)
        yield from engine.store(items)

    # -- storage commitment ---------------------------------------------------------------

    def commit(self, refs: Sequence[tuple[str, str]], *, timeout: float) -> CommitResult:
        """Storage Commitment Push Model: N-ACTION(s) for ``refs`` ((SOP Class UID, SOP
        Instance UID) pairs, at most 5,000 per transaction), then wait up to ``timeout``
        seconds for the N-EVENT-REPORT(s), on the same association or on our commitment SCP
        (``commitment_port``). The association is released once the reports are in."""
        transactions = commitment.new_transactions(refs)
        if not transactions:
            return CommitResult(transaction_uids=(), committed=frozenset())
        listeners = commitment.LISTENERS
        port = self.commitment_port
        if port is not None:
            listeners.acquire(self.calling_ae, self.commitment_host, port)
        waiter = listeners.inbox.expect(transactions)
        try:
            assoc = self._associate(
                [build_context(commitment.STORAGE_COMMITMENT_PUSH)],
                "storage commitment",
                evt_handlers=[(evt.EVT_N_EVENT_REPORT, listeners.inbox.on_event_report)],
            )
            try:
                for transaction_uid, batch in transactions.items():
                    self._request_commitment(assoc, transaction_uid, batch)
                logger.info(
                    "storage commitment: %d instance(s) in %d transaction(s) requested, "
                    "waiting up to %.0f s for the report",
                    sum(len(batch) for batch in transactions.values()),
                    len(transactions),
                    timeout,
                )
                answered = waiter.done.wait(timeout)
            finally:
                release(assoc)
        finally:
            listeners.inbox.forget(waiter)
            if port is not None:
                listeners.release(self.commitment_host, port)
        if not answered:
            raise PacsError(
                PacsError.TIMEOUT,
                f"no storage commitment report from the PACS within {timeout:.0f} s "
                f"({len(waiter.pending)} of {len(transactions)} transaction(s) unanswered)",
                params={"seconds": round(timeout), "left": len(waiter.pending)},
            )
        result = commitment.combine(transactions, waiter.reports)
        logger.info(
            "storage commitment: %d committed, %d failed",
            len(result.committed),
            len(result.failed),
        )
        return result

    def _request_commitment(
        self, assoc: Association, transaction_uid: str, refs: Sequence[tuple[str, str]]
    ) -> None:
        info = commitment.build_request(transaction_uid, refs)
        logger.debug("N-ACTION storage commitment, transaction %s", transaction_uid)
        started = time.monotonic()
        try:
            status, _reply = assoc.send_n_action(
                info,
                commitment.ACTION_REQUEST_COMMITMENT,
                commitment.STORAGE_COMMITMENT_PUSH,
                commitment.STORAGE_COMMITMENT_INSTANCE,
            )
        except (RuntimeError, ValueError) as exc:
            # the type to the log only: the message says what happened in our words
            logger.info("N-ACTION storage commitment not sent (%s)", type(exc).__name__)
            raise PacsError(
                PacsError.UNSUPPORTED, "the PACS does not take storage commitment requests"
            ) from None
        if "Status" not in status:
            if time.monotonic() - started < self.timeout:  # aborted, not timed out
                raise PacsError(
                    PacsError.REJECTED,
                    "the PACS aborted the association on the storage commitment request "
                    f"(does it know our AE title {self.calling_ae} as a modality?)",
                )
            raise PacsError(
                PacsError.TIMEOUT,
                "no N-ACTION response from the PACS",
                params={"seconds": round(self.timeout)},
            )
        code = int(status.Status)
        if code != STATUS_SUCCESS:
            raise PacsError(
                PacsError.FAILED,
                f"the PACS refused the storage commitment request with status 0x{code:04X}",
                params={"status": f"0x{code:04X}"},
            )
