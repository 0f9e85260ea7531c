"""Tokens never reach the access log."""

from __future__ import annotations

import json
import logging

import pytest

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
