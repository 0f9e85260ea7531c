"""Print the OpenAPI document of the app without starting a server."""

from __future__ import annotations

import json
import sys

from api.main import create_app
from importer.settings import Settings


def main() -> int:
    app = create_app(Settings())
    json.dump(app.openapi(), sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
