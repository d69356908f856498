"""The `panel` command line: typer commands only. Errors become exit codes in `main`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from typer.exceptions import TyperException

from panel import records
from panel.cli import progress, terminal
from panel.cli.claims import claims_app
from panel.cli.desk import desk
from panel.cli.editorial import editorial
from panel.cli.options import (
    ClaimsOpt,
    ForceOpt,
    FreshOpt,
    JsonOpt,
    ModelOpt,
    ModelsFileOpt,
    OutOpt,
    PersonaOpt,
    RunOptions,
    ToolFiles,
)
from panel.cli.votes import votes_app
from panel.core import files
from panel.engines import create_engine, embedded
from panel.engines.profiles import Profile, get_profile, load_models
from panel.errors import InputError, PanelError
from panel.generation.batch import run_batch
from panel.generation.compare import save_comparison
from panel.generation.runner import PanelOutcome
from panel.generation.runs import RunFolder, new_run_id
from panel.generation.session import Session
from panel.grounding import ground
from panel.grounding.quality import thin_material
from panel.inputs.feeds import check_readable, count_rows
from panel.inputs.personas import load_personas
from panel.inputs.toolfiles import load_tools
from panel.records import Tool, json_schema
from panel.records.store import dump_record, sweep_temp_files

os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")

app = typer.Typer(
    name="panel",
    help=(
        "Panel reviews of newly launched tools. Each persona (Builder, Skeptic, Futurist, Founder, "
        "plus any in ./personas/) scores a tool out of 100 and says ship or skip; panels merge "
        "into 'A vs B' comparisons. Records are written under ./outputs/ as drafts.\n\n"
        "Exit codes: 0 all good; 1 some reviews failed (records keep the rest); 2 bad input or "
        "usage, nothing written."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
personas_app = typer.Typer(help="List the reviewer personas or show one.", no_args_is_help=False)
app.add_typer(personas_app, name="personas")


def _report(written: list[tuple[Path, str]], console: Console) -> None:
    """Name every file the command wrote, kept or left alone, and why."""
    for path, status in written:
        if status == "written":
            line = f"Wrote {path}"
        elif status == "kept-edited":
            line = f"Kept {path}: a person edited it, so it was not regenerated (--force replaces it)"
        else:
            line = f"Up to date: {path} (no model requests)"
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _engine_log(session: Session, run_folder: Path | None = None) -> Path | None:
    """Where an in-process engine's own output goes (None: no in-process engine): the run
    folder for a batch, else a file in panel's cache named by time and process."""
    if all(p.engine == "vllm-server" for p in session.profiles().values()):
        return None
    if run_folder is not None:
        return run_folder / "engine.log"
    return embedded.cache_root() / "logs" / f"engine-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"


def _check_material(session: Session, tools: list[Tool], files: list[Path]) -> None:
    """Warn about a tool whose material is too thin to judge; refuse it where the profile says so."""
    refuse = any(p.thin_material == "refuse" for p in session.profiles().values())
    for tool, file in zip(tools, files, strict=True):
        problem = thin_material(tool)
        if problem is None:
            continue
        if refuse:
            raise InputError(
                problem, where=file, hint="add to its description or sources (thin_material: refuse)"
            )
        terminal.err.print(
            f"panel: warning: {file}: {problem}", markup=False, highlight=False, soft_wrap=True
        )


def _run_panels(
    session: Session, tools: list[Tool], files: list[Path], options: RunOptions
) -> list[PanelOutcome]:
    events = progress.ProgressEvents(names=session.persona_names)
    # The runner checks profiles and templates: configuration errors come before any warning.
    runner = session.runner(events, fresh=options.fresh, force=options.force, claims=options.claims)
    _check_material(session, tools, files)
    sweep_temp_files(session.outputs.root)
    log = _engine_log(session)
    try:
        with terminal.engine_output_to(log):
            outcomes = asyncio.run(runner.run(tools))
    finally:
        events.stop()
    if log is not None and log.exists():
        if log.stat().st_size:
            events.say(f"The engine's own messages are in {log}")
        else:
            log.unlink()
    return outcomes


def _panels(tool_files: list[Path], options: RunOptions, *, compare: bool) -> None:
    """`review` and `compare`: generate what is missing, write the records, show them."""
    tools = load_tools(tool_files)
    session = Session.open(
        models_file=options.models_file, model=options.model, out=options.out, persona_ids=options.persona
    )
    with terminal.json_stdout(options.as_json) as stdout:
        console = terminal.err if options.as_json else Console(highlight=False)
        outcomes = _run_panels(session, tools, tool_files, options)
        panels = [o.panel for o in outcomes if o.panel is not None]
        written = [(o.path, o.status) for o in outcomes]
        comparison = save_comparison(outcomes, session.outputs, force=options.force) if compare else None
        if options.as_json:
            if comparison is not None:
                stdout.write(dump_record(comparison.comparison).decode())
            else:
                data = [json.loads(dump_record(p)) for p in panels]
                stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        else:
            for panel in panels:
                console.print(
                    terminal.scorecard(ground.refresh(panel, session.personas), session.persona_names)
                )
            if comparison is not None:
                console.print(terminal.decision_table(comparison.comparison))
        if comparison is not None:
            written.append((comparison.path, comparison.status))
        _report(written, console)
    raise typer.Exit(1 if any(p.failures for p in panels) else 0)


@app.command()
def review(
    tool_files: ToolFiles,
    model: ModelOpt = None,
    models_file: ModelsFileOpt = None,
    out: OutOpt = None,
    persona: PersonaOpt = None,
    fresh: FreshOpt = False,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    claims: ClaimsOpt = None,
) -> None:
    """Review each tool with every persona and write `outputs/panels/TOOL.json`.

    Each review's claims (prices, licenses, figures, dates, versions, names) are checked against
    the tool's text and sources as the record is written.

    Example: `panel review examples/tools/quillstack.yaml --model local`
    """
    _panels(
        tool_files, RunOptions(model, models_file, out, persona, fresh, force, as_json, claims), compare=False
    )


@app.command()
def compare(
    tool_files: Annotated[
        list[Path], typer.Argument(help="Two or more tool files (YAML or JSON).", metavar="TOOL_FILE")
    ],
    model: ModelOpt = None,
    models_file: ModelsFileOpt = None,
    out: OutOpt = None,
    persona: PersonaOpt = None,
    fresh: FreshOpt = False,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    claims: ClaimsOpt = None,
) -> None:
    """Compare two or more tools side by side: "A vs B: which one should you ship with?".

    Each tool's panel is reused when its text, the personas, the prompts and the profile are
    unchanged, so a tool reviewed before costs no model requests. Writes
    `outputs/comparisons/A-vs-B.json`.

    Example: `panel compare examples/tools/quillstack.yaml examples/tools/ledgerlight.yaml`
    """
    if len(tool_files) < 2:
        raise PanelError(
            "compare needs at least two tool files", where="compare", hint="use `panel review` for one tool"
        )
    _panels(
        tool_files, RunOptions(model, models_file, out, persona, fresh, force, as_json, claims), compare=True
    )


@app.command()
def batch(
    feed: Annotated[
        Path,
        typer.Argument(
            help="A .jsonl file (one tool per line), a .csv file (header: name, description, tagline, "
            "category, pricing_entry, pricing_detail, url) or a folder of tool files."
        ),
    ],
    model: ModelOpt = None,
    models_file: ModelsFileOpt = None,
    out: OutOpt = None,
    persona: PersonaOpt = None,
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", "-c", min=1, help="Requests in flight (default: the profile's)."),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="Name of the run folder (default: time and feed name).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only the first N rows of the feed.")
    ] = None,
    fresh: FreshOpt = False,
    force: ForceOpt = False,
    claims: ClaimsOpt = None,
) -> None:
    """Score every tool in a feed; safe to interrupt and cheap to re-run.

    Each tool's panel goes where `panel review` writes it. Re-running the same command after a
    crash or Ctrl-C continues where it stopped: up-to-date panels cost no request, and a panel
    with some personas done runs only the missing ones. Bad rows are skipped and listed in
    `outputs/runs/RUN_ID/errors.jsonl` with their line numbers; `manifest.json` beside it holds
    counts, timings and token totals.

    Exit codes: 0 all done; 1 some rows or reviews failed, or the server stopped answering
    (re-run to resume); 2 the feed can't be read or the profile is unusable.
    """
    session = Session.open(
        models_file=models_file, model=model, out=out, persona_ids=persona, concurrency=concurrency
    )
    run = RunFolder(session.outputs, run_id or new_run_id(feed))
    check_readable(feed)  # exit 2 before the run folder or the engine's log is created
    sweep_temp_files(session.outputs.root)
    bar = progress.BatchProgress(count_rows(feed) if feed.exists() else None)
    try:
        with terminal.engine_output_to(_engine_log(session, run.path)):
            result = asyncio.run(
                run_batch(session, feed, run, bar, limit=limit, fresh=fresh, force=force, claims=claims)
            )
    finally:
        bar.stop()
    Console(highlight=False).print(terminal.batch_summary(result.manifest, str(run.path)))
    if result.manifest.status == "aborted":
        terminal.err.print(f"panel: {result.manifest.message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(result.exit_code)


@app.command()
def schema(
    name: Annotated[str, typer.Argument(help="tool, review, panel or comparison.", metavar="NAME")],
) -> None:
    """Print the JSON Schema (Draft 2020-12) of a record type.

    The schema comes from the same pydantic models that drive decoding and validation.
    """
    if name not in records.SCHEMAS:
        raise PanelError(
            f"unknown schema {name!r}", where="schema", hint=f"choose one of: {', '.join(records.SCHEMAS)}"
        )
    typer.echo(json.dumps(json_schema(name), indent=2, ensure_ascii=False))


@personas_app.callback(invoke_without_command=True)
def personas_list(ctx: typer.Context) -> None:
    """List the personas in effect (installed, plus ./personas/*.yaml)."""
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
    found = {p.id: p for p in load_personas()}
    if persona_id not in found:
        raise PanelError(
            f"unknown persona {persona_id!r}", where="personas show", hint=f"known: {', '.join(found)}"
        )
    p = found[persona_id]
    typer.echo(f"# {p.path}")
    typer.echo(json.dumps(p.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False))


@app.command()
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
    engine = create_engine(profile, say=lambda m: terminal.err.print(f"· {m}", markup=False))
    try:
        return await engine.check()
    finally:
        await engine.close()


# edit, validate, diff, publish, render and stats live in cli_editorial.py; claims in
# cli_claims.py; the review desk in cli_desk.py; community votes in cli_votes.py.
app.registered_commands.extend(editorial.registered_commands)
app.registered_commands.extend(claims_app.registered_commands)
app.command()(desk)
app.add_typer(votes_app, name="votes")


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (a scheduler stopping a nightly batch) unwinds like Ctrl-C: the manifest says so
    and an in-process engine's worker processes are shut down, not left running."""
    raise KeyboardInterrupt


def _keep_index_in_step(path: Path) -> None:
    """A write listener: the record index of the outputs folder, if it has one, re-reads the file."""
    from panel.index.database import record_written

    record_written(path)


def main() -> None:
    """Console entry point: every PanelError is one line on stderr and its exit code."""
    signal.signal(signal.SIGTERM, _terminated)
    files.add_write_listener(_keep_index_in_step)
    try:
        code = app(standalone_mode=False)
    except PanelError as exc:
        terminal.err.print(f"panel: error: {exc.line()}", markup=False, highlight=False, soft_wrap=True)
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        terminal.err.print("panel: interrupted; run the same command again to continue", markup=False)
        code = 130
    except TyperException as exc:  # usage errors: typer prints them its own way
        exc.show()  # type: ignore[attr-defined]
        code = getattr(exc, "exit_code", 2)
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
