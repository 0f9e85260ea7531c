"""Logging set-up of the api and worker processes.

Application logs carry import ids, never patient data. Libraries that log DICOM values (pydicom
reports invalid values with the value itself, pynetdicom can dump datasets) are kept quiet.
An exception is logged as its type (and a database error's SQLSTATE) and where it was raised,
never its message: a database error quotes the row, a pydicom error the value it choked on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from pynetdicom import _config as pynetdicom_config

QUIET = {
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

# arq's own lines for a job starting, ending and failing (arq/worker.py, pinned in
# pyproject.toml; a guard test checks they are still these), and where the job's values (its
# arguments, its result, its exception: the message is the exception's) stand in their arguments
ARQ_JOB_LINES = {"%6.2fs → %s(%s)%s": 2, "%6.2fs ← %s ● %s": 2, "%6.2fs ! %s failed, %s: %s": 3}


class HideJobValues(logging.Filter):
    """arq logs every job's arguments and result, and a worklist search carries a patient's name
    and birth date: keep the job, its id and its timing, never its values."""

    def filter(self, record: logging.LogRecord) -> bool:
        position = ARQ_JOB_LINES.get(str(record.msg))
        if position is not None and isinstance(record.args, tuple) and len(record.args) > position:
            args = list(record.args)
            value = args[position]
            if isinstance(value, BaseException):
                args[position] = sqlstate_note(value)
            elif not isinstance(value, Described):  # already safe: the record factory's
                args[position] = "…"
            record.args = tuple(args)
        return True


_HIDE_JOB_VALUES = HideJobValues()


# the context our code attaches with ``extra=``: ids and codes, never patient data
CONTEXT_FIELDS = (
    "import_id", "support_id", "job", "code", "stage", "try", "event", "requeued", "expired",
    "pacs", "calling_ae",
)  # fmt: skip


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error: asyncpg's ``sqlstate``, or that of the driver's error a
    SQLAlchemy ``DBAPIError`` wraps (``orig``); ``None`` for any other error."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        code = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(code, str) and code:
            return code
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
        seen += 1
    return None


def sqlstate_note(exc: BaseException) -> str:
    """``SQLSTATE 23505`` for a database error, ``…`` (no message) for any other."""
    code = sqlstate(exc)
    return f"SQLSTATE {code}" if code else "…"


class Described(str):
    """An exception as :func:`describe_exception` told it: safe to log as it is."""


def describe_exception(exc: BaseException) -> str:
    """An exception as logs may show it: its type, and a database error's SQLSTATE; never its
    message (``Key (patient_name)=(DOE^JOHN) already exists``)."""
    kind = type(exc)
    name = kind.__qualname__
    if kind.__module__ not in ("builtins", "__main__"):
        name = f"{kind.__module__}.{name}"
    code = sqlstate(exc)
    return Described(f"{name} (SQLSTATE {code})" if code else name)


def format_exception(exc: BaseException) -> str:
    """A traceback as Python prints it (chained exceptions, frames with file, line, function and
    source line) where each exception's last line is :func:`describe_exception`: its type, never
    its message. The frames hold code, never the values it worked on."""
    chain: list[tuple[BaseException, str]] = []  # each with how it led to the one before
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    lines: list[str] = []
    for item, leads_on in reversed(chain):  # the first cause first, as Python prints them
        if item.__traceback__ is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_list(traceback.extract_tb(item.__traceback__)))
        lines.append(describe_exception(item) + "\n")
        lines.append(leads_on)
    return "".join(lines).rstrip("\n")


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _without_exception_values(factory: Any) -> Any:
    """A log record factory that renders a record's exception at once with
    :func:`format_exception` (``exc_text``, which every ``logging.Formatter`` prints as it is)
    and drops the exception itself, so no handler (ours, uvicorn's, arq's) can print its
    message."""

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = factory(*args, **kwargs)
        # an exception as the message or one of its arguments (pynetdicom's
        # ``LOGGER.exception(exc)``, a library's ``log.error("…%s", exc)``) prints its message
        if isinstance(record.msg, BaseException):
            record.msg = describe_exception(record.msg)
        if isinstance(record.args, tuple) and any(
            isinstance(a, BaseException) for a in record.args
        ):
            record.args = tuple(
                describe_exception(a) if isinstance(a, BaseException) else a for a in record.args
            )
        elif isinstance(record.args, dict) and any(
            isinstance(a, BaseException) for a in record.args.values()
        ):
            record.args = {
                k: describe_exception(a) if isinstance(a, BaseException) else a
                for k, a in record.args.items()
            }
        if record.exc_info:
            exc = record.exc_info[1]
            record.exc_text = format_exception(exc) if exc is not None else None
            record.exc_info = None
        return record

    make.hides_exception_values = True  # type: ignore[attr-defined]
    return make


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
        if record.exc_info and record.exc_info[1] is not None:  # a record made elsewhere
            entry["exception"] = format_exception(record.exc_info[1])
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time level logger message key=value…``: the context fields after the message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        context = " ".join(
            f"{key}={record.__dict__[key]}" for key in CONTEXT_FIELDS if key in record.__dict__
        )
        line = super().formatMessage(record)
        return f"{line} {context}" if context else line


# pydicom warns of what it tolerated or refused quoting the value ("Invalid value for VR DA:
# '1913-01-10'"), and logs each warning to its logger just before (pydicom.misc.warn_and_log)
PYDICOM_WARNINGS = r"pydicom(\.|$)"

_notes: ContextVar[list[warnings.WarningMessage] | None] = ContextVar("pydicom_notes", default=None)
_notes_lock = threading.Lock()


class _PydicomNotes(logging.Handler):
    """The one handler of pydicom's logger: hands its warnings to the reader of this thread
    that asked for them (:func:`pydicom_warnings`), drops them otherwise."""

    def emit(self, record: logging.LogRecord) -> None:
        notes = _notes.get()
        if notes is not None and record.levelno >= logging.WARNING:
            message = UserWarning(record.getMessage())
            notes.append(
                warnings.WarningMessage(message, UserWarning, record.pathname, record.lineno)
            )


def _keep_pydicom_quiet() -> None:
    """pydicom's records reach only :class:`_PydicomNotes`, never a handler of ours."""
    logger = logging.getLogger("pydicom")
    with _notes_lock:
        if not any(isinstance(h, _PydicomNotes) for h in logger.handlers):
            logger.addHandler(_PydicomNotes())
        logger.propagate = False
        logger.setLevel(logging.WARNING)


@contextlib.contextmanager
def pydicom_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """The warnings pydicom gives while this block runs in this thread (or task), as
    ``warnings.catch_warnings(record=True)`` would record them, without touching the process's
    warning filters (which are not thread-safe to change): a reader that reports what pydicom
    tolerated in a header."""
    _keep_pydicom_quiet()
    notes: list[warnings.WarningMessage] = []
    token = _notes.set(notes)
    try:
        yield notes
    finally:
        _notes.reset(token)


def silence_library_warnings() -> None:
    """Once per process, at start-up: pydicom's warnings are never printed (they quote values);
    pydicom's log records go nowhere but to :func:`pydicom_warnings`. Our own warnings stay."""
    warnings.filterwarnings("ignore", category=UserWarning, module=PYDICOM_WARNINGS)
    _keep_pydicom_quiet()


def configure_logging(level: str, fmt: str = "text") -> None:
    """The api's and the worker's logging, once at start-up (idempotent)."""
    silence_library_warnings()
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "hides_exception_values", False):
        logging.setLogRecordFactory(_without_exception_values(factory))
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else TextFormatter()
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
