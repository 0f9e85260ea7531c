"""A real dcmtk ``wlmscpfs`` for the worklist client tests, holding a known set of orders.

Started once for this folder on a free loopback port, stopped by pid at the end. The orders are
all scheduled relative to ``DAY`` (the tests pass it as "today"), never the real date.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from devstack import WorklistProcess
from importer.settings import parse_dimse_url
from importer.worklist.client import WorklistClient

CALLING_AE = "PYTEST"
DAY = "20250304"
TODAY = date(2025, 3, 4)

# accession: (patient name, patient id, birth date, sex, scheduled date, modality, description)
ORDERS: dict[str, tuple[str, str, str, str, str, str, str]] = {
    # One patient, several orders on different dates (one medium, several studies).
    "ROSSI-CT": ("ROSSI^MARIO", "PID-ROSSI", "19740101", "M", DAY, "CT", "CT TORACE"),
    "ROSSI-MR": ("ROSSI^MARIO", "PID-ROSSI", "19740101", "M", "20250311", "MR", "RM ENCEFALO"),
    "ROSSI-OLD": ("ROSSI^MARIO", "PID-ROSSI", "19740101", "M", "20241105", "CR", "RX TORACE"),
    # Twins: same family name and birth date, one letter apart.
    "TWIN-LUCA": ("BIANCHI^LUCA", "PID-LUCA", "20100101", "M", DAY, "CT", "CT ADDOME"),
    "TWIN-LUCIA": ("BIANCHI^LUCIA", "PID-LUCIA", "20100101", "F", DAY, "CT", "CT ADDOME"),
    # Accents, compound names, particles, the French seed's examples.
    "LEFEVRE": ("LEFÈVRE^HÉLÈNE", "PID-LEFEVRE", "19810214", "F", DAY, "MG", "MAMMOGRAPHIE"),
    "DURAND": ("DURAND^PAUL", "PID-DURAND", "19810214", "M", DAY, "CR", "RADIO THORAX"),
    "MULLER": ("MÜLLER^JÖRG", "PID-MULLER", "19630415", "M", DAY, "MR", "MRT KNIE"),
    "MARTIN": ("MARTIN^JEAN-MICHEL", "PID-MARTIN", "19600101", "M", DAY, "CT", "SCANNER"),
    "LETELLIER": ("LETELLIER^KILLIAN", "PID-LETELLIER", "20050612", "M", DAY, "OT", "INT CD"),
    "FONTAINE": ("DE LA FONTAINE^JEAN-PIERRE", "PID-FONTAINE", "19450808", "M", DAY, "US",
                 "ECHOGRAPHIE"),
    "GARCIA": ("GARCÍA LÓPEZ^JOSÉ LUIS", "PID-GARCIA", "19750625", "M", DAY, "CT", "TC CRANEO"),
    "YAMADA": ("YAMADA^TAROU=山田^太郎=やまだ^たろう", "PID-YAMADA", "19700131", "M", DAY, "CT",
               "CT HEAD"),
}  # fmt: skip


@pytest.fixture(scope="package")
def worklist_scp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorklistProcess]:
    process = WorklistProcess(tmp_path_factory.mktemp("worklist"), aet="RISWL")
    for accession, (name, pid, birth, sex, day, modality, description) in ORDERS.items():
        process.add_item(
            patient_name=name,
            patient_id=pid,
            issuer_of_patient_id="HOSPITAL",
            accession_number=accession,
            patient_birth_date=birth,
            patient_sex=sex,
            requested_procedure_id=f"RP-{accession}",
            requested_procedure_description=description,
            modality=modality,
            scheduled_start_date=day,
            scheduled_start_time="093000",
        )
    with process:
        yield process


@pytest.fixture
def client(worklist_scp: WorklistProcess) -> WorklistClient:
    return WorklistClient(
        parse_dimse_url(worklist_scp.dimse_url), calling_ae=CALLING_AE, timeout=10
    )
