"""The store stage records what the PACS answered in batches: one database write for up to
PERSIST_BATCH outcomes, and never an outcome left unwritten longer than PERSIST_EVERY_S while
the PACS is slow; the sender never runs more than UNRECORDED_MAX outcomes ahead of the database
(a crash or a database gone loses at most those records, sent again by the retry)."""

from __future__ import annotations

import asyncio
import importlib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, cast

import pytest

from importer.pacs import PacsClient, StoreItem, StoreOutcome
from importer.pacs.dimse.store import AHEAD_PER_ASSOCIATION, StoreEngine
from importer.pipeline.context import PipelineContext
from importer.pipeline.stages.base import StudyRef

# the module (the package exports its function under the same name)
store = importlib.import_module("importer.pipeline.stages.store")
REF = StudyRef(import_id="imp", study_id="study", study_instance_uid="1.2.3")


class Context:
    """What the stage's sending loop uses of a pipeline context."""

    lease = None

    def check_lease(self) -> None:
        return None

    async def publish(self, import_id: str, kind: str, **fields: Any) -> None:
        return None


class Pacs:
    """A PACS answering each instance after ``pace`` seconds; after ``pause_after`` answers it
    waits for ``resume`` (a PACS gone quiet)."""

    def __init__(self, pace: float, pause_after: int | None = None) -> None:
        self.pace = pace
        self.pause_after = pause_after
        self.resume = threading.Event()

    def store(self, items: Sequence[StoreItem]) -> Iterator[StoreOutcome]:
        for n, item in enumerate(items):
            if n == self.pause_after:
                assert self.resume.wait(10), "the test never resumed the PACS"
            time.sleep(self.pace)
            yield StoreOutcome(key=item.key, status=0, ok=True, warning=False, message="")


def items(count: int) -> list[StoreItem]:
    return [
        StoreItem(
            key=f"i{n}",
            sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
            sop_instance_uid=f"1.2.3.{n}",
            transfer_syntax_uid="1.2.840.10008.1.2.1",
            load=lambda: None,  # type: ignore[arg-type,return-value]
        )
        for n in range(count)
    ]


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The batches the stage wrote, each as its instances' keys."""
    written: list[list[str]] = []

    async def persist(ctx: PipelineContext, outcomes: list[StoreOutcome]) -> None:
        written.append([o.key for o in outcomes])

    monkeypatch.setattr(store, "_persist", persist)
    return written


async def send(pacs: Pacs | StoreEngine, count: int) -> list[StoreOutcome]:
    outcomes: list[StoreOutcome] = await store._send(
        cast(PipelineContext, Context()),
        REF,
        lambda: cast(PacsClient, pacs),
        items(count),
        already=0,
        total=count,
    )
    return outcomes


async def test_a_steady_pacs_costs_one_write_per_batch_not_one_per_instance(
    writes: list[list[str]],
) -> None:
    outcomes = await send(Pacs(pace=0.001), 120)
    assert len(outcomes) == 120
    assert [key for batch in writes for key in batch] == [f"i{n}" for n in range(120)]
    assert max(len(batch) for batch in writes) <= store.PERSIST_BATCH
    # one write per instance before: 120 writes; now a few (full batches, or one per 250 ms)
    assert len(writes) <= 12, [len(batch) for batch in writes]


async def test_outcomes_are_written_while_the_pacs_is_quiet(writes: list[list[str]]) -> None:
    pacs = Pacs(pace=0.0, pause_after=3)
    sending = asyncio.create_task(send(pacs, 5))
    # the first three are recorded without waiting for the PACS to answer again
    for _ in range(200):
        if writes:
            break
        await asyncio.sleep(0.05)
    assert writes == [["i0", "i1", "i2"]]
    pacs.resume.set()
    await sending
    assert [key for batch in writes for key in batch] == ["i0", "i1", "i2", "i3", "i4"]


class Association:
    is_established = True


class CountingEngine(StoreEngine):
    """The DIMSE sender with its associations and its PACS faked: each C-STORE answered
    at once, counted."""

    def __init__(self, parallel: int) -> None:
        super().__init__(
            lambda contexts, purpose: cast(Any, Association()), timeout=5, parallel=parallel
        )
        self.sent = 0

    @staticmethod
    def _hold_reactor(assoc: Any) -> None:
        return None

    @staticmethod
    def _release(assoc: Any) -> None:
        return None

    def _store_one(self, assoc: Any, item: StoreItem, message_id: int) -> StoreOutcome:
        time.sleep(0.0005)
        self.sent += 1
        return StoreOutcome(key=item.key, status=0, ok=True, warning=False, message="")


@pytest.mark.parametrize("parallel", [1, 2])
async def test_the_sender_waits_for_the_database_rather_than_run_ahead_of_it(
    monkeypatch: pytest.MonkeyPatch, parallel: int
) -> None:
    """The database hangs on the first write, then fails (it went away): the associations sent
    only what may be unrecorded (UNRECORDED_MAX, and AHEAD_PER_ASSOCIATION each), not the whole
    study, which a retry would send again."""
    hanging = asyncio.Event()

    async def persist(ctx: PipelineContext, outcomes: list[StoreOutcome]) -> None:
        hanging.set()
        await asyncio.sleep(1.0)  # far longer than the PACS needs for 400 instances
        raise ConnectionError("the database went away")

    monkeypatch.setattr(store, "_persist", persist)
    engine = CountingEngine(parallel)
    with pytest.raises(ConnectionError):
        await send(engine, 400)
    assert hanging.is_set()
    assert engine.sent <= store.UNRECORDED_MAX + AHEAD_PER_ASSOCIATION * parallel, engine.sent


async def test_a_slow_database_holds_the_sender_back_and_nothing_is_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written: list[str] = []

    async def persist(ctx: PipelineContext, outcomes: list[StoreOutcome]) -> None:
        await asyncio.sleep(0.02)
        written.extend(o.key for o in outcomes)

    monkeypatch.setattr(store, "_persist", persist)
    engine = CountingEngine(2)
    outcomes = await send(engine, 300)
    assert len(outcomes) == 300
    assert engine.sent == 300
    assert sorted(written) == sorted(f"i{n}" for n in range(300))
