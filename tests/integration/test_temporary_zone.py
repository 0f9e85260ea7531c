"""The temporary zone: a patient the hospital does not know yet; review, promote, purge."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack import OrthancProcess
from importer.settings import Settings
from tests.support.app import DEMO_PATIENT, RIS_KEY, Journey, Launched, make_zip, run_worker, sample

REFERENT = {"id": "ref-1", "name": "Imaging Referent", "roles": ["temporary_zone"]}


@pytest.fixture(scope="module")
def temporary_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancProcess]:
    """The separate PACS node where temporary-zone studies are stored for viewing."""
    with OrthancProcess(tmp_path_factory.mktemp("orthanc-temp"), aet="TEMPPACS") as node:
        yield node


def instances(node: OrthancProcess) -> list[dict[str, str]]:
    with httpx.Client(base_url=node.http_url, timeout=30) as http:
        return [
            http.get(f"/instances/{i}/simplified-tags").json()
            for i in http.get("/instances").json()
        ]


async def temporary_import(journey: Journey, settings: Settings) -> tuple[Launched, dict]:  # type: ignore[type-arg]
    session = await journey.start(worklist_mode=True, user=REFERENT)
    archive = make_zip([("IM1", sample("CT_small.dcm").read_bytes())])
    response = await journey.client.post(
        "/api/v1/imports", json={"zone": "temporary", "size": len(archive)}, headers=session.headers
    )
    assert response.status_code == 201, response.text
    created = response.json()
    await journey.upload(session, created["upload_url"], archive)
    await run_worker(settings)
    imported = await journey.get_import(session, created["id"])
    assert imported["status"] == "awaiting_confirmation"
    assert imported["zone"] == "temporary"
    uid = imported["studies"][0]["study_instance_uid"]
    # no order: nothing to compare, no acknowledgment asked
    confirmed = await journey.confirm(session, created["id"], [uid], acknowledge=False)
    assert confirmed.status_code == 202, confirmed.text
    return session, imported


async def test_temporary_import_review_promote_to_an_order(
    journey: Journey, settings: Settings, pacs: OrthancProcess, temporary_node: OrthancProcess
) -> None:
    with httpx.Client(base_url=temporary_node.http_url) as http:
        for patient in http.get("/patients").json():
            http.delete(f"/patients/{patient}")
    with_node = settings.model_copy(update={"temporary_pacs_url": temporary_node.dimse_url})
    session, imported = await temporary_import(journey, with_node)
    await run_worker(with_node)
    kept = await journey.get_import(session, imported["id"])
    assert kept["status"] == "completed"
    spool = settings.effective_spool_dir / "imports" / imported["id"]
    assert spool.exists()  # kept by us for review
    # on the temporary node with the medium's identity untouched; nothing on the main PACS
    assert [i["PatientID"] for i in instances(temporary_node)] == ["1CT1"]
    assert instances(pacs) == []

    listed = await journey.client.get("/api/v1/temporary", headers=session.headers)
    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    assert item["id"] == imported["id"]
    assert item["studies"][0]["patient"]["id"] == "1CT1"
    assert item["created_by_name"] == "Imaging Referent"
    assert item["past_review"] is False

    order = {
        "accession_number": "PROMO-1",
        "patient": DEMO_PATIENT,
        "procedure": {"code": "EXT", "description": "External"},
    }
    # a browser session never supplies an order: the RIS sends it on its own route
    supplied = await journey.client.post(
        f"/api/v1/imports/{imported['id']}/promote", json={"order": order}, headers=session.headers
    )
    assert supplied.status_code == 422
    sent = await journey.client.put(
        "/api/v1/orders/PROMO-1", json=order, headers={"Authorization": f"Bearer {RIS_KEY}"}
    )
    assert sent.status_code == 200, sent.text
    promote = f"/api/v1/imports/{imported['id']}/promote"
    # named by its accession number; the comparison is shown before anything is filed
    unseen = await journey.client.post(
        promote, json={"accession_number": "PROMO-1"}, headers=session.headers
    )
    assert unseen.status_code == 409
    assert unseen.json()["error"]["code"] == "identity_not_compared"
    shown = await journey.get_import(session, imported["id"])
    assert shown["studies"][0]["compared_with"]["id"] == DEMO_PATIENT["id"]
    assert shown["studies"][0]["acknowledgement_required"] is True
    refused = await journey.client.post(
        promote, json={"accession_number": "PROMO-1"}, headers=session.headers
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "identity_not_acknowledged"
    promoted = await journey.client.post(
        promote,
        json={"accession_number": "PROMO-1", "acknowledge_identity": True},
        headers=session.headers,
    )
    assert promoted.status_code == 202, promoted.text
    await run_worker(with_node)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    assert done["zone"] == "pacs"
    assert done["order"]["accession_number"] == "PROMO-1"
    (stored,) = instances(pacs)
    assert (stored["PatientID"], stored["AccessionNumber"]) == (DEMO_PATIENT["id"], "PROMO-1")
    assert not spool.exists()
    after = await journey.client.get("/api/v1/temporary", headers=session.headers)
    assert after.json()["items"] == []


async def test_purge_deletes_our_copy(journey: Journey, settings: Settings) -> None:
    session, imported = await temporary_import(journey, settings)
    await run_worker(settings)
    kept = await journey.get_import(session, imported["id"])
    store = next(s for s in kept["studies"][0]["stages"] if s["name"] == "store")
    assert store["status"] == "skipped"  # no temporary node configured: kept here only
    spool: Path = settings.effective_spool_dir / "imports" / imported["id"]
    assert spool.exists()
    purged = await journey.client.delete(
        f"/api/v1/imports/{imported['id']}", headers=session.headers
    )
    assert purged.status_code == 202
    assert purged.json()["status"] == "purged"
    assert not spool.exists()
    listed = await journey.client.get("/api/v1/temporary", headers=session.headers)
    assert listed.json()["items"] == []


async def test_order_imports_cannot_be_purged(journey: Journey) -> None:
    clinician = await journey.start(
        user={"id": "u2", "name": "Both", "roles": ["clinician", "temporary_zone"]}
    )
    created = await journey.create_import(clinician, 100)
    response = await journey.client.delete(
        f"/api/v1/imports/{created['id']}", headers=clinician.headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_purgeable"
