"""Few-shot prompts and reading a label out of a completion (students write these in assignment 06; withheld while grading).

Brown et al. (2020, "Language Models are Few-Shot Learners") give a language model a task *in its
context*: k solved examples, then the query, and read the answer off the model's continuation, with
no weight updated. The format of those examples is most of what the model gets: Min et al. (2022,
"Rethinking the Role of Demonstrations") find that the separator, the template and the label space
matter more than whether the examples' labels are right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["build_few_shot_prompt", "parse_answer"]


def build_few_shot_prompt(examples: Sequence[Sequence[str]], query: str, template: str) -> str:
    """The k-shot prompt: each example filled into ``template``, a newline after each, then the query.

    Every example ``(x, y)`` becomes ``template.format(input=x, label=y)`` followed by ``"\\n"`` (the
    separator), in the given order; the query is ``template.format(input=query, label="")`` with
    trailing whitespace removed, so that the model's next token is the label. With
    ``template = "{input} -> {label}"``::

        build_few_shot_prompt([("red circle", "dax"), ("blue star", "wug")], "red star", template)
        == "red circle -> dax\\nblue star -> wug\\nred star ->"

    Args:
        examples: k pairs ``(input, label)`` of strings (k may be 0); not modified.
        query: the input to be labelled.
        template: a format string with the fields ``{input}`` and ``{label}``.

    Returns:
        The prompt string (no trailing newline or space).
    """
    lines = [template.format(input=x, label=y) + "\n" for x, y in examples]
    return "".join(lines) + template.format(input=query, label="").rstrip()


def parse_answer(text: str, labels: Sequence[str]) -> str | None:
    """The label a completion names: of the ``labels`` that occur in ``text`` as whole words
    (case-insensitively), the one that occurs first; ``None`` if none does.

    A whole word is not part of a longer run of letters or digits (``"wug."`` and ``"**Wug**"`` name
    ``wug``; ``"wugs"`` and ``"tomato"`` name neither ``wug`` nor ``toma``). When two labels start at
    the same place (``"red"`` and ``"red circle"``), the longer one wins. The label is returned as
    spelt in ``labels``.

    Args:
        text: a model's completion, e.g. ``" Dax\\n"`` or ``"The answer is: blicket."``.
        labels: the label set (non-empty strings).

    Returns:
        One of ``labels``, or ``None``.
    """
    best: tuple[int, int, str] | None = None  # (start, -length, label): the smallest wins
    for label in labels:
        match = re.search(rf"(?<![^\W_]){re.escape(label)}(?![^\W_])", text, flags=re.IGNORECASE)
        if match is not None:
            key = (match.start(), -len(label), label)
            best = key if best is None or key[:2] < best[:2] else best
    return None if best is None else best[2]
