"""Options shared by the `panel` commands, so each reads the same everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import typer

ClaimsMode = Literal["rules", "model"]

ModelOpt = Annotated[
    str | None,
    typer.Option("--model", "-m", help="Model profile from models.yaml (default: the file's `default`)."),
]
ModelsFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--models-file",
        envvar="PANEL_MODELS_FILE",
        help="models.yaml to use (default: ./models.yaml, else the installed copy).",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", envvar="PANEL_OUTPUTS", help="Outputs folder (default: ./outputs).", file_okay=False
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the record(s) as JSON on stdout, nothing else.")]
FreshOpt = Annotated[bool, typer.Option("--fresh", help="Regenerate reviews even when up to date.")]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Also regenerate records a person has edited (their edits are lost).")
]
JuryOpt = Annotated[
    str | None,
    typer.Option(
        "--jury",
        help="A jury from models.yaml `juries:` instead of one profile: each member reviews, and each "
        "persona gets the median score and the strict-majority verdict (`split` without one). "
        "Members of the tool's own vendor are recused.",
    ),
]
PersonaOpt = Annotated[
    list[str] | None,
    typer.Option("--persona", "-p", help="Only these personas (repeat the option). Default: all."),
]
ToolFiles = Annotated[
    list[Path],
    typer.Argument(
        help="Tool files (YAML or JSON): name, description, tagline, category, pricing, url.",
        metavar="TOOL_FILE",
    ),
]
EditorOpt = Annotated[str | None, typer.Option("--editor", help="Who is making the change (default: $USER).")]
ClaimsOpt = Annotated[
    ClaimsMode | None,
    typer.Option(
        "--claims",
        help="rules: check each review's claims with the rules layer only; model: also ask the model to "
        "list them (a second request per review). Default: the profile's `claims:` (rules).",
    ),
]


@dataclass(frozen=True)
class RunOptions:
    """The options `review` and `compare` share, as one value."""

    model: str | None
    models_file: Path | None
    out: Path | None
    persona: list[str] | None
    fresh: bool
    force: bool
    as_json: bool
    claims: ClaimsMode | None
    jury: str | None = None
