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


# Fetching (`panel intake`, `panel recheck`).
FetchAllowOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-host",
        metavar="HOST[:PORT]",
        help="Also fetch from this host (repeat the option): an intranet, or a test server. Only named "
        "hosts pass; without a port, on 80 and 443. Nothing else opens a private, loopback or "
        "link-local address, or another port.",
    ),
]
DelayOpt = Annotated[
    float, typer.Option("--delay", min=0, help="Seconds between two requests to the same host.")
]
TimeoutOpt = Annotated[
    float,
    typer.Option("--timeout", min=0.1, help="Seconds one fetch may take in all, redirects included."),
]
UserAgentOpt = Annotated[
    str | None,
    typer.Option(
        "--user-agent",
        envvar="PANEL_USER_AGENT",
        help="The User-Agent sent, and the name robots.txt rules are read for (default: panel/VERSION).",
    ),
]
