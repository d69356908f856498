"""Each engine's `options:` in models.yaml, as typed models with no unknown keys.

They live apart from the engines so that reading models.yaml (profiles.py) needs none of the
engines' code: `OPTIONS` maps an engine name to its options model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from panel.engines.decoding import ConstraintForm

EngineName = Literal["vllm-server", "vllm-offline", "transformers"]


class SamplingOptions(BaseModel):
    """Sampling settings beyond temperature and top_p. They change what the model writes, so
    they are part of every review's cache key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    repetition_penalty: Annotated[float, Field(gt=0, le=4)] | None = None
    presence_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    frequency_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    top_k: Annotated[int, Field(ge=-1)] | None = None
    min_p: Annotated[float, Field(ge=0, le=1)] | None = None

    def set(self) -> dict[str, float | int]:
        """Only the settings given, as request fields."""
        return self.model_dump(exclude_none=True)


class EngineOptions(BaseModel):
    """Engine-specific settings from a profile's `options:`. Each engine subclasses it; unknown
    keys are errors, so a typo in models.yaml is caught instead of silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sampling: SamplingOptions = Field(default_factory=SamplingOptions)

    def output_settings(self) -> dict[str, Any]:
        """The options that change what the model writes: part of every cache key. Settings
        that only change where or how fast it runs stay out."""
        extra = self.sampling.set()
        return {"sampling": extra} if extra else {}


class ServerOptions(EngineOptions):
    """`options:` of a vllm-server profile."""

    constraint: ConstraintForm = "grammar"
    """How the schema is sent: `grammar` (no free whitespace, whatever the server's flags) or
    `json` (the server's own JSON-schema path; on a stock server the model may pad replies
    with whitespace until max_tokens runs out)."""

    def output_settings(self) -> dict[str, Any]:
        # The grammar form leaves no whitespace between tokens: a different token stream.
        return {**super().output_settings(), "constraint": self.constraint}


class TransformersOptions(EngineOptions):
    """`options:` of a transformers profile."""

    dtype: Literal["float32", "bfloat16", "float16"] = "float32"


class OfflineOptions(EngineOptions):
    """`options:` of a vllm-offline profile."""

    llm: dict[str, Any] = Field(default_factory=dict)
    """Arguments for `vllm.LLM` (max_model_len, enforce_eager, ...), passed as given."""

    kv_cache_gib: Annotated[float, Field(gt=0)] = 1
    """KV cache size on the CPU build (VLLM_CPU_KVCACHE_SPACE)."""

    cpu_reserved_cores: Annotated[int, Field(ge=0)] | None = None
    """Cores vLLM's CPU build keeps free (VLLM_CPU_NUM_OF_RESERVED_CPU); 0 suits in-process use."""

    max_in_flight: Annotated[int, Field(ge=1, le=4096)] = 256
    """Requests in the engine at once; vLLM batches them itself."""


OPTIONS: dict[str, type[EngineOptions]] = {
    "vllm-server": ServerOptions,
    "vllm-offline": OfflineOptions,
    "transformers": TransformersOptions,
}
