"""Orders (with their patient), launch tokens and user sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from importer.db import Base, UTCDateTime, new_id, utcnow
from importer.identity.gate import Person


class Order(Base):
    """A RIS order and its patient, as the RIS last sent it. An accession number names an
    order within one RIS client: two RIS clients have orders of their own."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("ris_client", "accession_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ris_client: Mapped[str] = mapped_column(String(64), default="default", server_default="default")
    accession_number: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="order", server_default="order")
    """``order``: a RIS order; ``patient``: a patient the RIS launched an import for without an
    order (its ``accession_number`` is our key of the patient, never written into an image:
    :func:`importer.access.service.patient_key`)."""
    requested_procedure_id: Mapped[str] = mapped_column(String(16), default="")
    order_id: Mapped[str] = mapped_column(String(64), default="")
    procedure_code: Mapped[str] = mapped_column(String(16), default="")
    procedure_code_scheme: Mapped[str] = mapped_column(String(16), default="", server_default="")
    scheduled_procedure_step_id: Mapped[str] = mapped_column(
        String(16), default="", server_default=""
    )
    procedure_description: Mapped[str] = mapped_column(String(64), default="")
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    modality: Mapped[str] = mapped_column(String(16), default="")
    patient_id: Mapped[str] = mapped_column(String(64), index=True)
    patient_issuer: Mapped[str] = mapped_column(String(64), default="")
    patient_name: Mapped[str] = mapped_column(String(324))
    patient_birth_date: Mapped[str] = mapped_column(String(8), default="")
    patient_sex: Mapped[str] = mapped_column(String(1), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def patient(self) -> Person:
        """The order's patient, as the RIS last sent it."""
        return Person(
            name=self.patient_name,
            id=self.patient_id,
            issuer=self.patient_issuer,
            birth_date=self.patient_birth_date,
            sex=self.patient_sex,
        )

    @property
    def procedure(self) -> dict[str, str]:
        return {
            "code": self.procedure_code,
            "scheme": self.procedure_code_scheme,
            "description": self.procedure_description,
        }


class LaunchToken(Base):
    """A short-lived, single-use token the RIS hands to the browser. Only its hash is stored."""

    __tablename__ = "launch_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200), default="")
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    order_pk: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), nullable=True)
    callback_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    ris_client: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    order: Mapped[Order | None] = relationship(lazy="joined")


class UserSession(Base):
    """A browser session opened with a launch token: scoped to one user, roles and order."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    launch_id: Mapped[str] = mapped_column(ForeignKey("launch_tokens.id"))
    user_id: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200), default="")
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    order_pk: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), nullable=True)
    callback_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    ris_client: Mapped[str] = mapped_column(String(64), default="default", server_default="default")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    order: Mapped[Order | None] = relationship(lazy="joined")

    def context(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "roles": list(self.roles)}
