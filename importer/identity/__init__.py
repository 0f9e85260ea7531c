"""Patient identity matching: PN parsing, normalisation and comparison (pure, no I/O)."""

from importer.identity.compare import (
    compare_birth_dates,
    compare_names,
    compare_patients,
    compare_sex,
)
from importer.identity.names import (
    PersonName,
    compact,
    fold,
    parse_person_name,
    split_groups,
    strip_accents,
)
from importer.identity.reasons import Reason
from importer.identity.report import FieldStatus, IdentityReport, Overall

__all__ = [
    "FieldStatus",
    "IdentityReport",
    "Overall",
    "PersonName",
    "Reason",
    "compact",
    "compare_birth_dates",
    "compare_names",
    "compare_patients",
    "compare_sex",
    "fold",
    "parse_person_name",
    "split_groups",
    "strip_accents",
]
