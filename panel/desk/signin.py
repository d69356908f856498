"""Signing in and out. The login form carries a token only: the name comes from the account (or,
for a person working alone, from `panel desk --editor`/$USER). Wrong tokens are counted per
address, and an address past the limit is told how long to wait. No token is ever logged."""

from __future__ import annotations

import logging
import math

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from . import security
from .context import ctx, form_of, session_of
from .identity import client_address
from .rendering import html

log = logging.getLogger("panel.desk")


def _login(request: Request, status: int = 200, token: str = "", error: str = "") -> Response:
    identity = ctx(request).identity
    return html(
        "login.jinja",
        status,
        session=None,
        solo=identity.solo,
        token=token,
        error=error,
        proxy=identity.proxy is not None,
    )


async def login_page(request: Request) -> Response:
    return _login(request, token=request.query_params.get("token", "")[:200])


def _wait_text(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    return f"{math.ceil(seconds)} seconds" if seconds < 90 else f"{minutes} minutes"


async def login(request: Request) -> Response:
    context = ctx(request)
    address = client_address(request.scope)
    wait = context.limiter.wait(address)
    if wait:
        return _login(
            request,
            429,
            error=f"too many wrong sign-in links from this address; wait {_wait_text(wait)} and try again, "
            "or ask an admin for a new link",
        )
    token = form_of(request).get("token", "")[:200]
    who = await run_in_threadpool(context.identity.check, token)  # the slow hash, off the event loop
    if who is None:
        context.limiter.failed(address)
        log.warning("panel desk: a sign-in with a wrong token from %s", address or "an unknown address")
        return _login(request, 401, error="wrong token")
    session = context.identity.start(who)
    how = "with the desk's token" if session.source == "solo" else "with a personal link"
    context.audit.append(session.editor, "signed-in", "desk", note=f"{how} from {address}")
    response = RedirectResponse("/", status_code=303)
    response.raw_headers.append(security.session_cookie(context.identity.cookie, session.id))
    return response


async def logout(request: Request) -> Response:
    context = ctx(request)
    session = session_of(request)
    context.identity.sessions.end(session.id)
    context.audit.append(session.editor, "signed-out", "desk")
    response = RedirectResponse("/login", status_code=303)
    response.raw_headers.append(security.session_cookie(context.identity.cookie, "", clear=True))
    return response
