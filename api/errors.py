"""One handler renders every error as ``{"error": {"code", "params", "message"}}``: the app words
the code with its params in the user's language (:mod:`importer.messages`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from importer.errors import ImporterError
from importer.imports.service import new_support_id
from importer.logs import describe_exception
from importer.messages import MessageCode, Params, ParamsField, message_code

log = logging.getLogger(__name__)

# asyncpg's and the drivers' ways of saying "no database right now"
CONNECTION_ERRORS = frozenset(
    {
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "ConnectionRejectionError",
        "AdminShutdownError",
        "CrashShutdownError",
        "TooManyConnectionsError",
        "InterfaceError",
        "OperationalError",
    }
)


class ErrorBody(BaseModel):
    code: MessageCode
    params: ParamsField
    message: str = Field(description="The English text, for integrators and logs")


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_json(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    params: Params | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": str(message_code(code)), "params": params or {}, "message": message}},
        status_code=status,
        headers=dict(headers) if headers else None,
    )


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Declare error responses of a route so OpenAPI shows them."""
    return {status: {"model": ErrorResponse} for status in statuses}


_HTTP_CODES: dict[int, MessageCode] = {
    400: MessageCode.bad_request,
    401: MessageCode.unauthorized,
    403: MessageCode.forbidden,
    404: MessageCode.not_found,
    405: MessageCode.method_not_allowed,
    409: MessageCode.conflict,
    410: MessageCode.gone,
    413: MessageCode.upload_too_large,
    415: MessageCode.unsupported_media_type,
    422: MessageCode.invalid_input,
    429: MessageCode.rate_limited,
    503: MessageCode.service_unavailable,
}

MAX_FIELDS = 5
"""How many invalid fields a 422 names (its message and its ``fields`` param)."""

# a location's part shown as it is: a field's name or a list's index, never a value's key (a
# dict keyed by study UIDs, an unknown field a client made up)
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


def _location(err: Any) -> str:
    """Where an invalid value is (``user.name``, ``query.limit``), never the value itself."""
    parts = [p for p in err.get("loc", ()) if p != "body"]
    shown = [str(p) if isinstance(p, int) or _FIELD_NAME.fullmatch(str(p)) else "*" for p in parts]
    return ".".join(shown) or "body"


def _describe(errors: list[Any]) -> str:
    parts = []
    for err in errors[:MAX_FIELDS]:  # located as the params are: never a value's key
        parts.append(f"{_location(err)}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def _fields(errors: list[Any]) -> Params:
    """The ``invalid_input`` params: where the invalid values are (``fields``: comma-separated
    locations, the first few only), never the values."""
    where = list(dict.fromkeys(_location(err) for err in errors))
    return {"fields": ", ".join(where[:MAX_FIELDS])} if where else {}


def install(app: FastAPI) -> None:
    @app.exception_handler(ImporterError)
    async def _domain(_: Request, exc: ImporterError) -> JSONResponse:
        headers: Mapping[str, str] | None = getattr(exc, "headers", None)  # e.g. Retry-After
        return error_json(exc.status_code, exc.code, exc.message, headers, params=exc.params)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        return error_json(422, "invalid_input", _describe(errors), params=_fields(errors))

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(OSError)
    @app.exception_handler(RedisError)
    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning(
            "dependency unavailable on %s %s: %s", request.method, request.url.path,
            type(exc).__name__,
        )  # fmt: skip
        return error_json(
            503,
            "service_unavailable",
            "The service cannot reach its database, queue or storage right now. Try again shortly.",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # The database refusing connections (restarting, shutting down) is an outage, not a bug
        causes: set[str] = set()
        cause: BaseException | None = exc.orig
        while cause is not None and len(causes) < 5:  # the driver's error wraps asyncpg's
            causes.add(type(cause).__name__)
            cause = cause.__cause__ or cause.__context__
        if exc.connection_invalidated or causes & CONNECTION_ERRORS:
            return await _unavailable(request, exc)
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, never bad input, answered as JSON with a support id the log line carries too.
        # Logged as its type (a database error's SQLSTATE) and its frames, never its message
        # (a database error quotes the row) nor the request's body (importer.logs).
        support_id = new_support_id()
        log.error(
            "unhandled error on %s %s: %s", request.method, request.url.path,
            describe_exception(exc), exc_info=exc, extra={"support_id": support_id},
        )  # fmt: skip
        return error_json(
            500,
            "internal_error",
            "An unexpected error occurred. The request was not completed. "
            f"Support id: {support_id}.",
            params={"support_id": support_id},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body that is not JSON at all (e.g. not UTF-8)
            return error_json(422, "invalid_input", "The request body is not valid JSON.")
        code = _HTTP_CODES.get(exc.status_code, MessageCode.http_error)
        params: Params = {"status": exc.status_code} if code is MessageCode.http_error else {}
        return error_json(exc.status_code, code, str(exc.detail), exc.headers, params)
