"""Grounding: every review's claims, checked against the material, and its draft-quality flags.

Recomputed whenever a record is checked or written (`panel claims`, validate, publish, the desk,
review/compare/batch), so hand-edited records and records written before claims existed are
covered too. Two things survive recomputation: claims from the model pass (making them again
needs a model) while their span is still in the text, and a person's `checked` mark on a claim
whose text is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from panel.errors import InputError
from panel.grounding.material import Material, material_for
from panel.grounding.quality import quality_flags
from panel.grounding.rules import rules_claims
from panel.records import (
    Check,
    Claim,
    Persona,
    RecordT,
    ReviewEntry,
    ToolPanel,
    panels_of,
    with_panels,
)


def examples_of(personas: Iterable[Persona]) -> dict[str, str]:
    """Each persona's worked example, the text a draft must not copy."""
    return {p.id: p.example.review for p in personas if p.example is not None}


def _overlaps(a: Claim, b: Claim) -> bool:
    return a.text in b.text or b.text in a.text


def merge_claims(rules: list[Claim], model: list[Claim]) -> list[Claim]:
    """The rules' claims, plus the model's where they add something.

    Where both speak of one claim (the same kind, overlapping spans): a rules `contradicted`
    wins; otherwise a model verdict backed by evidence wins over a rules `unsupported` (the model
    may find a paraphrase the rules missed). Model claims of another kind, or about spans the
    rules did not see (features such as "supports SSO"), are added.
    """
    merged = list(rules)
    for claim in model:
        twin = next(
            (
                i
                for i, r in enumerate(merged)
                if r.origin == "rules" and r.kind == claim.kind and _overlaps(r, claim)
            ),
            None,
        )
        if twin is None:
            if not any(m.kind == claim.kind and m.text == claim.text for m in merged):
                merged.append(claim)
        elif merged[twin].status == "unsupported" and claim.evidence is not None:
            merged[twin] = claim
    return merged


def _still_cited(claim: Claim, review: str, material: Material) -> bool:
    """A model claim stays while its span is in the text and its evidence is in the material."""
    if claim.text not in review:
        return False
    if claim.evidence is None:
        return True
    cited = material.get(claim.evidence.id)
    return cited is not None and cited.text == claim.evidence.sentence


def refresh_review(entry: ReviewEntry, material: Material, examples: Mapping[str, str]) -> ReviewEntry:
    """Recompute one review's rules claims and quality flags; keep model claims and marks."""
    model = [c for c in entry.claims if c.origin == "model" and _still_cited(c, entry.review, material)]
    marks = {c.text: c.checked for c in entry.claims if c.checked is not None}
    claims = [
        c.model_copy(update={"checked": marks.get(c.text)})
        for c in merge_claims(rules_claims(entry.review, material), model)
    ]
    return entry.model_copy(update={"claims": claims, "quality": quality_flags(entry.review, examples)})


def refresh_panel(panel: ToolPanel, examples: Mapping[str, str]) -> ToolPanel:
    material = material_for(panel.tool)
    reviews = [refresh_review(r, material, examples) for r in panel.reviews]
    return panel.model_copy(update={"reviews": reviews})


def refresh(record: RecordT, personas: Sequence[Persona]) -> RecordT:
    """The record with every review's claims and flags recomputed from its current text."""
    examples = examples_of(personas)
    return with_panels(record, [refresh_panel(p, examples) for p in panels_of(record)])


@dataclass(frozen=True)
class ClaimCounts:
    claims: int = 0
    supported: int = 0
    contradicted: int = 0
    unsupported: int = 0
    checked: int = 0
    open_contradicted: int = 0  # contradicted (by either layer), nobody checked: `panel claims` exits 1
    open_unsupported: int = 0

    def line(self) -> str:
        """'3 claims · 1 contradicted' for scorecards and queues."""
        if not self.claims:
            return "no claims"
        parts = [f"{self.claims} claim{'s' if self.claims != 1 else ''}"]
        if self.contradicted:
            parts.append(f"{self.contradicted} contradicted")
        if self.unsupported:
            parts.append(f"{self.unsupported} unsupported")
        if self.checked:
            parts.append(f"{self.checked} checked")
        return " · ".join(parts)


def counts(claims: Iterable[Claim]) -> ClaimCounts:
    items = list(claims)
    return ClaimCounts(
        claims=len(items),
        supported=sum(c.status == "supported" for c in items),
        contradicted=sum(c.status == "contradicted" for c in items),
        unsupported=sum(c.status == "unsupported" for c in items),
        checked=sum(c.checked is not None for c in items),
        open_contradicted=sum(c.status == "contradicted" and c.checked is None for c in items),
        open_unsupported=sum(c.status == "unsupported" and c.checked is None for c in items),
    )


def check_claim(record: RecordT, tool: str, persona: str, claim_text: str, mark: Check) -> RecordT:
    """The record with `mark` on the claim of this text in `persona`'s review of `tool`;
    InputError if there is no such claim. Only the claim changes: who marked it goes into the
    record's history in `saving.mark_checked`, the one function that marks a claim checked.
    The mark sticks to the claim's text: it survives recomputation until that text changes."""
    found = False
    panels = []
    for panel in panels_of(record):
        if panel.tool.name == tool:
            reviews = []
            for review in panel.reviews:
                if review.persona == persona and any(c.text == claim_text for c in review.claims):
                    found = True
                    claims = [
                        c.model_copy(update={"checked": mark}) if c.text == claim_text else c
                        for c in review.claims
                    ]
                    review = review.model_copy(update={"claims": claims})
                reviews.append(review)
            panel = panel.model_copy(update={"reviews": reviews})
        panels.append(panel)
    if not found:
        raise InputError(
            f"no claim {claim_text!r} in the {persona} review of {tool!r}",
            hint="run `panel claims RECORD` to list the claims with their exact text",
        )
    return with_panels(record, panels)
