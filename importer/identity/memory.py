"""Outside identities remembered (issue 16, point 1): which local patient a medium's patient was
filed under before, and what that says about the next medium of the same outside patient.

Pure: the keys and the rule; the database keeps the mappings (``importer.imports.memory``) and
the gate (:mod:`importer.identity.gate`) applies the rule on every path that files a study.

The rule (DESIGN §6, the first promise): a medium's patient the user filed before under a local
patient is recognised by its **outside key**, the Patient ID with its issuer (or, when the medium
gives no issuer, the institution that wrote it), its name (folded as :meth:`Person.key` folds
it) and its birth date, all four equal. When the order's patient is not a local patient that
outside patient was filed under, the comparison is a mismatch, whatever the names say (two
outside patients may share a name, an order may be wrong), and filing needs the user's
acknowledgement, with that reason shown (``FILED_BEFORE_UNDER_ANOTHER_PATIENT``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from importer.identity.names import fold
from importer.identity.reasons import Reason

__all__ = ["FiledBefore", "OutsideKey", "apply", "outside_key", "same_patient", "seen_in"]

NO_AUTHORITY = ""
"""The authority of a Patient ID given with neither an issuer nor an institution."""


@dataclass(frozen=True, slots=True)
class OutsideKey:
    """How a medium's patient is recognised from one medium to the next."""

    authority: str
    """The Patient ID's issuer, else ``institution:`` and the institution's name folded."""
    patient_id: str
    name: str
    """The name as :meth:`importer.identity.gate.Person.key` folds it."""
    birth_date: str


def outside_key(
    patient_id: str, issuer: str, institution: str, name_key: str, birth_date: str
) -> OutsideKey | None:
    """The key of a medium's patient (``name_key``: its folded name), or ``None`` when it has
    no Patient ID (nothing to recognise it by from one medium to the next)."""
    pid = patient_id.strip()
    if not pid or not (name_key or birth_date.strip()):
        return None  # nothing, or an ID alone (an anonymised medium's placeholder), to know it by
    if issuer.strip():
        authority = issuer.strip()
    elif institution.strip():
        authority = "institution:" + " ".join(fold(institution).split())
    else:
        authority = NO_AUTHORITY
    return OutsideKey(authority, pid, name_key, birth_date.strip())


@dataclass(frozen=True, slots=True)
class FiledBefore:
    """A local patient an outside patient was filed under, when and by whom (the last time)."""

    patient_id: str
    issuer: str
    name: str
    birth_date: str
    at: str
    """ISO 8601, UTC."""
    by: str
    """The user's name, as the RIS gave it."""

    def to_dict(self, *, same: bool) -> dict[str, Any]:
        return {
            "patient": {
                "id": self.patient_id,
                "issuer": self.issuer,
                "name": self.name,
                "birth_date": self.birth_date,
            },
            "at": self.at,
            "by": self.by,
            "same": same,
        }


def same_patient(filed: FiledBefore, patient_id: str, issuer: str) -> bool:
    """Whether the local patient ``filed`` is the order's patient (``patient_id`` with its
    ``issuer``): the hospital's own identifier and its issuer decide, both equal, never a name
    (an issuer on one side only is another patient: a mismatch shown, never a false "same")."""
    return (filed.patient_id.strip(), filed.issuer.strip()) == (patient_id.strip(), issuer.strip())


def apply(
    report: Mapping[str, Any], filed: Sequence[FiledBefore], patient_id: str, issuer: str
) -> dict[str, Any]:
    """The comparison ``report`` of a medium's patient with the order's patient (``patient_id``,
    ``issuer``), with what its outside patient was filed under before: each local patient,
    said to be the order's or not; a mismatch when one is not."""
    out = dict(report)
    if not filed:
        return out  # nothing remembered: the report as it always was
    out["filed_before"] = [f.to_dict(same=same_patient(f, patient_id, issuer)) for f in filed]
    if any(not entry["same"] for entry in out["filed_before"]):
        out["overall"] = "mismatch"
        out["reasons"] = [
            *report.get("reasons", ()),
            str(Reason.FILED_BEFORE_UNDER_ANOTHER_PATIENT),
        ]
    return out


Seen = frozenset[tuple[tuple[str, ...], str, str]]
"""Filings under other patients a comparison said: (the medium's patient, by
:meth:`Person.key`; the local Patient ID; its issuer)."""


def seen_in(compared: Iterable[tuple[tuple[str, ...], Mapping[str, Any] | None]]) -> Seen:
    """The local patients other than the order's that the comparisons of a study's patients
    (each with its :meth:`Person.key`) said each was filed under before: what makes a
    comparison a mismatch, so what the user must have been shown, patient by patient. (A
    filing under the order's own patient changes nothing the user must see: the study's own
    filing, remembered when it was confirmed, is one.)"""
    seen: set[tuple[tuple[str, ...], str, str]] = set()
    for person, report in compared:
        for entry in (report or {}).get("filed_before") or ():
            if entry.get("same"):
                continue
            patient = entry.get("patient") or {}
            seen.add((person, str(patient.get("id") or ""), str(patient.get("issuer") or "")))
    return frozenset(seen)
