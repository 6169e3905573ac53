"""Chain-of-thought prompts, reading the final answer, and self-consistency (assignment 06; withheld while grading).

Wei et al. (2022, "Chain-of-Thought Prompting Elicits Reasoning in Large Language Models") show a
model worked examples whose answers spell out the intermediate steps; the model then writes steps
too, and on multi-step problems gets the answer right more often. Kojima et al. (2022, "Large
Language Models are Zero-Shot Reasoners") get chains with no examples at all, from the words "Let's
think step by step". Wang et al. (2023, "Self-Consistency Improves Chain of Thought Reasoning")
sample several chains at a temperature above zero and take the most common *final answer*.

icl-tiny writes a chain after a colon (``3*4*2*5: 3*4=12, 12*2=24, 24*5=120``) and answers at once
after an equals sign (``3*4*2*5=120``); both are few-shot prompts in the sense of
:func:`~vlcourse.icl.prompting.build_few_shot_prompt`, with the templates below.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from vlcourse.icl.prompting import build_few_shot_prompt

__all__ = ["COT_TEMPLATE", "DIRECT_TEMPLATE", "COT_MAX_TOKENS", "SC_TEMPERATURE", "cot_prompt",
           "extract_final_answer", "self_consistency"]

COT_TEMPLATE = "{input}: {label}"  # the label is the worked chain
DIRECT_TEMPLATE = "{input}={label}"  # the label is the answer
COT_MAX_TOKENS = 40
SC_TEMPERATURE = 0.7


def cot_prompt(question: str, demos: Sequence[Sequence[str]] = ()) -> str:
    """A chain-of-thought prompt: ``build_few_shot_prompt(demos, question, COT_TEMPLATE)``.

    Example: ``cot_prompt("2*3*4*2", [("3*4*2*5", "3*4=12, 12*2=24, 24*5=120")])`` is
    ``"3*4*2*5: 3*4=12, 12*2=24, 24*5=120\\n2*3*4*2:"``; with no demos, ``"2*3*4*2:"``.

    Args:
        question: the problem, e.g. ``"2*3*4*2"``.
        demos: worked examples ``(question, chain)``, in order.
    """
    return build_few_shot_prompt(demos, question, COT_TEMPLATE)


def extract_final_answer(text: str) -> int | None:
    """The **last** integer in ``text`` (a chain ends with its answer), ``None`` if there is none.

    An integer is a run of digits, negative when a minus sign directly precedes it and does not
    itself follow a digit (``"-7"`` and ``"is -7"`` are -7; in ``"9-2"`` the last integer is 2).
    No thousands separators, no decimals (``"3.5"`` ends with the integer 5).

    Examples: ``" 3*4=12, 12*2=24, 24*5=120"`` -> 120; ``"The answer is 42."`` -> 42; ``"none"`` -> None.
    """
    numbers = re.findall(r"(?<!\d)-?\d+", text)
    return int(numbers[-1]) if numbers else None


def self_consistency(client, question: str, n: int, model: str = "icl-tiny", demos: Sequence[Sequence[str]] = (),
                     temperature: float = SC_TEMPERATURE) -> int | None:
    """Majority vote over the final answers of ``n`` sampled chains of thought (Wang et al. 2023).

    Samples ``n`` completions of ``cot_prompt(question, demos)`` at ``temperature`` with
    ``max_tokens=COT_MAX_TOKENS`` and ``stop=["\\n"]`` (one request with ``n=n`` or ``n`` requests),
    takes :func:`extract_final_answer` of each, drops the ``None`` ones, and returns the most common
    answer; on a tie, the one that came first. ``None`` if no chain has an answer.

    Args:
        client: an ``openai.OpenAI`` client.
        question: the problem, e.g. ``"3*4*2*5"``.
        n: chains to sample (>= 1).
        model: the model to ask.
        demos: worked examples for :func:`cot_prompt`.
        temperature: the sampling temperature (> 0, else every chain is the same).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    reply = client.completions.create(model=model, prompt=cot_prompt(question, demos), n=n, temperature=temperature,
                                      max_tokens=COT_MAX_TOKENS, stop=["\n"])
    answers = [extract_final_answer(c.text) for c in sorted(reply.choices, key=lambda c: c.index)]
    votes = Counter(a for a in answers if a is not None)  # counts in first-seen order: ties keep it
    return votes.most_common(1)[0][0] if votes else None
