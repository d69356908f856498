"""What the record index keeps of who judged each review, for the judge figures of `panel stats`.

One row per review for its own judge (the profile that wrote it, or `jury:NAME` for a jury's
combined verdict) and one per valid jury member's vote: the judge's original score and verdict
beside the review's current ones. Over published records, the current ones are the editors'
decision: the labels each judge is measured against.
"""

from __future__ import annotations

from dataclasses import dataclass

from panel.records import ToolPanel


@dataclass(frozen=True)
class JudgementFacts:
    pos: int  # the review's position in the panel
    member: int  # -1: the review's own judge; else the index of the jury member's vote
    persona: str
    judge: str  # a profile name, or "jury:NAME"
    jury: str | None  # the jury the review came from, if one did
    orig_score: int
    orig_verdict: str  # ship, skip, or split (a jury's combined verdict)
    score: int  # the review's current score and verdict: the editors' once published
    verdict: str
    majority: str | None  # a member's row: the jury's combined verdict (ship, skip or split)


def judgement_facts(panel: ToolPanel) -> tuple[JudgementFacts, ...]:
    out = []
    for pos, r in enumerate(panel.reviews):
        draft = r.original or r
        jury = None
        if r.jury is not None:
            jury = r.provenance.jury.name if r.provenance.jury is not None else r.provenance.profile
        judge = f"jury:{jury}" if r.jury is not None else r.provenance.profile
        out.append(
            JudgementFacts(
                pos, -1, r.persona, judge, jury, draft.score, draft.verdict, r.score, r.verdict, None
            )
        )
        for k, v in enumerate(r.jury.votes if r.jury is not None else []):
            if v.status == "valid" and v.score is not None and v.verdict is not None:
                out.append(
                    JudgementFacts(
                        pos,
                        k,
                        r.persona,
                        v.profile,
                        jury,
                        v.score,
                        v.verdict,
                        r.score,
                        r.verdict,
                        draft.verdict,
                    )
                )
    return tuple(out)
