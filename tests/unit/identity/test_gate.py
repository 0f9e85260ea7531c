"""The one identity gate, table by table (pure: no I/O)."""

from __future__ import annotations

import pytest

from importer.identity.gate import (
    Person,
    StudyCheck,
    distinct_patients,
    judge,
    needs_acknowledgement,
)

ROSSI = Person(name="ROSSI^MARIO", id="H1", issuer="HOSP", birth_date="19740101", sex="M")
BIANCHI = Person(name="BIANCHI^LUCA", id="H2", issuer="HOSP", birth_date="19800505", sex="M")
ON_CD = Person(name="Rossi^Mario", id="EXT-9", birth_date="19740101", sex="M")


def check(*patients: Person, seen: Person | None = ROSSI, pacs: str | None = None) -> StudyCheck:
    return StudyCheck(uid="1.2.3", patients=patients, compared_with=seen, pacs_patient_id=pacs)


@pytest.mark.parametrize(
    ("study", "expected", "changed", "conflict", "mismatched"),
    [
        # compared with the order's patient as it is now: nothing to say
        (check(ON_CD), ROSSI, False, False, False),
        # the RIS changed the order's patient since the comparison shown
        (check(ON_CD), BIANCHI, True, False, True),
        # the same patient re-sent with another spelling of the name is still a change
        (check(ON_CD), Person(**{**ROSSI.to_dict(), "name": "ROSSI^MARIA"}), True, False, True),
        # never compared (worklist mode, temporary zone): the comparison must be shown first
        (check(ON_CD, seen=None), ROSSI, True, False, False),
        # a second patient hidden in the study needs the acknowledgement
        (check(ON_CD, BIANCHI), ROSSI, False, False, True),
        # the PACS holds the study under another patient
        (check(ON_CD, pacs="H7"), ROSSI, False, True, False),
        # ... or under this one: no conflict
        (check(ON_CD, pacs="H1"), ROSSI, False, False, False),
        # no patient found at all is never a silent match
        (check(), ROSSI, False, False, True),
    ],
)
def test_judge(
    study: StudyCheck, expected: Person, changed: bool, conflict: bool, mismatched: bool
) -> None:
    verdict = judge([(study, expected)])
    assert bool(verdict.changed) is changed
    assert bool(verdict.conflicts) is conflict
    assert bool(verdict.mismatched) is mismatched
    assert verdict.reports["1.2.3"]


def test_every_distinct_patient_is_kept_however_many_spellings_come_first() -> None:
    spellings = [Person(name=n, id="EXT-9") for n in ("ROSSI^MARIO", "rossi^mario", "Rossi^Mario ")]
    people = distinct_patients([*spellings * 20, Person(name="BIANCHI^LUCA", id="EXT-9")])
    assert [p.name for p in people] == ["ROSSI^MARIO", "BIANCHI^LUCA"]
    assert judge([(check(*people), ROSSI)]).mismatched == ["1.2.3"]


@pytest.mark.parametrize(
    ("overalls", "needed"),
    [
        (["match"], False),
        (["format_different", "match"], False),
        (["match", "mismatch"], True),
        ([None], True),
        ([], False),
    ],
)
def test_needs_acknowledgement(overalls: list[str | None], needed: bool) -> None:
    reports = [{"overall": o} if o else None for o in overalls]
    assert needs_acknowledgement(reports) is needed


def test_person_round_trip() -> None:
    assert Person.of(ROSSI.to_dict()) == ROSSI
    assert Person.of(None) is None
    assert Person.of({"name": None, "id": "X"}) == Person(id="X")
