"""The append-only audit trail: who did what to which patient's import, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from importer.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    actor_id: Mapped[str] = mapped_column(String(64), default="")
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    department: Mapped[str] = mapped_column(String(200), default="")
    import_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    accession_number: Mapped[str] = mapped_column(String(64), default="", index=True)
    patient_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    study_instance_uid: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # hash chain, sealed after the fact by one sealer in ``seq`` order (tampering shows)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AtnaDelivery(Base):
    """How far the sealed trail has reached the audit repository (IHE ATNA export): one row,
    moved by the reconciler after each batch it sent. The trail itself is never changed."""

    __tablename__ = "atna_delivery"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)
    ROW: ClassVar[int] = 1

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    """The ``seq`` of the last audit event the repository received (0: none yet)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
