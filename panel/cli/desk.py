"""`panel desk`: serve the review desk over an outputs folder (`panel desk [DIR]`, which is
`panel desk serve [DIR]`), plus the team's commands registered beside it (cli/team.py: users,
policy, audit). Typer commands only."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import socket
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

from panel.errors import ConfigError, InputError, PanelError

if TYPE_CHECKING:
    from panel.desk.identity import ProxyMode

TOKEN_ENV = "PANEL_DESK_TOKEN"  # noqa: S105 - the variable's name, not a secret
MIN_TOKEN = 16


def desk_token(host: str, team: bool = False) -> tuple[str, bool]:
    """The single shared token: $PANEL_DESK_TOKEN, else (loopback only) a fresh one for this run,
    printed in the start-up address like Jupyter's: on a shared machine other local users can
    reach a loopback port too, so the desk never runs without one. With `team` (accounts, or a
    trusted proxy) people sign in with their own links and no shared token is printed or needed.
    Returns (token, generated)."""
    from panel.core.hosts import is_loopback

    token = os.environ.get(TOKEN_ENV, "")
    if token:
        if len(token) < MIN_TOKEN:
            raise ConfigError(
                f"{TOKEN_ENV} is {len(token)} characters; use at least {MIN_TOKEN}",
                where=TOKEN_ENV,
                hint="e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            )
        return token, False
    if team:
        return secrets.token_urlsafe(32), False  # never printed: once there are accounts it signs in nobody
    if not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host} without a token",
            where="--host",
            hint=f"set {TOKEN_ENV} to a long random secret, add accounts with `panel desk users add`, "
            "or serve on 127.0.0.1",
        )
    return secrets.token_urlsafe(32), True


def listen(host: str, port: int) -> socket.socket:
    """Bind before serving, so a taken port is one clear line, and --port 0 picks a free one."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            where="--port",
            hint="pick another --port",
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class ServeByDefault(TyperGroup):
    """`panel desk [DIR] [OPTIONS]` serves: anything that is not one of the group's commands is
    the `serve` command's, so the desk starts as it always has."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


desk_app = typer.Typer(
    cls=ServeByDefault,
    help="The review desk. `panel desk [DIR] [OPTIONS]` serves it (the `serve` command; see "
    "`panel desk serve --help`); the other commands manage its users, rules and audit log.",
    no_args_is_help=False,
)


def proxy_mode(header_name: str | None, proxies: list[str], known_only: bool) -> ProxyMode | None:
    """--trust-proxy-header with --trusted-proxy (both or neither), as the desk's ProxyMode."""
    from panel.desk.identity import ProxyMode

    if header_name is None and not proxies:
        if known_only:
            raise ConfigError("--known-users-only needs --trust-proxy-header", where="--known-users-only")
        return None
    if header_name is None or not proxies:
        raise ConfigError(
            "--trust-proxy-header and --trusted-proxy go together",
            where="--trust-proxy-header" if header_name is None else "--trusted-proxy",
            hint="e.g. --trust-proxy-header X-Forwarded-User --trusted-proxy 10.0.0.2",
        )
    if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", header_name):
        raise ConfigError(f"{header_name[:80]!r} is not a header name", where="--trust-proxy-header")
    for address in proxies:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ConfigError(
                f"{address[:80]!r} is not an IP address",
                where="--trusted-proxy",
                hint="give the proxy's address as the desk sees connections from it, e.g. 127.0.0.1",
            ) from None
    return ProxyMode(header_name, frozenset(str(ipaddress.ip_address(a)) for a in proxies), known_only)


def _start_lines(url: str, mode: str, proxy: ProxyMode | None) -> list[str]:
    """What `panel desk` says once it serves, by how people sign in: never a personal token."""
    lines = [f"panel desk: sign in at {url}"]
    if mode == "team":
        lines = [
            f"panel desk: people sign in with their personal links at {url} "
            "(`panel desk users add NAME --role reviewer` makes one)"
        ]
    elif mode == "env":
        lines.append(f"panel desk: the token is the one in ${TOKEN_ENV}")
    if proxy is not None:
        header_name, trusted = proxy.header, ", ".join(sorted(proxy.trusted))
        lines.append(
            f"panel desk: taking the user from the {header_name} header on connections from {trusted}"
        )
    return lines


@desk_app.command("serve")
def desk(
    folder: Annotated[
        Path | None,
        typer.Argument(help="The outputs folder (default: $PANEL_OUTPUTS or ./outputs).", metavar="DIR"),
    ] = None,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to serve on; not loopback needs accounts, a proxy or a token."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free port).", min=0, max=65535)] = 8765,
    editor: Annotated[
        str | None,
        typer.Option(
            "--editor", help="Working alone (no accounts): your name in the history (default: $USER)."
        ),
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host", help="Another Host name the desk answers to (repeatable).", metavar="NAME"
        ),
    ] = None,
    trust_proxy_header: Annotated[
        str | None,
        typer.Option(
            "--trust-proxy-header",
            help="Take the user from this header (e.g. X-Forwarded-User), "
            "on connections from --trusted-proxy only.",
            metavar="NAME",
        ),
    ] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy", help="The single sign-on proxy's IP address (repeatable).", metavar="ADDR"
        ),
    ] = None,
    known_users_only: Annotated[
        bool,
        typer.Option(
            "--known-users-only", help="Refuse proxy users without an account (default: they are reviewers)."
        ),
    ] = False,
    session_hours: Annotated[
        float,
        typer.Option("--session-hours", help="Sessions end this long after sign-in.", min=0.01, max=720),
    ] = 12.0,
) -> None:
    """Serve the review desk: the queue of drafts, each record editable in place, claims to
    check, community votes, assignments, approval and publishing, in the browser.

    Working alone (no accounts): serves 127.0.0.1 and prints a sign-in address with a one-run
    token (PANEL_DESK_TOKEN sets it, and is needed for any other address). As a team: add
    accounts with `panel desk users add NAME --role reviewer|publisher|admin`, each with a
    personal link; or put the desk behind your single sign-on with --trust-proxy-header and
    --trusted-proxy. Roles are enforced on the server; `panel desk policy` sets the four-eyes
    rule; every action goes to the audit log (`panel desk audit`). Every change goes through the
    same validation, history and compare-and-swap writes as `panel edit` and `panel publish`.
    Ctrl-C stops it.
    """
    import uvicorn

    from panel.desk.app import DeskConfig, create_app
    from panel.editorial.editing import editor_name
    from panel.inputs.personas import load_personas
    from panel.records.store import outputs_root
    from panel.team.accounts import Accounts

    root = outputs_root(folder)
    if not root.is_dir():
        raise InputError(
            "not a folder", where=root, hint="give the outputs folder, e.g. `panel desk outputs`"
        )
    proxy = proxy_mode(trust_proxy_header, list(trusted_proxy or []), known_users_only)
    team = not Accounts(root).empty or proxy is not None
    token, generated = desk_token(host, team)
    personas = load_personas()
    sock = listen(host, port)
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/login" + (
        "?" + urllib.parse.urlencode({"token": token}) if generated else ""
    )
    mode = "team" if team else ("run" if generated else "env")

    def ready(count: int) -> None:
        print(
            f"panel desk: serving {root} ({count:,} records indexed before; checking for changes)", flush=True
        )
        for line in _start_lines(url, mode, proxy):
            print(line, flush=True)
        print("panel desk: Ctrl-C stops it", flush=True)

    def indexed(count: int, seconds: float) -> None:
        print(
            f"panel desk: {count:,} records found in {root} (index up to date in {seconds:.1f} s)", flush=True
        )

    config = DeskConfig(
        root=root.resolve(),
        host=host,
        port=port,
        token=token,
        editor=editor_name(editor),
        allow_hosts=list(allow_host or []),
        personas=personas,
        on_ready=ready,
        on_indexed=indexed,
        proxy=proxy,
        session_ttl=session_hours * 3600,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            log_level="warning",
            access_log=False,  # an access log would keep sign-in links (their tokens) in its lines
            server_header=False,
            proxy_headers=False,  # the desk's own --trusted-proxy rule decides what a proxy may say
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
    )
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it handled, after a clean shutdown
    finally:
        sock.close()
    if not server.started:
        raise PanelError("the desk did not start", where=root, hint="see the message above")
    print("panel desk: stopped", flush=True)
