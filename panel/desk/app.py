"""The desk's app: its routes (one table), the shared context they read, and the guards around
them (security.py, applied in one place). Handlers are plain `async def` and do their (short,
file-and-SQLite) work on the event loop, so the index is only ever used from one thread; the
slow hash check of a sign-in runs in a worker thread.

Pages: pages.py (GET), posts.py (every button on a record, with the role it needs),
workflow.py (the team's buttons), signin.py, users.py (admins)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from panel.index.database import RecordIndex
from panel.inputs.personas import load_personas
from panel.records.store import Outputs
from panel.team.accounts import Accounts
from panel.team.audit import AuditLog
from panel.team.work import WorkStore

from . import pages, posts, security, signin, users
from .context import DeskConfig, DeskContext
from .identity import Identity, SignInLimiter
from .indexing import BackgroundSync
from .opening import Desk
from .rendering import page_style_hash

__all__ = ["DeskConfig", "create_app"]

ROUTES = [
    Route("/login", signin.login_page, methods=["GET"]),
    Route("/login", signin.login, methods=["POST"]),
    Route("/logout", signin.logout, methods=["POST"]),
    Route("/", pages.queue, methods=["GET"]),
    Route("/r/{rid}", pages.record, methods=["GET"]),
    Route("/r/{rid}/preview", pages.preview, methods=["GET"]),
    Route("/r/{rid}/{action}", posts.act, methods=["POST"]),
    Route("/users", users.users_page, methods=["GET"]),
    Route("/users/{action}", users.users_act, methods=["POST"]),
    Route("/static/{name}", pages.static_file, methods=["GET"]),
]


def _context(config: DeskConfig) -> DeskContext:
    accounts = Accounts(config.root)
    audit = AuditLog(config.root)
    identity = Identity(
        security.Sessions(config.session_ttl),
        accounts,
        security.cookie_name(config.port),
        config.token,
        config.editor,
        config.proxy,
        on_sign_in=lambda session, how: audit.append(session.editor, "signed-in", "desk", note=how),
    )
    return DeskContext(
        config=config,
        identity=identity,
        limiter=SignInLimiter(config.sign_in_failures, config.sign_in_window),
        accounts=accounts,
        work=WorkStore(config.root),
        audit=audit,
    )


def create_app(config: DeskConfig) -> security.ASGIApp:
    context = _context(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        personas = config.personas if config.personas is not None else load_personas()
        index = RecordIndex(config.root, personas=personas)

        def indexed(seconds: float) -> None:
            if config.on_indexed is not None:
                config.on_indexed(index.query(limit=1).total, seconds)

        context.sync = BackgroundSync(config.root, personas, on_first=indexed)
        context.desk = Desk(Outputs(config.root), personas, index)
        context.sync.poke()
        if config.on_ready is not None:
            config.on_ready(index.query(limit=1).total)
        try:
            yield
        finally:
            context.sync.close()
            index.close()
            context.work.close()

    app = Starlette(routes=ROUTES, lifespan=lifespan)
    app.state.ctx = context
    app.router.redirect_slashes = False  # a URL names a record or nothing: no guessing at others
    defences = security.Defences(
        resolve=context.identity.resolve,
        allowed=security.allowed_hosts(config.host, config.port, config.allow_hosts),
        csp=security.content_security_policy((page_style_hash(),)),
    )
    return security.protect(app, defences)
