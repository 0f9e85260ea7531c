"""The README and the guides link only to files that exist (a screenshot renamed or not yet
taken shows as a broken image in the guide), and every screenshot is shown by some page."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md")), ROOT / "bench" / "README.md"]
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _local_targets(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text("utf-8"), flags=re.DOTALL)
    targets = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor of the same page
        targets.append(unquote(target.split("#", 1)[0]))
    return targets


def test_every_local_link_of_the_docs_names_a_file_that_exists() -> None:
    broken = [
        f"{page.relative_to(ROOT)} → {target}"
        for page in PAGES
        if page.exists()
        for target in _local_targets(page)
        if target and not (page.parent / target).exists()
    ]
    assert broken == []


def test_every_screenshot_is_shown_by_a_page() -> None:
    shown = {
        (page.parent / target).resolve()
        for page in PAGES
        if page.exists()
        for target in _local_targets(page)
    }
    unused = [
        shot.name
        for shot in sorted((ROOT / "docs" / "screenshots").glob("*.png"))
        if shot.resolve() not in shown
    ]
    assert unused == []
