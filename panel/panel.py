"""Running a panel: work out which reviews are missing, generate them, save each tool's panel.

A review is reused when its cache key (tool text, persona file, prompt templates, profile and
decoding schema) is unchanged, so a tool reviewed for several comparisons costs one panel run.
Panels a person edited are never overwritten unless forced.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from panel.config import ModelsFile, Profile, get_profile
from panel.engines import GenRequest, GenResult
from panel.engines.base import as_async
from panel.errors import PanelError
from panel.generate import EnginePool, generate_with_retry, parse_review
from panel.personas import Persona
from panel.prompts import Prompts
from panel.records import (
    Change,
    Provenance,
    ReviewEntry,
    ReviewFailure,
    Sampling,
    Tool,
    ToolPanel,
    review_decoding_schema,
    utcnow,
)
from panel.store import Outputs, ToolLocks, load_record, write_record

Status = Literal["written", "unchanged", "kept-edited", "busy"]


def digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


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


@dataclass(frozen=True)
class Job:
    """One persona's review of one tool, ready to send."""

    plan: Plan
    persona: Persona
    profile: Profile
    provenance: dict[str, Any]
    request: GenRequest


@dataclass(eq=False)
class Plan:
    """What one tool's panel needs: reviews to keep and reviews to generate."""

    index: int
    tool: Tool  # what the prompts show: the record's own copy if a reviewer edited it
    path: Path
    existing: ToolPanel | None
    edited: bool
    keep: dict[str, ReviewEntry] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)
    done: dict[str, ReviewEntry] = field(default_factory=dict)
    failed: dict[str, ReviewFailure] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)  # personas whose edited review was kept
    source: Tool | None = None  # the tool as given (vendor text), for cache keys

    def __post_init__(self) -> None:
        if self.source is None:
            self.source = self.tool

    @property
    def finished(self) -> bool:
        return len(self.done) + len(self.failed) == len(self.jobs)


@dataclass
class PanelOutcome:
    tool: Tool
    path: Path
    panel: ToolPanel | None  # None only when "busy": another run holds the tool
    status: Status
    generated: int = 0
    reused: int = 0
    failures: list[ReviewFailure] = field(default_factory=list)
    prompt_tokens: int = 0  # spent in this run, failed attempts included
    completion_tokens: int = 0
    kept_edited: list[str] = field(default_factory=list)


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
    ):
        self.personas = personas
        self.prompts = prompts
        self.outputs = outputs
        self.fresh = fresh
        self.force = force
        self.busy = busy  # what to do with a tool another run is reviewing right now
        self.locks = ToolLocks(outputs.root)
        self.generation = Window()
        self.events: Events = events or QuietEvents()
        self.pool = EnginePool(self.events.say)
        default = get_profile(models, profile_name, models_path)
        # A persona may name its own profile, so one panel can mix models.
        self.profiles = {
            p.id: get_profile(models, p.profile, p.path or models_path) if p.profile else default
            for p in personas
        }
        for form in {prof.prompt_format for prof in self.profiles.values()}:
            prompts.digest(form)  # template errors surface now, before any work

    # -- planning ----------------------------------------------------------------------------

    def _job(self, plan: Plan, persona: Persona) -> Job:
        profile = self.profiles[persona.id]
        schema = review_decoding_schema(persona.id, persona.ship_threshold)
        parts = {
            # The key follows the tool as given, so a reviewer's fix to the record's copy of the
            # tool does not count as new vendor text.
            "tool": digest(plan.source.model_dump(mode="json")),
            "persona": persona.digest,
            "prompt": self.prompts.digest(profile.prompt_format),
            "profile": profile.fingerprint(),
            "schema": digest(schema),
        }
        provenance = {
            "profile": profile.name,
            "model": profile.model,
            "engine": profile.engine,
            "persona_digest": persona.digest,
            "prompt_digest": parts["prompt"],
            "schema_digest": parts["schema"],
            "cache_key": digest(parts),
            "ship_threshold": persona.ship_threshold,
            "sampling": Sampling(
                temperature=profile.temperature,
                top_p=profile.top_p,
                max_tokens=profile.max_tokens,
                seed=profile.seed,
            ),
        }
        request = GenRequest(
            key=f"{plan.index}:{persona.id}",
            prompt=self.prompts.render(profile.prompt_format, persona, plan.tool),
            schema=schema,
            max_tokens=profile.max_tokens,
        )
        return Job(plan=plan, persona=persona, profile=profile, provenance=provenance, request=request)

    def plan(self, index: int, tool: Tool) -> Plan:
        path = self.outputs.panel_path(tool.name)
        existing, edited = None, False
        if path.exists():
            loaded = load_record(path, ToolPanel)
            existing, edited = loaded.record, loaded.edited
        plan = Plan(index=index, tool=tool, path=path, existing=existing, edited=edited)
        plan.order = [p.id for p in self.personas]
        if existing is None:
            plan.jobs = [self._job(plan, persona) for persona in self.personas]
            return plan
        plan.order += [r.persona for r in existing.reviews if r.persona not in plan.order]
        if edited and not self.force:
            return plan  # edited by hand outside panel: a person's edits win, nothing to generate
        if existing.tool_edited and not self.force:
            plan.tool = existing.tool  # a reviewer's fixes to the tool's fields win over vendor text
        regenerate = self.fresh or edited  # --force on a hand-edited record replaces all of it
        same_tool = existing.tool == plan.tool
        for persona in self.personas:
            job = self._job(plan, persona)
            old = existing.review_for(persona.id)
            if old is not None and old.edited:
                if self.force:  # replaced, and its text kept in the history
                    plan.jobs.append(job)
                else:  # reviewers' edits are never regenerated away
                    plan.keep[persona.id] = old
                    plan.kept_edited.append(persona.id)
            elif (
                old
                and same_tool
                and not regenerate
                and old.provenance.cache_key == job.provenance["cache_key"]
            ):
                plan.keep[persona.id] = old
            else:
                plan.jobs.append(job)
        if same_tool:
            # Reviews by personas not in this run stay as they were.
            current = {p.id for p in self.personas}
            for review in existing.reviews:
                if review.persona not in current:
                    plan.keep[review.persona] = review
        return plan

    # -- results -----------------------------------------------------------------------------

    def _record(self, job: Job, result: GenResult) -> tuple[bool, str]:
        plan = job.plan
        meta = {
            **job.provenance,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "latency_s": round(result.latency_s, 3),
            "finish_reason": result.finish_reason,
            "attempts": result.request.attempt,
            "created_at": utcnow(),
        }
        if result.error:
            reason = result.error
        elif result.finish_reason == "length":
            reason = (
                f"the reply hit the token limit twice (last budget {result.request.max_tokens} tokens); "
                "raise max_tokens in the profile"
            )
        else:
            try:
                review = parse_review(result.text or "", job.persona)
            except ValueError as exc:
                reason = str(exc)
            else:
                entry = ReviewEntry(**review.model_dump(), provenance=Provenance(**meta))
                plan.done[job.persona.id] = entry
                return True, f"{entry.score}/100 · {entry.verdict}"
        plan.failed[job.persona.id] = ReviewFailure(
            persona=job.persona.id, reason=reason, provenance=Provenance(**meta)
        )
        return False, reason

    def finish(self, plan: Plan) -> PanelOutcome:
        """Assemble and save a panel whose reviews are all in (or that needed none)."""
        try:
            return self._finish(plan)
        finally:
            self.locks.release(plan.path)

    def _finish(self, plan: Plan) -> PanelOutcome:
        if plan.path.exists() and not self.force and plan.jobs:
            current = load_record(plan.path, ToolPanel)
            if current.edited:  # a person edited the file while its reviews were being generated
                return PanelOutcome(plan.tool, plan.path, current.record, "kept-edited")
        if plan.existing is not None and not plan.jobs:
            status: Status = "kept-edited" if plan.edited else "unchanged"
            return PanelOutcome(
                plan.tool,
                plan.path,
                plan.existing,
                status,
                reused=len(plan.keep),
                kept_edited=plan.kept_edited,
            )
        entries = {**plan.keep, **plan.done}
        history = list(plan.existing.history) if plan.existing else []
        replaced = {
            p: plan.existing.review_for(p) for p in plan.done if plan.existing and plan.existing.review_for(p)
        }
        if plan.done or plan.failed:
            history.append(
                Change(
                    by="panel",
                    action="regenerated" if replaced else "generated",
                    fields=[f"reviews.{p}" for p in [*plan.done, *plan.failed]],
                    note=", ".join(sorted({j.profile.name for j in plan.jobs})),
                    previous={
                        f"reviews.{p}": r.model_dump(include={"score", "verdict", "review"})
                        for p, r in replaced.items()
                        if r is not None and r.edited  # a reviewer's text replaced under --force
                    },
                )
            )
        panel = ToolPanel(
            tool=plan.tool,
            reviews=[entries[p] for p in plan.order if p in entries],
            failures=[plan.failed[p] for p in plan.order if p in plan.failed],
            created_at=plan.existing.created_at if plan.existing else utcnow(),
            updated_at=utcnow(),
            history=history,
        )
        write_record(plan.path, panel)
        spent = [e.provenance for e in plan.done.values()] + [
            f.provenance for f in plan.failed.values() if f.provenance is not None
        ]
        return PanelOutcome(
            plan.tool,
            plan.path,
            panel,
            "written",
            generated=len(plan.done),
            reused=len(plan.keep),
            failures=list(panel.failures),
            prompt_tokens=sum(p.prompt_tokens or 0 for p in spent),
            completion_tokens=sum(p.completion_tokens or 0 for p in spent),
            kept_edited=plan.kept_edited,
        )

    # -- running -----------------------------------------------------------------------------

    async def stream(
        self, tools: Iterable[Tool] | AsyncIterable[Tool], *, abort_on_engine_error: bool = True
    ) -> AsyncIterator[PanelOutcome]:
        """Review tools as they come and yield each panel as soon as it is complete.

        Tools are planned lazily and every profile's engine pulls requests only when it has room,
        so the number of tools open at once stays bounded however long the input is. Requests of
        many tools (all personas) are in flight together, up to each profile's concurrency.
        """
        outcomes: asyncio.Queue[PanelOutcome | BaseException | None] = asyncio.Queue()
        queues: dict[str, asyncio.Queue[Job | None]] = {}
        workers: list[asyncio.Task[None]] = []
        open_plans: dict[Path, Plan] = {}

        async def worker(profile: Profile, queue: asyncio.Queue[Job | None]) -> None:
            lookup: dict[str, Job] = {}

            async def source() -> AsyncIterator[GenRequest]:
                while (job := await queue.get()) is not None:
                    lookup[job.request.key] = job
                    yield job.request

            try:
                engine = await self.pool.get(profile)
                self.generation.start()
                async for result in generate_with_retry(engine, source()):
                    self.generation.stop()
                    job = lookup.pop(result.request.key)
                    ok, detail = self._record(job, result)
                    self.events.reviewed(job.plan.tool, job.persona.id, ok, detail)
                    if job.plan.finished:
                        open_plans.pop(job.plan.path, None)
                        # Off the event loop: an fsync must not hold back the next requests.
                        await outcomes.put(await asyncio.to_thread(self.finish, job.plan))
            except BaseException as exc:  # the consumer raises it, which stops the rest
                await outcomes.put(exc)
                raise

        def queue_for(profile: Profile) -> asyncio.Queue[Job | None]:
            if profile.name not in queues:
                queues[profile.name] = asyncio.Queue(maxsize=profile.concurrency)
                workers.append(asyncio.create_task(worker(profile, queues[profile.name])))
            return queues[profile.name]

        async def produce() -> None:
            index = 0
            async for tool in as_async(tools):
                path = self.outputs.panel_path(tool.name)
                if path not in self.locks.held and not self.locks.acquire(path, wait=False):
                    if self.busy == "skip":
                        await outcomes.put(PanelOutcome(tool, path, None, "busy"))
                        continue
                    self.events.say(f"Waiting for another panel run to finish {tool.name!r}")
                    await asyncio.to_thread(self.locks.acquire, path, True)
                plan = self.plan(index, tool)
                index += 1
                self.events.planned(len(plan.jobs), len(plan.keep))
                if plan.path in open_plans:
                    raise PanelError(f"the tool {tool.name!r} is given twice", where=plan.path)
                if not plan.jobs:
                    await outcomes.put(self.finish(plan))
                    continue
                open_plans[plan.path] = plan
                for job in plan.jobs:
                    await queue_for(job.profile).put(job)
            for queue in queues.values():
                await queue.put(None)
            await asyncio.gather(*workers)

        async def supervise() -> None:
            try:
                await produce()
                await outcomes.put(None)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                await outcomes.put(exc)

        task = asyncio.create_task(supervise())
        try:
            while (item := await outcomes.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                self.events.panel_done(item)
                yield item
        finally:
            for t in [task, *workers]:
                t.cancel()
            await asyncio.gather(task, *workers, return_exceptions=True)
            await self.pool.close()
            self.locks.release_all()

    async def run(self, tools: Iterable[Tool]) -> list[PanelOutcome]:
        """All tools' panels, in input order (for review and compare)."""
        tools = list(tools)
        paths = [self.outputs.panel_path(t.name) for t in tools]
        if len(set(paths)) != len(paths):
            dupe = next(t for t, p in zip(tools, paths, strict=True) if paths.count(p) > 1)
            raise PanelError(
                f"the tool {dupe.name!r} is given twice", where=self.outputs.panel_path(dupe.name)
            )
        by_path = {o.path: o async for o in self.stream(tools)}
        return [by_path[p] for p in paths]
