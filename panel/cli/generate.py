"""The commands that generate: review, compare and batch. Typer commands only; the stages they
run are imported when they run, so `panel --help` never loads them."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

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
from panel.errors import InputError, PanelError

if TYPE_CHECKING:
    from rich.console import Console

    from panel.generation.runner import PanelOutcome
    from panel.generation.session import Session
    from panel.records import Tool

generate = typer.Typer()


def _report(written: Sequence[tuple[Path, str]], console: Console) -> None:
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
    from panel.engines import embedded

    if all(p.engine == "vllm-server" for p in session.profiles().values()):
        return None
    if run_folder is not None:
        return run_folder / "engine.log"
    return embedded.cache_root() / "logs" / f"engine-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"


def _check_material(session: Session, tools: list[Tool], files: list[Path]) -> None:
    """Warn about a tool whose material is too thin to judge; refuse it where the profile says so."""
    from panel.cli import terminal
    from panel.grounding.quality import thin_material

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
    import asyncio

    from panel.cli import progress, terminal
    from panel.records.store import sweep_temp_files

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
    from rich.console import Console

    from panel.cli import terminal
    from panel.generation.compare import save_comparison
    from panel.generation.session import Session
    from panel.grounding import ground
    from panel.inputs.toolfiles import load_tools
    from panel.records.store import dump_record

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


@generate.command()
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


@generate.command()
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


@generate.command()
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
    import asyncio

    from rich.console import Console

    from panel.cli import progress, terminal
    from panel.generation.batch import run_batch
    from panel.generation.runs import RunFolder, new_run_id
    from panel.generation.session import Session
    from panel.inputs.feeds import check_readable, count_rows
    from panel.records.store import sweep_temp_files

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
