"""Tokens never reach the access log; exceptions and pydicom's warnings never bring a value
into it."""

from __future__ import annotations

import json
import logging
import threading
import warnings
from collections.abc import Iterator

import pydicom
import pytest
from asyncpg.exceptions import UniqueViolationError  # type: ignore[import-untyped]
from sqlalchemy.exc import IntegrityError

from importer.logs import JsonFormatter, RedactTokens, redact


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/?token=abc-DEF_123", "/?[redacted]"),
        ("/app?lang=it&token=abc&x=1", "/app?[redacted]"),
        ("/api/v1/worklist?name=ROSSI%20MARIO&birth_date=19740101", "/api/v1/worklist?[redacted]"),
        ("/api/v1/imports/abc", "/api/v1/imports/abc"),
    ],
)
def test_redact(given: str, expected: str) -> None:
    assert redact(given) == expected


def test_filter_rewrites_access_log_arguments() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/?token=very-secret", "1.1", 200), None,
    )  # fmt: skip
    assert RedactTokens().filter(record)
    assert "very-secret" not in record.getMessage()
    assert "/?[redacted]" in record.getMessage()


def test_json_lines_carry_the_context_fields() -> None:
    record = logging.LogRecord(
        "importer.x", logging.INFO, __file__, 1, "stage %s", ("store",), None
    )
    record.import_id = "abc"
    record.code = "pacs_unreachable"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "stage store"
    assert line["level"] == "INFO"
    assert (line["import_id"], line["code"]) == ("abc", "pacs_unreachable")
    assert line["ts"].endswith("Z")


def test_arq_job_lines_keep_the_job_and_hide_its_values() -> None:
    from arq.utils import args_to_string

    from importer.logs import HideJobValues

    query = {"name": "ROSSI", "given": "MARIO", "birth_date": "19740101", "sex": "M"}
    started = logging.LogRecord(
        "arq.worker", logging.INFO, __file__, 1, "%6.2fs → %s(%s)%s",
        (0.01, "abc:worklist_search", args_to_string((query,), {}), ""), None,
    )  # fmt: skip
    ended = logging.LogRecord(
        "arq.worker", logging.INFO, __file__, 1, "%6.2fs ← %s ● %s",
        (0.2, "abc:worklist_search", "{'result': {'items': [{'patient': 'ROSSI^MARIO'}]}}"), None,
    )  # fmt: skip
    for record in (started, ended):
        assert HideJobValues().filter(record)
        assert "ROSSI" not in record.getMessage()
        assert "19740101" not in record.getMessage()
        assert "abc:worklist_search" in record.getMessage()


def test_guard_arq_still_logs_jobs_with_these_lines() -> None:
    """importer.logs rewrites arq's own job lines: an arq that words them otherwise (outside the
    pinned range) must fail here, not leak a patient's name into the worker's log."""
    import inspect

    import arq.worker

    from importer.logs import ARQ_JOB_LINES

    source = inspect.getsource(arq.worker)
    for line in ARQ_JOB_LINES:
        assert f"'{line}'" in source


def test_configured_logging_filters_the_arq_worker_logger() -> None:
    from importer.logs import QUIET, HideJobValues, configure_logging

    names = ["", "arq.worker", "uvicorn.access", *QUIET]
    levels = {name: logging.getLogger(name).level for name in names}
    formatters = [h.formatter for h in logging.getLogger().handlers]
    arq_filters = list(logging.getLogger("arq.worker").filters)
    access_filters = list(logging.getLogger("uvicorn.access").filters)
    try:
        configure_logging("INFO")
        assert any(isinstance(f, HideJobValues) for f in logging.getLogger("arq.worker").filters)
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        for handler, formatter in zip(logging.getLogger().handlers, formatters, strict=False):
            handler.setFormatter(formatter)
        logging.getLogger("arq.worker").filters = arq_filters
        logging.getLogger("uvicorn.access").filters = access_filters


@pytest.fixture
def started() -> Iterator[None]:
    """``configure_logging`` as the api and the worker call it at start-up, with Python's
    default warning filters (pytest's are restored after the test); logging's global state is
    put back afterwards."""
    from importer.logs import QUIET, configure_logging

    root = logging.getLogger()
    names = ["", "arq.worker", "uvicorn.access", "pydicom", *QUIET]
    levels = {name: logging.getLogger(name).level for name in names}
    formatters = [h.formatter for h in root.handlers]
    filters = {name: list(logging.getLogger(name).filters) for name in names}
    pydicom_logger = logging.getLogger("pydicom")
    pydicom_state = (list(pydicom_logger.handlers), pydicom_logger.propagate)
    factory = logging.getLogRecordFactory()
    warnings.resetwarnings()
    warnings.simplefilter("default")
    try:
        configure_logging("DEBUG")
        yield
    finally:
        logging.setLogRecordFactory(factory)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
            logging.getLogger(name).filters = filters[name]
        for handler, formatter in zip(root.handlers, formatters, strict=False):
            handler.setFormatter(formatter)
        pydicom_logger.handlers, pydicom_logger.propagate = pydicom_state


PATIENT = "DOE^JOHN"


class Lines(logging.Handler):
    """A handler as the process's own: each record as logging's formatter writes it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter().format(record))
        self.lines.append(JsonFormatter().format(record))


@pytest.fixture
def lines() -> Iterator[list[str]]:
    handler = Lines()
    logging.getLogger().addHandler(handler)
    yield handler.lines
    logging.getLogger().removeHandler(handler)


def _duplicate_row() -> IntegrityError:
    """What SQLAlchemy raises when PostgreSQL refuses a duplicate, quoting the row."""
    detail = "Key (patient_name)=(DOE^JOHN) already exists."
    try:
        try:
            raise UniqueViolationError(f"duplicate key value\nDETAIL:  {detail}")
        except UniqueViolationError as driver:
            raise IntegrityError("INSERT INTO …", None, driver) from driver
    except IntegrityError as exc:
        return exc


def test_an_exception_is_described_by_its_type_and_sqlstate_never_its_message() -> None:
    from importer.logs import describe_exception, format_exception

    exc = _duplicate_row()
    assert describe_exception(exc) == "sqlalchemy.exc.IntegrityError (SQLSTATE 23505)"
    assert describe_exception(ValueError("DOE^JOHN")) == "ValueError"
    text = format_exception(exc)
    assert "DOE^JOHN" not in text
    assert "asyncpg.exceptions.UniqueViolationError (SQLSTATE 23505)" in text
    assert "The above exception was the direct cause of the following exception" in text
    assert "in _duplicate_row" in text  # where it happened: the frames are kept


def test_logged_exceptions_show_their_frames_never_their_message(
    started: None, lines: list[str]
) -> None:
    """Whatever handler writes the record (ours, uvicorn's, arq's: logging's formatter), the
    exception it carries is already rendered without its message."""
    log = logging.getLogger("importer.test")
    try:
        raise RuntimeError(f"no series for {PATIENT}")
    except RuntimeError:
        log.exception("job error")
    log.error("unhandled", exc_info=_duplicate_row())
    text = "\n".join(lines)
    assert "DOE^JOHN" not in text
    assert "RuntimeError" in text
    assert "in test_logged_exceptions_show_their_frames_never_their_message" in text
    assert "IntegrityError (SQLSTATE 23505)" in text


def test_arq_job_failures_keep_the_error_type_and_hide_its_message() -> None:
    from importer.logs import HideJobValues

    failed = logging.LogRecord(
        "arq.worker", logging.ERROR, __file__, 1, "%6.2fs ! %s failed, %s: %s",
        (0.3, "abc:reconcile", "IntegrityError", _duplicate_row()), None,
    )  # fmt: skip
    assert HideJobValues().filter(failed)
    assert "DOE^JOHN" not in failed.getMessage()
    assert failed.getMessage().endswith("abc:reconcile failed, IntegrityError: SQLSTATE 23505")


def _invalid_birth_date() -> None:
    """pydicom's own warning quoting the value ("Invalid value for VR DA: '1913-01-10'")."""
    pydicom.Dataset().PatientBirthDate = "1913-01-10"


def test_pydicom_warnings_are_neither_shown_nor_logged_after_start_up(
    started: None, lines: list[str]
) -> None:
    with warnings.catch_warnings(record=True) as shown:  # what Python would print
        _invalid_birth_date()
    assert not [w for w in shown if "1913-01-10" in str(w.message)]
    assert not [line for line in lines if "1913-01-10" in line]


def test_our_own_warnings_are_still_shown(started: None) -> None:
    with warnings.catch_warnings(record=True) as shown:
        warnings.warn("ours", UserWarning, stacklevel=1)
    assert [str(w.message) for w in shown] == ["ours"]


def test_pydicom_warnings_are_collected_per_thread() -> None:
    """Two readers at once, each in its own thread (the worker runs up to four jobs): each gets
    the warnings pydicom gave in its own thread, and only those, whatever the order in which
    they start and end."""
    from importer.logs import pydicom_warnings

    first_in, second_done = threading.Event(), threading.Event()
    seen: dict[str, list[str]] = {}

    def first() -> None:
        with pydicom_warnings() as notes:
            first_in.set()
            assert second_done.wait(10)
            pydicom.Dataset().PatientBirthDate = "1913-01-10"
        seen["first"] = [str(w.message) for w in notes]

    def second() -> None:
        assert first_in.wait(10)
        with pydicom_warnings() as notes:
            pydicom.Dataset().PatientBirthDate = "2001-02-03"
        seen["second"] = [str(w.message) for w in notes]
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert [len(seen[k]) for k in ("first", "second")] == [1, 1], seen
    assert "1913-01-10" in seen["first"][0]
    assert "2001-02-03" in seen["second"][0]


def test_text_lines_carry_the_context_fields() -> None:
    from importer.logs import TextFormatter

    record = logging.LogRecord("worker", logging.ERROR, __file__, 1, "job error", (), None)
    record.import_id = "abc"
    record.support_id = "MI-ABCDEFGH"
    line = TextFormatter().format(record)
    assert line.endswith("ERROR worker job error import_id=abc support_id=MI-ABCDEFGH")


def test_an_exception_given_as_the_message_or_an_argument_shows_no_message(
    started: None, lines: list[str]
) -> None:
    """pynetdicom logs ``LOGGER.exception(exc)`` (the exception as the message) when a C-FIND
    answer or a C-STORE request does not decode; a library may log ``"…%s", exc``."""
    log = logging.getLogger("pynetdicom.assoc")
    error = ValueError(f"Invalid value for VR PN: '{PATIENT}'")
    log.error(error)
    log.error("decoding failed: %s", error)
    log.error("decoding failed: %(why)s", {"why": error})
    text = "\n".join(lines)
    assert "DOE^JOHN" not in text
    assert "decoding failed: ValueError" in text  # the type stays: something went wrong there


def test_an_arq_failure_line_made_by_logging_keeps_the_type(
    started: None, lines: list[str]
) -> None:
    logging.getLogger("arq.worker").error(
        "%6.2fs ! %s failed, %s: %s", 0.3, "abc:reconcile", "IntegrityError", _duplicate_row()
    )
    text = "\n".join(lines)
    assert "DOE^JOHN" not in text
    assert "SQLSTATE 23505" in text
