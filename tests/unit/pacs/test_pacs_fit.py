"""Knowing before confirming how each object reaches the PACS (importer.pipeline.pacs_fit): the
verdicts follow the store's own rules, a study lists what cannot reach the PACS by name, and
what the user reads names a syntax the same way in every language."""

from __future__ import annotations

import dataclasses
import io
import shutil
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.encaps import encapsulate, generate_fragmented_frames
from pydicom.uid import (
    JPEG2000,
    MPEG4HP41,
    CTImageStorage,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSLossless,
    MRImageStorage,
    RLELossless,
)

from importer.media.archive import UnpackedFile
from importer.media.scan import ScannedInstance, scan_file
from importer.pacs.transcode import syntax_family
from importer.pipeline import pacs_fit
from tests.support.app import sample

EXPLICIT, IMPLICIT = str(ExplicitVRLittleEndian), str(ImplicitVRLittleEndian)


def _instance(tmp_path: Path, name: str, *, display: str | None = None) -> ScannedInstance:
    target = tmp_path / f"{len(list(tmp_path.iterdir()))}.dcm"
    shutil.copy(sample(name), target)
    scanned = scan_file(UnpackedFile(display or f"CD/{name}", target, 0))
    assert isinstance(scanned, ScannedInstance)
    return scanned


def _as(inst: ScannedInstance, sop_class: str, syntax: str, uid: str) -> ScannedInstance:
    return dataclasses.replace(
        inst, sop_class_uid=sop_class, transfer_syntax_uid=syntax, sop_instance_uid=uid
    )


@pytest.fixture
def ct(tmp_path: Path) -> ScannedInstance:
    return _instance(tmp_path, "CT_small.dcm")


def test_each_object_is_judged_by_the_stores_rule(ct: ScannedInstance) -> None:
    # a PACS that takes CT in JPEG 2000 and in little endian, MR only in little endian, no US
    accepted = {
        (CTImageStorage, str(JPEG2000)),
        (CTImageStorage, EXPLICIT),
        (MRImageStorage, IMPLICIT),
    }
    objects = [
        _as(ct, CTImageStorage, str(JPEG2000), "1.1"),  # taken as it is
        _as(ct, CTImageStorage, IMPLICIT, "1.2"),  # re-encoded, not converted
        _as(ct, MRImageStorage, str(JPEG2000), "1.3"),  # decoded first
        _as(ct, MRImageStorage, str(ExplicitVRBigEndian), "1.4"),  # byte-swapped
        _as(ct, MRImageStorage, str(RLELossless), "1.5"),  # no decoder takes it (below)
        _as(ct, "1.2.840.10008.5.1.4.1.1.6.1", EXPLICIT, "1.6"),  # US: no context at all
    ]
    asked: list[str] = []

    def can_convert(inst: ScannedInstance) -> bool:
        asked.append(inst.sop_instance_uid)
        return inst.transfer_syntax_uid != str(RLELossless)

    objects.append(_as(ct, MRImageStorage, "1.2.840.113619.5.2", "1.7"))  # a private syntax
    verdicts = pacs_fit.judge(accepted, objects, can_convert)
    assert verdicts == {
        "1.3": "convert",
        "1.4": "convert",
        "1.5": "cannot_convert",
        "1.6": "sop_class_not_accepted",
        "1.7": "cannot_convert",  # nothing decodes it: never an error of the analysis
    }
    # only compressed objects the PACS refuses are read for their frames
    assert asked == ["1.3", "1.5"]


def test_a_study_counts_what_is_converted_and_names_what_cannot_be_sent(
    ct: ScannedInstance,
) -> None:
    objects = [
        _as(dataclasses.replace(ct, display_path=f"DICOM/IM{n}"), CTImageStorage, "x", f"2.{n}")
        for n in range(60)
    ]
    verdicts: dict[str, pacs_fit.Verdict] = {f"2.{n}": "cannot_convert" for n in range(55)}
    verdicts |= {"2.55": "convert", "2.56": "convert", "2.57": "sop_class_not_accepted"}
    # 2.0 is on the PACS already: it is not sent, so it is neither counted nor named
    reach = pacs_fit.summary(verdicts, objects, held={"2.0", "2.56"})
    assert reach.to_convert == 1
    assert reach.unsent_count == 55
    assert len(reach.unsent) == pacs_fit.UNSENT_LISTED
    assert reach.unsent[0] == {"path": "DICOM/IM1", "reason": "cannot_convert", "syntax": "x"}
    # nothing known: nothing said
    assert pacs_fit.summary(None, objects, held=set()) == pacs_fit.StudyFit(None, [], 0)
    # known, and all goes as it is
    assert pacs_fit.summary({}, objects, held=set()) == pacs_fit.StudyFit(0, [], 0)


@pytest.mark.parametrize(
    ("syntax", "family"),
    [
        (JPEGBaseline8Bit, "JPEG"),
        (JPEGExtended12Bit, "JPEG"),
        ("1.2.840.10008.1.2.4.57", "JPEG"),
        ("1.2.840.10008.1.2.4.70", "JPEG"),
        ("1.2.840.10008.1.2.4.55", "JPEG"),  # retired
        (JPEGLSLossless, "JPEG-LS"),
        (JPEG2000, "JPEG 2000"),
        ("1.2.840.10008.1.2.4.94", "JPIP"),
        ("1.2.840.10008.1.2.4.201", "HTJ2K"),
        (MPEG4HP41, "MPEG-4"),
        ("1.2.840.10008.1.2.4.107", "HEVC"),
        (RLELossless, "RLE"),
        (ExplicitVRBigEndian, "Big Endian"),
        ("1.2.3.4.5", "1.2.3.4.5"),  # not a syntax we know: its UID
    ],
)
def test_a_syntax_is_named_by_its_family_the_same_in_every_language(
    syntax: str, family: str
) -> None:
    assert syntax_family(str(syntax)) == family


def _cut(name: str, target: Path) -> Path:
    ds = dcmread(sample(name))
    frame = b"".join(next(generate_fragmented_frames(ds.PixelData)))
    ds.PixelData = encapsulate([frame[: len(frame) // 3]])
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    target.write_bytes(out.getvalue())
    return target


@pytest.mark.parametrize(
    "name", ["JPEG2000.dcm", "MR_small_RLE.dcm", "JPEG-lossy.dcm", "MR_small_jpeg_ls_lossless.dcm"]
)
def test_a_whole_compressed_object_may_be_converted(name: str) -> None:
    assert pacs_fit.convertible(sample(name))


def test_an_object_whose_frame_is_cut_or_that_no_decoder_reads_cannot(tmp_path: Path) -> None:
    assert not pacs_fit.convertible(_cut("JPEG2000.dcm", tmp_path / "cut.dcm"))
    # a video: pydicom has no decoder for it
    ds = dcmread(sample("JPEG2000.dcm"))
    ds.file_meta.TransferSyntaxUID = MPEG4HP41
    video = tmp_path / "video.dcm"
    ds.save_as(video)
    assert not pacs_fit.convertible(video)
    # far more compressed data than its image holds (a small image, 3 MiB of stream): not
    # read whole, not converted
    ds = dcmread(sample("JPEG2000.dcm"))
    frame = b"".join(next(generate_fragmented_frames(ds.PixelData)))
    ds.Rows = ds.Columns = 8
    ds.PixelData = encapsulate([frame + b"\0" * (3 * 1024**2)])
    bloated = tmp_path / "bloated.dcm"
    ds.save_as(bloated, enforce_file_format=True)
    assert not pacs_fit.convertible(bloated)
    # a file that is no longer there, or not DICOM beyond its header
    assert not pacs_fit.convertible(tmp_path / "gone.dcm")
    (tmp_path / "junk.dcm").write_bytes(b"\0" * 200)
    assert not pacs_fit.convertible(tmp_path / "junk.dcm")


PDF_CLASS, SC_CLASS = "1.2.840.10008.5.1.4.1.1.104.1", "1.2.840.10008.5.1.4.1.1.7"


def test_the_documents_are_asked_as_their_objects_are_sent() -> None:
    assert pacs_fit.document_pairs(["png", "pdf", "jpeg", "png"]) == [
        (SC_CLASS, EXPLICIT),
        (PDF_CLASS, EXPLICIT),
        (SC_CLASS, EXPLICIT),
    ]


@pytest.mark.parametrize(
    ("accepted", "takes"),
    [
        # a PACS of images only: no PDF; a photo, as a secondary capture, yes
        ([(SC_CLASS, EXPLICIT)], {"pdf": False, "jpeg": True, "png": True}),
        # implicit VR only: native objects go in it (the store's own rule)
        ([(SC_CLASS, IMPLICIT), (PDF_CLASS, IMPLICIT)], {"pdf": True, "jpeg": True, "png": True}),
        ([(str(CTImageStorage), EXPLICIT)], {"pdf": False, "jpeg": False, "png": False}),
    ],
)
def test_whether_the_pacs_takes_each_kind_of_document(
    accepted: list[tuple[str, str]], takes: dict[str, bool]
) -> None:
    assert pacs_fit.takes_documents(accepted, ["pdf", "jpeg", "png"]) == takes
