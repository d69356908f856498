"""Reviewer personas, one YAML file each. A new file adds a reviewer; no code changes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from panel import resources
from panel.errors import ConfigError
from panel.loading import describe_validation_error, load_mapping, read_text
from panel.records import (
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

    def verdict_for(self, score: int) -> Verdict:
        return verdict_for(score, self.ship_threshold)


def load_persona(path: Path) -> Persona:
    data = load_mapping(path, ConfigError)
    try:
        persona = Persona.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc), where=path) from None
    if persona.id != path.stem:
        raise ConfigError(
            f"id: {persona.id!r} does not match the file name",
            where=path,
            hint=f"rename the file to {persona.id}.yaml or set id: {path.stem}",
        )
    digest = hashlib.sha256(read_text(path, ConfigError).encode()).hexdigest()
    return persona.model_copy(update={"path": path, "digest": digest})


def load_personas(dirs: list[Path] | None = None) -> list[Persona]:
    """All personas, installed first; a file in ./personas/ with the same id replaces one."""
    dirs = resources.search_dirs("personas") if dirs is None else dirs
    by_id: dict[str, Persona] = {}
    for directory in dirs:
        for path in sorted(directory.glob("*.y*ml")):
            if path.suffix in (".yaml", ".yml"):
                persona = load_persona(path)
                by_id[persona.id] = persona
    if not by_id:
        raise ConfigError("no persona files found", where=" or ".join(map(str, dirs)) or "personas/")
    return sorted(by_id.values(), key=lambda p: (p.order, p.id))


def select(personas: list[Persona], ids: list[str] | None) -> list[Persona]:
    if not ids:
        return personas
    known = {p.id: p for p in personas}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ConfigError(
            f"unknown persona {unknown[0]!r}",
            where="--persona",
            hint=f"known personas: {', '.join(known)}; see `panel personas`",
        )
    return [known[i] for i in ids]
