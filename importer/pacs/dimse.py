"""DIMSE adapter (pynetdicom): C-ECHO, C-FIND (studies, instances), C-STORE over several
reused associations in parallel, and storage commitment.

Synchronous; the pipeline calls it through ``asyncio.to_thread``. One :class:`DimsePacs` may
be used from several threads at once: every call opens its own association(s).
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydicom import Dataset
from pydicom.uid import UID
from pynetdicom import AE, build_context, evt
from pynetdicom.association import Association
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.dsutils import encode
from pynetdicom.presentation import PresentationContext
from pynetdicom.status import STORAGE_SERVICE_CLASS_STATUS, code_to_category

from importer.pacs import commitment
from importer.pacs.base import (
    STATUS_ABORTED,
    STATUS_DECODE_FAILED,
    STATUS_INVALID_DATASET,
    STATUS_LOAD_FAILED,
    STATUS_NO_CONTEXT,
    STATUS_SENDER_FAILED,
    CommitResult,
    EncodedInstance,
    PacsError,
    StoreItem,
    StoreOutcome,
    StudyOnPacs,
)
from importer.pacs.pdata import c_store_command, p_data_pdus
from importer.pacs.transcode import (
    NATIVE_SYNTAXES,
    Route,
    TranscodeError,
    decide,
    ensure_transfer_syntax,
    fallback_needed,
    proposed_syntaxes,
    to_little_endian,
)
from importer.settings import DicomNode

logger = logging.getLogger(__name__)

__all__ = [
    "FIND_PENDING",
    "MAX_CONTEXTS",
    "STATUS_SENDER_FAILED",
    "STATUS_SUCCESS",
    "VERIFICATION",
    "DimsePacs",
    "plan_associations",
    "proposed_syntaxes",
]

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
MAX_LOSSES_IN_A_ROW = 3
"""A store worker gives up after this many lost associations without a C-STORE answered."""
ATTEMPTS_PER_INSTANCE = 2
"""An instance whose C-STORE lost the association this many times is reported not sent (a
PACS that aborts on one object, e.g. a video it cannot take, must not stop the others)."""


_CATEGORY_OK = frozenset({"Success", "Warning"})


def _pair(item: StoreItem) -> tuple[str, str]:
    return item.sop_class_uid, item.transfer_syntax_uid


def contexts_for(sop_class: str, transfer_syntaxes: Sequence[str]) -> list[PresentationContext]:
    """The presentation contexts proposed for a SOP class whose instances come in
    ``transfer_syntaxes``: one per original syntax, alone (:func:`proposed_syntaxes`), then,
    unless they already cover both, one with Explicit and Implicit VR Little Endian, used for
    the instances whose own syntax the PACS refuses (decompressed or byte-swapped first when
    they are compressed or big endian)."""
    contexts = [build_context(sop_class, proposed_syntaxes(ts)) for ts in transfer_syntaxes]
    if fallback_needed(transfer_syntaxes):
        contexts.append(build_context(sop_class, list(NATIVE_SYNTAXES)))
    return contexts


def plan_associations(
    items: Sequence[StoreItem], max_contexts: int = MAX_CONTEXTS
) -> list[tuple[list[PresentationContext], list[StoreItem]]]:
    """Group ``items`` into as few associations as the context limit allows, keeping order
    within each group. The contexts of one SOP class (:func:`contexts_for`) stay together."""
    by_class: dict[str, list[str]] = {}
    for sop_class, syntax in dict.fromkeys(_pair(item) for item in items):
        by_class.setdefault(sop_class, []).append(syntax)
    groups: list[tuple[list[PresentationContext], set[str]]] = []
    for sop_class, syntaxes in by_class.items():
        contexts = contexts_for(sop_class, syntaxes)
        if not groups or len(groups[-1][0]) + len(contexts) > max_contexts:
            groups.append(([], set()))
        groups[-1][0].extend(contexts)
        groups[-1][1].add(sop_class)
    return [
        (contexts, [item for item in items if item.sop_class_uid in classes])
        for contexts, classes in groups
    ]


def _accepted_pairs(assoc: Association) -> list[tuple[str, str]]:
    return [(str(cx.abstract_syntax), str(cx.transfer_syntax[0])) for cx in assoc.accepted_contexts]


def set_nodelay(assoc: Association) -> None:
    """Turn Nagle's algorithm off on the association's TCP socket (about 45 ms per instance
    otherwise: each C-STORE ends with a small PDV that waits for the peer's delayed ACK)."""
    dul_socket = getattr(assoc.dul, "socket", None)
    sock = getattr(dul_socket, "socket", None)
    if isinstance(sock, socket.socket):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:  # closed meanwhile: the association will fail by itself
            logger.debug("could not set TCP_NODELAY: %s", exc)


def _hold_reactor(assoc: Association) -> None:
    """Keep pynetdicom's association reactor paused for the life of a C-STORE association, so
    that this thread alone reads the DIMSE responses.

    pynetdicom 3.0.4 pauses and resumes its reactor around every ``send_c_store``; under load
    (several associations, a busy interpreter) the reactor sometimes takes the C-STORE
    response off the queue itself ("Received unexpected C-STORE service message") and the
    sender then waits for the whole DIMSE timeout (seen as 30 s stalls). Paused once, before
    anything is sent, it cannot. :meth:`DimsePacs._release` lets it run again.
    """
    assoc._reactor_checkpoint.clear()
    deadline = time.monotonic() + max(assoc.dimse_timeout or 0, 1.0)
    while not assoc._is_paused:
        if time.monotonic() > deadline or not assoc.is_established:
            raise _Lost(PacsError.ABORTED, "the association ended before it could be used")
        time.sleep(0.0005)
    # A reactor caught between its pause point and the flag reset runs one more loop, in
    # which there is nothing to take yet (nothing was sent), then pauses for good.
    time.sleep(0.02)


def _context_id(assoc: Association, sop_class: str, transfer_syntax: str) -> int:
    for cx in assoc.accepted_contexts:
        if (
            cx.abstract_syntax == sop_class
            and cx.transfer_syntax[0] == transfer_syntax
            and cx.context_id is not None
        ):
            return int(cx.context_id)
    raise ValueError(
        f"no presentation context accepted for {sop_class} in transfer syntax {transfer_syntax}"
    )


def _store_outcome(key: str, status: Dataset, transfer_syntax: str, note: str) -> StoreOutcome:
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
        message=message + note,
        transfer_syntax=transfer_syntax,
    )


def _not_sent(key: str, status: int, message: str) -> StoreOutcome:
    return StoreOutcome(key=key, status=status, ok=False, warning=False, message=message)


def _value_error_code(exc: ValueError) -> int:
    return STATUS_NO_CONTEXT if "presentation context" in str(exc) else STATUS_INVALID_DATASET


def _encode(assoc: Association, ds: Dataset, transfer_syntax: str) -> EncodedInstance:
    """``ds`` encoded in ``transfer_syntax`` by pynetdicom (as ``send_c_store`` does).
    Raises ``AttributeError`` without SOP Class or Instance UID, ``ValueError`` when no
    context was accepted for it or it cannot be encoded."""
    sop_class = str(ds.SOPClassUID)
    _context_id(assoc, sop_class, transfer_syntax)
    syntax = UID(transfer_syntax)
    data = encode(ds, syntax.is_implicit_VR, syntax.is_little_endian, syntax.is_deflated)
    if data is None:
        raise ValueError("the dataset cannot be encoded")
    return EncodedInstance(
        sop_class_uid=sop_class,
        sop_instance_uid=str(ds.SOPInstanceUID),
        transfer_syntax_uid=transfer_syntax,
        implicit_vr=syntax.is_implicit_VR,
        little_endian=syntax.is_little_endian,
        data=data,
    )


class _Lost(Exception):
    """The association ended while an instance was being sent."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Work:
    """The items of one association plan, taken one at a time by the store workers."""

    def __init__(self, items: Sequence[StoreItem]) -> None:
        self._items = deque(items)
        self._lock = threading.Lock()

    def take(self) -> StoreItem | None:
        with self._lock:
            return self._items.popleft() if self._items else None

    def give_back(self, item: StoreItem) -> None:
        with self._lock:
            self._items.appendleft(item)

    def left(self) -> int:
        with self._lock:
            return len(self._items)


@dataclass(frozen=True, slots=True)
class _WorkerEnd:
    """A store worker stopped; ``error`` when it gave up before the work was done,
    ``unexpected`` when that was an unexpected error (a bug), which fails the whole plan."""

    error: PacsError | None
    stored: int
    unexpected: bool = False


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
        if not calling_ae or len(calling_ae) > 16:
            raise ValueError("the calling AE title must be 1 to 16 characters")
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
            f"DimsePacs({self.calling_ae} -> {self.node.ae_title}@{self.node.host}:"
            f"{self.node.port}, timeout={self.timeout}, max_pdu={self.max_pdu}, "
            f"parallel={self.parallel}, commitment_port={self.commitment_port})"
        )

    # -- associations ---------------------------------------------------------------------

    def _associate(
        self,
        contexts: list[PresentationContext],
        purpose: str,
        evt_handlers: list[tuple[Any, Any]] | None = None,
    ) -> Association:
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
            set_nodelay(event.assoc)

        assoc: Association = ae.associate(
            self.node.host,
            self.node.port,
            contexts=contexts,
            ae_title=self.node.ae_title,
            max_pdu=self.max_pdu,
            evt_handlers=[(evt.EVT_CONN_OPEN, on_connection_open), *(evt_handlers or [])],
        )
        if assoc.is_established:
            set_nodelay(assoc)  # in case the connection event was missed
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
        assoc._reactor_checkpoint.set()  # in case it was held (C-STORE associations)
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
        queryable = _queryable(study_uids)
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
        for identifier in _find(assoc, query):
            if match is None:
                match = StudyOnPacs(
                    study_instance_uid=uid,
                    patient_id=str(identifier.get("PatientID", "") or ""),
                    instance_count=_int_or_none(identifier.get("NumberOfStudyRelatedInstances")),
                )
        return match

    def find_instances(self, study_uid: str) -> set[str]:
        """The SOP Instance UIDs the PACS holds for ``study_uid``: a SERIES-level C-FIND for
        the study's series, then an IMAGE-level one per series (hierarchical, Study Root), on
        one association."""
        if not _queryable([study_uid]):
            return set()
        assoc = self._associate([build_context(STUDY_ROOT_FIND)], "C-FIND")
        instances: set[str] = set()
        try:
            series_query = Dataset()
            series_query.QueryRetrieveLevel = "SERIES"
            series_query.StudyInstanceUID = study_uid
            series_query.SeriesInstanceUID = ""
            series = {
                str(match.get("SeriesInstanceUID", "") or "")
                for match in _find(assoc, series_query)
            }
            for series_uid in sorted(_queryable(list(series))):
                image_query = Dataset()
                image_query.QueryRetrieveLevel = "IMAGE"
                image_query.StudyInstanceUID = study_uid
                image_query.SeriesInstanceUID = series_uid
                image_query.SOPInstanceUID = ""
                instances.update(
                    str(match.get("SOPInstanceUID", "") or "")
                    for match in _find(assoc, image_query)
                )
        finally:
            self._release(assoc)
        instances.discard("")
        logger.info(
            "C-FIND: the PACS holds %d instances in %d series of the study",
            len(instances),
            len(series),
        )
        return instances

    # -- storage --------------------------------------------------------------------------

    def store(self, items: Sequence[StoreItem]) -> Generator[StoreOutcome, None, None]:
        for item in items:
            if not item.sop_class_uid:
                yield _not_sent(item.key, STATUS_INVALID_DATASET, "the instance has no SOP Class")
        sendable = [item for item in items if item.sop_class_uid]
        for contexts, batch in plan_associations(sendable):
            yield from self._store_plan(contexts, batch)

    def _store_plan(
        self, contexts: list[PresentationContext], items: list[StoreItem]
    ) -> Generator[StoreOutcome, None, None]:
        """Send ``items`` on up to ``parallel`` associations at once, each in its own thread
        taking the next item when done with one; yield the outcomes as they come."""
        work = _Work(items)
        results: queue.Queue[StoreOutcome | _WorkerEnd] = queue.Queue()
        stop = threading.Event()
        count = max(1, min(self.parallel, len(items)))
        threads = [
            threading.Thread(
                target=self._store_worker,
                args=(contexts, work, results, stop, number),
                name=f"pacs-store-{number}",
                daemon=True,
            )
            for number in range(1, count + 1)
        ]
        started = time.monotonic()
        errors: list[PacsError] = []
        unexpected: list[PacsError] = []
        stored = 0
        for thread in threads:
            thread.start()
        try:
            running = len(threads)
            while running:
                result = results.get()
                if isinstance(result, StoreOutcome):
                    yield result
                    continue
                running -= 1
                stored += result.stored
                if result.error is not None:
                    (unexpected if result.unexpected else errors).append(result.error)
        finally:
            stop.set()  # the consumer may stop early: let the workers end after their item
            for thread in threads:
                thread.join()
        logger.info(
            "C-STORE: %d of %d instances stored in %.1f s on %d association(s)",
            stored,
            len(items),
            time.monotonic() - started,
            count,
        )
        # An association refused or lost by one worker while the others sent everything is no
        # failure; an unexpected error in any worker is, and so is anything left unsent.
        left = work.left()
        if unexpected:
            raise PacsError(
                unexpected[0].code,
                unexpected[0].message + (f"; {left} instance(s) not sent" if left else ""),
            )
        if left:
            error = errors[0] if errors else PacsError(PacsError.FAILED, "the store stopped")
            raise PacsError(error.code, f"{error.message}; {left} instance(s) not sent")

    def _store_worker(
        self,
        contexts: list[PresentationContext],
        work: _Work,
        results: queue.Queue[StoreOutcome | _WorkerEnd],
        stop: threading.Event,
        number: int,
    ) -> None:
        """One association: take items until there are none left; associate again after a
        loss, and give up after :data:`MAX_LOSSES_IN_A_ROW` losses without progress.

        Every item taken ends as an outcome or goes back to the others: on an unexpected
        error the item in hand is reported not sent (:data:`STATUS_SENDER_FAILED`) and the
        worker ends with an error that fails the plan."""
        purpose = f"C-STORE #{number}"
        assoc: Association | None = None
        attempts: dict[str, int] = {}
        losses_in_a_row = 0
        stored = 0
        message_id = 0
        error: PacsError | None = None
        unexpected = False
        held: StoreItem | None = None  # taken from the work, not yet answered for
        try:
            while not stop.is_set():
                item = held = work.take()
                if item is None:
                    break
                try:
                    if assoc is None or not assoc.is_established:
                        try:
                            assoc = self._associate(contexts, purpose)
                        except PacsError as exc:
                            work.give_back(item)
                            held = None
                            error = exc
                            break
                        _hold_reactor(assoc)
                    message_id = message_id % 0xFFFF + 1
                    outcome = self._store_one(assoc, item, message_id)
                except _Lost as lost:
                    if assoc is not None:
                        self._release(assoc)
                    assoc = None
                    losses_in_a_row += 1
                    attempts[item.key] = attempts.get(item.key, 0) + 1
                    if attempts[item.key] >= ATTEMPTS_PER_INSTANCE:
                        results.put(
                            _not_sent(
                                item.key, STATUS_ABORTED, f"{lost.message} (twice on this instance)"
                            )
                        )
                    else:
                        work.give_back(item)
                    held = None
                    if losses_in_a_row >= MAX_LOSSES_IN_A_ROW:
                        error = PacsError(
                            lost.code, f"{lost.message} ({losses_in_a_row} times in a row)"
                        )
                        break
                    logger.warning("%s: %s; associating again", purpose, lost.message)
                    continue
                losses_in_a_row = 0
                stored += outcome.ok
                results.put(outcome)
                held = None
        except Exception as exc:  # a bug: reported, never a silent loss
            # the type only: an exception's text may quote a data element (patient data)
            logger.error("%s: unexpected error (%s)", purpose, type(exc).__name__)
            logger.debug("%s: unexpected error", purpose, exc_info=True)
            unexpected = True
            error = PacsError(
                PacsError.FAILED, f"unexpected error while storing ({type(exc).__name__})"
            )
            if held is not None:
                results.put(
                    _not_sent(
                        held.key,
                        STATUS_SENDER_FAILED,
                        f"not sent: its sender stopped on an unexpected error "
                        f"({type(exc).__name__})",
                    )
                )
        finally:
            if assoc is not None:
                self._release(assoc)
            results.put(_WorkerEnd(error, stored, unexpected))

    def _store_one(self, assoc: Association, item: StoreItem, message_id: int) -> StoreOutcome:
        accepted = _accepted_pairs(assoc)
        if decide(accepted, item.sop_class_uid, item.transfer_syntax_uid) is None:
            return _not_sent(
                item.key,
                STATUS_NO_CONTEXT,
                f"the PACS accepted no presentation context for SOP class {item.sop_class_uid} "
                f"in transfer syntax {item.transfer_syntax_uid or 'unknown'} "
                "nor in an uncompressed little endian one",
            )
        fast = self._encoded_as_is(accepted, item)
        if fast is not None:
            instance, transfer_syntax = fast
            return self._send(assoc, item, instance, transfer_syntax, message_id, "")
        try:
            ds = item.load()
        except Exception as exc:
            logger.debug("loading instance %s failed", item.key, exc_info=True)
            return _not_sent(
                item.key, STATUS_LOAD_FAILED, f"cannot read the instance: {type(exc).__name__}"
            )
        ensure_transfer_syntax(ds, item.transfer_syntax_uid)
        actual = str(ds.file_meta.TransferSyntaxUID)
        decision = decide(accepted, item.sop_class_uid, actual)
        if decision is None:
            return _not_sent(
                item.key,
                STATUS_NO_CONTEXT,
                f"the dataset is in transfer syntax {actual}, not {item.transfer_syntax_uid}, "
                "and the PACS accepted no presentation context for it",
            )
        note = ""
        if decision.route is Route.CONVERT:
            try:
                to_little_endian(ds)
            except TranscodeError as exc:
                logger.debug("decoding instance %s failed", item.key, exc_info=True)
                return _not_sent(item.key, STATUS_DECODE_FAILED, str(exc))
            note = f"; sent uncompressed: the PACS refused {UID(actual).name or actual}"
        try:
            encoded = _encode(assoc, ds, decision.transfer_syntax)
        except ValueError as exc:  # no usable context, or the dataset cannot be encoded
            return _not_sent(item.key, _value_error_code(exc), str(exc))
        except AttributeError as exc:  # no SOP Class/Instance UID, inconsistent encoding
            return _not_sent(item.key, STATUS_INVALID_DATASET, str(exc))
        del ds
        return self._send(assoc, item, encoded, decision.transfer_syntax, message_id, note)

    @staticmethod
    def _encoded_as_is(
        accepted: list[tuple[str, str]], item: StoreItem
    ) -> tuple[EncodedInstance, str] | None:
        """The instance already encoded (:attr:`StoreItem.encoded`) and the accepted syntax it
        goes out in, when the PACS takes it exactly as it was encoded in the file; else
        ``None`` (the dataset is then loaded, converted and encoded as usual)."""
        if item.encoded is None:
            return None
        try:
            instance = item.encoded()
        except Exception:  # the full load reports the problem as it always did
            logger.debug("encoding instance %s failed", item.key, exc_info=True)
            return None
        if instance is None:
            return None
        decision = decide(accepted, item.sop_class_uid, instance.transfer_syntax_uid)
        if decision is None or decision.route is not Route.AS_IS:
            return None
        syntax = UID(decision.transfer_syntax)
        if syntax.is_deflated or (syntax.is_implicit_VR, syntax.is_little_endian) != (
            instance.implicit_vr,
            instance.little_endian,
        ):
            return None  # e.g. implicit VR data the PACS takes only in explicit VR
        return instance, decision.transfer_syntax

    def _send(
        self,
        assoc: Association,
        item: StoreItem,
        instance: EncodedInstance,
        transfer_syntax: str,
        message_id: int,
        note: str,
    ) -> StoreOutcome:
        try:
            logger.debug("C-STORE %s (%s)", item.key, item.sop_instance_uid)
            status = self._c_store(assoc, instance, transfer_syntax, message_id)
        except ValueError as exc:  # no usable context, or an invalid UID
            return _not_sent(item.key, _value_error_code(exc), str(exc))
        outcome = _store_outcome(item.key, status, transfer_syntax, note)
        if not outcome.ok or outcome.warning:
            logger.debug("C-STORE %s: %s", item.key, outcome.message)
        return outcome

    def _c_store(
        self,
        assoc: Association,
        instance: EncodedInstance,
        transfer_syntax: str,
        message_id: int,
    ) -> Dataset:
        """One C-STORE of ``instance`` (its data set already encoded in the accepted
        ``transfer_syntax``) on an association whose reactor is held (:func:`_hold_reactor`).

        The request goes out as the P-DATA-TF PDUs pynetdicom would build
        (:mod:`importer.pacs.pdata`), written to the socket by this thread in one call; the
        DUL reactor thread still reads the socket and puts the response on the DIMSE queue,
        read here. Raises :class:`_Lost` when the association ends or times out first."""
        context_id = _context_id(assoc, instance.sop_class_uid, transfer_syntax)
        request = C_STORE()  # its setters validate the UIDs as pynetdicom's send_c_store does
        request.MessageID = message_id
        request.AffectedSOPClassUID = instance.sop_class_uid
        request.AffectedSOPInstanceUID = instance.sop_instance_uid
        command = c_store_command(
            message_id,
            str(request.AffectedSOPClassUID),
            str(request.AffectedSOPInstanceUID),
            priority=2,  # low (PS3.7 9.1.1.1.8: 0 medium, 1 high, 2 low)
        )
        pdus = p_data_pdus(context_id, command, instance.data, assoc.dimse.maximum_pdu_size)
        sock = getattr(getattr(assoc.dul, "socket", None), "socket", None)
        if not assoc.is_established or not isinstance(sock, socket.socket):
            raise _Lost(PacsError.ABORTED, "the PACS closed the association")
        try:
            sock.sendall(pdus)
        except TimeoutError:
            assoc.abort()
            raise _Lost(
                PacsError.TIMEOUT, f"the PACS took no data for {self.timeout:.0f} s"
            ) from None
        except OSError as exc:
            assoc.abort()
            raise _Lost(
                PacsError.ABORTED,
                f"the connection was lost during a C-STORE ({exc.strerror or type(exc).__name__})",
            ) from None
        del pdus
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                _cx, response = assoc.dimse.msg_queue.get(timeout=0.1)
            except queue.Empty:
                if assoc.acse.is_aborted() or not assoc.dul.is_alive():
                    raise _Lost(
                        PacsError.ABORTED, "the association was aborted during a C-STORE"
                    ) from None
                if time.monotonic() > deadline:
                    assoc.abort()
                    raise _Lost(
                        PacsError.TIMEOUT, f"no C-STORE response within {self.timeout:.0f} s"
                    ) from None
                continue
            if response is None:
                raise _Lost(PacsError.ABORTED, "the association was aborted during a C-STORE")
            if (
                isinstance(response, C_STORE)
                and response.MessageIDBeingRespondedTo == message_id
                and response.Status is not None
            ):
                status = Dataset()
                status.Status = int(response.Status)
                comment = getattr(response, "ErrorComment", None)
                if comment:
                    status.ErrorComment = comment
                return status
            logger.debug("ignoring an unexpected DIMSE message during a C-STORE")

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
                self._release(assoc)
        finally:
            listeners.inbox.forget(waiter)
            if port is not None:
                listeners.release(self.commitment_host, port)
        if not answered:
            raise PacsError(
                PacsError.TIMEOUT,
                f"no storage commitment report from the PACS within {timeout:.0f} s "
                f"({len(waiter.pending)} of {len(transactions)} transaction(s) unanswered)",
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
            raise PacsError(
                PacsError.UNSUPPORTED,
                f"the PACS does not take storage commitment requests: {exc}",
            ) from None
        if "Status" not in status:
            if time.monotonic() - started < self.timeout:  # aborted, not timed out
                raise PacsError(
                    PacsError.REJECTED,
                    "the PACS aborted the association on the storage commitment request "
                    f"(does it know our AE title {self.calling_ae} as a modality?)",
                )
            raise PacsError(PacsError.TIMEOUT, "no N-ACTION response from the PACS")
        code = int(status.Status)
        if code != STATUS_SUCCESS:
            raise PacsError(
                PacsError.FAILED,
                f"the PACS refused the storage commitment request with status 0x{code:04X}",
            )


def _queryable(uids: Sequence[str]) -> list[str]:
    """``uids`` without duplicates, empty ones and ones holding matching characters (which
    would match other studies: never ask for them)."""
    unique = [uid for uid in dict.fromkeys(uids) if uid]
    queryable = [uid for uid in unique if not any(ch in uid for ch in "*?\\")]
    if len(queryable) != len(unique):
        logger.debug("skipping %d UIDs with wildcard characters", len(unique) - len(queryable))
    return queryable


def _find(assoc: Association, query: Dataset) -> Iterator[Dataset]:
    """The identifiers a Study Root C-FIND matches; :class:`PacsError` on failure."""
    for status, identifier in assoc.send_c_find(query, STUDY_ROOT_FIND):
        if "Status" not in status:
            raise PacsError(PacsError.TIMEOUT, "the PACS stopped answering a C-FIND")
        code = int(status.Status)
        if code in FIND_PENDING:
            if identifier is not None:
                yield identifier
        elif code == STATUS_SUCCESS:
            return
        else:
            raise PacsError(PacsError.FAILED, f"the PACS failed a C-FIND with 0x{code:04X}")


def _int_or_none(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None
