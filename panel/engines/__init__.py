"""Engines behind one async interface. A profile's `engine:` picks one from `ENGINES`.

Nothing here imports from the rest of panel except the profile config (for types) and the
errors: prompts, records and runs are built above this boundary and cross it as the types in
`base`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from panel.engines.base import Engine, GenRequest, GenResult, Prompt
from panel.engines.options import EngineOptions, SamplingOptions
from panel.engines.transformers import TransformersEngine
from panel.engines.vllm_offline import VLLMOfflineEngine
from panel.engines.vllm_server import VLLMServerEngine

if TYPE_CHECKING:
    from panel.engines.profiles import Profile

ENGINES: dict[str, type[Engine]] = {
    "vllm-server": VLLMServerEngine,
    "vllm-offline": VLLMOfflineEngine,
    "transformers": TransformersEngine,
}


def create_engine(profile: Profile, say: Callable[[str], None] | None = None) -> Engine:
    """A new, not yet started engine for `profile`. Heavy libraries load on `start()`."""
    return ENGINES[profile.engine](profile, say=say)


__all__ = [
    "ENGINES",
    "Engine",
    "EngineOptions",
    "GenRequest",
    "GenResult",
    "Prompt",
    "SamplingOptions",
    "create_engine",
]
