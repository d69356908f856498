"""A fault-injecting reverse proxy in front of a real vLLM server.

The replies still come from the real server; the proxy only breaks things on purpose: it answers
HTTP 500, resets connections, stalls past the client's timeout, cuts the token budget so the
server stops on "length", drops the structured-output request (as vLLM before 0.12 did), or
insists on an API key. Tests set `proxy.faults` and read `proxy.log`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from panel.engines.base import CHECK_MAX_TOKENS

from vllmserver import free_port


@dataclass
class Faults:
    fail_every: int = 0  # every Nth new generation request gets HTTP 500 ...
    reset_every: int = 0  # ... or has its connection cut; a retry of the same request goes through
    delay_s: float = 0.0  # stall generation requests this long before forwarding ...
    delay_from: int = 1  # ... from the Nth generation request on
    cap_max_tokens: int = 0  # lower max_tokens to this, for requests asking between ...
    cap_from: int = 100  # ... this many tokens (the structured-output check asks for 64) ...
    cap_below: int = 10**9  # ... and less than this (set it to catch first attempts only)
    strip_structured: bool = False  # forward without structured_outputs / response_format
    # Keep only the branch of a review's JSON-schema constraint with this verdict ("ship" or
    # "skip"): the real model still writes the reply, but its verdict is the test's choice.
    narrow_verdict: str | None = None
    require_key: str | None = None  # answer 401 unless "Authorization: Bearer <key>"


def _narrow(data: dict[str, Any], verdict: str) -> bool:
    """Cut a review schema (sent in the json form) down to its `verdict` branch, in place."""
    schema = (data.get("structured_outputs") or {}).get("json")
    branches = schema.get("anyOf") if isinstance(schema, dict) else None
    keep = [b for b in branches or [] if b.get("properties", {}).get("verdict", {}).get("const") == verdict]
    if not keep:
        return False
    data["structured_outputs"]["json"] = keep[0]
    return True


@dataclass
class FaultProxy:
    upstream: str  # e.g. http://127.0.0.1:8011 (no /v1)
    faults: Faults = field(default_factory=Faults)
    port: int = field(default_factory=free_port)
    log: list[dict[str, Any]] = field(default_factory=list)
    _count: int = 0
    _seen: set[int] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        generation = request.path.endswith("/completions")
        entry: dict[str, Any] = {"path": request.path, "auth": request.headers.get("Authorization")}
        self.log.append(entry)
        f = self.faults
        if f.require_key is not None and request.headers.get("Authorization") != f"Bearer {f.require_key}":
            entry["fault"] = "401"
            return web.json_response({"error": "bad key"}, status=401)
        if generation:
            self._count += 1
            n = self._count
            first_time = hash(body) not in self._seen
            self._seen.add(hash(body))
            if first_time and f.fail_every and n % f.fail_every == 0:
                entry["fault"] = "500"
                return web.json_response({"error": "injected failure"}, status=500)
            if first_time and f.reset_every and n % f.reset_every == 0:
                entry["fault"] = "reset"
                assert request.transport is not None
                request.transport.abort()
                raise web.HTTPInternalServerError()
            if f.delay_s and n >= f.delay_from:
                entry["fault"] = "delay"
                await asyncio.sleep(f.delay_s)
            data = json.loads(body)
            entry["max_tokens"] = data.get("max_tokens")
            if f.cap_max_tokens and f.cap_from <= data.get("max_tokens", 0) < f.cap_below:
                entry["fault"] = "cap"
                data["max_tokens"] = f.cap_max_tokens
            if f.strip_structured:
                entry["fault"] = "strip"
                data.pop("structured_outputs", None)
                data.pop("response_format", None)
            if f.narrow_verdict and _narrow(data, f.narrow_verdict):
                entry["fault"] = "narrow"
            body = json.dumps(data).encode()
        headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
        async with (
            ClientSession(timeout=ClientTimeout(total=600)) as session,
            session.request(
                request.method, self.upstream + request.path_qs, data=body or None, headers=headers
            ) as reply,
        ):
            payload = await reply.read()
            return web.Response(
                body=payload, status=reply.status, content_type=reply.content_type or "application/json"
            )

    def reviews(self) -> int:
        """Review requests seen (a first attempt and its retry count apart); not the short
        structured-output check an engine sends when it starts."""
        return sum(
            1
            for e in self.log
            if e["path"].endswith("completions") and (e.get("max_tokens") or 0) > CHECK_MAX_TOKENS
        )

    def start(self) -> FaultProxy:
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            self._loop.run_until_complete(site.start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            await self._runner.cleanup()
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
        self._thread.join(10)
