"""Worklist query building and ranking (importer.worklist.query), without a network."""

from __future__ import annotations

from datetime import date

import pytest
from pydicom import Dataset

from importer.settings import Settings
from importer.worklist.client import (
    CHARACTER_SET,
    item_from_identifier,
    request_identifier,
    worklist_client,
)
from importer.worklist.errors import WorklistError, WorklistNotConfigured
from importer.worklist.query import (
    MatchingKeys,
    Step,
    WorklistItem,
    WorklistQuery,
    name_patterns,
    normalise_date,
    rank_candidates,
    search_steps,
    similarity,
)

TODAY = date(2025, 3, 4)
DAY = "20250304"

# --------------------------------------------------------------------------- name patterns

# (label, name, given) -> (name step, name_prefix step, family_prefix step)
PATTERN_CASES: list[tuple[str, str, str, list[str], list[str], list[str]]] = [
    (
        "pn",
        "ROSSI^MARIO",
        "",
        ["ROSSI*MARIO*", "MARIO*ROSSI*"],
        ["ROS*M*", "MAR*R*"],
        ["ROS*", "MAR*"],
    ),
    (
        "lower case, one field, extra spaces",
        "  rossi   mario ",
        "",
        ["ROSSI*MARIO*", "MARIO*ROSSI*"],
        ["ROS*M*", "MAR*R*"],
        ["ROS*", "MAR*"],
    ),
    (
        "typed given first",
        "MARIO ROSSI",
        "",
        ["MARIO*ROSSI*", "ROSSI*MARIO*"],
        ["MAR*R*", "ROS*M*"],
        ["MAR*", "ROS*"],
    ),
    (
        "comma",
        "Rossi, Mario",
        "",
        ["ROSSI*MARIO*", "MARIO*ROSSI*"],
        ["ROS*M*", "MAR*R*"],
        ["ROS*", "MAR*"],
    ),
    (
        "two fields",
        "rossi",
        "mario",
        ["ROSSI*MARIO*", "MARIO*ROSSI*"],
        ["ROS*M*", "MAR*R*"],
        ["ROS*", "MAR*"],
    ),
    ("family only, wildcard typed", "ROSSI*", "", ["ROSSI*"], ["ROS*"], ["ROS*"]),
    ("family only, percent", "ROSSI%", "", ["ROSSI*"], ["ROS*"], ["ROS*"]),
    (
        "wildcards inside",
        "ROSS%^MAR?",
        "",
        ["ROSS*MAR*", "MAR*ROSS*"],
        ["ROS*M*", "MAR*R*"],
        ["ROS*", "MAR*"],
    ),
    (
        "caret wildcard habit",
        "CERRI*SIMONE",
        "",
        ["CERRI*SIMONE*", "SIMONE*CERRI*"],
        ["CER*S*", "SIM*C*"],
        ["CER*", "SIM*"],
    ),
    (
        "seed typo",
        "LETTELLIER^KYLLIAN",
        "",
        ["LETTELLIER*KYLLIAN*", "KYLLIAN*LETTELLIER*"],
        ["LET*K*", "KYL*L*"],
        ["LET*", "KYL*"],
    ),
    (
        "compound given, hyphen",
        "MARTIN^JEAN-MICHEL",
        "",
        ["MARTIN*JEAN*MICHEL*", "JEAN*MICHEL*MARTIN*"],
        ["MAR*J*", "JEA*M*"],
        ["MAR*", "JEA*"],
    ),
    (
        "compound given, spaced en dash",
        "MARTIN^JEAN – MICHEL",
        "",
        ["MARTIN*JEAN*MICHEL*", "JEAN*MICHEL*MARTIN*"],
        ["MAR*J*", "JEA*M*"],
        ["MAR*", "JEA*"],
    ),
    (
        "accents become wildcards",
        "LEFÈVRE^HÉLÈNE",
        "",
        ["LEF*VRE*H*L*NE*", "H*L*NE*LEF*VRE*"],
        ["LEF*H*", "H*L*N*L*"],
        ["LEF*", "H*L*N*"],
    ),
    (
        "umlaut and eszett",
        "MÜLLER^JOSÉ",
        "",
        ["M*LLER*JOS*", "JOS*M*LLER*"],
        ["M*LL*J*", "JOS*M*"],
        ["M*LL*", "JOS*"],
    ),
    (
        "apostrophe",
        "D'ANGELO^LUCA",
        "",
        ["D*ANGELO*LUCA*", "LUCA*D*ANGELO*"],
        ["D*L*", "LUC*D*"],
        ["D*", "LUC*"],
    ),
    (
        "multi-group: alphabetic group only",
        "YAMADA^TAROU=山田^太郎=やまだ^たろう",
        "",
        ["YAMADA*TAROU*", "TAROU*YAMADA*"],
        ["YAM*T*", "TAR*Y*"],
        ["YAM*", "TAR*"],
    ),
    ("ideographic only: not searchable by name", "=山田^太郎", "", [], [], []),
    (
        "full-width Latin",
        "ＹＡＭＡＤＡ^ＴＡＲＯＵ",
        "",
        ["YAMADA*TAROU*", "TAROU*YAMADA*"],
        ["YAM*T*", "TAR*Y*"],
        ["YAM*", "TAR*"],
    ),
    ("trailing carets", "ROSSI^^^^", "", ["ROSSI*"], ["ROS*"], ["ROS*"]),
    ("given only", "^MARIO", "", ["MARIO*"], ["MAR*"], ["MAR*"]),
    (
        "middle name kept",
        "ROSSI^MARIO^LUIGI",
        "",
        ["ROSSI*MARIO*LUIGI*", "MARIO*LUIGI*ROSSI*"],
        ["ROS*M*", "MAR*R*"],
        ["ROS*", "MAR*"],
    ),
    (
        "one field, three words: every rotation",
        "JEAN PIERRE MARTIN",
        "",
        ["JEAN*PIERRE*MARTIN*", "PIERRE*MARTIN*JEAN*", "MARTIN*JEAN*PIERRE*"],
        ["JEA*P*", "MAR*J*"],
        ["JEA*", "MAR*"],
    ),
    ("nothing but wildcards", "***", "", [], [], []),
    ("empty", "", "", [], [], []),
]


@pytest.mark.parametrize(
    ("name", "given", "full", "prefix", "family"),
    [case[1:] for case in PATTERN_CASES],
    ids=[case[0] for case in PATTERN_CASES],
)
def test_name_patterns(
    name: str, given: str, full: list[str], prefix: list[str], family: list[str]
) -> None:
    assert name_patterns(WorklistQuery(name=name, given=given)) == (full, prefix, family)


@pytest.mark.parametrize("case", PATTERN_CASES, ids=[case[0] for case in PATTERN_CASES])
def test_patterns_are_ascii_upper_case_and_end_open(
    case: tuple[str, str, str, list[str], list[str], list[str]],
) -> None:
    for pattern in [*case[3], *case[4], *case[5]]:
        assert pattern.isascii()
        assert pattern == pattern.upper()
        assert pattern.endswith("*")
        assert "**" not in pattern
        assert "^" not in pattern
        assert " " not in pattern


# --------------------------------------------------------------------------- steps


def _steps(query: WorklistQuery) -> list[tuple[str, list[tuple[str, str, str]]]]:
    return [
        (str(step.step), [(k.patient_name, k.birth_date, k.scheduled_date) for k in step.queries])
        for step in search_steps(query, today=TODAY)
    ]


STEP_CASES: list[tuple[str, WorklistQuery, list[tuple[str, list[tuple[str, str, str]]]]]] = [
    (
        "media identity: the French seed's relaxation",
        WorklistQuery(name="ROSSI^MARIO", birth_date="19740101", sex="M"),
        [
            ("name", [("ROSSI*MARIO*", "19740101", ""), ("MARIO*ROSSI*", "19740101", "")]),
            ("name_prefix", [("ROS*M*", "19740101", ""), ("MAR*R*", "19740101", "")]),
            ("birth_date", [("", "19740101", DAY)]),
            ("family_prefix", [("ROS*", "", DAY), ("MAR*", "", DAY)]),
        ],
    ),
    (
        "a given day applies to every step",
        WorklistQuery(name="ROSSI^MARIO", birth_date="1974-01-01", scheduled_date="2025-01-02"),
        [
            (
                "name",
                [
                    ("ROSSI*MARIO*", "19740101", "20250102"),
                    ("MARIO*ROSSI*", "19740101", "20250102"),
                ],
            ),
            (
                "name_prefix",
                [("ROS*M*", "19740101", "20250102"), ("MAR*R*", "19740101", "20250102")],
            ),
            ("birth_date", [("", "19740101", "20250102")]),
            ("family_prefix", [("ROS*", "", "20250102"), ("MAR*", "", "20250102")]),
        ],
    ),
    (
        "a date range",
        WorklistQuery(birth_date="19740101", scheduled_date="20250101-20250107"),
        [("birth_date", [("", "19740101", "20250101-20250107")])],
    ),
    (
        "clinician typing a name only: prefixes only on the day",
        WorklistQuery(name="rossi mario"),
        [
            ("name", [("ROSSI*MARIO*", "", ""), ("MARIO*ROSSI*", "", "")]),
            ("name_prefix", [("ROS*M*", "", DAY), ("MAR*R*", "", DAY)]),
            ("family_prefix", [("ROS*", "", DAY), ("MAR*", "", DAY)]),
        ],
    ),
    (
        "short name: repeated queries are not run again",
        WorklistQuery(name="ROSSI*"),
        [("name", [("ROSSI*", "", "")]), ("name_prefix", [("ROS*", "", DAY)])],
    ),
    (
        "birth date only",
        WorklistQuery(birth_date="19740101"),
        [("birth_date", [("", "19740101", DAY)])],
    ),
    (
        "invalid birth date from the media is ignored",
        WorklistQuery(name="ROSSI", birth_date="00000000"),
        [("name", [("ROSSI*", "", "")]), ("name_prefix", [("ROS*", "", DAY)])],
    ),
    (
        "ideographic name only: birth date for the day",
        WorklistQuery(name="=山田^太郎", birth_date="19700131"),
        [("birth_date", [("", "19700131", DAY)])],
    ),
    ("nothing typed: the day's worklist", WorklistQuery(), [("day", [("", "", DAY)])]),
    (
        "only a day: that day's worklist",
        WorklistQuery(scheduled_date="20250102"),
        [("day", [("", "", "20250102")])],
    ),
    (
        "sex is never a matching key",
        WorklistQuery(sex="F"),
        [("day", [("", "", DAY)])],
    ),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [case[1:] for case in STEP_CASES],
    ids=[case[0] for case in STEP_CASES],
)
def test_search_steps(
    query: WorklistQuery, expected: list[tuple[str, list[tuple[str, str, str]]]]
) -> None:
    assert _steps(query) == expected


def test_identifiers_come_first() -> None:
    steps = search_steps(
        WorklistQuery(name="ROSSI", accession_number=" ACC1 ", patient_id="P1"), today=TODAY
    )
    assert steps[0].step is Step.IDENTIFIER
    assert steps[0].queries == (MatchingKeys(accession_number="ACC1", patient_id="P1"),)
    assert [s.step for s in steps[1:]] == [Step.NAME, Step.NAME_PREFIX]


def test_steps_never_match_without_a_key_but_the_day() -> None:
    for _, query, _ in STEP_CASES:
        for step in search_steps(query, today=TODAY):
            for keys in step.queries:
                has_key = keys.patient_name or keys.birth_date or keys.accession_number
                assert has_key or keys.scheduled_date, (query, step)


@pytest.mark.parametrize(
    "value", ["2025-13-01", "tomorrow", "20250107-20250101", "2025010", "20250101-"]
)
def test_a_typed_scheduled_date_must_be_a_date(value: str) -> None:
    with pytest.raises(ValueError):
        search_steps(WorklistQuery(name="ROSSI", scheduled_date=value), today=TODAY)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("19740101", "19740101"),
        (" 1974-01-01 ", "19740101"),
        ("1974.01.01", "19740101"),
        ("1974/01/01", "19740101"),
        ("19741301", ""),
        ("00000000", ""),
        ("1974", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_date(value: str | None, expected: str) -> None:
    assert normalise_date(value) == expected


def test_query_identity() -> None:
    assert WorklistQuery(name=" ROSSI ", given="MARIO", birth_date="19740101").identity() == {
        "name": "ROSSI^MARIO",
        "birth_date": "19740101",
        "sex": "",
    }
    assert WorklistQuery(name="ROSSI MARIO").person_name == "ROSSI MARIO"


# --------------------------------------------------------------------------- datasets


def test_request_identifier() -> None:
    ds = request_identifier(
        MatchingKeys(patient_name="ROS*M*", birth_date="19740101", scheduled_date=DAY)
    )
    assert ds.SpecificCharacterSet == CHARACTER_SET
    assert ds.PatientName == "ROS*M*"
    assert ds.PatientBirthDate == "19740101"
    assert ds.PatientID == ""
    assert ds.AccessionNumber == ""
    assert ds.PatientSex == ""  # a return key, never a matching key
    assert ds.RequestedProcedureCodeSequence == []
    step = ds.ScheduledProcedureStepSequence[0]
    assert step.ScheduledProcedureStepStartDate == DAY
    assert step.Modality == ""


def test_item_from_identifier() -> None:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.AccessionNumber = "ACC1"
    ds.RequestedProcedureID = "RP1"
    ds.RequestedProcedureDescription = "CT HEAD"
    code = Dataset()
    code.CodeValue = "CTHEAD"
    code.CodingSchemeDesignator = "99RIS"
    ds.RequestedProcedureCodeSequence = [code]
    ds.PatientName = "MÜLLER^JOSÉ"
    ds.PatientID = "P1"
    ds.IssuerOfPatientID = "HOSP"
    ds.PatientBirthDate = "19700131"
    ds.PatientSex = "M"
    step = Dataset()
    step.Modality = "CT"
    step.ScheduledProcedureStepStartDate = DAY
    step.ScheduledProcedureStepStartTime = "081500"
    step.ScheduledProcedureStepID = "SPS1"
    ds.ScheduledProcedureStepSequence = [step]
    assert item_from_identifier(ds) == WorklistItem(
        accession_number="ACC1",
        requested_procedure_id="RP1",
        requested_procedure_description="CT HEAD",
        procedure_code="CTHEAD",
        modality="CT",
        scheduled_date=DAY,
        scheduled_time="081500",
        patient_name="MÜLLER^JOSÉ",
        patient_id="P1",
        issuer_of_patient_id="HOSP",
        patient_birth_date="19700131",
        patient_sex="M",
        procedure_code_scheme="99RIS",
        scheduled_procedure_step_id="SPS1",
    )


def test_item_from_an_almost_empty_identifier() -> None:
    ds = Dataset()
    ds.PatientName = "ROSSI^MARIO"
    ds.ScheduledProcedureStepSequence = []
    assert item_from_identifier(ds) == WorklistItem(patient_name="ROSSI^MARIO")


def test_worklist_client_needs_a_dimse_worklist() -> None:
    with pytest.raises(WorklistNotConfigured) as raised:
        worklist_client(Settings(worklist_url=None))
    assert raised.value.code == "worklist_not_configured"
    assert raised.value.status_code == 503
    with pytest.raises(WorklistNotConfigured):
        worklist_client(Settings(worklist_url="http://ris.example/ups"))
    client = worklist_client(
        Settings(worklist_url="dimse://RIS@10.0.0.1:104", calling_ae="IMPORTER")
    )
    assert (client.node.ae_title, client.node.port, client.calling_ae) == ("RIS", 104, "IMPORTER")
    assert WorklistError(WorklistError.UNREACHABLE, "x").status_code == 502


# --------------------------------------------------------------------------- ranking

MEDIA = {"name": "ROSSI^MARIO", "birth_date": "19740101", "sex": "M"}


def _item(
    accession: str, name: str, birth: str = "19740101", sex: str = "M", day: str = DAY
) -> WorklistItem:
    return WorklistItem(
        accession_number=accession,
        patient_name=name,
        patient_birth_date=birth,
        patient_sex=sex,
        scheduled_date=day,
    )


def test_ranking_puts_the_right_patient_first() -> None:
    items = [
        _item("A-TWIN", "ROSSI^MARIA", sex="F"),
        _item("A-OTHER", "BIANCHI^LUCA", birth="19800101"),
        _item("A-FORMAT", "Rossi^Mario"),
        _item("A-RIGHT", "ROSSI^MARIO"),
        _item("A-TYPO", "ROSSI^MARIO", birth="19750101"),
    ]
    ranked = rank_candidates(items, MEDIA, step="name", reference_day=TODAY)
    assert [c.item.accession_number for c in ranked] == [
        "A-RIGHT",
        "A-FORMAT",
        "A-TYPO",
        "A-TWIN",
        "A-OTHER",
    ]
    assert [c.identity.overall for c in ranked] == [
        "match",
        "format_different",
        "mismatch",
        "mismatch",
        "mismatch",
    ]
    assert all(c.step == "name" for c in ranked)
    assert ranked[0].score == 1.0
    assert ranked[-1].score < ranked[-2].score


def test_ranking_dedupes_by_accession_and_prefers_the_closest_day() -> None:
    items = [
        _item("A-OLD", "ROSSI^MARIO", day="20240101"),
        _item("A-TODAY", "ROSSI^MARIO"),
        _item("A-TODAY", "ROSSI^MARIO"),  # a second scheduled step of the same order
        _item("A-NEXT-WEEK", "ROSSI^MARIO", day="20250311"),
        _item("A-NO-DATE", "ROSSI^MARIO", day=""),
    ]
    ranked = rank_candidates(items, MEDIA, step="name", reference_day=TODAY, limit=3)
    assert [c.item.accession_number for c in ranked] == ["A-TODAY", "A-NEXT-WEEK", "A-OLD"]


def test_items_without_accession_are_kept_apart() -> None:
    items = [_item("", "ROSSI^MARIO"), _item("", "ROSSI^MARIO", day="20250305")]
    assert len(rank_candidates(items, MEDIA, step="day", reference_day=TODAY)) == 2


def test_identity_compares_the_order_with_the_media() -> None:
    (candidate,) = rank_candidates(
        [_item("A1", "ROSSI^MARIA")], MEDIA, step="name_prefix", reference_day=TODAY
    )
    assert candidate.identity.fields == {"name": "similar", "birth_date": "match", "sex": "match"}
    assert candidate.identity.reasons == ("GIVEN_NAME_TYPO",)


@pytest.mark.parametrize(
    ("found", "expected_score"),
    [
        ({"name": "ROSSI^MARIO", "birth_date": "19740101", "sex": "M"}, 1.0),
        ({"name": "MARIO ROSSI", "birth_date": "1974-01-01", "sex": "m"}, 1.0),
        ({"name": "ROSSI^MARIO", "birth_date": "", "sex": "M"}, 0.775),
        ({"name": "ROSSI^MARIO", "birth_date": "19740101", "sex": "F"}, 0.9),
        ({"name": "", "birth_date": "19740101", "sex": "M"}, 0.4),
    ],
)
def test_similarity(found: dict[str, str | None], expected_score: float) -> None:
    assert similarity(MEDIA, found) == pytest.approx(expected_score)


def test_similarity_orders_typos_above_strangers() -> None:
    typo = similarity(MEDIA, {**MEDIA, "name": "ROSSI^MARIA"})
    stranger = similarity(MEDIA, {**MEDIA, "name": "VERDI^LUCA"})
    assert 0.4 < stranger < typo < 1.0
