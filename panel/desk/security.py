"""The desk's defences, one small ASGI middleware per concern, so each lives in exactly one place.

The desk edits what gets published, so it is treated as a real server even on loopback:

- `SecurityHeaders`: a strict Content-Security-Policy and friends on every response.
- `HostGuard`: the Host header must be the address the desk serves (DNS rebinding).
- `BodyLimit`: request bodies are capped before anything reads them.
- `SessionGuard`: every request but the login needs a session, got by exchanging the token.
- `OriginGuard`: a state-changing request must come from a page of the desk itself.
- `FormGuard`: state-changing requests are strict url-encoded forms carrying the session's CSRF
  token; the parsed form is handed to the route, which never parses the body itself.

Order (outermost first) is the order above: see `protect`. GET never changes anything (the
routes only read), so only POST passes the Origin and CSRF checks.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 1024 * 1024  # a whole comparison form is ~30 KB; a review is at most 1,600 characters
MAX_FIELDS = 2000
SESSION_TTL = 12 * 3600
MAX_SESSIONS = 256  # only holders of the token create sessions; the oldest go first
FORM_TYPE = "application/x-www-form-urlencoded"
SAFE_METHODS = frozenset({"GET", "HEAD"})
PUBLIC_PATHS = frozenset({"/login", "/static/desk.css", "/static/page.css"})
STATE = "panel_desk"  # scope key for what the guards found: the session and the parsed form


def content_security_policy(style_hashes: tuple[str, ...] = ()) -> str:
    """No scripts at all; styles only from the desk's own static files (plus, by hash, the
    published page's one inline stylesheet, so the preview shows exactly the published bytes)."""
    styles = " ".join(["'self'", *(f"'{h}'" for h in style_hashes)])
    return (
        f"default-src 'none'; style-src {styles}; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


async def refuse(
    send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A refusal: one plain-text line saying what was wrong."""
    body = f"{status} {message}\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def desk_state(scope: Scope) -> dict[str, Any]:
    return scope.setdefault(STATE, {})


class SecurityHeaders:
    """CSP, nosniff, framing, referrer and caching headers on every response, refusals included.

    Referrer-Policy is `same-origin`, not `no-referrer`: with `no-referrer` Chromium sends
    `Origin: null` on the desk's own form posts (the Fetch standard ties the Origin of a POST to
    the referrer policy), which would make the Origin check refuse every save. `same-origin`
    still sends nothing to any other site. Pages carry the CSRF token (and the login page may
    carry the start-up token), so nothing but the static files may be cached."""

    def __init__(self, app: ASGIApp, csp: str):
        self.app = app
        self.fixed = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        cache = b"private, max-age=300" if static else b"no-store"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.fixed, (b"cache-control", cache)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HostGuard:
    """Refuse any Host but the desk's own address (host:port) and names given with
    --allow-host: a page on evil.example that rebinds its name to 127.0.0.1 is turned away."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]):
        self.app = app
        self.allowed = frozenset(h.lower() for h in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (header(scope, b"host") or "").lower() not in self.allowed:
            await refuse(
                send, 400, "Bad Request: unknown Host header (open the desk at the address it printed)"
            )
            return
        await self.app(scope, receive, send)


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine's loopback only: `localhost`, 127.0.0.0/8 (127.0.0.2 too),
    ::1, or an IPv4-mapped loopback address (::ffff:127.0.0.1). Any other name is not, whatever
    it resolves to today. The one test behind `panel desk`'s bind check and the Host check."""
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def allowed_hosts(host: str, port: int, extra: list[str]) -> frozenset[str]:
    """host:port, plus `localhost:port` on loopback, plus each --allow-host NAME (as NAME:port,
    or as given when it names a port)."""
    shown = f"[{host}]" if ":" in host else host
    names = {f"{shown}:{port}"}
    if is_loopback(host):
        names.add(f"localhost:{port}")
    for name in extra:
        names.add(name if name.rsplit(":", 1)[-1].isdigit() and not name.endswith("]") else f"{name}:{port}")
    return frozenset(names)


class BodyLimit:
    """Read at most `limit` bytes of a request body before the app sees any of it; more is a 400
    and the app is never called, so nothing can be half-written from a truncated form."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        too_big = (
            f"Bad Request: the request body is over the {self.limit // 1024} KiB limit; nothing was saved"
        )
        declared = header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await refuse(send, 400, too_big)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await refuse(send, 400, too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        desk_state(scope)["body"] = b"".join(chunks)
        await self.app(scope, receive, send)


@dataclass
class DeskSession:
    id: str
    csrf: str
    editor: str
    created: float = field(default_factory=time.monotonic)


class Sessions:
    """Sessions in memory: a restart signs everyone out, which is what a per-run token implies."""

    def __init__(self) -> None:
        self._by_id: OrderedDict[str, DeskSession] = OrderedDict()

    def new(self, editor: str) -> DeskSession:
        session = DeskSession(secrets.token_urlsafe(32), secrets.token_urlsafe(32), editor)
        self._by_id[session.id] = session
        while len(self._by_id) > MAX_SESSIONS:
            self._by_id.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> DeskSession | None:
        session = self._by_id.get(session_id or "")
        if session is None:
            return None
        if time.monotonic() - session.created > SESSION_TTL:
            self.end(session.id)
            return None
        return session

    def end(self, session_id: str) -> None:
        self._by_id.pop(session_id, None)


def cookie_name(port: int) -> str:
    """Cookies ignore ports: naming the cookie after the port keeps two desks apart."""
    return f"panel_desk_{port}"


def session_cookie(name: str, value: str, *, clear: bool = False) -> tuple[bytes, bytes]:
    # HttpOnly: no script can read it. SameSite=Strict: no other site's page can send it.
    # No `Secure`: the desk speaks plain http on loopback, where a Secure cookie would never be
    # sent back; binding another address should go behind a TLS proxy (see docs/desk.md).
    expiry = "; Max-Age=0" if clear else ""
    return (b"set-cookie", f"{name}={value}; HttpOnly; SameSite=Strict; Path=/{expiry}".encode())


def read_cookie(scope: Scope, name: str) -> str | None:
    raw = header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


class SessionGuard:
    """Every request without a valid session, other than the login page and its stylesheet, is
    refused: 303 to the login page for a browser asking for a page, 401 for anything else."""

    def __init__(self, app: ASGIApp, sessions: Sessions, cookie: str):
        self.app = app
        self.sessions = sessions
        self.cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        session = self.sessions.get(read_cookie(scope, self.cookie))
        if session is None:
            if scope["method"] in SAFE_METHODS and "text/html" in (header(scope, b"accept") or ""):
                await refuse(send, 303, "See Other: sign in first", [(b"location", b"/login")])
            else:
                await refuse(send, 401, "Unauthorized: sign in at /login with the desk's token")
            return
        desk_state(scope)["session"] = session
        await self.app(scope, receive, send)


def origin_of(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


class OriginGuard:
    """A state-changing request must say it comes from the desk: its Origin (or, when a browser
    sends none, its Referer's origin) must be http://<the Host the HostGuard accepted>."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        own = f"http://{header(scope, b'host')}".lower()
        origin = header(scope, b"origin")
        if origin is None:
            referer = header(scope, b"referer")
            origin = origin_of(referer) if referer else None
        if origin is None or origin.lower() != own:
            await refuse(send, 403, "Forbidden: this form was not sent from the desk's own pages")
            return
        await self.app(scope, receive, send)


class FormError(ValueError):
    pass


# A url-encoded body is printable ASCII without spaces, and every % starts an escape.
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})|[^\x21-\x7e]")


def parse_form(body: bytes, content_type: str | None) -> dict[str, str]:
    """A strict url-encoded form: the only body the desk accepts. Malformed pairs, bad
    percent-escapes, text that is not UTF-8, repeated names and too many fields are refused."""
    if (content_type or "").split(";")[0].strip().lower() != FORM_TYPE:
        raise FormError(f"expected a form ({FORM_TYPE})")
    try:
        text = body.decode("ascii")
        if _BAD_ESCAPE.search(text):
            raise ValueError("a % that starts no escape, or a character that must be escaped")
        pairs = urllib.parse.parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormError(f"malformed form: {str(exc)[:120]}") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise FormError(f"malformed form: the field {name[:80]!r} appears twice")
        form[name] = value
    return form


class FormGuard:
    """Parse the body once, strictly, and check the session's CSRF token (hmac.compare_digest);
    the routes read the parsed form from the scope. The login form has no session yet: the token
    it carries is its proof, and the OriginGuard still applies to it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        state = desk_state(scope)
        try:
            form = parse_form(state.get("body", b""), header(scope, b"content-type"))
        except FormError as exc:
            await refuse(send, 400, f"Bad Request: {exc}; nothing was saved")
            return
        session: DeskSession | None = state.get("session")
        if scope["path"] != "/login" and (
            session is None or not token_matches(form.get("csrf", ""), session.csrf)
        ):
            await refuse(send, 403, "Forbidden: the form's CSRF token is missing or wrong; reload the page")
            return
        state["form"] = form
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class Defences:
    sessions: Sessions
    cookie: str
    allowed: frozenset[str]
    csp: str
    body_limit: int = MAX_BODY


def protect(app: ASGIApp, d: Defences) -> ASGIApp:
    """Wrap the routes in every guard, innermost last."""
    app = FormGuard(app)
    app = OriginGuard(app)
    app = SessionGuard(app, d.sessions, d.cookie)
    app = BodyLimit(app, d.body_limit)
    app = HostGuard(app, d.allowed)
    return SecurityHeaders(app, d.csp)
