"""What is remembered of an outside patient, and what the gate makes of it (importer.identity.
memory): a local patient filed under before that is not the order's is a mismatch whatever the
names say; what is remembered now must be what the user was shown."""

from __future__ import annotations

from importer.identity.gate import Person, StudyCheck, compare, judge
from importer.identity.memory import FiledBefore, outside_key, seen_in

ORDER = Person(
    name="ROSSI^MARIO", id="HOSP-0042", issuer="HOSPITAL", birth_date="19740101", sex="M"
)
MEDIUM = Person(name="Rossi^Mario", id="EXT-555", birth_date="19740101", sex="M")


def filed(patient_id: str, issuer: str = "HOSPITAL") -> FiledBefore:
    return FiledBefore(
        patient_id, issuer, "ROSSI^MARIO", "19740101", "2026-12-01T10:00:00+00:00", "Tech One"
    )


def test_the_outside_key_is_the_id_with_its_authority_the_name_and_the_birth_date() -> None:
    key = outside_key("EXT-555 ", "", "Ospedale  Esterno", "ROSSI^MARIO", "19740101")
    assert key is not None
    assert (key.authority, key.patient_id) == ("institution:OSPEDALE ESTERNO", "EXT-555")
    # the issuer, when the medium gives one, is the authority
    issued = outside_key("EXT-555", "HOSP-B", "Ospedale Esterno", "ROSSI^MARIO", "19740101")
    assert issued is not None
    assert issued.authority == "HOSP-B"
    # no Patient ID: nothing to recognise the patient by; nor an ID alone (an anonymised
    # medium's placeholder), without a name or a birth date
    assert outside_key(" ", "HOSP-B", "X", "ROSSI^MARIO", "19740101") is None
    assert outside_key("ANON", "", "", "", " ") is None
    assert outside_key("ANON", "", "", "", "19740101") is not None


def test_filed_before_under_the_orders_patient_is_said_and_changes_nothing() -> None:
    report = compare(ORDER, MEDIUM, [filed("HOSP-0042")])
    assert report["overall"] == "format_different"
    assert "FILED_BEFORE_UNDER_ANOTHER_PATIENT" not in report["reasons"]
    assert report["filed_before"][0]["same"] is True
    # an issuer on one side only is another patient: shown, and a mismatch, never a false same
    assert compare(ORDER, MEDIUM, [filed("HOSP-0042", "")])["filed_before"][0]["same"] is False


def test_filed_before_under_another_patient_is_a_mismatch_whatever_the_names_say() -> None:
    report = compare(ORDER, MEDIUM, [filed("HOSP-0777")])
    assert report["fields"] == compare(ORDER, MEDIUM)["fields"]  # each field as it was
    assert report["overall"] == "mismatch"
    assert report["reasons"][-1] == "FILED_BEFORE_UNDER_ANOTHER_PATIENT"
    # the same ID under another issuer is another patient
    assert compare(ORDER, MEDIUM, [filed("HOSP-0042", "OTHER")])["overall"] == "mismatch"
    # nothing remembered: the report as it always was
    assert compare(ORDER, MEDIUM) == compare(ORDER, MEDIUM, [])
    assert "filed_before" not in compare(ORDER, MEDIUM)


def test_the_gate_wants_what_is_remembered_now_to_be_what_was_shown() -> None:
    shown = [compare(ORDER, MEDIUM)]
    check = StudyCheck(
        uid="1.2.3",
        patients=[MEDIUM],
        compared_with=ORDER,
        filed_before={MEDIUM.key(): [filed("HOSP-0777")]},
        seen_filed_before=seen_in([(MEDIUM.key(), shown[0])]),
    )
    verdict = judge([(check, ORDER)])
    assert verdict.history_changed == ["1.2.3"]
    assert verdict.mismatched == ["1.2.3"]
    # shown as it is now: nothing changed, and the mismatch needs the acknowledgement
    now = [compare(ORDER, MEDIUM, [filed("HOSP-0777")])]
    seen = StudyCheck(
        "1.2.3", [MEDIUM], ORDER, None, check.filed_before, seen_in([(MEDIUM.key(), now[0])])
    )
    again = judge([(seen, ORDER)])
    assert (again.history_changed, again.mismatched) == ([], ["1.2.3"])
    # a filing under another patient forgotten since it was shown, or a filing under the
    # order's own patient since (the study's own, once confirmed): nothing more to see
    forgotten = StudyCheck("1.2.3", [MEDIUM], ORDER, None, {}, seen_in([(MEDIUM.key(), now[0])]))
    assert judge([(forgotten, ORDER)]).history_changed == []
    own = StudyCheck(
        "1.2.3",
        [MEDIUM],
        ORDER,
        None,
        {MEDIUM.key(): [filed("HOSP-0042")]},
        seen_in([(MEDIUM.key(), shown[0])]),
    )
    assert judge([(own, ORDER)]).history_changed == []


def test_what_was_seen_counts_patient_by_patient() -> None:
    """Two patients in a study: the first was shown filed under HOSP-0777; the second, filed
    under HOSP-0777 since, was not shown so: a change, although the same local patient."""
    second = Person(name="ROSSI^MARIA", id="EXT-556", birth_date="19740101", sex="F")
    shown = seen_in([(MEDIUM.key(), compare(ORDER, MEDIUM, [filed("HOSP-0777")]))])
    now = {MEDIUM.key(): [filed("HOSP-0777")], second.key(): [filed("HOSP-0777")]}
    check = StudyCheck("1.2.3", [MEDIUM, second], ORDER, None, now, shown)
    assert judge([(check, ORDER)]).history_changed == ["1.2.3"]
