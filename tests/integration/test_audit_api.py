"""Auditors read the trail: filtered, paged, exported as JSON and CSV."""

from __future__ import annotations

import csv
import io
import json

from importer.settings import Settings
from tests.support.app import DEMO_PATIENT, Journey, make_zip, run_worker, sample

AUDITOR = {"id": "aud-1", "name": "Auditor", "roles": ["auditor"]}


async def test_audit_filters_and_exports(journey: Journey, settings: Settings) -> None:
    session = await journey.start(accession="AUD-1")
    imported = await journey.import_media(
        session, make_zip([("IM1", sample("CT_small.dcm").read_bytes())])
    )
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
    await run_worker(settings)
    await journey.start(accession="OTHER-9")  # noise

    auditor = await journey.start(worklist_mode=True, user=AUDITOR)
    page = await journey.client.get(
        "/api/v1/audit",
        params={"accession": "AUD-1", "action": "import.", "since": "2000-01-01T00:00:00"},
        headers=auditor.headers,
    )
    assert page.status_code == 200, page.text
    actions = [e["action"] for e in page.json()["items"]]
    assert actions[0] == "import.created"
    assert "import.confirmed" in actions
    assert actions[-1] == "import.completed"
    assert all(a.startswith("import.") for a in actions)
    assert {e["patient_id"] for e in page.json()["items"]} == {DEMO_PATIENT["id"]}

    first = await journey.client.get("/api/v1/audit", params={"limit": 2}, headers=auditor.headers)
    assert len(first.json()["items"]) == 2
    after = first.json()["next_after"]
    rest = await journey.client.get(
        "/api/v1/audit", params={"after": after, "limit": 500}, headers=auditor.headers
    )
    assert rest.json()["items"][0]["id"] > after

    exported = await journey.client.get(
        "/api/v1/audit", params={"format": "csv", "user": "u-tech-1"}, headers=auditor.headers
    )
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows
    assert {r["actor_id"] for r in rows} == {"u-tech-1"}
    confirmed = next(r for r in rows if r["action"] == "import.confirmed")
    assert json.loads(confirmed["details"])["acknowledged_identity"] is True

    bad = await journey.client.get(
        "/api/v1/audit", params={"since": "yesterday"}, headers=auditor.headers
    )
    assert bad.status_code == 422
