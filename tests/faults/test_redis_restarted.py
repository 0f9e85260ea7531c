"""Redis (our own, throw-away) restarted empty under the imports: the queue is gone, the
database is not. While Redis is down the API says so (503 ``service_unavailable`` on a route
that needs it, ``/readyz`` 503) and keeps serving what only needs the database (an upload's last
byte too: its job cannot be queued, the import is safe in the database). Redis back, the API
recovers by itself, and the reconciler hands every import back: they complete."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from arq.connections import RedisSettings, create_pool
from sqlalchemy import update

from devstack import RedisProcess, free_port
from importer.db import make_engine, utcnow
from importer.imports.models import Import
from importer.jobs import deserialize, serialize
from importer.settings import Settings
from tests.faults.support import (
    CountingOrthanc,
    make_settings,
    medium,
    orthanc_instances,
    truncate,
    wait_for,
)
from tests.support.app import Journey, run_worker, running_api


async def queue_size(settings: Settings) -> int:
    redis = await create_pool(
        RedisSettings.from_dsn(settings.redis_url),
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
    try:
        return int(await redis.zcard(settings.queue_name))
    finally:
        await redis.aclose()


async def past_grace(database_url: str, *ids: str) -> None:
    """As if the reconciler's grace period (30 s) had passed since the imports last moved."""
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(Import)
                .where(Import.id.in_(ids))
                .values(updated_at=utcnow() - timedelta(minutes=5))
            )
    finally:
        await engine.dispose()


def restart_empty(redis: RedisProcess) -> None:
    redis.stop()
    redis.start()  # same port, nothing persisted: an empty Redis


async def test_redis_restarted_empty_loses_no_import(
    database_url: str, own_orthanc: CountingOrthanc, tmp_path: Path
) -> None:
    await truncate(database_url)
    redis = RedisProcess(free_port(), data_dir=tmp_path / "redis")
    redis.start()
    try:
        settings = make_settings(
            database_url=database_url,
            redis_url=redis.url,
            pacs_url=own_orthanc.dimse_url,
            tmp_path=tmp_path,
        )
        await _scenario(settings, redis, own_orthanc)
    finally:
        redis.stop()


async def _scenario(settings: Settings, redis: RedisProcess, pacs: CountingOrthanc) -> None:
    first_zip, second_zip = medium(3), medium(2)
    async with running_api(settings) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        journey = Journey(http, settings)
        session = await journey.start()
        # A: uploaded, its analysis queued in Redis
        a = await journey.create_import(session, len(first_zip))
        await journey.upload(session, a["upload_url"], first_zip, chunk=1 << 20)
        assert (await journey.get_import(session, a["id"]))["status"] == "queued"
        assert await queue_size(settings) == 1
        # B: all but its last byte uploaded
        b = await journey.create_import(session, len(second_zip))
        cut = len(second_zip) - 1
        await journey.upload(session, b["upload_url"], second_zip[:cut], chunk=1 << 20)

        redis.stop()
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"].startswith("error")
        assert ready.json()["checks"]["database"] == "ok"
        # a route that needs Redis (the worklist is asked through the queue): 503, not 500
        search = await http.get(
            "/api/v1/worklist", params={"name": "ROSSI"}, headers=session.headers
        )
        assert search.status_code == 503, search.text
        assert search.json()["error"]["code"] == "service_unavailable"
        assert search.headers["Retry-After"]
        # what needs only the database goes on
        assert (await journey.get_import(session, a["id"]))["status"] == "queued"
        last = await journey.patch(session, b["upload_url"], cut, second_zip[cut:])
        assert last.status_code == 204, last.text
        assert (await journey.get_import(session, b["id"]))["status"] == "queued"

        redis.start()  # back on the same port, empty

        async def recovered() -> bool:
            return (await http.get("/readyz")).status_code == 200

        await wait_for(recovered, within=10, what="the API to see Redis again", every=0.2)
        assert await queue_size(settings) == 0  # both analyses are lost from the queue
        await run_worker(settings)  # nothing queued: nothing happens
        for imported in (a, b):
            assert (await journey.get_import(session, imported["id"]))["status"] == "queued"

        # the reconciler (a cron of the worker, run at its start) hands them back
        await past_grace(settings.effective_database_url, a["id"], b["id"])
        await run_worker(settings, reconcile=True)
        await run_worker(settings)
        found: dict[str, dict[str, Any]] = {}
        for imported, count in ((a, 3), (b, 2)):
            current = await journey.get_import(session, imported["id"])
            assert current["status"] == "awaiting_confirmation", current["error"]
            assert current["studies"][0]["instance_count"] == count
            found[imported["id"]] = current

        # both confirmed: their processing jobs queued, and Redis restarted empty again
        for current in found.values():
            uid = current["studies"][0]["study_instance_uid"]
            confirmed = await journey.confirm(session, current["id"], [uid], acknowledge=True)
            assert confirmed.status_code == 202, confirmed.text
        assert await queue_size(settings) == 2
        restart_empty(redis)
        await wait_for(recovered, within=10, what="the API to see Redis again", every=0.2)
        assert await queue_size(settings) == 0
        await past_grace(settings.effective_database_url, *found)
        await run_worker(settings, reconcile=True)
        await run_worker(settings)
        for import_id in found:
            done = await journey.get_import(session, import_id)
            assert done["status"] == "completed", done["error"]
    assert orthanc_instances(pacs) == 5
    assert pacs.sent_twice() == 0
