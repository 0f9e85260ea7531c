"""The worklist's answers as they leave the worker and reach the browser (pydantic).

:class:`WorklistResult` is both the worker's answer to a search and the api's response;
:class:`WorklistOrders` is the worker's answer to "which orders are these". Neither is mapped by
hand on the way: the worker dumps the model, the api validates the same model.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from importer.identity.schemas import IdentityOut
from importer.worklist.query import Candidate, WorklistItem

__all__ = [
    "WorklistCandidate",
    "WorklistOrders",
    "WorklistPatient",
    "WorklistProcedure",
    "WorklistResult",
]

# No docstrings on the API models without one: a docstring is their OpenAPI description.


class WorklistProcedure(BaseModel):
    code: str
    description: str


class WorklistPatient(BaseModel):
    name: str
    id: str
    issuer: str
    birth_date: str
    sex: str


class WorklistCandidate(BaseModel):
    """An order of the worklist, with how its patient compares to the identity searched."""

    accession_number: str
    requested_procedure_id: str
    procedure: WorklistProcedure
    modality: str
    scheduled_date: str
    scheduled_time: str
    patient: WorklistPatient
    identity: IdentityOut
    score: float = Field(description="Similarity to the identity searched, 0 to 1")

    def patient_key(self) -> tuple[str, str]:
        """The order's patient as the hospital names it: Patient ID and its issuer."""
        return self.patient.id, self.patient.issuer

    step: str = Field(description="The search step that found it (relaxation of the French seed)")

    @classmethod
    def of(cls, candidate: Candidate) -> WorklistCandidate:
        item = candidate.item
        return cls(
            accession_number=item.accession_number,
            requested_procedure_id=item.requested_procedure_id,
            procedure=WorklistProcedure(
                code=item.procedure_code, description=item.requested_procedure_description
            ),
            modality=item.modality,
            scheduled_date=item.scheduled_date,
            scheduled_time=item.scheduled_time,
            patient=WorklistPatient(
                name=item.patient_name,
                id=item.patient_id,
                issuer=item.issuer_of_patient_id,
                birth_date=item.patient_birth_date,
                sex=item.patient_sex,
            ),
            identity=IdentityOut.model_validate(candidate.identity),
            score=candidate.score,
            step=candidate.step,
        )


class WorklistResult(BaseModel):
    items: list[WorklistCandidate]


class WorklistOrders(BaseModel):
    """The worklist's order of each accession number asked: ``None`` when the worklist has
    none, or holds it under two patients (several procedure steps of one order are fine)."""

    items: dict[str, WorklistItem | None]
