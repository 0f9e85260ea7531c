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
