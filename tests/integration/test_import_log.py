"""An import's own log (``GET /imports/{id}/log``): its events oldest first, each an action,
who did it and details the app words the line with; for the session that sees the import
only, and never with patient data."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pydicom
import pytest
from pydantic import SecretStr

from importer.audit.actions import AuditAction
from importer.settings import Settings
from tests.support.app import (
    DEMO_PATIENT,
    RIS_KEY,
    Journey,
    Launched,
    make_zip,
    run_worker,
    running_api,
    sample,
)

OTHER_RIS_KEY = "other-ris-key"


async def log_of(journey: Journey, session: Launched, import_id: str) -> httpx.Response:
    return await journey.client.get(f"/api/v1/imports/{import_id}/log", headers=session.headers)


def items_of(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    for item in items:
        AuditAction(item["action"])  # a member of the closed set
    return items


def in_order(actions: list[str], expected: list[str]) -> bool:
    """``expected`` appear in ``actions`` in this order (others may come between)."""
    rest = iter(actions)
    return all(any(a == wanted for a in rest) for wanted in expected)


async def test_the_log_of_a_completed_import(journey: Journey, settings: Settings) -> None:
    data = sample("CT_small.dcm").read_bytes()
    medium = pydicom.dcmread(sample("CT_small.dcm"), stop_before_pixels=True)
    archive = make_zip([("IM1", data)])
    session = await journey.start(accession="LOG-1")
    imported = await journey.import_media(session, archive)
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
    await run_worker(settings)
    assert (await journey.get_import(session, imported["id"]))["status"] == "completed"

    response = await log_of(journey, session, imported["id"])
    items = items_of(response)
    actions = [item["action"] for item in items]
    assert actions[0] == "import.created"
    assert actions[-1] == "import.completed"
    assert in_order(
        actions,
        [
            "import.created",
            "upload.completed",
            "import.analysed",
            "import.confirmed",
            "stage.verify",
            "stage.store",
            "stage.finish",
            "import.completed",
        ],
    )
    times = [dt.datetime.fromisoformat(item["at"]) for item in items]
    assert times == sorted(times)

    by_action = {item["action"]: item for item in items}
    created = by_action["import.created"]
    assert created["user"] == "Tech One"
    assert created["details"] == {"size": len(archive), "zone": "pacs", "mode": "order"}
    assert by_action["upload.completed"]["details"] == {"size": len(archive)}
    analysed = by_action["import.analysed"]
    assert analysed["outcome"] == "success"
    assert analysed["details"]["count"] == 1
    assert analysed["details"]["files"] == 1
    confirmed = by_action["import.confirmed"]["details"]
    assert confirmed["study"] == 1
    assert confirmed["acknowledged"] is True
    assert confirmed["identity"] == "mismatch"  # pydicom's CT patient is not the order's
    store = by_action["stage.store"]["details"]
    assert (store["stage"], store["study"]) == ("store", 1)
    assert store["status"] == "done"
    assert by_action["import.completed"]["details"]["count"] == 1

    body = response.text
    for secret in (
        DEMO_PATIENT["name"],
        DEMO_PATIENT["id"],
        DEMO_PATIENT["birth_date"],
        str(medium.PatientName),
        str(medium.PatientID),
        uid,
        "cd.zip",  # the file name a user gave (it may name the patient)
        "LOG-1",
    ):
        assert secret not in body, secret
    # only allow-listed keys reach the app
    allowed = {
        "code", "params", "stage", "status", "from_status", "study", "count", "total",
        "files", "dicom", "skipped", "documents", "series", "instances", "size", "zone",
        "mode", "identity", "acknowledged", "already_present", "after_s",
    }  # fmt: skip
    assert all(set(item["details"]) <= allowed for item in json.loads(body)["items"])


async def test_a_cancelled_import_says_from_where(journey: Journey) -> None:
    session = await journey.start()
    created = await journey.create_import(session, 10)
    cancelled = await journey.client.post(
        f"/api/v1/imports/{created['id']}/cancel", headers=session.headers
    )
    assert cancelled.status_code == 202, cancelled.text
    items = items_of(await log_of(journey, session, created["id"]))
    assert [item["action"] for item in items] == ["import.created", "import.cancelled"]
    assert items[1]["details"] == {"from_status": "created", "count": 0}
    assert items[1]["user"] == "Tech One"


@pytest.fixture
async def two_clients(settings: Settings) -> AsyncIterator[Journey]:
    """The API with two RIS clients: the journey's own (``RIS_KEY``) and ``other``."""
    keys = f"{RIS_KEY},other={OTHER_RIS_KEY}"
    both = settings.model_copy(update={"ris_api_keys": SecretStr(keys)})
    async with running_api(both) as url, httpx.AsyncClient(base_url=url, timeout=60) as http:
        yield Journey(http, both)


async def test_the_log_is_seen_by_those_who_see_the_import(two_clients: Journey) -> None:
    journey = two_clients
    mine = await journey.start(accession="LOG-2")
    created = await journey.create_import(mine, 10)
    assert items_of(await log_of(journey, mine, created["id"]))

    # the same user, the same accession number, another RIS client: another order, not seen
    same_user = {"id": "u-tech-1", "name": "Tech One", "department": "Radiology"}
    other = await journey.start(accession="LOG-2", user=same_user, ris_key=OTHER_RIS_KEY)
    hidden = await log_of(journey, other, created["id"])
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "import_not_found"

    # a temporary-zone import is not seen from an order's session
    referent = await journey.start(
        worklist_mode=True, user={"id": "ref-1", "name": "Referent", "roles": ["temporary_zone"]}
    )
    kept = await journey.client.post(
        "/api/v1/imports", json={"zone": "temporary", "size": 10}, headers=referent.headers
    )
    assert kept.status_code == 201, kept.text
    assert items_of(await log_of(journey, referent, kept.json()["id"]))
    elsewhere = await log_of(journey, mine, kept.json()["id"])
    assert elsewhere.status_code == 404
    assert elsewhere.json()["error"]["code"] == "import_not_found"
