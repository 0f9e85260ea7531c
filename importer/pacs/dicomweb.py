"""DICOMweb adapter (httpx, synchronous): QIDO-RS to find studies and instances, STOW-RS to
store (multipart/related batches bounded in bytes), PS3.18.

Synchronous like the DIMSE adapter; the pipeline calls it through ``asyncio.to_thread``. No
storage commitment over DICOMweb: :meth:`DicomWebPacs.commit` raises ``pacs_unsupported``.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx
from pydicom import Dataset

from importer.pacs.base import (
    STATUS_INVALID_DATASET,
    STATUS_REJECTED,
    CommitResult,
    PacsError,
    StoreItem,
    StoreOutcome,
    StudyOnPacs,
    not_loaded,
)
from importer.pacs.transcode import ensure_transfer_syntax

logger = logging.getLogger(__name__)

DICOM_JSON = "application/dicom+json"
# DICOM JSON tags (PS3.18 F.2)
PATIENT_ID = "00100020"
STUDY_INSTANCE_UID = "0020000D"
SOP_INSTANCE_UID = "00080018"
NUMBER_OF_STUDY_RELATED_INSTANCES = "00201208"
REFERENCED_SOP_SEQUENCE = "00081199"
FAILED_SOP_SEQUENCE = "00081198"
REFERENCED_SOP_INSTANCE_UID = "00081155"
FAILURE_REASON = "00081197"
WARNING_REASON = "00081196"

STOW_SUCCESS = 0x0000
STOW_FAILURE_PROCESSING = 0x0110
QIDO_PAGE = 1000
"""Matches asked per QIDO-RS request when listing instances (``limit``/``offset``)."""
DEFAULT_BATCH_BYTES = 32 * 1024 * 1024

AuthLike = httpx.Auth | tuple[str, str]


def _values(item: dict[str, Any], tag: str) -> list[Any]:
    element = item.get(tag) or item.get(tag.lower()) or {}
    value = element.get("Value") if isinstance(element, dict) else None
    return value if isinstance(value, list) else []


def _first(item: dict[str, Any], tag: str) -> Any:
    values = _values(item, tag)
    return values[0] if values else None


def _int_or_none(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def parse_stow_response(body: object) -> dict[str, tuple[int, bool, bool]]:
    """What a STOW-RS response says of each SOP Instance UID: ``(status, ok, warning)``.

    Referenced SOP Sequence items are stored (Warning Reason, when present, makes it a
    warning); Failed SOP Sequence items are not (Failure Reason, or 0x0110)."""
    if isinstance(body, list):  # some servers wrap the dataset in a list
        body = body[0] if body else {}
    if not isinstance(body, dict):
        return {}
    result: dict[str, tuple[int, bool, bool]] = {}
    for item in _values(body, REFERENCED_SOP_SEQUENCE):
        uid = _first(item, REFERENCED_SOP_INSTANCE_UID)
        if uid:
            warning = _int_or_none(_first(item, WARNING_REASON))
            result[str(uid)] = (warning or STOW_SUCCESS, True, bool(warning))
    for item in _values(body, FAILED_SOP_SEQUENCE):
        uid = _first(item, REFERENCED_SOP_INSTANCE_UID)
        if uid:
            reason = _int_or_none(_first(item, FAILURE_REASON))
            result[str(uid)] = (reason or STOW_FAILURE_PROCESSING, False, False)
    return result


def _message(status: int, ok: bool, warning: bool) -> str:
    if ok and not warning:
        return "Success (STOW-RS)"
    kind = "Warning" if ok else "Failure"
    return f"{kind} 0x{status:04X} (STOW-RS)"


class DicomWebPacs:
    """A PACS reached over DICOMweb at ``base_url`` (e.g. ``http://host:8042/dicom-web``).

    ``batch_bytes`` bounds one STOW-RS request (an instance larger than that goes alone);
    ``auth`` is any httpx authentication (a ``(user, password)`` pair for Basic). ``client``
    may be given to share connections; it is then not closed by the adapter.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        auth: AuthLike | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the DICOMweb base URL must start with http:// or https://")
        if batch_bytes < 1:
            raise ValueError("batch_bytes must be positive")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.batch_bytes = batch_bytes
        self._auth = auth
        self._client = client

    def __repr__(self) -> str:
        return f"DicomWebPacs({self.base_url}, timeout={self.timeout})"

    @contextmanager
    def _session(self) -> Iterator[httpx.Client]:
        if self._client is not None:
            yield self._client
            return
        with httpx.Client(timeout=self.timeout, auth=self._auth) as client:
            yield client

    def _request(
        self, client: httpx.Client, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        url = f"{self.base_url}{path}"
        try:
            return client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise PacsError(
                PacsError.TIMEOUT,
                f"no answer from the DICOMweb PACS within {self.timeout:.0f} s",
                params={"seconds": round(self.timeout)},
            ) from None
        except httpx.HTTPError as exc:
            # the type to the log only: the message says what happened in our words
            logger.warning("the DICOMweb PACS cannot be reached (%s)", type(exc).__name__)
            raise PacsError(
                PacsError.UNREACHABLE, f"cannot reach the DICOMweb PACS {self.base_url}"
            ) from None

    def _qido(
        self, client: httpx.Client, path: str, params: dict[str, str]
    ) -> list[dict[str, Any]]:
        response = self._request(client, "GET", path, params=params, headers={"Accept": DICOM_JSON})
        if response.status_code in (204, 404):
            return []
        if response.status_code in (401, 403):
            raise _refused(response.status_code)
        if response.status_code != 200:
            raise PacsError(
                PacsError.FAILED,
                f"QIDO-RS failed with HTTP {response.status_code}",
                params={"http_status": response.status_code},
            )
        try:
            body = response.json()
        except ValueError:
            raise PacsError(PacsError.FAILED, "QIDO-RS answered something else than JSON") from None
        if not isinstance(body, list):
            raise PacsError(PacsError.FAILED, "QIDO-RS answered something else than a list")
        return [item for item in body if isinstance(item, dict)]

    # -- verification and query -----------------------------------------------------------

    def echo(self) -> None:
        """A cheap QIDO-RS (one study at most)."""
        with self._session() as client:
            self._qido(client, "/studies", {"limit": "1"})

    def find_studies(self, study_uids: Sequence[str]) -> dict[str, StudyOnPacs]:
        uids = [uid for uid in dict.fromkeys(study_uids) if uid]
        queryable = [uid for uid in uids if not any(ch in uid for ch in "*?\\,")]
        found: dict[str, StudyOnPacs] = {}
        if not queryable:
            return found
        with self._session() as client:
            for uid in queryable:
                matches = self._qido(
                    client,
                    "/studies",
                    {
                        "StudyInstanceUID": uid,
                        "includefield": f"{PATIENT_ID},{NUMBER_OF_STUDY_RELATED_INSTANCES}",
                    },
                )
                for match in matches:
                    if str(_first(match, STUDY_INSTANCE_UID) or uid) != uid:
                        continue  # a server that ignored the filter
                    found[uid] = StudyOnPacs(
                        study_instance_uid=uid,
                        patient_id=str(_first(match, PATIENT_ID) or ""),
                        instance_count=_int_or_none(
                            _first(match, NUMBER_OF_STUDY_RELATED_INSTANCES)
                        ),
                    )
                    break
        logger.info("QIDO-RS: %d of %d studies already on the PACS", len(found), len(queryable))
        return found

    def accepted_syntaxes(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]] | None:
        """Unknown before sending: STOW-RS negotiates nothing (the PACS takes each instance as
        it is sent, or refuses it)."""
        return None

    def find_instances(self, study_uid: str) -> set[str]:
        if not study_uid or any(ch in study_uid for ch in "*?\\,/"):
            return set()
        instances: set[str] = set()
        path = f"/studies/{quote(study_uid, safe='.')}/instances"
        with self._session() as client:
            offset = 0
            while True:
                page = self._qido(
                    client,
                    path,
                    {
                        "includefield": SOP_INSTANCE_UID,
                        "limit": str(QIDO_PAGE),
                        "offset": str(offset),
                    },
                )
                instances.update(str(uid) for m in page if (uid := _first(m, SOP_INSTANCE_UID)))
                if len(page) < QIDO_PAGE:
                    break
                offset += len(page)
        logger.info("QIDO-RS: the PACS holds %d instances of the study", len(instances))
        return instances

    # -- storage --------------------------------------------------------------------------

    def store(self, items: Sequence[StoreItem]) -> Generator[StoreOutcome, None, None]:
        started = time.monotonic()
        stored = 0
        with self._session() as client:
            batch: list[tuple[StoreItem, str, str, bytes]] = []
            size = 0
            for item in items:
                encoded = self._encode(item)
                if isinstance(encoded, StoreOutcome):
                    yield encoded
                    continue
                uid, syntax, data = encoded
                if batch and size + len(data) > self.batch_bytes:
                    for outcome in self._stow(client, batch):
                        stored += outcome.ok
                        yield outcome
                    batch, size = [], 0
                batch.append((item, uid, syntax, data))
                size += len(data)
            if batch:
                for outcome in self._stow(client, batch):
                    stored += outcome.ok
                    yield outcome
        logger.info(
            "STOW-RS: %d of %d instances stored in %.1f s",
            stored,
            len(items),
            time.monotonic() - started,
        )

    @staticmethod
    def _encode(item: StoreItem) -> tuple[str, str, bytes] | StoreOutcome:
        try:
            ds = item.load()
        except Exception as exc:
            logger.debug("loading instance %s failed", item.key, exc_info=True)
            return not_loaded(item.key, exc)
        try:
            uid = str(ds.SOPInstanceUID)
            buffer = BytesIO()
            _prepare_meta(ds, item)
            ds.save_as(buffer, enforce_file_format=True)
        except Exception as exc:
            return StoreOutcome(
                item.key,
                STATUS_INVALID_DATASET,
                False,
                False,
                f"the instance cannot be encoded: {type(exc).__name__}",
            )
        return uid, str(ds.file_meta.TransferSyntaxUID), buffer.getvalue()

    def _stow(
        self, client: httpx.Client, batch: list[tuple[StoreItem, str, str, bytes]]
    ) -> list[StoreOutcome]:
        boundary = f"stow-{secrets.token_hex(16)}"
        body = BytesIO()
        for _item, _uid, _syntax, data in batch:
            body.write(f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode())
            body.write(data)
            body.write(b"\r\n")
        body.write(f"--{boundary}--\r\n".encode())
        logger.debug("STOW-RS: %d instance(s), %d bytes", len(batch), body.tell())
        response = self._request(
            client,
            "POST",
            "/studies",
            content=body.getvalue(),
            headers={
                "Content-Type": (
                    f'multipart/related; type="application/dicom"; boundary={boundary}'
                ),
                "Accept": DICOM_JSON,
            },
        )
        try:
            statuses = parse_stow_response(response.json()) if response.content else {}
        except ValueError:
            statuses = {}
        if response.status_code in (401, 403):
            raise _refused(response.status_code)
        if response.status_code >= 500 and not statuses:
            raise PacsError(
                PacsError.FAILED,
                f"STOW-RS failed with HTTP {response.status_code}",
                params={"http_status": response.status_code},
            )
        outcomes = []
        for item, uid, syntax, _data in batch:
            known = statuses.get(uid)
            if known is None:
                outcomes.append(
                    StoreOutcome(
                        item.key,
                        STATUS_REJECTED,
                        False,
                        False,
                        f"STOW-RS answered HTTP {response.status_code} without a status for "
                        "the instance",
                    )
                )
                continue
            status, ok, warning = known
            outcomes.append(
                StoreOutcome(
                    item.key,
                    status,
                    ok,
                    warning,
                    _message(status, ok, warning),
                    transfer_syntax=syntax if ok else "",
                )
            )
        return outcomes

    # -- storage commitment ---------------------------------------------------------------

    def commit(self, refs: Sequence[tuple[str, str]], *, timeout: float) -> CommitResult:
        raise PacsError(PacsError.UNSUPPORTED, "storage commitment is not available over DICOMweb")


def _prepare_meta(ds: Dataset, item: StoreItem) -> None:
    """File meta a Part 10 file needs (the loader normally sets it)."""
    ensure_transfer_syntax(ds, item.transfer_syntax_uid)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID


def _refused(status: int) -> PacsError:
    """The DICOMweb PACS refused us (HTTP 401 or 403: our credentials or our rights)."""
    return PacsError(
        PacsError.REJECTED,
        f"the DICOMweb PACS refused us (HTTP {status})",
        params={"http_status": status},
    )
