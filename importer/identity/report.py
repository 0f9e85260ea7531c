"""The result of comparing two patient identities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

Overall: TypeAlias = Literal["match", "format_different", "mismatch"]
FieldStatus: TypeAlias = Literal["match", "format_different", "similar", "mismatch", "missing"]

FIELDS: tuple[str, ...] = ("name", "birth_date", "sex")

_RANK: dict[str, int] = {
    "match": 0,
    "format_different": 1,
    "similar": 2,
    "missing": 3,
    "mismatch": 4,
}


def rank(status: FieldStatus) -> int:
    """Severity of a field status: higher is worse."""
    return _RANK[status]


def overall_of(fields: dict[str, FieldStatus]) -> Overall:
    """`match` when all fields match, `format_different` when all are match or
    format_different, otherwise `mismatch` (the UI then demands an explicit acknowledgment).
    """
    worst = max((rank(s) for s in fields.values()), default=0)
    if worst == 0:
        return "match"
    if worst == 1:
        return "format_different"
    return "mismatch"


@dataclass(frozen=True, slots=True)
class IdentityReport:
    """Comparison of the expected identity (the order) with the one found (the media)."""

    overall: Overall
    fields: dict[str, str]
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: ``{"overall", "fields", "reasons"}``."""
        return {
            "overall": self.overall,
            "fields": dict(self.fields),
            "reasons": list(self.reasons),
        }
