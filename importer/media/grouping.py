"""Checks over the instances of one study as found on the medium (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import combinations
from typing import Final

from importer.identity import compare_birth_dates, compare_names, compare_sex
from importer.media.scan import ScannedInstance

__all__ = [
    "STUDY_BIRTH_DATE_DIFFERS",
    "STUDY_PATIENTS_DIFFER",
    "STUDY_PATIENT_ID_DIFFERS",
    "STUDY_PATIENT_NAME_DIFFERS",
    "STUDY_SEX_DIFFERS",
    "patient_conflicts",
]

STUDY_PATIENTS_DIFFER: Final = "STUDY_PATIENTS_DIFFER"
"""The instances of the study do not all describe the same patient (always first)."""
STUDY_PATIENT_ID_DIFFERS: Final = "STUDY_PATIENT_ID_DIFFERS"
STUDY_PATIENT_NAME_DIFFERS: Final = "STUDY_PATIENT_NAME_DIFFERS"
STUDY_BIRTH_DATE_DIFFERS: Final = "STUDY_BIRTH_DATE_DIFFERS"
STUDY_SEX_DIFFERS: Final = "STUDY_SEX_DIFFERS"

_MAX_VALUES: Final = 32
"""Distinct values of one field compared pairwise (a hostile medium cannot make it slow)."""
_DIFFERENT: Final = frozenset({"similar", "mismatch"})


def patient_conflicts(instances: Sequence[ScannedInstance]) -> list[str]:
    """Stable reason codes when the instances of one study disagree on the patient.

    Values are compared with the identity rules of the order check: the same name written
    differently (case, accents, separators, order) or the same date in another format is not
    a conflict; a likely misspelling is (it is never accepted silently). An empty value is
    missing information, not a conflict. Patient IDs are compared exactly, blanks trimmed.
    Returns ``[]`` or :data:`STUDY_PATIENTS_DIFFER` followed by one code per field that
    differs, in a fixed order (ID, name, birth date, sex).
    """
    patients = [i.patient for i in instances]
    checks: tuple[tuple[str, Iterable[str], Callable[[str, str], bool]], ...] = (
        (STUDY_PATIENT_ID_DIFFERS, (p.id for p in patients), _ids_differ),
        (STUDY_PATIENT_NAME_DIFFERS, (p.name for p in patients), _names_differ),
        (STUDY_BIRTH_DATE_DIFFERS, (p.birth_date for p in patients), _dates_differ),
        (STUDY_SEX_DIFFERS, (p.sex for p in patients), _sexes_differ),
    )
    codes = [code for code, values, differ in checks if _any_pair(values, differ)]
    return [STUDY_PATIENTS_DIFFER, *codes] if codes else []


def _any_pair(values: Iterable[str], differ: Callable[[str, str], bool]) -> bool:
    distinct = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    return any(differ(a, b) for a, b in combinations(distinct[:_MAX_VALUES], 2))


def _ids_differ(a: str, b: str) -> bool:
    return a != b


def _names_differ(a: str, b: str) -> bool:
    return compare_names(a, b)[0] in _DIFFERENT


def _dates_differ(a: str, b: str) -> bool:
    return compare_birth_dates(a, b)[0] in _DIFFERENT


def _sexes_differ(a: str, b: str) -> bool:
    return compare_sex(a, b)[0] in _DIFFERENT
