"""k-shot accuracy through an OpenAI-compatible API, by generation or by scoring the label set (assignment 06; withheld while grading).

Two ways to read a model's answer to a few-shot prompt (Brown et al. 2020, §2.4):

* **generation**: let the model continue greedily (temperature 0) up to the end of the line and
  find a label in what it wrote (:func:`~vlcourse.icl.prompting.parse_answer`); works with any
  endpoint, chat models included, but an answer outside the label set counts as wrong;
* **scoring**: ask for the log-probability of each label *as a continuation of the same prompt*
  (``echo`` with ``logprobs``, no new tokens) and take the most likely; the answer is always in the
  label set. It needs a completions endpoint that echoes log-probabilities (ours, vLLM, llama.cpp).

``client`` is an ``openai.OpenAI`` instance (:func:`vlcourse.llm.make_client`, or one made by hand
for any provider) and ``model`` the model's name at that endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

from vlcourse.icl.prompting import build_few_shot_prompt, parse_answer

__all__ = ["score_labels", "evaluate_icl", "TEMPLATE", "LABEL_MAX_TOKENS"]

TEMPLATE = "{input} -> {label}"  # the format icl-tiny was trained on
LABEL_MAX_TOKENS = 5  # a label and a little: generation stops at the newline anyway


def score_labels(client, prompt: str, labels: Sequence[str], model: str = "icl-tiny") -> list[float]:
    """Log-likelihood of each label as the continuation ``" " + label`` of ``prompt``.

    For each label, the text ``prompt + " " + label`` is sent to the completions endpoint with
    ``echo=True, logprobs=0, max_tokens=0``: the response lists the tokens of that text with their
    offsets and log-probabilities. The label's score is the **sum** of the log-probabilities of the
    tokens that start at or after ``len(prompt)`` (its leading space included), so every label is
    scored after exactly the same prefix.

    Args:
        client: an ``openai.OpenAI`` client.
        prompt: the few-shot prompt, ending where the label should start (``"... red star ->"``).
        labels: L candidate labels.
        model: the model to ask.

    Returns:
        L floats (natural log), in the order of ``labels``.
    """
    texts = [prompt + " " + label for label in labels]
    response = client.completions.create(model=model, prompt=texts, max_tokens=0, echo=True, logprobs=0)
    scores = [0.0] * len(labels)
    for choice in response.choices:
        lp = choice.logprobs
        scores[choice.index] = sum(value for offset, value in zip(lp.text_offset, lp.token_logprobs)
                                   if offset >= len(prompt) and value is not None)
    return scores


def evaluate_icl(client, episodes: Sequence[dict], k: int, model: str = "icl-tiny", method: str = "generate",
                 template: str = TEMPLATE) -> float:
    """Accuracy of k-shot prompting over ``episodes``.

    For each episode the prompt is ``build_few_shot_prompt(episode["examples"][:k], episode["query"],
    template)``: the episode's **first** k examples, in order, and never the query's answer. The
    prediction is

    * ``method="generate"``: ``parse_answer`` of the completion at ``temperature=0`` with
      ``max_tokens=LABEL_MAX_TOKENS`` and ``stop=["\\n"]``, against ``episode["labels"]``;
    * ``method="score"``: the label of ``episode["labels"]`` with the highest :func:`score_labels`
      (the first one on a tie).

    A prediction is right when it equals ``episode["answer"]`` (``None`` is wrong).

    Args:
        client: an ``openai.OpenAI`` client.
        episodes: dicts with ``"examples"`` (a list of ``[input, label]``), ``"query"``, ``"answer"``
            and ``"labels"`` (the label set); not modified.
        k: shots, ``0 <= k <= len(examples)`` for every episode (else ``ValueError``).
        model: the model to ask.
        method: ``"generate"`` or ``"score"``.
        template: the example format (see :func:`build_few_shot_prompt`).

    Returns:
        The fraction of episodes answered right, a float in [0, 1] (0.0 for no episodes).
    """
    if method not in ("generate", "score"):
        raise ValueError(f"method must be 'generate' or 'score', got {method!r}")
    if k < 0 or any(k > len(e["examples"]) for e in episodes):
        raise ValueError(f"k must be between 0 and the number of examples of every episode, got {k}")
    correct = 0
    for episode in episodes:
        prompt = build_few_shot_prompt(episode["examples"][:k], episode["query"], template)
        labels = list(episode["labels"])
        if method == "generate":
            reply = client.completions.create(model=model, prompt=prompt, max_tokens=LABEL_MAX_TOKENS, temperature=0,
                                              stop=["\n"])
            prediction = parse_answer(reply.choices[0].text, labels)
        else:
            scores = score_labels(client, prompt, labels, model)
            prediction = labels[max(range(len(labels)), key=scores.__getitem__)]
        correct += prediction == episode["answer"]
    return correct / len(episodes) if episodes else 0.0
