"""A reviewer persona: lens, anchors, threshold and voice. The files live in personas/*.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from panel.records.base import (
    DEFAULT_SHIP_THRESHOLD,
    REVIEW_MAX_CHARS,
    REVIEW_MIN_CHARS,
    PersonaId,
    Score,
    Verdict,
    verdict_for,
)

ANCHOR_POINTS = (20, 50, 70, 90)
Line = Annotated[str, Field(min_length=1, max_length=600)]


class PersonaExample(BaseModel):
    """A short worked review of an invented tool: it sets the voice, for base models above all."""

    model_config = ConfigDict(extra="forbid")

    tool: Annotated[str, Field(min_length=1, max_length=800)]
    score: Score
    review: Annotated[str, Field(min_length=REVIEW_MIN_CHARS, max_length=REVIEW_MAX_CHARS)]


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: PersonaId
    name: Annotated[str, Field(min_length=1, max_length=80)]
    order: int = 100
    lens: Annotated[str, Field(min_length=1, max_length=2000)]
    must_name: Annotated[list[Line], Field(min_length=1)]
    must_not: list[Line] = Field(default_factory=list)
    anchors: dict[int, Line]
    ship_threshold: Annotated[int, Field(ge=0, le=101)] = DEFAULT_SHIP_THRESHOLD
    tone: Annotated[str, Field(min_length=1, max_length=600)]
    profile: str | None = Field(default=None, description="Model profile for this persona only.")
    jury: str | None = Field(
        default=None, description="A jury from models.yaml (several profiles) for this persona only."
    )
    example: PersonaExample | None = None
    # Set by the loader, not by the file.
    path: Path | None = Field(default=None, exclude=True)
    digest: str = Field(default="", exclude=True)

    @field_validator("anchors")
    @classmethod
    def _four_anchors(cls, anchors: dict[int, str]) -> dict[int, str]:
        if sorted(anchors) != list(ANCHOR_POINTS):
            raise ValueError(f"needs exactly the anchors {', '.join(map(str, ANCHOR_POINTS))}")
        return dict(sorted(anchors.items()))

    @model_validator(mode="after")
    def _profile_or_jury(self) -> Persona:
        if self.profile and self.jury:
            raise ValueError("name a profile or a jury, not both")
        return self

    def verdict_for(self, score: int) -> Verdict:
        return verdict_for(score, self.ship_threshold)
