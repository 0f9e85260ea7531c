"""Worklist mode: no order at launch; the user finds each study's order in the RIS worklist by
the identity on the medium, and each study is filed under the order chosen for it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from devstack import OrthancProcess, WorklistProcess
from importer.settings import Settings
from tests.support.app import Journey, live_worker, make_zip, run_worker, running_api, sample


@pytest.fixture
def wl_settings(settings: Settings, worklist_scp: WorklistProcess) -> Settings:
    return settings.model_copy(update={"worklist_url": worklist_scp.dimse_url})


def two_studies() -> bytes:
    """A medium of two studies, a CT and an MR, of pydicom's two test patients."""
    return make_zip(
        [
            ("CT/1", sample("CT_small.dcm").read_bytes()),
            ("MR/1", sample("MR_small.dcm").read_bytes()),
        ]
    )


async def test_two_studies_of_one_medium_go_to_two_orders_found_in_the_worklist(
    journey: Journey, wl_settings: Settings, pacs: OrthancProcess
) -> None:
    session = await journey.start(worklist_mode=True)
    assert session.context["order"] is None
    imported = await journey.import_media(session, two_studies())
    assert imported["status"] == "awaiting_confirmation"
    assert all(s["identity"] is None and s["order"] is None for s in imported["studies"])
    by_name = {s["patient"]["name"]: s["study_instance_uid"] for s in imported["studies"]}

    async with live_worker(wl_settings):
        found = await journey.client.get(
            "/api/v1/worklist", params={"name": "CompressedSamples^CT1"}, headers=session.headers
        )
        assert found.status_code == 200, found.text
        best = found.json()["items"][0]
        assert best["accession_number"] == "WL-CT-1"
        assert best["patient"]["id"] == "LOCAL-CT1"
        # the RIS writes names in capitals: the same letters, formatted differently
        assert best["identity"]["fields"]["name"] == "format_different"

        # typed by habit: one field, lower case, a wildcard
        typed = await journey.client.get(
            "/api/v1/worklist", params={"name": "compressedsamples mr*"}, headers=session.headers
        )
        mr = next(c for c in typed.json()["items"] if c["accession_number"] == "WL-MR-1")

        missing = await journey.client.post(
            f"/api/v1/imports/{imported['id']}/confirm",
            json={"studies": list(by_name.values()), "acknowledge_identity": True},
            headers=session.headers,
        )
        assert missing.status_code == 422
        assert missing.json()["error"]["code"] == "order_required"

        unknown = await journey.client.post(
            f"/api/v1/imports/{imported['id']}/confirm",
            json={
                "studies": [by_name["CompressedSamples^CT1"]],
                "order_for_study": {by_name["CompressedSamples^CT1"]: "NOPE-404"},
                "acknowledge_identity": True,
            },
            headers=session.headers,
        )
        assert unknown.status_code == 409
        assert unknown.json()["error"]["code"] == "order_not_in_worklist"

        chosen = {
            by_name["CompressedSamples^CT1"]: "WL-CT-1",
            by_name["CompressedSamples^MR1"]: "WL-MR-1",
        }
        # an order chosen without its comparison having been shown is not filed: the
        # comparison is made and shown first
        unseen = await journey.client.post(
            f"/api/v1/imports/{imported['id']}/confirm",
            json={
                "studies": list(by_name.values()),
                "order_for_study": chosen,
                "acknowledge_identity": True,
            },
            headers=session.headers,
        )
        assert unseen.status_code == 409
        assert unseen.json()["error"]["code"] == "identity_not_compared"
        shown = await journey.get_import(session, imported["id"])
        assert {s["compared_with"]["id"] for s in shown["studies"]} == {"LOCAL-CT1", "LOCAL-MR1"}

        confirmed = await journey.client.post(
            f"/api/v1/imports/{imported['id']}/confirm",
            json={
                "studies": list(by_name.values()),
                "order_for_study": chosen,
                "seen_patients": {
                    by_name["CompressedSamples^CT1"]: best["patient"],
                    by_name["CompressedSamples^MR1"]: mr["patient"],
                },
                "acknowledge_identity": True,
            },
            headers=session.headers,
        )
        assert confirmed.status_code == 202, confirmed.text
    await run_worker(wl_settings)

    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    assert {s["patient"]["name"]: s["order"] for s in done["studies"]} == {
        "CompressedSamples^CT1": "WL-CT-1",
        "CompressedSamples^MR1": "WL-MR-1",
    }
    with httpx.Client(base_url=pacs.http_url) as http:
        stored = [
            http.get(f"/instances/{i}/simplified-tags").json()
            for i in http.get("/instances").json()
        ]
    assert sorted((i["PatientID"], i["AccessionNumber"]) for i in stored) == [
        ("LOCAL-CT1", "WL-CT-1"),
        ("LOCAL-MR1", "WL-MR-1"),
    ]


async def test_the_badges_compare_each_order_with_the_patient_on_the_medium(
    journey: Journey, wl_settings: Settings, pacs: OrthancProcess
) -> None:
    """After the French advice to shorten a name, the right order still compares with the
    patient on the medium: not a mismatch because the given name was left out of the search."""
    session = await journey.start(worklist_mode=True)
    imported = await journey.import_media(session, two_studies())
    ct = next(
        s["study_instance_uid"]
        for s in imported["studies"]
        if s["patient"]["name"] == "CompressedSamples^CT1"
    )
    shortened = {"name": "CompressedSamples"}
    async with live_worker(wl_settings):
        typed = await journey.client.get(
            "/api/v1/worklist", params=shortened, headers=session.headers
        )
        medium = await journey.client.get(
            "/api/v1/worklist",
            params={**shortened, "import_id": imported["id"], "study": ct},
            headers=session.headers,
        )
        other = await journey.start(
            worklist_mode=True, user={"id": "u-tech-2", "name": "Tech Two", "department": "ER"}
        )
        foreign = await journey.client.get(
            "/api/v1/worklist",
            params={**shortened, "import_id": imported["id"], "study": ct},
            headers=other.headers,
        )
        unknown = await journey.client.get(
            "/api/v1/worklist",
            params={**shortened, "import_id": imported["id"], "study": "1.2.3"},
            headers=session.headers,
        )
        half = await journey.client.get(
            "/api/v1/worklist",
            params={**shortened, "import_id": imported["id"]},
            headers=session.headers,
        )
    assert typed.status_code == medium.status_code == 200, (typed.text, medium.text)

    def wl_ct(answer: httpx.Response) -> dict[str, object]:
        return next(c for c in answer.json()["items"] if c["accession_number"] == "WL-CT-1")

    # against the fields typed, the given name and the sex are "missing" from the search...
    typed_identity: Any = wl_ct(typed)["identity"]
    assert typed_identity["fields"]["name"] == "similar"
    assert "GIVEN_NAME_MISSING" in typed_identity["reasons"]
    # ...against the medium, the name is the same written in capitals, the sex the same (this
    # test medium gives no birth date: that difference stays)
    medium_identity: Any = wl_ct(medium)["identity"]
    assert medium_identity["fields"] == {
        "name": "format_different",
        "birth_date": "missing",
        "sex": "match",
    }
    assert "GIVEN_NAME_MISSING" not in medium_identity["reasons"]
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "import_not_found"
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_study"
    assert half.status_code == 422
    assert half.json()["error"]["params"] == {"fields": "study"}


async def test_worklist_not_configured_is_a_clear_503(journey: Journey, settings: Settings) -> None:
    session = await journey.start(worklist_mode=True)
    async with live_worker(settings):
        response = await journey.client.get(
            "/api/v1/worklist", params={"name": "ROSSI"}, headers=session.headers
        )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "worklist_not_configured"


async def test_worklist_needs_a_role_and_a_query(journey: Journey) -> None:
    auditor = await journey.start(
        worklist_mode=True, user={"id": "a1", "name": "Auditor", "roles": ["auditor"]}
    )
    forbidden = await journey.client.get(
        "/api/v1/worklist", params={"name": "ROSSI"}, headers=auditor.headers
    )
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "role_required"
    clinician = await journey.start(worklist_mode=True)
    empty = await journey.client.get("/api/v1/worklist", headers=clinician.headers)
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "empty_query"


async def test_no_worker_running_is_a_clear_503(settings: Settings) -> None:
    impatient = settings.model_copy(update={"worklist_wait_s": 1.0})
    async with running_api(impatient) as url, httpx.AsyncClient(base_url=url) as http:
        journey = Journey(http, impatient)
        session = await journey.start(worklist_mode=True)
        response = await http.get(
            "/api/v1/worklist", params={"name": "ROSSI"}, headers=session.headers
        )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "worker_unavailable"


async def test_an_order_for_a_study_not_selected_is_refused(journey: Journey) -> None:
    session = await journey.start(worklist_mode=True)
    imported = await journey.import_media(session, two_studies())
    ct, mr = (s["study_instance_uid"] for s in imported["studies"])
    refused = await journey.client.post(
        f"/api/v1/imports/{imported['id']}/confirm",
        json={"studies": [ct], "order_for_study": {ct: "ACC-1", mr: "ACC-2"}},
        headers=session.headers,
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_input"
    assert (await journey.get_import(session, imported["id"]))["status"] == "awaiting_confirmation"
