"""The PACS (a real Orthanc) killed in the middle of a store of many instances.

Down for a while: the store stage loses an attempt (``attempts_left`` goes down), is retried
once Orthanc is back on the same ports, and the import completes. Down for good: the import
fails clearly (``pacs_unreachable``) with its files kept; a retry once the PACS is back
completes it. Either way the instances recorded as sent before the outage are not sent again,
and the PACS ends with every instance once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from tests.faults.support import (
    CountingOrthanc,
    analysed,
    make_settings,
    medium,
    orthanc_instances,
    sent_at,
    sent_count,
    truncate,
    wait_for,
)
from tests.support.app import Journey, Launched, run_worker, running_api

COUNT = 400
KILL_AFTER = 40  # instances recorded as sent when Orthanc is killed


def store_stage(imported: dict[str, Any]) -> dict[str, Any]:
    [study] = imported["studies"]
    stage: dict[str, Any] = next(s for s in study["stages"] if s["name"] == "store")
    return stage


async def confirmed_import(journey: Journey) -> tuple[Launched, str]:
    session = await journey.start()
    imported = await analysed(journey, session, medium(COUNT))
    assert imported["status"] == "awaiting_confirmation", imported["error"]
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
    return session, str(imported["id"])


async def kill_mid_store(database_url: str, import_id: str, pacs: CountingOrthanc) -> int:
    async def far_enough() -> int | None:
        done = await sent_count(database_url, import_id)
        return done if done >= KILL_AFTER else None

    await wait_for(far_enough, within=60, what="the store to begin", every=0.01)
    await asyncio.to_thread(pacs.kill)  # SIGKILL: associations drop, the port refuses
    done = await sent_count(database_url, import_id)
    assert done < COUNT, "the store ended before the PACS went down: raise COUNT"
    return done


async def test_pacs_down_for_a_while_costs_an_attempt_then_completes(
    database_url: str, redis_url: str, own_orthanc: CountingOrthanc, tmp_path: Path
) -> None:
    await truncate(database_url)
    settings = make_settings(
        database_url=database_url,
        redis_url=redis_url,
        pacs_url=own_orthanc.dimse_url,
        tmp_path=tmp_path,
        stage_attempts=3,
    )
    async with running_api(settings) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        journey = Journey(http, settings)
        session, import_id = await confirmed_import(journey)

        worker = asyncio.create_task(run_worker(settings))
        await kill_mid_store(database_url, import_id, own_orthanc)
        down_at = time.monotonic()

        async def attempt_lost() -> dict[str, Any] | None:
            current = await journey.get_import(session, import_id)
            assert current["status"] == "processing", current["error"]
            stage = store_stage(current)
            return current if stage["attempts_left"] < settings.stage_attempts else None

        during = await wait_for(attempt_lost, within=60, what="the store attempt to fail")
        stage = store_stage(during)
        assert (stage["status"], stage["attempts_left"]) == ("pending", 2)
        assert "Retrying" in stage["message"]
        before = await sent_at(database_url, import_id)  # persisted before the stage failed
        assert len(before) >= KILL_AFTER

        # back on the same ports a few seconds later, before the retry (5 s after the failure)
        await asyncio.sleep(max(0.0, 3.0 - (time.monotonic() - down_at)))
        await asyncio.to_thread(own_orthanc.start)
        await asyncio.wait_for(worker, timeout=120)

        done = await journey.get_import(session, import_id)
    assert done["status"] == "completed", done["error"]
    stage = store_stage(done)
    assert (stage["status"], stage["attempts_left"]) == ("done", 2)
    after = await sent_at(database_url, import_id)
    assert len(after) == COUNT
    # what was recorded as sent before the outage was not sent again
    assert {uid: after[uid] for uid in before} == before
    assert orthanc_instances(own_orthanc) == COUNT
    # sent twice: at most the instances in flight on each association when the PACS died
    assert own_orthanc.sent_twice() <= settings.store_parallel


async def test_pacs_down_for_good_fails_clearly_and_a_retry_completes(
    database_url: str, redis_url: str, own_orthanc: CountingOrthanc, tmp_path: Path
) -> None:
    await truncate(database_url)
    settings = make_settings(
        database_url=database_url,
        redis_url=redis_url,
        pacs_url=own_orthanc.dimse_url,
        tmp_path=tmp_path,
        stage_attempts=2,
    )
    async with running_api(settings) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        journey = Journey(http, settings)
        session, import_id = await confirmed_import(journey)

        worker = asyncio.create_task(run_worker(settings))
        await kill_mid_store(database_url, import_id, own_orthanc)
        await asyncio.wait_for(worker, timeout=120)  # both attempts spent, then idle

        failed = await journey.get_import(session, import_id)
        assert failed["status"] == "failed"
        assert failed["badge"] == "danger"
        assert failed["error"]["code"] == "pacs_unreachable"
        assert "store" in failed["error"]["message"]
        assert "not sent" in failed["error"]["message"]
        stage = store_stage(failed)
        assert (stage["status"], stage["attempts_left"]) == ("failed", 0)
        # the files are kept for the retry: the upload and every unpacked instance
        import_dir = settings.effective_spool_dir / "imports" / import_id
        assert (import_dir / "upload.zip").is_file()
        assert sum(1 for _ in (import_dir / "media" / "f").iterdir()) == COUNT
        before = await sent_at(database_url, import_id)
        assert KILL_AFTER <= len(before) < COUNT

        # the PACS is back (same ports, same storage): a retry sends only what is missing
        await asyncio.to_thread(own_orthanc.start)
        retried = await http.post(f"/api/v1/imports/{import_id}/retry", headers=session.headers)
        assert retried.status_code == 202, retried.text
        await run_worker(settings)
        done = await journey.get_import(session, import_id)
    assert done["status"] == "completed", done["error"]
    assert store_stage(done)["status"] == "done"
    after = await sent_at(database_url, import_id)
    assert len(after) == COUNT
    assert {uid: after[uid] for uid in before} == before
    assert orthanc_instances(own_orthanc) == COUNT
    # sent twice: at most the instances in flight on each association when the PACS died
    assert own_orthanc.sent_twice() <= settings.store_parallel
