"""A throw-away Orthanc: the demo and test PACS (DIMSE, and DICOMweb with Debian's plugin)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from devstack.process import LOOPBACK, ManagedProcess, ServiceError, find_executable, free_port

DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
"""Debian's ``orthanc-dicomweb`` plugin."""
UNCOMPRESSED_TRANSFER_SYNTAXES = (
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
)
"""Implicit and Explicit VR Little Endian: what a PACS that refuses compressed (and big
endian, and deflated) data accepts."""


class OrthancProcess(ManagedProcess):
    """A throw-away Orthanc (the demo/test PACS) with its storage under ``data_dir``.

    DICOM and HTTP listen on free ports; HTTP only accepts loopback clients
    (``RemoteAccessAllowed`` false). Orthanc 1.10 has no bind-address option, so its sockets
    listen on all interfaces: use it on a trusted host only.
    """

    name = "Orthanc"

    def __init__(
        self,
        data_dir: Path,
        *,
        aet: str = "ORTHANC",
        dicom_port: int | None = None,
        http_port: int | None = None,
        name: str = "PACS Media Import demo PACS",
        executable: str | None = None,
        dicomweb: bool = False,
        accepted_transfer_syntaxes: Sequence[str] | None = None,
        modalities: Mapping[str, tuple[str, int]] | None = None,
        max_pdu: int | None = None,
    ) -> None:
        """``dicomweb`` loads Debian's DICOMweb plugin (``/dicom-web/``, see
        :attr:`dicomweb_url`); ``accepted_transfer_syntaxes`` restricts what its C-STORE SCP
        accepts (UIDs, ``*``/``?`` wildcards; default every known syntax), e.g.
        :data:`UNCOMPRESSED_TRANSFER_SYNTAXES` for a PACS that refuses compressed data;
        ``modalities`` are the remote AEs it knows (``{AE: (host, port)}``: needed for storage
        commitment, whose report Orthanc sends on an association of its own); ``max_pdu`` its
        maximum PDU length (Orthanc's default is 16 kB)."""
        super().__init__(data_dir / "orthanc.log")
        self.data_dir = data_dir
        self._aet = aet
        self._dicom_port = dicom_port or free_port()
        self._http_port = http_port or free_port()
        self._title = name
        self._executable = executable or find_executable(
            "Orthanc", "/usr/sbin/Orthanc", "/usr/local/bin/Orthanc"
        )
        self._dicomweb = dicomweb
        self._accepted_transfer_syntaxes = (
            list(accepted_transfer_syntaxes) if accepted_transfer_syntaxes is not None else None
        )
        self._modalities = dict(modalities or {})
        for modality_aet in self._modalities:
            if not modality_aet or len(modality_aet) > 16:
                raise ValueError("modality AE titles must be 1 to 16 characters")
        self._max_pdu = max_pdu
        if dicomweb and not Path(DICOMWEB_PLUGIN).is_file():
            raise FileNotFoundError(
                f"{DICOMWEB_PLUGIN} not found (install the Debian package orthanc-dicomweb)"
            )

    @property
    def aet(self) -> str:
        return self._aet

    @property
    def dicom_port(self) -> int:
        return self._dicom_port

    @property
    def http_port(self) -> int:
        return self._http_port

    @property
    def http_url(self) -> str:
        return f"http://{LOOPBACK}:{self._http_port}"

    @property
    def dimse_url(self) -> str:
        return f"dimse://{self._aet}@{LOOPBACK}:{self._dicom_port}"

    @property
    def dicomweb_url(self) -> str:
        """The DICOMweb root (QIDO-RS, WADO-RS, STOW-RS); only with ``dicomweb=True``."""
        if not self._dicomweb:
            raise ServiceError("this Orthanc was started without its DICOMweb plugin")
        return f"{self.http_url}/dicom-web"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "orthanc.json"

    def config(self) -> dict[str, object]:
        """The Orthanc configuration written by :meth:`start` (option names of Orthanc 1.10)."""
        storage = str((self.data_dir / "storage").resolve())
        config: dict[str, object] = {
            "Name": self._title,
            "StorageDirectory": storage,
            "IndexDirectory": storage,
            "StorageCompression": False,
            "MaximumStorageSize": 0,
            "MaximumPatientCount": 0,
            "MaximumStorageCacheSize": 16,
            "Plugins": [],
            "LuaScripts": [],
            "ConcurrentJobs": 2,
            "JobsHistorySize": 10,
            "SaveJobs": False,
            "HttpServerEnabled": True,
            "HttpPort": self._http_port,
            "HttpThreadsCount": 10,
            "HttpTimeout": 10,
            "HttpDescribeErrors": True,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "WebDavEnabled": False,
            "OrthancExplorerEnabled": False,
            "MetricsEnabled": False,
            "DicomServerEnabled": True,
            "DicomAet": self._aet,
            "DicomPort": self._dicom_port,
            "DicomCheckCalledAet": False,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True,
            "DicomCheckModalityHost": False,
            "DicomModalities": {},
            "DicomThreadsCount": 4,
            "DicomScpTimeout": 30,
            "OrthancPeers": {},
            "OverwriteInstances": False,
            "StableAge": 2,
            "SyncStorageArea": False,
            "MallocArenaMax": 2,
            "TcpNoDelay": True,
        }
        if self._modalities:
            config["DicomModalities"] = {
                modality_aet: [modality_aet, host, port]
                for modality_aet, (host, port) in self._modalities.items()
            }
        if self._accepted_transfer_syntaxes is not None:
            config["AcceptedTransferSyntaxes"] = self._accepted_transfer_syntaxes
        if self._max_pdu is not None:
            config["MaximumPduLength"] = self._max_pdu
        if self._dicomweb:
            config["Plugins"] = [DICOMWEB_PLUGIN]
            config["DicomWeb"] = {"Enable": True, "Root": "/dicom-web/"}
        return config

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "storage").mkdir(exist_ok=True)
        self.config_path.write_text(json.dumps(self.config(), indent=2), encoding="utf-8")
        # dcmtk, inside Orthanc, reads TCP_NODELAY from the environment (as a tuned PACS is).
        self._spawn([self._executable, str(self.config_path)], env={"TCP_NODELAY": "1"})
        self._wait_ready(self._http_ready)

    def _http_ready(self) -> bool:
        try:
            response = httpx.get(f"{self.http_url}/system", timeout=1.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200
