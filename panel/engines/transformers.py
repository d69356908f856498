"""transformers: in-process transformers + outlines, for machines without vLLM.

Decoding runs under outlines' XGrammar logits processor. Requests run one after another in a
worker thread; this engine is for small jobs and for machines where vLLM will not install.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from panel.engines import embedded
from panel.engines.base import Engine, GenRequest, GenResult, Prompt
from panel.engines.options import TransformersOptions
from panel.engines.tokens import PromptTokens
from panel.errors import EngineError

if TYPE_CHECKING:
    from panel.engines.profiles import Profile


class TransformersEngine(Engine):
    name = "transformers"
    Options = TransformersOptions

    def __init__(self, profile: Profile, say: Callable[[str], None] | None = None):
        super().__init__(profile, say)
        self.model: Any = None
        self.tokenizer: Any = None
        self.backend: Any = None
        self._grammars: dict[str, Any] = {}
        self.prompt_tokens = PromptTokens(self._inputs)  # counted and generated from one tokenization

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
        dtype = getattr(torch, self.options.dtype)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        except (OSError, ValueError) as exc:
            raise EngineError(f"cannot load model {self.profile.model!r}: {exc}", where=self.where) from None
        self.model.eval()
        window = getattr(self.model.config, "max_position_embeddings", None)
        self.context_length = int(window) if isinstance(window, int) and window > 0 else None
        self.backend = XGrammarBackend(outlines.from_transformers(self.model, self.tokenizer))

    async def start(self) -> None:
        if self.model is None:
            await asyncio.to_thread(self._load)

    async def close(self) -> None:
        self.model = self.tokenizer = self.backend = None
        self._grammars.clear()
        self.prompt_tokens.clear()

    def _processor(self, schema: dict[str, Any]) -> Any:
        from outlines.backends.xgrammar import XGrammarLogitsProcessor

        key = json.dumps(schema)  # property order matters: the decoder follows it
        if key not in self._grammars:
            # Compiled here rather than through backend.get_json_schema_logits_processor so that
            # whitespace between JSON tokens can be switched off, as on the vLLM engines.
            self._grammars[key] = self.backend.grammar_compiler.compile_json_schema(key, any_whitespace=False)
        return XGrammarLogitsProcessor(self._grammars[key], "torch")

    def _inputs(self, prompt: Prompt) -> Any:
        if prompt.form == "chat":
            text = self.tokenizer.apply_chat_template(
                prompt.as_messages(), tokenize=False, add_generation_prompt=True
            )
            return self.tokenizer(text, return_tensors="pt", add_special_tokens=False)
        return self.tokenizer(prompt.text, return_tensors="pt", add_special_tokens=True)

    async def count_tokens(self, prompt: Prompt) -> int:
        if self.tokenizer is None:
            return await super().count_tokens(prompt)
        return int(self.prompt_tokens.tokens(prompt)["input_ids"].shape[1])

    def _generate(self, request: GenRequest) -> GenResult:
        import torch
        from transformers import LogitsProcessorList

        inputs = self.prompt_tokens.tokens(request.prompt)
        if request.seed is not None:
            torch.manual_seed(request.seed)  # each review's own draw, reproducible
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
                **self.options.sampling.set(),
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

    @property
    def capacity(self) -> int:
        return 1  # one request at a time, in a worker thread

    def _generate_safely(self, request: GenRequest) -> GenResult:
        try:
            return self._generate(request)
        except Exception as exc:  # noqa: BLE001 - one failed request is reported, not raised
            return GenResult(request, error=f"generation failed: {type(exc).__name__}: {exc}")

    async def generate(self, request: GenRequest) -> GenResult:
        await self.start()
        return await asyncio.to_thread(self._generate_safely, request)
