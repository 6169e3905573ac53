"""Copy detection: classmates whose graded cells share long runs of the same code, scored and ranked.

Learned from MOSS (Schleimer, Wilkerson & Aiken, "Winnowing", SIGMOD 2003) and JPlag:

* **Tokens, not text.** Each graded cell is tokenised with Python's ``tokenize``; comments,
  blank lines and layout vanish, every name a student chooses becomes ``N`` (the names the cell
  must define, keywords and attribute names such as ``masked_fill`` stay: they are the method, not
  the style), strings become ``S`` and numbers ``0``.
* **Minimum match length.** Runs of ``K`` tokens are hashed, and winnowing keeps the smallest hash
  of every window of ``WINDOW`` runs: two cells share a fingerprint only where they share at least
  ``K`` consecutive tokens, and any shared run of ``K + WINDOW - 1`` tokens is sure to be caught.
  Independent lines that were reordered still share the runs inside each line.
* **Base code subtracted.** Fingerprints of the released starter cell and of the reference
  solution are removed first. Short cells have few correct ways to be written, so matching the
  reference is expected, not suspicious: what counts is what two students share *beyond* it.
* **A score, not equal/not-equal.** For a pair of students, the score is the shared fingerprints
  over the smaller side's, summed over graded cells; pairs at ``FLAG_SCORE`` or above with at least
  ``MIN_SHARED`` shared fingerprints are flagged, grouped with their classmates and ranked.

A flag asks for a human look; it never changes a score. ``benchmarks/copy_detection`` measures
precision and recall on independent correct solutions and disguised copies.
"""

from __future__ import annotations

import ast
import hashlib
import io
import keyword
import token
import tokenize
from dataclasses import dataclass
from itertools import combinations

# Chosen on the corpus of benchmarks/copy_detection (independent correct solutions share at most
# 0.48 of their fingerprints and 10 of them; disguised copies at least 0.57 and 17).
K = 12  # tokens per hashed run: the minimum match length
WINDOW = 6  # winnowing window, in runs
FLAG_SCORE = 0.5  # share of the smaller side's remaining fingerprints two students must share
MIN_SHARED = 12  # and at least this many fingerprints


def normalised_tokens(source: str, keep: set[str] = frozenset()) -> list[str]:
    """The cell as a token sequence with the student's own choices (names, literals, layout) erased."""
    tokens, previous = [], ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            if tok.type == token.NAME:
                text = tok.string if keyword.iskeyword(tok.string) or tok.string in keep or previous == "." else "N"
            elif tok.type == token.STRING:
                text = "S"
            elif tok.type == token.NUMBER:
                text = "0"
            elif tok.type in (token.NEWLINE, token.INDENT, token.DEDENT):
                text = token.tok_name[tok.type]
            else:
                text = tok.string
            tokens.append(text)
            previous = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    return tokens


def winnow(tokens: list[str]) -> list[int]:
    """MOSS's winnowing: the smallest hash of each window of ``WINDOW`` consecutive ``K``-token runs."""
    hashes = [int.from_bytes(hashlib.blake2b(" ".join(tokens[i:i + K]).encode(), digest_size=6).digest(), "big")
              for i in range(len(tokens) - K + 1)]
    if len(hashes) < WINDOW:
        return sorted(set(hashes))
    return sorted({min(hashes[i:i + WINDOW]) for i in range(len(hashes) - WINDOW + 1)})


def fingerprint(source: str, keep: set[str] = frozenset()) -> list[int]:
    """The fingerprints of one cell (plain JSON: they are saved with each student's result)."""
    return winnow(normalised_tokens(source, keep))


def defined_names(source: str) -> set[str]:
    """Top-level function and class names a cell defines (kept when normalising)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def cell_fingerprint(source: str) -> list[int]:
    return fingerprint(source, defined_names(source))


@dataclass
class Match:
    """Two students whose graded cells share code beyond the base code."""

    a: str
    b: str
    score: float  # shared fingerprints over the smaller side's, over all graded cells
    cells: list[str]  # the cells where they share at least one fingerprint

    def describe(self, student: str) -> str:
        other = self.b if student == self.a else self.a
        return f"{self.score:.0%} similar to {other} ({', '.join(self.cells)})"


def pair_score(a: dict[str, set[int]], b: dict[str, set[int]]) -> tuple[float, int, list[str]]:
    shared = smaller = 0
    cells = []
    for cell in sorted(set(a) & set(b)):
        common = len(a[cell] & b[cell])
        shared += common
        smaller += min(len(a[cell]), len(b[cell]))
        if common:
            cells.append(cell)
    return (shared / smaller if smaller else 0.0), shared, cells


def find_matches(students: dict[str, dict[str, list[int]]], base: dict[str, list[int]]) -> list[Match]:
    """Flagged pairs, highest score first.

    Args:
        students: student -> {graded cell -> fingerprints}.
        base: graded cell -> fingerprints everyone may share (starter code and reference solution).
    """
    own = {s: {c: set(p or []) - set(base.get(c, [])) for c, p in prints.items()} for s, prints in students.items()}
    matches = []
    for a, b in combinations(sorted(own), 2):
        score, shared, cells = pair_score(own[a], own[b])
        if score >= FLAG_SCORE and shared >= MIN_SHARED:
            matches.append(Match(a, b, round(score, 3), cells))
    return sorted(matches, key=lambda m: (-m.score, m.a, m.b))


def groups(matches: list[Match]) -> list[list[str]]:
    """Classmates linked by flagged pairs (connected components), the strongest group first."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for match in matches:  # sorted by score: the first match of a group is its strongest
        parent[root(match.a)] = root(match.b)
    members: dict[str, list[str]] = {}
    for match in matches:
        for student in (match.a, match.b):
            group = members.setdefault(root(student), [])
            if student not in group:
                group.append(student)
    return list(members.values())
