"""`panel votes import`: readers' ship/skip votes into comparisons. Typer commands only; the
work is in panel/editorial/votes.py. Registered in panel/cli/app.py as `panel votes`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from panel.cli.options import EditorOpt, OutOpt

votes_app = typer.Typer(help="Community votes: readers' ship/skip counts beside the panel's verdict.")

_LEFT_ALONE = {
    "hand-edited": "edited by hand outside panel, so its votes were not written (check the file, "
    "save it with `panel edit`, then import again)",
    "published": "a published record, which never changes (import into the draft under comparisons/)",
    "conflict": "kept changing while the votes were written; nothing was written (run the import again)",
}


@votes_app.command("import")
def import_votes(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV or JSONL: tool,ship,skip counts, or one vote per row as tool,voter,vote.",
            metavar="FILE",
        ),
    ],
    comparison: Annotated[
        Path | None,
        typer.Option("--comparison", help="Only this comparison record (default: every one with the tool)."),
    ] = None,
    editor: EditorOpt = None,
    out: OutOpt = None,
) -> None:
    """Set community votes in the comparisons that include each tool.

    The counts replace what a comparison had for that tool; with one vote per row, a voter counts
    once per tool and their last vote wins. The whole file is checked first: a bad row stops the
    import (exit 2) and nothing is written. Comparisons edited by hand outside panel are left
    alone. Votes show on rendered pages and never change the panel's decision.
    """
    from rich.console import Console

    from panel.cli import terminal
    from panel.editorial import editing, votes
    from panel.records import utcnow
    from panel.records.store import Outputs, outputs_root
    from panel.team.audit import AuditLog

    tallies = votes.read_votes(file)
    root, by, since = outputs_root(out), editing.editor_name(editor), utcnow()
    outcomes, missing = votes.import_votes(tallies, Outputs(root), by, comparison)
    AuditLog(root).log_changes([o.path for o in outcomes if o.status == "updated"], by, since, "cli")
    console = Console(highlight=False, soft_wrap=True)
    for o in outcomes:
        if o.status in _LEFT_ALONE:
            terminal.err.print(f"Left alone {o.path}: {_LEFT_ALONE[o.status]}", markup=False, soft_wrap=True)
            continue
        shown = ", ".join(f"{t.tool} {t.ship} ship / {t.skip} skip" for t in o.votes)
        console.print(
            f"{'Updated' if o.status == 'updated' else 'Unchanged'} {o.path}: {shown}", markup=False
        )
    for tool in missing:
        terminal.err.print(f"No comparison includes {tool!r}: its votes were not imported", markup=False)
    if any(o.status == "conflict" for o in outcomes):
        raise typer.Exit(1)
