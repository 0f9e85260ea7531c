"""A throw-away Redis on a loopback port, or the one that already answers."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from devstack.process import LOOPBACK, ManagedProcess, ServiceError, find_executable


def redis_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something at host:port answers a RESP ``PING`` like Redis does."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    # "+PONG", or "-NOAUTH ..." when a password is required: either way Redis is there.
    return reply.startswith((b"+PONG", b"-NOAUTH", b"-ERR"))


class RedisProcess(ManagedProcess):
    """A throw-away ``redis-server`` on 127.0.0.1 with no persistence."""

    name = "redis-server"

    def __init__(self, port: int, *, data_dir: Path | None = None) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="importer-redis-")
            data_dir = Path(self._tmp.name)
        super().__init__(data_dir / "redis.log")
        self.data_dir = data_dir
        self.port = port

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._spawn(
            [
                find_executable("redis-server", "/usr/bin/redis-server"),
                "--port",
                str(self.port),
                "--bind",
                LOOPBACK,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.data_dir),
            ]
        )
        self._wait_ready(lambda: redis_answers(LOOPBACK, self.port))

    def stop(self) -> None:
        super().stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def ensure_redis(url: str, *, data_dir: Path | None = None) -> RedisProcess | None:
    """Return ``None`` when a Redis answers at ``url``; else start one on that loopback port.

    The caller owns the returned process and must ``stop()`` it.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"expected a redis:// URL, got {parts.scheme!r}")
    host = parts.hostname or LOOPBACK
    port = parts.port or 6379
    if redis_answers(host, port):
        return None
    if host not in (LOOPBACK, "localhost"):
        raise ServiceError(f"no Redis answers at {host}:{port} and it is not a loopback address")
    process = RedisProcess(port, data_dir=data_dir)
    process.start()
    return process


# --------------------------------------------------------------------------------------------
