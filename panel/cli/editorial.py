"""The editorial commands: edit, validate, diff, publish, render, stats. Typer commands only."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from panel.cli.options import EditorOpt, OutOpt
from panel.errors import ConflictError, InputError, PanelError

editorial = typer.Typer()

RecordArg = Annotated[
    Path, typer.Argument(help="A panel or comparison record (JSON) under outputs/.", metavar="RECORD")
]


@editorial.command()
def edit(record: RecordArg, editor: EditorOpt = None, out: OutOpt = None) -> None:
    """Edit a draft in $VISUAL or $EDITOR, as readable YAML; validated when you save.

    Each review's claims are listed as comments under it (status, kind, the material's
    sentence); list the numbers you verified outside the material under its `check` key to
    mark them checked. On an error the editor opens again with the errors at the top. Quitting without saving,
    or emptying the file, changes nothing. The model's draft is kept beside your text and the
    record's history says who changed which fields. Editing a comparison also updates each
    tool's panel file, so re-running `panel compare` keeps your edits. If the record changed on
    disk while you edited (the desk, another reviewer), nothing is written and your text is kept
    in a file whose path is printed.
    """
    from rich.console import Console

    from panel.editorial import editing, saving
    from panel.editorial.validate import valid_record
    from panel.generation.session import Session
    from panel.records.store import file_version

    version = file_version(record)  # read before the record: a change in between is a conflict
    current = valid_record(record)
    if current.status == "published":
        raise InputError(
            "published records never change", where=record, hint="edit the draft and publish again"
        )
    by = editing.editor_name(editor)
    applied = editing.edit_loop(current, record, by=by)
    console = Console(highlight=False)
    if applied is None:
        console.print(f"No changes: {record} is as it was.", markup=False)
        return
    session = Session.open(out=out)
    try:
        written = saving.save_edit(record, applied, by, session.outputs, version, session.personas)
    except ConflictError as exc:
        kept = saving.keep_rejected(record, applied.text)
        raise ConflictError(
            f"{exc.problem}; nothing was written",
            where=record,
            hint=f"your edit is kept in {kept}: run `panel edit {record}` again and re-apply it from there",
        ) from None
    for path, what in written:
        console.print(
            f"{what.capitalize()}: {path}" if what == "updated" else f"{path}: {what}", markup=False
        )


@editorial.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Record files (JSON) to check.", metavar="FILE")],
) -> None:
    """Check records against the JSON Schema and the rules; report every problem.

    Each problem names its JSON path and how to fix it. Beyond the schema: a verdict must agree
    with its score, and a claim the rules find contradicted by the material is an error until a
    person fixes the text or marks it checked. Unsupported claims and draft-quality flags are
    warnings. Derived values (counts, percentages, decision) are recomputed from the reviews,
    and any the file gets wrong are noted. Exit 0 when every file is valid, 2 otherwise.
    """
    from rich.console import Console

    from panel.editorial.validate import validate_file
    from panel.inputs.personas import load_personas

    bad = 0
    console = Console(highlight=False, soft_wrap=True)
    personas = load_personas()
    for file in files:
        report = validate_file(file, personas)
        for problem in report.errors:
            console.print(problem.line(file), markup=False)
        for warning in report.warnings:
            console.print(warning.line(file, "warning"), markup=False)
        for note in report.notes:
            console.print(f"{file}: note: {note}", markup=False)
        if report.ok:
            console.print(f"{file}: valid {report.kind}", markup=False)
        bad += not report.ok
    raise typer.Exit(2 if bad else 0)


@editorial.command()
def diff(record: RecordArg) -> None:
    """Show what reviewers changed relative to the model's draft, per persona."""
    from rich.console import Console

    from panel.cli import terminal
    from panel.editorial.validate import valid_record
    from panel.inputs.personas import load_personas

    current = valid_record(record)
    names = {p.id: p.name for p in load_personas()}
    Console(highlight=False).print(terminal.diff_view(current, names))


@editorial.command()
def publish(
    record: RecordArg,
    editor: EditorOpt = None,
    out: OutOpt = None,
    require_checked: Annotated[
        bool,
        typer.Option(
            "--require-checked",
            help="Also refuse claims the material does not support until a person checks them.",
        ),
    ] = False,
) -> None:
    """Validate a draft and publish it: outputs/published/SLUG.json, .md and .html.

    Refuses when a review failed or is missing, when a verdict contradicts its score, when a
    claim is contradicted by the material and nobody checked it (each is named), when a review
    copies a persona's worked example or is degenerate text and nobody edited it, or when the
    file does not validate. Claims the material does not support are listed as warnings
    (refusals with --require-checked). Published records never change: publishing after an edit
    makes a new revision and keeps the old one in outputs/published/revisions/.
    """
    from rich.console import Console

    from panel.cli import terminal
    from panel.editorial import editing, publishing, render
    from panel.generation.session import Session

    session = Session.open(out=out)
    names = session.persona_names
    result = publishing.publish(
        record,
        session.outputs,
        session.personas,
        editing.editor_name(editor),
        lambda rec, fmt: render.render_page(rec, fmt, names),
        require_checked=require_checked,
    )
    console = Console(highlight=False, soft_wrap=True)
    for warning in result.warnings:
        terminal.err.print(f"panel: warning: {warning}; not checked by anyone", markup=False, soft_wrap=True)
    if result.status == "unchanged":
        console.print(
            f"Already published as revision {result.record.revision}: {result.paths[0]}", markup=False
        )
        return
    console.print(
        f"Published revision {result.record.revision} by {result.record.published_by}:", markup=False
    )
    for path in result.paths:
        console.print(f"Wrote {path}", markup=False)


@editorial.command("render")
def render_cmd(
    record: RecordArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md or html.")] = "html",
    output: Annotated[
        Path | None,
        typer.Option(
            "--to", help="File to write (default: stdout). (-o/--out always means the outputs folder.)"
        ),
    ] = None,
    editor_view: Annotated[
        bool,
        typer.Option(
            "--editor",
            help="The editor's view, not the public page: each claim marked in the text by status "
            "(contradicted, unsupported, supported, checked), with its evidence.",
        ),
    ] = False,
) -> None:
    """Render a comparison (or one panel) as a page: Markdown for GitHub, or one self-contained HTML file."""
    from panel.cli import terminal
    from panel.core.files import atomic_write
    from panel.editorial import render
    from panel.editorial.validate import valid_record
    from panel.inputs.personas import load_personas

    if not render.is_format(fmt):
        raise PanelError(f"unknown format {fmt!r}", where="--format", hint="use md or html")
    names = {p.id: p.name for p in load_personas()}
    page = render.render_page(valid_record(record), fmt, names, editor=editor_view)
    if output is None:
        sys.stdout.write(page)
        return
    atomic_write(output, page.encode())
    terminal.err.print(f"Wrote {output}", markup=False, soft_wrap=True)


@editorial.command()
def stats(
    folder: Annotated[
        Path, typer.Argument(help="Folder of records (default: ./outputs).", metavar="DIR")
    ] = Path("outputs"),
    html: Annotated[Path | None, typer.Option("--html", help="Also write a one-file HTML report.")] = None,
) -> None:
    """Statistics across panels: per-persona scores and ship rates, agreement, reviewer changes,
    claims per review (unsupported, contradicted, checked by people), how alike the personas'
    paragraphs are, and how often the community and the panel disagree.

    Warns about a rubber-stamp panel, redundant voices and alike paragraphs. The first run over
    a folder builds `outputs/.index.sqlite3`; later runs read only the files that changed.
    """
    from rich.console import Console

    from panel.cli import terminal
    from panel.core.files import atomic_write
    from panel.inputs.personas import load_personas
    from panel.stats import compute as panel_stats
    from panel.stats import report as stats_report

    if not folder.is_dir():
        raise InputError(
            "not a folder", where=folder, hint="give the outputs folder, e.g. `panel stats outputs`"
        )
    personas = load_personas()
    names = {p.id: p.name for p in personas}
    collected = panel_stats.collect(folder, personas)
    Console(highlight=False).print(stats_report.stats_table(collected, names))
    if html is not None:
        atomic_write(html, stats_report.stats_html(collected, names).encode())
        terminal.err.print(f"Wrote {html}", markup=False, soft_wrap=True)
