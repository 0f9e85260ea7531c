"""Logging set-up of the api and worker processes.

Application logs carry import ids, never patient data. Libraries that log DICOM values (pydicom
reports invalid values with the value itself, pynetdicom can dump datasets) are kept quiet.
"""

from __future__ import annotations

import json
import logging
import re
import time

from pynetdicom import _config as pynetdicom_config

QUIET = {
    "pydicom": logging.CRITICAL + 1,  # its warnings quote element values: never in our logs
    "pynetdicom": logging.WARNING,
    "pynetdicom.events": logging.CRITICAL + 1,
    "pynetdicom.dsutils": logging.CRITICAL + 1,
}


_QUERY = re.compile(r"\?[^\s\"]*")


def redact(text: str) -> str:
    """Drop the query string of a path: launch links carry a token there, worklist searches a
    patient's name."""
    return _QUERY.sub("?[redacted]", text)


class RedactTokens(logging.Filter):
    """Access logs keep the path, never the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


_REDACT = RedactTokens()

# arq's own lines for a job starting and ending (arq/worker.py, pinned in pyproject.toml; a
# guard test checks they are still these), and where the job's values stand in their arguments
ARQ_JOB_LINES = {"%6.2fs → %s(%s)%s": 2, "%6.2fs ← %s ● %s": 2}


class HideJobValues(logging.Filter):
    """arq logs every job's arguments and result, and a worklist search carries a patient's name
    and birth date: keep the job, its id and its timing, never its values."""

    def filter(self, record: logging.LogRecord) -> bool:
        position = ARQ_JOB_LINES.get(str(record.msg))
        if position is not None and isinstance(record.args, tuple) and len(record.args) > position:
            args = list(record.args)
            args[position] = "…"
            record.args = tuple(args)
        return True


_HIDE_JOB_VALUES = HideJobValues()


# the context our code attaches with ``extra=``: ids and codes, never patient data
CONTEXT_FIELDS = (
    "import_id", "support_id", "job", "code", "stage", "try", "event", "requeued", "expired",
    "pacs", "calling_ae",
)  # fmt: skip


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the context fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str, fmt: str = "text") -> None:
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    formatter: logging.Formatter = (
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    JsonFormatter.converter = time.gmtime
    for existing in root.handlers:
        if not type(existing).__module__.startswith("_pytest"):
            existing.setFormatter(formatter)
    root.setLevel(level)
    for name, quiet_level in QUIET.items():
        logging.getLogger(name).setLevel(quiet_level)
    logging.getLogger("uvicorn.access").addFilter(_REDACT)
    logging.getLogger("arq.worker").addFilter(_HIDE_JOB_VALUES)
    # pynetdicom logs query and response identifiers (patient names, ids) at DEBUG
    pynetdicom_config.LOG_REQUEST_IDENTIFIERS = False
    pynetdicom_config.LOG_RESPONSE_IDENTIFIERS = False
