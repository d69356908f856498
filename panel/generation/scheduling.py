"""Scheduling: every job's requests, stage after stage, onto its profile's engine.

One lane per profile: a queue of jobs ready for their next request, and one worker that keeps
the lane's engine fed. A job's requests go out one stage at a time (review, then claims); a
retry or the next stage goes back on the same queue, so a second stage is one more step, not a
second loop. Requests of many tools are in flight together, up to the engine's capacity, so
vLLM's continuous batching stays full; the number of open jobs per lane is bounded, so memory
does not grow with the length of the input.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Protocol

from panel.engines import Engine, GenRequest, GenResult
from panel.engines.pool import EnginePool
from panel.engines.profiles import Profile
from panel.generation.planning import Job


class Stage(Protocol):
    """One generation step of a job: the request it needs, and what to make of the result."""

    name: str

    async def request(self, job: Job, engine: Engine) -> GenRequest | None:
        """The request this stage sends for the job, or None when the job needs none."""
        ...

    def apply(self, job: Job, result: GenResult) -> GenRequest | None:
        """Record the result on the job; a request to send again (a retry), or None."""
        ...


@dataclass
class Window:
    """From the first request sent (engines started and checked) to the last reply received."""

    started: float | None = None
    ended: float | None = None

    def start(self) -> None:
        self.started = self.started or time.monotonic()

    def stop(self) -> None:
        self.ended = time.monotonic()

    @property
    def seconds(self) -> float:
        return (self.ended - self.started) if self.started and self.ended else 0.0


@dataclass(eq=False)
class _Lane:
    profile: Profile
    slots: asyncio.Semaphore
    queue: asyncio.Queue[Job | None] = field(default_factory=asyncio.Queue)
    retries: dict[int, GenRequest] = field(default_factory=dict)  # id(job) -> request to resend
    inflight: dict[str, Job] = field(default_factory=dict)
    open: int = 0


class Scheduler:
    """Feeds each profile's engine with the requests of every stage of every job.

    `settled(job)` is awaited once per job, when its last stage is done or it failed, before
    the lane takes its next result. Slow work it starts (writing a finished panel) goes to
    `spawn`: a task of the run's group, which the run waits for, and whose error stops it.
    """

    def __init__(
        self,
        pool: EnginePool,
        stages: list[Stage],
        group: asyncio.TaskGroup,
        settled: Callable[[Job], Awaitable[None]],
        window: Window,
    ):
        self.pool = pool
        self.stages = stages
        self.group = group
        self.settled = settled
        self.window = window
        self.lanes: dict[str, _Lane] = {}
        self.closed = False

    def _lane(self, profile: Profile) -> _Lane:
        if profile.name not in self.lanes:
            # Enough open jobs that the engine always has its next request at hand.
            lane = _Lane(profile, asyncio.Semaphore(2 * profile.concurrency))
            self.lanes[profile.name] = lane
            self.group.create_task(self._work(lane))
        return self.lanes[profile.name]

    async def add(self, job: Job) -> None:
        """Queue a job; waits while its lane has as many open jobs as it takes."""
        lane = self._lane(job.profile)
        await lane.slots.acquire()
        lane.open += 1
        lane.queue.put_nowait(job)

    def spawn(self, work: Coroutine[object, object, None]) -> None:
        """Run `work` beside the lanes, in the run's task group: the lane that started it goes on
        taking results and sending requests meanwhile."""
        self.group.create_task(work)

    def close(self) -> None:
        """No more jobs will be added: each lane stops once its open jobs settle."""
        self.closed = True
        for lane in self.lanes.values():
            if lane.open == 0:
                lane.queue.put_nowait(None)

    async def _work(self, lane: _Lane) -> None:
        engine = await self.pool.get(lane.profile)
        async for result in engine.run(self._requests(lane, engine)):
            self.window.stop()
            job = lane.inflight.pop(result.request.key)
            job.prompt_tokens += result.prompt_tokens or 0  # every stage's spend, retries included
            job.completion_tokens += result.completion_tokens or 0
            retry = self.stages[job.stage].apply(job, result)
            if retry is not None:
                lane.retries[id(job)] = retry
            else:
                job.stage += 1
            if job.failure is not None:
                await self._settle(lane, job)
            else:
                lane.queue.put_nowait(job)

    async def _requests(self, lane: _Lane, engine: Engine) -> AsyncIterator[GenRequest]:
        """Each queued job's next request; a job with no stage left to run is settled."""
        while (job := await lane.queue.get()) is not None:
            request = lane.retries.pop(id(job), None)
            while request is None and job.stage < len(self.stages):
                request = await self.stages[job.stage].request(job, engine)
                if request is None:
                    job.stage += 1
            if request is None:
                await self._settle(lane, job)
                continue
            lane.inflight[request.key] = job
            self.window.start()
            yield request

    async def _settle(self, lane: _Lane, job: Job) -> None:
        lane.open -= 1
        lane.slots.release()
        await self.settled(job)
        if self.closed and lane.open == 0:
            lane.queue.put_nowait(None)
