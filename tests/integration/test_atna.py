"""The audit trail also goes to a hospital's audit repository as DICOM audit messages over
syslog (IHE ATNA), once sealed."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET

from importer.settings import Settings
from tests.support.app import DEMO_PATIENT, Journey, make_zip, run_worker, sample


def attr(node: ET.Element | None, name: str) -> str | None:
    assert node is not None
    return node.get(name)


async def test_audit_events_reach_a_syslog_audit_repository(
    journey: Journey, settings: Settings
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as repository:
        repository.bind(("127.0.0.1", 0))
        repository.settimeout(5)
        port = repository.getsockname()[1]
        atna = settings.model_copy(update={"atna_syslog": f"udp://127.0.0.1:{port}"})

        session = await journey.start()
        imported = await journey.import_media(
            session, make_zip([("IM1", sample("CT_small.dcm").read_bytes())])
        )
        uid = imported["studies"][0]["study_instance_uid"]
        assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
        await run_worker(settings)
        await run_worker(atna, reconcile=True)  # the sealer sends what it chains

        frames = []
        while True:
            try:
                frames.append(repository.recv(65535).decode())
            except TimeoutError:
                break
    assert len(frames) >= 8
    assert all(f.startswith("<85>1 ") and " IHE+RFC-3881 " in f for f in frames)
    messages = [ET.fromstring(f.split("\ufeff", 1)[1]) for f in frames]
    by_type = {
        attr(m.find("EventIdentification/EventTypeCode"), "originalText"): m for m in messages
    }
    stored = by_type["import.completed"]
    assert attr(stored.find("EventIdentification/EventID"), "csd-code") == "110104"
    objects = {
        o.get("ParticipantObjectTypeCode"): o.get("ParticipantObjectID")
        for o in stored.iter("ParticipantObjectIdentification")
    }
    assert objects["1"] == DEMO_PATIENT["id"]
    confirmed = by_type["import.confirmed"]
    assert "u-tech-1" in [p.get("UserID") for p in confirmed.iter("ActiveParticipant")]
    study_ids = {
        o.get("ParticipantObjectID") for o in confirmed.iter("ParticipantObjectIdentification")
    }
    assert uid in study_ids
