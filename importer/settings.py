"""Settings: every knob is an ``IMPORTER_*`` environment variable, validated at start-up.

Build one with :func:`get_settings` (cached) or ``Settings()``; never at import time.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from importer.security import parse_ris_key

DEFAULT_DATA_DIR = Path("var")


@dataclass(frozen=True, slots=True)
class DicomNode:
    """A DICOM peer parsed from ``dimse://AE_TITLE@host:port``."""

    ae_title: str
    host: str
    port: int


def parse_dimse_url(url: str) -> DicomNode:
    """Parse ``dimse://AE@host:port``; raise ``ValueError`` with a clear message otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "dimse":
        raise ValueError(f"expected dimse://AE_TITLE@host:port, got scheme {parts.scheme!r}")
    ae = parts.username or ""
    if not ae or len(ae) > 16:
        raise ValueError("the AE title before '@' must be 1 to 16 characters")
    if not parts.hostname or parts.port is None:
        raise ValueError("a dimse:// URL needs host and port")
    return DicomNode(ae_title=ae, host=parts.hostname, port=parts.port)


CALLBACK_EVENTS = (
    "import.started",
    "import.progress",
    "study.stored",
    "import.finished",
    "import.undone",
)
"""The RIS callback events (:mod:`importer.imports.ris_outbox`), in an import's order."""

REJECT_SCHEMES = ("orthanc+http://", "orthanc+https://", "dicomweb+http://", "dicomweb+https://")
"""The ways IMPORTER_REJECT_URL may name (besides ``kos``)."""


class Settings(BaseSettings):
    """Every setting of the service. Documented one by one in docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="IMPORTER_", extra="ignore", frozen=True, hide_input_in_errors=True
    )

    # storage
    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Base directory for the embedded defaults")
    database_url: str = Field("", description="SQLAlchemy async URL; default: SQLite in data_dir")
    spool_dir: Path = Field(
        Path(""), description="Uploads and unpacked files; default data_dir/spool"
    )

    # redis / queue
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_name: str = "importer:queue"

    # DICOM
    pacs_url: str = "dimse://ORTHANC@127.0.0.1:4242"
    worklist_url: str | None = None
    temporary_pacs_url: str | None = None
    atna_syslog: str | None = Field(
        None,
        description="Send the audit trail as DICOM audit messages: udp://, tcp:// or "
        "tls://host:port (RFC 5425)",
    )
    atna_ca_file: Path | None = Field(
        None, description="CA bundle the audit repository's certificate is checked against (tls://)"
    )
    atna_cert_file: Path | None = Field(
        None, description="Our client certificate for the audit repository (tls://, optional)"
    )
    atna_key_file: Path | None = Field(
        None, description="The private key of atna_cert_file (tls://, optional)"
    )
    merge_url: str | None = Field(
        None, description="PACS-side patient merge: orthanc+http(s)://host:port (Orthanc REST)"
    )
    reject_url: str | None = Field(
        None,
        description="How the PACS takes back an undone import's instances: "
        "orthanc+http(s)://host:port (Orthanc's REST API deletes them), kos (an IHE IOCM "
        "rejection note sent to IMPORTER_PACS_URL over DIMSE), or dicomweb+http(s)://host/path "
        "(the PACS's DICOMweb reject endpoint); unset: imports cannot be undone",
    )
    undo_hours: int = Field(
        72,
        ge=0,
        description="How long after an import completes a referent may undo it; its files are "
        "kept on the spool that long (only when IMPORTER_REJECT_URL is set); 0: no undo",
    )
    local_issuers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="The hospital's own Issuers of Patient ID: a patient under one is never "
        "merged (comma separated)",
    )
    calling_ae: str = Field("MEDIAIMPORT", min_length=1, max_length=16)
    dimse_timeout_s: float = Field(30.0, gt=0)
    worklist_wait_s: float = Field(
        20.0, gt=0, description="How long the API waits for the worker's worklist answer"
    )
    store_max_pdu: int = Field(0, ge=0, description="0 = unlimited")
    store_parallel: int = Field(2, ge=1, le=16, description="C-STORE associations in parallel")
    scan_processes: int = Field(
        2,
        ge=0,
        le=16,
        description="Processes of the worker that read a medium's headers during an analysis "
        "(the parse uses one core per process); 0: read in the worker's own process",
    )
    storage_commitment: bool = False
    commitment_port: int | None = Field(
        None, ge=1, le=65535, description="Where our SCP receives storage commitment reports"
    )
    commitment_host: str = Field(
        "0.0.0.0",  # noqa: S104 - the PACS connects back to us
        description="Address our storage commitment SCP listens on",
    )
    commitment_timeout_s: float = Field(120.0, gt=0)
    dicomweb_batch_bytes: int = Field(32 * 1024**2, gt=0)
    pacs_syntaxes_cache_s: int = Field(
        600,
        ge=0,
        description="How long the transfer syntaxes a PACS accepts, asked by the analysis, are "
        "remembered (0: asked for every medium)",
    )

    # RIS and launch
    ris_api_keys: SecretStr = SecretStr("")
    public_url: str = "http://127.0.0.1:8000"
    callback_secret: SecretStr = Field(
        SecretStr(""), description="Shared secret signing RIS callbacks (HMAC-SHA256)"
    )
    callback_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts a RIS callback may go to (comma separated; empty: no callbacks)",
    )
    callback_allow_http: bool = Field(
        False, description="Accept http:// callback URLs (https:// only otherwise)"
    )
    callback_events: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(CALLBACK_EVENTS),
        description="The callback events posted to a RIS (comma separated); others are not sent",
    )
    callback_give_up_s: int = Field(
        24 * 3600, gt=0, description="A callback the RIS has not taken is posted again until then"
    )
    launch_token_ttl_s: int = Field(900, gt=0)
    session_ttl_s: int = Field(8 * 3600, gt=0)

    # import life cycle
    confirmation_timeout_s: int = Field(24 * 3600, gt=0)
    upload_timeout_s: int = Field(24 * 3600, gt=0)
    stage_attempts: int = Field(3, ge=1)
    temporary_review_days: int = Field(
        30, ge=1, description="Temporary-zone imports older than this are listed as past review"
    )
    job_timeout_s: int = Field(
        3600, gt=0, description="Longest a job may run; a killed worker's job restarts after it"
    )
    job_lease_s: int = Field(
        30,
        ge=3,
        description="How long a job's hold on its import lasts unless renewed (every third of "
        "it); a killed worker's import is free again after it",
    )
    retain_spool: Literal["none", "failed", "all"] = Field(
        "failed", description="Whose files stay on the spool when an import ends"
    )
    modifying_system: str = "PACS Media Import"
    add_other_patient_ids: bool = True

    # archive limits
    max_upload_bytes: int = Field(16 * 1024**3, gt=0)
    max_entries: int = Field(100_000, gt=0)
    max_unpacked_bytes: int = Field(32 * 1024**3, gt=0)
    max_entry_bytes: int = Field(8 * 1024**3, gt=0)
    max_compression_ratio: float = Field(100.0, gt=1)
    max_header_bytes: int = Field(
        16 * 1024**2, gt=0, description="bytes of a DICOM header before its pixel data"
    )
    max_header_elements: int = Field(
        100_000, gt=0, description="top-level elements of a DICOM header"
    )
    spool_free_margin_bytes: int = Field(
        1024**3, ge=0, description="free spool space kept after an archive is unpacked"
    )

    # web
    cors_origins: list[str] = Field(default_factory=list)
    frame_ancestors: str = Field(
        "'self'", description="CSP frame-ancestors: who may show the app in a frame (a RIS)"
    )
    rate_launches_per_min: int = Field(600, ge=1)
    rate_sessions_per_min: int = Field(60, ge=1)
    max_open_uploads_per_session: int = Field(10, ge=1)
    max_streams_per_session: int = Field(
        4, ge=1, description="live event streams one session may hold open"
    )
    public_docs: bool = Field(
        False, description="Serve /docs and /openapi.json to anyone (off: not served)"
    )
    frontend_dir: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    worker_metrics_port: int | None = Field(
        None, ge=1, le=65535, description="Where a worker serves its Prometheus metrics"
    )
    worker_metrics_host: str = "127.0.0.1"

    @field_validator("pacs_url", "worklist_url", "temporary_pacs_url")
    @classmethod
    def _check_node_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None if value == "" else value
        if value.startswith("dimse://"):
            parse_dimse_url(value)
        elif not value.startswith(("http://", "https://", "dicomweb://")):
            raise ValueError("expected dimse://AE@host:port or dicomweb://host:port/path")
        return value

    @field_validator("local_issuers", "callback_hosts", "callback_events", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """``A,B`` or a JSON list; blanks dropped."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                with contextlib.suppress(json.JSONDecodeError):  # else "[::1]:8443,host"
                    return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("callback_events")
    @classmethod
    def _check_callback_events(cls, value: list[str]) -> list[str]:
        unknown = [event for event in value if event not in CALLBACK_EVENTS]
        if unknown:
            raise ValueError(
                f"unknown callback events {unknown}: expected some of {list(CALLBACK_EVENTS)}"
            )
        return value

    @field_validator("callback_hosts")
    @classmethod
    def _check_callback_hosts(cls, value: list[str]) -> list[str]:
        """Each entry a host (``ris.example``, ``10.0.0.5``, ``[fd00::5]``) with an optional
        port: a URL, a path or a port that is no number would never match, silently."""
        for number, entry in enumerate(value, start=1):
            parts = urlsplit("//" + entry)
            try:
                parts.port  # noqa: B018 - raises on a port that is no number
            except ValueError:
                raise ValueError(
                    f"entry {number}: expected host or host:port (an IPv6 address in brackets)"
                ) from None
            if not parts.hostname or parts.path or parts.query or parts.fragment or "@" in entry:
                raise ValueError(f"entry {number}: expected host or host:port, not a URL")
        return value

    @field_validator("ris_api_keys")
    @classmethod
    def _check_ris_keys(cls, value: SecretStr) -> SecretStr:
        """Every entry parses, a ``sha256:`` one holds 64 hex digits, and no key is given to
        two clients (it would silently belong to the first). The messages hold no key."""
        owner: dict[str, str] = {}
        for number, entry in enumerate(_entries(value.get_secret_value()), start=1):
            key = parse_ris_key(entry)
            if not re.fullmatch(r"[0-9a-f]{64}", key.key_hash):
                raise ValueError(f"entry {number}: a sha256: key must be 64 hex digits")
            if owner.setdefault(key.key_hash, key.client) != key.client:
                raise ValueError(f"entry {number}: this key is already configured for a client")
        return value

    @field_validator("atna_syslog")
    @classmethod
    def _check_atna_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 - raises on a port that is no number
        except ValueError:
            raise ValueError("the port must be a number from 1 to 65535") from None
        if parts.scheme not in ("udp", "tcp", "tls") or not parts.hostname:
            raise ValueError("expected tls://host:port, tcp://host:port or udp://host:port")
        return value

    @model_validator(mode="after")
    def _check_atna_files(self) -> Settings:
        files = {
            "IMPORTER_ATNA_CA_FILE": self.atna_ca_file,
            "IMPORTER_ATNA_CERT_FILE": self.atna_cert_file,
            "IMPORTER_ATNA_KEY_FILE": self.atna_key_file,
        }
        for name, path in files.items():
            if path is not None and not path.is_file():
                raise ValueError(f"{name}: no such file")
        if self.atna_key_file is not None and self.atna_cert_file is None:
            raise ValueError("IMPORTER_ATNA_KEY_FILE needs IMPORTER_ATNA_CERT_FILE")
        return self

    @field_validator("merge_url")
    @classmethod
    def _check_merge_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("orthanc+http://", "orthanc+https://")):
            raise ValueError("expected orthanc+http(s)://host:port")
        return value or None

    @field_validator("reject_url")
    @classmethod
    def _check_reject_url(cls, value: str | None) -> str | None:
        if value and value != "kos" and not value.startswith(REJECT_SCHEMES):
            raise ValueError(
                "expected orthanc+http(s)://host:port, kos or dicomweb+http(s)://host/path"
            )
        return value or None

    @model_validator(mode="after")
    def _check_reject_over_dimse(self) -> Settings:
        if self.reject_url == "kos" and not self.pacs_url.startswith("dimse://"):
            raise ValueError("IMPORTER_REJECT_URL=kos needs a DIMSE IMPORTER_PACS_URL")
        return self

    @property
    def undo_possible(self) -> bool:
        """Whether a completed import may be undone (and its files are kept for it)."""
        return self.reject_url is not None and self.undo_hours > 0

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'importer.sqlite3').resolve()}"

    @property
    def effective_spool_dir(self) -> Path:
        return self.spool_dir if str(self.spool_dir) not in ("", ".") else self.data_dir / "spool"

    @property
    def pacs_node(self) -> DicomNode:
        return parse_dimse_url(self.pacs_url)

    def ris_key_list(self) -> list[str]:
        return _entries(self.ris_api_keys.get_secret_value())


def _entries(text: str) -> list[str]:
    return [entry.strip() for entry in text.split(",") if entry.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
