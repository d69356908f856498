"""One persona's review: what the decoder produces, and the entry a panel stores with its provenance."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, computed_field, model_validator

from panel.records.base import (
    DECODE_MAX_CHARS,
    DECODE_MIN_CHARS,
    DEFAULT_SHIP_THRESHOLD,
    MAX_NAME,
    REVIEW_MAX_CHARS,
    REVIEW_MAX_WORDS,
    REVIEW_MIN_CHARS,
    REVIEW_MIN_WORDS,
    JuryVerdict,
    PersonaId,
    Record,
    Score,
    Verdict,
    utcnow,
    verdict_for,
)
from panel.records.claims import Claim, QualityFlag
from panel.records.jury import JuryDefinition, Tally


class Review(Record):
    """What the model generates for one persona, under the decoding constraint."""

    persona: PersonaId
    score: Score
    verdict: Verdict
    review: Annotated[
        str, Strict(), StringConstraints(min_length=REVIEW_MIN_CHARS, max_length=REVIEW_MAX_CHARS)
    ]


@functools.cache
def _review_schema() -> str:
    """Review's JSON Schema, built once: pydantic takes milliseconds, and a batch asks per request."""
    return json.dumps(Review.model_json_schema())


def review_decoding_schema(persona: str, ship_threshold: int = DEFAULT_SHIP_THRESHOLD) -> dict:
    """The schema handed to the constrained decoder for one persona.

    Derived from `Review`'s own schema. The persona is a constant, and the object is split on the
    persona's threshold so that a verdict that disagrees with the score cannot be decoded.
    """
    base = json.loads(_review_schema())  # a fresh copy: the caller may change it
    props = base["properties"]
    props["persona"] = {"const": persona}
    props["review"] = {"type": "string", "minLength": DECODE_MIN_CHARS, "maxLength": DECODE_MAX_CHARS}

    def branch(verdict: str, lo: int, hi: int) -> dict:
        p = dict(props)
        p["score"] = {"type": "integer", "minimum": lo, "maximum": hi}
        p["verdict"] = {"const": verdict}
        return {
            "type": "object",
            "properties": p,
            "required": base["required"],
            "additionalProperties": False,
        }

    branches = []
    if ship_threshold <= 100:
        branches.append(branch("ship", max(ship_threshold, 0), 100))
    if ship_threshold > 0:
        branches.append(branch("skip", 0, min(ship_threshold, 101) - 1))
    return branches[0] if len(branches) == 1 else {"anyOf": branches}


class Sampling(Record):
    temperature: float
    top_p: float
    max_tokens: int
    seed: int | None = Field(default=None, description="This review's own seed (None: the engine chose).")
    options: dict[str, float | int] = Field(
        default_factory=dict, description="Further sampling settings, e.g. repetition_penalty."
    )


class Provenance(Record):
    """Where a review came from, enough to reproduce it and to know when it is stale."""

    profile: str
    model: str
    engine: str
    persona_digest: str
    prompt_digest: str
    schema_digest: str
    cache_key: str
    ship_threshold: Annotated[int, Field(ge=0, le=101)] = DEFAULT_SHIP_THRESHOLD
    sampling: Sampling
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    finish_reason: str | None = None
    attempts: int = 1
    draw: Annotated[int, Field(ge=0)] = Field(
        default=0, description="How many times this review was drawn before with the same cache key."
    )
    sources_left_out: list[str] = Field(
        default_factory=list, description="Sources (or parts) that did not fit the model's context."
    )
    claims_key: str | None = Field(
        default=None, description="Cache key of the model's claims pass over this review, if it ran."
    )
    family: Annotated[str, Field(max_length=MAX_NAME)] | None = Field(
        default=None, description="The profile's model family (models.yaml `family:`), for recusal."
    )
    vendor: Annotated[str, Field(max_length=MAX_NAME)] | None = Field(
        default=None, description="The profile's vendor (models.yaml `vendor:`), for recusal."
    )
    jury: JuryDefinition | None = Field(
        default=None, description="The jury that wrote this review (members, quorum, rules), if one did."
    )
    created_at: datetime = Field(default_factory=utcnow)


class Draft(Record):
    """The model's own output for one review, kept beside whatever reviewers make of it."""

    score: Score
    verdict: JuryVerdict
    review: str


FailureKind = Literal[
    "error", "whitespace-padding", "truncated", "free-text", "not-json", "invalid", "unavailable"
]


class Vote(Record):
    """One jury member's vote on a persona's review: valid (its own score, verdict and paragraph,
    with the paragraph's claims for the desk), failed (and why), or recused."""

    profile: str
    family: str | None = None
    vendor: str | None = None
    status: Literal["valid", "failed", "recused"]
    score: Score | None = None
    verdict: Verdict | None = None
    review: str = ""
    reason: str = Field(default="", description="Why the member failed or was recused.")
    diagnosis: FailureKind | None = None
    provenance: Provenance | None = Field(
        default=None, description="The member's own: its cache key, sampling, tokens. None when recused."
    )
    claims: list[Claim] = Field(default_factory=list)
    quality: list[QualityFlag] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fields_match_status(self) -> Vote:
        valid = self.status == "valid"
        if valid and (self.score is None or self.verdict is None or not self.review or not self.provenance):
            raise ValueError("a valid vote has a score, a verdict, a review and a provenance")
        if not valid and (self.score is not None or self.verdict is not None or not self.reason):
            raise ValueError(f"a {self.status} vote has a reason and no score or verdict")
        return self


class JurySummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tally: Tally
    spread: int | None = Field(description="Highest minus lowest valid score.")
    judges: int = Field(description="Members that were not recused.")


class Jury(Record):
    """Every member's vote on one persona's review, in the jury's member order."""

    votes: Annotated[list[Vote], Field(min_length=1)]

    def vote_of(self, profile: str) -> Vote | None:
        return next((v for v in self.votes if v.profile == profile), None)

    @property
    def valid(self) -> list[Vote]:
        return [v for v in self.votes if v.status == "valid"]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> JurySummary:
        scores = [v.score for v in self.valid if v.score is not None]
        tally = Tally(
            ship=sum(v.verdict == "ship" for v in self.valid),
            skip=sum(v.verdict == "skip" for v in self.valid),
            failed=sum(v.status == "failed" for v in self.votes),
            recused=sum(v.status == "recused" for v in self.votes),
        )
        return JurySummary(
            tally=tally,
            spread=max(scores) - min(scores) if scores else None,
            judges=len(self.votes) - tally.recused,
        )


class ReviewEntry(Review):
    """A review as stored in a panel: the current fields, the model's draft, where it came from.

    A review a jury wrote keeps every member's vote in `jury`; its verdict is `split` when the
    jury had no majority, until an editor sets one."""

    verdict: JuryVerdict  # type: ignore[assignment]
    provenance: Provenance
    original: Draft | None = Field(
        default=None, description="What the model wrote; differs from the current fields once edited."
    )
    claims: list[Claim] = Field(
        default_factory=list,
        description="Specifics the review states, checked against the material; recomputed on every check.",
    )
    quality: list[QualityFlag] = Field(
        default_factory=list, description="Draft-quality flags; recomputed on every check."
    )
    jury: Jury | None = Field(
        default=None, description="Every jury member's vote, when a jury wrote this review."
    )
    conflict: str | None = Field(
        default=None,
        description="The single judge that wrote it is a model of the tool's own vendor, and how that "
        "shows; recomputed on every check.",
    )

    @model_validator(mode="after")
    def _remember_the_draft(self) -> ReviewEntry:
        if self.original is None:  # a fresh review, or a record from before drafts were kept
            object.__setattr__(
                self, "original", Draft(score=self.score, verdict=self.verdict, review=self.review)
            )
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def edited(self) -> bool:
        """A person changed the score, verdict or text since the model wrote it."""
        o = self.original
        return o is not None and (o.score, o.verdict, o.review) != (self.score, self.verdict, self.review)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flags(self) -> list[str]:
        """Problems a reader must see; recomputed from the fields, never read from the file."""
        flags = []
        expected = verdict_for(self.score, self.provenance.ship_threshold)
        if self.verdict == "split":
            flags.append(f"split: the jury has no majority ({self.tally}); an editor sets the verdict")
        elif self.verdict != expected:
            flags.append(
                f"verdict-disagrees: score {self.score} with threshold "
                f"{self.provenance.ship_threshold} means {expected}"
            )
        words = len(self.review.split())
        if words < REVIEW_MIN_WORDS:
            flags.append(f"short: {words} words (aim for {REVIEW_MIN_WORDS}-{REVIEW_MAX_WORDS})")
        elif words > REVIEW_MAX_WORDS:
            flags.append(f"long: {words} words (aim for {REVIEW_MIN_WORDS}-{REVIEW_MAX_WORDS})")
        flags += [f"{q.kind}: {q.detail}" for q in self.quality]
        if self.conflict:
            flags.append(f"conflict: {self.conflict}")
        return flags

    @property
    def tally(self) -> str:
        """How the jury voted, '1 ship / 1 skip / 1 failed' ('' for one profile's review)."""
        if self.jury is None:
            return "no jury" if self.verdict == "split" else ""
        return self.jury.summary.tally.line()

    @property
    def contradicts(self) -> bool:
        return any(f.startswith("verdict-disagrees") for f in self.flags)


class ReviewFailure(Record):
    """A persona whose review could not be produced, and why."""

    persona: PersonaId
    reason: str
    diagnosis: FailureKind = Field(
        default="error",
        description="What went wrong: the reply was padded with whitespace, cut at the token limit, "
        "free text, not the JSON asked for, invalid under the schema, or the engine failed.",
    )
    provenance: Provenance | None = None
