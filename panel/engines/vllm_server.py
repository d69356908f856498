"""vllm-server: an OpenAI-compatible vLLM server, reached with an async HTTP client.

The structured-output part of each request comes from `decoding.structured_outputs`: by default
a grammar with no free whitespace, which the server honours per request whatever its own flags.
The request itself is sent here, because the engine needs what a client library does not
return: the finish reason and the token counts, and the plain completions endpoint for base
models without a chat template.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import httpx

from panel.engines.base import Engine, GenRequest, GenResult, verify_check_reply
from panel.engines.decoding import structured_outputs
from panel.engines.options import ServerOptions
from panel.errors import EngineError, EngineUnavailable

if TYPE_CHECKING:
    from panel.engines.profiles import Profile

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


def build_payload(profile: Profile, request: GenRequest) -> tuple[str, dict[str, Any]]:
    """Endpoint path and JSON body for one request. Pure, so tests can inspect it."""
    options = profile.options_as(ServerOptions)
    body: dict[str, Any] = {
        "model": profile.request_model,
        "max_tokens": request.max_tokens,
        "temperature": profile.temperature,
        "top_p": profile.top_p,
        **options.sampling.set(),
        **structured_outputs(request.schema, options.constraint),
    }
    if request.seed is not None and VLLMServerEngine.takes_seeds(profile):
        body["seed"] = request.seed
    if request.prompt.form == "chat":
        body["messages"] = request.prompt.as_messages()
        return "/chat/completions", body
    body["prompt"] = request.prompt.text
    return "/completions", body


def parse_reply(data: dict[str, Any]) -> tuple[str, str | None, int | None, int | None]:
    """Text, finish reason and token counts from a chat or completions reply."""
    choice = data["choices"][0]
    text = choice.get("text")
    if text is None:
        text = (choice.get("message") or {}).get("content") or ""
    usage = data.get("usage") or {}
    return text, choice.get("finish_reason"), usage.get("prompt_tokens"), usage.get("completion_tokens")


class _Backend:
    """One server URL and how many requests it has outstanding."""

    def __init__(self, url: str):
        self.url = url
        self.outstanding = 0


class VLLMServerEngine(Engine):
    name = "vllm-server"
    Options = ServerOptions

    @classmethod
    def takes_seeds(cls, profile: Profile) -> bool:
        """Only when the profile sets `seed:`. A seeded request whose prefill the server splits
        across steps (chunked prefill, on by default) crashes vLLM's CPU build, and with it every
        request in flight from every client; GPU servers are fine. A CPU server that should take
        seeds must run with --no-enable-chunked-prefill. Without seeds the server picks each
        draw, which still differs from request to request."""
        return profile.seed is not None

    def __init__(self, profile: Profile, say: Callable[[str], None] | None = None):
        super().__init__(profile, say)
        self.backends = [_Backend(u) for u in profile.base_url]
        self.client: httpx.AsyncClient | None = None
        # Circuit breaker: this many requests in a row that found no server end the run, so a
        # dead server fails fast (and the run resumes later) instead of failing every review.
        self.breaker = max(4, min(profile.concurrency, 16))
        self.down_in_a_row = 0

    def _headers(self) -> dict[str, str]:
        env = self.profile.api_key_env
        if not env:
            return {}
        key = os.environ.get(env)
        if not key:
            raise EngineError(
                f"api_key_env names ${env}, which is not set",
                where=self.where,
                hint=f"export {env}=... or remove api_key_env from the profile",
            )
        return {"Authorization": f"Bearer {key}"}

    async def start(self) -> None:
        if self.client is None:
            limits = httpx.Limits(max_connections=self.profile.concurrency + 4)
            self.client = httpx.AsyncClient(
                headers=self._headers(), timeout=httpx.Timeout(self.profile.timeout), limits=limits
            )

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    def _pick(self) -> _Backend:
        """The server with the fewest requests in flight (ties go to the first listed)."""
        return min(self.backends, key=lambda b: b.outstanding)

    async def preflight(self) -> None:
        """Every server answers, serves the profile's model and honours structured output;
        otherwise one clear error before any review is attempted."""
        await self.start()
        for backend in self.backends:
            await self._check_models(backend)
            result = await self._one(self.check_request(), backend)
            if result.error:
                error = EngineUnavailable if result.unavailable else EngineError
                raise error(f"{backend.url}: {result.error}", where=self.where)
            verify_check_reply(result, where=f"{self.where} ({backend.url})")

    async def _check_models(self, backend: _Backend) -> None:
        """The server answers /models, accepts the key and serves the profile's model; its
        context window becomes the engine's."""
        assert self.client is not None
        client = self.client
        try:
            reply = await self._with_retries(lambda: client.get(f"{backend.url}/models"))
        except EngineError as exc:
            raise EngineUnavailable(
                f"cannot reach the vLLM server at {backend.url}: {exc.problem}",
                where=self.where,
                hint="start it (see README, 'Running against a vLLM server') or pick another --model",
            ) from None
        if reply.status_code in (401, 403):
            raise EngineError(
                f"{backend.url} refused the API key (HTTP {reply.status_code})",
                where=self.where,
                hint=f"check ${self.profile.api_key_env or 'the api_key_env variable'}",
            )
        if reply.status_code != 200:
            raise EngineError(f"{backend.url}/models answered HTTP {reply.status_code}", where=self.where)
        models = {m.get("id"): m for m in reply.json().get("data", []) if isinstance(m, dict)}
        if self.profile.request_model not in models:
            raise EngineError(
                f"{backend.url} does not serve model {self.profile.request_model!r} "
                f"(it serves {list(models)})",
                where=self.where,
                hint="set the profile's served_model_name to one of those",
            )
        window = models[self.profile.request_model].get("max_model_len")
        if isinstance(window, int) and window > 0:
            self.context_length = min(self.context_length or window, window)

    async def check(self) -> str:
        started = time.perf_counter()
        await self.preflight()
        n = len(self.backends)
        servers = "the server" if n == 1 else f"all {n} servers"
        return f"structured output works on {servers} ({time.perf_counter() - started:.1f} s)"

    async def _with_retries(self, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        """Retry connection errors, timeouts and 5xx with exponential backoff and jitter."""
        attempts = self.profile.retries + 1
        last, unreachable = "", False
        for attempt in range(attempts):
            try:
                reply = await send()
            except httpx.TimeoutException:
                last, unreachable = f"no reply within {self.profile.timeout:g} s", True
            except httpx.TransportError as exc:
                last, unreachable = f"connection failed ({type(exc).__name__})", True
            else:
                if reply.status_code not in RETRY_STATUS:
                    return reply
                last, unreachable = f"HTTP {reply.status_code}", False
            if attempt + 1 < attempts:
                await asyncio.sleep(min(0.5 * 2**attempt, 8.0) * (0.5 + random.random()))
        error = EngineUnavailable if unreachable else EngineError
        raise error(f"{last} after {attempts} attempts", where=self.where)

    async def generate(self, request: GenRequest) -> GenResult:
        return await self._one(request)

    async def _one(self, request: GenRequest, backend: _Backend | None = None) -> GenResult:
        await self.start()
        assert self.client is not None
        client = self.client
        path, body = build_payload(self.profile, request)
        backend = backend or self._pick()
        backend.outstanding += 1
        started = time.perf_counter()
        try:
            self.requests_sent += 1
            reply = await self._with_retries(lambda: client.post(f"{backend.url}{path}", json=body))
        except EngineError as exc:
            unavailable = isinstance(exc, EngineUnavailable)
            self.down_in_a_row = self.down_in_a_row + 1 if unavailable else 0
            return GenResult(
                request, error=exc.problem, latency_s=time.perf_counter() - started, unavailable=unavailable
            )
        finally:
            backend.outstanding -= 1
        self.down_in_a_row = 0
        latency = time.perf_counter() - started
        if reply.status_code != 200:
            detail = reply.text[:300].replace("\n", " ")
            return GenResult(request, error=f"HTTP {reply.status_code}: {detail}", latency_s=latency)
        try:
            text, finish, p_tok, c_tok = parse_reply(reply.json())
        except (ValueError, KeyError, IndexError, TypeError):
            return GenResult(
                request, error="the server's reply is not an OpenAI-style completion", latency_s=latency
            )
        return GenResult(
            request,
            text=text,
            finish_reason=finish,
            prompt_tokens=p_tok,
            completion_tokens=c_tok,
            latency_s=latency,
            server=backend.url,
        )

    def after_result(self) -> None:
        if self.down_in_a_row >= self.breaker:
            raise EngineUnavailable(
                f"the vLLM server stopped answering: {self.down_in_a_row} requests in a row "
                "failed after retries",
                where=self.where,
                hint="restart it, then run the same command again to resume",
            )
