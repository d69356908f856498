"""Fetching untrusted addresses with httpx, safely and politely.

Every hop (the first request and each redirect, at most five) passes `addresses.check`, and the
connection goes to the address that check resolved: a network backend pinned to it, so DNS
rebinding cannot swap it, while the URL keeps its host for the Host header and TLS (SNI and
certificate name). Redirects are followed here, never by httpx. Bodies are read as a stream under
time limits (connect, and the whole exchange) and a size cap counted on the wire and again after
decompression, which panel does itself with a bounded inflater, so a gzip bomb stops at the cap.
Only allowed content types are read. Politeness: robots.txt (see `robots`), one request at a
time per host with a delay between them, and conditional requests when a snapshot exists.
"""

from __future__ import annotations

import contextlib
import re
import time
import typing
import urllib.parse
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Literal

import httpcore
import httpx

from panel import __version__
from panel.errors import FetchError, FetchFailed, FetchRefused
from panel.intake.addresses import AllowedHost, Resolver, Target, check, system_resolver
from panel.intake.robots import Robots
from panel.records import utcnow

Kind = Literal["page", "json", "feed", "text", "robots"]
MAX_BYTES = 5_000_000
MAX_FEED_BYTES = 20_000_000  # a feed of ten thousand entries is a few megabytes
MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TEXT = frozenset({"text/plain", "text/markdown", "text/x-markdown"})
_JSON = frozenset({"application/json", "text/json"})
_XML = frozenset({"application/xml", "text/xml", "application/atom+xml", "application/rss+xml"})
CONTENT_TYPES: dict[Kind, frozenset[str]] = {
    "page": frozenset({"text/html", "application/xhtml+xml"}) | _TEXT,
    "json": _JSON,
    "feed": _XML | _JSON | frozenset({"application/feed+json"}),
    "text": _TEXT,
    "robots": _TEXT,
}
_CHUNK = 64 * 1024
GUESS_FROM = 200  # bytes: a shorter text without a charset is not worth guessing at


def default_user_agent() -> str:
    return f"panel/{__version__}"


@dataclass(frozen=True)
class FetchSettings:
    """How the fetcher behaves; every limit is settable from the command line."""

    user_agent: str = field(default_factory=default_user_agent)
    timeout: float = 30.0  # seconds for a whole exchange, redirects included
    connect_timeout: float = 10.0
    max_bytes: int = MAX_BYTES
    delay: float = 1.0  # seconds between two requests to one host
    allow: tuple[AllowedHost, ...] = ()
    max_redirects: int = MAX_REDIRECTS


@dataclass(frozen=True)
class Validators:
    """What a stored snapshot lets a request ask: 'only if it changed'."""

    etag: str = ""
    last_modified: str = ""

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True)
class Response:
    """One fetched address. `body` is None for 304 Not Modified (the snapshot still stands)."""

    url: str
    final_url: str
    status: int
    content_type: str  # the media type, lower case, no parameters
    charset: str  # from the Content-Type header, "" when it names none
    body: bytes | None
    etag: str
    last_modified: str
    fetched_at: datetime
    redirects: tuple[str, ...] = ()


@dataclass
class FetchStats:
    """What went over the wire: requests sent, bodies read (200s) and their bytes, 304s."""

    requests: int = 0
    bodies: int = 0
    bytes: int = 0
    not_modified: int = 0


# --- the transport: httpx over an httpcore pool whose connections go to checked addresses ------


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to the address `addresses.check` approved for a host, never to what the name
    resolves to at connect time; a host with no approved address gets no connection."""

    def __init__(self) -> None:
        self.pins: dict[tuple[str, int], str] = {}
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        address = self.pins.get((host.lower(), port))
        if address is None:
            raise httpcore.ConnectError(f"no checked address for {host}:{port}")
        return self._backend.connect_tcp(address, port, timeout, local_address, socket_options)

    def connect_unix_socket(self, *args: typing.Any, **kwargs: typing.Any) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _Stream(httpx.SyncByteStream):
    def __init__(self, stream: typing.Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _mapped():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


_MAPPED: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


@contextlib.contextmanager
def _mapped() -> Iterator[None]:
    """httpcore's exceptions as httpx's, which the fetcher reports."""
    try:
        yield
    except tuple(core for core, _ in _MAPPED) as exc:
        mapped = next(m for core, m in _MAPPED if isinstance(exc, core))
        raise mapped(str(exc)) from exc


class PinnedTransport(httpx.BaseTransport):
    """httpx's transport interface over an httpcore pool with the pinned backend: the URL (and so
    the Host header and the TLS server name) stays the vendor's, the socket goes to the checked
    address. No proxies from the environment (the client does not read them): a proxy would
    connect somewhere unchecked. Certificates are checked against certifi's roots, or the CA file
    or folder SSL_CERT_FILE or SSL_CERT_DIR names (an intranet's own CA)."""

    def __init__(self, backend: _PinnedBackend) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=backend,
            max_connections=8,
            max_keepalive_connections=8,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _mapped():
            response = self._pool.handle_request(core)
        assert isinstance(response.stream, typing.Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Stream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


# --- bodies: size caps on the wire and after decompression -------------------------------------


class _Inflater:
    """Content-Encoding undone with a bounded output: never more than asked for at a time."""

    def __init__(self, encoding: str, where: str) -> None:
        self.encoding = encoding
        self.where = where
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib-wrapped, as RFC 9110 says
        else:
            raise FetchRefused(f"content encoding {encoding!r} was not asked for", where=where)

    def feed(self, data: bytes, room: int) -> bytes:
        """Up to `room` bytes of output for `data`; exactly `room` means there is more."""
        if self._z is None:
            return data[:room]
        try:
            out = self._z.decompress(data, room)
        except zlib.error as exc:
            raise FetchFailed(f"the {self.encoding} body is corrupt ({exc})", where=self.where) from None
        return out

    def finish(self, room: int) -> bytes:
        if self._z is None:
            return b""
        try:
            return self._z.flush(max(room, 1))[:room]
        except zlib.error as exc:
            raise FetchFailed(f"the {self.encoding} body is corrupt ({exc})", where=self.where) from None


def _media_type(value: str) -> tuple[str, str]:
    message = Message()
    message["content-type"] = value or "application/octet-stream"
    charset = message.get_param("charset")
    return message.get_content_type().lower(), str(charset).strip().lower() if isinstance(
        charset, str
    ) else ""


# --- the fetcher ---------------------------------------------------------------------------------


class Fetcher:
    """Fetches one address at a time, following redirects by hand; see the module's docstring.

    `fetch` returns a Response or raises a FetchError (FetchRefused, RobotsDisallowed,
    FetchFailed) whose `where` is the address and whose problem says why, in one line.
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        resolve: Resolver = system_resolver,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or FetchSettings()
        self.resolve = resolve
        self.clock = clock
        self.sleep = sleep
        self.stats = FetchStats()
        self._backend = _PinnedBackend()
        self._client = httpx.Client(
            transport=PinnedTransport(self._backend),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": self.settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        self._last: dict[str, float] = {}  # origin -> when its last exchange ended
        self.robots = Robots(self._robots_text, self.settings.user_agent)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch(self, url: str, kind: Kind, validators: Validators | None = None) -> Response:
        """GET `url`, checking every hop; pages also ask robots.txt first (every hop). A problem
        met after a redirect names the address asked for and the hop it happened at."""
        try:
            return self._fetch(url, kind, validators)
        except FetchError as exc:
            if exc.where in (None, url):
                raise
            raise type(exc)(f"redirects to {exc.where}: {exc.problem}", where=url, hint=exc.hint) from None

    def _fetch(self, url: str, kind: Kind, validators: Validators | None) -> Response:
        deadline = self.clock() + self.settings.timeout
        redirects: list[str] = []
        current = url
        while True:
            target = check(current, self.settings.allow, self.resolve)
            if kind == "page":
                self.robots.check(current, target.origin)
            status, headers, body = self._exchange(target, kind, validators, deadline)
            if status not in REDIRECTS:
                break
            location = headers.get("location", "")
            if not location:
                raise FetchFailed(f"HTTP {status} redirect with no Location", where=current)
            if len(redirects) >= self.settings.max_redirects:
                raise FetchRefused(f"more than {self.settings.max_redirects} redirects", where=url)
            redirects.append(current)
            current = urllib.parse.urljoin(current, location.strip())
        media, charset = _media_type(headers.get("content-type", ""))
        return Response(
            url=url,
            final_url=current,
            status=status,
            content_type=media,
            charset=charset,
            body=body,
            etag=headers.get("etag", ""),
            last_modified=headers.get("last-modified", ""),
            fetched_at=utcnow(),
            redirects=tuple(redirects),
        )

    def _robots_text(self, origin: str) -> str | None:
        """An origin's robots.txt; None when it has none (an HTTP 4xx, or a file that is not
        plain text). A server error or a network failure raises FetchFailed."""
        try:
            response = self.fetch(f"{origin}/robots.txt", "robots")
        except FetchFailed as exc:
            if exc.problem.startswith("HTTP 4"):
                return None
            raise
        except FetchRefused as exc:
            if exc.problem.startswith("content type"):
                return None
            raise
        return (response.body or b"").decode("utf-8", "replace")

    def _wait_turn(self, origin: str, delay: float) -> None:
        last = self._last.get(origin)
        if last is not None:
            pause = last + delay - self.clock()
            if pause > 0:
                self.sleep(pause)

    def _exchange(
        self, target: Target, kind: Kind, validators: Validators | None, deadline: float
    ) -> tuple[int, httpx.Headers, bytes | None]:
        """One request to the pinned address: (status, headers, body or None)."""
        self._wait_turn(target.origin, max(self.settings.delay, self.robots.delay(target.origin)))
        remaining = deadline - self.clock()
        if remaining <= 0:
            raise FetchFailed(f"took longer than {self.settings.timeout:g} s", where=target.url)
        self._backend.pins[(target.host, target.port)] = target.address
        timeout = httpx.Timeout(remaining, connect=min(self.settings.connect_timeout, remaining))
        headers = validators.headers() if validators else {}
        self.stats.requests += 1
        try:
            with self._client.stream("GET", target.url, headers=headers, timeout=timeout) as response:
                return self._read(target, kind, response, deadline)
        except httpx.TimeoutException:
            raise FetchFailed(f"timed out after {self.settings.timeout:g} s", where=target.url) from None
        except httpx.HTTPError as exc:
            raise FetchFailed(f"{type(exc).__name__}: {exc or 'no answer'}", where=target.url) from None
        finally:
            self._last[target.origin] = self.clock()

    def _read(
        self, target: Target, kind: Kind, response: httpx.Response, deadline: float
    ) -> tuple[int, httpx.Headers, bytes | None]:
        status, headers = response.status_code, response.headers
        if status in REDIRECTS:
            return status, headers, None
        if status == 304:
            self.stats.not_modified += 1
            return status, headers, None
        if status >= 400 or status < 200:
            raise FetchFailed(f"HTTP {status} {response.reason_phrase}".strip(), where=target.url)
        media, _ = _media_type(headers.get("content-type", ""))
        allowed = CONTENT_TYPES[kind]
        if "content-type" in headers and media not in allowed and not media.endswith("+json"):
            raise FetchRefused(
                f"content type {media} is not read here (expected {', '.join(sorted(allowed))})",
                where=target.url,
            )
        cap = MAX_FEED_BYTES if kind == "feed" else self.settings.max_bytes
        body = self._body(target.url, response, cap, deadline)
        if "content-type" not in headers and b"\0" in body[:1024]:
            raise FetchRefused("no content type, and the body is binary", where=target.url)
        self.stats.bodies += 1
        return status, headers, body

    def _body(self, url: str, response: httpx.Response, cap: int, deadline: float) -> bytes:
        """The body, decompressed, or FetchRefused as soon as it passes the cap (on the wire or
        after decompression) or FetchFailed when the deadline passes."""
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            raise FetchRefused(f"body of {int(length):,} bytes is over the {cap:,}-byte cap", where=url)
        inflater = _Inflater(response.headers.get("content-encoding", "").strip().lower(), url)
        out = bytearray()
        wire = 0
        for chunk in response.iter_raw(_CHUNK):
            wire += len(chunk)
            self.stats.bytes += len(chunk)
            if wire > cap:
                raise FetchRefused(f"body is over the {cap:,}-byte cap", where=url)
            out += inflater.feed(chunk, cap - len(out) + 1)
            if len(out) > cap:
                raise FetchRefused(f"body is over the {cap:,}-byte cap after decompression", where=url)
            if self.clock() > deadline:
                raise FetchFailed(f"took longer than {self.settings.timeout:g} s", where=url)
        out += inflater.finish(cap - len(out) + 1)
        if len(out) > cap:
            raise FetchRefused(f"body is over the {cap:,}-byte cap after decompression", where=url)
        return bytes(out)


def decode(body: bytes, charset: str, html: bool) -> str:
    """The body as text: the charset the header names, else a byte-order mark, else the page's own
    <meta charset>, else UTF-8, else a guess (charset-normalizer) for a body long enough to
    guess from, else windows-1252, the web's default for unlabelled pages."""
    for name in (charset, _bom(body), _meta_charset(body) if html else ""):
        if name:
            try:
                return body.decode(name).removeprefix("\ufeff")
            except (LookupError, UnicodeDecodeError):
                continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if len(body) >= GUESS_FROM:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:100_000]).best()  # a sample is enough to name the encoding
        if best is not None:
            return body.decode(best.encoding, "replace")
    return body.decode("cp1252", "replace")


def _bom(body: bytes) -> str:
    for mark, name in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if body.startswith(mark):
            return name
    return ""


def _meta_charset(body: bytes) -> str:
    head = body[:4096].decode("ascii", "replace")
    match = re.search(r"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", head, re.I)
    return match.group(1).lower() if match else ""


def allow_hosts(values: Sequence[str]) -> tuple[AllowedHost, ...]:
    """`--allow-host` values, each checked (InputError on a bad one)."""
    return tuple(AllowedHost.parse(v) for v in values)
