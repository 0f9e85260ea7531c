"""The C-STORE engine: many instances over up to ``parallel`` reused associations at once,
each in a thread of its own, every instance answered for.

:class:`StoreEngine` gets its associations from the client (:meth:`DimsePacs._associate
<importer.pacs.dimse.client.DimsePacs._associate>`), plans them (:mod:`.contexts`), and sends
each instance as it is in the file when the PACS takes that encoding, else loaded, converted
when the PACS refuses its transfer syntax, and encoded. The request PDUs are written by the
sending thread itself (:mod:`importer.pacs.pdata`), the reactor of pynetdicom held paused.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import islice

from pydicom import Dataset
from pydicom.uid import UID
from pynetdicom.association import Association
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.dsutils import encode
from pynetdicom.presentation import PresentationContext
from pynetdicom.status import STORAGE_SERVICE_CLASS_STATUS, code_to_category

from importer.dimse import describe_status, release
from importer.pacs.base import (
    STATUS_ABORTED,
    STATUS_DECODE_FAILED,
    STATUS_DECODE_INTERRUPTED,
    STATUS_INVALID_DATASET,
    STATUS_NO_CONTEXT,
    STATUS_SENDER_FAILED,
    EncodedInstance,
    PacsError,
    SourceUnreadable,
    StoreItem,
    StoreOutcome,
    not_loaded,
)
from importer.pacs.dimse.contexts import accepted_pairs, context_id, plan_associations
from importer.pacs.pdata import c_store_command, p_data_pdus, p_data_stream
from importer.pacs.transcode import (
    Route,
    TranscodeError,
    decide,
    ensure_transfer_syntax,
    to_little_endian,
)

__all__ = ["ATTEMPTS_PER_INSTANCE", "MAX_LOSSES_IN_A_ROW", "Associate", "StoreEngine"]

logger = logging.getLogger(__name__)

# C-STORE warnings (PS3.4 B.2.3); success and failures are told by their category
STATUS_WARNING_COERCION = 0xB000
"""C-STORE warning: coercion of data elements."""
STATUS_WARNING_ELEMENTS_DISCARDED = 0xB006
"""C-STORE warning: elements discarded."""
STATUS_WARNING_SOP_CLASS_MISMATCH = 0xB007
"""C-STORE warning: data set does not match SOP class."""

MAX_LOSSES_IN_A_ROW = 3
"""A store worker gives up after this many lost associations without a C-STORE answered."""
ATTEMPTS_PER_INSTANCE = 2
"""An instance whose C-STORE lost the association this many times is reported not sent (a
PACS that aborts on one object, e.g. a video it cannot take, must not stop the others)."""

_CATEGORY_OK = frozenset({"Success", "Warning"})
NO_CONTEXT_MESSAGE = "the PACS accepts none of the presentation contexts proposed for it"

Associate = Callable[[list[PresentationContext], str], Association]
"""An established association proposing these contexts (the second argument names its purpose
in the logs), or :class:`PacsError`."""


def _store_outcome(
    key: str, status: Dataset, transfer_syntax: str, note: str, converted: str = ""
) -> StoreOutcome:
    code = int(status.Status)
    category = code_to_category(code)
    message = describe_status(code, STORAGE_SERVICE_CLASS_STATUS)
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
        converted=converted,
    )


def _not_sent(key: str, status: int, message: str) -> StoreOutcome:
    """The outcome of an instance that was not stored (``status``: a ``STATUS_*`` of ours)."""
    return StoreOutcome(key=key, status=status, ok=False, warning=False, message=message)


def _value_error_code(exc: ValueError) -> int:
    return STATUS_NO_CONTEXT if "presentation context" in str(exc) else STATUS_INVALID_DATASET


def _value_error_outcome(key: str, exc: ValueError) -> StoreOutcome:
    """An instance pynetdicom would not send, said in our words (its text to the log, by type
    only: it may quote a value)."""
    logger.debug("instance %s not sent (%s)", key, type(exc).__name__)
    status = _value_error_code(exc)
    if status == STATUS_NO_CONTEXT:
        return _not_sent(key, status, "no presentation context the PACS accepted fits it")
    return _not_sent(key, status, "the instance cannot be encoded to be sent")


class _Lost(Exception):
    """The association ended while an instance was being sent."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


PREPARE_AHEAD = 2
"""Items whose encoding is prepared ahead of the senders, at most."""
AHEAD_PER_ASSOCIATION = 2
"""Instances an association may have sent whose outcomes its consumer has not taken yet: two,
so that a sender seldom waits for its consumer (one cost 0.05-0.1 s of a 500-instance store in
the pipeline, where the consumer shares the interpreter with the event loop)."""
PREPARE_AHEAD_MAX_BYTES = 16 * 1024 * 1024
"""A larger instance is prepared by its sender only (what is held ahead stays small)."""


class _Ahead:
    """An item's :attr:`StoreItem.encoded`, prepared ahead by another thread once started;
    called, it gives that result (or prepares it there and then, when not started)."""

    def __init__(self, prepare: Callable[[], EncodedInstance | None]) -> None:
        self._prepare = prepare
        self._future: Future[EncodedInstance | None] | None = None
        self._lock = threading.Lock()

    def start(self, pool: ThreadPoolExecutor) -> None:
        with self._lock:
            if self._future is None:
                self._future = pool.submit(self._prepare)

    def __call__(self) -> EncodedInstance | None:
        with self._lock:
            future, self._future = self._future, None
        return self._prepare() if future is None else future.result()


class _Work:
    """The items of one association plan, taken one at a time by the store workers; the next
    :data:`PREPARE_AHEAD` items' encodings are prepared meanwhile by a thread of their own, so
    that a sender waiting for the PACS's answer does not then wait for its next instance."""

    def __init__(self, items: Sequence[StoreItem], pool: ThreadPoolExecutor | None = None) -> None:
        self._items = deque(
            replace(item, encoded=_Ahead(item.encoded))
            if pool is not None
            and item.encoded is not None
            and item.size is not None
            and item.size <= PREPARE_AHEAD_MAX_BYTES
            else item
            for item in items
        )
        self._pool = pool
        self._lock = threading.Lock()

    def take(self) -> StoreItem | None:
        with self._lock:
            item = self._items.popleft() if self._items else None
            if self._pool is not None:
                for upcoming in islice(self._items, PREPARE_AHEAD):
                    if isinstance(upcoming.encoded, _Ahead):
                        upcoming.encoded.start(self._pool)
            return item

    def give_back(self, item: StoreItem) -> None:
        with self._lock:
            self._items.appendleft(item)

    def left(self) -> int:
        with self._lock:
            return len(self._items)


def _room(ahead: threading.Semaphore, stop: threading.Event) -> bool:
    """Wait for a permit to send one more instance; False when the plan is stopped."""
    while not ahead.acquire(timeout=0.05):
        if stop.is_set():
            return False
    if stop.is_set():
        ahead.release()
        return False
    return True


@dataclass(frozen=True, slots=True)
class _WorkerEnd:
    """A store worker stopped; ``error`` when it gave up before the work was done,
    ``unexpected`` when that was an unexpected error (a bug), which fails the whole plan."""

    error: PacsError | None
    stored: int
    unexpected: bool = False


class StoreEngine:
    """C-STORE of many instances over up to ``parallel`` associations made by ``associate``,
    each reused for as many instances as it can take. ``timeout`` bounds each C-STORE."""

    def __init__(self, associate: Associate, *, timeout: float, parallel: int) -> None:
        if parallel < 1:
            raise ValueError("parallel must be at least 1")
        self._associate = associate
        self.timeout = timeout
        self.parallel = parallel

    def store(self, items: Sequence[StoreItem]) -> Generator[StoreOutcome, None, None]:
        """Send ``items``, yielding each outcome as it comes (see
        :meth:`importer.pacs.base.PacsClient.store`)."""
        for item in items:
            if not item.sop_class_uid:
                yield _not_sent(item.key, STATUS_INVALID_DATASET, "the instance has no SOP Class")
        sendable = [item for item in items if item.sop_class_uid]
        for contexts, batch in plan_associations(sendable):
            yield from self._store_plan(contexts, batch)

    # -- associations ---------------------------------------------------------------------

    @staticmethod
    def _hold_reactor(assoc: Association) -> None:
        """Keep pynetdicom's association reactor paused for the life of a C-STORE association,
        so that the sending thread alone reads the DIMSE responses.

        pynetdicom 3.0.4 pauses and resumes its reactor around every ``send_c_store``; under
        load (several associations, a busy interpreter) the reactor sometimes takes the
        C-STORE response off the queue itself ("Received unexpected C-STORE service message")
        and the sender then waits for the whole DIMSE timeout (seen as 30 s stalls). Paused
        once, before anything is sent, it cannot. :meth:`_release` lets it run again.
        Reads pynetdicom internals, guarded by a test.
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

    @staticmethod
    def _release(assoc: Association) -> None:
        assoc._reactor_checkpoint.set()  # in case it was held
        release(assoc)

    # -- the plan -------------------------------------------------------------------------

    def _store_plan(
        self, contexts: list[PresentationContext], items: list[StoreItem]
    ) -> Generator[StoreOutcome, None, None]:
        """Send ``items`` on up to ``parallel`` associations at once, each in its own thread
        taking the next item when done with one; yield the outcomes as they come. The senders
        never run far ahead of the consumer: :data:`AHEAD_PER_ASSOCIATION` permits per
        association, one taken to send an instance and given back as its outcome is taken, so
        a consumer that stops taking (its records cannot be written) stops the sending too,
        with no more than ``parallel`` × :data:`AHEAD_PER_ASSOCIATION` instances sent and not
        taken."""
        pool = ThreadPoolExecutor(1, thread_name_prefix="pacs-prepare")
        work = _Work(items, pool)
        results: queue.Queue[StoreOutcome | _WorkerEnd] = queue.Queue()
        stop = threading.Event()
        count = max(1, min(self.parallel, len(items)))
        ahead = threading.BoundedSemaphore(count * AHEAD_PER_ASSOCIATION)
        threads = [
            threading.Thread(
                target=self._store_worker,
                args=(contexts, work, results, stop, number, ahead),
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
                    ahead.release()  # taken by the consumer: its sender may send again
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
            pool.shutdown(wait=True, cancel_futures=True)
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
                params={**unexpected[0].params, "left": left},
            )
        if left:
            error = errors[0] if errors else PacsError(PacsError.FAILED, "the store stopped")
            raise PacsError(
                error.code,
                f"{error.message}; {left} instance(s) not sent",
                params={**error.params, "left": left},
            )

    def _store_worker(
        self,
        contexts: list[PresentationContext],
        work: _Work,
        results: queue.Queue[StoreOutcome | _WorkerEnd],
        stop: threading.Event,
        number: int,
        ahead: threading.Semaphore,
    ) -> None:
        """One association: take items until there are none left; associate again after a
        loss, and give up after :data:`MAX_LOSSES_IN_A_ROW` losses without progress. Each item
        is taken with a permit of ``ahead``, given back when its outcome is taken by the
        consumer, or at once when the item goes back to the others.

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
        no_context = False  # the PACS accepted none of this plan's contexts
        try:
            while _room(ahead, stop):
                item = held = work.take()
                if item is None:
                    ahead.release()
                    break
                if no_context:
                    results.put(_not_sent(item.key, STATUS_NO_CONTEXT, NO_CONTEXT_MESSAGE))
                    held = None
                    continue
                try:
                    if assoc is None or not assoc.is_established:
                        try:
                            assoc = self._associate(contexts, purpose)
                        except PacsError as exc:
                            if exc.code == PacsError.NO_CONTEXT:
                                # not the PACS's failure: it takes none of these objects
                                no_context = True
                                results.put(
                                    _not_sent(item.key, STATUS_NO_CONTEXT, NO_CONTEXT_MESSAGE)
                                )
                                held = None
                                continue
                            work.give_back(item)
                            ahead.release()
                            held = None
                            error = exc
                            break
                        self._hold_reactor(assoc)
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
                        ahead.release()
                    held = None
                    if losses_in_a_row >= MAX_LOSSES_IN_A_ROW:
                        error = PacsError(
                            lost.code,
                            f"{lost.message} ({losses_in_a_row} times in a row)",
                            params={"count": losses_in_a_row},
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

    # -- one instance ---------------------------------------------------------------------

    def _store_one(self, assoc: Association, item: StoreItem, message_id: int) -> StoreOutcome:
        accepted = accepted_pairs(assoc)
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
            return not_loaded(item.key, exc)
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
        note = converted = ""
        if decision.route is Route.CONVERT:
            try:
                converted = to_little_endian(ds, item.modifying_system)
            except TranscodeError as exc:
                logger.debug("decoding instance %s failed", item.key, exc_info=True)
                status = STATUS_DECODE_INTERRUPTED if exc.transient else STATUS_DECODE_FAILED
                return _not_sent(item.key, status, str(exc))
            note = (
                f"; sent uncompressed: the PACS refused {UID(actual).name or actual} ({converted})"
            )
        try:
            encoded = self._encode(assoc, ds, decision.transfer_syntax)
        except ValueError as exc:  # no usable context, or the dataset cannot be encoded
            return _value_error_outcome(item.key, exc)
        except AttributeError as exc:  # no SOP Class/Instance UID, inconsistent encoding
            logger.debug("instance %s not sent (%s)", item.key, type(exc).__name__)
            return _not_sent(
                item.key,
                STATUS_INVALID_DATASET,
                "the instance lacks a SOP Class or Instance UID, or its encoding is inconsistent",
            )
        del ds
        return self._send(
            assoc, item, encoded, decision.transfer_syntax, message_id, note, converted
        )

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

    @staticmethod
    def _encode(assoc: Association, ds: Dataset, transfer_syntax: str) -> EncodedInstance:
        """``ds`` encoded in ``transfer_syntax`` by pynetdicom (as ``send_c_store`` does).
        Raises ``AttributeError`` without SOP Class or Instance UID, ``ValueError`` when no
        context was accepted for it or it cannot be encoded."""
        sop_class = str(ds.SOPClassUID)
        context_id(assoc, sop_class, transfer_syntax)
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

    def _send(
        self,
        assoc: Association,
        item: StoreItem,
        instance: EncodedInstance,
        transfer_syntax: str,
        message_id: int,
        note: str,
        converted: str = "",
    ) -> StoreOutcome:
        try:
            logger.debug("C-STORE %s (%s)", item.key, item.sop_instance_uid)
            status = self._c_store(assoc, instance, transfer_syntax, message_id)
        except ValueError as exc:  # no usable context, or an invalid UID
            return _value_error_outcome(item.key, exc)
        outcome = _store_outcome(item.key, status, transfer_syntax, note, converted)
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
        ``transfer_syntax``) on an association whose reactor is held (:meth:`_hold_reactor`).

        The request goes out as the P-DATA-TF PDUs pynetdicom would build
        (:mod:`importer.pacs.pdata`), written to the socket by this thread in one call; the
        DUL reactor thread still reads the socket and puts the response on the DIMSE queue,
        read here. Raises :class:`_Lost` when the association ends or times out first."""
        cx_id = context_id(assoc, instance.sop_class_uid, transfer_syntax)
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
        max_pdu = assoc.dimse.maximum_pdu_size
        if instance.rest is None:  # in memory: one write
            pdus: Iterator[bytes] = iter((p_data_pdus(cx_id, command, instance.data, max_pdu),))
        else:  # a large object: read from its file and written a few megabytes at a time
            pdus = p_data_stream(cx_id, command, instance.blocks, max_pdu)
        sock = getattr(getattr(assoc.dul, "socket", None), "socket", None)
        if not assoc.is_established or not isinstance(sock, socket.socket):
            raise _Lost(PacsError.ABORTED, "the PACS closed the association")
        try:
            for block in pdus:
                sock.sendall(block)
        except SourceUnreadable:
            assoc.abort()  # part of the message is out: the association cannot go on
            logger.info("C-STORE: the file could not be read while it was sent")
            raise _Lost(PacsError.ABORTED, "the file could not be read while it was sent") from None
        except TimeoutError:
            assoc.abort()
            raise _Lost(
                PacsError.TIMEOUT, f"the PACS took no data for {self.timeout:.0f} s"
            ) from None
        except OSError as exc:
            assoc.abort()
            logger.info("C-STORE: connection lost (%s)", type(exc).__name__)
            raise _Lost(PacsError.ABORTED, "the connection was lost during a C-STORE") from None
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
