"""Copy detection: graded cells that match the reference or another student's, up to names and format.

Each graded cell is normalised before comparing: parsed with ``ast`` (comments and formatting
vanish), docstrings dropped, and every local name renamed in order of first appearance
(``v0, v1, ...``); the names of the functions a cell must define are kept. Two cells with the same
normalised text are the same program written differently. Tiny cells (fewer than
``MIN_NODES`` syntax nodes) and the unchanged blank cell are never flagged: short correct answers
coincide honestly. A flag asks for a human look; it never changes a score.
"""

from __future__ import annotations

import ast
import hashlib
from collections import defaultdict

MIN_NODES = 30


class _Renamer(ast.NodeTransformer):
    def __init__(self, keep: set[str]):
        self.keep = keep
        self.names: dict[str, str] = {}

    def _rename(self, name: str) -> str:
        if name in self.keep:
            return name
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        node.id = self._rename(node.id) if isinstance(node.ctx, ast.Store) or node.id in self.names else node.id
        return node

    def visit_arg(self, node):
        node.arg = self._rename(node.arg)
        node.annotation = None
        return node

    def visit_FunctionDef(self, node):
        node.name = self._rename(node.name)
        node.returns = None
        drop_docstring(node)
        self.generic_visit(node)
        return node


def drop_docstring(node) -> None:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str) and len(body) > 1:
        node.body = body[1:]


def normalise(source: str, keep: set[str] = frozenset()) -> str | None:
    """The cell as canonical code, or ``None`` when it does not parse or is too small to compare."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if sum(1 for _ in ast.walk(tree)) < MIN_NODES:
        return None
    drop_docstring(tree)
    tree = _Renamer(set(keep)).visit(tree)
    return ast.unparse(tree)


def fingerprint(source: str, keep: set[str] = frozenset()) -> str | None:
    text = normalise(source, keep)
    return hashlib.sha256(text.encode()).hexdigest()[:16] if text is not None else None


def defined_names(source: str) -> set[str]:
    """Top-level function and class names a cell defines (kept when normalising)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def copy_flags(
    student_prints: dict[str, dict[str, str]],
    reference_prints: dict[str, str],
    blank_prints: dict[str, str],
) -> dict[str, list[str]]:
    """Flags per student: graded cells equal to the reference's, or to other students' cells.

    Args:
        student_prints: student -> {cell id -> fingerprint}.
        reference_prints: cell id -> fingerprint of the solution's cell.
        blank_prints: cell id -> fingerprint of the released blank cell (never flagged).
    """
    flags: dict[str, list[str]] = defaultdict(list)
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for student, prints in sorted(student_prints.items()):
        copied = []
        for cell, print_ in prints.items():
            if not print_ or print_ == blank_prints.get(cell):
                continue
            if print_ == reference_prints.get(cell):
                copied.append(cell)  # classmates who match the reference are covered by this flag
            else:
                groups[(cell, print_)].append(student)
        if copied:
            flags[student].append(f"matches the reference solution up to names and formatting: {', '.join(copied)}")
    for (cell, _), students in groups.items():
        if len(students) > 1:
            for student in students:
                others = ", ".join(s for s in students if s != student)
                flags[student].append(f"{cell}: same code as {others} up to names and formatting")
    return dict(flags)
