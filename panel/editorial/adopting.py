"""Adopting a jury member's paragraph: the review's text becomes that member's own paragraph, in
one edit that the history records by name. The score and verdict stay as they are (an editor
changes them apart); the member's claims, with any person's marks, come with the text."""

from __future__ import annotations

from panel.editorial.editing import Applied, EditProblems, apply_fields
from panel.records import Comparison, ToolPanel, panels_of, with_panels


def adopt_paragraph(record: ToolPanel | Comparison, tool_index: int, persona: str, profile: str) -> Applied:
    """The record with the `persona` review of the tool at `tool_index` taking the paragraph of
    jury member `profile`; EditProblems (keyed like the desk's fields) when there is none."""
    panels = panels_of(record)
    where = f"tools[{tool_index}].reviews.{persona}"
    review = panels[tool_index].review_for(persona) if 0 <= tool_index < len(panels) else None
    vote = review.jury.vote_of(profile) if review is not None and review.jury is not None else None
    if review is None or vote is None or vote.status != "valid":
        raise EditProblems(
            {where: f"no paragraph by jury member {profile!r} in this review; reload the page"}
        )
    panel = panels[tool_index]
    applied = apply_fields(record, {panel.tool.name: {persona: {"review": vote.review}}})
    adopted = panels_of(applied.record)[tool_index]
    reviews = [
        r.model_copy(update={"claims": vote.claims, "quality": vote.quality}) if r.persona == persona else r
        for r in adopted.reviews
    ]
    new_panels = list(panels_of(applied.record))
    new_panels[tool_index] = adopted.model_copy(update={"reviews": reviews})
    applied.record = with_panels(applied.record, new_panels)
    applied.note = f"adopted the paragraph of jury member {profile}"
    return applied
