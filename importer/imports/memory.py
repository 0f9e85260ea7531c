"""Remembered identities in the database (issue 16, point 1; the rule is
:mod:`importer.identity.memory`'s): which local patient each medium's patient was filed under,
written by the identity gate when a user files a study, read by the analysis and by the gate.

Scoped by RIS client, as orders are: RIS B's patients are not RIS A's. Held by the gate's
transaction: :func:`lock` serialises two filings of one outside patient (PostgreSQL: an advisory
lock per key, taken in a fixed order; SQLite: every transaction is begun IMMEDIATE already), so
that a filing reads what the other wrote before it decides.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from importer.audit.actions import AuditAction
from importer.audit.service import Actor, record
from importer.db import new_id
from importer.identity.gate import Person
from importer.identity.memory import FiledBefore, OutsideKey, outside_key
from importer.imports.models import RememberedIdentity

__all__ = [
    "Filing",
    "audit_recall",
    "filed_by_key",
    "forget",
    "forget_filed_by",
    "get",
    "key_of",
    "lock",
    "recall",
    "remember",
    "search",
]

SEARCH_LIMIT = 200


def key_of(person: Person, institution: str) -> OutsideKey | None:
    """The outside key of a medium's patient (``institution``: the study's, which names the
    Patient ID's authority when the medium gives no issuer)."""
    return outside_key(person.id, person.issuer, institution, person.key()[0], person.birth_date)


def _hash(key: OutsideKey) -> str:
    text_key = "\0".join((key.authority, key.patient_id, key.name, key.birth_date))
    return hashlib.sha256(text_key.encode()).hexdigest()


async def lock(db: AsyncSession, ris_client: str, keys: Iterable[OutsideKey]) -> None:
    """Hold these outside patients until the transaction ends (PostgreSQL), in a fixed order so
    that two filings never wait on each other; a no-op elsewhere (SQLite's transactions are
    IMMEDIATE: one writer at a time)."""
    if db.get_bind().dialect.name != "postgresql":
        return
    for digest in sorted({_hash(k) for k in keys}):
        lock_id = int(hashlib.sha256(f"{ris_client}\0{digest}".encode()).hexdigest()[:15], 16)
        await db.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def _filed(row: RememberedIdentity) -> FiledBefore:
    return FiledBefore(
        patient_id=row.local_patient_id,
        issuer=row.local_issuer,
        name=row.local_name,
        birth_date=row.local_birth_date,
        at=row.filed_at.isoformat(),
        by=row.filed_by_name or row.filed_by,
    )


async def recall(
    db: AsyncSession, ris_client: str, keys: Iterable[OutsideKey], *, besides: str | None = None
) -> dict[OutsideKey, list[FiledBefore]]:
    """The local patients each of these outside patients was filed under, the last filed first
    (``besides``: but the filings of that import, last made by it)."""
    by_hash = {_hash(k): k for k in keys}
    if not by_hash:
        return {}
    statement = select(RememberedIdentity).where(
        RememberedIdentity.ris_client == ris_client,
        RememberedIdentity.outside_hash.in_(sorted(by_hash)),
    )
    if besides is not None:
        statement = statement.where(
            or_(RememberedIdentity.import_id.is_(None), RememberedIdentity.import_id != besides)
        )
    rows = await db.execute(
        statement.order_by(RememberedIdentity.filed_at.desc(), RememberedIdentity.id)
    )
    found: dict[OutsideKey, list[FiledBefore]] = defaultdict(list)
    for row in rows.scalars():
        found[by_hash[row.outside_hash]].append(_filed(row))
    return dict(found)


@dataclass(frozen=True, slots=True)
class Filing:
    """A medium's patient filed under a local patient, as the gate lets it be."""

    key: OutsideKey
    outside: Person
    local: Person
    institution: str = ""
    """The study's institution, as the medium wrote it."""


def _cut(value: str, width: int) -> str:
    return value[:width]


async def remember(
    db: AsyncSession,
    ris_client: str,
    filings: Sequence[Filing],
    *,
    at: datetime,
    by: str,
    by_name: str,
    import_id: str,
    support_id: str,
) -> list[tuple[str, Filing]]:
    """Write (or renew: its time and user) each filing's mapping; each distinct filing with
    its mapping's id."""
    rows = []
    unique = {(_hash(f.key), _cut(f.local.id, 64), _cut(f.local.issuer, 64)): f for f in filings}
    for filing in unique.values():
        rows.append(
            {
                "id": new_id(),
                "ris_client": ris_client,
                "outside_hash": _hash(filing.key),
                "authority": _cut(filing.key.authority, 300),
                "outside_patient_id": _cut(filing.key.patient_id, 64),
                "outside_issuer": _cut(filing.outside.issuer, 64),
                "outside_institution": _cut(filing.institution, 200),
                "outside_name": _cut(filing.outside.name, 324),
                "outside_birth_date": _cut(filing.outside.birth_date, 8),
                "local_patient_id": _cut(filing.local.id, 64),
                "local_issuer": _cut(filing.local.issuer, 64),
                "local_name": _cut(filing.local.name, 324),
                "local_birth_date": _cut(filing.local.birth_date, 8),
                "filed_at": at,
                "filed_by": _cut(by, 64),
                "filed_by_name": _cut(by_name, 200),
                "import_id": import_id,
                "support_id": _cut(support_id, 16),
            }
        )
    if not rows:
        return []
    key = ["ris_client", "outside_hash", "local_patient_id", "local_issuer"]
    renewed = [
        "filed_at",
        "filed_by",
        "filed_by_name",
        "import_id",
        "support_id",
        "outside_name",
        "outside_issuer",
        "outside_institution",
    ]
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(RememberedIdentity).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=key, set_={c: getattr(statement.excluded, c) for c in renewed}
    ).returning(
        RememberedIdentity.id,
        RememberedIdentity.outside_hash,
        RememberedIdentity.local_patient_id,
        RememberedIdentity.local_issuer,
    )
    written = {(h, pid, issuer): i for i, h, pid, issuer in (await db.execute(statement)).all()}
    return [(written[k], f) for k, f in unique.items() if k in written]


async def search(
    db: AsyncSession, ris_client: str, query: str = "", *, limit: int = SEARCH_LIMIT
) -> list[RememberedIdentity]:
    """The remembered identities of a RIS client, the last filed first; ``query`` narrows them
    to those whose outside or local Patient ID, or either name, contains it (any case)."""
    statement = select(RememberedIdentity).where(RememberedIdentity.ris_client == ris_client)
    words = query.split()
    if words:
        # the user's % and _ are letters; "ROSSI MARIO" finds ROSSI^MARIO (any separator)
        escaped = [
            w.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words
        ]
        like = "%" + "%".join(escaped) + "%"
        statement = statement.where(
            or_(
                func.lower(RememberedIdentity.outside_patient_id).like(like, escape="\\"),
                func.lower(RememberedIdentity.local_patient_id).like(like, escape="\\"),
                func.lower(RememberedIdentity.outside_name).like(like, escape="\\"),
                func.lower(RememberedIdentity.local_name).like(like, escape="\\"),
            )
        )
    rows = await db.execute(
        statement.order_by(RememberedIdentity.filed_at.desc(), RememberedIdentity.id).limit(limit)
    )
    return list(rows.scalars())


async def get(db: AsyncSession, ris_client: str, mapping_id: str) -> RememberedIdentity | None:
    row = await db.get(RememberedIdentity, mapping_id)
    return row if row is not None and row.ris_client == ris_client else None


async def forget(db: AsyncSession, ris_client: str, mapping_id: str) -> bool:
    """Remove one remembered identity of this RIS client; whether it was there."""
    result = await db.execute(
        delete(RememberedIdentity).where(
            RememberedIdentity.id == mapping_id, RememberedIdentity.ris_client == ris_client
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def forget_filed_by(db: AsyncSession, import_id: str) -> list[RememberedIdentity]:
    """Remove what ``import_id`` was the last to file (an undone import's filings were wrong:
    a medium's patient is no longer said to be that local patient); the rows removed."""
    rows = (
        (
            await db.execute(
                select(RememberedIdentity).where(RememberedIdentity.import_id == import_id)
            )
        )
        .scalars()
        .all()
    )
    if rows:
        await db.execute(
            delete(RememberedIdentity).where(RememberedIdentity.import_id == import_id)
        )
    return list(rows)


async def audit_recall(
    db: AsyncSession,
    filed: Sequence[FiledBefore],
    *,
    actor: Actor,
    import_id: str,
    study_uid: str,
    accession_number: str = "",
    patient_id: str = "",
    **details: object,
) -> None:
    """Record a use of what is remembered (``identity.recalled``): the local patients a
    medium's patient was found filed under, for a comparison about to be shown."""
    if not filed:
        return
    await record(
        db,
        action=AuditAction.identity_recalled,
        actor=actor,
        import_id=import_id,
        accession_number=accession_number,
        patient_id=patient_id,
        study_instance_uid=study_uid,
        details={
            **details,
            "filed_before": [
                {"patient_id": f.patient_id, "issuer": f.issuer, "at": f.at} for f in filed
            ],
        },
    )


def filed_by_key(
    keys: Mapping[tuple[str, ...], OutsideKey | None],
    remembered: Mapping[OutsideKey, list[FiledBefore]],
) -> dict[tuple[str, ...], list[FiledBefore]]:
    """What was filed before, by :meth:`Person.key` of each medium's patient."""
    return {pk: list(remembered.get(k, [])) for pk, k in keys.items() if k is not None}
