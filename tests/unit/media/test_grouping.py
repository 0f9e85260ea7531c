"""A study whose instances disagree on the patient is flagged with stable codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.media import PatientData, ScannedInstance, SeriesData, StudyData, patient_conflicts
from importer.media.grouping import (
    STUDY_BIRTH_DATE_DIFFERS,
    STUDY_PATIENT_ID_DIFFERS,
    STUDY_PATIENT_NAME_DIFFERS,
    STUDY_PATIENTS_DIFFER,
    STUDY_SEX_DIFFERS,
)

BASE = {"name": "ROSSI^MARIO", "id": "P1", "birth_date": "19740101", "sex": "M"}


def _instance(n: int, **patient: str) -> ScannedInstance:
    values = {**BASE, **patient}
    return ScannedInstance(
        display_path=f"DICOM/IM{n:04d}",
        path=Path(f"/spool/f/{n:06d}"),
        size=1000,
        stamp="1:2:3:4",
        read_again=False,
        sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
        sop_instance_uid=f"1.2.3.{n}",
        transfer_syntax_uid="1.2.840.10008.1.2.1",
        has_file_meta=True,
        patient=PatientData(
            name=values["name"],
            id=values["id"],
            issuer="",
            birth_date=values["birth_date"],
            sex=values["sex"],
        ),
        study=StudyData("1.2.3", "", "", "", "", "", ""),
        series=SeriesData("1.2.3.1", "CT", 1, ""),
        warnings=(),
    )


def _study(*variants: dict[str, str]) -> list[ScannedInstance]:
    return [_instance(n, **v) for n, v in enumerate(variants)]


@pytest.mark.parametrize(
    ("variants", "why"),
    [
        ([{}], "a single instance"),
        ([{}, {}, {}], "the same patient everywhere"),
        ([{}, {"name": "Rossi^Mario"}], "case"),
        ([{}, {"name": "ROSSI^MARIO^^^"}], "trailing empty components"),
        ([{}, {"name": "MARIO^ROSSI"}], "family and given swapped"),
        ([{"name": "MÜLLER^HANS"}, {"name": "MULLER^HANS"}], "accents lost by another writer"),
        ([{}, {"birth_date": "1974-01-01"}], "an old date format"),
        ([{}, {"sex": "m"}], "sex in lower case"),
        ([{}, {"id": " P1 "}], "padding around the ID"),
        ([{}, {"name": "", "id": "", "birth_date": "", "sex": ""}], "an SR without patient"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_the_same_patient_written_differently_is_no_conflict(
    variants: list[dict[str, str]], why: str
) -> None:
    assert patient_conflicts(_study(*variants)) == [], why


@pytest.mark.parametrize(
    ("variant", "code"),
    [
        ({"id": "P2"}, STUDY_PATIENT_ID_DIFFERS),
        ({"name": "BIANCHI^LUCA"}, STUDY_PATIENT_NAME_DIFFERS),
        ({"name": "ROSSI^MARIA"}, STUDY_PATIENT_NAME_DIFFERS),  # twins differ by one letter
        ({"birth_date": "19740102"}, STUDY_BIRTH_DATE_DIFFERS),
        ({"sex": "F"}, STUDY_SEX_DIFFERS),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_one_differing_field_is_flagged(variant: dict[str, str], code: str) -> None:
    assert patient_conflicts(_study({}, {}, variant, {})) == [STUDY_PATIENTS_DIFFER, code]


def test_every_differing_field_is_flagged_in_a_fixed_order() -> None:
    other = {"name": "VERDI^ANNA", "id": "X9", "birth_date": "19900505", "sex": "F"}
    expected = [
        STUDY_PATIENTS_DIFFER,
        STUDY_PATIENT_ID_DIFFERS,
        STUDY_PATIENT_NAME_DIFFERS,
        STUDY_BIRTH_DATE_DIFFERS,
        STUDY_SEX_DIFFERS,
    ]
    assert patient_conflicts(_study({}, other)) == expected
    assert patient_conflicts(_study(other, {})) == expected


def test_a_conflict_is_found_whatever_the_order_of_the_instances() -> None:
    # the first and last agree; only a pair in the middle disagrees
    variants = [{}, {"name": "Rossi^Mario"}, {"name": "ROSSI^MARIA"}, {}]
    assert patient_conflicts(_study(*variants)) == [
        STUDY_PATIENTS_DIFFER,
        STUDY_PATIENT_NAME_DIFFERS,
    ]


def test_many_distinct_values_stay_cheap_and_are_flagged() -> None:
    instances = [_instance(n, id=f"ID{n}") for n in range(5000)]
    assert patient_conflicts(instances) == [STUDY_PATIENTS_DIFFER, STUDY_PATIENT_ID_DIFFERS]


def test_no_instances_no_conflict() -> None:
    assert patient_conflicts([]) == []
