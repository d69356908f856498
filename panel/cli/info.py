"""The commands that describe: schema, personas and models. Typer commands only."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from panel.cli.options import ModelOpt, ModelsFileOpt
from panel.errors import PanelError

if TYPE_CHECKING:
    from panel.engines.profiles import Profile

info = typer.Typer()
personas_app = typer.Typer(help="List the reviewer personas or show one.", no_args_is_help=False)


@info.command()
def schema(
    name: Annotated[
        str,
        typer.Argument(
            help="tool, review, panel or comparison; or a file of the site's JSON API: site-index, "
            "site-tool, site-comparison or site-category.",
            metavar="NAME",
        ),
    ],
) -> None:
    """Print the JSON Schema (Draft 2020-12) of a record type, or of a file of the site's JSON API.

    The schema comes from the same pydantic models that drive decoding, validation and the site.
    """
    from panel.records import SCHEMAS, json_schema, schema_of
    from panel.site.api import SCHEMAS as SITE_SCHEMAS

    if name in SCHEMAS:
        schema = json_schema(name)
    elif name in SITE_SCHEMAS:
        schema = schema_of(name, SITE_SCHEMAS[name])
    else:
        names = ", ".join([*SCHEMAS, *SITE_SCHEMAS])
        raise PanelError(f"unknown schema {name!r}", where="schema", hint=f"choose one of: {names}")
    typer.echo(json.dumps(schema, indent=2, ensure_ascii=False))


@personas_app.callback(invoke_without_command=True)
def personas_list(ctx: typer.Context) -> None:
    """List the personas in effect (installed, plus ./personas/*.yaml)."""
    from rich.console import Console
    from rich.table import Table

    from panel.inputs.personas import load_personas

    if ctx.invoked_subcommand is not None:
        return
    table = Table(title="Personas")
    for col in ("id", "name", "ship at", "profile", "lens", "file"):
        table.add_column(col, overflow="fold")
    for p in load_personas():
        table.add_row(
            p.id, p.name, f"≥ {p.ship_threshold}", p.profile or "(command's)", p.lens[:80] + "…", str(p.path)
        )
    Console().print(table)


@personas_app.command("show")
def personas_show(persona_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Show one persona's file as loaded."""
    from panel.inputs.personas import load_personas

    found = {p.id: p for p in load_personas()}
    if persona_id not in found:
        raise PanelError(
            f"unknown persona {persona_id!r}", where="personas show", hint=f"known: {', '.join(found)}"
        )
    p = found[persona_id]
    typer.echo(f"# {p.path}")
    typer.echo(json.dumps(p.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False))


@info.command()
def models(
    models_file: ModelsFileOpt = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Send one tiny constrained request and report if structured output works."
        ),
    ] = False,
    model: ModelOpt = None,
) -> None:
    """List the model profiles, or check one with --check (default: the default profile)."""
    import asyncio

    from rich.console import Console
    from rich.table import Table

    from panel.cli import terminal
    from panel.engines.profiles import get_profile, load_models

    path, models_cfg = load_models(models_file)
    if check:
        profile = get_profile(models_cfg, model, path)
        terminal.err.print(f"Checking profile {profile.name!r} ({profile.engine}, {profile.model}) …")
        report = asyncio.run(_check(profile))
        typer.echo(f"{profile.name}: {report}")
        return
    table = Table(title=f"Model profiles in {path}")
    for col in ("profile", "engine", "model", "where", "prompt", "description"):
        table.add_column(col, overflow="fold")
    for name, p in models_cfg.models.items():
        label = f"{name} (default)" if name == models_cfg.default else name
        table.add_row(
            label, p.engine, p.model, ", ".join(p.base_url) or "in-process", p.prompt_format, p.description
        )
    Console().print(table)


async def _check(profile: Profile) -> str:
    from panel.cli import terminal
    from panel.engines import create_engine

    engine = create_engine(profile, say=lambda m: terminal.err.print(f"· {m}", markup=False))
    try:
        return await engine.check()
    finally:
        await engine.close()
