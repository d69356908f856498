"""The desk's view of a jury's review: every member's vote and paragraph, the chosen one marked,
and the value of each "adopt this paragraph" button (desk/actions.py `adopt` reads it back)."""

from __future__ import annotations

from dataclasses import dataclass

from panel.editorial.render import clean, judges_line, split_line
from panel.grounding import ground
from panel.records import Comparison, ToolPanel, Vote, panels_of


@dataclass(frozen=True)
class MemberView:
    profile: str
    status: str  # valid, failed or recused
    line: str  # "72/100 · ship", "failed: why", "recused: same vendor as the tool (...)"
    text: str
    claims: str  # "2 claims · 1 unsupported"
    current: bool  # its paragraph is the review's text now
    adopt: str  # the adopt button's value: tool index / persona / profile


@dataclass(frozen=True)
class JuryView:
    heading: str  # "Jury trio · 3 judges · Split: 1 ship / 1 skip / 1 failed"
    members: list[MemberView]


def _member(vote: Vote, text_now: str, adopt: str) -> MemberView:
    if vote.status == "valid":
        line = f"{vote.score}/100 · {vote.verdict}"
    else:
        line = vote.reason if vote.status == "recused" else f"failed: {vote.reason}"
    return MemberView(
        profile=clean(vote.profile),
        status=vote.status,
        line=clean(line),
        text=clean(vote.review),
        claims=ground.counts(vote.claims).line() if vote.status == "valid" else "",
        current=vote.status == "valid" and vote.review == text_now,
        adopt=adopt,
    )


def jury_views(record: ToolPanel | Comparison) -> dict[tuple[int, str], JuryView]:
    """One view per jury review, keyed like the desk's editors: (tool index, persona)."""
    views = {}
    for i, panel in enumerate(panels_of(record)):
        for review in panel.reviews:
            if review.jury is None:
                continue
            name = review.provenance.jury.name if review.provenance.jury is not None else "jury"
            parts = [f"Jury {name}", judges_line(review.jury), split_line(review)]
            views[(i, review.persona)] = JuryView(
                heading=clean(" · ".join(p for p in parts if p)),
                members=[
                    _member(v, review.review, f"{i}/{review.persona}/{v.profile}") for v in review.jury.votes
                ],
            )
    return views
