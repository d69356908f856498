"""Who is signed in: the single shared token (a person working alone), personal sign-in links
(accounts, panel/team/accounts.py), or a trusted proxy's header (a company's single sign-on).

Names and roles come from here only, never from a form. Every request is checked again: a
session made with a personal link ends when its account is removed or reset (by the desk or by
`panel desk users` in another process: the user file is reread when it changes), and the shared
token's sessions end once there are accounts. The proxy's header is honoured only on connections
from the trusted proxy's address; from anywhere else it is ignored and logged.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from panel.errors import InputError
from panel.team.accounts import Accounts, valid_name
from panel.team.people import same_person

from .security import (
    DeskSession,
    Resolved,
    Scope,
    Sessions,
    header,
    read_cookie,
    session_cookie,
    token_matches,
)

log = logging.getLogger("panel.desk")

SOLO_ROLE = "publisher"  # a person working alone edits and publishes; users are managed with the CLI
PROXY_DEFAULT_ROLE = "reviewer"


@dataclass(frozen=True)
class ProxyMode:
    """--trust-proxy-header NAME --trusted-proxy ADDR [--known-users-only]."""

    header: str
    trusted: frozenset[str]
    known_only: bool = False


@dataclass(frozen=True)
class SignedIn:
    """Who a sign-in link's token is: name and role from the account, or the person alone."""

    name: str
    role: str
    source: str  # "solo" or "account"
    key: str = ""


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


class Identity:
    def __init__(
        self,
        sessions: Sessions,
        accounts: Accounts,
        cookie: str,
        solo_token: str,
        solo_name: str,
        proxy: ProxyMode | None = None,
        on_sign_in: Callable[[DeskSession, str], object] | None = None,
    ):
        self.sessions = sessions
        self.accounts = accounts
        self.cookie = cookie
        self._solo_token = solo_token
        self.solo_name = solo_name
        self.proxy = proxy
        self._on_sign_in = on_sign_in  # (session, how) for the audit log

    @property
    def solo(self) -> bool:
        """No accounts: the single shared token signs in the person running the desk."""
        return self.accounts.empty

    def check(self, token: str) -> SignedIn | None:
        """Who the token signs in, or None. Slow on purpose (one argon2 check) when there are
        accounts: run it off the event loop; `start` then makes the session, on the loop."""
        if self.solo:
            return (
                SignedIn(self.solo_name, SOLO_ROLE, "solo")
                if token_matches(token, self._solo_token)
                else None
            )
        account = self.accounts.verify(token)
        return SignedIn(account.name, account.role, "account", account.key) if account is not None else None

    def start(self, who: SignedIn) -> DeskSession:
        return self.sessions.new(who.name, who.role, who.source, who.key)

    def resolve(self, scope: Scope) -> Resolved:
        """The request's session: through the trusted proxy's header, else the cookie's, if it is
        still valid (its role refreshed from the account)."""
        proxied = self._from_proxy(scope)
        if proxied is not None:
            return proxied
        session = self.sessions.get(read_cookie(scope, self.cookie))
        if session is None:
            return Resolved()
        if not self._still_valid(session):
            self.sessions.end(session.id)
            return Resolved()
        return Resolved(session)

    def _still_valid(self, session: DeskSession) -> bool:
        if session.source == "solo":
            return self.solo
        if session.source == "account":
            account = self.accounts.by_key(session.key)
            if account is None or not same_person(account.name, session.editor):
                return False
            session.role = account.role
            return True
        return False  # a proxy's session is only good on a request through the proxy

    def _from_proxy(self, scope: Scope) -> Resolved | None:
        if self.proxy is None:
            return None
        value = header(scope, self.proxy.header.lower().encode("latin-1"))
        if value is None:
            return None
        address = client_address(scope)
        if address not in self.proxy.trusted:
            log.warning(
                "panel desk: ignored the %s header on a connection from %s (only %s is trusted)",
                self.proxy.header,
                address or "an unknown address",
                ", ".join(sorted(self.proxy.trusted)),
            )
            return None
        try:
            name = valid_name(value)
        except InputError:
            return Resolved(refusal=(400, f"Bad Request: the {self.proxy.header} header is not a user name"))
        account = self.accounts.get(name)
        if account is None and self.proxy.known_only:
            return Resolved(
                refusal=(
                    403,
                    f"Forbidden: {name} has no account on this desk, which admits known users only "
                    "(an admin adds one with `panel desk users add`)",
                )
            )
        role = account.role if account is not None else PROXY_DEFAULT_ROLE
        session = self.sessions.get(read_cookie(scope, self.cookie))
        if session is not None and session.source == "proxy" and same_person(session.editor, name):
            session.role = role
            return Resolved(session)
        session = self.sessions.new(account.name if account else name, role, "proxy")
        if self._on_sign_in is not None:
            self._on_sign_in(session, f"through the proxy at {address}")
        return Resolved(session, set_cookie=session_cookie(self.cookie, session.id))


class SignInLimiter:
    """At most `failures` wrong tokens per address in `window` seconds; then that address waits
    until the oldest failure leaves the window. Successful sign-ins do not count."""

    MAX_ADDRESSES = 10_000

    def __init__(self, failures: int = 5, window: float = 300.0):
        self.failures = failures
        self.window = window
        self._seen: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._seen.get(address, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def wait(self, address: str) -> float:
        """Seconds before `address` may try again (0: now)."""
        now = time.monotonic()
        times = self._recent(address, now)
        if len(times) < self.failures:
            return 0.0
        return max(1.0, self.window - (now - times[0]))

    def failed(self, address: str) -> None:
        now = time.monotonic()
        if len(self._seen) >= self.MAX_ADDRESSES:  # forget addresses whose failures are all old
            self._seen = {a: t for a, t in self._seen.items() if self._recent(a, now)}
        times = self._recent(address, now)
        times.append(now)
        self._seen[address] = times
