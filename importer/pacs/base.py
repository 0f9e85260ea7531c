"""The PACS adapter interface: what the pipeline needs from a PACS, whatever the protocol.

Adapters are synchronous (pynetdicom is; httpx's sync client for DICOMweb); the pipeline calls
them through ``asyncio.to_thread``. They never log patient data: instance keys and UIDs at DEBUG
only.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from pydicom import Dataset

from importer.errors import Failure
from importer.media.stamp import FileChanged, check_unchanged


@dataclass(frozen=True, slots=True)
class StudyOnPacs:
    """A study the PACS already holds (answer to a study-level query)."""

    study_instance_uid: str
    patient_id: str
    instance_count: int | None


@dataclass(frozen=True, slots=True)
class StoreItem:
    """One instance to send.

    ``load`` is called just before sending and returns the (already coerced) dataset with its
    ``file_meta``; ``sop_class_uid`` and ``transfer_syntax_uid`` describe it without loading it
    (they decide the presentation contexts proposed).
    """

    key: str
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    load: Callable[[], Dataset]
    encoded: Callable[[], EncodedInstance | None] | None = None
    """Optional, a faster way to the same data: the dataset ``load`` would return, already
    encoded as it was in the file, or ``None`` when that cannot be had without ``load``.
    Adapters that can send it as it is (DIMSE, when the PACS accepted the original encoding)
    call it instead of ``load``; on ``None`` or an error they call ``load``."""
    size: int | None = None
    """The file's size when known: the DIMSE adapter prepares ahead only small instances."""
    modifying_system: str = ""
    """Who converts the instance, where an adapter must (the record of the conversion in its
    Original Attributes Sequence, :func:`importer.pacs.transcode.to_little_endian`)."""


@dataclass(frozen=True, slots=True)
class FileRange:
    """``length`` bytes of the file at ``path`` from ``offset``, read only when sent, and only
    while the file has ``stamp`` (:mod:`importer.media.stamp`; ``None``: not checked)."""

    path: Path
    offset: int
    length: int
    stamp: str | None = None


class SourceUnreadable(OSError):
    """A file no longer gives the bytes an :class:`EncodedInstance` was prepared from (gone,
    shorter, changed since it was vouched for, or a read that failed)."""


@dataclass(frozen=True, slots=True)
class EncodedInstance:
    """The dataset :attr:`StoreItem.load` would return, encoded: ``data`` followed by ``rest``
    (when given) are exactly the bytes that encoding that dataset (no file meta) as
    ``implicit_vr`` / ``little_endian`` gives; ``transfer_syntax_uid`` is its file meta's
    Transfer Syntax UID. ``rest`` keeps a large object's pixel data on disk: it is read a block
    at a time as it is sent (:meth:`blocks`), never held whole."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    implicit_vr: bool
    little_endian: bool
    data: bytes
    rest: FileRange | None = None

    @property
    def size(self) -> int:
        return len(self.data) + (self.rest.length if self.rest is not None else 0)

    def blocks(self, size: int) -> Iterator[bytes]:
        """The encoded bytes in blocks of ``size`` (the last one shorter), the file's part read
        as it goes, each checked against the file's stamp before it goes. Raises
        :class:`SourceUnreadable` when the file ends early or changed."""
        if size <= 0:
            raise ValueError("a block holds at least one byte")
        if self.rest is None:
            for start in range(0, len(self.data), size):
                yield self.data[start : start + size]
            return
        pending = bytearray(self.data)
        left = self.rest.length
        try:
            fp = self.rest.path.open("rb")
        except OSError as exc:
            raise SourceUnreadable("the file cannot be opened any more") from exc
        with fp:
            fp.seek(self.rest.offset)
            while pending or left:
                while len(pending) < size and left:
                    try:
                        piece = fp.read(min(left, size - len(pending)))
                    except OSError as exc:
                        raise SourceUnreadable("the file cannot be read any more") from exc
                    if not piece:
                        raise SourceUnreadable("the file is shorter than when it was prepared")
                    pending += piece
                    left -= len(piece)
                try:
                    check_unchanged(fp, self.rest.stamp)
                except OSError as exc:
                    raise SourceUnreadable("the file changed since it was prepared") from exc
                yield bytes(pending[:size])
                del pending[:size]


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    """What became of one :class:`StoreItem`.

    ``status`` is the DIMSE status of the C-STORE response (0x0000 success, 0xB000/0xB006/0xB007
    warnings, 0xA7xx/0xA9xx/0xCxxx failures...) or one of the negative ``STATUS_*`` codes of
    :mod:`importer.pacs.base` when nothing was stored. ``ok`` is true for success and warnings.
    """

    key: str
    status: int
    ok: bool
    warning: bool
    message: str
    transfer_syntax: str = ""
    """The transfer syntax the instance was sent in ("" when it was not sent, or unknown): not
    the original one when the PACS refused it and the instance was sent decompressed."""
    converted: str = ""
    """How the instance was converted before it was sent ("" when it went as it was): the
    decoder of :mod:`importer.media.decoders` that decoded it, "byte-swapped" or "re-encoded"."""


# Our own outcome codes: the instance was not stored and the PACS gave no DIMSE status.
STATUS_NO_CONTEXT = -1
"""No presentation context accepted for the instance's SOP class and transfer syntax."""
STATUS_ABORTED = -2
"""The association was aborted (or timed out) while the instance was being sent."""
STATUS_LOAD_FAILED = -3
"""``StoreItem.load()`` raised: the instance could not be read."""
STATUS_INVALID_DATASET = -4
"""The dataset could not be sent as given (missing UIDs, cannot be encoded)."""
STATUS_DECODE_FAILED = -5
"""The PACS refused the original (compressed or big endian) transfer syntax and the pixel data
could not be decoded to send it uncompressed: nothing was sent rather than garbage."""
STATUS_REJECTED = -6
"""DICOMweb: the PACS refused the instance without a DICOM status (HTTP error)."""
STATUS_SENDER_FAILED = -7
"""The store worker holding the instance stopped on an unexpected error, so it was not sent (or
its answer was lost). Worth a retry: nothing says the instance itself is at fault."""

STATUS_FILE_CHANGED = -8
"""The instance's file is not the one vouched for before sending (its stamp changed:
:mod:`importer.media.stamp`): it was not sent, and will not be."""
STATUS_SPOOL_UNREADABLE = -9
"""The instance's file could not be read from the spool (gone, or a read error): not sent. Worth
a retry once the storage is mended: nothing says the instance itself is at fault."""
STATUS_DECODE_INTERRUPTED = -10
"""The pixel data could not be decoded for a reason of the moment (a decoding tool timed out,
the temporary folder was full): not sent, and a retry may do it."""


def not_loaded(key: str, exc: Exception) -> StoreOutcome:
    """The outcome of an instance whose dataset ``StoreItem.load()`` could not give (``exc``
    raised): its file changed since it was vouched for, could not be read from the spool (an
    error of the system, with its ``errno``: pydicom raises a bare ``OSError`` for some malformed
    content, which no retry mends), or does not read as a dataset. Only the exception's type is
    kept: its text may quote a value."""
    if isinstance(exc, FileChanged):
        status = STATUS_FILE_CHANGED
        message = "its file changed on the server's storage after it was checked"
    elif isinstance(exc, OSError) and exc.errno is not None:
        status = STATUS_SPOOL_UNREADABLE
        message = f"its file cannot be read from the server's storage: {type(exc).__name__}"
    else:
        status = STATUS_LOAD_FAILED
        message = f"cannot read the instance: {type(exc).__name__}"
    return StoreOutcome(key, status, False, False, message)


# Failure Reason (0008,1197) values, PS3.4 Annex C.4.2.1.4 (C-STORE) and J.3.2 (commitment)
FAILURE_PROCESSING = 0x0110
FAILURE_NO_SUCH_INSTANCE = 0x0112
FAILURE_RESOURCE_LIMITATION = 0x0213
FAILURE_CLASS_NOT_SUPPORTED = 0x0122
FAILURE_CLASS_INSTANCE_CONFLICT = 0x0119
FAILURE_DUPLICATE_TRANSACTION = 0x0131
FAILURE_NOT_REPORTED = -1
"""Our own: the storage commitment report did not mention the instance at all."""


@dataclass(frozen=True, slots=True)
class CommitResult:
    """The PACS's answer to a storage commitment request (all its reports put together).

    ``committed`` holds the SOP Instance UIDs the PACS took responsibility for; ``failed``
    maps the others to their Failure Reason (``FAILURE_*``). Every requested instance is in
    exactly one of them.
    """

    transaction_uids: tuple[str, ...]
    committed: frozenset[str]
    failed: Mapping[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when the PACS committed every instance."""
        return not self.failed


class PacsError(Failure):
    """The PACS could not be used at all. ``code`` is one of the ``pacs_*`` codes below."""

    status_code: ClassVar[int] = 502
    code = "pacs_error"

    UNREACHABLE: ClassVar[str] = "pacs_unreachable"
    REJECTED: ClassVar[str] = "pacs_rejected"
    TIMEOUT: ClassVar[str] = "pacs_timeout"
    ABORTED: ClassVar[str] = "pacs_aborted"
    FAILED: ClassVar[str] = "pacs_failed"
    UNSUPPORTED: ClassVar[str] = "pacs_unsupported"
    NO_CONTEXT: ClassVar[str] = "pacs_no_context"
    """The PACS accepted none of the presentation contexts proposed (none of those kinds of
    object, in none of those transfer syntaxes)."""


class PacsClient(Protocol):
    """A PACS as the pipeline sees it."""

    def echo(self) -> None:
        """Verify the PACS answers; raise :class:`PacsError` otherwise."""
        ...

    def find_studies(self, study_uids: Sequence[str]) -> dict[str, StudyOnPacs]:
        """The studies among ``study_uids`` that the PACS already holds, by Study Instance UID."""
        ...

    def find_instances(self, study_uid: str) -> set[str]:
        """The SOP Instance UIDs the PACS holds for the study ``study_uid`` (empty when it holds
        none), to send only the missing instances of a study partly on the PACS."""
        ...

    def accepted_syntaxes(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]] | None:
        """Which (SOP class, transfer syntax) pairs the PACS accepts, asked with the proposal
        :meth:`store` would make for instances of ``pairs`` (their own syntaxes, and the
        uncompressed little endian ones where needed), nothing sent; ``None`` when the protocol
        cannot tell before sending (DICOMweb). :func:`importer.pacs.transcode.decide` then says
        how each instance would go. Raises :class:`PacsError` when the PACS cannot be asked."""
        ...

    def store(self, items: Sequence[StoreItem]) -> Generator[StoreOutcome, None, None]:
        """Send ``items``, yielding one outcome per item as it completes (not necessarily in
        the order of ``items``: adapters send several at once).

        Raises :class:`PacsError` (after the outcomes already yielded) when the PACS cannot be
        reached or the connection is lost for good; items without an outcome were not sent.
        Closing the iterator early stops sending (the instances in flight complete). An
        adapter sends no further ahead of the outcomes taken than a few instances per association
        (DIMSE: two), or one request's batch (DICOMweb): a consumer that stops taking holds the
        sending back (the store stage waits while its records cannot be written).
        """
        ...

    def commit(self, refs: Sequence[tuple[str, str]], *, timeout: float) -> CommitResult:
        """Ask the PACS to commit to the storage of ``refs`` ((SOP Class UID, SOP Instance
        UID) pairs) and wait up to ``timeout`` seconds for its answer.

        Raises :class:`PacsError`: ``pacs_timeout`` when no (complete) answer came in time,
        ``pacs_unsupported`` when the PACS or the protocol has no storage commitment.
        """
        ...
