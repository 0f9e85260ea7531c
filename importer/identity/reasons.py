"""Stable reason codes of an identity comparison (keys for the UI's i18n).

The order of the members is the order in which reasons appear in a report.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a field is not a plain match."""

    # Patient's Name: value missing on one side.
    NAME_MISSING = "NAME_MISSING"
    # Patient's Name: same letters, written differently (format_different).
    NAME_CASE = "NAME_CASE"
    NAME_ACCENTS = "NAME_ACCENTS"
    NAME_SEPARATOR = "NAME_SEPARATOR"
    NAME_ORDER_SWAPPED = "NAME_ORDER_SWAPPED"
    NAME_ONE_FIELD = "NAME_ONE_FIELD"
    NAME_MIDDLE_NAME = "NAME_MIDDLE_NAME"
    NAME_PARTICLE = "NAME_PARTICLE"
    NAME_PREFIX_SUFFIX = "NAME_PREFIX_SUFFIX"
    NAME_WILDCARD = "NAME_WILDCARD"
    # Patient's Name: a likely misspelling or an incomplete name (similar).
    NAME_TYPO = "NAME_TYPO"
    GIVEN_NAME_TYPO = "GIVEN_NAME_TYPO"
    NAME_PARTICLE_MISSING = "NAME_PARTICLE_MISSING"
    FAMILY_NAME_PARTIAL = "FAMILY_NAME_PARTIAL"
    GIVEN_NAME_PARTIAL = "GIVEN_NAME_PARTIAL"
    FAMILY_NAME_MISSING = "FAMILY_NAME_MISSING"
    GIVEN_NAME_MISSING = "GIVEN_NAME_MISSING"
    # Patient's Name: different (mismatch).
    FAMILY_NAME_DIFFERS = "FAMILY_NAME_DIFFERS"
    GIVEN_NAME_DIFFERS = "GIVEN_NAME_DIFFERS"
    NAME_SUFFIX_DIFFERS = "NAME_SUFFIX_DIFFERS"
    # Patient's Birth Date.
    BIRTH_DATE_MISSING = "BIRTH_DATE_MISSING"
    BIRTH_DATE_FORMAT = "BIRTH_DATE_FORMAT"
    BIRTH_DATE_DAY_MONTH_SWAPPED = "BIRTH_DATE_DAY_MONTH_SWAPPED"
    BIRTH_DATE_INVALID = "BIRTH_DATE_INVALID"
    BIRTH_DATE_DIFFERS = "BIRTH_DATE_DIFFERS"
    # Patient's Sex.
    SEX_MISSING = "SEX_MISSING"
    SEX_DIFFERS = "SEX_DIFFERS"
    # The outside patient was filed before under another local patient (identity.memory).
    FILED_BEFORE_UNDER_ANOTHER_PATIENT = "FILED_BEFORE_UNDER_ANOTHER_PATIENT"


_ORDER = {reason: index for index, reason in enumerate(Reason)}


def ordered(reasons: set[Reason]) -> tuple[str, ...]:
    """Return `reasons` as plain strings in the stable report order."""
    return tuple(str(r) for r in sorted(reasons, key=_ORDER.__getitem__))
