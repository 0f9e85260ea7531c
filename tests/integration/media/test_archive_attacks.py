"""Hostile archives through the real API and worker: each ends ``failed`` with its code, early,
nothing lands outside the spool, and what is unpacked never exceeds the configured cap."""

from __future__ import annotations

import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from importer.settings import Settings
from tests.integration.media.helpers import upload
from tests.integration.media.hostile import (
    GIB,
    MIB,
    PART10_HEAD,
    SpoolWatch,
    symlink_zip,
    tree,
    zero_bomb,
    zeros_zip,
)
from tests.integration.media.zoo import sample, zip_of
from tests.support.app import Journey, run_worker


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One entry inflating to 4 GiB (about 4 MB compressed): a Part 10 preamble and ``DICM``,
    then zeros, so that it is unpacked and meets the caps."""
    path = zero_bomb(
        tmp_path_factory.mktemp("bomb") / "bomb.zip", inflated=4 * GIB, head=PART10_HEAD
    )
    return path.read_bytes()


@pytest.fixture(scope="module")
def junk_bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One entry inflating to 4 GiB of bare zeros: nothing that could be DICOM."""
    path = zero_bomb(tmp_path_factory.mktemp("junk") / "junk.zip", inflated=4 * GIB)
    return path.read_bytes()


def _ct() -> bytes:
    return sample("CT_small.dcm").read_bytes()


def _truncated() -> bytes:
    whole = zip_of([("DICOM/IM0001", _ct()), ("DICOM/IM0002", sample("MR_small.dcm").read_bytes())])
    return whole[: len(whole) * 6 // 10]


def _bad_crc() -> bytes:
    data = bytearray(zip_of([("DICOM/IM0001", _ct())]))
    middle = len(data) // 2  # inside the deflated data of the only entry
    data[middle] ^= 0xFF
    return bytes(data)


@dataclass(frozen=True)
class Attack:
    build: Callable[[bytes], bytes]  # from the bomb (most ignore it)
    code: str
    limits: dict[str, Any] = field(default_factory=dict)  # worker settings for this run
    # bytes the unpacked files may reach at most, given the archive (0: nothing is unpacked)
    cap: Callable[[bytes], int] = lambda _: 0
    inflates: bool = False  # megabytes are unpacked before the cap is hit


ATTACKS: dict[str, Attack] = {
    "zip slip": Attack(
        lambda _: zip_of([("DICOM/IM0001", _ct()), ("../../../../../zipslip.txt", b"x")]),
        "archive_unsafe",  # refused before anything is unpacked
    ),
    "absolute path": Attack(lambda _: zip_of([("/tmp/zipslip.txt", b"x")]), "archive_unsafe"),
    "windows path escape": Attack(
        lambda _: zip_of([("..\\..\\..\\zipslip.txt", b"x")]), "archive_unsafe"
    ),
    "symbolic link": Attack(lambda _: symlink_zip("/etc/passwd"), "archive_unsafe"),
    "4 GiB bomb over the total cap": Attack(
        lambda bomb: bomb, "archive_too_large", {"max_unpacked_bytes": 256 * MIB}
    ),
    "4 GiB bomb over the entry cap": Attack(
        lambda bomb: bomb,
        "archive_too_large",
        {"max_entry_bytes": 48 * MIB, "max_compression_ratio": 1e9},
        cap=lambda _: 48 * MIB,
        inflates=True,
    ),
    "4 GiB bomb over the ratio cap": Attack(
        lambda bomb: bomb,
        "archive_too_large",
        {"max_compression_ratio": 10.0},
        cap=lambda archive: 10 * len(archive),  # ten times (at most) the compressed size
        inflates=True,
    ),
    "nested archives over the budget": Attack(
        lambda _: zip_of([(f"EXPORT/PART{n}.ZIP", zeros_zip(24 * MIB)) for n in range(3)]),
        "archive_too_large",
        {"max_unpacked_bytes": 64 * MIB, "max_compression_ratio": 1e9},
        cap=lambda _: 64 * MIB,
        inflates=True,
    ),
    "too many entries": Attack(
        lambda _: zip_of([(f"DICOM/IM{n:04d}", b"x") for n in range(120)]),
        "archive_too_large",
        {"max_entries": 100},
    ),
    "truncated archive": Attack(lambda _: _truncated(), "archive_invalid"),
    "corrupt entry": Attack(lambda _: _bad_crc(), "archive_invalid", cap=lambda _: len(_ct())),
    "garbage": Attack(lambda _: random.Random(3).randbytes(64 * 1024), "archive_invalid"),
}


@pytest.mark.parametrize("name", list(ATTACKS))
async def test_a_hostile_archive_fails_within_the_spool(
    journey: Journey, settings: Settings, tmp_path: Path, bomb: bytes, name: str
) -> None:
    attack = ATTACKS[name]
    archive = attack.build(bomb)
    spool = settings.effective_spool_dir
    session = await journey.start()
    import_id = await upload(journey, session, archive)
    outside = tree(tmp_path, exclude=spool)  # the spool's parent, before the worker runs

    import_dir = spool / "imports" / import_id
    with SpoolWatch(import_dir / "media") as unpacked:
        await run_worker(settings.model_copy(update=attack.limits))

    failed = await journey.get_import(session, import_id)
    assert failed["status"] == "failed"
    assert failed["badge"] == "danger"
    assert failed["error"]["code"] == attack.code, failed["error"]
    assert failed["error"]["message"]
    assert failed["studies"] == []
    # nothing written anywhere else, nothing unpacked left behind (the upload is kept for
    # support, as IMPORTER_RETAIN_SPOOL=failed says)
    assert tree(tmp_path, exclude=spool) == outside
    assert tree(import_dir) == {"upload.zip": len(archive)}
    assert unpacked.peak <= attack.cap(archive)
    if attack.inflates:  # the watch saw the unpacking (tens of MB, sampled every ms or so)
        assert unpacked.peak > 0


async def test_a_junk_bomb_is_skipped_without_being_inflated_or_written(
    journey: Journey, settings: Settings, junk_bomb: bytes
) -> None:
    """4 GiB of zeros are not DICOM from their first bytes: the entry is listed as skipped,
    nothing of it reaches the spool, and the medium holds nothing to import."""
    session = await journey.start()
    import_id = await upload(journey, session, junk_bomb)
    import_dir = settings.effective_spool_dir / "imports" / import_id

    with SpoolWatch(import_dir / "media") as unpacked:
        await run_worker(settings)

    failed = await journey.get_import(session, import_id)
    assert failed["error"]["code"] == "no_dicom", failed["error"]
    assert failed["media"]["skipped"] == [
        {
            "path": "DICOM/IM0001",
            "reason": "not_dicom",
            "params": {},
            "message": "Not a DICOM file.",
        }
    ]
    assert unpacked.peak == 0
    assert tree(import_dir) == {"upload.zip": len(junk_bomb)}


@pytest.mark.parametrize(("name", "head"), [("bomb", PART10_HEAD), ("junk_bomb", b"")])
async def test_the_bomb_is_what_it_claims(
    request: pytest.FixtureRequest, tmp_path: Path, name: str, head: bytes
) -> None:
    """The bomb honestly declares 4 GiB and inflates to ``head`` then zeros (its first 64 MiB
    read here)."""
    path = tmp_path / "bomb.zip"
    path.write_bytes(request.getfixturevalue(name))
    with zipfile.ZipFile(path) as archive:
        (info,) = archive.infolist()
        assert info.file_size == 4 * GIB
        assert info.compress_size < 5 * MIB
        with archive.open(info) as entry:
            assert entry.read(MIB) == head + bytes(MIB - len(head))
            for _ in range(63):
                assert entry.read(MIB) == bytes(MIB)
