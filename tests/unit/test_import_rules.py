"""The import rules of the code's layout, checked over the real import graph (every import
statement, at any depth, TYPE_CHECKING ones included):

- ``importer`` (the core) never imports ``api`` or ``worker``;
- the identity core (``importer.identity``, and the worklist's query building and ranking,
  ``importer.worklist.query``) imports nothing that does I/O: only the standard library's pure
  modules, rapidfuzz and the identity core;
- the api takes job names from the core (``importer.jobs``), not from the worker;
- no two parts of ``importer`` import each other (a part is a package such as
  ``importer.imports`` or a top-level module such as ``importer.coerce``).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "importer"
PURE_ALLOWED = {
    "__future__", "collections", "dataclasses", "datetime", "enum", "functools", "itertools",
    "math", "re", "string", "typing", "unicodedata", "rapidfuzz", "importer",
}  # fmt: skip
SHOWN_FORM = "schemas.py"
"""The one module of the identity core that may import pydantic (validation, no I/O): how a
comparison is shown (``IdentityOut``)."""


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_of(path) if path.name == "__init__.py" else module_of(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.add(node.module)
    return found


def core_files() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def part_of(module: str) -> str:
    """``importer.imports.service`` → ``importer.imports``; ``importer.coerce`` stays."""
    return ".".join(module.split(".")[:2])


def part_edges() -> dict[str, set[str]]:
    """Which parts of the core each part imports."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in core_files():
        source = part_of(module_of(path))
        for target in imports_of(path):
            if target.startswith("importer.") and part_of(target) != source:
                edges[source].add(part_of(target))
    return edges


def test_the_core_never_imports_the_api_or_the_worker() -> None:
    wrong = {
        module_of(path): sorted(m for m in imports_of(path) if m.split(".")[0] in ("api", "worker"))
        for path in core_files()
    }
    assert {k: v for k, v in wrong.items() if v} == {}


def test_the_identity_core_imports_nothing_with_io() -> None:
    pure = [*sorted((CORE / "identity").rglob("*.py")), CORE / "worklist" / "query.py"]
    wrong = {
        module_of(path): sorted(
            m
            for m in imports_of(path)
            if m.split(".")[0]
            not in PURE_ALLOWED | ({"pydantic"} if path.name == SHOWN_FORM else set())
            or (m.startswith("importer") and not m.startswith("importer.identity"))
        )
        for path in pure
    }
    assert {k: v for k, v in wrong.items() if v} == {}


def test_job_names_live_in_the_core() -> None:
    """The api and the worker name a job from :mod:`importer.jobs`; the worker defines none."""
    names = {"ANALYSE", "PROCESS", "WORKLIST_SEARCH", "WORKLIST_ORDERS"}
    wrong = []
    for path in sorted((ROOT / "api").rglob("*.py")) + sorted((ROOT / "worker").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("worker"):
                wrong += [f"{path.name}: {a.name}" for a in node.names if a.name in names]
            if isinstance(node, ast.Assign):
                wrong += [
                    f"{path.name}: {t.id} defined"
                    for t in node.targets
                    if isinstance(t, ast.Name) and t.id in names
                ]
    assert wrong == []


def test_no_two_parts_of_the_core_import_each_other() -> None:
    edges = part_edges()
    both_ways = sorted(
        (a, b) for a, targets in edges.items() for b in targets if a < b and a in edges.get(b, ())
    )
    assert both_ways == []


def test_the_parts_of_the_core_import_each_other_without_a_cycle() -> None:
    """Not even through a third part: the graph of the core's parts has no cycle."""
    edges = part_edges()
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(edges.get(node, ())):
            if nxt == trail[0]:
                cycles.append([*trail, nxt])
            elif nxt not in trail and nxt > trail[0]:  # each cycle once, from its least part
                visit(nxt, [*trail, nxt])

    for start in sorted(edges):
        visit(start, [start])
    assert cycles == []


def test_only_the_worker_runs_the_pipeline() -> None:
    """``importer.pipeline`` is the jobs: no other part of the core, and not the api, imports it."""
    wrong = sorted(
        module_of(path)
        for path in [*core_files(), *sorted((ROOT / "api").rglob("*.py"))]
        if not module_of(path).startswith("importer.pipeline")
        and any(m.startswith("importer.pipeline") for m in imports_of(path))
    )
    assert wrong == []
