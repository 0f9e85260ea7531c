"""Association planning: presentation contexts from what is present, split past 128."""

from __future__ import annotations

from pydicom import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from importer.pacs import StoreItem
from importer.pacs.dimse import MAX_CONTEXTS, contexts_for, plan_associations

EXPLICIT = str(ExplicitVRLittleEndian)
IMPLICIT = str(ImplicitVRLittleEndian)
J2K = "1.2.840.10008.1.2.4.91"
RLE = "1.2.840.10008.1.2.5"
CT = "1.2.840.10008.5.1.4.1.1.2"


def _fake(index: int, sop_class: str, syntax: str = EXPLICIT) -> StoreItem:
    return StoreItem(
        key=str(index),
        sop_class_uid=sop_class,
        sop_instance_uid=f"1.2.3.{index}",
        transfer_syntax_uid=syntax,
        load=Dataset,
    )


def _shape(sop_class: str, syntaxes: list[str]) -> list[tuple[str, list[str]]]:
    return [
        (str(cx.abstract_syntax), [str(ts) for ts in cx.transfer_syntax])
        for cx in contexts_for(sop_class, syntaxes)
    ]


def test_contexts_original_first_alone_then_the_fallback() -> None:
    assert _shape(CT, [J2K]) == [(CT, [J2K]), (CT, [EXPLICIT, IMPLICIT])]
    assert _shape(CT, [J2K, RLE]) == [(CT, [J2K]), (CT, [RLE]), (CT, [EXPLICIT, IMPLICIT])]
    assert _shape(CT, [EXPLICIT]) == [(CT, [EXPLICIT]), (CT, [EXPLICIT, IMPLICIT])]
    assert _shape(CT, [IMPLICIT, EXPLICIT]) == [(CT, [IMPLICIT]), (CT, [EXPLICIT])]


def test_plan_splits_beyond_128_contexts_keeping_a_class_together() -> None:
    items = [_fake(i, f"1.2.826.0.1.3680043.8.498.{i % 200}") for i in range(400)]
    plans = plan_associations(items)
    # two contexts per class (original + fallback): 64 classes per association
    assert [len(contexts) for contexts, _ in plans] == [MAX_CONTEXTS] * 3 + [16]
    assert sorted(int(i.key) for _, batch in plans for i in batch) == list(range(400))
    for contexts, batch in plans:
        proposed = {str(cx.abstract_syntax) for cx in contexts}
        assert {i.sop_class_uid for i in batch} == proposed
        assert len(contexts) <= MAX_CONTEXTS
    assert len(plan_associations(items[:10])) == 1


def test_plan_keeps_the_order_of_items_within_an_association() -> None:
    items = [_fake(i, CT, [EXPLICIT, J2K, RLE][i % 3]) for i in range(9)]
    [(contexts, batch)] = plan_associations(items)
    assert [i.key for i in batch] == [str(i) for i in range(9)]
    assert len(contexts) == 4  # three originals and the fallback


def test_plan_of_nothing() -> None:
    assert plan_associations([]) == []
