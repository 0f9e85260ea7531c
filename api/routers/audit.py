"""The audit trail for auditors: filter, page, export as JSON or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from api.deps import SessionDep, SessionMakerDep, require_role
from api.errors import responses
from importer.audit import chain, repository
from importer.audit.schemas import CSV_COLUMNS, AuditEventOut, AuditPage, ChainOut
from importer.db import transaction

router = APIRouter(tags=["audit"])

PAGE = 500
MAX_ID = 2**63 - 1
"""The largest event id (a BIGINT): ``after`` beyond it is invalid input, not a database error."""


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """A date-time given without a zone is read as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


@router.get(
    "/audit",
    response_model=AuditPage,
    responses={
        200: {"content": {"text/csv": {}}, "description": "JSON page, or CSV with format=csv"},
        **responses(401, 403, 422),
    },
    dependencies=[require_role("auditor")],
)
async def read_audit(
    db: SessionDep,
    factory: SessionMakerDep,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    user: Annotated[str | None, Query(max_length=64)] = None,
    patient_id: Annotated[str | None, Query(max_length=64)] = None,
    accession: Annotated[str | None, Query(max_length=16)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    import_id: Annotated[str | None, Query(max_length=36)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE)] = 100,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """Audit events in order, filtered by date (``since``/``until``, ISO 8601), user, patient
    id, accession number, action (prefix: ``import.`` gives every import action) or import.
    JSON pages continue with ``after=next_after``; ``format=csv`` exports every match."""
    where = repository.AuditFilter(
        since=_utc(since),
        until=_utc(until),
        actor_id=user,
        patient_id=patient_id,
        accession_number=accession,
        action=action,
        import_id=import_id,
    )
    if format == "json":
        rows = await repository.search(db, where, after_id=after, limit=limit)
        items = [AuditEventOut.model_validate(r, from_attributes=True) for r in rows]
        page = AuditPage(items=items, next_after=items[-1].id if len(items) == limit else None)
        return Response(page.model_dump_json(), media_type="application/json")

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        last = after
        while True:
            async with transaction(factory) as session:
                rows = await repository.search(session, where, after_id=last, limit=PAGE)
            for row in rows:
                event = AuditEventOut.model_validate(row, from_attributes=True)
                record = event.model_dump(mode="json")
                record["action"] = row.action  # the export keeps what was recorded, as it was
                record["details"] = json.dumps(record["details"], ensure_ascii=False)
                writer.writerow([record[c] for c in CSV_COLUMNS])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(rows) < PAGE:
                return
            last = rows[-1].id

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )


@router.get(
    "/audit/verify",
    responses=responses(401, 403),
    dependencies=[require_role("auditor")],
)
async def verify_audit(db: SessionDep) -> ChainOut:
    """Check the audit trail's hash chain: how many events are sealed, how many wait for the
    sealer (it runs every 30 s), and the first sequence number that does not follow, if any."""
    report = await chain.verify(db)
    return ChainOut(sealed=report.sealed, unsealed=report.unsealed, broken_at=report.broken_at)
