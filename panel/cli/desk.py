"""`panel desk`: serve the review desk over an outputs folder. A typer command only."""

from __future__ import annotations

import os
import secrets
import socket
import urllib.parse
from pathlib import Path
from typing import Annotated

import typer

from panel.errors import ConfigError, InputError, PanelError

TOKEN_ENV = "PANEL_DESK_TOKEN"  # noqa: S105 - the variable's name, not a secret
MIN_TOKEN = 16


def desk_token(host: str) -> tuple[str, bool]:
    """The sign-in token: $PANEL_DESK_TOKEN, else (loopback only) a fresh one for this run, printed
    in the start-up address like Jupyter's: on a shared machine other local users can reach a
    loopback port too, so the desk never runs without one. Returns (token, generated)."""
    from panel.desk.security import is_loopback

    token = os.environ.get(TOKEN_ENV, "")
    if token:
        if len(token) < MIN_TOKEN:
            raise ConfigError(
                f"{TOKEN_ENV} is {len(token)} characters; use at least {MIN_TOKEN}",
                where=TOKEN_ENV,
                hint="e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            )
        return token, False
    if not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host} without a token",
            where="--host",
            hint=f"set {TOKEN_ENV} to a long random secret, or serve on 127.0.0.1",
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


def desk(
    folder: Annotated[
        Path | None,
        typer.Argument(help="The outputs folder (default: $PANEL_OUTPUTS or ./outputs).", metavar="DIR"),
    ] = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to serve on; not loopback needs a token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free port).", min=0, max=65535)] = 8765,
    editor: Annotated[
        str | None, typer.Option("--editor", help="Default reviewer name at sign-in (default: $USER).")
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host", help="Another Host name the desk answers to (repeatable).", metavar="NAME"
        ),
    ] = None,
) -> None:
    """Serve the review desk: the queue of drafts, each record editable in place, claims to
    check, community votes, and publishing, in the browser.

    Serves 127.0.0.1 by default and prints a sign-in address carrying a one-run token. Any other
    address needs PANEL_DESK_TOKEN. Every change goes through the same validation, history and
    compare-and-swap writes as `panel edit` and `panel publish`. Ctrl-C stops it.
    """
    import uvicorn

    from panel.desk.app import DeskConfig, create_app
    from panel.editorial.editing import editor_name
    from panel.inputs.personas import load_personas
    from panel.records.store import outputs_root

    root = outputs_root(folder)
    if not root.is_dir():
        raise InputError(
            "not a folder", where=root, hint="give the outputs folder, e.g. `panel desk outputs`"
        )
    token, generated = desk_token(host)
    personas = load_personas()
    sock = listen(host, port)
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/login" + (
        "?" + urllib.parse.urlencode({"token": token}) if generated else ""
    )

    def ready(count: int) -> None:
        print(
            f"panel desk: serving {root} ({count:,} records indexed before; checking for changes)", flush=True
        )
        print(f"panel desk: sign in at {url}", flush=True)
        if not generated:
            print(f"panel desk: the token is the one in ${TOKEN_ENV}", flush=True)
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
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            log_level="warning",
            access_log=False,
            server_header=False,
            proxy_headers=False,  # nothing in front of it to trust
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
