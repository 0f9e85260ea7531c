"""Worklist mode without a dead end: a medium whose studies the PACS holds already ends the
import without an order (nothing sent, nothing filed under anyone); a patient the worklist does
not know goes to the temporary zone without loading the medium again."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from pydicom import dcmread
from pydicom.uid import generate_uid

from devstack import OrthancProcess
from importer.settings import Settings
from tests.support.app import Journey, Launched, make_zip, run_worker, sample

CLERK = {"id": "u-clerk", "name": "Clerk", "roles": ["clinician"]}
CLERK_REFERENT = {
    "id": "u-both",
    "name": "Clerk Referent",
    "roles": ["clinician", "temporary_zone"],
}
OTHER_REFERENT = {"id": "u-ref-2", "name": "Another Referent", "roles": ["temporary_zone"]}


def store_on_pacs(pacs: OrthancProcess, *files: bytes) -> None:
    """Put instances on the PACS as an earlier import (or another system) did."""
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        for data in files:
            http.post("/instances", content=data).raise_for_status()


def pacs_instances(pacs: OrthancProcess) -> list[str]:
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        found: list[str] = http.get("/instances").json()
        return found


async def log_actions(journey: Journey, session: Launched, import_id: str) -> list[str]:
    response = await journey.client.get(f"/api/v1/imports/{import_id}/log", headers=session.headers)
    assert response.status_code == 200, response.text
    return [e["action"] for e in response.json()["items"]]


def second_image(tmp: Path) -> bytes:
    """Another image of CT_small's study (its own SOP Instance UID)."""
    ds = dcmread(sample("CT_small.dcm"))
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstanceNumber = 2
    path = tmp / "second.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path.read_bytes()


# --------------------------------------------------------------------- every study on the PACS


async def test_a_medium_wholly_on_the_pacs_ends_without_an_order(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    ct, mr = sample("CT_small.dcm").read_bytes(), sample("MR_small.dcm").read_bytes()
    store_on_pacs(pacs, ct, mr)
    session = await journey.start(worklist_mode=True, user=CLERK)
    imported = await journey.import_media(session, make_zip([("CT/1", ct), ("MR/1", mr)]))
    assert imported["status"] == "awaiting_confirmation"
    assert all(s["on_pacs"] and not s["pacs_conflict"] for s in imported["studies"])
    uids = [s["study_instance_uid"] for s in imported["studies"]]

    # no order chosen, no identity acknowledged: nothing is filed under anyone
    ended = await journey.confirm(session, imported["id"], uids, acknowledge=False)
    assert ended.status_code == 202, ended.text
    assert ended.json()["status"] == "completed"
    await run_worker(settings)  # nothing queued: nothing happens

    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed"
    assert [s["outcome"] for s in done["studies"]] == ["already_present", "already_present"]
    assert [s["order"] for s in done["studies"]] == [None, None]
    assert all(s["stages"] == [] for s in done["studies"])
    assert len(pacs_instances(pacs)) == 2  # nothing sent again
    actions = await log_actions(journey, session, imported["id"])
    assert actions.count("study.already_present") == 2
    assert actions[-1] == "import.completed"
    assert "import.confirmed" not in actions
    assert "identity.compared" not in actions


async def test_a_study_partly_on_the_pacs_still_needs_its_order(
    journey: Journey, settings: Settings, pacs: OrthancProcess, tmp_path: Path
) -> None:
    first = sample("CT_small.dcm").read_bytes()
    store_on_pacs(pacs, first)
    session = await journey.start(worklist_mode=True, user=CLERK)
    imported = await journey.import_media(
        session, make_zip([("IM1", first), ("IM2", second_image(tmp_path))])
    )
    (study,) = imported["studies"]
    assert (study["on_pacs"], study["instances_on_pacs"]) == (False, 1)
    refused = await journey.confirm(
        session, imported["id"], [study["study_instance_uid"]], acknowledge=True
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "order_required"
    assert refused.json()["error"]["params"] == {"count": 1}
    still = await journey.get_import(session, imported["id"])
    assert still["status"] == "awaiting_confirmation"
    assert len(pacs_instances(pacs)) == 1


async def test_a_study_on_the_pacs_beside_one_that_is_not_needs_an_order_for_that_one(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    ct, mr = sample("CT_small.dcm").read_bytes(), sample("MR_small.dcm").read_bytes()
    store_on_pacs(pacs, ct)
    session = await journey.start(worklist_mode=True, user=CLERK)
    imported = await journey.import_media(session, make_zip([("CT/1", ct), ("MR/1", mr)]))
    uids = [s["study_instance_uid"] for s in imported["studies"]]
    refused = await journey.confirm(session, imported["id"], uids, acknowledge=True)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "order_required"
    assert refused.json()["error"]["params"] == {"count": 1}


# ------------------------------------------------------------------ on to the temporary zone


async def worklist_import(
    journey: Journey, user: dict[str, Any]
) -> tuple[Launched, dict[str, Any]]:
    session = await journey.start(worklist_mode=True, user=user)
    archive = make_zip([("IM1", sample("CT_small.dcm").read_bytes())])
    imported = await journey.import_media(session, archive)
    assert imported["status"] == "awaiting_confirmation"
    assert (imported["zone"], imported["order"]) == ("pacs", None)
    return session, imported


def to_temporary(import_id: str) -> str:
    return f"/api/v1/imports/{import_id}/temporary"


async def test_sending_to_the_temporary_zone_needs_the_role(journey: Journey) -> None:
    session, imported = await worklist_import(journey, CLERK)
    refused = await journey.client.post(to_temporary(imported["id"]), headers=session.headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "role_required"
    assert refused.json()["error"]["params"] == {"role": "temporary_zone"}
    still = await journey.get_import(session, imported["id"])
    assert (still["zone"], still["status"]) == ("pacs", "awaiting_confirmation")


async def test_only_a_worklist_import_awaiting_confirmation_is_sent(journey: Journey) -> None:
    # an import with its order
    with_order = await journey.start(user=CLERK_REFERENT)
    created = await journey.create_import(with_order, 100)
    refused = await journey.client.post(to_temporary(created["id"]), headers=with_order.headers)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "not_movable_to_temporary"
    assert error["params"] == {"status": "created", "zone": "pacs"}

    # worklist mode, but not analysed yet
    worklist = await journey.start(worklist_mode=True, user=CLERK_REFERENT)
    early = await journey.create_import(worklist, 100)
    refused = await journey.client.post(to_temporary(early["id"]), headers=worklist.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "not_movable_to_temporary"

    # worklist mode, cancelled
    session, imported = await worklist_import(journey, CLERK_REFERENT)
    cancel = await journey.client.post(
        f"/api/v1/imports/{imported['id']}/cancel", headers=session.headers
    )
    assert cancel.status_code == 202
    refused = await journey.client.post(to_temporary(imported["id"]), headers=session.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["params"] == {"status": "cancelled", "zone": "pacs"}


async def test_nothing_found_goes_to_the_temporary_zone_and_is_kept_there(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    session, imported = await worklist_import(journey, CLERK_REFERENT)
    assert imported["studies"][0]["to_convert"] == 0  # foreseen for the main PACS
    moved = await journey.client.post(to_temporary(imported["id"]), headers=session.headers)
    assert moved.status_code == 202, moved.text
    assert moved.json()["status"] == "awaiting_confirmation"
    now = await journey.get_import(session, imported["id"])
    assert (now["zone"], now["status"], now["order"]) == (
        "temporary",
        "awaiting_confirmation",
        None,
    )
    # what the main PACS would take says nothing of where it goes now
    assert (now["studies"][0]["to_convert"], now["studies"][0]["unsent"]) == (None, [])
    assert (await log_actions(journey, session, imported["id"]))[-1] == (
        "import.moved_to_temporary"
    )

    # every referent of the temporary zone sees it now, not only the one who loaded it
    other = await journey.start(worklist_mode=True, user=OTHER_REFERENT)
    listed = await journey.client.get("/api/v1/temporary", headers=other.headers)
    assert [i["id"] for i in listed.json()["items"]] == [imported["id"]]

    # confirmed as a temporary-zone import: no order, nothing to compare
    uid = imported["studies"][0]["study_instance_uid"]
    confirmed = await journey.confirm(session, imported["id"], [uid], acknowledge=False)
    assert confirmed.status_code == 202, confirmed.text
    await run_worker(settings)
    kept = await journey.get_import(session, imported["id"])
    assert (kept["status"], kept["zone"]) == ("completed", "temporary"), kept["error"]
    assert pacs_instances(pacs) == []  # kept for review, never on the main PACS
    assert (settings.effective_spool_dir / "imports" / imported["id"]).exists()
    listed = await journey.client.get("/api/v1/temporary", headers=other.headers)
    assert [i["id"] for i in listed.json()["items"]] == [imported["id"]]


async def test_two_moves_at_once_move_it_once(journey: Journey) -> None:
    session, imported = await worklist_import(journey, CLERK_REFERENT)
    answers = await asyncio.gather(
        *(
            journey.client.post(to_temporary(imported["id"]), headers=session.headers)
            for _ in range(2)
        )
    )
    assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
    now = await journey.get_import(session, imported["id"])
    assert (now["zone"], now["status"]) == ("temporary", "awaiting_confirmation")
    actions = await log_actions(journey, session, imported["id"])
    assert actions.count("import.moved_to_temporary") == 1
