"""``vlcourse serve``: a local OpenAI-compatible endpoint backed by the course's own small GPTs.

Students' code talks to language models through the official ``openai`` client (see
:mod:`vlcourse.llm`); by default it talks to this server, so everything works offline, and the same
code runs against a real provider or a vLLM server when ``OPENAI_BASE_URL`` points there.

* ``config``: :class:`ServeConfig`.
* ``models``: the servable models (:data:`SERVABLE`) and batched forward passes.
* ``engine``: :class:`Engine`, continuous batching in a thread per model.
* ``protocol``: request validation and OpenAI-shaped errors.
* ``app``: the FastAPI routes (``/v1/models``, ``/v1/completions``, ``/v1/chat/completions``, streaming).
* ``run``: :func:`serve` (foreground, TCP or Unix socket) and :class:`BackgroundServer` (a thread).

Start it with ``vlcourse serve`` (``--port 0`` for any free port, ``--uds PATH`` for a Unix socket).
"""

from vlcourse.serve.config import ServeConfig

_LAZY = {  # torch and FastAPI load on first use: the CLI's parser imports this package
    "Engine": "engine", "SamplingParams": "engine", "Sequence": "engine",
    "SERVABLE": "models", "ServedModel": "models", "available_models": "models", "load_served_model": "models",
    "READY_LINE": "run", "BackgroundServer": "run", "build_engines": "run", "serve": "run",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'vlcourse.serve' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"vlcourse.serve.{_LAZY[name]}"), name)
