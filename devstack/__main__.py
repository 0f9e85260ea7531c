"""``python -m devstack [DATA_DIR]``: a demo Orthanc and worklist, their URLs printed, until ^C."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from devstack.orthanc import OrthancProcess
from devstack.worklist import WorklistProcess


def main(argv: list[str] | None = None) -> int:
    """Start a demo Orthanc and worklist under DATA_DIR (default ``var/services``) until ^C."""
    args = sys.argv[1:] if argv is None else argv
    data_dir = Path(args[0] if args else "var/services").resolve()
    with (
        OrthancProcess(data_dir / "orthanc") as orthanc,
        WorklistProcess(data_dir / "worklist") as worklist,
    ):
        print(f"IMPORTER_PACS_URL={orthanc.dimse_url}")
        print(f"ORTHANC_HTTP_URL={orthanc.http_url}")
        print(f"IMPORTER_WORKLIST_URL={worklist.dimse_url}")
        sys.stdout.flush()
        # Block only now, so that the children did not inherit a blocked SIGTERM.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


if __name__ == "__main__":
    raise SystemExit(main())
