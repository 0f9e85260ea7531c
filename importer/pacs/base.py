"""The PACS adapter interface: what the pipeline needs from a PACS, whatever the protocol.

Adapters are synchronous (pynetdicom is); the pipeline calls them through
``asyncio.to_thread``. They never log patient data: instance keys and UIDs at DEBUG only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from pydicom import Dataset

from importer.errors import ImporterError


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


# Our own outcome codes: the instance was not stored and the PACS gave no DIMSE status.
STATUS_NO_CONTEXT = -1
"""No presentation context accepted for the instance's SOP class and transfer syntax."""
STATUS_ABORTED = -2
"""The association was aborted (or timed out) while the instance was being sent."""
STATUS_LOAD_FAILED = -3
"""``StoreItem.load()`` raised: the instance could not be read."""
STATUS_INVALID_DATASET = -4
"""The dataset could not be sent as given (missing UIDs, cannot be encoded)."""


class PacsError(ImporterError):
    """The PACS could not be used at all. ``code`` is one of the ``pacs_*`` codes below."""

    status_code: ClassVar[int] = 502
    code = "pacs_error"

    UNREACHABLE: ClassVar[str] = "pacs_unreachable"
    REJECTED: ClassVar[str] = "pacs_rejected"
    TIMEOUT: ClassVar[str] = "pacs_timeout"
    ABORTED: ClassVar[str] = "pacs_aborted"
    FAILED: ClassVar[str] = "pacs_failed"
    UNSUPPORTED: ClassVar[str] = "pacs_unsupported"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


class PacsClient(Protocol):
    """A PACS as the pipeline sees it."""

    def echo(self) -> None:
        """Verify the PACS answers; raise :class:`PacsError` otherwise."""
        ...

    def find_studies(self, study_uids: Sequence[str]) -> dict[str, StudyOnPacs]:
        """The studies among ``study_uids`` that the PACS already holds, by Study Instance UID."""
        ...

    def store(self, items: Sequence[StoreItem]) -> Iterator[StoreOutcome]:
        """Send ``items``, yielding one outcome per item as it completes.

        Raises :class:`PacsError` (after the outcomes already yielded) when the PACS cannot be
        reached or the connection is lost for good; items without an outcome were not sent.
        """
        ...
