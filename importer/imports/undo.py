"""Undo a wrong import (issue 16, point 2): the one rule that says whether an import may be
taken back, and what the PACS is asked to take back. The request (``POST /imports/{id}/undo``)
and the worker's job (:mod:`importer.pipeline.undo`) both go through it.

- Only a completed import of the main PACS (zone ``pacs``) may be undone, by a referent, while
  its files are kept (``files_kept_until``, set when it completes where
  ``IMPORTER_REJECT_URL`` is set, ``IMPORTER_UNDO_HOURS`` later): the medium can then be filed
  again for the right order (promoted from the temporary zone) without loading it again.
- The PACS is asked to take back exactly the instances this import stored (``sent_state``
  ``sent``). One that was on the PACS before it (``on_pacs``) is never touched.
- Not while another import, of any zone and not ended, holds one of those instances (counted as
  already there, stored by it too, or still to be sent): it would lose them while saying it
  succeeded. That import is named; it ends, or is undone first. The worker's job asks again
  before it asks the PACS.
- Not an import that stored nothing (every image was there before it), nor one of worklist
  mode (each study filed under an order of its own).
- One request at a time: a second one while the first runs is refused (``undo_in_progress``);
  one that failed (the PACS away) may be asked again, even after the period (its files are kept
  until it is done), and takes back only what is left.

Once the PACS has taken every instance back, the import is ``undone``: it moves to the
temporary zone with its files (a referent promotes it to the right order, or purges it), the
identities it remembered are forgotten, the RIS is told (``import.undone``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from importer.audit.actions import AuditAction
from importer.audit.service import Actor, about, record
from importer.errors import Conflict
from importer.imports.models import Import, Instance, Series, Study
from importer.imports.states import ImportStatus
from importer.pacs.rejection import UndoReason
from importer.settings import Settings

UNDO_REASONS: tuple[str, ...] = get_args(UndoReason)

ENDED = (ImportStatus.cancelled, ImportStatus.expired, ImportStatus.purged)
"""Imports that count no instance as theirs any more."""


@dataclass(frozen=True, slots=True)
class Taken:
    """One instance this import stored, as the PACS is asked to take it back."""

    instance_id: str
    study_instance_uid: str
    series_instance_uid: str
    sop_class_uid: str
    sop_instance_uid: str


async def stored_by(db: AsyncSession, import_id: str) -> list[Taken]:
    """The instances this import stored on the PACS and the PACS has not taken back: the only
    ones an undo touches."""
    rows = await db.execute(
        select(
            Instance.id,
            Study.study_instance_uid,
            Series.series_instance_uid,
            Instance.sop_class_uid,
            Instance.sop_instance_uid,
        )
        .join(Study, Study.id == Instance.study_id)
        .join(Series, Series.id == Instance.series_id)
        .where(Instance.import_id == import_id, Instance.sent_state == "sent")
        .order_by(Study.position, Series.series_instance_uid, Instance.sop_instance_uid)
    )
    return [Taken(*row) for row in rows.all()]


async def counted_elsewhere(db: AsyncSession, import_id: str) -> list[str]:
    """The support ids of the other imports, of any zone and not ended, that hold one of this
    import's stored instances: counted as on the PACS before them, stored by them too, or still
    to be sent (a C-STORE of an instance the PACS holds is answered as stored). Only what an
    undo took back already frees an instance."""
    ours = select(Instance.sop_instance_uid).where(
        Instance.import_id == import_id, Instance.sent_state == "sent"
    )
    rows = await db.execute(
        select(Import.support_id)
        .join(Instance, Instance.import_id == Import.id)
        .where(
            Import.id != import_id,
            Import.status.not_in([s.value for s in ENDED]),
            Instance.sent_state != "rejected",
            Instance.sop_instance_uid.in_(ours),
        )
        .distinct()
        .order_by(Import.support_id)
    )
    return list(rows.scalars().all())


async def request_undo(
    db: AsyncSession,
    imp: Import,
    *,
    reason: UndoReason,
    actor: Actor,
    settings: Settings,
    now: datetime,
) -> int:
    """Record a referent's request to undo ``imp`` (locked by the caller), refused with a
    :class:`Conflict` when the rule above says no; returns how many instances the PACS will be
    asked to take back. The worker's job does it after the commit."""
    if not settings.undo_possible:
        raise Conflict(
            "This service is not set up to take imports back from the PACS (IMPORTER_REJECT_URL).",
            code="undo_not_configured",
        )
    state = imp.undo_state
    if state == "requested":
        raise Conflict("This import is being undone already.", code="undo_in_progress")
    if state == "done" or imp.status != ImportStatus.completed or imp.zone != "pacs":
        raise Conflict(
            "Only a completed import filed on the PACS can be undone.",
            code="not_undoable",
            params={"status": imp.status, "zone": imp.zone, "undone": int(state == "done")},
        )
    if imp.order is None:
        # worklist mode: each study has its own order; not undone here yet
        raise Conflict(
            "Only an import made for one order can be undone.",
            code="not_undoable",
            params={"status": imp.status, "zone": imp.zone, "undone": 0},
        )
    taken = await stored_by(db, imp.id)
    if not taken and state != "failed":
        raise Conflict(
            "This import stored no image on the PACS (every one was there before it): there is "
            "nothing to take back.",
            code="undo_nothing_stored",
        )
    kept = imp.files_kept_until
    if kept is None or (state != "failed" and kept <= now):
        raise Conflict(
            f"This import can be undone only for {settings.undo_hours} hours after it "
            "completed, while its files are kept.",
            code="undo_period_over",
            params={"hours": settings.undo_hours},
        )
    others = await counted_elsewhere(db, imp.id)
    if others:
        raise Conflict(
            f"{len(others)} other import(s) count images of this one as theirs; undo or end "
            f"them first ({others[0]}).",
            code="undo_used_later",
            params={"count": len(others), "support_id": others[0]},
        )
    imp.undo_reason = reason
    imp.undo_requested_at = now
    imp.undo_requested_by = actor.id
    imp.undo_requested_by_name = actor.name
    imp.undo_accession = imp.accession_number
    imp.undo_error_code = None
    imp.undo_error_params = None
    await record(
        db,
        action=AuditAction.import_undo_requested,
        actor=actor,
        import_id=imp.id,
        **about(imp.order),
        details={
            "reason": reason,
            "instances": len(taken),
            "studies": sorted({t.study_instance_uid for t in taken}),
            "again": int(state == "failed"),
        },
    )
    return len(taken)


def refiled(imp: Import) -> None:
    """An undone import filed again (promoted from the temporary zone): a new filing, which may
    be undone in its turn; the undo before it stays in the audit trail."""
    imp.undo_reason = None
    imp.undo_requested_at = None
    imp.undo_requested_by = None
    imp.undo_requested_by_name = ""
    imp.undo_accession = None
    imp.undone_at = None
    imp.undo_rejected = 0
    imp.undo_error_code = None
    imp.undo_error_params = None


def group_by_study(taken: Sequence[Taken]) -> dict[str, list[Taken]]:
    """The instances by study, in the order given."""
    out: dict[str, list[Taken]] = {}
    for t in taken:
        out.setdefault(t.study_instance_uid, []).append(t)
    return out
