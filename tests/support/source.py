"""The server's own source, parsed: for guard tests that check what the code writes as
literals (message codes, audit actions) wherever it is written, rare paths included."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("importer", "api", "worker")


def sources() -> list[tuple[str, ast.Module]]:
    """Each Python file of the server (its path from the repository's root) and its tree."""
    out = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            out.append((str(path.relative_to(ROOT)), ast.parse(path.read_text(), str(path))))
    return out
