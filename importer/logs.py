"""Logging set-up of the api and worker processes.

Application logs carry import ids, never patient data. Libraries that log DICOM values (pydicom
reports invalid values with the value itself, pynetdicom can dump datasets) are kept quiet.
"""

from __future__ import annotations

import logging
import re

from pynetdicom import _config as pynetdicom_config

QUIET = {
    "pydicom": logging.CRITICAL + 1,  # its warnings quote element values: never in our logs
    "pynetdicom": logging.WARNING,
    "pynetdicom.events": logging.CRITICAL + 1,
    "pynetdicom.dsutils": logging.CRITICAL + 1,
}


_SECRET_QUERY = re.compile(r"((?:^|[?&])(?:token|launch_token|access_token)=)[^&\s]*")


def redact(text: str) -> str:
    """Hide token values in a URL or path."""
    return _SECRET_QUERY.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Launch links carry a token in their query: access logs must not keep it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


_REDACT = RedactTokens()


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger().setLevel(level)
    for name, quiet_level in QUIET.items():
        logging.getLogger(name).setLevel(quiet_level)
    logging.getLogger("uvicorn.access").addFilter(_REDACT)
    # pynetdicom logs query and response identifiers (patient names, ids) at DEBUG
    pynetdicom_config.LOG_REQUEST_IDENTIFIERS = False
    pynetdicom_config.LOG_RESPONSE_IDENTIFIERS = False
