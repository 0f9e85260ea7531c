"""A pydicom decoding plugin: GDCM (the ``python-gdcm`` wheel) for JPEG Extended with samples of
more than 8 bits, the 12-bit JPEG of CT and MR on older patient discs.

pydicom's own ``gdcm`` plugin turns this case away; GDCM's frame decoder decodes it, with the
same values as dcmtk's ``dcmdjpeg`` (``tests/unit/media/test_decoders.py``). This is pydicom's
frame interface to GDCM, kept for the one case (pydicom's plugin interface: ``is_available``,
``DECODER_DEPENDENCIES`` and the decoding function).
"""

from __future__ import annotations

from typing import Final

from pydicom.pixels.decoders.base import DecodeRunner
from pydicom.uid import UID, JPEGExtended12Bit

from importer.media.decoders.stream import check_frame

try:
    import gdcm
except ImportError:  # pragma: no cover - python-gdcm is a dependency
    gdcm = None

SYNTAXES: Final = (JPEGExtended12Bit,)
DECODER_DEPENDENCIES: Final = {JPEGExtended12Bit: ("python-gdcm>=3.0.10",)}


def is_available(uid: UID) -> bool:
    return gdcm is not None and uid in DECODER_DEPENDENCIES


def decode_frame(src: bytes, runner: DecodeRunner) -> bytes:
    """One frame of 12-bit JPEG Extended, decoded (little endian, 16 bits a sample)."""
    bits_stored = runner.bits_stored
    if bits_stored <= 8 or runner.bits_allocated != 16:
        # 8-bit JPEG Extended is pydicom's plugins' (and GDCM's through pydicom)
        raise ValueError("only JPEG Extended of 9 to 12 bits a sample, in 16 bits allocated")
    check_frame(
        src, runner.transfer_syntax, runner.rows, runner.columns, runner.samples_per_pixel, 16
    )
    fragment = gdcm.Fragment()
    fragment.SetByteStringValue(src)
    fragments = gdcm.SequenceOfFragments.New()
    fragments.AddFragment(fragment)
    element = gdcm.DataElement(gdcm.Tag(0x7FE0, 0x0010))
    element.SetValue(fragments.__ref__())
    image = gdcm.Image()
    image.SetNumberOfDimensions(2)
    image.SetDimensions((runner.columns, runner.rows, 1))
    image.SetDataElement(element)
    photometric = gdcm.PhotometricInterpretation.GetPIType(runner.photometric_interpretation)
    image.SetPhotometricInterpretation(gdcm.PhotometricInterpretation(photometric))
    if runner.samples_per_pixel > 1:
        image.SetPlanarConfiguration(runner.planar_configuration)
    image.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGExtendedProcess2_4))
    image.SetPixelFormat(
        gdcm.PixelFormat(
            runner.samples_per_pixel,
            runner.bits_allocated,
            bits_stored,
            bits_stored - 1,
            runner.pixel_representation,
        )
    )
    # GDCM gives char* as str: back to the bytes it holds
    frame: bytes = image.GetBuffer().encode("utf-8", "surrogateescape")
    expected = runner.rows * runner.columns * runner.samples_per_pixel * 2
    if len(frame) != expected:  # GDCM gave less, or more, than the image holds
        raise ValueError(f"GDCM gave {len(frame)} bytes for a frame of {expected}")
    return frame
