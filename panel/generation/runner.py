"""Running panels: plan each tool, schedule its jobs through the stages, assemble and write.

    plan (planning.py) -> review (reviewing.py) -> claims (claim_pass.py, optional)
        -> assemble and write (assembly.py)

Tools are planned as they come, under a per-tool lock so two runs never review one tool at once.
The scheduler (scheduling.py) keeps every profile's engine fed with requests of many tools and
all stages; each panel is written as soon as its last job settles, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Literal, Protocol

from panel.core.priority import yielding_executor
from panel.engines.base import as_async
from panel.engines.pool import EnginePool
from panel.engines.profiles import ModelsFile, Profile, judges_for, profiles_in
from panel.errors import PanelError
from panel.generation.assembly import PanelOutcome, finish
from panel.generation.claim_pass import ClaimsStage
from panel.generation.planning import Job, Plan, Planner
from panel.generation.prompts import Prompts
from panel.generation.reviewing import ReviewStage
from panel.generation.scheduling import Scheduler, Stage, Window
from panel.grounding.ground import examples_of
from panel.records import Persona, Tool, ToolPanel
from panel.records.store import Outputs, ToolLocks

__all__ = ["Events", "PanelOutcome", "PanelRunner", "QuietEvents"]


class Events(Protocol):
    """What a runner reports while it works; the CLI draws progress from these."""

    def say(self, message: str) -> None: ...
    def planned(self, jobs: int, reused: int) -> None:
        """One tool is planned: `jobs` reviews to generate, `reused` kept from earlier runs."""
        ...

    def reviewed(self, tool: Tool, persona: str, ok: bool, detail: str) -> None: ...
    def panel_done(self, outcome: PanelOutcome) -> None: ...


class QuietEvents:
    def say(self, message: str) -> None:
        pass

    def planned(self, jobs: int, reused: int) -> None:
        pass

    def reviewed(self, tool: Tool, persona: str, ok: bool, detail: str) -> None:
        pass

    def panel_done(self, outcome: PanelOutcome) -> None:
        pass


def _first_error(group: BaseExceptionGroup) -> BaseException:
    """The error a TaskGroup collected that the caller should see (the first, unwrapped)."""
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


class PanelRunner:
    def __init__(
        self,
        *,
        personas: list[Persona],
        prompts: Prompts,
        models: ModelsFile,
        models_path: Path,
        profile_name: str | None,
        outputs: Outputs,
        fresh: bool = False,
        force: bool = False,
        events: Events | None = None,
        busy: Literal["wait", "skip"] = "wait",
        claims: Literal["rules", "model"] | None = None,
        jury_name: str | None = None,
    ):
        self.personas = personas
        self.outputs = outputs
        self.force = force
        self.busy = busy  # what to do with a tool another run is reviewing right now
        self.locks = ToolLocks(outputs.root)
        self.generation = Window()
        self.events: Events = events or QuietEvents()
        self.pool = EnginePool(self.events.say)
        self.examples = examples_of(personas)
        self.judges = judges_for(personas, models, models_path, profile_name, jury_name)
        # Template errors (syntax, undefined names) surface now, before any engine starts.
        sample = Tool(
            name="Sample", description="A sample tool.", sources=[{"title": "Docs", "text": "Docs."}]
        )
        for persona in personas:
            for form in {p.prompt_format for p in self.judges[persona.id].profiles}:
                prompts.render(form, persona, sample)
        self.claims_stage = ClaimsStage(prompts, claims)
        if any((claims or p.claims) == "model" for p in self.all_profiles):
            prompts.digest("claims")
        self.stages: list[Stage] = [ReviewStage(prompts), self.claims_stage]
        self.planner = Planner(
            personas, self.judges, prompts, fresh=fresh, force=force, claims_stage=self.claims_stage
        )

    @property
    def all_profiles(self) -> list[Profile]:
        """Every profile that may review in this run: single ones and every jury member."""
        return profiles_in(self.judges)

    def plan(self, index: int, tool: Tool) -> Plan:
        return self.planner.plan(index, tool, self.outputs.panel_path(tool.name))

    def finish(self, plan: Plan) -> PanelOutcome:
        """Assemble and save a panel whose jobs have all settled (or that needed none)."""
        try:
            return finish(plan, self.examples, self.force)
        finally:
            self.locks.release(plan.path)

    async def _lock(self, tool: Tool, path: Path) -> bool:
        """Hold the tool's lock; False when another run holds it and busy tools are skipped."""
        if path in self.locks.held or self.locks.acquire(path, wait=False):
            return True
        if self.busy == "skip":
            return False
        self.events.say(f"Waiting for another panel run to finish {tool.name!r}")
        await asyncio.to_thread(self.locks.acquire, path, True)
        return True

    @contextlib.asynccontextmanager
    async def _scheduling(self, settled: Callable[[Job], Awaitable[None]]) -> AsyncIterator[Scheduler]:
        """A scheduler whose lanes run in a task group: add jobs inside the block; it waits for
        them all at the end. The first error of any task is raised as itself, and the engines are
        closed either way."""
        try:
            async with asyncio.TaskGroup() as group:
                scheduler = Scheduler(self.pool, self.stages, group, settled, self.generation)
                yield scheduler
                scheduler.close()
        except BaseExceptionGroup as errors:
            raise _first_error(errors) from None
        finally:
            await self.pool.close()

    def _report_job(self, job: Job) -> None:
        member = f"{job.profile.name}: " if job.jury is not None else ""  # a jury member's vote
        if job.failure is not None:
            self.events.reviewed(job.plan.tool, job.persona.id, False, member + job.failure.reason)
        elif job.entry is not None:
            self.events.reviewed(
                job.plan.tool, job.persona.id, True, f"{member}{job.entry.score}/100 · {job.entry.verdict}"
            )

    async def run_stream(
        self, tools: Iterable[Tool] | AsyncIterable[Tool], on_panel: Callable[[PanelOutcome], None]
    ) -> None:
        """Review tools as they come; call `on_panel` with each panel as soon as it is written.

        Requests of many tools (all personas, all stages) are in flight together, up to each
        profile's concurrency; the number of open jobs is bounded however long the input is.
        """
        open_plans: set[Path] = set()

        def report(outcome: PanelOutcome) -> None:
            self.events.panel_done(outcome)
            on_panel(outcome)

        async def write(plan: Plan) -> None:
            # In a thread that yields the CPU (core/priority.py), so neither the event loop, the
            # lane nor a model server on this machine waits for grounding and fsync; once begun it
            # is seen through even when the run is stopping: the panel is written.
            loop = asyncio.get_running_loop()
            writing = asyncio.ensure_future(loop.run_in_executor(writer, self.finish, plan))
            try:
                await asyncio.shield(writing)
            finally:
                outcome = await writing
                open_plans.discard(plan.path)
                report(outcome)

        async def settled(job: Job) -> None:
            self._report_job(job)
            job.plan.settled += 1
            if job.plan.finished:
                scheduler.spawn(write(job.plan))

        writer = yielding_executor()
        try:
            async with self._scheduling(settled) as scheduler:
                index = 0
                async for tool in as_async(tools):
                    path = self.outputs.panel_path(tool.name)
                    if not await self._lock(tool, path):
                        report(PanelOutcome(tool, path, None, "busy"))
                        continue
                    if path in open_plans:
                        raise PanelError(f"the tool {tool.name!r} is given twice", where=path)
                    plan = self.plan(index, tool)
                    index += 1
                    self.events.planned(len(plan.jobs), plan.kept_reviews)
                    if not plan.jobs:
                        report(self.finish(plan))
                        continue
                    open_plans.add(path)
                    for job in plan.jobs:
                        await scheduler.add(job)
        finally:
            writer.shutdown(wait=True)
            self.locks.release_all()

    async def claims_pass(self, panels: list[ToolPanel]) -> list[ToolPanel]:
        """The model's claims pass over existing panels, for reviews whose pass is missing or
        stale; no review is regenerated and nothing is written."""
        by_id = {p.id: p for p in self.personas}
        plans = []
        for index, panel in enumerate(panels):
            plan = Plan(index, panel.tool, panel.tool, Path(f"claims-{index}"), panel, False)
            for review in panel.reviews:
                if review.persona not in by_id:
                    continue
                job = self.planner.job(plan, by_id[review.persona])
                if self.planner.claims_only(job, review):
                    plan.jobs.append(job)
            plans.append(plan)

        async def report(job: Job) -> None:
            self._report_job(job)

        async with self._scheduling(report) as scheduler:
            for plan in plans:
                for job in plan.jobs:
                    await scheduler.add(job)
        updated = []
        for plan, panel in zip(plans, panels, strict=True):
            done = {j.persona.id: j.entry for j in plan.jobs if j.entry is not None}
            reviews = [done.get(r.persona, r) for r in panel.reviews]
            updated.append(panel.model_copy(update={"reviews": reviews}))
        return updated

    async def run(self, tools: Iterable[Tool]) -> list[PanelOutcome]:
        """All tools' panels, in input order (for review and compare)."""
        tools = list(tools)
        paths = [self.outputs.panel_path(t.name) for t in tools]
        if len(set(paths)) != len(paths):
            dupe = next(t for t, p in zip(tools, paths, strict=True) if paths.count(p) > 1)
            raise PanelError(
                f"the tool {dupe.name!r} is given twice", where=self.outputs.panel_path(dupe.name)
            )
        outcomes: dict[Path, PanelOutcome] = {}
        await self.run_stream(tools, lambda o: outcomes.__setitem__(o.path, o))
        return [outcomes[p] for p in paths]
