"""The one small async interface every engine implements, and the types that cross it.

An engine turns `GenRequest`s into `GenResult`s. It implements `generate` for one request and
says how many it can take at once (`capacity`); `run` keeps that many in flight and yields each
result as it lands. Everything here is engine-side: prompts are built elsewhere and handed over
as a `Prompt`; what a request is for travels as typed fields the engine never reads.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from panel.engines.decoding import Diagnosis, diagnose
from panel.engines.options import EngineOptions
from panel.errors import EngineError

if TYPE_CHECKING:
    from panel.engines.profiles import Profile

Form = Literal["chat", "completion"]
Stage = Literal["check", "review", "claims"]
T = TypeVar("T")

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
CHECK_MAX_TOKENS = 64


@dataclass(frozen=True)
class Prompt:
    """What goes to the engine: a string (completion) or a list of chat messages."""

    form: Form
    text: str | None = None
    messages: tuple[tuple[str, str], ...] = ()

    def as_messages(self) -> list[dict[str, str]]:
        return [{"role": r, "content": c} for r, c in self.messages]

    def display(self) -> str:
        if self.text is not None:
            return self.text
        return "\n\n".join(f"[{role}]\n{content}" for role, content in self.messages)

    @classmethod
    def plain(cls, form: Form, text: str) -> Prompt:
        """One instruction in either form (the structured-output check)."""
        if form == "completion":
            return cls(form=form, text=text)
        return cls(form=form, messages=(("user", text.strip()),))


@dataclass(frozen=True)
class GenRequest:
    """One constrained generation: a prompt, the schema its reply must fit, a token budget.

    `key` is unique within a run. `stage`, `tool` and `persona` say what the request is for; the
    engine does not read them. `seed` makes the draw reproducible where the engine honours it.
    """

    key: str
    prompt: Prompt
    schema: dict[str, Any]
    max_tokens: int
    stage: Stage = "review"
    tool: str = ""
    persona: str = ""
    seed: int | None = None
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
    unavailable: bool = False  # the server could not be reached: worth retrying later
    server: str | None = None  # which server answered, where there are several

    @property
    def ok(self) -> bool:
        return self.error is None and self.finish_reason != "length" and self.text is not None

    def diagnosis(self) -> Diagnosis:
        """What the reply is: a JSON object, free text, whitespace padding or a cut-off."""
        return diagnose(self.text or "", self.finish_reason)


class Engine(abc.ABC):
    """Turns GenRequests into GenResults, as many at once as the engine can take.

    `run` yields results as they finish (not in request order) so callers can save work as it
    arrives. It never raises for one failed request; it reports it in `GenResult.error`.
    """

    name: ClassVar[str]
    Options: ClassVar[type[EngineOptions]] = EngineOptions

    def __init__(self, profile: Profile, say: Callable[[str], None] | None = None):
        self.profile = profile
        self.say = say or (lambda _msg: None)
        self.requests_sent = 0
        # The model's context window in tokens, once known (after preflight or start).
        self.context_length: int | None = None

    async def count_tokens(self, prompt: Prompt) -> int:
        """Tokens the prompt takes. The default is an upper bound: byte-level tokenizers never
        use more than one token per byte; engines with a tokenizer at hand count exactly."""
        return len(prompt.display().encode())

    @classmethod
    def takes_seeds(cls, profile: Profile) -> bool:
        """Whether this engine honours a per-request seed with this profile."""
        return True

    @property
    def options(self) -> Any:
        """The profile's options, as this engine's own Options model."""
        return self.profile.options

    @property
    def capacity(self) -> int:
        """Requests in flight at once."""
        return self.profile.concurrency

    async def preflight(self) -> None:
        """Checks before any work (a server answers, honours structured output). Raises
        EngineError with what to fix. In-process engines constrain decoding themselves."""

    async def start(self) -> None:
        """Connect or load weights. Called once, only when there is work to do."""

    async def close(self) -> None:
        """Release the model or connections."""

    @abc.abstractmethod
    async def generate(self, request: GenRequest) -> GenResult:
        """One request; failures are reported in the result, not raised."""

    async def run(
        self, requests: Iterable[GenRequest] | AsyncIterable[GenRequest]
    ) -> AsyncIterator[GenResult]:
        """Keep up to `capacity` requests in flight; yield each result as it lands.

        Never waits for the next request while a result is ready, so a caller may feed it
        follow-up requests built from the results it yields.
        """
        await self.start()
        async for result in pump(as_async(requests), self.generate, self.capacity):
            yield result
            self.after_result()

    def after_result(self) -> None:
        """Hook after each yielded result (the server's circuit breaker)."""

    def check_request(self) -> GenRequest:
        """One tiny request whose only valid replies are the few that CHECK_SCHEMA allows."""
        return GenRequest(
            key="check",
            prompt=Prompt.plain(self.profile.prompt_format, CHECK_PROMPT),
            schema=CHECK_SCHEMA,
            max_tokens=CHECK_MAX_TOKENS,
            stage="check",
            # The profile's seed, where the engine takes seeds: the check's draw is repeatable too.
            seed=self.profile.seed if self.takes_seeds(self.profile) else None,
        )

    async def check(self) -> str:
        """Send one tiny constrained request; raise EngineError unless the reply obeys the schema."""
        started = time.perf_counter()
        await self.preflight()
        await self.start()
        result = await self.generate(self.check_request())
        if result.error:
            raise EngineError(result.error, where=self.where)
        verify_check_reply(result, where=self.where)
        return f"structured output works ({time.perf_counter() - started:.1f} s)"

    @property
    def where(self) -> str:
        return f"profile {self.profile.name!r}"

    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def verify_check_reply(result: GenResult, where: str) -> None:
    """The check reply must be exactly one of the objects CHECK_SCHEMA allows; otherwise say
    which way it went wrong (free text, whitespace padding, a cut-off) and how to fix it."""
    diagnosis = result.diagnosis()
    reply = diagnosis.value
    if not diagnosis.ok:
        raise EngineError(diagnosis.message, where=where)
    if not (
        isinstance(reply, dict)
        and reply.get("panel_check") == "structured-7f3a"
        and reply.get("n") in (40, 41, 42)
        and set(reply) == {"panel_check", "n"}
    ):
        raise EngineError(
            f"the engine ignored the JSON schema: it replied {(result.text or '')[:80]!r}, an object the "
            "schema does not allow",
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


async def pump(
    source: AsyncIterator[GenRequest],
    generate: Callable[[GenRequest], Awaitable[GenResult]],
    limit: int,
) -> AsyncIterator[GenResult]:
    """Pull requests from `source` while fewer than `limit` are in flight, and yield results as
    they finish. It waits on the source and on the requests in flight at once, so a result is
    never held back by a source that has nothing to give yet."""
    pending: set[asyncio.Future[GenResult]] = set()
    pulling: asyncio.Future[GenRequest] | None = None
    exhausted = False
    try:
        while True:
            if pulling is None and not exhausted and len(pending) < limit:
                pulling = asyncio.ensure_future(anext(source))
            waiting = pending | ({pulling} if pulling is not None else set())
            if not waiting:
                return
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if pulling is not None and pulling in done:
                try:
                    request = pulling.result()
                except StopAsyncIteration:
                    exhausted = True
                else:
                    pending.add(asyncio.ensure_future(generate(request)))
                pulling = None
            for task in pending & done:
                pending.discard(task)
                yield task.result()
    finally:
        for task in pending:
            task.cancel()
        if pulling is not None:
            pulling.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*pending, return_exceptions=True)
