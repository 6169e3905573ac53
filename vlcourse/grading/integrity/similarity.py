"""Copy detection: classmates whose graded cells share long runs of the same code, scored and ranked.

Learned from JPlag (Prechelt, Malpohl & Philippsen 2002) and MOSS (Schleimer, Wilkerson & Aiken,
"Winnowing", SIGMOD 2003):

* **Tokens, not text.** Each graded cell becomes a token sequence (:func:`normalised_tokens`):
  comments, docstrings, blank lines and layout vanish; every name the cell *binds* (parameters,
  variables, helpers, loop targets) becomes ``N0``, ``N1``, ... numbered by first appearance
  within its statement (so ``x = x / n`` and ``y = x / n`` differ, whatever the names are), while
  free names (``torch``, ``F``, ``range``), attribute names (``masked_fill``) and keyword-argument
  names (``dim=``) stay: they are the method, not the style. Strings become ``S`` and numbers ``0``.
  Renaming, recommenting, reformatting and reordering statements therefore change no statement's
  tokens. Grading stores this sequence per cell (plain JSON, so it survives a resumed run, and the
  parameters below can change without regrading).
* **Minimum match length.** Two cells match only where they share a run of at least ``MIN_MATCH``
  consecutive tokens, wherever it lies in either cell (JPlag's minimum match length; order does
  not matter, so reordered lines and functions still match line by line). A cell's score is the
  share of its tokens that lie in such shared runs. Cells are a few hundred tokens, so every run is
  kept rather than MOSS's winnowed sample, which makes the coverage exact; hashed runs give what
  JPlag's greedy string tiling would (without its one-to-one pairing of tiles) in linear time.
* **Base code subtracted.** Tokens in runs shared with the released starter cell or with the
  reference solution are not the student's own and count for nothing (JPlag's base code). Short
  cells have few correct ways to be written, so matching the reference is expected, not
  suspicious; two students who both match the reference are not flagged, since the reference
  gives a TA nothing to tell a leak from an honest short answer. What counts is what two students
  share *beyond* it.
* **A score, not equal/not-equal.** For a pair of classmates, each graded cell gets
  ``(matched tokens of both) / (own tokens of both)`` (JPlag's average similarity), and so does
  the whole submission (summed over graded cells). A pair is flagged when the whole submission or
  one cell reaches ``FLAG_SCORE`` with at least ``MIN_TOKENS`` matched tokens behind it; pairs are
  ranked by that score and linked into groups of classmates (:func:`groups`).

A flag asks for a human look; it never changes a score. ``benchmarks/copy_detection`` measures
precision and recall on independently written correct solutions and disguised copies, and the
thresholds below come from it.
"""

from __future__ import annotations

import ast
import io
import keyword
import re
import token
import tokenize
from dataclasses import dataclass, field
from itertools import combinations

# Chosen on benchmarks/copy_detection (see its README for the margins): disguised copies score
# 0.80 or more, independent correct solutions 0.67 or less; pairs of known mistakes (each a small
# edit of the reference) share at most 23 matched tokens of their own, copies at least 34.
MIN_MATCH = 8  # tokens: the shortest run two cells must share to count (about one statement)
FLAG_SCORE = 0.75  # share of their own tokens two students must have in shared runs
MIN_TOKENS = 30  # matched own tokens per student behind a flag: a few statements, not one or two


_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_LAYOUT = {token.NEWLINE: "NEWLINE", token.INDENT: "INDENT", token.DEDENT: "DEDENT"}


# ---------------------------------------------------------------------------------------------
# A cell as tokens


@dataclass
class _Syntax:
    """What the token pass needs from the parse tree: bound names and where to keep or skip tokens."""

    bound: set[str] | None  # names the cell binds; None when it does not parse (every name is renamed)
    keywords: set[tuple[int, int]] = field(default_factory=set)  # where keyword-argument names start
    strings: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)  # bare string statements

    @classmethod
    def of(cls, source: str) -> _Syntax:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return cls(None)
        syntax = cls(set())
        for node in ast.walk(tree):
            syntax.bound.update(binds(node))
            if isinstance(node, ast.keyword) and node.arg:
                syntax.keywords.add((node.lineno, node.col_offset))
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                syntax.strings.append(((node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)))
        return syntax

    def in_string_statement(self, start: tuple[int, int]) -> bool:
        return any(begin <= start < end for begin, end in self.strings)


def binds(node: ast.AST) -> list[str]:
    """The names one syntax node binds in the cell's own code."""
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        return [node.id]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.alias):
        return [(node.asname or node.name).split(".")[0]]
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    return []


def normalised_tokens(source: str) -> list[str]:
    """The cell as a token sequence with the student's own choices (names, literals, comments, layout) erased.

    Returns [] for text that Python cannot even tokenise.
    """
    syntax = _Syntax.of(source)
    tokens: list[str] = []
    previous = ""
    line: dict[str, int] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in _SKIPPED or syntax.in_string_statement(tok.start):
                continue
            text = _normal_form(tok, previous, syntax)
            if text == "N":
                text = f"N{line.setdefault(tok.string, len(line))}"  # numbered within the statement
            elif text == "NEWLINE":
                line = {}
            if not (text == "NEWLINE" and (not tokens or tokens[-1] in _LAYOUT.values())):
                tokens.append(text)  # (a dropped docstring leaves its NEWLINE behind: skipped)
            previous = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    return tokens


def _normal_form(tok: tokenize.TokenInfo, previous: str, syntax: _Syntax) -> str:
    if tok.type == token.NAME:
        kept = (keyword.iskeyword(tok.string) or previous == "." or tok.start in syntax.keywords
                or (syntax.bound is not None and tok.string not in syntax.bound))
        return tok.string if kept else "N"
    if tok.type == token.STRING or token.tok_name[tok.type] == "FSTRING_START":
        return "S"
    if tok.type == token.NUMBER:
        return "0"
    return _LAYOUT.get(tok.type, tok.string)


# ---------------------------------------------------------------------------------------------
# Comparing cells


def runs(tokens: list[str]) -> list[int]:
    """The hash of the run of ``MIN_MATCH`` tokens that starts at each position."""
    return [hash(tuple(tokens[i:i + MIN_MATCH])) for i in range(len(tokens) - MIN_MATCH + 1)]


def covered(starts: list[int], wanted: set[int], length: int) -> list[bool]:
    """Which of ``length`` tokens lie in at least one run whose hash is in ``wanted``."""
    marks, end = [False] * length, 0
    for i, h in enumerate(starts):
        if h in wanted:
            for j in range(max(i, end), i + MIN_MATCH):
                marks[j] = True
            end = i + MIN_MATCH
    return marks


@dataclass
class CellCode:
    """One student's graded cell, prepared for comparison with classmates."""

    starts: list[int]  # run hash at each position
    own: list[bool]  # tokens not in a run shared with the base code
    own_runs: set[int]  # run hashes that are not base code

    @classmethod
    def of(cls, tokens: list[str], base_runs: set[int]) -> CellCode:
        starts = runs(tokens)
        base = covered(starts, base_runs, len(tokens))
        return cls(starts, [not b for b in base], set(starts) - base_runs)

    @property
    def size(self) -> int:
        return sum(self.own)

    def matched(self, shared: set[int]) -> int:
        """Own tokens that lie in a run from ``shared``."""
        return sum(o and m for o, m in zip(self.own, covered(self.starts, shared, len(self.own))))


def own_tokens(tokens: list[str], base: list[list[str]]) -> int:
    """How many of a cell's tokens are the student's own, not in a run shared with the base code."""
    return CellCode.of(tokens, set().union(*map(runs, base))).size


@dataclass
class Overlap:
    """Matched and own tokens of a pair of students, over one cell or several."""

    matched: int = 0  # of both students together
    own: int = 0

    @property
    def score(self) -> float:
        return self.matched / self.own if self.own else 0.0

    @property
    def evidence(self) -> float:
        return self.matched / 2  # tokens per student

    def __add__(self, other: Overlap) -> Overlap:
        return Overlap(self.matched + other.matched, self.own + other.own)


def overlap(a: CellCode, b: CellCode) -> Overlap:
    shared = a.own_runs & b.own_runs
    matched = a.matched(shared) + b.matched(shared) if shared else 0
    return Overlap(matched, a.size + b.size)


# ---------------------------------------------------------------------------------------------
# Flagged pairs and groups

_FLAG = re.compile(r"^(\d+)% similar to (.+) \(([^()]*)\)$")


@dataclass
class Match:
    """Two classmates whose graded cells share code beyond the base code."""

    a: str
    b: str
    score: float  # the best of the whole submission's and the cells' scores that have enough evidence
    whole: float  # over every graded cell
    cells: dict[str, float]  # cell -> score, for cells with shared runs, highest first

    def detail(self) -> str:
        cells = ", ".join(f"{cell} {score:.0%}" for cell, score in self.cells.items())
        return f"{cells}; whole submission {self.whole:.0%}"

    def describe(self, student: str) -> str:
        """The flag ``student`` gets (:func:`parse_flag` reads it back)."""
        other = self.b if student == self.a else self.a
        return f"{self.score:.0%} similar to {other} ({self.detail()})"


def parse_flag(flag: str) -> tuple[float, str, str] | None:
    """(score, classmate, detail) from a pair flag written by :meth:`Match.describe`; None for other flags."""
    found = _FLAG.match(flag)
    return (int(found[1]) / 100, found[2], found[3]) if found else None


def pair_match(a: str, b: str, cells_a: dict[str, CellCode], cells_b: dict[str, CellCode],
               threshold: float = FLAG_SCORE) -> Match | None:
    """The match of two students, or None when it is below ``threshold`` or has too little evidence."""
    per_cell = {cell: overlap(cells_a[cell], cells_b[cell]) for cell in sorted(set(cells_a) & set(cells_b))}
    whole = sum(per_cell.values(), Overlap())
    candidates = [o.score for o in (whole, *per_cell.values()) if o.evidence >= MIN_TOKENS]
    score = max(candidates, default=0.0)
    if not candidates or score < threshold:
        return None
    shown = sorted(((c, round(o.score, 3)) for c, o in per_cell.items() if o.matched), key=lambda x: -x[1])
    return Match(a, b, round(score, 3), round(whole.score, 3), dict(shown))


def usable(tokens) -> list[str]:
    """A stored token sequence, or [] for what older versions stored (hashes) or nothing."""
    return tokens if isinstance(tokens, list) and all(isinstance(t, str) for t in tokens) else []


def find_matches(students: dict[str, dict[str, list[str]]], base: dict[str, list[list[str]]],
                 threshold: float = FLAG_SCORE) -> list[Match]:
    """Flagged pairs, highest score first.

    Args:
        students: student -> {graded cell -> normalised tokens (:func:`normalised_tokens`)}.
        base: graded cell -> token sequences everyone may share (the starter cell, the reference solution).
        threshold: the lowest score flagged (measurements pass 0 to see every pair with enough evidence).
    """
    base_runs = {cell: set().union(*map(runs, sequences)) for cell, sequences in base.items()}
    prepared = {s: {c: CellCode.of(usable(t), base_runs.get(c, set())) for c, t in cells.items()}
                for s, cells in students.items()}
    matches = [m for a, b in combinations(sorted(prepared), 2) if (m := pair_match(a, b, prepared[a], prepared[b], threshold))]
    return sorted(matches, key=lambda m: (-m.score, m.a, m.b))


def groups(matches: list[Match]) -> list[list[str]]:
    """Classmates linked by flagged pairs (connected components), the group of the strongest pair first."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for match in matches:
        parent[root(match.a)] = root(match.b)
    members: dict[str, list[str]] = {}
    for match in matches:  # sorted by score: groups and their members appear strongest first
        for student in (match.a, match.b):
            group = members.setdefault(root(student), [])
            if student not in group:
                group.append(student)
    return list(members.values())


def class_flags(students: dict[str, dict[str, list[str]]], base: dict[str, list[list[str]]]) -> dict[str, list[str]]:
    """Student -> flags: one per flagged classmate, strongest first, then the group when more than two are linked."""
    matches = find_matches(students, base)
    flags: dict[str, list[str]] = {s: [] for s in students}
    for match in matches:
        for student in (match.a, match.b):
            flags[student].append(match.describe(student))
    for group in groups(matches):
        if len(group) > 2:
            for student in group:
                flags[student].append(f"one of {len(group)} students linked by similar code: {', '.join(sorted(group))}")
    return flags


def ranked_pairs(flags: dict[str, list[str]]) -> list[tuple[float, str, str, str]]:
    """Each flagged pair once, (score, student, classmate, detail), strongest first (for summaries)."""
    pairs = {}
    for student, lines in flags.items():
        for score, other, detail in filter(None, map(parse_flag, lines)):
            pairs.setdefault(frozenset((student, other)), (score, *sorted((student, other)), detail))
    return sorted(pairs.values(), key=lambda p: (-p[0], p[1], p[2]))


SHOWN_PAIRS = 10  # in the terminal summary; grades.csv and the class report have them all


def summary_lines(flags: dict[str, list[str]]) -> list[str]:
    """The terminal summary's copy-detection section: the strongest pairs, then the linked groups."""
    pairs = ranked_pairs(flags)
    if not pairs:
        return []
    lines = [f"Similar code: {len(pairs)} pair{'s' * (len(pairs) > 1)} of classmates, strongest first "
             "(compare the cells by hand; a flag never changes a score):"]
    lines += [f"  {score:4.0%}  {a} ~ {b}: {detail}" for score, a, b, detail in pairs[:SHOWN_PAIRS]]
    if len(pairs) > SHOWN_PAIRS:
        lines.append(f"  ... and {len(pairs) - SHOWN_PAIRS} more in grades.csv (review column) and report.html")
    linked = dict.fromkeys(f for _, a, b, _ in pairs for f in flags[a] + flags[b] if parse_flag(f) is None)
    return lines + [f"  {line}" for line in linked]
