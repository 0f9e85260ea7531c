"""Asking the worker a question and waiting for the answer (the API never speaks DICOM itself:
worklist queries run in the worker, which alone needs to reach the DICOM network)."""

from __future__ import annotations

from typing import Any

from arq.connections import ArqRedis
from arq.jobs import ResultNotFound

from importer.errors import ServiceUnavailable

WORKLIST_SEARCH = "worklist_search"
WORKLIST_ORDERS = "worklist_orders"


async def call(
    redis: ArqRedis, function: str, *args: Any, queue_name: str, wait_s: float
) -> dict[str, Any]:
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
    return result
