"""All queries on the import aggregate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from importer.access.models import Order, UserSession
from importer.access.policy import can_see
from importer.errors import NotFound
from importer.imports.models import Document, Import, Instance, Series, Stage, Study


async def get(db: AsyncSession, import_id: str, *, lock: bool = False) -> Import | None:
    stmt = select(Import).where(Import.id == import_id)
    if lock:
        # populate_existing: a row read earlier in this session is refreshed, not reused
        stmt = stmt.with_for_update(of=Import).execution_options(populate_existing=True)
    result = await db.execute(stmt)
    return result.unique().scalar_one_or_none()


async def get_for_session(
    db: AsyncSession, import_id: str, user_session: UserSession, *, lock: bool = False
) -> Import:
    """The import, when this session may see it (``import_not_found`` otherwise, whether it
    does not exist or is someone else's, another RIS client's included); ``lock``: locked
    until the end of the request."""
    imp = await get(db, import_id, lock=lock)
    if imp is None or not can_see(imp, user_session, ris_client=await ris_client_of(db, imp)):
        raise NotFound("No such import.", code="import_not_found")
    return imp


async def ris_client_of(db: AsyncSession, imp: Import) -> str:
    """The RIS client an import belongs to: the one of the session that made it."""
    if imp.session_id is None:
        return ""  # made by no session: no session's client sees it
    result = await db.execute(
        select(UserSession.ris_client).where(UserSession.id == imp.session_id)
    )
    return result.scalar_one_or_none() or ""


async def list_for_order(db: AsyncSession, order_pk: str) -> Sequence[Import]:
    result = await db.execute(
        select(Import).where(Import.order_pk == order_pk).order_by(Import.created_at.desc())
    )
    return result.unique().scalars().all()


async def list_for_user(db: AsyncSession, user_id: str, *, ris_client: str) -> Sequence[Import]:
    """The imports ``user_id`` of ``ris_client`` made (another client's user of the same id is
    another user)."""
    result = await db.execute(
        select(Import)
        .join(UserSession, Import.session_id == UserSession.id)
        .where(Import.created_by == user_id, UserSession.ris_client == ris_client)
        .order_by(Import.created_at.desc())
    )
    return result.unique().scalars().all()


async def list_for_accession(
    db: AsyncSession, accession_number: str, *, ris_client: str
) -> Sequence[Import]:
    """The imports of the order ``ris_client`` sent under ``accession_number``."""
    result = await db.execute(
        select(Import)
        .join(Order, Import.order_pk == Order.id)
        .where(Order.ris_client == ris_client, Order.accession_number == accession_number)
        .order_by(Import.created_at.desc())
    )
    return result.unique().scalars().all()


async def list_stale(
    db: AsyncSession, statuses: Sequence[str], updated_before: datetime
) -> Sequence[str]:
    result = await db.execute(
        select(Import.id).where(Import.status.in_(statuses), Import.updated_at < updated_before)
    )
    return result.scalars().all()


async def clear_contents(db: AsyncSession, import_id: str) -> None:
    """Remove what an earlier analysis indexed (a job may run twice)."""
    await db.execute(delete(Document).where(Document.import_id == import_id))
    await db.execute(delete(Instance).where(Instance.import_id == import_id))
    study_ids = select(Study.id).where(Study.import_id == import_id)
    await db.execute(delete(Stage).where(Stage.study_id.in_(study_ids)))
    await db.execute(delete(Series).where(Series.study_id.in_(study_ids)))
    await db.execute(delete(Study).where(Study.import_id == import_id))


async def instances_of_study(db: AsyncSession, study_id: str) -> Sequence[Instance]:
    result = await db.execute(
        select(Instance).where(Instance.study_id == study_id).order_by(Instance.display_path)
    )
    return result.scalars().all()


async def documents_to_wrap(db: AsyncSession, study_id: str) -> Sequence[Document]:
    """The documents of the medium filed with the study and not yet wrapped as its objects."""
    result = await db.execute(
        select(Document)
        .where(Document.study_id == study_id, Document.instance_id.is_(None))
        .order_by(Document.position)
    )
    return result.scalars().all()


async def unwrap_documents(db: AsyncSession, imp: Import) -> None:
    """The documents of an import going back to confirmation, none of them sent: the objects
    they became and their series removed, each filed with no study again, and each study as
    the analysis found it (wholly on the PACS again when it was, but for its documents)."""
    for doc in imp.documents:
        study = doc.study
        if doc.instance_id is not None:
            instance = await db.get(Instance, doc.instance_id)
            doc.instance_id = None
            doc.instance = None
            if instance is not None:
                await db.execute(delete(Instance).where(Instance.id == instance.id))
                await db.execute(delete(Series).where(Series.id == instance.series_id))
                if study is not None:
                    study.series_count -= 1
                    study.instance_count -= 1
        if study is not None and not study.pacs_conflict:
            study.on_pacs = study.instances_on_pacs == study.instance_count
        doc.study = None
    await db.flush()


async def count_by_sent_state(db: AsyncSession, study_id: str) -> dict[str, int]:
    result = await db.execute(
        select(Instance.sent_state, func.count())
        .where(Instance.study_id == study_id)
        .group_by(Instance.sent_state)
    )
    return {state: count for state, count in result.all()}


async def series_of_study(db: AsyncSession, study_id: str) -> Sequence[Series]:
    result = await db.execute(select(Series).where(Series.study_id == study_id))
    return result.scalars().all()


@dataclass(frozen=True, slots=True)
class SentOutcome:
    """What the PACS answered for one instance, to be recorded."""

    instance_id: str
    state: str
    status: int | None
    message: str


async def mark_sent(db: AsyncSession, outcomes: Sequence[SentOutcome], *, at: datetime) -> None:
    """Record each instance's outcome: one statement for the batch (an UPDATE by primary key,
    executed once per row by the driver)."""
    if not outcomes:
        return
    await db.execute(
        update(Instance),
        [
            {
                "id": o.instance_id,
                "sent_state": o.state,
                "dimse_status": o.status,
                "sent_message": o.message,
                "sent_at": at,
            }
            for o in outcomes
        ],
    )


async def mark_rejected(db: AsyncSession, instance_ids: Sequence[str]) -> None:
    """Record that the PACS took these instances back (an undo): they are ours no longer, and a
    promotion sends them again (:func:`reset_sent`)."""
    if not instance_ids:
        return
    await db.execute(
        update(Instance),
        [{"id": instance_id, "sent_state": "rejected"} for instance_id in instance_ids],
    )


async def set_unsent(
    db: AsyncSession, study_id: str, unsent: list[dict[str, str]], count: int
) -> None:
    """The study's objects the store could not send to the PACS (the first of them by name, and
    how many): :attr:`Study.unsent`, now what the store found."""
    await db.execute(
        update(Study)
        .where(Study.id == study_id)
        .values(unsent=unsent, unsent_count=count, unsent_found=True)
    )


async def set_file_stamps(db: AsyncSession, stamps: dict[str, str]) -> None:
    """Record the stamp of files read again completely by the verify stage (instance id to
    stamp): the store sends them only while they still have it."""
    if stamps:
        await db.execute(
            update(Instance), [{"id": id_, "file_stamp": stamp} for id_, stamp in stamps.items()]
        )


async def list_zone(
    db: AsyncSession, zone: str, *, ris_client: str, exclude: Sequence[str]
) -> Sequence[Import]:
    """The imports of a zone made by sessions of ``ris_client``."""
    result = await db.execute(
        select(Import)
        .join(UserSession, Import.session_id == UserSession.id)
        .where(
            Import.zone == zone,
            Import.status.not_in(exclude),
            UserSession.ris_client == ris_client,
        )
        .order_by(Import.created_at)
    )
    return result.unique().scalars().all()


async def reset_sent(db: AsyncSession, import_id: str) -> None:
    """What went to another node (the temporary PACS) must still go to the main PACS."""
    await db.execute(
        update(Instance)
        .where(Instance.import_id == import_id, Instance.sent_state != "on_pacs")
        .values(sent_state="pending", dimse_status=None, sent_message=None, sent_at=None)
    )


async def count_by_status(db: AsyncSession) -> dict[tuple[str, str], int]:
    result = await db.execute(
        select(Import.status, Import.zone, func.count()).group_by(Import.status, Import.zone)
    )
    return {(status, zone): count for status, zone, count in result.all()}


async def count_open_uploads(db: AsyncSession, session_id: str) -> int:
    result = await db.execute(
        select(func.count())
        .select_from(Import)
        .where(Import.session_id == session_id, Import.status == "created")
    )
    return int(result.scalar_one())


async def count_sent(db: AsyncSession, import_id: str) -> int:
    """Instances of the import that we sent (to any node)."""
    result = await db.execute(
        select(func.count())
        .select_from(Instance)
        .where(Instance.import_id == import_id, Instance.sent_state == "sent")
    )
    return int(result.scalar_one())


# --- one job per import: the lease -------------------------------------------------------------


async def take_lease(
    db: AsyncSession, import_id: str, *, owner: str, now: datetime, until: datetime
) -> bool:
    """Hold the import for ``owner`` until ``until``, when nobody holds it, the holder's lease
    ran out, or ``owner`` holds it already. One conditional UPDATE: two jobs racing for it
    cannot both win (PostgreSQL locks the row, SQLite the database)."""
    result = await db.execute(
        update(Import)
        .where(
            Import.id == import_id,
            or_(
                Import.lease_owner.is_(None),
                Import.lease_expires_at.is_(None),
                Import.lease_expires_at < now,
                Import.lease_owner == owner,
            ),
        )
        .values(lease_owner=owner, lease_expires_at=until)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def renew_lease(db: AsyncSession, import_id: str, *, owner: str, until: datetime) -> bool:
    """Extend ``owner``'s lease; false when another job took the import meanwhile."""
    result = await db.execute(
        update(Import)
        .where(Import.id == import_id, Import.lease_owner == owner)
        .values(lease_expires_at=until)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def release_lease(db: AsyncSession, import_id: str, *, owner: str) -> None:
    await db.execute(
        update(Import)
        .where(Import.id == import_id, Import.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )


async def lease_expiry(db: AsyncSession, import_id: str) -> tuple[bool, datetime | None]:
    """Whether the import exists, and until when its current lease (if any) runs."""
    row = (
        await db.execute(select(Import.lease_expires_at).where(Import.id == import_id))
    ).one_or_none()
    return (False, None) if row is None else (True, row[0])


async def holds_lease(db: AsyncSession, import_id: str, *, owner: str, now: datetime) -> bool:
    result = await db.execute(
        select(func.count())
        .select_from(Import)
        .where(
            Import.id == import_id,
            Import.lease_owner == owner,
            Import.lease_expires_at >= now,
        )
    )
    return int(result.scalar_one()) == 1


async def list_stale_unleased(
    db: AsyncSession, statuses: Sequence[str], updated_before: datetime, now: datetime
) -> Sequence[str]:
    """:func:`list_stale`, but for the imports no live job holds (a running job is not lost)."""
    result = await db.execute(
        select(Import.id).where(
            Import.status.in_(statuses),
            Import.updated_at < updated_before,
            or_(
                Import.lease_owner.is_(None),
                Import.lease_expires_at.is_(None),
                Import.lease_expires_at < now,
            ),
        )
    )
    return result.scalars().all()


async def list_undo_lost(db: AsyncSession, asked_before: datetime, now: datetime) -> Sequence[str]:
    """Undos asked (before ``asked_before``), neither done nor failed, that no live job holds:
    their job was lost (Redis emptied, a worker killed)."""
    result = await db.execute(
        select(Import.id).where(
            Import.undo_requested_at.is_not(None),
            Import.undo_requested_at < asked_before,
            Import.undone_at.is_(None),
            Import.undo_error_code.is_(None),
            or_(
                Import.lease_owner.is_(None),
                Import.lease_expires_at.is_(None),
                Import.lease_expires_at < now,
            ),
        )
    )
    return result.scalars().all()


async def release_files_kept(db: AsyncSession, now: datetime) -> Sequence[str]:
    """The imports whose undo period is over (none asked for): no longer kept, their ids
    returned so that their files leave the spool."""
    # one conditional UPDATE: a request that holds the import row first wins (its row no
    # longer matches once it is asked for)
    result = await db.execute(
        update(Import)
        .where(
            Import.files_kept_until.is_not(None),
            Import.files_kept_until <= now,
            Import.undo_requested_at.is_(None),
        )
        .values(files_kept_until=None)
        .returning(Import.id)
    )
    return list(result.scalars().all())


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
