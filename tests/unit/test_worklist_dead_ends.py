"""Worklist mode's rule for a study the PACS holds already: wholly there, it needs no order;
partly there, or there under another patient, it does."""

from __future__ import annotations

import pytest

from importer.errors import InvalidInput
from importer.imports.models import Import, Study
from importer.imports.reconcile import check_confirmable, wholly_on_pacs, worklist_mode
from importer.imports.schemas import ConfirmIn
from importer.imports.states import ImportStatus


def study(
    uid: str, *, on_pacs: bool, held: int | None, total: int = 2, conflict: bool = False
) -> Study:
    return Study(
        study_instance_uid=uid,
        on_pacs=on_pacs,
        instances_on_pacs=held,
        instance_count=total,
        pacs_conflict=conflict,
    )


@pytest.mark.parametrize(
    ("on_pacs", "held", "conflict", "expected"),
    [
        (True, 2, False, True),  # every instance there
        (False, 1, False, False),  # partly: the missing one is sent, under an order
        (False, None, False, False),  # not there at all
        (True, 2, True, False),  # there under another patient
        (True, None, True, False),  # a conflict found before the instances were counted
        (True, 1, False, False),  # inconsistent counts: never taken as present
    ],
)
def test_wholly_on_pacs(on_pacs: bool, held: int | None, conflict: bool, expected: bool) -> None:
    assert wholly_on_pacs(study("1.2", on_pacs=on_pacs, held=held, conflict=conflict)) is expected


def worklist_import(*studies: Study) -> Import:
    imp = Import(zone="pacs", status=ImportStatus.awaiting_confirmation, studies=list(studies))
    assert worklist_mode(imp)
    return imp


def test_a_study_wholly_on_the_pacs_needs_no_order() -> None:
    imp = worklist_import(study("1.1", on_pacs=True, held=2))
    check_confirmable(imp, ConfirmIn(studies=["1.1"]))


@pytest.mark.parametrize(
    "other",
    [
        study("1.2", on_pacs=False, held=1),
        study("1.2", on_pacs=False, held=None),
        study("1.2", on_pacs=True, held=2, conflict=True),
    ],
    ids=["partly", "absent", "conflict"],
)
def test_any_other_study_still_needs_its_order(other: Study) -> None:
    imp = worklist_import(study("1.1", on_pacs=True, held=2), other)
    with pytest.raises(InvalidInput) as refused:
        check_confirmable(imp, ConfirmIn(studies=["1.1", "1.2"]))
    assert (refused.value.code, refused.value.params) == ("order_required", {"count": 1})
    check_confirmable(imp, ConfirmIn(studies=["1.1", "1.2"], order_for_study={"1.2": "ACC1"}))


def test_the_temporary_zone_is_not_worklist_mode() -> None:
    imp = Import(zone="temporary", status=ImportStatus.awaiting_confirmation, studies=[])
    assert not worklist_mode(imp)
