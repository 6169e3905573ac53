"""Three in-context learning effects, measured through the OpenAI API.

1. Accuracy rises with the number of examples in the prompt (0, 1, 2, 4, 8 shots).
2. The model follows the labels it is shown: flipped labels (``red circle -> blue``) and nonsense
   labels (``red circle -> dax``) are learnt from the prompt, against what the words mean.
3. On multi-step products never seen in training, writing out a chain of thought beats answering directly.

The prompts come from :mod:`vlcourse.icl.episodes` (the same generator the ``icl-tiny`` model was
trained on, with fresh random tasks). Everything goes through the official ``openai`` client via
:mod:`vlcourse.llm`, so the script runs unchanged against any OpenAI-compatible endpoint with a
completions API::

    python examples/icl_effects.py                       # the local endpoint (vlcourse serve), icl-tiny
    OPENAI_BASE_URL=http://localhost:8000/v1 VLCOURSE_LLM_MODEL=icl-tiny python examples/icl_effects.py
    OPENAI_API_KEY=sk-... VLCOURSE_LLM_MODEL=gpt-3.5-turbo-instruct python examples/icl_effects.py --n 20

Note that a real provider's model meets these made-up formats cold: it shows effects 1 and 2 in its
own way, and effect 3 only with demonstrations of the chain format (``--arith-shots``).
"""

from __future__ import annotations

import argparse
import random

from vlcourse.icl.episodes import (ATTRIBUTES, LABEL_KINDS, Task, arithmetic_line, arithmetic_prompt, digit_tuples,
                                   few_shot_prompt, final_number, product, random_task)
from vlcourse.llm import LLM

SHOTS = (0, 1, 2, 4, 8)


def answers(llm: LLM, prompts: list[str], max_tokens: int) -> list[str]:
    """Greedy completions up to the end of the line, sent concurrently (cached on disk)."""
    replies = llm.batch_complete(prompts, max_tokens=max_tokens, temperature=0, stop=["\n"], concurrency=8, progress=False)
    return [r.choices[0].text for r in replies]


def label_effects(llm: LLM, n: int, seed: int) -> dict:
    """Accuracy per label kind and shot count; for flipped labels also how often the real name came back."""
    table = {}
    for kind in LABEL_KINDS:
        rng = random.Random(seed + LABEL_KINDS.index(kind))
        tasks = [random_task(rng, kind) for _ in range(n)]
        for shots in SHOTS:
            pairs = [few_shot_prompt(task, shots, rng) for task in tasks]
            got = [a.strip().split(" ")[0] if a.strip() else "" for a in answers(llm, [p for p, _ in pairs], 3)]
            real = [Task(t.attribute, "real", ATTRIBUTES[t.attribute]).label(tuple(p.split("\n")[-1][:-3].split(" ")))
                    for t, (p, _) in zip(tasks, pairs)]
            table[(kind, shots)] = (sum(g == a for g, (_, a) in zip(got, pairs)) / n,
                                    sum(g == r for g, r in zip(got, real)) / n)
    return table


def arithmetic_effect(llm: LLM, n: int, seed: int, shots: int) -> dict:
    """Accuracy on held-out products of four digits answered directly and with a chain of thought."""
    rng = random.Random(seed)
    problems = rng.sample(digit_tuples("heldout"), n)
    demos = rng.sample(digit_tuples("train"), shots)
    result = {}
    for cot in (False, True):
        prefix = "".join(text for d in demos for text, _ in arithmetic_line(d, cot))
        got = answers(llm, [prefix + arithmetic_prompt(d, cot) for d in problems], 40 if cot else 4)
        result["chain of thought" if cot else "direct"] = sum(final_number(g) == product(d) for g, d in zip(got, problems)) / n
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="prompts per measured point")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--arith-shots", type=int, default=0, help="worked examples before each problem")
    args = parser.parse_args(argv)
    llm = LLM()
    print(f"model {llm.model} at {llm.config.base_url or 'the local endpoint'}; {args.n} prompts per point\n")
    table = label_effects(llm, args.n, args.seed)
    print("1-2. label accuracy by shots (and, for flipped labels, how often the real name was answered)")
    print("labels      " + "".join(f"{k:>8}" for k in SHOTS))
    for kind in LABEL_KINDS:
        print(f"{kind:<12}" + "".join(f"{table[(kind, k)][0]:>8.2f}" for k in SHOTS))
    print(f"{'(real name)':<12}" + "".join(f"{table[('flipped', k)][1]:>8.2f}" for k in SHOTS))
    arithmetic = arithmetic_effect(llm, args.n, args.seed, args.arith_shots)
    print("\n3. held-out products of four digits: " + ", ".join(f"{k} {v:.2f}" for k, v in arithmetic.items()))
    print(f"\n{llm.usage.summary()}")


if __name__ == "__main__":
    main()
