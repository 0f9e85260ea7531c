"""PACS adapters behind one interface (:class:`PacsClient`): DIMSE and DICOMweb."""

from __future__ import annotations

from importer.pacs.base import (
    FAILURE_NOT_REPORTED,
    STATUS_ABORTED,
    STATUS_DECODE_FAILED,
    STATUS_DECODE_INTERRUPTED,
    STATUS_FILE_CHANGED,
    STATUS_INVALID_DATASET,
    STATUS_LOAD_FAILED,
    STATUS_NO_CONTEXT,
    STATUS_REJECTED,
    STATUS_SENDER_FAILED,
    STATUS_SPOOL_UNREADABLE,
    CommitResult,
    EncodedInstance,
    FileRange,
    PacsClient,
    PacsError,
    StoreItem,
    StoreOutcome,
    StudyOnPacs,
)
from importer.pacs.dicomweb import DEFAULT_BATCH_BYTES, DicomWebPacs
from importer.pacs.dimse import DimsePacs
from importer.settings import parse_dimse_url

__all__ = [
    "FAILURE_NOT_REPORTED",
    "STATUS_ABORTED",
    "STATUS_DECODE_FAILED",
    "STATUS_DECODE_INTERRUPTED",
    "STATUS_FILE_CHANGED",
    "STATUS_INVALID_DATASET",
    "STATUS_LOAD_FAILED",
    "STATUS_NO_CONTEXT",
    "STATUS_REJECTED",
    "STATUS_SENDER_FAILED",
    "STATUS_SPOOL_UNREADABLE",
    "CommitResult",
    "DicomWebPacs",
    "DimsePacs",
    "EncodedInstance",
    "FileRange",
    "PacsClient",
    "PacsError",
    "StoreItem",
    "StoreOutcome",
    "StudyOnPacs",
    "dicomweb_base_url",
    "make_pacs_client",
]


def dicomweb_base_url(url: str) -> str:
    """``dicomweb://host:port/path`` → ``http://host:port/path`` (``dicomwebs://`` → https);
    http(s) URLs as they are, without a trailing slash."""
    for scheme, replacement in (("dicomweb://", "http://"), ("dicomwebs://", "https://")):
        if url.startswith(scheme):
            url = replacement + url[len(scheme) :]
            break
    if not url.startswith(("http://", "https://")) or len(url.split("://", 1)[1]) == 0:
        raise PacsError("pacs_invalid_url", "invalid PACS URL: expected dicomweb://host:port/path")
    return url.rstrip("/")


def make_pacs_client(
    url: str,
    *,
    calling_ae: str,
    timeout: float,
    max_pdu: int = 0,
    parallel: int = 2,
    commitment_port: int | None = None,
    commitment_host: str = "0.0.0.0",  # noqa: S104 - the PACS connects back to us
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> PacsClient:
    """The adapter for ``url``: ``dimse://AE@host:port`` (:class:`DimsePacs`; ``parallel``
    associations for C-STORE, ``commitment_port`` for storage commitment reports) or
    ``dicomweb://host:port/path``, ``dicomwebs://...``, ``http(s)://host:port/path``
    (:class:`DicomWebPacs`; ``batch_bytes`` per STOW-RS request)."""
    if url.startswith("dimse://"):
        try:
            node = parse_dimse_url(url)
        except ValueError as exc:
            raise PacsError("pacs_invalid_url", f"invalid PACS URL: {exc}") from None
        return DimsePacs(
            node,
            calling_ae=calling_ae,
            timeout=timeout,
            max_pdu=max_pdu,
            parallel=parallel,
            commitment_port=commitment_port,
            commitment_host=commitment_host,
        )
    if url.startswith(("dicomweb://", "dicomwebs://", "http://", "https://")):
        return DicomWebPacs(dicomweb_base_url(url), timeout=timeout, batch_bytes=batch_bytes)
    raise PacsError(
        PacsError.UNSUPPORTED, "the PACS URL must start with dimse://, dicomweb:// or http(s)://"
    )
