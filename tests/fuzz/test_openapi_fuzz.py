"""Schemathesis against the API contract (openapi/openapi.json) on the real app served by
uvicorn: every operation, valid and invalid data (positive and negative modes), a RIS key or a
session token (all roles) as the route wants. No answer may be a server error, and each answer
must match the contract (status code, content type, headers, body schema).

Bounded and deterministic: ``MAX_EXAMPLES`` per operation, derandomized, no example database.
Needs ``schemathesis`` (a dev dependency); skipped without it."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings

from tests.conftest import REFUSED_SOCKET_WARNINGS
from tests.fuzz.conftest import FuzzTarget

# imported by name: without the package (a dev dependency) the module is skipped, and mypy
# needs no stubs for it
schemathesis = pytest.importorskip("schemathesis")
_core_checks = importlib.import_module("schemathesis.checks")
_openapi_checks = importlib.import_module("schemathesis.specs.openapi.checks")

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
MAX_EXAMPLES = 50
RIS_ROUTES = ("/api/v1/launches", "/api/v1/orders/")
CHECKS = [
    _core_checks.not_a_server_error,
    _openapi_checks.status_code_conformance,
    _openapi_checks.content_type_conformance,
    _openapi_checks.response_headers_conformance,
    _openapi_checks.response_schema_conformance,
]

schema = schemathesis.openapi.from_path(CONTRACT)


def credentials(target: FuzzTarget, method: str, path: str) -> dict[str, str]:
    if path.startswith(RIS_ROUTES):
        token = target.ris_key
    elif (method.upper(), path) == ("DELETE", "/api/v1/session"):
        token = target.spare_session_token  # it ends its session: the others keep theirs
    else:
        token = target.session_token
    return {"Authorization": f"Bearer {token}"}


# GET /readyz?peers=true asks the PACS and the worklist: a refused connection leaks pynetdicom's
# socket (not ours), collected under these filters
@pytest.mark.usefixtures("refused_sockets")
@pytest.mark.filterwarnings(REFUSED_SOCKET_WARNINGS[0])
@pytest.mark.filterwarnings(REFUSED_SOCKET_WARNINGS[1])
@schema.parametrize()  # type: ignore[untyped-decorator,unused-ignore]
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_the_contract_holds(case: Any, fuzz_target: FuzzTarget) -> None:
    case.call_and_validate(
        base_url=fuzz_target.base_url,
        headers=credentials(fuzz_target, case.method, case.path),
        checks=CHECKS,
        timeout=15,
    )


NUL = "a\u0000b"
SESSION, RIS = "session", "ris"


@pytest.mark.parametrize(
    ("method", "path", "auth", "kwargs"),
    [
        pytest.param(
            "POST",
            "/api/v1/launches",
            RIS,
            {"json": {"user": {"id": NUL, "name": "x"}}},
            id="POST /launches body",
        ),
        pytest.param(
            "POST",
            "/api/v1/imports",
            SESSION,
            {"json": {"size": 10, "filename": NUL}},
            id="POST /imports body",
        ),
        pytest.param("GET", "/api/v1/imports/a%00b", SESSION, {}, id="GET /imports/{id}"),
        pytest.param(
            "POST", "/api/v1/imports/a%00b/cancel", SESSION, {}, id="POST /imports/{id}/cancel"
        ),
        pytest.param("HEAD", "/api/v1/uploads/a%00b", SESSION, {}, id="HEAD /uploads/{id}"),
        pytest.param(
            "GET", "/api/v1/orders/A%00B/imports", RIS, {}, id="GET /orders/{accession}/imports"
        ),
        pytest.param("GET", "/api/v1/audit", SESSION, {"params": {"user": NUL}}, id="GET /audit"),
    ],
)
def test_a_nul_character_is_refused_not_a_server_error(
    fuzz_target: FuzzTarget, method: str, path: str, auth: str, kwargs: dict[str, Any]
) -> None:
    """What the fuzzer found on POST /launches, everywhere a string reaches the database."""
    token = fuzz_target.ris_key if auth == RIS else fuzz_target.session_token
    with httpx.Client(base_url=fuzz_target.base_url, timeout=30) as http:
        response = http.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )
    assert response.status_code < 500, response.text
