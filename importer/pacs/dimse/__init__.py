"""The DIMSE PACS adapter: :class:`DimsePacs` (:mod:`.client`), its Study Root queries
(:mod:`.queries`), its C-STORE engine (:class:`StoreEngine`, :mod:`.store`) and the
presentation-context plan of a store (:mod:`.contexts`). Associations are made by the one
routine of :mod:`importer.dimse`, shared with the worklist client."""

from __future__ import annotations

from importer.pacs.dimse.client import VERIFICATION, DimsePacs
from importer.pacs.dimse.contexts import MAX_CONTEXTS, contexts_for, plan_associations
from importer.pacs.dimse.store import StoreEngine

__all__ = [
    "MAX_CONTEXTS",
    "VERIFICATION",
    "DimsePacs",
    "StoreEngine",
    "contexts_for",
    "plan_associations",
]
