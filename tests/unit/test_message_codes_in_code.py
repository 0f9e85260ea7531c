"""Every code the server writes as a literal is one the app can word: the string literals used as
an error's, a note's or a skipped file's code anywhere in importer/, api/ and worker/ are
members of :class:`~importer.messages.MessageCode` (read from the source, so a code raised only
on a rare path is checked too)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from importer.messages import MessageCode
from tests.support.source import sources

ERROR_ROOTS = frozenset({"ImporterError", "Failure"})
CODE_FIRST_ROOT = "Failure"
"""``Failure(code, message)`` and its subclasses take the code first (unless they say else)."""
CODE_KEYWORDS = frozenset({"code", "error_code"})
POSITIONAL_CODES = {"Note": 0, "SkippedFile": 1, "_skip": 1}
"""Calls whose argument at this position is a code (``Note(code, ...)``,
``SkippedFile(path, reason, ...)``)."""


@dataclass(frozen=True)
class Literal:
    path: str
    line: int
    value: str


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def error_classes(modules: list[tuple[str, ast.Module]]) -> tuple[set[str], set[str]]:
    """The names of the error classes (:class:`ImporterError` and its subclasses) and of those
    that take the code as their first argument (``Failure``'s, unless their own ``__init__``
    takes something else first)."""
    classes = {
        node.name: node
        for _, module in modules
        for node in ast.walk(module)
        if isinstance(node, ast.ClassDef)
    }
    errors = set(ERROR_ROOTS)
    code_first = {CODE_FIRST_ROOT}
    changed = True
    while changed:
        changed = False
        for name, node in classes.items():
            bases = {_name(b) for b in node.bases}
            if name not in errors and bases & errors:
                errors.add(name)
                changed = True
            if name not in code_first and bases & code_first and _init_takes_code_first(node):
                code_first.add(name)
                changed = True
    return errors, code_first


def _init_takes_code_first(node: ast.ClassDef) -> bool:
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            args = item.args.args
            return len(args) > 1 and args[1].arg == "code"
    return True  # inherits its base's


def code_literals(
    modules: list[tuple[str, ast.Module]], errors: set[str], code_first: set[str]
) -> Iterator[Literal]:
    for path, module in modules:
        for node in ast.walk(module):
            if isinstance(node, ast.Call):
                yield from _call_codes(path, node, code_first)
            elif isinstance(node, ast.ClassDef) and node.name in errors:
                yield from _class_codes(path, node)


def _call_codes(path: str, call: ast.Call, code_first: set[str]) -> Iterator[Literal]:
    name = _name(call.func)
    found: list[ast.expr] = [k.value for k in call.keywords if k.arg in CODE_KEYWORDS]
    if name == "SkippedFile":
        found += [k.value for k in call.keywords if k.arg == "reason"]
    position = 0 if name in code_first else POSITIONAL_CODES.get(name or "")
    if position is not None and len(call.args) > position:
        found.append(call.args[position])
    for node in found:
        value = _string(node)
        if value is not None:
            yield Literal(path, node.lineno, value)


def _class_codes(path: str, node: ast.ClassDef) -> Iterator[Literal]:
    """``code = "..."`` and ``NAME: ClassVar[str] = "..."`` (a family's codes) of an error
    class."""
    for item in node.body:
        if isinstance(item, ast.Assign):
            targets = [t.id for t in item.targets if isinstance(t, ast.Name)]
            value = _string(item.value)
            if value is not None and "code" in targets:
                yield Literal(path, item.lineno, value)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            value = _string(item.value)
            annotation = ast.unparse(item.annotation)
            is_code = item.target.id == "code" or annotation in ("ClassVar[str]", "str")
            if value is not None and is_code:
                yield Literal(path, item.lineno, value)


def test_every_code_literal_is_a_message_code() -> None:
    modules = sources()
    errors, code_first = error_classes(modules)
    literals = list(code_literals(modules, errors, code_first))
    # the walk finds the codes where they are: a walk that found nothing would prove nothing
    assert len(literals) > 100
    assert {"archive_invalid", "pacs_unreachable", "store_failed", "verify_failed"} <= {
        lit.value for lit in literals
    }
    known = set(MessageCode)
    unknown = [
        f"{lit.path}:{lit.line}: {lit.value!r}" for lit in literals if lit.value not in known
    ]
    assert unknown == [], "add these to importer/messages.py MessageCode (and the app's catalogs)"


def test_the_walk_sees_every_kind_of_place_a_code_is_written() -> None:
    module = ast.parse(
        """
class FooError(Failure):
    code = "made_up_1"
    OTHER: ClassVar[str] = "made_up_2"

class Worded(FooError):
    def __init__(self, message: str) -> None: ...

raise FooError("made_up_3", "English.")
raise Worded("English is not a code.")
raise InvalidInput("English is not a code.", code="made_up_4")
note = Note("made_up_5", "English.")
skipped = SkippedFile("CD/IM1", "made_up_6", "English.")
set_status(imp, failed, error_code="made_up_7")
raise ValueError("English is not a code.")
"""
    )
    modules = [("snippet.py", module)]
    errors, code_first = error_classes(modules)
    found = sorted(lit.value for lit in code_literals(modules, errors, code_first))
    assert found == [f"made_up_{n}" for n in range(1, 8)]
