"""A pydicom decoding plugin: dcmtk's command-line decoders (``dcmdjpeg``, ``dcmdjpls``,
``dcmdrle``, from Debian's ``dcmtk`` package), the last of the decoder chain.

Each frame goes to the tool in a file of its own that holds that frame and the image's geometry
only (rows, columns, samples, bits, photometric interpretation): no patient, study or UID of
the medium's. The file is written in a temporary folder of its own, removed once the frame is
read back; the worker's ``/tmp`` is private to it (the systemd unit's ``PrivateTmp``, the
compose file's ``tmpfs``), so that even a worker killed mid-frame leaves nothing behind once
stopped. A tool that fails, warns, or runs longer than :data:`TIMEOUT_S` fails the frame; its
words are not kept.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Final

from pydicom import Dataset, dcmread
from pydicom.dataset import FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixels.decoders.base import DecodeRunner
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
    SecondaryCaptureImageStorage,
    generate_uid,
)

from importer.media.decoders.stream import check_frame

TOOLS: Final = {
    JPEGBaseline8Bit: ("dcmdjpeg", "+px"),
    JPEGExtended12Bit: ("dcmdjpeg", "+px"),
    JPEGLossless: ("dcmdjpeg", "+px"),
    JPEGLosslessSV1: ("dcmdjpeg", "+px"),
    JPEGLSLossless: ("dcmdjpls", "+px"),
    JPEGLSNearLossless: ("dcmdjpls", "+px"),
    RLELossless: ("dcmdrle",),
}
"""The tool for each transfer syntax, with its options (``+px``: colour by pixel)."""
SYNTAXES: Final = tuple(TOOLS)
DECODER_DEPENDENCIES: Final = {uid: (f"dcmtk's {tool[0]}",) for uid, tool in TOOLS.items()}
_WARNED: Final = re.compile(rb"^[WEF]: ", re.MULTILINE)
"""A line of dcmtk's logger at warning, error or fatal level."""
MOMENT: Final = threading.local()
"""``interrupted``: this thread's last frame failed for a reason of the moment (read and reset
by :func:`importer.media.decoders.decompress`)."""
TIMEOUT_S: Final = 60.0
"""A frame's decoding by a tool, at most (a 4,000 × 4,000 frame takes well under a second)."""


def _tool(uid: UID) -> str | None:
    spec = TOOLS.get(uid)
    return shutil.which(spec[0]) if spec else None


def is_available(uid: UID) -> bool:
    return _tool(uid) is not None


def decode_frame(src: bytes, runner: DecodeRunner) -> bytes:
    """One frame decoded by dcmtk: its native pixel bytes (little endian), with the runner told
    the photometric interpretation and planar configuration the tool wrote them in.

    dcmtk's tools fill what a stream lacks with padding and still succeed (a truncated RLE
    segment, with a warning; an image larger than its JPEG stream, silently): the frame's own
    header is checked against the image first (:func:`stream.check_frame`), and any warning
    or error of the tool fails the frame."""
    syntax = runner.transfer_syntax
    tool = _tool(syntax)
    if tool is None:
        raise ValueError(f"no dcmtk tool for {syntax.name}")
    check_frame(
        src, syntax, runner.rows, runner.columns, runner.samples_per_pixel, runner.bits_allocated
    )
    frame = _frame_file(src, runner)
    try:
        with tempfile.TemporaryDirectory(prefix="importer-decode-") as folder:
            source, decoded = Path(folder) / "in.dcm", Path(folder) / "out.dcm"
            frame.save_as(source, enforce_file_format=True)
            done = subprocess.run(  # noqa: S603 - a tool on PATH, fixed arguments, our files
                [tool, *TOOLS[syntax][1:], str(source), str(decoded)],
                capture_output=True,
                timeout=TIMEOUT_S,
                check=False,
            )
            # the tool's words are not kept: only whether it warned
            warned = _WARNED.search(done.stdout + done.stderr) is not None
            if done.returncode != 0 or warned or not decoded.is_file():
                raise ValueError(f"{Path(tool).name} could not decode the frame without a warning")
            out = dcmread(decoded)
    except (subprocess.TimeoutExpired, OSError):
        # of the moment (a busy machine, a full temporary folder): said to the chain, which
        # pydicom's own wrapping of a plugin's error would not tell
        MOMENT.interrupted = True
        raise
    if str(out.file_meta.TransferSyntaxUID) != ExplicitVRLittleEndian:
        raise ValueError("the tool did not write the frame uncompressed")
    if out.get("BitsAllocated") != runner.bits_allocated:
        raise ValueError("the tool wrote the frame in another number of bits")
    data = bytes(out.PixelData)
    size = runner.rows * runner.columns * runner.samples_per_pixel * (runner.bits_allocated // 8)
    if len(data) not in (size, size + 1):  # an odd frame is padded to an even length
        raise ValueError(f"the tool gave {len(data)} bytes for a frame of {size}")
    runner.set_option("photometric_interpretation", str(out.PhotometricInterpretation))
    if runner.samples_per_pixel > 1:
        runner.set_option("planar_configuration", int(out.get("PlanarConfiguration", 0)))
    return data[:size]


def _frame_file(src: bytes, runner: DecodeRunner) -> Dataset:
    """A file of the one frame and the image's geometry: nothing else of the instance's."""
    ds = Dataset()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.Rows = runner.rows
    ds.Columns = runner.columns
    ds.SamplesPerPixel = runner.samples_per_pixel
    ds.PhotometricInterpretation = runner.photometric_interpretation
    if runner.samples_per_pixel > 1:
        ds.PlanarConfiguration = runner.planar_configuration
    ds.BitsAllocated = runner.bits_allocated
    ds.BitsStored = runner.bits_stored
    ds.HighBit = runner.bits_stored - 1
    ds.PixelRepresentation = runner.pixel_representation
    ds.NumberOfFrames = 1
    ds.PixelData = encapsulate([src])
    ds["PixelData"].VR = "OB"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = runner.transfer_syntax
    return ds
