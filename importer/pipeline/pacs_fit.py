"""Before anything is sent: which of the medium's objects the PACS takes as they are, which it
takes only converted, and which cannot reach it (issue 17, "know before confirming").

The PACS is asked with the proposal the store will make (:meth:`PacsClient.accepted_syntaxes
<importer.pacs.base.PacsClient.accepted_syntaxes>`), its answer kept per PACS and SOP class in
Redis for :attr:`Settings.pacs_syntaxes_cache_s` seconds; each object is then judged by the
rules the store follows: :func:`importer.pacs.transcode.decide` for the route, and
:func:`importer.media.decoders.plan` for whether a decoder may convert it. The verdict is a
warning on the confirmation screen, never a refusal: the store negotiates again, and what it
finds is what happens (its findings then replace these, :func:`unsent_of`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from pydicom import dcmread
from pydicom.uid import UID, ExplicitVRLittleEndian
from redis.asyncio import Redis
from redis.exceptions import RedisError

from importer.imports.states import UnsentReason
from importer.media import decoders
from importer.media.archive import DocumentKind
from importer.media.decoders import DecodeFailed
from importer.media.scan import ScannedInstance
from importer.media.wrap import sop_class_of
from importer.pacs.transcode import Route, decide, fallback_needed, proposed_syntaxes, syntax_family

log = logging.getLogger(__name__)

__all__ = [
    "UNSENT_LISTED",
    "Verdict",
    "accepted",
    "convertible",
    "document_pairs",
    "judge",
    "node_of",
    "summary",
    "takes_documents",
    "unsent_entry",
]

UNSENT_LISTED: Final = 50
"""Objects a study lists by name that cannot reach the PACS, at most (their count is whole)."""
KEY_PREFIX: Final = "importer:pacs-syntaxes:"

Verdict = Literal["convert", UnsentReason]
"""How an object that does not go as it is reaches the PACS: converted first, or not at all
(no decoder can convert it; the PACS takes no object of its SOP class)."""


def judge(
    accepted_pairs: Iterable[tuple[str, str]],
    instances: Iterable[ScannedInstance],
    can_convert: Callable[[ScannedInstance], bool],
) -> dict[str, Verdict]:
    """The verdict on each instance that will not go as it is, by SOP Instance UID, for a PACS
    that accepts ``accepted_pairs`` ((SOP class, transfer syntax) pairs): the store's own rule
    (:func:`decide`) for the route; a compressed object to convert must pass ``can_convert``
    (:func:`convertible`), an uncompressed big endian one is byte-swapped."""
    pairs = list(accepted_pairs)
    verdicts: dict[str, Verdict] = {}
    for inst in instances:
        decision = decide(pairs, inst.sop_class_uid, inst.transfer_syntax_uid)
        if decision is None:
            verdicts[inst.sop_instance_uid] = "sop_class_not_accepted"
        elif decision.route is Route.CONVERT:
            # a private syntax (nothing can decode it), or frames no decoder may take
            syntax = UID(inst.transfer_syntax_uid)
            unusable = not syntax.is_transfer_syntax or (
                syntax.is_compressed and not can_convert(inst)
            )
            verdicts[inst.sop_instance_uid] = "cannot_convert" if unusable else "convert"
    return verdicts


def document_pairs(kinds: Iterable[DocumentKind]) -> list[tuple[str, str]]:
    """What the objects the medium's documents become are proposed as: their SOP class, in
    Explicit VR Little Endian (:mod:`importer.media.wrap`)."""
    return [(str(sop_class_of(kind)), str(ExplicitVRLittleEndian)) for kind in sorted(set(kinds))]


def takes_documents(
    accepted_pairs: Iterable[tuple[str, str]], kinds: Iterable[DocumentKind]
) -> dict[DocumentKind, bool]:
    """Whether a PACS that accepts ``accepted_pairs`` takes the object each kind of document
    becomes, by the store's own rule (:func:`decide`)."""
    pairs = list(accepted_pairs)
    return {
        kind: decide(pairs, sop_class_of(kind), ExplicitVRLittleEndian) is not None
        for kind in set(kinds)
    }


def convertible(path: Path) -> bool:
    """Whether a decoder may convert the compressed object at ``path``: every check of
    :func:`importer.media.decoders.plan` passes (a decoder exists for its syntax, its size is
    within the limit, every frame is whole and agrees with the image). Nothing is decoded, so a
    frame that passes may still fail its decoders at the store (which then says so)."""
    try:
        head = dcmread(path, force=True, stop_before_pixels=True)
        if path.stat().st_size > decoders.max_stream_bytes(decoders.decoded_size(head)):
            return False  # more data than its image: not read whole (nor sent by the store)
        decoders.plan(dcmread(path, force=True))
    except DecodeFailed:
        return False
    except Exception as exc:  # unreadable beyond its header: the store cannot convert it either
        log.info("an object to convert could not be read whole (%s)", type(exc).__name__)
        return False
    return True


def unsent_entry(display_path: str, reason: str, transfer_syntax: str) -> dict[str, str]:
    """One object a study lists as not reaching the PACS (:attr:`Study.unsent`)."""
    return {"path": display_path, "reason": reason, "syntax": syntax_family(transfer_syntax)}


@dataclass(frozen=True, slots=True)
class StudyFit:
    """What a study's objects need to reach the PACS (its :class:`Study` columns)."""

    to_convert: int | None
    unsent: list[dict[str, str]]
    unsent_count: int


def summary(
    verdicts: Mapping[str, Verdict] | None,
    instances: Sequence[ScannedInstance],
    held: set[str],
) -> StudyFit:
    """A study's fit from the verdicts on its ``instances`` (those the PACS ``held`` already
    are not sent, and do not count); ``verdicts`` ``None``: not known."""
    if verdicts is None:
        return StudyFit(None, [], 0)
    to_convert = 0
    unsent: list[dict[str, str]] = []
    for inst in instances:
        verdict = verdicts.get(inst.sop_instance_uid)
        if verdict is None or inst.sop_instance_uid in held:
            continue
        if verdict == "convert":
            to_convert += 1
        else:
            unsent.append(unsent_entry(inst.display_path, verdict, inst.transfer_syntax_uid))
    return StudyFit(to_convert, unsent[:UNSENT_LISTED], len(unsent))


# -- the PACS's answer, cached -------------------------------------------------------------------


def node_of(pacs_url: str, calling_ae: str) -> str:
    """The PACS as its cache entries name it (as we call it: its URL and our AE title), hashed
    so that a URL's parts are not spelled out in Redis."""
    return hashlib.sha256(f"{pacs_url}\0{calling_ae}".encode()).hexdigest()[:24]


def _asked(syntaxes: Iterable[str]) -> set[str]:
    """Every transfer syntax the store proposes for a SOP class whose instances come in
    ``syntaxes`` (:func:`importer.pacs.dimse.contexts.contexts_for`)."""
    wanted = list(syntaxes)
    asked = {ts for syntax in wanted for ts in proposed_syntaxes(syntax)}
    if fallback_needed(wanted):
        asked.update(proposed_syntaxes(""))
    return asked


@dataclass(frozen=True, slots=True)
class _Entry:
    """What the cache says of one SOP class: the syntaxes asked, and those accepted of them.
    Each compressed syntax is proposed in a context of its own, so the answers for different
    media add up (:func:`_merged`)."""

    asked: frozenset[str]
    accepted: frozenset[str]

    @staticmethod
    def read(raw: bytes | str | None) -> _Entry | None:
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
            return _Entry(frozenset(entry["asked"]), frozenset(entry["accepted"]))
        except (ValueError, TypeError, KeyError):
            return None

    def dump(self) -> str:
        return json.dumps({"asked": sorted(self.asked), "accepted": sorted(self.accepted)})


def _merged(old: _Entry | None, new: _Entry) -> _Entry:
    """The cache's entry once ``new`` was asked: what it asked answered anew, the rest kept."""
    if old is None:
        return new
    return _Entry(old.asked | new.asked, (old.accepted - new.asked) | new.accepted)


async def accepted(
    redis: Redis,
    ask: Callable[[list[tuple[str, str]]], Awaitable[set[tuple[str, str]] | None]],
    pairs: Iterable[tuple[str, str]],
    *,
    node: str,
    ttl_s: int,
) -> set[tuple[str, str]] | None:
    """The (SOP class, transfer syntax) pairs the PACS ``node`` (:func:`node_of`) accepts
    among those the store would propose for ``pairs``: from the cache where it answers for
    every syntax of a SOP class, the other SOP classes asked with ``ask``
    (:meth:`PacsClient.accepted_syntaxes <importer.pacs.base.PacsClient.accepted_syntaxes>` off
    the event loop) and their answers added to the cache; ``None`` when the PACS's protocol
    cannot tell. Raises :class:`PacsError` when the PACS cannot be asked. A cache that is away
    is passed over."""
    by_class: dict[str, list[str]] = {}
    for sop_class, syntax in dict.fromkeys(pairs):
        by_class.setdefault(sop_class, []).append(syntax)
    keys = {sop: f"{KEY_PREFIX}{node}:{sop}" for sop in by_class}
    cached: dict[str, _Entry] = {}
    if ttl_s > 0 and keys:
        try:
            raw = await redis.mget(list(keys.values()))
        except (RedisError, OSError) as exc:
            log.info("the PACS's transfer syntaxes are not cached (%s)", type(exc).__name__)
            raw = [None] * len(keys)
        for sop, value in zip(keys, raw, strict=True):
            entry = _Entry.read(value)
            if entry is not None:
                cached[sop] = entry
    known = {
        sop: set(cached[sop].accepted)
        for sop, syntaxes in by_class.items()
        if sop in cached and _asked(syntaxes) <= cached[sop].asked
    }
    missing = [(sop, ts) for sop, tss in by_class.items() if sop not in known for ts in tss]
    if missing:
        answer = await ask(missing)
        if answer is None:
            return None
        fresh = {
            sop: _Entry(
                frozenset(_asked(by_class[sop])),
                frozenset(ts for cls, ts in answer if cls == sop),
            )
            for sop in dict.fromkeys(sop for sop, _ in missing)
        }
        for sop, entry in fresh.items():
            known[sop] = set(entry.accepted)
        if ttl_s > 0:
            merged = {keys[sop]: _merged(cached.get(sop), entry) for sop, entry in fresh.items()}
            await _remember(redis, merged, ttl_s)
    return {(sop, ts) for sop, syntaxes in known.items() for ts in syntaxes}


async def _remember(redis: Redis, entries: Mapping[str, _Entry], ttl_s: int) -> None:
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for key, entry in entries.items():
                pipe.set(key, entry.dump(), ex=ttl_s)
            await pipe.execute()
    except (RedisError, OSError) as exc:
        log.info("the PACS's transfer syntaxes were not cached (%s)", type(exc).__name__)
