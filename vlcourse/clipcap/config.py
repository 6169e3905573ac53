"""The configuration of ClipCap's mapping networks (its own file: every other part imports it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class MapperConfig:
    """Size of a mapping network from a CLIP image embedding to a prefix of LM input embeddings
    (Mokady, Hertz & Bermano 2021, "ClipCap: CLIP Prefix for Image Captioning").

    Attributes:
        clip_dim: width of the CLIP image embedding (the mapper's input), e.g. 64 for ``vlc-clip-tiny``.
        lm_dim: width of the language model's token embeddings (the prefix's width).
        prefix_length: P, the number of prefix embeddings put in front of the caption.
        hidden_dim: the MLP mapper's hidden width; ``None``: ``prefix_length * lm_dim // 2`` (ClipCap's).
        clip_length: the transformer mapper's number of tokens made from the CLIP embedding.
        num_layers: the transformer mapper's blocks.
        num_heads: the transformer mapper's attention heads; must divide ``lm_dim``.
    """

    clip_dim: int = 64
    lm_dim: int = 64
    prefix_length: int = 4
    hidden_dim: int | None = None
    clip_length: int = 4
    num_layers: int = 2
    num_heads: int = 4

    def __post_init__(self):
        for name in ("clip_dim", "lm_dim", "prefix_length", "clip_length", "num_layers", "num_heads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.hidden_dim is not None and (isinstance(self.hidden_dim, bool) or not isinstance(self.hidden_dim, int)
                                            or self.hidden_dim < 1):
            raise ValueError(f"hidden_dim must be a positive integer or None (ClipCap's default), got {self.hidden_dim!r}")
        if self.lm_dim % self.num_heads:
            raise ValueError(f"lm_dim={self.lm_dim} is not divisible by num_heads={self.num_heads}; "
                             "each head gets lm_dim // num_heads dimensions: pick num_heads among its divisors")

    @property
    def mlp_hidden(self) -> int:
        """The MLP mapper's hidden width."""
        return self.hidden_dim if self.hidden_dim is not None else self.prefix_length * self.lm_dim // 2

    def to_dict(self) -> dict:
        return asdict(self)
