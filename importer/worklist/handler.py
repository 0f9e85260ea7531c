"""Worklist mode's two questions, as the worker answers them (the api never speaks DICOM): the
searches a user makes, and the orders a confirmation or a promotion picks.

Synchronous (the worker runs them in a thread). Each returns its pydantic answer or raises a
domain error (:class:`~importer.worklist.errors.WorklistError`, ``InvalidInput``); ``worker.rpc``
carries either across the queue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from importer.errors import InvalidInput
from importer.settings import Settings
from importer.worklist.client import request_identifier, worklist_client
from importer.worklist.errors import TOO_MANY_ORDERS
from importer.worklist.query import (
    MAX_WORKLIST_ORDERS,
    MatchingKeys,
    WorklistItem,
    WorklistQuery,
)
from importer.worklist.schemas import WorklistCandidate, WorklistOrders, WorklistResult


def search(
    settings: Settings,
    query: Mapping[str, str],
    limit: int = 50,
    *,
    expected: Mapping[str, str | None] | None = None,
) -> WorklistResult:
    """A relaxed worklist search for ``query`` (:class:`WorklistQuery`'s fields), best first.
    Each order found is compared with ``expected`` (the patient on the medium: name, birth date,
    sex) when given, else with the identity searched: after a user shortened the name to find
    the order, the right order still shows how it compares with the medium.

    A query the search cannot run (a scheduled date that is not a date) is ``InvalidInput``."""
    try:
        client = worklist_client(settings)
        wq = WorklistQuery(**{k: v for k, v in query.items() if v})
        candidates = client.search(wq, limit=limit, expected=expected)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    return WorklistResult(items=[WorklistCandidate.of(c) for c in candidates])


def orders(settings: Settings, accessions: Sequence[str]) -> WorklistOrders:
    """The worklist item of each accession number (``None`` when the worklist has no single
    one)."""
    distinct = list(dict.fromkeys(accessions))
    if len(distinct) > MAX_WORKLIST_ORDERS:
        raise InvalidInput(
            f"At most {MAX_WORKLIST_ORDERS} orders can be looked up at once; "
            f"{len(distinct)} were asked.",
            code=TOO_MANY_ORDERS,
            params={"max": MAX_WORKLIST_ORDERS, "count": len(distinct)},
        )
    client = worklist_client(settings)
    answers = client.find_each(
        [request_identifier(MatchingKeys(accession_number=a)) for a in distinct]
    )
    found: dict[str, WorklistItem | None] = {}
    for accession, items in zip(distinct, answers, strict=True):
        exact = [i for i in items if i.accession_number == accession]
        # several procedure steps of one order are fine; two patients are not
        one_patient = len({(i.patient_id, i.issuer_of_patient_id) for i in exact}) == 1
        found[accession] = exact[0] if exact and one_patient else None
    return WorklistOrders(items=found)
