"""Small figure helpers for the lecture slides (matplotlib object API, no pyplot state)."""

from __future__ import annotations

from typing import Sequence

from torch import Tensor


def flow_diagram(steps: Sequence[str], title: str = "", frozen: Sequence[int] = (), width: float = 11.0):
    """Boxes left to right joined by arrows; boxes whose index is in ``frozen`` are drawn grey
    (a frozen model) and the others blue (trained). Returns a matplotlib ``Figure``."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    n = len(steps)
    fig = Figure(figsize=(width, 1.9), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(0, n)
    ax.set_ylim(0, 1)
    ax.axis("off")
    for i, text in enumerate(steps):
        color = "#d9d9d9" if i in frozen else "#cfe2f3"
        ax.add_patch(FancyBboxPatch((i + 0.08, 0.2), 0.74, 0.6, boxstyle="round,pad=0.02", fc=color, ec="#333333"))
        ax.text(i + 0.45, 0.5, text, ha="center", va="center", fontsize=10, wrap=True)
        if i < n - 1:
            ax.annotate("", xy=(i + 1.06, 0.5), xytext=(i + 0.84, 0.5), arrowprops={"arrowstyle": "->", "lw": 1.5})
    if title:
        ax.set_title(title, fontsize=11)
    return fig


def image_text_grid(images: Tensor, texts: Sequence[str], ncols: int = 6, title: str = "", max_lines: int = 3,
                    width: int = 22):
    """Images (N, 3, H, W) floats in [0, 1], each titled with its text wrapped at ``width`` characters
    (at most ``max_lines`` lines per paragraph of the text). Returns a ``Figure``."""
    import textwrap

    from matplotlib.figure import Figure

    n = len(texts)
    nrows = (n + ncols - 1) // ncols
    fig = Figure(figsize=(1.9 * ncols * width / 22, (1.6 + 0.22 * max_lines) * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            ax.imshow(images[k].permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")  # (H, W, 3)
            lines = [ln for para in texts[k].split("\n") for ln in textwrap.wrap(para, width)[:max_lines]]
            ax.set_title("\n".join(lines), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
