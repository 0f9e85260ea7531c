"""Enqueueing pipeline jobs (their names: :mod:`importer.jobs`). Deterministic job ids:
enqueueing twice runs once."""

from __future__ import annotations

from arq.connections import ArqRedis


def job_id(function: str, import_id: str) -> str:
    return f"{function}:{import_id}"


async def enqueue(redis: ArqRedis, function: str, import_id: str, *, queue_name: str) -> bool:
    """Queue ``function(import_id)``; False when that job is already queued or running."""
    job = await redis.enqueue_job(
        function, import_id, _job_id=job_id(function, import_id), _queue_name=queue_name
    )
    return job is not None
