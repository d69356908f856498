"""One started engine per profile, created only when a job actually needs it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from panel.engines import Engine, create_engine
from panel.engines.profiles import Profile


class EnginePool:
    """Engines by profile name. `get` runs the engine's pre-flight (a server answers and
    honours structured output) and starts it, once; `close` releases them all."""

    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self.engines: dict[str, Engine] = {}
        # One lock per profile: a jury's members check and start their engines side by side.
        self._locks: dict[str, asyncio.Lock] = {}
        self._closed_requests = 0

    async def get(self, profile: Profile) -> Engine:
        async with self._locks.setdefault(profile.name, asyncio.Lock()):
            if profile.name not in self.engines:
                engine = create_engine(profile, say=self.say)
                try:
                    await engine.preflight()
                    await engine.start()
                except BaseException:
                    await engine.close()
                    raise
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
