"""Planning a tool's panel: which reviews to keep, which to generate, and with what keys and seeds.

A review is reused when its cache key (tool text and sources, persona file, prompt templates,
profile settings that change output, decoding schema) is unchanged. Reviewers' edits are kept
unless forced. Each generated review gets its own seed, derived from its cache key and how many
times that key was drawn before, so reviews differ from each other, any one can be drawn again,
and `--fresh` draws anew.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from panel.engines import ENGINES
from panel.engines.profiles import Judges, Profile
from panel.generation.juries import JuryPlan, definition_of, entry_vote, recusal, same_review, vote_entry
from panel.generation.prompts import Prompts
from panel.records import (
    Persona,
    Provenance,
    ReviewEntry,
    ReviewFailure,
    Sampling,
    Tool,
    ToolPanel,
    Vote,
    review_decoding_schema,
)
from panel.records.store import load_record

Status = Literal["written", "unchanged", "kept-edited", "busy"]


def digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def tool_digest(tool: Tool) -> str:
    """The tool as given, for cache keys. A tool without sources digests as it did before
    sources existed, so upgrading does not invalidate every review; its vendor never reaches the
    prompt (it decides recusal), so it is left out."""
    return digest(tool.model_dump(mode="json", exclude={"vendor"} if tool.sources else {"sources", "vendor"}))


def seed_for(cache_key: str, draw: int) -> int:
    """A review's own seed: the same key and draw give the same seed; a new draw a new one."""
    return int.from_bytes(hashlib.sha256(f"{cache_key}:{draw}".encode()).digest()[:4], "big") & 0x7FFFFFFF


@dataclass(eq=False)
class Job:
    """One persona's review of one tool, on its way through the stages.

    `entry` holds the review once it is parsed (or, for a claims-only job, the kept review);
    `failure` ends the job early. `stage` is the index of the next stage to run.
    """

    plan: Plan
    persona: Persona
    profile: Profile
    schema: dict[str, Any]
    provenance: dict[str, Any]
    seed: int | None  # None: the engine picks the draw (a server profile without `seed:`)
    stage: int = 0
    reused: bool = False  # the review was kept; only later stages (claims) run over it
    entry: ReviewEntry | None = None
    failure: ReviewFailure | None = None
    prompt_tokens: int = 0  # spent in this run by every stage, failed attempts included
    completion_tokens: int = 0
    jury: JuryPlan | None = None  # a jury member's vote, not the persona's review itself

    @property
    def key(self) -> str:
        member = f":{self.profile.name}" if self.jury is not None else ""
        return f"{self.plan.index}:{self.persona.id}{member}"

    @property
    def ok(self) -> bool:
        return self.entry is not None and self.failure is None


@dataclass(eq=False)
class Plan:
    """What one tool's panel needs: reviews to keep and jobs to run."""

    index: int
    tool: Tool  # what the prompts show: the record's own copy if a reviewer edited it
    source: Tool  # the tool as given (vendor text), for cache keys
    path: Path
    existing: ToolPanel | None
    edited: bool  # the file was changed by hand outside panel
    order: list[str] = field(default_factory=list)
    keep: dict[str, ReviewEntry] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)
    settled: int = 0
    kept_edited: list[str] = field(default_factory=list)  # personas whose edited review was kept
    juries: dict[str, JuryPlan] = field(default_factory=dict)  # persona id -> its jury on this tool
    recombine: bool = False  # a jury's votes make a new review although no request is needed

    @functools.cached_property
    def source_digest(self) -> str:
        """tool_digest of the tool as given: once per plan, not once per persona (sources can
        be long)."""
        return tool_digest(self.source)

    @property
    def finished(self) -> bool:
        return self.settled == len(self.jobs)

    @property
    def done(self) -> dict[str, ReviewEntry]:
        """Reviews this run made (read once every job has settled)."""
        done = {
            j.persona.id: j.entry
            for j in self.jobs
            if j.jury is None and j.entry is not None and j.failure is None
        }
        return done | {p: jp.result for p, jp in self.juries.items() if isinstance(jp.result, ReviewEntry)}

    @property
    def failed(self) -> dict[str, ReviewFailure]:
        failed = {j.persona.id: j.failure for j in self.jobs if j.jury is None and j.failure is not None}
        return failed | {
            p: jp.result for p, jp in self.juries.items() if isinstance(jp.result, ReviewFailure)
        }

    @property
    def kept_reviews(self) -> int:
        """Reviews (of a jury: member votes) kept from earlier runs as they are, with no job."""
        kept = sum(len(r.jury.valid) if r.jury is not None else 1 for r in self.keep.values())
        return kept + sum(v.status == "valid" for jp in self.juries.values() for v in jp.known.values())

    def member_failures(self) -> list[ReviewFailure]:
        """Jury members whose review failed in this run (the persona may still have a review)."""
        return [f for jp in self.juries.values() for f in jp.member_failures()]


class Planner:
    """Turns a tool into a Plan, given the personas, their profiles and the prompts in effect."""

    def __init__(
        self,
        personas: list[Persona],
        judges: Mapping[str, Judges],
        prompts: Prompts,
        *,
        fresh: bool,
        force: bool,
        claims_stage: Any = None,
    ):
        self.personas = personas
        self.judges = judges
        self.prompts = prompts
        self.fresh = fresh
        self.force = force
        self.claims_stage = claims_stage  # decides whether a kept review still needs model claims

    def cache_key(
        self, plan: Plan, persona: Persona, profile: Profile, schema: dict[str, Any]
    ) -> dict[str, str]:
        parts = {
            # The key follows the tool as given, so a reviewer's fix to the record's copy of the
            # tool does not count as new vendor text.
            "tool": plan.source_digest,
            "persona": persona.digest,
            "prompt": self.prompts.digest(profile.prompt_format),
            "profile": profile.fingerprint(),
            "schema": digest(schema),
        }
        return {**parts, "key": digest(parts)}

    def job(
        self, plan: Plan, persona: Persona, member: Profile | None = None, before: Provenance | None = None
    ) -> Job:
        """The job for one review of `persona`: by its single profile, or by a jury `member`
        (whose earlier vote's provenance is `before`)."""
        profile = member or self.judges[persona.id].profile
        schema = review_decoding_schema(persona.id, persona.ship_threshold)
        key = self.cache_key(plan, persona, profile, schema)
        if member is None:
            previous = plan.existing and (
                plan.existing.review_for(persona.id) or plan.existing.failure_for(persona.id)
            )
            before = previous.provenance if previous else None
        draw = before.draw + 1 if before is not None and before.cache_key == key["key"] else 0
        seed = seed_for(key["key"], draw) if ENGINES[profile.engine].takes_seeds(profile) else None
        provenance = {
            "profile": profile.name,
            "model": profile.model,
            "engine": profile.engine,
            "persona_digest": persona.digest,
            "prompt_digest": key["prompt"],
            "schema_digest": key["schema"],
            "cache_key": key["key"],
            "ship_threshold": persona.ship_threshold,
            "family": profile.family,
            "vendor": profile.vendor,
            "draw": draw,
            "sampling": Sampling(
                temperature=profile.temperature,
                top_p=profile.top_p,
                max_tokens=profile.max_tokens,
                seed=seed,
                options=profile.options.sampling.set(),
            ),
        }
        return Job(
            plan=plan, persona=persona, profile=profile, schema=schema, provenance=provenance, seed=seed
        )

    def plan(self, index: int, tool: Tool, path: Path) -> Plan:
        existing, edited = None, False
        if path.exists():
            loaded = load_record(path, ToolPanel)
            existing, edited = loaded.record, loaded.edited
        plan = Plan(index=index, tool=tool, source=tool, path=path, existing=existing, edited=edited)
        plan.order = [p.id for p in self.personas]
        if existing is None:
            for persona in self.personas:
                self._plan_persona(plan, persona, None, regenerate=True, same_tool=False)
            return plan
        plan.order += [r.persona for r in existing.reviews if r.persona not in plan.order]
        if edited and not self.force:
            return plan  # edited by hand outside panel: a person's edits win, nothing to generate
        if existing.tool_edited and not self.force:
            plan.tool = existing.tool  # a reviewer's fixes to the tool's fields win over vendor text
        regenerate = self.fresh or edited  # --force on a hand-edited record replaces all of it
        same_tool = existing.tool == plan.tool
        for persona in self.personas:
            old = existing.review_for(persona.id)
            self._plan_persona(plan, persona, old, regenerate=regenerate, same_tool=same_tool)
        if same_tool:
            # Reviews by personas not in this run stay as they were.
            current = {p.id for p in self.personas}
            for review in existing.reviews:
                if review.persona not in current:
                    plan.keep[review.persona] = review
        return plan

    def _plan_persona(
        self, plan: Plan, persona: Persona, old: ReviewEntry | None, *, regenerate: bool, same_tool: bool
    ) -> None:
        judges = self.judges[persona.id]
        if judges.jury is not None and not (old is not None and old.edited and not self.force):
            self._plan_jury(plan, persona, judges, old, regenerate=regenerate, same_tool=same_tool)
            return
        if judges.jury is not None and old is not None:
            plan.kept_edited.append(persona.id)  # a person's edit of a jury review wins, as it is
            plan.keep[persona.id] = old
            return
        job = self.job(plan, persona)
        if old is not None and old.edited:
            if self.force:  # replaced, and its text kept in the history
                plan.jobs.append(job)
                return
            plan.kept_edited.append(persona.id)  # reviewers' edits are never regenerated away
        elif not (
            old is not None
            and same_tool
            and not regenerate
            and old.provenance.cache_key == job.provenance["cache_key"]
        ):
            plan.jobs.append(job)  # new, stale, failed or --fresh
            return
        if self.claims_only(job, old):
            plan.jobs.append(job)
        else:
            plan.keep[persona.id] = old

    def _plan_jury(
        self,
        plan: Plan,
        persona: Persona,
        judges: Judges,
        old: ReviewEntry | None,
        *,
        regenerate: bool,
        same_tool: bool,
    ) -> None:
        """One job per member whose vote is missing, failed or stale; a member of the tool's own
        vendor is recused. Reused: a member's valid vote with the same cache key, or a review
        the member wrote alone before (a persona that moves from one profile to a jury)."""
        assert judges.jury is not None
        jp = JuryPlan(persona, definition_of(judges.jury), list(judges.profiles))
        before: dict[str, Vote] = {}
        if old is not None and old.jury is not None:
            before = {v.profile: v for v in old.jury.votes}
        elif old is not None and not old.edited:
            before = {old.provenance.profile: _as_vote(old)}
        # Votes are the members' own drafts: --force on an edited review recombines them.
        reuse = old is not None and same_tool and not regenerate
        for member in judges.profiles:
            recused = recusal(member, plan.tool)
            if recused is not None:
                jp.known[member.name] = recused
                continue
            vote = before.get(member.name)
            job = self.job(plan, persona, member, vote.provenance if vote is not None else None)
            job.jury = jp
            current = vote if reuse and _current(vote, job) else None
            if current is None or self.claims_only(job, vote_entry(current, persona.id)):
                jp.jobs.append(job)
            else:
                jp.known[member.name] = current
        plan.jobs += jp.jobs
        if jp.jobs:
            plan.juries[persona.id] = jp
            return
        result = jp.result
        if isinstance(result, ReviewEntry) and old is not None and same_review(result, old):
            plan.keep[persona.id] = old  # the same votes make the same review: nothing to do
        elif (
            isinstance(result, ReviewFailure)
            and plan.existing
            and plan.existing.failure_for(persona.id) == result
        ):
            return  # every member is recused, as before: the failure on file stands
        else:
            plan.juries[persona.id] = jp
            plan.recombine = True

    def claims_only(self, job: Job, review: ReviewEntry) -> bool:
        """Whether `review` is kept as it is but still needs the model's claims pass; if so the
        job carries it, and the review stage, seeing an entry, sends nothing."""
        if self.claims_stage is None or not self.claims_stage.wants(job, review):
            return False
        job.entry, job.reused = review, True
        return True


def _current(vote: Vote | None, job: Job) -> bool:
    """A valid vote whose cache key is the one this member's review would have now."""
    return (
        vote is not None
        and vote.status == "valid"
        and vote.provenance is not None
        and vote.provenance.cache_key == job.provenance["cache_key"]
    )


def _as_vote(entry: ReviewEntry) -> Vote:
    """A review one profile wrote alone, as that profile's vote (reused when the persona moves to
    a jury that has the profile among its members and the cache key still matches)."""
    p = entry.provenance
    assert not entry.edited
    return entry_vote(entry, p.profile, p.family, p.vendor)
