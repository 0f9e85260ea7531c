"""The worklist's domain errors, and the way back from an error reply that crossed the queue.

The worker runs the worklist questions (:mod:`importer.worklist.handler`) and answers an error
with its ``code`` and ``message``; :func:`error_from_reply` raises the same class again on the
api side, worded for the user, with today's statuses: ``invalid_input`` 422,
``worklist_not_configured`` 503, any other code (``worklist_failed``, ``worklist_unreachable``)
502.
"""

from __future__ import annotations

from typing import ClassVar

from importer.errors import Failure, ImporterError, InvalidInput
from importer.messages import MessageCode, Params, stored_code

__all__ = ["WorklistError", "WorklistNotConfigured", "error_from_reply"]


class WorklistError(Failure):
    """The worklist could not be searched. ``code`` is one of the codes below."""

    status_code: ClassVar[int] = 502
    code = "worklist_failed"

    UNREACHABLE: ClassVar[str] = "worklist_unreachable"
    """No connection (refused, timed out, unknown host)."""
    FAILED: ClassVar[str] = "worklist_failed"
    """Connected, but the association was rejected or aborted, or the C-FIND failed."""
    NOT_CONFIGURED: ClassVar[str] = "worklist_not_configured"


class WorklistNotConfigured(WorklistError):
    """No worklist is configured (``IMPORTER_WORKLIST_URL``): worklist mode is unavailable."""

    status_code: ClassVar[int] = 503
    code = WorklistError.NOT_CONFIGURED

    def __init__(self, message: str = "no worklist is configured") -> None:
        super().__init__(WorklistError.NOT_CONFIGURED, message)


TOO_MANY_ORDERS = "too_many_orders"
"""More orders asked at once than :data:`~importer.worklist.query.MAX_WORKLIST_ORDERS`."""


def error_from_reply(code: str, message: str, params: Params | None = None) -> ImporterError:
    """The domain error a worklist question answered with ``code``, ``message`` and
    ``params``, as the api tells it (the worker's message names peers and steps, its params
    counts and statuses: never patient data)."""
    if code in (InvalidInput.code, TOO_MANY_ORDERS):
        return InvalidInput(message, code=code, params=params)
    if code == WorklistError.NOT_CONFIGURED:
        return WorklistNotConfigured("No worklist is configured on this server.")
    # a worker of another version may answer a code this one does not list: worklist_failed
    known = stored_code(code, fallback=MessageCode.worklist_failed)
    return WorklistError(known, f"The worklist could not be searched: {message}", params=params)
