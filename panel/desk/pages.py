"""The desk's pages (GET only: nothing here changes a record): the queue, a record, its preview,
the blind second review, the stylesheets.

Record URLs carry the index's row id, looked up among the records the index knows: no part of a
URL ever becomes a file path. Opening a draft you hold keeps your lock fresh; that is the only
write a GET makes, and it is to the team's store, never to a record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from panel.editorial.render import clean
from panel.index.database import record_id
from panel.records import Comparison, utcnow

from .context import ctx, message, page, session_of
from .opening import Desk, open_record, view_of
from .queue import PAGE_SIZE, QueueQuery, default_view, queue_view, tabs
from .rendering import STATIC
from .team_view import Record, Seen, blind_pending, blind_units, last_published, row_work, team_view
from .views import NOTICES, RecordView

_STATIC = {name: path.read_bytes() for name, path in STATIC.items()}


@dataclass(frozen=True)
class Found:
    """The record behind /r/{rid}: its index id, file and path relative to the outputs folder."""

    desk: Desk
    rid: str
    path: Path
    rel: str


def lookup(request: Request) -> Found | None:
    """Only ids the index knows, only files under the root."""
    desk = ctx(request).records
    rid = request.path_params["rid"]
    row = desk.index.get(rid)
    if row is None:
        return None
    path = Path(row.path)
    root = desk.outputs.root.resolve()
    if root not in path.resolve().parents or not path.is_file():
        return None
    return Found(desk, rid, path, desk.where(path))


def not_found(request: Request) -> HTMLResponse:
    text = "No such record in this desk."
    sync = ctx(request).sync
    if sync is not None and not sync.first_done.is_set():
        text += " The desk is still indexing the folder: try again in a moment."
    return message(request, 404, "Not found", text)


def _seen(request: Request, found: Found, record: Record) -> Seen:
    context = ctx(request)
    return Seen(
        record=record,
        state=context.work.state(found.rel),
        who=session_of(request),
        policy=context.policy(),
        solo=context.identity.solo,
        assignees=[a.name for a in context.accounts.all()],
        verdicts=context.work.verdicts_for(found.rel),
        published_at=last_published(found.desk.outputs.root, record),
        now=utcnow(),
    )


def record_page(
    request: Request, found: Found, view: RecordView, record: Record, status: int = 200
) -> Response:
    """The record page: the record, editable, with what the team needs to see and may do."""
    return page(request, "record.jinja", status, view=view, team=team_view(_seen(request, found, record)))


async def queue(request: Request) -> Response:
    context = ctx(request)
    try:
        query = QueueQuery.parse(request.query_params)
    except ValueError as exc:
        return message(request, 400, "Bad filter", str(exc))
    who = session_of(request)
    solo = context.identity.solo
    view = "all" if solo else (query.view or default_view(who.role, solo))
    ids = None
    if view == "mine":
        ids = [record_id(rel) for rel in context.work.assigned_to(who.editor)]
    elif view == "awaiting":
        ids = [record_id(rel) for rel in context.work.awaiting()]
    desk = context.records
    assert context.sync is not None
    context.sync.poke()  # pick up hand edits and other machines' writes, in the background
    result = desk.index.query(
        kind=query.kind,
        status=query.status,
        flag=query.flag,
        search=query.q or None,
        sort=query.sort,
        offset=(query.page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
        ids=ids,
    )
    rels = {row.id: desk.where(Path(row.path)) for row in result.rows}
    states = context.work.states(list(rels.values()))
    now, quiet = utcnow(), context.policy().lock_window
    work = {rid: row_work(states[rel], who, now, quiet) for rid, rel in rels.items() if rel in states}
    mine, awaiting = context.work.counts(who.editor)
    tab_list = [] if solo else tabs(query, view, {"mine": mine, "awaiting": awaiting})
    return page(
        request,
        "queue.jinja",
        view=queue_view(query, result.rows, result.total, work, tab_list, view),
        indexing=not context.sync.first_done.is_set(),
    )


async def record(request: Request) -> Response:
    found = lookup(request)
    if found is None:
        return not_found(request)
    context = ctx(request)
    opened = open_record(found.desk, found.path)
    if opened.record is None:
        return message(
            request,
            200,
            found.desk.where(found.path),
            "This file does not validate; fix it with `panel edit` or by hand.",
            [f"{k}: {v}" for k, v in opened.problems.items()],
        )
    who = session_of(request)
    context.work.touch(found.rel, who.editor)  # the holder is active: their lock stays fresh
    seen = _seen(request, found, opened.record)
    if blind_pending(seen.policy, who, opened.record, seen.verdicts):
        return blind_page(request, found, opened.record)
    view = view_of(found.desk, found.rid, opened)
    view.notice = NOTICES.get(request.query_params.get("done", ""), "")
    return page(request, "record.jinja", view=view, team=team_view(seen))


def blind_page(
    request: Request, found: Found, record: Record, error: str = "", status: int = 200
) -> Response:
    """The blind second review: every review's text, no scores, no verdicts, no decision."""
    title = record.title if isinstance(record, Comparison) else record.tool.name
    return page(
        request,
        "blind.jinja",
        status,
        rid=found.rid,
        title=clean(title),
        units=blind_units(record, found.desk.names),
        error=error,
    )


async def preview(request: Request) -> Response:
    found = lookup(request)
    if found is None:
        return not_found(request)
    opened = open_record(found.desk, found.path)
    if opened.record is None:
        return message(request, 409, "No preview", "This file does not validate.")
    context = ctx(request)
    if blind_pending(
        context.policy(), session_of(request), opened.record, context.work.verdicts_for(found.rel)
    ):
        return message(
            request, 403, "Not yet", "Give your own verdicts first: the preview shows the first review's."
        )
    return HTMLResponse(found.desk.render(opened.record, "html"))


async def static_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _STATIC:
        return Response("404 Not Found\n", 404, media_type="text/plain")
    return Response(_STATIC[name], media_type="text/css")
