"""The claims a review makes, checked against the material, and draft-quality flags."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, get_args

from pydantic import Field, model_validator

from panel.records.base import MAX_CLAIM_CHARS, Record, utcnow

ClaimKind = Literal["price", "license", "figure", "date", "version", "name", "feature"]
ClaimStatus = Literal["supported", "contradicted", "unsupported"]
ClaimOrigin = Literal["rules", "model"]
QualityKind = Literal["copies-example", "degenerate"]


class Evidence(Record):
    """The sentence of the material a claim rests on or conflicts with, and where it stands."""

    id: str = Field(description="The sentence's id in the material, e.g. s4.")
    sentence: str = Field(description="The sentence, verbatim.")
    source: str = Field(description="The tool field or source it came from: pricing.detail, a source title.")
    url: str = Field(default="", description="The page the source was read from, for fetched sources.")
    fetched_at: datetime | None = Field(default=None, description="When that page was read.")

    def origin(self) -> str:
        """'pricing.detail', or 'Pricing page, https://..., read 2026-10-03': for people."""
        parts = [self.source]
        if self.url:
            parts.append(self.url)
        if self.fetched_at is not None:
            at = self.fetched_at if self.fetched_at.tzinfo else self.fetched_at.replace(tzinfo=UTC)
            parts.append(f"read {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
        return ", ".join(parts)


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
