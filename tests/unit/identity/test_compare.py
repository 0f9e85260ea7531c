"""compare_patients and its field comparisons, table-driven."""

from __future__ import annotations

import json

import pytest

from importer.identity import IdentityReport, Reason, compare_patients
from importer.identity.compare import compare_birth_dates, compare_names, compare_sex

R = Reason

NAME_CASES: list[tuple[str, str | None, str, set[Reason]]] = [
    # expected (order), found (media), field status, reasons
    # --- identical or insignificant differences
    ("ROSSI^MARIO", "ROSSI^MARIO", "match", set()),
    ("ROSSI^MARIO", "ROSSI^MARIO^^^", "match", set()),
    ("ROSSI^MARIO", " ROSSI ^MARIO ", "match", set()),
    ("ROSSI^MARIO", "ROSSI^MARIO=", "match", set()),
    ("Yamada^Tarou", "Yamada^Tarou=山田^太郎=やまだ^たろう", "match", set()),
    ("=山田^太郎", "=山田^太郎=やまだ^たろう", "match", set()),
    ("DE LUCA^ANNA", "DE  LUCA^ANNA", "match", set()),
    # --- format_different: the same letters arranged differently
    ("ROSSI^MARIO", "Rossi^Mario", "format_different", {R.NAME_CASE}),
    ("YAMADA^TAROU", "Yamada^Tarou=山田^太郎=やまだ^たろう", "format_different", {R.NAME_CASE}),
    ("ROSSI^MARIO", "MARIO^ROSSI", "format_different", {R.NAME_ORDER_SWAPPED}),
    ("ROSSI^MARIO", "ROSSI MARIO", "format_different", {R.NAME_ONE_FIELD}),
    ("ROSSI^MARIO", "ROSSI MARIO^", "format_different", {R.NAME_ONE_FIELD}),
    ("ROSSI^MARIO", "MARIO ROSSI", "format_different", {R.NAME_ONE_FIELD, R.NAME_ORDER_SWAPPED}),
    ("ROSSI MARIO", "MARIO ROSSI", "format_different", {R.NAME_ORDER_SWAPPED}),
    ("ROSSI^MARIO", "Rossi, Mario", "format_different", {R.NAME_ONE_FIELD, R.NAME_CASE}),
    ("ROSSI^MARIO", "ROSSI, MARIO", "format_different", {R.NAME_ONE_FIELD}),
    ("ROSSI^MARIO", "ROSSI*^MARIO", "format_different", {R.NAME_WILDCARD}),
    ("ROSSI^MARIO", "ROSSI%^MARIO%", "format_different", {R.NAME_WILDCARD}),
    ("ROSSI^MARIO", "ROSSI?^MARIO", "format_different", {R.NAME_WILDCARD}),
    ("CERRI^SIMONE", "CERRI*SIMONE", "format_different", {R.NAME_ONE_FIELD, R.NAME_WILDCARD}),
    ("D'ANGELO^LUCA", "DANGELO^LUCA", "format_different", {R.NAME_SEPARATOR}),
    ("D'ANGELO^LUCA", "D ANGELO^LUCA", "format_different", {R.NAME_SEPARATOR}),
    ("DANGELO^LUCA", "D ANGELO^LUCA", "format_different", {R.NAME_SEPARATOR}),
    ("D'ANGELO^LUCA", "D’ANGELO^LUCA", "format_different", {R.NAME_SEPARATOR}),
    ("D'ANGELO^LUCA", "d'Angelo^Luca", "format_different", {R.NAME_CASE}),
    (
        "DE LA FONTAINE^JEAN-PIERRE",
        "DELAFONTAINE^JEAN PIERRE",
        "format_different",
        {R.NAME_SEPARATOR},
    ),
    (
        "DE LA FONTAINE^JEAN-PIERRE",
        "DE LA FONTAINE^JEAN–PIERRE",
        "format_different",
        {R.NAME_SEPARATOR},
    ),
    ("MARTIN^JEAN-MICHEL", "MARTIN^JEAN – MICHEL", "format_different", {R.NAME_SEPARATOR}),
    ("MARTIN^JEAN-MICHEL", "MARTIN^JEAN_MICHEL", "format_different", {R.NAME_SEPARATOR}),
    ("MARTIN^JEAN-MICHEL", "MARTIN^JEANMICHEL", "format_different", {R.NAME_SEPARATOR}),
    (
        "DE LA FONTAINE^JEAN-PIERRE",
        "JEAN-PIERRE DE LA FONTAINE",
        "format_different",
        {R.NAME_ONE_FIELD, R.NAME_ORDER_SWAPPED},
    ),
    (
        "DE LA FONTAINE^JEAN-PIERRE",
        "DE LA FONTAINE JEAN-PIERRE",
        "format_different",
        {R.NAME_ONE_FIELD},
    ),
    (
        "DE LA FONTAINE^JEAN-PIERRE",
        "delafontaine^jean pierre",
        "format_different",
        {R.NAME_SEPARATOR, R.NAME_CASE},
    ),
    ("DUPONT^FRANÇOIS", "DUPONT^FRANCOIS", "format_different", {R.NAME_ACCENTS}),
    ("LEFÈVRE^HÉLÈNE", "LEFEVRE^HELENE", "format_different", {R.NAME_ACCENTS}),
    ("Lefèvre^Hélène", "LEFEVRE^HELENE", "format_different", {R.NAME_ACCENTS, R.NAME_CASE}),
    ("NICOLÒ^ROSSI", "ROSSI^NICOLO", "format_different", {R.NAME_ACCENTS, R.NAME_ORDER_SWAPPED}),
    ("MÜLLER^JÖRG", "MULLER^JORG", "format_different", {R.NAME_ACCENTS}),
    ("MÜLLER^JÖRG", "MUELLER^JOERG", "format_different", {R.NAME_ACCENTS}),
    ("STRAßER^ANNA", "STRASSER^ANNA", "format_different", {R.NAME_ACCENTS}),
    ("ØSTERGÅRD^SØREN", "OSTERGARD^SOREN", "format_different", {R.NAME_ACCENTS}),
    ("ROSSI^MARIO^LUIGI", "ROSSI^MARIO LUIGI", "format_different", {R.NAME_MIDDLE_NAME}),
    ("FONTAINE^JEAN DE LA", "DE LA FONTAINE^JEAN", "format_different", {R.NAME_PARTICLE}),
    ("GOGH^VINCENT^VAN", "VAN GOGH^VINCENT", "format_different", {R.NAME_PARTICLE}),
    ("ROSSI^MARIO^^DR", "ROSSI^MARIO", "format_different", {R.NAME_PREFIX_SUFFIX}),
    ("ROSSI^MARIO^^^JR", "ROSSI^MARIO", "format_different", {R.NAME_PREFIX_SUFFIX}),
    # --- similar: likely misspellings, incomplete names (never accepted silently)
    ("ROSSI^MARIO", "ROSSI^MARIA", "similar", {R.GIVEN_NAME_TYPO}),
    ("ROSSI^MARIA", "ROSSI^MARIO", "similar", {R.GIVEN_NAME_TYPO}),
    ("ROSSI^MARIO", "ROSSSI^MARIO", "similar", {R.NAME_TYPO}),
    ("ROSSI^MARIO", "ROSI^MARIO", "similar", {R.NAME_TYPO}),
    ("ROSSI^MARIO", "RSOSI^MARIO", "similar", {R.NAME_TYPO}),
    ("ROSSI^MARIO", "ROSSY^MARIO", "similar", {R.NAME_TYPO}),
    ("DUPONT^YVES", "DUPONT^IVES", "similar", {R.GIVEN_NAME_TYPO}),
    ("LETELLIER^KILLIAN", "LETTELLIER^KYLIAN", "similar", {R.NAME_TYPO, R.GIVEN_NAME_TYPO}),
    ("LETELLIER^KILLIAN", "LETELIER^KYLLIAN", "similar", {R.NAME_TYPO, R.GIVEN_NAME_TYPO}),
    ("LETELLIER^KILLIAN", "LETTELIER^KILLIAN", "similar", {R.NAME_TYPO}),
    ("DUPONT^PHILIPPE", "DUPONT^FILIPPE", "similar", {R.GIVEN_NAME_TYPO}),
    ("ROSSI^MARIO", "MARIA^ROSSI", "similar", {R.GIVEN_NAME_TYPO, R.NAME_ORDER_SWAPPED}),
    ("ROSSI^MARIO", "ROSSI MARIA", "similar", {R.GIVEN_NAME_TYPO, R.NAME_ONE_FIELD}),
    ("YAMADA^TAROU", "YAMADA^TARO", "similar", {R.GIVEN_NAME_TYPO}),
    ("DE LA FONTAINE^JEAN", "FONTAINE^JEAN", "similar", {R.NAME_PARTICLE_MISSING}),
    ("DI MAIO^LUIGI", "MAIO^LUIGI", "similar", {R.NAME_PARTICLE_MISSING}),
    ("DUPONT^JEAN-PIERRE", "DUPONT^JEAN", "similar", {R.GIVEN_NAME_PARTIAL}),
    ("ROSSI^MARIO", "ROSSI^MARIO^LUIGI", "similar", {R.GIVEN_NAME_PARTIAL}),
    ("ROSSI^MARIO", "ROSSI^M", "similar", {R.GIVEN_NAME_PARTIAL}),
    ("ROSSI BIANCHI^ANNA", "ROSSI^ANNA", "similar", {R.FAMILY_NAME_PARTIAL}),
    ("ROSSI^MARIO", "ROSSI", "similar", {R.GIVEN_NAME_MISSING}),
    ("ROSSI^MARIO", "^MARIO", "similar", {R.FAMILY_NAME_MISSING}),
    ("ROSSI^MARIO", "ROSSI*^MARIA", "similar", {R.GIVEN_NAME_TYPO, R.NAME_WILDCARD}),
    # --- mismatch
    ("ROSSI^MARIO", "BIANCHI^LUCA", "mismatch", {R.FAMILY_NAME_DIFFERS, R.GIVEN_NAME_DIFFERS}),
    ("ROSSI^MARIO", "ROSSI^LUCA", "mismatch", {R.GIVEN_NAME_DIFFERS}),
    ("ROSSI^MARIO", "VERDI^MARIO", "mismatch", {R.FAMILY_NAME_DIFFERS}),
    ("ROSSI^MARIO", "ROSSI^GIOVANNI", "mismatch", {R.GIVEN_NAME_DIFFERS}),
    ("DUPONT^JEAN", "DURAND^JEAN", "mismatch", {R.FAMILY_NAME_DIFFERS}),
    (
        "TEST^TEST",
        "CERRI*SIMONE",
        "mismatch",
        {R.FAMILY_NAME_DIFFERS, R.GIVEN_NAME_DIFFERS, R.NAME_WILDCARD, R.NAME_ONE_FIELD},
    ),
    ("SMITH^JOHN^^^JR", "SMITH^JOHN^^^SR", "mismatch", {R.NAME_SUFFIX_DIFFERS}),
    ("YAMADA^TAROU", "=山田^太郎", "mismatch", {R.FAMILY_NAME_DIFFERS, R.GIVEN_NAME_DIFFERS}),
    # --- missing
    ("ROSSI^MARIO", "", "missing", {R.NAME_MISSING}),
    ("ROSSI^MARIO", None, "missing", {R.NAME_MISSING}),
    ("ROSSI^MARIO", "^^^^", "missing", {R.NAME_MISSING}),
    ("ROSSI^MARIO", "*", "missing", {R.NAME_MISSING}),
    ("", "ROSSI^MARIO", "missing", {R.NAME_MISSING}),
    ("", "", "missing", {R.NAME_MISSING}),
]


@pytest.mark.parametrize(("expected", "found", "status", "reasons"), NAME_CASES)
def test_compare_names(expected: str, found: str | None, status: str, reasons: set[Reason]) -> None:
    assert compare_names(expected, found) == (status, reasons)


@pytest.mark.parametrize(("expected", "found", "status", "reasons"), NAME_CASES)
def test_compare_names_is_symmetric(
    expected: str, found: str | None, status: str, reasons: set[Reason]
) -> None:
    assert compare_names(found, expected)[0] == status


@pytest.mark.parametrize(
    ("expected", "found"),
    [
        ("ROSSI^MARIO", "ROSSI^MARIA"),
        ("ROSSI^MARIA", "ROSSI^MARIO"),
        ("DUPONT^JEAN", "DUPONT^JEANNE"),
        ("MARTIN^LOUIS", "MARTIN^LOUISE"),
        ("BIANCHI^FRANCESCO", "BIANCHI^FRANCESCA"),
        ("ROSSI^GIULIO", "ROSSI^GIULIA"),
        ("ROSSI^MARIO", "MARIA ROSSI"),
        ("ROSSI^MARIO", "Rossi, Maria"),
    ],
)
def test_twins_are_never_accepted(expected: str, found: str) -> None:
    report = compare_patients(
        {"name": expected, "birth_date": "20100101", "sex": "M"},
        {"name": found, "birth_date": "20100101", "sex": "M"},
    )
    assert report.fields["name"] in {"similar", "mismatch"}
    assert report.overall == "mismatch"


@pytest.mark.parametrize(
    ("expected", "found", "status", "reasons"),
    [
        ("19740101", "19740101", "match", set()),
        (" 19740101 ", "19740101", "match", set()),
        ("19740101", "", "missing", {R.BIRTH_DATE_MISSING}),
        ("19740101", None, "missing", {R.BIRTH_DATE_MISSING}),
        ("", "19740101", "missing", {R.BIRTH_DATE_MISSING}),
        (None, None, "missing", {R.BIRTH_DATE_MISSING}),
        ("19740312", "19741203", "similar", {R.BIRTH_DATE_DAY_MONTH_SWAPPED}),
        ("19741203", "19740312", "similar", {R.BIRTH_DATE_DAY_MONTH_SWAPPED}),
        ("19740101", "1974-01-01", "format_different", {R.BIRTH_DATE_FORMAT}),
        ("19740101", "1974.01.01", "format_different", {R.BIRTH_DATE_FORMAT}),
        ("19740312", "1974-12-03", "similar", {R.BIRTH_DATE_DAY_MONTH_SWAPPED}),
        ("19740101", "19720530", "mismatch", {R.BIRTH_DATE_DIFFERS}),
        ("19740101", "19740102", "mismatch", {R.BIRTH_DATE_DIFFERS}),
        ("19740101", "19750101", "mismatch", {R.BIRTH_DATE_DIFFERS}),
        ("19740113", "19741301", "mismatch", {R.BIRTH_DATE_INVALID}),
        ("19740101", "00000000", "mismatch", {R.BIRTH_DATE_INVALID}),
        ("19740101", "1974", "mismatch", {R.BIRTH_DATE_INVALID}),
        ("19740101", "1974-0101", "mismatch", {R.BIRTH_DATE_INVALID}),
        ("19740101", "01/01/1974", "mismatch", {R.BIRTH_DATE_INVALID}),
        ("00000000", "00000000", "match", set()),
    ],
)
def test_compare_birth_dates(
    expected: str | None, found: str | None, status: str, reasons: set[Reason]
) -> None:
    assert compare_birth_dates(expected, found) == (status, reasons)
    assert compare_birth_dates(found, expected) == (status, reasons)


@pytest.mark.parametrize(
    ("expected", "found", "status", "reasons"),
    [
        ("M", "M", "match", set()),
        ("F", "f", "match", set()),
        ("O", " O ", "match", set()),
        ("M", "F", "mismatch", {R.SEX_DIFFERS}),
        ("F", "O", "mismatch", {R.SEX_DIFFERS}),
        ("M", "", "missing", {R.SEX_MISSING}),
        ("", "F", "missing", {R.SEX_MISSING}),
        (None, "F", "missing", {R.SEX_MISSING}),
    ],
)
def test_compare_sex(
    expected: str | None, found: str | None, status: str, reasons: set[Reason]
) -> None:
    assert compare_sex(expected, found) == (status, reasons)


ORDER = {"name": "ROSSI^MARIO", "birth_date": "19740101", "sex": "M", "id": "IOTELU1234"}


@pytest.mark.parametrize(
    ("found", "overall", "fields", "reasons"),
    [
        (
            {"name": "ROSSI^MARIO", "birth_date": "19740101", "sex": "M", "id": "97119460"},
            "match",
            ("match", "match", "match"),
            (),
        ),
        (
            {"name": "MARIO ROSSI", "birth_date": "19740101", "sex": "m"},
            "format_different",
            ("format_different", "match", "match"),
            ("NAME_ORDER_SWAPPED", "NAME_ONE_FIELD"),
        ),
        (
            {"name": "ROSSI^MARIO", "birth_date": "1974-01-01", "sex": "M"},
            "format_different",
            ("match", "format_different", "match"),
            ("BIRTH_DATE_FORMAT",),
        ),
        (
            {"name": "ROSSI^MARIA", "birth_date": "19740101", "sex": "M"},
            "mismatch",
            ("similar", "match", "match"),
            ("GIVEN_NAME_TYPO",),
        ),
        (
            {"name": "CERRI*SIMONE", "birth_date": "19720530", "sex": "M"},
            "mismatch",
            ("mismatch", "mismatch", "match"),
            (
                "NAME_ONE_FIELD",
                "NAME_WILDCARD",
                "FAMILY_NAME_DIFFERS",
                "GIVEN_NAME_DIFFERS",
                "BIRTH_DATE_DIFFERS",
            ),
        ),
        (
            {"name": "ROSSI^MARIO", "birth_date": "", "sex": "M"},
            "mismatch",
            ("match", "missing", "match"),
            ("BIRTH_DATE_MISSING",),
        ),
        (
            {"name": "ROSSI^MARIO", "sex": "M"},
            "mismatch",
            ("match", "missing", "match"),
            ("BIRTH_DATE_MISSING",),
        ),
        (
            {"name": "ROSSI^MARIO", "birth_date": "19740101", "sex": None},
            "mismatch",
            ("match", "match", "missing"),
            ("SEX_MISSING",),
        ),
        (
            {"name": "ROSSI^MARIO", "birth_date": "19740101", "sex": "F"},
            "mismatch",
            ("match", "match", "mismatch"),
            ("SEX_DIFFERS",),
        ),
        (
            {"name": "Rossi^Mario", "birth_date": "19740101", "sex": "F"},
            "mismatch",
            ("format_different", "match", "mismatch"),
            ("NAME_CASE", "SEX_DIFFERS"),
        ),
        (
            {},
            "mismatch",
            ("missing", "missing", "missing"),
            ("NAME_MISSING", "BIRTH_DATE_MISSING", "SEX_MISSING"),
        ),
    ],
)
def test_compare_patients(
    found: dict[str, str | None],
    overall: str,
    fields: tuple[str, str, str],
    reasons: tuple[str, ...],
) -> None:
    report = compare_patients(ORDER, found)
    assert report.overall == overall
    assert (report.fields["name"], report.fields["birth_date"], report.fields["sex"]) == fields
    assert report.reasons == reasons
    assert compare_patients(found, ORDER).overall == overall


def test_report_to_dict_is_json_ready() -> None:
    report = compare_patients(ORDER, {"name": "ROSSI^MARIA", "birth_date": "", "sex": "M"})
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == {
        "overall": "mismatch",
        "fields": {"name": "similar", "birth_date": "missing", "sex": "match"},
        "reasons": ["GIVEN_NAME_TYPO", "BIRTH_DATE_MISSING"],
    }
    data["fields"] = {}
    assert report.fields["name"] == "similar"


def test_report_is_frozen() -> None:
    report = compare_patients(ORDER, ORDER)
    assert isinstance(report, IdentityReport)
    with pytest.raises(AttributeError):
        report.overall = "mismatch"  # type: ignore[misc]


def test_reasons_are_stable_strings() -> None:
    assert all(str(r) == r.name for r in Reason)
    assert R.NAME_TYPO == "NAME_TYPO"
