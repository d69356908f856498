"""Tool panels and comparisons, with their lifecycle: draft, published, revised."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar, overload

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    Strict,
    computed_field,
    model_serializer,
    model_validator,
)

from panel.records.base import PANEL_SHIP_PCT, QUESTION, SCHEMA_VERSION, JuryVerdict, Record, utcnow
from panel.records.recusal import vendor_match
from panel.records.review import ReviewEntry, ReviewFailure
from panel.records.tool import Tool

ChangeAction = Literal["generated", "edited", "regenerated", "published", "checked", "voted", "rechecked"]
# How a history entry reads to a person ("dana checked a claim"), on the desk and the site alike.
CHANGE_LABELS: dict[str, str] = {
    "generated": "generated",
    "edited": "edited",
    "regenerated": "regenerated",
    "published": "published",
    "checked": "checked a claim",
    "voted": "imported community votes",
    "rechecked": "rechecked the sources",
}


class Change(Record):
    """One entry of a record's history: who did what, when, to which fields."""

    at: datetime = Field(default_factory=utcnow)
    by: str
    action: ChangeAction
    fields: list[str] = Field(default_factory=list)
    note: str = ""
    previous: dict[str, Any] = Field(
        default_factory=dict, description="Old values of the fields this change replaced."
    )


class Stale(Record):
    """A published record whose material changed under it: `panel recheck` found a claim the new
    material contradicts and nobody checked. Publishing a fixed draft clears it."""

    at: datetime = Field(default_factory=utcnow)
    by: str
    reason: str = Field(description="The claims that now fail, for the editor.")


class Lifecycle(Record):
    """Draft until published; a published record's reviews never change, a later one is a new
    revision. `panel recheck` may refresh its sources, note it in the history, and mark it stale."""

    status: Literal["draft", "published"] = "draft"
    revision: Annotated[int, Field(ge=1)] = 1
    published_at: datetime | None = None
    published_by: str | None = None
    stale: Stale | None = None
    history: list[Change] = Field(default_factory=list)

    @model_serializer(mode="wrap")
    # No return type: pydantic would publish it as the record's serialization schema.
    def _readable_order(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        """kind and schema_version first, the (long) history last, for people reading the file."""
        data = handler(self)
        first = {k: data.pop(k) for k in ("kind", "schema_version") if k in data}
        history = data.pop("history", [])
        checksum = data.pop("checksum", None)
        return {**first, **data, "history": history, "checksum": checksum}


class PanelSummary(BaseModel):
    """The panel's verdict. Only personas that voted ship or skip count: `split` personas (a jury
    with no majority) are counted apart, and a panel whose votes tie is `split` itself."""

    model_config = ConfigDict(extra="forbid")

    ship: int
    skip: int
    split: int = Field(default=0, description="Personas whose jury had no majority.")
    failed: int
    ship_pct: int | None = Field(description="Share of ship among the personas that voted ship or skip.")
    verdict: JuryVerdict | None
    mean_score: float | None = Field(description="Over the personas that voted ship or skip.")
    complete: bool
    conflicts: list[str] = Field(
        default_factory=list,
        description="Personas reviewed by a single model of the tool's own vendor (not a jury).",
    )


def panel_verdict(ship: int, skip: int) -> JuryVerdict | None:
    """Ship on a strict majority of the personas that voted, skip on a strict minority, split on
    a tie; None when no persona voted."""
    voted = ship + skip
    if not voted:
        return None
    if 100 * ship > PANEL_SHIP_PCT * voted:
        return "ship"
    return "split" if ship == skip else "skip"


def summarize(reviews: list[ReviewEntry], failed: int, tool: Tool | None = None) -> PanelSummary:
    voting = [r for r in reviews if r.verdict != "split"]
    ship = sum(r.verdict == "ship" for r in voting)
    n = len(voting)
    split = len(reviews) - n
    pct = math.floor(100 * ship / n + 0.5) if n else None
    verdict = panel_verdict(ship, n - ship) or ("split" if split else None)
    return PanelSummary(
        ship=ship,
        skip=n - ship,
        split=split,
        failed=failed,
        ship_pct=pct,
        verdict=verdict,
        mean_score=round(sum(r.score for r in voting) / n, 1) if n else None,
        complete=failed == 0 and len(reviews) > 0,
        conflicts=[r.persona for r in reviews if tool is not None and conflict(r, tool) is not None],
    )


def conflict(review: ReviewEntry, tool: Tool) -> str | None:
    """Why a review written by one model (not a jury) is of the tool's own vendor, or None."""
    p = review.provenance
    if review.jury is not None or not (p.family or p.vendor):
        return None
    match = vendor_match(p.family, p.vendor, tool)
    return None if match is None else f"{p.profile} is a model of the tool's own vendor ({match})"


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
        return summarize(self.reviews, len(self.failures), self.tool)

    def review_for(self, persona: str) -> ReviewEntry | None:
        return next((r for r in self.reviews if r.persona == persona), None)

    def failure_for(self, persona: str) -> ReviewFailure | None:
        return next((f for f in self.failures if f.persona == persona), None)

    @property
    def tool_edited(self) -> bool:
        """The record's copy of the tool is newer than the tool file: a reviewer changed its
        fields with `panel edit`, or `panel recheck` refreshed its sources."""
        changes = (c for c in self.history if c.action in ("edited", "rechecked"))
        return any(f.startswith("tool.") for c in changes for f in c.fields)


class CommunityVotes(Record):
    ship: Annotated[int, Strict(), Field(ge=0)] = 0
    skip: Annotated[int, Strict(), Field(ge=0)] = 0


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["ship-with", "split", "neither"]
    winner: str | None
    reason: str


def _split_note(panels: list[ToolPanel]) -> str:
    """' Quillstack's panel is split (2 ship / 2 skip).' and the like, or ''."""
    notes = []
    for p in panels:
        s = p.summary
        if s.verdict == "split":
            notes.append(f"{p.tool.name}'s panel is split ({s.ship} ship / {s.skip} skip)")
        elif s.split:
            notes.append(f"{p.tool.name}: {s.split} persona{'s' if s.split != 1 else ''} split")
    return f" {'; '.join(notes)}." if notes else ""


def decide(panels: list[ToolPanel]) -> Decision:
    """Pick the tool to ship with among the panels whose verdict is ship: highest ship share
    (of the personas that voted), then highest mean score; a tie is a split. A split panel is
    never picked."""

    def key(p: ToolPanel) -> tuple[int, float]:
        s = p.summary
        return (
            s.ship_pct if s.ship_pct is not None else -1,
            s.mean_score if s.mean_score is not None else -1.0,
        )

    ranked = sorted((p for p in panels if p.summary.verdict == "ship"), key=key, reverse=True)
    splits = _split_note(panels)
    if not ranked:
        return Decision(
            outcome="neither", winner=None, reason=f"No tool has a panel majority for ship.{splits}"
        )
    best = ranked[0]
    bs = best.summary
    if len(ranked) > 1 and key(ranked[1]) == key(best):
        tied = [p.tool.name for p in ranked if key(p) == key(best)]
        return Decision(
            outcome="split",
            winner=None,
            reason=f"{' and '.join(tied)} tie at {bs.ship_pct}% ship and mean score {bs.mean_score}.{splits}",
        )
    runner = ranked[1].summary if len(ranked) > 1 else None
    if runner is not None and runner.ship_pct == bs.ship_pct:
        why = f"same ship share ({bs.ship_pct}%), higher mean score ({bs.mean_score} vs {runner.mean_score})"
    else:
        why = f"highest ship share ({bs.ship_pct}%)"
    return Decision(outcome="ship-with", winner=best.tool.name, reason=f"{best.tool.name}: {why}.{splits}")


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


@overload
def with_panels(record: ToolPanel, panels: list[ToolPanel]) -> ToolPanel: ...
@overload
def with_panels(record: Comparison, panels: list[ToolPanel]) -> Comparison: ...
def with_panels(record: ToolPanel | Comparison, panels: list[ToolPanel]) -> ToolPanel | Comparison:
    """`record` holding `panels` instead (for a panel record: the one panel)."""
    return record.model_copy(update={"panels": panels}) if isinstance(record, Comparison) else panels[0]


# A panel, a comparison, or a record that may be either (read from a file): a function typed
# with it gives back the kind it was given.
RecordT = TypeVar("RecordT", ToolPanel, Comparison, ToolPanel | Comparison)


LIFECYCLE = frozenset(
    {"status", "revision", "published_at", "published_by", "stale", "history", "checksum", "updated_at"}
)
"""The fields a record's lifecycle changes; what is left is its content."""
