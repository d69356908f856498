"""`panel desk users|policy|audit`: the desk's accounts, the team's rules and the audit log, from
the command line. Typer commands only; the work is in panel/team/. Registered under `panel desk`
in panel/cli/app.py."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from panel.cli.options import EditorOpt, OutOpt
from panel.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from panel.team.accounts import Accounts, Issued

team_commands = typer.Typer()
users_app = typer.Typer(
    help="Desk accounts: who signs in, with which role. Each gets a personal sign-in link, shown once.",
    no_args_is_help=True,
)
team_commands.add_typer(users_app, name="users")

RoleOpt = Annotated[
    str,
    typer.Option(
        "--role",
        help="reviewer: edits, checks claims, votes, asks for publication; publisher: also publishes, "
        "approves and assigns; admin: also manages users.",
    ),
]
NameArg = Annotated[str, typer.Argument(help="The user's name, as the history will show it.", metavar="NAME")]
LinkHostOpt = Annotated[str, typer.Option("--link-host", help="The desk's address, for the link.")]
LinkPortOpt = Annotated[
    int, typer.Option("--link-port", help="The desk's port, for the link.", min=1, max=65535)
]


def _root(out: Path | None) -> Path:
    from panel.records.store import outputs_root

    root = outputs_root(out)
    if not root.is_dir():
        raise InputError(
            "not a folder", where=root, hint="give the outputs folder with --out, or run it beside it"
        )
    return root


def _issue(
    out: Path | None,
    editor: str | None,
    action: Literal["user-added", "user-reset"],
    change: Callable[[Accounts, str], Issued],
    link: tuple[str, int],
) -> None:
    """Add or reset an account, log it, and print its link once."""
    from panel.editorial.editing import editor_name
    from panel.team.accounts import Accounts, sign_in_link
    from panel.team.audit import AuditLog

    root = _root(out)
    by = editor_name(editor)
    issued = change(Accounts(root), by)
    account = issued.account
    AuditLog(root).append(by, action, "cli", note=f"{account.name} as {account.role}")
    print(f"{account.name} ({account.role}): sign-in link, shown this once; send it privately:")
    print(sign_in_link(issued.token, *link))
    print("On another address, keep the part from /login on; `panel desk users reset` makes a new one.")


@users_app.command("add")
def users_add(
    name: NameArg,
    role: RoleOpt = "reviewer",
    out: OutOpt = None,
    editor: EditorOpt = None,
    link_host: LinkHostOpt = "127.0.0.1",
    link_port: LinkPortOpt = 8765,
) -> None:
    """Add a user and print their personal sign-in link, once: only a slow hash of it is kept
    (in OUT/.team/users.json, readable by you alone). Once there is a user, the desk's single
    shared token no longer signs anyone in."""
    _issue(
        out, editor, "user-added", lambda accounts, by: accounts.add(name, role, by), (link_host, link_port)
    )


@users_app.command("list")
def users_list(out: OutOpt = None) -> None:
    """The users, their roles and when they were added (never their tokens)."""
    from rich.console import Console
    from rich.table import Table

    from panel.team.accounts import Accounts

    accounts = Accounts(_root(out)).all()
    if not accounts:
        print("No users: the desk runs for one person, on its single shared token.")
        return
    table = Table("Name", "Role", "Added", "Added by")
    for a in accounts:
        table.add_row(a.name, a.role, a.created_at.strftime("%Y-%m-%d %H:%M UTC"), a.created_by)
    Console(highlight=False).print(table)


@users_app.command("remove")
def users_remove(name: NameArg, out: OutOpt = None, editor: EditorOpt = None) -> None:
    """Remove a user: their link stops working and a running desk ends their sessions at once."""
    from panel.editorial.editing import editor_name
    from panel.team.accounts import Accounts
    from panel.team.audit import AuditLog

    root = _root(out)
    gone = Accounts(root).remove(name)
    AuditLog(root).append(editor_name(editor), "user-removed", "cli", note=gone.name)
    print(f"Removed {gone.name}; their sign-in link and sessions no longer work.")


@users_app.command("reset")
def users_reset(
    name: NameArg,
    role: Annotated[str | None, typer.Option("--role", help="Also change their role.")] = None,
    out: OutOpt = None,
    editor: EditorOpt = None,
    link_host: LinkHostOpt = "127.0.0.1",
    link_port: LinkPortOpt = 8765,
) -> None:
    """Give a user a new sign-in link (printed once), optionally a new role: the old link and
    every session made with it stop working."""
    _issue(
        out, editor, "user-reset", lambda accounts, by: accounts.reset(name, by, role), (link_host, link_port)
    )


def _switch(value: str | None, option: str) -> bool | None:
    if value is None:
        return None
    if value not in ("on", "off"):
        raise InputError(f"{value[:40]!r}: use on or off", where=option)
    return value == "on"


@team_commands.command()
def policy(
    four_eyes: Annotated[
        str | None,
        typer.Option(
            "--four-eyes",
            help="on: whoever changed a score, verdict or review text cannot publish it; someone "
            "else must (the desk and `panel publish` both follow it).",
            metavar="on|off",
        ),
    ] = None,
    blind_review: Annotated[
        str | None,
        typer.Option(
            "--blind-review",
            help="on: a reviewer opening a draft someone else reviewed gives their own verdicts first.",
            metavar="on|off",
        ),
    ] = None,
    lock_minutes: Annotated[
        int | None,
        typer.Option(
            "--lock-minutes", help="A taken draft is released after this many quiet minutes.", min=1
        ),
    ] = None,
    out: OutOpt = None,
    editor: EditorOpt = None,
) -> None:
    """Show or set the team's rules, kept in OUT/.team/policy.json for the desk and the CLI."""
    from panel.editorial.editing import editor_name
    from panel.team.audit import AuditLog
    from panel.team.policy import read_policy, write_policy

    root = _root(out)
    changes = {
        key: value
        for key, value in (
            ("four_eyes", _switch(four_eyes, "--four-eyes")),
            ("blind_review", _switch(blind_review, "--blind-review")),
            ("lock_minutes", lock_minutes),
        )
        if value is not None
    }
    now = write_policy(root, **changes) if changes else read_policy(root)
    if changes:
        note = ", ".join(f"{k.replace('_', '-')} {_shown(v)}" for k, v in changes.items())
        AuditLog(root).append(editor_name(editor), "policy-changed", "cli", note=note)
    print(f"four-eyes: {_shown(now.four_eyes)}")
    print(f"blind-review: {_shown(now.blind_review)}")
    print(f"lock-minutes: {now.lock_minutes}")


def _shown(value: object) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


def _since(value: str | None) -> datetime | None:
    from datetime import UTC

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{value[:40]!r} is not a date", where="--since", hint="e.g. 2025-06-01 or 2025-06-01T09:30"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@team_commands.command()
def audit(
    user: Annotated[str | None, typer.Option("--user", help="Only this person's actions.")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Only this action (signed-in, edited, published, ...).")
    ] = None,
    record: Annotated[
        str | None, typer.Option("--record", help="Only records whose path contains this.")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only from this date or time (UTC).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line, as stored.")] = False,
    out: OutOpt = None,
) -> None:
    """Print the audit log (OUT/.team/audit.jsonl), oldest first, filtered: who did what, when,
    to which record, through the desk or the CLI."""
    from panel.cli import terminal
    from panel.team.audit import ACTIONS, AuditLog, BadLine, matches

    if action is not None and action not in ACTIONS:
        raise InputError(
            f"unknown action {action[:40]!r}", where="--action", hint=f"use one of {', '.join(ACTIONS)}"
        )
    log = AuditLog(_root(out))
    moment = _since(since)
    for entry in log.read():
        if isinstance(entry, BadLine):
            terminal.err.print(f"{log.path}: line {entry.number}: {entry.problem}", markup=False)
        elif matches(entry, user=user, action=action, record=record, since=moment):
            print(entry.model_dump_json() if as_json else entry.line())
