"""Every endpoint checks the role its work needs (a matrix over the three roles)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from importer.settings import Settings
from tests.support.app import Journey, Launched, running_api

ROLES = ["clinician", "temporary_zone", "auditor"]

# (method, path, body, roles allowed); {pacs} and {temp} are imports of each zone
MATRIX: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("GET", "/api/v1/session", None, set(ROLES)),
    ("GET", "/api/v1/imports", None, set(ROLES)),
    ("POST", "/api/v1/imports", {"zone": "pacs", "size": 10}, {"clinician"}),
    ("POST", "/api/v1/imports", {"zone": "temporary", "size": 10}, {"temporary_zone"}),
    ("GET", "/api/v1/worklist?name=ROSSI", None, {"clinician", "temporary_zone"}),
    ("POST", "/api/v1/imports/{pacs}/confirm", {"studies": ["1.2.3"]}, {"clinician"}),
    ("POST", "/api/v1/imports/{pacs}/retry", None, {"clinician"}),
    ("POST", "/api/v1/imports/{temp}/confirm", {"studies": ["1.2.3"]}, {"temporary_zone"}),
    ("POST", "/api/v1/imports/{temp}/cancel", None, {"temporary_zone"}),
    ("GET", "/api/v1/temporary", None, {"temporary_zone"}),
    ("POST", "/api/v1/imports/{temp}/promote", {"accession_number": "X"}, {"temporary_zone"}),
    ("DELETE", "/api/v1/imports/{temp}", None, {"temporary_zone"}),
    ("GET", "/api/v1/audit", None, {"auditor"}),
    ("POST", "/api/v1/imports/{pacs}/undo", {"reason": "patient_safety"}, {"temporary_zone"}),
    ("POST", "/api/v1/imports/{pacs}/temporary", None, {"temporary_zone"}),
    ("POST", "/api/v1/imports/{pacs}/cancel", None, {"clinician"}),
    ("GET", "/api/v1/identities?q=ROSSI", None, {"temporary_zone"}),
    ("DELETE", "/api/v1/identities/no-such-mapping", None, {"temporary_zone"}),
]


@pytest.fixture
async def quick(settings: Settings) -> AsyncIterator[Journey]:
    """An API that does not wait long for a worker (none runs here)."""
    impatient = settings.model_copy(update={"worklist_wait_s": 0.3})
    async with running_api(impatient) as url, httpx.AsyncClient(base_url=url) as http:
        yield Journey(http, impatient)


async def test_role_matrix(quick: Journey) -> None:
    sessions: dict[str, Launched] = {
        role: await quick.start(
            accession="ROLE-1", user={"id": f"u-{role}", "name": role, "roles": [role]}
        )
        for role in ROLES
    }
    pacs_import = await quick.create_import(sessions["clinician"], 10)
    temp = await quick.client.post(
        "/api/v1/imports", json={"zone": "temporary", "size": 10},
        headers=sessions["temporary_zone"].headers,
    )  # fmt: skip
    ids = {"pacs": pacs_import["id"], "temp": temp.json()["id"]}
    checked = 0
    for method, template, body, allowed in MATRIX:
        path = template.format(**ids)
        for role in ROLES:
            response = await quick.client.request(
                method, path, json=body, headers=sessions[role].headers
            )
            code = response.json()["error"]["code"] if response.status_code >= 400 else None
            # refused: for lack of the role, or not even shown (another zone's import)
            refused = code in ("role_required", "import_not_found")
            assert refused == (role not in allowed), (method, path, role, response.text)
            assert response.status_code < 500 or response.status_code == 503
            checked += 1
    assert checked == len(MATRIX) * len(ROLES)
