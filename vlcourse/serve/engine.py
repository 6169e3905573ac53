"""The decoding engine: one thread per model that decodes every running request together.

Continuous batching (Yu et al. 2022, "Orca: A Distributed Serving System for Transformer-Based
Generative Models"): at every step the engine takes whichever sequences are running, new ones
included, runs them through the model together and appends one token to each. A request therefore
never waits for another to finish, and concurrent clients share forward passes, which is where the
throughput of a server comes from on a CPU as much as on a GPU.

Each running sequence owns a row of a key-value cache (:mod:`vlcourse.gpt.kv_cache`), so a step
costs one position per sequence: a new sequence has its whole prompt prefilled into its row (which
gives its first logits), and the running rows decode their newest token in one batched step. A
sequence longer than the model's context reads its last ``block_size`` tokens from position 0 again
(as :func:`~vlcourse.gpt.generation.generate` does), which no cached key survives: such a row is
prefilled anew at each step.

Each sequence has its own random generator (seeded by the request's ``seed``), so what it samples
does not depend on which other sequences shared its batches; at temperature 0 it takes the argmax.
Results leave the engine thread through a ``sink`` callable per sequence (the HTTP layer hands them
to its event loop with ``call_soon_threadsafe``).
"""

from __future__ import annotations

import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from vlcourse.gpt.kv_cache import KVCache, decode_step, empty_cache, prefill
from vlcourse.gpt.logits import all_logprobs
from vlcourse.serve.models import ServedModel


@dataclass
class SamplingParams:
    """How one choice is decoded.

    Attributes:
        max_tokens: new tokens at most.
        temperature: 0 for greedy (argmax) decoding, else the softmax temperature.
        top_p: nucleus sampling (Holtzman et al. 2020): sample among the smallest set of tokens
            whose probability adds up to ``top_p``.
        stop: strings that end the choice; they are not part of its text.
        seed: seed of this choice's generator (None: a random one).
        logprobs: None for no log-probabilities; k >= 0: the chosen token's plus the k most likely.
    """

    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    logprobs: int | None = None


@dataclass
class TokenEvent:
    """One generated token: its text (cut short where a stop string begins), log-probability, alternatives.

    ``logprob`` is NaN when no sequence of the step asked for log-probabilities (nothing reads it then).
    """

    text: str
    token: str
    logprob: float
    top: dict[str, float] = field(default_factory=dict)


@dataclass
class Finished:
    """The end of a choice: ``reason`` is ``"stop"`` (a stop string) or ``"length"`` (max_tokens)."""

    reason: str
    completion_tokens: int


@dataclass
class Failed:
    """The engine could not decode this choice (a server bug, reported as a 500)."""

    message: str


Sink = Callable[[object], None]


class Sequence:
    """A choice being decoded: prompt and generated ids, the text so far, and what is not yet sent."""

    def __init__(self, prompt_ids: list[int], params: SamplingParams, sink: Sink):
        self.ids = list(prompt_ids)
        self.params = params
        self.sink = sink
        self.generated = 0
        self.text = ""  # all generated text so far
        self.pending: list[tuple[int, int, TokenEvent]] = []  # (start, end) offsets in text, event
        self.cancelled = False
        self.cached = 0  # tokens of ids whose keys and values its cache row holds (-1: none valid)
        self.generator = torch.Generator().manual_seed(params.seed if params.seed is not None else random.getrandbits(63))

    def cancel(self) -> None:
        """Stop decoding this choice at the next step (the client went away)."""
        self.cancelled = True


def _held_back(text: str, stops: tuple[str, ...]) -> int:
    """How many characters at the end of ``text`` could be the start of a stop string."""
    longest = 0
    for stop in stops:
        for k in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:k]):
                longest = k
                break
    return longest


def advance(seq: Sequence, event: TokenEvent) -> Finished | None:
    """Add one token to ``seq``, send what can be sent, and say whether the choice is finished.

    Text that might be the beginning of a stop string is held back until the next tokens decide.
    """
    start = len(seq.text)
    seq.text += event.token
    seq.generated += 1
    seq.pending.append((start, len(seq.text), event))
    hits = [i for i in (seq.text.find(s) for s in seq.params.stop) if i >= 0]
    if hits:
        cut = min(hits)
        for begin, end, ev in seq.pending:
            if begin < cut:
                ev.text = seq.text[begin:min(end, cut)]
                seq.sink(ev)
        seq.pending.clear()
        return Finished("stop", seq.generated)
    if seq.generated >= seq.params.max_tokens:
        for _, _, ev in seq.pending:
            seq.sink(ev)
        seq.pending.clear()
        return Finished("length", seq.generated)
    safe = len(seq.text) - _held_back(seq.text, seq.params.stop)
    while seq.pending and seq.pending[0][1] <= safe:
        seq.sink(seq.pending.pop(0)[2])
    return None


def choose(logits: torch.Tensor, params: SamplingParams, generator: torch.Generator) -> int:
    """The next token for one sequence from its (V,) logits: argmax at temperature 0, else a draw."""
    if params.temperature == 0:
        return int(logits.argmax())
    probs = torch.softmax(logits / params.temperature, dim=-1)  # (V,)
    if params.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)  # (V,), (V,)
        outside = sorted_probs.cumsum(0) - sorted_probs >= params.top_p  # tokens past the nucleus
        sorted_probs[outside] = 0.0
        probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    return int(torch.multinomial(probs, 1, generator=generator))


@dataclass
class ScoreJob:
    """Log-probabilities of every position of some token rows, delivered to ``sink`` as a list of (T, V) tensors."""

    rows: list[list[int]]
    sink: Sink


@dataclass
class EngineStats:
    """Counters for the benchmark and the tests."""

    steps: int = 0
    sequences: int = 0
    tokens: int = 0
    cancelled: int = 0
    largest_batch: int = 0
    prefilled: int = 0


class Engine:
    """Decodes the sequences of one :class:`ServedModel` in a background thread, batched."""

    def __init__(self, served: ServedModel, max_batch: int = 64):
        self.served = served
        self.max_batch = max_batch
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.active: list[Sequence] = []
        self.cache: KVCache = empty_cache(served.model, 0)  # row i belongs to cache_rows[i]
        self.cache_rows: list[Sequence] = []
        self.stats = EngineStats()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name=f"engine-{served.name}", daemon=True)
        self._thread.start()

    # --- what callers use (any thread) ---------------------------------------------------------------
    def submit(self, seq: Sequence) -> Sequence:
        self.inbox.put(seq)
        return seq

    def score(self, rows: list[list[int]], sink: Sink) -> None:
        self.inbox.put(ScoreJob(rows, sink))

    def idle(self) -> bool:
        """No sequence running or waiting."""
        return not self.active and self.inbox.empty()

    def close(self) -> None:
        self._stopped = True
        self.inbox.put(None)
        self._thread.join(timeout=10)

    # --- the engine thread -----------------------------------------------------------------------------
    def _take_new(self, block: bool) -> list[ScoreJob]:
        jobs = []
        if self.active and self.inbox.empty():  # the common case while decoding: nothing new
            return jobs
        while len(self.active) < self.max_batch:
            try:
                item = self.inbox.get(block=block and not self.active and not jobs)
            except queue.Empty:
                break
            if isinstance(item, ScoreJob):
                jobs.append(item)
            elif isinstance(item, Sequence):
                self.active.append(item)
                self.stats.sequences += 1
            if self.inbox.empty():
                break
        return jobs

    def _loop(self) -> None:
        while not self._stopped:
            jobs = self._take_new(block=True)
            if self._stopped:
                break
            if jobs:
                self._run_scores(jobs)
            self.active = [s for s in self.active if not self._drop_cancelled(s)]
            if self.active:
                try:
                    self._step()
                except Exception as exc:  # a bug must not leave clients waiting forever
                    for seq in self.active:
                        seq.sink(Failed(f"{type(exc).__name__}: {exc}"))
                    self.active = []
                    self.cache, self.cache_rows = empty_cache(self.served.model, 0), []

    def _drop_cancelled(self, seq: Sequence) -> bool:
        if seq.cancelled:
            self.stats.cancelled += 1
        return seq.cancelled

    def _run_scores(self, jobs: list[ScoreJob]) -> None:
        rows = [row for job in jobs for row in job.rows]
        try:
            logps = all_logprobs(self.served.model, rows)
        except Exception as exc:
            for job in jobs:
                job.sink(Failed(f"{type(exc).__name__}: {exc}"))
            return
        for job in jobs:
            job.sink(logps[: len(job.rows)])
            logps = logps[len(job.rows):]

    def _sync_cache(self) -> None:
        """Give the cache one row per active sequence, in the order of ``self.active``.

        New sequences take over the rows of sequences that left (their stale keys are overwritten by
        the new prompt's prefill, and attention never reads past a row's length), so a server where
        one request ends as another starts copies no cache at all; only the surplus is appended, or
        dropped when fewer join than left. ``self.active`` is reordered to match the rows.
        """
        if self.cache_rows == self.active:
            return
        running = set(map(id, self.active))
        known = set(map(id, self.cache_rows))
        new = [seq for seq in self.active if id(seq) not in known]
        rows: list[Sequence | None] = [seq if id(seq) in running else None for seq in self.cache_rows]
        free = [i for i, seq in enumerate(rows) if seq is None]
        for i, seq in zip(free, new):
            rows[i] = seq
        if len(new) > len(free):
            self.cache = self.cache.extend(len(new) - len(free))
            rows += new[len(free):]
        elif len(new) < len(free):
            taken = [i for i, seq in enumerate(rows) if seq is not None]
            self.cache = self.cache.select(taken)
            rows = [rows[i] for i in taken]
        for seq in new:
            seq.cached = -1  # its row holds nothing valid yet: prefilled at this step
        self.cache_rows = rows
        self.active = list(rows)

    def _forward(self, batch: list[Sequence]) -> torch.Tensor:
        """(B, V) next-token logits of every sequence, through the cache.

        A sequence whose row does not hold all its tokens but the newest (a new prompt, or a window
        that slid past the context) is prefilled with its whole window, which gives its logits; the
        others decode their newest token in one batched step. Either way a sequence's first token
        comes from a prefill of its prompt, whatever else is running.
        """
        context = self.served.context_length
        running, stale = [], []
        for i, s in enumerate(batch):
            (running if s.cached == len(s.ids) - 1 and len(s.ids) <= context else stale).append(i)
        model = self.served.model
        parts = []
        if running:  # every row when none is stale: no row selection
            parts.append(decode_step(model, self.cache, torch.tensor([batch[i].ids[-1] for i in running]),
                                     running if stale else None))  # (R, V)
        if stale:
            parts.append(prefill(model, self.cache, stale, [batch[i].ids[-context:] for i in stale]))  # (S, V)
        logits = parts[0] if len(parts) == 1 else torch.cat(parts)[torch.argsort(torch.tensor(running + stale))]  # (B, V)
        self.stats.prefilled += len(stale)
        for s in batch:
            s.cached = len(s.ids) if len(s.ids) <= context else -1
        return logits if logits.dtype == torch.float32 else logits.float()

    def _step(self) -> None:
        self._sync_cache()
        batch = self.active
        logits = self._forward(batch)  # (B, V)
        self.stats.steps += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        tokens = logits.argmax(dim=-1).tolist()  # (B,) greedy choices, replaced below where a choice samples
        scored = False
        for i, seq in enumerate(batch):
            if seq.params.temperature != 0:
                tokens[i] = choose(logits[i], seq.params, seq.generator)
            scored |= seq.params.logprobs is not None
        if scored:
            logps = torch.log_softmax(logits, dim=-1)  # (B, V)
            chosen = logps.gather(1, torch.tensor(tokens)[:, None])[:, 0].tolist()  # (B,) log-probabilities of the choices
        else:  # nobody reads them: skip the softmax
            chosen = [float("nan")] * len(batch)
        still = []
        for i, (seq, token) in enumerate(zip(batch, tokens)):
            previous = seq.ids[-1]
            seq.ids.append(token)
            self.stats.tokens += 1
            text = self.served.token_text(token, previous)
            event = TokenEvent(text, text, chosen[i])
            if seq.params.logprobs:
                top = torch.topk(logps[i], min(seq.params.logprobs, logps.size(-1)))
                event.top = {self.served.token_text(t, previous): float(v) for v, t in zip(top.values, top.indices)}
            done = advance(seq, event)
            if done is None:
                still.append(seq)
            else:
                seq.sink(done)
        self.active = still
