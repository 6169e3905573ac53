"""Language models through an API: the official ``openai`` client, configured from the environment.

With ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` (and ``VLCOURSE_LLM_MODEL``) set, requests go to that
endpoint (OpenAI, vLLM, llama.cpp, ...); with nothing set, to the course's own small models, served
by ``vlcourse serve`` on a private Unix socket started on demand; inside the grader's sandbox, to the
socket the grader names in ``VLCOURSE_LLM_SOCKET``. The same notebook runs unchanged in all three.

* ``config``: :class:`LLMConfig` (``LLMConfig.from_env()``), the price table.
* ``client``: :func:`make_client`, :func:`make_async_client` (an httpx transport for Unix sockets).
* ``local``: :class:`LocalEndpoint`, the on-demand server.
* ``cache``, ``usage``: the disk cache keyed by the full request; token and cost totals.
* ``llm``: :class:`LLM`: ``complete``, ``chat``, ``score`` / ``choose`` (log-likelihood of fixed
  answers), ``batch_complete`` / ``batch_chat`` (async client, bounded concurrency, progress bar).
"""

from vlcourse.llm.config import LLMConfig
from vlcourse.llm.client import make_async_client, make_client
from vlcourse.llm.llm import LLM
from vlcourse.llm.local import LocalEndpoint
from vlcourse.llm.usage import Usage
