"""Appending tus chunks: exact offsets, partial bodies kept, the declared size enforced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from importer.errors import PayloadTooLarge
from importer.imports.upload import Progress, append_chunks


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def broken(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    raise ConnectionResetError


async def test_appends_at_offset(tmp_path: Path) -> None:
    path = tmp_path / "u" / "upload.zip"
    progress = Progress()
    await append_chunks(path, offset=0, limit=10, chunks=chunks(b"abc", b"", b"de"),
                        progress=progress)  # fmt: skip
    assert progress.written == 5
    progress = Progress()
    await append_chunks(path, offset=5, limit=10, chunks=chunks(b"fgh"), progress=progress)
    assert path.read_bytes() == b"abcdefgh"


async def test_bytes_past_the_offset_are_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "upload.zip"
    path.write_bytes(b"abcdeXXXX")  # a broken earlier PATCH wrote past what was recorded
    await append_chunks(path, offset=5, limit=10, chunks=chunks(b"fg"), progress=Progress())
    assert path.read_bytes() == b"abcdefg"


async def test_a_broken_body_keeps_what_arrived(tmp_path: Path) -> None:
    path = tmp_path / "upload.zip"
    progress = Progress()
    with pytest.raises(ConnectionResetError):
        await append_chunks(path, offset=0, limit=10, chunks=broken(b"abc"), progress=progress)
    assert progress.written == 3
    assert path.read_bytes() == b"abc"


async def test_more_than_declared_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "upload.zip"
    progress = Progress()
    with pytest.raises(PayloadTooLarge):
        await append_chunks(path, offset=0, limit=4, chunks=chunks(b"abc", b"de"),
                            progress=progress)  # fmt: skip
    assert progress.written == 3
    assert path.read_bytes() == b"abc"
