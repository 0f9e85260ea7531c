"""The RIS callback client: one signed JSON POST per event, with a clear, retryable error
(posted by the outbox's delivery, :mod:`importer.imports.ris_outbox`).

Signature: ``X-Importer-Timestamp: <unix seconds>`` and
``X-Importer-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body>`` with the shared
secret ``IMPORTER_CALLBACK_SECRET``; the RIS recomputes it and refuses stale timestamps. Nothing
is ever posted unsigned: without a secret the callback is refused (``callback_unsigned``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx

from importer.errors import Failure

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Importer-Signature"
TIMESTAMP_HEADER = "X-Importer-Timestamp"
EVENT_ID_HEADER = "X-Importer-Event-Id"


class RisError(Failure):
    """The RIS callback did not go through: ``ris_unreachable``, ``ris_rejected``, or refused
    before posting (``callback_unsigned``, or the address no longer allowed)."""


def sign(body: bytes, *, secret: str, timestamp: str) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(body: bytes, *, secret: str, timestamp: str, signature: str) -> bool:
    """What a RIS does with our callback (also used by our tests)."""
    return hmac.compare_digest(sign(body, secret=secret, timestamp=timestamp), signature)


async def post_callback(
    http: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any],
    *,
    secret: str,
    timeout_s: float = 10.0,
    event_id: int | None = None,
) -> None:
    """Post ``payload`` signed; ``event_id`` (the outbox row, the same on a post repeated) in
    ``X-Importer-Event-Id``."""
    if not secret:
        raise RisError(
            "callback_unsigned",
            "The RIS was not told: no callback signing secret is configured "
            "(IMPORTER_CALLBACK_SECRET), and callbacks are never sent unsigned.",
            retryable=False,
        )
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "pacs-media-import",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(body, secret=secret, timestamp=timestamp),
    }
    if event_id is not None:
        headers[EVENT_ID_HEADER] = str(event_id)
    try:
        response = await http.post(url, content=body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        # the type to the log only: the message says what happened in our words
        log.warning("the RIS callback was not delivered (%s)", type(exc).__name__)
        timeout = isinstance(exc, httpx.TimeoutException)
        raise RisError(
            "ris_unreachable",
            f"The RIS did not answer within {timeout_s:.0f} s."
            if timeout
            else "The RIS could not be reached.",
            retryable=True,
            params={"seconds": round(timeout_s)} if timeout else None,
        ) from exc
    if response.status_code >= 300:
        raise RisError(
            "ris_rejected",
            f"The RIS callback answered HTTP {response.status_code}.",
            retryable=response.status_code >= 500 or response.status_code in (408, 429),
            params={"http_status": response.status_code},
        )
