"""Appending tus chunks: exact offsets, partial bodies kept, the declared size enforced, one
writer at a time for as long as it holds the lock; who may append and at which offset."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from importer.access.models import UserSession
from importer.errors import ImporterError, PayloadTooLarge
from importer.imports.models import Import
from importer.imports.states import ImportStatus
from importer.imports.upload import (
    Progress,
    UploadBusy,
    check_owner,
    check_upload_offset,
    locked_upload,
)


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def broken(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    raise ConnectionResetError


async def append(path: Path, offset: int, limit: int, body: AsyncIterator[bytes]) -> int:
    progress = Progress()
    async with locked_upload(path) as upload:
        await upload.append(body, offset=offset, limit=limit, progress=progress)
    return progress.written


async def test_appends_at_offset(tmp_path: Path) -> None:
    path = tmp_path / "u" / "upload.zip"
    assert await append(path, 0, 10, chunks(b"abc", b"", b"de")) == 5
    assert await append(path, 5, 10, chunks(b"fgh")) == 3
    assert path.read_bytes() == b"abcdefgh"


async def test_bytes_past_the_offset_are_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "upload.zip"
    path.write_bytes(b"abcdeXXXX")  # a broken earlier PATCH wrote past what was recorded
    await append(path, 5, 10, chunks(b"fg"))
    assert path.read_bytes() == b"abcdefg"


async def test_a_broken_body_keeps_what_arrived(tmp_path: Path) -> None:
    path = tmp_path / "upload.zip"
    progress = Progress()
    with pytest.raises(ConnectionResetError):
        async with locked_upload(path) as upload:
            await upload.append(broken(b"abc"), offset=0, limit=10, progress=progress)
    assert progress.written == 3
    assert path.read_bytes() == b"abc"


async def test_more_than_declared_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "upload.zip"
    progress = Progress()
    with pytest.raises(PayloadTooLarge):
        async with locked_upload(path) as upload:
            await upload.append(chunks(b"abc", b"de"), offset=0, limit=4, progress=progress)
    assert progress.written == 3
    assert path.read_bytes() == b"abc"


async def test_the_lock_is_held_until_the_block_ends(tmp_path: Path) -> None:
    """The writer commits its offset inside the block: nobody writes before that."""
    path = tmp_path / "upload.zip"
    async with locked_upload(path) as upload:
        await upload.append(chunks(b"abc"), offset=0, limit=10, progress=Progress())
        with pytest.raises(UploadBusy):  # appended, not yet committed: still ours
            async with locked_upload(path):
                pass
        assert path.read_bytes() == b"abc"
    assert await append(path, 3, 10, chunks(b"d")) == 1  # released
    assert path.read_bytes() == b"abcd"


async def test_taking_the_lock_writes_nothing(tmp_path: Path) -> None:
    """A writer refused after taking the lock (offset moved meanwhile) leaves the file as is."""
    path = tmp_path / "upload.zip"
    path.write_bytes(b"abcdef")
    async with locked_upload(path) as upload:
        assert not upload.created
    assert path.read_bytes() == b"abcdef"


async def test_discard_removes_only_what_this_open_created(tmp_path: Path) -> None:
    folder = tmp_path / "imports" / "one"
    path = folder / "upload.zip"
    async with locked_upload(path) as upload:
        assert upload.created
        upload.discard()
    assert not folder.exists()
    assert (tmp_path / "imports").exists()

    path.parent.mkdir(parents=True)
    path.write_bytes(b"kept")
    async with locked_upload(path) as upload:
        upload.discard()
    assert path.read_bytes() == b"kept"


def an_import(**fields: object) -> Import:
    values: dict[str, object] = {
        "status": ImportStatus.created,
        "session_id": "session-1",
        "upload_size": 10,
        "upload_received": 4,
    }
    values.update(fields)
    return Import(**values)


@pytest.mark.parametrize(
    ("fields", "offset", "code"),
    [
        ({}, 4, None),
        ({}, 0, "offset_mismatch"),
        ({}, 5, "offset_mismatch"),
        ({"status": ImportStatus.cancelled}, 4, "upload_closed"),
        ({"status": ImportStatus.expired}, 4, "upload_closed"),
        ({"status": ImportStatus.queued, "upload_received": 10}, 10, "upload_closed"),
    ],
)
def test_check_upload_offset(fields: dict[str, object], offset: int, code: str | None) -> None:
    imp = an_import(**fields)
    if code is None:
        check_upload_offset(imp, offset)
        return
    with pytest.raises(ImporterError) as refused:
        check_upload_offset(imp, offset)
    assert (refused.value.status_code, refused.value.code) == (409, code)


@pytest.mark.parametrize(
    ("owner", "caller", "allowed"),
    [
        ("session-1", "session-1", True),
        ("session-1", "session-2", False),  # another launch: same user, same order
        (None, "session-1", False),  # an import without a creating session: nobody appends
    ],
)
def test_only_the_creating_session_appends(owner: str | None, caller: str, allowed: bool) -> None:
    imp = an_import(session_id=owner)
    session = UserSession(id=caller, user_id="u-tech-1", roles=["clinician"])
    if allowed:
        check_owner(imp, session)
        return
    with pytest.raises(ImporterError) as refused:
        check_owner(imp, session)
    assert (refused.value.status_code, refused.value.code) == (403, "upload_not_owned")
