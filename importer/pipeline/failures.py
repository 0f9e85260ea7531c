"""Ending an import as failed: status, error, audit, event. Its files stay for support unless
the site keeps none (``IMPORTER_RETAIN_SPOOL=none``). Within a job, only while the job still
holds the import (its lease)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from importer.audit.service import SYSTEM, about, record
from importer.db import transaction
from importer.imports import repository
from importer.imports.states import TERMINAL, ImportStatus, set_status
from importer.messages import clean_params, message_code
from importer.pipeline.context import PipelineContext

log = logging.getLogger(__name__)


async def fail_import(
    ctx: PipelineContext,
    import_id: str,
    *,
    code: str,
    message: str,
    action: str,
    params: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Fail the import with ``code`` (a :class:`~importer.messages.MessageCode`), its
    ``params`` (counts, statuses, a stage: never patient data) and the English ``message``."""
    code = message_code(code)
    error_params = clean_params(params)
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, import_id, lock=True)
        if imp is None or imp.status in TERMINAL:
            return
        await ctx.ensure_lease(db)  # a job that lost its import says nothing about it
        promoted = imp.promoted_at is not None
        set_status(imp, ImportStatus.failed, error_code=code, message=message, params=error_params)
        await record(
            db,
            action=action,
            outcome="failure",
            actor=SYSTEM,
            import_id=import_id,
            **about(imp.order),
            details={"error": code, "params": error_params, **(details or {})},
        )
    log.info("import failed", extra={"import_id": import_id, "code": code})
    # a promoted import's files (the temporary zone's, an undone import's) are the only copy
    # left: a person decides, never the retention setting
    if ctx.settings.retain_spool == "none" and not promoted:
        await asyncio.to_thread(ctx.spool.delete, import_id)
    await ctx.publish(
        import_id, "status", status=ImportStatus.failed, error=code, params=error_params
    )
