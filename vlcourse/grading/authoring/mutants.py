"""Mutants of a graded cell: the solution with one small change, each a plausible wrong answer.

Mutation testing (DeMillo, Lipton and Sayward 1978; mutmut and cosmic-ray for Python) measures a
test suite by the wrong programs it catches. Here the programs are the graded cells of a solution
notebook and the suite is the hidden one. The operators are mutmut's node operators
(``mutmut.mutation.mutators``: pure functions from a libcst node to its mutated versions, so they
apply to a cell's source as well as to a file; cosmic-ray's operators need a module on disk and a
session database for each run) plus this course's own (:mod:`vlcourse.grading.authoring.mutant_operators`).

Only the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is mutated: the rest of the
cell is given to the student. Two kinds of change are never generated because no test on this
machine could see them: a ``device=`` argument (the grader runs on the CPU) and the message of a
raised exception (the contract names the exception, not its words). Mutants with the same code after
those are set aside are one mutant; a mutant with the original's code is none.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from vlcourse.grading.authoring.mutant_operators import OPERATORS, TAKES_INPUTS

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
UNOBSERVABLE_KEYWORDS = ("device",)


@dataclass(frozen=True)
class Mutant:
    """One mutant of one graded cell."""

    id: str  # "<cell>:<8 hex digits of its code>": stable while the cell's solution is unchanged
    cell: str
    operator: str  # "mutmut:<operator>" or one of ours (see vlcourse.grading.authoring.mutant_operators)
    line: int  # 1-based line of the cell where the change starts
    source: str  # the whole mutated cell

    def diff(self, original: str) -> str:
        """The change as a unified diff of the cell (what the author reads for a survivor)."""
        lines = difflib.unified_diff(original.splitlines(), self.source.splitlines(), "solution", "mutant", n=1, lineterm="")
        return "\n".join(list(lines)[2:])

    def changed_line(self) -> str:
        return self.source.splitlines()[self.line - 1].strip() if 0 < self.line <= len(self.source.splitlines()) else ""


def solution_lines(source: str) -> list[tuple[int, int]]:
    """1-based (first, last) line ranges between the solution markers; the whole cell if it has none."""
    lines = source.splitlines()
    ranges, start = [], None
    for number, line in enumerate(lines, start=1):
        if line.strip().startswith(BEGIN):
            start = number + 1
        elif line.strip().startswith(END) and start is not None:
            ranges.append((start, number - 1))
            start = None
    return ranges or [(1, len(lines))]


# Keyword arguments given at their default value (dropping one changes nothing): (function, keyword) -> value.
DEFAULT_KEYWORDS = {("cat", "dim"): 0, ("stack", "dim"): 0, ("split", "dim"): 0, ("topk", "dim"): -1,
                    ("argsort", "dim"): -1, ("sort", "dim"): -1, ("topk", "largest"): True, ("topk", "sorted"): True,
                    ("sum", "keepdim"): False, ("mean", "keepdim"): False, ("cross_entropy", "reduction"): "mean"}
# Calls whose two positional arguments may come in either order.
SYMMETRIC_CALLS = {"transpose", "swapaxes", "swapdims", "maximum", "minimum", "min", "max"}
# Calls whose integer arguments are dims: a sign flip (+2 for -2) names the same dim on inputs of rank 4.
DIM_ARGUMENT_CALLS = {"transpose", "swapaxes", "swapdims", "size", "unsqueeze", "squeeze", "flatten", "movedim", "permute"}


def _call_name(node: ast.Call) -> str | None:
    return node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id if isinstance(node.func, ast.Name) else None


def _is_device(node: ast.expr) -> bool:
    """``x.device``, ``device``, ``None`` or ``"cpu"``: where ``.to(...)`` moves a tensor on this machine."""
    return ((isinstance(node, ast.Attribute) and node.attr == "device") or (isinstance(node, ast.Name) and node.id == "device")
            or (isinstance(node, ast.Constant) and node.value in (None, "cpu")))


def _at_default(function: str | None, keyword: ast.keyword) -> bool:
    if (function, keyword.arg) not in DEFAULT_KEYWORDS:
        return False
    try:
        value = ast.literal_eval(keyword.value)
    except ValueError:
        return False
    default = DEFAULT_KEYWORDS[(function, keyword.arg)]
    return value == default and type(value) is type(default)


class _ObservableCode(ast.NodeTransformer):
    """The AST without what no test here can observe: device arguments and moves, exception messages,
    keywords at their default, ``float("-inf")`` spelt otherwise, and the order of symmetric arguments."""

    def visit_Call(self, node: ast.Call):
        self.generic_visit(node)
        name = _call_name(node)
        node.keywords = [k for k in node.keywords if k.arg not in UNOBSERVABLE_KEYWORDS and not _at_default(name, k)]
        if name == "to" and isinstance(node.func, ast.Attribute) and len(node.args) == 1 and not node.keywords and _is_device(node.args[0]):
            return node.func.value
        if name == "float" and len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            try:
                return ast.Constant(float(node.args[0].value))
            except ValueError:
                return node
        if name in SYMMETRIC_CALLS and len(node.args) == 2 and not node.keywords:
            node.args = sorted(node.args, key=ast.dump)
        return node

    def visit_Raise(self, node: ast.Raise):
        if isinstance(node.exc, ast.Call):
            node.exc.args, node.exc.keywords = [], []
        return node


def observable_key(source: str) -> str | None:
    """A fingerprint of what the code does as far as tests can tell (None if it does not compile)."""
    try:
        tree = ast.parse(source)
        compile(tree, "<mutant>", "exec")
    except (SyntaxError, ValueError):
        return None
    return ast.dump(_ObservableCode().visit(tree), annotate_fields=False)


class _Sites(cst.CSTVisitor):
    """Every node in a solution region, with the enclosing function's inputs (parameters not yet reassigned)."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, regions: list[tuple[int, int]]):
        super().__init__()
        self.regions = regions
        self.sites: list[tuple[cst.CSTNode, int, frozenset[str]]] = []
        self._scopes: list[tuple[set[str], set[str]]] = []  # (parameters, names assigned so far)

    def _inside(self, node) -> int | None:
        position = self.get_metadata(PositionProvider, node)
        inside = any(first <= position.start.line and position.end.line <= last for first, last in self.regions)
        return position.start.line if inside else None

    def on_visit(self, node: cst.CSTNode) -> bool:
        if (line := self._inside(node)) is not None:
            inputs = frozenset(self._scopes[-1][0] - self._scopes[-1][1]) if self._scopes else frozenset()
            self.sites.append((node, line, inputs))
        if isinstance(node, cst.FunctionDef):
            params = {p.name.value for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)}
            self._scopes.append((params - {"self"}, set()))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, cst.FunctionDef):
            self._scopes.pop()
        elif self._scopes and isinstance(original_node, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
            targets = original_node.targets if isinstance(original_node, cst.Assign) else [original_node]
            for target in targets:
                self._scopes[-1][1].update(n.value for n in _names(target.target))


def _names(node: cst.CSTNode) -> list[cst.Name]:
    if isinstance(node, cst.Name):
        return [node]
    if isinstance(node, (cst.Tuple, cst.List)):
        return [n for element in node.elements for n in _names(element.value)]
    return []


def _all_operators():
    """(node type, name, operator): mutmut's first, then ours."""
    from mutmut.mutation.mutators import mutation_operators

    ours = [(kind, name, op) for kind, name, op in OPERATORS]
    theirs = [(kind, "mutmut:" + op.__name__.removeprefix("operator_"), op) for kind, op in mutation_operators]
    return theirs + ours


def _skipped_by_design(node: cst.CSTNode, name: str, dim_values: set[int]) -> bool:
    """mutmut's sign swap on a literal dim (``dim=-1`` -> ``dim=+1``, ``transpose(-2, -1)`` -> ``transpose(+2, -1)``)
    is skipped: on inputs of the right rank it names the same dim, and the dim operator already moves every literal dim."""
    return name == "mutmut:swap_op" and isinstance(node, cst.UnaryOperation) and id(node) in dim_values


def _dim_values(module: cst.Module) -> set[int]:
    """ids of literal dims in ``module``: values of ``dim=`` / ``axis=`` and arguments of dim-taking calls."""
    values: set[int] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Arg(self, node: cst.Arg) -> None:
            if node.keyword is not None and node.keyword.value in ("dim", "axis"):
                values.add(id(node.value))

        def visit_Call(self, node: cst.Call) -> None:
            name = node.func.attr.value if isinstance(node.func, cst.Attribute) else getattr(node.func, "value", None)
            if name in DIM_ARGUMENT_CALLS:
                values.update(id(a.value) for a in node.args if a.keyword is None)

    module.visit(Visitor())
    return values


def generate_mutants(cell: str, source: str) -> list[Mutant]:
    """Every distinct, compilable, observable mutant of the solution regions of ``source``.

    Raises ValueError with the cell's name if the cell is not plain Python (e.g. an IPython magic).
    """
    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
    except cst.ParserSyntaxError as exc:
        raise ValueError(f"graded cell {cell!r} is not plain Python, so it cannot be mutated: {exc.message}") from None
    module = wrapper.module
    sites = _Sites(solution_lines(source))
    wrapper.visit(sites)
    dim_values = _dim_values(module)
    original = observable_key(source)
    seen, mutants = {original}, []
    for node, line, inputs in sites.sites:
        for kind, name, operator in _all_operators():
            if not isinstance(node, kind) or _skipped_by_design(node, name, dim_values):
                continue
            produced = operator(node, inputs) if operator in TAKES_INPUTS else operator(node)
            for mutated in produced:
                code = module.deep_replace(node, mutated).code
                key = observable_key(code)
                if key is None or key in seen:
                    continue
                seen.add(key)
                digest = hashlib.sha1(key.encode()).hexdigest()[:8]
                mutants.append(Mutant(f"{cell}:{digest}", cell, name, _first_changed_line(source, code, line), code))
    return mutants


def _first_changed_line(original: str, mutated: str, fallback: int) -> int:
    for number, (a, b) in enumerate(zip(original.splitlines(), mutated.splitlines()), start=1):
        if a != b:
            return number
    return fallback
