"""Turning requests into reviews: one engine per profile, retries on cut-off replies, parsing.

Shared by every command that generates reviews. Nothing here knows about files or panels.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable

from pydantic import ValidationError

from panel.config import Profile
from panel.engines import Engine, GenRequest, GenResult, create_engine
from panel.engines.server import VLLMServerEngine
from panel.loading import describe_validation_error
from panel.personas import Persona
from panel.records import Review

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def parse_review(text: str, persona: Persona) -> Review:
    """Read a constrained reply. Tolerant of raw control characters inside strings (they are
    legal for the decoder but not for strict JSON); strict about everything else."""
    try:
        data = json.loads(text, strict=False)
    except ValueError:
        raise ValueError(
            "the reply is not JSON although decoding was constrained; the server may be ignoring "
            "structured output (check with `panel models --check`)"
        ) from None
    if not isinstance(data, dict):
        raise ValueError("the reply is JSON but not an object")
    if isinstance(data.get("review"), str):
        data["review"] = " ".join(_CONTROL.sub(" ", data["review"]).split())
    try:
        review = Review.model_validate(data)
    except ValidationError as exc:
        raise ValueError(
            f"the reply does not fit the review schema: {describe_validation_error(exc)}"
        ) from None
    if review.persona != persona.id:
        raise ValueError(f"the reply is for persona {review.persona!r}, not {persona.id!r}")
    return review


class EnginePool:
    """One started engine per profile, created only when a review actually needs it."""

    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self.engines: dict[str, Engine] = {}
        self._lock = asyncio.Lock()
        self._closed_requests = 0

    async def get(self, profile: Profile) -> Engine:
        async with self._lock:
            if profile.name not in self.engines:
                engine = create_engine(profile, say=self.say)
                if isinstance(engine, VLLMServerEngine):
                    await engine.preflight()
                await engine.start()
                self.engines[profile.name] = engine
            return self.engines[profile.name]

    @property
    def requests_sent(self) -> int:
        """Model requests sent by every engine this pool has run, closed ones included."""
        return self._closed_requests + sum(e.requests_sent for e in self.engines.values())

    async def close(self) -> None:
        for engine in self.engines.values():
            self._closed_requests += engine.requests_sent
            await engine.close()
        self.engines.clear()


async def generate_with_retry(
    engine: Engine, requests: AsyncIterator[GenRequest]
) -> AsyncIterator[GenResult]:
    """A reply cut off by the token limit is never parsed: it is retried once with twice the
    budget, after the first pass; a second cut-off is a failed review."""
    retries: list[GenRequest] = []
    async for result in engine.run(requests):
        if result.finish_reason == "length" and result.request.attempt == 1:
            retries.append(result.request.retry_with(result.request.max_tokens * 2))
            continue
        yield result
    if retries:
        async for result in engine.run(retries):
            yield result
