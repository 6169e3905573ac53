"""Log-probabilities and perplexity of text under the course's character-level GPT.

A language model factors a text's probability into next-token probabilities (Radford et al. 2018):
``log p(x_1..x_T) = sum_t log p(x_t | x_<t)``. Perplexity is ``exp`` of the mean negative log-probability
per token: the number of equally likely choices the model is "as confused as".
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def perplexity_from_logprobs(logprobs: list[float] | torch.Tensor) -> float:
    """``exp(-mean(logprobs))``: the perplexity of a sequence of per-token log-probabilities (nats)."""
    lp = torch.as_tensor(logprobs, dtype=torch.float64)
    if lp.numel() == 0:
        raise ValueError("need at least one token")
    return math.exp(-lp.mean().item())


@torch.no_grad()
def continuation_logprobs(model: nn.Module, tokenizer, context: str, continuation: str) -> torch.Tensor:
    """Per-token log-probabilities of ``continuation`` after ``context``, in one forward pass.

    Args:
        model: a :class:`vlcourse.gpt.GPT` (``model(idx)`` returns ``(logits (B, T, V), loss)``).
        tokenizer: its tokenizer (``encode``).
        context: non-empty prefix; only its last ``block_size - len(continuation)`` tokens are kept.
        continuation: the text to score.

    Returns:
        (len(continuation_tokens),) float tensor of log-probabilities (nats).
    """
    ctx = tokenizer.encode(context)
    cont = tokenizer.encode(continuation)
    if not ctx or not cont:
        raise ValueError("context and continuation must both be non-empty")
    block = model.config.block_size
    ids = (ctx + cont)[-(block + 1):]
    idx = torch.tensor(ids[:-1]).unsqueeze(0)  # (1, T)
    logits, _ = model(idx)  # (1, T, V)
    logp = F.log_softmax(logits[0].double(), dim=-1)  # (T, V)
    targets = torch.tensor(ids[1:])  # (T,)
    per_token = logp[torch.arange(len(targets)), targets]  # (T,)
    return per_token[-len(cont):].float()
