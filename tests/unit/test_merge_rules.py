"""When the PACS-side merge may not move anything at all (pure rules of importer.merge), and
how the hospital's own issuers are configured."""

from __future__ import annotations

import pytest

from importer.merge import LocalPatient, PatientRef, refusal
from importer.settings import Settings

LOCAL = LocalPatient(
    id="HOSP-0042", issuer="HOSPITAL", name="ROSSI^MARIO", birth_date="19740101", sex="M"
)


@pytest.mark.parametrize(
    ("foreign", "local_issuers", "reason"),
    [
        (PatientRef("OUT-77", ""), [], "gives no issuer"),
        (PatientRef("OUT-77", "  "), [], "gives no issuer"),
        (PatientRef("HOSP-0042", "HOSPITAL"), [], "already uses the local Patient ID"),
        (PatientRef("OUT-77", "HOSPITAL"), [], "issued by this hospital"),  # the order's own
        (PatientRef("OUT-77", "hospital "), [], "issued by this hospital"),
        (PatientRef("OUT-77", "HOSP-LAB"), ["HOSP-LAB"], "issued by this hospital"),
        (PatientRef("OUT-77", "hosp-lab"), ["HOSP-LAB", "HOSP-RAD"], "issued by this hospital"),
        (PatientRef("OUT-77", "OUTSIDE-HOSP"), ["HOSP-LAB"], None),
        (PatientRef("OUT-77", "OUTSIDE-HOSP"), [], None),
    ],
)
def test_refusal(foreign: PatientRef, local_issuers: list[str], reason: str | None) -> None:
    refused = refusal(foreign, LOCAL, local_issuers)
    if reason is None:
        assert refused is None
    else:
        assert refused is not None
        assert refused.moved == ()
        assert reason in refused.message


def test_a_local_patient_without_issuer_does_not_make_every_blank_issuer_local() -> None:
    local = LocalPatient(id="L1", issuer="", name="A^B", birth_date="", sex="")
    assert refusal(PatientRef("OUT-77", "OUTSIDE-HOSP"), local, []) is None


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("HOSPITAL", ["HOSPITAL"]),
        (" HOSPITAL , HOSP-LAB,,", ["HOSPITAL", "HOSP-LAB"]),
        ('["HOSPITAL", "HOSP LAB"]', ["HOSPITAL", "HOSP LAB"]),
        ("", []),
    ],
)
def test_local_issuers_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, parsed: list[str]
) -> None:
    monkeypatch.setenv("IMPORTER_LOCAL_ISSUERS", raw)
    assert Settings().local_issuers == parsed


def test_the_job_lease_has_a_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPORTER_JOB_LEASE_S", "1")
    with pytest.raises(ValueError, match="job_lease_s"):
        Settings()
