"""The configuration of a :class:`~vlcourse.gpt.model.GPT` (its own file: every other part imports it)."""

from __future__ import annotations

from dataclasses import dataclass

ATTENTION_KINDS = ("sdpa", "explicit")


@dataclass
class GPTConfig:
    """Size and behaviour of a :class:`GPT`.

    Attributes:
        vocab_size: number of token ids (65 for character-level tiny Shakespeare).
        block_size: longest context the model reads (the number of position embeddings).
        n_layer: number of Transformer blocks.
        n_head: attention heads per block; each head has ``n_embd // n_head`` dimensions.
        n_embd: width of the residual stream.
        dropout: dropout probability on embeddings, attention weights and residual branches.
        bias: whether Linear and LayerNorm layers have biases.
        attention: ``"sdpa"`` (PyTorch's fused ``scaled_dot_product_attention``) or ``"explicit"``
            (:func:`masked_attention`, the formula written out). Both compute the same function.
    """

    vocab_size: int = 65
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True
    attention: str = "sdpa"

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(
                f"n_embd={self.n_embd} is not divisible by n_head={self.n_head}: each head gets n_embd // n_head "
                f"dimensions; pick n_embd as a multiple of n_head (e.g. n_embd={self.n_head * max(1, round(self.n_embd / self.n_head))})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout is a probability in [0, 1), got {self.dropout}")
        if self.attention not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, got {self.attention!r}")
