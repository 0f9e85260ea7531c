"""Whoever can write to Redis cannot run code in the worker: the real worker reads its queue as
JSON, so a pickled job is dropped unread (issue 13, item 12)."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import pytest
from arq.connections import RedisSettings, create_pool

from importer.jobs import ANALYSE, deserialize, serialize
from importer.settings import Settings
from tests.support.app import run_worker
from worker.main import worker_options


class Gadget:
    """A payload that runs code when unpickled (here: makes a folder)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


def test_the_worker_reads_and_writes_its_queue_as_json(settings: Settings) -> None:
    options = worker_options(settings)
    assert (options["job_serializer"], options["job_deserializer"]) == (serialize, deserialize)


async def test_a_pickled_job_written_to_redis_runs_nothing(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "pwned"
    job_id = "analyse_import:planted"
    payload = {"t": 1, "f": ANALYSE, "a": (Gadget(marker),), "k": {}, "et": int(time.time() * 1000)}
    redis = await create_pool(
        RedisSettings.from_dsn(settings.redis_url),
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
    try:
        await redis.set(f"arq:job:{job_id}", pickle.dumps(payload))
        await redis.zadd(settings.queue_name, {job_id: int(time.time() * 1000)})
        await run_worker(settings)
        assert not marker.exists()
        assert await redis.zcard(settings.queue_name) == 0  # dropped, not retried
        assert any("deserializing job" in r.getMessage() for r in caplog.records)
    finally:
        await redis.aclose()
