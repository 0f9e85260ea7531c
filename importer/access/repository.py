"""All queries on orders, launch tokens and sessions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from importer.access.models import LaunchToken, Order, UserSession


async def get_order_by_accession(
    db: AsyncSession, ris_client: str, accession_number: str, *, lock: bool = False
) -> Order | None:
    """The order ``ris_client`` sent under ``accession_number`` (another client's order of the
    same number is another order)."""
    stmt = select(Order).where(
        Order.ris_client == ris_client, Order.accession_number == accession_number
    )
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    result = await db.execute(stmt)
    return result.scalar_one_or_none()


async def create_or_lock_order(
    db: AsyncSession, ris_client: str, accession_number: str, values: Mapping[str, Any]
) -> tuple[Order, bool]:
    """The order of ``accession_number`` of ``ris_client``, locked and read as committed, made
    from ``values`` if there was none (``True`` then). One statement decides, ``INSERT … ON
    CONFLICT DO NOTHING`` on (ris_client, accession_number): of two requests at once, one
    creates the order and the other waits for that commit, then finds the order made (never a
    duplicate key error)."""
    row = {**values, "ris_client": ris_client, "accession_number": accession_number}
    key = [Order.ris_client, Order.accession_number]
    if db.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(Order).values(row).on_conflict_do_nothing(index_elements=key)
        inserted = await db.execute(pg.returning(Order.id))
    else:
        lite = sqlite.insert(Order).values(row).on_conflict_do_nothing(index_elements=key)
        inserted = await db.execute(lite.returning(Order.id))
    created = inserted.scalar_one_or_none() is not None
    result = await db.execute(
        select(Order)
        .where(Order.ris_client == ris_client, Order.accession_number == accession_number)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one(), created


async def lock_orders(db: AsyncSession, order_ids: list[str]) -> list[Order]:
    """Lock orders (in a fixed order, so two requests never wait on each other) and read them
    as committed: a RIS correction either happens before the caller reads or waits for it."""
    result = await db.execute(
        select(Order)
        .where(Order.id.in_(sorted(set(order_ids))))
        .order_by(Order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(result.scalars().all())


async def get_launch_by_hash(db: AsyncSession, token_hash: str) -> LaunchToken | None:
    result = await db.execute(
        select(LaunchToken)
        .where(LaunchToken.token_hash == token_hash)
        .with_for_update(of=LaunchToken)
    )
    return result.unique().scalar_one_or_none()


async def get_session_by_hash(db: AsyncSession, token_hash: str) -> UserSession | None:
    result = await db.execute(select(UserSession).where(UserSession.token_hash == token_hash))
    return result.unique().scalar_one_or_none()


async def end_session(db: AsyncSession, session_id: str, *, at: datetime) -> bool:
    """Bring a session's expiry forward to ``at``, unless it has passed already: ``False`` when
    another request ended it first (one statement decides, so only one of two ends it)."""
    result = await db.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.expires_at > at)
        .values(expires_at=at)
        .returning(UserSession.id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none() is not None


async def get_session_expiry(db: AsyncSession, session_id: str) -> datetime | None:
    """When a session ends (``None`` for no such session), read as committed."""
    result = await db.execute(select(UserSession.expires_at).where(UserSession.id == session_id))
    return result.scalar_one_or_none()
