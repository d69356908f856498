"""models.yaml to pydantic: named model profiles, and which file they come from."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from panel.core import resources
from panel.core.loading import describe_validation_error, load_mapping
from panel.engines.options import OPTIONS, EngineName, EngineOptions
from panel.errors import ConfigError, InputError

MODELS_ENV = "PANEL_MODELS_FILE"
Options = TypeVar("Options", bound=EngineOptions)
Family = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$")]


class Profile(BaseModel):
    """One way to run a model: which engine, which weights, how to sample."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    engine: EngineName
    model: Annotated[str, Field(min_length=1)]
    served_model_name: str | None = Field(
        default=None, description="Name the server knows the model by, if not `model`."
    )
    base_url: list[str] = Field(default_factory=list)
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the API key."
    )
    prompt_format: Literal["chat", "completion"] = "chat"
    temperature: Annotated[float, Field(ge=0, le=2)] = 0.7
    top_p: Annotated[float, Field(gt=0, le=1)] = 0.95
    max_tokens: Annotated[int, Field(ge=16, le=32768)] = 1024
    seed: int | None = None
    concurrency: Annotated[int, Field(ge=1, le=4096)] = 8
    timeout: Annotated[float, Field(gt=0, le=3600)] = 120.0
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    options: EngineOptions = Field(
        default_factory=EngineOptions,
        description="Engine-specific settings, checked against the engine's own options model.",
    )
    claims: Literal["rules", "model"] = Field(
        default="rules",
        description="rules: claims checked by the rules layer only; model: also a model pass per review.",
    )
    thin_material: Literal["warn", "refuse"] = Field(
        default="warn", description="What to do with a tool whose material is too thin to judge."
    )
    family: Family | None = Field(
        default=None,
        description="The model family (mistral, llama, qwen, ...): recused from its vendor's tools.",
    )
    vendor: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="Who made the model (Mistral AI, Meta, ...): recused from its tools."
    )
    description: str = ""

    def options_as(self, model: type[Options]) -> Options:
        """The options as the engine's own model; reading models.yaml made them that."""
        if not isinstance(self.options, model):
            raise ConfigError(
                f"profile {self.name!r}: its options are not {model.__name__}, the {self.engine} options",
                hint="give the profile its options in models.yaml; panel builds the engine's own model",
            )
        return self.options

    @model_validator(mode="before")
    @classmethod
    def _engine_options(cls, data: Any) -> Any:
        """`options:` as the engine's own typed model, so an unknown key is an error naming it."""
        if isinstance(data, dict) and data.get("engine") in OPTIONS:
            options = data.get("options")
            if options is None or isinstance(options, dict):
                model = OPTIONS[data["engine"]]
                try:
                    typed = model.model_validate(options or {})
                except ValidationError as exc:
                    raise ValueError(f"options.{describe_validation_error(exc)}") from None
                data = {**data, "options": typed}
        return data

    @field_validator("base_url", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("base_url")
    @classmethod
    def _http(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} must start with http:// or https://")
        return [u.rstrip("/") for u in urls]

    @model_validator(mode="after")
    def _engine_fields(self) -> Profile:
        if self.engine == "vllm-server" and not self.base_url:
            raise ValueError("engine vllm-server needs base_url (for example http://127.0.0.1:8000/v1)")
        if self.engine != "vllm-server" and (self.base_url or self.api_key_env):
            raise ValueError(f"base_url and api_key_env only apply to vllm-server, not {self.engine}")
        return self

    @property
    def request_model(self) -> str:
        return self.served_model_name or self.model

    def fingerprint(self) -> str:
        """Digest of everything that changes what the model writes (not where it runs)."""
        keep = {
            "engine": self.engine,
            "model": self.request_model,
            "prompt_format": self.prompt_format,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            **self.options.output_settings(),
        }
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


class JurySpec(BaseModel):
    """Several profiles behind one persona (models.yaml `juries:`): each writes its own review,
    and the persona's review is their median score and strict-majority verdict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    members: Annotated[list[str], Field(min_length=2)] = Field(description="Profile names.")
    quorum: Annotated[int, Field(ge=1)] = Field(
        description="At least this many valid votes (from members not recused), or the verdict is split."
    )
    verdict: Literal["majority"] = "majority"
    score: Literal["median"] = "median"
    description: str = ""

    @model_validator(mode="after")
    def _members_and_quorum(self) -> JurySpec:
        if len(set(self.members)) != len(self.members):
            raise ValueError("members: a profile is listed twice")
        if self.quorum > len(self.members):
            raise ValueError(f"quorum: {self.quorum} is more than the {len(self.members)} members")
        return self


def _named(entries: Any) -> Any:
    """`{name: {...}}` with each entry's own `name` filled in from its key."""
    if not isinstance(entries, dict):
        return entries
    return {k: ({**v, "name": k} if isinstance(v, dict) else v) for k, v in entries.items()}


class ModelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: str
    models: dict[str, Profile]
    juries: dict[str, JurySpec] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _name_profiles(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("models", "juries"):
                if key in data:
                    data[key] = _named(data[key])
        return data

    @model_validator(mode="after")
    def _default_exists(self) -> ModelsFile:
        if self.default not in self.models:
            raise ValueError(f"default profile {self.default!r} is not among models: {sorted(self.models)}")
        for name, jury in self.juries.items():
            unknown = [m for m in jury.members if m not in self.models]
            if unknown:
                raise ValueError(
                    f"juries.{name}.members: {unknown[0]!r} is not among models: {sorted(self.models)}"
                )
        return self


def models_file_path(explicit: Path | None = None) -> Path:
    """--models-file, then $PANEL_MODELS_FILE, then ./models.yaml, then the installed copy."""
    if explicit is not None:
        return explicit
    env = os.environ.get(MODELS_ENV)
    if env:
        return Path(env)
    local = Path.cwd() / "models.yaml"
    if local.is_file():
        return local
    return resources.installed("models.yaml")


def load_models(path: Path | None = None) -> tuple[Path, ModelsFile]:
    path = models_file_path(path)
    data = load_mapping(path, ConfigError)
    try:
        return path, ModelsFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc), where=path) from None


def get_profile(models: ModelsFile, name: str | None, path: Path) -> Profile:
    name = name or models.default
    if name not in models.models:
        raise ConfigError(
            f"unknown model profile {name!r}",
            where=path,
            hint=f"known profiles: {', '.join(sorted(models.models))}; see `panel models`",
        )
    return models.models[name]


def get_jury(models: ModelsFile, name: str, path: Path | str) -> JurySpec:
    if name not in models.juries:
        known = ", ".join(sorted(models.juries)) or "none (add a `juries:` section to models.yaml)"
        raise ConfigError(
            f"unknown jury {name!r}", where=path, hint=f"known juries: {known}; see `panel models`"
        )
    return models.juries[name]


@dataclass(frozen=True)
class Judges:
    """Who reviews one persona: one profile, or a jury and its member profiles (in order)."""

    profiles: tuple[Profile, ...]
    jury: JurySpec | None = None

    @property
    def profile(self) -> Profile:
        """The profile a single judge runs on (for a jury: its first member)."""
        return self.profiles[0]


def judges_for(
    personas: list[Any],
    models: ModelsFile,
    models_path: Path,
    profile_name: str | None,
    jury_name: str | None = None,
) -> dict[str, Judges]:
    """Who reviews each persona: its own `jury:` or `profile:` if it names one (so one panel can
    mix models), else the command's `--jury`, else its `--model` (or the default profile)."""
    if profile_name and jury_name:
        raise InputError("give --model or --jury, not both", where="--jury")

    def jury(name: str, where: Path | str) -> Judges:
        spec = get_jury(models, name, where)
        return Judges(tuple(models.models[m] for m in spec.members), spec)

    default = (
        jury(jury_name, "--jury") if jury_name else Judges((get_profile(models, profile_name, models_path),))
    )
    out = {}
    for p in personas:
        where = p.path or models_path
        if getattr(p, "jury", None):
            out[p.id] = jury(p.jury, where)
        elif p.profile:
            out[p.id] = Judges((get_profile(models, p.profile, where),))
        else:
            out[p.id] = default
    return out


def profiles_in(judges: Mapping[str, Judges]) -> list[Profile]:
    """Every profile that may review: single ones and each jury's members, once each."""
    return list({p.name: p for j in judges.values() for p in j.profiles}.values())
