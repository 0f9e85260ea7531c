"""The presentation-context plan of a C-STORE: which contexts each association proposes, and
which of them the PACS accepted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pynetdicom import build_context
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext

from importer.pacs.base import StoreItem
from importer.pacs.transcode import NATIVE_SYNTAXES, fallback_needed, proposed_syntaxes

__all__ = [
    "MAX_CONTEXTS",
    "accepted_pairs",
    "context_groups",
    "context_id",
    "contexts_for",
    "plan_associations",
]

MAX_CONTEXTS = 128
"""Presentation contexts one association may propose (PS3.8 9.3.2.2: odd ids 1..255)."""


def _pair(item: StoreItem) -> tuple[str, str]:
    return item.sop_class_uid, item.transfer_syntax_uid


def contexts_for(sop_class: str, transfer_syntaxes: Sequence[str]) -> list[PresentationContext]:
    """The presentation contexts proposed for a SOP class whose instances come in
    ``transfer_syntaxes``: one per original syntax, alone (:func:`proposed_syntaxes`), then,
    unless they already cover both, one with Explicit and Implicit VR Little Endian, used for
    the instances whose own syntax the PACS refuses (decompressed or byte-swapped first when
    they are compressed or big endian)."""
    contexts = [build_context(sop_class, proposed_syntaxes(ts)) for ts in transfer_syntaxes]
    if fallback_needed(transfer_syntaxes):
        contexts.append(build_context(sop_class, list(NATIVE_SYNTAXES)))
    return contexts


def context_groups(
    pairs: Iterable[tuple[str, str]], max_contexts: int = MAX_CONTEXTS
) -> list[tuple[list[PresentationContext], set[str]]]:
    """The presentation contexts of as few associations as the context limit allows for
    instances of these (SOP class, transfer syntax) pairs, each with the SOP classes it serves:
    the contexts of one SOP class (:func:`contexts_for`) stay together."""
    by_class: dict[str, list[str]] = {}
    for sop_class, syntax in dict.fromkeys(pairs):
        by_class.setdefault(sop_class, []).append(syntax)
    groups: list[tuple[list[PresentationContext], set[str]]] = []
    for sop_class, syntaxes in by_class.items():
        contexts = contexts_for(sop_class, syntaxes)
        if not groups or len(groups[-1][0]) + len(contexts) > max_contexts:
            groups.append(([], set()))
        groups[-1][0].extend(contexts)
        groups[-1][1].add(sop_class)
    return groups


def plan_associations(
    items: Sequence[StoreItem], max_contexts: int = MAX_CONTEXTS
) -> list[tuple[list[PresentationContext], list[StoreItem]]]:
    """Group ``items`` into as few associations as the context limit allows, keeping order
    within each group (:func:`context_groups`)."""
    return [
        (contexts, [item for item in items if item.sop_class_uid in classes])
        for contexts, classes in context_groups(map(_pair, items), max_contexts)
    ]


def accepted_pairs(assoc: Association) -> list[tuple[str, str]]:
    """(SOP class, transfer syntax) of every context the PACS accepted."""
    return [(str(cx.abstract_syntax), str(cx.transfer_syntax[0])) for cx in assoc.accepted_contexts]


def context_id(assoc: Association, sop_class: str, transfer_syntax: str) -> int:
    """The id of the accepted context for ``sop_class`` in ``transfer_syntax``; ValueError
    (whose text names the presentation context) when there is none."""
    for cx in assoc.accepted_contexts:
        if (
            cx.abstract_syntax == sop_class
            and cx.transfer_syntax[0] == transfer_syntax
            and cx.context_id is not None
        ):
            return int(cx.context_id)
    raise ValueError(
        f"no presentation context accepted for {sop_class} in transfer syntax {transfer_syntax}"
    )
