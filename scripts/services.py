"""Start and stop the real local services the importer talks to: Orthanc (demo PACS), dcmtk
``wlmscpfs`` (demo Modality Worklist SCP) and Redis.

Used by the integration-test harness and by ``make run``. Every service listens on a free
port, is addressed on 127.0.0.1, and is stopped by pid by whoever started it (``stop()`` or the
context manager). Plain stdlib + httpx: no pytest here.

Run ``python -m scripts.services [DATA_DIR]`` to start a demo Orthanc and worklist and print
their ``dimse://`` URLs until interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self
from urllib.parse import urlsplit

import httpx

LOOPBACK = "127.0.0.1"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
"""Debian's ``orthanc-dicomweb`` plugin."""
UNCOMPRESSED_TRANSFER_SYNTAXES = (
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
)
"""Implicit and Explicit VR Little Endian: what a PACS that refuses compressed (and big
endian, and deflated) data accepts."""
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _executable(name: str, *preferred: str) -> str:
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


def _dcmtk(name: str) -> str:
    return _executable(name, f"/usr/bin/{name}", f"/usr/local/bin/{name}")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class ServiceError(RuntimeError):
    """A local service could not be started."""


class _ManagedProcess:
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
                    f"{_tail(self.log_path)}"
                )
            if probe():
                return
            time.sleep(0.1)
        self.stop()
        raise ServiceError(
            f"{self.name} did not answer within {timeout:.0f} s; log tail:\n{_tail(self.log_path)}"
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


def _dicom_echo(aet: str, port: int, timeout: float = 2.0) -> bool:
    """C-ECHO with dcmtk ``echoscu``: True when an association is accepted and answered."""
    try:
        result = subprocess.run(
            [
                _dcmtk("echoscu"),
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


# --------------------------------------------------------------------------------------------
# Orthanc


class OrthancProcess(_ManagedProcess):
    """A throw-away Orthanc (the demo/test PACS) with its storage under ``data_dir``.

    DICOM and HTTP listen on free ports; HTTP only accepts loopback clients
    (``RemoteAccessAllowed`` false). Orthanc 1.10 has no bind-address option, so its sockets
    listen on all interfaces: use it on a trusted host only.
    """

    name = "Orthanc"

    def __init__(
        self,
        data_dir: Path,
        *,
        aet: str = "ORTHANC",
        dicom_port: int | None = None,
        http_port: int | None = None,
        name: str = "PACS Media Import demo PACS",
        executable: str | None = None,
        dicomweb: bool = False,
        accepted_transfer_syntaxes: Sequence[str] | None = None,
        modalities: Mapping[str, tuple[str, int]] | None = None,
        max_pdu: int | None = None,
    ) -> None:
        """``dicomweb`` loads Debian's DICOMweb plugin (``/dicom-web/``, see
        :attr:`dicomweb_url`); ``accepted_transfer_syntaxes`` restricts what its C-STORE SCP
        accepts (UIDs, ``*``/``?`` wildcards; default every known syntax), e.g.
        :data:`UNCOMPRESSED_TRANSFER_SYNTAXES` for a PACS that refuses compressed data;
        ``modalities`` are the remote AEs it knows (``{AE: (host, port)}``: needed for storage
        commitment, whose report Orthanc sends on an association of its own); ``max_pdu`` its
        maximum PDU length (Orthanc's default is 16 kB)."""
        super().__init__(data_dir / "orthanc.log")
        self.data_dir = data_dir
        self._aet = aet
        self._dicom_port = dicom_port or free_port()
        self._http_port = http_port or free_port()
        self._title = name
        self._executable = executable or _executable(
            "Orthanc", "/usr/sbin/Orthanc", "/usr/local/bin/Orthanc"
        )
        self._dicomweb = dicomweb
        self._accepted_transfer_syntaxes = (
            list(accepted_transfer_syntaxes) if accepted_transfer_syntaxes is not None else None
        )
        self._modalities = dict(modalities or {})
        for modality_aet in self._modalities:
            if not modality_aet or len(modality_aet) > 16:
                raise ValueError("modality AE titles must be 1 to 16 characters")
        self._max_pdu = max_pdu
        if dicomweb and not Path(DICOMWEB_PLUGIN).is_file():
            raise FileNotFoundError(
                f"{DICOMWEB_PLUGIN} not found (install the Debian package orthanc-dicomweb)"
            )

    @property
    def aet(self) -> str:
        return self._aet

    @property
    def dicom_port(self) -> int:
        return self._dicom_port

    @property
    def http_port(self) -> int:
        return self._http_port

    @property
    def http_url(self) -> str:
        return f"http://{LOOPBACK}:{self._http_port}"

    @property
    def dimse_url(self) -> str:
        return f"dimse://{self._aet}@{LOOPBACK}:{self._dicom_port}"

    @property
    def dicomweb_url(self) -> str:
        """The DICOMweb root (QIDO-RS, WADO-RS, STOW-RS); only with ``dicomweb=True``."""
        if not self._dicomweb:
            raise ServiceError("this Orthanc was started without its DICOMweb plugin")
        return f"{self.http_url}/dicom-web"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "orthanc.json"

    def config(self) -> dict[str, object]:
        """The Orthanc configuration written by :meth:`start` (option names of Orthanc 1.10)."""
        storage = str((self.data_dir / "storage").resolve())
        config: dict[str, object] = {
            "Name": self._title,
            "StorageDirectory": storage,
            "IndexDirectory": storage,
            "StorageCompression": False,
            "MaximumStorageSize": 0,
            "MaximumPatientCount": 0,
            "MaximumStorageCacheSize": 16,
            "Plugins": [],
            "LuaScripts": [],
            "ConcurrentJobs": 2,
            "JobsHistorySize": 10,
            "SaveJobs": False,
            "HttpServerEnabled": True,
            "HttpPort": self._http_port,
            "HttpThreadsCount": 10,
            "HttpTimeout": 10,
            "HttpDescribeErrors": True,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "WebDavEnabled": False,
            "OrthancExplorerEnabled": False,
            "MetricsEnabled": False,
            "DicomServerEnabled": True,
            "DicomAet": self._aet,
            "DicomPort": self._dicom_port,
            "DicomCheckCalledAet": False,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True,
            "DicomCheckModalityHost": False,
            "DicomModalities": {},
            "DicomThreadsCount": 4,
            "DicomScpTimeout": 30,
            "OrthancPeers": {},
            "OverwriteInstances": False,
            "StableAge": 2,
            "SyncStorageArea": False,
            "MallocArenaMax": 2,
            "TcpNoDelay": True,
        }
        if self._modalities:
            config["DicomModalities"] = {
                modality_aet: [modality_aet, host, port]
                for modality_aet, (host, port) in self._modalities.items()
            }
        if self._accepted_transfer_syntaxes is not None:
            config["AcceptedTransferSyntaxes"] = self._accepted_transfer_syntaxes
        if self._max_pdu is not None:
            config["MaximumPduLength"] = self._max_pdu
        if self._dicomweb:
            config["Plugins"] = [DICOMWEB_PLUGIN]
            config["DicomWeb"] = {"Enable": True, "Root": "/dicom-web/"}
        return config

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "storage").mkdir(exist_ok=True)
        self.config_path.write_text(json.dumps(self.config(), indent=2), encoding="utf-8")
        # dcmtk, inside Orthanc, reads TCP_NODELAY from the environment (as a tuned PACS is).
        self._spawn([self._executable, str(self.config_path)], env={"TCP_NODELAY": "1"})
        self._wait_ready(self._http_ready)

    def _http_ready(self) -> bool:
        try:
            response = httpx.get(f"{self.http_url}/system", timeout=1.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200


# --------------------------------------------------------------------------------------------
# Modality Worklist (dcmtk wlmscpfs)


def _dump_value(value: str) -> str:
    if any(ch in value for ch in "[]\r\n"):
        raise ValueError("worklist values may not contain '[', ']' or line breaks")
    return f"[{value}]"


class WorklistProcess(_ManagedProcess):
    """dcmtk ``wlmscpfs`` serving the ``.wl`` files under ``data_dir/AET/``.

    ``wlmscpfs`` (dcmtk 3.6.7) has no bind-address option: it listens on all interfaces;
    clients address it on 127.0.0.1. It runs in single-process mode so that ``stop()`` by pid
    leaves no forked children behind.
    """

    name = "wlmscpfs"

    def __init__(self, data_dir: Path, *, aet: str = "WORKLIST", port: int | None = None) -> None:
        super().__init__(data_dir / "wlmscpfs.log")
        if not aet or len(aet) > 16 or not aet.replace("_", "").isalnum():
            raise ValueError("the worklist AE title must be 1-16 letters, digits or '_'")
        self.data_dir = data_dir
        self._aet = aet
        self._port = port or free_port()
        self._count = 0
        self._executable = _dcmtk("wlmscpfs")

    @property
    def aet(self) -> str:
        return self._aet

    @property
    def port(self) -> int:
        return self._port

    @property
    def dimse_url(self) -> str:
        return f"dimse://{self._aet}@{LOOPBACK}:{self._port}"

    @property
    def aet_dir(self) -> Path:
        return self.data_dir / self._aet

    def _prepare_dir(self) -> None:
        self.aet_dir.mkdir(parents=True, exist_ok=True)
        (self.aet_dir / "lockfile").touch()

    def add_item(
        self,
        *,
        patient_name: str,
        patient_id: str,
        accession_number: str,
        patient_birth_date: str = "",
        patient_sex: str = "",
        issuer_of_patient_id: str = "",
        requested_procedure_id: str = "",
        requested_procedure_description: str = "",
        study_instance_uid: str = "",
        modality: str = "OT",
        scheduled_station_ae_title: str = "MEDIAIMPORT",
        scheduled_start_date: str = "",
        scheduled_start_time: str = "",
        scheduled_procedure_step_id: str = "",
        scheduled_procedure_step_description: str = "",
        referring_physician_name: str = "",
    ) -> Path:
        """Write one worklist item (UTF-8, ``ISO_IR 192``) and return its ``.wl`` path.

        Items may be added while the SCP runs: ``wlmscpfs`` reads the folder on every query.
        """
        self._prepare_dir()
        self._count += 1
        date = scheduled_start_date or time.strftime("%Y%m%d")
        step_id = scheduled_procedure_step_id or requested_procedure_id or accession_number
        # wlmscpfs ignores items whose key attributes are empty: give them neutral values.
        description = requested_procedure_description or "EXTERNAL STUDY IMPORT"
        lines = [
            ("(0008,0005) CS", "ISO_IR 192"),
            ("(0008,0050) SH", accession_number),
            ("(0008,0090) PN", referring_physician_name),
            ("(0010,0010) PN", patient_name),
            ("(0010,0020) LO", patient_id),
            ("(0010,0021) LO", issuer_of_patient_id),
            ("(0010,0030) DA", patient_birth_date),
            ("(0010,0040) CS", patient_sex),
            ("(0020,000d) UI", study_instance_uid or _new_uid()),
            ("(0032,1060) LO", description),
            ("(0040,0100) SQ", None),
            ("(fffe,e000) -", None),
            ("(0008,0060) CS", modality),
            ("(0040,0001) AE", scheduled_station_ae_title),
            ("(0040,0002) DA", date),
            ("(0040,0003) TM", scheduled_start_time or "000000"),
            ("(0040,0006) PN", ""),
            ("(0040,0007) LO", scheduled_procedure_step_description or description),
            ("(0040,0009) SH", step_id),
            ("(fffe,e00d) -", None),
            ("(fffe,e0dd) -", None),
            ("(0040,1001) SH", requested_procedure_id or accession_number),
        ]
        dump = "\n".join(
            tag if value is None else f"{tag} {_dump_value(value)}" for tag, value in lines
        )
        stem = f"item{self._count:05d}"
        dump_path = self.aet_dir / f"{stem}.dump"
        wl_path = self.aet_dir / f"{stem}.wl"
        dump_path.write_text(dump + "\n", encoding="utf-8")
        result = subprocess.run(
            [_dcmtk("dump2dcm"), "-q", "+te", str(dump_path), str(wl_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        dump_path.unlink()
        if result.returncode != 0:
            raise ServiceError(f"dump2dcm failed: {result.stderr.strip() or result.stdout}")
        return wl_path

    def start(self) -> None:
        self._prepare_dir()
        self._spawn(
            [
                self._executable,
                "--single-process",
                "--keep-char-set",
                "--disable-host-lookup",
                "--data-files-path",
                str(self.data_dir.resolve()),
                str(self._port),
            ]
        )
        self._wait_ready(lambda: _dicom_echo(self._aet, self._port))


def _new_uid() -> str:
    # 2.25 + a random 128-bit integer (DICOM PS3.5 B.2), without importing pydicom here.
    return f"2.25.{uuid.uuid4().int}"


# --------------------------------------------------------------------------------------------
# Redis


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


class RedisProcess(_ManagedProcess):
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
                _executable("redis-server", "/usr/bin/redis-server"),
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


def main(argv: list[str] | None = None) -> int:
    """Start a demo Orthanc and worklist under DATA_DIR (default ``var/services``) until ^C."""
    args = sys.argv[1:] if argv is None else argv
    data_dir = Path(args[0] if args else "var/services").resolve()
    with (
        OrthancProcess(data_dir / "orthanc") as orthanc,
        WorklistProcess(data_dir / "worklist") as worklist,
    ):
        print(f"IMPORTER_PACS_URL={orthanc.dimse_url}")
        print(f"ORTHANC_HTTP_URL={orthanc.http_url}")
        print(f"IMPORTER_WORKLIST_URL={worklist.dimse_url}")
        sys.stdout.flush()
        # Block only now, so that the children did not inherit a blocked SIGTERM.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
