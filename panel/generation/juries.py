"""Juries in a run: the members that judge one persona, their votes, and the review the votes make.

Each member's review is a job of its own, with the cache key a single profile's review of the
persona would have (so adding a member runs only that member, and a member's earlier review is
reused). A member of the tool's own vendor is recused before anything is sent. When every job of
the persona has settled, the votes (kept, recused and new, in the jury's member order) become the
persona's review by the rules in panel/records/jury.py.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from panel.engines.profiles import JurySpec, Profile
from panel.records import (
    RECUSED,
    FailureKind,
    Jury,
    JuryDefinition,
    Provenance,
    ReviewEntry,
    ReviewFailure,
    Tool,
    Vote,
    combine,
    vendor_match,
)

if TYPE_CHECKING:
    from panel.generation.planning import Job
    from panel.records import Persona


def definition_of(spec: JurySpec) -> JuryDefinition:
    """models.yaml's jury as the record keeps it in each review's provenance."""
    return JuryDefinition(
        name=spec.name, members=list(spec.members), quorum=spec.quorum, verdict=spec.verdict, score=spec.score
    )


def recusal(member: Profile, tool: Tool) -> Vote | None:
    """The member's recusal from this tool (a model of the tool's own vendor), or None."""
    match = vendor_match(member.family, member.vendor, tool)
    if match is None:
        return None
    return Vote(
        profile=member.name,
        family=member.family,
        vendor=member.vendor,
        status="recused",
        reason=f"{RECUSED} ({match})",
    )


def vote_entry(vote: Vote, persona: str) -> ReviewEntry:
    """A valid vote as a review of its own (for the claims pass over a kept vote)."""
    assert vote.provenance is not None and vote.score is not None and vote.verdict is not None
    return ReviewEntry(
        persona=persona,
        score=vote.score,
        verdict=vote.verdict,
        review=vote.review,
        provenance=vote.provenance,
        claims=vote.claims,
        quality=vote.quality,
    )


def job_vote(job: Job) -> Vote:
    """What a member's settled job makes of its vote."""
    p = job.profile
    if job.failure is not None or job.entry is None:
        failure = job.failure
        return Vote(
            profile=p.name,
            family=p.family,
            vendor=p.vendor,
            status="failed",
            reason=failure.reason if failure is not None else "no reply",
            diagnosis=failure.diagnosis if failure is not None else "error",
            provenance=failure.provenance if failure is not None else None,
        )
    return entry_vote(job.entry, p.name, p.family, p.vendor)


def entry_vote(entry: ReviewEntry, profile: str, family: str | None, vendor: str | None) -> Vote:
    """A review one profile wrote (a member's job, or a review from before the jury) as its vote."""
    assert entry.verdict != "split"  # one profile's review is decoded: ship or skip
    return Vote(
        profile=profile,
        family=family,
        vendor=vendor,
        status="valid",
        score=entry.score,
        verdict=entry.verdict,
        review=entry.review,
        provenance=entry.provenance,
        claims=entry.claims,
        quality=entry.quality,
    )


def _provenance(definition: JuryDefinition, votes: list[Vote], chosen: Vote) -> Provenance:
    """The jury review's provenance: the chosen member's (prompt, sampling, finish), named for the
    jury, with every voting member's model and tokens, and a cache key of all their keys."""
    assert chosen.provenance is not None
    ran = [v.provenance for v in votes if v.provenance is not None]
    voted = [v.provenance for v in votes if v.status == "valid" and v.provenance is not None]
    models = list(dict.fromkeys(p.model for p in voted))
    return chosen.provenance.model_copy(
        update={
            "profile": f"jury:{definition.name}",
            "model": " + ".join(models),
            "engine": "jury",
            "cache_key": _jury_key(definition, [p.cache_key for p in ran]),
            "prompt_tokens": sum(p.prompt_tokens or 0 for p in ran),
            "completion_tokens": sum(p.completion_tokens or 0 for p in ran),
            "latency_s": max((p.latency_s or 0.0 for p in ran), default=None),
            "sources_left_out": sorted({s for p in ran for s in p.sources_left_out}),
            "family": None,
            "vendor": None,
            "jury": definition,
            "created_at": max(p.created_at for p in ran),
        }
    )


def _jury_key(definition: JuryDefinition, keys: list[str]) -> str:
    """The jury review's cache key: the definition and its members' own keys."""
    return hashlib.sha256(f"{definition.digest}|{'|'.join(keys)}".encode()).hexdigest()


def verdict_of(persona: str, definition: JuryDefinition, votes: list[Vote]) -> ReviewEntry | ReviewFailure:
    """The persona's review from its jury's votes (in member order), or its failure when no member
    gave a valid vote."""
    outcome = combine([v if v.status == "valid" else None for v in votes], definition.quorum)
    if outcome is None:
        reasons = "; ".join(f"{v.profile}: {v.reason}" for v in votes)
        kinds = {v.diagnosis for v in votes if v.status == "failed"}
        diagnosis: FailureKind = kinds.pop() if len(kinds) == 1 and None not in kinds else "error"  # type: ignore[assignment]
        return ReviewFailure(
            persona=persona,
            reason=f"no valid vote from jury {definition.name}: {reasons}",
            diagnosis=diagnosis,
        )
    chosen = votes[outcome.chosen]
    return ReviewEntry(
        persona=persona,
        score=outcome.score,
        verdict=outcome.verdict,
        review=chosen.review,
        provenance=_provenance(definition, votes, chosen),
        claims=chosen.claims,
        quality=chosen.quality,
        jury=Jury(votes=votes),
    )


@dataclass(eq=False)
class JuryPlan:
    """One persona's jury on one tool: the votes known without a request (kept or recused) and
    the member jobs to run."""

    persona: Persona
    definition: JuryDefinition
    members: list[Profile]
    known: dict[str, Vote] = field(default_factory=dict)  # member profile -> kept or recused vote
    jobs: list[Job] = field(default_factory=list)

    @functools.cached_property
    def result(self) -> ReviewEntry | ReviewFailure:
        """The persona's review, once every job has settled (read it only then)."""
        ran = {j.profile.name: job_vote(j) for j in self.jobs}
        votes = [ran.get(m.name) or self.known[m.name] for m in self.members]
        return verdict_of(self.persona.id, self.definition, votes)

    def member_failures(self) -> list[ReviewFailure]:
        """This run's failed member reviews, each named, for errors.jsonl and the exit code."""
        return [
            ReviewFailure(
                persona=self.persona.id,
                reason=f"jury member {j.profile.name}: {j.failure.reason}",
                diagnosis=j.failure.diagnosis,
                provenance=j.failure.provenance,
            )
            for j in self.jobs
            if j.failure is not None
        ]


def same_review(a: ReviewEntry, b: ReviewEntry) -> bool:
    """Two jury reviews with the same votes, definition and outcome: nothing to write."""

    def key(e: ReviewEntry) -> object:
        votes = [
            (
                v.profile,
                v.status,
                v.score,
                v.verdict,
                v.review,
                v.reason,
                v.provenance and v.provenance.cache_key,
            )
            for v in (e.jury.votes if e.jury else [])
        ]
        return (e.score, e.verdict, e.review, votes, e.provenance.jury)

    return key(a) == key(b)


__all__ = [
    "JuryPlan",
    "definition_of",
    "entry_vote",
    "job_vote",
    "recusal",
    "same_review",
    "verdict_of",
    "vote_entry",
]
