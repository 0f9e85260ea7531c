"""A file is sent only as it was vouched for: whatever reads a spool file to send it (the whole
read, the spliced header, the header read by pydicom, a large object's pixel data read as it
goes) refuses a file whose stamp changed since the analysis or the verify stage took it, and
the adapters report it as such, not as a PACS's refusal."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file

from importer.coerce import CoercionTarget
from importer.media.archive import UnpackedFile
from importer.media.scan import ScannedInstance, scan_file
from importer.media.stamp import FileChanged, file_stamp, open_unchanged
from importer.pacs.base import (
    STATUS_FILE_CHANGED,
    STATUS_LOAD_FAILED,
    STATUS_SPOOL_UNREADABLE,
    SourceUnreadable,
    not_loaded,
)
from importer.pipeline import prepare
from importer.pipeline import verify as verify_module
from importer.pipeline.prepare import encode_for_store, load_for_store
from importer.pipeline.verify import InstanceToVerify, verify_instances

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TARGET = CoercionTarget(
    patient_name="ROSSI^MARIO",
    patient_id="HOSP-0042",
    issuer_of_patient_id="HOSPITAL",
    birth_date="19740101",
    sex="M",
    accession_number="ACC-1",
)
SEEN = b"CompressedSamples^CT1"
"""CT_small.dcm's patient, as the user saw it compared."""
OTHER = b"CompressedSamples^XX9"
"""Another patient, of the same length: written in place, the file keeps its size."""


def _analysed(tmp_path: Path, name: str) -> tuple[Path, ScannedInstance]:
    """pydicom's test file ``name`` on the spool, as the analysis found it."""
    source = get_testdata_file(name, download=False)
    assert source is not None
    path = tmp_path / "IMG1"
    shutil.copy(str(source), path)
    found = scan_file(UnpackedFile("CD/IMG1", path, path.stat().st_size))
    assert isinstance(found, ScannedInstance)
    return path, found


def _spooled(tmp_path: Path) -> tuple[Path, str]:
    """CT_small.dcm on the spool, and its stamp as the analysis records it."""
    path, found = _analysed(tmp_path, "CT_small.dcm")
    assert not found.read_again
    return path, found.stamp


def _rewrite_in_place(path: Path) -> None:
    """Another patient's name written into the file, its size and modification time kept (as
    a careful tool would): only the change time tells."""
    status = path.stat()
    data = path.read_bytes()
    assert data.count(SEEN) == 1
    with path.open("r+b") as fp:
        fp.seek(data.index(SEEN))
        fp.write(OTHER)
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert path.stat().st_size == status.st_size


def _how(**extra: object) -> dict[str, object]:
    return {
        "target": TARGET,
        "modifying_system": "PACS Media Import test",
        "now": NOW,
        "add_other_patient_ids": True,
        **extra,
    }


@pytest.mark.parametrize("target", [TARGET, None], ids=["order", "temporary-zone"])
@pytest.mark.parametrize(
    "way",
    ["whole read", "spliced header", "header read by pydicom", "pixel data left on disk"],
)
def test_every_way_to_the_pacs_refuses_a_file_changed_after_it_was_vouched_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str, target: CoercionTarget | None
) -> None:
    path, stamp = _spooled(tmp_path)
    how = _how(target=target)
    if way == "pixel data left on disk":
        how["in_memory_bytes"] = 0
    if way == "header read by pydicom":
        monkeypatch.setattr(prepare, "_spliced", lambda *args: None)

    def send() -> object:
        if way == "whole read":
            return load_for_store(path, stamp=stamp, **how)  # type: ignore[arg-type]
        return encode_for_store(path, stamp=stamp, **how)  # type: ignore[arg-type]

    assert send() is not None  # the file as vouched for goes
    _rewrite_in_place(path)
    assert dcmread(path).PatientName == OTHER.decode()  # what it would send now
    with pytest.raises(FileChanged):
        send()


def test_a_large_objects_pixel_data_is_not_sent_from_a_file_changed_after_it_was_prepared(
    tmp_path: Path,
) -> None:
    """The header is prepared, then the file changes before its pixel data is read and sent:
    the send breaks off (the association is aborted, the PACS keeps nothing of it)."""
    path, stamp = _spooled(tmp_path)
    instance = encode_for_store(path, stamp=stamp, in_memory_bytes=0, **_how())  # type: ignore[arg-type]
    assert instance is not None
    assert instance.rest is not None
    assert instance.rest.stamp == stamp
    assert b"".join(instance.blocks(4096))  # unchanged: sent whole
    blocks = instance.blocks(4096)
    next(blocks)
    _rewrite_in_place(path)
    with pytest.raises(SourceUnreadable):
        list(blocks)
    with pytest.raises(SourceUnreadable):
        list(instance.blocks(4096))


def test_a_file_changed_while_it_is_read_is_refused(tmp_path: Path) -> None:
    path, stamp = _spooled(tmp_path)

    def read_while_rewritten() -> None:
        with open_unchanged(path, stamp) as fp:
            fp.read(10)
            _rewrite_in_place(path)

    with pytest.raises(FileChanged):
        read_while_rewritten()
    with pytest.raises(FileChanged), open_unchanged(path, stamp):
        pass


@pytest.mark.parametrize(
    ("error", "status", "quoted"),
    [
        (FileChanged("x"), STATUS_FILE_CHANGED, "changed on the server's storage"),
        (
            FileNotFoundError(2, "No such file", "/spool/ROSSI"),
            STATUS_SPOOL_UNREADABLE,
            "cannot be read from the server's storage",
        ),
        (ValueError("ROSSI^MARIO"), STATUS_LOAD_FAILED, "ValueError"),
        # pydicom's own, for malformed content: no retry mends it
        (OSError("No tag to read at file position 1234"), STATUS_LOAD_FAILED, "OSError"),
    ],
)
def test_the_adapters_tell_a_changed_or_unreadable_file_from_a_bad_one(
    error: Exception, status: int, quoted: str
) -> None:
    outcome = not_loaded("k", error)
    assert (outcome.key, outcome.status, outcome.ok) == ("k", status, False)
    assert "ROSSI" not in outcome.message
    assert "/spool" not in outcome.message
    assert quoted in outcome.message


def test_verify_stamps_a_file_it_read_again_and_refuses_one_changed_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the analysis did not stamp is read again completely; found sound, its stamp is
    taken then, for the store to send it only unchanged. Changed during that read: refused."""
    path, _ = _spooled(tmp_path)
    ds = dcmread(path, stop_before_pixels=True)
    item = InstanceToVerify(
        path=path,
        display_path="CD/IMG1",
        sop_instance_uid=str(ds.SOPInstanceUID),
        study_instance_uid=str(ds.StudyInstanceUID),
    )
    verified = verify_instances([item])
    assert verified.problems == []
    assert verified.stamps == {path: file_stamp(path.stat())}

    def read_while_rewritten(*args: object, **kwargs: object) -> Dataset:
        found = dcmread(*args, **kwargs)  # type: ignore[arg-type]
        if SEEN in path.read_bytes():
            _rewrite_in_place(path)
        return found

    monkeypatch.setattr(verify_module, "dcmread", read_while_rewritten)
    changed = verify_instances([item])
    assert [p.message for p in changed.problems] == [
        "it changed on the server's storage after the analysis"
    ]
    assert changed.stamps == {}


def test_a_file_the_analysis_could_not_vouch_for_is_refused_once_changed(
    tmp_path: Path,
) -> None:
    """A deflated data set is read again by verify, which finds the same UIDs in it; but written
    again after the analysis, with another patient, it is not what the user saw compared."""
    path, found = _analysed(tmp_path, "image_dfl.dcm")
    assert found.read_again
    item = InstanceToVerify(
        path=path,
        display_path="CD/IMG1",
        sop_instance_uid=found.sop_instance_uid,
        study_instance_uid=found.study.study_instance_uid,
        stamp=found.stamp,
        read_again=True,
    )
    assert verify_instances([item]).problems == []  # read again, unchanged: sound

    ds = dcmread(path)
    ds.PatientName = "ROE^JANE"
    ds.save_as(path)
    assert dcmread(path).SOPInstanceUID == found.sop_instance_uid
    assert [p.message for p in verify_instances([item]).problems] == [
        "it changed on the server's storage after the analysis"
    ]
