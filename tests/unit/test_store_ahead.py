"""The DIMSE sender prepares the next instances' encodings while it waits for the PACS: the
same bytes as preparing them in turn, each prepared once, a failure still ending on the slow
path, and nothing large held ahead."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydicom import Dataset

from importer.pacs import EncodedInstance, StoreItem
from importer.pacs.dimse import StoreEngine
from importer.pacs.dimse import store as sender

CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"


class Preparation:
    """An instance's encoding that counts how often, and in which thread, it was prepared."""

    def __init__(self, n: int, fail: bool = False) -> None:
        self.n = n
        self.fail = fail
        self.threads: list[str] = []
        self.done = threading.Event()

    def __call__(self) -> EncodedInstance:
        self.threads.append(threading.current_thread().name)
        self.done.set()
        if self.fail:
            raise ValueError("unreadable")
        return EncodedInstance(CT, f"1.2.3.{self.n}", EXPLICIT, False, True, b"x" * self.n)


def item(preparation: Callable[[], EncodedInstance | None], n: int, size: int | None) -> StoreItem:
    return StoreItem(
        f"k{n}", CT, f"1.2.3.{n}", EXPLICIT, load=Dataset, encoded=preparation, size=size
    )


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(1, thread_name_prefix="pacs-prepare") as executor:
        yield executor


def test_the_next_instances_are_prepared_while_one_is_sent(pool: ThreadPoolExecutor) -> None:
    preparations = [Preparation(n) for n in range(5)]
    work = sender._Work([item(p, n, 1000) for n, p in enumerate(preparations)], pool)
    first = work.take()
    assert first is not None
    # the two after it are being prepared by the pool, before any sender asks for them
    for p in preparations[1 : 1 + sender.PREPARE_AHEAD]:
        assert p.done.wait(5)
    assert not preparations[1 + sender.PREPARE_AHEAD].threads
    second = work.take()
    assert second is not None
    assert second.encoded is not None
    prepared = second.encoded()
    assert prepared is not None
    assert prepared.data == b"x"
    assert preparations[1].threads == ["pacs-prepare_0"]  # once, by the pool, not again
    # the first, taken before anything was started for it, is prepared by its sender
    assert first.encoded is not None
    assert first.encoded() == preparations[0]()


def test_an_instance_taken_again_after_a_lost_association_is_prepared_again(
    pool: ThreadPoolExecutor,
) -> None:
    preparation = Preparation(1)
    work = sender._Work([item(Preparation(0), 0, 10), item(preparation, 1, 10)], pool)
    work.take()
    taken = work.take()
    assert taken is not None
    assert taken.encoded is not None
    assert taken.encoded() is not None
    work.give_back(taken)
    again = work.take()
    assert again is taken
    assert again.encoded is not None
    assert again.encoded() is not None
    assert len(preparation.threads) == 2  # the first result was not kept


def test_large_or_unsized_instances_are_not_prepared_ahead(pool: ThreadPoolExecutor) -> None:
    large, unsized = Preparation(1), Preparation(2)
    work = sender._Work(
        [
            item(Preparation(0), 0, 10),
            item(large, 1, sender.PREPARE_AHEAD_MAX_BYTES + 1),
            item(unsized, 2, None),
        ],
        pool,
    )
    work.take()
    pool.shutdown(wait=True)
    assert (large.threads, unsized.threads) == ([], [])
    assert work.take().encoded is large  # type: ignore[union-attr]


def test_a_preparation_that_fails_ahead_still_ends_on_the_slow_path(
    pool: ThreadPoolExecutor,
) -> None:
    failing = Preparation(1, fail=True)
    work = sender._Work([item(Preparation(0), 0, 10), item(failing, 1, 10)], pool)
    work.take()
    assert failing.done.wait(5)
    taken = work.take()
    assert taken is not None
    assert StoreEngine._encoded_as_is([(CT, EXPLICIT)], taken) is None
