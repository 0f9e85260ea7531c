"""What a real PACS accepts, asked before anything is sent and kept in Redis per PACS and SOP
class (importer.pipeline.pacs_fit.accepted): the answer is the store's own negotiation, asked
once while it holds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from pydicom.uid import (
    JPEG2000,
    CTImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MRImageStorage,
    RLELossless,
)
from redis.asyncio import Redis

from devstack import OrthancProcess, free_port
from importer.pacs import DicomWebPacs, DimsePacs, PacsClient, PacsError
from importer.pacs.transcode import Route, decide
from importer.pipeline import pacs_fit
from importer.settings import DicomNode, parse_dimse_url
from tests.conftest import REFUSED_SOCKET_WARNINGS
from tests.integration.pacs.conftest import CALLING_AE

pytestmark = pytest.mark.integration

NATIVE = {str(ExplicitVRLittleEndian), str(ImplicitVRLittleEndian)}
EXPLICIT = str(ExplicitVRLittleEndian)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def _dimse(node: OrthancProcess) -> DimsePacs:
    return DimsePacs(parse_dimse_url(node.dimse_url), calling_ae=CALLING_AE, timeout=10)


class _Counting:
    """The PACS asked through :meth:`PacsClient.accepted_syntaxes`, each question kept."""

    def __init__(self, pacs: PacsClient) -> None:
        self.pacs = pacs
        self.questions: list[set[tuple[str, str]]] = []

    async def __call__(self, pairs: list[tuple[str, str]]) -> set[tuple[str, str]] | None:
        self.questions.append(set(pairs))
        return await asyncio.to_thread(self.pacs.accepted_syntaxes, pairs)


async def test_a_pacs_refusing_compression_is_known_to_need_conversion_and_asked_once(
    uncompressed_orthanc: OrthancProcess, redis: Redis
) -> None:
    ask = _Counting(_dimse(uncompressed_orthanc))
    node = uuid.uuid4().hex  # a PACS of this test's own in the cache
    medium = [(CTImageStorage, str(JPEG2000)), (CTImageStorage, str(RLELossless))]
    taken = await pacs_fit.accepted(redis, ask, medium, node=node, ttl_s=60)
    assert taken is not None
    # neither compressed syntax, but one little endian syntax for the class: decoded first
    assert {ts for sop, ts in taken if sop == CTImageStorage} <= NATIVE
    for sop, syntax in medium:
        decision = decide(taken, sop, syntax)
        assert decision is not None
        assert decision.route is Route.CONVERT
    # the next medium of the same kind: the cache answers, the PACS is not asked
    again = await pacs_fit.accepted(redis, ask, medium[:1], node=node, ttl_s=60)
    assert again == taken
    assert len(ask.questions) == 1
    # a new SOP class: only that one is asked
    await pacs_fit.accepted(
        redis, ask, [*medium, (MRImageStorage, str(JPEG2000))], node=node, ttl_s=60
    )
    assert ask.questions[1] == {(MRImageStorage, str(JPEG2000))}
    # a syntax of a known class that was never proposed: the class is asked again
    await pacs_fit.accepted(
        redis, ask, [(CTImageStorage, "1.2.840.10008.1.2.4.80")], node=node, ttl_s=60
    )
    assert ask.questions[2] == {(CTImageStorage, "1.2.840.10008.1.2.4.80")}
    # what each asked adds up: JPEG 2000 and JPEG-LS together are known now
    both = [(CTImageStorage, str(JPEG2000)), (CTImageStorage, "1.2.840.10008.1.2.4.80")]
    await pacs_fit.accepted(redis, ask, both, node=node, ttl_s=60)
    assert len(ask.questions) == 3
    # no cache (0 s): asked every time
    await pacs_fit.accepted(redis, ask, medium, node=node, ttl_s=0)
    assert len(ask.questions) == 4


async def test_a_kind_of_object_the_pacs_takes_none_of_is_known_as_such(
    orthanc: OrthancProcess, redis: Redis
) -> None:
    """Orthanc accepts no context for an unknown SOP class, and pynetdicom then aborts the
    association: that says "not accepted", not "not known"."""
    pacs = _dimse(orthanc)
    unknown = "1.2.826.0.1.3680043.9.999"
    assert pacs.accepted_syntaxes([(unknown, EXPLICIT)]) == set()
    # with a class it takes, on the same association: that one only
    taken = pacs.accepted_syntaxes([(unknown, EXPLICIT), (CTImageStorage, EXPLICIT)])
    assert taken is not None
    assert {sop for sop, _ in taken} == {CTImageStorage}
    assert decide(taken, unknown, EXPLICIT) is None


async def test_a_pacs_taking_compression_takes_each_object_as_it_is(
    orthanc: OrthancProcess, redis: Redis
) -> None:
    ask = _Counting(_dimse(orthanc))
    medium = [(CTImageStorage, str(JPEG2000)), (MRImageStorage, str(RLELossless))]
    taken = await pacs_fit.accepted(redis, ask, medium, node=uuid.uuid4().hex, ttl_s=60)
    assert taken is not None
    for sop, syntax in medium:
        assert decide(taken, sop, syntax) == decide([(sop, syntax)], sop, syntax)


async def test_the_cache_away_is_passed_over(uncompressed_orthanc: OrthancProcess) -> None:
    away = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=1)
    ask = _Counting(_dimse(uncompressed_orthanc))
    try:
        taken = await pacs_fit.accepted(
            away, ask, [(CTImageStorage, str(JPEG2000))], node="away", ttl_s=60
        )
    finally:
        await away.aclose()
    assert taken is not None
    assert {ts for _, ts in taken} <= NATIVE


@pytest.mark.filterwarnings(REFUSED_SOCKET_WARNINGS[0])
@pytest.mark.filterwarnings(REFUSED_SOCKET_WARNINGS[1])
@pytest.mark.usefixtures("refused_sockets")
async def test_dicomweb_cannot_tell_and_a_pacs_away_says_so(
    dicomweb_orthanc: OrthancProcess, redis: Redis
) -> None:
    web = DicomWebPacs(dicomweb_orthanc.dicomweb_url.replace("dicomweb://", "http://"), timeout=10)
    medium = [(CTImageStorage, str(JPEG2000))]
    node = uuid.uuid4().hex
    assert await pacs_fit.accepted(redis, _Counting(web), medium, node=node, ttl_s=60) is None
    # and nothing was cached for it
    assert await redis.get(f"{pacs_fit.KEY_PREFIX}{node}:{CTImageStorage}") is None

    away = DimsePacs(DicomNode("NOBODY", "127.0.0.1", free_port()), calling_ae=CALLING_AE)
    with pytest.raises(PacsError) as raised:
        await pacs_fit.accepted(redis, _Counting(away), medium, node=node, ttl_s=60)
    assert raised.value.code == "pacs_unreachable"
