"""dcmtk ``wlmscpfs``: the demo and test Modality Worklist SCP, fed with ``.wl`` items."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

from devstack.process import LOOPBACK, ManagedProcess, ServiceError, dcmtk, dicom_echo, free_port


def _dump_value(value: str) -> str:
    if any(ch in value for ch in "[]\r\n"):
        raise ValueError("worklist values may not contain '[', ']' or line breaks")
    return f"[{value}]"


class WorklistProcess(ManagedProcess):
    """dcmtk ``wlmscpfs`` serving the ``.wl`` files under ``data_dir/AET/``.

    ``wlmscpfs`` (dcmtk 3.6.7) has no bind-address option: it listens on all interfaces;
    clients address it on 127.0.0.1. It runs in single-process mode so that ``stop()`` by pid
    leaves no forked children behind.
    """

    name = "wlmscpfs"

    def __init__(self, data_dir: Path, *, aet: str = "WORKLIST", port: int | None = None) -> None:
        super().__init__(data_dir / "wlmscpfs.log")
        if not aet or len(aet) > 16 or not aet.replace("_", "").isalnum():
            raise ValueError("the worklist AE title must be 1-16 letters, digits or '_'")
        self.data_dir = data_dir
        self._aet = aet
        self._port = port or free_port()
        self._count = 0
        self._executable = dcmtk("wlmscpfs")

    @property
    def aet(self) -> str:
        return self._aet

    @property
    def port(self) -> int:
        return self._port

    @property
    def dimse_url(self) -> str:
        return f"dimse://{self._aet}@{LOOPBACK}:{self._port}"

    @property
    def aet_dir(self) -> Path:
        return self.data_dir / self._aet

    def _prepare_dir(self) -> None:
        self.aet_dir.mkdir(parents=True, exist_ok=True)
        (self.aet_dir / "lockfile").touch()

    def add_item(
        self,
        *,
        patient_name: str,
        patient_id: str,
        accession_number: str,
        patient_birth_date: str = "",
        patient_sex: str = "",
        issuer_of_patient_id: str = "",
        requested_procedure_id: str = "",
        requested_procedure_description: str = "",
        study_instance_uid: str = "",
        modality: str = "OT",
        scheduled_station_ae_title: str = "MEDIAIMPORT",
        scheduled_start_date: str = "",
        scheduled_start_time: str = "",
        scheduled_procedure_step_id: str = "",
        scheduled_procedure_step_description: str = "",
        referring_physician_name: str = "",
    ) -> Path:
        """Write one worklist item (UTF-8, ``ISO_IR 192``) and return its ``.wl`` path.

        Items may be added while the SCP runs: ``wlmscpfs`` reads the folder on every query.
        """
        self._prepare_dir()
        self._count += 1
        date = scheduled_start_date or time.strftime("%Y%m%d")
        step_id = scheduled_procedure_step_id or requested_procedure_id or accession_number
        # wlmscpfs ignores items whose key attributes are empty: give them neutral values.
        description = requested_procedure_description or "EXTERNAL STUDY IMPORT"
        lines = [
            ("(0008,0005) CS", "ISO_IR 192"),
            ("(0008,0050) SH", accession_number),
            ("(0008,0090) PN", referring_physician_name),
            ("(0010,0010) PN", patient_name),
            ("(0010,0020) LO", patient_id),
            ("(0010,0021) LO", issuer_of_patient_id),
            ("(0010,0030) DA", patient_birth_date),
            ("(0010,0040) CS", patient_sex),
            ("(0020,000d) UI", study_instance_uid or _new_uid()),
            ("(0032,1060) LO", description),
            ("(0040,0100) SQ", None),
            ("(fffe,e000) -", None),
            ("(0008,0060) CS", modality),
            ("(0040,0001) AE", scheduled_station_ae_title),
            ("(0040,0002) DA", date),
            ("(0040,0003) TM", scheduled_start_time or "000000"),
            ("(0040,0006) PN", ""),
            ("(0040,0007) LO", scheduled_procedure_step_description or description),
            ("(0040,0009) SH", step_id),
            ("(fffe,e00d) -", None),
            ("(fffe,e0dd) -", None),
            ("(0040,1001) SH", requested_procedure_id or accession_number),
        ]
        dump = "\n".join(
            tag if value is None else f"{tag} {_dump_value(value)}" for tag, value in lines
        )
        stem = f"item{self._count:05d}"
        dump_path = self.aet_dir / f"{stem}.dump"
        wl_path = self.aet_dir / f"{stem}.wl"
        dump_path.write_text(dump + "\n", encoding="utf-8")
        result = subprocess.run(
            [dcmtk("dump2dcm"), "-q", "+te", str(dump_path), str(wl_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        dump_path.unlink()
        if result.returncode != 0:
            raise ServiceError(f"dump2dcm failed: {result.stderr.strip() or result.stdout}")
        return wl_path

    def start(self) -> None:
        self._prepare_dir()
        self._spawn(
            [
                self._executable,
                "--single-process",
                "--keep-char-set",
                "--disable-host-lookup",
                "--data-files-path",
                str(self.data_dir.resolve()),
                str(self._port),
            ]
        )
        self._wait_ready(lambda: dicom_echo(self._aet, self._port))


def _new_uid() -> str:
    # 2.25 + a random 128-bit integer (DICOM PS3.5 B.2), without importing pydicom here.
    return f"2.25.{uuid.uuid4().int}"
