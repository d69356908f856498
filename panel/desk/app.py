"""The desk's routes: the queue, a record, its preview, and the actions (POST only).

Record URLs carry the index's row id, looked up among the records the index knows: no part of a
URL ever becomes a file path. The guards in security.py run before any route; the routes read
the parsed form they leave in the scope. Handlers are plain `async def` and do their (short,
file-and-SQLite) work on the event loop, so the index is only ever used from one thread.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from panel.editorial import render
from panel.index.database import RecordIndex
from panel.inputs.personas import load_personas
from panel.records import Persona
from panel.records.store import Outputs

from . import actions, security
from .indexing import BackgroundSync
from .opening import Desk, open_record, view_of
from .queue import PAGE_SIZE, QueueQuery, queue_view
from .views import NOTICES

HERE = Path(__file__).parent
STATIC = {"desk.css": HERE / "static" / "desk.css", "page.css": render.PAGE_CSS}
ACTIONS: dict[str, Callable[..., actions.Result]] = {
    "save": actions.save,
    "check": actions.check_claim,
    "votes": actions.set_votes,
    "publish": actions.publish,
    "adopt": actions.adopt,  # a jury member's paragraph as the review's text
}


@dataclass
class DeskConfig:
    root: Path
    host: str
    port: int
    token: str
    editor: str
    allow_hosts: list[str] = field(default_factory=list)
    personas: list[Persona] | None = None  # default: load_personas() at start-up
    on_ready: Callable[[int], None] | None = None  # serving; with the number of records indexed so far
    on_indexed: Callable[[int, float], None] | None = None  # first sync done: records, seconds


@functools.cache
def templates() -> SandboxedEnvironment:
    """The desk's templates, and render.py's, so the record page includes the published parts."""
    return SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(str(HERE / "templates")), jinja2.FileSystemLoader(str(render.TEMPLATES))]
        ),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def page_style_hash() -> str:
    """The CSP hash of the published page's inline stylesheet, so the preview can show it."""
    inline = "\n" + render.PAGE_CSS.read_text(encoding="utf-8")
    return "sha256-" + base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()


def html(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(templates().get_template(template).render(**context), status_code=status)


def create_app(config: DeskConfig) -> security.ASGIApp:
    sessions = security.Sessions()
    cookie = security.cookie_name(config.port)
    holder: dict[str, Any] = {}
    static = {name: path.read_bytes() for name, path in STATIC.items()}

    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        personas = config.personas if config.personas is not None else load_personas()
        index = RecordIndex(config.root, personas=personas)

        def indexed(seconds: float) -> None:
            if config.on_indexed is not None:
                config.on_indexed(index.query(limit=1).total, seconds)

        syncer = BackgroundSync(config.root, personas, on_first=indexed)
        holder["desk"] = Desk(Outputs(config.root), personas, index)
        holder["sync"] = syncer
        syncer.poke()
        if config.on_ready is not None:
            config.on_ready(index.query(limit=1).total)
        try:
            yield
        finally:
            syncer.close()
            index.close()

    def session_of(request: Request) -> security.DeskSession:
        return request.scope[security.STATE]["session"]

    def form_of(request: Request) -> dict[str, str]:
        return request.scope[security.STATE]["form"]

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return html(template, status, session=session_of(request), **context)

    def not_found(request: Request) -> HTMLResponse:
        message = "No such record in this desk."
        if not holder["sync"].first_done.is_set():
            message += " The desk is still indexing the folder: try again in a moment."
        return page(request, "message.jinja", 404, title="Not found", message=message)

    def lookup(request: Request) -> tuple[Desk, str, Path] | None:
        """The record behind /r/{rid}: only ids the index knows, only files under the root."""
        desk = holder["desk"]
        rid = request.path_params["rid"]
        row = desk.index.get(rid)
        if row is None:
            return None
        path = Path(row.path)
        root = config.root.resolve()
        if root not in path.resolve().parents or not path.is_file():
            return None
        return desk, rid, path

    async def login_page(request: Request) -> Response:
        token = request.query_params.get("token", "")[:200]
        return html("login.jinja", token=token, name=config.editor, error="")

    async def login(request: Request) -> Response:
        form = form_of(request)
        if not security.token_matches(form.get("token", ""), config.token):
            return html("login.jinja", 401, token="", name=form.get("name", "")[:200], error="wrong token")
        name = " ".join(form.get("name", "").split())[:200] or config.editor
        session = sessions.new(name)
        response = RedirectResponse("/", status_code=303)
        response.raw_headers.append(security.session_cookie(cookie, session.id))
        return response

    async def logout(request: Request) -> Response:
        sessions.end(session_of(request).id)
        response = RedirectResponse("/login", status_code=303)
        response.raw_headers.append(security.session_cookie(cookie, "", clear=True))
        return response

    async def queue(request: Request) -> Response:
        try:
            query = QueueQuery.parse(request.query_params)
        except ValueError as exc:
            return page(request, "message.jinja", 400, title="Bad filter", message=str(exc))
        index = holder["desk"].index
        holder["sync"].poke()  # pick up hand edits and other machines' writes, in the background
        offset = (query.page - 1) * PAGE_SIZE
        result = index.query(
            kind=query.kind,
            status=query.status,
            flag=query.flag,
            search=query.q or None,
            sort=query.sort,
            offset=offset,
            limit=PAGE_SIZE,
        )
        indexing = not holder["sync"].first_done.is_set()
        return page(
            request, "queue.jinja", view=queue_view(query, result.rows, result.total), indexing=indexing
        )

    async def record(request: Request) -> Response:
        found = lookup(request)
        if found is None:
            return not_found(request)
        desk, rid, path = found
        opened = open_record(desk, path)
        if opened.record is None:
            problems = [f"{k}: {v}" for k, v in opened.problems.items()]
            return page(
                request,
                "message.jinja",
                200,
                title=desk.where(path),
                message="This file does not validate; fix it with `panel edit` or by hand.",
                items=problems,
            )
        view = view_of(desk, rid, opened)
        view.notice = NOTICES.get(request.query_params.get("done", ""), "")
        return page(request, "record.jinja", view=view)

    async def preview(request: Request) -> Response:
        found = lookup(request)
        if found is None:
            return not_found(request)
        desk, _, path = found
        opened = open_record(desk, path)
        if opened.record is None:
            return page(
                request, "message.jinja", 409, title="No preview", message="This file does not validate."
            )
        return HTMLResponse(desk.render(opened.record, "html"))

    async def act(request: Request) -> Response:
        name = request.path_params["action"]
        found = lookup(request)
        if found is None or name not in ACTIONS:
            return not_found(request)
        desk, rid, path = found
        result = ACTIONS[name](desk, rid, path, form_of(request), session_of(request).editor)
        if result.view is not None:
            return page(request, "record.jinja", result.status, view=result.view)
        if result.message:
            return page(request, "message.jinja", result.status, title="Not done", message=result.message)
        return RedirectResponse(f"/r/{rid}?done={result.notice}", status_code=303)

    async def static_file(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in static:
            return Response("404 Not Found\n", 404, media_type="text/plain")
        return Response(static[name], media_type="text/css")

    app = Starlette(
        routes=[
            Route("/login", login_page, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/", queue, methods=["GET"]),
            Route("/r/{rid}", record, methods=["GET"]),
            Route("/r/{rid}/preview", preview, methods=["GET"]),
            Route("/r/{rid}/{action}", act, methods=["POST"]),
            Route("/static/{name}", static_file, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # a URL names a record or nothing: no guessing at others
    defences = security.Defences(
        sessions=sessions,
        cookie=cookie,
        allowed=security.allowed_hosts(config.host, config.port, config.allow_hosts),
        csp=security.content_security_policy((page_style_hash(),)),
    )
    return security.protect(app, defences)
