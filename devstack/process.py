"""Child processes we start and stop by pid, free loopback ports, the dcmtk tools."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Self

LOOPBACK = "127.0.0.1"


START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def find_executable(name: str, *preferred: str) -> str:
    """Locate a program, trying the ``preferred`` absolute paths first.

    dcmtk tools are looked up in /usr/bin first: pynetdicom installs apps of the same names
    (``echoscu``, ``findscu``, ``storescu``) into the virtualenv, with other options.
    """
    for candidate in preferred:
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f"{name} not found (install the Debian package)")


def dcmtk(name: str) -> str:
    return find_executable(name, f"/usr/bin/{name}", f"/usr/local/bin/{name}")


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class ServiceError(RuntimeError):
    """A local service could not be started."""


class ManagedProcess:
    """A child process started by us, logged to a file, stopped by its pid."""

    name = "service"

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _spawn(self, argv: list[str], *, env: dict[str, str] | None = None) -> None:
        if self._proc is not None:
            raise ServiceError(f"{self.name} already started (pid {self._proc.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=self.log_path.parent,
        )

    def _wait_ready(self, probe: Callable[[], bool], timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = self._proc.returncode if self._proc is not None else None
                self._close_log()
                self._proc = None
                raise ServiceError(
                    f"{self.name} exited with code {code} while starting; log tail:\n"
                    f"{tail(self.log_path)}"
                )
            if probe():
                return
            time.sleep(0.1)
        self.stop()
        raise ServiceError(
            f"{self.name} did not answer within {timeout:.0f} s; log tail:\n{tail(self.log_path)}"
        )

    def stop(self) -> None:
        """SIGTERM the process we started, then SIGKILL if it does not exit in time."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=STOP_TIMEOUT_S)
        self._close_log()

    def kill(self) -> None:
        """SIGKILL the process we started (a crash, for tests), and reap it."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT_S)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def start(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def dicom_echo(aet: str, port: int, timeout: float = 2.0) -> bool:
    """C-ECHO with dcmtk ``echoscu``: True when an association is accepted and answered."""
    try:
        result = subprocess.run(
            [
                dcmtk("echoscu"),
                "-q",
                "-aet",
                "SERVICESCHECK",
                "-aec",
                aet,
                "-to",
                str(int(timeout)),
                "-ta",
                str(int(timeout)),
                "-td",
                str(int(timeout)),
                LOOPBACK,
                str(port),
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout * 3,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0
