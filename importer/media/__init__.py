"""Media reading: safe archive unpacking, DICOMDIR as an index, DICOM scanning by content,
per-study patient checks and series thumbnails."""

from importer.media.archive import (
    ArchiveError,
    ArchiveLimits,
    SkippedFile,
    UnpackedFile,
    UnpackResult,
    unpack_zip,
)
from importer.media.dicomdir import MEDIA_STORAGE_DIRECTORY
from importer.media.grouping import STUDY_PATIENTS_DIFFER, patient_conflicts
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
from importer.media.thumbnail import (
    render_series_thumbnails,
    render_thumbnail,
    thumbnail_name,
    thumbnail_path,
)

__all__ = [
    "MEDIA_STORAGE_DIRECTORY",
    "NON_DICOM_REASONS",
    "STUDY_PATIENTS_DIFFER",
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
    "patient_conflicts",
    "read_media",
    "render_series_thumbnails",
    "render_thumbnail",
    "scan_file",
    "thumbnail_name",
    "thumbnail_path",
    "unpack_zip",
]
