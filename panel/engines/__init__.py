"""Engines behind one async interface. A profile's `engine:` picks one from `ENGINES`."""

from __future__ import annotations

from collections.abc import Callable

from panel.config import Profile
from panel.engines.base import Engine, GenRequest, GenResult
from panel.engines.hf import TransformersEngine
from panel.engines.offline import VLLMOfflineEngine
from panel.engines.server import VLLMServerEngine

ENGINES: dict[str, type[Engine]] = {
    "vllm-server": VLLMServerEngine,
    "vllm-offline": VLLMOfflineEngine,
    "transformers": TransformersEngine,
}


def create_engine(profile: Profile, say: Callable[[str], None] | None = None) -> Engine:
    """A new, not yet started engine for `profile`. Heavy libraries load on `start()`."""
    return ENGINES[profile.engine](profile, say=say)


__all__ = ["ENGINES", "Engine", "GenRequest", "GenResult", "create_engine"]
