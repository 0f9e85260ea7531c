"""PACS adapters behind one interface (:class:`PacsClient`): DIMSE now, DICOMweb later."""

from __future__ import annotations

from importer.pacs.base import (
    STATUS_ABORTED,
    STATUS_INVALID_DATASET,
    STATUS_LOAD_FAILED,
    STATUS_NO_CONTEXT,
    PacsClient,
    PacsError,
    StoreItem,
    StoreOutcome,
    StudyOnPacs,
)
from importer.pacs.dimse import DimsePacs
from importer.settings import parse_dimse_url

__all__ = [
    "STATUS_ABORTED",
    "STATUS_INVALID_DATASET",
    "STATUS_LOAD_FAILED",
    "STATUS_NO_CONTEXT",
    "DimsePacs",
    "PacsClient",
    "PacsError",
    "StoreItem",
    "StoreOutcome",
    "StudyOnPacs",
    "make_pacs_client",
]


def make_pacs_client(url: str, *, calling_ae: str, timeout: float, max_pdu: int = 0) -> PacsClient:
    """The adapter for ``url``: ``dimse://AE@host:port``. DICOMweb is not supported yet."""
    if url.startswith("dimse://"):
        try:
            node = parse_dimse_url(url)
        except ValueError as exc:
            raise PacsError("pacs_invalid_url", f"invalid PACS URL: {exc}") from None
        return DimsePacs(node, calling_ae=calling_ae, timeout=timeout, max_pdu=max_pdu)
    if url.startswith(("dicomweb://", "http://", "https://")):
        raise PacsError(PacsError.UNSUPPORTED, "DICOMweb PACS are not supported yet")
    raise PacsError(PacsError.UNSUPPORTED, "the PACS URL must start with dimse://")
