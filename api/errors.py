"""One handler renders every error as ``{"error": {"code", "params", "message"}}``: the app words
the code with its params in the user's language (:mod:`importer.messages`)."""

from __future__ import annotations

import logging
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


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "upload_too_large",
    415: "unsupported_media_type",
}


def _describe(errors: list[Any]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",))
        parts.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(ImporterError)
    async def _domain(_: Request, exc: ImporterError) -> JSONResponse:
        return error_json(exc.status_code, exc.code, exc.message, params=exc.params)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_json(422, "invalid_input", _describe(list(exc.errors())))

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
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_json(exc.status_code, code, str(exc.detail), headers=exc.headers)
