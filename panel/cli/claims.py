"""`panel claims`: every review's claims, checked against the material; marking one checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from panel.cli.options import ClaimsOpt, EditorOpt, ModelOpt, ModelsFileOpt, OutOpt
from panel.errors import InputError

if TYPE_CHECKING:
    from rich.table import Table

    from panel.generation.session import Session
    from panel.records import Claim, Comparison, ToolPanel

claims_app = typer.Typer()

STYLE = {"supported": "green", "contradicted": "bold red", "unsupported": "yellow"}


def _load(path: Path, session: Session) -> tuple[ToolPanel | Comparison, str | None]:
    """The record with claims recomputed, and the file version it was read at."""
    from panel.editorial.validate import valid_record
    from panel.records.store import file_version

    version = file_version(path)
    return valid_record(path, session.personas), version


def claim_json(claim: Claim) -> dict[str, Any]:
    return claim.model_dump(mode="json")


def _table(panel: ToolPanel, names: dict[str, str]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(panel.tool.name, style="bold"), title_justify="left", show_lines=False)
    for column in ("Persona", "Status", "Kind", "Claim", "Evidence"):
        table.add_column(column, overflow="fold")
    for review in panel.reviews:
        who = names.get(review.persona, review.persona)
        if not review.claims:
            table.add_row(who, Text("—", style="dim"), "", Text("no specific claims", style="dim"), "")
        for claim in review.claims:
            status = Text(claim.status, style=STYLE[claim.status])
            if claim.checked is not None:
                status.append(f"\nchecked by {claim.checked.by}", style="dim")
            evidence = (
                Text(f"{claim.evidence.sentence} [{claim.evidence.origin()}]") if claim.evidence else Text("")
            )
            table.add_row(who, status, f"{claim.kind} ({claim.origin})", Text(claim.text), evidence)
    return table


@claims_app.command()
def claims(
    records: Annotated[
        list[Path], typer.Argument(help="Panel or comparison records (JSON).", metavar="RECORD")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help='Print one object: {"records": [{"path", "reviews": [...]}]}.')
    ] = False,
    model: ModelOpt = None,
    models_file: ModelsFileOpt = None,
    mode: ClaimsOpt = None,
    check: Annotated[
        str | None,
        typer.Option(
            "--check", help="Mark the claim with exactly this text checked (with --tool and --persona)."
        ),
    ] = None,
    tool: Annotated[str | None, typer.Option("--tool", help="With --check: the tool's name.")] = None,
    persona: Annotated[str | None, typer.Option("--persona", help="With --check: the persona's id.")] = None,
    note: Annotated[str, typer.Option("--note", help="With --check: how you verified it.")] = "",
    editor: EditorOpt = None,
    out: OutOpt = None,
) -> None:
    """Re-check the claims of every review against the material and print them.

    Rules find the specifics each review states (prices, licenses, figures, dates, versions,
    names) and check each against the tool's text and sources: supported, contradicted or
    unsupported, with the sentence of the material as evidence. No model is needed. With
    `--model P --claims model` the model also lists each review's claims (features such as
    "supports SSO" too); those are merged in and saved to the record.

    `--check TEXT --tool NAME --persona ID [--note ...]` marks one claim as verified by you
    outside the material; the mark stays while the claim's text is unchanged.

    Exit codes: 0 no unchecked claim is contradicted; 1 some unchecked claim is contradicted;
    2 bad input.
    """
    import asyncio

    from rich.console import Console
    from rich.text import Text

    from panel.cli import progress, terminal
    from panel.editorial import editing, saving
    from panel.generation.session import Session
    from panel.grounding import ground
    from panel.records import panels_of, utcnow, with_panels
    from panel.records.store import file_version, write_record_if
    from panel.team.audit import AuditLog

    if check is not None and (tool is None or persona is None or len(records) != 1):
        raise InputError("--check needs one RECORD, --tool and --persona", where="claims")
    session = Session.open(models_file=models_file, model=model, out=out)
    loaded = [(path, *_load(path, session)) for path in records]
    if mode == "model":
        runner = session.runner(progress.ProgressEvents(names=session.persona_names), claims="model")
        for i, (path, record, version) in enumerate(loaded):
            updated = asyncio.run(runner.claims_pass(panels_of(record)))
            new = ground.refresh(with_panels(record, updated), session.personas)
            write_record_if(path, new.model_copy(update={"checksum": None}), version)
            loaded[i] = (path, new, file_version(path))
    if check is not None:
        path, record, version = loaded[0]
        assert tool is not None and persona is not None
        by = editing.editor_name(editor)
        since = utcnow()
        saved = saving.save_check(
            path, record, version, (tool, persona, check), by, note, session.outputs, session.personas
        )
        AuditLog(session.outputs.root).log_changes([p for p, _ in saved], by, since, "cli")
        for written, what in saved:
            line = f"Marked checked in {written}" if what == "updated" else f"{written}: {what}"
            terminal.err.print(line, markup=False, soft_wrap=True)
        loaded[0] = (path, *_load(path, session))
    contradicted = 0
    output = []
    for path, record, _ in loaded:
        reviews = []
        for panel in panels_of(record):
            for review in panel.reviews:
                contradicted += ground.counts(review.claims).open_contradicted
                reviews.append(
                    {
                        "tool": panel.tool.name,
                        "persona": review.persona,
                        "claims": [claim_json(c) for c in review.claims],
                    }
                )
        output.append({"path": str(path), "reviews": reviews})
    if as_json:
        typer.echo(json.dumps({"records": output}, indent=2, ensure_ascii=False))
    else:
        console = Console(highlight=False)
        for path, record, _ in loaded:
            console.print(Text(str(path), style="bold"))
            for panel in panels_of(record):
                console.print(_table(panel, session.persona_names))
        summary = (
            f"{contradicted} contradicted claim(s) nobody checked"
            if contradicted
            else "No contradicted claims"
        )
        console.print(summary, markup=False)
    raise typer.Exit(1 if contradicted else 0)
