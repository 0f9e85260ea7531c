"""WorklistClient against a real dcmtk wlmscpfs: C-FIND, relaxation steps, ranking, errors."""

from __future__ import annotations

import pytest

from devstack import WorklistProcess, free_port
from importer.settings import DicomNode
from importer.worklist.client import WorklistClient, request_identifier
from importer.worklist.errors import WorklistError
from importer.worklist.query import Candidate, MatchingKeys, WorklistItem, WorklistQuery
from tests.integration.worklist.conftest import CALLING_AE, DAY, ORDERS, TODAY

ROSSI = {"name": "ROSSI^MARIO", "birth_date": "19740101", "sex": "M"}


def _accessions(candidates: list[Candidate]) -> list[str]:
    return [c.item.accession_number for c in candidates]


# --------------------------------------------------------------------------- one C-FIND


def test_find_returns_the_order_as_written(client: WorklistClient) -> None:
    (item,) = client.find(request_identifier(MatchingKeys(accession_number="LEFEVRE")))
    assert item == WorklistItem(
        accession_number="LEFEVRE",
        requested_procedure_id="RP-LEFEVRE",
        requested_procedure_description="MAMMOGRAPHIE",
        modality="MG",
        scheduled_date=DAY,
        scheduled_time="093000",
        patient_name="LEFÈVRE^HÉLÈNE",
        patient_id="PID-LEFEVRE",
        issuer_of_patient_id="HOSPITAL",
        patient_birth_date="19810214",
        patient_sex="F",
        scheduled_procedure_step_id="RP-LEFEVRE",  # the harness uses the procedure id
    )


def test_find_keeps_every_component_group(client: WorklistClient) -> None:
    (item,) = client.find(request_identifier(MatchingKeys(patient_name="YAMADA*")))
    assert item.patient_name == "YAMADA^TAROU=山田^太郎=やまだ^たろう"


def test_find_with_nothing_matching(client: WorklistClient) -> None:
    assert client.find(request_identifier(MatchingKeys(patient_name="NOBODY*"))) == []


def test_find_stops_at_max_matches_with_a_c_cancel(worklist_scp: WorklistProcess) -> None:
    node = DicomNode(worklist_scp.aet, "127.0.0.1", worklist_scp.port)
    small = WorklistClient(node, calling_ae=CALLING_AE, timeout=10, max_matches=2)
    items = small.find(request_identifier(MatchingKeys(scheduled_date=DAY)))
    assert len(items) == 2
    # The association is usable again afterwards: the SCP ended the cancelled C-FIND cleanly.
    assert len(small.find(request_identifier(MatchingKeys(accession_number="MARTIN")))) == 1


# --------------------------------------------------------------------------- relaxation


def test_exact_identity_is_found_at_the_first_step(client: WorklistClient) -> None:
    candidates = client.search(
        WorklistQuery(name="ROSSI^MARIO", birth_date="19740101", sex="M"), today=TODAY
    )
    # Every order of the patient, the one scheduled closest to the day first.
    assert _accessions(candidates) == ["ROSSI-CT", "ROSSI-MR", "ROSSI-OLD"]
    assert {c.step for c in candidates} == {"name"}
    assert {c.identity.overall for c in candidates} == {"match"}
    assert candidates[0].score == 1.0


def test_several_studies_of_one_medium_find_their_orders(client: WorklistClient) -> None:
    """One medium, a CT and an MR of the same patient: both orders are proposed, with what
    tells them apart (modality, description, date), for ``order_for_study``."""
    candidates = client.search(
        WorklistQuery(name="ROSSI^MARIO", birth_date="19740101"), today=TODAY
    )
    by_modality = {c.item.modality: c.item for c in candidates}
    assert by_modality["CT"].accession_number == "ROSSI-CT"
    assert by_modality["MR"].accession_number == "ROSSI-MR"
    assert by_modality["MR"].requested_procedure_description == "RM ENCEFALO"
    assert by_modality["MR"].scheduled_date == "20250311"


def test_a_given_day_keeps_only_that_days_orders(client: WorklistClient) -> None:
    candidates = client.search(
        WorklistQuery(name="ROSSI^MARIO", birth_date="19740101", scheduled_date="20250311"),
        today=TODAY,
    )
    assert _accessions(candidates) == ["ROSSI-MR"]


@pytest.mark.parametrize(
    ("media", "step", "accession", "overall", "reasons"),
    [
        # Swapped order and one field: still the first step.
        (("MARIO ROSSI", "19740101", "M"), "name", "ROSSI-CT", "format_different",
         ("NAME_ORDER_SWAPPED", "NAME_ONE_FIELD")),
        # Accents kept on the media: the accented letters are wildcards in the query.
        (("Lefèvre^Hélène", "19810214", "F"), "name", "LEFEVRE", "format_different",
         ("NAME_CASE",)),
        # Accents stripped on the media: found by the first letters of each name.
        (("LEFEVRE^HELENE", "19810214", "F"), "name_prefix", "LEFEVRE", "format_different",
         ("NAME_ACCENTS",)),
        # Compound given name with another separator (French seed).
        (("MARTIN^JEAN MICHEL", "19600101", "M"), "name", "MARTIN", "format_different",
         ("NAME_SEPARATOR",)),
        (("MARTIN^JEAN – MICHEL", "19600101", "M"), "name", "MARTIN", "format_different",
         ("NAME_SEPARATOR",)),
        (("MARTIN^JEANMICHEL", "19600101", "M"), "name_prefix", "MARTIN", "format_different",
         ("NAME_SEPARATOR",)),
        # Misspelt family and given names (French seed): first letters of each name.
        (("LETTELLIER^KYLLIAN", "20050612", "M"), "name_prefix", "LETELLIER", "mismatch",
         ("NAME_TYPO", "GIVEN_NAME_TYPO")),
        (("LETELIER^KYLIAN", "20050612", "M"), "name_prefix", "LETELLIER", "mismatch",
         ("NAME_TYPO", "GIVEN_NAME_TYPO")),
        # Particles and compound given name with other separators: the words still match.
        (("De La Fontaine^Jean Pierre", "19450808", "M"), "name", "FONTAINE",
         "format_different", ("NAME_CASE", "NAME_SEPARATOR")),
        # Particle glued: "DEL*" is not "DE LA": birth date alone for the day.
        (("DELAFONTAINE^JEAN PIERRE", "19450808", "M"), "birth_date", "FONTAINE",
         "format_different", ("NAME_SEPARATOR",)),
        # Umlaut written out: no name pattern matches "MÜ": birth date alone for the day.
        (("MUELLER^JOERG", "19630415", "M"), "birth_date", "MULLER", "format_different",
         ("NAME_ACCENTS",)),
        # Given name first, accents stripped, one field: birth date alone for the day.
        (("JOSE LUIS GARCIA LOPEZ", "19750625", "M"), "birth_date", "GARCIA", "format_different",
         ("NAME_ACCENTS", "NAME_ORDER_SWAPPED", "NAME_ONE_FIELD")),
        # Day and month swapped on the media: the family name's first letters for the day.
        (("LETELLIER^KILLIAN", "20051206", "M"), "family_prefix", "LETELLIER", "mismatch",
         ("BIRTH_DATE_DAY_MONTH_SWAPPED",)),
        # Japanese: the alphabetic group is searched; ideographic only: by birth date.
        (("YAMADA^TAROU=山田^太郎=やまだ^たろう", "19700131", "M"), "name", "YAMADA", "match", ()),
        (("=山田^太郎", "19700131", "M"), "birth_date", "YAMADA", "match", ()),
    ],
)  # fmt: skip
def test_relaxation_finds_the_order_at_the_right_step(
    client: WorklistClient,
    media: tuple[str, str, str],
    step: str,
    accession: str,
    overall: str,
    reasons: tuple[str, ...],
) -> None:
    name, birth_date, sex = media
    candidates = client.search(
        WorklistQuery(name=name, birth_date=birth_date, sex=sex), today=TODAY
    )
    assert candidates, "nothing found"
    best = candidates[0]
    assert (best.item.accession_number, best.step) == (accession, step)
    assert best.identity.overall == overall
    assert best.identity.reasons == reasons


def test_birth_date_step_ranks_the_right_patient_first(client: WorklistClient) -> None:
    """Two patients born the same day are on the worklist: the right one comes first."""
    candidates = client.search(
        WorklistQuery(name="LFEVRE^HELENE", birth_date="19810214", sex="F"), today=TODAY
    )
    assert _accessions(candidates) == ["LEFEVRE", "DURAND"]
    assert {c.step for c in candidates} == {"birth_date"}
    assert candidates[0].identity.fields["name"] == "similar"
    assert candidates[1].identity.fields["name"] == "mismatch"
    assert candidates[0].score > candidates[1].score


def test_twins_rank_the_right_one_first(client: WorklistClient) -> None:
    """A search by family name and birth date finds both twins; the media's twin is first and
    the other one is a mismatch that needs an acknowledgment."""
    media = {"name": "BIANCHI^LUCIA", "birth_date": "20100101", "sex": "F"}
    candidates = client.search(
        WorklistQuery(name="BIANCHI", birth_date="20100101"), expected=media, today=TODAY
    )
    assert _accessions(candidates) == ["TWIN-LUCIA", "TWIN-LUCA"]
    assert [c.identity.overall for c in candidates] == ["match", "mismatch"]
    assert candidates[1].identity.reasons == ("GIVEN_NAME_TYPO", "SEX_DIFFERS")


def test_exact_twin_query_does_not_propose_the_other_twin(client: WorklistClient) -> None:
    candidates = client.search(
        WorklistQuery(name="BIANCHI^LUCA", birth_date="20100101", sex="M"), today=TODAY
    )
    assert _accessions(candidates) == ["TWIN-LUCA"]


# --------------------------------------------------------------------------- typed by a clinician


@pytest.mark.parametrize(
    ("name", "given"),
    [
        ("ROSSI MARIO", ""),
        ("rossi  mario", ""),
        ("  Rossi, Mario ", ""),
        ("MARIO ROSSI", ""),
        ("ROSSI", "MARIO"),
        ("rossi", "mario"),
        ("ROSSI*", ""),
        ("ROSS%^MAR?", ""),
        ("ROSSI*^MARIO*", ""),
    ],
)
def test_typed_names_find_the_patient(client: WorklistClient, name: str, given: str) -> None:
    candidates = client.search(WorklistQuery(name=name, given=given), today=TODAY)
    assert _accessions(candidates) == ["ROSSI-CT", "ROSSI-MR", "ROSSI-OLD"]
    assert {c.step for c in candidates} == {"name"}


def test_typed_family_name_prefix_on_the_day(client: WorklistClient) -> None:
    """A misspelt family name typed alone: its first letters, on the day."""
    candidates = client.search(WorklistQuery(name="LETTELIER"), today=TODAY)
    assert _accessions(candidates) == ["LETELLIER"]
    assert candidates[0].step == "name_prefix"


def test_typed_accession_number(client: WorklistClient) -> None:
    candidates = client.search(WorklistQuery(accession_number="ROSSI-MR"), today=TODAY)
    assert _accessions(candidates) == ["ROSSI-MR"]
    assert candidates[0].step == "identifier"


def test_empty_search_lists_the_day(client: WorklistClient) -> None:
    candidates = client.search(WorklistQuery(), today=TODAY, limit=100)
    expected = {accession for accession, order in ORDERS.items() if order[4] == DAY}
    assert set(_accessions(candidates)) == expected
    assert {c.step for c in candidates} == {"day"}


def test_limit(client: WorklistClient) -> None:
    candidates = client.search(WorklistQuery(name="ROSSI^MARIO"), today=TODAY, limit=1)
    assert _accessions(candidates) == ["ROSSI-CT"]


def test_nobody_found(client: WorklistClient) -> None:
    assert (
        client.search(WorklistQuery(name="NOBODY^AT ALL", birth_date="19000101"), today=TODAY) == []
    )


# --------------------------------------------------------------------------- errors


@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)
def test_unreachable_worklist() -> None:
    node = DicomNode("NOBODY", "127.0.0.1", free_port())
    with pytest.raises(WorklistError) as raised:
        WorklistClient(node, calling_ae=CALLING_AE, timeout=2).search(
            WorklistQuery(name="ROSSI"), today=TODAY
        )
    assert raised.value.code == "worklist_unreachable"
    assert raised.value.status_code == 502
    assert "ROSSI" not in raised.value.message


def test_a_scheduled_date_that_is_not_a_date_is_refused_before_any_query(
    client: WorklistClient,
) -> None:
    with pytest.raises(ValueError):
        client.search(WorklistQuery(name="ROSSI", scheduled_date="31/12/2025"), today=TODAY)


def test_wrong_called_ae_title_fails(worklist_scp: WorklistProcess) -> None:
    """wlmscpfs serves one folder per AE title: another title is refused, not unreachable."""
    node = DicomNode("NOSUCHAE", "127.0.0.1", worklist_scp.port)
    with pytest.raises(WorklistError) as raised:
        WorklistClient(node, calling_ae=CALLING_AE, timeout=5).search(
            WorklistQuery(name="ROSSI"), today=TODAY
        )
    assert raised.value.code == "worklist_failed"
    assert "NOSUCHAE" in raised.value.message
