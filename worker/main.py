"""The arq worker: ``arq worker.main.WorkerSettings``. Jobs carry ids, reload their state, and
may run twice without harm."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from typing import Any, ParamSpec, TypeVar

import httpx
from arq import Retry, cron
from arq.connections import RedisSettings
from arq.worker import func
from prometheus_client import start_http_server

from importer import metrics
from importer.db import make_engine, make_sessionmaker, transaction
from importer.imports import repository, ris_outbox
from importer.jobs import (
    ANALYSE,
    INSTANCE_IMAGE,
    PROCESS,
    READ_AHEAD,
    UNDO,
    WORKLIST_ORDERS,
    WORKLIST_SEARCH,
    deserialize,
    serialize,
)
from importer.logs import configure_logging, describe_exception
from importer.media import ArchiveLimits
from importer.media.scan import scan_chunk
from importer.media.thumbnail import render_instance_view
from importer.pacs import PacsClient, make_pacs_client
from importer.pipeline.analyse import analyse_import, read_upload_ahead
from importer.pipeline.context import PipelineContext, RetryLater, run_leased
from importer.pipeline.failures import fail_import
from importer.pipeline.process import process_import
from importer.pipeline.reconcile import reconcile
from importer.pipeline.undo import undo_failed, undo_import
from importer.settings import Settings, get_settings
from importer.spool import Spool
from importer.worklist import handler as worklist
from worker.enqueue import enqueue
from worker.rpc import answer

log = logging.getLogger("worker")

MAX_TRIES = 10


def build_context(settings: Settings, redis: Any) -> PipelineContext:
    engine = make_engine(settings.effective_database_url)
    spool = Spool(settings.effective_spool_dir)
    spool.ensure()

    def client(url: str) -> Callable[[], PacsClient]:
        def make() -> PacsClient:
            return make_pacs_client(
                url,
                calling_ae=settings.calling_ae,
                timeout=settings.dimse_timeout_s,
                max_pdu=settings.store_max_pdu,
                parallel=settings.store_parallel,
                commitment_port=settings.commitment_port,
                commitment_host=settings.commitment_host,
                batch_bytes=settings.dicomweb_batch_bytes,
            )

        return make

    return PipelineContext(
        settings=settings,
        sessionmaker=make_sessionmaker(engine),
        redis=redis,
        spool=spool,
        pacs=client(settings.pacs_url),
        http=httpx.AsyncClient(),
        temporary_pacs=client(settings.temporary_pacs_url) if settings.temporary_pacs_url else None,
        scan_pool=scan_pool(settings),
    )


_P = ParamSpec("_P")
_T = TypeVar("_T")


class ScanPool(Executor):
    """The processes an analysis reads headers in (``IMPORTER_SCAN_PROCESSES``), started with
    the worker: forked from a server that has the reader loaded (never from this process, whose
    threads a fork would not carry), with this worker's logging (never a value in a log line).
    One that died (killed, out of memory) breaks the pool: it is started again for the next
    task, so that one bad file does not leave the worker reading every medium alone."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["importer.media.scan", "importer.logs"])
        pool = ProcessPoolExecutor(
            self._settings.scan_processes,
            mp_context=context,
            initializer=configure_logging,
            initargs=(self._settings.log_level, self._settings.log_format),
        )
        for _ in range(self._settings.scan_processes):  # each starts a process now
            pool.submit(scan_chunk, [], ArchiveLimits())
        return pool

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        with self._lock:
            try:
                return self._pool.submit(fn, *args, **kwargs)
            except BrokenExecutor:
                log.warning("a process reading headers stopped; starting them again")
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._start()
                return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._pool.shutdown(wait, cancel_futures=cancel_futures)


def scan_pool(settings: Settings) -> ScanPool | None:
    """The worker's :class:`ScanPool`; None when ``IMPORTER_SCAN_PROCESSES`` is 0 (headers read
    in the analysis's own thread)."""
    return ScanPool(settings) if settings.scan_processes else None


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or get_settings()
    ctx["settings"] = settings
    configure_logging(settings.log_level, settings.log_format)
    if settings.worker_metrics_port and not ctx.get("metrics_started"):
        start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host)
        ctx["metrics_started"] = True
    ctx["pipeline"] = build_context(settings, ctx["redis"])
    ctx["callbacks"] = ris_outbox.DeliveryGuard()
    log.info(
        "worker started",
        extra={"pacs": settings.pacs_url, "calling_ae": settings.calling_ae},
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    pipeline: PipelineContext | None = ctx.get("pipeline")
    if pipeline is not None:
        if pipeline.scan_pool is not None:
            await asyncio.to_thread(pipeline.scan_pool.shutdown, True, cancel_futures=True)
        await pipeline.http.aclose()
        engine = pipeline.sessionmaker.kw.get("bind")
        if engine is not None:
            await engine.dispose()


async def _run(
    ctx: dict[str, Any],
    import_id: str,
    job: Callable[[PipelineContext], Awaitable[None]],
    action: str,
) -> None:
    """Run one pipeline job holding its import (one job per import at a time, see
    :func:`run_leased`): planned retries as asked (also while another job holds the import);
    an unexpected error is retried with backoff, and fails the import clearly (files kept)
    once the tries are spent."""
    try:
        await run_leased(ctx["pipeline"], import_id, job)
    except RetryLater as exc:
        metrics.JOBS.labels(action, "retry").inc()
        raise Retry(defer=exc.defer_s) from exc
    except Exception as exc:
        metrics.JOBS.labels(action, "error").inc()
        tries: int = ctx["job_try"]
        # its type and frames, never its message (importer.logs): it may quote a patient
        log.exception(
            "job error: %s", describe_exception(exc), extra={"import_id": import_id, "try": tries}
        )
        if tries < MAX_TRIES:
            raise Retry(defer=min(5 * tries, 60)) from exc
        await fail_import(
            ctx["pipeline"],
            import_id,
            code="internal_error",
            message="An unexpected error stopped this import; its files are kept. "
            "Give the support id to the help desk.",
            action=action,
        )
    else:
        metrics.JOBS.labels(action, "done").inc()


async def analyse_job(ctx: dict[str, Any], import_id: str) -> None:
    final = ctx["job_try"] >= MAX_TRIES
    await _run(
        ctx,
        import_id,
        lambda pipeline: analyse_import(pipeline, import_id, final_attempt=final),
        "import.analysed",
    )


READ_AHEAD_JOBS = 2
"""Read-aheads one worker runs at once, of its ``max_jobs``: the analyses, the processing and
the jobs the api waits on (worklist queries, the viewer's images) keep the other slots."""


async def read_ahead_job(ctx: dict[str, Any], import_id: str) -> int:
    """Read what has arrived of a medium still uploading. Never fails an import: whatever goes
    wrong here, the analysis reads the medium whole."""
    slots: asyncio.Semaphore = ctx.setdefault("read_ahead", asyncio.Semaphore(READ_AHEAD_JOBS))
    if slots.locked():  # the others' jobs come first: the analysis reads what this one leaves
        return 0
    try:
        async with slots:
            return await read_upload_ahead(ctx["pipeline"], import_id)
    except Exception as exc:
        log.warning(
            "the medium's read-ahead failed: %s",
            describe_exception(exc),
            extra={"import_id": import_id},
        )
        return 0


async def process_job(ctx: dict[str, Any], import_id: str) -> None:
    await _run(
        ctx, import_id, lambda pipeline: process_import(pipeline, import_id), "import.failed"
    )


async def undo_job(ctx: dict[str, Any], import_id: str) -> None:
    """Take an import back from the PACS (:mod:`importer.pipeline.undo`). An error of its own
    is the undo's (recorded as failed, the referent asks again), never the import's: it stays
    completed."""
    try:
        await run_leased(ctx["pipeline"], import_id, lambda p: undo_import(p, import_id))
    except RetryLater as exc:
        raise Retry(defer=exc.defer_s) from exc
    except Exception as exc:
        metrics.JOBS.labels("import.undone", "error").inc()
        log.exception("undo error: %s", describe_exception(exc), extra={"import_id": import_id})
        await undo_failed(ctx["pipeline"], import_id, code="internal_error")
    else:
        metrics.JOBS.labels("import.undone", "done").inc()


async def worklist_search_job(
    ctx: dict[str, Any], query: dict[str, str], expected: dict[str, str | None] | None = None
) -> dict[str, Any]:
    return await answer(worklist.search, ctx["settings"], query, expected=expected)


async def worklist_orders_job(ctx: dict[str, Any], accessions: list[str]) -> dict[str, Any]:
    return await answer(worklist.orders, ctx["settings"], accessions)


async def instance_image_job(
    ctx: dict[str, Any],
    import_id: str,
    study_id: str,
    series_id: str,
    series_uid: str,
    position: int,
) -> dict[str, Any]:
    """The viewer's image of a series' ``position``-th instance, rendered into the spool (the
    api checked who may see the import)."""
    pipeline: PipelineContext = ctx["pipeline"]
    async with transaction(pipeline.sessionmaker) as db:
        instances = await repository.instances_of_study(db, study_id)
    paths = [i.path for i in instances if i.series_id == series_id and i.import_id == import_id]
    import_dir = pipeline.spool.import_dir(import_id)
    return await answer(render_instance_view, import_dir, series_uid, paths, position)


async def reconcile_job(ctx: dict[str, Any]) -> dict[str, int]:
    pipeline: PipelineContext = ctx["pipeline"]
    out = await reconcile(pipeline)
    queue = ctx["settings"].queue_name
    requeued = 0
    for function, ids in ((ANALYSE, out.analyse), (PROCESS, out.process), (UNDO, out.undo)):
        for import_id in ids:
            requeued += await enqueue(ctx["redis"], function, import_id, queue_name=queue)
    if requeued or out.expired:
        log.info("reconciled", extra={"requeued": requeued, "expired": len(out.expired)})
    return {"requeued": requeued, "expired": len(out.expired), "sealed": out.sealed}


async def callbacks_job(ctx: dict[str, Any]) -> dict[str, int]:
    """Post the RIS callbacks that are due, each import's in order (:mod:`importer.ris_outbox`)."""
    pipeline: PipelineContext = ctx["pipeline"]
    guard: ris_outbox.DeliveryGuard = ctx["callbacks"]
    out = await guard.run(pipeline.sessionmaker, pipeline.http, pipeline.settings)
    return {"sent": out.sent, "retried": out.retried, "closed": out.closed}


POLL_DELAY_S = 0.1


def worker_options(settings: Settings) -> dict[str, Any]:
    """The arq Worker's options for these settings (used by the CLI class and by tests)."""
    return {
        "functions": [
            func(analyse_job, name=ANALYSE, max_tries=MAX_TRIES),
            func(process_job, name=PROCESS, max_tries=MAX_TRIES),
            func(undo_job, name=UNDO, max_tries=MAX_TRIES),
            func(read_ahead_job, name=READ_AHEAD, max_tries=1),
            func(worklist_search_job, name=WORKLIST_SEARCH, max_tries=1, keep_result=60),
            func(worklist_orders_job, name=WORKLIST_ORDERS, max_tries=1, keep_result=60),
            func(instance_image_job, name=INSTANCE_IMAGE, max_tries=1, keep_result=60),
        ],
        "cron_jobs": [
            cron(reconcile_job, second={0, 30}, run_at_startup=True, unique=True),
            cron(callbacks_job, second=ris_outbox.DELIVERY_SECONDS, run_at_startup=True),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "keep_result": 0,
        "job_timeout": settings.job_timeout_s,
        # how often an idle worker looks for a new job: what an upload or a confirmation
        # waits before its job starts (arq's default is 0.5 s); a cheap Redis read each time
        "poll_delay": POLL_DELAY_S,
        "max_jobs": 4,
        # `arq --check` reads a key every worker refreshes this often
        "health_check_interval": 30,
        "queue_name": settings.queue_name,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        # JSON, never pickle (the api's pool uses the same pair)
        "job_serializer": serialize,
        "job_deserializer": deserialize,
        "ctx": {"settings": settings},
    }


def __getattr__(name: str) -> Any:
    """``arq worker.main.WorkerSettings`` reads the environment when the worker starts, not when
    this module is imported."""
    if name == "WorkerSettings":
        return worker_options(get_settings())
    raise AttributeError(name)
