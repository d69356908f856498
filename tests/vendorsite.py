"""A loopback HTTP server playing vendor websites and package registries, for intake's tests and
bench/intake.py: a real threaded `http.server`, started on 127.0.0.1 and a free port.

It serves a site folder at / and a registry folder at /registry/ (tests/data/intake/ by default;
the shared intake corpus has the same layout), with ETag and Last-Modified so conditional
requests get 304, `{BASE}` in any file replaced by the server's own address, and the pages a
fetcher must survive: a slow response, an oversized body (declared and streamed), a gzip bomb, a
binary download, and redirects (one within the site, one to 127.0.0.2, one to another port, one
chain too long). Every request is counted, and every body sent, so tests can prove what went over
the wire. Nothing here names an address off this machine.
"""

from __future__ import annotations

import hashlib
import ssl
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "intake"
LAST_MODIFIED = "Tue, 01 Sep 2026 10:00:00 GMT"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".xml": "application/xml",
    ".js": "text/javascript",
    ".css": "text/css",
}
REGISTRY_ENV = {
    "PANEL_PYPI_URL": "/registry/pypi",
    "PANEL_NPM_URL": "/registry/npm",
    "PANEL_CRATES_URL": "/registry/crates",
    "PANEL_GITHUB_URL": "/registry/github",
    "PANEL_HF_URL": "/registry/hub",
}
BOMB_BYTES = 1_000_000_000  # what the gzip bomb inflates to: two hundred times the 5 MB cap
HUGE_BYTES = 6_000_000


def _bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GB: one compressed megabyte of zeros, ended with a
    full flush so it stands alone, repeated, with the gzip header and trailer around it."""
    block = b"\0" * 1_000_000
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    piece = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    repeats = BOMB_BYTES // len(block)
    crc = 0
    for _ in range(repeats):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + piece * repeats + packer.flush() + struct.pack("<II", crc, BOMB_BYTES & 0xFFFFFFFF)


class VendorSite:
    """Start with `start()`; `url` is its base address; `stop()` when done."""

    def __init__(
        self,
        site: Path = DATA / "site",
        registry: Path = DATA / "registry",
        slow: float = 5.0,
        tls: ssl.SSLContext | None = None,
    ):
        self.tls = tls  # a server-side context: the site speaks https
        self.site = site
        self.registry = registry
        self.slow = slow
        self.other_port = 9  # where /go/other-port/ points (a second server's port, set by the test)
        self.overrides: dict[str, tuple[bytes, str]] = {}  # path -> (body, content type)
        self.requests: Counter[str] = Counter()
        self.bodies: Counter[str] = Counter()  # 200 responses with a body
        self.user_agents: set[str] = set()
        self._bomb: bytes | None = None
        self._lock = threading.Lock()
        self.server: _Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        """What `--allow-host` must name for this server."""
        return f"127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The registry base addresses, all on this server."""
        return {name: self.url + path for name, path in REGISTRY_ENV.items()}

    def start(self) -> VendorSite:
        site = self

        class Handler(_Handler):
            owner = site

        self.server = _Server(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def bomb(self) -> bytes:
        with self._lock:
            if self._bomb is None:
                self._bomb = _bomb()
            return self._bomb

    def count(self, path: str, body: bool) -> None:
        with self._lock:
            self.requests[path] += 1
            if body:
                self.bodies[path] += 1

    def total_bodies(self) -> int:
        with self._lock:
            return sum(self.bodies.values())

    def generated(self, path: str) -> tuple[bytes, str] | None:
        """Made-up tools by number, for long feeds: /gen/feed.atom?count=N lists /gen/1/ to
        /gen/N/, each a small vendor site with a pricing and a license page."""
        if not path.startswith("/gen/"):
            return None
        if path.startswith("/gen/feed.atom"):
            count = int(path.partition("count=")[2] or 100)
            return generated_feed(self.url, count), "application/atom+xml"
        parts = path.strip("/").split("/")
        if len(parts) < 2 or not parts[1].isdigit():
            return None
        page = generated_page(int(parts[1]), parts[2] if len(parts) > 2 else "")
        return (page.encode(), "text/html; charset=utf-8") if page else None

    def file(self, path: str) -> tuple[bytes, str] | None:
        """The body and content type a path serves from the folders, or None."""
        if path in self.overrides:
            return self.overrides[path]
        if path.startswith("/registry/"):
            root, rel = self.registry, path.removeprefix("/registry/")
        else:
            root, rel = self.site, path.lstrip("/")
        target = (root / rel).resolve()
        if target.is_dir():
            target = target / ("index.json" if root == self.registry else "index.html")
        if root.resolve() not in target.parents or not target.is_file():
            return None
        body = target.read_bytes().replace(b"{BASE}", self.url.encode())
        if path.startswith("/registry/") and target.suffix != ".md":
            return body, "application/json; charset=utf-8"
        if target.name == "feed.json":
            return body, "application/feed+json"
        return body, _TYPES.get(target.suffix, "application/octet-stream")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up early (a fetcher stopping at its size cap) is no error here."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    owner: VendorSite
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body in separate writes must not wait on an ACK

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.owner.count(self.path, status == 200 and bool(body))  # before the client can see it
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.owner.user_agents.add(self.headers.get("User-Agent", ""))
        special = getattr(self, "_special", None)
        if special is not None and special():
            return
        found = self.owner.generated(self.path) or self.owner.file(self.path.split("?", 1)[0])
        if found is None:
            self._send(404, b"not found", {"Content-Type": "text/plain"})
            return
        body, kind = found
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.owner.count(self.path, False)
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(200, body, {"Content-Type": kind, "ETag": etag, "Last-Modified": LAST_MODIFIED})

    def _special(self) -> bool:
        """The pages a fetcher must survive; False for an ordinary path."""
        path = self.path
        html = {"Content-Type": "text/html; charset=utf-8"}
        if path == "/slow/":
            time.sleep(self.owner.slow)
            self._send(200, b"<html><body><p>Finally.</p></body></html>", html)
        elif path == "/huge/":  # streamed with no length, so only counting while reading stops it
            self.owner.count(path, True)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            block = b"<p>" + b"x" * 65_530 + b"</p>"
            try:
                for _ in range(HUGE_BYTES // len(block) + 2):
                    self.wfile.write(block)
            except OSError:
                pass  # the client stopped reading at its cap
            self.close_connection = True
        elif path == "/huge-declared/":
            self.owner.count(path, False)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(HUGE_BYTES))
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
        elif path == "/bomb/":
            self._send(200, self.owner.bomb(), {**html, "Content-Encoding": "gzip"})
        elif path == "/download.bin":
            self._send(200, bytes(range(256)) * 64, {"Content-Type": "application/octet-stream"})
        elif path == "/go/fernwick/":
            self._send(301, b"", {"Location": "/fernwick/"})
        elif path == "/go/loopback/":
            self._send(302, b"", {"Location": f"http://127.0.0.2:{self.owner.port}/fernwick/"})
        elif path == "/go/other-port/":
            self._send(302, b"", {"Location": f"http://127.0.0.1:{self.owner.other_port}/fernwick/"})
        elif path.startswith("/go/loop/"):
            step = int(path.rsplit("/", 2)[-2] or 0) if path.rstrip("/") != "/go/loop" else 0
            self._send(302, b"", {"Location": f"/go/loop/{step + 1}/"})
        else:
            return False
        return True


def generated_feed(base: str, count: int) -> bytes:
    """An Atom feed of `count` made-up launches, /gen/1/ to /gen/N/."""
    entries = "".join(
        f"<entry><id>urn:gen:{n}</id><title>Show HN: Gentool {n} – builds number {n} quickly</title>"
        f'<link href="{base}/gen/{n}/"/><updated>2026-09-01T00:00:00Z</updated>'
        f"<summary>Gentool {n} is a made-up tool for long feeds.</summary></entry>"
        for n in range(1, count + 1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Generated launches</title><id>urn:gen</id><updated>2026-09-01T00:00:00Z</updated>"
        f"{entries}</feed>"
    ).encode()


def generated_page(n: int, which: str) -> str:
    """The home, pricing or license page of made-up tool n; "" for any other page."""
    head = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{{}} – Gentool {n}</title></head><body>"
    )
    if which == "":
        return (
            head.format(f"Gentool {n}")
            + f'<nav><a href="/gen/{n}/pricing">Pricing</a> <a href="/gen/{n}/license">License</a></nav>'
            f"<main><h1>Gentool {n}</h1><p>Gentool {n} builds project number {n} in {n % 50 + 2} seconds "
            f"and caches every step it has seen before, so a second build takes under a second.</p>"
            f"<p>Version {n % 7 + 1}.{n % 10}.0 is the current release.</p></main></body></html>"
        )
    if which == "pricing":
        return (
            head.format("Pricing") + f"<main><h1>Pricing</h1><table><tr><th>Plan</th><th>Price</th></tr>"
            "<tr><td>Solo</td><td>Free</td></tr>"
            f"<tr><td>Team</td><td>${n % 40 + 5} per seat per month</td></tr>"
            "</table></main></body></html>"
        )
    if which == "license":
        license_ = ("MIT", "Apache-2.0", "BUSL-1.1")[n % 3]
        return (
            head.format("License")
            + f"<main><h1>License</h1><p>Gentool {n} is licensed under {license_}.</p></main></body></html>"
        )
    return ""
