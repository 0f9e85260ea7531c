"""Undo a wrong import (issue 16, point 2): the rule's pure parts, the settings that turn it on,
and the adapters' requests. The whole undo is tried on a real Orthanc in
tests/integration/test_undo.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError

from importer.imports.states import undo_state, undo_until
from importer.pacs.base import PacsError
from importer.pacs.reject import DicomWebRejector, orthanc_id, rejector_for
from importer.pacs.rejection import NoteStudy, RejectedInstance
from importer.settings import Settings

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
STUDY = NoteStudy(
    study_instance_uid="1.2.3",
    patient_name="ROSSI^MARIO",
    patient_id="HOSP-0042",
    issuer="HOSPITAL",
    birth_date="19740101",
    sex="M",
    accession_number="ACC1",
    study_date="20261201",
    study_time="101010",
)
CT = "1.2.840.10008.5.1.4.1.1.2"


def test_where_an_undo_stands() -> None:
    assert undo_state(None, None, None) is None
    assert undo_state(NOW, None, None) == "requested"
    assert undo_state(NOW, None, "pacs_unreachable") == "failed"
    assert undo_state(NOW, LATER, None) == "done"


@pytest.mark.parametrize(
    ("status", "zone", "kept", "state", "until"),
    [
        ("completed", "pacs", LATER, None, LATER),  # completed, files kept: until then
        ("completed", "pacs", NOW, None, None),  # the period is over
        ("completed", "pacs", None, None, None),  # files not kept (no undo when it completed)
        ("failed", "pacs", LATER, None, None),  # only a completed import
        ("processing", "pacs", LATER, None, None),
        ("completed", "temporary", LATER, None, None),  # the temporary zone is purged instead
        ("completed", "pacs", LATER, "requested", None),  # being undone
        ("completed", "pacs", LATER, "done", None),
        ("completed", "pacs", NOW - timedelta(days=9), "failed", NOW - timedelta(days=9)),
    ],
)
def test_until_when_an_import_may_be_undone(
    status: str, zone: str, kept: datetime | None, state: str | None, until: datetime | None
) -> None:
    assert undo_until(status, zone, kept, state, NOW) == until  # type: ignore[arg-type]


def test_the_settings_that_turn_undo_on() -> None:
    assert not Settings().undo_possible  # unset by default: no undo, files go at completion
    on = Settings(reject_url="orthanc+http://127.0.0.1:8042")
    assert on.undo_possible
    assert not on.model_copy(update={"undo_hours": 0}).undo_possible
    assert Settings(reject_url="kos").undo_possible
    assert Settings(reject_url="dicomweb+https://pacs.example/rs").undo_possible
    with pytest.raises(ValidationError, match="expected orthanc"):
        Settings(reject_url="http://127.0.0.1:8042")
    with pytest.raises(ValidationError, match="needs a DIMSE"):
        Settings(reject_url="kos", pacs_url="dicomweb://127.0.0.1:8042/dicom-web")


def test_an_orthanc_id_is_its_documented_hash() -> None:
    ident = orthanc_id("HOSP-0042", "1.2.3", "1.2.3.4", "1.2.3.4.5")
    assert re.fullmatch(r"([0-9a-f]{8}-){4}[0-9a-f]{8}", ident)
    # another patient's copy of the same instance is another resource
    assert ident != orthanc_id("EXT-777", "1.2.3", "1.2.3.4", "1.2.3.4.5")
    # sha1("HOSP-0042|1.2.3|1.2.3.4|1.2.3.4.5") in five groups
    assert ident == "c2e66b02-7ff9a20f-56288b5d-28e5e455-1077df71"


def test_a_dicomweb_pacs_is_asked_per_instance_with_the_reason_code() -> None:
    """A PACS with a DICOMweb reject endpoint (dcm4chee-arc's) cannot run here: its answers are
    played by a transport."""
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("/instances/9.2/reject/113038^DCM"):
            return httpx.Response(404)
        if "/9.3/" in request.url.path:
            return httpx.Response(409)
        return httpx.Response(200)

    rejector = DicomWebRejector("https://pacs.example/rs", transport=httpx.MockTransport(answer))
    refs = [RejectedInstance(CT, f"9.{n}", "1.2.3.4") for n in (1, 2, 3)]
    result = rejector.reject(STUDY, refs, "wrong_worklist_entry")
    assert asked == [
        f"POST /rs/studies/1.2.3/series/1.2.3.4/instances/9.{n}/reject/113038^DCM"
        for n in (1, 2, 3)
    ]
    assert result.taken == {"9.1", "9.2"}
    assert result.absent == {"9.2"}  # not there any more: taken back already
    assert dict(result.failed) == {"9.3": "pacs_rejected"}


def test_a_pacs_away_is_a_pacs_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    rejector = DicomWebRejector("https://pacs.example/rs", transport=httpx.MockTransport(refuse))
    with pytest.raises(PacsError) as caught:
        rejector.reject(STUDY, [RejectedInstance(CT, "9.1", "1.2.3.4")], "patient_safety")
    assert caught.value.code == "pacs_unreachable"


def test_the_adapter_the_url_names() -> None:
    assert rejector_for(None, lambda: pytest.fail("not asked"), manufacturer="x") is None
    for url, kind in (
        ("kos", "KosRejector"),
        ("orthanc+http://127.0.0.1:8042", "OrthancRejector"),
        ("dicomweb+http://127.0.0.1:8042/rs", "DicomWebRejector"),
    ):
        adapter = rejector_for(url, lambda: pytest.fail("not asked"), manufacturer="x")
        assert type(adapter).__name__ == kind
