"""Measuring copy detection: independent solutions must not be flagged, disguised copies must.

An assignment's measurement class has one student per file, each the solution notebook with one
graded cell replaced (:func:`vlcourse.grading.authoring.variants.replace_cell`) and tokenised as grading does:

* **independent** — the solution, every correct alternative in ``grader/NN/alternatives/`` (written
  independently: loops, vectorised, other library calls), and every known mistake and sample
  (``mistakes/``, ``samples/``: what the demo class holds). No pair of them is a copy.
* **hand-made copies** — ``grader/NN/copies/<case>__<who>.py``: files with the same ``<case>`` are
  one student's own solution and classmates' disguised copies of it (renamed variables, reordered
  independent lines and functions, changed comments, blank lines and dead statements).
* **automatic copies** — :func:`disguise` applied to every alternative and every hand-made
  original: every bound name renamed, adjacent independent assignments swapped, a dead statement
  after every second one, top-level functions reversed, comments and layout rewritten. Only cells
  with at least ``MIN_TOKENS`` tokens of their own get one (see :func:`build_corpus`).

An automatic copy joins its original's case. Every pair of students within a case is a copy pair;
every other pair is independent. A flagged independent pair is a false positive, an unflagged
copy pair a false negative.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from itertools import combinations

from vlcourse.grading.authoring.assignment import Assignment
from vlcourse.grading.integrity.similarity import FLAG_SCORE, MIN_TOKENS, Match, binds, find_matches, own_tokens
from vlcourse.grading.authoring.variants import Variant, read_variants, replace_cell

DEAD_STATEMENTS = ("debug = False", "_ = None", "print('checking shapes')", "checked = True")


# ---------------------------------------------------------------------------------------------
# The automatic disguise


class _Renamer(ast.NodeTransformer):
    """Renames the given names wherever they appear."""

    WORDS = ("tmp", "val", "res", "out", "arr", "buf", "acc", "cur", "nxt", "aux", "mat", "vec")

    def __init__(self, bound: set[str]):
        self.new = {name: f"{self.WORDS[i % len(self.WORDS)]}{i // len(self.WORDS) or ''}"
                    for i, name in enumerate(sorted(bound))}

    def visit_Name(self, node):
        node.id = self.new.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.new.get(node.arg, node.arg)
        return node

    def visit_FunctionDef(self, node):
        node.name = self.new.get(node.name, node.name)
        return self.generic_visit(node)


def _names(node: ast.AST, store: bool) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) == store}


def _independent(first: ast.stmt, second: ast.stmt) -> bool:
    """Two assignments that neither read nor write what the other writes (calls alone may have effects)."""
    simple = (ast.Assign, ast.AugAssign, ast.AnnAssign)
    if not (isinstance(first, simple) and isinstance(second, simple)):
        return False
    writes = [_names(s, store=True) for s in (first, second)]
    reads = [_names(s, store=False) for s in (first, second)]
    return not (writes[0] & (reads[1] | writes[1]) or writes[1] & reads[0])


def _shuffle_and_pad(body: list[ast.stmt], dead: list[ast.stmt]) -> list[ast.stmt]:
    """Swap adjacent independent statements; a dead statement after every second one."""
    body = list(body)
    i = 0
    while i + 1 < len(body):
        if _independent(body[i], body[i + 1]):
            body[i], body[i + 1] = body[i + 1], body[i]
            i += 1
        i += 1
    padded = []
    for i, statement in enumerate(body):
        padded.append(statement)
        if i % 2 == 1 and not isinstance(statement, (ast.Return, ast.Raise)):
            padded.append(dead[len(padded) % len(dead)])
    return padded


def disguise(source: str) -> str:
    """A classmate's copy of ``source`` made to look different; it computes the same thing."""
    tree = ast.parse(source)
    helpers = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("_")}
    variables = {n for node in ast.walk(tree) if isinstance(node, (ast.Name, ast.arg)) for n in binds(node)}
    bound = (variables | helpers) - {"self"}  # the notebook needs the other functions, methods, imports by name
    tree = _Renamer(bound).visit(tree)
    dead = [ast.parse(s).body[0] for s in DEAD_STATEMENTS]
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.For, ast.While, ast.If, ast.With)):
            node.body = _shuffle_and_pad(node.body, dead)
    if all(isinstance(n, ast.FunctionDef) for n in tree.body):
        tree.body.reverse()
    return "# worked this out myself\n" + "\n\n\n".join(ast.unparse(n) for n in tree.body) + "\n"


# ---------------------------------------------------------------------------------------------
# The class and its score


@dataclass
class Corpus:
    students: dict[str, dict[str, list[str]]]  # student -> graded cell -> tokens
    base: dict[str, list[list[str]]]  # graded cell -> starter and reference tokens
    copies: set[frozenset[str]]  # the true copy pairs
    automatic: set[frozenset[str]]  # those with an automatic copy in them
    second_hand: set[frozenset[str]] = field(default_factory=set)  # an automatic copy and a hand copy of one original


def _tokens(assignment: Assignment, variant: Variant, source: str | None = None) -> dict[str, list[str]]:
    from vlcourse.grading.classroom import notebook_prints

    nb = replace_cell(assignment.solution_notebook, variant.cell, source or variant.source)
    return notebook_prints(nb, assignment.graded_cells())


def build_corpus(assignment: Assignment) -> Corpus:
    """The measurement class of ``assignment`` (see the module docstring).

    Automatic copies are made only of cells with at least ``MIN_TOKENS`` tokens of the student's own
    (beyond the reference and starter code), in the original and in its disguised copy: copying a one-line answer leaves nothing to detect,
    and such a copy would be neither a fair copy pair nor a fair independent one.
    """
    from vlcourse.grading.classroom import notebook_prints

    cells = assignment.graded_cells()
    solution = notebook_prints(assignment.solution_notebook, cells)
    blank = notebook_prints(assignment.exercise_notebook, cells)
    corpus = Corpus({"solution": solution}, {c: [solution[c], blank[c]] for c in cells}, set(), set())
    cases: dict[str, list[str]] = {}  # students who copied from one another
    for prefix, folder in (("alt_", assignment.alternatives_dir), ("copy_", assignment.grader_dir / "copies")):
        for variant in read_variants(folder):
            name = prefix + variant.name
            corpus.students[name] = _tokens(assignment, variant)
            cases.setdefault(name.split("__")[0], []).append(name)
            if prefix == "alt_" or name.endswith("__original"):
                copy = _tokens(assignment, variant, disguise(variant.source))
                own = [own_tokens(prints[variant.cell], corpus.base[variant.cell]) for prints in (copy, corpus.students[name])]
                if min(own) >= MIN_TOKENS:  # both sides: the disguise's padding alone is no evidence
                    corpus.students[f"auto_{variant.name}"] = copy
                    cases[name.split("__")[0]].append(f"auto_{variant.name}")
    for folder in (assignment.mistakes_dir, assignment.samples_dir):  # the demo class
        corpus.students |= {f"demo_{v.name}": _tokens(assignment, v) for v in read_variants(folder)}
    pairs = {frozenset(p) for names in cases.values() for p in combinations(names, 2)}
    # Two disguises of a third student's cell, made independently of each other, are related but
    # neither a direct copy nor independent work: they are left out of precision and recall.
    corpus.second_hand = {p for p in pairs if any(n.startswith("auto_") for n in p) and any(n.endswith("__copy") for n in p)}
    corpus.copies = pairs - corpus.second_hand
    corpus.automatic = {p for p in corpus.copies if any(n.startswith("auto_") for n in p)}
    return corpus


@dataclass
class CopyDetectionScore:
    """Every pair of the measurement class with enough evidence, scored, against the truth."""

    assignment: str
    students: int
    copies: set[frozenset[str]]
    automatic: set[frozenset[str]]
    scored: list[Match]  # every pair with at least MIN_TOKENS of evidence, flagged or not
    second_hand: set[frozenset[str]] = field(default_factory=set)  # related pairs, neither copy nor independent

    def is_copy(self, match: Match) -> bool:
        return frozenset((match.a, match.b)) in self.copies

    @property
    def pairs(self) -> int:
        return self.students * (self.students - 1) // 2

    @property
    def copy_pairs(self) -> int:
        return len(self.copies)

    @property
    def automatic_pairs(self) -> int:
        return len(self.automatic)

    @property
    def flagged(self) -> list[Match]:
        return [m for m in self.scored if m.score >= FLAG_SCORE]

    @property
    def false_positives(self) -> list[Match]:
        return [m for m in self.flagged if not self.is_copy(m) and frozenset((m.a, m.b)) not in self.second_hand]

    @property
    def missed(self) -> list[tuple[str, str]]:
        found = {frozenset((m.a, m.b)) for m in self.flagged}
        return sorted(tuple(sorted(p)) for p in self.copies - found)

    @property
    def weakest_copy(self) -> float:
        """The lowest score of a copy pair (0 for one without enough evidence)."""
        score = {frozenset((m.a, m.b)): m.score for m in self.scored}
        return min((score.get(p, 0.0) for p in self.copies), default=0.0)

    @property
    def strongest_independent(self) -> float:
        return max((m.score for m in self.scored if not self.is_copy(m)), default=0.0)

    @property
    def precision(self) -> float:
        flagged = [m for m in self.flagged if frozenset((m.a, m.b)) not in self.second_hand]
        return (len(flagged) - len(self.false_positives)) / len(flagged) if flagged else 1.0

    @property
    def recall(self) -> float:
        return 1 - len(self.missed) / self.copy_pairs if self.copies else 1.0


def measure(assignment: Assignment) -> CopyDetectionScore:
    """Every pair of the measurement class of ``assignment`` scored, against the truth."""
    corpus = build_corpus(assignment)
    scored = find_matches(corpus.students, corpus.base, threshold=0.0)
    return CopyDetectionScore(assignment.name, len(corpus.students), corpus.copies, corpus.automatic, scored,
                              corpus.second_hand)
