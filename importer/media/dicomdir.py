"""DICOMDIR (PS3.10 media directory) read as an index of the medium.

Referenced file IDs are matched against the names on the medium the way real CDs need:
case-insensitively, without ISO 9660 version suffixes (``;1``, even ``.;1.;1``), without
trailing dots, and tolerating a ``.dcm`` appended on disk. Paths never leave the DICOMDIR's
folder; they are only compared with names, never opened.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from importer.media.archive import SkippedFile
from importer.messages import MessageCode

__all__ = ["MEDIA_STORAGE_DIRECTORY", "file_id_key", "missing_files", "referenced_file_ids"]

MEDIA_STORAGE_DIRECTORY: Final = "1.2.840.10008.1.3.10"
"""Media Storage Directory Storage SOP Class (the DICOMDIR)."""

_VERSION: Final = re.compile(r";[0-9]*$")
_DCM: Final = ".dcm"


def referenced_file_ids(ds: Dataset) -> list[tuple[str, ...]]:
    """The Referenced File ID of every directory record, as path components."""
    refs: list[tuple[str, ...]] = []
    for record in ds.get("DirectoryRecordSequence") or []:
        value = record.get("ReferencedFileID")
        if not value:
            continue
        values = list(value) if isinstance(value, MultiValue) else [value]
        parts = tuple(
            p.strip() for v in values for p in str(v).replace("\\", "/").split("/") if p.strip()
        )
        if parts:
            refs.append(parts)
    return refs


def _component(part: str, last: bool) -> str:
    text = part.strip()
    while True:
        before = text
        text = _VERSION.sub("", text).rstrip(". ")
        if last and text.casefold().endswith(_DCM) and len(text) > len(_DCM):
            text = text[: -len(_DCM)]
        if text == before:
            return text.casefold()


def file_id_key(parts: Iterable[str]) -> str:
    """Comparison key of a path: case-folded, no ``;1`` suffixes, no trailing dots or ``.dcm``."""
    items = [p for p in parts if p not in ("", ".")]
    return "/".join(_component(p, i == len(items) - 1) for i, p in enumerate(items))


def _resolve(folder: list[str], ref: tuple[str, ...]) -> list[str] | None:
    """Join ``ref`` to ``folder``; None when it climbs above the folder."""
    out = list(folder)
    for part in ref:
        if part in ("", "."):
            continue
        if part == "..":
            if len(out) == len(folder):
                return None
            out.pop()
        else:
            out.append(part)
    return out


def missing_files(
    dicomdirs: Iterable[tuple[str, Iterable[tuple[str, ...]]]], present: Iterable[str]
) -> list[SkippedFile]:
    """Files listed by DICOMDIRs (display path, refs) that are not among ``present`` paths."""
    index = {file_id_key(p.split("/")) for p in present}
    reported: set[str] = set()
    out: list[SkippedFile] = []
    for display_path, refs in dicomdirs:
        folder = display_path.split("/")[:-1]
        for ref in refs:
            resolved = _resolve(folder, ref)
            if resolved is None:
                shown = "/".join([*folder, *ref])
                message = "Listed in the DICOMDIR with a path outside its folder; not read."
                key = "\x00" + shown
            else:
                key = file_id_key(resolved)
                if key in index:
                    continue
                shown = "/".join(resolved)
                message = "Listed in the DICOMDIR but not found on the medium."
            if key not in reported:
                reported.add(key)
                out.append(SkippedFile(shown, MessageCode.missing_file, message))
    return out
