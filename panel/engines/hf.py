"""transformers: in-process transformers + outlines, for machines without vLLM.

Decoding runs under outlines' XGrammar logits processor. Requests run one after another in a
worker thread; this engine is for small jobs and for machines where vLLM will not install.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import Any

from panel import embedded
from panel.config import Profile
from panel.engines.base import Engine, GenRequest, GenResult, as_async
from panel.errors import EngineError


class TransformersEngine(Engine):
    name = "transformers"

    def __init__(self, profile: Profile, say: Callable[[str], None] | None = None):
        super().__init__(profile, say)
        self.model: Any = None
        self.tokenizer: Any = None
        self.backend: Any = None
        self._grammars: dict[str, Any] = {}

    def _load(self) -> None:
        path = embedded.resolve(self.profile.model, self.say)
        try:
            import outlines
            import torch
            from outlines.backends.xgrammar import XGrammarBackend
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise EngineError(f"the transformers engine needs {exc.name}", where=self.where) from None
        self.say(f"Loading {self.profile.model} with transformers")
        dtype = getattr(torch, self.profile.options.get("dtype", "float32"))
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        except (OSError, ValueError) as exc:
            raise EngineError(f"cannot load model {self.profile.model!r}: {exc}", where=self.where) from None
        self.model.eval()
        self.backend = XGrammarBackend(outlines.from_transformers(self.model, self.tokenizer))

    async def start(self) -> None:
        if self.model is None:
            await asyncio.to_thread(self._load)

    async def close(self) -> None:
        self.model = self.tokenizer = self.backend = None
        self._grammars.clear()

    def _processor(self, schema: dict[str, Any]) -> Any:
        from outlines.backends.xgrammar import XGrammarLogitsProcessor

        key = json.dumps(schema)  # property order matters: the decoder follows it
        if key not in self._grammars:
            # Compiled here rather than through backend.get_json_schema_logits_processor so that
            # whitespace between JSON tokens can be switched off, as on the vLLM engines.
            self._grammars[key] = self.backend.grammar_compiler.compile_json_schema(key, any_whitespace=False)
        return XGrammarLogitsProcessor(self._grammars[key], "torch")

    def _generate(self, request: GenRequest) -> GenResult:
        import torch
        from transformers import LogitsProcessorList

        if request.prompt.form == "chat":
            text = self.tokenizer.apply_chat_template(
                request.prompt.as_messages(), tokenize=False, add_generation_prompt=True
            )
            special = False
        else:
            text, special = request.prompt.text, True
        inputs = self.tokenizer(text, return_tensors="pt", add_special_tokens=special)
        if self.profile.seed is not None:
            # Reproducible per request, yet different across the requests of one run.
            torch.manual_seed(self.profile.seed + zlib.crc32(request.key.encode()))
        sample = self.profile.temperature > 0
        started = time.perf_counter()
        self.requests_sent += 1
        with torch.inference_mode():
            out = self.model.generate(
                **inputs,
                logits_processor=LogitsProcessorList([self._processor(request.schema)]),
                max_new_tokens=request.max_tokens,
                do_sample=sample,
                temperature=self.profile.temperature if sample else None,
                top_p=self.profile.top_p if sample else None,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
                **self.profile.options.get("sampling", {}),
            )
        prompt_len = inputs["input_ids"].shape[1]
        generated = out[0][prompt_len:].tolist()
        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos]) | {self.tokenizer.eos_token_id}
        stopped = bool(generated) and generated[-1] in eos_ids
        finish = "stop" if stopped or len(generated) < request.max_tokens else "length"
        return GenResult(
            request,
            text=self.tokenizer.decode(generated, skip_special_tokens=True),
            finish_reason=finish,
            prompt_tokens=prompt_len,
            completion_tokens=len(generated),
            latency_s=time.perf_counter() - started,
        )

    def _generate_safely(self, request: GenRequest) -> GenResult:
        try:
            return self._generate(request)
        except Exception as exc:  # noqa: BLE001 - one failed request is reported, not raised
            return GenResult(request, error=f"generation failed: {type(exc).__name__}: {exc}")

    async def run(
        self, requests: Iterable[GenRequest] | AsyncIterable[GenRequest]
    ) -> AsyncIterator[GenResult]:
        await self.start()
        async for request in as_async(requests):
            yield await asyncio.to_thread(self._generate_safely, request)
