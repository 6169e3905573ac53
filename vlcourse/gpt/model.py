"""The decoder-only language model around its attention.

Its blocks are the shared :class:`~vlcourse.transformer.Block` (with :class:`~vlcourse.transformer.MLP`),
which the MAE's ViT uses too; they are importable from here as before. The attention class is a
constructor argument, resolved lazily to the reference one: while a submission is graded
``attention.py`` is an empty file, and the student's notebook builds its GPT with its own
``CausalSelfAttention``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from vlcourse.gpt.config import GPTConfig
from vlcourse.transformer import MLP, Block  # noqa: F401  (MLP: re-exported by vlcourse.gpt)


def reference_attention() -> type[nn.Module]:
    """The reference :class:`~vlcourse.gpt.attention.CausalSelfAttention`, imported on first use."""
    try:
        from vlcourse.gpt.attention import CausalSelfAttention
    except ImportError as err:
        raise RuntimeError(
            "the reference CausalSelfAttention is unavailable (withheld while grading): "
            "pass your own class, e.g. GPT(config, attention_cls=CausalSelfAttention)"
        ) from err
    return CausalSelfAttention


class GPT(nn.Module):
    """Decoder-only Transformer language model (Radford et al. 2018, 2019).

    ``forward(idx)`` maps token ids (B, T) to next-token logits (B, T, vocab_size): ``logits[:, t]``
    scores the token that follows ``idx[:, :t + 1]``. The output layer shares its weight with the
    token embedding (weight tying, Press & Wolf 2017, used by GPT-2): ``lm_head.weight is wte.weight``.

    ``attention_cls`` builds each block's self-attention from the config (default: the reference
    :class:`~vlcourse.gpt.attention.CausalSelfAttention`); assignment 02 passes the student's own class,
    which must have the same parameter names (``c_attn``, ``c_proj``) so checkpoints load into it.
    """

    def __init__(self, config: GPTConfig, attention_cls: type[nn.Module] | None = None):
        super().__init__()
        self.config = config
        attention_cls = attention_cls or reference_attention()
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList(Block(config, attention_cls) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied: one (vocab_size, C) matrix, two uses
        self.apply(self._init_weights)
        # GPT-2: scale the initial weights of the layers that write into the residual stream by
        # 1/sqrt(number of residual additions), so the stream's variance does not grow with depth.
        for name, param in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(param, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))
        # Checkpoints store the tied matrix once (safetensors refuses shared tensors), as wte.weight.
        self.register_load_state_dict_pre_hook(self._fill_tied_weight)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    @staticmethod
    def _fill_tied_weight(module, state_dict, prefix, *args) -> None:
        if prefix + "lm_head.weight" not in state_dict and prefix + "wte.weight" in state_dict:
            state_dict[prefix + "lm_head.weight"] = state_dict[prefix + "wte.weight"]

    def num_params(self, non_embedding: bool = True) -> int:
        """Parameter count (tied weights once); without position embeddings if ``non_embedding``."""
        n = sum(p.numel() for p in self.parameters())  # parameters() yields a tied tensor once
        return n - self.wpe.weight.numel() if non_embedding else n

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Next-token logits, and the cross-entropy against ``targets`` when given.

        Args:
            idx: (B, T) int64 token ids, T <= block_size.
            targets: optional (B, T) int64, ``targets[:, t]`` the token that follows ``idx[:, t]``
                (the ``y`` of :func:`~vlcourse.data.text.get_batch`).

        Returns:
            ``(logits, loss)``: logits (B, T, vocab_size); loss a scalar (mean over all B*T
            positions) or None without targets. For a loss from ``idx`` alone see :func:`lm_loss`.
        """
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"sequence length {T} exceeds block_size={self.config.block_size}; crop the context")
        pos = torch.arange(T, device=idx.device)  # (T,)
        x = self.drop(self.wte(idx) + self.wpe(pos))  # (B, T, C) + (T, C) -> (B, T, C)
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))  # (B, T, V)
        if targets is None:
            return logits, None
        V = logits.size(-1)
        loss = F.cross_entropy(logits.view(B * T, V), targets.reshape(B * T))  # (B*T, V) vs (B*T,)
        return logits, loss
