"""The configuration of a LoRA adapter (its own file: every other part imports it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from torch import nn

# The GPT's attention projections (vlcourse.gpt): the fused query/key/value map and the output map.
# Named with their parent ("attn.") because the MLP has a ``c_proj`` too.
GPT_ATTENTION = ("attn.c_attn", "attn.c_proj")


def matches(name: str, target: str) -> bool:
    """True when the module called ``name`` (e.g. ``h.0.attn.c_proj``) is what ``target`` names:
    the whole name, or its last dot-separated parts (``attn.c_proj``, ``c_proj``)."""
    return name == target or name.endswith("." + target)


def linear_names(model: nn.Module) -> list[str]:
    """Qualified names of every ``nn.Linear`` in ``model`` (what a target may name)."""
    return [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]


@dataclass
class LoRAConfig:
    """What to adapt and how (Hu et al. 2022, "LoRA: Low-Rank Adaptation of Large Language Models").

    Attributes:
        r: rank of the update ``ΔW = B A`` (A: (r, in), B: (out, r)); a positive integer.
        alpha: the update is scaled by ``alpha / r``, so that changing r does not change how large
            the initial steps are (the paper sets alpha once and does not tune it).
        dropout: dropout on the adapter's input only (the frozen path never sees it), in [0, 1).
        target_modules: which ``nn.Linear`` layers get an adapter: a module name or its last parts
            (``"attn.c_proj"`` matches ``h.0.attn.c_proj`` and ``h.1.attn.c_proj``, not ``h.0.mlp.c_proj``).
    """

    r: int = 4
    alpha: float = 8.0
    dropout: float = 0.0
    target_modules: tuple[str, ...] = field(default=GPT_ATTENTION)

    def __post_init__(self):
        if isinstance(self.r, bool) or not isinstance(self.r, int) or self.r <= 0:
            raise ValueError(f"r is the rank of the update and must be a positive integer, got {self.r!r}; "
                             "typical values are 1 to 64 (try r=4)")
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not self.alpha > 0:
            raise ValueError(f"alpha must be a positive number (the update is scaled by alpha / r), got {self.alpha!r}; "
                             "a common choice is alpha = 2 * r")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout is a probability in [0, 1), got {self.dropout!r}; use 0.0 for none")
        if isinstance(self.target_modules, str):
            raise ValueError(f"target_modules must be a sequence of names, got the string {self.target_modules!r}; "
                             f"write target_modules=({self.target_modules!r},)")
        self.target_modules = tuple(self.target_modules)
        if not self.target_modules or not all(isinstance(t, str) and t for t in self.target_modules):
            raise ValueError(f"target_modules must name at least one layer, got {self.target_modules!r}; "
                             f"for the GPT's attention use {GPT_ATTENTION}")

    def check_targets(self, model: nn.Module) -> dict[str, list[str]]:
        """The ``nn.Linear`` layers each target names; raises ValueError for a target that names none."""
        return resolve_targets(model, self.target_modules)

    def to_dict(self) -> dict:
        return {**asdict(self), "target_modules": list(self.target_modules)}


def resolve_targets(model: nn.Module, target_modules: Sequence[str]) -> dict[str, list[str]]:
    """Map each target to the qualified names of the ``nn.Linear`` layers it matches.

    Raises:
        ValueError: a target matches no ``nn.Linear`` (a typo, or a layer that is not linear); the
            message lists the names that would work.
    """
    if isinstance(target_modules, str):
        target_modules = (target_modules,)
    names = linear_names(model)
    found = {target: [n for n in names if matches(n, target)] for target in target_modules}
    unknown = [target for target, hits in found.items() if not hits]
    if unknown:
        suffixes = sorted({".".join(n.split(".")[-2:]) for n in names})
        raise ValueError(
            f"target module(s) {unknown} match no nn.Linear of this {type(model).__name__}; "
            f"name one of its linear layers or their last parts, e.g. {suffixes}"
        )
    return found
