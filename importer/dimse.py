"""What the DIMSE clients share (the PACS adapter, the worklist client): one association
routine and the names of the statuses they read.

:func:`associate` sets up the AE (calling title, every timeout), turns Nagle's algorithm off as
soon as the connection opens, and tells the three ways an association is not had apart:
unreachable (no connection), rejected (A-ASSOCIATE-RJ), aborted (connected, then dropped before
an answer). It raises :class:`AssociationFailed`; each client turns that into its own domain
error. Synchronous, like pynetdicom; it never logs (the callers log peers and settings).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from pynetdicom import AE, build_context, evt
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext
from pynetdicom.status import code_to_category

from importer.settings import DicomNode

__all__ = [
    "FIND_PENDING",
    "STATUS_CANCEL",
    "STATUS_PENDING",
    "STATUS_PENDING_WARNING",
    "STATUS_SUCCESS",
    "AssociationFailed",
    "Refusal",
    "associate",
    "check_ae_title",
    "describe_status",
    "peer_of",
    "release",
    "set_nodelay",
]

logger = logging.getLogger(__name__)

# DIMSE statuses (PS3.7 Annex C; C-FIND: PS3.4 C.4.1.1.4 and K.4.1.1.4)
STATUS_SUCCESS = 0x0000
"""Success (C-FIND: matching is complete, no final identifier)."""
STATUS_PENDING = 0xFF00
"""C-FIND: a match is returned, all optional keys supported."""
STATUS_PENDING_WARNING = 0xFF01
"""C-FIND: a match is returned, some optional keys were not supported."""
FIND_PENDING = frozenset({STATUS_PENDING, STATUS_PENDING_WARNING})
STATUS_CANCEL = 0xFE00
"""C-FIND: matching terminated after our C-CANCEL."""

EventHandler = tuple[Any, Callable[..., Any]]
"""A pynetdicom ``(event, handler)`` pair."""


class Refusal(StrEnum):
    """Why no association was had."""

    UNREACHABLE = "unreachable"
    """No connection: refused, timed out, unknown host."""
    REJECTED = "rejected"
    """The peer answered with an A-ASSOCIATE-RJ."""
    ABORTED = "aborted"
    """Connected, but the peer aborted (or dropped) the association request."""
    NO_CONTEXT = "no_context"
    """The peer accepted the association but none of its presentation contexts (pynetdicom
    then aborts it): it takes none of what was proposed."""


class AssociationFailed(Exception):
    """No association: ``refusal`` says why, ``message`` says it to a user (no patient data)."""

    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.message = message


def check_ae_title(calling_ae: str) -> None:
    """Refuse a calling AE title DICOM cannot carry (ValueError)."""
    if not calling_ae or len(calling_ae) > 16:
        raise ValueError("the calling AE title must be 1 to 16 characters")


def peer_of(node: DicomNode) -> str:
    """``AE@host:port``, as the logs and messages name a peer."""
    return f"{node.ae_title}@{node.host}:{node.port}"


def describe_status(code: int, table: Mapping[int, tuple[str, str]]) -> str:
    """A DIMSE status as a user reads it: ``Failure 0xA700: Refused: Out of resources``, with
    the description from pynetdicom's table of the service class (``table``)."""
    category = code_to_category(code)
    description = table.get(code, (category, ""))[1]
    return f"{category} 0x{code:04X}" + (f": {description}" if description else "")


def set_nodelay(assoc: Association) -> None:
    """Turn Nagle's algorithm off on the association's TCP socket (about 45 ms per message
    otherwise: each one ends with a small PDV that waits for the peer's delayed ACK).

    Reads pynetdicom internals (``assoc.dul.socket.socket``), guarded by a test."""
    dul_socket = getattr(assoc.dul, "socket", None)
    sock = getattr(dul_socket, "socket", None)
    if isinstance(sock, socket.socket):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:  # closed meanwhile: the association will fail by itself
            logger.debug("could not set TCP_NODELAY: %s", exc)


def associate(
    node: DicomNode,
    *,
    calling_ae: str,
    timeout: float,
    contexts: Sequence[PresentationContext],
    peer_name: str,
    max_pdu: int | None = None,
    evt_handlers: Sequence[EventHandler] = (),
) -> Association:
    """An established association with ``node``, or :class:`AssociationFailed`.

    ``timeout`` bounds every step (connection, ACSE, DIMSE, network); ``max_pdu`` is the
    largest PDU we accept (0: unlimited; ``None``: pynetdicom's default). ``peer_name`` ("the
    PACS", "the worklist") starts the messages. Whether the peer accepted any of ``contexts``
    is for the caller to check."""
    ae = AE(ae_title=calling_ae)
    ae.acse_timeout = timeout
    ae.dimse_timeout = timeout
    ae.network_timeout = timeout
    ae.connection_timeout = timeout
    connected = False

    def on_connection_open(event: Any) -> None:
        # Fires right after connect(), before the A-ASSOCIATE-RQ is sent.
        nonlocal connected
        connected = True
        set_nodelay(event.assoc)

    options: dict[str, Any] = {} if max_pdu is None else {"max_pdu": max_pdu}
    assoc: Association = ae.associate(
        node.host,
        node.port,
        contexts=list(contexts),
        ae_title=node.ae_title,
        evt_handlers=[(evt.EVT_CONN_OPEN, on_connection_open), *evt_handlers],
        **options,
    )
    peer = peer_of(node)
    if assoc.is_established:
        set_nodelay(assoc)  # in case the connection event was missed
        return assoc
    if assoc.is_rejected:
        primitive = assoc.acceptor.primitive
        reason = getattr(primitive, "reason_str", "") if primitive is not None else ""
        raise AssociationFailed(
            Refusal.REJECTED,
            f"{peer_name} {peer} rejected the association from {calling_ae}"
            + (f": {reason}" if reason else ""),
        )
    accepted = getattr(assoc.acceptor, "primitive", None)
    if accepted is not None and getattr(accepted, "result", None) == 0:
        # an A-ASSOCIATE-AC that accepted no presentation context: pynetdicom aborted it
        raise AssociationFailed(
            Refusal.NO_CONTEXT,
            f"{peer_name} {peer} accepted none of the {len(contexts)} presentation context(s) "
            f"proposed by {calling_ae}",
        )
    if connected:
        raise AssociationFailed(
            Refusal.ABORTED, f"{peer_name} {peer} aborted the association request"
        )
    raise AssociationFailed(
        Refusal.UNREACHABLE,
        f"cannot connect to {peer_name} {peer} (connection refused or timed out)",
    )


def release(assoc: Association) -> None:
    """Release ``assoc`` if it still stands."""
    if assoc.is_established:
        assoc.release()


VERIFICATION = "1.2.840.10008.1.1"
"""The Verification SOP Class (C-ECHO)."""


def echo(node: DicomNode, *, calling_ae: str, timeout: float, peer_name: str) -> int | None:
    """A C-ECHO on an association of its own: the status the peer answered (``None`` when it
    gave none in time); :class:`AssociationFailed` when no association could be made."""
    assoc = associate(
        node,
        calling_ae=calling_ae,
        timeout=timeout,
        contexts=[build_context(VERIFICATION)],
        peer_name=peer_name,
    )
    try:
        status = assoc.send_c_echo()
    finally:
        release(assoc)
    return int(status.Status) if "Status" in status else None
