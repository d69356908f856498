"""What every route needs, built once per app: the configuration, who is who, the team's stores
and (once the app has started) the records. Routes reach it through `request.app.state.ctx`,
and the session and parsed form the guards left in the request's scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from panel.records import Persona
from panel.team.accounts import Accounts
from panel.team.audit import AuditLog
from panel.team.policy import Policy, read_policy
from panel.team.roles import DOES, Permission, needed
from panel.team.work import WorkStore

from . import security
from .identity import Identity, ProxyMode, SignInLimiter
from .indexing import BackgroundSync
from .opening import Desk
from .rendering import html


@dataclass
class DeskConfig:
    root: Path
    host: str
    port: int
    token: str  # the single shared token, for a person working alone (no accounts)
    editor: str  # that person's name
    allow_hosts: list[str] = field(default_factory=list)
    personas: list[Persona] | None = None  # default: load_personas() at start-up
    on_ready: Callable[[int], None] | None = None  # serving; with the number of records indexed so far
    on_indexed: Callable[[int, float], None] | None = None  # first sync done: records, seconds
    proxy: ProxyMode | None = None
    session_ttl: float = security.SESSION_TTL
    sign_in_failures: int = 5  # wrong tokens per address per window before it must wait
    sign_in_window: float = 300.0


@dataclass
class DeskContext:
    config: DeskConfig
    identity: Identity
    limiter: SignInLimiter
    accounts: Accounts
    work: WorkStore
    audit: AuditLog
    desk: Desk | None = None  # set when the app starts (the record index opens then)
    sync: BackgroundSync | None = None

    def policy(self) -> Policy:
        return read_policy(self.config.root)

    @property
    def records(self) -> Desk:
        assert self.desk is not None, "the desk's lifespan has not started"
        return self.desk


def ctx(request: Request) -> DeskContext:
    return request.app.state.ctx


def session_of(request: Request) -> security.DeskSession:
    return request.scope[security.STATE]["session"]


def form_of(request: Request) -> dict[str, str]:
    return request.scope[security.STATE]["form"]


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page for the signed-in person (the layout shows who, and the sign-out form)."""
    session = request.scope.get(security.STATE, {}).get("session")
    return html(template, status, session=session, solo=ctx(request).identity.solo, **context)


def message(
    request: Request, status: int, title: str, text: str, items: list[str] | None = None
) -> HTMLResponse:
    return page(request, "message.jinja", status, title=title, message=text, items=items or [])


def denied(request: Request, doing: str, permission: Permission, record: str = "") -> Response:
    """403, nothing changed, and a line in the audit log saying who tried what. `doing`: what was
    tried, worded ("Publishing")."""
    who = session_of(request)
    role = needed(permission)
    ctx(request).audit.append(
        who.editor, "denied", "desk", record=record, note=f"{doing}: needs the {role} role"
    )
    return message(
        request,
        403,
        "Not allowed",
        f"Forbidden: {doing} needs the {role} role ({role}s do {DOES[permission]}), and {who.editor} "
        f"is a {who.role}. Nothing was changed.",
    )
