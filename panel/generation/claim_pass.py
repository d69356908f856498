"""The claims stage: an optional model pass that lists the claims of one review.

Chosen with `claims: model` in a profile or `--claims model`. The same engine reads the review
and the material (numbered sentences) and answers under constrained decoding: a claim's text is
an enum of the review's own spans, so it is quoted verbatim, and its evidence an enum of the
material's sentence ids plus "none", so a cited sentence always exists. It
catches what rules cannot, such as feature claims ("supports SSO"). Its claims are merged with
the rules' claims by grounding, where a rules `contradicted` wins.

The pass has its own cache key (review text, material, claims prompt, profile), kept in the
review's provenance, so resuming a run, or re-running it, redoes only reviews whose key changed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from panel.core.text import one_paragraph
from panel.engines import Engine, GenRequest, GenResult
from panel.generation.planning import Job, digest
from panel.generation.prompts import Prompts
from panel.grounding.ground import claims_for
from panel.grounding.material import Material, material_for
from panel.records import CLAIM_SPAN_CHARS, Claim, ReviewEntry, claims_decoding_schema

CLAIMS_MAX_TOKENS = 768
MAX_SPANS = 64
_CLAUSE_BREAK = re.compile(r"(?<=[.!?;:,])\s+|\s+(?:—|–|-{2})\s+")


def span_options(review: str, found: list[str]) -> list[str]:
    """What a model claim may quote: the review's clauses, and the spans the rules found, each
    verbatim, shortest first, at most MAX_SPANS."""
    clauses = [c.strip(" ,;:") for c in _CLAUSE_BREAK.split(review)]
    spans = [s for s in dict.fromkeys([*found, *clauses]) if 2 <= len(s) <= CLAIM_SPAN_CHARS and s in review]
    return sorted(spans, key=len)[:MAX_SPANS]


def locate(span: str, review: str) -> str | None:
    """The span as the review writes it (claims must quote the review verbatim), or None."""
    span = one_paragraph(span)
    if not span:
        return None
    if span in review:
        return span
    at = review.lower().find(span.lower())
    return review[at : at + len(span)] if at >= 0 else None


def parse_claims(text: str, review: str, material: Material) -> list[Claim]:
    """The model's claims whose spans are in the review, with their evidence resolved."""
    data = json.loads(text, strict=False)
    claims: list[Claim] = []
    seen: set[str] = set()
    for item in data.get("claims", []) if isinstance(data, dict) else []:
        span = locate(str(item.get("text", "")), review)
        if span is None or span in seen:
            continue
        seen.add(span)
        evidence = None
        if item.get("status") != "unsupported":
            sentence = material.get(str(item.get("evidence")))
            if sentence is None:
                continue
            evidence = material.evidence(sentence)
        claims.append(
            Claim(text=span, kind=item["kind"], status=item["status"], evidence=evidence, origin="model")
        )
    return claims


class ClaimsStage:
    """Lists a review's claims with the model, when the job's profile asks for it."""

    name = "claims"

    def __init__(self, prompts: Prompts, mode: str | None = None):
        self.prompts = prompts
        self.mode = mode  # --claims on the command line wins over the profile's `claims:`

    def enabled(self, job: Job) -> bool:
        return (self.mode or job.profile.claims) == "model"

    def key(self, job: Job, review: str, material: Material) -> str:
        return digest(
            {
                "review": review,
                "material": material.rows,
                "prompt": self.prompts.digest("claims"),
                "profile": job.profile.fingerprint(),
                "mode": "model",
            }
        )

    def wants(self, job: Job, entry: ReviewEntry) -> bool:
        """A kept review still needs this pass: never run, or run over other text or settings."""
        if not self.enabled(job):
            return False
        return entry.provenance.claims_key != self.key(job, entry.review, material_for(job.plan.tool))

    async def request(self, job: Job, engine: Engine) -> GenRequest | None:
        if job.entry is None or not self.enabled(job):
            return None
        material = material_for(job.plan.tool)
        found = [c.text for c in claims_for(job.entry.review, material)]
        return GenRequest(
            key=f"{job.key}:claims",
            prompt=self.prompts.render_claims(job.profile.prompt_format, job.entry.review, material.rows),
            schema=claims_decoding_schema(list(material.ids), span_options(job.entry.review, found)),
            max_tokens=CLAIMS_MAX_TOKENS,
            stage="claims",
            tool=job.plan.tool.name,
            persona=job.persona.id,
            seed=job.seed,
        )

    def apply(self, job: Job, result: GenResult) -> GenRequest | None:
        """Merge the model's claims into the review. A failed pass leaves the review as it is
        (the rules' claims still gate publishing) and is noted in the provenance."""
        assert job.entry is not None
        material = material_for(job.plan.tool)
        update: dict[str, Any] = {}
        if result.ok:
            try:
                found = parse_claims(result.text or "", job.entry.review, material)
            except (ValueError, KeyError, TypeError):
                found = None
            if found is not None:
                kept = [c for c in job.entry.claims if c.origin != "model"]
                update["claims"] = kept + found
        claims_key = self.key(job, job.entry.review, material) if "claims" in update else None
        provenance = job.entry.provenance.model_copy(update={"claims_key": claims_key})
        job.entry = job.entry.model_copy(update={**update, "provenance": provenance})
        return None
