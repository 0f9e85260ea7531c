"""One request cannot make the worker flood the RIS: a confirmation names one order per selected
study (SH-shaped, at most MAX_WORKLIST_ORDERS), and the orders of one job are looked up on one
association (issue 13, item 7)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from importer.errors import InvalidInput
from importer.imports.schemas import ConfirmIn
from importer.settings import Settings
from importer.worklist import handler
from importer.worklist.client import WorklistClient
from importer.worklist.errors import error_from_reply
from importer.worklist.query import MAX_WORKLIST_ORDERS
from tests.integration.worklist.conftest import ORDERS

UID = "1.2.3"


@pytest.mark.parametrize(
    "accession",
    ["A" * 17, "ACC\\1", "ACC\x01", ""],
    ids=["longer-than-SH", "backslash", "control", "empty"],
)
def test_an_order_for_a_study_is_an_accession_number(accession: str) -> None:
    with pytest.raises(ValidationError):
        ConfirmIn.model_validate({"studies": [UID], "order_for_study": {UID: accession}})


def test_a_confirmation_names_at_most_the_cap_of_orders() -> None:
    many = {f"1.2.{n}": f"ACC{n}" for n in range(MAX_WORKLIST_ORDERS + 1)}
    with pytest.raises(ValidationError):
        ConfirmIn.model_validate({"studies": list(many), "order_for_study": many})
    fits = dict(list(many.items())[:MAX_WORKLIST_ORDERS])
    assert ConfirmIn.model_validate({"studies": list(fits), "order_for_study": fits})


def test_the_worker_refuses_more_lookups_than_the_cap(settings: Settings) -> None:
    asked = [f"ACC{n}" for n in range(MAX_WORKLIST_ORDERS + 1)]
    with pytest.raises(InvalidInput) as caught:
        handler.orders(settings, asked)
    assert caught.value.code == "too_many_orders"
    again = error_from_reply(caught.value.code, caught.value.message)  # as the api raises it
    assert (type(again), again.code, again.status_code) == (InvalidInput, "too_many_orders", 422)


def test_the_orders_of_one_job_are_looked_up_on_one_association(
    client: WorklistClient, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    opened: list[Any] = []
    associate = WorklistClient._associate

    def counting(self: WorklistClient) -> Any:
        opened.append(self)
        return associate(self)

    monkeypatch.setattr(WorklistClient, "_associate", counting)
    monkeypatch.setattr(handler, "worklist_client", lambda _settings: client)
    accessions = [*list(ORDERS)[:5], "NOPE-404"]
    found = handler.orders(settings, [*accessions, accessions[0]])
    assert len(opened) == 1
    assert set(found.items) == set(accessions)
    assert found.items["NOPE-404"] is None
    assert found.items[accessions[0]] is not None
