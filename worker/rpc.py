"""Asking the worker a question and waiting for the answer (the API never speaks DICOM itself:
worklist queries run in the worker, which alone needs to reach the DICOM network).

Both sides of the queue are here. The worker runs the question's handler with :func:`answer`:
its pydantic result crosses as ``{"result": ...}``, a domain error it raises as ``{"error":
{"code", "params", "message"}}``. The api asks with :func:`call`, which validates the same
model again, or raises the domain error again through the ``error`` it is given (e.g.
:func:`importer.worklist.errors.error_from_reply`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from arq.connections import ArqRedis
from arq.jobs import ResultNotFound
from pydantic import BaseModel, ValidationError

from importer.errors import ImporterError, ServiceUnavailable
from importer.messages import Params, clean_params

P = ParamSpec("P")
M = TypeVar("M", bound=BaseModel)

ErrorFromReply = Callable[[str, str, Params], ImporterError]
"""The domain error of an error reply, from its ``code``, ``message`` and ``params``."""


async def answer(
    handler: Callable[P, BaseModel], *args: P.args, **kwargs: P.kwargs
) -> dict[str, Any]:
    """Run a (synchronous) handler in a thread; its answer as it crosses the queue."""
    try:
        result = await asyncio.to_thread(handler, *args, **kwargs)
    except ImporterError as exc:
        return {"error": {"code": exc.code, "params": exc.params, "message": exc.message}}
    return {"result": result.model_dump(mode="json")}


async def call(
    redis: ArqRedis,
    function: str,
    *args: Any,
    reply: type[M],
    error: ErrorFromReply,
    queue_name: str,
    wait_s: float,
) -> M:
    """Ask the worker ``function(*args)`` and wait up to ``wait_s`` seconds: its ``reply``, or
    the domain error it answered (through ``error``); ``worker_unavailable`` (503) when no
    worker answered in time."""
    job = await redis.enqueue_job(function, *args, _queue_name=queue_name, _expires=wait_s)
    if job is None:  # pragma: no cover - only with a fixed job id
        raise ServiceUnavailable("The request could not be queued.", code="worker_unavailable")
    try:
        result: dict[str, Any] = await job.result(timeout=wait_s, poll_delay=0.05)
    except (TimeoutError, ResultNotFound) as exc:
        # the job expires unstarted (``_expires``): nothing is left behind
        raise ServiceUnavailable(
            "No worker answered in time: the import service is not fully running.",
            code="worker_unavailable",
        ) from exc
    failure = result.get("error") if isinstance(result, dict) else None
    if isinstance(failure, dict):
        params = failure.get("params")
        raise error(
            str(failure.get("code")),
            str(failure.get("message")),
            clean_params(params if isinstance(params, dict) else None),
        )
    try:
        return reply.model_validate(result["result"])
    except (KeyError, TypeError, ValidationError) as exc:
        # a worker of another version (deploy the api and the worker together)
        raise ServiceUnavailable(
            "The worker answered in a form this server does not know: the api and the worker "
            "are not the same version.",
            code="worker_unavailable",
        ) from exc
