"""Starting the endpoint: in the foreground (``vlcourse serve``) or in a background thread.

Listens on TCP (``--host``/``--port``, port 0 picks a free one) or on a Unix socket (``--uds``); the
socket file is made connectable by any user, since the grader's sandbox runs as another user id.
Once listening it prints one line, ``vlcourse serve: listening on <url>``, which
:mod:`vlcourse.llm` waits for when it starts the endpoint on demand.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
from pathlib import Path

from vlcourse.serve.config import ServeConfig

READY_LINE = "vlcourse serve: listening on "


def build_engines(config: ServeConfig) -> dict:
    """Load every configured model into an :class:`~vlcourse.serve.engine.Engine` (about a second each)."""
    from vlcourse.serve.engine import Engine
    from vlcourse.serve.models import load_served_model

    if config.threads:
        import torch

        torch.set_num_threads(config.threads)
    return {name: Engine(load_served_model(name), config.max_batch) for name in config.models}


def bind_socket(config: ServeConfig) -> socket.socket:
    """The listening socket: a Unix socket at ``config.uds`` (replacing a stale file), else TCP."""
    if config.uds:
        path = Path(config.uds)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_socket():
            path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        os.chmod(path, 0o777)  # connect() needs write permission; the sandbox is another user
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit TCP_NODELAY on Linux. asyncio sets it itself only on sockets
        # whose proto is IPPROTO_TCP (this one's is 0), and without it every response on a kept-alive
        # connection waited ~40 ms for Nagle's algorithm and the client's delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((config.host, config.port))
    sock.listen(2048)
    return sock


def base_url(config: ServeConfig, sock: socket.socket) -> str:
    """``http://host:port/v1``, or ``unix:<path>`` for a Unix socket."""
    if config.uds:
        return f"unix:{config.uds}"
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}/v1"


def uvicorn_config(app, config: ServeConfig):
    """uvicorn's settings for the endpoint: no lifespan events, a short graceful shutdown, no access log
    (a log line per request costs more than a short completion's HTTP handling)."""
    import uvicorn

    return uvicorn.Config(app, log_level=config.log_level, access_log=False, lifespan="off", timeout_graceful_shutdown=1)


class BackgroundServer:
    """The endpoint on a uvicorn server in a daemon thread of this process (tests, benchmarks).

    Example::

        with BackgroundServer(ServeConfig(port=0)) as server:
            client = openai.OpenAI(base_url=server.url, api_key="local")
    """

    def __init__(self, config: ServeConfig, engines: dict | None = None):
        import uvicorn

        from vlcourse.serve.app import create_app

        self.config = config
        self.engines = engines if engines is not None else build_engines(config)
        self.socket = bind_socket(config)
        self.url = base_url(config, self.socket)
        self.app = create_app(self.engines, config)
        self.server = uvicorn.Server(uvicorn_config(self.app, config))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def start(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the endpoint did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(config: ServeConfig) -> None:
    """Serve in the foreground until interrupted."""
    import uvicorn

    from vlcourse.serve.app import create_app

    engines = build_engines(config)
    sock = bind_socket(config)
    server = uvicorn.Server(uvicorn_config(create_app(engines, config), config))
    original = server.startup

    async def startup(sockets=None):
        await original(sockets=sockets)
        print(f"{READY_LINE}{base_url(config, sock)} (models: {', '.join(engines)})", flush=True)

    server.startup = startup
    server.run(sockets=[sock])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlcourse serve``'s options (shared by ``python -m vlcourse.serve``)."""
    defaults = ServeConfig()
    parser.add_argument("--model", action="append", dest="models",
                        help=f"model to serve, repeatable (default: every shipped one of {', '.join(defaults.models)})")
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port, help="TCP port (0: any free port)")
    parser.add_argument("--uds", help="listen on this Unix socket instead of TCP")
    parser.add_argument("--max-batch", type=int, default=defaults.max_batch, help="sequences decoded together")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--log-level", default=defaults.log_level)
    parser.add_argument("--api-key", action="append", dest="api_key_list", metavar="KEY",
                        help="a key clients must send as 'Authorization: Bearer KEY' (repeatable; "
                             "required when --host is not loopback)")
    parser.add_argument("--api-keys", metavar="FILE", help="keys, one per line: KEY [name] (one per student or TA)")
    parser.add_argument("--rate-limit", type=float, metavar="R",
                        help="requests per second each key may send; beyond it, 429 with Retry-After "
                             f"(default with keys: {DEFAULT_RATE_LIMIT:g})")
    parser.add_argument("--burst", type=int, default=defaults.burst, help="requests a key may send at once")
    parser.add_argument("--replay", type=int, default=defaults.replay_entries, metavar="N",
                        help="keep the answers of up to N reproducible requests (temperature 0 or a seed) and "
                             "answer the same request again from them (default: 0, off)")


DEFAULT_RATE_LIMIT = 20.0  # requests per second per key on a shared endpoint: a notebook's loop is well under it


def keys_from_args(args: argparse.Namespace) -> dict[str, str]:
    from vlcourse.serve.access import read_key_file

    keys = {key: "" for key in getattr(args, "api_key_list", None) or []}
    if getattr(args, "api_keys", None):
        keys |= read_key_file(args.api_keys)
    return keys


def config_from_args(args: argparse.Namespace) -> ServeConfig:
    """The config the options describe; a ValueError says what to change (the CLI prints it as one line)."""
    from vlcourse.serve.models import available_models

    models = tuple(args.models) if args.models else tuple(m for m in ServeConfig().models if m in available_models())
    keys = keys_from_args(args)
    rate = getattr(args, "rate_limit", None)
    return ServeConfig(models=models, host=args.host, port=args.port, uds=args.uds, max_batch=args.max_batch,
                       threads=args.threads, log_level=args.log_level, api_keys=keys,
                       rate_limit=rate if rate is not None else (DEFAULT_RATE_LIMIT if keys else None),
                       burst=getattr(args, "burst", ServeConfig().burst),
                       replay_entries=getattr(args, "replay", ServeConfig().replay_entries))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vlcourse serve", description="A local OpenAI-compatible endpoint "
                                     "backed by the course's small GPT models.")
    add_arguments(parser)
    serve(config_from_args(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
