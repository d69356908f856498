"""The `panel` command line: the typer app, its commands from the modules beside this one, and
`main`, where every error becomes one line and an exit code.

Only typer and the command modules load here; each command imports the stages it runs when it
runs, so `panel --help` (and tab completion) stays fast.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import typer
from typer.exceptions import TyperException

from panel.cli.claims import claims_app
from panel.cli.desk import desk_app
from panel.cli.editorial import editorial
from panel.cli.generate import generate
from panel.cli.info import info, personas_app
from panel.cli.intake import intake_app
from panel.cli.site import site_app
from panel.cli.team import team_commands
from panel.cli.votes import votes_app
from panel.core import files
from panel.errors import PanelError

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

# review, compare, batch (generate.py); schema, models, personas (info.py); edit, validate,
# diff, publish, render, stats (editorial.py); claims; intake and recheck; the review desk;
# community votes; the site.
for group in (generate, info, editorial, claims_app, intake_app):
    app.registered_commands.extend(group.registered_commands)
desk_app.registered_commands.extend(team_commands.registered_commands)  # policy, audit
desk_app.registered_groups.extend(team_commands.registered_groups)  # users
app.add_typer(desk_app, name="desk")
app.add_typer(personas_app, name="personas")
app.add_typer(votes_app, name="votes")
app.add_typer(site_app, name="site")


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (a scheduler stopping a nightly batch) unwinds like Ctrl-C: the manifest says so
    and an in-process engine's worker processes are shut down, not left running."""
    raise KeyboardInterrupt


def _keep_index_in_step(path: Path) -> None:
    """A write listener: the record index of the outputs folder, if it has one, re-reads the file."""
    from panel.index.database import record_written

    record_written(path)


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def main() -> None:
    """Console entry point: every PanelError is one line on stderr and its exit code."""
    signal.signal(signal.SIGTERM, _terminated)
    files.add_write_listener(_keep_index_in_step)
    try:
        code = app(standalone_mode=False)
    except PanelError as exc:
        _say(f"panel: error: {exc.line()}")
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        _say("panel: interrupted; run the same command again to continue")
        code = 130
    except TyperException as exc:  # usage errors: typer prints them its own way
        exc.show()  # type: ignore[attr-defined]
        code = getattr(exc, "exit_code", 2)
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
