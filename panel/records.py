"""The record types. One pydantic model per record; each is the single source of its JSON Schema.

The same models drive constrained decoding (`review_decoding_schema`), validation of files on
disk and `panel schema`. Derived values (counts, percentages, decisions, flags) are computed
fields: written for readers, dropped and recomputed whenever a file is read back.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    Strict,
    StringConstraints,
    computed_field,
    field_validator,
    model_serializer,
    model_validator,
)

SCHEMA_VERSION = 1

# Size limits for vendor text (documented in the README). Longer input is rejected, not cut.
MAX_NAME = 200
MAX_TAGLINE = 300
MAX_CATEGORY = 100
MAX_DESCRIPTION = 6000
MAX_PRICING_DETAIL = 500
MAX_URL = 2000
# Sources: excerpts of the tool's own material (pricing page, README, docs) that reviews are
# checked against. Like every vendor field, longer text is refused, not cut.
MAX_SOURCE_TITLE = 200
MAX_SOURCE_CHARS = 20_000
MAX_SOURCES_CHARS = 60_000
MAX_SOURCES = 20
MAX_CLAIM_CHARS = 1000  # a claim's span of the review

# A review is "about 60-200 words". Validation allows 200-1600 characters; the decoder is held
# to a narrower band because constrained decoders overshoot `maxLength` by a few characters.
REVIEW_MIN_CHARS = 200
REVIEW_MAX_CHARS = 1600
DECODE_MIN_CHARS = 300
DECODE_MAX_CHARS = 1200
REVIEW_MIN_WORDS = 60
REVIEW_MAX_WORDS = 200

DEFAULT_SHIP_THRESHOLD = 60
PANEL_SHIP_PCT = 50
QUESTION = "Which one should you ship with?"

Verdict = Literal["ship", "skip"]
PersonaId = Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
Score = Annotated[int, Strict(), Field(ge=0, le=100)]


def verdict_for(score: int, threshold: int) -> Verdict:
    """The ship/skip rule, in one place: ship at or above the persona's threshold."""
    return "ship" if score >= threshold else "skip"


def _text(max_length: int, *, required: bool = False) -> Any:
    return Annotated[
        str,
        Strict(),
        StringConstraints(strip_whitespace=True, min_length=1 if required else 0, max_length=max_length),
    ]


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Record(BaseModel):
    """Strict base: unknown keys are errors; computed fields in input are dropped, not trusted."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: Any) -> Any:
        if isinstance(data, dict):
            derived = set(cls.model_computed_fields)
            if derived & data.keys():
                data = {k: v for k, v in data.items() if k not in derived}
        return data


# ---------------------------------------------------------------------------------------------
# Tool input


class Pricing(Record):
    entry: _text(40) = Field(default="", description="free, freemium, paid, open-source, ...")
    detail: _text(MAX_PRICING_DETAIL) = ""

    @field_validator("entry")
    @classmethod
    def _normalize_entry(cls, value: str) -> str:
        """'Open Source' and 'open-source' are the same entry."""
        value = "-".join(value.lower().split())
        if value and not re.fullmatch(r"[a-z0-9][a-z0-9_/+.-]*", value):
            raise ValueError("use a short word such as free, freemium, paid or open-source")
        return value


def _http_url(value: str) -> str:
    if value and not re.match(r"^https?://[^\s]+$", value):
        raise ValueError("must be an http:// or https:// address with no spaces")
    return value


Url = Annotated[_text(MAX_URL), AfterValidator(_http_url)]


class Source(Record):
    """An excerpt of the tool's own material: what its claims are checked against.

    A tool file may name a `path` instead of `text`; the loader reads it (inside the tool file's
    folder only) and keeps the path for display. In a record, `text` is always there.
    """

    title: _text(MAX_SOURCE_TITLE, required=True)
    text: _text(MAX_SOURCE_CHARS) = ""
    path: _text(500) = Field(default="", description="The file the text was read from, beside the tool file.")
    url: Url = Field(default="", description="Kept for display; never fetched.")

    @model_validator(mode="after")
    def _has_text(self) -> Source:
        if not self.text:
            raise ValueError(
                "a source needs its text (in a tool file: `text`, or a `path` to a .txt or .md file)"
            )
        return self


class Tool(Record):
    """One newly launched tool, as its vendor describes it. Every field is untrusted text."""

    name: _text(MAX_NAME, required=True)
    description: _text(MAX_DESCRIPTION, required=True)
    tagline: _text(MAX_TAGLINE) = Field(default="", description='The "best for" line.')
    category: _text(MAX_CATEGORY) = ""
    pricing: Pricing = Field(default_factory=Pricing)
    url: Url = ""
    sources: Annotated[list[Source], Field(max_length=MAX_SOURCES)] = Field(
        default_factory=list, description="Excerpts of the tool's docs, README or pricing page."
    )

    @field_validator("sources")
    @classmethod
    def _sources_total(cls, sources: list[Source]) -> list[Source]:
        total = sum(len(s.text) for s in sources)
        if total > MAX_SOURCES_CHARS:
            raise ValueError(
                f"{total:,} characters in all, over the {MAX_SOURCES_CHARS:,} limit "
                "(keep the excerpts that matter)"
            )
        return sources


# ---------------------------------------------------------------------------------------------
# Reviews


class Review(Record):
    """What the model generates for one persona, under the decoding constraint."""

    persona: PersonaId
    score: Score
    verdict: Verdict
    review: Annotated[
        str, Strict(), StringConstraints(min_length=REVIEW_MIN_CHARS, max_length=REVIEW_MAX_CHARS)
    ]


def review_decoding_schema(persona: str, ship_threshold: int = DEFAULT_SHIP_THRESHOLD) -> dict:
    """The schema handed to the constrained decoder for one persona.

    Derived from `Review`'s own schema. The persona is a constant, and the object is split on the
    persona's threshold so that a verdict that disagrees with the score cannot be decoded.
    """
    base = Review.model_json_schema()
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
    created_at: datetime = Field(default_factory=utcnow)


class Draft(Record):
    """The model's own output for one review, kept beside whatever reviewers make of it."""

    score: Score
    verdict: Verdict
    review: str


# ---------------------------------------------------------------------------------------------
# Grounding: the claims a review makes, checked against the material, and draft-quality flags

ClaimKind = Literal["price", "license", "figure", "date", "version", "name", "feature"]
ClaimStatus = Literal["supported", "contradicted", "unsupported"]
ClaimOrigin = Literal["rules", "model"]
QualityKind = Literal["copies-example", "degenerate"]


class Evidence(Record):
    """The sentence of the material a claim rests on or conflicts with, and where it stands."""

    id: str = Field(description="The sentence's id in the material, e.g. s4.")
    sentence: str = Field(description="The sentence, verbatim.")
    source: str = Field(description="The tool field or source it came from: pricing.detail, a source title.")


class Check(Record):
    """A person's mark on a claim: "I verified this outside the material"."""

    by: Annotated[str, Field(min_length=1, max_length=200)]
    at: datetime = Field(default_factory=utcnow)
    note: Annotated[str, Field(max_length=2000)] = ""


class Claim(Record):
    """One specific a review states (a price, a license, a figure, a name ...) and how it stands
    against the material. Opinions without specifics are not claims."""

    text: Annotated[
        str, Field(min_length=1, max_length=MAX_CLAIM_CHARS, description="The review's span, verbatim.")
    ]
    kind: ClaimKind
    status: ClaimStatus
    evidence: Evidence | None = Field(default=None, description="Null when the status is unsupported.")
    origin: ClaimOrigin = "rules"
    checked: Check | None = Field(default=None, description="A person verified it outside the material.")

    @model_validator(mode="after")
    def _evidence_matches_status(self) -> Claim:
        if (self.status == "unsupported") != (self.evidence is None):
            raise ValueError("evidence is null exactly when the status is unsupported")
        return self

    @property
    def blocks_publishing(self) -> bool:
        """Contradicted by the rules and nobody checked it: publishing refuses the record. The
        model pass's word alone does not block."""
        return self.checked is None and self.origin == "rules" and self.status == "contradicted"

    @property
    def needs_check(self) -> bool:
        """Not supported, nobody checked it, and not blocking: a warning before publishing."""
        return self.checked is None and self.status != "supported" and not self.blocks_publishing


class QualityFlag(Record):
    """A way a draft goes wrong that a claim check cannot catch, and what triggered it."""

    kind: QualityKind
    detail: str = Field(description="What triggered the flag, for the editor.")


MAX_MODEL_CLAIMS = 12
CLAIM_SPAN_CHARS = 200  # the decoder's bound on a claim's span; Claim.text allows more


def claims_decoding_schema(sentence_ids: list[str], spans: list[str]) -> dict:
    """The schema for the model pass that lists a review's claims, from `Claim`'s own types.

    `text` is an enum of spans of the review (its clauses, and the specifics the rules found), so
    every claim quotes the review verbatim; `evidence` is an enum of the material's sentence ids,
    so a cited sentence always exists. The object is split so that "unsupported" comes with
    evidence "none" and the other statuses with a real sentence: the pair cannot disagree.
    """
    kinds = list(get_args(ClaimKind))
    span = {"enum": spans}

    def item(statuses: list[str], evidence: list[str]) -> dict:
        return {
            "type": "object",
            "properties": {
                "text": span,
                "kind": {"enum": kinds},
                "status": {"enum": statuses},
                "evidence": {"enum": evidence},
            },
            "required": ["text", "kind", "status", "evidence"],
            "additionalProperties": False,
        }

    grounded = [s for s in get_args(ClaimStatus) if s != "unsupported"]
    variants = [item(["unsupported"], ["none"])]
    if sentence_ids:
        variants.append(item(grounded, sentence_ids))
    return {
        "type": "object",
        "properties": {
            "claims": {
                "type": "array",
                "maxItems": MAX_MODEL_CLAIMS,
                "items": variants[0] if len(variants) == 1 else {"anyOf": variants},
            }
        },
        "required": ["claims"],
        "additionalProperties": False,
    }


class ReviewEntry(Review):
    """A review as stored in a panel: the current fields, the model's draft, where it came from."""

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
        if self.verdict != expected:
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
        return flags

    @property
    def contradicts(self) -> bool:
        return any(f.startswith("verdict-disagrees") for f in self.flags)


FailureKind = Literal[
    "error", "whitespace-padding", "truncated", "free-text", "not-json", "invalid", "unavailable"
]


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


# ---------------------------------------------------------------------------------------------
# Lifecycle


class Change(Record):
    """One entry of a record's history: who did what, when, to which fields."""

    at: datetime = Field(default_factory=utcnow)
    by: str
    action: Literal["generated", "edited", "regenerated", "published", "checked", "voted"]
    fields: list[str] = Field(default_factory=list)
    note: str = ""
    previous: dict[str, Any] = Field(
        default_factory=dict, description="Old values of the fields this change replaced."
    )


class Lifecycle(Record):
    """Draft until published; a published record is never changed, a later one is a new revision."""

    status: Literal["draft", "published"] = "draft"
    revision: Annotated[int, Field(ge=1)] = 1
    published_at: datetime | None = None
    published_by: str | None = None
    history: list[Change] = Field(default_factory=list)

    @model_serializer(mode="wrap")
    def _readable_order(self, handler: SerializerFunctionWrapHandler):  # no return type: keeps the schema
        """kind and schema_version first, the (long) history last, for people reading the file."""
        data = handler(self)
        first = {k: data.pop(k) for k in ("kind", "schema_version") if k in data}
        history = data.pop("history", [])
        checksum = data.pop("checksum", None)
        return {**first, **data, "history": history, "checksum": checksum}


# ---------------------------------------------------------------------------------------------
# Panels and comparisons


class PanelSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ship: int
    skip: int
    failed: int
    ship_pct: int | None
    verdict: Verdict | None
    mean_score: float | None
    complete: bool


def summarize(reviews: list[ReviewEntry], failed: int) -> PanelSummary:
    ship = sum(r.verdict == "ship" for r in reviews)
    n = len(reviews)
    pct = math.floor(100 * ship / n + 0.5) if n else None
    return PanelSummary(
        ship=ship,
        skip=n - ship,
        failed=failed,
        ship_pct=pct,
        verdict=None if pct is None else ("ship" if pct >= PANEL_SHIP_PCT else "skip"),
        mean_score=round(sum(r.score for r in reviews) / n, 1) if n else None,
        complete=failed == 0 and n > 0,
    )


class ToolPanel(Lifecycle):
    """One tool reviewed by every persona. Reused by every comparison the tool appears in."""

    kind: Literal["panel"] = "panel"
    schema_version: Literal[1] = SCHEMA_VERSION
    tool: Tool
    reviews: list[ReviewEntry] = Field(default_factory=list)
    failures: list[ReviewFailure] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    checksum: str | None = Field(
        default=None,
        description="Written by panel; if the file no longer matches it, a person edited it.",
    )

    @model_validator(mode="after")
    def _one_entry_per_persona(self) -> ToolPanel:
        seen = [r.persona for r in self.reviews] + [f.persona for f in self.failures]
        dupes = sorted({p for p in seen if seen.count(p) > 1})
        if dupes:
            raise ValueError(f"persona listed more than once: {', '.join(dupes)}")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> PanelSummary:
        return summarize(self.reviews, len(self.failures))

    def review_for(self, persona: str) -> ReviewEntry | None:
        return next((r for r in self.reviews if r.persona == persona), None)

    def failure_for(self, persona: str) -> ReviewFailure | None:
        return next((f for f in self.failures if f.persona == persona), None)

    @property
    def tool_edited(self) -> bool:
        """A reviewer changed the tool's own fields with `panel edit`."""
        return any(f.startswith("tool.") for c in self.history if c.action == "edited" for f in c.fields)


class CommunityVotes(Record):
    ship: Annotated[int, Strict(), Field(ge=0)] = 0
    skip: Annotated[int, Strict(), Field(ge=0)] = 0


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["ship-with", "split", "neither"]
    winner: str | None
    reason: str


def decide(panels: list[ToolPanel]) -> Decision:
    """Pick the tool to ship with: highest ship %, then highest mean score; a tie is a split."""

    def key(p: ToolPanel) -> tuple[int, float]:
        s = p.summary
        return (
            s.ship_pct if s.ship_pct is not None else -1,
            s.mean_score if s.mean_score is not None else -1.0,
        )

    ranked = sorted(panels, key=key, reverse=True)
    best = ranked[0]
    bs = best.summary
    if bs.ship_pct is None or bs.verdict != "ship":
        return Decision(outcome="neither", winner=None, reason="No tool has a panel majority for ship.")
    if len(ranked) > 1 and key(ranked[1]) == key(best):
        tied = [p.tool.name for p in ranked if key(p) == key(best)]
        return Decision(
            outcome="split",
            winner=None,
            reason=f"{' and '.join(tied)} tie at {bs.ship_pct}% ship and mean score {bs.mean_score}.",
        )
    runner = ranked[1].summary if len(ranked) > 1 else None
    if runner is not None and runner.ship_pct == bs.ship_pct:
        why = f"same ship share ({bs.ship_pct}%), higher mean score ({bs.mean_score} vs {runner.mean_score})"
    else:
        why = f"highest ship share ({bs.ship_pct}%)"
    return Decision(outcome="ship-with", winner=best.tool.name, reason=f"{best.tool.name}: {why}.")


class Comparison(Lifecycle):
    """Two or more tool panels side by side: "A vs B: which one should you ship with?"."""

    kind: Literal["comparison"] = "comparison"
    schema_version: Literal[1] = SCHEMA_VERSION
    panels: Annotated[list[ToolPanel], Field(min_length=2)]
    community: dict[str, CommunityVotes] = Field(
        default_factory=dict, description="Reader votes per tool name; empty until votes arrive."
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    checksum: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def title(self) -> str:
        return " vs ".join(p.tool.name for p in self.panels)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def question(self) -> str:
        return QUESTION

    @computed_field  # type: ignore[prop-decorator]
    @property
    def decision(self) -> Decision:
        return decide(self.panels)


def panels_of(record: ToolPanel | Comparison) -> list[ToolPanel]:
    """The tool panels a record holds: a comparison's, or the panel itself."""
    return record.panels if isinstance(record, Comparison) else [record]


def with_panels(record: ToolPanel | Comparison, panels: list[ToolPanel]) -> ToolPanel | Comparison:
    """`record` holding `panels` instead (for a panel record: the one panel)."""
    return record.model_copy(update={"panels": panels}) if isinstance(record, Comparison) else panels[0]


SCHEMAS: dict[str, type[BaseModel]] = {
    "tool": Tool,
    "review": Review,
    "panel": ToolPanel,
    "comparison": Comparison,
}
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(name: str) -> dict:
    """The published JSON Schema of a record type, describing the files as written."""
    model = SCHEMAS[name]
    mode: Literal["validation", "serialization"] = (
        "validation" if name in ("tool", "review") else "serialization"
    )
    schema = model.model_json_schema(mode=mode)
    return {"$schema": SCHEMA_DIALECT, "$id": f"urn:panel:{name}:v{SCHEMA_VERSION}", **schema}
