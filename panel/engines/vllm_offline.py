"""vllm-offline: the in-process `vllm.LLM`, driven one engine step at a time.

`LLM.generate` returns only when every prompt of the call is done, so a progress bar would sit
at zero until the end. Instead one worker thread owns vLLM's engine: it adds requests as they
arrive and steps the engine, handing back each request the moment it finishes. That is the loop
`generate` runs inside, so throughput is the same (bench/offline_streaming.py measures it), and
requests keep joining the running batch (continuous batching).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from panel.engines import embedded
from panel.engines.base import CHECK_SCHEMA, Engine, GenRequest, GenResult, Prompt
from panel.engines.options import OfflineOptions
from panel.engines.tokens import PromptTokens
from panel.errors import EngineError

if TYPE_CHECKING:
    from panel.engines.profiles import Profile

DEFAULT_LLM_ARGS: dict[str, Any] = {"max_model_len": 4096}


def structured_output_params(schema: dict[str, Any]) -> Any:
    """vLLM's StructuredOutputsParams for `schema`, with the arguments outlines builds."""
    from outlines.models.vllm_offline import VLLMOfflineTypeAdapter
    from outlines.types import JsonSchema
    from vllm.sampling_params import StructuredOutputsParams

    args = VLLMOfflineTypeAdapter().format_output_type(JsonSchema(schema, ensure_ascii=False))
    return StructuredOutputsParams(**args, disable_any_whitespace=True)


def sampling_params(profile: Profile, request: GenRequest) -> Any:
    """One request's sampling: its own seed, and one output when it finishes (not one per step)."""
    from vllm import SamplingParams
    from vllm.sampling_params import RequestOutputKind

    options = profile.options_as(OfflineOptions)
    # Checked by SamplingOptions; vLLM takes each as a keyword of its own type.
    sampling: dict[str, Any] = options.sampling.set()
    return SamplingParams(
        max_tokens=request.max_tokens,
        temperature=profile.temperature,
        top_p=profile.top_p,
        seed=request.seed,
        structured_outputs=structured_output_params(request.schema),
        output_kind=RequestOutputKind.FINAL_ONLY,
        **sampling,
    )


# An idle engine waits for a burst of requests to end (no new one for GATHER_GAP_S, at most
# GATHER_MAX_S) before its first step: requests sent together are then prefilled together.
GATHER_GAP_S = 0.005
GATHER_MAX_S = 0.1


@dataclass
class _Pending:
    request: GenRequest
    future: asyncio.Future[GenResult]
    started: float


class _Stepper(threading.Thread):
    """Owns vLLM's engine: adds requests from `inbox`, steps, resolves each finished request's
    future on the event loop. Only this thread touches the engine after start-up."""

    def __init__(self, llm: Any, loop: asyncio.AbstractEventLoop, build: Callable[[GenRequest], Any]):
        super().__init__(name="panel-vllm-steps", daemon=True)
        self.engine = llm.llm_engine
        self.loop = loop
        self.build = build  # request -> (prompt, params)
        self.inbox: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self.pending: dict[str, _Pending] = {}
        self.failed: str | None = None

    def submit(self, item: _Pending) -> None:
        self.inbox.put(item)

    def stop(self) -> None:
        self.inbox.put(None)

    def _resolve(self, item: _Pending, result: GenResult) -> None:
        self.loop.call_soon_threadsafe(_set_result, item.future, result)

    def _add(self, item: _Pending) -> None:
        if self.failed:
            self._resolve(item, GenResult(item.request, error=self.failed))
            return
        request_id = f"{item.request.key}#{item.request.attempt}"
        try:
            prompt, params = self.build(item.request)
            self.engine.add_request(request_id, prompt, params)
        except Exception as exc:  # noqa: BLE001 - one bad prompt (too long, say) must not sink the rest
            self._resolve(item, GenResult(item.request, error=f"vLLM refused the request: {exc}"))
            return
        self.pending[request_id] = item

    def _take(self, item: _Pending | None, gather: bool) -> bool:
        """Add `item` and what else the inbox holds; False once told to stop. With `gather`
        (the engine was idle), also wait for the rest of a burst, so that requests sent together
        are prefilled together rather than the first one alone."""
        deadline = time.monotonic() + GATHER_MAX_S
        while True:
            if item is None:
                self._fail_all("the engine was closed")
                return False
            self._add(item)
            wait = min(GATHER_GAP_S, deadline - time.monotonic()) if gather else 0.0
            try:
                item = self.inbox.get(timeout=wait) if wait > 0 else self.inbox.get_nowait()
            except queue.Empty:
                return True

    def run(self) -> None:
        while True:
            idle = not self.pending
            try:
                item = self.inbox.get(block=idle)
            except queue.Empty:
                pass
            else:
                if not self._take(item, gather=idle):
                    return
            if not self.pending:
                continue
            try:
                outputs = self.engine.step()
            except Exception as exc:  # noqa: BLE001 - a dead engine fails what it holds, once
                self.failed = f"the vLLM engine failed: {type(exc).__name__}: {exc}"
                self._fail_all(self.failed)
                continue
            for out in outputs:
                if out.finished and out.request_id in self.pending:
                    item = self.pending.pop(out.request_id)
                    self._resolve(item, _result(item, out))

    def _fail_all(self, reason: str) -> None:
        for item in self.pending.values():
            self._resolve(item, GenResult(item.request, error=reason))
        self.pending.clear()


def _set_result(future: asyncio.Future[GenResult], result: GenResult) -> None:
    if not future.done():
        future.set_result(result)


def _result(item: _Pending, out: Any) -> GenResult:
    completion = out.outputs[0]
    return GenResult(
        item.request,
        text=completion.text,
        finish_reason=completion.finish_reason,
        prompt_tokens=len(out.prompt_token_ids or []),
        completion_tokens=len(completion.token_ids),
        latency_s=time.perf_counter() - item.started,
    )


class VLLMOfflineEngine(Engine):
    name = "vllm-offline"
    Options = OfflineOptions

    def __init__(self, profile: Profile, say: Callable[[str], None] | None = None):
        super().__init__(profile, say)
        self.llm: Any = None
        self.tokenizer: Any = None
        self.stepper: _Stepper | None = None
        self.prompt_tokens = PromptTokens(self._token_ids)  # counted and built from one tokenization

    @property
    def capacity(self) -> int:
        return self.options.max_in_flight

    def llm_args(self) -> dict[str, Any]:
        """vllm.LLM's arguments. Chunked prefill is off: a seeded request whose prefill is split
        across steps crashes the CPU build ("CPU Generator does not use offset"), and every review
        carries its own seed."""
        args = {**DEFAULT_LLM_ARGS, **self.options.llm}
        args.setdefault("enable_chunked_prefill", False)
        args.setdefault("max_num_batched_tokens", max(int(args["max_model_len"]), 8192))
        return args

    async def start(self) -> None:
        if self.llm is not None:
            return
        path = embedded.resolve(self.profile.model, self.say)
        options: OfflineOptions = self.options
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", f"{options.kv_cache_gib:g}")
        if options.cpu_reserved_cores is not None:  # vLLM's CPU build keeps one core idle by default
            os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", str(options.cpu_reserved_cores))
        try:
            from vllm import LLM
        except ImportError:
            raise EngineError(
                "vllm is not installed",
                where=self.where,
                hint='pip install -e ".[cpu]" on a machine without a GPU, ".[vllm]" with one',
            ) from None
        args = self.llm_args()
        self.say(
            f"Starting the vLLM engine for {self.profile.model} (on 2 CPU cores this takes about a minute)"
        )
        started = time.perf_counter()

        def create() -> Any:
            llm = LLM(
                model=path,
                seed=self.profile.seed if self.profile.seed is not None else 0,
                structured_outputs_config={"backend": "xgrammar", "disable_any_whitespace": True},
                **args,
            )
            structured_output_params(CHECK_SCHEMA)  # imports outlines now, not under the first request
            return llm

        try:
            # In a thread: the event loop goes on planning (so the progress total is right early).
            self.llm = await asyncio.to_thread(create)
        except Exception as exc:  # noqa: BLE001 - vLLM raises many types; the user needs one line
            raise EngineError(
                f"vLLM could not start: {type(exc).__name__}: {exc}", where=self.where
            ) from None
        self.tokenizer = self.llm.get_tokenizer()
        self.context_length = int(args["max_model_len"])
        self.stepper = _Stepper(self.llm, asyncio.get_running_loop(), self._build)
        self.stepper.start()
        self.say(f"vLLM engine ready in {time.perf_counter() - started:.0f} s")

    def _build(self, request: GenRequest) -> tuple[Any, Any]:
        """The engine's prompt (token ids, so a chat template's own <bos> is not doubled) and
        sampling parameters for one request."""
        token_ids = list(self.prompt_tokens.tokens(request.prompt))  # a copy: the engine owns its list
        return {"prompt_token_ids": token_ids}, sampling_params(self.profile, request)

    def _token_ids(self, prompt: Prompt) -> list[int]:
        if prompt.form == "chat":
            return list(
                self.tokenizer.apply_chat_template(
                    prompt.as_messages(), tokenize=True, add_generation_prompt=True
                )
            )
        return list(self.tokenizer(prompt.text or "").input_ids)

    async def count_tokens(self, prompt: Prompt) -> int:
        if self.tokenizer is None:
            return await super().count_tokens(prompt)
        return len(self.prompt_tokens.tokens(prompt))

    async def close(self) -> None:
        if self.stepper is not None:
            self.stepper.stop()
            await asyncio.to_thread(self.stepper.join, 30)
            self.stepper = None
        if self.llm is not None:
            engine = getattr(self.llm, "llm_engine", None)
            shutdown = getattr(engine, "shutdown", None) or getattr(
                getattr(engine, "engine_core", None), "shutdown", None
            )
            if shutdown is not None:
                with contextlib.suppress(Exception):  # best effort at exit
                    shutdown()
            self.llm = None
        self.prompt_tokens.clear()

    async def generate(self, request: GenRequest) -> GenResult:
        await self.start()
        assert self.stepper is not None
        future: asyncio.Future[GenResult] = asyncio.get_running_loop().create_future()
        self.requests_sent += 1
        self.stepper.submit(_Pending(request, future, time.perf_counter()))
        return await future
