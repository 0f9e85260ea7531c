"""Pydantic schemas of launches, sessions and orders (API in and out)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from importer.validation import InputModel

Role = Literal["clinician", "temporary_zone", "auditor"]


def _check_da(value: str) -> str:
    try:
        dt.datetime.strptime(value, "%Y%m%d")
    except ValueError as exc:
        raise ValueError("must be a real date written YYYYMMDD") from exc
    return value


def _check_pn(value: str) -> str:
    if "\\" in value or any(ord(c) < 32 for c in value):
        raise ValueError("must not hold backslashes or control characters")
    groups = value.split("=")
    if len(groups) > 3 or any(len(g.split("^")) > 5 for g in groups):
        raise ValueError("a DICOM person name has at most 3 groups of 5 components")
    if not value.replace("^", "").replace("=", "").strip():
        raise ValueError("must not be empty")
    return value


DicomDate = Annotated[str, StringConstraints(pattern=r"^\d{8}$"), AfterValidator(_check_da)]
PersonName = Annotated[
    str, StringConstraints(min_length=1, max_length=324), AfterValidator(_check_pn)
]
ShortString = Annotated[str, StringConstraints(max_length=16, pattern=r"^[^\\\x00-\x1f]*$")]
LongString = Annotated[str, StringConstraints(max_length=64, pattern=r"^[^\\\x00-\x1f]*$")]


class StrictModel(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UserIn(StrictModel):
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    roles: list[Role] = Field(default_factory=lambda: list[Role](["clinician"]))
    department: Annotated[str, StringConstraints(max_length=200)] = ""


class PatientIn(StrictModel):
    id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\\\x00-\x1f]*$")]
    issuer: LongString = ""
    name: PersonName = Field(description='DICOM PN, e.g. "ROSSI^MARIO"')
    birth_date: DicomDate = Field(description="YYYYMMDD")
    sex: Literal["M", "F", "O"]


class ProcedureIn(StrictModel):
    code: ShortString = ""
    scheme: ShortString = Field("", description="Coding Scheme Designator of the code")
    description: LongString = ""


AccessionNumber = Annotated[
    str, StringConstraints(min_length=1, max_length=16, pattern=r"^[^\\\x00-\x1f]*$")
]
"""An Accession Number as DICOM holds it (SH: 16 characters, no backslash, no control)."""


def _not_a_patient_key(value: str) -> str:
    if value.startswith(PATIENT_KEY_PREFIX):
        raise ValueError(
            f"an accession number may not begin with {PATIENT_KEY_PREFIX!r} (kept for patients "
            "launched for without an order)"
        )
    return value


PATIENT_KEY_PREFIX = "~"
"""What begins our key of a patient launched for without an order, in an accession number's
place: never a RIS order's accession number."""


class OrderIn(StrictModel):
    accession_number: Annotated[AccessionNumber, AfterValidator(_not_a_patient_key)]
    requested_procedure_id: ShortString = ""
    scheduled_procedure_step_id: ShortString = ""
    order_id: LongString = ""
    procedure: ProcedureIn | None = None
    scheduled_at: dt.datetime | None = None
    modality: ShortString = ""
    patient: PatientIn


class LaunchCreate(StrictModel):
    user: UserIn
    order: OrderIn | None = Field(None, description="No order (and no patient) = worklist mode")
    patient: PatientIn | None = Field(
        None,
        description="An import for this patient without an order (not with ``order``): the "
        "images are filed under the patient, their Accession Number left empty (the medium's "
        "kept in Original Attributes Sequence). To give them one, send an order instead",
    )
    callback_url: AnyHttpUrl | None = None

    @model_validator(mode="after")
    def _order_or_patient(self) -> LaunchCreate:
        if self.order is not None and self.patient is not None:
            raise ValueError("give an order or a patient, not both")
        return self


class LaunchOut(BaseModel):
    token: str
    expires_at: dt.datetime
    url: str


class SessionCreate(StrictModel):
    launch_token: str = ""


class UserOut(BaseModel):
    id: str
    name: str
    roles: list[Role]
    department: str


OrderKind = Literal["order", "patient"]


class PatientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    issuer: str
    name: str
    birth_date: str
    sex: str


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: OrderKind = Field(
        description="order: a RIS order; patient: a patient launched for without an order "
        "(``accession_number`` is then our key of the patient, not an accession)"
    )
    accession_number: str
    requested_procedure_id: str
    scheduled_procedure_step_id: str
    order_id: str
    procedure: ProcedureIn
    scheduled_at: dt.datetime | None
    modality: str
    patient: PatientOut


class SessionContext(BaseModel):
    user: UserOut
    order: OrderOut | None
    expires_at: dt.datetime


class SessionOut(SessionContext):
    session_token: str
