"""Reviewer personas, one YAML file each. A new file adds a reviewer; no code changes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import ValidationError

from panel.core import resources
from panel.core.loading import describe_validation_error, load_mapping, read_text
from panel.errors import ConfigError
from panel.records.persona import Persona


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
