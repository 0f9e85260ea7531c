"""Every table, imported once so that ``Base.metadata`` is complete (Alembic, tests)."""

from importer.access.models import LaunchToken, Order, UserSession
from importer.audit.models import AuditEvent
from importer.db import Base
from importer.imports.models import Document, Import, Instance, Series, Stage, Study
from importer.imports.ris_outbox import RisCallback

__all__ = [
    "AuditEvent",
    "Base",
    "Document",
    "Import",
    "Instance",
    "LaunchToken",
    "Order",
    "RisCallback",
    "Series",
    "Stage",
    "Study",
    "UserSession",
]
