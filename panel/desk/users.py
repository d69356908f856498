"""Managing users on the desk (admins only, checked on the server for every request, GET too):
add a user and show their sign-in link once, reset a link, remove a user (their sessions end at
once). The same as `panel desk users`, on the same user file."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from panel.errors import InputError
from panel.team.accounts import Issued
from panel.team.people import same_person
from panel.team.roles import ROLES, allows

from .context import ctx, denied, form_of, page, session_of
from .views import when


@dataclass(frozen=True)
class UserRow:
    name: str
    role: str
    created: str


def _page(
    request: Request, status: int = 200, issued: Issued | None = None, done: str = "", error: str = ""
) -> Response:
    context = ctx(request)
    rows = [UserRow(a.name, a.role, when(a.created_at)) for a in context.accounts.all()]
    link = f"{request.base_url}login?token={issued.token}" if issued is not None else ""
    return page(
        request,
        "users.jinja",
        status,
        users=rows,
        roles=ROLES,
        issued=issued.account.name if issued is not None else "",
        link=link,
        done=done,
        error=error,
    )


async def users_page(request: Request) -> Response:
    if not allows(session_of(request).role, "users"):
        return denied(request, "Managing users", "users")
    return _page(request)


async def users_act(request: Request) -> Response:
    action = request.path_params["action"]
    who = session_of(request)
    if not allows(who.role, "users"):
        return denied(request, "Managing users", "users")
    context = ctx(request)
    form = form_of(request)
    name = form.get("name", "")
    try:
        if action == "add":
            issued = await run_in_threadpool(context.accounts.add, name, form.get("role", ""), who.editor)
            context.audit.append(
                who.editor, "user-added", "desk", note=f"{issued.account.name} as {issued.account.role}"
            )
            return _page(request, issued=issued, done=f"Added {issued.account.name}.")
        if action == "reset":
            issued = await run_in_threadpool(context.accounts.reset, name, who.editor)
            context.identity.sessions.end_where(lambda s: same_person(s.editor, issued.account.name))
            context.audit.append(who.editor, "user-reset", "desk", note=issued.account.name)
            return _page(
                request,
                issued=issued,
                done=f"New link for {issued.account.name}; the old one no longer works.",
            )
        if action == "remove":
            if same_person(name, who.editor):
                return _page(request, 422, error="You cannot remove your own account; another admin can.")
            gone = context.accounts.remove(name)
            context.identity.sessions.end_where(lambda s: same_person(s.editor, gone.name))
            context.audit.append(who.editor, "user-removed", "desk", note=gone.name)
            return _page(request, done=f"Removed {gone.name}; their sessions have ended.")
    except InputError as exc:
        return _page(request, 422, error=exc.problem + (f" ({exc.hint})" if exc.hint else ""))
    return _page(request, 404, error="No such action.")
