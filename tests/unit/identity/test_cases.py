"""The labelled identity suite (tests/unit/identity/cases.py): each case names itself on failure."""

from __future__ import annotations

from collections import Counter

import pytest

from importer.identity import FieldStatus, Reason, compare_patients
from importer.identity.report import overall_of
from tests.unit.identity.cases import CASES, Case

CATEGORIES = ("it", "fr", "de", "es", "ja", "twin", "swap", "missing", "wild")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case: Case) -> None:
    order, media = case.as_dicts()
    report = compare_patients(order, media)
    assert (
        report.fields["name"],
        report.fields["birth_date"],
        report.fields["sex"],
        report.overall,
        " ".join(report.reasons),
    ) == (case.name, case.birth_date, case.sex, case.overall, case.reasons)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case_is_symmetric(case: Case) -> None:
    """Which side is the order does not change any status (reasons may differ in wording)."""
    order, media = case.as_dicts()
    report = compare_patients(media, order)
    assert (report.fields["name"], report.fields["birth_date"], report.fields["sex"]) == (
        case.name,
        case.birth_date,
        case.sex,
    )
    assert report.overall == case.overall


def test_the_table_is_consistent() -> None:
    ids = [case.id for case in CASES]
    assert len(CASES) >= 150
    assert not [i for i, n in Counter(ids).items() if n > 1], "case ids must be unique"
    prefixes = Counter(case.id.split("-")[0] for case in CASES)
    for category in CATEGORIES:
        assert prefixes[category] >= 5, category
    known = {str(r) for r in Reason}
    for case in CASES:
        fields: dict[str, FieldStatus] = {
            "name": case.name,
            "birth_date": case.birth_date,
            "sex": case.sex,
        }
        assert case.overall == overall_of(fields), case.id
        assert set(case.reasons.split()) <= known, case.id


def test_every_reason_code_is_exercised() -> None:
    """Every reason of a comparison the UI must translate appears in at least one labelled case
    (the one of what is remembered comes from no comparison of two patients: test_memory.py)."""
    seen = {code for case in CASES for code in case.reasons.split()}
    assert seen == {str(r) for r in Reason} - {Reason.FILED_BEFORE_UNDER_ANOTHER_PATIENT}
