"""The one small async interface every engine implements, and the types that cross it."""

from __future__ import annotations

import abc
import asyncio
import json
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, TypeVar

from panel.config import Profile
from panel.errors import EngineError
from panel.prompts import RenderedPrompt

CHECK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "panel_check": {"const": "structured-7f3a"},
        "n": {"type": "integer", "minimum": 40, "maximum": 42},
    },
    "required": ["panel_check", "n"],
    "additionalProperties": False,
}
CHECK_PROMPT = "Reply with a small JSON object.\n"
T = TypeVar("T")


@dataclass(frozen=True)
class GenRequest:
    """One constrained generation: a prompt, the schema its reply must fit, a token budget."""

    key: str
    prompt: RenderedPrompt
    schema: dict[str, Any]
    max_tokens: int
    attempt: int = 1

    def retry_with(self, max_tokens: int) -> GenRequest:
        return replace(self, max_tokens=max_tokens, attempt=self.attempt + 1)


@dataclass
class GenResult:
    request: GenRequest
    text: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float = 0.0
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.finish_reason != "length" and self.text is not None


class Engine(abc.ABC):
    """Turns GenRequests into GenResults, as many at once as the engine can take.

    `run` yields results as they finish (not in request order) so callers can save work as it
    arrives. It never raises for one failed request; it reports it in `GenResult.error`.
    """

    name: ClassVar[str]

    def __init__(self, profile: Profile, say: Callable[[str], None] | None = None):
        self.profile = profile
        self.say = say or (lambda _msg: None)
        self.requests_sent = 0

    async def start(self) -> None:
        """Connect or load weights. Called once, only when there is work to do."""

    async def close(self) -> None:
        """Release the model or connections."""

    @abc.abstractmethod
    def run(self, requests: Iterable[GenRequest] | AsyncIterable[GenRequest]) -> AsyncIterator[GenResult]:
        """Generate every request; yield each result when it is ready."""

    def check_request(self) -> GenRequest:
        """One tiny request whose only valid replies are the few that CHECK_SCHEMA allows."""
        return GenRequest(
            key="check",
            prompt=RenderedPrompt(
                form=self.profile.prompt_format,
                text=CHECK_PROMPT if self.profile.prompt_format == "completion" else None,
                messages=(("user", CHECK_PROMPT.strip()),) if self.profile.prompt_format == "chat" else (),
            ),
            schema=CHECK_SCHEMA,
            max_tokens=64,
        )

    async def check(self) -> str:
        """Send one tiny constrained request; raise EngineError unless the reply obeys the schema."""
        started = time.perf_counter()
        (result,) = [r async for r in self.run([self.check_request()])]
        if result.error:
            raise EngineError(result.error, where=self.where)
        verify_check_reply(result.text or "", where=self.where)
        return f"structured output works ({time.perf_counter() - started:.1f} s)"

    @property
    def where(self) -> str:
        return f"profile {self.profile.name!r}"

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def verify_check_reply(text: str, where: str) -> None:
    try:
        reply = json.loads(text, strict=False)
    except ValueError:
        reply = None
    if not (
        isinstance(reply, dict)
        and reply.get("panel_check") == "structured-7f3a"
        and reply.get("n") in (40, 41, 42)
        and set(reply) == {"panel_check", "n"}
    ):
        raise EngineError(
            f"the engine ignored the JSON schema and replied {text[:80]!r}",
            where=where,
            hint="structured output is required; use vLLM 0.12 or newer, which reads `structured_outputs`",
        )


async def as_async(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    """Either kind of iterable as an async one; a plain one yields to the loop between items."""
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item
            await asyncio.sleep(0)


async def chunks(
    requests: Iterable[GenRequest] | AsyncIterable[GenRequest], size: int
) -> AsyncIterator[list[GenRequest]]:
    batch: list[GenRequest] = []
    async for r in as_async(requests):
        batch.append(r)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
