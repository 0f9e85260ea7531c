"""All queries on orders, launch tokens and sessions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from importer.access.models import LaunchToken, Order, UserSession


async def get_order_by_accession(db: AsyncSession, accession_number: str) -> Order | None:
    result = await db.execute(select(Order).where(Order.accession_number == accession_number))
    return result.scalar_one_or_none()


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
