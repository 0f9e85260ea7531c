"""The audit trail in the DICOM audit message format (IHE ATNA, DICOM PS3.15 A.5) over syslog
(RFC 5424), as an option for a hospital's audit repository: ``IMPORTER_ATNA_SYSLOG`` is
``tls://host:6514`` (RFC 5425: TLS 1.2 or later, the repository's certificate and host name
checked, octet-counted frames), ``tcp://host:port`` (RFC 6587 octet counting, plain) or
``udp://host:514``.

Delivery follows the trail, not the moment: a cursor (``atna_delivery.last_seq``) says how far
the sealed trail has reached the repository. Every reconciler tick sends, in ``seq`` order and
in bounded batches, the events after it, and moves it only once a batch went out, in the same
transaction that read the batch. A repository that was down (or whose certificate we refused)
gets everything it missed, in order, once it answers again. A worker that dies between sending
a batch and committing the cursor sends that batch again: delivery is at least once, and a
message sent twice carries the same ``sequenceId`` (RFC 5424 ``meta``) both times."""

from __future__ import annotations

import base64
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from select import select as wait_readable
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from importer.audit.models import AtnaDelivery, AuditEvent

APP_NAME = "PACS_MEDIA_IMPORT"
BATCH = 500
"""Events per connection (and per cursor move)."""
MAX_BATCHES = 20
"""Batches per reconciler tick: a long backlog goes out over a few ticks, not in one."""
TICK_BUDGET_S = 15.0
"""No new batch is started after this long in one tick."""
TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 2.0
ACCEPT_WAIT_S = 1.0
DEFAULT_PORTS = {"udp": 514, "tcp": 601, "tls": 6514}

# our action → (EventID code, meaning, EventActionCode)
EVENTS: dict[str, tuple[str, str, str]] = {
    "session.opened": ("110114", "User Authentication", "E"),
    "session.closed": ("110114", "User Authentication", "E"),
    "launch.created": ("110110", "Patient Record", "R"),
    "import.created": ("110107", "DICOM Instances Transferred", "E"),
    "upload.completed": ("110107", "DICOM Instances Transferred", "E"),
    "import.analysed": ("110103", "DICOM Instances Accessed", "R"),
    "import.confirmed": ("110103", "DICOM Instances Accessed", "U"),
    "stage.store": ("110104", "DICOM Instances Transferred", "C"),
    "import.completed": ("110104", "DICOM Instances Transferred", "C"),
    "import.promoted": ("110104", "DICOM Instances Transferred", "C"),
    "stage.merge": ("110110", "Patient Record", "U"),
    "import.cancelled": ("110105", "DICOM Study Deleted", "D"),
    "import.expired": ("110105", "DICOM Study Deleted", "D"),
    "import.purged": ("110105", "DICOM Study Deleted", "D"),
}
DEFAULT_EVENT = ("110100", "Application Activity", "E")


def message(event: AuditEvent, *, hostname: str) -> str:
    """One DICOM audit message (XML) for one event of our trail."""
    code, meaning, action = EVENTS.get(event.action, DEFAULT_EVENT)
    outcome = "0" if event.outcome == "success" else "4"
    at = event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    parts = [
        "<AuditMessage>",
        f"<EventIdentification EventActionCode={quoteattr(action)} "
        f"EventDateTime={quoteattr(at)} EventOutcomeIndicator={quoteattr(outcome)}>",
        f'<EventID csd-code={quoteattr(code)} codeSystemName="DCM" '
        f"originalText={quoteattr(meaning)}/>",
        f'<EventTypeCode csd-code="PMI" codeSystemName="99PMI" '
        f"originalText={quoteattr(event.action)}/>",
        "</EventIdentification>",
        f"<ActiveParticipant UserID={quoteattr(event.actor_id or 'system')} "
        f'AlternativeUserID={quoteattr(event.actor_name)} UserIsRequestor="true"/>',
        f'<ActiveParticipant UserID={quoteattr(APP_NAME)} UserIsRequestor="false" '
        f'NetworkAccessPointID={quoteattr(hostname)} NetworkAccessPointTypeCode="1">'
        '<RoleIDCode csd-code="110150" codeSystemName="DCM" originalText="Application"/>'
        "</ActiveParticipant>",
        f"<AuditSourceIdentification AuditSourceID={quoteattr(hostname)}/>",
    ]
    if event.patient_id:
        parts.append(
            f"<ParticipantObjectIdentification ParticipantObjectID={quoteattr(event.patient_id)}"
            ' ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1">'
            '<ParticipantObjectIDTypeCode csd-code="2" codeSystemName="RFC-3881" '
            'originalText="Patient Number"/></ParticipantObjectIdentification>'
        )
    if event.study_instance_uid:
        parts.append(
            "<ParticipantObjectIdentification "
            f"ParticipantObjectID={quoteattr(event.study_instance_uid)} "
            'ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="3">'
            '<ParticipantObjectIDTypeCode csd-code="110180" codeSystemName="DCM" '
            'originalText="Study Instance UID"/>'
            '<ParticipantObjectDetail type="Accession" '
            f"value={quoteattr(base64.b64encode(event.accession_number.encode()).decode())}/>"
            "</ParticipantObjectIdentification>"
        )
    parts.append("</AuditMessage>")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where the messages go, and for ``tls://`` the files that secure the connection."""

    url: str
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def address(self) -> tuple[str, int]:
        target = urlsplit(self.url)
        if target.scheme not in DEFAULT_PORTS or not target.hostname:
            raise ValueError(
                "IMPORTER_ATNA_SYSLOG must be tls://host:port, tcp://host:port or udp://host:port"
            )
        return target.hostname, target.port or DEFAULT_PORTS[target.scheme]


def tls_context(destination: Destination) -> ssl.SSLContext:
    """RFC 5425 as a client: TLS 1.2 or later, the repository's certificate checked against
    ``ca_file`` (the system's CAs without it) and its host name; our certificate when given."""
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH,
        cafile=str(destination.ca_file) if destination.ca_file else None,
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    if destination.cert_file is not None:
        context.load_cert_chain(
            destination.cert_file,
            destination.key_file if destination.key_file is not None else None,
        )
    return context


def syslog_frame(xml: str, *, hostname: str, at: str, seq: int | None = None) -> bytes:
    """RFC 5424: facility authpriv (10), severity notice (5) → PRI 85; MSGID IHE+RFC-3881; the
    event's place in the trail as ``[meta sequenceId]`` (the same on a message sent again)."""
    data = f'[meta sequenceId="{seq}"]' if seq is not None and 0 < seq < 2**31 else "-"
    return f"<85>1 {at} {hostname} {APP_NAME} - IHE+RFC-3881 {data} \ufeff{xml}".encode()


def frames_of(events: Sequence[AuditEvent]) -> list[bytes]:
    hostname = socket.gethostname()
    return [
        syslog_frame(
            message(e, hostname=hostname),
            hostname=hostname,
            at=e.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            seq=e.seq,
        )
        for e in events
    ]


def send(destination: Destination, events: Sequence[AuditEvent]) -> int:
    """Send the events' messages, in order, over one connection; return how many went out.
    Raises OSError (``ssl.SSLError`` included: a certificate refused) when they did not all
    go out, ValueError when the destination is not one we speak."""
    host, port = destination.address
    frames = frames_of(events)
    if destination.scheme == "udp":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for frame in frames:
                sock.sendto(frame, (host, port))
        return len(frames)
    with socket.create_connection((host, port), timeout=TIMEOUT_S) as raw:
        if destination.scheme == "tcp":
            for frame in frames:
                raw.sendall(f"{len(frame)} ".encode() + frame)
            return len(frames)
        with tls_context(destination).wrap_socket(raw, server_hostname=host) as sock:
            _await_acceptance(sock)
            for frame in frames:
                sock.sendall(f"{len(frame)} ".encode() + frame)
            _close(sock)
    return len(frames)


def _await_acceptance(sock: ssl.SSLSocket) -> None:
    """With TLS 1.3 the repository judges our certificate after our side of the handshake is
    over: messages sent at once could be thrown away with the connection. Wait for its word
    first: a session ticket (accepted) or an alert (refused: ``ssl.SSLError``). A repository
    that issues no tickets is taken as accepting after ``ACCEPT_WAIT_S``."""
    if sock.version() != "TLSv1.3":
        return  # TLS 1.2: the handshake ended with the repository's verdict
    deadline = time.monotonic() + ACCEPT_WAIT_S
    sock.setblocking(False)
    try:
        while not (sock.session is not None and sock.session.has_ticket):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not wait_readable([sock], [], [], remaining)[0]:
                return
            try:
                if not sock.recv(1):
                    raise ConnectionError("the audit repository closed the connection")
            except ssl.SSLWantReadError:
                continue  # a record that was not data (a ticket): look again
    finally:
        sock.settimeout(TIMEOUT_S)


def _close(sock: ssl.SSLSocket) -> None:
    """End the TLS connection with a close_notify (RFC 5425). An alert in answer means the
    repository did not take the messages; any other end (its own close_notify, a bare close,
    no answer in time) counts as delivered."""
    sock.settimeout(CLOSE_TIMEOUT_S)
    try:
        sock.unwrap()
    except ssl.SSLError as exc:
        if "ALERT" in str(exc.reason or "").upper():
            raise
    except OSError:
        pass


# --- the delivery cursor ---------------------------------------------------------------------


async def start(db: AsyncSession) -> None:
    """Before the sealer's first tick with the export on: the cursor starts where the sealed
    trail ends, so that turning the export on sends what is sealed from now on, not the whole
    history (turned off and on again, it sends what was sealed in between)."""
    if await db.get(AtnaDelivery, AtnaDelivery.ROW) is not None:
        return
    last = (await db.execute(select(func.max(AuditEvent.seq)))).scalar_one_or_none()
    db.add(AtnaDelivery(id=AtnaDelivery.ROW, last_seq=last or 0))
    await db.flush()


async def pending(db: AsyncSession, *, limit: int = BATCH) -> tuple[int, list[AuditEvent]] | None:
    """Where the cursor stands, and the next sealed events after it, in order; None when there
    is no cursor yet. Nothing stays locked: the send happens outside any transaction (on SQLite
    a transaction holds the whole database), and :func:`delivered` moves the cursor only from
    where this read it."""
    cursor = await db.get(AtnaDelivery, AtnaDelivery.ROW, populate_existing=True)
    if cursor is None:
        return None
    rows = await db.execute(
        select(AuditEvent)
        .where(AuditEvent.seq > cursor.last_seq)
        .order_by(AuditEvent.seq)
        .limit(limit)
    )
    return cursor.last_seq, list(rows.scalars().all())


async def delivered(db: AsyncSession, *, after: int, events: Sequence[AuditEvent]) -> bool:
    """The events read after ``after`` went out: the cursor moves past the last of them, if it
    still stands at ``after`` (False when another delivery moved it meanwhile: that one sent
    them too, at least once)."""
    last = events[-1].seq
    if last is None:
        raise ValueError("an unsealed event")
    result = await db.execute(
        update(AtnaDelivery)
        .where(AtnaDelivery.id == AtnaDelivery.ROW, AtnaDelivery.last_seq == after)
        .values(last_seq=last)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def backlog(db: AsyncSession) -> int:
    """Sealed events the repository has not received yet."""
    cursor = await db.get(AtnaDelivery, AtnaDelivery.ROW)
    after = cursor.last_seq if cursor is not None else 0
    result = await db.execute(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.seq > after)
    )
    return int(result.scalar_one())
