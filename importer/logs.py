"""Logging set-up of the api and worker processes.

Application logs carry import ids, never patient data. Libraries that log DICOM values (pydicom
reports invalid values with the value itself, pynetdicom can dump datasets) are kept quiet.
"""

from __future__ import annotations

import logging

from pynetdicom import _config as pynetdicom_config

QUIET = {
    "pydicom": logging.CRITICAL + 1,  # its warnings quote element values: never in our logs
    "pynetdicom": logging.WARNING,
    "pynetdicom.events": logging.CRITICAL + 1,
    "pynetdicom.dsutils": logging.CRITICAL + 1,
}


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger().setLevel(level)
    for name, quiet_level in QUIET.items():
        logging.getLogger(name).setLevel(quiet_level)
    # pynetdicom logs query and response identifiers (patient names, ids) at DEBUG
    pynetdicom_config.LOG_REQUEST_IDENTIFIERS = False
    pynetdicom_config.LOG_RESPONSE_IDENTIFIERS = False
