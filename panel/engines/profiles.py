"""models.yaml to pydantic: named model profiles, and which file they come from."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from panel.core import resources
from panel.core.loading import describe_validation_error, load_mapping
from panel.engines.options import OPTIONS, EngineName, EngineOptions
from panel.errors import ConfigError

MODELS_ENV = "PANEL_MODELS_FILE"
Options = TypeVar("Options", bound=EngineOptions)


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


class ModelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: str
    models: dict[str, Profile]

    @model_validator(mode="before")
    @classmethod
    def _name_profiles(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("models"), dict):
            data = dict(data)
            data["models"] = {
                k: ({**v, "name": k} if isinstance(v, dict) else v) for k, v in data["models"].items()
            }
        return data

    @model_validator(mode="after")
    def _default_exists(self) -> ModelsFile:
        if self.default not in self.models:
            raise ValueError(f"default profile {self.default!r} is not among models: {sorted(self.models)}")
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


def profiles_for(
    personas: list[Any], models: ModelsFile, models_path: Path, profile_name: str | None
) -> dict[str, Profile]:
    """The profile each persona runs on: its own `profile:` if it names one (so one panel can
    mix models), else the command's."""
    default = get_profile(models, profile_name, models_path)
    return {
        p.id: get_profile(models, p.profile, p.path or models_path) if p.profile else default
        for p in personas
    }
