"""How a comparison is shown: the API's form of an :class:`~importer.identity.report.IdentityReport`
(pydantic validates, it does no I/O). Shared by the import's studies and the worklist's
candidates."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from importer.identity.report import FieldStatus, Overall


class LocalPatientOut(BaseModel):
    id: str
    issuer: str
    name: str
    birth_date: str


class FiledBeforeOut(BaseModel):
    """A local patient the medium's patient (its outside patient) was filed under before."""

    patient: LocalPatientOut
    at: dt.datetime = Field(description="When it was last filed under that patient")
    by: str = Field(description="Who filed it (the user's name)")
    same: bool = Field(
        description="That patient is the order's: false makes the comparison a mismatch "
        "(FILED_BEFORE_UNDER_ANOTHER_PATIENT), whatever the names say"
    )


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    overall: Overall
    fields: dict[str, FieldStatus]
    reasons: list[str]
    filed_before: list[FiledBeforeOut] = Field(
        default_factory=list,
        description="The local patients this patient of the medium was filed under before "
        "(the same outside patient: Patient ID with its issuer or institution, name and birth "
        "date), the last first",
    )
