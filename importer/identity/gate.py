"""The one identity gate: whether studies may be filed under an order's patient.

Every path that files a study under a patient (confirm, worklist confirm, promote, retry) calls
:func:`check_gate`; nothing else decides it. The rules (DESIGN §6, the first promise):

1. The comparison the user saw is the one that counts: when the order's patient is no longer the
   one the medium was compared with (the RIS corrected the order, a promotion or a worklist
   assignment changed it), nothing is filed; the comparison is made again and shown
   (``order_changed``).
2. A study the PACS holds under another patient cannot be filed (``study_conflict``).
3. Every distinct patient found in a study is compared with the order's patient; any that is not
   ``match`` or ``format_different`` needs the user's acknowledgement
   (``identity_not_acknowledged``). No cap on the number of patients can hide one.
4. A patient whose outside patient was filed before under another local patient is a mismatch
   (:mod:`importer.identity.memory`), and what is remembered counts as the user saw it: when the
   database now remembers a filing under another patient that the comparison shown did not
   say, nothing is filed; the comparison is made again and shown (``identity_changed``).

Pure: plain values in, a verdict out; the caller persists and raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from importer.identity import memory
from importer.identity.compare import compare_patients
from importer.identity.memory import FiledBefore
from importer.identity.names import fold

ACCEPTED: frozenset[str] = frozenset({"match", "format_different"})
"""Comparison outcomes that need no acknowledgement."""


@dataclass(frozen=True, slots=True)
class Person:
    """A patient as an order or a medium names them."""

    name: str = ""
    id: str = ""
    issuer: str = ""
    birth_date: str = ""
    sex: str = ""

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> Person | None:
        if value is None:
            return None
        return cls(
            **{k: str(value.get(k) or "") for k in ("name", "id", "issuer", "birth_date", "sex")}
        )

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def comparable(self) -> dict[str, str | None]:
        """As :func:`compare_patients` takes it."""
        return {"name": self.name, "birth_date": self.birth_date, "sex": self.sex, "id": self.id}

    def key(self) -> tuple[str, ...]:
        """Canonical form: two spellings of one patient (case, accents, spaces, trailing empty
        name components) are one patient here only when every field folds to the same text,
        name components kept apart; anything else is another patient, compared on its own."""
        components = [" ".join(c.split()) for c in fold(self.name).split("^")]
        return (
            "^".join(components).rstrip("^"),
            self.id.strip(),
            self.issuer.strip(),
            self.birth_date.strip(),
            self.sex.strip().upper(),
        )


def distinct_patients(people: Iterable[Person]) -> list[Person]:
    """Each distinct patient once, in the order met."""
    seen: dict[tuple[str, ...], Person] = {}
    for person in people:
        seen.setdefault(person.key(), person)
    return list(seen.values())


def compare(expected: Person, found: Person, filed: Sequence[FiledBefore] = ()) -> dict[str, Any]:
    """The comparison report of ``found`` against ``expected``, as stored and shown, with the
    local patients ``found``'s outside patient was filed under before (``filed``: a mismatch
    when one is not ``expected``, :mod:`importer.identity.memory`)."""
    report = compare_patients(expected.comparable(), found.comparable()).to_dict()
    return memory.apply(report, filed, expected.id, expected.issuer)


def overall(report: Mapping[str, Any] | None) -> str:
    return str(report.get("overall")) if report else "mismatch"


def needs_acknowledgement(reports: Iterable[Mapping[str, Any] | None]) -> bool:
    """Whether any of these comparisons is not one a user may accept silently."""
    return any(overall(r) not in ACCEPTED for r in reports)


@dataclass(frozen=True, slots=True)
class StudyCheck:
    """What the gate needs to know about one study to be filed."""

    uid: str
    patients: Sequence[Person]  # every distinct patient found in the study, at least one
    compared_with: Person | None  # the order's patient the user saw compared (None: never)
    pacs_patient_id: str | None = None  # the PACS holds the study under this Patient ID
    # the local patients each patient's outside patient was filed under (by Person.key()), as
    # the database says now; and what the comparison the user saw said of them (memory.seen_in)
    filed_before: Mapping[tuple[str, ...], Sequence[FiledBefore]] = field(default_factory=dict)
    seen_filed_before: memory.Seen = frozenset()


@dataclass(slots=True)
class Verdict:
    """The gate's answer for a set of studies filed under one order each."""

    changed: list[str] = field(default_factory=list)  # compared with another patient
    # compared with the order's patient, but not knowing what is remembered now (memory)
    history_changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # on the PACS under another patient
    mismatched: list[str] = field(default_factory=list)  # a patient not match/format_different
    reports: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # per study, now

    def needs_acknowledgement(self) -> bool:
        return bool(self.mismatched)


def judge(checks: Sequence[tuple[StudyCheck, Person]]) -> Verdict:
    """Judge each study against the order's patient as it is now (``expected``)."""
    verdict = Verdict()
    for study, expected in checks:
        patients = list(study.patients) or [Person()]
        reports = [compare(expected, p, study.filed_before.get(p.key(), ())) for p in patients]
        verdict.reports[study.uid] = reports
        if study.compared_with is None or study.compared_with.key() != expected.key():
            verdict.changed.append(study.uid)
        elif memory.seen_in(zip([p.key() for p in patients], reports, strict=True)) - (
            study.seen_filed_before
        ):
            # filed under another patient since the comparison shown: the user must see it
            verdict.history_changed.append(study.uid)
        if study.pacs_patient_id is not None and study.pacs_patient_id != expected.id:
            verdict.conflicts.append(study.uid)
        if needs_acknowledgement(reports):
            verdict.mismatched.append(study.uid)
    return verdict
