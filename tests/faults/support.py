"""Helpers of the fault tests: throw-away servers of our own (PostgreSQL, a tmpfs spool),
settings, a medium of many instances, a real worker subprocess, and direct database reads
(the API may be the thing that is down)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import httpx
from alembic import command
from alembic.config import Config
from arq.connections import RedisSettings, create_pool
from pydantic import SecretStr
from pydicom import dcmread
from pydicom.uid import generate_uid
from sqlalchemy import func, select, text

from devstack import LOOPBACK, OrthancProcess, free_port
from importer.db import make_engine, make_sessionmaker
from importer.imports.models import Import, Instance
from importer.jobs import deserialize, serialize
from importer.models import Base
from importer.settings import Settings
from tests.support.app import RIS_KEY, Journey, Launched, make_zip, run_worker, sample

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def make_settings(
    *, database_url: str, redis_url: str, pacs_url: str, tmp_path: Path, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "queue_name": f"importer:faults:{uuid.uuid4().hex}",
        "spool_dir": tmp_path / "spool",
        "data_dir": tmp_path,
        "pacs_url": pacs_url,
        "calling_ae": "IMPORTTEST",
        "ris_api_keys": SecretStr(RIS_KEY),
        "public_url": "http://importer.test",
        "stage_attempts": 2,
    }
    values.update(overrides)
    return Settings(**values)


async def truncate(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {tables} CASCADE"))
    finally:
        await engine.dispose()


class CountingOrthanc(OrthancProcess):
    """An Orthanc that writes down every instance it receives, a second copy of one it holds
    already too (a Lua ``ReceivedInstanceFilter`` runs before storage): how many times each
    instance was sent, seen from the PACS."""

    @property
    def received_log(self) -> Path:
        return self.data_dir / "received.txt"

    def config(self) -> dict[str, object]:
        script = self.data_dir / "count-received.lua"
        script.write_text(
            "function ReceivedInstanceFilter(dicom, origin, info)\n"
            f"  local f = io.open({json.dumps(str(self.received_log))}, 'a')\n"
            "  f:write(dicom.SOPInstanceUID .. '\\n')\n"
            "  f:close()\n"
            "  return true\n"
            "end\n",
            encoding="utf-8",
        )
        config = super().config()
        config["LuaScripts"] = [str(script)]
        return config

    def received(self) -> Counter[str]:
        if not self.received_log.exists():
            return Counter()
        return Counter(self.received_log.read_text(encoding="utf-8").split())

    def sent_twice(self) -> int:
        """Copies received of instances it had received already."""
        return sum(n - 1 for n in self.received().values())


def orthanc_instances(pacs: OrthancProcess) -> int:
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        return len(http.get("/instances").json())


def medium(count: int, *, name: str = "CT_small.dcm") -> bytes:
    """A ZIP of ``count`` instances of one series (new SOP Instance UIDs, one study)."""
    base = dcmread(sample(name))
    files = []
    for i in range(count):
        base.SOPInstanceUID = generate_uid()
        base.file_meta.MediaStorageSOPInstanceUID = base.SOPInstanceUID
        base.InstanceNumber = i + 1
        out = io.BytesIO()
        base.save_as(out, enforce_file_format=True)
        files.append((f"DICOM/IM{i:05d}", out.getvalue()))
    return make_zip(files)


async def wait_for(
    probe: Callable[[], Awaitable[T | None]],
    *,
    within: float,
    what: str,
    every: float = 0.05,
    log: Path | None = None,
) -> T:
    """Poll ``probe`` until it returns something else than None (or False)."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}\n{tail}")
        await asyncio.sleep(every)


# --- direct database reads ------------------------------------------------------------------


async def db_scalar(database_url: str, statement: Any) -> Any:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            return (await db.execute(statement)).scalar_one_or_none()
    finally:
        await engine.dispose()


async def db_rows(database_url: str, statement: Any) -> list[Any]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            return list((await db.execute(statement)).all())
    finally:
        await engine.dispose()


async def status_of(database_url: str, import_id: str) -> str | None:
    value = await db_scalar(database_url, select(Import.status).where(Import.id == import_id))
    return None if value is None else str(value)


async def sent_count(database_url: str, import_id: str) -> int:
    return int(
        await db_scalar(
            database_url,
            select(func.count())
            .select_from(Instance)
            .where(Instance.import_id == import_id, Instance.sent_state == "sent"),
        )
    )


async def sent_at(database_url: str, import_id: str) -> dict[str, Any]:
    """When each instance recorded as sent was sent (a second send would change it)."""
    rows = await db_rows(
        database_url,
        select(Instance.sop_instance_uid, Instance.sent_at).where(
            Instance.import_id == import_id, Instance.sent_state == "sent"
        ),
    )
    return {uid: at for uid, at in rows}


# --- the queue --------------------------------------------------------------------------------


async def fast_forward(settings: Settings) -> int:
    """Make every deferred job of the queue due now (what waiting for its retry delay does)."""
    redis = await create_pool(
        RedisSettings.from_dsn(settings.redis_url),
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
    try:
        jobs = await redis.zrange(settings.queue_name, 0, -1, withscores=True)
        now_ms = int(time.time() * 1000)
        due = {job: now_ms for job, score in jobs if score > now_ms}
        if due:
            await redis.zadd(settings.queue_name, due)
        return len(due)
    finally:
        await redis.aclose()


# --- a real worker process ------------------------------------------------------------------


def start_worker(settings: Settings, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """``arq worker.main.WorkerSettings`` as deployed, configured by environment."""
    environ = {
        **os.environ,
        "IMPORTER_DATABASE_URL": settings.effective_database_url,
        "IMPORTER_REDIS_URL": settings.redis_url,
        "IMPORTER_QUEUE_NAME": settings.queue_name,
        "IMPORTER_SPOOL_DIR": str(settings.effective_spool_dir),
        "IMPORTER_DATA_DIR": str(settings.data_dir),
        "IMPORTER_PACS_URL": settings.pacs_url,
        "IMPORTER_CALLING_AE": settings.calling_ae,
        "IMPORTER_STAGE_ATTEMPTS": str(settings.stage_attempts),
        **env,
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "arq", "worker.main.WorkerSettings"],
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the process group we started (by its pid), then reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# --- a PostgreSQL cluster of our own ------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    if found:
        return str(found[0])
    which = shutil.which(name)
    if which is None:
        raise FileNotFoundError(f"{name} not found (install Debian's postgresql)")
    return which


class PostgresCluster:
    """A throw-away PostgreSQL cluster on 127.0.0.1 and a free port, trust auth, no fsync.

    PostgreSQL refuses to run as root: when we are root, the cluster belongs to the ``postgres``
    OS user and runs as it. Stopped (and restarted) by the pid of its postmaster.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="importer-faults-pg-"))
        self.data = self.dir / "data"
        self.log_path = self.dir / "postgres.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._user: str | None = None
        if os.geteuid() == 0:
            self._user = "postgres"
            entry = pwd.getpwnam(self._user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._run(
            [
                _pg_bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ],
        )

    def _run(self, argv: list[str]) -> None:
        subprocess.run(
            argv, check=True, capture_output=True, user=self._user, cwd=self.dir, timeout=120
        )

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@{LOOPBACK}:{self.port}/{database}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            raise RuntimeError("already running")
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [
                    _pg_bin("postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-h",
                    LOOPBACK,
                    "-k",
                    str(self.dir),
                    "-c",
                    "fsync=off",
                    "-c",
                    "max_connections=60",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                user=self._user,
                cwd=self.dir,
            )
        deadline = time.monotonic() + 30
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {self.log_path.read_text()[-2000:]}")
            ready = subprocess.run(
                [_pg_bin("pg_isready"), "-q", "-h", LOOPBACK, "-p", str(self.port)],
                check=False,
            )
            if ready.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres not ready: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGINT) -> None:
        """SIGINT: fast shutdown (clients disconnected); SIGQUIT: immediate (a crash)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, sig)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the postmaster without waiting (SIGTERM: smart shutdown, which
        refuses new connections and waits for the open sessions to end)."""
        if self._proc is not None and self._proc.poll() is None:
            os.kill(self._proc.pid, sig)

    def wait_stopped(self, timeout: float = 30) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.wait(timeout=timeout)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def migrated_database(self, name: str) -> str:
        """A new database with the real migrations; its SQLAlchemy URL."""
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = self.url(name)
        config = Config(str(ROOT / "alembic.ini"))
        config.attributes["database_url"] = url
        config.attributes["configure_logger"] = False
        await asyncio.to_thread(command.upgrade, config, "head")
        return url


# --- a small filesystem for the spool -------------------------------------------------------


@contextlib.contextmanager
def tmpfs(size_bytes: int) -> Iterator[Path]:
    """A tmpfs of ``size_bytes`` mounted under a temporary folder (root only), unmounted after."""
    base = Path(tempfile.mkdtemp(prefix="importer-faults-spool-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes},mode=0755", "tmpfs", str(base)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        base.rmdir()
        raise PermissionError(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield base
    finally:
        subprocess.run(["umount", str(base)], check=False, capture_output=True)
        with contextlib.suppress(OSError):
            base.rmdir()


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def fill(path: Path, leave: int) -> Path:
    """Write a filler file under ``path`` so that about ``leave`` bytes stay free."""
    filler = path / "filler.bin"
    block = b"\0" * 65536
    with filler.open("wb") as out:
        while free_bytes(path) > leave + len(block):
            out.write(block)
            out.flush()
        rest = free_bytes(path) - leave
        if rest > 0:
            out.write(b"\0" * rest)
    return filler


async def analysed(journey: Journey, session: Launched, archive: bytes) -> dict[str, Any]:
    """Create, upload (1 MiB PATCHes) and analyse with a burst worker: the import waiting."""
    created = await journey.create_import(session, len(archive))
    await journey.upload(session, created["upload_url"], archive, chunk=1 << 20)
    await run_worker(journey.settings)
    return await journey.get_import(session, created["id"])
