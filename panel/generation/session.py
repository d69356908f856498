"""What one command works with: the models file, profiles, personas, prompts and outputs folder.

Resolved from the command-line options and the working directory, once, before any work, so
configuration errors stop a command before it writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from panel.engines.profiles import Judges, ModelsFile, Profile, judges_for, load_models, profiles_in
from panel.generation.prompts import Prompts
from panel.generation.runner import Events, PanelRunner
from panel.inputs.personas import load_personas, select
from panel.records import Persona
from panel.records.store import Outputs, outputs_root


@dataclass
class Session:
    models_path: Path
    models: ModelsFile
    profile_name: str | None
    personas: list[Persona]
    prompts: Prompts
    outputs: Outputs
    jury_name: str | None = None

    @classmethod
    def open(
        cls,
        *,
        models_file: Path | None = None,
        model: str | None = None,
        out: Path | None = None,
        persona_ids: list[str] | None = None,
        concurrency: int | None = None,
        jury: str | None = None,
    ) -> Session:
        models_path, models = load_models(models_file)
        if concurrency is not None:
            models = models.model_copy(
                update={
                    "models": {
                        k: v.model_copy(update={"concurrency": concurrency}) for k, v in models.models.items()
                    }
                }
            )
        return cls(
            models_path=models_path,
            models=models,
            profile_name=model,
            personas=select(load_personas(), persona_ids),
            prompts=Prompts(),
            outputs=Outputs(outputs_root(out)),
            jury_name=jury,
        )

    def judges(self) -> dict[str, Judges]:
        """Who reviews each persona: a profile or a jury (a persona may name its own)."""
        return judges_for(self.personas, self.models, self.models_path, self.profile_name, self.jury_name)

    def profiles(self) -> list[Profile]:
        """Every profile this command may run: single ones and each jury's members."""
        return profiles_in(self.judges())

    @property
    def persona_names(self) -> dict[str, str]:
        return {p.id: p.name for p in self.personas}

    def runner(
        self,
        events: Events | None = None,
        *,
        fresh: bool = False,
        force: bool = False,
        busy: Literal["wait", "skip"] = "wait",
        claims: Literal["rules", "model"] | None = None,
    ) -> PanelRunner:
        return PanelRunner(
            personas=self.personas,
            prompts=self.prompts,
            models=self.models,
            models_path=self.models_path,
            profile_name=self.profile_name,
            outputs=self.outputs,
            fresh=fresh,
            force=force,
            events=events,
            busy=busy,
            claims=claims,
            jury_name=self.jury_name,
        )
