"""Import a folder (a CD's content) or the sample medium through a running server's API, the way
the browser app does: launch, session, ZIP, tus upload, analysis, confirmation, live events.

    make demo-import ARGS="[FOLDER] [--url http://127.0.0.1:8000]"

Without FOLDER, a sample medium is built from the DICOM files pydicom ships, as brought by the
demo order's patient. Without --yes it
stops at the confirmation and prints what the user would see. With --yes it confirms the
studies whose patient matches the order and leaves any other for a person to compare in the
app: a script never acknowledges a different patient.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pydicom
from pydicom.data import get_testdata_file

from scripts.run import DEMO_ORDER, DEMO_RIS_KEY

SAMPLE = ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtplan.dcm", "reportsi.dcm"]


def zip_folder(folder: Path | None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        if folder is None:  # pydicom's files, as the demo order's patient brought them
            patient = DEMO_ORDER["patient"]
            assert isinstance(patient, dict)
            for i, name in enumerate(SAMPLE):
                sample = get_testdata_file(name, download=False)
                if sample is None:
                    continue
                ds = pydicom.dcmread(sample)
                ds.PatientName, ds.PatientBirthDate = patient["name"], patient["birth_date"]
                ds.PatientSex = patient["sex"]
                written = io.BytesIO()
                ds.save_as(written)
                archive.writestr(f"DICOM/IM{i:06d}", written.getvalue())
            archive.writestr("AUTORUN.INF", "[autorun]\r\nopen=viewer.exe\r\n")
        else:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def matching(studies: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The studies --yes confirms (not on the PACS yet, patient accepted without a person's
    acknowledgement), and those it leaves to a person (a different patient)."""
    new = [s for s in studies if not s["on_pacs"]]
    left = [s for s in new if s["acknowledgement_required"]]
    return [s["study_instance_uid"] for s in new if not s["acknowledgement_required"]], left


def show(imp: dict[str, Any]) -> None:
    media = imp["media"]
    print(f"import {imp['support_id']}: {imp['status']}")
    print(
        f"  files {media['files']}, DICOM {media['dicom']}, skipped {len(media['skipped'])}"
        f"{', DICOMDIR read' if media['dicomdir'] else ''}"
    )
    for skipped in media["skipped"]:
        print(f"    skipped {skipped['path']}: {skipped['reason']} ({skipped['message']})")
    for study in imp["studies"]:
        patient, identity = study["patient"], study["identity"] or {}
        print(
            f"  study {study['description'] or '(no description)'} {study['date']} "
            f"{'/'.join(study['modalities'])}: {study['series_count']} series, "
            f"{study['instance_count']} instances"
        )
        print(
            f"    patient on the medium: {patient['name']} born {patient['birth_date']} "
            f"sex {patient['sex']} id {patient['id']}"
        )
        print(
            f"    identity: {identity.get('overall')} {identity.get('fields')} "
            f"{identity.get('reasons')}"
        )
        if study["on_pacs"]:
            print("    already on PACS, removed from import")
        for stage in study["stages"]:
            print(f"    {stage['name']:<7} {stage['status']:<8} {stage['message']}")
    if imp["error"]:
        print(f"  error {imp['error']['code']}: {imp['error']['message']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument(
        "--url", default=os.environ.get("IMPORTER_PUBLIC_URL", "http://127.0.0.1:8000")
    )
    parser.add_argument(
        "--ris-key", default=os.environ.get("IMPORTER_RIS_API_KEYS", DEMO_RIS_KEY).split(",")[0]
    )
    parser.add_argument(
        "--yes", action="store_true", help="confirm the studies whose patient matches the order"
    )
    args = parser.parse_args()

    with httpx.Client(base_url=args.url, timeout=60) as http:
        launch = http.post(
            "/api/v1/launches",
            json={"user": {"id": "demo-tech", "name": "Demo Technologist"}, "order": DEMO_ORDER},
            headers={"Authorization": f"Bearer {args.ris_key}"},
        )
        launch.raise_for_status()
        session = http.post("/api/v1/sessions", json={"launch_token": launch.json()["token"]})
        session.raise_for_status()
        auth = {"Authorization": f"Bearer {session.json()['session_token']}"}
        archive = zip_folder(args.folder)
        created = http.post("/api/v1/imports", json={"size": len(archive)}, headers=auth).json()
        offset, chunk = 0, 1024 * 1024
        while offset < len(archive):
            response = http.patch(
                created["upload_url"],
                content=archive[offset : offset + chunk],
                headers={**auth, "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
                         "Content-Type": "application/offset+octet-stream"},
            )  # fmt: skip
            response.raise_for_status()
            offset = int(response.headers["Upload-Offset"])
            print(f"\rtransferring… {100 * offset // len(archive)}%", end="", flush=True)
        print()
        url = f"/api/v1/imports/{created['id']}"
        imp = http.get(url, headers=auth).json()
        while imp["status"] in ("created", "queued", "analyzing"):
            time.sleep(0.5)
            imp = http.get(url, headers=auth).json()
        show(imp)
        if imp["status"] != "awaiting_confirmation" or not args.yes:
            return 0 if imp["status"] == "awaiting_confirmation" else 1
        uids, left = matching(imp["studies"])
        for study in left:
            print(
                f"  not confirmed: {study['description'] or study['study_instance_uid']}: its "
                "patient differs from the order's; compare and decide in the app"
            )
        if not uids:
            print("nothing confirmed: no study's patient matches the order")
            return 1
        confirm = http.post(f"{url}/confirm", json={"studies": uids}, headers=auth)
        print(f"confirm: HTTP {confirm.status_code}")
        with http.stream("GET", f"{url}/events", headers=auth) as events:
            for line in events.iter_lines():
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    if event.get("type") in ("stage", "status", "progress"):
                        print("  event", {k: v for k, v in event.items() if k != "import_id"})
        imp = http.get(url, headers=auth).json()
        show(imp)
        return 0 if imp["status"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
