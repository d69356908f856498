"""Which addresses panel may fetch: the check every vendor URL, feed link and redirect passes.

Vendor URLs are untrusted, and so is the DNS behind them. The host is resolved once; every
address it resolves to must be public (not loopback, private, link-local, CGNAT, multicast,
reserved, or an IPv6 form that carries an IPv4 address), the scheme http or https and the port
80 or 443. The fetcher then connects to the address checked here and no other. Only
`--allow-host HOST[:PORT]` admits a host outside these rules.

Pure apart from the resolver, which is passed in: tests cover every range without sending a
packet.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from panel.errors import FetchFailed, FetchRefused, InputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]  # (host, port) -> the addresses it resolves to
SCHEMES = ("http", "https")
STANDARD_PORTS = (80, 443)

# Named ranges, checked in order; anything else that is not globally routable is refused too.
_RANGES: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "an unspecified ('this network') address"),
    ("127.0.0.0/8", "a loopback address"),
    ("10.0.0.0/8", "a private address"),
    ("172.16.0.0/12", "a private address"),
    ("192.168.0.0/16", "a private address"),
    ("100.64.0.0/10", "a carrier-grade NAT (CGNAT) address"),
    ("169.254.0.0/16", "a link-local address (where cloud metadata services live)"),
    ("192.0.0.0/24", "an IETF protocol address"),
    ("192.0.2.0/24", "a documentation address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("192.88.99.0/24", "a 6to4 relay address"),
    ("224.0.0.0/4", "a multicast address"),
    ("255.255.255.255/32", "the broadcast address"),
    ("240.0.0.0/4", "a reserved address"),
    ("::/128", "the unspecified address"),
    ("::1/128", "a loopback address"),
    ("::ffff:0:0/96", "an IPv4-mapped IPv6 address"),
    ("::/96", "an IPv4-compatible IPv6 address"),
    ("64:ff9b::/96", "a NAT64 address (it carries an IPv4 address)"),
    ("64:ff9b:1::/48", "a NAT64 address (it carries an IPv4 address)"),
    ("100::/64", "a discard-only address"),
    ("2001::/32", "a Teredo address (it carries an IPv4 address)"),
    ("2001:db8::/32", "a documentation address"),
    ("2002::/16", "a 6to4 address (it carries an IPv4 address)"),
    ("fc00::/7", "a private (unique local) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
)
_NETWORKS = tuple((ipaddress.ip_network(net), why) for net, why in _RANGES)


def refusal(address: IPAddress) -> str | None:
    """Why an address may not be fetched from ('a loopback address'), or None when it is public."""
    for network, why in _NETWORKS:
        if address.version == network.version and address in network:
            return why
    if not address.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class AllowedHost:
    """A host admitted by `--allow-host`: by the name written in the URL, on one port or (without
    a port) on 80 and 443."""

    host: str
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> AllowedHost:
        """'intranet.example', 'localhost:8080', '127.0.0.1:8123' or '[::1]:8080'."""
        raw = text.strip()
        parsed = urllib.parse.urlsplit(f"//{raw}")
        try:
            port = parsed.port
        except ValueError:
            port = -1
        host = (parsed.hostname or "").lower()
        extra = parsed.username or parsed.path or parsed.query or parsed.fragment
        if not re.fullmatch(r"[a-z0-9._-]+|[0-9a-f:.]+", host) or port == -1 or extra:
            raise InputError(
                f"--allow-host {raw!r}: expected HOST or HOST:PORT",
                hint="for example --allow-host intranet.example or --allow-host 127.0.0.1:8080",
            )
        return cls(host, port)

    def admits(self, host: str, port: int) -> bool:
        if host != self.host:
            return False
        return port in STANDARD_PORTS if self.port is None else port == self.port

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"


@dataclass(frozen=True)
class Target:
    """A URL that passed the check, and the address to connect to for it."""

    url: str
    scheme: str
    host: str  # lower case, IPv6 without brackets: what the Host header and TLS name carry
    port: int
    address: str  # the checked IP the connection must go to
    admitted: bool  # by --allow-host rather than by the rules

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = (self.scheme, self.port) in (("http", 80), ("https", 443))
        return f"{self.scheme}://{host}" + ("" if default else f":{self.port}")


def _parts(url: str) -> tuple[str, str, int]:
    try:
        parsed = urllib.parse.urlsplit(url)
        port = parsed.port
    except ValueError as exc:
        raise FetchRefused(f"not a valid address ({exc})", where=url) from None
    scheme = parsed.scheme.lower()
    if scheme not in SCHEMES:
        raise FetchRefused(f"scheme {scheme or '(none)'!r} is not fetched: only http and https", where=url)
    if parsed.username is not None or parsed.password is not None:
        raise FetchRefused("addresses with a user name or password are not fetched", where=url)
    host = (parsed.hostname or "").rstrip(".").lower()
    if not host:
        raise FetchRefused("the address names no host", where=url)
    return scheme, host, port if port is not None else (443 if scheme == "https" else 80)


def check(url: str, allow: Sequence[AllowedHost], resolve: Resolver) -> Target:
    """The target for `url`, or FetchRefused naming the rule it breaks (FetchFailed when the host
    does not resolve). Every address the host resolves to is checked, not just the first."""
    scheme, host, port = _parts(url)
    admitted = any(a.admits(host, port) for a in allow)
    hint = f"--allow-host {AllowedHost(host, port)} admits it if you trust it"
    try:
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host, port)]
    except (OSError, UnicodeError) as exc:
        raise FetchFailed(f"cannot resolve {host}: {exc}", where=url) from None
    except ValueError as exc:
        raise FetchRefused(f"{host} resolves to something that is not an address: {exc}", where=url) from None
    if not addresses:
        raise FetchFailed(f"{host} resolves to no address", where=url)
    if admitted:
        return Target(url, scheme, host, port, str(addresses[0]), admitted)
    for address in addresses:
        why = refusal(address)
        if why is not None:
            shown = host if host == str(address) else f"{host} resolves to {address}, which"
            raise FetchRefused(f"{shown} is {why}", where=url, hint=hint)
    if port not in STANDARD_PORTS:
        raise FetchRefused(f"port {port} is not fetched: only 80 and 443", where=url, hint=hint)
    return Target(url, scheme, host, port, str(addresses[0]), admitted)


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for a host, once, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))
