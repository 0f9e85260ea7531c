"""The one domain error tree. Every error has a stable ``code``, a ``message``, an HTTP status
and whether trying again later may succeed (``retryable``).

The API renders them as ``{"error": {"code", "params", "message"}}``; the worker stores them
on the import (a pipeline stage that raises one fails with them, and runs again later when
``retryable``). ``code`` is a :class:`~importer.messages.MessageCode` the app words in the user's
language with ``params``; ``message`` is the English for integrators and logs. Neither holds
patient data.
"""

from __future__ import annotations

from typing import Any, ClassVar

from importer.messages import Params, clean_params, message_code


class ImporterError(Exception):
    status_code: ClassVar[int] = 400
    code: str = "bad_request"
    retryable: bool = False
    """Whether the same work may go through when tried again later (a peer away, a timeout)."""
    # a refusal that records what it found (e.g. a new identity comparison to show): the
    # request's transaction is committed, not rolled back, before the error is answered
    keep_changes: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        message_code(cls.code)  # a class's own code is in the closed set too

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retryable: bool | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = message_code(code if code is not None else self.code)
        self.params: Params = clean_params(params)
        if retryable is not None:
            self.retryable = retryable


class Failure(ImporterError):
    """Work that did not go through: a pipeline stage, the PACS, the worklist, the RIS
    callback, a PACS-side merge, a medium refused. Raised and recorded on the worker side (the
    API renders the PACS's and the worklist's when a request waited for them); each subclass
    names its family of ``code``."""

    code = "failed"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, retryable=retryable, params=params)


class InvalidInput(ImporterError):
    status_code = 422
    code = "invalid_input"


class Unauthorized(ImporterError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ImporterError):
    status_code = 403
    code = "forbidden"


class NotFound(ImporterError):
    status_code = 404
    code = "not_found"


class Conflict(ImporterError):
    status_code = 409
    code = "conflict"


class OrderChanged(Conflict):
    """The order's patient is not the one the user saw compared: nothing is filed, the new
    comparison is recorded for the user to see (``order_changed``, ``identity_not_compared``)."""

    code = "order_changed"
    keep_changes = True


class PayloadTooLarge(ImporterError):
    status_code = 413
    code = "upload_too_large"


class Gone(ImporterError):
    status_code = 410
    code = "gone"


class UnsupportedMediaType(ImporterError):
    status_code = 415
    code = "unsupported_media_type"


class ServiceUnavailable(ImporterError):
    status_code = 503
    code = "service_unavailable"
