"""How a comparison is shown: the API's form of an :class:`~importer.identity.report.IdentityReport`
(pydantic validates, it does no I/O). Shared by the import's studies and the worklist's
candidates."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from importer.identity.report import FieldStatus, Overall


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    overall: Overall
    fields: dict[str, FieldStatus]
    reasons: list[str]
