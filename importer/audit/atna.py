"""The audit trail in the DICOM audit message format (IHE ATNA, DICOM PS3.15 A.5) over syslog
(RFC 5424; UDP, or TCP with octet counting per RFC 6587), as an option for a hospital's audit
repository (``IMPORTER_ATNA_SYSLOG=udp://host:514`` or ``tcp://host:6514``). Events go out
when the sealer chains them: only committed events, in order."""

from __future__ import annotations

import base64
import socket
from collections.abc import Sequence
from datetime import UTC
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from importer.audit.models import AuditEvent

APP_NAME = "PACS_MEDIA_IMPORT"

# our action → (EventID code, meaning, EventActionCode)
EVENTS: dict[str, tuple[str, str, str]] = {
    "session.opened": ("110114", "User Authentication", "E"),
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


def syslog_frame(xml: str, *, hostname: str, at: str) -> bytes:
    """RFC 5424: facility authpriv (10), severity notice (5) → PRI 85; MSGID IHE+RFC-3881."""
    return f"<85>1 {at} {hostname} {APP_NAME} - IHE+RFC-3881 - \ufeff{xml}".encode()


def send(url: str, events: Sequence[AuditEvent]) -> int:
    """Send the events' messages; return how many went out. Raises OSError when it cannot."""
    target = urlsplit(url)
    host, port = target.hostname or "127.0.0.1", target.port or 514
    hostname = socket.gethostname()
    frames = [
        syslog_frame(
            message(e, hostname=hostname),
            hostname=hostname,
            at=e.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        )
        for e in events
    ]
    if target.scheme == "udp":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for frame in frames:
                sock.sendto(frame, (host, port))
    elif target.scheme == "tcp":
        with socket.create_connection((host, port), timeout=10) as sock:
            for frame in frames:
                sock.sendall(f"{len(frame)} ".encode() + frame)
    else:
        raise ValueError("IMPORTER_ATNA_SYSLOG must be udp://host:port or tcp://host:port")
    return len(frames)
