"""Media reading: safe archive unpacking, DICOMDIR as an index, DICOM scanning by content."""

from importer.media.archive import (
    ArchiveError,
    ArchiveLimits,
    SkippedFile,
    UnpackedFile,
    UnpackResult,
    unpack_zip,
)
from importer.media.dicomdir import MEDIA_STORAGE_DIRECTORY
from importer.media.scan import (
    NON_DICOM_REASONS,
    UNREADABLE_REASONS,
    MediaReport,
    PatientData,
    ScannedInstance,
    SeriesData,
    StudyData,
    read_media,
    scan_file,
)

__all__ = [
    "MEDIA_STORAGE_DIRECTORY",
    "NON_DICOM_REASONS",
    "UNREADABLE_REASONS",
    "ArchiveError",
    "ArchiveLimits",
    "MediaReport",
    "PatientData",
    "ScannedInstance",
    "SeriesData",
    "SkippedFile",
    "StudyData",
    "UnpackResult",
    "UnpackedFile",
    "read_media",
    "scan_file",
    "unpack_zip",
]
