"""The whole product for the browser tests: ``uv run python -m tests.e2e.stack``.

Starts Orthanc (the PACS) on free loopback ports, uses the Redis on 127.0.0.1:6379 (or starts
one) with a queue of its own, a SQLite database in a temporary folder migrated with Alembic, the
API (serving ``frontend/dist``) and the worker; writes the media the journeys pick; prints one
JSON line ``{"base_url", "ris_key", "orthanc_url", "media": {...}, "expired_token"}``; and stops
everything it started (by pid) on SIGTERM, SIGINT or when stdin closes.

``--bench-mb N`` also writes an N MB medium for the upload benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
import pydicom
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_fragmented_frames
from pydicom.uid import generate_uid

from devstack import OrthancProcess, WorklistProcess, ensure_redis, free_port
from importer.security import hash_token
from scripts.demo_media import Patient, write_bench, write_cd, write_folder
from scripts.run import ROOT, stop, wait_ready

RIS_KEY = "e2e-ris-key"
ORDER_PATIENT = Patient(name="ROSSI^MARIO", birth_date="19740101", sex="M")
# worklist mode: the medium writes the name in mixed case, the RIS in capitals
WORKLIST_MEDIUM_PATIENT = Patient(name="Verdi^Giuseppe", birth_date="19610315", sex="M")
# temporary zone: a patient the hospital does not know yet (an order appears later)
TEMPORARY_MEDIUM_PATIENT = Patient(name="Bianchi^Lucia", birth_date="19880920", sex="F")
# a second launch in the same window: another order, another patient
SWAP_PATIENT = Patient(name="BIANCHI^LUCA", birth_date="19850312", sex="M", id="EXT-777")


def worklist_items(worklist: WorklistProcess) -> None:
    """Today's worklist, as a RIS would write it (names in capitals)."""
    items = [
        ("VERDI^GIUSEPPE", "HOSP-0100", "WL-E2E-0001", "19610315", "M", "TC TORACE ESTERNA"),
        ("VERDI^GIOVANNI", "HOSP-0101", "WL-E2E-0002", "19610315", "M", "RX TORACE ESTERNA"),
        ("ROSSI^MARIO", "HOSP-0042", "WL-E2E-0003", "19740101", "M", "TC ADDOME ESTERNA"),
        ("BIANCHI^LUCIA", "HOSP-0200", "WL-E2E-0004", "19880920", "F", "RM ENCEFALO ESTERNA"),
    ]
    for name, patient_id, accession, birth, sex, description in items:
        worklist.add_item(
            patient_name=name, patient_id=patient_id, issuer_of_patient_id="HOSPITAL",
            accession_number=accession, patient_birth_date=birth, patient_sex=sex,
            requested_procedure_id=f"RP-{accession[-4:]}",
            requested_procedure_description=description,
            modality="CT",
        )  # fmt: skip


def write_two_patients(folder: Path) -> Path:
    """One study whose second series names another patient: a second patient hidden in it."""
    write_folder(folder, ORDER_PATIENT, description="TC ADDOME MISTO")
    for path in sorted(folder.glob("IMG*.dcm"))[2:]:
        ds = pydicom.dcmread(path)
        ds.PatientName = "ROSSI^MARIA"
        ds.PatientSex = "F"
        ds.save_as(path, enforce_file_format=True)
    return folder


E2E_ACCEPTED_SYNTAXES = (
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "1.2.840.10008.1.2.1.99",  # Deflated
    "1.2.840.10008.1.2.2",  # Explicit VR Big Endian
    "1.2.840.10008.1.2.4.5*",  # JPEG baseline, extended, lossless and the retired processes
    "1.2.840.10008.1.2.4.6*",
    "1.2.840.10008.1.2.4.70",  # JPEG lossless SV1
    "1.2.840.10008.1.2.4.8*",  # JPEG-LS
    "1.2.840.10008.1.2.4.10*",  # MPEG
)
"""What the journeys' PACS accepts: every syntax but JPEG 2000 and RLE, so that a medium's
JPEG 2000 image needs converting (pacs_reach_journeys.spec.ts); the other media are
uncompressed."""


def write_pacs_reach(folder: Path, description: str) -> Path:
    """One study of the order's patient that the journeys' PACS takes only in part: four
    uncompressed images, a JPEG 2000 image it takes only decoded (IMG0005), and a JPEG 2000
    image cut short that no decoder can read (IMG0006)."""
    write_folder(folder, ORDER_PATIENT, description=description)
    first = pydicom.dcmread(folder / "IMG0001.dcm")
    series = generate_uid()
    for number, cut in ((5, False), (6, True)):
        ds = pydicom.dcmread(str(get_testdata_file("JPEG2000.dcm", download=False)))
        for keyword in (
            "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
            "StudyDescription", "StudyDate", "StudyTime", "AccessionNumber", "InstitutionName",
        ):  # fmt: skip
            setattr(ds, keyword, first.get(keyword, ""))
        ds.SeriesInstanceUID, ds.SeriesNumber, ds.InstanceNumber = series, 3, number
        ds.SeriesDescription = "SCOUT"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        if cut:
            frame = b"".join(next(generate_fragmented_frames(ds.PixelData)))
            ds.PixelData = encapsulate([frame[: len(frame) // 3]])
        ds.save_as(folder / f"IMG{number:04d}.dcm", enforce_file_format=True)
    return folder


def media(root: Path) -> dict[str, str]:
    """One medium per journey (each with new UIDs, so journeys do not see each other's studies)."""
    out = {
        # the same patient, a CD with DICOMDIR, viewer and autorun files
        "match": write_cd(root / "CD_MATCH", ORDER_PATIENT, description="TC TORACE"),
        # a CD whose DICOMDIR does not list its report (documents_journeys.spec.ts)
        "cd_report": write_cd(
            root / "CD_REPORT", ORDER_PATIENT, description="RX TORACE", report=True
        ),
        # a twin-like patient on a USB stick without DICOMDIR: given name and sex differ
        "mismatch": write_folder(
            root / "USB_MISMATCH",
            Patient(name="ROSSI^MARIA", birth_date="19740101", sex="F"),
            description="RM ENCEFALO",
        ),
        # the same patient written the other way round
        "format": write_folder(
            root / "USB_FORMAT",
            Patient(name="Mario Rossi", birth_date="19740101", sex="M"),
            description="RX TORACE",
        ),
        "cancel": write_cd(root / "CD_CANCEL", ORDER_PATIENT, description="TC ADDOME"),
        "duplicate": write_cd(root / "CD_DUPLICATE", ORDER_PATIENT, description="TC CRANIO"),
        "languages": write_cd(root / "CD_LANGUAGES", ORDER_PATIENT, description="ECO ADDOME"),
        "worklist": write_folder(
            root / "USB_WORKLIST", WORKLIST_MEDIUM_PATIENT, description="TC TORACE"
        ),
        "temporary": write_folder(
            root / "USB_TEMPORARY", TEMPORARY_MEDIUM_PATIENT, description="RM ENCEFALO"
        ),
        "swap": write_cd(root / "CD_SWAP", SWAP_PATIENT, description="RX GINOCCHIO"),
        # the RIS changes the order's patient while the confirmation is open
        "changed": write_cd(root / "CD_CHANGED", ORDER_PATIENT, description="TC SPALLA"),
        "two_patients": write_two_patients(root / "USB_TWO_PATIENTS"),
        "temporary_purge": write_folder(
            root / "USB_TEMPORARY_PURGE",
            Patient(name="Neri^Paolo", birth_date="19900101", sex="M", id="EXT-999"),
            description="RX MANO",
        ),
    }
    # worklist mode's "nothing found" (never confirmed, and not the worklist journey's study,
    # which is on the PACS by then)
    out["worklist_nothing"] = write_folder(
        root / "USB_WORKLIST_NOTHING", WORKLIST_MEDIUM_PATIENT, description="TC TORACE"
    )
    # worklist mode's dead ends (worklist_dead_ends.spec.ts): a medium the journey stores on the
    # PACS first, and a patient the worklist does not know, one per language
    for lang in ("en", "it", "fr"):
        out[f"dead_end_present_{lang}"] = write_folder(
            root / f"DEAD_END_PRESENT_{lang}", WORKLIST_MEDIUM_PATIENT, description="TC TORACE"
        )
    for lang in ("en", "it", "fr"):
        out[f"dead_end_temporary_{lang}"] = write_folder(
            root / f"DEAD_END_TEMPORARY_{lang}",
            Patient(name="Gialli^Marco", birth_date="19550505", sex="M", id="EXT-555"),
            description="RX TORACE",
        )
    # the temporary zone's viewer (temporary_viewer_journeys.spec.ts): a kept medium per language
    for lang in ("en", "it", "fr"):
        out[f"viewer_{lang}"] = write_folder(
            root / f"VIEWER_{lang}",
            Patient(name="Viola^Anna", birth_date="19820303", sex="F", id=f"EXT-VIEW-{lang}"),
            description="TC TORACE",
        )
    # the accessibility audit (a11y_journeys.spec.ts): media of its own, confirmed or not
    out["a11y_mismatch"] = write_folder(
        root / "A11Y_USB_MISMATCH",
        Patient(name="ROSSI^MARIA", birth_date="19740101", sex="F"),
        description="RM ENCEFALO",
    )
    out["a11y_format"] = write_folder(
        root / "A11Y_USB_FORMAT",
        Patient(name="Mario Rossi", birth_date="19740101", sex="M"),
        description="RX TORACE",
    )
    out["a11y_worklist"] = write_folder(
        root / "A11Y_USB_WORKLIST", WORKLIST_MEDIUM_PATIENT, description="TC TORACE"
    )
    # remembered outside identities (remembered_journeys.spec.ts): per language, a medium filed
    # first under the order's patient, then a second one of the same outside patient
    for lang in ("en", "it", "fr"):
        outside = Patient(name="ROSSI^MARIO", birth_date="19740101", sex="M", id=f"EXT-REM-{lang}")
        for step in ("first", "second"):
            out[f"remembered_{step}_{lang}"] = write_folder(
                root / f"REMEMBERED_{step.upper()}_{lang.upper()}", outside, description="RX TORACE"
            )
    # what the PACS takes of a medium, known before confirming (pacs_reach_journeys.spec.ts)
    for lang in ("en", "it", "fr"):
        out[f"pacs_reach_{lang}"] = write_pacs_reach(
            root / f"PACS_REACH_{lang.upper()}", description="TC BACINO"
        )
    # undo a wrong import (undo_journeys.spec.ts): per language, a medium filed under the
    # order's patient, taken back by a referent and promoted to the right order
    for lang in ("en", "it", "fr"):
        out[f"undo_{lang}"] = write_folder(
            root / f"UNDO_{lang.upper()}", ORDER_PATIENT, description="TC TORACE"
        )
    # import for a patient without an order (patient_launch_journeys.spec.ts): per language, a
    # medium of the launch's patient, and one a referent keeps in the temporary zone and then
    # promotes to a patient launch
    for lang in ("en", "it", "fr"):
        out[f"patient_launch_{lang}"] = write_folder(
            root / f"PATIENT_LAUNCH_{lang.upper()}", ORDER_PATIENT, description="RX TORACE"
        )
        out[f"patient_promote_{lang}"] = write_folder(
            root / f"PATIENT_PROMOTE_{lang.upper()}", ORDER_PATIENT, description="TC ADDOME"
        )
    # the translated user guides (docs_languages.spec.ts): one set per language, new UIDs each
    for lang in ("it", "fr"):
        out[f"docs_{lang}_match"] = write_cd(
            root / f"DOCS_{lang}_CD", ORDER_PATIENT, description="TC TORACE"
        )
        out[f"docs_{lang}_mismatch"] = write_folder(
            root / f"DOCS_{lang}_USB_MISMATCH",
            Patient(name="ROSSI^MARIA", birth_date="19740101", sex="F"),
            description="RM ENCEFALO",
        )
        out[f"docs_{lang}_worklist"] = write_folder(
            root / f"DOCS_{lang}_USB_WORKLIST", WORKLIST_MEDIUM_PATIENT, description="TC TORACE"
        )
        out[f"docs_{lang}_temporary"] = write_folder(
            root / f"DOCS_{lang}_USB_TEMPORARY", TEMPORARY_MEDIUM_PATIENT, description="RM ENCEFALO"
        )
    own_outside_ids(out, keep={"duplicate"})
    return {key: str(path) for key, path in out.items()}


SHARED_ID = b"EXT-12345"
"""The medium's Patient ID most demo media are written with (scripts.demo_media)."""


def own_outside_ids(media: dict[str, Path], *, keep: set[str]) -> None:
    """Each medium its own outside Patient ID (``EXT-10001``, ``EXT-10002``..., the same length,
    so that a DICOMDIR's offsets hold), as media of different outside patients would have: the
    remembered identities (issue 16) would otherwise take one journey's filing of the order's
    patient's medium under another patient for every later medium's. ``keep``: the media whose
    journey needs the shared ID (journeys.spec.ts' storeAsImported)."""
    for number, (key, folder) in enumerate(sorted(media.items()), start=10001):
        if key in keep:
            continue
        own = f"EXT-{number:05d}".encode()
        assert len(own) == len(SHARED_ID)
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                if SHARED_ID in data:
                    path.write_bytes(data.replace(SHARED_ID, own))


def expired_token(base_url: str, database: Path) -> str:
    """A launch whose token has expired (its expiry moved to the past in the database)."""
    answer = httpx.post(
        f"{base_url}/api/v1/launches",
        headers={"Authorization": f"Bearer {RIS_KEY}"},
        json={
            "user": {"id": "e2e", "name": "E2E Tester"},
            "order": {"accession_number": "E2E-EXPIRED", "patient": {
                "id": "P-EXP", "name": "ROSSI^MARIO", "birth_date": "19740101", "sex": "M"}},
        },
        timeout=10,
    )  # fmt: skip
    answer.raise_for_status()
    token: str = answer.json()["token"]
    with sqlite3.connect(database) as db:
        db.execute(
            "UPDATE launch_tokens SET expires_at = '2000-01-01 00:00:00.000000' "
            "WHERE token_hash = ?",
            (hash_token(token),),
        )
    return token


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench-mb", type=int, default=0)
    parser.add_argument("--frontend", default=str(ROOT / "frontend" / "dist"))
    args = parser.parse_args()
    if not (Path(args.frontend) / "index.html").is_file():
        print(f"{args.frontend} has no index.html: run 'npm --prefix frontend run build'",
              file=sys.stderr)  # fmt: skip
        return 2

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="pmi-e2e-") as tmp:
        data = Path(tmp)
        logs = data / "logs"
        logs.mkdir()
        redis = ensure_redis("redis://127.0.0.1:6379/0", data_dir=data / "redis")
        redis_url = "redis://127.0.0.1:6379/0"
        if redis is not None:
            stack.callback(redis.stop)
            redis_url = redis.url
        orthanc = stack.enter_context(
            OrthancProcess(data / "orthanc", accepted_transfer_syntaxes=E2E_ACCEPTED_SYNTAXES)
        )
        worklist = stack.enter_context(WorklistProcess(data / "worklist"))
        worklist_items(worklist)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "IMPORTER_DATA_DIR": str(data),
            "IMPORTER_REDIS_URL": redis_url,
            "IMPORTER_QUEUE_NAME": f"importer:e2e:{uuid.uuid4().hex}",
            "IMPORTER_PACS_URL": orthanc.dimse_url,
            # a referent may undo an import: Orthanc's REST API takes its instances back
            "IMPORTER_REJECT_URL": f"orthanc+{orthanc.http_url}",
            "IMPORTER_RIS_API_KEYS": RIS_KEY,
            "IMPORTER_PUBLIC_URL": base_url,
            "IMPORTER_FRONTEND_DIR": str(Path(args.frontend).resolve()),
            "IMPORTER_STAGE_ATTEMPTS": "2",
            "IMPORTER_PUBLIC_DOCS": "true",  # as make run: the docs journey opens /docs
        }
        env.pop("IMPORTER_DATABASE_URL", None)
        env["IMPORTER_WORKLIST_URL"] = worklist.dimse_url
        subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        api_log = stack.enter_context((logs / "api.log").open("ab"))
        worker_log = stack.enter_context((logs / "worker.log").open("ab"))
        api = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=ROOT, env=env, stdout=api_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        stack.callback(stop, api)
        worker = subprocess.Popen(
            [sys.executable, "-m", "arq", "worker.main.WorkerSettings"],
            cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        stack.callback(stop, worker)
        wait_ready(base_url, api)

        try:
            files = media(data / "media")
            if args.bench_mb:
                files["bench"] = str(write_bench(data / "media" / "BENCH", megabytes=args.bench_mb))
            info = {
                "base_url": base_url,
                "ris_key": RIS_KEY,
                "orthanc_url": orthanc.http_url,
                "logs": str(logs),
                "media": files,
                "expired_token": expired_token(base_url, data / "importer.sqlite3"),
            }
        except Exception:
            api_log.flush()
            print((logs / "api.log").read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        print(json.dumps(info), flush=True)

        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())

        def stop_when_stdin_closes() -> None:
            sys.stdin.read()
            stopping.set()

        threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
        while not stopping.wait(0.5):
            if api.poll() is not None or worker.poll() is not None:
                print("the api or the worker stopped; see " + str(logs), file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
