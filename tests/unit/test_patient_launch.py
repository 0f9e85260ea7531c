"""Import for a patient without an order (issue 16, point 4): the launch names an order or a
patient, and a patient has one key. The whole journey is in
tests/integration/test_patient_launch.py."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from importer.access.schemas import LaunchCreate, PatientIn
from importer.access.service import patient_key


def test_a_launch_names_an_order_or_a_patient_and_a_patient_has_one_key() -> None:
    patient = {"id": "P1", "issuer": "HOSP", "name": "ROSSI^MARIO", "birth_date": "19740101"}
    patient["sex"] = "M"
    user = {"id": "u", "name": "U"}
    assert LaunchCreate.model_validate({"user": user, "patient": patient}).patient is not None
    with pytest.raises(ValidationError, match="not both"):
        LaunchCreate.model_validate(
            {
                "user": user,
                "patient": patient,
                "order": {"accession_number": "A", "patient": patient},
            }
        )
    key = patient_key(PatientIn.model_validate(patient))
    assert len(key) == 16
    assert key.startswith("~")
    renamed = PatientIn.model_validate({**patient, "name": "ROSSI^MARIO^LUIGI"})
    assert patient_key(renamed) == key  # the same patient, however the RIS names them
    other = PatientIn.model_validate({**patient, "issuer": "OTHER"})
    assert patient_key(other) != key
