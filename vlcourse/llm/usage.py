"""Token and cost accounting from the ``usage`` field of the responses."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Usage:
    """Running totals of one :class:`~vlcourse.llm.LLM`.

    ``cached`` counts answers served from the disk cache: they cost nothing and add no tokens.
    Costs use ``prices`` (dollars per million prompt and completion tokens, by model); models not in
    the table are listed in ``unpriced`` and counted as free.
    """

    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    requests: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    unpriced: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, response, cached: bool = False) -> None:
        """Count one response (an ``openai`` Completion or ChatCompletion)."""
        with self._lock:
            self.requests += 1
            if cached:
                self.cached += 1
                return
            usage = getattr(response, "usage", None)
            if usage is None:
                return
            self.prompt_tokens += usage.prompt_tokens or 0
            self.completion_tokens += usage.completion_tokens or 0
            model = getattr(response, "model", None)
            if model in self.prices:
                prompt_price, completion_price = self.prices[model]
                self.cost += ((usage.prompt_tokens or 0) * prompt_price + (usage.completion_tokens or 0) * completion_price) / 1e6
            elif model:
                self.unpriced.add(model)

    def summary(self) -> str:
        note = f" (no price known for {', '.join(sorted(self.unpriced))})" if self.unpriced else ""
        return (f"{self.requests} requests ({self.cached} from the cache), {self.prompt_tokens} prompt + "
                f"{self.completion_tokens} completion tokens, ${self.cost:.4f}{note}")
