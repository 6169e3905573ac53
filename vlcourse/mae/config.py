"""The configuration of a :class:`~vlcourse.mae.model.MAE` (its own file: every other part imports it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class MAEConfig:
    """Size and behaviour of a masked autoencoder (He et al. 2022, "Masked Autoencoders Are Scalable
    Vision Learners").

    An image of ``image_size`` × ``image_size`` pixels with ``in_chans`` channels is cut into
    ``num_patches = (image_size // patch_size) ** 2`` square patches of ``patch_dim =
    patch_size ** 2 * in_chans`` values each. The encoder (a ViT, ``embed_dim`` wide, ``depth``
    blocks) reads only the visible patches; the decoder (``decoder_embed_dim`` wide,
    ``decoder_depth`` blocks, usually narrower and shallower) reads the encoded visible patches plus a
    mask token for every removed one and predicts every patch's pixels.

    The defaults are the course's ``tiny`` model (32×32 images, 4×4 patches, an encoder of 2 blocks
    and a decoder of 1 block, both 64 wide: 160k parameters), which trains on a CPU in minutes.

    Attributes:
        image_size: height and width of the (square) images in pixels.
        patch_size: height and width of a patch; must divide ``image_size``.
        in_chans: image channels (3 for RGB).
        embed_dim: encoder width; a multiple of 4 (the 2-D sine-cosine position embedding spends a
            quarter of it on each of sin(row), cos(row), sin(column), cos(column)) and of ``num_heads``.
        depth: encoder blocks.
        num_heads: encoder attention heads.
        decoder_embed_dim: decoder width; a multiple of 4 and of ``decoder_num_heads``.
        decoder_depth: decoder blocks.
        decoder_num_heads: decoder attention heads.
        mask_ratio: fraction of patches removed in training, in [0, 1) (the paper's 0.75).
        norm_pix_loss: reconstruct each patch's pixels normalised by that patch's mean and standard
            deviation (the paper's better representations) instead of raw pixels (nicer pictures).
    """

    image_size: int = 32
    patch_size: int = 4
    in_chans: int = 3
    embed_dim: int = 64
    depth: int = 2
    num_heads: int = 4
    decoder_embed_dim: int = 64
    decoder_depth: int = 1
    decoder_num_heads: int = 4
    mask_ratio: float = 0.75
    norm_pix_loss: bool = False

    def __post_init__(self):
        for name in ("image_size", "patch_size", "in_chans", "embed_dim", "depth", "num_heads",
                     "decoder_embed_dim", "decoder_depth", "decoder_num_heads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.image_size % self.patch_size:
            raise ValueError(f"patch_size={self.patch_size} does not divide image_size={self.image_size}; "
                             "pick a patch size that tiles the image, e.g. 4 or 8 for 32-pixel images")
        for width, heads in (("embed_dim", "num_heads"), ("decoder_embed_dim", "decoder_num_heads")):
            if getattr(self, width) % 4:
                raise ValueError(f"{width}={getattr(self, width)} must be a multiple of 4 (2-D sine-cosine "
                                 "position embeddings give each of sin/cos x row/column a quarter)")
            if getattr(self, width) % getattr(self, heads):
                raise ValueError(f"{width}={getattr(self, width)} is not divisible by {heads}={getattr(self, heads)}; "
                                 "each head gets width // heads dimensions")
        if isinstance(self.mask_ratio, bool) or not 0.0 <= self.mask_ratio < 1.0:
            raise ValueError(f"mask_ratio is the fraction of patches removed, in [0, 1); got {self.mask_ratio!r}")
        if not isinstance(self.norm_pix_loss, bool):
            raise TypeError(f"norm_pix_loss must be True or False, got {self.norm_pix_loss!r}")

    @property
    def grid_size(self) -> int:
        """Patches along each side of the image."""
        return self.image_size // self.patch_size

    @property
    def num_patches(self) -> int:
        """L, the number of patches (tokens) of an image."""
        return self.grid_size ** 2

    @property
    def patch_dim(self) -> int:
        """Values in one patch, ``patch_size ** 2 * in_chans``."""
        return self.patch_size ** 2 * self.in_chans

    def to_dict(self) -> dict:
        return asdict(self)
