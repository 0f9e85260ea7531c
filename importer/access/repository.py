"""All queries on orders, launch tokens and sessions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from importer.access.models import LaunchToken, Order, UserSession


async def get_order_by_accession(
    db: AsyncSession, accession_number: str, *, lock: bool = False
) -> Order | None:
    stmt = select(Order).where(Order.accession_number == accession_number)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    result = await db.execute(stmt)
    return result.scalar_one_or_none()


async def create_or_lock_order(
    db: AsyncSession, accession_number: str, values: Mapping[str, Any]
) -> tuple[Order, bool]:
    """The order of ``accession_number``, locked and read as committed, made from ``values``
    if there was none (``True`` then). One statement decides, ``INSERT … ON CONFLICT DO
    NOTHING``: of two requests at once, one creates the order and the other waits for that
    commit, then finds the order made (never a duplicate key error)."""
    row = {**values, "accession_number": accession_number}
    if db.get_bind().dialect.name == "postgresql":
        pg = (
            postgresql.insert(Order)
            .values(row)
            .on_conflict_do_nothing(index_elements=[Order.accession_number])
        )
        inserted = await db.execute(pg.returning(Order.id))
    else:
        lite = (
            sqlite.insert(Order)
            .values(row)
            .on_conflict_do_nothing(index_elements=[Order.accession_number])
        )
        inserted = await db.execute(lite.returning(Order.id))
    created = inserted.scalar_one_or_none() is not None
    result = await db.execute(
        select(Order)
        .where(Order.accession_number == accession_number)
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
