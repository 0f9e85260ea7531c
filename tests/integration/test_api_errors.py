"""Bad tokens and bad input get a clear code, never a 500."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from devstack import WorklistProcess, free_port
from importer.access.models import LaunchToken
from importer.db import make_engine, utcnow
from importer.security import hash_token
from importer.settings import Settings
from tests.conftest import REFUSED_SOCKET_WARNINGS
from tests.support.app import DEMO_PATIENT, RIS_KEY, Journey, running_api

RIS = {"Authorization": f"Bearer {RIS_KEY}"}


async def test_launch_token_is_single_use(journey: Journey) -> None:
    token = await journey.launch()
    first = await journey.client.post("/api/v1/sessions", json={"launch_token": token})
    assert first.status_code == 201
    assert first.json()["order"]["patient"]["name"] == DEMO_PATIENT["name"]
    second = await journey.client.post("/api/v1/sessions", json={"launch_token": token})
    assert second.status_code == 401
    assert second.json()["error"]["code"] == "token_used"


async def test_expired_missing_and_unknown_launch_tokens(
    journey: Journey, settings: Settings
) -> None:
    token = await journey.launch()
    engine = make_engine(settings.effective_database_url)
    async with engine.begin() as conn:
        await conn.execute(
            update(LaunchToken)
            .where(LaunchToken.token_hash == hash_token(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    await engine.dispose()
    cases = [
        ({"launch_token": token}, "token_expired"),
        ({}, "token_missing"),
        ({"launch_token": "not-a-token"}, "token_invalid"),
    ]
    for body, code in cases:
        response = await journey.client.post("/api/v1/sessions", json=body)
        assert response.status_code == 401, body
        assert response.json()["error"]["code"] == code


async def test_session_token_required(journey: Journey) -> None:
    missing = await journey.client.get("/api/v1/session")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "token_missing"
    wrong = await journey.client.get("/api/v1/imports", headers={"Authorization": "Bearer nope"})
    assert wrong.json()["error"]["code"] == "token_invalid"


async def test_ris_key_required(journey: Journey) -> None:
    response = await journey.client.post(
        "/api/v1/launches", json={}, headers={"Authorization": "Bearer wrong"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "api_key_invalid"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"birth_date": "19741301"}, "birth_date"),
        ({"birth_date": "1974-01-01"}, "birth_date"),
        ({"sex": "X"}, "sex"),
        ({"name": "^^"}, "name"),
        ({"name": "ROSSI\\MARIO"}, "name"),
    ],
)
async def test_bad_launch_bodies_get_422(
    journey: Journey, patch: dict[str, str], field: str
) -> None:
    body = {
        "user": {"id": "u1", "name": "Tech"},
        "order": {"accession_number": "A1", "patient": {**DEMO_PATIENT, **patch}},
    }
    response = await journey.client.post("/api/v1/launches", json=body, headers=RIS)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in error["message"]


async def test_unknown_fields_and_broken_json_are_refused(journey: Journey) -> None:
    extra = await journey.client.post(
        "/api/v1/launches", json={"user": {"id": "u", "name": "n"}, "admin": True}, headers=RIS
    )
    assert extra.status_code == 422
    broken = await journey.client.post(
        "/api/v1/launches",
        content=b"{not json",
        headers={**RIS, "Content-Type": "application/json"},
    )
    assert broken.status_code == 422
    assert broken.json()["error"]["code"] == "invalid_input"


async def test_upload_errors(journey: Journey) -> None:
    session = await journey.start()
    created = await journey.create_import(session, 10)
    url = created["upload_url"]
    no_tus = await journey.client.patch(
        url,
        content=b"abc",
        headers={
            **session.headers,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert no_tus.status_code == 422  # the Tus-Resumable header is required
    wrong_type = await journey.client.patch(
        url,
        content=b"abc",
        headers={
            **session.headers,
            "Upload-Offset": "0",
            "Tus-Resumable": "1.0.0",
            "Content-Type": "application/json",
        },
    )
    assert wrong_type.status_code == 415
    too_much = await journey.patch(session, url, 0, b"x" * 11)
    assert too_much.status_code == 413
    assert too_much.json()["error"]["code"] == "upload_too_large"
    options = await journey.client.options(url)
    assert options.headers["Tus-Version"] == "1.0.0"
    not_zip = await journey.patch(session, url, 0, b"0123456789")
    assert not_zip.status_code == 204


async def test_imports_of_another_order_are_hidden(journey: Journey) -> None:
    mine = await journey.start(accession="ACC-A")
    theirs = await journey.start(accession="ACC-B")
    created = await journey.create_import(mine, 100)
    response = await journey.client.get(f"/api/v1/imports/{created['id']}", headers=theirs.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "import_not_found"
    bad_size = await journey.client.post("/api/v1/imports", json={"size": -1}, headers=mine.headers)
    assert bad_size.status_code == 422


async def test_database_down_is_a_clear_503(settings: Settings) -> None:
    dead = settings.model_copy(
        update={"database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none"}
    )
    async with running_api(dead) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.post("/api/v1/sessions", json={"launch_token": "x"})
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "service_unavailable"
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("error")
        assert ready.json()["checks"]["redis"] == "ok"


async def test_sessions_are_rate_limited_and_headers_protect(settings: Settings) -> None:
    strict = settings.model_copy(
        update={"rate_sessions_per_min": 3, "max_open_uploads_per_session": 2}
    )
    async with running_api(strict) as url, httpx.AsyncClient(base_url=url) as http:
        codes = [
            (await http.post("/api/v1/sessions", json={"launch_token": "guess"})).status_code
            for _ in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        limited = await http.post("/api/v1/sessions", json={"launch_token": "guess"})
        assert limited.json()["error"]["code"] == "rate_limited"
        page = await http.get("/")
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]

        launch = await http.post(
            "/api/v1/launches",
            json={"user": {"id": "u", "name": "U"}, "order": {"accession_number": "RL1",
                  "patient": DEMO_PATIENT}},
            headers=RIS,
        )  # fmt: skip
        assert launch.status_code == 201
        assert launch.headers["Cache-Control"] == "no-store"


async def test_unfinished_uploads_are_bounded_per_session(settings: Settings) -> None:
    bounded = settings.model_copy(update={"max_open_uploads_per_session": 2})
    async with running_api(bounded) as url, httpx.AsyncClient(base_url=url) as http:
        journey = Journey(http, bounded)
        session = await journey.start()
        for _ in range(2):
            await journey.create_import(session, 100)
        third = await http.post("/api/v1/imports", json={"size": 100}, headers=session.headers)
        assert third.status_code == 409
        assert third.json()["error"]["code"] == "too_many_uploads"


@pytest.mark.usefixtures("refused_sockets")
@pytest.mark.filterwarnings(REFUSED_SOCKET_WARNINGS[0])
@pytest.mark.filterwarnings(REFUSED_SOCKET_WARNINGS[1])
async def test_readiness_tells_whether_the_pacs_and_the_worklist_answer(
    settings: Settings, worklist_scp: WorklistProcess
) -> None:
    """For ops (`/readyz?peers=true`): a C-ECHO to each; a peer down is reported, and the api
    stays ready (uploads go on; the worker retries)."""
    both = settings.model_copy(update={"worklist_url": worklist_scp.dimse_url})
    async with running_api(both) as url, httpx.AsyncClient(base_url=url) as http:
        plain = await http.get("/readyz")
        assert plain.json().get("peers") is None  # not asked: no association each probe
        asked = await http.get("/readyz", params={"peers": "true"})
        assert asked.status_code == 200
        assert asked.json()["peers"] == {"pacs": "ok", "worklist": "ok"}
    gone = settings.model_copy(
        update={"pacs_url": f"dimse://GONE@127.0.0.1:{free_port()}", "worklist_url": None}
    )
    async with running_api(gone) as url, httpx.AsyncClient(base_url=url) as http:
        asked = await http.get("/readyz", params={"peers": "true"})
        assert asked.status_code == 200  # still ready
        assert asked.json()["peers"] == {"pacs": "unreachable", "worklist": "not_configured"}
