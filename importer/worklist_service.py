"""Worklist mode, between the API and the worker: the searches a user makes and the orders a
confirmation picks, as plain JSON-ready data (it crosses the queue)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from importer.errors import ImporterError
from importer.settings import Settings
from importer.worklist import MatchingKeys, WorklistQuery, request_identifier, worklist_client


def search(settings: Settings, query: Mapping[str, str], limit: int = 50) -> dict[str, Any]:
    """Run a relaxed worklist search; answer ``{"ok", "candidates"|"code","message"}``."""
    try:
        client = worklist_client(settings)
        wq = WorklistQuery(**{k: v for k, v in query.items() if v})
        candidates = client.search(wq, limit=limit)
    except ImporterError as exc:
        return {"ok": False, "code": exc.code, "message": exc.message}
    except ValueError as exc:
        return {"ok": False, "code": "invalid_input", "message": str(exc)}
    return {
        "ok": True,
        "candidates": [
            {
                "item": dataclasses.asdict(c.item),
                "identity": c.identity.to_dict(),
                "score": c.score,
                "step": c.step,
            }
            for c in candidates
        ],
    }


def orders(settings: Settings, accessions: Sequence[str]) -> dict[str, Any]:
    """The worklist item of each accession number (``None`` when the worklist has none)."""
    found: dict[str, dict[str, str] | None] = {}
    try:
        client = worklist_client(settings)
        for accession in dict.fromkeys(accessions):
            items = client.find(request_identifier(MatchingKeys(accession_number=accession)))
            exact = [i for i in items if i.accession_number == accession]
            # several procedure steps of one order are fine; two patients are not
            one_patient = len({(i.patient_id, i.issuer_of_patient_id) for i in exact}) == 1
            found[accession] = dataclasses.asdict(exact[0]) if exact and one_patient else None
    except ImporterError as exc:
        return {"ok": False, "code": exc.code, "message": exc.message}
    return {"ok": True, "items": found}
