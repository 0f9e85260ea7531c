"""Asking the worker a question over a real Redis: its answer comes back as the same typed model,
its refusal as the same domain error, and an answer in another form (a worker of another
version) as ``worker_unavailable``, never a 500."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from arq.connections import RedisSettings, create_pool
from arq.worker import Worker, func

from importer.errors import ServiceUnavailable
from importer.jobs import WORKLIST_ORDERS, deserialize, serialize
from importer.worklist.errors import WorklistError, error_from_reply
from importer.worklist.query import WorklistItem
from importer.worklist.schemas import WorklistOrders
from worker.rpc import answer, call

pytestmark = pytest.mark.integration


async def _ask(redis_url: str, job: Any) -> WorklistOrders:
    """``call`` against a burst worker whose WORKLIST_ORDERS job is ``job``."""
    settings = RedisSettings.from_dsn(redis_url)
    queue = f"rpc-test-{uuid.uuid4().hex}"
    redis = await create_pool(settings, job_serializer=serialize, job_deserializer=deserialize)
    worker = Worker(
        functions=[func(job, name=WORKLIST_ORDERS)],
        redis_settings=settings,
        job_serializer=serialize,
        job_deserializer=deserialize,
        queue_name=queue,
        burst=True,
        poll_delay=0.05,
        handle_signals=False,
    )
    try:
        asked = asyncio.create_task(
            call(
                redis,
                WORKLIST_ORDERS,
                ["ACC-1"],
                reply=WorklistOrders,
                error=error_from_reply,
                queue_name=queue,
                wait_s=10,
            )
        )
        await asyncio.sleep(0.2)  # queued before the burst worker looks
        await worker.main()
        return await asked
    finally:
        await worker.close()
        await redis.aclose()


async def test_an_answer_comes_back_as_the_same_model(redis_url: str) -> None:
    item = WorklistItem(accession_number="ACC-1", patient_name="ROSSI^MARIO")

    async def orders(_ctx: dict[str, Any], accessions: list[str]) -> dict[str, Any]:
        return await answer(lambda: WorklistOrders(items={a: item for a in accessions}))

    got = await _ask(redis_url, orders)
    assert got.items == {"ACC-1": item}


async def test_a_refusal_comes_back_as_the_same_domain_error(redis_url: str) -> None:
    def refuse() -> WorklistOrders:
        raise WorklistError(WorklistError.UNREACHABLE, "The worklist did not answer.")

    async def orders(_ctx: dict[str, Any], _accessions: list[str]) -> dict[str, Any]:
        return await answer(refuse)

    with pytest.raises(WorklistError) as caught:
        await _ask(redis_url, orders)
    assert (caught.value.code, caught.value.status_code) == ("worklist_unreachable", 502)


async def test_an_answer_of_another_version_is_worker_unavailable(redis_url: str) -> None:
    async def orders(_ctx: dict[str, Any], _accessions: list[str]) -> dict[str, Any]:
        return {"ok": True, "items": {}}  # what a worker of the previous version answered

    with pytest.raises(ServiceUnavailable) as caught:
        await _ask(redis_url, orders)
    assert caught.value.code == "worker_unavailable"
